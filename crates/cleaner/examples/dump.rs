//! Everything `clean()` returns for each page, one line per page, for
//! checking that a change keeps the cleaner's output byte for byte
//! (`bench/extract/same-output.sh`).
//!
//! usage: dump HTML_DIR[,HTML_DIR...] OUT_FILE
//!
//! Pages are taken in name order; each line is the page's path and the
//! `Debug` form of its [`wirewatch_cleaner::Cleaned`] (text, title, byline,
//! dates, language, warnings and the rest).
use std::io::Write;
use std::path::PathBuf;

use wirewatch_cleaner::{clean, PageInput};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dirs, out] = args.as_slice() else {
        eprintln!("usage: dump HTML_DIR[,HTML_DIR...] OUT_FILE");
        std::process::exit(2);
    };
    let file =
        std::fs::File::create(out).unwrap_or_else(|error| panic!("cannot create {out}: {error}"));
    let mut out = std::io::BufWriter::new(file);
    for dir in dirs.split(',') {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|error| panic!("cannot list {dir}: {error}"))
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .collect();
        paths.sort();
        for path in paths {
            let body = std::fs::read(&path)
                .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
            let cleaned = clean(&PageInput {
                body: &body,
                content_type: None,
                url: None,
            });
            writeln!(out, "{} {cleaned:?}", path.display()).expect("writing the dump");
        }
    }
    out.flush().expect("writing the dump");
}
