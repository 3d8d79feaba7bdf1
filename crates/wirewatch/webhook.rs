//! `[[output.webhook]]`: flagged stories POSTed to a receiver the operator
//! configured, signed, retried with backoff, dead-lettered after the last
//! retry.
//!
//! Each webhook is its own stage on the classified topic (`webhook.<name>`,
//! consumer group `<prefix>.webhook.<name>`), beside the local output. The
//! body is the story's classified JSON, byte for byte what the JSON-lines
//! output writes; `X-Wirewatch-Article-Id` carries the article id (the key
//! a receiver deduplicates on) and, with a secret, the signature header
//! carries `sha256=<lowercase hex HMAC-SHA256 of the body>`.
//!
//! A 2xx answer is a delivery. A transport error, a timeout, 408, 429 or
//! 5xx is retried after `backoff`, doubled each time up to `max_backoff`,
//! `retries` times. Any other answer (3xx, 4xx), and a receiver whose name
//! resolves only to refused addresses, is a refusal: no retry. A story
//! refused or out of retries is a dead letter (the dead-letter topic;
//! `state_dir/dead-letters.jsonl` on the memory bus) with the reason, and
//! logged with the URL and the article id. Delivered ids are remembered
//! like the local output's written ids
//! (`state_dir/webhook-<name>-delivered.ids`), so a redelivered or replayed
//! story is not posted twice.
//!
//! A receiver that is down must not hold back the other outputs:
//! - Kafka: the stage's own consumer group is the backlog; the handler
//!   returns once the story is delivered or dead-lettered, `concurrency`
//!   stories at a time, and offsets are committed only then.
//! - Memory bus: the handler hands the story to a background delivery and
//!   returns at once, so the stage's channel never fills and never slows
//!   the classify stage. Up to `max_pending` stories wait for their
//!   delivery; past that a story is dead-lettered at once. The in-flight
//!   journal is the durable record: a story is done there only once its
//!   webhook delivered or dead-lettered it, so a crash, or a shutdown that
//!   abandons the deliveries still waiting (see [`WebhookSink::finish`]),
//!   posts it at the next start.
//!
//! Receivers go through the fetcher's address guard, as article links do:
//! the URL is the operator's, but where its name resolves is not, and a
//! story POSTed to a metadata service or an internal admin port is what the
//! guard exists to prevent. A receiver on a private address is allowed by
//! listing its IPs in the webhook's `allow_private_addresses`. No proxy is
//! used (the guard would check the proxy's address) and redirects are not
//! followed.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::Semaphore;
use wirewatch_bus::{dead_letter, Bus, Handler, HandlerError, Message, Origin, Output, Shutdown};
use wirewatch_fetcher::guard::{GuardedResolver, NonPublicAddress, SystemLookup};
use wirewatch_fetcher::websub::encode_hex;
use wirewatch_model::{Classification, ClassifiedArticle};

use crate::config::WebhookConfig;
use crate::journal::{Journal, WrittenIds};
use crate::metrics::Metrics;
use crate::pipeline::decode;

/// The header that names the story's article id.
pub const ARTICLE_ID_HEADER: &str = "X-Wirewatch-Article-Id";

/// The signature header's value for `body`: `sha256=<lowercase hex
/// HMAC-SHA256 of body under secret>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("hmac takes keys of any length");
    mac.update(body);
    format!("sha256={}", encode_hex(&mac.finalize().into_bytes()))
}

/// What one attempt's answer means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Delivered,
    /// Worth another attempt (the receiver is down or busy).
    Retry,
    /// The receiver will not take it; retrying would not help.
    Refused,
}

pub fn answer(status: u16) -> Answer {
    match status {
        200..=299 => Answer::Delivered,
        408 | 429 | 500..=599 => Answer::Retry,
        _ => Answer::Refused,
    }
}

/// The wait before retry number `retry` (1 for the first): `backoff`
/// doubled `retry - 1` times, at most `max_backoff`.
pub fn retry_delay(retry: u32, backoff: Duration, max_backoff: Duration) -> Duration {
    let factor = 1u32
        .checked_shl(retry.saturating_sub(1))
        .unwrap_or(u32::MAX);
    backoff.saturating_mul(factor).min(max_backoff)
}

/// Whether a webhook sending `labels` (`None`: every flagged label) sends a
/// story classified so.
pub fn wanted(labels: Option<&BTreeSet<String>>, classification: &Classification) -> bool {
    let mut flagged = classification.flagged_labels();
    match labels {
        None => flagged.next().is_some(),
        Some(labels) => flagged.any(|label| labels.contains(label)),
    }
}

/// How one story's delivery ended.
#[derive(Debug, PartialEq, Eq)]
enum Delivery {
    Delivered,
    /// Refused, or out of retries: why.
    Failed(String),
    /// Shutdown came first: nothing was decided.
    Abandoned,
}

