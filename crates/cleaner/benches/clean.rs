//! Criterion benchmark of `clean` over the AEB pages (shared data set).
//!
//! The pages live outside the repository, in `../shared/data/extraction/aeb/html`
//! relative to the workspace root (gzip files) or, already laid out by
//! `normalize_aeb.py`, in `$WIREWATCH_AEB_HTML` (a folder of `<id>.html`).
//! When neither is present the benchmark prints a message and does nothing.
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wirewatch_cleaner::{clean, PageInput};

fn pages() -> Option<Vec<Vec<u8>>> {
    let dir = std::env::var_os("WIREWATCH_AEB_HTML")
        .map(PathBuf::from)
        .or_else(|| {
            let default =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench/aeb-html");
            default.is_dir().then_some(default)
        })?;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "html"))
        .collect();
    paths.sort();
    let pages: Vec<Vec<u8>> = paths
        .iter()
        .filter_map(|path| std::fs::read(path).ok())
        .collect();
    (!pages.is_empty()).then_some(pages)
}

fn bench(c: &mut Criterion) {
    let Some(pages) = pages() else {
        println!(
            "clean bench skipped: no AEB pages; run normalize_aeb.py and set WIREWATCH_AEB_HTML to its html/ folder"
        );
        return;
    };
    let bytes: usize = pages.iter().map(Vec::len).sum();
    let mut group = c.benchmark_group("clean");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function(format!("aeb_{}_pages", pages.len()), |b| {
        b.iter(|| {
            for body in &pages {
                std::hint::black_box(clean(&PageInput {
                    body,
                    content_type: None,
                    url: None,
                }));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
