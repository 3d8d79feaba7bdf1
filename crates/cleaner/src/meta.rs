//! Page metadata: `<meta>` tags (Open Graph, Twitter, Dublin Core, plain
//! names), JSON-LD, microdata `itemprop`, `<link rel>`, `<time>` and
//! `<html lang>`.
//!
//! Sources are ranked per field: JSON-LD describes the article itself and
//! wins where present; Open Graph next; plain `<meta name>` and visible
//! markup last. Every candidate is kept only if it looks sane (non-empty,
//! not absurdly long, a parseable date).

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::date::parse_date;
use crate::dom::{AttrName, Document, NodeId, NodeKind, Tag};

/// Everything found outside the article body.
#[derive(Debug, Default)]
pub struct Metadata {
    pub title: Option<String>,
    /// The `<title>` element, kept apart: it often carries the site name.
    pub html_title: Option<String>,
    pub byline: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub modified: Option<DateTime<Utc>>,
    pub lang: Option<String>,
    pub canonical_url: Option<String>,
    pub site_name: Option<String>,
    pub lead_image: Option<String>,
    pub description: Option<String>,
    /// Every description the page gives (Open Graph, `<meta name>`,
    /// Twitter, JSON-LD), distinct: CMSs fill them from the article's
    /// standfirst, which lets the extractor recognise it.
    pub summaries: Vec<String>,
    /// The article's text as JSON-LD gives it: the article object's
    /// `articleBody`, else a how-to's or recipe's description, ingredients
    /// and steps.
    pub article_body: Option<String>,
    pub json_ld_errors: usize,
}

/// Keeps the first value offered for a field.
fn offer(slot: &mut Option<String>, value: Option<&str>) {
    if slot.is_some() {
        return;
    }
    if let Some(value) = value
        .map(clean_value)
        .filter(|v| !v.is_empty() && v.chars().count() <= 500)
    {
        *slot = Some(value);
    }
}

/// Keeps every distinct description, for [`Metadata::summaries`].
fn note_summary(summaries: &mut Vec<String>, value: Option<&str>) {
    if let Some(value) = value
        .map(clean_value)
        .filter(|v| !v.is_empty() && v.chars().count() <= 1000)
    {
        if summaries.len() < 8 && !summaries.contains(&value) {
            summaries.push(value);
        }
    }
}

fn offer_date(slot: &mut Option<DateTime<Utc>>, value: Option<&str>) {
    if slot.is_none() {
        *slot = value.and_then(parse_date);
    }
}

