//! Issue 12 ("hostile input"), the operator's side: config values that
//! used to panic or spin (item 7), damaged state files (item 8), and
//! control characters from pages and feeds reaching the terminal (item 9).
//! Each test runs the real binary on real files.

use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::Utc;
use wirewatch_fetcher::{FeedStatus, StateStore};

use crate::support::{text, wirewatch, Scratch};

/// `file:line:column` of the first `needle` in `file` (1-based, the
/// position `check` reports for a value).
fn position_of(file: &Path, needle: &str) -> String {
    let contents = std::fs::read_to_string(file).unwrap();
    let offset = contents
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {}", file.display()));
    let before = &contents[..offset];
    let line = before.matches('\n').count() + 1;
    let column = offset - before.rfind('\n').map_or(0, |newline| newline + 1) + 1;
    format!("{}:{line}:{column}", file.display())
}

fn assert_no_panic(output: &Output) {
    let stderr = text(&output.stderr);
    assert!(!stderr.contains("panicked at"), "a panic: {stderr}");
    assert_ne!(output.status.code(), Some(101), "exit status of a panic");
}

/// A feed file with one story whose page is a local file, and a config
/// that polls it with the state in `state/`.
fn local_feed_config(scratch: &Scratch, fetcher_settings: &str) -> PathBuf {
    let page = scratch.write(
        "page.html",
        "<html><head><title>Harbour reopens</title></head><body><article><p>The harbour \
         reopened on Monday after repairs to the sea wall that took most of the winter, and \
         the first ferries left on time with every seat taken by people going home.</p>\
         </article></body></html>",
    );
    let page_url = url::Url::from_file_path(&page).unwrap();
    scratch.write(
        "feed.xml",
        &format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Local</title>\
             <item><title>Harbour reopens</title><link>{page_url}</link>\
             <guid>harbour-1</guid></item></channel></rss>"
        ),
    );
    scratch.write("feeds.toml", "[[feed]]\nurl = \"feed.xml\"\n");
    scratch.write(
        "wirewatch.toml",
        &format!(
            "feeds = [\"feeds.toml\"]\nstate_dir = \"state\"\n\n[fetcher]\n\
             allow_file_urls = true\nmax_item_age = \"0s\"\n{fetcher_settings}\n\n\
             [output]\nstdout = true\ninclude = \"all\"\n"
        ),
    )
}

// ------------------------------------------------------------ item 7

#[test]
fn issue_12_durations_that_overflow_or_are_zero_are_file_line_column_errors() {
    let scratch = Scratch::new("durations");
    let config = local_feed_config(
        &scratch,
        "default_interval = \"18446744073709551616s\"\n\
         seen_retention = \"99999999999d\"\n\
         min_interval = \"0s\"\n\
         max_interval = \"0s\"\n\
         max_backoff = \"0s\"\n\
         connect_timeout = \"0s\"\n\
         request_timeout = \"0s\"\n\
         min_host_delay = \"99999999999999999999999d\"\n\
         max_concurrent_requests = 0\n\
         max_concurrent_requests_per_host = 4611686018427387904\n\
         page_concurrency = 100000000",
    );
    let feeds = scratch.write(
        "feeds.toml",
        "[[feed]]\nurl = \"feed.xml\"\ninterval = \"0s\"\n",
    );
    let expected = [
        (
            config.clone(),
            "\"18446744073709551616s\"",
            "fetcher.default_interval",
        ),
        (config.clone(), "\"99999999999d\"", "fetcher.seen_retention"),
        (
            config.clone(),
            "\"0s\"\nmax_interval",
            "fetcher.min_interval",
        ),
        (
            config.clone(),
            "\"0s\"\nmax_backoff",
            "fetcher.max_interval",
        ),
        (
            config.clone(),
            "\"0s\"\nconnect_timeout",
            "fetcher.max_backoff",
        ),
        (
            config.clone(),
            "\"0s\"\nrequest_timeout",
            "fetcher.connect_timeout",
        ),
        (
            config.clone(),
            "\"0s\"\nmin_host_delay",
            "fetcher.request_timeout",
        ),
        (
            config.clone(),
            "\"99999999999999999999999d\"",
            "fetcher.min_host_delay",
        ),
        (
            config.clone(),
            "0\nmax_concurrent_requests_per_host",
            "fetcher.max_concurrent_requests",
        ),
        (
            config.clone(),
            "4611686018427387904",
            "fetcher.max_concurrent_requests_per_host",
        ),
        (config.clone(), "100000000", "fetcher.page_concurrency"),
        (
            feeds.clone(),
            "\"0s\"",
            "interval must be between 1s and 30d",
        ),
    ];
    for command in ["check", "run"] {
        let mut arguments = vec![command, "--config", config.to_str().unwrap()];
        if command == "run" {
            arguments.push("--once");
        }
        let output = wirewatch(&arguments);
        assert_no_panic(&output);
        assert!(!output.status.success(), "{command} accepted it");
        let stderr = text(&output.stderr);
        for (file, value, name) in &expected {
            let at = format!("{}: {name}", position_of(file, value));
            assert!(stderr.contains(&at), "{command}: no {at:?} in\n{stderr}");
        }
        assert!(
            stderr.contains("fetcher.seen_retention must be between 1h and 3650d"),
            "the range is named: {stderr}"
        );
    }
}

