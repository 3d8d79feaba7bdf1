//! Feed documents to [`ParsedFeed`]. Pure: bytes in, values out.
//!
//! [`parse_feed`] reads RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed as
//! publishers actually write them. The document goes through four steps:
//!
//! 1. [`decode`]: bytes to UTF-8 text (BOM, HTTP charset, XML declaration,
//!    then detection when the declaration is missing or wrong).
//! 2. JSON goes to [`json`]. XML is mended by [`repair`] (HTML entities,
//!    stray `&` and `<`, `<rss>` without a version, dialects renamed to the
//!    ones feed-rs knows) and parsed by feed-rs.
//! 3. If feed-rs still rejects it, or reads no entries from it, the
//!    forgiving tree reader [`dom`] and the extractor [`lenient`] read it
//!    the way a person would: mismatched tags, unterminated sections and
//!    unknown dialects do not lose the entries.
//! 4. Every field is normalized: titles and summaries become plain text
//!    ([`text`]), dates are read leniently ([`date`]), links are made
//!    absolute against `xml:base` and the feed URL ([`resolve`]).
//!
//! Parsing never panics (feed-rs runs under `catch_unwind` as a last line
//! of defence) and every step is linear in the input, so it cannot hang.
//! [`conformance_record`] renders a result in the JSON-lines format the
//! conformance comparison reads.

use wirewatch_text::date;
mod decode;
pub mod discover;
mod dom;
mod entities;
mod json;
mod lenient;
pub mod opml;
mod repair;
mod resolve;
mod text;

use std::panic::{catch_unwind, AssertUnwindSafe};

use chrono::{DateTime, Utc};
use url::Url;

pub use entities::{ENTITY_EXPANSION_ALLOWANCE, ENTITY_EXPANSION_FACTOR};
pub use opml::{parse_opml, write_opml, FeedList, ListedFeed, OpmlError, OpmlProblem};

/// What a feed document says, normalized across RSS, Atom and JSON Feed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParsedFeed {
    pub title: Option<String>,
    /// The feed's home page link.
    pub link: Option<String>,
    pub lang: Option<String>,
    /// RSS `<ttl>` in minutes.
    pub ttl_minutes: Option<u32>,
    /// `sy:updatePeriod` / `sy:updateFrequency` as an interval in seconds.
    pub update_interval_secs: Option<u64>,
    /// WebSub hubs the document announces (`<link rel="hub">`, JSON Feed
    /// `hubs`), absolute, in document order.
    pub hubs: Vec<String>,
    /// The feed's own URL as the document gives it (`<link rel="self">`,
    /// JSON Feed `feed_url`): the topic a WebSub hub knows it by.
    pub self_link: Option<String>,
    /// Entries in document order.
    pub entries: Vec<ParsedEntry>,
}

/// One entry; text fields are plain text (HTML removed), links absolute.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParsedEntry {
    /// The publisher's id (`guid`, Atom `id`, `rdf:about`, JSON `id`);
    /// `None` when the document gives none (never invented here).
    pub id: Option<String>,
    pub link: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    pub authors: Vec<String>,
    pub categories: Vec<String>,
    pub lang: Option<String>,
    /// The fields that were longer than their cap and were cut to it
    /// (`"title"`, `"summary"`, `"authors"`, `"categories"`).
    pub truncated: Vec<&'static str>,
}

/// Longest title (entry or feed) kept, in characters; longer ones are cut.
pub const MAX_TITLE_CHARS: usize = 2_000;
/// Longest summary kept, in characters (the article page, not the summary,
/// is what the classifier reads when it can be fetched).
pub const MAX_SUMMARY_CHARS: usize = 20_000;
/// Longest author or category name kept, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Most authors, and most categories, kept per entry.
pub const MAX_NAMES: usize = 100;

/// Why a document could not be read as a feed.
#[derive(Debug, thiserror::Error)]
pub enum FeedParseError {
    #[error("not a feed: {0}")]
    NotAFeed(String),
    #[error("empty document")]
    Empty,
    /// The entities the document declares in its DOCTYPE would expand to
    /// more text than the budget allows (see [`ENTITY_EXPANSION_FACTOR`]).
    #[error(
        "entity expansion over budget: the doctype's entities expand past {limit} bytes \
         ({ENTITY_EXPANSION_FACTOR}x the document plus {} KiB); the feed is not read",
        ENTITY_EXPANSION_ALLOWANCE / 1024
    )]
    EntityExpansion { limit: usize },
}

