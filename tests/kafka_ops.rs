//! What an operator watches on the Kafka bus, against the real broker:
//! each stage's consumer lag on `/metrics`, and feed health published to
//! the compacted feed-status topic.

use std::time::{Duration, Instant};

use chrono::Utc;
use wirewatch_model::{ArticleId, FeedItem, FeedRef, SCHEMA_VERSION};

use crate::pipeline::http_get_if_up;
use crate::support::http::{Route, TestServer};
use crate::support::kafka::{bootstrap, consume_until, produce, write_config, TestTopics};
use crate::support::{create_topics, free_port, spawn_run, terminate, Scratch};

const WAIT: Duration = Duration::from_secs(120);

/// An item whose page is on `server`.
fn item(server: &TestServer, index: usize) -> (String, Vec<u8>) {
    let key = format!("lag-item-{index}");
    let item = FeedItem {
        schema_version: SCHEMA_VERSION,
        id: ArticleId::from_key(&key),
        feed: FeedRef {
            url: server.url("/feed.xml"),
            title: Some("Lag desk".into()),
            tags: vec![],
        },
        guid: Some(key.clone()),
        link: Some(server.url(&format!("/pages/{index}.html"))),
        title: Some(format!("Story {index}")),
        summary: Some("A story whose page takes its time.".into()),
        published: None,
        updated: None,
        authors: vec![],
        categories: vec![],
        lang: Some("en".into()),
        discovered_at: Utc::now(),
    };
    (
        item.id.as_str().to_owned(),
        serde_json::to_vec(&item).unwrap(),
    )
}

/// The sum of `wirewatch_consumer_lag_messages` over the partitions of
/// `topic` held by `stage`, or `None` when the scrape shows none.
fn lag(metrics: &str, stage: &str, topic: &str) -> Option<i64> {
    let prefix = format!("wirewatch_consumer_lag_messages{{stage=\"{stage}\",topic=\"{topic}\",");
    let values: Vec<i64> = metrics
        .lines()
        .filter(|line| line.starts_with(&prefix))
        .filter_map(|line| line.rsplit(' ').next()?.parse().ok())
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

#[test]
fn a_stage_held_up_by_slow_pages_reports_its_lag_and_reports_zero_once_it_caught_up() {
    let Some(brokers) = bootstrap() else { return };
    const STORIES: usize = 8;
    let server = TestServer::start();
    let paragraph = "<p>The ministry confirmed the delivery of the second batch of \
                     armoured vehicles under the contract signed last year, officials said \
                     on Tuesday in a statement.</p>";
    for index in 0..STORIES {
        server.route(
            &format!("/pages/{index}.html"),
            Route::ok(
                "text/html",
                format!(
                    "<html><head><title>Story {index}</title></head><body><article>\
                     <h1>Story {index}</h1>{}</article></body></html>",
                    paragraph.repeat(3)
                ),
            )
            .with_delay(Duration::from_secs(3)),
        );
    }
    let scratch = Scratch::new("kafka-lag");
    let topics = TestTopics::new("lag");
    let port = free_port();
    let config = write_config(
        &scratch,
        &topics,
        &brokers,
        "",
        &format!("\n[metrics]\nlisten = \"127.0.0.1:{port}\"\n"),
    );
    create_topics(&config);
    let items_topic = topics.name("items");
    let items: Vec<(String, Vec<u8>)> = (0..STORIES).map(|index| item(&server, index)).collect();
    produce(&brokers, &items_topic, &items);
    let daemon = spawn_run(&config, "clean");
    // Pages take 3 s each, two at a time on one host: the stage holds
    // every item uncommitted for at least 3 s after it is assigned, and
    // its consumer reports statistics each second.
    let started = Instant::now();
    let mut most = None::<i64>;
    let mut last = None::<i64>;
    while started.elapsed() < WAIT {
        let scrape = http_get_if_up(port, "/metrics");
        last = lag(&scrape, "clean", &items_topic);
        most = most.max(last);
        if most.is_some_and(|most| most > 0) && last == Some(0) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let articles = consume_until(&brokers, &topics.name("articles"), WAIT, |records| {
        records.len() >= STORIES
    });
    let (status, stderr) = terminate(daemon);
    assert!(status.success(), "{stderr}");
    assert!(
        most.is_some_and(|most| most >= (STORIES / 2) as i64),
        "the lag seen while pages were held was {most:?}, not at least {}:\n{stderr}",
        STORIES / 2
    );
    assert_eq!(
        last,
        Some(0),
        "the lag never came back to 0 after the stage caught up:\n{stderr}"
    );
    assert_eq!(articles.len(), STORIES, "{stderr}");
}
