//! The classifier: article text -> labels, scores, evidence, entities.
//!
//! A fast, explainable rule and lexicon classifier. Nothing about the labels
//! is in the code: the taxonomy (labels, rules, word lists, entity lists)
//! is TOML under `config/taxonomy/`, embedded in the binary and replaceable
//! by a directory, so a user tunes a label or adds one without recompiling.
//!
//! The main types, in the order a caller meets them:
//!
//! - [`Taxonomy`]: the validated TOML ([`Taxonomy::builtin`] or
//!   [`Taxonomy::load_dir`]); a bad file gives a [`TaxonomyError`] naming
//!   file, line and column.
//! - [`ClassifierOptions`]: runtime overrides (thresholds) and an optional
//!   [`SanctionsList`] (the OFAC SDN CSV) whose names are looked up in text.
//! - [`Classifier`]: the taxonomy compiled for matching word by word.
//!   [`Classifier::classify`] turns a [`Document`] into a
//!   [`Classification`]: a score in [0, 1] per label, `flagged` when it
//!   reaches the label's threshold, the evidence spans (character offsets
//!   into the title or text) of every rule that fired, and the entities.
//!   [`Classifier::explain`] renders that for a human.
//! - [`classify_jsonl`]: the batch loop behind `wirewatch classify --jsonl`.
//! - [`SemanticHead`] (module [`semantic`]): the optional semantic layer,
//!   sentence embeddings (from a server the caller asks) scored by a linear
//!   head and combined with the rules' score; off unless configured.
//!
//! How a label is scored: each rule names concepts (word lists or entity
//! kinds) that must occur together, within a few words in one sentence, in
//! the title, or anywhere. A rule that matches adds its weight by noisy-OR
//! (`1 - Π(1 - w)`), so independent evidence accumulates without passing 1;
//! each negative rule that matches (football pages, tariffs, press
//! embargoes...) multiplies the score by `1 - w`.
//!
//! Classification is pure CPU, deterministic, and allocation-light: the
//! per-article buffers live in a thread-local scratch space that is reused.

mod engine;
mod entities;
mod explain;
mod jsonl;
mod sanctions_list;
pub mod semantic;
mod taxonomy;
mod text;
mod word_index;

use std::cell::RefCell;
use std::collections::HashMap;

use chrono::Utc;
use wirewatch_model::{ArticleId, Classification, Evidence, LabelScore};

use crate::engine::{Engine, RuleMatch, Scratch};
use crate::taxonomy::Label;

pub use crate::jsonl::{classify_jsonl, JsonlError};
pub use crate::sanctions_list::{SanctionsList, SanctionsListError};
pub use crate::semantic::{SemanticError, SemanticHead};
pub use crate::taxonomy::{Taxonomy, TaxonomyError};

/// The text to classify.
#[derive(Clone, Copy, Debug)]
pub struct Document<'a> {
    pub id: &'a ArticleId,
    pub title: &'a str,
    pub text: &'a str,
    pub lang: Option<&'a str>,
}

/// Runtime options from `wirewatch.toml`.
#[derive(Clone, Debug, Default)]
pub struct ClassifierOptions {
    /// Per-label threshold overrides (label name -> threshold in (0, 1]).
    pub thresholds: HashMap<String, f32>,
    /// A sanctions list whose names are reported when found in the text.
    pub sanctions_list: Option<SanctionsList>,
    /// At most this many evidence spans per label (0: the default of 8).
    pub max_evidence_per_label: usize,
}

/// A compiled taxonomy, ready to classify. Cheap to share across threads.
#[derive(Debug)]
pub struct Classifier {
    taxonomy: Taxonomy,
    engine: Engine,
    thresholds: Vec<f32>,
    sanctions_list: Option<SanctionsList>,
    max_evidence: usize,
    /// Built once: every classification carries a copy.
    version: String,
}