#[test]
fn issue_12_zero_memory_capacity_and_kafka_numbers_out_of_range_are_refused() {
    let scratch = Scratch::new("counts");
    let config = local_feed_config(&scratch, "");
    let text_before = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!(
            "{text_before}\n[bus]\nmemory_capacity = 0\n\n[bus.kafka]\nlinger_ms = 4000000000\n\
             partitions = 0\nreplication_factor = 40000\nshutdown_timeout = \"0s\"\n\
             retention = \"99999999999d\"\nrepeat_window = 99\n"
        ),
    )
    .unwrap();
    let output = wirewatch(&["check", "--config", config.to_str().unwrap()]);
    assert_no_panic(&output);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    for (value, name) in [
        ("0\n\n[bus.kafka]", "bus.memory_capacity"),
        ("4000000000", "bus.kafka.linger_ms"),
        ("0\nreplication_factor", "bus.kafka.partitions"),
        ("40000\n", "bus.kafka.replication_factor"),
        ("\"0s\"\nretention", "bus.kafka.shutdown_timeout"),
        ("\"99999999999d\"", "bus.kafka.retention"),
        ("99\n", "bus.kafka.repeat_window"),
    ] {
        let at = format!("{}: {name}", position_of(&config, value));
        assert!(stderr.contains(&at), "no {at:?} in\n{stderr}");
    }
}

