//! Feeds written to hurt (issue 12, "Hostile input"): entity bombs, a UTF-8
//! feed with one stray byte, control characters in titles, and fields a
//! megabyte long. Each test is real bytes through the public parser (or
//! through a real poll of a local server), and each would fail on 5ed3277.

mod support;

use std::sync::{Arc, Mutex};

use support::{feed, ok, poller, test_http_options, CollectingSink, Server};
use wirewatch_feed::{
    parse_feed, FeedParseError, ParsedFeed, ENTITY_EXPANSION_ALLOWANCE, ENTITY_EXPANSION_FACTOR,
    MAX_NAMES, MAX_NAME_CHARS, MAX_SUMMARY_CHARS, MAX_TITLE_CHARS,
};

/// The most bytes of entity text a document of `len` bytes may produce.
fn expansion_budget(len: usize) -> usize {
    len * ENTITY_EXPANSION_FACTOR + ENTITY_EXPANSION_ALLOWANCE
}

/// Every byte of text the parse handed out (the memory a caller holds).
fn text_bytes(feed: &ParsedFeed) -> usize {
    let optional = |value: &Option<String>| value.as_deref().map_or(0, str::len);
    feed.entries
        .iter()
        .map(|entry| {
            optional(&entry.title)
                + optional(&entry.summary)
                + optional(&entry.id)
                + optional(&entry.link)
                + entry.authors.iter().map(String::len).sum::<usize>()
                + entry.categories.iter().map(String::len).sum::<usize>()
        })
        .sum::<usize>()
        + optional(&feed.title)
}

/// An RSS document whose DOCTYPE declares `subset` and whose one item has
/// `title` and `description` as written (entity references included).
fn rss_with_doctype(subset: &str, title: &str, description: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!DOCTYPE rss [{subset}]>\n\
         <rss version=\"2.0\"><channel><title>bomb</title><link>http://example.invalid/</link>\
         <item><title>{title}</title><link>http://example.invalid/1</link>\
         <description>{description}</description></item></channel></rss>"
    )
    .into_bytes()
}

/// Issue 12, class 5: one 2,000-byte entity referenced 5,000 times (a 20 KB
/// document that expands to 10 MB; at 1 MB of document the old code ran out
/// of memory) is refused with a reason, instead of being expanded.
#[test]
fn issue_12_one_large_entity_referenced_many_times_is_refused() {
    let subset = format!("<!ENTITY big \"{}\">", "A".repeat(2_000));
    let body = rss_with_doctype(&subset, "t", &"&big;".repeat(5_000));
    assert!(body.len() < 30_000, "{}", body.len());
    let result = parse_feed(&body, Some("application/rss+xml"), None);
    match result {
        Err(FeedParseError::EntityExpansion { limit }) => {
            assert_eq!(limit, expansion_budget(body.len()));
        }
        other => panic!(
            "expected an entity budget error, got {} bytes of text",
            other.map_or(0, |feed| text_bytes(&feed))
        ),
    }
    let message = parse_feed(&body, None, None).unwrap_err().to_string();
    assert!(
        message.contains("entity expansion over budget"),
        "{message}"
    );
}

/// Issue 12, class 5, nested form ("billion laughs"): ten levels of ten
/// references would be 10^10 bytes; the budget stops it while the
/// declarations are read.
#[test]
fn issue_12_billion_laughs_is_refused() {
    let mut subset = String::from("<!ENTITY lol0 \"lol\">");
    for level in 1..=10 {
        subset.push_str(&format!(
            "<!ENTITY lol{level} \"{}\">",
            format!("&lol{};", level - 1).repeat(10)
        ));
    }
    let body = rss_with_doctype(&subset, "&lol10;", "&lol10;");
    let result = parse_feed(&body, None, None);
    assert!(
        matches!(result, Err(FeedParseError::EntityExpansion { .. })),
        "{:?}",
        result.map(|feed| text_bytes(&feed))
    );
}

