//! Crashes on the Kafka bus against the real broker: processes killed with
//! SIGKILL while messages are in flight, restarted, and every topic and
//! local output reconciled with what was published.
//!
//! - transactional mode: repeated kills, and the repeats a restarted
//!   fetcher publishes (items it sent but had not yet recorded as seen):
//!   every story on the flagged and classified topics exactly once;
//! - the default mode: the whole pipeline (fetch included) killed again and
//!   again: no story lost, none written twice to the local JSON lines file;
//! - static group membership: a restarted process takes its partitions
//!   back at once instead of waiting out its dead predecessor's session;
//!   a stage fenced by another member with its instance id (what a lost
//!   answer to a join across a broker restart does) replaces its consumer
//!   and goes on.

use std::collections::HashMap;
use std::process::Child;
use std::time::{Duration, Instant};

use chrono::Utc;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;
use wirewatch_model::{ArticleId, FeedItem, FeedRef, SCHEMA_VERSION};

use crate::support::http::{Route, TestServer};
use crate::support::kafka::{
    bootstrap, consume_all, consume_until, produce, uncommitted, write_config, Record, TestTopics,
};
use crate::support::{
    binary, create_topics, guid_counts, spawn_run as spawn, terminate, text, Scratch,
};

const WAIT: Duration = Duration::from_secs(120);

/// The dead member's session, as the bus configures it (session.timeout.ms).
const SESSION_TIMEOUT: Duration = Duration::from_secs(6);

fn sigkill(mut child: Child) {
    child.kill().unwrap();
    let _ = child.wait();
}

/// An item with no page: the clean stage classifies its summary.
fn sanctions_item(index: usize) -> (String, Vec<u8>) {
    let key = format!("crash-item-{index}");
    let item = FeedItem {
        schema_version: SCHEMA_VERSION,
        id: ArticleId::from_key(&key),
        feed: FeedRef {
            url: "http://127.0.0.1/crash-feed.xml".into(),
            title: Some("Crash feed".into()),
            tags: vec![],
        },
        guid: Some(key.clone()),
        link: None,
        title: Some(format!("Treasury sanctions arms broker {index}")),
        summary: Some(
            "The US Treasury sanctioned a broker who arranged North Korean weapons deliveries \
             to Russia, freezing his assets."
                .into(),
        ),
        published: None,
        updated: None,
        authors: vec![],
        categories: vec![],
        lang: Some("en".into()),
        discovered_at: Utc::now(),
    };
    let payload = serde_json::to_vec(&item).unwrap();
    (item.id.as_str().to_owned(), payload)
}

fn count_by_key(records: &[Record]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for record in records {
        *counts
            .entry(record.key.clone().unwrap_or_default())
            .or_insert(0) += 1;
    }
    counts
}

fn repeated(counts: &HashMap<String, usize>) -> usize {
    counts.values().map(|count| count - 1).sum()
}