fn clean_value(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Collects metadata from the parsed page.
pub fn collect(doc: &Document) -> Metadata {
    let mut meta = Metadata::default();
    // JSON-LD first: it names the article's own fields.
    for raw in &doc.json_ld {
        match parse_json_ld(raw) {
            Some(value) => read_json_ld(&value, &mut meta, 0),
            None => meta.json_ld_errors += 1,
        }
    }

    let mut sources = Sources::default();
    for id in 0..doc.nodes.len() as u32 {
        let NodeKind::Element { tag, .. } = doc.nodes[id as usize].kind else {
            continue;
        };
        match tag {
            Tag::Html => offer(&mut sources.html_lang, doc.attr(id, AttrName::Lang)),
            Tag::Title => offer(&mut meta.html_title, Some(&doc.text_content(id))),
            Tag::Meta => sources.meta(doc, id, &mut meta.summaries),
            Tag::Link => sources.link(doc, id),
            Tag::Time => sources.time(doc, id),
            _ => sources.microdata(doc, id, tag),
        }
    }
    sources.merge_into(meta)
}

/// What the page's elements say, apart by how far each is trusted: Open
/// Graph, then named `<meta>`s and `<link>`s, then visible markup
/// (microdata, `<time>`, author links). JSON-LD, read first, comes before
/// them all.
#[derive(Default)]
struct Sources {
    og: Metadata,
    named: Metadata,
    visible: Metadata,
    html_lang: Option<String>,
    meta_lang: Option<String>,
}

impl Sources {
    /// A `<meta>` by its property, name, itemprop or http-equiv.
    fn meta(&mut self, doc: &Document, id: NodeId, summaries: &mut Vec<String>) {
        let content = doc.attr(id, AttrName::Content);
        let key = doc
            .attr(id, AttrName::Property)
            .or_else(|| doc.attr(id, AttrName::Name))
            .or_else(|| doc.attr(id, AttrName::Itemprop))
            .or_else(|| doc.attr(id, AttrName::HttpEquiv));
        let Some(key) = key else { return };
        match key.trim().to_ascii_lowercase().as_str() {
            "og:title" => offer(&mut self.og.title, content),
            "twitter:title" | "dc.title" | "headline" => offer(&mut self.named.title, content),
            "og:site_name" => offer(&mut self.og.site_name, content),
            "application-name" | "apple-mobile-web-app-title" => {
                offer(&mut self.named.site_name, content);
            }
            "og:url" => offer(&mut self.og.canonical_url, content),
            "og:image" | "og:image:url" | "og:image:secure_url" => {
                offer(&mut self.og.lead_image, content);
            }
            "twitter:image" | "twitter:image:src" | "thumbnailurl" | "image" => {
                offer(&mut self.named.lead_image, content);
            }
            "og:description" => {
                note_summary(summaries, content);
                offer(&mut self.og.description, content);
            }
            "description" | "twitter:description" => {
                note_summary(summaries, content);
                offer(&mut self.named.description, content);
            }
            "article:published_time"
            | "og:article:published_time"
            | "datepublished"
            | "pubdate"
            | "publishdate"
            | "publish-date"
            | "date"
            | "dc.date.issued"
            | "dc.date"
            | "dcterms.created"
            | "sailthru.date"
            | "parsely-pub-date"
            | "article.published"
            | "originalpublicationdate" => offer_date(&mut self.named.published, content),
            "article:modified_time"
            | "og:updated_time"
            | "datemodified"
            | "lastmod"
            | "last-modified"
            | "dcterms.modified"
            | "article.updated" => offer_date(&mut self.named.modified, content),
            // `article:author` is often a profile URL: not a name.
            "author" | "article:author" | "dc.creator" | "byl" | "parsely-author"
            | "sailthru.author" | "twitter:creator"
                if content.is_some_and(|c| !c.trim_start().starts_with("http")) =>
            {
                offer(&mut self.named.byline, content);
            }
            "og:locale" | "content-language" | "language" | "dc.language" | "inlanguage" => {
                offer(&mut self.meta_lang, content);
            }
            _ => {}
        }
    }

    /// `<link rel="canonical">` and `rel="image_src"`.
    fn link(&mut self, doc: &Document, id: NodeId) {
        let rel = doc
            .attr(id, AttrName::Rel)
            .unwrap_or("")
            .to_ascii_lowercase();
        if rel.split_whitespace().any(|r| r == "canonical") {
            offer(&mut self.named.canonical_url, doc.attr(id, AttrName::Href));
        } else if rel.split_whitespace().any(|r| r == "image_src") {
            offer(&mut self.named.lead_image, doc.attr(id, AttrName::Href));
        }
    }

    fn time(&mut self, doc: &Document, id: NodeId) {
        let value = doc.attr(id, AttrName::Datetime);
        match doc.attr(id, AttrName::Itemprop) {
            Some(prop) if prop.eq_ignore_ascii_case("datemodified") => {
                offer_date(&mut self.visible.modified, value);
            }
            _ => offer_date(&mut self.visible.published, value),
        }
    }

    /// Microdata on any other element, and `<a rel="author">`.
    fn microdata(&mut self, doc: &Document, id: NodeId, tag: Tag) {
        if let Some(prop) = doc.attr(id, AttrName::Itemprop) {
            let value = || {
                doc.attr(id, AttrName::Content)
                    .or_else(|| doc.attr(id, AttrName::Datetime))
                    .map_or_else(|| doc.text_content(id), str::to_owned)
            };
            match prop.trim() {
                "datePublished" => offer_date(&mut self.visible.published, Some(&value())),
                "dateModified" => offer_date(&mut self.visible.modified, Some(&value())),
                "author" | "creator" => offer(&mut self.visible.byline, Some(&value())),
                "headline" => offer(&mut self.visible.title, Some(&value())),
                _ => {}
            }
        }
        if tag == Tag::A
            && doc
                .attr(id, AttrName::Rel)
                .is_some_and(|rel| rel.split_whitespace().any(|r| r == "author"))
        {
            offer(&mut self.visible.byline, Some(&doc.text_content(id)));
        }
    }

    /// `meta` (JSON-LD) with what it left empty filled in, the most trusted
    /// source first.
    fn merge_into(self, mut meta: Metadata) -> Metadata {
        for source in [self.og, self.named, self.visible] {
            meta.title = meta.title.or(source.title);
            meta.site_name = meta.site_name.or(source.site_name);
            meta.canonical_url = meta.canonical_url.or(source.canonical_url);
            meta.lead_image = meta.lead_image.or(source.lead_image);
            meta.description = meta.description.or(source.description);
            meta.byline = meta.byline.or(source.byline);
            meta.published = meta.published.or(source.published);
            meta.modified = meta.modified.or(source.modified);
        }
        meta.lang = self
            .html_lang
            .or(self.meta_lang)
            .or(meta.lang)
            .map(|lang| normalize_lang(&lang));
        meta
    }
}

/// `en_US` -> `en-US`; only the first of a comma list.
fn normalize_lang(lang: &str) -> String {
    let first = lang.split([',', ';']).next().unwrap_or("").trim();
    first.replace('_', "-")
}

/// Parses JSON-LD leniently: raw control characters inside strings (a
/// common CMS bug) become spaces, and a `<!-- -->` or CDATA wrapper is cut.
fn parse_json_ld(raw: &str) -> Option<Value> {
    let trimmed = raw
        .trim()
        .trim_start_matches("<!--")
        .trim_end_matches("-->")
        .trim()
        .trim_start_matches("//<![CDATA[")
        .trim_end_matches("//]]>")
        .trim();
    if let Ok(value) = serde_json::from_str(trimmed) {
        return Some(value);
    }
    let repaired: String = trimmed
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    serde_json::from_str(&repaired).ok()
}

fn is_article_type(value: &Value) -> bool {
    let matches = |t: &str| {
        t.ends_with("Article")
            || t.ends_with("Posting")
            || matches!(t, "Report" | "Review" | "LiveBlogPosting")
    };
    match value.get("@type") {
        Some(Value::String(t)) => matches(t),
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).any(matches),
        _ => false,
    }
}

