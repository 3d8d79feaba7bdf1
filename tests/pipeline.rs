//! The embedded pipeline end to end: feed and pages served over real HTTP,
//! every stage on the memory bus, flagged output checked, state reused.

use std::time::{Duration, Instant};

use crate::support::http::{Route, TestServer};
use crate::support::{
    demo_file, flagged_labels, json_lines, on_a_terminal, spawn_daemon, text, wirewatch, Scratch,
};

/// An RSS feed whose items link to the given paths on `server`.
pub fn feed(server: &TestServer, items: &[(&str, &str)]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Test desk</title><link>https://example.invalid/</link>\n",
    );
    for (index, (title, path)) in items.iter().enumerate() {
        xml.push_str(&format!(
            "<item><title>{title}</title><link>{}</link><guid isPermaLink=\"false\">test-{index}</guid><description>{title}</description></item>\n",
            server.url(path)
        ));
    }
    xml.push_str("</channel></rss>\n");
    xml
}

/// Serves `items` as the RSS feed at `/feed.xml`.
fn serve_feed(server: &TestServer, items: &[(&str, &str)]) {
    server.route(
        "/feed.xml",
        Route::ok("application/rss+xml", feed(server, items)),
    );
}

fn config(scratch: &Scratch, feed_url: &str) -> std::path::PathBuf {
    scratch.write(
        "feeds.toml",
        &format!("[[feed]]\nurl = \"{feed_url}\"\ntitle = \"Test desk\"\ntags = [\"test\"]\n"),
    );
    scratch.write(
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

[output]
stdout = true
jsonl = "out/flagged.jsonl"
"#,
    )
}

/// The three demo stories (the seed story, a football transfer, an EU
/// sanctions package) as feed items: title and path on the test server.
pub const DEMO_STORIES: [(&str, &str); 3] = [
    (
        "Moscow wants North Korean munitions",
        "/pages/russia-dprk-arms-for-food.html",
    ),
    (
        "Striker completes record transfer",
        "/pages/striker-transfer.html",
    ),
    (
        "EU Council adopts new sanctions listings",
        "/pages/eu-sanctions-package.html",
    ),
];

pub fn serve_demo_pages(server: &TestServer) {
    for page in [
        "russia-dprk-arms-for-food.html",
        "striker-transfer.html",
        "eu-sanctions-package.html",
    ] {
        server.route(
            &format!("/pages/{page}"),
            Route::ok(
                "text/html; charset=utf-8",
                demo_file(&format!("pages/{page}")),
            ),
        );
    }
}