/// Issue 12, class 5: within the budget, declared entities still expand,
/// nested ones included, and the text handed out stays within the budget
/// of the document's size.
#[test]
fn issue_12_entities_within_the_budget_expand_nested_and_stay_bounded() {
    let subset = "<!ENTITY org \"W&amp;W\"><!ENTITY who \"&org; Press\">\
                  <!ENTITY arms \"Arms rose \">";
    // Expansions of about twice the document's size: legal, and bounded.
    let description = "&arms;".repeat(8_000);
    let body = rss_with_doctype(subset, "&who; reports", &description);
    let feed = parse_feed(&body, None, None).expect("within the budget");
    let entry = &feed.entries[0];
    assert_eq!(entry.title.as_deref(), Some("W&W Press reports"));
    let summary = entry.summary.as_deref().unwrap_or_default();
    assert!(summary.starts_with("Arms rose Arms rose"));
    assert!(summary.chars().count() <= MAX_SUMMARY_CHARS);
    assert!(text_bytes(&feed) <= expansion_budget(body.len()));
}

/// An RSS feed whose titles are `titles`, declared as `declaration`.
fn rss_titles(declaration: &str, titles: &[&[u8]]) -> Vec<u8> {
    let mut body = format!(
        "<?xml version=\"1.0\"{declaration}?><rss version=\"2.0\"><channel>\
         <title>Nachrichten aus Z\u{fc}rich</title><link>http://example.invalid/</link>"
    )
    .into_bytes();
    for (index, title) in titles.iter().enumerate() {
        body.extend_from_slice(b"<item><title>");
        body.extend_from_slice(title);
        body.extend_from_slice(
            format!("</title><link>http://example.invalid/{index}</link></item>").as_bytes(),
        );
    }
    body.extend_from_slice(b"</channel></rss>");
    body
}

/// Issue 12, class 6: one invalid byte (a Windows-1252 quote pasted into a
/// UTF-8 feed) costs one replacement character; the other titles stay as
/// written instead of turning into `ZÃ¼rich`. Declared in the prolog, in
/// the header, or not at all.
#[test]
fn issue_12_a_stray_byte_keeps_a_utf8_feed_utf8() {
    let zurich = "Z\u{fc}rich stimmt \u{fc}ber Exporte ab".as_bytes();
    let geneva = "Gen\u{e8}ve: \u{ab}Sanktionen\u{bb} versch\u{e4}rft".as_bytes();
    let stray: &[u8] = b"Minister\x92s visit to K\xc3\xb6ln";
    for (declaration, content_type) in [
        (" encoding=\"utf-8\"", None),
        ("", Some("application/rss+xml; charset=utf-8")),
        ("", None),
    ] {
        let body = rss_titles(declaration, &[zurich, geneva, stray]);
        let feed = parse_feed(&body, content_type, None).unwrap();
        let titles: Vec<&str> = feed
            .entries
            .iter()
            .filter_map(|entry| entry.title.as_deref())
            .collect();
        assert_eq!(
            titles,
            [
                "Z\u{fc}rich stimmt \u{fc}ber Exporte ab",
                "Gen\u{e8}ve: \u{ab}Sanktionen\u{bb} versch\u{e4}rft",
                "Minister\u{fffd}s visit to K\u{f6}ln",
            ],
            "declared {declaration:?} / {content_type:?}"
        );
        assert_eq!(feed.title.as_deref(), Some("Nachrichten aus Z\u{fc}rich"));
    }
}

