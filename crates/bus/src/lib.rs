//! The bus: how messages move between wirewatch's stages.
//!
//! A stage is a [`Handler`]: one input message in, zero or more [`Output`]s
//! out. It knows nothing of the transport. A [`Bus`] drives handlers: it
//! delivers each input, publishes the outputs, and only then marks the input
//! done (Kafka: commits its offset). A message the handler rejects goes to
//! the dead-letter topic with the error, and the stage carries on.
//!
//! Two implementations of the one trait:
//!
//! - [`memory::MemoryBus`]: bounded in-process channels, the embedded default.
//! - `kafka::KafkaBus` (feature `kafka`): rdkafka, one consumer group per
//!   stage, idempotent producer, manual commits, optional transactions.
//!
//! Shutdown is passed in as a [`Shutdown`] and every stage reports when it has
//! finished ([`Bus::run_stage`] returns).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

pub mod kafka_settings;
pub mod memory;
mod shutdown;

#[cfg(feature = "kafka")]
pub mod kafka;
#[cfg(feature = "kafka")]
mod kafka_health;
#[cfg(feature = "kafka")]
pub mod kafka_repeats;
#[cfg(feature = "kafka")]
pub mod kafka_table;

pub use shutdown::{Shutdown, ShutdownTrigger};

/// One message: key, payload and headers. The key is the article id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    pub key: Option<String>,
    pub payload: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

impl Message {
    pub fn new(key: impl Into<String>, payload: Vec<u8>) -> Message {
        Message {
            key: Some(key.into()),
            payload,
            headers: Vec::new(),
        }
    }

    /// A record with `key` and no value: on a compacted topic it removes
    /// the key (Kafka sends an empty payload as no value).
    pub fn tombstone(key: impl Into<String>) -> Message {
        Message::new(key, Vec::new())
    }

    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Message {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The first header named `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header_name, _)| header_name == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Where a delivered message came from, for dead letters and logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

impl fmt::Display for Origin {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}[{}]@{}",
            self.topic, self.partition, self.offset
        )
    }
}

/// A message a handler wants published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub topic: String,
    pub message: Message,
}

/// Why a handler could not process a message. The message goes to the
/// dead-letter topic with this text in its `error` header.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HandlerError(pub String);

/// A stage: one input message to its outputs. Must not publish by itself.
#[async_trait]
pub trait Handler: Send + Sync {
    async fn handle(&self, input: &Message, origin: &Origin) -> Result<Vec<Output>, HandlerError>;
}

/// What a bus needs to drive one stage.
#[derive(Clone, Debug)]
pub struct StageSpec {
    /// Stage name, for logs, metrics and the dead-letter `stage` header.
    pub name: String,
    /// Consumer group (Kafka); stages in one group share partitions.
    pub group: String,
    pub topics: Vec<String>,
    /// How many messages may be in the handler at once.
    pub concurrency: usize,
    /// Where rejected messages go.
    pub dead_letter_topic: String,
    /// Acknowledge without handling a message whose key the stage already
    /// handled (Kafka: on the same partition, within a bounded window; see
    /// `kafka_repeats`). For inputs keyed by article id. The memory bus
    /// never repeats a message and ignores it.
    pub skip_repeated_keys: bool,
}

impl StageSpec {
    pub fn skipping_repeated_keys(mut self) -> StageSpec {
        self.skip_repeated_keys = true;
        self
    }
}

/// Counts reported by a stage when it stops.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StageReport {
    pub processed: u64,
    pub published: u64,
    pub dead_lettered: u64,
    /// Inputs acknowledged without handling: their key was handled before.
    pub repeats_skipped: u64,
}

/// Transport failures.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("topic {topic}: {message}")]
    Publish { topic: String, message: String },
    #[error("consumer group {group}: {message}")]
    Consume { group: String, message: String },
    #[error("bus configuration: {0}")]
    Config(String),
    #[error("bus closed")]
    Closed,
    /// Reading or writing a table or its metadata failed (Kafka).
    #[error("{0}")]
    Transport(String),
}

/// The transport between stages.
#[async_trait]
pub trait Bus: Send + Sync {
    /// Publishes `message` to `topic` and resolves once the bus has accepted
    /// it (Kafka: the broker acknowledged it with `acks=all`).
    async fn publish(&self, topic: &str, message: Message) -> Result<(), BusError>;

    /// Runs a stage until `shutdown` fires (Kafka: stop fetching, finish
    /// in-flight messages, commit) or, on the memory bus, until its input
    /// topics are closed and drained.
    async fn run_stage(
        &self,
        spec: StageSpec,
        handler: Arc<dyn Handler>,
        shutdown: Shutdown,
    ) -> Result<StageReport, BusError>;

    /// Declares that nothing more will be published to `topic` by this
    /// process. The memory bus ends its consumers once drained; Kafka ignores
    /// it (the topic outlives the process).
    async fn close_topic(&self, topic: &str);

    /// Waits until everything published so far is acknowledged.
    async fn flush(&self) -> Result<(), BusError>;

    /// Whether the bus can deliver right now, with the reasons when it
    /// cannot (what `/readyz` reports). The memory bus always can.
    fn health(&self) -> Health {
        Health::default()
    }

    /// How often each change of the transport's state happened (Kafka:
    /// `brokers_lost`, `brokers_back`, `partitions_assigned`, ...), for
    /// `/metrics`. The memory bus has none.
    fn transitions(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }

    /// How far each stage's consumer is behind, per partition it holds
    /// (Kafka: from librdkafka's statistics, once a second), for
    /// `/metrics`. The memory bus has none.
    fn consumer_lag(&self) -> Vec<ConsumerLag> {
        Vec::new()
    }
}

/// Messages on one partition of a stage's input topic that the stage's
/// group has not committed yet: the high watermark minus the committed
/// offset (minus the low watermark while nothing is committed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerLag {
    pub stage: String,
    pub topic: String,
    pub partition: i32,
    pub messages: i64,
}

/// The bus's view of whether messages flow: `problems` is empty when they
/// do; each entry says what is wrong ("brokers unreachable for 12 s").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Health {
    pub problems: Vec<String>,
}

impl Health {
    pub fn is_ready(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The dead-letter message for `input`: same key and bytes, the original
/// headers, plus `error`, `stage`, `source-topic`, `source-partition` and
/// `source-offset`.
pub fn dead_letter(input: &Message, origin: &Origin, stage: &str, error: &str) -> Message {
    let mut message = input.clone();
    message.headers.push(("error".into(), error.into()));
    message.headers.push(("stage".into(), stage.into()));
    message
        .headers
        .push(("source-topic".into(), origin.topic.clone()));
    message
        .headers
        .push(("source-partition".into(), origin.partition.to_string()));
    message
        .headers
        .push(("source-offset".into(), origin.offset.to_string()));
    message
}