impl From<entities::OverBudget> for FeedParseError {
    fn from(over: entities::OverBudget) -> FeedParseError {
        FeedParseError::EntityExpansion { limit: over.limit }
    }
}

/// Parses `body` as a feed. `content_type` is the HTTP header (for its
/// charset), `base_url` the URL the document was fetched from (relative links
/// are resolved against it).
pub fn parse_feed(
    body: &[u8],
    content_type: Option<&str>,
    base_url: Option<&Url>,
) -> Result<ParsedFeed, FeedParseError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(FeedParseError::Empty);
    }
    if body.starts_with(&[0x1F, 0x8B]) {
        return Err(FeedParseError::NotAFeed(
            "gzip-compressed body (content encoding not undone)".to_string(),
        ));
    }
    let decoded = decode::decode(body, content_type, base_url.and_then(Url::host_str));
    let text = decoded
        .text
        .trim_start_matches(|ch: char| ch == '\u{FEFF}' || ch.is_whitespace());
    if text.trim().is_empty() {
        return Err(FeedParseError::Empty);
    }
    // Junk before the XML declaration (a server warning, stray bytes) is
    // skipped: the declaration marks where the document really starts.
    let text = match text.find("<?xml") {
        Some(start) if start > 0 && start < 4096 && !text.starts_with('{') => &text[start..],
        _ => text,
    };
    let feed = match text.as_bytes()[0] {
        b'{' | b'[' => json::parse(text, base_url)?,
        b'<' => parse_xml(text, base_url)?,
        _ => {
            return Err(FeedParseError::NotAFeed(format!(
                "document is neither xml nor json (read as {})",
                decoded.encoding
            )))
        }
    };
    Ok(finish(feed, base_url))
}

fn parse_xml(text: &str, base_url: Option<&Url>) -> Result<ParsedFeed, FeedParseError> {
    let repaired = repair::repair(&decode::relabel_prolog_utf8(text))?;
    let strict = strict_parse(&repaired, base_url);
    drop(repaired);
    // The forgiving reader always runs too (it is linear and cheap): it is
    // the fallback when feed-rs fails, and it fills what feed-rs leaves out
    // (`rdf:about` ids, `xml:base` on RSS items, items nested in items).
    let doc = dom::read(text)?;
    match (strict, lenient::extract(&doc, base_url)) {
        (Some(strict_feed), Some(lenient_feed)) => {
            if lenient_feed.entries.len() > strict_feed.entries.len() {
                Ok(lenient_feed)
            } else {
                Ok(merge(strict_feed, lenient_feed))
            }
        }
        (Some(strict_feed), None) => Ok(strict_feed),
        (None, Some(lenient_feed)) => Ok(lenient_feed),
        (None, None) => Err(not_a_feed(text, &doc)),
    }
}

/// A precise reason for a document that is XML but not a feed.
fn not_a_feed(text: &str, doc: &dom::Document) -> FeedParseError {
    let html_doctype = text
        .get(..14)
        .is_some_and(|head| head.eq_ignore_ascii_case("<!doctype html"));
    let root = lenient::feed_root(doc);
    let is_html = html_doctype || matches!(root, Some((_, lenient::RootKind::Html)));
    let reason = match root {
        _ if is_html => match lenient::advertised_feed(doc) {
            Some(href) => format!("an html page, not a feed (it links to a feed at {href})"),
            None => "an html page, not a feed".to_string(),
        },
        Some((root, _)) => format!("unknown root element <{}>", doc.element(root).local),
        None => "no xml element found".to_string(),
    };
    FeedParseError::NotAFeed(reason)
}

