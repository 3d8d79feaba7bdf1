//! Reconciles what a fault run published with what the feeds served
//! (bench/chaos): reads every given topic from the beginning to its end
//! (read_committed, as downstream consumers read) and the local JSON lines
//! output, and reports per source the stories missing and repeated.
//!
//! ```text
//! cargo run --example reconcile -- --brokers HOST:PORT --truth truth.jsonl \
//!     [--topic NAME]... [--jsonl FILE] [--mark NAME=EPOCH_MS]...
//! ```
//!
//! A story is known by its feed guid (`guid` in an item, `article.item.guid`
//! in an article or a classified record). `--mark` names a moment (a broker
//! back, a process restarted): for each source, how long after it the
//! first record came. Also printed: the longest pause between two
//! consecutive records of a source. One line of JSON per source on stdout.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::BufRead;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

struct Arguments {
    brokers: String,
    truth: String,
    topics: Vec<String>,
    jsonl: Option<String>,
    marks: Vec<(String, i64)>,
}

fn arguments() -> Result<Arguments, String> {
    let mut args = std::env::args().skip(1);
    let mut parsed = Arguments {
        brokers: String::new(),
        truth: String::new(),
        topics: Vec::new(),
        jsonl: None,
        marks: Vec::new(),
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--brokers" => parsed.brokers = value,
            "--truth" => parsed.truth = value,
            "--topic" => parsed.topics.push(value),
            "--jsonl" => parsed.jsonl = Some(value),
            "--mark" => {
                let (name, at) = value
                    .split_once('=')
                    .ok_or(format!("--mark {value}: NAME=EPOCH_MS"))?;
                let at = at
                    .parse()
                    .map_err(|_| format!("--mark {value}: EPOCH_MS"))?;
                parsed.marks.push((name.to_owned(), at));
            }
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    if parsed.truth.is_empty() {
        return Err("--truth is required".into());
    }
    if !parsed.topics.is_empty() && parsed.brokers.is_empty() {
        return Err("--topic needs --brokers".into());
    }
    Ok(parsed)
}

/// The feed guid of an item, article or classified record.
fn guid_of(value: &serde_json::Value) -> Option<String> {
    [
        &value["guid"],
        &value["item"]["guid"],
        &value["article"]["item"]["guid"],
    ]
    .into_iter()
    .find_map(|guid| guid.as_str().map(str::to_owned))
}

/// (guid, timestamp in ms) of every record of `topic`.
fn read_topic(brokers: &str, topic: &str) -> Result<Vec<(Option<String>, i64)>, KafkaError> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("reconcile-{}", std::process::id()))
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .set("enable.partition.eof", "true")
        .create()?;
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .flat_map(|topic| {
            topic
                .partitions()
                .iter()
                .map(rdkafka::metadata::MetadataPartition::id)
        })
        .collect();
    let mut assignment = TopicPartitionList::new();
    for partition in &partitions {
        assignment.add_partition_offset(topic, *partition, Offset::Beginning)?;
    }
    consumer.assign(&assignment)?;
    let mut at_end = BTreeSet::new();
    let mut records = Vec::new();
    let started = Instant::now();
    while at_end.len() < partitions.len() && started.elapsed() < Duration::from_secs(600) {
        match consumer.poll(Duration::from_millis(500)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                at_end.insert(partition);
            }
            Some(Err(error)) => eprintln!("reconcile: {topic}: {error}"),
            Some(Ok(message)) => {
                let guid = message
                    .payload()
                    .and_then(|payload| serde_json::from_slice(payload).ok())
                    .and_then(|value: serde_json::Value| guid_of(&value));
                let timestamp = message.timestamp().to_millis().unwrap_or(0);
                records.push((guid, timestamp));
            }
        }
    }
    Ok(records)
}

/// (guid, time written in ms) of every line of a JSON lines output; the
/// time is the record's `classified_at` when it has one.
fn read_jsonl(path: &str) -> std::io::Result<Vec<(Option<String>, i64)>> {
    let file = std::fs::File::open(path)?;
    let mut records = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        let value: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        let written = value["classification"]["classified_at"]
            .as_str()
            .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
            .map_or(0, |time| time.timestamp_millis());
        records.push((guid_of(&value), written));
    }
    Ok(records)
}

fn report(
    source: &str,
    records: &[(Option<String>, i64)],
    truth: &HashMap<String, i64>,
    marks: &[(String, i64)],
) -> serde_json::Value {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut unknown = 0;
    for (guid, _) in records {
        match guid.as_deref() {
            Some(guid) if truth.contains_key(guid) => *counts.entry(guid).or_insert(0) += 1,
            _ => unknown += 1,
        }
    }
    let missing: Vec<&str> = truth
        .keys()
        .map(String::as_str)
        .filter(|guid| !counts.contains_key(guid))
        .collect();
    let repeated: usize = counts.values().map(|count| count - 1).sum();
    let mut times: Vec<i64> = records.iter().map(|(_, time)| *time).collect();
    times.sort_unstable();
    let longest_pause = times
        .windows(2)
        .map(|pair| (pair[1] - pair[0], pair[0]))
        .max();
    let after_marks: serde_json::Map<String, serde_json::Value> = marks
        .iter()
        .map(|(name, at)| {
            let first = times.iter().find(|time| **time >= *at);
            (
                name.clone(),
                first.map_or(serde_json::Value::Null, |first| (first - at).into()),
            )
        })
        .collect();
    let mut sample: Vec<&str> = missing.clone();
    sample.sort_unstable();
    sample.truncate(10);
    serde_json::json!({
        "source": source,
        "records": records.len(),
        "stories": counts.len(),
        "truth": truth.len(),
        "missing": missing.len(),
        "missing_sample": sample,
        "repeated": repeated,
        "unknown": unknown,
        "longest_pause_ms": longest_pause.map(|(pause, _)| pause),
        "longest_pause_from_ms": longest_pause.map(|(_, from)| from),
        "first_record_after_ms": after_marks,
    })
}

fn main() -> std::process::ExitCode {
    let args = match arguments() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("reconcile: {message}");
            return std::process::ExitCode::from(2);
        }
    };
    let mut truth = HashMap::new();
    let file = match std::fs::File::open(&args.truth) {
        Ok(file) => file,
        Err(error) => {
            eprintln!("reconcile: {}: {error}", args.truth);
            return std::process::ExitCode::from(2);
        }
    };
    for line in std::io::BufReader::new(file).lines().map_while(Result::ok) {
        let value: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if let (Some(guid), Some(served)) = (value["guid"].as_str(), value["served_ms"].as_i64()) {
            truth.entry(guid.to_owned()).or_insert(served);
        }
    }
    let mut failed = false;
    for topic in &args.topics {
        match read_topic(&args.brokers, topic) {
            Ok(records) => println!("{}", report(topic, &records, &truth, &args.marks)),
            Err(error) => {
                eprintln!("reconcile: {topic}: {error}");
                failed = true;
            }
        }
    }
    if let Some(path) = &args.jsonl {
        match read_jsonl(path) {
            Ok(records) => println!("{}", report(path, &records, &truth, &args.marks)),
            Err(error) => {
                eprintln!("reconcile: {path}: {error}");
                failed = true;
            }
        }
    }
    if failed {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    }
}
