//! WebSub (W3C) decisions, without I/O: where a feed's hub is, whether a
//! push is signed with our secret, how to answer a hub's verification
//! request, and when a lease wants renewing. [`crate::subscriber`] does the
//! requests and keeps the table of subscriptions around these.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use url::Url;

use crate::parse::ParsedFeed;

/// A feed's hub and the topic URL the hub knows the feed by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovery {
    pub hub: Url,
    pub topic: Url,
}

/// The feed's hub: HTTP `Link` headers first (the spec's preferred place,
/// and the only one for a feed format without links), then the document's
/// own `rel="hub"` links. The topic is the `rel="self"` URL from the same
/// place, or the URL fetched. Only http(s) hubs count.
pub fn discover(
    link_headers: &[String],
    parsed: &ParsedFeed,
    fetched_url: &Url,
) -> Option<Discovery> {
    let header_links: Vec<(Url, Vec<String>)> = link_headers
        .iter()
        .flat_map(|value| parse_link_header(value, fetched_url))
        .collect();
    let with_rel = |rel: &str| {
        header_links
            .iter()
            .find(|(_, rels)| rels.iter().any(|each| each == rel))
            .map(|(url, _)| url.clone())
    };
    let web = |url: &Url| matches!(url.scheme(), "http" | "https");
    if let Some(hub) = with_rel("hub").filter(web) {
        let topic = with_rel("self").unwrap_or_else(|| fetched_url.clone());
        return Some(Discovery { hub, topic });
    }
    let hub = parsed
        .hubs
        .iter()
        .filter_map(|hub| Url::parse(hub).ok())
        .find(web)?;
    let topic = parsed
        .self_link
        .as_deref()
        .and_then(|link| fetched_url.join(link).ok())
        .filter(web)
        .unwrap_or_else(|| fetched_url.clone());
    Some(Discovery { hub, topic })
}

/// The links of one `Link` header value (RFC 8288): each target, resolved
/// against `base`, with its `rel` values lowercased. Targets that do not
/// resolve are left out.
pub fn parse_link_header(value: &str, base: &Url) -> Vec<(Url, Vec<String>)> {
    let mut links = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let target = &rest[open + 1..open + close];
        rest = &rest[open + close + 1..];
        // Parameters run to the next link (a comma outside quotes).
        let mut end = rest.len();
        let mut quoted = false;
        for (index, character) in rest.char_indices() {
            match character {
                '"' => quoted = !quoted,
                ',' if !quoted => {
                    end = index;
                    break;
                }
                _ => {}
            }
        }
        let parameters = &rest[..end];
        rest = &rest[end..];
        let rels: Vec<String> = parameters
            .split(';')
            .filter_map(|parameter| parameter.split_once('='))
            .filter(|(name, _)| name.trim().eq_ignore_ascii_case("rel"))
            .flat_map(|(_, value)| {
                value
                    .trim()
                    .trim_matches('"')
                    .split_whitespace()
                    .map(str::to_ascii_lowercase)
                    .collect::<Vec<_>>()
            })
            .collect();
        if let Ok(url) = base.join(target.trim()) {
            links.push((url, rels));
        }
    }
    links
}

/// Why a push was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushRefusal {
    /// No `X-Hub-Signature` header.
    Unsigned,
    /// A header that is not `method=hex`, or a method the spec does not list.
    MalformedSignature,
    /// A signature that does not match the body under our secret.
    BadSignature,
    /// A body over the feed size cap.
    TooLarge,
    /// No subscription under that callback path.
    UnknownSubscription,
    /// Signed correctly, but not a feed.
    NotAFeed,
    /// Too many pushes in progress.
    Busy,
}

impl PushRefusal {
    /// A short name for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            PushRefusal::Unsigned => "unsigned",
            PushRefusal::MalformedSignature => "malformed_signature",
            PushRefusal::BadSignature => "bad_signature",
            PushRefusal::TooLarge => "too_large",
            PushRefusal::UnknownSubscription => "unknown_subscription",
            PushRefusal::NotAFeed => "not_a_feed",
            PushRefusal::Busy => "busy",
        }
    }
}

