//! The criterion bench's articles (`benches/classify.rs`: English dev items
//! concatenated to ~5 KB, with titles), classified ROUNDS times. Prints each
//! article's classification as JSON without `classified_at`, so that two
//! builds can be diffed on full evidence and entities, and gives callgrind
//! a fixed, load-independent workload:
//!
//! ```text
//! cargo run --release -p wirewatch-classifier --example bench_dump [-- ROUNDS]
//! valgrind --tool=callgrind target/release/examples/bench_dump 20 > /dev/null
//! ```

use std::path::Path;

use wirewatch_classifier::{Classifier, ClassifierOptions, Document, Taxonomy};
use wirewatch_model::ArticleId;

const ARTICLE_BYTES: usize = 5 * 1024;
const ARTICLES: usize = 64;

/// The same construction as the bench, so the dump covers what it times.
fn articles() -> Vec<(String, String)> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = manifest.join("../../../shared/data/classify/dev.jsonl");
    let contents = std::fs::read_to_string(&corpus).expect("the shared dev corpus");
    let texts: Vec<String> = contents
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|record| record["lang"] == "en")
        .filter_map(|record| record["text"].as_str().map(str::to_string))
        .collect();
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

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(1);
    let classifier = Classifier::new(Taxonomy::builtin(), ClassifierOptions::default()).unwrap();
    let articles = articles();
    let id = ArticleId::from_key("bench");
    let mut last = Vec::new();
    for _ in 0..rounds {
        last.clear();
        for (title, text) in &articles {
            last.push(classifier.classify(&Document {
                id: &id,
                title,
                text,
                lang: Some("en"),
            }));
        }
    }
    for classification in &last {
        let mut value = serde_json::to_value(classification).unwrap();
        if let Some(object) = value.as_object_mut() {
            object.remove("classified_at");
        }
        println!("{value}");
    }
}
