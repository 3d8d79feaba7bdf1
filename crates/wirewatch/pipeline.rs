//! The stages as bus [`Handler`]s, and the wiring that runs them.
//!
//! ```text
//! Poller ──(BusItemSink)──► items ──CleanStage──► articles ──ClassifyStage──► classified
//!                                                                   └──────► flagged.<label>
//! classified ──OutputSink──► stdout / JSON-lines file      dead letters ──► dead-letters.jsonl
//! ```
//!
//! Each handler decodes its input, calls the stage's library function and
//! encodes the outputs; the bus does the rest. The clean stage also fetches
//! the page, so in Kafka mode page fetching scales out with the cleaners.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use chrono::Utc;
use wirewatch_bus::{Bus, Handler, HandlerError, Message, Origin, Output, Shutdown, StageSpec};
use wirewatch_classifier::{Classifier, Document};
use wirewatch_cleaner::{clean, PageInput};
use wirewatch_fetcher::{FetchError, Fetched, HttpClient, ItemSink};
use wirewatch_model::{
    headers, Article, ArticleStatus, ClassifiedArticle, Extraction, FeedItem, SCHEMA_VERSION,
};

use crate::config::{OutputInclude, Topics};
use crate::embeddings::SemanticLayer;
use crate::journal::{Journal, WrittenIds};
use crate::metrics::{Metrics, Stage};

/// Encodes a message with the standard headers.
pub fn encode<T: serde::Serialize>(key: &str, value: &T, source_feed: &str) -> Message {
    Message::new(
        key,
        serde_json::to_vec(value).expect("message types always serialize"),
    )
    .with_header(headers::SCHEMA_VERSION, SCHEMA_VERSION.to_string())
    .with_header(headers::CONTENT_TYPE, headers::JSON)
    .with_header(headers::SOURCE_FEED, source_feed)
}

pub fn decode<T: serde::de::DeserializeOwned>(
    message: &Message,
    what: &str,
) -> Result<T, HandlerError> {
    if let Some(version) = message.header(headers::SCHEMA_VERSION) {
        if version
            .parse::<u32>()
            .map_or(true, |version| version > SCHEMA_VERSION)
        {
            return Err(HandlerError(format!(
                "unsupported schema version {version} (this build reads up to {SCHEMA_VERSION})"
            )));
        }
    }
    serde_json::from_slice(&message.payload)
        .map_err(|error| HandlerError(format!("cannot decode {what}: {error}")))
}

/// The fetcher's sink: publishes each new item to the items topic. On the
/// memory bus the item is first written to the journal, so it outlives a
/// crash of the process that holds it (see [`crate::journal`]).
pub struct BusItemSink {
    pub bus: Arc<dyn Bus>,
    pub topic: String,
    pub metrics: Arc<Metrics>,
    pub journal: Option<Arc<Journal>>,
}

impl BusItemSink {
    /// Publishes an item without journaling it (the journal already holds
    /// a replayed one; `accept` journals first).
    pub async fn publish(&self, item: &FeedItem) -> Result<(), String> {
        let message = encode(item.id.as_str(), item, &item.feed.url);
        self.bus
            .publish(&self.topic, message)
            .await
            .map_err(|error| error.to_string())?;
        Metrics::count(&self.metrics.items_published);
        Ok(())
    }
}

#[async_trait]
impl ItemSink for BusItemSink {
    async fn accept(&self, item: FeedItem) -> Result<(), String> {
        if let Some(journal) = &self.journal {
            journal
                .add(&item)
                .map_err(|error| format!("writing the in-flight journal: {error}"))?;
        }
        self.publish(&item).await
    }

    async fn sync(&self) -> Result<(), String> {
        match &self.journal {
            Some(journal) => journal
                .sync()
                .map_err(|error| format!("syncing the in-flight journal: {error}")),
            None => Ok(()),
        }
    }
}

/// At most [`LogBudget::PER_MINUTE`] warnings a minute for one kind of
/// per-item trouble; the rest go to debug and are counted, and the next
/// warning says how many were held back. A hostile or broken feed of
/// 100,000 items costs a handful of lines, not 100,000.
pub struct LogBudget {
    window: Mutex<(Option<std::time::Instant>, u32, u64)>,
}

