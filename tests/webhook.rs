//! `[[output.webhook]]` against a real receiver on 127.0.0.1 (the test
//! server): signed deliveries of the configured labels, a receiver that
//! fails and recovers, one that never does (dead letters), deliveries left
//! pending by SIGTERM, and no story posted twice.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::http::{Request, Route, TestServer};
use crate::support::{
    binary, demo_file, flagged_labels, json_lines, spawn_run, text, write_local_config, Scratch,
};

pub const SECRET: &str = "s3cret key";

/// Serves one feed with the demo's seed story and the EU package (both
/// labels), the football transfer (no label) and `patriot_copies` copies of
/// the Patriot sale (arms transfer only; each at its own URL, so its own
/// story).
pub fn serve_stories(server: &TestServer, patriot_copies: usize) {
    let mut pages: Vec<(String, &str)> = [
        "russia-dprk-arms-for-food.html",
        "striker-transfer.html",
        "eu-sanctions-package.html",
    ]
    .iter()
    .map(|page| (format!("/pages/{page}"), *page))
    .collect();
    for copy in 0..patriot_copies {
        pages.push((
            format!("/pages/{copy}/patriot-sale-approved.html"),
            "patriot-sale-approved.html",
        ));
    }
    let mut xml = String::from("<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>Test desk</title><link>https://example.invalid/</link>\n");
    for (index, (path, page)) in pages.iter().enumerate() {
        server.route(
            path,
            Route::ok(
                "text/html; charset=utf-8",
                demo_file(&format!("pages/{page}")),
            ),
        );
        xml.push_str(&format!(
            "<item><title>story {index}</title><link>{}</link><guid isPermaLink=\"false\">test-{index}</guid></item>\n",
            server.url(path)
        ));
    }
    xml.push_str("</channel></rss>\n");
    server.route("/feed.xml", Route::ok("application/rss+xml", xml));
}

/// A config polling the test feed, writing flagged stories to
/// `out/flagged.jsonl`, with one `[[output.webhook]]` to `/hook` made of
/// `webhook` (more keys).
fn config(scratch: &Scratch, server: &TestServer, webhook: &str) -> PathBuf {
    write_local_config(
        scratch,
        &server.url("/feed.xml"),
        &format!(
            "\n[output]\nstdout = false\njsonl = \"out/flagged.jsonl\"\n\n\
             [[output.webhook]]\nurl = \"{}\"\nallow_private_addresses = [\"127.0.0.1\"]\n{webhook}",
            server.url("/hook")
        ),
    )
}

/// A test server with the stories (`patriot_copies` of the Patriot sale)
/// and `/hook` answering with `hook`, a scratch directory named `name`, and
/// the config with `webhook`'s keys.
fn setup(
    name: &str,
    patriot_copies: usize,
    hook: Route,
    webhook: &str,
) -> (TestServer, Scratch, PathBuf) {
    let server = TestServer::start();
    serve_stories(&server, patriot_copies);
    server.route("/hook", hook);
    let scratch = Scratch::new(name);
    let config = config(&scratch, &server, webhook);
    (server, scratch, config)
}

