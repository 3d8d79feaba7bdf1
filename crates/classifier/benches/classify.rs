//! Classifier throughput on ~5 KB English articles.
//!
//! The articles are real news text: the English items of the shared dev
//! corpus (`../shared/data/classify/dev.jsonl`), concatenated in file order
//! until each article reaches 5 KB. Without the shared folder the crate's
//! own seed-story fixture is repeated instead. Throughput is reported in
//! articles per second (one core: criterion runs on one thread).

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wirewatch_classifier::{Classifier, ClassifierOptions, Document, Taxonomy};
use wirewatch_model::ArticleId;

const ARTICLE_BYTES: usize = 5 * 1024;
const ARTICLES: usize = 64;

fn source_texts() -> Vec<String> {
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
fn articles() -> Vec<(String, String)> {
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

fn bench(criterion: &mut Criterion) {
    let classifier = Classifier::new(Taxonomy::builtin(), ClassifierOptions::default()).unwrap();
    let articles = articles();
    let ids: Vec<ArticleId> = (0..articles.len())
        .map(|index| ArticleId::from_key(&index.to_string()))
        .collect();
    let mean_bytes = articles
        .iter()
        .map(|(title, text)| title.len() + text.len())
        .sum::<usize>()
        / articles.len();
    eprintln!(
        "bench: {} articles, {mean_bytes} bytes each on average",
        articles.len()
    );
    let documents: Vec<Document<'_>> = articles
        .iter()
        .zip(&ids)
        .map(|((title, text), id)| Document {
            id,
            title,
            text,
            lang: Some("en"),
        })
        .collect();

    let mut group = criterion.benchmark_group("classify_5kb_en");
    group.throughput(Throughput::Elements(documents.len() as u64));
    group.bench_function("classify", |bencher| {
        bencher.iter(|| {
            for document in &documents {
                black_box(classifier.classify(black_box(document)));
            }
        })
    });
    group.bench_function("scores_only", |bencher| {
        bencher.iter(|| {
            for document in &documents {
                black_box(classifier.scores(black_box(document)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