#[test]
fn transactional_stages_killed_repeatedly_and_fed_repeats_flag_each_story_once() {
    let Some(brokers) = bootstrap() else { return };
    let scratch = Scratch::new("kafka-crash-txn");
    let topics = TestTopics::new("crashtxn");
    let config = write_config(
        &scratch,
        &topics,
        &brokers,
        "",
        "transactional = true\ninstance_id = \"crash-txn\"",
    );
    create_topics(&config);
    let total = 160;
    let items: Vec<(String, Vec<u8>)> = (0..total).map(sanctions_item).collect();
    produce(&brokers, &topics.name("items"), &items[..100]);
    let flagged_topic = topics.name("flagged.sanctions");
    let mut published = 100;
    let mut repeats_sent = 0;
    // Kill points by how much reached the flagged topic; after each kill,
    // the repeats a restarted fetcher would publish: copies of items sent
    // before, some long handled, some perhaps in the killed transaction.
    for (round, threshold) in [10usize, 35, 60, 90].into_iter().enumerate() {
        let victim = spawn(&config, "clean,classify");
        let seen = consume_until(&brokers, &flagged_topic, WAIT, |records| {
            count_by_key(records).len() >= threshold
        });
        sigkill(victim);
        let start = round * 20;
        produce(&brokers, &topics.name("items"), &items[start..start + 15]);
        repeats_sent += 15;
        if published < total {
            produce(
                &brokers,
                &topics.name("items"),
                &items[published..published + 15],
            );
            published += 15;
        }
        eprintln!(
            "round {round}: killed with {} stories flagged; {repeats_sent} repeats sent so far",
            count_by_key(&seen).len()
        );
    }
    produce(&brokers, &topics.name("items"), &items[published..]);
    let survivor = spawn(&config, "clean,classify");
    consume_until(&brokers, &flagged_topic, WAIT, |records| {
        count_by_key(records).len() >= total
    });
    // Repeats sent after everything was handled are skipped too.
    produce(&brokers, &topics.name("items"), &items[..10]);
    std::thread::sleep(Duration::from_secs(3));
    let (status, stderr) = terminate(survivor);
    assert!(status.success(), "{stderr}");
    for topic in [flagged_topic.clone(), topics.name("classified")] {
        let records = consume_all(&brokers, &topic, Duration::from_secs(3), WAIT);
        let counts = count_by_key(&records);
        eprintln!(
            "{topic}: {} stories, {} repeated records",
            counts.len(),
            repeated(&counts)
        );
        assert_eq!(counts.len(), total, "stories missing on {topic}");
        assert_eq!(
            repeated(&counts),
            0,
            "stories repeated on {topic}: {:?}",
            counts
                .iter()
                .filter(|(_, count)| **count > 1)
                .collect::<Vec<_>>()
        );
    }
    assert!(
        stderr.contains("repeated key skipped"),
        "the survivor skipped no repeat: {stderr}"
    );
}

/// A page long enough to be taken as the article, with a sanctions story.
fn page(index: usize) -> String {
    let paragraph = format!(
        "<p>Story {index}. The US Treasury on Tuesday sanctioned three shipping companies \
         accused of moving Iranian oil in breach of the embargo, freezing their assets and \
         barring Americans from dealing with them, officials said in a statement.</p>"
    );
    format!(
        "<!doctype html><html><head><title>Story {index}</title></head><body><article>\
         <h1>Story {index}</h1>{}</article></body></html>",
        paragraph.repeat(3)
    )
}

fn feed(server: &TestServer, stories: usize) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Crash desk</title><link>https://example.invalid/</link>\n",
    );
    for index in 0..stories {
        xml.push_str(&format!(
            "<item><title>Story {index}</title><link>{}</link><guid isPermaLink=\"false\">kcrash-{index}</guid><description>Story {index}</description></item>\n",
            server.url(&format!("/pages/{index}.html"))
        ));
    }
    xml.push_str("</channel></rss>\n");
    xml
}