/// Checks an `X-Hub-Signature` header (`sha1=`, `sha256=`, `sha384=` or
/// `sha512=` and the hex HMAC of the body under `secret`). The comparison
/// takes the same time wherever the first wrong byte is.
pub fn check_signature(
    header: Option<&str>,
    secret: &[u8],
    body: &[u8],
) -> Result<(), PushRefusal> {
    let header = header.ok_or(PushRefusal::Unsigned)?;
    let (method, hex) = header
        .trim()
        .split_once('=')
        .ok_or(PushRefusal::MalformedSignature)?;
    let claimed = decode_hex(hex.trim()).ok_or(PushRefusal::MalformedSignature)?;
    fn verify<M: Mac + hmac::digest::KeyInit>(secret: &[u8], body: &[u8], claimed: &[u8]) -> bool {
        let mut mac = <M as Mac>::new_from_slice(secret).expect("hmac takes keys of any length");
        mac.update(body);
        // `verify_slice` compares in constant time.
        mac.verify_slice(claimed).is_ok()
    }
    let matches = match method.trim().to_ascii_lowercase().as_str() {
        "sha1" => verify::<Hmac<sha1::Sha1>>(secret, body, &claimed),
        "sha256" => verify::<Hmac<sha2::Sha256>>(secret, body, &claimed),
        "sha384" => verify::<Hmac<sha2::Sha384>>(secret, body, &claimed),
        "sha512" => verify::<Hmac<sha2::Sha512>>(secret, body, &claimed),
        _ => return Err(PushRefusal::MalformedSignature),
    };
    if matches {
        Ok(())
    } else {
        Err(PushRefusal::BadSignature)
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).ok())
        .collect()
}

/// Lowercase hex.
pub fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `hub.mode` of a request we sent, and of the hub's verification of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Subscribe,
    Unsubscribe,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Subscribe => "subscribe",
            Mode::Unsubscribe => "unsubscribe",
        }
    }
}

/// A hub's GET to the callback, as its query says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HubRequest {
    /// Confirm that we asked for `mode` on `topic`; answered with `challenge`.
    Verify {
        mode: Mode,
        topic: String,
        challenge: String,
        lease_seconds: Option<u64>,
    },
    /// The hub refused the subscription.
    Denied {
        topic: String,
        reason: Option<String>,
    },
}

/// Reads a callback's query string; `None` when it is not a hub request.
pub fn read_hub_request(query: &str) -> Option<HubRequest> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let topic = get("hub.topic")?;
    match get("hub.mode")?.as_str() {
        "denied" => Some(HubRequest::Denied {
            topic,
            reason: get("hub.reason"),
        }),
        mode => Some(HubRequest::Verify {
            mode: match mode {
                "subscribe" => Mode::Subscribe,
                "unsubscribe" => Mode::Unsubscribe,
                _ => return None,
            },
            topic,
            challenge: get("hub.challenge").filter(|challenge| !challenge.is_empty())?,
            lease_seconds: get("hub.lease_seconds").and_then(|lease| lease.trim().parse().ok()),
        }),
    }
}

/// What we are waiting for a hub to verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Awaited {
    pub mode: Mode,
    pub topic: String,
}

/// The answer to a verification: the challenge when it confirms exactly
/// what we asked for (mode and topic), nothing otherwise.
pub fn answer_verification<'a>(
    request: &'a HubRequest,
    awaited: Option<&Awaited>,
) -> Option<&'a str> {
    let HubRequest::Verify {
        mode,
        topic,
        challenge,
        ..
    } = request
    else {
        return None;
    };
    let awaited = awaited?;
    (awaited.mode == *mode && awaited.topic == *topic).then_some(challenge.as_str())
}

/// When to renew a lease granted for `lease`: `renew_before` ahead of its
/// end, or halfway through a lease shorter than twice that margin.
pub fn renew_after(lease: Duration, renew_before: Duration) -> Duration {
    lease.saturating_sub(renew_before.min(lease / 2))
}

/// A subscription as stored in the state file: enough to check pushes
/// after a restart (the secret) and to know whether its lease still runs.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SubscriptionRecord {
    /// The opaque last segment of the callback URL.
    pub id: String,
    /// The HMAC key given to the hub, hex.
    pub secret: String,
    pub hub: String,
    pub topic: String,
    /// The end of the lease the hub last granted; `None` before any.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// When the lease should be renewed.
    #[serde(default)]
    pub renew_at: Option<DateTime<Utc>>,
}

impl SubscriptionRecord {
    /// A new subscription with a fresh random id and secret.
    pub fn new(discovery: &Discovery) -> Result<SubscriptionRecord, getrandom::Error> {
        let mut id = [0u8; 16];
        let mut secret = [0u8; 32];
        getrandom::fill(&mut id)?;
        getrandom::fill(&mut secret)?;
        Ok(SubscriptionRecord {
            id: encode_hex(&id),
            secret: encode_hex(&secret),
            hub: discovery.hub.to_string(),
            topic: discovery.topic.to_string(),
            expires_at: None,
            renew_at: None,
        })
    }