/// One attempt's result short of an HTTP answer.
enum AttemptError {
    /// A transport error or timeout: retried.
    Transport(String),
    /// The guard refused every address of the receiver: not retried.
    NotPublic(String),
}

/// One webhook's receiver: its client, settings and record of delivered
/// ids, shared by the handler and its background deliveries.
struct Receiver {
    config: WebhookConfig,
    stage: String,
    client: reqwest::Client,
    delivered: WrittenIds,
    /// Ids being delivered right now: a second copy of one is not posted.
    in_flight: Mutex<HashSet<String>>,
    /// At most `concurrency` requests at once.
    requests: Semaphore,
    metrics: Arc<Metrics>,
}

impl Receiver {
    /// One POST: the status, or why there was none.
    async fn attempt(&self, id: &str, body: &[u8]) -> Result<u16, AttemptError> {
        let mut request = self
            .client
            .post(self.config.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(ARTICLE_ID_HEADER, id)
            .body(body.to_vec());
        if let Some(secret) = &self.config.secret {
            request = request.header(
                self.config.signature_header.as_str(),
                signature(secret.expose(), body),
            );
        }
        match request.send().await {
            Ok(response) => Ok(response.status().as_u16()),
            Err(error) => {
                let mut text = error.to_string();
                let mut source = std::error::Error::source(&error);
                let mut not_public = false;
                while let Some(cause) = source {
                    not_public |= cause.downcast_ref::<NonPublicAddress>().is_some();
                    text = format!("{text}: {cause}");
                    source = cause.source();
                }
                Err(if not_public {
                    AttemptError::NotPublic(text)
                } else {
                    AttemptError::Transport(text)
                })
            }
        }
    }

    /// Attempts until delivered, refused or out of retries. When `abandon`
    /// fires, a request in progress gets its answer (bounded by the
    /// timeout) and no further attempt is made.
    async fn deliver(&self, id: &str, body: &[u8], abandon: Option<&Shutdown>) -> Delivery {
        let abandoned = || abandon.is_some_and(Shutdown::is_triggered);
        let attempts = self.config.retries + 1;
        let mut attempt = 1;
        loop {
            let failure = {
                let Ok(_request) = self.requests.acquire().await else {
                    return Delivery::Abandoned;
                };
                if abandoned() {
                    return Delivery::Abandoned;
                }
                match self.attempt(id, body).await {
                    Ok(status) => match answer(status) {
                        Answer::Delivered => return Delivery::Delivered,
                        Answer::Refused => {
                            Metrics::count(&self.metrics.webhook_failed_attempts);
                            return Delivery::Failed(format!(
                                "refused with status {status}; not retried"
                            ));
                        }
                        Answer::Retry => format!("status {status}"),
                    },
                    Err(AttemptError::NotPublic(error)) => {
                        Metrics::count(&self.metrics.webhook_failed_attempts);
                        return Delivery::Failed(format!(
                            "{error}; not retried (allow_private_addresses lists the receiver's addresses)"
                        ));
                    }
                    Err(AttemptError::Transport(error)) => error,
                }
            };
            Metrics::count(&self.metrics.webhook_failed_attempts);
            if attempt >= attempts {
                return Delivery::Failed(format!("{failure} after {attempts} attempts"));
            }
            let wait = retry_delay(attempt, self.config.backoff, self.config.max_backoff);
            if attempt == 1 {
                tracing::warn!(webhook = %self.config.name, url = %self.config.url, article = %id, error = %failure, retry_in = ?wait, retries_left = attempts - attempt, "webhook delivery failed; retrying");
            } else {
                tracing::debug!(webhook = %self.config.name, url = %self.config.url, article = %id, attempt, error = %failure, retry_in = ?wait, "webhook delivery failed again; retrying");
            }
            match abandon {
                Some(abandon) => {
                    let mut abandon = abandon.clone();
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = abandon.wait() => return Delivery::Abandoned,
                    }
                }
                None => tokio::time::sleep(wait).await,
            }
            attempt += 1;
        }
    }

    /// Records a delivery, or logs and counts a failure; `Err` for a
    /// failure, with the text for the dead letter.
    fn conclude(&self, id: &str, delivery: &Delivery) -> Result<(), String> {
        match delivery {
            Delivery::Delivered => {
                Metrics::count(&self.metrics.webhook_delivered);
                tracing::debug!(webhook = %self.config.name, article = %id, "webhook delivered");
                if let Err(error) = self.delivered.record(id) {
                    // Delivered all the same; a replay would post it again.
                    tracing::error!(webhook = %self.config.name, article = %id, error = %error, "recording a delivered article id failed");
                }
                Ok(())
            }
            Delivery::Failed(reason) => {
                Metrics::count(&self.metrics.webhook_dead_lettered);
                tracing::error!(webhook = %self.config.name, url = %self.config.url, article = %id, error = %reason, "webhook delivery given up; the story goes to the dead letters");
                Err(format!(
                    "webhook {} ({}): {reason}",
                    self.config.name, self.config.url
                ))
            }
            Delivery::Abandoned => Ok(()),
        }
    }

