//! The semantic layer: sentence embeddings scored by a small linear head and
//! combined with the rules' score. Pure functions; the embeddings come from
//! the caller (the binary asks an OpenAI-compatible `/v1/embeddings` server).
//!
//! How an article is scored, per label:
//!
//! 1. [`SemanticHead::sentences`] cuts the title and the first sentences of
//!    the text into at most `max_sentences` spans (byte ranges, so evidence
//!    can cite them); the caller embeds them in one request.
//! 2. Each sentence gets a logit `w · e + b` from the label's weights (one
//!    per embedding dimension, fitted on example sentences we wrote
//!    ourselves, `config/semantic/examples.jsonl`).
//! 3. Four numbers, the rules' score, the best sentence's logit, the mean
//!    of the best two and the mean over all sentences, go through a
//!    logistic combination (`[label.combine]`, five weights) to the final
//!    score, flagged at the label's threshold.
//! 4. A flag cites the sentences that scored highest (rule `semantic`).
//!
//! Everything fitted lives in one TOML file ([`SemanticHead::to_toml`]) a
//! user can read or replace; [`train`] fits one from labelled items.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};
use wirewatch_model::{Classification, Evidence, EvidenceField};

use crate::Document;

/// The head built into the binary (`config/semantic/head.toml`).
const BUILTIN_HEAD: &str = include_str!("../../../config/semantic/head.toml");

/// The rule name semantic evidence carries.
pub const SEMANTIC_RULE: &str = "semantic";

/// A head file that cannot be used, or embeddings that do not fit it.
#[derive(Debug, thiserror::Error)]
pub enum SemanticError {
    #[error("{origin}: cannot read: {source}")]
    Read {
        origin: String,
        source: std::io::Error,
    },
    #[error("{origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
    #[error("expected {expected} embeddings of {dimensions} numbers, got {got}")]
    Embeddings {
        expected: usize,
        dimensions: usize,
        got: String,
    },
    #[error("training data: {0}")]
    Training(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHead {
    model: String,
    dimensions: usize,
    #[serde(default = "default_max_sentences")]
    max_sentences: usize,
    #[serde(default = "default_max_sentence_chars")]
    max_sentence_chars: usize,
    #[serde(default)]
    fitted_on: String,
    #[serde(rename = "label")]
    labels: Vec<RawLabelHead>,
}

fn default_max_sentences() -> usize {
    10
}

fn default_max_sentence_chars() -> usize {
    500
}

fn default_evidence_sentences() -> usize {
    2
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLabelHead {
    name: String,
    threshold: f32,
    #[serde(default = "default_evidence_sentences")]
    evidence_sentences: usize,
    bias: f32,
    weights: Vec<f32>,
    combine: Combine,
}

/// The logistic combination of one label: `score = σ(intercept + rules *
/// rules_score + top * best + top2 * mean_of_best_two + mean * mean_of_all)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Combine {
    pub intercept: f32,
    pub rules: f32,
    pub top: f32,
    pub top2: f32,
    pub mean: f32,
}

impl Combine {
    fn logit(&self, features: &Features) -> f32 {
        self.intercept
            + self.rules * features.rules
            + self.top * features.top
            + self.top2 * features.top2
            + self.mean * features.mean
    }
}

/// One label's part of the head.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelHead {
    pub name: String,
    /// Flagged when the combined score reaches this, in (0, 1).
    pub threshold: f32,
    /// Sentences cited when the label is flagged (at least one).
    pub evidence_sentences: usize,
    pub bias: f32,
    /// One per embedding dimension, applied to the L2-normalized embedding.
    pub weights: Vec<f32>,
    pub combine: Combine,
}

/// A validated head: every label's weights have `dimensions` entries and
/// every threshold lies in (0, 1).
#[derive(Clone, Debug, PartialEq)]
pub struct SemanticHead {
    /// The embedding model the weights were fitted for (documentation: the
    /// server is asked for the model the config names).
    pub model: String,
    pub dimensions: usize,
    pub max_sentences: usize,
    pub max_sentence_chars: usize,
    /// Where the weights came from, in words.
    pub fitted_on: String,
    pub labels: Vec<LabelHead>,
}

/// A sentence of a document: a trimmed byte range of its title or text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sentence {
    pub field: EvidenceField,
    pub start: usize,
    pub end: usize,
}

