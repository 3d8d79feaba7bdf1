//! Bad input from real (local) servers: every case is a bounded, logged,
//! counted failure in the feed's status, and a good feed polled alongside
//! still delivers its items.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{
    feed, gzip_bomb, ok, open_ended_head, poller, poller_with, response, rss, test_http_options,
    test_poll_options, CollectingSink, Reply, Server,
};
use wirewatch_fetcher::{FeedStatus, HttpOptions, PollOptions, PollOutcome};

async fn good_server() -> Server {
    Server::start(|_| {
        ok(
            "application/rss+xml",
            &rss(&[("good", "http://example.invalid/good")]),
        )
    })
    .await
}

/// Polls a bad feed and a good one together; returns the bad feed's outcome
/// and status after checking the good one delivered its item.
async fn poll_bad_beside_good(
    name: &str,
    http: HttpOptions,
    bad: impl Fn(&support::Request) -> Reply + Send + Sync + 'static,
) -> (PollOutcome, FeedStatus, Duration) {
    let bad_server = Server::start(bad).await;
    let good_server = good_server().await;
    let sink = Arc::new(CollectingSink::default());
    let poller = poller(name, http, Arc::clone(&sink));
    let bad_feed = feed(bad_server.url("/feed"));
    let good_feed = feed(good_server.url("/feed"));
    let started = Instant::now();
    let (bad_outcome, good_outcome) =
        tokio::join!(poller.poll_once(&bad_feed), poller.poll_once(&good_feed));
    let elapsed = started.elapsed();
    let good_outcome = good_outcome.unwrap();
    assert_eq!(good_outcome.error, None);
    assert_eq!(good_outcome.emitted, 1);
    assert_eq!(sink.titles(), vec!["good".to_string()]);
    let bad_outcome = bad_outcome.unwrap();
    let status = poller.store().feed_status(bad_feed.url.as_str()).unwrap();
    // Counted and shown in the status, naming the feed.
    assert_eq!(status.consecutive_failures, 1);
    assert_eq!(status.total_failures, 1);
    let error = status.last_error.clone().expect("error in status");
    assert!(error.contains(bad_feed.url.as_str()), "{error}");
    assert_eq!(bad_outcome.error.as_deref(), Some(error.as_str()));
    assert!(status.next_poll.is_some());
    (bad_outcome, status, elapsed)
}

fn error_of(status: &FeedStatus) -> &str {
    status.last_error.as_deref().unwrap_or_default()
}

#[tokio::test]
async fn malformed_xml_is_a_failure() {
    let (_, status, _) = poll_bad_beside_good("malformed", test_http_options(), |_| {
        ok(
            "application/rss+xml",
            b"<?xml version=\"1.0\"?>\n<<<<>>>> ]]> \x00\x01&&& <",
        )
    })
    .await;
    // After "<url>: " the reason: not a feed, and why.
    let error = error_of(&status);
    let (_, reason) = error.split_once(": ").expect("url: reason");
    assert!(reason.starts_with("not a feed: "), "{error}");
    assert!(reason.len() > "not a feed: ".len(), "{error}");
}

#[tokio::test]
async fn a_50_mb_feed_is_cut_off_while_streaming() {
    let (_, status, elapsed) = poll_bad_beside_good("huge", test_http_options(), |_| {
        // No Content-Length: only counting while streaming can stop it.
        Reply::Stream {
            head: open_ended_head(&[("Content-Type", "application/rss+xml")]),
            fill: b' ',
            total: 50 * 1024 * 1024,
        }
    })
    .await;
    assert!(
        error_of(&status).contains("body larger than 1048576 bytes"),
        "{}",
        error_of(&status)
    );
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test]
async fn a_declared_50_mb_feed_is_refused_before_reading() {
    let (_, status, _) = poll_bad_beside_good("declared", test_http_options(), |_| Reply::Stream {
        head: b"HTTP/1.1 200 OK\r\nContent-Length: 52428800\r\nConnection: close\r\n\r\n".to_vec(),
        fill: b' ',
        total: 52_428_800,
    })
    .await;
    assert!(
        error_of(&status).contains("body larger than"),
        "{}",
        error_of(&status)
    );
}

#[tokio::test]
async fn a_gzip_bomb_is_cut_at_the_limit_not_inflated() {
    let bomb = Arc::new(gzip_bomb(64 * 1024 * 1024));
    // Small on the wire, far over the 1 MiB limit inflated.
    assert!(bomb.len() < 600 * 1024, "{}", bomb.len());
    let served = Arc::clone(&bomb);
    let (_, status, elapsed) = poll_bad_beside_good("bomb", test_http_options(), move |_| {
        Reply::Raw(response(
            "200 OK",
            &[
                ("Content-Type", "application/rss+xml"),
                ("Content-Encoding", "gzip"),
            ],
            &served,
        ))
    })
    .await;
    assert!(
        error_of(&status).contains("body larger than 1048576 bytes"),
        "{}",
        error_of(&status)
    );
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test]
async fn a_redirect_loop_stops_at_the_limit() {
    let (_, status, _) = poll_bad_beside_good("loop", test_http_options(), |request| {
        let next = if request.path == "/feed" {
            "/a"
        } else {
            "/feed"
        };
        Reply::Raw(response("302 Found", &[("Location", next)], b""))
    })
    .await;
    assert!(
        error_of(&status).contains("more than 5 redirects"),
        "{}",
        error_of(&status)
    );
}

