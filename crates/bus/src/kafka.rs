//! The Kafka bus (rdkafka).
//!
//! - Producer: idempotent, `acks=all`, compressed; [`Bus::publish`] resolves
//!   on the broker's delivery report.
//! - A stage is one consumer group. Messages are handled concurrently; an
//!   input's offset is committed only after all its outputs (or its dead
//!   letter) are acknowledged, and only up to the lowest offset still in
//!   flight on its partition ([`OffsetTracker`]), so a crash re-delivers
//!   rather than loses (at-least-once). Done offsets are committed on a timer,
//!   on partition revocation and on shutdown.
//! - `transactional = true`: the stage consumes in small batches and writes
//!   outputs and input offsets in one Kafka transaction
//!   (`send_offsets_to_transaction`): exactly-once for `read_committed`
//!   readers.
//! - A stage with [`StageSpec::skip_repeated_keys`] acknowledges, without
//!   handling it again, a message whose key it already handled on that
//!   partition ([`crate::kafka_repeats`]).
//! - `instance_id`: static group membership (`group.instance.id`), so a
//!   restarted process takes its partitions back at once instead of
//!   waiting for a rebalance.
//! - Shutdown: stop fetching, finish in-flight messages (bounded by
//!   `shutdown_timeout`), flush, commit.
//! - Security (TLS, SASL) is whatever librdkafka properties the config
//!   passes in [`KafkaOptions::properties`]. librdkafka retries a refused
//!   login or TLS handshake forever, so [`KafkaBus::new`] and
//!   [`create_topics`] first connect once ([`check_brokers`]) and fail with
//!   the broker's reason when it refuses them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{
    BaseProducer, DeliveryResult, FutureProducer, FutureRecord, Producer, ProducerContext,
};
use rdkafka::{ClientContext, Message as KafkaMessage, Offset, TopicPartitionList};
use tokio::task::JoinSet;

use crate::kafka_health::{broker_counts, HealthTracker, Transition, GRACE};
use crate::kafka_repeats::{read_keys_before, ReadBack, RepeatedKeys};
use crate::kafka_settings::{
    Compression, DEFAULT_BROKERS, DEFAULT_CLIENT_ID, DEFAULT_COMPRESSION, DEFAULT_LINGER_MS,
    DEFAULT_REPEAT_WINDOW, DEFAULT_SHUTDOWN_TIMEOUT,
};
use crate::{
    dead_letter, Bus, BusError, ConsumerLag, Handler, Health, Message, Origin, Shutdown,
    StageReport, StageSpec,
};

/// Connection and behaviour settings.
#[derive(Clone, Debug)]
pub struct KafkaOptions {
    /// `host:port[,host:port...]`.
    pub brokers: String,
    pub client_id: String,
    pub compression: Compression,
    pub transactional: bool,
    /// Static group membership: this process's `group.instance.id` in
    /// every stage's group. Unique per process of a group.
    pub instance_id: Option<String>,
    pub linger_ms: u32,
    /// Longest a stage waits for in-flight messages when stopping.
    pub shutdown_timeout: Duration,
    /// Keys each stage remembers per input partition to skip repeats
    /// ([`RepeatedKeys`]).
    pub repeat_window: usize,
    /// Extra librdkafka properties (security, SASL, ...), applied last.
    pub properties: Vec<(String, String)>,
}

impl Default for KafkaOptions {
    fn default() -> KafkaOptions {
        KafkaOptions {
            brokers: DEFAULT_BROKERS.into(),
            client_id: DEFAULT_CLIENT_ID.into(),
            compression: DEFAULT_COMPRESSION,
            transactional: false,
            instance_id: None,
            linger_ms: DEFAULT_LINGER_MS,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            repeat_window: DEFAULT_REPEAT_WINDOW,
            properties: Vec::new(),
        }
    }
}

impl KafkaOptions {
    pub(crate) fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.brokers)
            .set("client.id", &self.client_id)
            // librdkafka's default grows to 10 s between reconnects, which
            // is how long flow took to resume after a broker came back.
            .set("reconnect.backoff.max.ms", "1000");
        config
    }

    pub(crate) fn with_properties(&self, mut config: ClientConfig) -> ClientConfig {
        for (name, value) in &self.properties {
            config.set(name, value);
        }
        config
    }

    pub(crate) fn producer_config(&self) -> ClientConfig {
        let mut config = self.client_config();
        config
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("compression.type", self.compression.as_str())
            .set("linger.ms", self.linger_ms.to_string())
            .set("message.timeout.ms", "120000");
        self.with_properties(config)
    }

    pub(crate) fn consumer_config(&self, group: &str) -> ClientConfig {
        let mut config = self.client_config();
        config
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("isolation.level", "read_committed")
            // The broker's lowest allowed session (group.min.session.timeout.ms):
            // a dead member that is not static holds its partitions this
            // long, and a group reloaded by a restarted broker waits this
            // long for members that do not come back.
            .set("session.timeout.ms", "6000")
            .set("heartbeat.interval.ms", "1000")
            .set("partition.assignment.strategy", "cooperative-sticky")
            // Broker states for readiness (see kafka_health).
            .set("statistics.interval.ms", "1000");
        if let Some(instance) = &self.instance_id {
            // A restarted member with the same id gets its partitions back
            // without a rebalance; a member that does not come back keeps
            // them for session.timeout.ms.
            config.set("group.instance.id", instance);
        }
        self.with_properties(config)
    }
}

/// How long [`check_brokers`] waits for the brokers to accept or refuse the
/// connection before leaving it to librdkafka's own reconnecting.
const BROKER_CHECK_WINDOW: Duration = Duration::from_secs(10);