#[test]
fn flags_the_seed_story_and_not_the_football_transfer_then_emits_nothing_twice() {
    let server = TestServer::start();
    serve_demo_pages(&server);
    server.route(
        "/feed.xml",
        Route::ok("application/rss+xml", feed(&server, &DEMO_STORIES)).with_etag("\"feed-v1\""),
    );
    let scratch = Scratch::new("e2e");
    let config = config(&scratch, &server.url("/feed.xml"));
    let config = config.to_str().unwrap();

    let first = wirewatch(&["run", "--config", config, "--once"]);
    assert!(
        first.status.success(),
        "first run failed: {}",
        text(&first.stderr)
    );
    let output_file = scratch.path.join("out/flagged.jsonl");
    let records = json_lines(&output_file);
    let stdout_lines: Vec<&str> = std::str::from_utf8(&first.stdout)
        .unwrap()
        .lines()
        .collect();
    assert_eq!(
        stdout_lines.len(),
        records.len(),
        "stdout and the file hold the same records"
    );

    let seed = records
        .iter()
        .find(|record| {
            record["article"]["url"]
                .as_str()
                .unwrap_or("")
                .contains("russia-dprk")
        })
        .or_else(|| {
            records.iter().find(|record| {
                record["article"]["item"]["link"]
                    .as_str()
                    .unwrap_or("")
                    .contains("russia-dprk")
            })
        })
        .unwrap_or_else(|| panic!("seed story not flagged; output: {records:#?}"));
    let labels = flagged_labels(seed);
    assert!(
        labels.contains(&"ARMS_TRANSFER".to_owned()),
        "labels: {labels:?}"
    );
    assert!(
        labels.contains(&"SANCTIONS".to_owned()),
        "labels: {labels:?}"
    );
    assert_eq!(
        seed["article"]["status"], "fetched",
        "the page itself was cleaned"
    );
    assert!(seed["article"]["text"]
        .as_str()
        .unwrap()
        .contains("Mkrtychev"));
    assert!(
        !seed["article"]["text"]
            .as_str()
            .unwrap()
            .contains("Share this story"),
        "boilerplate removed"
    );
    let evidence = seed["classification"]["evidence"].as_array().unwrap();
    assert!(!evidence.is_empty(), "evidence present");
    for span in evidence {
        let field = span["field"].as_str().unwrap_or("text");
        let source = if field == "title" {
            seed["article"]["title"].as_str().unwrap()
        } else {
            seed["article"]["text"].as_str().unwrap()
        };
        let start = span["start"].as_u64().unwrap() as usize;
        let end = span["end"].as_u64().unwrap() as usize;
        let quoted: String = source.chars().skip(start).take(end - start).collect();
        assert_eq!(
            quoted,
            span["text"].as_str().unwrap(),
            "evidence offsets are character offsets"
        );
    }
    assert_eq!(seed["schema_version"], 1);

    assert!(
        !records
            .iter()
            .any(|record| record["article"]["item"]["link"]
                .as_str()
                .unwrap_or("")
                .contains("striker")),
        "a football transfer is not flagged"
    );
    assert!(
        records
            .iter()
            .any(|record| record["article"]["item"]["link"]
                .as_str()
                .unwrap_or("")
                .contains("eu-sanctions")
                && flagged_labels(record).contains(&"SANCTIONS".to_owned())),
        "the EU sanctions release is flagged SANCTIONS"
    );

    // Second run on the same state: conditional GET, nothing new.
    let second = wirewatch(&["run", "--config", config, "--once"]);
    assert!(
        second.status.success(),
        "second run failed: {}",
        text(&second.stderr)
    );
    assert!(
        second.stdout.is_empty(),
        "second run printed: {}",
        text(&second.stdout)
    );
    assert_eq!(json_lines(&output_file).len(), records.len());
    let feed_requests: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|request| request.path == "/feed.xml")
        .collect();
    assert_eq!(feed_requests.len(), 2);
    assert_eq!(
        feed_requests[1]
            .headers
            .get("if-none-match")
            .map(String::as_str),
        Some("\"feed-v1\""),
        "the stored ETag is sent"
    );
    assert_eq!(feed_requests[1].status, 304);
}