fn is_instructions_type(value: &Value) -> bool {
    let matches = |t: &str| matches!(t, "HowTo" | "Recipe");
    match value.get("@type") {
        Some(Value::String(t)) => matches(t),
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).any(matches),
        _ => false,
    }
}

/// The texts of a how-to's or recipe's steps, in order: plain strings, a
/// step's `text`, or the steps of a section (`itemListElement`).
fn step_texts(value: &Value, out: &mut Vec<String>, depth: usize) {
    if depth > 4 {
        return;
    }
    match value {
        Value::String(text) => out.push(text.clone()),
        Value::Array(items) => items
            .iter()
            .for_each(|item| step_texts(item, out, depth + 1)),
        Value::Object(map) => match (map.get("text"), map.get("itemListElement")) {
            (Some(Value::String(text)), _) => out.push(text.clone()),
            (_, Some(items)) => step_texts(items, out, depth + 1),
            _ => {}
        },
        _ => {}
    }
}

fn string_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => {
            let names: Vec<String> = items
                .iter()
                .filter_map(|item| string_of(Some(item)))
                .collect();
            (!names.is_empty()).then(|| names.join(", "))
        }
        Value::Object(map) => string_of(
            map.get("name")
                .or_else(|| map.get("url"))
                .or_else(|| map.get("@id")),
        ),
        _ => None,
    }
}

fn url_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => items.iter().find_map(|item| url_of(Some(item))),
        Value::Object(map) => url_of(
            map.get("url")
                .or_else(|| map.get("contentUrl"))
                .or_else(|| map.get("@id")),
        ),
        _ => None,
    }
}

