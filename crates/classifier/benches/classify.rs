//! Classifier throughput on ~5 KB English articles.
//!
//! The articles are real news text: the English items of the shared dev
//! corpus (`../shared/data/classify/dev.jsonl`), concatenated in file order
//! until each article reaches 5 KB. Without the shared folder the crate's
//! own seed-story fixture is repeated instead. Throughput is reported in
//! articles per second (one core: criterion runs on one thread).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wirewatch_classifier::{Classifier, ClassifierOptions, Document, Taxonomy};
use wirewatch_model::ArticleId;

#[path = "support/articles.rs"]
mod articles;

use articles::articles;

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
