//! The taxonomy: labels, their rules, and the lexicons and entity lists the
//! rules are written over, read from TOML files and validated.
//!
//! A taxonomy directory holds any number of `*.toml` files, read in name
//! order. Each file may hold:
//!
//! - `[lexicon]`: named word lists (`transfer_verb = ["sell*", "deliver*"]`);
//! - `[[country]]`, `[[body]]`, `[[weapon]]`: entities with a canonical `name`
//!   and the `terms` that name them (aliases, demonyms, other languages);
//!   rules refer to them as the concepts `country`, `body` and `weapon`;
//! - one `[label]` with its `[[rule]]`s and `[[negative]]`s.
//!
//! Terms are matched on a lowercase copy of the article at word boundaries.
//! A trailing `*` lets the term match the start of a longer word
//! (`sanction*` matches "sanctioned"), a leading `*` the end of one
//! (`*waffen` matches "Kleinwaffen"), for inflected and compounding languages.
//!
//! A rule's `all` concepts are looked for together (within `window` words
//! of one sentence, in the title, or anywhere); its `in_article` concepts
//! anywhere in the article, and `none_in_article` ones cancel it when all
//! are there, so "no second state named anywhere" can be written as
//! `none_in_article = ["country", "country"]`; `none_in_title` is the same
//! for the headline alone (a story whose headline is about something else).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

/// A taxonomy that could not be loaded. Every message names the file and,
/// where the problem is in the file, the line and column (both 1-based).
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// Several problems, reported together so a user fixes them in one go.
    #[error("{}", join_errors(.0))]
    Many(Vec<TaxonomyError>),
    /// A problem with the runtime options rather than a file.
    #[error("classifier options: {message}")]
    Options { message: String },
    #[error("taxonomy has no labels")]
    NoLabels,
}

