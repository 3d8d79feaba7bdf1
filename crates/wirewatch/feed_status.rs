//! Each feed's health on the bus, for dashboards that read Kafka rather
//! than `/api/feeds`: the fetch stage publishes to the compacted
//! `[topics] feed_status` topic (default `wirewatch.feed-status`), keyed by
//! feed URL, the same record `/api/feeds` lists for the feed (health, the
//! stored status, pages cleaned and extraction failures) with the time it
//! was reported.
//!
//! Every [`PERIOD`] (and once more at shutdown) the report is rebuilt and
//! a record is published for each feed whose report changed since it was
//! last published; a feed that left the list gets a tombstone, so the
//! compacted topic holds exactly the configured feeds. At start, feeds the
//! state store still knows but the list no longer has are tombstoned too
//! (they may have been published by an earlier run). A publish that fails
//! is logged and tried again at the next round.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::stream::{self, StreamExt};
use tokio::sync::watch;
use wirewatch_bus::{Bus, Message, Shutdown};
use wirewatch_fetcher::{FeedSpec, StateStore};

use crate::dashboard::{self, FeedHealth};
use crate::metrics::Metrics;

/// How often changed feeds are published.
pub const PERIOD: Duration = Duration::from_secs(5);

/// Publishes at most this many records at once.
const IN_FLIGHT: usize = 256;

pub struct FeedStatusPublisher {
    pub bus: Arc<dyn Bus>,
    pub topic: String,
    pub store: StateStore,
    pub feeds: watch::Receiver<Vec<FeedSpec>>,
    /// Its dashboard's page tallies go into each record.
    pub metrics: Arc<Metrics>,
    /// Whether a feed that leaves the list gets a tombstone (not when the
    /// list is shared: the feed went to another fetcher, and `feeds sync`
    /// removes the rows of feeds removed from the list).
    pub tombstones: bool,
}

/// What was last published for each feed (its record without the time).
type Published = HashMap<String, String>;

impl FeedStatusPublisher {
    /// Publishes until `stop` fires, then one last round.
    pub async fn run(self, mut stop: Shutdown) {
        let mut published = Published::new();
        let mut failing = false;
        let mut leftovers = self.leftovers();
        loop {
            let outcome = self.round(&mut published, &mut leftovers).await;
            match (outcome, failing) {
                (Err(error), false) => {
                    tracing::warn!(topic = %self.topic, error = %error, "publishing feed status failed; trying again every {} s", PERIOD.as_secs());
                    failing = true;
                }
                (Ok(()), true) => {
                    tracing::info!(topic = %self.topic, "publishing feed status again");
                    failing = false;
                }
                _ => {}
            }
            if stop.is_triggered() {
                return;
            }
            tokio::select! {
                () = stop.wait() => {}
                () = tokio::time::sleep(PERIOD) => {}
            }
        }
    }

    /// Feeds the state store holds a status for that are not in the list.
    fn leftovers(&self) -> BTreeSet<String> {
        if !self.tombstones {
            return BTreeSet::new();
        }
        let listed: BTreeSet<String> = self
            .feeds
            .borrow()
            .iter()
            .map(|feed| feed.url.as_str().to_owned())
            .collect();
        match self.store.all_feed_statuses() {
            Ok(statuses) => statuses
                .into_iter()
                .map(|(url, _)| url)
                .filter(|url| !listed.contains(url))
                .collect(),
            Err(error) => {
                tracing::warn!(error = %error, "reading feed statuses for the feed-status topic");
                BTreeSet::new()
            }
        }
    }

    /// One round: the changed feeds' records and the removed feeds'
    /// tombstones. The first error, after trying every record.
    async fn round(
        &self,
        published: &mut Published,
        leftovers: &mut BTreeSet<String>,
    ) -> anyhow::Result<()> {
        let feeds = self.feeds.borrow().clone();
        let report = dashboard::feeds_report(&feeds, &self.store, &self.metrics.dashboard)?;
        let mut sends: Vec<(String, Option<String>, Message)> = Vec::new();
        let listed: BTreeSet<&str> = report.feeds.iter().map(|feed| feed.url.as_str()).collect();
        for feed in &report.feeds {
            let record = serde_json::to_string(feed)?;
            if published.get(&feed.url) != Some(&record) {
                let message = Message::new(feed.url.clone(), stamped(feed)?);
                sends.push((feed.url.clone(), Some(record), message));
            }
        }
        let gone: Vec<String> = if self.tombstones {
            published
                .keys()
                .chain(leftovers.iter())
                .filter(|url| !listed.contains(url.as_str()))
                .cloned()
                .collect()
        } else {
            // Forgotten, so the record is published again if it comes back.
            published.retain(|url, _| listed.contains(url.as_str()));
            Vec::new()
        };
        for url in gone {
            sends.push((url.clone(), None, Message::tombstone(url)));
        }
        let results: Vec<(String, Option<String>, Result<(), String>)> = stream::iter(sends)
            .map(|(url, record, message)| async move {
                let sent = self
                    .bus
                    .publish(&self.topic, message)
                    .await
                    .map_err(|error| error.to_string());
                (url, record, sent)
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        let mut first_error = None;
        for (url, record, sent) in results {
            match (sent, record) {
                (Ok(()), Some(record)) => {
                    leftovers.remove(&url);
                    published.insert(url, record);
                }
                (Ok(()), None) => {
                    leftovers.remove(&url);
                    published.remove(&url);
                }
                (Err(error), _) => {
                    first_error.get_or_insert(format!("{url}: {error}"));
                }
            }
        }
        match first_error {
            None => Ok(()),
            Some(error) => Err(anyhow::anyhow!(error)),
        }
    }
}

/// The feed's record with the time it was reported, as JSON bytes.
fn stamped(feed: &FeedHealth) -> anyhow::Result<Vec<u8>> {
    let mut value = serde_json::to_value(feed)?;
    if let Some(object) = value.as_object_mut() {
        object.insert(
            "reported_at".to_owned(),
            serde_json::Value::String(Utc::now().to_rfc3339()),
        );
    }
    Ok(serde_json::to_vec(&value)?)
}
