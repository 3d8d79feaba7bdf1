//! Crashes of the embedded pipeline: the daemon is killed with SIGKILL at
//! many points while article pages are in flight, restarted on the same
//! state, and every story of the feed must reach the output exactly once.

use std::time::{Duration, Instant};

use crate::support::http::{Route, TestServer};
use crate::support::{binary, guid_counts, text, Scratch};

const STORIES: usize = 24;

/// A page long enough to be taken as the article (not the feed summary).
fn page(index: usize) -> String {
    let paragraph = format!(
        "<p>Story {index} from the crash desk. Officials met in the capital on Tuesday to \
         discuss the harbour, the new rail line and the budget for schools and clinics, and \
         said a decision would follow next month after a public consultation.</p>"
    );
    format!(
        "<!doctype html><html><head><title>Story {index}</title></head><body><article>\
         <h1>Story {index}</h1>{}</article></body></html>",
        paragraph.repeat(4)
    )
}

fn feed(server: &TestServer) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Crash desk</title><link>https://example.invalid/</link>\n",
    );
    for index in 0..STORIES {
        xml.push_str(&format!(
            "<item><title>Story {index}</title><link>{}</link><guid isPermaLink=\"false\">crash-{index}</guid><description>Story {index}</description></item>\n",
            server.url(&format!("/pages/{index}.html"))
        ));
    }
    xml.push_str("</channel></rss>\n");
    xml
}

#[test]
fn sigkill_with_pages_in_flight_loses_no_story_and_writes_none_twice() {
    let server = TestServer::start();
    for index in 0..STORIES {
        server.route(
            &format!("/pages/{index}.html"),
            Route::ok("text/html; charset=utf-8", page(index))
                .with_delay(Duration::from_millis(120)),
        );
    }
    server.route("/feed.xml", Route::ok("application/rss+xml", feed(&server)));
    let scratch = Scratch::new("crash-sigkill");
    scratch.write(
        "feeds.toml",
        &format!("[[feed]]\nurl = \"{}\"\n", server.url("/feed.xml")),
    );
    let config = scratch.write(
        "wirewatch.toml",
        r#"
feeds = ["feeds.toml"]
state_dir = "state"

[fetcher]
allow_private_addresses = ["127.0.0.1"]
min_host_delay = "0s"
max_item_age = "0s"
default_interval = "1m"
min_interval = "1s"
page_concurrency = 4

[output]
stdout = false
jsonl = "out/all.jsonl"
include = "all"
"#,
    );
    let output = scratch.path.join("out/all.jsonl");
    // Kill points spread over the run: before the feed is read, while
    // pages are fetched, and while the last ones are written. A fixed
    // sequence, so a failure can be replayed.
    let mut seed: u64 = 0x5eed_cafe;
    let mut kills_with_work_in_flight = 0;
    for round in 0..8 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let wait = Duration::from_millis(150 + (seed >> 33) % 700);
        let mut child = binary()
            .args(["run", "--config", config.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(wait);
        let before = guid_counts(&output).len();
        child.kill().unwrap();
        let _ = child.wait();
        if before < STORIES {
            kills_with_work_in_flight += 1;
        }
        eprintln!(
            "round {round}: killed after {wait:?} with {before} of {STORIES} stories written"
        );
    }
    assert!(
        kills_with_work_in_flight >= 3,
        "only {kills_with_work_in_flight} kills happened before the last story was written"
    );
    // A last run that polls once and drains.
    let last = binary()
        .args(["run", "--once", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(last.status.success(), "{}", text(&last.stderr));
    let counts = guid_counts(&output);
    let missing: Vec<String> = (0..STORIES)
        .map(|index| format!("crash-{index}"))
        .filter(|guid| !counts.contains_key(guid))
        .collect();
    let repeated: Vec<(&String, &usize)> = counts.iter().filter(|(_, count)| **count > 1).collect();
    assert!(
        missing.is_empty(),
        "stories lost across the kills: {missing:?}"
    );
    assert!(repeated.is_empty(), "stories written twice: {repeated:?}");
    assert_eq!(counts.len(), STORIES);
    // The journal holds nothing once everything is written.
    let journal = std::fs::read_to_string(scratch.path.join("state/inflight.journal")).unwrap();
    let mut pending = std::collections::BTreeSet::new();
    for line in journal.lines() {
        if let Some(record) = line.strip_prefix('+') {
            let item: serde_json::Value = serde_json::from_str(record).unwrap();
            pending.insert(item["id"].as_str().unwrap().to_owned());
        } else if let Some(id) = line.strip_prefix('-') {
            pending.remove(id);
        }
    }
    assert!(
        pending.is_empty(),
        "items still pending in the journal after the drain: {pending:?}"
    );
    let started = Instant::now();
    let again = binary()
        .args(["run", "--once", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(
        guid_counts(&output),
        counts,
        "a run after the drain wrote again"
    );
}
