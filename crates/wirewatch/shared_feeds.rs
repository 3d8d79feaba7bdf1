//! Fetchers that share one feed list through Kafka
//! (`fetcher.feed_list = "kafka"`), with no coordinator of our own.
//!
//! - `wirewatch feeds sync` writes the feed files' feeds to the compacted
//!   `topics.feeds` table (key = feed URL, value = the feed's spec as JSON,
//!   a tombstone for a feed the files no longer list).
//! - Every fetcher joins the consumer group `<group_prefix>.fetch` on that
//!   table and polls the feeds of the partitions it is given; a partition
//!   taken away stops its feeds (a poll in progress finishes first).
//! - Rows are placed by the feed's host ([`partition_for`]), so one host's
//!   feeds are polled by one fetcher and its request spacing holds.
//! - After each poll (or push) a fetcher writes the feed's state (its
//!   status with ETag / Last-Modified, next poll time and failure streak,
//!   and the seen-set keys of the items its document listed) to the
//!   compacted `topics.feed_state` table, on the same partition number as
//!   the feed. The items are acknowledged by the broker and recorded as
//!   seen before that write. A fetcher given a partition reads that
//!   partition of the state table before the partition's feeds start, so a
//!   feed moves without re-emitting its stories and its next request is
//!   conditional.
//!
//! What can still repeat: the items of a poll that ended on the old
//! fetcher after the new one read the state (a poll in flight at the
//! rebalance), and the items of a fetcher killed between the broker's
//! acknowledgement and its state write. The items topic is keyed by article
//! id, so the copies meet on one partition of the clean stage, which skips
//! keys it handled (`wirewatch_bus::kafka_repeats`); that also catches one
//! story in two feeds polled by two fetchers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use url::Url;
use wirewatch_bus::kafka::KafkaOptions;
use wirewatch_bus::kafka_table::{
    partition_count, partition_for, read_table, TableEvent, TableMember, TableWriter,
};
use wirewatch_fetcher::{FeedSpec, FeedStateSink, FeedStatus, Poller, StateStore};

use crate::config::Config;

/// How long reading a table (at `feeds sync`, or a partition of the feed
/// state at an assignment) may take.
const READ_LIMIT: Duration = Duration::from_secs(120);

/// How long a revocation waits for the revoked feeds' polls in progress
/// (a request's timeout is 30 s by default).
const REVOKE_GRACE: Duration = Duration::from_secs(25);

/// A feed as the shared table holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeedRecord {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    pub interval_ms: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub websub: bool,
}

impl FeedRecord {
    pub fn of(feed: &FeedSpec) -> FeedRecord {
        FeedRecord {
            url: feed.url.to_string(),
            title: feed.title.clone(),
            tags: feed.tags.clone(),
            interval_ms: u64::try_from(feed.interval.as_millis()).unwrap_or(u64::MAX),
            headers: feed.headers.clone(),
            websub: feed.websub,
        }
    }

    /// The spec to poll, its interval raised to `min_interval` as the
    /// feed files' are.
    fn spec(self, min_interval: Duration) -> Result<FeedSpec, String> {
        let url = Url::parse(&self.url).map_err(|error| format!("url {:?}: {error}", self.url))?;
        Ok(FeedSpec {
            url,
            title: self.title,
            tags: self.tags,
            interval: Duration::from_millis(self.interval_ms).max(min_interval),
            headers: self.headers,
            websub: self.websub,
        })
    }
}

/// A partition's rows as feed specs; a row that is not one (not JSON, no
/// URL, a key that is not its URL) is logged with the topic, partition
/// and key, and left out.
fn decode_rows(
    topic: &str,
    partition: i32,
    rows: HashMap<String, Vec<u8>>,
    min_interval: Duration,
) -> HashMap<String, FeedSpec> {
    let mut feeds = HashMap::new();
    for (key, value) in rows {
        let spec = serde_json::from_slice::<FeedRecord>(&value)
            .map_err(|error| error.to_string())
            .and_then(|record| record.spec(min_interval));
        match spec {
            Ok(spec) if spec.url.as_str() == key => {
                feeds.insert(key, spec);
            }
            Ok(spec) => {
                tracing::warn!(topic, partition, key = %key, url = %spec.url, "a feed row whose key is not its URL; left out");
            }
            Err(error) => {
                tracing::warn!(topic, partition, key = %key, error = %error, "a feed row that is not a feed; left out");
            }
        }
    }
    feeds
}

