//! Repeated keys on a stage's input (Kafka): a message whose key (the
//! article id) the stage has already handled on the same partition is
//! acknowledged without calling the handler again.
//!
//! Why repeats happen: the fetch stage records an item as seen only after
//! the broker acknowledged it, so a fetcher killed between the two
//! publishes that item again after its restart; a stage killed after
//! publishing its outputs but before committing the input's offset is
//! given the input again. Every message is keyed by its article id and
//! partitioned by key, so all copies of one story meet on one partition.
//!
//! What a stage knows it has handled: everything on the partition before
//! its committed offset. When a partition is first seen after an
//! assignment, the keys of the last `repeat_window` messages before that offset
//! are read back from the topic itself ([`read_keys_before`]); keys handled
//! since are added as they are. In transactional mode a key is added only
//! once its transaction committed, so an aborted batch is not mistaken for
//! a handled one: with transactions the flagged topics carry no repeat of a
//! story the fetcher published twice. The window is bounded per partition
//! and dropped when the partition is revoked.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::{Message as KafkaMessage, Offset, TopicPartitionList};

use crate::kafka::KafkaOptions;
use crate::kafka_settings::DEFAULT_REPEAT_WINDOW;

/// How long reading back a partition's window may take before the stage
/// goes on with what it has read.
const READ_LIMIT: Duration = Duration::from_secs(10);

/// The keys handled on each partition a stage holds, the last `window`
/// of each.
#[derive(Debug)]
pub struct RepeatedKeys {
    window: usize,
    partitions: HashMap<(String, i32), PartitionKeys>,
}

impl Default for RepeatedKeys {
    fn default() -> RepeatedKeys {
        RepeatedKeys::new(DEFAULT_REPEAT_WINDOW)
    }
}

#[derive(Debug, Default)]
struct PartitionKeys {
    /// key -> the offset it was handled at.
    offsets: HashMap<String, i64>,
    /// Keys in the order they were added, oldest first (the window).
    order: VecDeque<String>,
}

impl PartitionKeys {
    fn add(&mut self, key: String, offset: i64, window: usize) {
        if self.offsets.insert(key.clone(), offset).is_none() {
            self.order.push_back(key);
            while self.order.len() > window {
                if let Some(oldest) = self.order.pop_front() {
                    self.offsets.remove(&oldest);
                }
            }
        }
    }
}

impl RepeatedKeys {
    pub fn new(window: usize) -> RepeatedKeys {
        RepeatedKeys {
            window: window.max(1),
            partitions: HashMap::new(),
        }
    }

    pub fn is_loaded(&self, topic: &str, partition: i32) -> bool {
        self.partitions.contains_key(&(topic.to_owned(), partition))
    }

    /// Starts a partition's window with the keys read back from the topic.
    pub fn load(&mut self, topic: &str, partition: i32, keys: Vec<(String, i64)>) {
        let mut window = PartitionKeys::default();
        for (key, offset) in keys {
            window.add(key, offset, self.window);
        }
        self.partitions
            .insert((topic.to_owned(), partition), window);
    }

    /// The offset at which `key` was handled on this partition before
    /// `offset`, if it is in the window.
    pub fn earlier(&self, topic: &str, partition: i32, key: &str, offset: i64) -> Option<i64> {
        self.partitions
            .get(&(topic.to_owned(), partition))
            .and_then(|window| window.offsets.get(key).copied())
            .filter(|earlier| *earlier < offset)
    }

    /// Notes `key` as handled at `offset`. Ignored for partitions not
    /// loaded (revoked meanwhile).
    pub fn add(&mut self, topic: &str, partition: i32, key: &str, offset: i64) {
        if let Some(keys) = self.partitions.get_mut(&(topic.to_owned(), partition)) {
            keys.add(key.to_owned(), offset, self.window);
        }
    }

    /// Forgets every partition (the consumer that held them was replaced).
    pub fn forget_all(&mut self) {
        self.partitions.clear();
    }

    /// Drops the windows of revoked partitions; they are read back again if
    /// the partitions come back.
    pub fn forget(&mut self, revoked: &[(String, i32)]) {
        for key in revoked {
            self.partitions.remove(key);
        }
    }
}

/// Per (topic, partition): the keys read back, with their offsets.
pub type KeysRead = HashMap<(String, i32), Vec<(String, i64)>>;

/// One partition to read back: its keys before `before`, the offset the
/// stage resumes at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadBack {
    pub topic: String,
    pub partition: i32,
    pub before: i64,
}