impl Sentence {
    pub fn text<'a>(&self, document: &Document<'a>) -> &'a str {
        match self.field {
            EvidenceField::Title => &document.title[self.start..self.end],
            EvidenceField::Text => &document.text[self.start..self.end],
        }
    }
}

/// The four numbers the combination reads, for one label of one article.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Features {
    pub rules: f32,
    pub top: f32,
    pub top2: f32,
    pub mean: f32,
}

impl SemanticHead {
    /// The head shipped in the binary, fitted on our own example sentences
    /// in 31 languages (`config/semantic/examples.jsonl`).
    pub fn builtin() -> SemanticHead {
        SemanticHead::from_toml(BUILTIN_HEAD, "<builtin>/semantic/head.toml")
            .expect("the built-in semantic head is valid (checked by a test)")
    }

    pub fn load(path: &Path) -> Result<SemanticHead, SemanticError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SemanticError::Read {
            origin: origin.clone(),
            source,
        })?;
        SemanticHead::from_toml(&text, &origin)
    }

    /// Parses and validates a head file; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<SemanticHead, SemanticError> {
        let raw: RawHead = toml::from_str(text).map_err(|error| SemanticError::Parse {
            origin: origin.to_string(),
            message: error.to_string().trim_end().replace('\n', " "),
        })?;
        let mut problems = Vec::new();
        if raw.dimensions == 0 {
            problems.push("dimensions must be at least 1".to_string());
        }
        if raw.max_sentences == 0 || raw.max_sentence_chars == 0 {
            problems.push("max_sentences and max_sentence_chars must be at least 1".to_string());
        }
        if raw.labels.is_empty() {
            problems.push("no [[label]]".to_string());
        }
        let mut labels = Vec::with_capacity(raw.labels.len());
        for label in raw.labels {
            if label.weights.len() != raw.dimensions {
                problems.push(format!(
                    "label {}: {} weights for {} dimensions",
                    label.name,
                    label.weights.len(),
                    raw.dimensions
                ));
            }
            if !(label.threshold > 0.0 && label.threshold < 1.0) {
                problems.push(format!(
                    "label {}: threshold {} is outside (0, 1)",
                    label.name, label.threshold
                ));
            }
            let combine = label.combine;
            let finite = [
                label.bias,
                combine.intercept,
                combine.rules,
                combine.top,
                combine.top2,
                combine.mean,
            ]
            .iter()
            .chain(&label.weights)
            .all(|value| value.is_finite());
            if !finite {
                problems.push(format!("label {}: a weight is not finite", label.name));
            }
            if labels
                .iter()
                .any(|seen: &LabelHead| seen.name == label.name)
            {
                problems.push(format!("label {} appears twice", label.name));
            }
            labels.push(LabelHead {
                name: label.name,
                threshold: label.threshold,
                evidence_sentences: label.evidence_sentences.max(1),
                bias: label.bias,
                weights: label.weights,
                combine,
            });
        }
        if !problems.is_empty() {
            return Err(SemanticError::Invalid {
                origin: origin.to_string(),
                message: problems.join("; "),
            });
        }
        Ok(SemanticHead {
            model: raw.model,
            dimensions: raw.dimensions,
            max_sentences: raw.max_sentences,
            max_sentence_chars: raw.max_sentence_chars,
            fitted_on: raw.fitted_on,
            labels,
        })
    }

    /// The head as TOML, in the layout [`SemanticHead::from_toml`] reads.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# wirewatch semantic head: a linear scorer per label over sentence embeddings\n\
             # and the logistic combination with the rules' score (see\n\
             # crates/classifier/src/semantic.rs). Written by `wirewatch train`; a user\n\
             # may edit the thresholds and combination weights by hand."
        );
        let _ = writeln!(out, "model = {}", toml_string(&self.model));
        let _ = writeln!(out, "dimensions = {}", self.dimensions);
        let _ = writeln!(out, "max_sentences = {}", self.max_sentences);
        let _ = writeln!(out, "max_sentence_chars = {}", self.max_sentence_chars);
        let _ = writeln!(out, "fitted_on = {}", toml_string(&self.fitted_on));
        for label in &self.labels {
            let _ = writeln!(out, "\n[[label]]");
            let _ = writeln!(out, "name = {}", toml_string(&label.name));
            let _ = writeln!(out, "threshold = {}", label.threshold);
            let _ = writeln!(out, "evidence_sentences = {}", label.evidence_sentences);
            let _ = writeln!(out, "bias = {}", label.bias);
            out.push_str("weights = [");
            for (index, weight) in label.weights.iter().enumerate() {
                if index % 8 == 0 {
                    out.push_str("\n  ");
                } else {
                    out.push(' ');
                }
                let _ = write!(out, "{weight},");
            }
            out.push_str("\n]\n");
            let combine = &label.combine;
            let _ = writeln!(out, "[label.combine]");
            let _ = writeln!(out, "intercept = {}", combine.intercept);
            let _ = writeln!(out, "rules = {}", combine.rules);
            let _ = writeln!(out, "top = {}", combine.top);
            let _ = writeln!(out, "top2 = {}", combine.top2);
            let _ = writeln!(out, "mean = {}", combine.mean);
        }
        out
    }

    /// The label names the head knows that `known` does not (a head for
    /// another taxonomy).
    pub fn unknown_labels<'a>(&'a self, known: &[&str]) -> Vec<&'a str> {
        self.labels
            .iter()
            .map(|label| label.name.as_str())
            .filter(|name| !known.contains(name))
            .collect()
    }

    /// The sentences of `document` to embed, in order: the title, then the
    /// text's sentences, at most `max_sentences` in all, each cut to
    /// `max_sentence_chars` characters.
    pub fn sentences(&self, document: &Document<'_>) -> Vec<Sentence> {
        let mut sentences = Vec::new();
        let limit = self.max_sentences;
        for (field, text) in [
            (EvidenceField::Title, document.title),
            (EvidenceField::Text, document.text),
        ] {
            for (start, end) in split_sentences(text) {
                if sentences.len() == limit {
                    return sentences;
                }
                let end = cut_chars(text, start, end, self.max_sentence_chars);
                sentences.push(Sentence { field, start, end });
            }
        }
        sentences
    }

    /// The per-label features of one article: `rules_scores` in head label
    /// order, `embeddings` one per sentence.
    fn features(
        &self,
        label: &LabelHead,
        rules: f32,
        embeddings: &[Vec<f32>],
    ) -> (Features, Vec<f32>) {
        let logits: Vec<f32> = embeddings
            .iter()
            .map(|embedding| label.bias + dot_normalized(&label.weights, embedding))
            .collect();
        let mut sorted = logits.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let top = sorted.first().copied().unwrap_or(0.0);
        let top2 = match sorted.len() {
            0 => 0.0,
            1 => top,
            _ => f32::midpoint(sorted[0], sorted[1]),
        };
        let mean = if logits.is_empty() {
            0.0
        } else {
            logits.iter().sum::<f32>() / logits.len() as f32
        };
        (
            Features {
                rules,
                top,
                top2,
                mean,
            },
            logits,
        )
    }

    fn check_embeddings(
        &self,
        expected: usize,
        embeddings: &[Vec<f32>],
    ) -> Result<(), SemanticError> {
        if embeddings.len() != expected
            || embeddings
                .iter()
                .any(|embedding| embedding.len() != self.dimensions)
        {
            return Err(SemanticError::Embeddings {
                expected,
                dimensions: self.dimensions,
                got: format!(
                    "{} of {:?} numbers",
                    embeddings.len(),
                    embeddings.first().map_or(0, Vec::len)
                ),
            });
        }
        Ok(())
    }

    /// Replaces the scores and flags of `classification` (the rules' one)
    /// by the combined ones and adds the cited sentences of every label the
    /// head flags. `sentences` and `embeddings` are those of
    /// [`SemanticHead::sentences`] for `document`, in order. Labels the head
    /// does not know keep their rules verdict.
    pub fn apply(
        &self,
        document: &Document<'_>,
        sentences: &[Sentence],
        embeddings: &[Vec<f32>],
        classification: &mut Classification,
    ) -> Result<(), SemanticError> {
        self.check_embeddings(sentences.len(), embeddings)?;
        for label_score in &mut classification.labels {
            let Some(head) = self
                .labels
                .iter()
                .find(|head| head.name == label_score.label)
            else {
                continue;
            };
            let (features, logits) = self.features(head, label_score.score, embeddings);
            let score = round4(sigmoid(head.combine.logit(&features)));
            label_score.score = score;
            label_score.flagged = score >= head.threshold;
            if !label_score.flagged || logits.is_empty() {
                continue;
            }
            let mut order: Vec<usize> = (0..logits.len()).collect();
            order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]).then(a.cmp(&b)));
            for &index in order.iter().take(head.evidence_sentences) {
                let sentence = &sentences[index];
                let field_text = match sentence.field {
                    EvidenceField::Title => document.title,
                    EvidenceField::Text => document.text,
                };
                let start = field_text[..sentence.start].chars().count();
                let text = sentence.text(document);
                classification.evidence.push(Evidence {
                    label: head.name.clone(),
                    text: text.to_string(),
                    start,
                    end: start + text.chars().count(),
                    field: sentence.field,
                    rule: Some(SEMANTIC_RULE.to_string()),
                    weight: round4(sigmoid(logits[index])),
                });
            }
        }
        Ok(())
    }
}

