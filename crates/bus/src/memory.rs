//! The in-memory bus: bounded channels inside one process.
//!
//! Each consumer group has one bounded channel fed by every topic the group
//! subscribes to; `publish` waits while a group's channel is full, so a slow
//! stage slows its producers instead of growing memory. A topic that no group
//! subscribes to drops what is published to it (counted in
//! [`MemoryBus::dropped`]). A group's channel ends when all its topics are
//! closed and it is drained, which is how the embedded pipeline drains in
//! order on shutdown.
//!
//! Subscriptions should be declared ([`MemoryBus::declare`]) before anything
//! is published; [`Bus::run_stage`] declares its own as well, for tests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::{
    dead_letter, Bus, BusError, Handler, Message, Origin, Shutdown, StageReport, StageSpec,
};

type Envelope = (Origin, Message);

struct Group {
    sender: Option<mpsc::Sender<Envelope>>,
    receiver: Option<mpsc::Receiver<Envelope>>,
}

#[derive(Default)]
struct Registry {
    /// topic -> groups subscribed to it, in declaration order.
    subscribers: HashMap<String, Vec<String>>,
    groups: HashMap<String, Group>,
    /// topic -> next offset.
    offsets: HashMap<String, i64>,
    closed: Vec<String>,
}

/// The embedded bus. Cheap to clone; clones share the same channels.
#[derive(Clone)]
pub struct MemoryBus {
    registry: Arc<Mutex<Registry>>,
    capacity: usize,
    dropped: Arc<AtomicU64>,
}

impl MemoryBus {
    /// A bus whose group channels hold at most `capacity` messages each.
    pub fn new(capacity: usize) -> MemoryBus {
        MemoryBus {
            registry: Arc::default(),
            capacity: capacity.max(1),
            dropped: Arc::default(),
        }
    }

    /// Subscribes `group` to `topic` (idempotent).
    pub fn declare(&self, topic: &str, group: &str) {
        let mut registry = self.registry.lock().expect("memory bus lock");
        let capacity = self.capacity;
        registry.groups.entry(group.to_owned()).or_insert_with(|| {
            let (sender, receiver) = mpsc::channel(capacity);
            Group {
                sender: Some(sender),
                receiver: Some(receiver),
            }
        });
        let groups = registry.subscribers.entry(topic.to_owned()).or_default();
        if !groups.iter().any(|existing| existing == group) {
            groups.push(group.to_owned());
        }
    }

    /// Messages published to topics nobody subscribes to.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Senders for every group subscribed to `topic`, and the message's offset.
    fn route(&self, topic: &str) -> Result<(Vec<mpsc::Sender<Envelope>>, i64), BusError> {
        let mut registry = self.registry.lock().expect("memory bus lock");
        if registry.closed.iter().any(|closed| closed == topic) {
            return Err(BusError::Closed);
        }
        let offset_slot = registry.offsets.entry(topic.to_owned()).or_insert(0);
        let offset = *offset_slot;
        *offset_slot += 1;
        let group_names = registry.subscribers.get(topic).cloned().unwrap_or_default();
        let senders = group_names
            .iter()
            .filter_map(|name| registry.groups.get(name))
            .filter_map(|group| group.sender.clone())
            .collect();
        Ok((senders, offset))
    }

    /// Closes a group's channel once no open topic feeds it.
    fn release_groups_of(&self, registry: &mut Registry) {
        let open_groups: Vec<String> = registry
            .subscribers
            .iter()
            .filter(|(topic, _)| !registry.closed.contains(topic))
            .flat_map(|(_, groups)| groups.iter().cloned())
            .collect();
        for (name, group) in &mut registry.groups {
            if !open_groups.contains(name) {
                group.sender = None;
            }
        }
    }
}

#[async_trait]
impl Bus for MemoryBus {
    async fn publish(&self, topic: &str, message: Message) -> Result<(), BusError> {
        let (senders, offset) = self.route(topic)?;
        if senders.is_empty() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let origin = Origin {
            topic: topic.to_owned(),
            partition: 0,
            offset,
        };
        for sender in senders {
            sender
                .send((origin.clone(), message.clone()))
                .await
                .map_err(|_| BusError::Publish {
                    topic: topic.to_owned(),
                    message: "consumer group stopped".into(),
                })?;
        }
        Ok(())
    }

