//! The classifier: article text -> labels, scores, evidence, entities.
//!
//! Placeholder API; the real taxonomy-driven classifier replaces it.

use std::collections::HashMap;
use std::path::Path;

use chrono::Utc;
use wirewatch_model::{ArticleId, Classification, Entities, LabelScore};

/// The text to classify.
#[derive(Clone, Copy, Debug)]
pub struct Document<'a> {
    pub id: &'a ArticleId,
    pub title: &'a str,
    pub text: &'a str,
    pub lang: Option<&'a str>,
}

/// Labels with their lexicons, patterns and weights, loaded from TOML.
#[derive(Clone, Debug)]
pub struct Taxonomy {
    labels: Vec<String>,
}

/// A taxonomy file that could not be loaded; names file, line and column.
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    #[error("{path}:{line}:{column}: {message}")]
    Invalid { path: String, line: usize, column: usize, message: String },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

impl Taxonomy {
    /// The taxonomy shipped in the binary (`config/taxonomy/`).
    pub fn builtin() -> Taxonomy {
        Taxonomy { labels: vec!["ARMS_TRANSFER".into(), "SANCTIONS".into()] }
    }

    /// Loads every `*.toml` in `dir`.
    pub fn load_dir(dir: &Path) -> Result<Taxonomy, TaxonomyError> {
        let _ = dir;
        Ok(Taxonomy::builtin())
    }

    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.labels.iter().map(String::as_str)
    }
}

/// Runtime options from `wirewatch.toml`.
#[derive(Clone, Debug, Default)]
pub struct ClassifierOptions {
    /// Per-label threshold overrides (label name -> threshold in [0, 1]).
    pub thresholds: HashMap<String, f32>,
}

/// A compiled taxonomy, ready to classify. Cheap to share across threads.
#[derive(Debug)]
pub struct Classifier {
    taxonomy: Taxonomy,
}

impl Classifier {
    pub fn new(taxonomy: Taxonomy, options: ClassifierOptions) -> Result<Classifier, TaxonomyError> {
        let _ = options;
        Ok(Classifier { taxonomy })
    }

    /// The version string written into every [`Classification`].
    pub fn version(&self) -> String {
        format!("wirewatch-classifier/{}", env!("CARGO_PKG_VERSION"))
    }

    pub fn classify(&self, document: &Document<'_>) -> Classification {
        let haystack = format!("{} {}", document.title, document.text).to_lowercase();
        let labels = self
            .taxonomy
            .labels()
            .map(|label| {
                let hit = match label {
                    "ARMS_TRANSFER" => haystack.contains("weapons") || haystack.contains("arms"),
                    _ => haystack.contains("sanction"),
                };
                LabelScore { label: label.into(), score: if hit { 1.0 } else { 0.0 }, flagged: hit }
            })
            .collect();
        Classification {
            article_id: document.id.clone(),
            labels,
            evidence: vec![],
            entities: Entities::default(),
            classifier_version: self.version(),
            classified_at: Utc::now(),
        }
    }

    /// A human-readable account of a classification (`--explain`).
    pub fn explain(&self, document: &Document<'_>, classification: &Classification) -> String {
        let _ = document;
        format!("{classification:?}")
    }
}
