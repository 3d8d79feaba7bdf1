//! WebSub hub and self links, as each feed format writes them.

use url::Url;
use wirewatch_feed::parse_feed;

fn base() -> Url {
    Url::parse("https://example.org/news/feed").unwrap()
}

#[test]
fn rss_atom_links_give_the_hub_and_the_topic() {
    let rss = br#"<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>t</title><link>https://example.org/</link>
<atom:link rel="self" href="https://example.org/news/rss.xml"/>
<atom:link rel="hub" href="/hub"/><atom:link rel="hub" href="https://second.example/"/>
<item><title>a</title><link>https://example.org/a</link></item></channel></rss>"#;
    let parsed = parse_feed(rss, None, Some(&base())).unwrap();
    assert_eq!(
        parsed.hubs,
        ["https://example.org/hub", "https://second.example/"]
    );
    assert_eq!(
        parsed.self_link.as_deref(),
        Some("https://example.org/news/rss.xml")
    );
    assert_eq!(parsed.link.as_deref(), Some("https://example.org/"));
}

#[test]
fn atom_links_give_the_hub_and_the_topic() {
    let atom = br#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:x</id>
<link rel="alternate" href="https://example.org/"/><link rel="hub" href="https://hub.example/"/>
<link rel="self" href="https://example.org/atom.xml"/>
<entry><title>a</title><id>urn:a</id><link href="https://example.org/a"/></entry></feed>"#;
    let parsed = parse_feed(atom, None, Some(&base())).unwrap();
    assert_eq!(parsed.hubs, ["https://hub.example/"]);
    assert_eq!(
        parsed.self_link.as_deref(),
        Some("https://example.org/atom.xml")
    );
    assert_eq!(parsed.link.as_deref(), Some("https://example.org/"));
}

#[test]
fn json_feed_hubs_of_type_websub_are_read() {
    let json = br#"{"version":"https://jsonfeed.org/version/1.1","title":"t",
"feed_url":"https://example.org/feed.json",
"hubs":[{"type":"WebSub","url":"https://hub.example/"},{"type":"rssCloud","url":"https://cloud.example/"}],
"items":[{"id":"1","url":"https://example.org/a"}]}"#;
    let parsed = parse_feed(json, None, Some(&base())).unwrap();
    assert_eq!(parsed.hubs, ["https://hub.example/"]);
    assert_eq!(
        parsed.self_link.as_deref(),
        Some("https://example.org/feed.json")
    );
}

#[test]
fn feeds_without_hubs_have_none() {
    let rss = br#"<rss version="2.0"><channel><title>t</title><item><title>a</title></item></channel></rss>"#;
    let parsed = parse_feed(rss, None, Some(&base())).unwrap();
    assert!(parsed.hubs.is_empty());
    assert_eq!(parsed.self_link, None);
}