    async fn run_stage(
        &self,
        spec: StageSpec,
        handler: Arc<dyn Handler>,
        shutdown: Shutdown,
    ) -> Result<StageReport, BusError> {
        // The memory bus drains on shutdown rather than stopping: what is in
        // its channels exists nowhere else.
        let _ = shutdown;
        for topic in &spec.topics {
            self.declare(topic, &spec.group);
        }
        let receiver = {
            let mut registry = self.registry.lock().expect("memory bus lock");
            let group = registry
                .groups
                .get_mut(&spec.group)
                .expect("group declared above");
            group.receiver.take().ok_or_else(|| BusError::Consume {
                group: spec.group.clone(),
                message: "already consumed by another stage in this process".into(),
            })?
        };
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        let mut workers = JoinSet::new();
        for _ in 0..spec.concurrency.max(1) {
            let receiver = Arc::clone(&receiver);
            let handler = Arc::clone(&handler);
            let bus = self.clone();
            let spec = spec.clone();
            workers.spawn(async move {
                let mut report = StageReport::default();
                loop {
                    let next = receiver.lock().await.recv().await;
                    let Some((origin, message)) = next else {
                        return Ok::<StageReport, BusError>(report);
                    };
                    report.processed += 1;
                    match handler.handle(&message, &origin).await {
                        Ok(outputs) => {
                            for output in outputs {
                                bus.publish(&output.topic, output.message).await?;
                                report.published += 1;
                            }
                        }
                        Err(error) => {
                            tracing::warn!(stage = %spec.name, origin = %origin, error = %error, "message sent to the dead-letter topic");
                            let letter = dead_letter(&message, &origin, &spec.name, &error.0);
                            bus.publish(&spec.dead_letter_topic, letter).await?;
                            report.dead_lettered += 1;
                        }
                    }
                }
            });
        }
        let mut total = StageReport::default();
        while let Some(joined) = workers.join_next().await {
            let report = joined.map_err(|error| BusError::Consume {
                group: spec.group.clone(),
                message: format!("worker panicked: {error}"),
            })??;
            total.processed += report.processed;
            total.published += report.published;
            total.dead_lettered += report.dead_lettered;
        }
        Ok(total)
    }

    async fn close_topic(&self, topic: &str) {
        let mut registry = self.registry.lock().expect("memory bus lock");
        if !registry.closed.iter().any(|closed| closed == topic) {
            registry.closed.push(topic.to_owned());
        }
        self.release_groups_of(&mut registry);
    }

    async fn flush(&self) -> Result<(), BusError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HandlerError, Output};

    struct Upper;

    #[async_trait]
    impl Handler for Upper {
        async fn handle(&self, input: &Message, _: &Origin) -> Result<Vec<Output>, HandlerError> {
            let text = String::from_utf8(input.payload.clone())
                .map_err(|_| HandlerError("payload is not utf-8".into()))?;
            Ok(vec![Output {
                topic: "out".into(),
                message: Message::new("k", text.to_uppercase().into_bytes()),
            }])
        }
    }

    struct Collect(Arc<Mutex<Vec<Message>>>);

    #[async_trait]
    impl Handler for Collect {
        async fn handle(&self, input: &Message, _: &Origin) -> Result<Vec<Output>, HandlerError> {
            self.0.lock().unwrap().push(input.clone());
            Ok(vec![])
        }
    }

    fn spec(name: &str, topic: &str) -> StageSpec {
        StageSpec {
            name: name.into(),
            group: name.into(),
            topics: vec![topic.into()],
            concurrency: 2,
            dead_letter_topic: "dlq".into(),
            skip_repeated_keys: false,
        }
    }

    #[tokio::test]
    async fn stages_drain_in_order_and_poison_goes_to_the_dead_letter_topic() {
        let bus = MemoryBus::new(4);
        bus.declare("in", "upper");
        bus.declare("out", "collect");
        bus.declare("dlq", "dead");
        let (_trigger, shutdown) = Shutdown::new();
        let outputs = Arc::new(Mutex::new(Vec::new()));
        let dead = Arc::new(Mutex::new(Vec::new()));
        let upper = tokio::spawn({
            let bus = bus.clone();
            let shutdown = shutdown.clone();
            async move {
                bus.run_stage(spec("upper", "in"), Arc::new(Upper), shutdown)
                    .await
            }
        });
        let collect = tokio::spawn({
            let bus = bus.clone();
            let sink = Arc::new(Collect(Arc::clone(&outputs)));
            let shutdown = shutdown.clone();
            async move { bus.run_stage(spec("collect", "out"), sink, shutdown).await }
        });
        let dead_stage = tokio::spawn({
            let bus = bus.clone();
            let sink = Arc::new(Collect(Arc::clone(&dead)));
            async move { bus.run_stage(spec("dead", "dlq"), sink, shutdown).await }
        });
        for index in 0..10 {
            let payload = format!("m{index}").into_bytes();
            bus.publish("in", Message::new("k", payload)).await.unwrap();
        }
        bus.publish("in", Message::new("bad", vec![0xff, 0xfe]))
            .await
            .unwrap();
        bus.close_topic("in").await;
        let upper_report = upper.await.unwrap().unwrap();
        bus.close_topic("out").await;
        bus.close_topic("dlq").await;
        collect.await.unwrap().unwrap();
        dead_stage.await.unwrap().unwrap();
        assert_eq!(upper_report.processed, 11);
        assert_eq!(upper_report.dead_lettered, 1);
        let mut texts: Vec<String> = outputs
            .lock()
            .unwrap()
            .iter()
            .map(|message| String::from_utf8(message.payload.clone()).unwrap())
            .collect();
        texts.sort();
        assert_eq!(texts.len(), 10);
        assert!(texts.contains(&"M7".to_string()));
        let dead = dead.lock().unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].header("error"), Some("payload is not utf-8"));
        assert_eq!(dead[0].header("source-topic"), Some("in"));
        assert_eq!(dead[0].header("source-offset"), Some("10"));
    }

    #[tokio::test]
    async fn unsubscribed_topics_drop_and_closed_topics_refuse() {
        let bus = MemoryBus::new(1);
        bus.publish("nobody", Message::new("k", vec![1]))
            .await
            .unwrap();
        assert_eq!(bus.dropped(), 1);
        bus.close_topic("nobody").await;
        assert!(matches!(
            bus.publish("nobody", Message::new("k", vec![1])).await,
            Err(BusError::Closed)
        ));
    }
}