impl LogBudget {
    pub const PER_MINUTE: u32 = 20;

    pub const fn new() -> LogBudget {
        LogBudget {
            window: Mutex::new((None, 0, 0)),
        }
    }

    /// `Some(held back since the last warning)` when this one may warn.
    pub fn admit(&self) -> Option<u64> {
        let mut window = self.window.lock().expect("log budget lock");
        let now = std::time::Instant::now();
        if window
            .0
            .is_none_or(|start| now.duration_since(start) >= std::time::Duration::from_secs(60))
        {
            window.0 = Some(now);
            window.1 = 0;
        }
        if window.1 < Self::PER_MINUTE {
            window.1 += 1;
            Some(std::mem::take(&mut window.2))
        } else {
            window.2 += 1;
            None
        }
    }
}

static PAGE_FAILURE_LOG: LogBudget = LogBudget::new();

/// Items -> articles: fetch the page, clean it, fall back to the feed's own
/// title and summary when the page gives nothing.
pub struct CleanStage {
    pub http: HttpClient,
    pub min_text_chars: usize,
    pub output_topic: String,
    pub metrics: Arc<Metrics>,
}

impl CleanStage {
    async fn fetch_page(&self, link: &url::Url) -> Result<Fetched, FetchError> {
        let fetching = Instant::now();
        let page = self.http.fetch_page(link).await;
        let latencies = &self.metrics.latencies;
        latencies.stage(Stage::PageFetch, fetching.elapsed());
        page
    }

    pub async fn article(&self, item: FeedItem) -> Article {
        let fetched_at = Utc::now();
        let link = item
            .link
            .as_deref()
            .and_then(|link| url::Url::parse(link).ok());
        let mut warnings = Vec::new();
        let page = match &link {
            Some(link) => match self.fetch_page(link).await {
                Ok(page) => Some(page),
                Err(error) => {
                    if let Some(suppressed) = PAGE_FAILURE_LOG.admit() {
                        tracing::warn!(item = %item.id, error = %error, suppressed_before = suppressed, "page fetch failed; using the feed summary");
                    } else {
                        tracing::debug!(item = %item.id, error = %error, "page fetch failed; using the feed summary");
                    }
                    warnings.push(format!("page fetch failed: {error}"));
                    None
                }
            },
            None => {
                warnings.push("item has no link".into());
                None
            }
        };
        if let Some(page) = page {
            let cleaning = Instant::now();
            let cleaned = clean(&PageInput {
                body: &page.body,
                content_type: page.content_type.as_deref(),
                url: Some(&page.final_url),
            });
            let latencies = &self.metrics.latencies;
            latencies.stage(Stage::Clean, cleaning.elapsed());
            if cleaned.text.chars().count() >= self.min_text_chars {
                let mut extraction_warnings = cleaned.warnings;
                extraction_warnings.extend(warnings);
                let word_count = Article::count_words(&cleaned.text);
                return Article {
                    schema_version: SCHEMA_VERSION,
                    id: item.id.clone(),
                    url: cleaned
                        .canonical_url
                        .unwrap_or_else(|| page.final_url.to_string()),
                    fetched_at,
                    status: ArticleStatus::Fetched,
                    http_status: Some(page.status),
                    title: cleaned.title.or_else(|| item.title.clone()),
                    byline: cleaned.byline,
                    published: cleaned.published.or(item.published),
                    lang: cleaned.lang.or_else(|| item.lang.clone()),
                    text: cleaned.text,
                    word_count,
                    extraction: Extraction {
                        method: cleaned.method,
                        warnings: extraction_warnings,
                    },
                    item,
                };
            }
            warnings.push(format!(
                "page text shorter than {} characters; using the feed summary",
                self.min_text_chars
            ));
        }
        let text = item.summary.clone().unwrap_or_default();
        Article {
            schema_version: SCHEMA_VERSION,
            id: item.id.clone(),
            url: item.link.clone().unwrap_or_default(),
            fetched_at,
            status: ArticleStatus::FeedOnly,
            http_status: None,
            title: item.title.clone(),
            byline: item.authors.first().cloned(),
            published: item.published,
            lang: item.lang.clone(),
            word_count: Article::count_words(&text),
            text,
            extraction: Extraction {
                method: "feed_summary".into(),
                warnings,
            },
            item,
        }
    }
}