#[test]
fn issue_12_durations_at_the_ends_of_their_ranges_are_accepted() {
    let scratch = Scratch::new("duration-edges");
    let config = local_feed_config(
        &scratch,
        "default_interval = \"30d\"\nmin_interval = \"1s\"\nmax_interval = \"30d\"\n\
         max_backoff = \"1s\"\nconnect_timeout = \"100ms\"\nrequest_timeout = \"10m\"\n\
         seen_retention = \"3650d\"\nmin_host_delay = \"0s\"\nmax_concurrent_requests = 10000",
    );
    scratch.write(
        "feeds.toml",
        "[[feed]]\nurl = \"feed.xml\"\ninterval = \"1s\"\n",
    );
    let output = wirewatch(&["check", "--config", config.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
}

// ------------------------------------------------------------ item 8

const SEEN_ENTRIES: usize = 20_000;

/// A real state file as the daemon writes it: the seen-set in batches
/// (one commit each, as polls do) and a few feed statuses.
fn write_state(state_dir: &Path) -> PathBuf {
    let store = StateStore::open(state_dir).unwrap();
    let now = Utc::now();
    for batch in 0..(SEEN_ENTRIES / 500) {
        let keys: Vec<String> = (0..500)
            .map(|index| format!("https://example.org/story/{batch:03}-{index:04}\u{0}guid"))
            .collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        store.mark_seen(&keys, now).unwrap();
    }
    for feed in 0..3 {
        let status = FeedStatus {
            last_fetch: Some(now),
            items_emitted: 7,
            ..FeedStatus::default()
        };
        store
            .set_feed_status(&format!("https://example.org/feed-{feed}.xml"), &status)
            .unwrap();
    }
    store.flush().unwrap();
    drop(store);
    state_dir.join("fetcher.redb")
}

fn overwrite_middle(file: &Path) {
    let mut bytes = std::fs::read(file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle..middle + 16 * 1024].fill(0xA5);
    std::fs::write(file, bytes).unwrap();
}

fn truncate_to_half(file: &Path) {
    let length = std::fs::metadata(file).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(file)
        .unwrap()
        .set_len(length / 2)
        .unwrap();
}

/// Start, check, repair, check, start again on a damaged state file.
/// Returns how many seen-set entries the repair salvaged.
fn damaged_state_is_reported_and_repaired(name: &str, damage: fn(&Path)) -> u64 {
    let scratch = Scratch::new(name);
    let config = local_feed_config(&scratch, "");
    let config_arg = config.to_str().unwrap();
    let state_file = write_state(&scratch.path.join("state"));
    damage(&state_file);

    for _ in 0..2 {
        let output = wirewatch(&["run", "--once", "--config", config_arg]);
        assert_no_panic(&output);
        assert!(!output.status.success(), "started on a damaged file");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(&state_file.display().to_string()),
            "{stderr}"
        );
        assert!(stderr.contains("is damaged"), "{stderr}");
        assert!(stderr.contains("wirewatch state repair"), "{stderr}");
    }
    let status = wirewatch(&["status", "--config", config_arg]);
    assert_no_panic(&status);
    assert!(!status.status.success());

    // A refused start leaves redb's own recovery flag set in the header;
    // the check and the repair change nothing more.
    let damaged_bytes = std::fs::read(&state_file).unwrap();
    let checked = wirewatch(&["state", "check", "--config", config_arg]);
    assert_no_panic(&checked);
    assert_eq!(checked.status.code(), Some(1), "{}", text(&checked.stderr));
    assert!(
        text(&checked.stdout).contains("damaged"),
        "{}",
        text(&checked.stdout)
    );
    assert!(
        std::fs::read(&state_file).unwrap() == damaged_bytes,
        "check changed the file"
    );

    let repaired = wirewatch(&["state", "repair", "--config", config_arg]);
    assert_no_panic(&repaired);
    assert!(repaired.status.success(), "{}", text(&repaired.stderr));
    let report = text(&repaired.stdout);
    let salvaged: u64 = report
        .split("salvaged ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no count in {report}"));
    let moved_aside: Vec<PathBuf> = std::fs::read_dir(scratch.path.join("state"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("fetcher.redb.damaged-")
        })
        .collect();
    assert_eq!(moved_aside.len(), 1, "{report}");
    assert!(
        std::fs::read(&moved_aside[0]).unwrap() == damaged_bytes,
        "the file moved aside is not the damaged file as it was"
    );

    let checked = wirewatch(&["state", "check", "--config", config_arg]);
    assert!(checked.status.success(), "{}", text(&checked.stdout));
    assert!(text(&checked.stdout).contains("sound"));
    let status = wirewatch(&["status", "--config", config_arg]);
    assert!(status.status.success(), "{}", text(&status.stderr));
    assert!(
        text(&status.stdout).contains(&format!("seen-set entries: {salvaged}")),
        "{}",
        text(&status.stdout)
    );
    let started = wirewatch(&["run", "--once", "--config", config_arg]);
    assert_no_panic(&started);
    assert!(started.status.success(), "{}", text(&started.stderr));
    salvaged
}

#[test]
fn issue_12_a_state_file_overwritten_in_the_middle_is_reported_and_repaired() {
    let salvaged = damaged_state_is_reported_and_repaired("state-overwritten", overwrite_middle);
    // 16 KiB of 20,000 entries' pages: most of the seen-set survives.
    assert!(
        salvaged as usize > SEEN_ENTRIES / 2,
        "only {salvaged} of {SEEN_ENTRIES} seen entries kept"
    );
}

#[test]
fn issue_12_a_truncated_state_file_is_reported_and_repaired() {
    let salvaged = damaged_state_is_reported_and_repaired("state-truncated", truncate_to_half);
    assert!(salvaged > 0, "nothing kept from the first half of the file");
}