/// What librdkafka reported while [`check_brokers`] connected: a refusal
/// that retrying cannot cure (authentication, TLS), or that every broker is
/// down (which retrying may cure).
#[derive(Default)]
struct CheckContext {
    refusal: Mutex<Option<String>>,
    all_brokers_down: AtomicBool,
}

impl CheckContext {
    fn refusal(&self) -> Option<String> {
        self.refusal.lock().expect("refusal lock").clone()
    }
}

impl ClientContext for CheckContext {
    fn error(&self, error: KafkaError, reason: &str) {
        let refusal = match error.rdkafka_error_code() {
            Some(RDKafkaErrorCode::Authentication) => {
                Some(format!("authentication failed: {reason}"))
            }
            Some(RDKafkaErrorCode::SSL) => Some(format!("tls handshake failed: {reason}")),
            Some(RDKafkaErrorCode::AllBrokersDown) => {
                self.all_brokers_down.store(true, Ordering::Relaxed);
                None
            }
            _ => None,
        };
        tracing::debug!(error = %error, reason, "librdkafka error while checking the brokers");
        if let Some(refusal) = refusal {
            self.refusal
                .lock()
                .expect("refusal lock")
                .get_or_insert(refusal);
        }
    }
}

impl ProducerContext for CheckContext {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &DeliveryResult<'_>, (): Self::DeliveryOpaque) {}
}

/// Connects to the brokers with the configured security properties and
/// fails when they refuse the login or the TLS handshake, naming the reason
/// librdkafka gives ("SASL authentication error: Authentication failed
/// during authentication due to invalid credentials ..."). Brokers that are
/// down, or slower than [`BROKER_CHECK_WINDOW`], are not an error here: the
/// bus reconnects to them as it always has. Blocks for at most the window.
pub fn check_brokers(options: &KafkaOptions) -> Result<(), BusError> {
    let producer: BaseProducer<CheckContext> = options
        .with_properties(options.client_config())
        .create_with_context(CheckContext::default())
        .map_err(|error| {
            BusError::Config(format!(
                "creating a client for {}: {error}",
                options.brokers
            ))
        })?;
    let started = Instant::now();
    loop {
        let metadata = producer
            .client()
            .fetch_metadata(None, Duration::from_millis(500));
        // Serves the error events queued meanwhile into the context.
        producer.poll(Duration::from_millis(50));
        if let Some(refusal) = producer.context().refusal() {
            return Err(BusError::Config(format!(
                "kafka brokers {} refused the connection: {refusal}",
                options.brokers
            )));
        }
        let Err(metadata_error) = metadata else {
            return Ok(());
        };
        let all_down = producer.context().all_brokers_down.load(Ordering::Relaxed);
        if all_down || started.elapsed() >= BROKER_CHECK_WINDOW {
            tracing::warn!(brokers = %options.brokers, error = %metadata_error, "kafka brokers not reachable yet; retrying in the background");
            return Ok(());
        }
    }
}

/// Runs blocking librdkafka work from async code: on a worker thread of a
/// multi-threaded runtime it tells the runtime first, elsewhere it just runs.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

fn kafka_error(topic: &str, error: KafkaError) -> BusError {
    BusError::Publish {
        topic: topic.to_owned(),
        message: error.to_string(),
    }
}

fn headers_of(message: &Message) -> OwnedHeaders {
    let mut headers = OwnedHeaders::new_with_capacity(message.headers.len());
    for (name, value) in &message.headers {
        headers = headers.insert(Header {
            key: name,
            value: Some(value.as_bytes()),
        });
    }
    headers
}

/// The record for `message`; an empty payload is sent as no value at all,
/// a tombstone (our messages are JSON, never empty).
fn record<'a>(topic: &'a str, message: &'a Message) -> FutureRecord<'a, str, [u8]> {
    let mut record = FutureRecord::to(topic).headers(headers_of(message));
    if !message.payload.is_empty() {
        record = record.payload(message.payload.as_slice());
    }
    if let Some(key) = message.key.as_deref() {
        record = record.key(key);
    }
    record
}

fn to_bus_message(kafka_message: &OwnedMessage) -> Message {
    let headers = kafka_message
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
    Message {
        key: kafka_message
            .key()
            .map(|key| String::from_utf8_lossy(key).into_owned()),
        payload: kafka_message.payload().unwrap_or_default().to_vec(),
        headers,
    }
}

/// Per-partition bookkeeping of in-flight and finished offsets. The
/// committable offset of a partition is the lowest offset still in flight,
/// or one past the highest finished offset when nothing is in flight.
#[derive(Debug, Default)]
pub struct OffsetTracker {
    partitions: HashMap<(String, i32), PartitionOffsets>,
}

#[derive(Debug, Default)]
struct PartitionOffsets {
    in_flight: BTreeSet<i64>,
    next_after_done: Option<i64>,
    committed: Option<i64>,
}

impl OffsetTracker {
    pub fn start(&mut self, topic: &str, partition: i32, offset: i64) {
        self.partitions
            .entry((topic.to_owned(), partition))
            .or_default()
            .in_flight
            .insert(offset);
    }

    /// Marks an offset done. Ignored for partitions no longer assigned.
    pub fn finish(&mut self, topic: &str, partition: i32, offset: i64) {
        if let Some(state) = self.partitions.get_mut(&(topic.to_owned(), partition)) {
            if state.in_flight.remove(&offset) {
                state.next_after_done = Some(
                    state
                        .next_after_done
                        .map_or(offset + 1, |next| next.max(offset + 1)),
                );
            }
        }
    }

