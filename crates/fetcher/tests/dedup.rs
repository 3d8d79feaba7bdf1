//! A story is emitted once: guid or canonical link identify it, the same
//! story in two feeds is one article, links through redirectors are
//! resolved, and an item the sink refused stays unseen.

mod support;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use support::{
    feed, poller, poller_with, response, rss, test_http_options, test_poll_options, CollectingSink,
    Reply, Server,
};
use wirewatch_fetcher::{PollOptions, Poller};

/// Polls the feed `server` serves at /feed once: how many items it emitted.
async fn emitted(poller: &Poller, server: &Server) -> usize {
    poller
        .poll_once(&feed(server.url("/feed")))
        .await
        .unwrap()
        .emitted
}

/// A server whose feed document the test can change between polls.
async fn changing_feed() -> (Server, Arc<Mutex<Vec<u8>>>) {
    let document = Arc::new(Mutex::new(Vec::new()));
    let served = Arc::clone(&document);
    let server =
        Server::start(move |_| Reply::Raw(response("200 OK", &[], &served.lock().unwrap()))).await;
    (server, document)
}

#[tokio::test]
async fn a_changed_guid_on_the_same_canonical_link_is_not_new() {
    let (server, document) = changing_feed().await;
    let sink = Arc::new(CollectingSink::default());
    let poller = poller("guid", test_http_options(), Arc::clone(&sink));
    let spec = feed(server.url("/feed"));
    *document.lock().unwrap() = rss(&[("guid-1", "http://example.invalid/story?utm_source=rss")]);
    assert_eq!(poller.poll_once(&spec).await.unwrap().emitted, 1);
    *document.lock().unwrap() = rss(&[("guid-2", "http://example.invalid/story")]);
    assert_eq!(poller.poll_once(&spec).await.unwrap().emitted, 0);
    // Same guid, link changed: not new either.
    *document.lock().unwrap() = rss(&[("guid-2", "http://example.invalid/story-renamed")]);
    assert_eq!(poller.poll_once(&spec).await.unwrap().emitted, 0);
    assert_eq!(sink.items.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn the_same_story_in_two_feeds_is_one_article() {
    let (first, first_document) = changing_feed().await;
    let (second, second_document) = changing_feed().await;
    *first_document.lock().unwrap() =
        rss(&[("a-1", "http://example.invalid/story?utm_campaign=x")]);
    *second_document.lock().unwrap() = rss(&[("b-9", "http://www.example.invalid/story")]);
    let sink = Arc::new(CollectingSink::default());
    let poller = poller("twofeeds", test_http_options(), Arc::clone(&sink));
    assert_eq!(emitted(&poller, &first).await, 1);
    assert_eq!(emitted(&poller, &second).await, 0);
}

#[tokio::test]
async fn links_through_a_redirector_are_resolved_before_dedup() {
    // The "redirector" is this server; its /r/1 sends to the story.
    let redirector = Server::start(|request| match request.path.as_str() {
        "/r/1" => Reply::Raw(response(
            "301 Moved Permanently",
            &[("Location", "http://example.invalid/story")],
            b"",
        )),
        _ => Reply::Raw(response("404 Not Found", &[], b"")),
    })
    .await;
    let (proxied, proxied_document) = changing_feed().await;
    let (direct, direct_document) = changing_feed().await;
    *proxied_document.lock().unwrap() = rss(&[("p-1", redirector.url("/r/1").as_str())]);
    *direct_document.lock().unwrap() = rss(&[("d-1", "http://example.invalid/story")]);
    let sink = Arc::new(CollectingSink::default());
    let options = PollOptions {
        redirector_hosts: vec!["127.0.0.1".into()],
        ..test_poll_options()
    };
    let poller = poller_with(
        "redirector",
        test_http_options(),
        options,
        Arc::clone(&sink),
    );
    assert_eq!(emitted(&poller, &proxied).await, 1);
    let item = sink.items.lock().unwrap()[0].clone();
    assert_eq!(item.link.as_deref(), Some("http://example.invalid/story"));
    assert_eq!(emitted(&poller, &direct).await, 0);
    // Both keys are seen: the redirector link itself is not offered again,
    // and is not resolved again.
    let resolutions = || {
        redirector
            .requests()
            .iter()
            .filter(|request| request.path == "/r/1")
            .count()
    };
    assert_eq!(resolutions(), 1);
    *proxied_document.lock().unwrap() = rss(&[("p-2", redirector.url("/r/1").as_str())]);
    assert_eq!(emitted(&poller, &proxied).await, 0);
    assert_eq!(resolutions(), 1);
}

#[tokio::test]
async fn items_the_sink_refused_are_offered_again() {
    let (server, document) = changing_feed().await;
    *document.lock().unwrap() = rss(&[
        ("a", "http://example.invalid/a"),
        ("b", "http://example.invalid/b"),
    ]);
    let sink = Arc::new(CollectingSink::default());
    let poller = poller("refused", test_http_options(), Arc::clone(&sink));
    let spec = feed(server.url("/feed"));
    sink.refuse.store(true, Ordering::SeqCst);
    let refused = poller.poll_once(&spec).await.unwrap();
    assert_eq!(refused.emitted, 0);
    assert!(refused
        .error
        .as_deref()
        .unwrap()
        .contains("downstream unavailable"));
    assert_eq!(poller.store().seen_count().unwrap(), 0);
    sink.refuse.store(false, Ordering::SeqCst);
    let accepted = poller.poll_once(&spec).await.unwrap();
    assert_eq!(accepted.emitted, 2);
    let mut titles = sink.titles();
    titles.sort();
    assert_eq!(titles, vec!["a".to_string(), "b".to_string()]);
    assert_eq!(poller.poll_once(&spec).await.unwrap().emitted, 0);
}

/// Regression: the parser keeps empty `<item/>`s so entry counts match the
/// document; the poller must not emit them as stories.
#[tokio::test]
async fn empty_entries_are_not_emitted() {
    let (server, document) = changing_feed().await;
    *document.lock().unwrap() =
        b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>\
        <item></item><item><title> </title></item>\
        <item><title>Real story</title><link>http://example.invalid/real</link></item>\
        </channel></rss>"
            .to_vec();
    let sink = Arc::new(CollectingSink::default());
    let poller = poller("empty", test_http_options(), Arc::clone(&sink));
    assert_eq!(emitted(&poller, &server).await, 1);
    let items = sink.items.lock().unwrap();
    assert_eq!(items[0].title.as_deref(), Some("Real story"));
}

/// One poll's new items are committed to the seen-set together (one fsync),
/// not one commit per item.
#[tokio::test]
async fn one_poll_of_many_new_items_commits_the_seen_set_once() {
    let (server, document) = changing_feed().await;
    let links: Vec<(String, String)> = (0..30)
        .map(|index| {
            (
                format!("g{index}"),
                format!("http://example.invalid/{index}"),
            )
        })
        .collect();
    let items: Vec<(&str, &str)> = links
        .iter()
        .map(|(guid, link)| (guid.as_str(), link.as_str()))
        .collect();
    *document.lock().unwrap() = rss(&items);
    let sink = Arc::new(CollectingSink::default());
    let poller = poller("onecommit", test_http_options(), Arc::clone(&sink));
    let before = poller.store().seen_commits();
    let outcome = poller.poll_once(&feed(server.url("/feed"))).await.unwrap();
    assert_eq!(outcome.emitted, 30);
    assert_eq!(poller.store().seen_commits() - before, 1);
    // Every key made it: the next poll emits nothing.
    assert_eq!(emitted(&poller, &server).await, 0);
}

/// While one feed's poll is still running (its seen keys not committed
/// yet), another feed carrying the same story does not emit it again.
#[tokio::test]
async fn a_story_emitted_by_a_running_poll_is_not_emitted_by_another_feed() {
    let (first, first_document) = changing_feed().await;
    let (second, second_document) = changing_feed().await;
    // Emitted oldest (last listed) first: the story, then the held item.
    *first_document.lock().unwrap() = rss(&[
        ("hold", "http://example.invalid/held"),
        ("a-1", "http://example.invalid/story"),
    ]);
    *second_document.lock().unwrap() = rss(&[("b-1", "http://example.invalid/story")]);
    let sink = Arc::new(CollectingSink::default());
    *sink.hold_title.lock().unwrap() = Some("hold".into());
    let poller = poller("running", test_http_options(), Arc::clone(&sink));
    let running = {
        let poller = Arc::clone(&poller);
        let spec = feed(first.url("/feed"));
        tokio::spawn(async move { poller.poll_once(&spec).await })
    };
    for _ in 0..500 {
        if !sink.titles().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(sink.titles(), vec!["a-1".to_string()]);
    let second_poll = poller.poll_once(&feed(second.url("/feed"))).await.unwrap();
    assert_eq!(second_poll.emitted, 0);
    sink.release.notify_one();
    assert_eq!(running.await.unwrap().unwrap().emitted, 2);
    assert_eq!(sink.titles(), vec!["a-1".to_string(), "hold".to_string()]);
}