    /// Whether pushes cover the feed at `now` (a granted lease runs).
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|expires| expires > now)
    }

    /// Records a lease of `lease` granted at `now`.
    pub fn grant(&mut self, now: DateTime<Utc>, lease: Duration, renew_before: Duration) {
        let delta = |duration: Duration| {
            chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
        };
        self.expires_at = now.checked_add_signed(delta(lease));
        self.renew_at = now.checked_add_signed(delta(renew_after(lease, renew_before)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn link_headers_give_targets_and_rels_resolved_against_the_feed() {
        let links = parse_link_header(
            r#"</hub>; rel="hub", <https://example.org/feed.xml>; rel="self alternate"; title="a, b""#,
            &url("https://example.org/x/feed"),
        );
        assert_eq!(
            links,
            vec![
                (url("https://example.org/hub"), vec!["hub".to_string()]),
                (
                    url("https://example.org/feed.xml"),
                    vec!["self".to_string(), "alternate".to_string()]
                ),
            ]
        );
    }

    #[test]
    fn headers_win_over_the_document_and_the_topic_defaults_to_the_feed_url() {
        let fetched = url("https://example.org/feed");
        let parsed = ParsedFeed {
            hubs: vec!["https://document-hub.example/".into()],
            self_link: Some("https://example.org/self".into()),
            ..ParsedFeed::default()
        };
        let from_header = discover(
            &["<https://header-hub.example/>; rel=hub".into()],
            &parsed,
            &fetched,
        );
        assert_eq!(
            from_header,
            Some(Discovery {
                hub: url("https://header-hub.example/"),
                topic: fetched.clone()
            })
        );
        let from_document = discover(&[], &parsed, &fetched);
        assert_eq!(
            from_document,
            Some(Discovery {
                hub: url("https://document-hub.example/"),
                topic: url("https://example.org/self")
            })
        );
        let not_web = ParsedFeed {
            hubs: vec!["mailto:hub@example.org".into()],
            ..ParsedFeed::default()
        };
        assert_eq!(discover(&[], &not_web, &fetched), None);
    }

    /// RFC 2202 and RFC 4231 test case 2 (key "Jefe").
    #[test]
    fn signatures_check_every_method_the_spec_allows() {
        let body = b"what do ya want for nothing?";
        let vectors = [
            ("sha1", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
            ("sha256", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            ("sha384", "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"),
            ("sha512", "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"),
        ];
        for (method, hex) in vectors {
            let header = format!("{method}={hex}");
            assert_eq!(
                check_signature(Some(&header), b"Jefe", body),
                Ok(()),
                "{method}"
            );
            assert_eq!(
                check_signature(Some(&header), b"Jeff", body),
                Err(PushRefusal::BadSignature),
                "{method}"
            );
        }
    }

    #[test]
    fn signatures_missing_malformed_or_of_unknown_methods_are_refused() {
        let body = b"x";
        assert_eq!(
            check_signature(None, b"k", body),
            Err(PushRefusal::Unsigned)
        );
        for header in ["sha256", "sha256=zz", "sha256=abc", "md5=00", ""] {
            assert_eq!(
                check_signature(Some(header), b"k", body),
                Err(PushRefusal::MalformedSignature),
                "{header:?}"
            );
        }
    }

    #[test]
    fn verification_is_answered_only_for_the_mode_and_topic_awaited() {
        let request = read_hub_request(
            "hub.mode=subscribe&hub.topic=https%3A%2F%2Fexample.org%2Ffeed&hub.challenge=c%201&hub.lease_seconds=600",
        )
        .unwrap();
        assert_eq!(
            request,
            HubRequest::Verify {
                mode: Mode::Subscribe,
                topic: "https://example.org/feed".into(),
                challenge: "c 1".into(),
                lease_seconds: Some(600)
            }
        );
        let awaited = |mode, topic: &str| Awaited {
            mode,
            topic: topic.into(),
        };
        assert_eq!(
            answer_verification(
                &request,
                Some(&awaited(Mode::Subscribe, "https://example.org/feed"))
            ),
            Some("c 1")
        );
        assert_eq!(
            answer_verification(
                &request,
                Some(&awaited(Mode::Unsubscribe, "https://example.org/feed"))
            ),
            None
        );
        assert_eq!(
            answer_verification(
                &request,
                Some(&awaited(Mode::Subscribe, "https://example.org/other"))
            ),
            None
        );
        assert_eq!(answer_verification(&request, None), None);
        assert_eq!(read_hub_request("hub.mode=subscribe&hub.topic=t"), None);
        assert_eq!(
            read_hub_request("hub.mode=denied&hub.topic=t&hub.reason=no"),
            Some(HubRequest::Denied {
                topic: "t".into(),
                reason: Some("no".into())
            })
        );
    }

    #[test]
    fn leases_renew_ahead_of_their_end_or_halfway_when_short() {
        let hour = Duration::from_secs(3600);
        assert_eq!(renew_after(10 * hour, hour), 9 * hour);
        assert_eq!(renew_after(hour, hour), hour / 2);
        assert_eq!(renew_after(Duration::ZERO, hour), Duration::ZERO);
    }
}