/// One labelled item for [`train`]: its sentences' embeddings, its labels
/// and the rules' score per head label (in `label_names` order).
#[derive(Clone, Debug)]
pub struct TrainItem {
    pub embeddings: Vec<Vec<f32>>,
    pub labels: Vec<String>,
    pub rules_scores: Vec<f32>,
}

/// What [`train`] fits, and on what.
#[derive(Clone, Debug)]
pub struct TrainOptions {
    pub model: String,
    pub label_names: Vec<String>,
    pub max_sentences: usize,
    pub max_sentence_chars: usize,
    pub fitted_on: String,
}

/// Fits a head: per label, the sentence weights by L2-regularized,
/// class-balanced logistic regression on `examples` (each item's mean
/// sentence embedding), then the combination and the threshold on
/// `combine_on` (the threshold that gives the best F1 there, the higher one
/// on a tie). Deterministic: full-batch gradient descent from zero.
pub fn train(
    options: &TrainOptions,
    examples: &[TrainItem],
    combine_on: &[TrainItem],
) -> Result<SemanticHead, SemanticError> {
    let dimensions = examples
        .iter()
        .chain(combine_on)
        .filter_map(|item| item.embeddings.first())
        .map(Vec::len)
        .next()
        .ok_or_else(|| SemanticError::Training("no item has an embedding".into()))?;
    for item in examples.iter().chain(combine_on) {
        if item
            .embeddings
            .iter()
            .any(|embedding| embedding.len() != dimensions)
        {
            return Err(SemanticError::Training(format!(
                "embeddings of different lengths ({dimensions} and others)"
            )));
        }
    }
    let means: Vec<Vec<f32>> = examples
        .iter()
        .filter(|item| !item.embeddings.is_empty())
        .map(|item| mean_normalized(&item.embeddings, dimensions))
        .collect();
    let kept: Vec<&TrainItem> = examples
        .iter()
        .filter(|item| !item.embeddings.is_empty())
        .collect();
    let mut head = SemanticHead {
        model: options.model.clone(),
        dimensions,
        max_sentences: options.max_sentences,
        max_sentence_chars: options.max_sentence_chars,
        fitted_on: options.fitted_on.clone(),
        labels: Vec::new(),
    };
    for (label_index, name) in options.label_names.iter().enumerate() {
        let targets: Vec<bool> = kept
            .iter()
            .map(|item| item.labels.iter().any(|label| label == name))
            .collect();
        let positives = targets.iter().filter(|&&target| target).count();
        if positives == 0 || positives == targets.len() {
            return Err(SemanticError::Training(format!(
                "label {name}: needs positive and negative examples ({positives} of {})",
                targets.len()
            )));
        }
        // Unit vectors times 10, so that the logits span a useful range at
        // a learning rate that suits the combination too.
        let scaled: Vec<Vec<f64>> = means
            .iter()
            .map(|mean| mean.iter().map(|&value| f64::from(value) * 10.0).collect())
            .collect();
        let (weights, bias) = logistic(&scaled, &targets, 1e-3, 2000);
        let mut label = LabelHead {
            name: name.clone(),
            threshold: 0.5,
            evidence_sentences: default_evidence_sentences(),
            bias: bias as f32,
            weights: weights
                .iter()
                .map(|&weight| (weight * 10.0) as f32)
                .collect(),
            combine: Combine::default(),
        };
        let rows: Vec<Features> = combine_on
            .iter()
            .map(|item| {
                let rules = item.rules_scores.get(label_index).copied().unwrap_or(0.0);
                head.features(&label, rules, &item.embeddings).0
            })
            .collect();
        let combine_targets: Vec<bool> = combine_on
            .iter()
            .map(|item| item.labels.iter().any(|label| label == name))
            .collect();
        if !combine_targets.iter().any(|&target| target) || combine_targets.iter().all(|&t| t) {
            return Err(SemanticError::Training(format!(
                "label {name}: the combination set needs positive and negative items"
            )));
        }
        label.combine = fit_combine(&rows, &combine_targets);
        label.threshold = best_threshold(&label.combine, &rows, &combine_targets);
        head.labels.push(label);
    }
    Ok(head)
}

