//! The Kafka transport against a real broker (`KAFKA_BOOTSTRAP`, started by
//! scripts/test): end to end to the flagged topics, per-label routing, the
//! dead-letter topic, resuming from committed offsets, two processes sharing
//! partitions, transactions, and a SIGKILL mid-stream.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use wirewatch_model::{Article, ArticleId, ArticleStatus, Extraction, SCHEMA_VERSION};

use crate::support::http::{Route, TestServer};
use crate::support::kafka::{
    bootstrap, consume_all, consume_until, feed_item, produce, write_config, Record, TestTopics,
};
use crate::support::{create_topics, demo_file, spawn_run as spawn, terminate, Scratch};

const WAIT: Duration = Duration::from_secs(90);

fn article(key: &str, text: &str) -> Article {
    let item = feed_item(key, None, key, text);
    Article {
        schema_version: SCHEMA_VERSION,
        id: item.id.clone(),
        url: String::new(),
        fetched_at: Utc::now(),
        status: ArticleStatus::FeedOnly,
        http_status: None,
        title: Some(format!("Story {key}")),
        byline: None,
        published: None,
        lang: Some("en".into()),
        word_count: text.split_whitespace().count(),
        text: text.into(),
        extraction: Extraction {
            method: "feed_summary".into(),
            warnings: vec![],
        },
        item,
    }
}

fn encoded<T: serde::Serialize>(id: &ArticleId, value: &T) -> (String, Vec<u8>) {
    (id.to_string(), serde_json::to_vec(value).unwrap())
}

fn ids(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .filter_map(|record| record.key.clone())
        .collect()
}

fn count_by_id(records: &[Record]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for id in ids(records) {
        *counts.entry(id).or_insert(0) += 1;
    }
    counts
}

const NEUTRAL: &str = "The city council met on Tuesday to discuss road repairs and a new library.";

