//! The articles the classifier bench times and `bench_dump` classifies:
//! the English items of the shared dev corpus
//! (`../shared/data/classify/dev.jsonl`), concatenated in file order until
//! each article reaches 5 KB, with a title from its first sentence. Without
//! the shared folder the crate's own seed-story fixture is repeated instead.
//! Included by both with `#[path]`, so the dump covers exactly what the
//! bench times.

use std::path::Path;

const ARTICLE_BYTES: usize = 5 * 1024;
const ARTICLES: usize = 64;

pub fn source_texts() -> Vec<String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = manifest.join("../../../shared/data/classify/dev.jsonl");
    if let Ok(contents) = std::fs::read_to_string(&corpus) {
        let texts: Vec<String> = contents
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|record| record["lang"] == "en")
            .filter_map(|record| record["text"].as_str().map(str::to_string))
            .collect();
        if !texts.is_empty() {
            return texts;
        }
    }
    eprintln!(
        "bench: {} not found, using the crate's fixture",
        corpus.display()
    );
    let fixture =
        std::fs::read_to_string(manifest.join("tests/fixtures/seed-own-words.txt")).unwrap();
    fixture.split("\n\n").map(str::to_string).collect()
}

/// `ARTICLES` articles of about `ARTICLE_BYTES` each, with titles.
pub fn articles() -> Vec<(String, String)> {
    let texts = source_texts();
    let mut next = texts.iter().cycle();
    (0..ARTICLES)
        .map(|_| {
            let mut body = String::with_capacity(ARTICLE_BYTES + 2048);
            let first = next.next().unwrap();
            let title: String = first
                .split(['.', '\n'])
                .next()
                .unwrap_or("")
                .chars()
                .take(90)
                .collect();
            body.push_str(first);
            while body.len() < ARTICLE_BYTES {
                body.push_str("\n\n");
                body.push_str(next.next().unwrap());
            }
            (title, body)
        })
        .collect()
}