#[async_trait]
impl Handler for CleanStage {
    async fn handle(&self, input: &Message, _: &Origin) -> Result<Vec<Output>, HandlerError> {
        let item: FeedItem = decode(input, "feed item")?;
        let article = self.article(item).await;
        Metrics::count(match article.status {
            ArticleStatus::Fetched => &self.metrics.articles_fetched,
            ArticleStatus::FeedOnly => &self.metrics.articles_feed_only,
        });
        self.metrics
            .dashboard
            .cleaned(&article.item.feed.url, article.status);
        let message = encode(article.id.as_str(), &article, &article.item.feed.url);
        Ok(vec![Output {
            topic: self.output_topic.clone(),
            message,
        }])
    }
}

/// Articles -> classified (every article) and flagged.<label> (per label).
/// What classifies: the rules, and the semantic layer when configured.
pub struct Classifiers {
    pub rules: Classifier,
    /// `[classifier.embeddings]`: rules and embeddings combined, the rules
    /// alone while the backend is down. `None`: the rules alone.
    pub semantic: Option<Arc<SemanticLayer>>,
}

/// The classifiers in use. A reload (SIGHUP) replaces them whole; each
/// article is classified by the ones current when it started, so a new
/// taxonomy takes over between two articles.
#[derive(Clone)]
pub struct ClassifierSlot(Arc<std::sync::RwLock<Arc<Classifiers>>>);

impl ClassifierSlot {
    pub fn new(classifiers: Classifiers) -> ClassifierSlot {
        ClassifierSlot(Arc::new(std::sync::RwLock::new(Arc::new(classifiers))))
    }

    pub fn current(&self) -> Arc<Classifiers> {
        Arc::clone(&self.0.read().expect("classifier slot lock"))
    }

    pub fn replace(&self, classifiers: Classifiers) {
        *self.0.write().expect("classifier slot lock") = Arc::new(classifiers);
    }
}

pub struct ClassifyStage {
    pub classifiers: ClassifierSlot,
    pub topics: Topics,
    pub metrics: Arc<Metrics>,
}

impl ClassifyStage {
    fn classify(classifier: &Classifier, article: Article) -> ClassifiedArticle {
        let classification = classifier.classify(&Document {
            id: &article.id,
            title: article.title.as_deref().unwrap_or_default(),
            text: &article.text,
            lang: article.lang.as_deref(),
        });
        ClassifiedArticle {
            schema_version: SCHEMA_VERSION,
            article,
            classification,
        }
    }
}

#[async_trait]
impl Handler for ClassifyStage {
    async fn handle(&self, input: &Message, _: &Origin) -> Result<Vec<Output>, HandlerError> {
        let article: Article = decode(input, "article")?;
        let classifying = Instant::now();
        let classifiers = self.classifiers.current();
        let mut classified = ClassifyStage::classify(&classifiers.rules, article);
        if let Some(semantic) = &classifiers.semantic {
            let article = &classified.article;
            let document = Document {
                id: &article.id,
                title: article.title.as_deref().unwrap_or_default(),
                text: &article.text,
                lang: article.lang.as_deref(),
            };
            semantic
                .apply(&document, &mut classified.classification)
                .await;
        }
        let key = classified.article.id.as_str().to_owned();
        let message = encode(&key, &classified, &classified.article.item.feed.url);
        let mut outputs = vec![Output {
            topic: self.topics.classified.clone(),
            message: message.clone(),
        }];
        let latencies = &self.metrics.latencies;
        latencies.stage(Stage::Classify, classifying.elapsed());
        latencies.classified(
            classified.classification.flagged_labels(),
            classified.classification.classified_at - classified.article.item.discovered_at,
        );
        Metrics::count(&self.metrics.articles_classified);
        self.metrics.dashboard.classified(&classified);
        for label in classified.classification.flagged_labels() {
            self.metrics.flag(label);
            outputs.push(Output {
                topic: self.topics.flagged_topic(label),
                message: message.clone(),
            });
        }
        Ok(outputs)
    }
}