/// The ids of the stories the local output wrote with `label` flagged,
/// sorted.
fn stories_with(scratch: &Scratch, label: &str) -> Vec<String> {
    let mut ids: Vec<String> = json_lines(&scratch.path.join("out/flagged.jsonl"))
        .iter()
        .filter(|story| flagged_labels(story).contains(&label.to_owned()))
        .map(|story| story["article"]["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// The POSTs the receiver got.
pub fn posts(server: &TestServer) -> Vec<Request> {
    server
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST" && request.path == "/hook")
        .collect()
}

/// The article ids of the POSTs answered 2xx, sorted.
pub fn accepted(server: &TestServer) -> Vec<String> {
    let mut ids: Vec<String> = posts(server)
        .iter()
        .filter(|request| (200..300).contains(&request.status))
        .map(|request| request.headers["x-wirewatch-article-id"].clone())
        .collect();
    ids.sort();
    ids
}

fn run_once(config: &Path) -> String {
    let output = binary()
        .args(["run", "--once", "--config", config.to_str().unwrap()])
        .env("WIREWATCH_TEST_WEBHOOK_SECRET", SECRET)
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "run failed: {stderr}");
    stderr
}

fn dead_letters(scratch: &Scratch) -> Vec<serde_json::Value> {
    json_lines(&scratch.path.join("state/dead-letters.jsonl"))
}

#[test]
fn webhook_posts_signed_stories_of_its_labels_only_and_not_again_when_they_come_back() {
    let (server, scratch, config) = setup(
        "webhook-signed",
        1,
        Route::status(204),
        "name = \"alerts\"\nlabels = [\"SANCTIONS\"]\nsecret_env = \"WIREWATCH_TEST_WEBHOOK_SECRET\"\n",
    );
    run_once(&config);
    let written = json_lines(&scratch.path.join("out/flagged.jsonl"));
    let sanctions = stories_with(&scratch, "SANCTIONS");
    // The seed story and the EU package carry SANCTIONS; the Patriot sale
    // is flagged with ARMS_TRANSFER only, which this webhook leaves out.
    assert_eq!(sanctions.len(), 2, "{written:#?}");
    assert_eq!(written.len(), 3, "{written:#?}");
    let deliveries = posts(&server);
    assert_eq!(deliveries.len(), sanctions.len(), "{deliveries:#?}");
    for delivery in &deliveries {
        // Checked as a receiver would, with the WebSub push check (the same
        // `sha256=<hex HMAC>` form).
        let header = delivery.headers.get("x-wirewatch-signature");
        assert!(
            header.is_some_and(|header| header.starts_with("sha256=")),
            "{header:?}"
        );
        assert_eq!(
            wirewatch_fetcher::websub::check_signature(
                header.map(String::as_str),
                SECRET.as_bytes(),
                &delivery.body
            ),
            Ok(()),
            "the signature is over the exact body"
        );
        assert_ne!(
            wirewatch_fetcher::websub::check_signature(
                header.map(String::as_str),
                b"another key",
                &delivery.body
            ),
            Ok(()),
        );
        assert_eq!(
            delivery.headers.get("content-type").map(String::as_str),
            Some("application/json")
        );
        let story: serde_json::Value = serde_json::from_slice(&delivery.body).unwrap();
        assert_eq!(
            delivery
                .headers
                .get("x-wirewatch-article-id")
                .map(String::as_str),
            story["article"]["id"].as_str()
        );
        assert!(flagged_labels(&story).contains(&"SANCTIONS".to_owned()));
        assert!(
            written.contains(&story),
            "the body is the story's output line"
        );
    }
    assert_eq!(accepted(&server), sanctions);
    // With the seen-set gone the feed's stories come through again; the
    // webhook's record of delivered ids keeps them from being posted again.
    std::fs::remove_file(scratch.path.join("state/fetcher.redb")).unwrap();
    let again = run_once(&config);
    assert!(
        again.contains("new_items=4"),
        "the stories came back: {again}"
    );
    assert_eq!(
        posts(&server).len(),
        sanctions.len(),
        "{:#?}",
        posts(&server)
    );
}

#[test]
fn webhook_receiver_failing_twice_then_recovering_gets_each_story_once() {
    let (server, scratch, config) = setup(
        "webhook-recovers",
        1,
        Route::status(204),
        "labels = [\"ARMS_TRANSFER\"]\nretries = 3\nbackoff = \"100ms\"\n",
    );
    server.answer_next("/hook", &[500, 503]);
    let stderr = run_once(&config);
    let armed = stories_with(&scratch, "ARMS_TRANSFER");
    assert!(!armed.is_empty(), "the seed story carries ARMS_TRANSFER");
    let answered: Vec<u16> = posts(&server)
        .iter()
        .map(|request| request.status)
        .collect();
    assert_eq!(
        answered.iter().filter(|status| **status >= 500).count(),
        2,
        "{answered:?}"
    );
    assert_eq!(accepted(&server), armed, "each story accepted exactly once");
    assert!(
        posts(&server)
            .iter()
            .all(|request| !request.headers.contains_key("x-wirewatch-signature")),
        "no secret, no signature"
    );
    assert!(
        stderr.contains("webhook delivery failed; retrying"),
        "{stderr}"
    );
    assert!(
        dead_letters(&scratch).is_empty(),
        "{:#?}",
        dead_letters(&scratch)
    );
}

#[test]
fn webhook_receiver_that_never_recovers_leaves_each_story_in_the_dead_letters() {
    let (server, scratch, config) = setup(
        "webhook-dead",
        1,
        Route::status(500),
        "name = \"down\"\nlabels = [\"ARMS_TRANSFER\"]\nretries = 2\nbackoff = \"100ms\"\n",
    );
    let stderr = run_once(&config);
    let armed = stories_with(&scratch, "ARMS_TRANSFER");
    assert!(!armed.is_empty(), "the seed story carries ARMS_TRANSFER");
    assert_eq!(
        posts(&server).len(),
        3 * armed.len(),
        "one attempt and two retries per story"
    );
    let letters = dead_letters(&scratch);
    let mut lettered: Vec<String> = letters
        .iter()
        .map(|letter| letter["key"].as_str().unwrap().to_owned())
        .collect();
    lettered.sort();
    assert_eq!(lettered, armed, "{letters:#?}");
    let written = json_lines(&scratch.path.join("out/flagged.jsonl"));
    for letter in &letters {
        assert_eq!(letter["headers"]["stage"], "webhook.down");
        let error = letter["headers"]["error"].as_str().unwrap();
        assert!(error.contains(&server.url("/hook")), "{error}");
        assert!(error.contains("status 500 after 3 attempts"), "{error}");
        let story: serde_json::Value =
            serde_json::from_str(letter["payload"].as_str().unwrap()).unwrap();
        assert!(written.contains(&story), "the dead letter holds the story");
        let id = letter["key"].as_str().unwrap();
        assert!(
            stderr
                .lines()
                .any(|line| line.contains("webhook delivery given up")
                    && line.contains(id)
                    && line.contains(&server.url("/hook"))),
            "logged with the URL and the article id: {stderr}"
        );
    }
    // Dead-lettered is done: a second start replays nothing to the webhook.
    run_once(&config);
    assert_eq!(posts(&server).len(), 3 * armed.len());
}

#[test]
fn webhook_deliveries_left_pending_by_sigterm_are_posted_at_the_next_start() {
    let (server, scratch, config) = setup(
        "webhook-sigterm",
        1,
        Route::status(503),
        "labels = [\"ARMS_TRANSFER\"]\nretries = 20\nbackoff = \"200ms\"\nmax_backoff = \"1s\"\n",
    );
    let mut daemon = spawn_run(&config, "");
    let started = Instant::now();
    while posts(&server).is_empty() || stories_with(&scratch, "ARMS_TRANSFER").is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no delivery attempt within 30 s"
        );
        if let Some(status) = daemon.try_wait().unwrap() {
            panic!("the daemon exited early: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let stopping = Instant::now();
    let (status, stderr) = crate::support::terminate(daemon);
    assert!(status.success(), "{stderr}");
    assert!(
        stopping.elapsed() < Duration::from_secs(10),
        "SIGTERM waited for the retries: {stderr}"
    );
    assert!(
        stderr.contains("leaving the webhook's pending deliveries for the next start"),
        "{stderr}"
    );
    assert!(accepted(&server).is_empty());
    assert!(
        dead_letters(&scratch).is_empty(),
        "{:#?}",
        dead_letters(&scratch)
    );
    let lines_before = json_lines(&scratch.path.join("out/flagged.jsonl")).len();
    // The receiver is back; the journal replays the stories it did not take.
    server.route("/hook", Route::status(200));
    run_once(&config);
    assert_eq!(
        accepted(&server),
        stories_with(&scratch, "ARMS_TRANSFER"),
        "each story accepted once"
    );
    assert_eq!(
        json_lines(&scratch.path.join("out/flagged.jsonl")).len(),
        lines_before,
        "the local output does not write the replayed stories again"
    );
}

#[test]
fn webhook_receiver_that_hangs_does_not_hold_back_the_local_output() {
    let (server, scratch, config) = setup(
        "webhook-hangs",
        8,
        Route::status(200).with_delay(Duration::from_secs(4)),
        "concurrency = 1\ntimeout = \"30s\"\n[bus]\nmemory_capacity = 1\n",
    );
    let daemon = spawn_run(&config, "");
    let started = Instant::now();
    // Ten flagged stories, one request to the receiver at a time, and a
    // bus that holds one message per stage: a webhook stage that waited for
    // each answer would fill its channel and hold back the classify stage,
    // and with it the local output, until the receiver answered.
    while json_lines(&scratch.path.join("out/flagged.jsonl")).len() < 10 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the local output did not write the ten stories"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let hook_arrivals = server
        .arrived()
        .iter()
        .filter(|path| path.as_str() == "/hook")
        .count();
    assert!(
        hook_arrivals >= 1 && posts(&server).is_empty(),
        "the output was written while the receiver had answered nothing ({hook_arrivals} arrived)"
    );
    let (status, stderr) = crate::support::terminate(daemon);
    assert!(status.success(), "{stderr}");
}