/// What places a feed's rows: its host (empty for a URL without one).
pub fn partition_key(url: &Url) -> String {
    url.host_str().unwrap_or_default().to_ascii_lowercase()
}

fn group(config: &Config) -> String {
    format!("{}.fetch", config.kafka.group_prefix)
}

/// What `wirewatch feeds sync` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Synced {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// `wirewatch feeds sync`: makes `topics.feeds` hold exactly the feed
/// files' feeds. Rows that are already as the files say are not written
/// again; a removed feed's state and status rows are removed with it.
pub async fn sync(config: &Config, options: &KafkaOptions) -> anyhow::Result<Synced> {
    let topics = &config.topics;
    let feeds_topic = topics.feeds.clone();
    let read_options = options.clone();
    let existing = tokio::task::spawn_blocking(move || {
        let partitions = partition_count(&read_options, &feeds_topic)?;
        let all: Vec<i32> = (0..partitions).collect();
        read_table(&read_options, &feeds_topic, &all, READ_LIMIT).map(|rows| (partitions, rows))
    })
    .await
    .context("reading the feed table")?;
    let (partitions, existing) = existing.with_context(|| format!("reading {}", topics.feeds))?;
    let writer = TableWriter::new(options)?;
    let mut synced = Synced::default();
    let mut listed: HashMap<String, i32> = HashMap::new();
    for feed in &config.feeds {
        let key = feed.url.to_string();
        let partition = partition_for(&partition_key(&feed.url), partitions);
        let value = serde_json::to_vec(&FeedRecord::of(feed))?;
        let current = existing.get(&partition).and_then(|rows| rows.get(&key));
        if current == Some(&value) {
            synced.unchanged += 1;
        } else {
            writer
                .put(&topics.feeds, Some(partition), &key, Some(&value))
                .await?;
            synced.written += 1;
        }
        listed.insert(key, partition);
    }
    for (partition, rows) in &existing {
        for key in rows.keys() {
            if listed.get(key) == Some(partition) {
                continue;
            }
            writer
                .put(&topics.feeds, Some(*partition), key, None)
                .await?;
            if listed.contains_key(key) {
                // The same feed placed elsewhere (the partition count
                // changed): its state moves with it at the next poll.
                continue;
            }
            synced.removed += 1;
            writer
                .put(&topics.feed_state, Some(*partition), key, None)
                .await?;
            if let Some(status_topic) = &topics.feed_status {
                writer.put(status_topic, None, key, None).await?;
            }
        }
    }
    Ok(synced)
}

/// A state that changed only in its schedule and counters since it was
/// last written is written again only after this long: the next holder
/// then polls at once rather than at the stored time, with the same
/// validators and keys. (Every poll would otherwise be a record: 1,111 a
/// second for a million feeds polled every 15 minutes.)
const REFRESH: Duration = Duration::from_secs(3600);

/// Writes each feed's settled state to `topics.feed_state`.
pub struct FeedStateWriter {
    writer: TableWriter,
    topic: String,
    partitions: i32,
    failing: AtomicBool,
    /// Feed URL -> what its last written state said that matters to the
    /// next holder (a hash), and when it was written.
    written: std::sync::Mutex<HashMap<String, (u64, std::time::Instant)>>,
}

/// A hash of what a feed's next holder needs to be right: validators,
/// the document's keys, the failure streak and its error, a move.
fn material(status: &FeedStatus) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    status.validators.etag.hash(&mut hasher);
    status.validators.last_modified.hash(&mut hasher);
    status.feed_keys.hash(&mut hasher);
    status.consecutive_failures.hash(&mut hasher);
    status.last_error.hash(&mut hasher);
    status.moved_to.hash(&mut hasher);
    hasher.finish()
}