/// The output sink's stage name.
pub const OUTPUT_STAGE: &str = "output";

/// Writes classified articles (all, or only flagged ones) as JSON lines to
/// stdout and/or a file. The file is appended to and flushed per line, so a
/// crash loses at most the line being written. An article id already
/// written (a redelivery, a replay) is skipped: [`WrittenIds`] remembers
/// them across restarts. On the memory bus the sink is one of the last
/// stages (with the webhooks), and marks its part of each story done in the
/// journal.
pub struct OutputSink {
    pub metrics: Arc<Metrics>,
    pub stdout: bool,
    /// Stdout gets one short line per story instead of its JSON.
    pub stdout_text: bool,
    pub file: Option<Mutex<std::fs::File>>,
    pub include: OutputInclude,
    pub written: WrittenIds,
    pub journal: Option<Arc<Journal>>,
}

impl OutputSink {
    /// `written_ids` is where the record of written ids lives.
    pub fn open(
        stdout: bool,
        stdout_text: bool,
        path: Option<&PathBuf>,
        include: OutputInclude,
        written_ids: &std::path::Path,
        journal: Option<Arc<Journal>>,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<OutputSink> {
        if let Some(path) = path {
            drop_torn_tail(path)?;
        }
        let written = WrittenIds::open(written_ids, path.map(PathBuf::as_path))?;
        let file = match path {
            Some(path) => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|error| {
                        anyhow::anyhow!("opening output file {}: {error}", path.display())
                    })?;
                Some(Mutex::new(file))
            }
            None => None,
        };
        Ok(OutputSink {
            metrics,
            stdout,
            stdout_text,
            file,
            include,
            written,
            journal,
        })
    }

    /// `classified` is the decoded story when stdout takes the text form.
    fn write_line(
        &self,
        line: &[u8],
        classified: Option<&ClassifiedArticle>,
    ) -> std::io::Result<()> {
        if self.stdout {
            let mut stdout = std::io::stdout().lock();
            if let Some(classified) = classified.filter(|_| self.stdout_text) {
                stdout.write_all(story_line(classified).as_bytes())?;
            } else {
                stdout.write_all(line)?;
            }
            stdout.write_all(b"\n")?;
            stdout.flush()?;
        }
        if let Some(file) = &self.file {
            let mut file = file.lock().expect("output file lock");
            let mut buffer = Vec::with_capacity(line.len() + 1);
            buffer.extend_from_slice(line);
            buffer.push(b'\n');
            file.write_all(&buffer)?;
            file.flush()?;
        }
        Ok(())
    }
}

/// What the output sink needs of a classified article when it writes
/// the message's JSON as it came: the id and whether a label is flagged.
/// Reading only these (serde skips the rest) instead of the whole story
/// with its text and evidence was 2% of a `run --once`; the skipped
/// parts are still checked to be JSON.
#[derive(serde::Deserialize)]
struct OutputView {
    article: OutputArticleView,
    classification: OutputClassificationView,
}

#[derive(serde::Deserialize)]
struct OutputArticleView {
    id: wirewatch_model::ArticleId,
}

#[derive(serde::Deserialize)]
struct OutputClassificationView {
    labels: Vec<OutputLabelView>,
}

#[derive(serde::Deserialize)]
struct OutputLabelView {
    flagged: bool,
}