    fn release(&self, id: &str) {
        self.in_flight.lock().expect("in-flight lock").remove(id);
    }
}

/// Deliveries that outlive the handler call (memory bus).
struct Background {
    bus: Arc<dyn Bus>,
    dead_letter_topic: String,
    /// One permit per story that may wait for its delivery.
    pending: Arc<Semaphore>,
    max_pending: u32,
    abandon: Shutdown,
    abandon_trigger: wirewatch_bus::ShutdownTrigger,
}

/// One webhook's stage handler.
pub struct WebhookSink {
    receiver: Arc<Receiver>,
    journal: Option<Arc<Journal>>,
    background: Option<Background>,
}

impl WebhookSink {
    /// A sink that delivers before its handler returns (Kafka: the topic
    /// holds the backlog).
    pub fn inline(
        config: WebhookConfig,
        state_dir: &std::path::Path,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<WebhookSink> {
        Ok(WebhookSink {
            receiver: Arc::new(Self::receiver(config, state_dir, metrics)?),
            journal: None,
            background: None,
        })
    }

    /// A sink that delivers in the background and marks its part of each
    /// story done in `journal` once delivered or dead-lettered (memory
    /// bus); dead letters are published to `dead_letter_topic`.
    pub fn background(
        config: WebhookConfig,
        state_dir: &std::path::Path,
        metrics: Arc<Metrics>,
        journal: Arc<Journal>,
        bus: Arc<dyn Bus>,
        dead_letter_topic: &str,
    ) -> anyhow::Result<WebhookSink> {
        let max_pending = config.max_pending;
        let (abandon_trigger, abandon) = Shutdown::new();
        Ok(WebhookSink {
            receiver: Arc::new(Self::receiver(config, state_dir, metrics)?),
            journal: Some(journal),
            background: Some(Background {
                bus,
                dead_letter_topic: dead_letter_topic.to_owned(),
                pending: Arc::new(Semaphore::new(max_pending as usize)),
                max_pending,
                abandon,
                abandon_trigger,
            }),
        })
    }

    fn receiver(
        config: WebhookConfig,
        state_dir: &std::path::Path,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Receiver> {
        let resolver =
            GuardedResolver::new(Arc::new(SystemLookup), &config.allow_private_addresses);
        let client = reqwest::Client::builder()
            .user_agent(concat!("wirewatch/", env!("CARGO_PKG_VERSION")))
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(resolver))
            .build()?;
        let record = state_dir.join(format!("webhook-{}-delivered.ids", config.name));
        let delivered = WrittenIds::open(&record, None)?;
        Ok(Receiver {
            stage: config.stage_name(),
            requests: Semaphore::new(config.concurrency as usize),
            config,
            client,
            delivered,
            in_flight: Mutex::default(),
            metrics,
        })
    }

    /// This webhook's part of story `id` is finished (memory bus).
    fn done(journal: Option<&Journal>, receiver: &Receiver, id: &str) {
        if let Some(journal) = journal {
            if let Err(error) = journal.done(id, &receiver.stage) {
                tracing::error!(webhook = %receiver.config.name, article = %id, error = %error, "writing the in-flight journal failed");
            }
        }
    }

    /// Called once the stage has stopped (memory bus): waits for the
    /// deliveries still pending. With `abandon` (a termination signal
    /// ended the run), or on a signal while waiting, the deliveries waiting
    /// for a retry stop at once and a request in progress gets its answer;
    /// the journal keeps the stories they leave, which are posted at the
    /// next start.
    pub async fn finish(&self, abandon: bool) {
        let Some(background) = &self.background else {
            return;
        };
        let pending = background.max_pending as usize - background.pending.available_permits();
        if pending == 0 {
            return;
        }
        if abandon {
            tracing::info!(webhook = %self.receiver.config.name, pending, "leaving the webhook's pending deliveries for the next start");
            background.abandon_trigger.fire();
        } else {
            tracing::info!(webhook = %self.receiver.config.name, pending, "waiting for the webhook's pending deliveries (SIGTERM leaves them for the next start)");
        }
        let all = background.pending.acquire_many(background.max_pending);
        tokio::pin!(all);
        tokio::select! {
            _ = &mut all => return,
            () = crate::run::termination_signal() => {
                tracing::info!(webhook = %self.receiver.config.name, "leaving the webhook's pending deliveries for the next start");
                background.abandon_trigger.fire();
            }
        }
        let _ = all.await;
    }
}

#[async_trait]
impl Handler for WebhookSink {
    async fn handle(&self, input: &Message, origin: &Origin) -> Result<Vec<Output>, HandlerError> {
        let classified: ClassifiedArticle = decode(input, "classified article")?;
        let id = classified.article.id.as_str().to_owned();
        let receiver = &self.receiver;
        let journal = self.journal.as_deref();
        if !wanted(receiver.config.labels.as_ref(), &classified.classification) {
            Self::done(journal, receiver, &id);
            return Ok(vec![]);
        }
        if receiver.delivered.contains(&id) {
            tracing::debug!(webhook = %receiver.config.name, article = %id, "already delivered; skipping the repeat");
            Metrics::count(&receiver.metrics.webhook_repeated);
            Self::done(journal, receiver, &id);
            return Ok(vec![]);
        }
        if !receiver
            .in_flight
            .lock()
            .expect("in-flight lock")
            .insert(id.clone())
        {
            // The copy being delivered finishes the story.
            Metrics::count(&receiver.metrics.webhook_repeated);
            return Ok(vec![]);
        }
        let Some(background) = &self.background else {
            let delivery = receiver.deliver(&id, &input.payload, None).await;
            receiver.release(&id);
            receiver.conclude(&id, &delivery).map_err(HandlerError)?;
            return Ok(vec![]);
        };
        let Ok(permit) = Arc::clone(&background.pending).try_acquire_owned() else {
            receiver.release(&id);
            Metrics::count(&receiver.metrics.webhook_dead_lettered);
            tracing::error!(webhook = %receiver.config.name, url = %receiver.config.url, article = %id, max_pending = background.max_pending, "webhook backlog full; the story goes to the dead letters");
            return Err(HandlerError(format!(
                "webhook {} ({}): {} deliveries already pending (max_pending); not attempted",
                receiver.config.name, receiver.config.url, background.max_pending
            )));
        };
        let receiver = Arc::clone(receiver);
        let journal = self.journal.clone();
        let bus = Arc::clone(&background.bus);
        let dead_letter_topic = background.dead_letter_topic.clone();
        let abandon = background.abandon.clone();
        let message = input.clone();
        let origin = origin.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let delivery = receiver
                .deliver(&id, &message.payload, Some(&abandon))
                .await;
            receiver.release(&id);
            if delivery == Delivery::Abandoned {
                return;
            }
            match receiver.conclude(&id, &delivery) {
                // The dead-letter file finishes this webhook's part.
                Err(reason) => {
                    let letter = dead_letter(&message, &origin, &receiver.stage, &reason);
                    if let Err(error) = bus.publish(&dead_letter_topic, letter).await {
                        tracing::error!(webhook = %receiver.config.name, article = %id, error = %error, "publishing a webhook dead letter failed; the journal replays the story at the next start");
                    }
                }
                Ok(()) => Self::done(journal.as_deref(), &receiver, &id),
            }
        });
        Ok(vec![])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2.
    #[test]
    fn the_signature_is_hmac_sha256_of_the_body_in_hex() {
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn retries_double_up_to_the_cap_and_only_some_answers_are_retried() {
        let second = Duration::from_secs(1);
        let delays: Vec<u64> = (1..=8)
            .map(|retry| retry_delay(retry, second, Duration::from_secs(60)).as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(
            retry_delay(40, second, Duration::from_secs(60)),
            Duration::from_secs(60)
        );
        assert_eq!(answer(204), Answer::Delivered);
        for status in [408, 429, 500, 502, 503] {
            assert_eq!(answer(status), Answer::Retry, "{status}");
        }
        for status in [301, 400, 401, 404, 413] {
            assert_eq!(answer(status), Answer::Refused, "{status}");
        }
    }

    #[test]
    fn a_webhook_sends_flagged_stories_of_its_labels_only() {
        let classification_with = |labels: serde_json::Value| -> Classification {
            serde_json::from_value(serde_json::json!({
                "article_id": "392b649bd04228a06c331696b9829e93",
                "labels": labels,
                "classifier_version": "test",
                "classified_at": "2026-12-02T00:00:00Z",
            }))
            .expect("a classification")
        };
        let classification = classification_with(serde_json::json!([
            {"label": "ARMS_TRANSFER", "score": 0.9, "flagged": true},
            {"label": "SANCTIONS", "score": 0.2, "flagged": false}
        ]));
        let only = |labels: &[&str]| -> BTreeSet<String> {
            labels.iter().map(|label| (*label).to_owned()).collect()
        };
        assert!(wanted(None, &classification));
        assert!(wanted(Some(&only(&["ARMS_TRANSFER"])), &classification));
        assert!(!wanted(Some(&only(&["SANCTIONS"])), &classification));
        let unflagged = classification_with(serde_json::json!([
            {"label": "ARMS_TRANSFER", "score": 0.1, "flagged": false}
        ]));
        assert!(!wanted(None, &unflagged));
    }
}
