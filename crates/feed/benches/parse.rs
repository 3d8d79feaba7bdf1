//! Feed parsing throughput over the shared dev corpus (bytes per second).
//!
//! `cargo bench -p wirewatch-feed --bench parse`. `parse_feed` is
//! measured next to plain feed-rs on the same bytes. Uses
//! `../shared/data/feeds/dev` when present; otherwise a small built-in feed,
//! so the bench always runs.

use std::path::Path;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use wirewatch_feed::parse_feed;

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/feeds/dev");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name() != "manifest.json")
        .filter_map(|entry| {
            Some((
                entry.file_name().to_string_lossy().into_owned(),
                std::fs::read(entry.path()).ok()?,
            ))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        eprintln!(
            "bench: corpus not found at {}, using a built-in feed",
            dir.display()
        );
        let item = "<item><title>Sanctions &amp; exports</title><link>http://example.com/a</link><pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate><description>&lt;p&gt;text&lt;/p&gt;</description></item>";
        let feed = format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>{}</channel></rss>", item.repeat(50));
        files.push(("builtin.xml".to_string(), feed.into_bytes()));
    }
    files
}

fn bench_parse(criterion: &mut Criterion) {
    let files = corpus();
    let total: usize = files.iter().map(|(_, body)| body.len()).sum();
    let mut group = criterion.benchmark_group("parse_feed");
    group.throughput(Throughput::Bytes(total as u64));
    group.sample_size(20);
    group.bench_function("dev_corpus", |bencher| {
        bencher.iter(|| {
            for (_, body) in &files {
                let _ = black_box(parse_feed(black_box(body), None, None));
            }
        });
    });
    // The baseline: feed-rs alone on the raw bytes (it panics on two
    // UTF-16BE files; those panics are caught and silenced here).
    std::panic::set_hook(Box::new(|_| {}));
    group.bench_function("feed_rs_plain", |bencher| {
        bencher.iter(|| {
            for (_, body) in &files {
                let parsed =
                    std::panic::catch_unwind(|| feed_rs::parser::parse(black_box(body.as_slice())));
                let _ = black_box(parsed);
            }
        });
    });
    let _ = std::panic::take_hook();
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