    /// Offsets to commit now (changed since the last call), per partition,
    /// restricted to `only` when given.
    pub fn take_committable(&mut self, only: Option<&[(String, i32)]>) -> Vec<(String, i32, i64)> {
        let mut ready = Vec::new();
        for ((topic, partition), state) in &mut self.partitions {
            if let Some(only) = only {
                if !only
                    .iter()
                    .any(|(name, number)| name == topic && number == partition)
                {
                    continue;
                }
            }
            let committable = match state.in_flight.first() {
                Some(lowest) => Some(*lowest),
                None => state.next_after_done,
            };
            if let Some(offset) = committable {
                if state.committed.is_none_or(|committed| offset > committed) {
                    state.committed = Some(offset);
                    ready.push((topic.clone(), *partition, offset));
                }
            }
        }
        ready
    }

    /// Forgets every partition (the consumer that held them was replaced).
    pub fn forget_all(&mut self) {
        self.partitions.clear();
    }

    /// Forgets partitions taken away by a rebalance.
    pub fn forget(&mut self, revoked: &[(String, i32)]) {
        for key in revoked {
            self.partitions.remove(key);
        }
    }
}

fn partition_list(offsets: &[(String, i32, i64)]) -> TopicPartitionList {
    let mut list = TopicPartitionList::new();
    for (topic, partition, offset) in offsets {
        // Cannot fail for a fresh list and a concrete offset.
        let _ = list.add_partition_offset(topic, *partition, Offset::Offset(*offset));
    }
    list
}

/// What a stage's run loop starts with ([`KafkaBus::start_stage`]).
struct StageParts {
    tracker: Arc<Mutex<OffsetTracker>>,
    repeats: Arc<Mutex<RepeatedKeys>>,
    consumer: Arc<StreamConsumer<StageContext>>,
}

/// Commits what is done before partitions are taken away, so the next owner
/// starts where this one stopped.
struct StageContext {
    tracker: Arc<Mutex<OffsetTracker>>,
    repeats: Arc<Mutex<RepeatedKeys>>,
    stage: String,
    health: Arc<HealthTracker>,
}

impl ClientContext for StageContext {
    fn stats(&self, statistics: rdkafka::Statistics) {
        let (up, known) = broker_counts(&statistics);
        self.health.brokers(&self.stage, up, known);
        self.health.lags(&self.stage, &statistics);
    }
}

impl ConsumerContext for StageContext {
    fn pre_rebalance(&self, base_consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let revoked: Vec<(String, i32)> = list
                .elements()
                .iter()
                .map(|element| (element.topic().to_owned(), element.partition()))
                .collect();
            let mut tracker = self.tracker.lock().expect("offset tracker lock");
            let ready = tracker.take_committable(Some(&revoked));
            if !ready.is_empty() {
                if let Err(error) = base_consumer.commit(&partition_list(&ready), CommitMode::Sync)
                {
                    tracing::warn!(stage = %self.stage, error = %error, "commit on revoke failed");
                }
            }
            tracker.forget(&revoked);
            self.repeats
                .lock()
                .expect("repeated keys lock")
                .forget(&revoked);
            self.health.revoked(&self.stage, revoked.len());
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(list) = rebalance {
            self.health.assigned(&self.stage, list.count());
        }
    }
}

/// Consumer errors of one stage, logged without flooding and without going
/// silent: the first of a streak at once, then one line a minute with how
/// many came since, and the end of the streak. (A broker restart would
/// otherwise log five lines a second; a consumer that never recovers would
/// say nothing after its first line.)
struct ErrorStreak {
    stage: String,
    count: u64,
    since: Option<Instant>,
    last_line: Option<Instant>,
}

/// How often a streak of consumer errors is summed up in the log.
const ERROR_SUMMARY: Duration = Duration::from_secs(60);

impl ErrorStreak {
    fn new(stage: &str) -> ErrorStreak {
        ErrorStreak {
            stage: stage.to_owned(),
            count: 0,
            since: None,
            last_line: None,
        }
    }

    fn error(&mut self, error: &KafkaError) {
        let now = Instant::now();
        self.count += 1;
        let since = *self.since.get_or_insert(now);
        match self.last_line {
            None => {
                tracing::warn!(stage = %self.stage, error = %error, "consumer error");
                self.last_line = Some(now);
            }
            Some(last) if now.duration_since(last) >= ERROR_SUMMARY => {
                tracing::warn!(stage = %self.stage, error = %error, errors = self.count, for_s = since.elapsed().as_secs(), "consumer errors continue");
                self.last_line = Some(now);
            }
            Some(_) => {
                tracing::debug!(stage = %self.stage, error = %error, "consumer error");
            }
        }
    }

    /// A message arrived: the streak, if any, is over.
    fn message(&mut self) {
        if let Some(since) = self.since.take() {
            if self.count > 1 {
                tracing::info!(stage = %self.stage, errors = self.count, after_ms = since.elapsed().as_millis() as u64, "consumer errors ended: messages arrive again");
            }
        }
        self.count = 0;
        self.last_line = None;
    }
}

/// The first wait before a consumer that failed for good is replaced, and
/// the longest: doubled while replacements keep failing (two processes
/// sharing an `instance_id` fence each other in turn).
const REPLACE_FIRST: Duration = Duration::from_secs(1);
const REPLACE_MOST: Duration = Duration::from_secs(60);

/// What a stage keeps to ride out consumer errors: their log, the wait
/// before a replacement, and the bookkeeping a replaced consumer drops.
struct ConsumerCare {
    errors: ErrorStreak,
    replacement: Replacement,
    tracker: Arc<Mutex<OffsetTracker>>,
    repeats: Arc<Mutex<RepeatedKeys>>,
}

impl ConsumerCare {
    fn new(
        stage: &str,
        tracker: &Arc<Mutex<OffsetTracker>>,
        repeats: &Arc<Mutex<RepeatedKeys>>,
    ) -> ConsumerCare {
        ConsumerCare {
            errors: ErrorStreak::new(stage),
            replacement: Replacement::new(),
            tracker: Arc::clone(tracker),
            repeats: Arc::clone(repeats),
        }
    }
}

