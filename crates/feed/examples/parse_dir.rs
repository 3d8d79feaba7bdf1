//! Parses every file in a directory as a feed and prints one JSON line per
//! file in the conformance format (see `bench/feeds/compare.py`).
//!
//! ```text
//! cargo run --release -p wirewatch-feed --example parse_dir -- DIR > ours.jsonl
//! cargo run --release -p wirewatch-feed --example parse_dir -- --plain DIR > plain.jsonl
//! ```
//!
//! `--plain` runs feed-rs as it comes (`feed_rs::parser::parse` on the raw
//! bytes, panics caught) for the baseline figures. Timing per file goes to
//! stderr with `--timing`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::Instant;

use wirewatch_feed::{conformance_record, parse_feed, FeedParseError, ParsedEntry, ParsedFeed};

fn main() {
    let mut plain = false;
    let mut timing = false;
    let mut dir = None;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--plain" => plain = true,
            "--timing" => timing = true,
            _ => dir = Some(PathBuf::from(arg)),
        }
    }
    let Some(dir) = dir else {
        eprintln!("usage: parse_dir [--plain] [--timing] DIR");
        std::process::exit(2);
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", dir.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.is_file() && path.file_name().is_some_and(|name| name != "manifest.json")
        })
        .collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let body = std::fs::read(&path).unwrap_or_default();
        let started = Instant::now();
        let result = if plain {
            parse_plain(&body)
        } else {
            parse_feed(&body, None, None)
        };
        if timing {
            eprintln!(
                "{:>8.2} ms  {name}",
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
        println!("{}", conformance_record(&name, &result));
    }
}

/// feed-rs 3 with no help: raw bytes in, fields mapped one to one.
fn parse_plain(body: &[u8]) -> Result<ParsedFeed, FeedParseError> {
    let outcome = catch_unwind(AssertUnwindSafe(|| feed_rs::parser::parse(body)));
    let feed = match outcome {
        Ok(Ok(feed)) => feed,
        Ok(Err(error)) => return Err(FeedParseError::NotAFeed(error.to_string())),
        Err(_) => return Err(FeedParseError::NotAFeed("feed-rs panicked".to_string())),
    };
    Ok(ParsedFeed {
        title: feed.title.map(|title| title.content),
        link: page_link(&feed.links),
        lang: feed.language,
        ttl_minutes: feed.ttl,
        update_interval_secs: None,
        hubs: Vec::new(),
        self_link: None,
        entries: feed
            .entries
            .into_iter()
            .map(|entry| ParsedEntry {
                id: Some(entry.id),
                link: page_link(&entry.links),
                title: entry.title.map(|title| title.content),
                published: entry.published,
                updated: entry.updated,
                ..ParsedEntry::default()
            })
            .collect(),
    })
}

/// The `rel="alternate"` (or rel-less) link, else the first: the obvious
/// mapping anyone would write on top of feed-rs.
fn page_link(links: &[feed_rs::model::Link]) -> Option<String> {
    links
        .iter()
        .find(|link| matches!(link.rel.as_deref(), None | Some("alternate")))
        .or_else(|| links.first())
        .map(|link| link.href.clone())
}