#[test]
fn whole_pipeline_killed_repeatedly_on_kafka_writes_each_story_once_to_the_local_output() {
    let Some(brokers) = bootstrap() else { return };
    const STORIES: usize = 30;
    let server = TestServer::start();
    for index in 0..STORIES {
        server.route(
            &format!("/pages/{index}.html"),
            Route::ok("text/html; charset=utf-8", page(index))
                .with_delay(Duration::from_millis(400)),
        );
    }
    // Stories appear in waves, one per run, so kills fall before, during
    // and after the fetcher publishes them.
    let scratch = Scratch::new("kafka-crash-output");
    let topics = TestTopics::new("crashout");
    let config = write_config(
        &scratch,
        &topics,
        &brokers,
        &format!(
            "[[feed]]\nurl = \"{}\"\ninterval = \"1s\"\n",
            server.url("/feed.xml")
        ),
        // At-least-once (no transactions); static membership so that each
        // restart resumes at once and the kills fall on work in flight.
        "instance_id = \"crash-output\"",
    );
    // Local output on top of the Kafka topics.
    let mut contents = std::fs::read_to_string(&config).unwrap();
    contents = contents.replace(
        "[output]\nstdout = false\n",
        "[output]\nstdout = false\njsonl = \"out/all.jsonl\"\ninclude = \"all\"\n",
    );
    std::fs::write(&config, contents).unwrap();
    create_topics(&config);
    let output = scratch.path.join("out/all.jsonl");
    let mut seed: u64 = 0x0dd_ba11;
    let mut kills_with_work_in_flight = 0;
    for round in 0..6 {
        // Each run finds a new wave of stories in the feed.
        let listed = 5 * (round + 1);
        server.route(
            "/feed.xml",
            Route::ok("application/rss+xml", feed(&server, listed)),
        );
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let before = guid_counts(&output).len();
        let victim = spawn(&config, "");
        let started = Instant::now();
        if round % 2 == 0 {
            // As soon as the wave's first story is written: the rest of
            // it is in the clean, classify or output stage.
            while guid_counts(&output).len() <= before && started.elapsed() < WAIT {
                std::thread::sleep(Duration::from_millis(20));
            }
        } else {
            // At a random point while the process starts, joins its groups
            // and polls the feed.
            std::thread::sleep(Duration::from_millis(200 + (seed >> 33) % 1000));
        }
        let wait = started.elapsed();
        sigkill(victim);
        let written = guid_counts(&output).len();
        if written < listed {
            kills_with_work_in_flight += 1;
        }
        eprintln!(
            "round {round}: killed after {wait:?} with {written} of the {listed} listed stories written"
        );
    }
    assert!(
        kills_with_work_in_flight >= 3,
        "only {kills_with_work_in_flight} kills fell before the listed stories were written"
    );
    let survivor = spawn(&config, "");
    let started = Instant::now();
    while guid_counts(&output).len() < STORIES && started.elapsed() < WAIT {
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    let (status, stderr) = terminate(survivor);
    assert!(status.success(), "{stderr}");
    let counts = guid_counts(&output);
    let missing: Vec<String> = (0..STORIES)
        .map(|index| format!("kcrash-{index}"))
        .filter(|guid| !counts.contains_key(guid))
        .collect();
    assert!(missing.is_empty(), "stories lost: {missing:?}\n{stderr}");
    let twice: Vec<_> = counts.iter().filter(|(_, count)| **count > 1).collect();
    assert!(twice.is_empty(), "stories written twice: {twice:?}");
    let flagged = consume_all(
        &brokers,
        &topics.name("flagged.sanctions"),
        Duration::from_secs(2),
        WAIT,
    );
    let flagged_counts = count_by_key(&flagged);
    eprintln!(
        "default mode: {} stories on the flagged topic, {} repeated records there (at-least-once), 0 in the local output",
        flagged_counts.len(),
        repeated(&flagged_counts)
    );
    assert_eq!(
        flagged_counts.len(),
        STORIES,
        "stories missing on the flagged topic"
    );
}

#[test]
fn a_restarted_process_with_static_membership_resumes_before_the_dead_members_session_ends() {
    let Some(brokers) = bootstrap() else { return };
    let scratch = Scratch::new("kafka-crash-static");
    let topics = TestTopics::new("crashstatic");
    let config = write_config(
        &scratch,
        &topics,
        &brokers,
        "",
        "instance_id = \"static-test\"",
    );
    create_topics(&config);
    let items: Vec<(String, Vec<u8>)> = (0..80).map(sanctions_item).collect();
    produce(&brokers, &topics.name("items"), &items[..40]);
    let flagged_topic = topics.name("flagged.sanctions");
    let first = spawn(&config, "clean,classify");
    consume_until(&brokers, &flagged_topic, WAIT, |records| {
        count_by_key(records).len() >= 40
    });
    sigkill(first);
    produce(&brokers, &topics.name("items"), &items[40..]);
    let restarted = Instant::now();
    let second = spawn(&config, "clean,classify");
    let records = consume_until(&brokers, &flagged_topic, WAIT, |records| {
        count_by_key(records).len() >= 80
    });
    let resumed = restarted.elapsed();
    let (status, stderr) = terminate(second);
    assert!(status.success(), "{stderr}");
    assert_eq!(count_by_key(&records).len(), 80, "{stderr}");
    eprintln!(
        "restarted with the same instance id: all 80 stories flagged {resumed:?} after the start"
    );
    // Without static membership the group would wait for the killed
    // member's session to expire before giving its partitions to anyone.
    assert!(
        resumed < SESSION_TIMEOUT,
        "the restarted process waited {resumed:?}, as long as a new member would"
    );
}

#[test]
fn a_stage_fenced_by_a_member_with_its_instance_id_replaces_its_consumer_then_flags_and_commits_what_follows(
) {
    fenced_stage_recovers("fenced", "");
}

#[test]
fn a_transactional_stage_fenced_by_a_member_with_its_instance_id_replaces_its_consumer_then_flags_and_commits_what_follows(
) {
    fenced_stage_recovers("fencedtxn", "transactional = true");
}

/// A clean and classify process with static membership (and `extra`
/// Kafka settings) flags 20 stories; a consumer with the same instance id
/// joins the classify group and leaves; 40 more stories must be flagged
/// and committed.
fn fenced_stage_recovers(name: &str, extra: &str) {
    let Some(brokers) = bootstrap() else { return };
    let scratch = Scratch::new(&format!("kafka-{name}"));
    let topics = TestTopics::new(name);
    let config = write_config(
        &scratch,
        &topics,
        &brokers,
        "",
        &format!("instance_id = \"fenced\"\n{extra}"),
    );
    create_topics(&config);
    let items: Vec<(String, Vec<u8>)> = (0..60).map(sanctions_item).collect();
    produce(&brokers, &topics.name("items"), &items[..20]);
    let flagged_topic = topics.name("flagged.sanctions");
    let daemon = spawn(&config, "clean,classify");
    consume_until(&brokers, &flagged_topic, WAIT, |records| {
        count_by_key(records).len() >= 20
    });
    // Another consumer joins the classify group with the same
    // group.instance.id: the broker hands it the instance, and the stage's
    // consumer is fenced, for good as far as librdkafka is concerned.
    let impostor: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", format!("{}.classify", topics.prefix))
        .set("group.instance.id", "fenced")
        .set("session.timeout.ms", "6000")
        .set("enable.auto.commit", "false")
        .set("partition.assignment.strategy", "cooperative-sticky")
        .create()
        .expect("impostor consumer");
    impostor
        .subscribe(&[topics.name("articles").as_str()])
        .expect("impostor subscribes");
    let joined = Instant::now();
    while impostor.assignment().map_or(0, |list| list.count()) == 0 && joined.elapsed() < WAIT {
        let _ = impostor.poll(Duration::from_millis(100));
    }
    assert!(
        impostor.assignment().map_or(0, |list| list.count()) > 0,
        "the impostor was never assigned the classify partitions"
    );
    drop(impostor);
    // Stories that arrive now are flagged and their offsets committed only
    // by a working consumer: a fenced one may still hand over what it had
    // fetched, but every commit of it fails.
    produce(&brokers, &topics.name("items"), &items[20..]);
    let records = consume_until(&brokers, &flagged_topic, WAIT, |records| {
        count_by_key(records).len() >= 60
    });
    let group = format!("{}.classify", topics.prefix);
    let articles = topics.name("articles");
    let started = Instant::now();
    let mut behind = uncommitted(&brokers, &group, &articles);
    while behind != Some(0) && started.elapsed() < WAIT {
        std::thread::sleep(Duration::from_millis(500));
        behind = uncommitted(&brokers, &group, &articles);
    }
    let (status, stderr) = terminate(daemon);
    assert!(status.success(), "{stderr}");
    assert_eq!(
        count_by_key(&records).len(),
        60,
        "stories arriving after the fence never flagged:\n{stderr}"
    );
    assert_eq!(
        behind,
        Some(0),
        "the classify group's commits never caught up with the articles topic:\n{stderr}"
    );
    assert!(
        stderr.contains("consumer failed for good") && stderr.contains("consumer replaced"),
        "the replacement is not logged:\n{stderr}"
    );
}

#[test]
fn an_instance_id_kafka_would_refuse_is_a_config_error_with_its_position() {
    let scratch = Scratch::new("instance-id");
    scratch.write("feeds.toml", "");
    let config = scratch.write(
        "wirewatch.toml",
        "feeds = [\"feeds.toml\"]\n\n[bus]\nkind = \"kafka\"\n\n[bus.kafka]\ninstance_id = \"host a/1\"\n",
    );
    let output = binary()
        .args(["check", "--config", config.to_str().unwrap()])
        .env_remove("WIREWATCH_INSTANCE_ID")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("wirewatch.toml:7:15: bus.kafka.instance_id must be"),
        "{stderr}"
    );
}
