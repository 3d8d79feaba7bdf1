//! The command-line side of the semantic layer: `wirewatch classify
//! --jsonl` with `[classifier.embeddings]` configured, and `wirewatch
//! train`, which fits a head (`config/semantic/head.toml` format) from
//! labelled JSON lines.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use serde_json::{Map, Value};
use wirewatch_classifier::semantic::{self, TrainItem, TrainOptions};
use wirewatch_classifier::{Classifier, Document, SemanticHead};
use wirewatch_model::{ArticleId, LabelScore};

use crate::config::EmbeddingsConfig;
use crate::embeddings::{EmbeddingsClient, SemanticLayer, SemanticOutcome};

/// One input line: `id`, `title`, `text`, optional `lang` and `labels`.
struct Record {
    id: String,
    title: String,
    text: String,
    lang: Option<String>,
    labels: Vec<String>,
}

fn read_records(path: &Path) -> anyhow::Result<Vec<Record>> {
    let reader: Box<dyn BufRead> = if path == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        let file =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        Box::new(std::io::BufReader::new(file))
    };
    let mut records = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line_number = index + 1;
        let line = line.with_context(|| format!("{}: line {line_number}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(&line)
            .with_context(|| format!("{}: line {line_number}: invalid json", path.display()))?;
        let id = match &value["id"] {
            Value::String(id) if !id.is_empty() => id.clone(),
            Value::Number(id) => id.to_string(),
            _ => bail!(
                "{}: line {line_number}: field `id` is missing or empty",
                path.display()
            ),
        };
        let field = |name: &str| value[name].as_str().unwrap_or_default().to_string();
        let labels = value["labels"]
            .as_array()
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|label| label.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        records.push(Record {
            id,
            title: field("title"),
            text: field("text"),
            lang: value["lang"].as_str().map(str::to_owned),
            labels,
        });
    }
    Ok(records)
}

/// The `{"id", "labels", "scores"}` line `wirewatch classify --jsonl`
/// writes, as the rules-only path writes it.
fn output_line(id: &str, scores: &[LabelScore]) -> Value {
    let mut record = Map::new();
    record.insert("id".into(), Value::String(id.to_string()));
    record.insert(
        "labels".into(),
        scores
            .iter()
            .filter(|score| score.flagged)
            .map(|score| Value::String(score.label.clone()))
            .collect(),
    );
    let mut score_map = Map::new();
    for score in scores {
        let score_value = format!("{:.4}", score.score).parse::<f64>().unwrap_or(0.0);
        score_map.insert(score.label.clone(), Value::from(score_value));
    }
    record.insert("scores".into(), Value::Object(score_map));
    Value::Object(record)
}

/// `wirewatch classify --jsonl FILE` with the semantic layer: rules, then
/// embeddings, per line; a line whose request fails keeps the rules'
/// verdict (counted on stderr at the end).
pub async fn classify_jsonl(
    classifier: &Classifier,
    layer: &SemanticLayer,
    path: &Path,
) -> anyhow::Result<ExitCode> {
    let records = read_records(path)?;
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let (mut applied, mut fallbacks) = (0usize, 0usize);
    let started = Instant::now();
    for record in &records {
        let id = ArticleId::from_key(&record.id);
        let document = Document {
            id: &id,
            title: &record.title,
            text: &record.text,
            lang: record.lang.as_deref(),
        };
        let mut classification = classifier.classify(&document);
        match layer.apply(&document, &mut classification).await {
            SemanticOutcome::Applied => applied += 1,
            SemanticOutcome::Fallback => fallbacks += 1,
            SemanticOutcome::Empty => {}
        }
        serde_json::to_writer(
            &mut stdout,
            &output_line(&record.id, &classification.labels),
        )?;
        writeln!(stdout)?;
    }
    stdout.flush()?;
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!(
        "classified {} records ({applied} with embeddings, {fallbacks} by the rules alone after a \
         backend error) in {elapsed:.1} s, {:.0} ms per record",
        records.len(),
        elapsed * 1000.0 / records.len().max(1) as f64
    );
    Ok(ExitCode::SUCCESS)
}

/// Embeds every record's sentences (one request per record) and scores it
/// with the rules.
async fn train_items(
    classifier: &Classifier,
    client: &EmbeddingsClient,
    sentence_head: &SemanticHead,
    records: &[Record],
    label_names: &[String],
) -> anyhow::Result<Vec<TrainItem>> {
    let mut items = Vec::with_capacity(records.len());
    for record in records {
        let id = ArticleId::from_key(&record.id);
        let document = Document {
            id: &id,
            title: &record.title,
            text: &record.text,
            lang: record.lang.as_deref(),
        };
        let sentences = sentence_head.sentences(&document);
        let inputs: Vec<String> = sentences
            .iter()
            .map(|sentence| sentence.text(&document).to_string())
            .collect();
        let embeddings = if inputs.is_empty() {
            Vec::new()
        } else {
            client
                .embed(&inputs)
                .await
                .with_context(|| format!("embedding record {}", record.id))?
        };
        let scores = classifier.scores(&document);
        let rules_scores = label_names
            .iter()
            .map(|name| {
                scores
                    .iter()
                    .find(|score| &score.label == name)
                    .map_or(0.0, |score| score.score)
            })
            .collect();
        items.push(TrainItem {
            embeddings,
            labels: record.labels.clone(),
            rules_scores,
        });
    }
    Ok(items)
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// `wirewatch train`: fits the sentence weights on `jsonl`, the
/// combination and thresholds on `combine_on` (or `jsonl` again), and
/// writes the head to `out` (stdout when `None`).
pub async fn train(
    classifier: &Classifier,
    embeddings: EmbeddingsConfig,
    jsonl: &Path,
    combine_on: Option<&Path>,
    out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let client = EmbeddingsClient::new(embeddings)?;
    let label_names: Vec<String> = classifier.taxonomy().labels().map(str::to_owned).collect();
    let sentence_head = SemanticHead::builtin();
    let records = read_records(jsonl)?;
    eprintln!(
        "embedding {} records of {} with {}",
        records.len(),
        jsonl.display(),
        client.config().url
    );
    let examples = train_items(classifier, &client, &sentence_head, &records, &label_names).await?;
    let (combine_items, fitted_on) = match combine_on {
        Some(path) => {
            let combine_records = read_records(path)?;
            eprintln!(
                "embedding {} records of {}",
                combine_records.len(),
                path.display()
            );
            let items = train_items(
                classifier,
                &client,
                &sentence_head,
                &combine_records,
                &label_names,
            )
            .await?;
            let fitted_on = format!(
                "sentence weights: {} ({} items); combination and thresholds: {} ({} items)",
                file_name(jsonl),
                records.len(),
                file_name(path),
                combine_records.len()
            );
            (items, fitted_on)
        }
        None => (
            examples.clone(),
            format!("{} ({} items)", file_name(jsonl), records.len()),
        ),
    };
    let options = TrainOptions {
        model: client.config().model.clone(),
        label_names,
        max_sentences: sentence_head.max_sentences,
        max_sentence_chars: sentence_head.max_sentence_chars,
        fitted_on,
    };
    let head = semantic::train(&options, &examples, &combine_items)?;
    for label in &head.labels {
        let combine = &label.combine;
        eprintln!(
            "{}: threshold {}, combination intercept {:.3} rules {:.3} top {:.3} top2 {:.3} mean {:.3}",
            label.name,
            label.threshold,
            combine.intercept,
            combine.rules,
            combine.top,
            combine.top2,
            combine.mean
        );
    }
    let text = head.to_toml();
    match out {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}