/// Whether a stage replaces its consumer, and how long it waits first.
struct Replacement {
    delay: Duration,
    last: Option<Instant>,
}

impl Replacement {
    fn new() -> Replacement {
        Replacement {
            delay: REPLACE_FIRST,
            last: None,
        }
    }

    /// The wait before the next replacement: the first one, unless the
    /// last replacement is recent (then twice the last wait).
    fn next_delay(&mut self) -> Duration {
        let now = Instant::now();
        self.delay = match self.last {
            Some(last) if now.duration_since(last) < REPLACE_MOST * 2 => {
                (self.delay * 2).min(REPLACE_MOST)
            }
            _ => REPLACE_FIRST,
        };
        self.last = Some(now);
        self.delay
    }
}

/// A publish not acknowledged after this long is logged (once per stall):
/// the fetcher waits for the broker rather than lose the item, and
/// librdkafka gives up only after message.timeout.ms (120 s).
const PUBLISH_SLOW: Duration = Duration::from_secs(10);

/// The Kafka transport.
pub struct KafkaBus {
    options: KafkaOptions,
    producer: FutureProducer,
    health: Arc<HealthTracker>,
    /// Since when publishes wait for acknowledgements, while they do.
    publish_stalled_since: Mutex<Option<Instant>>,
}

impl KafkaBus {
    /// Connects once ([`check_brokers`]), so refused credentials or TLS fail
    /// here, then creates the producer.
    pub fn new(options: KafkaOptions) -> Result<KafkaBus, BusError> {
        blocking(|| check_brokers(&options))?;
        let producer: FutureProducer = options.producer_config().create().map_err(|error| {
            BusError::Config(format!(
                "creating producer for {}: {error}",
                options.brokers
            ))
        })?;
        Ok(KafkaBus {
            options,
            producer,
            health: Arc::default(),
            publish_stalled_since: Mutex::new(None),
        })
    }

    fn publish_stalled(&self, topic: &str) {
        let mut since = self.publish_stalled_since.lock().expect("stall lock");
        if since.is_none() {
            *since = Some(Instant::now().checked_sub(PUBLISH_SLOW).unwrap());
            self.health.count(Transition::PublishStalled, 1);
            tracing::warn!(topic, waiting = self.producer.in_flight_count(), "publishing waits for the broker's acknowledgement (10 s so far); items are held, not dropped");
        }
    }

    fn publish_resumed(&self) {
        let mut since = self.publish_stalled_since.lock().expect("stall lock");
        if let Some(started) = since.take() {
            tracing::info!(
                after_ms = started.elapsed().as_millis() as u64,
                "publishing acknowledged again"
            );
        }
    }

    pub fn options(&self) -> &KafkaOptions {
        &self.options
    }

    /// Marks the stage started and makes its consumer, with the offset
    /// tracker and the repeated-key memory its callbacks share.
    fn start_stage(&self, spec: &StageSpec) -> Result<StageParts, BusError> {
        let tracker = Arc::new(Mutex::new(OffsetTracker::default()));
        self.health.stage_started(&spec.name);
        let repeats = Arc::new(Mutex::new(RepeatedKeys::new(self.options.repeat_window)));
        let consumer = Arc::new(self.consumer(spec, Arc::clone(&tracker), Arc::clone(&repeats))?);
        Ok(StageParts {
            tracker,
            repeats,
            consumer,
        })
    }