/// The combination weights, fitted on standardized features and folded
/// back so the file holds weights over the raw ones.
fn fit_combine(rows: &[Features], targets: &[bool]) -> Combine {
    let columns = |features: &Features| {
        [
            f64::from(features.rules),
            f64::from(features.top),
            f64::from(features.top2),
            f64::from(features.mean),
        ]
    };
    let count = rows.len() as f64;
    let mut mean = [0.0f64; 4];
    for row in rows {
        for (slot, value) in mean.iter_mut().zip(columns(row)) {
            *slot += value / count;
        }
    }
    let mut spread = [0.0f64; 4];
    for row in rows {
        for ((slot, value), centre) in spread.iter_mut().zip(columns(row)).zip(mean) {
            *slot += (value - centre).powi(2) / count;
        }
    }
    let spread = spread.map(|variance| variance.sqrt().max(1e-6));
    let standardized: Vec<Vec<f64>> = rows
        .iter()
        .map(|row| {
            columns(row)
                .iter()
                .zip(mean)
                .zip(spread)
                .map(|((value, centre), scale)| (value - centre) / scale)
                .collect()
        })
        .collect();
    let (weights, bias) = logistic(&standardized, targets, 1e-3, 3000);
    let raw: Vec<f64> = weights
        .iter()
        .zip(spread)
        .map(|(weight, scale)| weight / scale)
        .collect();
    let intercept = bias
        - raw
            .iter()
            .zip(mean)
            .map(|(weight, centre)| weight * centre)
            .sum::<f64>();
    Combine {
        intercept: intercept as f32,
        rules: raw[0] as f32,
        top: raw[1] as f32,
        top2: raw[2] as f32,
        mean: raw[3] as f32,
    }
}