#[tokio::test]
async fn a_server_sending_one_byte_a_second_hits_the_total_timeout() {
    let body = rss(&[("slow", "http://example.invalid/slow")]);
    let (_, status, elapsed) =
        poll_bad_beside_good("drip", test_http_options(), move |_| Reply::Drip {
            head: format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes(),
            body: body.clone(),
            every: Duration::from_secs(1),
        })
        .await;
    assert!(
        error_of(&status).contains("timed out"),
        "{}",
        error_of(&status)
    );
    // The 2 s total timeout, not the ~300 s the body would take.
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[tokio::test]
async fn a_connection_reset_is_a_failure() {
    let (_, status, _) = poll_bad_beside_good("reset", test_http_options(), |_| Reply::Reset).await;
    assert!(!error_of(&status).is_empty());
}

#[tokio::test]
async fn an_html_page_where_a_feed_was_expected() {
    let (_, status, _) = poll_bad_beside_good("html", test_http_options(), |_| {
        ok("text/html", b"<!doctype html><html><head><title>News</title></head><body><p>hello</p></body></html>")
    })
    .await;
    assert!(error_of(&status).contains("html"), "{}", error_of(&status));
}

/// Issue 12, class 5: a DOCTYPE entity bomb (one 2 KB entity referenced
/// 5,000 times: 10 MB of text from 20 KB of feed) fails that feed alone,
/// with an error naming it and saying why; the good feed still delivers.
#[tokio::test]
async fn issue_12_an_entity_bomb_fails_alone_naming_the_feed() {
    let (outcome, status, _) = poll_bad_beside_good("entity-bomb", test_http_options(), |_| {
        let body = format!(
            "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY big \"{}\">]>\
             <rss version=\"2.0\"><channel><title>t</title><item><title>x</title>\
             <link>http://example.invalid/x</link><description>{}</description></item>\
             </channel></rss>",
            "A".repeat(2_000),
            "&big;".repeat(5_000)
        );
        ok("application/rss+xml", body.as_bytes())
    })
    .await;
    assert_eq!(outcome.emitted, 0);
    assert!(
        error_of(&status).contains("entity expansion over budget"),
        "{}",
        error_of(&status)
    );
}

#[tokio::test]
async fn an_empty_body_is_a_failure() {
    let (_, status, _) = poll_bad_beside_good("empty", test_http_options(), |_| {
        ok("application/rss+xml", b"")
    })
    .await;
    assert!(error_of(&status).contains("empty"), "{}", error_of(&status));
}

#[tokio::test]
async fn repeated_500s_back_off_exponentially_up_to_the_cap() {
    let server =
        Server::start(|_| Reply::Raw(response("500 Internal Server Error", &[], b"oops"))).await;
    let sink = Arc::new(CollectingSink::default());
    let poller = poller("500s", test_http_options(), Arc::clone(&sink));
    let spec = feed(server.url("/feed"));
    let mut delays = Vec::new();
    for _ in 0..7 {
        let outcome = poller.poll_once(&spec).await.unwrap();
        assert!(outcome
            .error
            .as_deref()
            .unwrap()
            .contains("http status 500"));
        delays.push(outcome.next_in.as_secs());
    }
    // Configured 300 s, capped at max_backoff (3600 s in the test options).
    assert_eq!(delays, vec![300, 600, 1200, 2400, 3600, 3600, 3600]);
    let status = poller.store().feed_status(spec.url.as_str()).unwrap();
    assert_eq!(status.consecutive_failures, 7);
    assert_eq!(status.total_failures, 7);
}

#[tokio::test]
async fn a_hung_feed_does_not_delay_another_feeds_items() {
    let hung = Server::start(|_| Reply::Hang).await;
    let good = good_server().await;
    let sink = Arc::new(CollectingSink::default());
    let http = HttpOptions {
        request_timeout: Duration::from_secs(3),
        ..test_http_options()
    };
    // Fewer global permits than hung feeds: waiting for the hung server's
    // permits must not hold global ones.
    let options = PollOptions {
        max_concurrent_requests: 8,
        ..test_poll_options()
    };
    let poller = poller_with("hung", http, options, Arc::clone(&sink));
    let shutdown = tokio_util::sync::CancellationToken::new();
    // Many hung feeds on one server, more than its concurrency permits and
    // the global ones, on the same address as the good one (another port:
    // another server).
    let mut feeds: Vec<_> = (0..20)
        .map(|index| feed(hung.url(&format!("/feed{index}"))))
        .collect();
    feeds.push(feed(good.url("/feed")));
    let started = Instant::now();
    let running = tokio::spawn(Arc::clone(&poller).run(feeds, shutdown.clone()));
    while sink.titles().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "good feed waited for the hung ones"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sink.titles(), vec!["good".to_string()]);
    shutdown.cancel();
    // In-flight polls of the hung feeds end at their 3 s timeout; those
    // still waiting for the server's permits do not start.
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("poller stopped")
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(4500),
        "{:?}",
        started.elapsed()
    );
}