    fn consumer(
        &self,
        spec: &StageSpec,
        tracker: Arc<Mutex<OffsetTracker>>,
        repeats: Arc<Mutex<RepeatedKeys>>,
    ) -> Result<StreamConsumer<StageContext>, BusError> {
        let context = StageContext {
            tracker,
            repeats,
            stage: spec.name.clone(),
            health: Arc::clone(&self.health),
        };
        let consumer: StreamConsumer<StageContext> = self
            .options
            .consumer_config(&spec.group)
            .create_with_context(context)
            .map_err(|error| BusError::Consume {
                group: spec.group.clone(),
                message: error.to_string(),
            })?;
        let topics: Vec<&str> = spec.topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&topics)
            .map_err(|error| BusError::Consume {
                group: spec.group.clone(),
                message: error.to_string(),
            })?;
        Ok(consumer)
    }

    /// A consumer error: logged (as a streak), then the consumer replaced
    /// if it failed for good, or a short pause before polling again.
    async fn consumer_error(
        &self,
        spec: &StageSpec,
        error: &KafkaError,
        care: &mut ConsumerCare,
        consumer: &mut Arc<StreamConsumer<StageContext>>,
        shutdown: &mut Shutdown,
    ) {
        care.errors.error(error);
        if self.replace_if_failed(spec, consumer, care, shutdown).await {
            care.errors = ErrorStreak::new(&spec.name);
        } else {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// After a consumer error: when librdkafka says the consumer failed for
    /// good (a fatal error: fenced by a member with the same
    /// `group.instance.id`, as when a broker restart loses the answer to a
    /// join), it never consumes again, so it is replaced by a new one with
    /// the same settings. In-flight work of the old one finishes; its
    /// partitions are forgotten (their offsets are committed by whoever
    /// gets them next, from the broker's committed offsets). Returns
    /// whether the consumer was replaced.
    async fn replace_if_failed(
        &self,
        spec: &StageSpec,
        consumer: &mut Arc<StreamConsumer<StageContext>>,
        care: &mut ConsumerCare,
        shutdown: &mut Shutdown,
    ) -> bool {
        let ConsumerCare {
            tracker,
            repeats,
            replacement,
            ..
        } = care;
        let Some((code, reason)) = consumer.client().fatal_error() else {
            return false;
        };
        let delay = replacement.next_delay();
        tracing::error!(stage = %spec.name, group = %spec.group, code = ?code, reason = %reason, delay_ms = delay.as_millis() as u64, "consumer failed for good (fenced by another member with the same instance_id?); replacing it");
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = shutdown.wait() => return false,
        }
        loop {
            tracker.lock().expect("offset tracker lock").forget_all();
            repeats.lock().expect("repeated keys lock").forget_all();
            match self.consumer(spec, Arc::clone(tracker), Arc::clone(repeats)) {
                Ok(fresh) => {
                    let old = std::mem::replace(consumer, Arc::new(fresh));
                    // Closing the old consumer talks to the broker: off
                    // the async threads.
                    tokio::task::block_in_place(|| drop(old));
                    self.health.consumer_replaced(&spec.name);
                    tracing::info!(stage = %spec.name, group = %spec.group, "consumer replaced; waiting for partitions");
                    return true;
                }
                Err(error) => {
                    let delay = replacement.next_delay();
                    tracing::error!(stage = %spec.name, error = %error, delay_ms = delay.as_millis() as u64, "could not create the replacement consumer; trying again");
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = shutdown.wait() => return false,
                    }
                }
            }
        }
    }

    async fn run_at_least_once(
        &self,
        spec: StageSpec,
        handler: Arc<dyn Handler>,
        mut shutdown: Shutdown,
    ) -> Result<StageReport, BusError> {
        let StageParts {
            tracker,
            repeats,
            mut consumer,
        } = self.start_stage(&spec)?;
        let concurrency = spec.concurrency.max(1);
        let report = Arc::new(Mutex::new(StageReport::default()));
        let mut in_flight = JoinSet::new();
        let mut care = ConsumerCare::new(&spec.name, &tracker, &repeats);
        let mut commit_timer = tokio::time::interval(Duration::from_millis(500));
        commit_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let commit = |consumer: &StreamConsumer<StageContext>, mode: CommitMode| {
            let ready = tracker
                .lock()
                .expect("offset tracker lock")
                .take_committable(None);
            if !ready.is_empty() {
                let committed = consumer.commit(&partition_list(&ready), mode);
                if let Err(error) = &committed {
                    tracing::warn!(stage = %spec.name, error = %error, "offset commit failed");
                }
                self.health.commit(&spec.name, committed.is_ok());
            }
        };
        loop {
            // The consumer is polled whenever there is room for one more
            // message; when every slot is busy (outputs waiting for an
            // away broker), finished work and the commit timer are still
            // served, and polling resumes as soon as a slot frees.
            let received = tokio::select! {
                () = shutdown.wait() => break,
                _ = commit_timer.tick() => { commit(&consumer, CommitMode::Async); continue; }
                Some(_) = in_flight.join_next(), if !in_flight.is_empty() => { continue; }
                received = consumer.recv(), if in_flight.len() < concurrency => received,
            };
            let kafka_message = match received {
                Ok(message) => {
                    care.errors.message();
                    message.detach()
                }
                Err(error) => {
                    self.consumer_error(&spec, &error, &mut care, &mut consumer, &mut shutdown)
                        .await;
                    continue;
                }
            };
            let origin = Origin {
                topic: kafka_message.topic().to_owned(),
                partition: kafka_message.partition(),
                offset: kafka_message.offset(),
            };
            tracker.lock().expect("offset tracker lock").start(
                &origin.topic,
                origin.partition,
                origin.offset,
            );
            if spec.skip_repeated_keys {
                if let Some(key) = kafka_message.key() {
                    let key = String::from_utf8_lossy(key);
                    self.load_repeats(&spec, &repeats, &consumer, &origin);
                    let mut keys = repeats.lock().expect("repeated keys lock");
                    if let Some(earlier) =
                        keys.earlier(&origin.topic, origin.partition, &key, origin.offset)
                    {
                        drop(keys);
                        skip_repeat(&self.health, &spec, &origin, &key, earlier);
                        tracker.lock().expect("offset tracker lock").finish(
                            &origin.topic,
                            origin.partition,
                            origin.offset,
                        );
                        report.lock().expect("report lock").repeats_skipped += 1;
                        continue;
                    }
                    keys.add(&origin.topic, origin.partition, &key, origin.offset);
                }
            }
            let handler = Arc::clone(&handler);
            let tracker = Arc::clone(&tracker);
            let report = Arc::clone(&report);
            let producer = self.producer.clone();
            let health = Arc::clone(&self.health);
            let spec = spec.clone();
            let mut stop = shutdown.clone();
            in_flight.spawn(async move {
                let message = to_bus_message(&kafka_message);
                let mut attempt: u32 = 0;
                loop {
                    match process(&producer, &spec, handler.as_ref(), &message, &origin).await {
                        Ok((published, dead_lettered)) => {
                            health.acknowledged();
                            if attempt > 0 {
                                tracing::info!(stage = %spec.name, origin = %origin, attempts = attempt + 1, "outputs acknowledged; flow resumed");
                            }
                            tracker
                                .lock()
                                .expect("offset tracker lock")
                                .finish(&origin.topic, origin.partition, origin.offset);
                            let mut report = report.lock().expect("report lock");
                            report.processed += 1;
                            report.published += published;
                            report.dead_lettered += dead_lettered;
                            return;
                        }
                        Err(error) => {
                            // Outputs not acknowledged (broker away, topic
                            // missing): retry with backoff; the offset stays
                            // uncommitted until they are, so nothing is lost.
                            if attempt == 0 {
                                tracing::warn!(stage = %spec.name, origin = %origin, error = %error, "outputs not acknowledged; retrying");
                            }
                            attempt += 1;
                            let delay = Duration::from_millis(200u64.saturating_mul(1 << attempt.min(6)));
                            tokio::select! {
                                () = tokio::time::sleep(delay) => {}
                                () = stop.wait() => {
                                    tracing::warn!(stage = %spec.name, origin = %origin, "stopping before outputs were acknowledged; the message will be redelivered");
                                    return;
                                }
                            }
                        }
                    }
                }
            });
        }
        tracing::info!(stage = %spec.name, in_flight = in_flight.len(), "stopping: draining in-flight messages");
        let drained = tokio::time::timeout(self.options.shutdown_timeout, async {
            while in_flight.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(stage = %spec.name, "shutdown timeout: abandoning in-flight messages (they will be redelivered)");
            in_flight.abort_all();
        }
        let _ = self.producer.flush(self.options.shutdown_timeout);
        commit(&consumer, CommitMode::Sync);
        consumer.unsubscribe();
        self.health.stage_stopped(&spec.name);
        let report = report.lock().expect("report lock").clone();
        Ok(report)
    }

    async fn run_transactional(
        &self,
        spec: StageSpec,
        handler: Arc<dyn Handler>,
        mut shutdown: Shutdown,
    ) -> Result<StageReport, BusError> {
        let StageParts {
            tracker,
            repeats,
            mut consumer,
        } = self.start_stage(&spec)?;
        let mut care = ConsumerCare::new(&spec.name, &tracker, &repeats);
        // With an instance id the transactional id is stable across
        // restarts: the restarted process fences its dead predecessor and
        // aborts the transaction it left open at once. Without one, such a
        // transaction holds back read_committed readers of its partitions
        // until transaction.timeout.ms expires.
        let transactional_id = match &self.options.instance_id {
            Some(instance) => format!("{}.{}.{instance}", self.options.client_id, spec.group),
            None => format!(
                "{}.{}.{}-{}",
                self.options.client_id,
                spec.group,
                std::process::id(),
                chrono_free_nanos()
            ),
        };
        let mut config = self.options.producer_config();
        config
            .set("transactional.id", &transactional_id)
            .set("transaction.timeout.ms", "120000");
        let producer: FutureProducer = config.create().map_err(|error| {
            BusError::Config(format!("creating transactional producer: {error}"))
        })?;
        let timeout = self.options.shutdown_timeout;
        tokio::task::block_in_place(|| producer.init_transactions(timeout))
            .map_err(|error| BusError::Config(format!("init transactions: {error}")))?;
        let mut report = StageReport::default();
        const BATCH: usize = 64;
        loop {
            // Gather a batch: wait for the first message, then take what
            // arrives within a short window.
            let first = tokio::select! {
                () = shutdown.wait() => break,
                received = consumer.recv() => received,
            };
            let mut batch = Vec::new();
            match first {
                Ok(message) => {
                    care.errors.message();
                    batch.push(message.detach());
                }
                Err(error) => {
                    self.consumer_error(&spec, &error, &mut care, &mut consumer, &mut shutdown)
                        .await;
                    continue;
                }
            }
            let window = tokio::time::sleep(Duration::from_millis(50));
            tokio::pin!(window);
            while batch.len() < BATCH {
                tokio::select! {
                    () = &mut window => break,
                    received = consumer.recv() => match received {
                        Ok(message) => batch.push(message.detach()),
                        Err(_) => break,
                    },
                }
            }
            let result = self
                .transaction(
                    &producer,
                    &consumer,
                    &spec,
                    handler.as_ref(),
                    &batch,
                    &repeats,
                    &mut report,
                )
                .await;
            if let Err(error) = result {
                tracing::error!(stage = %spec.name, error = %error, "transaction aborted; rewinding the batch");
                let _ = tokio::task::block_in_place(|| producer.abort_transaction(timeout));
                let mut rewind: BTreeMap<(String, i32), i64> = BTreeMap::new();
                for message in &batch {
                    let key = (message.topic().to_owned(), message.partition());
                    let offset = rewind.entry(key).or_insert(message.offset());
                    *offset = (*offset).min(message.offset());
                }
                for ((topic, partition), offset) in rewind {
                    let _ = consumer.seek(
                        &topic,
                        partition,
                        Offset::Offset(offset),
                        Duration::from_secs(5),
                    );
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        consumer.unsubscribe();
        self.health.stage_stopped(&spec.name);
        Ok(report)
    }

    async fn transaction(
        &self,
        producer: &FutureProducer,
        consumer: &StreamConsumer<StageContext>,
        spec: &StageSpec,
        handler: &dyn Handler,
        batch: &[OwnedMessage],
        repeats: &Mutex<RepeatedKeys>,
        report: &mut StageReport,
    ) -> Result<(), BusError> {
        let timeout = self.options.shutdown_timeout;
        let stage_error = |error: KafkaError| BusError::Consume {
            group: spec.group.clone(),
            message: error.to_string(),
        };
        producer.begin_transaction().map_err(stage_error)?;
        let mut next_offsets: BTreeMap<(String, i32), i64> = BTreeMap::new();
        let mut batch_report = StageReport::default();
        // Keys handled in this transaction: they join the window only once
        // it commits (an aborted batch is read again and handled again).
        let mut batch_keys: Vec<(Origin, String)> = Vec::new();
        for kafka_message in batch {
            let origin = Origin {
                topic: kafka_message.topic().to_owned(),
                partition: kafka_message.partition(),
                offset: kafka_message.offset(),
            };
            let next = next_offsets
                .entry((origin.topic.clone(), origin.partition))
                .or_insert(0);
            *next = (*next).max(origin.offset + 1);
            let key = kafka_message
                .key()
                .filter(|_| spec.skip_repeated_keys)
                .map(|key| String::from_utf8_lossy(key).into_owned());
            if let Some(key) = &key {
                self.load_repeats(spec, repeats, consumer, &origin);
                let earlier = repeats
                    .lock()
                    .expect("repeated keys lock")
                    .earlier(&origin.topic, origin.partition, key, origin.offset)
                    .or_else(|| {
                        batch_keys
                            .iter()
                            .find(|(handled, handled_key)| {
                                handled_key == key
                                    && handled.topic == origin.topic
                                    && handled.partition == origin.partition
                            })
                            .map(|(handled, _)| handled.offset)
                    });
                if let Some(earlier) = earlier {
                    skip_repeat(&self.health, spec, &origin, key, earlier);
                    batch_report.repeats_skipped += 1;
                    continue;
                }
            }
            let message = to_bus_message(kafka_message);
            let (published, dead_lettered) =
                process(producer, spec, handler, &message, &origin).await?;
            batch_report.processed += 1;
            batch_report.published += published;
            batch_report.dead_lettered += dead_lettered;
            if let Some(key) = key {
                batch_keys.push((origin, key));
            }
        }
        let offsets: Vec<(String, i32, i64)> = next_offsets
            .into_iter()
            .map(|((topic, partition), offset)| (topic, partition, offset))
            .collect();
        let metadata = consumer.group_metadata().ok_or_else(|| BusError::Consume {
            group: spec.group.clone(),
            message: "no consumer group metadata".into(),
        })?;
        tokio::task::block_in_place(|| {
            producer.send_offsets_to_transaction(&partition_list(&offsets), &metadata, timeout)?;
            producer.commit_transaction(timeout)
        })
        .map_err(stage_error)?;
        self.health.acknowledged();
        self.health.commit(&spec.name, true);
        let mut keys = repeats.lock().expect("repeated keys lock");
        for (origin, key) in batch_keys {
            keys.add(&origin.topic, origin.partition, &key, origin.offset);
        }
        drop(keys);
        report.repeats_skipped += batch_report.repeats_skipped;
        report.processed += batch_report.processed;
        report.published += batch_report.published;
        report.dead_lettered += batch_report.dead_lettered;
        Ok(())
    }
}

impl KafkaBus {
    /// Reads back the keys handled before the committed offset on
    /// `origin`'s partition, the first time the stage sees that partition
    /// since it was assigned, and with it on every other assigned partition
    /// not read yet (one reader for all). A failed read leaves the windows
    /// empty (logged): repeats are then handled again, nothing is skipped
    /// wrongly.
    fn load_repeats(
        &self,
        spec: &StageSpec,
        repeats: &Mutex<RepeatedKeys>,
        consumer: &StreamConsumer<StageContext>,
        origin: &Origin,
    ) {
        if repeats
            .lock()
            .expect("repeated keys lock")
            .is_loaded(&origin.topic, origin.partition)
        {
            return;
        }
        let started = Instant::now();
        let mut wanted = vec![ReadBack {
            topic: origin.topic.clone(),
            partition: origin.partition,
            before: origin.offset,
        }];
        let committed = blocking(|| consumer.committed(Duration::from_secs(5)));
        if let Ok(committed) = committed {
            let keys = repeats.lock().expect("repeated keys lock");
            for element in committed.elements() {
                let (topic, partition) = (element.topic(), element.partition());
                let same = topic == origin.topic && partition == origin.partition;
                if same || keys.is_loaded(topic, partition) {
                    continue;
                }
                match element.offset() {
                    Offset::Offset(before) => wanted.push(ReadBack {
                        topic: topic.to_owned(),
                        partition,
                        before,
                    }),
                    // Nothing committed: consumption starts at the first
                    // offset the partition holds, nothing was handled.
                    _ => wanted.push(ReadBack {
                        topic: topic.to_owned(),
                        partition,
                        before: 0,
                    }),
                }
            }
        }
        let read = blocking(|| read_keys_before(&self.options, &spec.group, &wanted));
        let mut found = read.unwrap_or_else(|error| {
            tracing::warn!(stage = %spec.name, topic = %origin.topic, error = %error, "could not read back the keys handled before; repeats will be handled again");
            HashMap::new()
        });
        let total: usize = found.values().map(Vec::len).sum();
        tracing::info!(stage = %spec.name, topic = %origin.topic, partitions = wanted.len(), keys = total, elapsed_ms = started.elapsed().as_millis() as u64, "read back the keys handled before the committed offsets");
        let mut keys = repeats.lock().expect("repeated keys lock");
        for each in wanted {
            let place = (each.topic, each.partition);
            let read = found.remove(&place).unwrap_or_default();
            keys.load(&place.0, place.1, read);
        }
    }
}

fn skip_repeat(health: &HealthTracker, spec: &StageSpec, origin: &Origin, key: &str, earlier: i64) {
    health.count(Transition::RepeatsSkipped, 1);
    tracing::info!(stage = %spec.name, origin = %origin, key, earlier_offset = earlier, "repeated key skipped: already handled on this partition");
}

/// A per-process suffix that differs between two runs of the same PID.
fn chrono_free_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos())
}

/// Handles one message and publishes its outputs (or its dead letter),
/// waiting for every delivery report. Returns (published, dead-lettered).
async fn process(
    producer: &FutureProducer,
    spec: &StageSpec,
    handler: &dyn Handler,
    message: &Message,
    origin: &Origin,
) -> Result<(u64, u64), BusError> {
    match handler.handle(message, origin).await {
        Ok(outputs) => {
            let deliveries = outputs.iter().map(|output| async move {
                producer
                    .send(
                        record(&output.topic, &output.message),
                        Duration::from_secs(30),
                    )
                    .await
                    .map_err(|(error, _)| kafka_error(&output.topic, error))
            });
            let results = futures::future::join_all(deliveries).await;
            let published = results.len() as u64;
            results.into_iter().collect::<Result<Vec<_>, _>>()?;
            Ok((published, 0))
        }
        Err(error) => {
            tracing::warn!(stage = %spec.name, origin = %origin, error = %error, "message sent to the dead-letter topic");
            let letter = dead_letter(message, origin, &spec.name, &error.0);
            producer
                .send(
                    record(&spec.dead_letter_topic, &letter),
                    Duration::from_secs(30),
                )
                .await
                .map_err(|(error, _)| kafka_error(&spec.dead_letter_topic, error))?;
            Ok((0, 1))
        }
    }
}

#[async_trait]
impl Bus for KafkaBus {
    async fn publish(&self, topic: &str, message: Message) -> Result<(), BusError> {
        let send = self
            .producer
            .send(record(topic, &message), Duration::from_secs(30));
        tokio::pin!(send);
        let result = tokio::select! {
            result = &mut send => result,
            () = tokio::time::sleep(PUBLISH_SLOW) => {
                self.publish_stalled(topic);
                send.await
            }
        };
        let result = result
            .map(|_| self.health.acknowledged())
            .map_err(|(error, _)| kafka_error(topic, error));
        if result.is_ok() {
            self.publish_resumed();
        }
        result
    }

    fn health(&self) -> Health {
        let waiting = self.producer.in_flight_count().max(0) as u64;
        self.health.health(GRACE, waiting)
    }

    fn transitions(&self) -> Vec<(&'static str, u64)> {
        self.health.counts()
    }

    fn consumer_lag(&self) -> Vec<ConsumerLag> {
        self.health.all_lags()
    }

    async fn run_stage(
        &self,
        spec: StageSpec,
        handler: Arc<dyn Handler>,
        shutdown: Shutdown,
    ) -> Result<StageReport, BusError> {
        if self.options.transactional {
            self.run_transactional(spec, handler, shutdown).await
        } else {
            self.run_at_least_once(spec, handler, shutdown).await
        }
    }

    async fn close_topic(&self, _topic: &str) {}

    async fn flush(&self) -> Result<(), BusError> {
        let producer = self.producer.clone();
        let timeout = self.options.shutdown_timeout;
        tokio::task::spawn_blocking(move || producer.flush(timeout))
            .await
            .map_err(|error| BusError::Config(error.to_string()))?
            .map_err(|error| kafka_error("*", error))
    }
}

/// Partitions, replication and retention for `create_topics`.
#[derive(Clone, Debug)]
pub struct TopicSettings {
    pub partitions: i32,
    pub replication_factor: i32,
    pub retention: Duration,
}

/// What a topic keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cleanup {
    /// Every record, for the retention (`retention.ms`).
    Delete,
    /// The latest record of each key, until a tombstone removes it
    /// (`cleanup.policy=compact`): a table, such as each feed's health.
    Compact,
}