/// feed-rs's reading, with gaps filled from the forgiving reader's. Entries
/// are matched by position only when both found the same number.
fn merge(mut strict: ParsedFeed, lenient: ParsedFeed) -> ParsedFeed {
    fn fill<T>(target: &mut Option<T>, source: Option<T>) {
        if target.is_none() {
            *target = source;
        }
    }
    fill(&mut strict.title, lenient.title);
    fill(&mut strict.link, lenient.link);
    fill(&mut strict.lang, lenient.lang);
    fill(&mut strict.ttl_minutes, lenient.ttl_minutes);
    fill(
        &mut strict.update_interval_secs,
        lenient.update_interval_secs,
    );
    fill(&mut strict.self_link, lenient.self_link);
    if strict.hubs.is_empty() {
        strict.hubs = lenient.hubs;
    }
    if strict.entries.len() != lenient.entries.len() {
        return strict;
    }
    for (entry, other) in strict.entries.iter_mut().zip(lenient.entries) {
        // A link feed-rs left relative was resolved against an `xml:base`
        // it does not apply to RSS items.
        let relative = entry
            .link
            .as_deref()
            .is_some_and(|link| Url::parse(link).is_err());
        if relative && other.link.is_some() {
            entry.link = other.link;
        } else {
            fill(&mut entry.link, other.link);
        }
        fill(&mut entry.id, other.id);
        fill(&mut entry.title, other.title);
        fill(&mut entry.summary, other.summary);
        fill(&mut entry.published, other.published);
        fill(&mut entry.updated, other.updated);
        fill(&mut entry.lang, other.lang);
        if entry.authors.is_empty() {
            entry.authors = other.authors;
        }
        if entry.categories.is_empty() {
            entry.categories = other.categories;
        }
    }
    strict
}

/// feed-rs on repaired text; `None` if it fails (or panics).
fn strict_parse(repaired: &str, base_url: Option<&Url>) -> Option<ParsedFeed> {
    let parser = feed_rs::parser::Builder::new()
        .base_uri(base_url.map(Url::as_str))
        // An empty id marks "none in the document": the pipeline keys on
        // the link then, rather than on an id feed-rs would invent.
        .id_generator(|_links, _title, _uri| String::new())
        .timestamp_parser(date::parse_date)
        .sanitize_content(false)
        .build();
    let outcome = catch_unwind(AssertUnwindSafe(|| parser.parse(repaired.as_bytes())));
    match outcome {
        Ok(Ok(feed)) => Some(from_feed_rs(feed)),
        _ => None,
    }
}

fn from_feed_rs(feed: feed_rs::model::Feed) -> ParsedFeed {
    let entries = feed
        .entries
        .into_iter()
        .map(|entry| {
            let id = Some(entry.id.trim().to_string()).filter(|id| !id.is_empty());
            // No fallback to a permalink `guid` here: feed-rs does not keep
            // `isPermaLink`; the forgiving reader's link fills the gap.
            let link = alternate_link(&entry.links);
            ParsedEntry {
                id,
                link,
                title: entry.title.map(|title| text::html_to_text(&title.content)),
                summary: entry
                    .summary
                    .map(|summary| summary.content)
                    .or_else(|| entry.content.and_then(|content| content.body))
                    .map(|html| text::html_to_text(&html)),
                published: entry.published,
                updated: entry.updated,
                authors: entry
                    .authors
                    .into_iter()
                    .filter_map(|person| person.name)
                    .collect(),
                categories: entry
                    .categories
                    .into_iter()
                    .map(|category| category.term)
                    .collect(),
                lang: entry.language,
                truncated: Vec::new(),
            }
        })
        .collect();
    ParsedFeed {
        title: feed.title.map(|title| text::html_to_text(&title.content)),
        // An Atom feed without an alternate link is often identified by its
        // home page URL.
        link: alternate_link(&feed.links)
            .or_else(|| Some(feed.id).filter(|id| resolve::looks_absolute_web(id))),
        lang: feed.language,
        ttl_minutes: feed.ttl,
        update_interval_secs: None,
        hubs: links_with_rel(&feed.links, "hub"),
        self_link: links_with_rel(&feed.links, "self").into_iter().next(),
        entries,
    }
}

/// The non-empty `href`s of the links whose `rel` is `rel`.
fn links_with_rel(links: &[feed_rs::model::Link], rel: &str) -> Vec<String> {
    links
        .iter()
        .filter(|link| {
            link.rel
                .as_deref()
                .is_some_and(|value| value.eq_ignore_ascii_case(rel))
                && !link.href.trim().is_empty()
        })
        .map(|link| link.href.trim().to_string())
        .collect()
}