fn best_threshold(combine: &Combine, rows: &[Features], targets: &[bool]) -> f32 {
    let scores: Vec<f32> = rows
        .iter()
        .map(|row| round4(sigmoid(combine.logit(row))))
        .collect();
    let mut best = (f64::MIN, 0.5f32);
    for step in 6..=18 {
        let threshold = step as f32 * 0.05;
        let (mut true_positives, mut false_positives, mut false_negatives) = (0.0, 0.0, 0.0);
        for (&score, &target) in scores.iter().zip(targets) {
            match (score >= threshold, target) {
                (true, true) => true_positives += 1.0,
                (true, false) => false_positives += 1.0,
                (false, true) => false_negatives += 1.0,
                (false, false) => {}
            }
        }
        let f1 = 2.0 * true_positives / (2.0 * true_positives + false_positives + false_negatives);
        if f1 >= best.0 {
            best = (f1, round4(threshold));
        }
    }
    best.1
}

/// Class-balanced logistic regression by full-batch gradient descent.
fn logistic(rows: &[Vec<f64>], targets: &[bool], l2: f64, iterations: usize) -> (Vec<f64>, f64) {
    let count = rows.len() as f64;
    let positives = targets.iter().filter(|&&target| target).count() as f64;
    let positive_weight = 0.5 / (positives / count);
    let negative_weight = 0.5 / (1.0 - positives / count);
    let dimensions = rows.first().map_or(0, Vec::len);
    let mut weights = vec![0.0f64; dimensions];
    let mut bias = 0.0f64;
    let rate = 0.5;
    let mut gradient = vec![0.0f64; dimensions];
    for _ in 0..iterations {
        gradient.fill(0.0);
        let mut bias_gradient = 0.0;
        for (row, &target) in rows.iter().zip(targets) {
            let logit = bias + row.iter().zip(&weights).map(|(x, w)| x * w).sum::<f64>();
            let predicted = 1.0 / (1.0 + (-logit).exp());
            let class_weight = if target {
                positive_weight
            } else {
                negative_weight
            };
            let error = (predicted - f64::from(u8::from(target))) * class_weight / count;
            for (slot, x) in gradient.iter_mut().zip(row) {
                *slot += error * x;
            }
            bias_gradient += error;
        }
        for (weight, slot) in weights.iter_mut().zip(&gradient) {
            *weight -= rate * (slot + l2 * *weight);
        }
        bias -= rate * bias_gradient;
    }
    (weights, bias)
}