/// Issue 12, class 6, the other side: a feed that really is Windows-1252
/// (declaring UTF-8, or nothing) is still read as Windows-1252.
#[test]
fn issue_12_a_genuine_windows_1252_feed_is_still_detected() {
    let titles: [&[u8]; 3] = [
        b"Z\xfcrich stimmt \xfcber Exporte ab",
        b"Gen\xe8ve: \xabSanktionen\xbb versch\xe4rft",
        b"K\xf6ln \x96 M\xfcnchen",
    ];
    for declaration in [" encoding=\"utf-8\"", ""] {
        let mut body = rss_titles(declaration, &titles);
        // The channel title was written as UTF-8 by `rss_titles`; make the
        // whole document Windows-1252.
        let (latin, _, _) = encoding_rs::WINDOWS_1252.encode("Nachrichten aus Z\u{fc}rich");
        let channel_title = "Nachrichten aus Z\u{fc}rich".as_bytes();
        let at = body
            .windows(channel_title.len())
            .position(|window| window == channel_title)
            .unwrap();
        body.splice(at..at + channel_title.len(), latin.iter().copied());
        let feed = parse_feed(&body, None, None).unwrap();
        assert_eq!(
            feed.entries[0].title.as_deref(),
            Some("Z\u{fc}rich stimmt \u{fc}ber Exporte ab")
        );
        assert_eq!(
            feed.entries[2].title.as_deref(),
            Some("K\u{f6}ln \u{2013} M\u{fc}nchen")
        );
    }
}

/// A title that rewrites a terminal (set the window title, ring the bell),
/// with DEL and C1 controls too; what a reader should see of it.
const HOSTILE_TITLE: &str = "\u{1b}]0;pwned\u{7}Arms \u{7f}deal\u{85} \u{9b}31mapproved";
const SHOWN_TITLE: &str = "]0;pwnedArms deal 31mapproved";

/// Issue 12, class 9 (feed half): control characters leave every text
/// field the same way whether the feed is JSON Feed, RSS or Atom.
#[test]
fn issue_12_control_characters_are_removed_on_every_feed_path() {
    let json = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": HOSTILE_TITLE,
        "items": [{
            "id": "1",
            "url": "http://example.invalid/1",
            "title": HOSTILE_TITLE,
            "content_text": HOSTILE_TITLE,
            "authors": [{"name": HOSTILE_TITLE}],
            "tags": [HOSTILE_TITLE],
        }],
    })
    .to_string();
    let rss = format!(
        "<rss version=\"2.0\"><channel><title>{HOSTILE_TITLE}</title>\
         <item><title>{HOSTILE_TITLE}</title><link>http://example.invalid/1</link>\
         <description>{HOSTILE_TITLE}</description><author>{HOSTILE_TITLE}</author>\
         <category>{HOSTILE_TITLE}</category></item></channel></rss>"
    );
    let atom = format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>{HOSTILE_TITLE}</title>\
         <entry><id>1</id><title>{HOSTILE_TITLE}</title>\
         <link href=\"http://example.invalid/1\"/><summary>{HOSTILE_TITLE}</summary>\
         <author><name>{HOSTILE_TITLE}</name></author>\
         <category term=\"{HOSTILE_TITLE}\"/></entry></feed>"
    );
    for (kind, body) in [("json", json), ("rss", rss), ("atom", atom)] {
        let feed = parse_feed(body.as_bytes(), None, None).unwrap();
        let entry = &feed.entries[0];
        assert_eq!(feed.title.as_deref(), Some(SHOWN_TITLE), "{kind}");
        assert_eq!(entry.title.as_deref(), Some(SHOWN_TITLE), "{kind}");
        assert_eq!(entry.summary.as_deref(), Some(SHOWN_TITLE), "{kind}");
        assert_eq!(entry.authors, [SHOWN_TITLE], "{kind}");
        assert_eq!(entry.categories, [SHOWN_TITLE], "{kind}");
    }
}

