//! What an operator watches on the Kafka bus, against the real broker:
//! each stage's consumer lag on `/metrics`, feed health published to the
//! compacted feed-status topic, and a webhook fed from the classified
//! topic by its own consumer group.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::ClientConfig;

use crate::pipeline::http_get_if_up;
use crate::support::http::{Route, TestServer};
use crate::support::kafka::{
    bootstrap, consume_until, feed_item, produce, uncommitted, write_config, Record, TestTopics,
};
use crate::support::{create_topics, free_port, spawn_run, terminate, Scratch};
use crate::webhook;

const WAIT: Duration = Duration::from_secs(120);

/// An item whose page is on `server`, as a record for the items topic.
fn item(server: &TestServer, index: usize) -> (String, Vec<u8>) {
    let item = feed_item(
        &format!("lag-item-{index}"),
        Some(server.url(&format!("/pages/{index}.html"))),
        &format!("Story {index}"),
        "A story whose page takes its time.",
    );
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

/// The latest record of each key in `records` (`None` for a tombstone).
fn latest(records: &[Record]) -> HashMap<String, Option<serde_json::Value>> {
    let mut latest = HashMap::new();
    for record in records {
        let Some(key) = &record.key else { continue };
        let value = (!record.payload.is_empty())
            .then(|| serde_json::from_slice(&record.payload).expect("feed status is JSON"));
        latest.insert(key.clone(), value);
    }
    latest
}

/// The topic's `cleanup.policy`, as the broker describes it.
fn cleanup_policy(brokers: &str, topic: &str) -> Option<String> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("admin client");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let described = runtime
        .block_on(admin.describe_configs(
            &[ResourceSpecifier::Topic(topic)],
            &AdminOptions::new().request_timeout(Some(Duration::from_secs(30))),
        ))
        .expect("describe configs");
    let resource = described.into_iter().next()?.ok()?;
    resource.get("cleanup.policy")?.value.clone()
}