/// The sentences of `text` as trimmed byte ranges: a break after `.`, `!`,
/// `?` or `;` followed by white space, after the full stops of scripts
/// written without spaces (`。！？`, Arabic `؟`, Devanagari `।`), and at
/// line breaks. Pieces of fewer than two characters are dropped.
pub fn split_sentences(text: &str) -> Vec<(usize, usize)> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut characters = text.char_indices().peekable();
    while let Some((index, character)) = characters.next() {
        let after = index + character.len_utf8();
        let next = characters.peek().map(|&(_, next)| next);
        let ends = match character {
            '\n' | '\r' => true,
            '.' | '!' | '?' | ';' => next.is_none_or(char::is_whitespace),
            '。' | '！' | '？' | '؟' | '।' | '۔' => true,
            _ => false,
        };
        if ends {
            push_trimmed(text, start, after, &mut pieces);
            start = after;
        }
    }
    push_trimmed(text, start, text.len(), &mut pieces);
    pieces
}

fn push_trimmed(text: &str, start: usize, end: usize, pieces: &mut Vec<(usize, usize)>) {
    let piece = &text[start..end];
    let trimmed_start = start + (piece.len() - piece.trim_start().len());
    let trimmed_end = start + piece.trim_end().len();
    if trimmed_end > trimmed_start && text[trimmed_start..trimmed_end].chars().nth(1).is_some() {
        pieces.push((trimmed_start, trimmed_end));
    }
}

/// `end`, or the byte after the `limit`th character from `start` when the
/// range is longer.
fn cut_chars(text: &str, start: usize, end: usize, limit: usize) -> usize {
    match text[start..end].char_indices().nth(limit) {
        Some((offset, _)) => start + offset,
        None => end,
    }
}

fn norm(vector: &[f32]) -> f32 {
    vector.iter().map(|value| value * value).sum::<f32>().sqrt()
}

/// `weights · embedding / |embedding|`: servers differ on whether they
/// normalize, the head assumes unit vectors.
fn dot_normalized(weights: &[f32], embedding: &[f32]) -> f32 {
    let length = norm(embedding);
    if length == 0.0 {
        return 0.0;
    }
    weights
        .iter()
        .zip(embedding)
        .map(|(weight, value)| weight * value)
        .sum::<f32>()
        / length
}

fn mean_normalized(embeddings: &[Vec<f32>], dimensions: usize) -> Vec<f32> {
    let mut mean = vec![0.0f32; dimensions];
    for embedding in embeddings {
        let length = norm(embedding).max(f32::MIN_POSITIVE);
        for (slot, value) in mean.iter_mut().zip(embedding) {
            *slot += value / length / embeddings.len() as f32;
        }
    }
    mean
}

fn sigmoid(logit: f32) -> f32 {
    1.0 / (1.0 + (-logit).exp())
}

