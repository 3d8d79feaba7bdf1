//! The messages that flow between wirewatch's stages, and their ids.
//!
//! ```text
//! fetcher ──FeedItem──► cleaner ──Article──► classifier ──ClassifiedArticle──► sinks
//! ```
//!
//! - [`FeedItem`]: one new entry of a feed, as the fetcher found it.
//! - [`Article`]: the page behind a feed item, cleaned to title and text.
//! - [`Classification`]: per-label scores, evidence spans and entities.
//! - [`ClassifiedArticle`]: an article with its classification; what the
//!   `classified` and `flagged.<label>` topics carry.
//! - [`printable`]: feed and page text with control characters escaped, for
//!   anything shown to a person (`--explain`, `status`).
//!
//! Every message carries `schema_version` ([`SCHEMA_VERSION`]). Readers accept
//! any version up to their own and ignore fields they do not know, so a newer
//! writer can add fields without breaking older readers.
//!
//! The key of every message is an [`ArticleId`]: a stable hash of the
//! canonical URL (see [`canonical_url`]), so the same story found in two feeds
//! gets one id and lands on one partition.
//!
//! This crate does no I/O.

mod id;
mod message;
mod printable;

pub use id::{canonical_url, ArticleId, TRACKING_PARAMETERS};
pub use message::{
    Article, ArticleStatus, Classification, ClassifiedArticle, Entities, Evidence, EvidenceField,
    Extraction, FeedItem, FeedRef, LabelScore, Party, PartyRole, SanctionsListMatch, Transfer,
};
pub use printable::{printable, printable_lines};

/// The version of the JSON shapes in this crate. Bump it when a field changes
/// meaning or is removed; adding an optional field does not need a bump.
pub const SCHEMA_VERSION: u32 = 1;

/// Kafka header names and values shared by every stage.
pub mod headers {
    /// Header carrying [`super::SCHEMA_VERSION`] as decimal text.
    pub const SCHEMA_VERSION: &str = "schema-version";
    /// Header carrying the payload's media type.
    pub const CONTENT_TYPE: &str = "content-type";
    /// Header carrying the URL of the feed the story came from.
    pub const SOURCE_FEED: &str = "source-feed";
    /// The media type of every payload wirewatch writes.
    pub const JSON: &str = "application/json";
}
