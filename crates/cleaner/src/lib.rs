//! The cleaner: a news page's HTML -> article text and metadata.
//!
//! Placeholder API; the real extractor replaces the body of [`clean`].

use chrono::{DateTime, Utc};
use url::Url;

/// A fetched page.
#[derive(Clone, Copy, Debug)]
pub struct PageInput<'a> {
    pub body: &'a [u8],
    /// The HTTP `Content-Type` header, for its charset.
    pub content_type: Option<&'a str>,
    /// The page's final URL, for resolving relative links.
    pub url: Option<&'a Url>,
}

/// What the cleaner found in a page. `text` holds paragraphs separated by a
/// blank line; empty when no article text was found (see `warnings`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cleaned {
    pub title: Option<String>,
    pub byline: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub modified: Option<DateTime<Utc>>,
    pub lang: Option<String>,
    pub canonical_url: Option<String>,
    pub site_name: Option<String>,
    pub lead_image: Option<String>,
    pub text: String,
    /// How the text was found: `json_ld`, `scored`, ...
    pub method: String,
    pub warnings: Vec<String>,
}

/// Extracts the article from a page. Never fails: a page with no article
/// gives empty `text` and a warning.
pub fn clean(input: &PageInput<'_>) -> Cleaned {
    let html = String::from_utf8_lossy(input.body);
    let document = scraper::Html::parse_document(&html);
    let paragraph = scraper::Selector::parse("p").expect("static selector");
    let title = scraper::Selector::parse("title").expect("static selector");
    let text: Vec<String> = document
        .select(&paragraph)
        .map(|element| element.text().collect::<String>().trim().to_owned())
        .filter(|text| !text.is_empty())
        .collect();
    Cleaned {
        title: document
            .select(&title)
            .next()
            .map(|element| element.text().collect::<String>().trim().to_owned()),
        text: text.join("\n\n"),
        method: "paragraphs".into(),
        ..Cleaned::default()
    }
}