#[async_trait]
impl Handler for OutputSink {
    async fn handle(&self, input: &Message, _: &Origin) -> Result<Vec<Output>, HandlerError> {
        // The one-line text form needs the whole story; JSON lines are the
        // payload itself.
        let (id, flagged, classified) = if self.stdout && self.stdout_text {
            let classified: ClassifiedArticle = decode(input, "classified article")?;
            let flagged = classified.classification.is_flagged();
            (classified.article.id.clone(), flagged, Some(classified))
        } else {
            let view: OutputView = decode(input, "classified article")?;
            let flagged = view.classification.labels.iter().any(|label| label.flagged);
            (view.article.id, flagged, None)
        };
        let id = id.as_str();
        let wanted = self.include == OutputInclude::All || flagged;
        let outputs = self.stdout || self.file.is_some();
        if wanted && outputs {
            if self.written.contains(id) {
                tracing::debug!(article = %id, "already written; skipping the repeat");
                Metrics::count(&self.metrics.outputs_repeated);
            } else {
                self.write_line(&input.payload, classified.as_ref())
                    .map_err(|error| HandlerError(format!("writing output: {error}")))?;
                self.written.record(id).map_err(|error| {
                    HandlerError(format!("recording the written article id: {error}"))
                })?;
                Metrics::count(&self.metrics.outputs_written);
            }
        }
        if let Some(journal) = &self.journal {
            journal
                .done(id, OUTPUT_STAGE)
                .map_err(|error| HandlerError(format!("writing the in-flight journal: {error}")))?;
        }
        Ok(vec![])
    }
}

/// Cuts a JSON-lines file back to its last complete line. A process
/// killed inside the write of a long line can leave part of it (the
/// kernel stops a write to a file between pages on a fatal signal); the
/// next line appended would be glued to it. The torn story's id was not
/// recorded as written, so it is written again whole.
fn drop_torn_tail(path: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::io::{Read, Seek, SeekFrom};
    let mut file = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => anyhow::bail!("opening output file {}: {error}", path.display()),
    };
    let context = || format!("checking the end of output file {}", path.display());
    let length = file.metadata().with_context(context)?.len();
    let mut end = length;
    let mut chunk = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let buffer = &mut chunk[..(end - start) as usize];
        file.seek(SeekFrom::Start(start)).with_context(context)?;
        file.read_exact(buffer).with_context(context)?;
        if let Some(at) = buffer.iter().rposition(|&byte| byte == b'\n') {
            end = start + at as u64 + 1;
            break;
        }
        end = start;
    }
    if end < length {
        tracing::warn!(
            file = %path.display(),
            offset = end,
            bytes = length - end,
            "output file ends in a torn line (a write cut short by a kill); cut back to the last whole line"
        );
        file.set_len(end).with_context(context)?;
    }
    Ok(())
}

/// One story as a person watching a terminal wants it: when, the flagged
/// labels with scores, the title, the link and the feed. Control
/// characters from the feed or page are escaped.
pub fn story_line(classified: &ClassifiedArticle) -> String {
    let article = &classified.article;
    let labels: Vec<String> = classified
        .classification
        .labels
        .iter()
        .filter(|label| label.flagged)
        .map(|label| format!("{} {:.2}", label.label, label.score))
        .collect();
    let labels = if labels.is_empty() {
        "(not flagged)".to_owned()
    } else {
        labels.join(", ")
    };
    let title = article
        .title
        .as_deref()
        .or(article.item.title.as_deref())
        .unwrap_or("(no title)");
    let feed = article
        .item
        .feed
        .title
        .as_deref()
        .unwrap_or(article.item.feed.url.as_str());
    let when = article
        .published
        .or(article.item.published)
        .unwrap_or(article.fetched_at)
        .format("%Y-%m-%d %H:%M");
    let phrase =
        top_evidence(classified).map_or_else(String::new, |phrase| format!("  “{phrase}”"));
    wirewatch_model::printable(&format!(
        "{when}  {labels}  {}{phrase}  {}  [{}]",
        title.split_whitespace().collect::<Vec<_>>().join(" "),
        article.url,
        feed
    ))
    .into_owned()
}