fn join_errors(errors: &[TaxonomyError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where a rule looks for its concepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// All concepts within `window` words of each other in one sentence.
    #[default]
    Sentence,
    /// All concepts in the title.
    Title,
    /// All concepts anywhere in the article (`window` is ignored).
    Document,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    lexicon: BTreeMap<String, Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    country: Vec<RawEntity>,
    #[serde(default)]
    body: Vec<RawEntity>,
    #[serde(default)]
    weapon: Vec<RawEntity>,
    #[serde(default)]
    label: Option<Spanned<RawLabel>>,
    #[serde(default)]
    rule: Vec<RawRule>,
    #[serde(default)]
    negative: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntity {
    name: Spanned<String>,
    terms: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLabel {
    name: Spanned<String>,
    threshold: Spanned<f32>,
    #[serde(default)]
    description: String,
}

fn default_window() -> Spanned<u32> {
    Spanned::new(0..0, 8)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    /// Concepts that must all be present; an entry may offer alternatives
    /// separated by `|`.
    all: Spanned<Vec<Spanned<String>>>,
    /// Concepts that must not be present within the window of the match; a
    /// concept named twice cancels only with two different entities there
    /// ("country", "country": a second state in reach).
    #[serde(default)]
    none: Vec<Spanned<String>>,
    /// Concepts that must all be found somewhere in the article (title
    /// included), not only near the match: "a second state named in
    /// another sentence". A kind named twice wants two different entities.
    #[serde(default)]
    in_article: Vec<Spanned<String>>,
    /// Concepts that, all found somewhere in the article, cancel the rule
    /// ("no second state named anywhere" is `["country", "country"]`).
    #[serde(default)]
    none_in_article: Vec<Spanned<String>>,
    /// As `none_in_article`, in the title only: concepts that, all found
    /// in the headline, cancel the rule ("sanctions_term|arms_embargo": a
    /// measure named in the headline; "country", "country": two states).
    #[serde(default)]
    none_in_title: Vec<Spanned<String>>,
    #[serde(default = "default_window")]
    window: Spanned<u32>,
    #[serde(default)]
    scope: Scope,
    /// The match must be found in at least this many sentences.
    #[serde(default = "default_min_sentences")]
    min_sentences: Spanned<u32>,
    /// When over 0, the rule holds only if every hit of its first `all`
    /// entry lies in the article's last this-many sentences, none in the
    /// title: a measure named once in a closing line is an aside.
    #[serde(default = "default_closing_sentences")]
    closing_sentences: Spanned<u32>,
    weight: Spanned<f32>,
}

fn default_closing_sentences() -> Spanned<u32> {
    Spanned::new(0..0, 0)
}

fn default_min_sentences() -> Spanned<u32> {
    Spanned::new(0..0, 1)
}

/// One rule, with concept names resolved to ids.
#[derive(Clone, Debug)]
pub(crate) struct Rule {
    pub id: String,
    /// Each entry is a set of alternative concept ids.
    pub all: Vec<Vec<u16>>,
    pub none: Vec<u16>,
    /// Concepts named twice in `none`: they cancel the match only with two
    /// different entities (or hits) in reach.
    pub none_twice: Vec<u16>,
    /// Each entry is a set of alternative concept ids; all must be in the
    /// article.
    pub in_article: Vec<Vec<u16>>,
    /// As `in_article`; when all are in the article the rule does not match.
    pub none_in_article: Vec<Vec<u16>>,
    /// As `none_in_article`, found in the title.
    pub none_in_title: Vec<Vec<u16>>,
    pub window: u32,
    pub scope: Scope,
    pub min_sentences: u32,
    /// Only the article's last this-many sentences hold the first entry's
    /// hits (0: anywhere).
    pub closing_sentences: u32,
    pub weight: f32,
}

#[derive(Clone, Debug)]
pub(crate) struct Label {
    pub name: String,
    pub threshold: f32,
    #[allow(dead_code)] // shown by tools that list labels, not used in scoring
    pub description: String,
    pub rules: Vec<Rule>,
    pub negatives: Vec<Rule>,
}

/// One term of a lexicon or entity list, as matched.
#[derive(Clone, Debug)]
pub(crate) struct Term {
    /// Lowercase, without the `*` marks.
    pub text: String,
    pub concept: u16,
    /// For entity concepts, the index of the entity in its kind's list.
    pub entity: Option<u32>,
    /// The term may match the end of a longer word (leading `*`).
    pub open_left: bool,
    /// The term may match the start of a longer word (trailing `*`).
    pub open_right: bool,
    /// The term matches only where the article writes it without lowercase
    /// letters (`=US` is the country, not "us").
    pub upper_only: bool,
    /// Further words that must follow, each `(stem, may continue)`.
    pub rest: Vec<(String, bool)>,
}

/// The entity kinds that rules see as concepts, in concept-id order.
pub(crate) const ENTITY_CONCEPTS: [&str; 3] = ["country", "body", "weapon"];
pub(crate) const COUNTRY: u16 = 0;
pub(crate) const BODY: u16 = 1;
pub(crate) const WEAPON: u16 = 2;

/// Labels with their lexicons, rules and weights, loaded from TOML and
/// validated: every concept a rule names exists, weights and thresholds are
/// in [0, 1], no name is defined twice.
#[derive(Clone, Debug)]
pub struct Taxonomy {
    pub(crate) concepts: Vec<String>,
    pub(crate) terms: Vec<Term>,
    /// Canonical entity names per kind: countries, bodies, weapons.
    pub(crate) entities: [Vec<String>; 3],
    pub(crate) labels: Vec<Label>,
    /// The word lists entity roles are read with, resolved once.
    pub(crate) roles: RoleConcepts,
}

/// Concept ids of the optional word lists the entity extractor uses.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RoleConcepts {
    pub designation_verb: Option<u16>,
    pub broker_cue: Option<u16>,
    pub sell_verb: Option<u16>,
    pub buy_verb: Option<u16>,
    pub person_title: Option<u16>,
    pub arms_noun: Option<u16>,
}

/// The files of the shipped taxonomy, embedded so the binary needs no
/// config directory to run.
const BUILTIN: &[(&str, &str)] = &[
    (
        "arms_transfer.toml",
        include_str!("../../../config/taxonomy/arms_transfer.toml"),
    ),
    (
        "entities.toml",
        include_str!("../../../config/taxonomy/entities.toml"),
    ),
    (
        "lexicon.toml",
        include_str!("../../../config/taxonomy/lexicon.toml"),
    ),
    (
        "sanctions.toml",
        include_str!("../../../config/taxonomy/sanctions.toml"),
    ),
];

impl Taxonomy {
    /// The taxonomy shipped in the binary (`config/taxonomy/`).
    pub fn builtin() -> Taxonomy {
        // A test loads the same files, so this cannot fail in a release.
        Taxonomy::from_sources(
            BUILTIN
                .iter()
                .map(|(name, source)| (format!("<builtin>/{name}"), source.to_string())),
        )
        .unwrap_or_else(|error| panic!("the built-in taxonomy is invalid: {error}"))
    }

    /// The shipped taxonomy files as `(file name, contents)`, for a user who
    /// wants a copy to edit.
    pub fn builtin_files() -> impl Iterator<Item = (&'static str, &'static str)> {
        BUILTIN.iter().copied()
    }

    /// Loads every `*.toml` in `dir`, in file-name order.
    pub fn load_dir(dir: &Path) -> Result<Taxonomy, TaxonomyError> {
        let io_error = |source| TaxonomyError::Io {
            path: dir.display().to_string(),
            source,
        };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io_error)? {
            let path = entry.map_err(io_error)?.path();
            if path
                .extension()
                .is_some_and(|extension| extension == "toml")
            {
                paths.push(path);
            }
        }
        paths.sort();
        let mut sources = Vec::with_capacity(paths.len());
        for path in paths {
            let source = std::fs::read_to_string(&path).map_err(|source| TaxonomyError::Io {
                path: path.display().to_string(),
                source,
            })?;
            sources.push((path.display().to_string(), source));
        }
        Taxonomy::from_sources(sources)
    }

    /// Builds a taxonomy from `(file name, TOML text)` pairs, as if they were
    /// the files of one directory.
    pub fn from_sources(
        sources: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Taxonomy, TaxonomyError> {
        let mut parsed = Vec::new();
        let mut errors = Vec::new();
        for (path, source) in sources {
            match toml::from_str::<RawFile>(&source) {
                Ok(file) => parsed.push((path, source, file)),
                Err(error) => {
                    let (line, column) = error
                        .span()
                        .map_or((1, 1), |span| line_column(&source, span.start));
                    errors.push(TaxonomyError::Invalid {
                        path,
                        line,
                        column,
                        message: error.message().trim_end().to_string(),
                    });
                }
            }
        }
        if !errors.is_empty() {
            return Err(collect(errors));
        }
        let mut builder = Builder::default();
        for name in ENTITY_CONCEPTS {
            builder.concepts.push(name.to_string());
        }
        // Concepts first, over all files, so a rule may use a lexicon that
        // another file defines.
        for (path, source, file) in &parsed {
            builder.add_concepts(path, source, file);
        }
        for (path, source, file) in &parsed {
            builder.add_label(path, source, file);
        }
        if !builder.errors.is_empty() {
            return Err(collect(builder.errors));
        }
        if builder.labels.is_empty() {
            return Err(TaxonomyError::NoLabels);
        }
        let find = |name: &str| {
            builder
                .concepts
                .iter()
                .position(|candidate| candidate == name)
                .map(|index| index as u16)
        };
        let roles = RoleConcepts {
            designation_verb: find("designation_verb"),
            broker_cue: find("broker_cue"),
            sell_verb: find("sell_verb"),
            buy_verb: find("buy_verb"),
            person_title: find("person_title"),
            arms_noun: find("arms_noun"),
        };
        Ok(Taxonomy {
            roles,
            concepts: builder.concepts,
            terms: builder.terms,
            entities: builder.entities,
            labels: builder.labels,
        })
    }

    /// The label names, in taxonomy order.
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.labels.iter().map(|label| label.name.as_str())
    }

    /// The label's one-line description from its file.
    pub fn description(&self, label: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|candidate| candidate.name == label)
            .map(|label| label.description.as_str())
    }

    /// The label's threshold as configured in its file.
    pub fn threshold(&self, label: &str) -> Option<f32> {
        self.labels
            .iter()
            .find(|candidate| candidate.name == label)
            .map(|label| label.threshold)
    }
}

