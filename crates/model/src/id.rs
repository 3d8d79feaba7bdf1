//! Canonical URLs and the article ids derived from them.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

/// Query parameters that only track where a reader came from. They are removed
/// before an URL is hashed, so `?utm_source=rss` and `?utm_source=twitter`
/// name the same story. Matched case-insensitively; `utm_` is a prefix.
pub const TRACKING_PARAMETERS: &[&str] = &[
    "utm_",
    "fbclid",
    "gclid",
    "dclid",
    "gclsrc",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "yclid",
    "igshid",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "cmpid",
    "ocid",
    "ito",
    "at_medium",
    "at_campaign",
    "rss",
    "ref_src",
    "xtor",
    "CMP",
    "taid",
    "partner",
    "feature",
    "src",
];

fn is_tracking_parameter(name: &str) -> bool {
    let lowered = name.to_ascii_lowercase();
    TRACKING_PARAMETERS.iter().any(|tracking| {
        let tracking = tracking.to_ascii_lowercase();
        if tracking.ends_with('_') {
            lowered.starts_with(&tracking)
        } else {
            lowered == tracking
        }
    })
}

/// The form of `url` used for identity: lower-case scheme and host (the `url`
/// crate already does this), no fragment, no default port, no tracking
/// parameters, remaining parameters in their original order, no trailing `?`,
/// `http` and `https` treated alike, and a leading `www.` dropped.
pub fn canonical_url(url: &Url) -> Url {
    let mut canonical = url.clone();
    canonical.set_fragment(None);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| !is_tracking_parameter(name))
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    if kept.is_empty() {
        canonical.set_query(None);
    } else {
        canonical.query_pairs_mut().clear().extend_pairs(kept);
    }
    if canonical.scheme() == "http" {
        // Ignore the error: http -> https is always an allowed change.
        let _ = canonical.set_scheme("https");
    }
    if let Some(host) = canonical.host_str() {
        if let Some(stripped) = host.strip_prefix("www.") {
            let stripped = stripped.to_owned();
            let _ = canonical.set_host(Some(&stripped));
        }
    }
    if canonical.port() == Some(443) || canonical.port() == Some(80) {
        let _ = canonical.set_port(None);
    }
    canonical
}

/// The id of an article: the first 16 bytes of SHA-256 over the canonical URL,
/// in lower-case hex (32 characters). Stable across versions and processes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ArticleId(String);

impl ArticleId {
    /// The id of the story at `url` (canonicalized first).
    pub fn from_url(url: &Url) -> ArticleId {
        ArticleId::from_key(canonical_url(url).as_str())
    }

    /// The id of a story that has no usable link, from any stable key (the
    /// feed URL and the item's guid, say).
    pub fn from_key(key: &str) -> ArticleId {
        let digest = Sha256::digest(key.as_bytes());
        let mut hex = String::with_capacity(32);
        for byte in &digest[..16] {
            hex.push_str(&format!("{byte:02x}"));
        }
        ArticleId(hex)
    }

    /// Wraps an id read from a message key; no validation beyond non-empty.
    pub fn from_raw(raw: impl Into<String>) -> Option<ArticleId> {
        let raw = raw.into();
        (!raw.is_empty()).then_some(ArticleId(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ArticleId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn tracking_parameters_do_not_change_the_id() {
        let plain = ArticleId::from_url(&url("https://example.org/news/1?page=2"));
        let tracked = ArticleId::from_url(&url(
            "http://www.example.org/news/1?utm_source=rss&page=2&fbclid=abc#comments",
        ));
        assert_eq!(plain, tracked);
    }

    #[test]
    fn different_paths_give_different_ids() {
        let first = ArticleId::from_url(&url("https://example.org/news/1"));
        let second = ArticleId::from_url(&url("https://example.org/news/2"));
        assert_ne!(first, second);
        assert_eq!(first.as_str().len(), 32);
    }

    #[test]
    fn meaningful_parameters_are_kept_in_order() {
        let canonical = canonical_url(&url("https://example.org/a?id=7&utm_medium=x&b=1"));
        assert_eq!(canonical.as_str(), "https://example.org/a?id=7&b=1");
    }

    #[test]
    fn id_is_stable_across_versions() {
        // Pinned: changing the hash would re-emit every story users already have.
        assert_eq!(
            ArticleId::from_key("https://example.org/").as_str(),
            "8198d1bac40a1033653a78e48800cefc"
        );
    }
}
