//! Conditional GET against a real server: a 304 to the stored validator
//! produces no items, even when the document behind it changed.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use support::{feed, poller, response, rss, test_http_options, CollectingSink, Reply, Server};

#[tokio::test]
async fn stored_etag_is_sent_and_a_304_emits_nothing() {
    let polls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&polls);
    let server = Server::start(move |request| {
        let round = counter.fetch_add(1, Ordering::SeqCst);
        if request.header("if-none-match") == Some("\"v1\"") {
            return Reply::Raw(response("304 Not Modified", &[("ETag", "\"v1\"")], b""));
        }
        // After the first round the document grew a new item; a server that
        // honours the validator never shows it.
        let body = if round == 0 {
            rss(&[("a", "http://example.invalid/a")])
        } else {
            rss(&[
                ("a", "http://example.invalid/a"),
                ("b", "http://example.invalid/b"),
            ])
        };
        Reply::Raw(response(
            "200 OK",
            &[("ETag", "\"v1\""), ("Content-Type", "application/rss+xml")],
            &body,
        ))
    })
    .await;
    let sink = Arc::new(CollectingSink::default());
    let poller = poller("etag", test_http_options(), Arc::clone(&sink));
    let spec = feed(server.url("/feed"));

    let first = poller.poll_once(&spec).await.unwrap();
    assert_eq!(first.emitted, 1);
    assert!(!first.not_modified);
    assert_eq!(
        poller
            .store()
            .feed_status(spec.url.as_str())
            .unwrap()
            .validators
            .etag
            .as_deref(),
        Some("\"v1\"")
    );

    let second = poller.poll_once(&spec).await.unwrap();
    assert!(second.not_modified, "{second:?}");
    assert_eq!(second.emitted, 0);
    assert_eq!(sink.titles(), vec!["a".to_string()]);

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].header("if-none-match"), None);
    assert_eq!(requests[1].header("if-none-match"), Some("\"v1\""));
}

#[tokio::test]
async fn stored_last_modified_is_sent_as_if_modified_since() {
    const STAMP: &str = "Wed, 21 Oct 2026 07:28:00 GMT";
    let polls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&polls);
    let server = Server::start(move |request| {
        let round = counter.fetch_add(1, Ordering::SeqCst);
        if request.header("if-modified-since") == Some(STAMP) {
            return Reply::Raw(response("304 Not Modified", &[], b""));
        }
        let body = if round == 0 {
            rss(&[("a", "http://example.invalid/a")])
        } else {
            rss(&[
                ("a", "http://example.invalid/a"),
                ("b", "http://example.invalid/b"),
            ])
        };
        Reply::Raw(response("200 OK", &[("Last-Modified", STAMP)], &body))
    })
    .await;
    let sink = Arc::new(CollectingSink::default());
    let poller = poller("lastmod", test_http_options(), Arc::clone(&sink));
    let spec = feed(server.url("/feed"));

    assert_eq!(poller.poll_once(&spec).await.unwrap().emitted, 1);
    let second = poller.poll_once(&spec).await.unwrap();
    assert!(second.not_modified, "{second:?}");
    assert_eq!(second.emitted, 0);
    assert_eq!(sink.titles(), vec!["a".to_string()]);
    let requests = server.requests();
    assert_eq!(requests[1].header("if-modified-since"), Some(STAMP));
    assert_eq!(requests[1].header("if-none-match"), None);
}
