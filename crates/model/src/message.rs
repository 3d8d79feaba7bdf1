//! The JSON messages of the pipeline. Field names are the wire format: rename
//! nothing without bumping [`crate::SCHEMA_VERSION`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ArticleId, SCHEMA_VERSION};

fn schema_version() -> u32 {
    SCHEMA_VERSION
}

/// The feed an item came from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FeedRef {
    /// The URL the feed is polled at (as configured).
    pub url: String,
    /// The feed's title, from the config or else from the document.
    #[serde(default)]
    pub title: Option<String>,
    /// Tags from the feed's config, passed through to every message.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// One new entry of a feed. Topic `items`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeedItem {
    #[serde(default = "schema_version")]
    pub schema_version: u32,
    pub id: ArticleId,
    pub feed: FeedRef,
    /// The entry's own id (`<guid>`, Atom `<id>`, JSON Feed `id`), if any.
    #[serde(default)]
    pub guid: Option<String>,
    /// The entry's link, absolute.
    #[serde(default)]
    pub link: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    /// The entry's summary or content as plain text.
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub published: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated: Option<DateTime<Utc>>,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub lang: Option<String>,
    pub discovered_at: DateTime<Utc>,
}

/// How the article's text was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArticleStatus {
    /// The page was fetched and cleaned.
    Fetched,
    /// The page could not be fetched or held no article text; the feed item's
    /// own title and summary were used instead.
    FeedOnly,
}

/// What the cleaner did to get the text.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Extraction {
    /// `json_ld`, `scored`, `feed_summary`, ...
    pub method: String,
    /// Anything a human debugging the output should know (lowercase phrases).
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// A feed item with the text of its page. Topic `articles`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Article {
    #[serde(default = "schema_version")]
    pub schema_version: u32,
    pub id: ArticleId,
    pub item: FeedItem,
    /// The final URL after redirects, or the page's canonical URL.
    pub url: String,
    pub fetched_at: DateTime<Utc>,
    pub status: ArticleStatus,
    /// The HTTP status of the page fetch, when one was made.
    #[serde(default)]
    pub http_status: Option<u16>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub byline: Option<String>,
    #[serde(default)]
    pub published: Option<DateTime<Utc>>,
    #[serde(default)]
    pub lang: Option<String>,
    /// Paragraphs separated by a blank line.
    pub text: String,
    /// Runs of non-whitespace in `text` ([`Article::count_words`]).
    pub word_count: usize,
    pub extraction: Extraction,
}

/// One label's verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabelScore {
    pub label: String,
    /// In [0, 1].
    pub score: f32,
    /// `score >= threshold` for this label.
    pub flagged: bool,
}

/// Which text an evidence span points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceField {
    Title,
    Text,
}

/// A span of the article that decided a label.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub label: String,
    /// The span's text, as it appears in the article.
    pub text: String,
    /// Character (not byte) offsets into [`Article::text`] or the title,
    /// as `field` says; `end` is exclusive.
    pub start: usize,
    pub end: usize,
    #[serde(default = "default_field")]
    pub field: EvidenceField,
    /// The rule that matched, for `--explain` and for tuning.
    #[serde(default)]
    pub rule: Option<String>,
    /// What the rule added to the label's score.
    #[serde(default)]
    pub weight: f32,
}

fn default_field() -> EvidenceField {
    EvidenceField::Text
}

/// The role a named party plays in the story.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyRole {
    Designated,
    Buyer,
    Seller,
    Broker,
}

/// A person or organisation the text names in a role.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Party {
    pub name: String,
    pub role: PartyRole,
}

/// "Supplier sends arms to recipient", where the text says so.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Transfer {
    pub supplier: String,
    pub recipient: String,
    #[serde(default)]
    pub weapons: Vec<String>,
}

/// A name from a loaded sanctions list (OFAC SDN, ...) found in the text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SanctionsListMatch {
    pub name: String,
    /// The list's program codes, e.g. `RUSSIA-EO14024`.
    pub programs: Vec<String>,
    /// Which list: `ofac_sdn`, ...
    pub list: String,
    /// The list's own id of the entry.
    #[serde(default)]
    pub list_id: Option<String>,
}