#[test]
fn feed_health_goes_to_the_compacted_feed_status_topic_and_a_removed_feed_is_tombstoned() {
    let Some(brokers) = bootstrap() else { return };
    let server = TestServer::start();
    server.route(
        "/good.xml",
        Route::ok(
            "application/rss+xml",
            format!(
                "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Good desk</title>\
                 <item><title>Story</title><link>{}</link><guid>status-1</guid>\
                 <description>A story.</description></item></channel></rss>",
                server.url("/story.html")
            ),
        ),
    );
    server.route("/bad.xml", Route::status(500));
    let good = server.url("/good.xml");
    let bad = server.url("/bad.xml");
    let entry = |url: &str| format!("[[feed]]\nurl = \"{url}\"\ninterval = \"1s\"\n");
    let scratch = Scratch::new("kafka-feed-status");
    let topics = TestTopics::new("status");
    let status_topic = topics.name("feed-status");
    let config = write_config(
        &scratch,
        &topics,
        &brokers,
        &format!("{}{}", entry(&good), entry(&bad)),
        "",
    );
    let created = create_topics(&config);
    assert!(
        created.contains(&format!("{status_topic}\tcreated")),
        "{created}"
    );
    assert_eq!(
        cleanup_policy(&brokers, &status_topic).as_deref(),
        Some("compact")
    );
    let daemon = spawn_run(&config, "fetch");
    let records = consume_until(&brokers, &status_topic, WAIT, |records| {
        let latest = latest(records);
        let health = |url: &str| {
            latest
                .get(url)
                .and_then(|value| value.as_ref())
                .map(|value| value["health"].clone())
        };
        health(&good) == Some("ok".into()) && health(&bad) == Some("failing".into())
    });
    let seen = latest(&records);
    let failing = seen.get(&bad).cloned().flatten();
    let failing = failing.expect("no record for the failing feed");
    assert_eq!(failing["health"], "failing", "{failing}");
    assert!(
        failing["status"]["consecutive_failures"].as_u64() >= Some(1)
            && failing["status"]["last_error"]
                .as_str()
                .is_some_and(|error| error.contains("500")),
        "{failing}"
    );
    assert!(failing["reported_at"].is_string(), "{failing}");
    let ok = seen
        .get(&good)
        .cloned()
        .flatten()
        .expect("no record for the good feed");
    assert_eq!(ok["status"]["items_emitted"], 1, "{ok}");
    // The failing feed leaves the list: a reload tombstones it.
    scratch.write("feeds.toml", &entry(&good));
    let sent = std::process::Command::new("kill")
        .args(["-HUP", &daemon.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let records = consume_until(&brokers, &status_topic, WAIT, |records| {
        latest(records).get(&bad) == Some(&None)
    });
    let (status, stderr) = terminate(daemon);
    assert!(status.success(), "{stderr}");
    let after = latest(&records);
    assert_eq!(
        after.get(&bad),
        Some(&None),
        "no tombstone for the removed feed:\n{stderr}"
    );
    assert!(
        after.get(&good).is_some_and(Option::is_some),
        "the kept feed lost its record:\n{stderr}"
    );
}

/// A daemon with every stage on `config`, its webhook secret set.
fn spawn_with_secret(config: &std::path::Path) -> std::process::Child {
    crate::support::binary()
        .args(["run", "--config", config.to_str().unwrap()])
        .env("WIREWATCH_TEST_WEBHOOK_SECRET", webhook::SECRET)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starting wirewatch")
}

/// Waits until `group` has committed everything on `topic`, stops the
/// daemon and checks both; its stderr.
fn stop_caught_up(daemon: std::process::Child, brokers: &str, group: &str, topic: &str) -> String {
    let started = Instant::now();
    let mut behind = uncommitted(brokers, group, topic);
    while behind != Some(0) && started.elapsed() < WAIT {
        std::thread::sleep(Duration::from_millis(500));
        behind = uncommitted(brokers, group, topic);
    }
    let (status, stderr) = terminate(daemon);
    assert!(status.success(), "{stderr}");
    assert_eq!(
        behind,
        Some(0),
        "the webhook group never caught up:\n{stderr}"
    );
    stderr
}

#[test]
fn on_kafka_a_webhook_receiver_failing_twice_gets_each_story_once_signed_and_none_again_when_they_come_back(
) {
    let Some(brokers) = bootstrap() else { return };
    let server = TestServer::start();
    webhook::serve_stories(&server, 1);
    server.route("/hook", Route::status(204));
    server.answer_next("/hook", &[500, 503]);
    let scratch = Scratch::new("kafka-webhook");
    let topics = TestTopics::new("webhook");
    let config = write_config(
        &scratch,
        &topics,
        &brokers,
        &format!("[[feed]]\nurl = \"{}\"\n", server.url("/feed.xml")),
        "",
    );
    // Created before the webhook is added: its secret is only in the
    // daemon's environment.
    create_topics(&config);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[[output.webhook]]\nname = \"alerts\"\nurl = \"{}\"\n\
         allow_private_addresses = [\"127.0.0.1\"]\nlabels = [\"SANCTIONS\"]\n\
         retries = 3\nbackoff = \"100ms\"\nsecret_env = \"WIREWATCH_TEST_WEBHOOK_SECRET\"\n",
        server.url("/hook")
    ));
    std::fs::write(&config, text).unwrap();
    let classified = topics.name("classified");
    let group = format!("{}.webhook.alerts", topics.prefix);

    // The feed's four stories: the seed story and the EU package carry
    // SANCTIONS.
    let daemon = spawn_with_secret(&config);
    let started = Instant::now();
    while webhook::accepted(&server).len() < 2 && started.elapsed() < WAIT {
        std::thread::sleep(Duration::from_millis(200));
    }
    let stderr = stop_caught_up(daemon, &brokers, &group, &classified);
    let first = webhook::accepted(&server);
    assert_eq!(first.len(), 2, "{first:?}\n{stderr}");
    let failed = webhook::posts(&server)
        .iter()
        .filter(|post| post.status >= 500)
        .count();
    assert_eq!(failed, 2, "{stderr}");
    for post in webhook::posts(&server) {
        assert_eq!(
            wirewatch_fetcher::websub::check_signature(
                post.headers
                    .get("x-wirewatch-signature")
                    .map(String::as_str),
                webhook::SECRET.as_bytes(),
                &post.body
            ),
            Ok(()),
            "each delivery is signed over its body"
        );
    }

    // The classified records arrive again (what a stage that repeats its
    // outputs after a crash sends): the webhook's record of delivered ids
    // keeps them from being posted twice.
    let records = consume_until(&brokers, &classified, WAIT, |records| records.len() >= 4);
    assert_eq!(records.len(), 4);
    let again: Vec<(String, Vec<u8>)> = records
        .iter()
        .map(|record| (record.key.clone().unwrap(), record.payload.clone()))
        .collect();
    let daemon = spawn_with_secret(&config);
    produce(&brokers, &classified, &again);
    let stderr = stop_caught_up(daemon, &brokers, &group, &classified);
    assert_eq!(
        webhook::accepted(&server),
        first,
        "a story came back and was posted again:\n{stderr}"
    );
}