#[test]
fn a_changed_feed_with_old_and_new_items_emits_only_the_new_one() {
    let server = TestServer::start();
    serve_demo_pages(&server);
    let scratch = Scratch::new("dedup");
    let config = config(&scratch, &server.url("/feed.xml"));
    let config = config.to_str().unwrap();
    server.route(
        "/feed.xml",
        Route::ok(
            "application/rss+xml",
            feed(
                &server,
                &[(
                    "EU Council adopts new sanctions listings",
                    "/pages/eu-sanctions-package.html",
                )],
            ),
        ),
    );
    assert!(wirewatch(&["run", "--config", config, "--once"])
        .status
        .success());
    // Same story again (now with a tracking parameter) plus a new one.
    serve_feed(
        &server,
        &[
            (
                "EU Council adopts new sanctions listings",
                "/pages/eu-sanctions-package.html?utm_source=rss",
            ),
            (
                "Moscow wants North Korean munitions",
                "/pages/russia-dprk-arms-for-food.html",
            ),
        ],
    );
    let second = wirewatch(&["run", "--config", config, "--once"]);
    assert!(second.status.success(), "{}", text(&second.stderr));
    let printed: Vec<serde_json::Value> = text(&second.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(printed.len(), 1, "only the new story: {printed:#?}");
    assert!(printed[0]["article"]["item"]["link"]
        .as_str()
        .unwrap()
        .contains("russia-dprk"));
}

#[test]
fn an_unreachable_page_falls_back_to_the_feed_summary() {
    let server = TestServer::start();
    let scratch = Scratch::new("fallback");
    let config = config(&scratch, &server.url("/feed.xml"));
    let body = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><item><title>Treasury sanctions arms broker</title><link>{}</link><description>The US Treasury on Friday sanctioned a broker accused of arranging weapons shipments from North Korea to Russia, freezing his assets.</description></item></channel></rss>",
        server.url("/missing.html")
    );
    server.route("/feed.xml", Route::ok("application/rss+xml", body));
    let output = wirewatch(&["run", "--config", config.to_str().unwrap(), "--once"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let records = json_lines(&scratch.path.join("out/flagged.jsonl"));
    assert_eq!(records.len(), 1, "{}", text(&output.stderr));
    assert_eq!(records[0]["article"]["status"], "feed_only");
    assert!(records[0]["article"]["extraction"]["warnings"][0]
        .as_str()
        .unwrap()
        .contains("404"));
}

/// SIGTERM arrives while a page is being fetched (its server holds the
/// answer for 3 s): the daemon finishes that story, writes it, and exits 0.
#[test]
fn sigterm_stops_the_daemon_cleanly_after_in_flight_work() {
    let server = TestServer::start();
    serve_demo_pages(&server);
    let slow_page = "/pages/slow/eu-sanctions-package.html";
    server.route(
        slow_page,
        Route::ok(
            "text/html; charset=utf-8",
            demo_file("pages/eu-sanctions-package.html"),
        )
        .with_delay(Duration::from_secs(3)),
    );
    serve_feed(
        &server,
        &[
            (
                "Moscow wants North Korean munitions",
                "/pages/russia-dprk-arms-for-food.html",
            ),
            ("EU adopts a new sanctions package", slow_page),
        ],
    );
    let scratch = Scratch::new("sigterm");
    let config = config(&scratch, &server.url("/feed.xml"));
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let with_metrics = std::fs::read_to_string(&config).unwrap()
        + &format!("\n[metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n");
    std::fs::write(&config, with_metrics).unwrap();
    let mut child = spawn_daemon(&config, std::process::Stdio::piped());
    let output_file = scratch.path.join("out/flagged.jsonl");
    let started = Instant::now();
    while json_lines(&output_file).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no flagged output within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The feed's status is stored just after its items are handed on.
    let mut metrics = http_get(metrics_port, "/metrics");
    while !metrics.contains("wirewatch_feed_consecutive_failures{")
        && started.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(100));
        metrics = http_get(metrics_port, "/metrics");
    }
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(
        metrics.contains("wirewatch_articles_classified_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("wirewatch_feed_consecutive_failures{feed=\""),
        "{metrics}"
    );
    assert!(http_get(metrics_port, "/readyz").starts_with("HTTP/1.1 200"));
    assert!(http_get(metrics_port, "/healthz").starts_with("HTTP/1.1 200"));
    // The slow page has been asked for and not yet answered: in flight.
    while !server.arrived().iter().any(|path| path == slow_page) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the slow page was never requested"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !server
            .requests()
            .iter()
            .any(|request| request.path == slow_page),
        "the slow page was answered before SIGTERM: nothing in flight"
    );
    assert_eq!(json_lines(&output_file).len(), 1);
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let stopped = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(20),
            "daemon did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
    let output = child.wait_with_output().unwrap();
    assert!(
        text(&output.stderr).contains("every task ended")
            && text(&output.stderr).contains("wirewatch stopped"),
        "{}",
        text(&output.stderr)
    );
    let titles: Vec<String> = json_lines(&output_file)
        .iter()
        .map(|record| record["article"]["title"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(titles.len(), 2, "{titles:?}\n{}", text(&output.stderr));
    assert!(
        titles.iter().any(|title| title.contains("sanctions")),
        "the in-flight story was not written: {titles:?}"
    );
}

/// [`http_get`], or an empty string while nothing listens on `port`.
pub fn http_get_if_up(port: u16, path: &str) -> String {
    if std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        return String::new();
    }
    http_get(port, path)
}

/// A plain GET over a socket; the whole response, head and body.
pub fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("metrics endpoint");
    // One write: the request must not reach the server in pieces.
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// SIGHUP re-reads the feed list: a feed dropped from the file stops being
/// polled, one added starts, and an invalid file is refused with its
/// problem logged (file:line:col) while the daemon keeps running the list
/// it had. SIGHUP never stops the daemon.
#[test]
fn sighup_reloads_the_feed_list_and_refuses_an_invalid_one() {
    let server = TestServer::start();
    let empty = feed(&server, &[]);
    server.route("/a.xml", Route::ok("application/rss+xml", empty.clone()));
    server.route("/b.xml", Route::ok("application/rss+xml", empty));
    let scratch = Scratch::new("sighup");
    let config = config(&scratch, &server.url("/a.xml"));
    let feed_file = |urls: &[&str]| {
        let tables: Vec<String> = urls
            .iter()
            .map(|url| format!("[[feed]]\nurl = \"{url}\"\ninterval = \"1s\"\n"))
            .collect();
        scratch.write("feeds.toml", &tables.join("\n"));
    };
    feed_file(&[&server.url("/a.xml")]);
    let mut child = spawn_daemon(&config, std::process::Stdio::null());
    let polls = |path: &str| {
        server
            .requests()
            .iter()
            .filter(|request| request.path == path)
            .count()
    };
    let wait_until = |what: &str, done: &dyn Fn() -> bool| {
        let started = Instant::now();
        while !done() {
            assert!(started.elapsed() < Duration::from_secs(20), "{what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let hangup = || {
        let sent = std::process::Command::new("kill")
            .args(["-HUP", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    };
    wait_until("a.xml was never polled", &|| polls("/a.xml") >= 2);

    feed_file(&[&server.url("/b.xml")]);
    // `wirewatch reload` finds the daemon through the state directory.
    let reload = wirewatch(&["reload", "--config", config.to_str().unwrap()]);
    assert!(reload.status.success(), "{}", text(&reload.stderr));
    assert!(text(&reload.stderr).contains("asked 1 wirewatch process"));
    wait_until("b.xml was not polled after the reload", &|| {
        polls("/b.xml") >= 2
    });
    let a_after = polls("/a.xml");
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        polls("/a.xml"),
        a_after,
        "a.xml still polled after it was dropped"
    );

    scratch.write(
        "feeds.toml",
        &format!(
            "[[feed]]\nurl = \"{}\"\ninterval = \"soon\"\n",
            server.url("/a.xml")
        ),
    );
    hangup();
    let b_before = polls("/b.xml");
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the daemon stopped on SIGHUP"
    );
    assert!(polls("/b.xml") > b_before, "the running list was not kept");
    assert_eq!(polls("/a.xml"), a_after, "the refused list was applied");

    let (status, stderr) = crate::support::terminate(child);
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("feed list reloaded"), "{stderr}");
    assert!(stderr.contains("reload refused"), "{stderr}");
    assert!(stderr.contains("feeds.toml:3:12"), "{stderr}");
    feed_file(&[&server.url("/b.xml")]);
    let after = wirewatch(&["reload", "--config", config.to_str().unwrap()]);
    assert!(!after.status.success());
    assert!(
        text(&after.stderr).contains("no wirewatch daemon runs on"),
        "{}",
        text(&after.stderr)
    );
}

/// `output.stdout_format = "text"`: one short line per flagged story on
/// stdout (when, labels with scores, title, the top evidence phrase, link,
/// feed), while the JSON
/// lines file keeps the whole record.
#[test]
fn text_stdout_format_prints_one_short_line_per_story() {
    let server = TestServer::start();
    serve_demo_pages(&server);
    serve_feed(
        &server,
        &[(
            "Moscow wants North Korean munitions",
            "/pages/russia-dprk-arms-for-food.html",
        )],
    );
    let scratch = Scratch::new("text-stdout");
    let config = config(&scratch, &server.url("/feed.xml"));
    let with_text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("stdout = true", "stdout = true\nstdout_format = \"text\"");
    std::fs::write(&config, with_text).unwrap();
    let output = wirewatch(&["run", "--config", config.to_str().unwrap(), "--once"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let line = lines[0];
    assert!(!line.starts_with('{'), "{line}");
    assert!(line.contains("SANCTIONS 0."), "{line}");
    assert!(
        line.contains("Moscow wants North Korean munitions"),
        "{line}"
    );
    assert!(line.ends_with("[Test desk]"), "{line}");
    let records = json_lines(&scratch.path.join("out/flagged.jsonl"));
    assert_eq!(records.len(), 1);
    let url = records[0]["article"]["url"].as_str().unwrap();
    assert!(line.contains(&format!("  {url}  ")), "{line}");
    // The evidence span that added most to a flagged label, quoted.
    let flagged: Vec<String> = flagged_labels(&records[0]);
    let top = records[0]["classification"]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|span| flagged.iter().any(|label| span["label"] == label.as_str()))
        .max_by(|a, b| {
            a["weight"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["weight"].as_f64().unwrap())
        })
        .unwrap();
    let phrase = top["text"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(line.contains(&format!("“{phrase}”")), "{phrase} in {line}");
}

/// On a terminal the default stdout format is the text line; `--json`
/// keeps JSON lines there.
#[test]
fn a_terminal_gets_text_lines_and_json_with_the_flag() {
    let server = TestServer::start();
    serve_demo_pages(&server);
    serve_feed(
        &server,
        &[(
            "Moscow wants North Korean munitions",
            "/pages/russia-dprk-arms-for-food.html",
        )],
    );
    for json in [false, true] {
        let scratch = Scratch::new("terminal-stdout");
        let config = config(&scratch, &server.url("/feed.xml"));
        let mut args = vec!["run", "--config", config.to_str().unwrap(), "--once"];
        if json {
            args.push("--json");
        }
        let log = scratch.path.join("stderr.log");
        let shown = on_a_terminal(&args, &format!("2> {}", log.display()));
        let lines: Vec<&str> = shown
            .lines()
            .filter(|line| !line.trim().is_empty())
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "{shown}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        let line = lines[0].trim();
        if json {
            let record: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            assert_eq!(
                record["article"]["item"]["title"], "Moscow wants North Korean munitions",
                "{line}"
            );
        } else {
            assert!(!line.starts_with('{'), "{line}");
            assert!(line.contains("SANCTIONS 0."), "{line}");
        }
    }
}

/// SIGHUP also replaces the classifier between two articles: a story
/// classified before the reload is flagged, the same story under a new URL
/// after a reload that raised the threshold is not; a reload whose
/// threshold is out of range is refused and says where.
#[test]
fn sighup_replaces_the_classifier_between_two_articles() {
    let server = TestServer::start();
    serve_demo_pages(&server);
    let page = demo_file("pages/eu-sanctions-package.html");
    server.route(
        "/pages/again/eu-sanctions-package.html",
        Route::ok("text/html; charset=utf-8", page),
    );
    let story = |paths: &[&str]| {
        let items: Vec<(&str, &str)> = paths
            .iter()
            .map(|path| ("EU adopts new sanctions listings", *path))
            .collect();
        Route::ok("application/rss+xml", feed(&server, &items))
    };
    server.route("/feed.xml", story(&["/pages/eu-sanctions-package.html"]));
    let scratch = Scratch::new("sighup-classifier");
    let config = config(&scratch, &server.url("/feed.xml"));
    scratch.write(
        "feeds.toml",
        &format!(
            "[[feed]]\nurl = \"{}\"\ninterval = \"1s\"\n",
            server.url("/feed.xml")
        ),
    );
    let base = std::fs::read_to_string(&config)
        .unwrap()
        .replace("stdout = true", "stdout = false\ninclude = \"all\"");
    std::fs::write(&config, &base).unwrap();
    let mut child = spawn_daemon(&config, std::process::Stdio::null());
    let output_file = scratch.path.join("out/flagged.jsonl");
    let wait_for_records = |count: usize| {
        let started = Instant::now();
        loop {
            let records = json_lines(&output_file);
            if records.len() >= count {
                return records;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{} records, wanted {count}",
                records.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let hangup = |child: &std::process::Child| {
        let sent = std::process::Command::new("kill")
            .args(["-HUP", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    };
    let before = wait_for_records(1);
    assert!(
        flagged_labels(&before[0]).contains(&"SANCTIONS".to_string()),
        "{}",
        before[0]
    );

    std::fs::write(
        &config,
        format!("{base}\n[classifier.thresholds]\nSANCTIONS = 1.0\n"),
    )
    .unwrap();
    hangup(&child);
    std::thread::sleep(Duration::from_secs(1));
    server.route(
        "/feed.xml",
        story(&[
            "/pages/eu-sanctions-package.html",
            "/pages/again/eu-sanctions-package.html",
        ]),
    );
    let after = wait_for_records(2);
    assert!(
        !flagged_labels(&after[1]).contains(&"SANCTIONS".to_string()),
        "{}",
        after[1]
    );

    std::fs::write(
        &config,
        format!("{base}\n[classifier.thresholds]\nSANCTIONS = 2.0\n"),
    )
    .unwrap();
    hangup(&child);
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the daemon stopped on SIGHUP"
    );
    let (status, stderr) = crate::support::terminate(child);
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("taxonomy, thresholds and sanctions list reloaded"),
        "{stderr}"
    );
    assert!(stderr.contains("reload refused"), "{stderr}");
    assert!(stderr.contains("wirewatch.toml:"), "{stderr}");
}