/// The evidence span that added most to a flagged label, whitespace
/// folded, cut at 120 characters: what a person at a terminal reads to
/// judge the flag.
fn top_evidence(classified: &ClassifiedArticle) -> Option<String> {
    let classification = &classified.classification;
    let evidence = classification
        .evidence
        .iter()
        .filter(|evidence| {
            classification
                .labels
                .iter()
                .any(|label| label.flagged && label.label == evidence.label)
        })
        .max_by(|a, b| a.weight.total_cmp(&b.weight))?;
    let folded = evidence
        .text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if folded.chars().count() <= 120 {
        return Some(folded);
    }
    let mut cut: String = folded.chars().take(119).collect();
    cut.push('…');
    Some(cut)
}

/// Appends dead letters (memory bus) to a JSON-lines file with their headers,
/// so nothing rejected is lost; a story written there is done in the
/// journal.
pub struct DeadLetterFile {
    pub file: Mutex<std::fs::File>,
    pub metrics: Arc<Metrics>,
    pub journal: Option<Arc<Journal>>,
}

#[async_trait]
impl Handler for DeadLetterFile {
    async fn handle(&self, input: &Message, _: &Origin) -> Result<Vec<Output>, HandlerError> {
        let record = serde_json::json!({
            "key": input.key,
            "headers": input.headers.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
            "payload": String::from_utf8_lossy(&input.payload),
        });
        let mut line = serde_json::to_vec(&record).expect("json values serialize");
        line.push(b'\n');
        {
            let mut file = self.file.lock().expect("dead letter file lock");
            file.write_all(&line)
                .and_then(|()| file.flush())
                .map_err(|error| HandlerError(format!("writing dead letter: {error}")))?;
        }
        Metrics::count(&self.metrics.dead_letters);
        if let (Some(journal), Some(key)) = (&self.journal, &input.key) {
            // A final stage's dead letter finishes that stage's part of
            // the story; an earlier stage's, the whole story.
            let stage = input.header("stage").unwrap_or_default();
            let done = journal.done(key, stage);
            done.map_err(|error| HandlerError(format!("writing the in-flight journal: {error}")))?;
        }
        Ok(vec![])
    }
}

/// A stage spec with the conventional group name.
pub fn stage_spec(
    name: &str,
    group_prefix: &str,
    topics: Vec<String>,
    concurrency: usize,
    dead_letter_topic: &str,
) -> StageSpec {
    StageSpec {
        name: name.into(),
        group: format!("{group_prefix}.{name}"),
        topics,
        concurrency,
        dead_letter_topic: dead_letter_topic.into(),
        skip_repeated_keys: false,
    }
}

/// Runs a stage on its own task, logging its report.
pub fn spawn_stage(
    tasks: &tokio_util::task::TaskTracker,
    bus: Arc<dyn Bus>,
    spec: StageSpec,
    handler: Arc<dyn Handler>,
    shutdown: Shutdown,
) -> tokio::task::JoinHandle<anyhow::Result<()>> {
    tasks.spawn(async move {
        let name = spec.name.clone();
        let report = bus.run_stage(spec, handler, shutdown).await?;
        tracing::info!(stage = %name, processed = report.processed, published = report.published, dead_lettered = report.dead_lettered, repeats_skipped = report.repeats_skipped, "stage stopped");
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_torn_last_line_is_cut_back_to_the_last_whole_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let whole = format!("{{\"a\":1}}\n{{\"b\":\"{}\"}}\n", "x".repeat(70_000));
        std::fs::write(&path, format!("{whole}{{\"c\":\"tor")).unwrap();
        drop_torn_tail(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), whole);
        drop_torn_tail(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), whole);
        // One torn line and nothing else: nothing is left.
        std::fs::write(&path, "x".repeat(100_000)).unwrap();
        drop_torn_tail(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap().len(), 0);
        drop_torn_tail(&dir.path().join("absent.jsonl")).unwrap();
    }

    use super::{drop_torn_tail, LogBudget};

    #[test]
    fn the_log_budget_admits_a_few_a_minute_and_counts_the_rest() {
        let budget = LogBudget::new();
        let admitted = (0..1000).filter(|_| budget.admit().is_some()).count();
        assert_eq!(admitted, LogBudget::PER_MINUTE as usize);
        assert_eq!(
            budget.window.lock().unwrap().2,
            1000 - LogBudget::PER_MINUTE as u64
        );
    }
}
