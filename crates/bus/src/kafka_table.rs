//! Tables on compacted topics (Kafka): the feed list that fetchers share,
//! and the per-feed state that moves with a feed from one fetcher to
//! another.
//!
//! A table is a compacted topic: the record key names a row, the value is
//! the row, and an empty value (a tombstone) removes it. Rows are placed on
//! a partition chosen from a partition key of their own
//! ([`partition_for`], the feed's host for the feed tables) rather than by
//! librdkafka's hash of the record key, so that two tables written with the
//! same partition key and the same partition count keep a row's companions
//! on the same partition number: the fetcher given partition 3 of the feed
//! list reads partition 3 of the feed state and finds the state of exactly
//! its feeds.
//!
//! [`TableMember`] joins a consumer group on a table. Each member is given
//! some of its partitions, reads each from its start to its end (the group
//! never commits offsets, so every assignment starts from the beginning) and
//! reports the partition's rows once they are all read, then each change;
//! a partition taken away is reported at once. [`read_table`] reads given
//! partitions to their end without joining a group; [`TableWriter`] writes
//! rows.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientContext, Message as KafkaMessage, Offset, TopicPartitionList};
use tokio::sync::mpsc;

use crate::kafka::KafkaOptions;
use crate::BusError;

/// The partition of `partition_key` among `partitions`: FNV-1a (64 bits)
/// of its bytes, modulo the count. Stable across versions and processes;
/// changing it would move every row.
pub fn partition_for(partition_key: &str, partitions: i32) -> i32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in partition_key.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    let count = u64::try_from(partitions.max(1)).unwrap_or(1);
    i32::try_from(hash % count).unwrap_or(0)
}