#[async_trait]
impl FeedStateSink for FeedStateWriter {
    async fn settled(&self, feed: &FeedSpec, status: &FeedStatus) {
        let material = material(status);
        let unchanged = self
            .written
            .lock()
            .expect("written states lock")
            .get(feed.url.as_str())
            .is_some_and(|(last, at)| *last == material && at.elapsed() < REFRESH);
        if unchanged {
            return;
        }
        let value = match serde_json::to_vec(status) {
            Ok(value) => value,
            Err(error) => {
                tracing::error!(feed = %feed.url, error = %error, "encoding a feed's state");
                return;
            }
        };
        let partition = partition_for(&partition_key(&feed.url), self.partitions);
        let written = self
            .writer
            .put(
                &self.topic,
                Some(partition),
                feed.url.as_str(),
                Some(&value),
            )
            .await;
        match written {
            Ok(()) => {
                self.written
                    .lock()
                    .expect("written states lock")
                    .insert(feed.url.to_string(), (material, std::time::Instant::now()));
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!(topic = %self.topic, "writing feed state again");
                }
            }
            Err(error) => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(topic = %self.topic, feed = %feed.url, error = %error, "writing a feed's state failed; the fetcher taking the feed over may poll it without validators and emit its recent items again");
                }
            }
        }
    }
}

/// The fetch stage's side of the shared list: which feeds this fetcher
/// polls now.
pub struct SharedFeeds {
    options: KafkaOptions,
    group: String,
    feeds_topic: String,
    state_topic: String,
    store: StateStore,
    min_interval: Duration,
    member: TableMember,
    events: mpsc::Receiver<TableEvent>,
}

impl SharedFeeds {
    /// Checks the two tables (both exist, same partition count), joins the
    /// group, and returns the runner and the writer of feed state.
    pub fn start(
        config: &Config,
        options: &KafkaOptions,
        store: StateStore,
    ) -> anyhow::Result<(SharedFeeds, Arc<FeedStateWriter>)> {
        let topics = &config.topics;
        let partitions = partition_count(options, &topics.feeds)?;
        let state_partitions = partition_count(options, &topics.feed_state)?;
        if partitions != state_partitions {
            anyhow::bail!(
                "{} has {partitions} partitions and {} has {state_partitions}: a feed's state must be on the partition of the same number as the feed (create both with the same count)",
                topics.feeds,
                topics.feed_state
            );
        }
        let (sender, events) = mpsc::channel(64);
        let group = group(config);
        let member = TableMember::join(options, &group, &topics.feeds, sender)?;
        let writer = Arc::new(FeedStateWriter {
            writer: TableWriter::new(options)?,
            topic: topics.feed_state.clone(),
            partitions,
            failing: AtomicBool::new(false),
            written: std::sync::Mutex::default(),
        });
        tracing::info!(group = %group, topic = %topics.feeds, partitions, "joined the fetchers sharing the feed list");
        Ok((
            SharedFeeds {
                options: options.clone(),
                group,
                feeds_topic: topics.feeds.clone(),
                state_topic: topics.feed_state.clone(),
                store,
                min_interval: config.poll.min_interval,
                member,
                events,
            },
            writer,
        ))
    }

    /// Keeps `lists` at the feeds of the partitions this fetcher holds,
    /// until `stop`; then leaves the group.
    pub async fn run(
        mut self,
        poller: Arc<Poller>,
        lists: watch::Sender<Vec<FeedSpec>>,
        stop: CancellationToken,
    ) {
        let mut held: HashMap<i32, HashMap<String, FeedSpec>> = HashMap::new();
        loop {
            let event = tokio::select! {
                () = stop.cancelled() => break,
                event = self.events.recv() => event,
            };
            let Some(event) = event else { break };
            let mut revoked = None;
            match event {
                TableEvent::Loaded { partition, rows } => {
                    let feeds = self.decode(partition, rows);
                    self.take_over(partition, &feeds).await;
                    held.insert(partition, feeds);
                }
                TableEvent::Changed {
                    partition,
                    key,
                    value,
                } => {
                    let feeds = held.entry(partition).or_default();
                    feeds.remove(&key);
                    if let Some(value) = value {
                        let mut rows = HashMap::new();
                        rows.insert(key, value);
                        feeds.extend(self.decode(partition, rows));
                    }
                }
                TableEvent::Revoked { partitions, done } => {
                    let urls: Vec<String> = partitions
                        .iter()
                        .filter_map(|partition| held.remove(partition))
                        .flat_map(HashMap::into_keys)
                        .collect();
                    revoked = Some((urls, done));
                }
            }
            let mut list: Vec<FeedSpec> = held
                .values()
                .flat_map(|feeds| feeds.values().cloned())
                .collect();
            list.sort_by(|a, b| a.url.as_str().cmp(b.url.as_str()));
            lists.send_replace(list);
            if let Some((urls, done)) = revoked {
                // The rebalance waits for this: the feeds' polls in progress
                // settle (their state written) before the next holder reads
                // that state.
                if !poller.wait_stopped(&urls, REVOKE_GRACE).await {
                    tracing::warn!(feeds = urls.len(), "polls of revoked feeds still running after {} s; letting the partitions go", REVOKE_GRACE.as_secs());
                }
                let _ = done.send(());
            }
        }
        // Leaving the group revokes what is held: nobody waits for that.
        drop(self.events);
        let member = self.member;
        let _ = tokio::task::spawn_blocking(move || member.stop()).await;
        tracing::info!(group = %self.group, "left the fetchers sharing the feed list");
    }