fn read_json_ld(value: &Value, meta: &mut Metadata, depth: usize) {
    if depth > 8 {
        return;
    }
    match value {
        Value::Array(items) => items
            .iter()
            .for_each(|item| read_json_ld(item, meta, depth + 1)),
        Value::Object(map) => {
            if let Some(graph) = map.get("@graph") {
                read_json_ld(graph, meta, depth + 1);
            }
            if is_article_type(value) {
                offer(
                    &mut meta.title,
                    string_of(map.get("headline").or_else(|| map.get("name"))).as_deref(),
                );
                offer(
                    &mut meta.byline,
                    string_of(map.get("author").or_else(|| map.get("creator"))).as_deref(),
                );
                offer_date(
                    &mut meta.published,
                    map.get("datePublished").and_then(Value::as_str),
                );
                offer_date(
                    &mut meta.modified,
                    map.get("dateModified").and_then(Value::as_str),
                );
                offer(
                    &mut meta.lead_image,
                    url_of(map.get("image").or_else(|| map.get("thumbnailUrl"))).as_deref(),
                );
                offer(
                    &mut meta.site_name,
                    string_of(map.get("publisher")).as_deref(),
                );
                offer(
                    &mut meta.lang,
                    map.get("inLanguage").and_then(Value::as_str),
                );
                let description = map.get("description").and_then(Value::as_str);
                note_summary(&mut meta.summaries, description);
                offer(&mut meta.description, description);
                if meta.canonical_url.is_none() {
                    meta.canonical_url =
                        url_of(map.get("mainEntityOfPage").or_else(|| map.get("url")))
                            .filter(|u| u.starts_with("http"));
                }
                if meta.article_body.is_none() {
                    if let Some(Value::String(body)) = map.get("articleBody") {
                        meta.article_body = Some(body.clone());
                    }
                }
            } else if is_instructions_type(value) {
                // A how-to or a recipe has no articleBody: its text is its
                // description and its steps.
                if meta.article_body.is_none() {
                    let mut parts: Vec<String> = Vec::new();
                    if let Some(Value::String(description)) = map.get("description") {
                        parts.push(description.clone());
                    }
                    for key in ["recipeIngredient", "step", "recipeInstructions"] {
                        if let Some(steps) = map.get(key) {
                            step_texts(steps, &mut parts, 0);
                        }
                    }
                    if !parts.is_empty() {
                        meta.article_body = Some(parts.join("\n"));
                    }
                }
            } else if let Some(Value::String(t)) = map.get("@type") {
                // The page or site object: only what the article lacks.
                if t == "WebSite" || t == "Organization" || t == "NewsMediaOrganization" {
                    offer(&mut meta.site_name, map.get("name").and_then(Value::as_str));
                }
            }
            if let Some(main) = map.get("mainEntity") {
                read_json_ld(main, meta, depth + 1);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dom::parse;

    #[test]
    fn json_ld_graph_and_lenient_strings() {
        let page = "<html lang=en_GB><head><script type=\"application/ld+json\">\
            {\"@context\":\"https://schema.org\",\"@graph\":[{\"@type\":\"WebSite\",\"name\":\"Daily Wire\"},\
            {\"@type\":[\"NewsArticle\"],\"headline\":\"Sanctions widened\",\"author\":[{\"@type\":\"Person\",\"name\":\"Ann Lee\"}],\
            \"datePublished\":\"2023-09-14T08:00:00+01:00\",\"dateModified\":\"2023-09-15\",\
            \"image\":{\"@type\":\"ImageObject\",\"url\":\"https://example.org/a.jpg\"},\
            \"articleBody\":\"First line.\nSecond line.\"}]}</script></head></html>";
        let meta = collect(&parse(page));
        assert_eq!(meta.title.as_deref(), Some("Sanctions widened"));
        assert_eq!(meta.byline.as_deref(), Some("Ann Lee"));
        assert_eq!(
            meta.published.unwrap().to_rfc3339(),
            "2023-09-14T07:00:00+00:00"
        );
        assert_eq!(
            meta.modified.unwrap().to_rfc3339(),
            "2023-09-15T00:00:00+00:00"
        );
        assert_eq!(
            meta.lead_image.as_deref(),
            Some("https://example.org/a.jpg")
        );
        assert_eq!(meta.site_name.as_deref(), Some("Daily Wire"));
        assert_eq!(meta.lang.as_deref(), Some("en-GB"));
        assert_eq!(
            meta.article_body.as_deref(),
            Some("First line. Second line.")
        );
    }

    #[test]
    fn meta_tags_and_time() {
        let page = r#"<head><title>Arms deal | The Paper</title>
            <meta property="og:title" content="Arms deal">
            <meta property="og:site_name" content="The Paper">
            <meta name="author" content="Bo Chan">
            <link rel="canonical" href="https://example.org/arms-deal">
            <meta property="og:image" content="https://example.org/lead.png"></head>
            <body><time datetime="2024-02-01T12:00:00Z">1 Feb</time></body>"#;
        let meta = collect(&parse(page));
        assert_eq!(meta.title.as_deref(), Some("Arms deal"));
        assert_eq!(meta.html_title.as_deref(), Some("Arms deal | The Paper"));
        assert_eq!(meta.site_name.as_deref(), Some("The Paper"));
        assert_eq!(meta.byline.as_deref(), Some("Bo Chan"));
        assert_eq!(
            meta.canonical_url.as_deref(),
            Some("https://example.org/arms-deal")
        );
        assert_eq!(
            meta.lead_image.as_deref(),
            Some("https://example.org/lead.png")
        );
        assert_eq!(
            meta.published.unwrap().to_rfc3339(),
            "2024-02-01T12:00:00+00:00"
        );
    }
}