/// The page an entry (or feed) stands for: `rel="alternate"` or no `rel`.
fn alternate_link(links: &[feed_rs::model::Link]) -> Option<String> {
    links
        .iter()
        .find(|link| {
            matches!(link.rel.as_deref(), None | Some("alternate")) && !link.href.trim().is_empty()
        })
        .map(|link| link.href.clone())
}

/// Final normalization shared by every path (RSS, Atom, JSON Feed, the
/// forgiving reader): control characters removed from every text field,
/// no empty strings, lengths capped ([`MAX_TITLE_CHARS`] and the others),
/// links resolved against the feed URL.
fn finish(mut feed: ParsedFeed, base_url: Option<&Url>) -> ParsedFeed {
    let clean = |value: &mut Option<String>| {
        if let Some(text) = value.as_mut() {
            if text::remove_controls(text) {
                *text = text::collapse_whitespace(text);
            }
        }
        if value.as_deref().is_some_and(|text| text.trim().is_empty()) {
            *value = None;
        }
    };
    let clean_names = |names: &mut Vec<String>| {
        for name in names.iter_mut() {
            if text::remove_controls(name) {
                *name = text::collapse_whitespace(name);
            }
        }
        names.retain(|name| !name.trim().is_empty());
    };
    let cap = |value: &mut Option<String>, max_chars: usize| {
        value
            .as_mut()
            .is_some_and(|text| text::truncate_chars(text, max_chars))
    };
    let cap_names = |names: &mut Vec<String>| {
        let mut cut = names.len() > MAX_NAMES;
        names.truncate(MAX_NAMES);
        for name in names.iter_mut() {
            cut |= text::truncate_chars(name, MAX_NAME_CHARS);
        }
        cut
    };
    let absolutize = |value: &mut Option<String>| {
        if let Some(link) = value.as_deref() {
            *value = resolve::link(base_url, link);
        }
    };
    clean(&mut feed.title);
    clean(&mut feed.lang);
    cap(&mut feed.title, MAX_TITLE_CHARS);
    absolutize(&mut feed.link);
    for entry in &mut feed.entries {
        clean(&mut entry.title);
        clean(&mut entry.summary);
        clean(&mut entry.lang);
        // An id is a key, not text: controls go, its spaces stay.
        if let Some(id) = entry.id.as_mut() {
            text::remove_controls(id);
        }
        if entry.id.as_deref().is_some_and(|id| id.trim().is_empty()) {
            entry.id = None;
        }
        absolutize(&mut entry.link);
        clean_names(&mut entry.authors);
        clean_names(&mut entry.categories);
        if cap(&mut entry.title, MAX_TITLE_CHARS) {
            entry.truncated.push("title");
        }
        if cap(&mut entry.summary, MAX_SUMMARY_CHARS) {
            entry.truncated.push("summary");
        }
        if cap_names(&mut entry.authors) {
            entry.truncated.push("authors");
        }
        if cap_names(&mut entry.categories) {
            entry.truncated.push("categories");
        }
    }
    feed
}

/// One line of the conformance format read by `bench/feeds/compare.py`:
/// `file, ok, error, title, link, n_entries, entries[{id, link, title,
/// published, updated}]`, dates as ISO-8601 UTC with a `Z`.
pub fn conformance_record(
    file_name: &str,
    result: &Result<ParsedFeed, FeedParseError>,
) -> serde_json::Value {
    let iso = |date: &Option<DateTime<Utc>>| {
        date.map(|date| date.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    };
    match result {
        Ok(feed) => serde_json::json!({
            "file": file_name,
            "ok": true,
            "error": null,
            "title": feed.title,
            "link": feed.link,
            "n_entries": feed.entries.len(),
            "entries": feed.entries.iter().map(|entry| serde_json::json!({
                "id": entry.id,
                "link": entry.link,
                "title": entry.title,
                "published": iso(&entry.published),
                "updated": iso(&entry.updated),
            })).collect::<Vec<_>>(),
        }),
        Err(error) => serde_json::json!({
            "file": file_name,
            "ok": false,
            "error": error.to_string(),
            "title": null,
            "link": null,
            "n_entries": 0,
            "entries": [],
        }),
    }
}