thread_local! {
    // One scratch space per thread, reused by every classifier on it: its
    // buffers grow to the largest article seen and no further.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Buffers above this are released after use, so one giant article does
/// not pin its memory for the life of the thread.
const SCRATCH_KEEP_BYTES: usize = 1 << 20;

/// One label's verdict with the rules behind it, before it is turned into
/// the message types.
#[derive(Debug)]
pub(crate) struct LabelVerdict {
    pub score: f32,
    pub threshold: f32,
    pub matches: Vec<RuleMatch>,
}

impl Classifier {
    pub fn new(
        taxonomy: Taxonomy,
        options: ClassifierOptions,
    ) -> Result<Classifier, TaxonomyError> {
        let mut thresholds: Vec<f32> = taxonomy
            .labels
            .iter()
            .map(|label| label.threshold)
            .collect();
        let mut errors = Vec::new();
        let mut overrides: Vec<_> = options.thresholds.iter().collect();
        overrides.sort_by(|a, b| a.0.cmp(b.0));
        for (label, threshold) in overrides {
            match taxonomy
                .labels
                .iter()
                .position(|candidate| candidate.name == *label)
            {
                Some(index) if *threshold > 0.0 && *threshold <= 1.0 => {
                    thresholds[index] = *threshold;
                }
                Some(_) => errors.push(format!(
                    "threshold {threshold} for label {label} is outside (0, 1]"
                )),
                None => errors.push(format!("threshold given for unknown label {label}")),
            }
        }
        if !errors.is_empty() {
            return Err(TaxonomyError::Options {
                message: errors.join("; "),
            });
        }
        let engine = Engine::new(&taxonomy);
        Ok(Classifier {
            taxonomy,
            engine,
            thresholds,
            sanctions_list: options.sanctions_list,
            max_evidence: if options.max_evidence_per_label == 0 {
                8
            } else {
                options.max_evidence_per_label
            },
            version: format!("wirewatch-classifier/{}", env!("CARGO_PKG_VERSION")),
        })
    }

    /// The version string written into every [`Classification`].
    pub fn version(&self) -> String {
        self.version.clone()
    }

    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    /// Runs `work` with this thread's scratch space holding `document`
    /// normalized and matched.
    fn with_matched<T>(&self, document: &Document<'_>, work: impl FnOnce(&mut Scratch) -> T) -> T {
        SCRATCH.with(|cell| {
            let mut scratch = cell.borrow_mut();
            scratch.text.build(document.title, document.text);
            self.engine.find_hits(&mut scratch);
            let result = work(&mut scratch);
            if scratch.text.norm.capacity() > SCRATCH_KEEP_BYTES {
                *scratch = Scratch::default();
            }
            result
        })
    }

    /// The score of `label`, with the rules that fired put in `matches`
    /// (cleared first, so that one buffer serves every label in turn).
    fn score_label(&self, scratch: &Scratch, label: &Label, matches: &mut Vec<RuleMatch>) -> f32 {
        matches.clear();
        self.engine
            .eval_rules(scratch, &label.rules, false, matches);
        self.engine
            .eval_rules(scratch, &label.negatives, true, matches);
        let mut keep = 1.0f32;
        let mut damp = 1.0f32;
        for found in matches.iter() {
            if found.negative {
                damp *= 1.0 - label.negatives[found.rule].weight;
            } else {
                keep *= 1.0 - label.rules[found.rule].weight;
            }
        }
        let score = ((1.0 - keep) * damp).clamp(0.0, 1.0);
        // Rounded so that scores compare equal across platforms and print
        // the same in JSON and in explanations.
        (score * 10_000.0).round() / 10_000.0
    }

    fn verdicts(&self, scratch: &Scratch) -> Vec<LabelVerdict> {
        self.taxonomy
            .labels
            .iter()
            .zip(&self.thresholds)
            .map(|(label, &threshold)| {
                let mut matches = Vec::new();
                let score = self.score_label(scratch, label, &mut matches);
                LabelVerdict {
                    score,
                    threshold,
                    matches,
                }
            })
            .collect()
    }

    /// Scores, evidence and entities of `document`.
    pub fn classify(&self, document: &Document<'_>) -> Classification {
        self.with_matched(document, |scratch| {
            let mut labels = Vec::with_capacity(self.taxonomy.labels.len());
            let mut evidence = Vec::new();
            // Label by label through one buffer: the matches are only read
            // here, so no per-label verdict needs to outlive its turn.
            let mut matches = Vec::new();
            let mut offsets = CharOffsets {
                title: CharCounter::new(document.title),
                text: CharCounter::new(document.text),
            };
            for (label, &threshold) in self.taxonomy.labels.iter().zip(&self.thresholds) {
                let score = self.score_label(scratch, label, &mut matches);
                labels.push(LabelScore {
                    label: label.name.clone(),
                    score,
                    flagged: score >= threshold,
                });
                for found in matches
                    .iter()
                    .filter(|found| !found.negative)
                    .take(self.max_evidence)
                {
                    let rule = &label.rules[found.rule];
                    evidence.push(self.evidence(
                        scratch,
                        found,
                        &mut offsets,
                        &label.name,
                        &rule.id,
                        rule.weight,
                    ));
                }
            }
            let entities = entities::extract(
                &self.taxonomy,
                &self.engine,
                scratch,
                document,
                self.sanctions_list.as_ref(),
            );
            Classification {
                article_id: document.id.clone(),
                labels,
                evidence,
                entities,
                classifier_version: self.version(),
                classified_at: Utc::now(),
            }
        })
    }

    /// Only the label scores, without evidence or entities: the cheap path
    /// for batch scoring.
    pub fn scores(&self, document: &Document<'_>) -> Vec<LabelScore> {
        self.with_matched(document, |scratch| {
            self.verdicts(scratch)
                .into_iter()
                .zip(&self.taxonomy.labels)
                .map(|(verdict, label)| LabelScore {
                    label: label.name.clone(),
                    score: verdict.score,
                    flagged: verdict.score >= verdict.threshold,
                })
                .collect()
        })
    }

    /// The evidence span of a rule match: from the first to the last of its
    /// hits when they share a field, else the first hit alone.
    fn evidence(
        &self,
        scratch: &Scratch,
        found: &RuleMatch,
        offsets: &mut CharOffsets<'_>,
        label: &str,
        rule: &str,
        weight: f32,
    ) -> Evidence {
        let hits = &scratch.hits;
        let first = &hits[found.hits[0] as usize];
        let same_field = found
            .hits
            .iter()
            .all(|&index| hits[index as usize].in_title == first.in_title);
        let (norm_start, norm_end) = if same_field {
            (
                found
                    .hits
                    .iter()
                    .map(|&index| hits[index as usize].norm_start)
                    .min()
                    .unwrap_or(0),
                found
                    .hits
                    .iter()
                    .map(|&index| hits[index as usize].norm_end)
                    .max()
                    .unwrap_or(0),
            )
        } else {
            (first.norm_start, first.norm_end)
        };
        let field = scratch.text.field_of(norm_start);
        let counter = match field {
            wirewatch_model::EvidenceField::Title => &mut offsets.title,
            wirewatch_model::EvidenceField::Text => &mut offsets.text,
        };
        let source = counter.field;
        let text = scratch.text.source_slice(source, norm_start, norm_end);
        let (start, end) = match offset_in(source, text) {
            Some(byte) => {
                let start = counter.chars_before(byte);
                (start, start + text.chars().count())
            }
            None => scratch.text.char_range(source, norm_start, norm_end),
        };
        Evidence {
            label: label.to_string(),
            text: text.to_string(),
            start,
            end,
            field,
            rule: Some(rule.to_string()),
            weight,
        }
    }

    /// A human-readable account of a classification (`--explain`): each
    /// label's score against its threshold, the evidence with the rule and
    /// weight behind it, the negative cues that lowered it, and entities.
    pub fn explain(&self, document: &Document<'_>, classification: &Classification) -> String {
        let negatives = self.with_matched(document, |scratch| {
            self.verdicts(scratch)
                .into_iter()
                .zip(&self.taxonomy.labels)
                .map(|(verdict, label)| {
                    verdict
                        .matches
                        .iter()
                        .filter(|found| found.negative)
                        .map(|found| {
                            let rule = &label.negatives[found.rule];
                            let hit = &scratch.hits[found.hits[0] as usize];
                            let words = scratch.text.norm
                                [hit.norm_start as usize..hit.norm_end as usize]
                                .to_string();
                            (rule.id.clone(), rule.weight, words)
                        })
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        });
        explain::render(self, document, classification, &negatives)
    }
}

/// Character offsets, which evidence reports, of byte offsets in one
/// field. Each count goes on from the furthest offset already counted (or
/// back from it, or up from the start, whichever is shorter), so the
/// evidence of one article costs about one pass over its text rather than
/// one per span.
struct CharCounter<'a> {
    field: &'a str,
    /// A character boundary in `field` and the characters before it.
    byte: usize,
    chars: usize,
}

impl<'a> CharCounter<'a> {
    fn new(field: &'a str) -> CharCounter<'a> {
        CharCounter {
            field,
            byte: 0,
            chars: 0,
        }
    }

    /// The characters before `byte`, a character boundary in the field.
    fn chars_before(&mut self, byte: usize) -> usize {
        if byte >= self.byte {
            self.chars += self.field[self.byte..byte].chars().count();
            self.byte = byte;
            self.chars
        } else if byte < self.byte - byte {
            self.field[..byte].chars().count()
        } else {
            self.chars - self.field[byte..self.byte].chars().count()
        }
    }
}

/// The byte offset of `part` in `whole` when it is a non-empty slice of
/// it: where the slice starts, found without mapping the span again. An
/// empty slice may point anywhere, so it gets `None`.
pub(crate) fn offset_in(whole: &str, part: &str) -> Option<usize> {
    let byte = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
    (!part.is_empty() && byte <= whole.len() && part.len() <= whole.len() - byte).then_some(byte)
}

/// The character counters of a document's two fields.
struct CharOffsets<'a> {
    title: CharCounter<'a>,
    text: CharCounter<'a>,
}

/// The items of the shared dev corpus (`../shared/data/classify/dev.jsonl`)
/// for the tests that check a fast path against a plain one on real text.
/// Those tests are `#[ignore]`d unless `cfg(shared_data)` (see
/// `build/shared_data.rs`); under `CI` they run, and a missing corpus fails.
#[cfg(test)]
pub(crate) fn dev_corpus() -> Vec<serde_json::Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/classify/dev.jsonl"
    );
    let corpus = std::fs::read_to_string(path).unwrap_or_else(|error| {
        panic!("{path}: {error} (CI needs ../shared/ beside the repository)")
    });
    corpus
        .lines()
        .map(|line| serde_json::from_str(line).expect("dev.jsonl holds JSON lines"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(title: &str, text: &str) -> Classification {
        let classifier =
            Classifier::new(Taxonomy::builtin(), ClassifierOptions::default()).unwrap();
        let id = ArticleId::from_key("test");
        classifier.classify(&Document {
            id: &id,
            title,
            text,
            lang: Some("en"),
        })
    }

    /// A buying verb, a fighter jet and two states (one with two names),
    /// for label "X" (threshold 0.5), with the given rules.
    fn buyer_and_seller(rules: &str) -> Classifier {
        let source = format!(
            r#"
[lexicon]
verb = ["buy*"]

[[country]]
name = "Philippines"
terms = ["philippines", "manila"]

[[country]]
name = "Sweden"
terms = ["sweden"]

[[weapon]]
name = "fighter jet"
terms = ["fighter jet*"]

[label]
name = "X"
threshold = 0.5
{rules}"#
        );
        let taxonomy =
            Taxonomy::from_sources([("t.toml".to_string(), source)]).expect("test taxonomy loads");
        Classifier::new(taxonomy, ClassifierOptions::default()).unwrap()
    }

    /// The first label's score.
    fn first_score(classifier: &Classifier, title: &str, text: &str) -> f32 {
        let id = ArticleId::from_key("test");
        classifier.scores(&Document {
            id: &id,
            title,
            text,
            lang: Some("en"),
        })[0]
            .score
    }

    /// A rule with `in_article` wants its concepts anywhere in the article,
    /// a kind named twice two different entities; `none_in_article`
    /// cancels a rule (here a negative) when all its concepts are there.
    #[test]
    fn article_wide_conditions_count_entities_anywhere() {
        let rules = r#"
[[rule]]
id = "buys-weapon-two-states-in-article"
all = ["verb", "weapon"]
in_article = ["country", "country"]
weight = 0.6

[[rule]]
id = "buys-weapon"
all = ["verb", "weapon"]
weight = 0.6

[[negative]]
id = "no-second-state"
all = ["verb", "weapon"]
none_in_article = ["country", "country"]
weight = 0.5
"#;
        let classifier = buyer_and_seller(rules);
        let score = |title: &str, text: &str| first_score(&classifier, title, text);
        // Two rules of 0.6, no negative: 1 - 0.4 * 0.4.
        let two_states = score("Manila buys fighter jets", "The jets are made in Sweden.");
        assert!((two_states - 0.84).abs() < 1e-4, "{two_states}");
        // One state named twice is one entity: one rule, halved.
        let one_state = score("Manila buys fighter jets", "The Philippines needs them.");
        assert!((one_state - 0.3).abs() < 1e-4, "{one_state}");
    }

    /// `none_in_title` cancels a rule when its concepts are all in the
    /// headline, whatever the text holds: here negatives for a purchase
    /// told under a headline about something else, and for one told under a
    /// headline that names a single state.
    #[test]
    fn none_in_title_cancels_on_headline_concepts() {
        let rules = r#"
[[rule]]
id = "buys-weapon"
all = ["verb", "weapon"]
weight = 0.8

[[negative]]
id = "told-under-another-headline"
all = ["verb", "weapon"]
none_in_title = ["verb|weapon"]
weight = 0.5
"#;
        let classifier = buyer_and_seller(rules);
        let score = |title: &str, text: &str| first_score(&classifier, title, text);
        let text = "Manila buys fighter jets from Sweden.";
        let headline = score("Manila buys fighter jets", text);
        assert!((headline - 0.8).abs() < 1e-4, "{headline}");
        // One of the alternatives in the title is enough to cancel.
        let weapon_only = score("Fighter jets for Manila", text);
        assert!((weapon_only - 0.8).abs() < 1e-4, "{weapon_only}");
        let elsewhere = score("Budget vote in Manila", text);
        assert!((elsewhere - 0.4).abs() < 1e-4, "{elsewhere}");
        // A kind named twice wants two different entities in the title; the
        // text's second state does not count.
        let rules = r#"
[[rule]]
id = "buys-weapon"
all = ["verb", "weapon"]
weight = 0.8

[[negative]]
id = "one-state-headline"
all = ["verb", "weapon"]
none_in_title = ["country", "country"]
weight = 0.5
"#;
        let classifier = buyer_and_seller(rules);
        let score = |title: &str, text: &str| first_score(&classifier, title, text);
        let one = score("Manila buys fighter jets", text);
        assert!((one - 0.4).abs() < 1e-4, "{one}");
        let same_twice = score("Manila and the Philippines buy fighter jets", text);
        assert!((same_twice - 0.4).abs() < 1e-4, "{same_twice}");
        let two = score("Manila buys fighter jets from Sweden", text);
        assert!((two - 0.8).abs() < 1e-4, "{two}");
    }

    /// A kind named twice in `none` cancels a match only when two
    /// different entities of it are in reach: the buyer alone does not.
    #[test]
    fn none_named_twice_wants_two_entities() {
        let rules = r#"
[[rule]]
id = "buys-weapon"
all = ["verb", "weapon"]
weight = 0.8

[[negative]]
id = "buyer-alone"
all = ["verb", "weapon"]
window = 8
none = ["country", "country"]
weight = 0.5
"#;
        let classifier = buyer_and_seller(rules);
        let score = |text: &str| first_score(&classifier, "", text);
        let buyer_alone = score("Manila buys fighter jets for the Philippines air force.");
        assert!((buyer_alone - 0.4).abs() < 1e-4, "{buyer_alone}");
        let two_states = score("Manila buys fighter jets from Sweden.");
        assert!((two_states - 0.8).abs() < 1e-4, "{two_states}");
    }

    #[test]
    fn evidence_offsets_are_characters() {
        let text = "«Привет» — the EU imposed new sanctions on Russia's banks.";
        let result = classify("Sanctions", text);
        let evidence = result
            .evidence
            .iter()
            .find(|evidence| evidence.field == wirewatch_model::EvidenceField::Text)
            .expect("text evidence");
        let expected: String = text
            .chars()
            .skip(evidence.start)
            .take(evidence.end - evidence.start)
            .collect();
        assert_eq!(evidence.text, expected);
        assert!(evidence.text.contains("sanctions"), "{evidence:?}");
    }

    #[test]
    fn char_counter_agrees_with_counting_from_the_start() {
        let field = "«Привет» — the EU imposed ẞ sanctions 制裁 on Russia’s banks.";
        let boundaries: Vec<usize> = (0..=field.len())
            .filter(|&byte| field.is_char_boundary(byte))
            .collect();
        let mut counter = CharCounter::new(field);
        let mut seed = 0x2545_f491_u64;
        for _ in 0..500 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let byte = boundaries[(seed % boundaries.len() as u64) as usize];
            assert_eq!(
                counter.chars_before(byte),
                field[..byte].chars().count(),
                "{byte}"
            );
        }
    }

    #[test]
    fn offset_in_finds_non_empty_subslices_only() {
        let whole = "abc déf";
        assert_eq!(offset_in(whole, &whole[4..]), Some(4));
        assert_eq!(offset_in(whole, &whole[..3]), Some(0));
        assert_eq!(offset_in(whole, &whole[3..3]), None);
        let copy = String::from("déf");
        assert_eq!(offset_in(whole, &copy), None);
    }

    #[test]
    fn threshold_override_for_unknown_label_is_an_error() {
        let options = ClassifierOptions {
            thresholds: HashMap::from([("NOPE".to_string(), 0.5)]),
            ..ClassifierOptions::default()
        };
        let error = Classifier::new(Taxonomy::builtin(), options).unwrap_err();
        assert!(error.to_string().contains("unknown label NOPE"), "{error}");
    }

    #[test]
    fn scratch_memory_is_released_after_a_huge_article() {
        let huge = "The EU imposed sanctions on Russian banks. ".repeat(30_000);
        classify("Sanctions", &huge);
        classify("Small", "A short article.");
        let capacity = SCRATCH.with(|cell| cell.borrow().text.norm.capacity());
        assert!(
            capacity <= SCRATCH_KEEP_BYTES,
            "scratch kept {capacity} bytes"
        );
    }

    /// Odd text (lowercase expansions, combining marks, mixed scripts,
    /// typographic punctuation) must never break evidence offsets.
    #[test]
    fn evidence_offsets_hold_on_odd_text() {
        let pieces = [
            "İstanbul ",
            "sanctions ",
            "САНКЦИИ ",
            "против ",
            "Russia",
            "’s ",
            "“arms sale” ",
            "to Taiwan. ",
            "e\u{301}mbargo ",
            "ẞ ",
            "制裁",
            "  \n\n ",
            "—",
            "U.S. ",
            "Treasury ",
            "designated ",
            "Ivan Petrov",
            ";",
            "Waffenlieferungen an die Ukraine ",
            "تسلّمت مصر ",
            "ـالأسلحةـ ",
            "ﬁ ",
            "\u{200b}",
            "DPRK ",
            "missiles ",
            "weapons ",
        ];
        let mut seed = 0x2545_f491_u64;
        for _ in 0..120 {
            let mut text = String::new();
            let mut title = String::new();
            for index in 0..40 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let piece = pieces[(seed % pieces.len() as u64) as usize];
                if index < 6 {
                    title.push_str(piece);
                } else {
                    text.push_str(piece);
                }
            }
            let result = classify(&title, &text);
            for evidence in &result.evidence {
                let field = match evidence.field {
                    wirewatch_model::EvidenceField::Title => &title,
                    wirewatch_model::EvidenceField::Text => &text,
                };
                assert!(evidence.start <= evidence.end && evidence.end <= field.chars().count());
                let span: String = field
                    .chars()
                    .skip(evidence.start)
                    .take(evidence.end - evidence.start)
                    .collect();
                assert_eq!(span, evidence.text, "{field:?}");
            }
        }
    }

    #[test]
    fn output_is_deterministic() {
        let text =
            "The US Treasury sanctioned three firms that shipped drones from Iran to Russia.";
        let first = classify("Sanctions", text);
        let second = classify("Sanctions", text);
        assert_eq!(first.labels, second.labels);
        assert_eq!(first.evidence, second.evidence);
        assert_eq!(first.entities, second.entities);
    }
}
