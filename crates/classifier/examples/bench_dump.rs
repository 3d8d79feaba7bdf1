//! The criterion bench's articles (`benches/support/articles.rs`: English
//! dev items joined into 5 KB articles, or with `--news` the English
//! article bodies of the extraction benchmark), classified ROUNDS times. Prints each
//! article's classification as JSON without `classified_at`, so that two
//! builds can be diffed on full evidence and entities, and gives callgrind
//! a fixed, load-independent workload:
//!
//! ```text
//! cargo run --release -p wirewatch-classifier --example bench_dump [-- [--news] ROUNDS]
//! valgrind --tool=callgrind target/release/examples/bench_dump 20 > /dev/null
//! ```
//!
//! `bench_dump --all FILE.jsonl` instead dumps every item of a corpus, in
//! every language, title-less as `wirewatch classify --jsonl` reads them.
//! With `BENCH_SCORES_ONLY` set in the environment it only scores the
//! articles and prints nothing: the bench's `scores_only`, for profiling.

use wirewatch_classifier::{Classifier, ClassifierOptions, Document, Taxonomy};
use wirewatch_model::ArticleId;

// The same articles as the bench, so the dump covers what it times.
#[path = "../benches/support/articles.rs"]
mod articles;

/// Every item of a JSON-lines corpus, its `title` (if any) and `text`.
fn corpus(path: &str) -> Vec<(String, String)> {
    let contents = std::fs::read_to_string(path).expect("a readable corpus");
    contents
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|record| {
            let field = |name: &str| record[name].as_str().unwrap_or("").to_string();
            (field("title"), field("text"))
        })
        .collect()
}

fn rounds(arg: Option<String>) -> usize {
    arg.and_then(|arg| arg.parse().ok()).unwrap_or(1)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    let (rounds, articles) = match first.as_deref() {
        Some("--all") => (1, corpus(&args.next().expect("--all FILE.jsonl"))),
        Some("--news") => (rounds(args.next()), articles::news_articles()),
        other => (rounds(other.map(str::to_string)), articles::dev_articles()),
    };
    run(rounds, &articles);
}

fn run(rounds: usize, articles: &[(String, String)]) {
    let classifier = Classifier::new(Taxonomy::builtin(), ClassifierOptions::default()).unwrap();
    let id = ArticleId::from_key("bench");
    let mut last = Vec::new();
    if std::env::var_os("BENCH_SCORES_ONLY").is_some() {
        for _ in 0..rounds {
            for (title, text) in articles {
                let scores = classifier.scores(&Document {
                    id: &id,
                    title,
                    text,
                    lang: Some("en"),
                });
                std::hint::black_box(scores);
            }
        }
        return;
    }
    for _ in 0..rounds {
        last.clear();
        for (title, text) in articles {
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
