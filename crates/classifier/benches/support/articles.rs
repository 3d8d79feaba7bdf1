//! The articles the classifier bench times and `bench_dump` classifies,
//! 64 of each kind, every one exactly as long as fits in 5 KB (title and
//! text, cut at the last space before the limit), titled with its first
//! sentence:
//!
//! - [`dev_articles`]: the English items of the shared dev corpus
//!   (`../shared/data/classify/dev.jsonl`) joined in file order. Nearly
//!   every item is about arms, sanctions or one of their look-alikes, so
//!   these articles are the dense case: several hundred lexicon hits each.
//! - [`news_articles`]: the English article bodies of the shared extraction
//!   benchmark (`../shared/data/extraction/aeb/ground-truth.json`, real web
//!   and news pages on every subject) joined the same way: the mix a feed
//!   watcher mostly sees.
//!
//! Without the shared folder both fall back to the crate's own seed-story
//! fixture, repeated. Included by both the bench and `bench_dump` with
//! `#[path]`, so the dump covers exactly what the bench times.

use std::path::{Path, PathBuf};

const ARTICLE_BYTES: usize = 5 * 1024;
const ARTICLES: usize = 64;

fn shared(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(relative)
}

fn fixture_texts(missing: &Path) -> Vec<String> {
    eprintln!(
        "bench: {} not found, using the crate's fixture",
        missing.display()
    );
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed-own-words.txt");
    let fixture = std::fs::read_to_string(path).unwrap();
    fixture.split("\n\n").map(str::to_string).collect()
}

/// The English dev items' texts, in file order.
pub fn dev_texts() -> Vec<String> {
    let corpus = shared("classify/dev.jsonl");
    let texts: Vec<String> = std::fs::read_to_string(&corpus)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|record| record["lang"] == "en")
        .filter_map(|record| record["text"].as_str().map(str::to_string))
        .collect();
    if texts.is_empty() {
        return fixture_texts(&corpus);
    }
    texts
}

/// Whether a text reads as English: at least one word in twelve is one of
/// its six commonest (the benchmark's pages carry no language tag).
fn looks_english(text: &str) -> bool {
    let words = text
        .split(|character: char| !character.is_alphabetic())
        .filter(|word| !word.is_empty());
    let (mut all, mut common) = (0usize, 0usize);
    for word in words {
        all += 1;
        let word = word.to_lowercase();
        common += usize::from(matches!(
            word.as_str(),
            "the" | "and" | "of" | "to" | "is" | "in"
        ));
    }
    all > 0 && common * 12 >= all
}

/// The English article bodies of the extraction benchmark, in the order of
/// their ids.
pub fn news_texts() -> Vec<String> {
    let corpus = shared("extraction/aeb/ground-truth.json");
    let pages: serde_json::Map<String, serde_json::Value> = std::fs::read_to_string(&corpus)
        .ok()
        .and_then(|contents| serde_json::from_str(&contents).ok())
        .unwrap_or_default();
    let mut ids: Vec<&String> = pages.keys().collect();
    ids.sort();
    let texts: Vec<String> = ids
        .into_iter()
        .filter_map(|id| pages[id]["articleBody"].as_str())
        .filter(|body| looks_english(body))
        .map(str::to_string)
        .collect();
    if texts.is_empty() {
        return fixture_texts(&corpus);
    }
    texts
}

/// The last char boundary at or before `limit` that follows whitespace
/// (or `limit` itself when the text is shorter).
fn cut(text: &str, limit: usize) -> usize {
    if text.len() <= limit {
        return text.len();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end]
        .rfind(char::is_whitespace)
        .map_or(end, |space| space)
}

/// `ARTICLES` articles from `texts` joined in order (and round again when
/// they run out), each title plus text at most `ARTICLE_BYTES`.
pub fn articles_from(texts: &[String]) -> Vec<(String, String)> {
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
            while title.len() + body.len() < ARTICLE_BYTES {
                body.push_str("\n\n");
                body.push_str(next.next().unwrap());
            }
            body.truncate(cut(&body, ARTICLE_BYTES - title.len()));
            (title, body)
        })
        .collect()
}

pub fn dev_articles() -> Vec<(String, String)> {
    articles_from(&dev_texts())
}

pub fn news_articles() -> Vec<(String, String)> {
    articles_from(&news_texts())
}
