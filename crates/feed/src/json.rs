//! JSON Feed 1.0/1.1, read leniently.
//!
//! Read through `serde_json::Value` rather than typed structs so that a
//! string where an array belongs, a numeric id, or a `version` written as
//! any URL does not reject the whole feed.

use serde_json::Value;
use url::Url;

use super::{date, resolve, text, FeedParseError, ParsedEntry, ParsedFeed};

pub(crate) fn parse(text_body: &str, base_url: Option<&Url>) -> Result<ParsedFeed, FeedParseError> {
    let value: Value = serde_json::from_str(text_body)
        .map_err(|error| FeedParseError::NotAFeed(format!("invalid json: {error}")))?;
    let object = value
        .as_object()
        .ok_or_else(|| FeedParseError::NotAFeed("json document is not an object".to_string()))?;
    let is_json_feed = object
        .get("version")
        .and_then(Value::as_str)
        .is_some_and(|version| version.contains("jsonfeed"))
        || object.get("items").is_some_and(Value::is_array);
    if !is_json_feed {
        return Err(FeedParseError::NotAFeed(
            "json document is not a json feed".to_string(),
        ));
    }
    // Relative URLs in a JSON Feed are relative to the feed itself.
    let feed_url = string(object.get("feed_url")).and_then(|url| resolve::join(base_url, &url));
    let base = base_url.cloned().or(feed_url);
    let items = match object.get("items") {
        Some(Value::Array(items)) => items.as_slice(),
        _ => &[],
    };
    let entries = items
        .iter()
        .filter_map(Value::as_object)
        .map(|item| {
            let summary = ["content_html", "content_text", "summary"]
                .iter()
                .find_map(|key| string(item.get(*key)));
            ParsedEntry {
                id: item.get("id").and_then(|id| match id {
                    Value::String(text) => Some(text.trim().to_string()),
                    Value::Number(number) => Some(number.to_string()),
                    _ => None,
                }),
                link: string(item.get("url")).and_then(|url| resolve::link(base.as_ref(), &url)),
                title: string(item.get("title")).map(|title| text::html_to_text(&title)),
                summary: summary.map(|summary| text::html_to_text(&summary)),
                published: string(item.get("date_published"))
                    .and_then(|value| date::parse_date(&value)),
                updated: string(item.get("date_modified"))
                    .and_then(|value| date::parse_date(&value)),
                authors: people(item),
                categories: match item.get("tags") {
                    Some(Value::Array(tags)) => {
                        tags.iter().filter_map(|tag| string(Some(tag))).collect()
                    }
                    Some(Value::String(tag)) => vec![tag.clone()],
                    _ => Vec::new(),
                },
                lang: string(item.get("language")),
                truncated: Vec::new(),
            }
        })
        .collect();
    Ok(ParsedFeed {
        title: string(object.get("title")).map(|title| text::html_to_text(&title)),
        link: string(object.get("home_page_url"))
            .and_then(|url| resolve::link(base.as_ref(), &url)),
        lang: string(object.get("language")),
        ttl_minutes: None,
        update_interval_secs: None,
        // JSON Feed 1.1: `hubs: [{"type": "WebSub", "url": ...}]`.
        hubs: match object.get("hubs") {
            Some(Value::Array(hubs)) => hubs
                .iter()
                .filter_map(Value::as_object)
                .filter(|hub| {
                    string(hub.get("type")).is_none_or(|kind| kind.eq_ignore_ascii_case("websub"))
                })
                .filter_map(|hub| string(hub.get("url")))
                .filter_map(|url| resolve::link(base.as_ref(), &url))
                .collect(),
            _ => Vec::new(),
        },
        self_link: string(object.get("feed_url")),
        entries,
    })
}

fn string(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// `authors` (1.1) or `author` (1.0), object or array or bare string.
fn people(item: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut names = Vec::new();
    for key in ["authors", "author"] {
        let values: Vec<&Value> = match item.get(key) {
            Some(Value::Array(list)) => list.iter().collect(),
            Some(other) => vec![other],
            None => continue,
        };
        for value in values {
            let name = match value {
                Value::Object(person) => string(person.get("name")),
                Value::String(name) => Some(name.clone()),
                _ => None,
            };
            names.extend(name);
        }
    }
    names
}
