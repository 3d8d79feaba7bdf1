//! Finding the feeds a site offers, from one of its pages: the
//! `<link rel="alternate">` elements that announce feeds, and the paths
//! where sites usually keep one when the page announces none.
//!
//! Pure: the caller fetches the page and then each candidate, and keeps the
//! candidates that parse as feeds ([`super::parse_feed`]). The page is read
//! by a scanner that looks only at `<link` start tags (anywhere, as pages put
//! them in the body too), so a broken or huge page costs one linear pass.

use url::Url;

use super::decode;
use super::repair::parse_attributes;

/// Where a candidate came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// Announced by the page (`<link rel="alternate" type="…">`).
    Announced,
    /// A path where sites often keep a feed; unannounced.
    UsualPath,
}

/// A URL that may be a feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub url: Url,
    /// The link's `title`, when announced with one.
    pub title: Option<String>,
    pub found: Found,
}

/// Feed types a `<link rel="alternate">` announces.
const FEED_TYPES: [&str; 6] = [
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
    "application/xml",
];

/// Paths tried when a page announces no feed, most common first (the
/// defaults of WordPress, Ghost, Hugo, Jekyll, Drupal, Blogger, Substack
/// and news CMSs).
pub const USUAL_PATHS: [&str; 10] = [
    "/feed",
    "/rss",
    "/rss.xml",
    "/feed.xml",
    "/atom.xml",
    "/index.xml",
    "/feeds/posts/default",
    "/rss/index.xml",
    "/feed.json",
    "/news/rss.xml",
];

/// The most `<link>` candidates taken from one page (a hostile page may
/// announce thousands).
pub const MAX_ANNOUNCED: usize = 50;

/// The feeds `page` announces, resolved against `page_url` (or the page's
/// `<base href>`), http and https only, each once, in page order.
pub fn announced_feeds(page: &[u8], content_type: Option<&str>, page_url: &Url) -> Vec<Candidate> {
    let text = decode::decode(page, content_type, page_url.host_str()).text;
    let mut base = page_url.clone();
    let mut found: Vec<Candidate> = Vec::new();
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(offset) = lower[from..].find('<') {
        let start = from + offset + 1;
        from = start;
        let name_end = lower[start..]
            .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
            .map_or(lower.len(), |end| start + end);
        let name = &lower[start..name_end];
        if name != "link" && name != "base" {
            continue;
        }
        let (attrs, _, consumed) = parse_attributes(&text[name_end..]);
        from = name_end + consumed;
        let attr = |wanted: &str| {
            attrs
                .iter()
                .find(|(attr, _)| attr.eq_ignore_ascii_case(wanted))
                .and_then(|(_, value)| value.as_deref())
                .map(|value| super::entities::decode_all(value.trim()))
        };
        let Some(href) = attr("href") else { continue };
        if name == "base" {
            if let Ok(url) = page_url.join(&href) {
                base = url;
            }
            continue;
        }
        let rel = attr("rel").unwrap_or_default().to_ascii_lowercase();
        let kind = attr("type").unwrap_or_default().to_ascii_lowercase();
        let kind = kind.split(';').next().unwrap_or_default().trim();
        if !rel.split_ascii_whitespace().any(|word| word == "alternate")
            || !FEED_TYPES.contains(&kind)
        {
            continue;
        }
        let Ok(url) = base.join(&href) else { continue };
        if !matches!(url.scheme(), "http" | "https")
            || found.iter().any(|candidate| candidate.url == url)
        {
            continue;
        }
        let title = attr("title").and_then(|title| {
            let title = super::text::collapse_whitespace(&title);
            (!title.is_empty()).then_some(title)
        });
        found.push(Candidate {
            url,
            title,
            found: Found::Announced,
        });
        if found.len() == MAX_ANNOUNCED {
            break;
        }
    }
    found
}

/// The usual feed paths on `page_url`'s site, for when nothing is
/// announced.
pub fn usual_paths(page_url: &Url) -> Vec<Candidate> {
    USUAL_PATHS
        .iter()
        .filter_map(|path| page_url.join(path).ok())
        .map(|url| Candidate {
            url,
            title: None,
            found: Found::UsualPath,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_url() -> Url {
        Url::parse("https://news.example/world/story.html").unwrap()
    }

    #[test]
    fn announced_feeds_are_resolved_once_each_in_page_order() {
        let page = br#"<!doctype html><html><head>
            <LINK rel="alternate" type="application/rss+xml" title="World &amp; Europe" href="/world/rss.xml">
            <link rel=alternate type=application/atom+xml href=atom.xml>
            <link rel="alternate" type="application/rss+xml" href="/world/rss.xml">
            <link rel="alternate" hreflang="de" href="/de/">
            <link rel="stylesheet" type="text/css" href="/style.css">
            <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
            <script>var s = "<link rel='alternate'";</script>
            </head><body><link rel="alternate" type="application/feed+json; charset=utf-8" href="https://cdn.example/feed.json"></body>"#;
        let found = announced_feeds(page, None, &page_url());
        let urls: Vec<&str> = found
            .iter()
            .map(|candidate| candidate.url.as_str())
            .collect();
        assert_eq!(
            urls,
            [
                "https://news.example/world/rss.xml",
                "https://news.example/world/atom.xml",
                "https://cdn.example/feed.json",
            ]
        );
        assert_eq!(found[0].title.as_deref(), Some("World & Europe"));
        assert!(found
            .iter()
            .all(|candidate| candidate.found == Found::Announced));
    }

    #[test]
    fn a_base_element_moves_relative_links() {
        let page = br#"<head><base href="https://static.example/site/"><link rel="alternate" type="application/atom+xml" href="feed.atom"></head>"#;
        let found = announced_feeds(page, None, &page_url());
        assert_eq!(
            found[0].url.as_str(),
            "https://static.example/site/feed.atom"
        );
    }

    #[test]
    fn a_page_announcing_thousands_yields_the_cap() {
        let mut page = String::new();
        for index in 0..5_000 {
            page.push_str(&format!(
                "<link rel=\"alternate\" type=\"application/rss+xml\" href=\"/f{index}.xml\">"
            ));
        }
        assert_eq!(
            announced_feeds(page.as_bytes(), None, &page_url()).len(),
            MAX_ANNOUNCED
        );
        assert!(announced_feeds(b"<link", None, &page_url()).is_empty());
        assert!(announced_feeds(b"", None, &page_url()).is_empty());
    }

    #[test]
    fn usual_paths_are_on_the_site_root() {
        let paths = usual_paths(&page_url());
        assert_eq!(paths.len(), USUAL_PATHS.len());
        assert_eq!(paths[0].url.as_str(), "https://news.example/feed");
        assert!(paths
            .iter()
            .all(|candidate| candidate.found == Found::UsualPath));
    }
}
