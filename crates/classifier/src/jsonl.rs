//! The batch loop behind `wirewatch classify --jsonl`: JSON lines in, one
//! `{"id", "labels", "scores"}` line out per input, the format the
//! evaluation script reads.

use std::io::{BufRead, Write};

use serde::Deserialize;
use serde_json::{Map, Value};
use wirewatch_model::ArticleId;

use crate::{Classifier, Document};

/// A JSON-lines run that stopped; names the input line where it can.
#[derive(Debug, thiserror::Error)]
pub enum JsonlError {
    #[error("line {line}: cannot read input: {source}")]
    Read { line: usize, source: std::io::Error },
    #[error("line {line}: invalid json: {source}")]
    Parse {
        line: usize,
        source: serde_json::Error,
    },
    #[error("line {line}: field `{field}` is missing or empty")]
    Missing { line: usize, field: &'static str },
    #[error("line {line}: cannot write output: {source}")]
    Write { line: usize, source: std::io::Error },
}

#[derive(Deserialize)]
struct InputLine {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

/// Classifies every JSON line of `input` (`id`, `title`, `text`, optional
/// `lang`; other fields are ignored) and writes one line per input to
/// `output`. Blank lines are skipped. Returns how many were classified.
pub fn classify_jsonl<R: BufRead, W: Write>(
    classifier: &Classifier,
    input: R,
    mut output: W,
) -> Result<usize, JsonlError> {
    let mut count = 0;
    let mut buffer = Vec::new();
    for (index, line) in input.lines().enumerate() {
        let line_number = index + 1;
        let line = line.map_err(|source| JsonlError::Read {
            line: line_number,
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: InputLine =
            serde_json::from_str(&line).map_err(|source| JsonlError::Parse {
                line: line_number,
                source,
            })?;
        let id_text = match &parsed.id {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            Some(Value::Number(id)) => id.to_string(),
            _ => {
                return Err(JsonlError::Missing {
                    line: line_number,
                    field: "id",
                })
            }
        };
        if parsed.title.is_none() && parsed.text.is_none() {
            return Err(JsonlError::Missing {
                line: line_number,
                field: "text",
            });
        }
        let id = ArticleId::from_raw(id_text.clone()).ok_or(JsonlError::Missing {
            line: line_number,
            field: "id",
        })?;
        let document = Document {
            id: &id,
            title: parsed.title.as_deref().unwrap_or(""),
            text: parsed.text.as_deref().unwrap_or(""),
            lang: parsed.lang.as_deref(),
        };
        let scores = classifier.scores(&document);
        let mut record = Map::new();
        record.insert("id".into(), Value::String(id_text));
        record.insert(
            "labels".into(),
            Value::Array(
                scores
                    .iter()
                    .filter(|score| score.flagged)
                    .map(|score| Value::String(score.label.clone()))
                    .collect(),
            ),
        );
        let mut score_map = Map::new();
        for score in &scores {
            // Through the decimal text so 0.55f32 prints as 0.55, not as
            // its nearest f64.
            let score_value = format!("{:.4}", score.score).parse::<f64>().unwrap_or(0.0);
            score_map.insert(score.label.clone(), Value::from(score_value));
        }
        record.insert("scores".into(), Value::Object(score_map));
        buffer.clear();
        serde_json::to_writer(&mut buffer, &Value::Object(record))
            .expect("a json value always serializes");
        buffer.push(b'\n');
        output
            .write_all(&buffer)
            .map_err(|source| JsonlError::Write {
                line: line_number,
                source,
            })?;
        count += 1;
    }
    output.flush().map_err(|source| JsonlError::Write {
        line: count,
        source,
    })?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClassifierOptions, Taxonomy};

    fn classifier() -> Classifier {
        Classifier::new(Taxonomy::builtin(), ClassifierOptions::default()).unwrap()
    }

    #[test]
    fn writes_one_line_per_input() {
        let input = concat!(
            r#"{"id":"a","title":"EU extends sanctions on Russia","text":"The EU extended sanctions against Russian banks."}"#,
            "\n\n",
            r#"{"id":"b","title":"Rain","text":"It rained."}"#,
            "\n"
        );
        let mut output = Vec::new();
        let count = classify_jsonl(&classifier(), input.as_bytes(), &mut output).unwrap();
        assert_eq!(count, 2);
        let lines: Vec<Value> = String::from_utf8(output)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(lines[0]["id"], "a");
        assert_eq!(lines[0]["labels"], serde_json::json!(["SANCTIONS"]));
        assert!(lines[0]["scores"]["SANCTIONS"].as_f64().unwrap() >= 0.5);
        assert_eq!(lines[1]["labels"], serde_json::json!([]));
    }

    #[test]
    fn errors_name_the_line() {
        let input = "{\"id\":\"a\",\"text\":\"x\"}\n{not json\n";
        let error = classify_jsonl(&classifier(), input.as_bytes(), Vec::new()).unwrap_err();
        assert!(
            error.to_string().starts_with("line 2: invalid json"),
            "{error}"
        );
        let input = "{\"title\":\"x\"}\n";
        let error = classify_jsonl(&classifier(), input.as_bytes(), Vec::new()).unwrap_err();
        assert_eq!(error.to_string(), "line 1: field `id` is missing or empty");
    }
}
