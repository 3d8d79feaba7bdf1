//! A plain Kafka client for the tests, as a downstream consumer would use
//! one, plus per-test topic names and configs.
//!
//! The broker comes from `KAFKA_BOOTSTRAP` (scripts/test starts one). Without
//! it a Kafka test fails, unless `WIREWATCH_SKIP_KAFKA=1` asks to skip, in
//! which case it says so loudly.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use chrono::Utc;
use wirewatch_model::{ArticleId, FeedItem, FeedRef, SCHEMA_VERSION};

use super::Scratch;

/// The broker to test against, or `None` when the test should be skipped.
pub fn bootstrap() -> Option<String> {
    match std::env::var("KAFKA_BOOTSTRAP") {
        Ok(brokers) if !brokers.trim().is_empty() => Some(brokers),
        _ if std::env::var("WIREWATCH_SKIP_KAFKA").as_deref() == Ok("1") => {
            eprintln!("\n!!! SKIPPED: Kafka test skipped because WIREWATCH_SKIP_KAFKA=1 (no broker) !!!\n");
            None
        }
        _ => panic!(
            "KAFKA_BOOTSTRAP is not set: run the tests with scripts/test (it starts a local broker), \
             or set WIREWATCH_SKIP_KAFKA=1 to skip the Kafka tests"
        ),
    }
}

/// Topic names unique to one test, so tests can share a broker.
#[derive(Clone, Debug)]
pub struct TestTopics {
    pub prefix: String,
}

impl TestTopics {
    pub fn new(test: &str) -> TestTopics {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        TestTopics {
            prefix: format!("t{}-{test}-{}", std::process::id(), nanos % 1_000_000_000),
        }
    }

    pub fn name(&self, suffix: &str) -> String {
        format!("{}.{suffix}", self.prefix)
    }

    /// The `[topics]`, `[bus]` and group settings for a config file.
    pub fn config_section(&self, brokers: &str, extra_kafka: &str) -> String {
        format!(
            r#"
[bus]
kind = "kafka"

[bus.kafka]
brokers = "{brokers}"
group_prefix = "{prefix}"
partitions = 4
shutdown_timeout = "10s"
linger_ms = 1
{extra_kafka}

[topics]
items = "{items}"
articles = "{articles}"
classified = "{classified}"
dead_letter = "{dlq}"
feed_status = "{feed_status}"
feeds = "{feeds}"
feed_state = "{feed_state}"
[topics.flagged]
ARMS_TRANSFER = "{arms}"
SANCTIONS = "{sanctions}"
"#,
            prefix = self.prefix,
            items = self.name("items"),
            articles = self.name("articles"),
            classified = self.name("classified"),
            dlq = self.name("dlq"),
            feed_status = self.name("feed-status"),
            feeds = self.name("feeds"),
            feed_state = self.name("feed-state"),
            arms = self.name("flagged.arms-transfer"),
            sanctions = self.name("flagged.sanctions"),
        )
    }
}

/// Writes a Kafka config (and an empty or given feed list) into `scratch`.
pub fn write_config(
    scratch: &Scratch,
    topics: &TestTopics,
    brokers: &str,
    feeds: &str,
    extra_kafka: &str,
) -> PathBuf {
    scratch.write("feeds.toml", feeds);
    scratch.write(
        "wirewatch.toml",
        &format!(
            r#"
feeds = ["feeds.toml"]
state_dir = "state"

[fetcher]
allow_private_addresses = ["127.0.0.1"]
min_host_delay = "0s"
max_item_age = "0s"
min_interval = "1s"
default_interval = "1h"

[output]
stdout = false
{}"#,
            topics.config_section(brokers, extra_kafka)
        ),
    )
}

/// One consumed record.
#[derive(Clone, Debug)]
pub struct Record {
    pub key: Option<String>,
    pub payload: Vec<u8>,
    pub headers: HashMap<String, String>,
    pub partition: i32,
    pub offset: i64,
}