/// Named things in the article. Names are canonical (`North Korea` for
/// DPRK, Pyongyang, North Korean) and each appears once.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Entities {
    #[serde(default)]
    pub countries: Vec<String>,
    /// Sanctioning bodies and other organisations (OFAC, EU Council, ...).
    #[serde(default)]
    pub organisations: Vec<String>,
    #[serde(default)]
    pub people: Vec<String>,
    #[serde(default)]
    pub weapon_types: Vec<String>,
    /// Parties named as designated, buyers, sellers or brokers.
    #[serde(default)]
    pub parties: Vec<Party>,
    #[serde(default)]
    pub transfers: Vec<Transfer>,
    #[serde(default)]
    pub sanctions_list_matches: Vec<SanctionsListMatch>,
}

/// The classifier's verdict on one article.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    pub article_id: ArticleId,
    pub labels: Vec<LabelScore>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    #[serde(default)]
    pub entities: Entities,
    pub classifier_version: String,
    pub classified_at: DateTime<Utc>,
}

impl Article {
    /// The words of `text` as [`Article::word_count`] counts them: what
    /// `text.split_whitespace().count()` gives (Unicode `White_Space`
    /// separates), with ASCII taken a byte at a time; splitting decoded
    /// every character of a page through a predicate.
    pub fn count_words(text: &str) -> usize {
        let bytes = text.as_bytes();
        let mut words = 0;
        let mut in_word = false;
        let mut at = 0;
        while at < bytes.len() {
            let byte = bytes[at];
            let (space, width) = if byte.is_ascii() {
                // char::is_whitespace on ASCII: tab to carriage return, space.
                (matches!(byte, b'\t'..=b'\r' | b' '), 1)
            } else {
                let next = text[at..].chars().next().expect("at a char boundary");
                (next.is_whitespace(), next.len_utf8())
            };
            if space {
                in_word = false;
            } else if !in_word {
                in_word = true;
                words += 1;
            }
            at += width;
        }
        words
    }
}

impl Classification {
    /// The labels whose score reached their threshold, in taxonomy order.
    pub fn flagged_labels(&self) -> impl Iterator<Item = &str> {
        self.labels
            .iter()
            .filter(|label| label.flagged)
            .map(|label| label.label.as_str())
    }

    pub fn is_flagged(&self) -> bool {
        self.labels.iter().any(|label| label.flagged)
    }
}

/// An article and its classification. Topics `classified` and `flagged.*`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassifiedArticle {
    #[serde(default = "schema_version")]
    pub schema_version: u32,
    pub article: Article,
    pub classification: Classification,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_counted_as_split_whitespace_counts_them() {
        let texts = [
            "",
            " ",
            "one",
            "  two  words ",
            "tab\tline\nfeed\x0bvt\x0cff\rcr",
            "unit\x1fseparator is no space",
            "no\u{a0}break\u{2003}em\u{3000}ideographic\u{85}next line",
            "zero\u{200b}width is no space",
            "Привет, мир! 你好 世界 ",
            "\u{2028}\u{2029}a\u{202f}b\u{205f}c\u{1680}d",
        ];
        for text in texts {
            assert_eq!(
                Article::count_words(text),
                text.split_whitespace().count(),
                "{text:?}"
            );
        }
        let every_char: String = (0..0x3100u32).filter_map(char::from_u32).collect();
        assert_eq!(
            Article::count_words(&every_char),
            every_char.split_whitespace().count()
        );
    }

    fn sample_item() -> FeedItem {
        FeedItem {
            schema_version: SCHEMA_VERSION,
            id: ArticleId::from_key("k"),
            feed: FeedRef {
                url: "https://example.org/feed".into(),
                title: None,
                tags: vec!["gov".into()],
            },
            guid: Some("g1".into()),
            link: Some("https://example.org/a".into()),
            title: Some("t".into()),
            summary: None,
            published: None,
            updated: None,
            authors: vec![],
            categories: vec![],
            lang: None,
            discovered_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        }
    }

    #[test]
    fn feed_item_round_trips_through_json() {
        let item = sample_item();
        let json = serde_json::to_string(&item).unwrap();
        assert!(json.contains("\"schema_version\":1"));
        let back: FeedItem = serde_json::from_str(&json).unwrap();
        assert_eq!(back, item);
    }

    #[test]
    fn readers_ignore_unknown_fields_and_fill_defaults() {
        let json = r#"{"id":"abc","feed":{"url":"u"},"discovered_at":"2024-01-01T00:00:00Z",
                       "a_field_from_the_future":42}"#;
        let item: FeedItem = serde_json::from_str(json).unwrap();
        assert_eq!(item.schema_version, SCHEMA_VERSION);
        assert!(item.authors.is_empty());
    }
}