#[test]
fn feed_to_flagged_topics_end_to_end_with_per_label_routing() {
    let Some(brokers) = bootstrap() else { return };
    let server = TestServer::start();
    let pages = [
        (
            "Moscow wants North Korean munitions",
            "russia-dprk-arms-for-food.html",
        ),
        ("Striker completes record transfer", "striker-transfer.html"),
        (
            "State Department clears possible missile sale",
            "patriot-sale-approved.html",
        ),
        ("Steel makers welcome new tariffs", "tariff-dispute.html"),
    ];
    let mut xml = String::from(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Kafka desk</title>",
    );
    for (title, page) in pages {
        server.route(
            &format!("/{page}"),
            Route::ok("text/html", demo_file(&format!("pages/{page}"))),
        );
        xml.push_str(&format!(
            "<item><title>{title}</title><link>{}</link></item>",
            server.url(&format!("/{page}"))
        ));
    }
    xml.push_str("</channel></rss>");
    server.route("/feed.xml", Route::ok("application/rss+xml", xml));
    let scratch = Scratch::new("kafka-e2e");
    let topics = TestTopics::new("e2e");
    let feed_url = server.url("/feed.xml");
    let config = write_config(
        &scratch,
        &topics,
        &brokers,
        &format!("[[feed]]\nurl = \"{feed_url}\"\n"),
        "",
    );

    let created = create_topics(&config);
    // Seven for the stages and feed health, two for shared fetchers.
    assert_eq!(created.matches("\tcreated").count(), 9, "{created}");
    let again = create_topics(&config);
    assert_eq!(
        again.matches("\texists").count(),
        9,
        "topic creation is idempotent: {again}"
    );

    let daemon = spawn(&config, "");
    let classified = consume_until(&brokers, &topics.name("classified"), WAIT, |records| {
        records.len() >= 4
    });
    let sanctions = consume_all(
        &brokers,
        &topics.name("flagged.sanctions"),
        Duration::from_secs(2),
        WAIT,
    );
    let arms = consume_all(
        &brokers,
        &topics.name("flagged.arms-transfer"),
        Duration::from_secs(2),
        WAIT,
    );
    let (status, stderr) = terminate(daemon);
    assert!(status.success(), "daemon exit {status:?}: {stderr}");

    assert_eq!(
        classified.len(),
        4,
        "every article is classified once: {stderr}"
    );
    let link_of = |record: &Record| {
        record.json()["article"]["item"]["link"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    for record in &classified {
        assert_eq!(
            record.headers.get("schema-version").map(String::as_str),
            Some("1")
        );
        assert_eq!(
            record.headers.get("content-type").map(String::as_str),
            Some("application/json")
        );
        assert_eq!(record.headers.get("source-feed"), Some(&feed_url));
        assert_eq!(
            record.key.as_deref(),
            record.json()["article"]["id"].as_str(),
            "key is the article id"
        );
        assert!(
            (0..4).contains(&record.partition) && record.offset >= 0,
            "4 partitions from topics create"
        );
    }
    let on = |records: &[Record], page: &str| {
        records.iter().any(|record| link_of(record).contains(page))
    };
    assert!(
        on(&sanctions, "russia-dprk"),
        "seed story on the sanctions topic"
    );
    assert!(
        on(&arms, "russia-dprk"),
        "seed story on the arms-transfer topic"
    );
    assert!(
        on(&arms, "patriot-sale"),
        "arms sale on the arms-transfer topic"
    );
    assert!(
        !on(&sanctions, "patriot-sale"),
        "arms sale not routed to sanctions"
    );
    for negative in ["striker-transfer", "tariff-dispute"] {
        assert!(
            !on(&sanctions, negative) && !on(&arms, negative),
            "{negative} flagged"
        );
    }
}

#[test]
fn poison_message_goes_to_the_dead_letter_topic_and_the_stage_goes_on() {
    let Some(brokers) = bootstrap() else { return };
    let scratch = Scratch::new("kafka-dlq");
    let topics = TestTopics::new("dlq");
    let config = write_config(&scratch, &topics, &brokers, "", "");
    create_topics(&config);
    let good = article("after-poison", NEUTRAL);
    produce(
        &brokers,
        &topics.name("articles"),
        &[
            ("poison".into(), b"{ this is not an article".to_vec()),
            encoded(&good.id, &good),
        ],
    );
    let daemon = spawn(&config, "classify");
    let dead = consume_until(&brokers, &topics.name("dlq"), WAIT, |records| {
        !records.is_empty()
    });
    let classified = consume_until(&brokers, &topics.name("classified"), WAIT, |records| {
        !records.is_empty()
    });
    let (status, stderr) = terminate(daemon);
    assert!(status.success(), "{stderr}");
    assert_eq!(dead.len(), 1, "{stderr}");
    let letter = &dead[0];
    assert_eq!(letter.key.as_deref(), Some("poison"));
    assert_eq!(letter.payload, b"{ this is not an article");
    assert!(
        letter.headers["error"].contains("cannot decode article"),
        "{:?}",
        letter.headers
    );
    assert_eq!(letter.headers["stage"], "classify");
    assert_eq!(letter.headers["source-topic"], topics.name("articles"));
    assert!(letter.headers["source-partition"].parse::<i32>().is_ok());
    assert!(letter.headers["source-offset"].parse::<i64>().is_ok());
    assert_eq!(
        ids(&classified),
        vec![good.id.to_string()],
        "the stage went on after the poison"
    );
}

#[test]
fn a_restarted_stage_resumes_from_committed_offsets() {
    let Some(brokers) = bootstrap() else { return };
    let scratch = Scratch::new("kafka-resume");
    let topics = TestTopics::new("resume");
    let config = write_config(&scratch, &topics, &brokers, "", "");
    create_topics(&config);
    let batch = |range: std::ops::Range<usize>| -> Vec<(String, Vec<u8>)> {
        range
            .map(|index| {
                let article = article(&format!("resume-{index}"), NEUTRAL);
                encoded(&article.id, &article)
            })
            .collect()
    };
    produce(&brokers, &topics.name("articles"), &batch(0..30));
    let first = spawn(&config, "classify");
    let seen = consume_until(&brokers, &topics.name("classified"), WAIT, |records| {
        records.len() >= 30
    });
    assert_eq!(seen.len(), 30);
    let (status, stderr) = terminate(first);
    assert!(status.success(), "{stderr}");

    produce(&brokers, &topics.name("articles"), &batch(30..60));
    let second = spawn(&config, "classify");
    consume_until(&brokers, &topics.name("classified"), WAIT, |records| {
        records.len() >= 60
    });
    let (status, stderr) = terminate(second);
    assert!(status.success(), "{stderr}");
    let all = consume_all(
        &brokers,
        &topics.name("classified"),
        Duration::from_secs(3),
        WAIT,
    );
    let counts = count_by_id(&all);
    assert_eq!(counts.len(), 60, "nothing lost");
    let twice: Vec<_> = counts.iter().filter(|(_, count)| **count > 1).collect();
    assert!(
        twice.is_empty(),
        "committed messages processed again: {twice:?}"
    );
}

#[test]
fn two_cleaner_processes_share_the_partitions() {
    let Some(brokers) = bootstrap() else { return };
    let scratch = Scratch::new("kafka-split");
    let topics = TestTopics::new("split");
    let config = write_config(&scratch, &topics, &brokers, "", "");
    create_topics(&config);
    let first = spawn(&config, "clean");
    let second = spawn(&config, "clean");
    // Let the group settle with both members before producing.
    std::thread::sleep(Duration::from_secs(8));
    let items: Vec<(String, Vec<u8>)> = (0..80)
        .map(|index| {
            let item = feed_item(&format!("split-{index}"), None, "Local news", NEUTRAL);
            encoded(&item.id, &item)
        })
        .collect();
    produce(&brokers, &topics.name("items"), &items);
    let articles = consume_until(&brokers, &topics.name("articles"), WAIT, |records| {
        records.len() >= 80
    });
    let (first_status, first_log) = terminate(first);
    let (second_status, second_log) = terminate(second);
    assert!(first_status.success() && second_status.success());
    assert_eq!(
        count_by_id(&articles).len(),
        80,
        "every item became an article"
    );
    let processed = |log: &str| -> u64 {
        log.lines()
            .filter(|line| line.contains("stage stopped") && line.contains("stage=clean"))
            .filter_map(|line| line.split("processed=").nth(1))
            .filter_map(|rest| rest.split_whitespace().next())
            .find_map(|number| {
                number
                    .trim_matches(|c: char| !c.is_ascii_digit())
                    .parse()
                    .ok()
            })
            .unwrap_or(0)
    };
    let (first_count, second_count) = (processed(&first_log), processed(&second_log));
    assert!(
        first_count > 0 && second_count > 0,
        "both processes took a share: {first_count} + {second_count}\n{first_log}\n{second_log}"
    );
    assert_eq!(first_count + second_count, 80);
}

/// No fault is injected here: this checks the transactional path's plain
/// run (each article classified once, the poison record to the dead-letter
/// topic). Kills and repeats are `kafka_crash.rs`.
#[test]
fn transactional_classify_writes_each_article_once_and_a_poison_record_to_the_dlq() {
    let Some(brokers) = bootstrap() else { return };
    let scratch = Scratch::new("kafka-txn");
    let topics = TestTopics::new("txn");
    let config = write_config(&scratch, &topics, &brokers, "", "transactional = true");
    create_topics(&config);
    let mut records: Vec<(String, Vec<u8>)> = (0..40)
        .map(|index| {
            let article = article(&format!("txn-{index}"), NEUTRAL);
            encoded(&article.id, &article)
        })
        .collect();
    records.insert(20, ("poison".into(), b"not json".to_vec()));
    produce(&brokers, &topics.name("articles"), &records);
    let daemon = spawn(&config, "classify");
    consume_until(&brokers, &topics.name("classified"), WAIT, |records| {
        records.len() >= 40
    });
    let (status, stderr) = terminate(daemon);
    assert!(status.success(), "{stderr}");
    let classified = consume_all(
        &brokers,
        &topics.name("classified"),
        Duration::from_secs(3),
        WAIT,
    );
    let counts = count_by_id(&classified);
    assert_eq!(counts.len(), 40, "{stderr}");
    assert!(
        counts.values().all(|count| *count == 1),
        "exactly once: {counts:?}"
    );
    let dead = consume_all(&brokers, &topics.name("dlq"), Duration::from_secs(2), WAIT);
    assert_eq!(dead.len(), 1);
}

#[test]
fn killed_mid_stream_and_restarted_every_story_still_arrives() {
    let Some(brokers) = bootstrap() else { return };
    let scratch = Scratch::new("kafka-kill");
    let topics = TestTopics::new("kill");
    let config = write_config(&scratch, &topics, &brokers, "", "");
    create_topics(&config);
    let total = 300;
    let items: Vec<(String, Vec<u8>)> = (0..total)
        .map(|index| {
            let item = feed_item(
                &format!("kill-{index}"),
                None,
                "Treasury sanctions arms broker",
                "The US Treasury sanctioned a broker who arranged North Korean weapons deliveries to Russia.",
            );
            encoded(&item.id, &item)
        })
        .collect();
    produce(&brokers, &topics.name("items"), &items);
    let mut victim = spawn(&config, "clean,classify");
    consume_until(
        &brokers,
        &topics.name("flagged.sanctions"),
        WAIT,
        |records| records.len() >= 20,
    );
    victim.kill().unwrap(); // SIGKILL
    victim.wait().unwrap();

    let started = Instant::now();
    let survivor = spawn(&config, "clean,classify");
    let flagged = consume_until(
        &brokers,
        &topics.name("flagged.sanctions"),
        WAIT,
        |records| count_by_id(records).len() >= total,
    );
    let (status, stderr) = terminate(survivor);
    assert!(status.success(), "{stderr}");
    let counts = count_by_id(&flagged);
    let duplicates: usize = counts.values().map(|count| count - 1).sum();
    eprintln!(
        "kill -9 mid-stream: {} of {total} stories reached the flagged topic, {duplicates} duplicate deliveries (at-least-once), recovered in {:?}",
        counts.len(),
        started.elapsed()
    );
    assert_eq!(counts.len(), total, "stories lost after SIGKILL");
}
