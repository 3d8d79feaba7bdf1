//! Sanctions lists: the OFAC SDN list in its published CSV format, and the
//! lookup of its names in article text.
//!
//! `sdn.csv` has no header row; its columns are ent_num, SDN_Name,
//! SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT, Vess_flag,
//! Vess_owner, Remarks, with `-0-` for an empty field. Individuals are
//! written "SURNAME, Given Names", so each is looked up both that way and
//! as "Given Names Surname", the way news text names people.

use std::path::Path;

use aho_corasick::{AhoCorasick, MatchKind};
use wirewatch_model::SanctionsListMatch;

/// A sanctions list that could not be read; names the file and line.
#[derive(Debug, thiserror::Error)]
pub enum SanctionsListError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: String,
        line: usize,
        message: String,
    },
}

#[derive(Clone, Debug)]
struct ListEntry {
    name: String,
    programs: Vec<String>,
    list_id: String,
}

/// Names from a sanctions list, compiled for lookup.
#[derive(Clone, Debug)]
pub struct SanctionsList {
    list: String,
    entries: Vec<ListEntry>,
    automaton: AhoCorasick,
    /// The entry behind each automaton pattern.
    pattern_entry: Vec<u32>,
}

/// Names shorter than this (in characters) are not looked up: "AL" or
/// "SU" would match everywhere.
const MIN_NAME_CHARS: usize = 6;

impl SanctionsList {
    /// Reads the OFAC SDN list from `sdn.csv`.
    pub fn load_ofac_csv(path: impl AsRef<Path>) -> Result<SanctionsList, SanctionsListError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| SanctionsListError::Io {
            path: path.display().to_string(),
            source,
        })?;
        // The published file is ASCII in practice; anything else is read
        // leniently rather than rejected.
        let text = String::from_utf8_lossy(&bytes);
        SanctionsList::parse_ofac_csv(&text, &path.display().to_string())
    }

    /// Parses SDN CSV text; `path` is only used in error messages.
    pub fn parse_ofac_csv(text: &str, path: &str) -> Result<SanctionsList, SanctionsListError> {
        let mut entries = Vec::new();
        for (line, record) in parse_csv(text) {
            let fields = record.map_err(|message| SanctionsListError::Invalid {
                path: path.to_string(),
                line,
                message,
            })?;
            // A trailing end-of-file marker (a lone control character) or
            // a blank line is not a record.
            if fields
                .iter()
                .all(|field| field.trim().trim_matches('\u{1a}').is_empty())
            {
                continue;
            }
            if fields.len() < 4 {
                return Err(SanctionsListError::Invalid {
                    path: path.to_string(),
                    line,
                    message: format!("expected at least 4 columns (ent_num, SDN_Name, SDN_Type, Program), found {}", fields.len()),
                });
            }
            let name = empty_marker(&fields[1]).to_string();
            if name.is_empty() {
                return Err(SanctionsListError::Invalid {
                    path: path.to_string(),
                    line,
                    message: "empty SDN_Name".to_string(),
                });
            }
            let programs = empty_marker(&fields[3])
                .split("] [")
                .map(|program| {
                    program.trim_matches(|character: char| {
                        character == '[' || character == ']' || character.is_whitespace()
                    })
                })
                .filter(|program| !program.is_empty())
                .map(str::to_string)
                .collect();
            entries.push(ListEntry {
                name,
                programs,
                list_id: empty_marker(&fields[0]).to_string(),
            });
        }
        Ok(SanctionsList::from_entries("ofac_sdn", entries))
    }

    fn from_entries(list: &str, entries: Vec<ListEntry>) -> SanctionsList {
        let mut patterns = Vec::new();
        let mut pattern_entry = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            for variant in name_variants(&entry.name) {
                if variant.chars().count() >= MIN_NAME_CHARS && !patterns.contains(&variant) {
                    patterns.push(variant);
                    pattern_entry.push(index as u32);
                }
            }
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .expect("names are plain strings and always compile");
        SanctionsList {
            list: list.to_string(),
            entries,
            automaton,
            pattern_entry,
        }
    }

    /// How many names the list holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Listed names found, on word boundaries, in lowercase normalized text.
    pub(crate) fn find(&self, norm: &str) -> Vec<SanctionsListMatch> {
        let mut found: Vec<SanctionsListMatch> = Vec::new();
        for hit in self.automaton.find_iter(norm) {
            let before = norm[..hit.start()].chars().next_back();
            let after = norm[hit.end()..].chars().next();
            if before.is_some_and(char::is_alphanumeric) || after.is_some_and(char::is_alphanumeric)
            {
                continue;
            }
            let entry = &self.entries[self.pattern_entry[hit.pattern().as_usize()] as usize];
            if found
                .iter()
                .any(|existing| existing.list_id.as_deref() == Some(entry.list_id.as_str()))
            {
                continue;
            }
            found.push(SanctionsListMatch {
                name: entry.name.clone(),
                programs: entry.programs.clone(),
                list: self.list.clone(),
                list_id: (!entry.list_id.is_empty()).then(|| entry.list_id.clone()),
            });
        }
        found
    }
}