impl Record {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.payload).expect("record payload is JSON")
    }
}

pub fn producer(brokers: &str) -> BaseProducer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .create()
        .expect("test producer")
}

/// Produces and waits for delivery.
pub fn produce(brokers: &str, topic: &str, records: &[(String, Vec<u8>)]) {
    let producer = producer(brokers);
    for (key, payload) in records {
        loop {
            match producer.send(BaseRecord::to(topic).key(key).payload(payload)) {
                Ok(()) => break,
                Err((_, _)) => {
                    producer.poll(Duration::from_millis(50));
                }
            }
        }
    }
    producer
        .flush(Duration::from_secs(30))
        .expect("flush test producer");
}

/// Reads `topic` from the beginning (read_committed) until `done` says
/// the records seen are enough, or `timeout` passes; returns what it read.
pub fn consume_until(
    brokers: &str,
    topic: &str,
    timeout: Duration,
    done: impl Fn(&[Record]) -> bool,
) -> Vec<Record> {
    let group = format!("reader-{}-{}", topic, std::process::id());
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", &group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .create()
        .expect("test consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let started = Instant::now();
    let mut records = Vec::new();
    while started.elapsed() < timeout && !done(&records) {
        let Some(result) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let Ok(message) = result else { continue };
        let headers = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|header| {
                        (
                            header.key.to_owned(),
                            String::from_utf8_lossy(header.value.unwrap_or_default()).into_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        records.push(Record {
            key: message
                .key()
                .map(|key| String::from_utf8_lossy(key).into_owned()),
            payload: message.payload().unwrap_or_default().to_vec(),
            headers,
            partition: message.partition(),
            offset: message.offset(),
        });
    }
    records
}

/// Reads everything currently in `topic`: stops after `quiet` without a
/// new record (or `limit`).
pub fn consume_all(brokers: &str, topic: &str, quiet: Duration, limit: Duration) -> Vec<Record> {
    let last_growth = std::cell::Cell::new((Instant::now(), 0usize));
    consume_until(brokers, topic, limit, |records| {
        let (when, count) = last_growth.get();
        if records.len() != count {
            last_growth.set((Instant::now(), records.len()));
            false
        } else {
            when.elapsed() >= quiet
        }
    })
}

/// How many records of `topic` (read now, read_committed, so without
/// transaction markers) lie past `group`'s committed offsets, or `None`
/// when the broker does not say.
pub fn uncommitted(brokers: &str, group: &str, topic: &str) -> Option<usize> {
    let records = consume_all(
        brokers,
        topic,
        Duration::from_secs(1),
        Duration::from_secs(120),
    );
    let reader: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .create()
        .ok()?;
    let mut wanted = TopicPartitionList::new();
    for partition in records.iter().map(|record| record.partition) {
        if wanted.find_partition(topic, partition).is_none() {
            wanted.add_partition(topic, partition);
        }
    }
    let committed = reader
        .committed_offsets(wanted, Duration::from_secs(5))
        .ok()?;
    let behind = records
        .iter()
        .filter(|record| {
            let done = committed
                .find_partition(topic, record.partition)
                .and_then(|element| match element.offset() {
                    Offset::Offset(offset) => Some(offset),
                    _ => None,
                });
            done.is_none_or(|done| record.offset >= done)
        })
        .count();
    Some(behind)
}

/// A feed item of a test feed, keyed and titled as given.
pub fn feed_item(key: &str, link: Option<String>, title: &str, summary: &str) -> FeedItem {
    FeedItem {
        schema_version: SCHEMA_VERSION,
        id: ArticleId::from_key(key),
        feed: FeedRef {
            url: "https://feeds.example.invalid/test".into(),
            title: Some("test".into()),
            tags: vec![],
        },
        guid: Some(key.into()),
        link,
        title: Some(title.into()),
        summary: Some(summary.into()),
        published: None,
        updated: None,
        authors: vec![],
        categories: vec![],
        lang: Some("en".into()),
        discovered_at: Utc::now(),
    }
}