/// Reads, for each partition, the keys of the last `repeat_window` committed
/// messages before its `before` offset, with their offsets: one consumer
/// for all, the partitions fetched together. Blocking. A partition is done
/// at `before`, or at its end; all stop after [`READ_LIMIT`] (logged: a
/// window is then partial, and a repeat older than what was read would be
/// handled again).
pub fn read_keys_before(
    options: &KafkaOptions,
    group: &str,
    wanted: &[ReadBack],
) -> Result<KeysRead, KafkaError> {
    let mut keys: KeysRead = wanted
        .iter()
        .map(|each| ((each.topic.clone(), each.partition), Vec::new()))
        .collect();
    let mut config = options.client_config();
    config
        // A group id is required of a consumer; this one never joins or
        // commits (assign, not subscribe).
        .set("group.id", format!("{group}.repeats"))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("isolation.level", "read_committed")
        .set("enable.partition.eof", "true");
    let reader: BaseConsumer = options.with_properties(config).create()?;
    let mut assignment = TopicPartitionList::new();
    let mut open: HashMap<(String, i32), i64> = HashMap::new();
    for each in wanted {
        let (low, _high) =
            reader.fetch_watermarks(&each.topic, each.partition, Duration::from_secs(5))?;
        let window = i64::try_from(options.repeat_window).unwrap_or(i64::MAX);
        let start = low.max(each.before.saturating_sub(window));
        if start < each.before {
            assignment.add_partition_offset(&each.topic, each.partition, Offset::Offset(start))?;
            open.insert((each.topic.clone(), each.partition), each.before);
        }
    }
    if open.is_empty() {
        return Ok(keys);
    }
    reader.assign(&assignment)?;
    let started = Instant::now();
    while !open.is_empty() && started.elapsed() < READ_LIMIT {
        match reader.poll(Duration::from_millis(200)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                open.retain(|(_, number), _| *number != partition);
            }
            Some(Err(error))
                if error.rdkafka_error_code() != Some(RDKafkaErrorCode::PartitionEOF) =>
            {
                tracing::debug!(group, error = %error, "reading back keys");
            }
            Some(Err(_)) => {}
            Some(Ok(message)) => {
                let place = (message.topic().to_owned(), message.partition());
                let Some(before) = open.get(&place).copied() else {
                    continue;
                };
                if message.offset() >= before {
                    open.remove(&place);
                    continue;
                }
                if let (Some(key), Some(found)) = (message.key(), keys.get_mut(&place)) {
                    found.push((String::from_utf8_lossy(key).into_owned(), message.offset()));
                }
                if message.offset() + 1 >= before {
                    open.remove(&place);
                }
            }
        }
    }
    if !open.is_empty() {
        tracing::warn!(
            group,
            partitions = open.len(),
            "reading back the keys handled before the committed offsets took too long; going on with those read"
        );
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_a_repeat_only_after_the_offset_it_was_handled_at() {
        let mut keys = RepeatedKeys::default();
        keys.load("t", 0, vec![("a".into(), 3)]);
        assert_eq!(keys.earlier("t", 0, "a", 7), Some(3));
        assert_eq!(keys.earlier("t", 0, "a", 3), None, "the same message");
        assert_eq!(keys.earlier("t", 1, "a", 7), None, "another partition");
        keys.add("t", 0, "b", 8);
        assert_eq!(keys.earlier("t", 0, "b", 9), Some(8));
    }

    #[test]
    fn the_window_keeps_the_latest_keys() {
        for window in [DEFAULT_REPEAT_WINDOW, 100] {
            let mut keys = RepeatedKeys::new(window);
            keys.load("t", 0, Vec::new());
            for offset in 0..(window as i64 + 5) {
                keys.add("t", 0, &format!("k{offset}"), offset);
            }
            assert_eq!(keys.earlier("t", 0, "k0", i64::MAX), None);
            assert_eq!(keys.earlier("t", 0, "k4", i64::MAX), None);
            assert_eq!(keys.earlier("t", 0, "k5", i64::MAX), Some(5));
        }
    }

    #[test]
    fn a_window_loaded_longer_than_it_holds_keeps_the_latest() {
        let mut keys = RepeatedKeys::new(100);
        keys.load(
            "t",
            0,
            (0..150)
                .map(|offset| (format!("k{offset}"), offset))
                .collect(),
        );
        assert_eq!(keys.earlier("t", 0, "k49", i64::MAX), None);
        assert_eq!(keys.earlier("t", 0, "k50", i64::MAX), Some(50));
    }

    #[test]
    fn revoked_partitions_are_read_back_again() {
        let mut keys = RepeatedKeys::default();
        keys.load("t", 2, vec![("a".into(), 1)]);
        keys.forget(&[("t".into(), 2)]);
        assert!(!keys.is_loaded("t", 2));
        keys.add("t", 2, "b", 4);
        assert_eq!(keys.earlier("t", 2, "b", 5), None);
    }
}