#[test]
fn issue_12_state_check_passes_a_sound_file_and_repair_leaves_it_alone() {
    let scratch = Scratch::new("state-sound");
    let config = local_feed_config(&scratch, "");
    let config_arg = config.to_str().unwrap();
    let missing = wirewatch(&["state", "check", "--config", config_arg]);
    assert!(missing.status.success(), "{}", text(&missing.stderr));
    let state_file = write_state(&scratch.path.join("state"));
    let before = std::fs::read(&state_file).unwrap();
    let checked = wirewatch(&["state", "check", "--config", config_arg]);
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    assert!(text(&checked.stdout).contains("sound"));
    let repaired = wirewatch(&["state", "repair", "--config", config_arg]);
    assert!(repaired.status.success(), "{}", text(&repaired.stderr));
    assert!(text(&repaired.stdout).contains("nothing to repair"));
    assert!(
        std::fs::read(&state_file).unwrap() == before,
        "repair rewrote a sound file"
    );
}

// ------------------------------------------------------------ item 9

/// Bytes that make a terminal do something: ESC (window titles, colours,
/// cursor moves), BEL, and the C1 range.
fn terminal_controls(bytes: &[u8]) -> Vec<char> {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter(|character| character.is_control() && *character != '\n')
        .collect()
}

#[test]
fn issue_12_classify_explain_escapes_control_characters_from_the_page() {
    let scratch = Scratch::new("explain-controls");
    let page = scratch.path.join("page.html");
    std::fs::write(
        &page,
        b"<!doctype html><html><head><title>Treasury &#27;]0;owned&#7; sanctions</title></head>\
          <body><article><h1>Treasury &#27;]0;owned&#7; sanctions</h1><p>The US Treasury \
          sanctioned \x1b[31ma Slovak arms broker\x1b[0m who arranged North Korean weapons \
          deliveries to Russia, freezing his assets and barring dealings with him.\x07 The \
          designation follows a year of \x1b]2;raw\x07 shipments of artillery shells and \
          rockets.</p></article></body></html>"
            .as_slice(),
    )
    .unwrap();
    let output = wirewatch(&["classify", "--explain", page.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let shown = text(&output.stdout);
    assert_eq!(
        terminal_controls(&output.stdout),
        Vec::<char>::new(),
        "{shown:?}"
    );
    assert!(
        shown.contains("\\u{1b}]0;owned\\u{7}"),
        "escaped, not dropped: {shown}"
    );
    assert!(shown.contains("SANCTIONS"), "{shown}");
}

#[test]
fn issue_12_status_escapes_control_characters_from_feed_errors() {
    let scratch = Scratch::new("status-controls");
    let config = local_feed_config(&scratch, "");
    let feed_url = url::Url::from_file_path(scratch.path.join("feed.xml").canonicalize().unwrap())
        .unwrap()
        .to_string();
    {
        let store = StateStore::open(&scratch.path.join("state")).unwrap();
        let status = FeedStatus {
            last_error: Some("bad element <\u{1b}]0;owned\u{7}>\tat line 3".into()),
            moved_to: Some("https://example.org/\u{9b}31m".into()),
            ..FeedStatus::default()
        };
        store.set_feed_status(&feed_url, &status).unwrap();
        store.flush().unwrap();
    }
    let output = wirewatch(&["status", "--config", config.to_str().unwrap()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let shown = text(&output.stdout);
    let line = shown
        .lines()
        .find(|line| line.starts_with(&feed_url))
        .unwrap_or_else(|| panic!("no line for {feed_url} in {shown}"));
    assert!(
        line.contains("\\u{1b}]0;owned\\u{7}>\\u{9}at line 3"),
        "{line:?}"
    );
    assert!(line.contains("\\u{9b}31m"), "{line:?}");
    let controls: Vec<char> = terminal_controls(&output.stdout)
        .into_iter()
        .filter(|character| *character != '\t')
        .collect();
    assert_eq!(controls, Vec::<char>::new(), "{shown:?}");
    assert_eq!(
        line.matches('\t').count(),
        6,
        "only the field separators: {line:?}"
    );
}