fn collect(mut errors: Vec<TaxonomyError>) -> TaxonomyError {
    if errors.len() == 1 {
        errors.remove(0)
    } else {
        TaxonomyError::Many(errors)
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    let column = source[line_start..offset].chars().count() + 1;
    (line, column)
}

#[derive(Default)]
struct Builder {
    concepts: Vec<String>,
    concept_ids: HashMap<String, u16>,
    concept_defined_in: HashMap<String, String>,
    terms: Vec<Term>,
    entities: [Vec<String>; 3],
    labels: Vec<Label>,
    errors: Vec<TaxonomyError>,
}

impl Builder {
    fn error(&mut self, path: &str, source: &str, offset: usize, message: impl fmt::Display) {
        let (line, column) = line_column(source, offset);
        self.errors.push(TaxonomyError::Invalid {
            path: path.to_string(),
            line,
            column,
            message: message.to_string(),
        });
    }

    fn concept_id(&mut self, name: &str) -> u16 {
        if let Some(position) = ENTITY_CONCEPTS.iter().position(|kind| *kind == name) {
            return position as u16;
        }
        if let Some(id) = self.concept_ids.get(name) {
            return *id;
        }
        let id = self.concepts.len() as u16;
        self.concepts.push(name.to_string());
        self.concept_ids.insert(name.to_string(), id);
        id
    }

    fn add_term(
        &mut self,
        path: &str,
        source: &str,
        raw: &Spanned<String>,
        concept: u16,
        entity: Option<u32>,
    ) {
        let text = raw.get_ref().trim();
        let upper_only = text.starts_with('=');
        let text = text.trim_start_matches('=');
        let open_left = text.starts_with('*');
        let core = text.trim_start_matches('*');
        // "северн* коре*": several words, each of which may be inflected.
        // The first word goes to the automaton, the others are checked
        // word by word after it.
        let words: Vec<&str> = core.split_whitespace().collect();
        let word_mode = words.len() > 1
            && words[..words.len() - 1]
                .iter()
                .any(|word| word.ends_with('*'));
        let (head, rest) = if word_mode {
            let mut rest = Vec::new();
            for word in &words[1..] {
                let open = word.ends_with('*');
                let stem = word.trim_end_matches('*');
                // "d'armes" is two words to the tokenizer: "d", "armes".
                let parts: Vec<&str> = stem
                    .split(|character: char| !character.is_alphanumeric())
                    .filter(|part| !part.is_empty())
                    .collect();
                if parts.is_empty() || stem.contains('*') {
                    self.error(
                        path,
                        source,
                        raw.span().start,
                        format!("term {text:?}: words after an inflected word must be letters, optionally ending in `*`"),
                    );
                    return;
                }
                let last = parts.len() - 1;
                for (index, part) in parts.into_iter().enumerate() {
                    rest.push((fold(part), open && index == last));
                }
            }
            (words[0], rest)
        } else {
            (core, Vec::new())
        };
        let open_right = head.ends_with('*');
        let head = head.trim_end_matches('*');
        if head.is_empty() || head.contains('*') {
            self.error(
                path,
                source,
                raw.span().start,
                format!("term {text:?} must be words with `*` only at the start or end of a word"),
            );
            return;
        }
        if upper_only && head.chars().any(char::is_lowercase) {
            self.error(
                path,
                source,
                raw.span().start,
                format!("term {text:?}: `=` marks a term written in capitals"),
            );
            return;
        }
        self.terms.push(Term {
            text: fold(head),
            concept,
            entity,
            open_left,
            open_right,
            upper_only,
            rest,
        });
    }

    fn add_concepts(&mut self, path: &str, source: &str, file: &RawFile) {
        for (name, terms) in &file.lexicon {
            if !valid_name(name) || ENTITY_CONCEPTS.contains(&name.as_str()) {
                self.error(
                    path,
                    source,
                    terms.span().start,
                    format!("lexicon name {name:?} must be lowercase letters, digits and `_`, and not an entity kind"),
                );
                continue;
            }
            if let Some(first) = self.concept_defined_in.get(name) {
                let message = format!("lexicon {name:?} is already defined in {first}");
                self.error(path, source, terms.span().start, message);
                continue;
            }
            self.concept_defined_in
                .insert(name.clone(), path.to_string());
            let concept = self.concept_id(name);
            if terms.get_ref().is_empty() {
                self.error(
                    path,
                    source,
                    terms.span().start,
                    format!("lexicon {name:?} is empty"),
                );
            }
            for term in terms.get_ref() {
                self.add_term(path, source, term, concept, None);
            }
        }
        let kinds = [
            (&file.country, COUNTRY),
            (&file.body, BODY),
            (&file.weapon, WEAPON),
        ];
        for (entities, kind) in kinds {
            for entity in entities {
                let name = entity.name.get_ref().trim().to_string();
                if name.is_empty() {
                    self.error(
                        path,
                        source,
                        entity.name.span().start,
                        "entity name is empty",
                    );
                    continue;
                }
                let list = &self.entities[kind as usize];
                let index = match list.iter().position(|existing| *existing == name) {
                    // The same entity listed twice (say in a user's extra
                    // file) just gains terms.
                    Some(index) => index,
                    None => {
                        self.entities[kind as usize].push(name);
                        self.entities[kind as usize].len() - 1
                    }
                };
                for term in &entity.terms {
                    self.add_term(path, source, term, kind, Some(index as u32));
                }
            }
        }
    }

    fn resolve(&mut self, path: &str, source: &str, raw: &Spanned<String>) -> Option<Vec<u16>> {
        let mut ids = Vec::new();
        for name in raw.get_ref().split('|') {
            let name = name.trim();
            let known = ENTITY_CONCEPTS.contains(&name) || self.concept_ids.contains_key(name);
            if !known {
                self.error(
                    path,
                    source,
                    raw.span().start,
                    format!("unknown concept {name:?}: define it under [lexicon] or use country, body or weapon"),
                );
                return None;
            }
            ids.push(self.concept_id(name));
        }
        Some(ids)
    }

    fn build_rule(&mut self, path: &str, source: &str, raw: &RawRule) -> Option<Rule> {
        let mut ok = true;
        let weight = *raw.weight.get_ref();
        if !(0.0..=1.0).contains(&weight) || weight.is_nan() {
            self.error(
                path,
                source,
                raw.weight.span().start,
                format!("weight {weight} is outside [0, 1]"),
            );
            ok = false;
        }
        if raw.all.get_ref().is_empty() {
            self.error(
                path,
                source,
                raw.all.span().start,
                "`all` needs at least one concept",
            );
            ok = false;
        }
        let window = *raw.window.get_ref();
        if window > 200 {
            self.error(
                path,
                source,
                raw.window.span().start,
                format!("window {window} is over 200 words"),
            );
            ok = false;
        }
        let min_sentences = *raw.min_sentences.get_ref();
        if !(1..=20).contains(&min_sentences) {
            self.error(
                path,
                source,
                raw.min_sentences.span().start,
                format!("min_sentences {min_sentences} is outside 1..=20"),
            );
            ok = false;
        }
        let closing_sentences = *raw.closing_sentences.get_ref();
        if closing_sentences > 5 {
            self.error(
                path,
                source,
                raw.closing_sentences.span().start,
                format!("closing_sentences {closing_sentences} is over 5"),
            );
            ok = false;
        }
        let mut all = Vec::new();
        for entry in raw.all.get_ref() {
            match self.resolve(path, source, entry) {
                Some(ids) => all.push(ids),
                None => ok = false,
            }
        }
        let mut none = Vec::new();
        for entry in &raw.none {
            match self.resolve(path, source, entry) {
                Some(ids) => none.extend(ids),
                None => ok = false,
            }
        }
        // A concept named twice wants two different entities to cancel.
        let mut none_twice = Vec::new();
        for &concept in &none {
            if none.iter().filter(|&&other| other == concept).count() > 1
                && !none_twice.contains(&concept)
            {
                none_twice.push(concept);
            }
        }
        none.retain(|concept| !none_twice.contains(concept));
        let mut in_article = Vec::new();
        for entry in &raw.in_article {
            match self.resolve(path, source, entry) {
                Some(ids) => in_article.push(ids),
                None => ok = false,
            }
        }
        let mut none_in_article = Vec::new();
        for entry in &raw.none_in_article {
            match self.resolve(path, source, entry) {
                Some(ids) => none_in_article.push(ids),
                None => ok = false,
            }
        }
        let mut none_in_title = Vec::new();
        for entry in &raw.none_in_title {
            match self.resolve(path, source, entry) {
                Some(ids) => none_in_title.push(ids),
                None => ok = false,
            }
        }
        ok.then(|| Rule {
            id: raw.id.get_ref().clone(),
            all,
            none,
            none_twice,
            in_article,
            none_in_article,
            none_in_title,
            window,
            scope: raw.scope,
            min_sentences,
            closing_sentences,
            weight,
        })
    }

    fn add_label(&mut self, path: &str, source: &str, file: &RawFile) {
        let Some(raw_label) = &file.label else {
            if let Some(rule) = file.rule.first().or(file.negative.first()) {
                self.error(
                    path,
                    source,
                    rule.id.span().start,
                    "rules need a [label] table in the same file",
                );
            }
            return;
        };
        let raw_label_span = raw_label.span();
        let raw_label = raw_label.get_ref();
        let name = raw_label.name.get_ref().clone();
        if name.is_empty()
            || !name.chars().all(|character| {
                character.is_ascii_uppercase() || character.is_ascii_digit() || character == '_'
            })
        {
            self.error(
                path,
                source,
                raw_label.name.span().start,
                format!("label name {name:?} must be uppercase letters, digits and `_`"),
            );
        }
        if self.labels.iter().any(|label| label.name == name) {
            self.error(
                path,
                source,
                raw_label.name.span().start,
                format!("label {name:?} is defined twice"),
            );
        }
        let threshold = *raw_label.threshold.get_ref();
        if !(0.0..=1.0).contains(&threshold) || threshold.is_nan() || threshold == 0.0 {
            self.error(
                path,
                source,
                raw_label.threshold.span().start,
                format!("threshold {threshold} is outside (0, 1]"),
            );
        }
        if file.rule.is_empty() {
            self.error(
                path,
                source,
                raw_label_span.start,
                format!("label {name:?} has no [[rule]]"),
            );
        }
        let mut seen = std::collections::HashSet::new();
        for rule in file.rule.iter().chain(&file.negative) {
            if !seen.insert(rule.id.get_ref().clone()) {
                let message = format!("rule id {:?} is used twice", rule.id.get_ref());
                self.error(path, source, rule.id.span().start, message);
            }
        }
        let rules: Vec<Rule> = file
            .rule
            .iter()
            .filter_map(|rule| self.build_rule(path, source, rule))
            .collect();
        let negatives: Vec<Rule> = file
            .negative
            .iter()
            .filter_map(|rule| self.build_rule(path, source, rule))
            .collect();
        self.labels.push(Label {
            name,
            threshold,
            description: raw_label.description.clone(),
            rules,
            negatives,
        });
    }
}

/// Lowercases a term and folds typographic quotes, dashes and spaces the
/// way the article text is folded, so the two compare equal.
fn fold(term: &str) -> String {
    let mut folded = String::with_capacity(term.len());
    for character in term.chars().flat_map(char::to_lowercase) {
        if crate::text::is_optional_mark(character) {
            continue;
        }
        let character = match character {
            '\u{2019}' | '\u{2018}' | '`' | '\u{b4}' => '\'',
            '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' => '-',
            other if other.is_whitespace() => ' ',
            other => other,
        };
        if character == ' ' && folded.ends_with(' ') {
            continue;
        }
        folded.push(character);
    }
    folded
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|character| {
            character.is_ascii_lowercase() || character.is_ascii_digit() || character == '_'
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(files: &[(&str, &str)]) -> Result<Taxonomy, TaxonomyError> {
        Taxonomy::from_sources(
            files
                .iter()
                .map(|(name, text)| (name.to_string(), text.to_string())),
        )
    }

    const MINIMAL: &str = r#"
[lexicon]
verb = ["sell*"]

[label]
name = "X"
threshold = 0.5

[[rule]]
id = "verb-weapon"
all = ["verb", "weapon"]
weight = 0.7
"#;

    #[test]
    fn builtin_taxonomy_loads() {
        let taxonomy = Taxonomy::builtin();
        let labels: Vec<&str> = taxonomy.labels().collect();
        assert_eq!(labels, ["ARMS_TRANSFER", "SANCTIONS"]);
    }

    #[test]
    fn minimal_file_loads() {
        let taxonomy = load(&[("a.toml", MINIMAL)]).unwrap();
        assert_eq!(taxonomy.threshold("X"), Some(0.5));
    }

    #[test]
    fn unknown_key_names_line_and_column() {
        let text = MINIMAL.replace("weight = 0.7", "weight = 0.7\nwieght = 0.2");
        let error = load(&[("a.toml", &text)]).unwrap_err().to_string();
        assert!(error.starts_with("a.toml:13:1: "), "{error}");
        assert!(error.contains("wieght"), "{error}");
    }

    #[test]
    fn out_of_range_weight_and_unknown_concept_are_both_reported() {
        let text = MINIMAL
            .replace("weight = 0.7", "weight = 1.5")
            .replace("\"verb\", \"weapon\"", "\"verb\", \"gadget\"");
        let error = load(&[("a.toml", &text)]).unwrap_err().to_string();
        assert!(
            error.contains("a.toml:11:16: unknown concept \"gadget\""),
            "{error}"
        );
        assert!(
            error.contains("a.toml:12:10: weight 1.5 is outside [0, 1]"),
            "{error}"
        );
    }

    #[test]
    fn lexicon_defined_twice_is_rejected() {
        let other = "[lexicon]\nverb = [\"buy\"]\n";
        let error = load(&[("a.toml", MINIMAL), ("b.toml", other)])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("b.toml:2:8: lexicon \"verb\" is already defined in a.toml"),
            "{error}"
        );
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncé d", 7), (2, 4));
    }
}