/// Issue 12, caps: a megabyte title and summary, and thousands of long
/// categories, are cut to the documented caps at character boundaries,
/// and the entry says which fields were cut.
#[test]
fn issue_12_fields_are_cut_to_their_caps() {
    let long = "\u{fc}".repeat(500_000); // 1 MB of two-byte characters
    let categories: String = (0..2 * MAX_NAMES)
        .map(|index| format!("<category>{index}{}</category>", "k".repeat(1_000)))
        .collect();
    let rss = format!(
        "<rss version=\"2.0\"><channel><title>{long}</title>\
         <item><title>{long}</title><link>http://example.invalid/1</link>\
         <description>{long}</description>{categories}</item></channel></rss>"
    );
    let json = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": long,
        "items": [{
            "url": "http://example.invalid/1",
            "title": long,
            "summary": long,
            "tags": (0..2 * MAX_NAMES).map(|index| format!("{index}{}", "k".repeat(1_000))).collect::<Vec<_>>(),
        }],
    })
    .to_string();
    for (kind, body) in [("rss", rss), ("json", json)] {
        let feed = parse_feed(body.as_bytes(), None, None).unwrap();
        let entry = &feed.entries[0];
        let chars =
            |value: &Option<String>| value.as_deref().map_or(0, |text| text.chars().count());
        assert_eq!(chars(&feed.title), MAX_TITLE_CHARS, "{kind}");
        assert_eq!(chars(&entry.title), MAX_TITLE_CHARS, "{kind}");
        assert_eq!(chars(&entry.summary), MAX_SUMMARY_CHARS, "{kind}");
        assert!(entry
            .title
            .as_deref()
            .unwrap()
            .chars()
            .all(|ch| ch == '\u{fc}'));
        assert_eq!(entry.categories.len(), MAX_NAMES, "{kind}");
        assert!(entry
            .categories
            .iter()
            .all(|name| name.chars().count() == MAX_NAME_CHARS));
        assert_eq!(
            entry.truncated,
            ["title", "summary", "categories"],
            "{kind}"
        );
    }
}

/// One logged event's fields, by name, values as `Debug` text.
type EventFields = Vec<(String, String)>;

/// A subscriber that keeps every event at WARN or above with its fields.
#[derive(Clone, Default)]
struct Recorder {
    events: Arc<Mutex<Vec<EventFields>>>,
}

struct Fields<'a>(&'a mut Vec<(String, String)>);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0
            .push((field.name().to_string(), format!("{value:?}")));
    }
}

impl tracing::Subscriber for Recorder {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        *metadata.level() <= tracing::Level::WARN
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Vec::new();
        event.record(&mut Fields(&mut fields));
        self.events.lock().unwrap().push(fields);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Issue 12, logging: a feed of 300 items whose titles are all over the
/// cap is emitted with the titles cut, and logs one WARN line for the poll
/// (count and first example), not one per item.
#[test]
fn issue_12_per_item_trouble_is_one_log_line_per_feed_and_poll() {
    let long_title = "Sanctions ".repeat(MAX_TITLE_CHARS / 8);
    let mut body = String::from(
        "<rss version=\"2.0\"><channel><title>t</title><link>http://example.invalid/</link>",
    );
    for index in 0..300 {
        body.push_str(&format!(
            "<item><title>{long_title}</title><guid>g{index}</guid>\
             <link>http://example.invalid/story/{index}</link></item>"
        ));
    }
    body.push_str("</channel></rss>");
    let recorder = Recorder::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sink = Arc::new(CollectingSink::default());
    let outcome = tracing::subscriber::with_default(recorder.clone(), || {
        runtime.block_on(async {
            let body = body.into_bytes();
            let server = Server::start(move |_| ok("application/rss+xml", &body)).await;
            let poller = poller("caps-log", test_http_options(), Arc::clone(&sink));
            poller.poll_once(&feed(server.url("/feed"))).await.unwrap()
        })
    });
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.emitted, 300);
    let titles = sink.titles();
    assert_eq!(titles.len(), 300);
    assert!(titles
        .iter()
        .all(|title| title.chars().count() == MAX_TITLE_CHARS));
    let events = recorder.events.lock().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    let field = |name: &str| {
        events[0]
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.clone())
    };
    assert_eq!(field("items").as_deref(), Some("300"));
    // Feeds list newest first and are emitted oldest first: the last item
    // in the document is the first one emitted.
    let first = field("first").unwrap_or_default();
    assert!(
        first.contains("http://example.invalid/story/299") && first.contains("title"),
        "{first}"
    );
}
