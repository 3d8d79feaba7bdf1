//! The command line: config validation, the shipped configs, the stages one
//! at a time.

use crate::support::{on_a_terminal, repo_root, shared_dir, text, wirewatch, Scratch};

#[test]
fn every_shipped_config_is_valid() {
    let config_dir = repo_root().join("config");
    let mut checked = 0;
    for entry in std::fs::read_dir(&config_dir).unwrap() {
        let path = entry.unwrap().path();
        let is_main_config = path
            .extension()
            .is_some_and(|extension| extension == "toml")
            && path.file_name().is_some_and(|name| name != "feeds.toml");
        if !is_main_config {
            continue;
        }
        let output = wirewatch(&["check", "--config", path.to_str().unwrap()]);
        assert!(
            output.status.success(),
            "{} does not validate: {}",
            path.display(),
            text(&output.stderr)
        );
        checked += 1;
    }
    assert!(
        checked >= 2,
        "expected wirewatch.toml and demo.toml at least"
    );
}

#[test]
fn config_errors_name_file_line_and_column() {
    let scratch = Scratch::new("check");
    scratch.write(
        "feeds.toml",
        "[[feed]]\nurl = \"https://example.org/feed\"\ninterval = \"soon\"\n",
    );
    let config = scratch.write(
        "wirewatch.toml",
        "feeds = [\"feeds.toml\"]\n\n[fetcher]\njitter = 0.9\nmax_item_age = \"3 weeks\"\nadaptive = \"slower\"\n",
    );
    let output = wirewatch(&["check", "--config", config.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("wirewatch.toml:4:10"), "{stderr}");
    assert!(stderr.contains("jitter"), "{stderr}");
    assert!(stderr.contains("wirewatch.toml:5:16"), "{stderr}");
    assert!(
        stderr.contains("wirewatch.toml:6:12")
            && stderr.contains(r#"fetcher.adaptive must be one of "off", "faster", "both""#),
        "{stderr}"
    );
    assert!(
        stderr.contains("feeds.toml:3:12"),
        "all problems at once: {stderr}"
    );

    let syntax = scratch.write("broken.toml", "[fetcher\nuser_agent = 1\n");
    let output = wirewatch(&["check", "--config", syntax.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("broken.toml:1:"),
        "{}",
        text(&output.stderr)
    );

    let unknown = scratch.write("unknown.toml", "[fetcher]\nuser_agnet = \"x\"\n");
    let output = wirewatch(&["check", "--config", unknown.to_str().unwrap()]);
    assert!(
        text(&output.stderr).contains("unknown.toml:2:1"),
        "{}",
        text(&output.stderr)
    );
    assert!(
        text(&output.stderr).contains("user_agnet"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
#[cfg_attr(not(shared_data), ignore = "needs ../shared/ beside the repository")]
fn classify_flags_the_seed_article_with_both_labels() {
    let seed = shared_dir().join("data/seed-article.txt");
    let output = wirewatch(&["classify", seed.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let classification: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let flagged: Vec<&str> = classification["labels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|label| label["flagged"] == true)
        .map(|label| label["label"].as_str().unwrap())
        .collect();
    assert!(
        flagged.contains(&"ARMS_TRANSFER") && flagged.contains(&"SANCTIONS"),
        "{flagged:?}"
    );

    let explained = wirewatch(&["classify", "--explain", seed.to_str().unwrap()]);
    assert!(explained.status.success());
    assert!(text(&explained.stdout).contains("SANCTIONS"));
}

#[test]
fn classify_jsonl_writes_one_line_per_record() {
    let scratch = Scratch::new("jsonl");
    let input = scratch.write(
        "in.jsonl",
        concat!(
            r#"{"id": "a", "title": "Treasury sanctions arms broker", "text": "The US Treasury sanctioned a Slovak broker who arranged North Korean weapons deliveries to Russia."}"#,
            "\n",
            r#"{"id": "b", "title": "Local team wins", "text": "The home side won the cup final on penalties."}"#,
            "\n"
        ),
    );
    let output = wirewatch(&["classify", "--jsonl", input.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let lines: Vec<serde_json::Value> = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], "a");
    assert!(lines[0]["labels"]
        .as_array()
        .unwrap()
        .iter()
        .any(|label| label == "SANCTIONS"));
    assert!(lines[1]["labels"].as_array().unwrap().is_empty());
    assert!(lines[1]["scores"]["SANCTIONS"].as_f64().unwrap() < 0.5);
}

#[test]
fn clean_prints_article_json_for_a_file() {
    let page = repo_root().join("demo/pages/russia-dprk-arms-for-food.html");
    let output = wirewatch(&["clean", page.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let article: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(article["title"].as_str().unwrap().contains("North Korean"));
    let body = article["text"].as_str().unwrap();
    assert!(body.contains("Ashot Mkrtychev"));
    assert!(!body.contains("We use cookies"));
    assert!(body.contains("\n\n"), "paragraphs kept");
}

#[test]
fn fetch_once_prints_items_from_the_demo_feeds() {
    let config = repo_root().join("config/demo.toml");
    let output = wirewatch(&["fetch", "--config", config.to_str().unwrap(), "--once"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let items: Vec<serde_json::Value> = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(items.len(), 5, "3 + 2 demo items");
    assert!(items
        .iter()
        .all(|item| item["link"].as_str().unwrap().starts_with("file://")));
}

/// librdkafka's log lines reach the log when the filter names them, and are
/// off otherwise (every client repeats them at each reconnect during an
/// outage, which the bus already reports once). The broker here is a closed
/// port, so librdkafka has connection failures to log.
#[test]
fn librdkafka_logs_reach_the_log_only_when_the_filter_asks() {
    let scratch = Scratch::new("librdkafka-log");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    scratch.write("feeds.toml", "");
    let config = scratch.write(
        "wirewatch.toml",
        &format!(
            "feeds = [\"feeds.toml\"]\nstate_dir = \"state\"\n[bus]\nkind = \"kafka\"\n\
             [bus.kafka]\nbrokers = \"127.0.0.1:{closed}\"\n"
        ),
    );
    let run_for_a_while = |filter: &str| {
        let child = crate::support::binary()
            .args([
                "run",
                "--config",
                config.to_str().unwrap(),
                "--stages",
                "clean",
            ])
            .env("WIREWATCH_LOG", filter)
            .env_remove("KAFKA_BOOTSTRAP")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_secs(3));
        let (status, stderr) = crate::support::terminate(child);
        assert!(status.success(), "{stderr}");
        stderr
    };
    let quiet = run_for_a_while("info");
    assert!(!quiet.contains("librdkafka:"), "{quiet}");
    assert!(quiet.contains("kafka brokers not reachable yet"), "{quiet}");
    let asked = run_for_a_while("info,librdkafka=warn");
    assert!(
        asked.contains("librdkafka: FAIL") && asked.contains(&format!("127.0.0.1:{closed}")),
        "{asked}"
    );
}

/// `wirewatch status` while the daemon runs (and holds the state file):
/// asked through the daemon's `[metrics] listen` address it prints the same
/// report; without that address it says what to set.
#[test]
fn status_asks_the_running_daemon_for_its_feeds() {
    let server = crate::support::http::TestServer::start();
    server.route(
        "/feed.xml",
        crate::support::http::Route::ok(
            "application/rss+xml",
            "<rss version=\"2.0\"><channel><title>t</title></channel></rss>",
        ),
    );
    let scratch = Scratch::new("status-running");
    scratch.write(
        "feeds.toml",
        &format!("[[feed]]\nurl = \"{}\"\n", server.url("/feed.xml")),
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = "feeds = [\"feeds.toml\"]\nstate_dir = \"state\"\n[fetcher]\nallow_private_addresses = [\"127.0.0.1\"]\n";
    let config = scratch.write(
        "wirewatch.toml",
        &format!("{base}[metrics]\nlisten = \"127.0.0.1:{port}\"\n"),
    );
    let without_listen = scratch.write("no-listen.toml", base);
    let child = crate::support::spawn_daemon(&config, std::process::Stdio::null());
    // Ready first: a status run before the daemon holds the state file
    // would hold it itself, and the daemon would refuse to start.
    let started = std::time::Instant::now();
    while !crate::pipeline::http_get_if_up(port, "/readyz").starts_with("HTTP/1.1 200") {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the daemon never became ready"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let report = loop {
        let output = wirewatch(&["status", "--config", config.to_str().unwrap()]);
        let report = text(&output.stdout);
        if output.status.success() && report.contains("last_success=2") {
            break report;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no status from the daemon: {report} {}",
            text(&output.stderr)
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(report.contains(&server.url("/feed.xml")), "{report}");
    assert!(report.contains("failures_in_a_row=0"), "{report}");
    assert!(report.contains("seen-set entries: 0"), "{report}");
    let refused = wirewatch(&["status", "--config", without_listen.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("in use by another process")
            && text(&refused.stderr).contains("set [metrics] listen"),
        "{}",
        text(&refused.stderr)
    );
    let (status, stderr) = crate::support::terminate(child);
    assert!(status.success(), "{stderr}");
}

/// `--stages` takes only the stage names, and says which they are.
#[test]
fn an_unknown_stage_is_refused_with_the_possible_values() {
    let output = wirewatch(&["run", "--stages", "fetch,bogus"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("invalid value 'bogus' for '--stages"),
        "{stderr}"
    );
    assert!(
        stderr.contains("[possible values: fetch, clean, classify]"),
        "{stderr}"
    );
}

/// A log filter tracing cannot read is a config error at its position, not
/// a directive dropped without a word; a good one passes.
#[test]
fn a_log_level_that_is_not_a_tracing_filter_is_a_config_error() {
    let scratch = Scratch::new("log-level");
    scratch.write("feeds.toml", "");
    let bad = scratch.write(
        "bad.toml",
        "feeds = [\"feeds.toml\"]\n[log]\nlevel = \"info,wirewatch=verbose\"\n",
    );
    let output = wirewatch(&["check", "--config", bad.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("bad.toml:3:9: log.level is not a tracing filter"),
        "{stderr}"
    );
    let good = scratch.write(
        "good.toml",
        "feeds = [\"feeds.toml\"]\n[log]\nlevel = \"info,wirewatch_fetcher=debug\"\n",
    );
    let output = wirewatch(&["check", "--config", good.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
}

#[test]
fn batch_commands_draw_a_progress_bar_on_a_terminal_and_none_when_piped() {
    let scratch = Scratch::new("progress");
    for index in 0..3 {
        scratch.write(
            &format!("pages/{index}.html"),
            &format!(
                "<html><body><article><p>Story {index}: the ministry confirmed the \
                 delivery of armoured vehicles under last year's contract.</p></article></body></html>"
            ),
        );
    }
    let pages = scratch.path.join("pages");
    let terminal = on_a_terminal(
        &[
            "clean",
            "--batch",
            pages.to_str().unwrap(),
            scratch.path.join("out-tty").to_str().unwrap(),
        ],
        &format!("> {}", scratch.path.join("clean-stdout").display()),
    );
    assert!(terminal.contains("3/3 pages"), "{terminal}");
    assert!(terminal.contains("cleaned 3 pages"), "{terminal}");
    let piped = wirewatch(&[
        "clean",
        "--batch",
        pages.to_str().unwrap(),
        scratch.path.join("out-piped").to_str().unwrap(),
    ]);
    let stderr = text(&piped.stderr);
    assert!(piped.status.success(), "{stderr}");
    assert!(
        !stderr.contains("3/3"),
        "a bar was drawn into a pipe: {stderr}"
    );
    assert!(stderr.contains("cleaned 3 pages"), "{stderr}");

    let line = r#"{"id": "a", "title": "Treasury sanctions arms broker", "text": "The US Treasury sanctioned a broker."}"#;
    let input = scratch.write("in.jsonl", &format!("{line}\n").repeat(50));
    let terminal = on_a_terminal(
        &["classify", "--jsonl", input.to_str().unwrap()],
        &format!("> {}", scratch.path.join("classified.jsonl").display()),
    );
    assert!(terminal.contains("classify ["), "{terminal}");
    assert!(terminal.contains("classified 50 records"), "{terminal}");
    assert_eq!(
        std::fs::read_to_string(scratch.path.join("classified.jsonl"))
            .unwrap()
            .lines()
            .count(),
        50,
        "the bar went to stdout or the records did not"
    );
    let piped = wirewatch(&["classify", "--jsonl", input.to_str().unwrap()]);
    let stderr = text(&piped.stderr);
    assert!(!stderr.contains("classify ["), "{stderr}");
    assert_eq!(text(&piped.stdout).lines().count(), 50);
}