/// How long metadata and watermark requests may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How many partitions `topic` has; an error names the topic when it does
/// not exist.
pub fn partition_count(options: &KafkaOptions, topic: &str) -> Result<i32, BusError> {
    let mut config = options.client_config();
    config.set("group.id", "wirewatch.metadata");
    let consumer: BaseConsumer = options
        .with_properties(config)
        .create()
        .map_err(|error| BusError::Config(format!("creating a Kafka client: {error}")))?;
    // A topic just created has no leaders for a moment: asked again
    // until the metadata is whole or the time is up.
    let started = Instant::now();
    loop {
        let metadata = consumer
            .fetch_metadata(Some(topic), REQUEST_TIMEOUT)
            .map_err(|error| {
                BusError::Transport(format!("reading the metadata of {topic}: {error}"))
            })?;
        let found = metadata.topics().iter().find(|each| each.name() == topic);
        let whole = found.filter(|each| {
            each.error().is_none()
                && !each.partitions().is_empty()
                && each
                    .partitions()
                    .iter()
                    .all(|partition| partition.error().is_none() && partition.leader() >= 0)
        });
        if let Some(each) = whole {
            return Ok(i32::try_from(each.partitions().len()).unwrap_or(i32::MAX));
        }
        if started.elapsed() > REQUEST_TIMEOUT {
            return Err(BusError::Config(format!(
                "topic {topic} does not exist on {}, or has partitions without a leader (`wirewatch topics create` makes it)",
                options.brokers
            )));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The rows of one partition: key -> value.
pub type Rows = HashMap<String, Vec<u8>>;

/// Reads `partitions` of `topic` from their start to the end they had when
/// reading began; the latest value of each key, tombstoned keys left out.
/// Blocking; gives up with an error after `limit`.
pub fn read_table(
    options: &KafkaOptions,
    topic: &str,
    partitions: &[i32],
    limit: Duration,
) -> Result<HashMap<i32, Rows>, BusError> {
    let transport = |error: KafkaError| BusError::Transport(format!("reading {topic}: {error}"));
    let mut config = options.client_config();
    config
        // A group id is required of a consumer; this one never joins or
        // commits (assign, not subscribe).
        .set("group.id", "wirewatch.table-reader")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false");
    let reader: BaseConsumer = options
        .with_properties(config)
        .create()
        .map_err(transport)?;
    let mut tables: HashMap<i32, Rows> = partitions.iter().map(|p| (*p, Rows::new())).collect();
    let mut ends: HashMap<i32, i64> = HashMap::new();
    let mut assignment = TopicPartitionList::new();
    for partition in partitions {
        let (low, high) = watermarks(&reader, topic, *partition).map_err(transport)?;
        if high > low {
            assignment
                .add_partition_offset(topic, *partition, Offset::Beginning)
                .map_err(transport)?;
            ends.insert(*partition, high);
        }
    }
    if ends.is_empty() {
        return Ok(tables);
    }
    reader.assign(&assignment).map_err(transport)?;
    let started = Instant::now();
    while !ends.is_empty() {
        if started.elapsed() > limit {
            return Err(BusError::Transport(format!(
                "reading {topic}: {} partitions not read to their end after {} s",
                ends.len(),
                limit.as_secs()
            )));
        }
        match reader.poll(Duration::from_millis(200)) {
            None => {}
            Some(Err(error)) => {
                tracing::debug!(topic, error = %error, "reading a table");
            }
            Some(Ok(message)) => {
                let partition = message.partition();
                let Some(end) = ends.get(&partition).copied() else {
                    continue;
                };
                if let (Some(key), Some(rows)) = (message.key(), tables.get_mut(&partition)) {
                    apply(rows, key, message.payload());
                }
                if message.offset() + 1 >= end {
                    ends.remove(&partition);
                }
            }
        }
    }
    Ok(tables)
}

/// A partition's low and high watermarks, asked again for a moment while
/// the partition has no leader (a topic just created, a broker restarting).
fn watermarks<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    topic: &str,
    partition: i32,
) -> Result<(i64, i64), KafkaError> {
    let started = Instant::now();
    loop {
        match consumer.fetch_watermarks(topic, partition, REQUEST_TIMEOUT) {
            Err(error) if started.elapsed() < REQUEST_TIMEOUT => {
                tracing::debug!(topic, partition, error = %error, "reading a partition's watermarks; asking again");
                std::thread::sleep(Duration::from_millis(200));
            }
            answer => return answer,
        }
    }
}

/// One record applied to a partition's rows.
fn apply(rows: &mut Rows, key: &[u8], value: Option<&[u8]>) {
    let key = String::from_utf8_lossy(key).into_owned();
    match value {
        Some(value) if !value.is_empty() => {
            rows.insert(key, value.to_vec());
        }
        _ => {
            rows.remove(&key);
        }
    }
}

/// Writes rows of tables (an idempotent producer, every write acknowledged
/// by all in-sync replicas).
#[derive(Clone)]
pub struct TableWriter {
    producer: FutureProducer,
}

impl TableWriter {
    pub fn new(options: &KafkaOptions) -> Result<TableWriter, BusError> {
        let producer = options
            .producer_config()
            .create()
            .map_err(|error| BusError::Config(format!("creating a Kafka producer: {error}")))?;
        Ok(TableWriter { producer })
    }

    /// Writes `value` (a tombstone when `None`) under `key` on `partition`
    /// of `topic` (without one, where librdkafka's hash of the key puts
    /// it, as every other topic's records); resolves once the broker
    /// acknowledged it.
    pub async fn put(
        &self,
        topic: &str,
        partition: Option<i32>,
        key: &str,
        value: Option<&[u8]>,
    ) -> Result<(), BusError> {
        let mut record = FutureRecord::<str, [u8]>::to(topic).key(key);
        if let Some(partition) = partition {
            record = record.partition(partition);
        }
        if let Some(value) = value {
            record = record.payload(value);
        }
        self.producer
            .send(record, Duration::from_secs(30))
            .await
            .map(|_| ())
            .map_err(|(error, _)| BusError::Transport(format!("writing {key} to {topic}: {error}")))
    }
}

/// What a [`TableMember`] reports.
#[derive(Debug)]
pub enum TableEvent {
    /// A partition was assigned to this member and read to its end: its
    /// rows.
    Loaded { partition: i32, rows: Rows },
    /// A row of a loaded partition changed (`None`: removed).
    Changed {
        partition: i32,
        key: String,
        value: Option<Vec<u8>>,
    },
    /// Partitions taken away from this member (given to another, or lost
    /// with the session). The rebalance waits (up to [`REVOKE_WAIT`])
    /// until `done` is answered or dropped: the receiver stops what it did
    /// with the partitions' rows first, so their next holder starts from
    /// where this one stopped.
    Revoked {
        partitions: Vec<i32>,
        done: std::sync::mpsc::Sender<()>,
    },
}

/// Longest a revocation waits for the receiver to let the partitions go.
pub const REVOKE_WAIT: Duration = Duration::from_secs(30);

/// What the rebalance callbacks saw, for the member's loop to act on.
#[derive(Debug)]
enum Rebalanced {
    Assigned(Vec<i32>),
    Revoked(Vec<i32>),
}

struct MemberContext {
    topic: String,
    notes: Mutex<Vec<Rebalanced>>,
    events: mpsc::Sender<TableEvent>,
}

impl MemberContext {
    fn partitions(&self, list: &TopicPartitionList) -> Vec<i32> {
        list.elements()
            .iter()
            .filter(|element| element.topic() == self.topic)
            .map(rdkafka::topic_partition_list::TopicPartitionListElem::partition)
            .collect()
    }

    fn note(&self, rebalanced: Rebalanced) {
        self.notes
            .lock()
            .expect("rebalance notes lock")
            .push(rebalanced);
    }
}

impl ClientContext for MemberContext {}

impl ConsumerContext for MemberContext {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let partitions = self.partitions(list);
            tracing::info!(topic = %self.topic, partitions = ?partitions, "table partitions revoked");
            self.note(Rebalanced::Revoked(partitions.clone()));
            if partitions.is_empty() {
                return;
            }
            // Held here, in the rebalance, until the receiver let them go.
            let (done, finished) = std::sync::mpsc::channel();
            let event = TableEvent::Revoked { partitions, done };
            if self.events.blocking_send(event).is_ok()
                && finished.recv_timeout(REVOKE_WAIT)
                    == Err(std::sync::mpsc::RecvTimeoutError::Timeout)
            {
                tracing::warn!(topic = %self.topic, "revoked partitions were not let go within {} s; giving them up anyway", REVOKE_WAIT.as_secs());
            }
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(list) = rebalance {
            self.note(Rebalanced::Assigned(self.partitions(list)));
        }
    }
}

/// A member of a consumer group on a table (see the module's notes). Runs
/// on a thread of its own until [`TableMember::stop`].
pub struct TableMember {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TableMember {
    /// Joins `group` on `topic`; events go to `events` (the member waits
    /// when the receiver is behind).
    pub fn join(
        options: &KafkaOptions,
        group: &str,
        topic: &str,
        events: mpsc::Sender<TableEvent>,
    ) -> Result<TableMember, BusError> {
        let mut config = options.consumer_config(group);
        // Nothing is ever committed: a partition is read from its start by
        // whoever is given it.
        config
            .set("auto.offset.reset", "earliest")
            // The end of a partition also ends its loading (when its end
            // could not be read at the assignment).
            .set("enable.partition.eof", "true");
        let context = MemberContext {
            topic: topic.to_owned(),
            notes: Mutex::default(),
            events: events.clone(),
        };
        let consumer: BaseConsumer<MemberContext> = config
            .create_with_context(context)
            .map_err(|error| BusError::Config(format!("creating a Kafka consumer: {error}")))?;
        consumer
            .subscribe(&[topic])
            .map_err(|error| BusError::Config(format!("subscribing to {topic}: {error}")))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let topic = topic.to_owned();
        let group = group.to_owned();
        let thread = std::thread::Builder::new()
            .name("table-member".into())
            .spawn(move || {
                let mut member = Member {
                    topic,
                    group,
                    events,
                    loading: HashMap::new(),
                    loaded: HashSet::new(),
                };
                member.run(&consumer, &stopping);
            })
            .map_err(|error| BusError::Config(format!("starting the table member: {error}")))?;
        Ok(TableMember {
            stop,
            thread: Some(thread),
        })
    }

    /// Leaves the group and waits for the member's thread to end.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for TableMember {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A partition being read to its end after its assignment.
struct Loading {
    rows: Rows,
    /// The partition's end when it was assigned.
    end: i64,
}

struct Member {
    topic: String,
    group: String,
    events: mpsc::Sender<TableEvent>,
    loading: HashMap<i32, Loading>,
    loaded: HashSet<i32>,
}

impl Member {
    fn run(&mut self, consumer: &BaseConsumer<MemberContext>, stop: &AtomicBool) {
        let mut last_error: Option<Instant> = None;
        while !stop.load(Ordering::Relaxed) {
            let polled = consumer.poll(Duration::from_millis(200));
            if !self.rebalanced(consumer) {
                return;
            }
            let sent = match polled {
                None => true,
                Some(Err(KafkaError::PartitionEOF(partition))) => self.reached_end(partition),
                Some(Err(error)) => {
                    if last_error.is_none_or(|at| at.elapsed() > Duration::from_secs(60)) {
                        tracing::warn!(topic = %self.topic, group = %self.group, error = %error, "table consumer error");
                        last_error = Some(Instant::now());
                    }
                    true
                }
                Some(Ok(message)) => self.record(
                    message.partition(),
                    message.offset(),
                    message.key(),
                    message.payload(),
                ),
            };
            if !sent {
                return;
            }
        }
        consumer.unsubscribe();
    }

    /// Acts on what the rebalance callbacks noted. False once the events'
    /// receiver is gone.
    fn rebalanced(&mut self, consumer: &BaseConsumer<MemberContext>) -> bool {
        let notes = std::mem::take(
            &mut *consumer
                .context()
                .notes
                .lock()
                .expect("rebalance notes lock"),
        );
        for note in notes {
            match note {
                Rebalanced::Revoked(partitions) => {
                    // The receiver was told in the callback.
                    for partition in &partitions {
                        self.loading.remove(partition);
                        self.loaded.remove(partition);
                    }
                }
                Rebalanced::Assigned(partitions) => {
                    tracing::info!(topic = %self.topic, partitions = ?partitions, "table partitions assigned");
                    for partition in partitions {
                        if self.loaded.contains(&partition) || self.loading.contains_key(&partition)
                        {
                            continue;
                        }
                        let watermarks =
                            consumer.fetch_watermarks(&self.topic, partition, REQUEST_TIMEOUT);
                        let (low, high) = watermarks.unwrap_or_else(|error| {
                            tracing::warn!(topic = %self.topic, partition, error = %error, "reading a partition's end; loading it once it is read up to now");
                            (0, 0)
                        });
                        if high <= low {
                            if !self.finish_loading(partition, Rows::new()) {
                                return false;
                            }
                        } else {
                            self.loading.insert(
                                partition,
                                Loading {
                                    rows: Rows::new(),
                                    end: high,
                                },
                            );
                        }
                    }
                }
            }
        }
        true
    }

    /// The consumer reached the end of `partition`: a partition still
    /// loading is loaded.
    fn reached_end(&mut self, partition: i32) -> bool {
        match self.loading.remove(&partition) {
            Some(loading) => self.finish_loading(partition, loading.rows),
            None => true,
        }
    }

    fn finish_loading(&mut self, partition: i32, rows: Rows) -> bool {
        self.loaded.insert(partition);
        self.events
            .blocking_send(TableEvent::Loaded { partition, rows })
            .is_ok()
    }

    /// One record read. False once the events' receiver is gone.
    fn record(
        &mut self,
        partition: i32,
        offset: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
    ) -> bool {
        if let Some(loading) = self.loading.get_mut(&partition) {
            if let Some(key) = key {
                apply(&mut loading.rows, key, value);
            }
            if offset + 1 >= loading.end {
                let rows = self
                    .loading
                    .remove(&partition)
                    .map(|loading| loading.rows)
                    .unwrap_or_default();
                return self.finish_loading(partition, rows);
            }
            return true;
        }
        match key {
            Some(key) if self.loaded.contains(&partition) => {
                let value = value.filter(|value| !value.is_empty()).map(<[u8]>::to_vec);
                self.events
                    .blocking_send(TableEvent::Changed {
                        partition,
                        key: String::from_utf8_lossy(key).into_owned(),
                        value,
                    })
                    .is_ok()
            }
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_key_always_lands_on_the_same_partition_within_range() {
        for partitions in [1, 3, 12] {
            for key in ["example.org", "news.example.com", ""] {
                let first = partition_for(key, partitions);
                assert!((0..partitions).contains(&first));
                assert_eq!(partition_for(key, partitions), first);
            }
        }
        let spread: HashSet<i32> = (0..200)
            .map(|n| partition_for(&format!("host{n}.example"), 12))
            .collect();
        assert_eq!(
            spread.len(),
            12,
            "200 hosts reach every one of 12 partitions"
        );
    }

    #[test]
    fn a_tombstone_removes_a_row_and_a_later_value_replaces_it() {
        let mut rows = Rows::new();
        apply(&mut rows, b"a", Some(b"1"));
        apply(&mut rows, b"b", Some(b"2"));
        apply(&mut rows, b"a", None);
        apply(&mut rows, b"b", Some(b"3"));
        apply(&mut rows, b"c", Some(b""));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows.get("b").map(Vec::as_slice), Some(&b"3"[..]));
    }
}