/// Creates `topics`; an existing topic is reported as `exists`, not an
/// error.
pub async fn create_topics(
    options: &KafkaOptions,
    topics: &[(String, Cleanup)],
    settings: &TopicSettings,
) -> Result<Vec<(String, String)>, BusError> {
    // The admin client never reports a refused login; it would wait out its
    // timeout and say "timed out".
    let checked_options = options.clone();
    tokio::task::spawn_blocking(move || check_brokers(&checked_options))
        .await
        .map_err(|error| BusError::Config(error.to_string()))??;
    let admin: AdminClient<DefaultClientContext> = options
        .with_properties(options.client_config())
        .create()
        .map_err(|error| BusError::Config(format!("creating admin client: {error}")))?;
    let retention = settings.retention.as_millis().to_string();
    let new_topics: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|(name, cleanup)| {
            let topic = NewTopic::new(
                name,
                settings.partitions,
                TopicReplication::Fixed(settings.replication_factor),
            );
            match cleanup {
                Cleanup::Delete => topic.set("retention.ms", &retention),
                Cleanup::Compact => topic.set("cleanup.policy", "compact"),
            }
        })
        .collect();
    let admin_options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin
        .create_topics(new_topics.iter(), &admin_options)
        .await
        .map_err(|error| {
            BusError::Config(format!("creating topics on {}: {error}", options.brokers))
        })?;
    let mut outcomes = Vec::new();
    for result in results {
        match result {
            Ok(name) => outcomes.push((name, "created".to_owned())),
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                outcomes.push((name, "exists".to_owned()));
            }
            Err((name, code)) => {
                return Err(BusError::Config(format!("creating topic {name}: {code}")));
            }
        }
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_stop_at_the_lowest_offset_in_flight() {
        let mut tracker = OffsetTracker::default();
        for offset in 10..15 {
            tracker.start("t", 0, offset);
        }
        tracker.finish("t", 0, 11);
        tracker.finish("t", 0, 12);
        assert_eq!(tracker.take_committable(None), vec![("t".into(), 0, 10)]);
        tracker.finish("t", 0, 10);
        assert_eq!(tracker.take_committable(None), vec![("t".into(), 0, 13)]);
        assert!(
            tracker.take_committable(None).is_empty(),
            "unchanged offsets are not recommitted"
        );
        tracker.finish("t", 0, 14);
        tracker.finish("t", 0, 13);
        assert_eq!(tracker.take_committable(None), vec![("t".into(), 0, 15)]);
    }

    #[test]
    fn revoked_partitions_are_forgotten() {
        let mut tracker = OffsetTracker::default();
        tracker.start("t", 1, 5);
        tracker.forget(&[("t".into(), 1)]);
        tracker.finish("t", 1, 5);
        assert!(tracker.take_committable(None).is_empty());
    }
}
