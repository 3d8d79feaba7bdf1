//! Batch cleaning for scoring and speed runs.
//!
//! usage:
//!   batch HTML_DIR OUT_DIR             clean every HTML_DIR/<id>.html into OUT_DIR/<id>.txt
//!   batch --speed HTML_DIR [REPEAT]    time `clean` on in-memory pages (one thread)
//!
//! The speed mode mirrors the peers' runner: pages are read first, three are
//! cleaned untimed as warm-up, then every page is timed REPEAT times (default
//! 3) and its fastest time kept, so load from other processes skews less.
use std::path::Path;
use std::time::Instant;

use wirewatch_cleaner::{clean, clean_dir, PageInput};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, html_dir, rest @ ..] if flag == "--speed" => {
            let repeat = rest
                .first()
                .and_then(|r| r.parse().ok())
                .unwrap_or(3usize)
                .max(1);
            speed(Path::new(html_dir), repeat);
        }
        [html_dir, out_dir] => match clean_dir(Path::new(html_dir), Path::new(out_dir)) {
            Ok(report) => println!(
                "cleaned {} pages ({:.1} MB), {} empty, {:.3} s in clean()",
                report.pages,
                report.bytes as f64 / 1e6,
                report.empty,
                report.clean_time.as_secs_f64()
            ),
            Err(error) => {
                eprintln!("batch: {error}");
                std::process::exit(1);
            }
        },
        _ => {
            eprintln!("usage: batch HTML_DIR OUT_DIR | batch --speed HTML_DIR [REPEAT]");
            std::process::exit(2);
        }
    }
}

fn speed(html_dir: &Path, repeat: usize) {
    let mut paths: Vec<_> = std::fs::read_dir(html_dir)
        .unwrap_or_else(|error| {
            panic!("cannot list html directory {}: {error}", html_dir.display())
        })
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "html"))
        .collect();
    paths.sort();
    let pages: Vec<Vec<u8>> = paths
        .iter()
        .map(|path| {
            std::fs::read(path)
                .unwrap_or_else(|error| panic!("cannot read html file {}: {error}", path.display()))
        })
        .collect();
    for body in pages.iter().take(3) {
        std::hint::black_box(clean(&PageInput {
            body,
            content_type: None,
            url: None,
        }));
    }
    let mut fastest = vec![f64::INFINITY; pages.len()];
    for _ in 0..repeat {
        for (index, body) in pages.iter().enumerate() {
            let started = Instant::now();
            std::hint::black_box(clean(&PageInput {
                body,
                content_type: None,
                url: None,
            }));
            fastest[index] = fastest[index].min(started.elapsed().as_secs_f64());
        }
    }
    let total: f64 = fastest.iter().sum();
    let megabytes = pages.iter().map(Vec::len).sum::<usize>() as f64 / 1e6;
    println!(
        "{{\"extractor\": \"wirewatch-cleaner\", \"pages\": {}, \"html_mb\": {megabytes:.3}, \"extract_s\": {total:.3}, \
         \"pages_per_s\": {:.2}, \"mb_per_s\": {:.3}, \"repeat\": {repeat}}}",
        pages.len(),
        pages.len() as f64 / total,
        megabytes / total
    );
}
