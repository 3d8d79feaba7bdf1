//! Throughput of the Kafka bus on a real broker: publishes N messages of a
//! given size through `Bus::publish` (each awaited for its delivery report,
//! many in flight at once), then consumes them through `Bus::run_stage` with
//! a handler that only counts. Used by bench/kafka/throughput.sh, which runs
//! Kafka's own ProducerPerformance/ConsumerPerformance on the same broker.
//!
//!   throughput BROKERS TOPIC COUNT SIZE [COMPRESSION]
//!
//! Prints one JSON line with messages/s and MB/s for each side.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::stream::{self, StreamExt};
use wirewatch_bus::kafka::{KafkaBus, KafkaOptions};
use wirewatch_bus::{Bus, Handler, HandlerError, Message, Origin, Output, Shutdown, StageSpec};

struct Count {
    seen: Arc<AtomicU64>,
    target: u64,
    trigger: wirewatch_bus::ShutdownTrigger,
}

#[async_trait]
impl Handler for Count {
    async fn handle(&self, _: &Message, _: &Origin) -> Result<Vec<Output>, HandlerError> {
        if self.seen.fetch_add(1, Ordering::Relaxed) + 1 >= self.target {
            self.trigger.fire();
        }
        Ok(vec![])
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: throughput BROKERS TOPIC COUNT SIZE [COMPRESSION]");
        std::process::exit(2);
    }
    let (brokers, topic) = (args[1].clone(), args[2].clone());
    let count: u64 = args[3].parse().expect("COUNT");
    let size: usize = args[4].parse().expect("SIZE");
    let compression = args.get(5).map_or("none", String::as_str);
    let compression = wirewatch_bus::kafka_settings::Compression::parse(compression)
        .unwrap_or_else(|| panic!("unknown compression {compression:?}"));
    let options = KafkaOptions {
        brokers,
        compression,
        linger_ms: 5,
        shutdown_timeout: Duration::from_secs(30),
        ..KafkaOptions::default()
    };
    let bus = Arc::new(KafkaBus::new(options).expect("kafka bus"));
    // Varied but incompressible-ish payloads, like article JSON after zstd.
    let payload: Vec<u8> = (0..size).map(|index| (index * 7919 % 251) as u8).collect();

    let started = Instant::now();
    stream::iter(0..count)
        .map(|index| {
            let bus = Arc::clone(&bus);
            let message = Message::new(format!("{index:016x}"), payload.clone());
            let topic = topic.clone();
            async move { bus.publish(&topic, message).await }
        })
        .buffer_unordered(20_000)
        .for_each(|result| async move {
            result.expect("publish acknowledged");
        })
        .await;
    let produce_seconds = started.elapsed().as_secs_f64();

    let seen = Arc::new(AtomicU64::new(0));
    let (trigger, shutdown) = Shutdown::new();
    let handler = Arc::new(Count {
        seen: Arc::clone(&seen),
        target: count,
        trigger,
    });
    let spec = StageSpec {
        name: "throughput".into(),
        group: format!("throughput-{}", std::process::id()),
        topics: vec![topic.clone()],
        concurrency: 1024,
        dead_letter_topic: format!("{topic}.dlq"),
        skip_repeated_keys: false,
    };
    let started = Instant::now();
    bus.run_stage(spec, handler, shutdown)
        .await
        .expect("consume");
    let consume_seconds = started.elapsed().as_secs_f64();
    let megabytes = (count as f64 * size as f64) / (1024.0 * 1024.0);
    println!(
        "{{\"messages\":{count},\"size\":{size},\"produce_msgs_per_s\":{:.0},\"produce_mb_per_s\":{:.1},\"consume_msgs_per_s\":{:.0},\"consume_mb_per_s\":{:.1},\"consumed\":{}}}",
        count as f64 / produce_seconds,
        megabytes / produce_seconds,
        count as f64 / consume_seconds,
        megabytes / consume_seconds,
        seen.load(Ordering::Relaxed)
    );
}