    fn decode(&self, partition: i32, rows: HashMap<String, Vec<u8>>) -> HashMap<String, FeedSpec> {
        decode_rows(&self.feeds_topic, partition, rows, self.min_interval)
    }

    /// Reads the partition's feed state and takes it into the store before
    /// its feeds start.
    async fn take_over(&self, partition: i32, feeds: &HashMap<String, FeedSpec>) {
        let options = self.options.clone();
        let topic = self.state_topic.clone();
        let read = tokio::task::spawn_blocking(move || {
            read_table(&options, &topic, &[partition], READ_LIMIT)
        })
        .await;
        let rows = match read {
            Ok(Ok(mut tables)) => tables.remove(&partition).unwrap_or_default(),
            Ok(Err(error)) => {
                tracing::warn!(topic = %self.state_topic, partition, error = %error, "reading the feed state; its feeds start from what this fetcher knows");
                HashMap::new()
            }
            Err(error) => {
                tracing::warn!(topic = %self.state_topic, partition, error = %error, "reading the feed state");
                HashMap::new()
            }
        };
        let mut adopted = 0;
        for (key, value) in &rows {
            if !feeds.contains_key(key) {
                continue;
            }
            let status = match serde_json::from_slice::<FeedStatus>(value) {
                Ok(status) => status,
                Err(error) => {
                    tracing::warn!(topic = %self.state_topic, partition, key = %key, error = %error, "a feed state row that is not one; left out");
                    continue;
                }
            };
            match self.store.adopt(key, &status) {
                Ok(true) => adopted += 1,
                Ok(false) => {}
                Err(error) => {
                    tracing::error!(feed = %key, error = %error, "taking over a feed's state");
                }
            }
        }
        if let Err(error) = self.store.flush() {
            tracing::error!(error = %error, "writing the feed states taken over");
        }
        tracing::info!(
            partition,
            feeds = feeds.len(),
            states = rows.len(),
            adopted,
            "polling the feeds of a partition"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(url: &str, seconds: u64) -> FeedSpec {
        FeedSpec {
            url: Url::parse(url).unwrap(),
            title: Some("A feed".into()),
            tags: vec!["defence".into()],
            interval: Duration::from_secs(seconds),
            headers: vec![("Authorization".into(), "Bearer x".into())],
            websub: false,
        }
    }

    #[test]
    fn rows_that_are_feeds_come_back_as_their_specs_and_the_others_are_left_out() {
        let good = spec("https://news.example/feed.xml", 600);
        let fast = spec("https://fast.example/rss", 5);
        let mut rows = HashMap::new();
        for feed in [&good, &fast] {
            rows.insert(
                feed.url.to_string(),
                serde_json::to_vec(&FeedRecord::of(feed)).unwrap(),
            );
        }
        rows.insert("https://junk.example/".into(), b"not json".to_vec());
        rows.insert(
            "https://elsewhere.example/".into(),
            serde_json::to_vec(&FeedRecord::of(&good)).unwrap(),
        );
        rows.insert(
            "no-url".into(),
            br#"{"url": "not a url", "interval_ms": 1000}"#.to_vec(),
        );
        let feeds = decode_rows("t", 0, rows, Duration::from_secs(60));
        assert_eq!(feeds.len(), 2, "{feeds:?}");
        assert_eq!(feeds[good.url.as_str()], good);
        assert_eq!(
            feeds[fast.url.as_str()].interval,
            Duration::from_secs(60),
            "raised to min_interval as the feed files' are"
        );
    }

    #[test]
    fn a_feed_is_placed_by_its_host_whatever_its_port_path_or_case() {
        let key = |url: &str| partition_key(&Url::parse(url).unwrap());
        assert_eq!(key("https://News.Example/a.xml"), "news.example");
        assert_eq!(key("http://news.example:8080/b"), "news.example");
        assert_eq!(key("file:///tmp/feed.xml"), "");
    }
}