fn empty_marker(field: &str) -> &str {
    let field = field.trim();
    if field == "-0-" {
        ""
    } else {
        field
    }
}

/// Lowercase spellings a name is looked up by: as listed, and for
/// "SURNAME, Given" also "given surname".
fn name_variants(name: &str) -> Vec<String> {
    let lower = |text: &str| -> String {
        text.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .flat_map(char::to_lowercase)
            .collect()
    };
    let mut variants = vec![lower(name.trim_end_matches('.'))];
    if let Some((surname, given)) = name.split_once(", ") {
        if !given.contains(',') {
            variants.push(lower(&format!("{given} {surname}")));
        }
    }
    variants
}

/// Splits CSV text into records, each with the 1-based line it starts on
/// (RFC 4180 as the `csv` crate reads it: quoted fields with commas,
/// doubled quotes and line breaks; rows may differ in length).
fn parse_csv(text: &str) -> Vec<(usize, Result<Vec<String>, String>)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line() as usize;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => records.push((line, Ok(record.iter().map(str::to_string).collect()))),
            Err(error) => {
                records.push((line, Err(error.to_string())));
                break;
            }
        }
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_fields_and_programs() {
        let csv = "36,\"DOE, John\",\"individual\",\"DPRK3] [RUSSIA-EO14024\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"DOB 1970; a, b \"\"c\"\"\"\r\n";
        let list = SanctionsList::parse_ofac_csv(csv, "sdn.csv").unwrap();
        let found = list.find("officials said john doe had traded with doe, john");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].programs, ["DPRK3", "RUSSIA-EO14024"]);
        assert_eq!(found[0].list_id.as_deref(), Some("36"));
    }

    #[test]
    fn short_rows_name_their_line() {
        let csv = "1,\"A CORP\",-0- ,\"SDGT\"\n2,\"B\"\n";
        let error = SanctionsList::parse_ofac_csv(csv, "sdn.csv")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("sdn.csv:2: expected at least 4 columns"),
            "{error}"
        );
    }

    #[test]
    fn a_short_row_after_a_quoted_line_break_names_the_line_it_starts_on() {
        let csv = "1,\"A CORP\",-0- ,\"SDGT\",\"remarks over\ntwo lines\"\n2,\"B\"\n";
        let error = SanctionsList::parse_ofac_csv(csv, "sdn.csv")
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("sdn.csv:3: "), "{error}");
    }

    #[test]
    fn names_match_on_word_boundaries_only() {
        let csv = "7,\"PETROVA TRADING\",-0- ,\"UKRAINE-EO13661\"\n";
        let list = SanctionsList::parse_ofac_csv(csv, "sdn.csv").unwrap();
        assert!(list.find("the xpetrova trading house").is_empty());
        assert_eq!(list.find("the petrova trading house").len(), 1);
    }
}