/// Rounded like the rules' scores, so output is the same across platforms.
fn round4(value: f32) -> f32 {
    (value * 10_000.0).round() / 10_000.0
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirewatch_model::{ArticleId, LabelScore};

    fn tiny_head() -> SemanticHead {
        SemanticHead {
            model: "test".into(),
            dimensions: 2,
            max_sentences: 3,
            max_sentence_chars: 40,
            fitted_on: "hand-written".into(),
            labels: vec![LabelHead {
                name: "ARMS_TRANSFER".into(),
                threshold: 0.5,
                evidence_sentences: 1,
                bias: 0.0,
                weights: vec![4.0, -4.0],
                combine: Combine {
                    intercept: -1.0,
                    rules: 2.0,
                    top: 1.0,
                    top2: 0.0,
                    mean: 0.0,
                },
            }],
        }
    }

    #[test]
    fn sentences_are_trimmed_byte_ranges_of_title_and_text() {
        let text = "  Germany will deliver tanks.\nThe deal: 3.5 billion euros! 制裁。解除 Ok";
        let ranges = split_sentences(text);
        let pieces: Vec<&str> = ranges
            .iter()
            .map(|&(start, end)| &text[start..end])
            .collect();
        assert_eq!(
            pieces,
            [
                "Germany will deliver tanks.",
                "The deal: 3.5 billion euros!",
                "制裁。",
                "解除 Ok"
            ]
        );
        let id = ArticleId::from_key("t");
        let document = Document {
            id: &id,
            title: "Tanks for Kyiv",
            text,
            lang: None,
        };
        let sentences = tiny_head().sentences(&document);
        assert_eq!(sentences.len(), 3, "max_sentences");
        assert_eq!(sentences[0].field, EvidenceField::Title);
        assert_eq!(sentences[1].text(&document), "Germany will deliver tanks.");
    }

    #[test]
    fn long_sentences_are_cut_at_a_character_boundary() {
        let text = "é".repeat(100);
        let end = cut_chars(&text, 0, text.len(), 40);
        assert_eq!(text[..end].chars().count(), 40);
    }

    #[test]
    fn apply_combines_and_cites_the_best_sentence_with_character_offsets() {
        let head = tiny_head();
        let id = ArticleId::from_key("t");
        let document = Document {
            id: &id,
            title: "«Новости»",
            text: "Weather is fine. Sweden sends jets to Ukraine.",
            lang: None,
        };
        let sentences = head.sentences(&document);
        let embeddings = vec![vec![0.0, 1.0], vec![0.1, 0.9], vec![3.0, 0.0]];
        let mut classification = Classification {
            article_id: id.clone(),
            labels: vec![LabelScore {
                label: "ARMS_TRANSFER".into(),
                score: 0.0,
                flagged: false,
            }],
            evidence: Vec::new(),
            entities: wirewatch_model::Entities::default(),
            classifier_version: "test".into(),
            classified_at: chrono::Utc::now(),
        };
        head.apply(&document, &sentences, &embeddings, &mut classification)
            .unwrap();
        // σ(-1 + 0 + 4) = 0.9526
        assert!((classification.labels[0].score - 0.9526).abs() < 1e-6);
        assert!(classification.labels[0].flagged);
        let evidence = &classification.evidence[0];
        assert_eq!(evidence.text, "Sweden sends jets to Ukraine.");
        assert_eq!(evidence.rule.as_deref(), Some(SEMANTIC_RULE));
        let cited: String = document
            .text
            .chars()
            .skip(evidence.start)
            .take(evidence.end - evidence.start)
            .collect();
        assert_eq!(cited, evidence.text);
        let wrong = head.apply(&document, &sentences, &embeddings[..2], &mut classification);
        assert!(matches!(wrong, Err(SemanticError::Embeddings { .. })));
    }

    #[test]
    fn head_round_trips_through_toml_and_bad_heads_name_the_problem() {
        let head = tiny_head();
        let again = SemanticHead::from_toml(&head.to_toml(), "test").unwrap();
        assert_eq!(again, head);
        let broken = head.to_toml().replace("threshold = 0.5", "threshold = 1.5");
        let error = SemanticHead::from_toml(&broken, "head.toml").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("head.toml: label ARMS_TRANSFER: threshold 1.5"),
            "{error}"
        );
    }

    #[test]
    fn builtin_head_loads() {
        let head = SemanticHead::builtin();
        assert_eq!(
            head.unknown_labels(&["ARMS_TRANSFER", "SANCTIONS"]),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn train_separates_two_directions_and_is_deterministic() {
        let item = |x: f32, y: f32, positive: bool, rules: f32| TrainItem {
            embeddings: vec![vec![x, y]],
            labels: if positive { vec!["A".into()] } else { vec![] },
            rules_scores: vec![rules],
        };
        let items: Vec<TrainItem> = (0..20)
            .map(|index| {
                let jitter = index as f32 * 0.01;
                if index % 2 == 0 {
                    item(1.0, jitter, true, 0.6)
                } else {
                    item(jitter, 1.0, false, 0.1)
                }
            })
            .collect();
        let options = TrainOptions {
            model: "test".into(),
            label_names: vec!["A".into()],
            max_sentences: 4,
            max_sentence_chars: 100,
            fitted_on: "test".into(),
        };
        let head = train(&options, &items, &items).unwrap();
        let label = &head.labels[0];
        assert!(
            label.weights[0] > 0.0 && label.weights[1] < 0.0,
            "{label:?}"
        );
        assert_eq!(train(&options, &items, &items).unwrap(), head);
        let empty = TrainItem {
            labels: vec!["A".into()],
            ..items[0].clone()
        };
        let all_positive = vec![empty; 3];
        assert!(train(&options, &all_positive, &items).is_err());
    }
}
