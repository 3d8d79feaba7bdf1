//! Criterion benchmark of `clean` over the AEB pages (the shared data set).
//!
//! Pages come from `$WIREWATCH_AEB_HTML` (a folder of `<id>.html`, e.g. the
//! `html/` that `normalize_aeb.py` writes), else from the shared checkout next
//! to the repository (`../shared/data/extraction/aeb/html/*.html.gz`, unpacked
//! with the system `gzip` so the crate needs no decompressor). When neither is
//! there the benchmark prints a message and measures nothing.
use std::path::{Path, PathBuf};
use std::process::Command;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wirewatch_cleaner::{clean, PageInput};

fn files_with_suffix(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|path| path.to_string_lossy().ends_with(suffix))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    paths
}

fn pages() -> Option<Vec<Vec<u8>>> {
    if let Some(dir) = std::env::var_os("WIREWATCH_AEB_HTML") {
        let pages: Vec<Vec<u8>> = files_with_suffix(Path::new(&dir), ".html")
            .iter()
            .filter_map(|path| std::fs::read(path).ok())
            .collect();
        return (!pages.is_empty()).then_some(pages);
    }
    let shared =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/extraction/aeb/html");
    let pages: Vec<Vec<u8>> = files_with_suffix(&shared, ".html.gz")
        .iter()
        .filter_map(|path| Command::new("gzip").arg("-dc").arg(path).output().ok())
        .filter(|output| output.status.success())
        .map(|output| output.stdout)
        .collect();
    (!pages.is_empty()).then_some(pages)
}

fn bench(c: &mut Criterion) {
    let Some(pages) = pages() else {
        println!(
            "clean bench skipped: no AEB pages in ../shared/data/extraction/aeb and WIREWATCH_AEB_HTML unset"
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
        });
    });
    group.finish();
}

/// The bounded-cost cases of the tests, timed: a 10 MB page of chrome and
/// scripts, 100,000-deep nesting, and one 5 MB text node.
fn pathological(c: &mut Criterion) {
    let paragraph = "Officials said the broker negotiated shipments of shells and rockets, in exchange for food. ";
    let mut big = String::from("<html><body>");
    while big.len() < 10_000_000 {
        big.push_str(
            "<div class=menu><a href=/x>Link</a></div><script>var x = '<p>no</p>';</script><p>",
        );
        big.push_str(paragraph);
        big.push_str("</p><!-- c --><style>.a{}</style>");
    }
    let deep = format!(
        "<html><body>{}<p>{paragraph}</p>{}</body></html>",
        "<div>".repeat(100_000),
        "</div>".repeat(100_000)
    );
    let text_node = format!(
        "<html><body><p>{}</p></body></html>",
        paragraph.repeat(5_000_000 / paragraph.len())
    );
    let mut group = c.benchmark_group("pathological");
    group.sample_size(10);
    for (name, page) in [
        ("10mb_page", &big),
        ("100k_deep", &deep),
        ("5mb_text_node", &text_node),
    ] {
        group.throughput(Throughput::Bytes(page.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                std::hint::black_box(clean(&PageInput {
                    body: page.as_bytes(),
                    content_type: None,
                    url: None,
                }))
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench, pathological);
criterion_main!(benches);
