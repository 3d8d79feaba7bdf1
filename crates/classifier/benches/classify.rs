//! Classifier throughput on 5 KB English articles, one thread.
//!
//! Two sets of 64 real articles (see `support/articles.rs`): `news`, the
//! English article bodies of the shared extraction benchmark (pages on
//! every subject, what a feed watcher mostly sees), and `dev_items`, the
//! English items of the shared dev corpus joined to the same size (every
//! paragraph about arms, sanctions or a look-alike: the dense case, with
//! several hundred hits per article). Throughput is in articles per
//! second.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wirewatch_classifier::{Classifier, ClassifierOptions, Document, Taxonomy};
use wirewatch_model::ArticleId;

#[path = "support/articles.rs"]
mod articles;

fn bench(criterion: &mut Criterion) {
    let classifier = Classifier::new(Taxonomy::builtin(), ClassifierOptions::default()).unwrap();
    for (name, articles) in [
        ("news", articles::news_articles()),
        ("dev_items", articles::dev_articles()),
    ] {
        bench_set(criterion, &classifier, name, &articles);
    }
}

fn bench_set(
    criterion: &mut Criterion,
    classifier: &Classifier,
    name: &str,
    articles: &[(String, String)],
) {
    let ids: Vec<ArticleId> = (0..articles.len())
        .map(|index| ArticleId::from_key(&index.to_string()))
        .collect();
    let mean_bytes = articles
        .iter()
        .map(|(title, text)| title.len() + text.len())
        .sum::<usize>()
        / articles.len();
    eprintln!(
        "bench {name}: {} articles, {mean_bytes} bytes each on average",
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

    let mut group = criterion.benchmark_group(format!("classify_5kb_en/{name}"));
    group.throughput(Throughput::Elements(documents.len() as u64));
    group.bench_function("classify", |bencher| {
        bencher.iter(|| {
            for document in &documents {
                black_box(classifier.classify(black_box(document)));
            }
        });
    });
    group.bench_function("scores_only", |bencher| {
        bencher.iter(|| {
            for document in &documents {
                black_box(classifier.scores(black_box(document)));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
