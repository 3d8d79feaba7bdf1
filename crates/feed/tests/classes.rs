//! One test per class of broken or unusual feed that `parse_feed` must read
//! (issue 4, "Parsing"). Fixtures are small documents written for these
//! tests; each stands for a class seen in real feeds, not for one file.

use chrono::{TimeZone, Utc};
use url::Url;
use wirewatch_feed::{conformance_record, parse_feed, FeedParseError, ParsedFeed};

fn parse(body: &[u8]) -> ParsedFeed {
    parse_feed(body, None, None).unwrap_or_else(|error| panic!("expected a feed, got {error}"))
}

fn titles(feed: &ParsedFeed) -> Vec<&str> {
    feed.entries
        .iter()
        .map(|entry| entry.title.as_deref().unwrap_or(""))
        .collect()
}

const RSS_ITEMS: &str = "<channel><title>Wire</title><link>http://example.com/</link>\
    <item><title>Arms deal</title><link>http://example.com/1</link></item>\
    <item><title>Sanctions</title><link>http://example.com/2</link></item></channel>";

#[test]
fn versionless_rss_is_read_as_rss() {
    for root in ["<rss>", "<rss version=\"0.93\">", "<rss version=\"0.94\">"] {
        let feed = parse(format!("{root}{RSS_ITEMS}</rss>").as_bytes());
        assert_eq!(titles(&feed), ["Arms deal", "Sanctions"], "root {root}");
        assert_eq!(feed.title.as_deref(), Some("Wire"));
    }
}

#[test]
fn undeclared_html_entities_are_decoded() {
    let body = "<rss version=\"2.0\"><channel><title>Caf&eacute;&nbsp;News</title>\
        <item><title>It&rsquo;s &ldquo;done&rdquo; &hellip; AT&T &mdash; Q&A</title></item></channel></rss>";
    let feed = parse(body.as_bytes());
    assert_eq!(feed.title.as_deref(), Some("Café News"));
    assert_eq!(
        titles(&feed),
        ["It\u{2019}s \u{201C}done\u{201D} \u{2026} AT&T \u{2014} Q&A"]
    );
}

#[test]
fn entities_declared_in_the_doctype_are_expanded() {
    let body = "<!DOCTYPE rss [<!ENTITY org \"Treasury\">]><rss version=\"2.0\"><channel>\
        <item><title>&org; acts</title></item></channel></rss>";
    assert_eq!(titles(&parse(body.as_bytes())), ["Treasury acts"]);
}

fn windows_1251(text: &str) -> Vec<u8> {
    encoding_rs::WINDOWS_1251.encode(text).0.into_owned()
}

#[test]
fn windows_1251_from_the_http_header() {
    let mut body = b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><item><title>".to_vec();
    body.extend(windows_1251("Санкции против поставщиков оружия"));
    body.extend(b"</title></item></channel></rss>");
    let feed = parse_feed(
        &body,
        Some("application/rss+xml; charset=windows-1251"),
        None,
    )
    .unwrap();
    assert_eq!(titles(&feed), ["Санкции против поставщиков оружия"]);
}

#[test]
fn windows_1251_from_the_prolog_and_a_wrong_header_is_overruled_by_the_bytes() {
    let mut body = b"<?xml version=\"1.0\" encoding=\"windows-1251\"?><rss version=\"2.0\"><channel><item><title>".to_vec();
    body.extend(windows_1251("Поставки вооружений"));
    body.extend(b"</title></item></channel></rss>");
    assert_eq!(titles(&parse(&body)), ["Поставки вооружений"]);
    // The header claims UTF-8 but the bytes are not: the declaration wins.
    let feed = parse_feed(&body, Some("text/xml; charset=utf-8"), None).unwrap();
    assert_eq!(titles(&feed), ["Поставки вооружений"]);
}

#[test]
fn undeclared_legacy_encoding_is_detected() {
    let text = "北朝鮮の武器輸出に関する新たな制裁措置が発表されました。財務省は仲介業者を制裁対象に指定しました。";
    let mut body = b"<rss version=\"2.0\"><channel><item><title>".to_vec();
    body.extend(encoding_rs::SHIFT_JIS.encode(text).0.iter());
    body.extend(b"</title></item></channel></rss>");
    assert_eq!(titles(&parse(&body)), [text]);
}

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut units: Vec<u16> = Vec::new();
    if bom {
        units.push(0xFEFF);
    }
    units.extend(text.encode_utf16());
    units
        .iter()
        .flat_map(|unit| {
            if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            }
        })
        .collect()
}

#[test]
fn utf16_and_utf32_with_and_without_bom() {
    let text = format!("<?xml version=\"1.0\" encoding=\"utf-16\"?><rss>{RSS_ITEMS}</rss>");
    for (big_endian, bom) in [(true, true), (false, true), (true, false), (false, false)] {
        let feed = parse(&utf16(&text, big_endian, bom));
        assert_eq!(
            titles(&feed),
            ["Arms deal", "Sanctions"],
            "utf-16 be={big_endian} bom={bom}"
        );
    }
    let utf32_be: Vec<u8> = std::iter::once('\u{FEFF}')
        .chain(text.chars())
        .flat_map(|ch| (ch as u32).to_be_bytes())
        .collect();
    assert_eq!(titles(&parse(&utf32_be)), ["Arms deal", "Sanctions"]);
    let utf32_le: Vec<u8> = text
        .chars()
        .flat_map(|ch| (ch as u32).to_le_bytes())
        .collect();
    assert_eq!(titles(&parse(&utf32_le)), ["Arms deal", "Sanctions"]);
}

#[test]
fn atom_03_is_read() {
    let body = r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#">
        <title>Old Atom</title><link rel="alternate" type="text/html" href="http://example.org/"/>
        <modified>2004-01-05T10:00:00Z</modified>
        <entry><title mode="escaped" type="text/html">&lt;b&gt;Embargo&lt;/b&gt; lifted</title>
          <link rel="alternate" type="text/html" href="http://example.org/2004/01/05"/>
          <id>tag:example.org,2004:1</id>
          <issued>2004-01-05T09:00:00-01:00</issued><modified>2004-01-06T10:00:00Z</modified>
        </entry></feed>"#;
    let feed = parse(body.as_bytes());
    assert_eq!(feed.title.as_deref(), Some("Old Atom"));
    assert_eq!(feed.link.as_deref(), Some("http://example.org/"));
    let entry = &feed.entries[0];
    assert_eq!(entry.title.as_deref(), Some("Embargo lifted"));
    assert_eq!(entry.link.as_deref(), Some("http://example.org/2004/01/05"));
    assert_eq!(entry.id.as_deref(), Some("tag:example.org,2004:1"));
    assert_eq!(
        entry.published,
        Some(Utc.with_ymd_and_hms(2004, 1, 5, 10, 0, 0).unwrap())
    );
    assert_eq!(
        entry.updated,
        Some(Utc.with_ymd_and_hms(2004, 1, 6, 10, 0, 0).unwrap())
    );
}

#[test]
fn rss_090_is_read() {
    let body = r#"<?xml version="1.0"?>
        <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/">
          <channel><title>Mozilla Dot Org</title><link>http://www.mozilla.org</link></channel>
          <item><title>New Status Updates</title><link>http://www.mozilla.org/status/</link></item>
          <item><title>Bugzilla Reorganized</title><link>http://www.mozilla.org/bugs/</link></item>
        </rdf:RDF>"#;
    let feed = parse(body.as_bytes());
    assert_eq!(feed.title.as_deref(), Some("Mozilla Dot Org"));
    assert_eq!(
        titles(&feed),
        ["New Status Updates", "Bugzilla Reorganized"]
    );
    assert_eq!(
        feed.entries[1].link.as_deref(),
        Some("http://www.mozilla.org/bugs/")
    );
}

#[test]
fn rss_10_items_take_their_id_from_rdf_about() {
    let body = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
          xmlns:dc="http://purl.org/dc/elements/1.1/">
          <channel rdf:about="http://example.com/"><title>T</title><link>http://example.com/</link></channel>
          <item rdf:about="http://example.com/a"><title>A</title><link>http://example.com/a</link>
            <dc:date>2023-12-17T10:00:00+01:00</dc:date></item>
        </rdf:RDF>"#;
    let entry = &parse(body.as_bytes()).entries[0];
    assert_eq!(entry.id.as_deref(), Some("http://example.com/a"));
    assert_eq!(
        entry.published,
        Some(Utc.with_ymd_and_hms(2023, 12, 17, 9, 0, 0).unwrap())
    );
}

#[test]
fn userland_rss2_default_namespace_is_read() {
    let body = format!(
        "<rss version=\"2.0\" xmlns=\"http://backend.userland.com/rss2\">{RSS_ITEMS}</rss>"
    );
    assert_eq!(titles(&parse(body.as_bytes())), ["Arms deal", "Sanctions"]);
}

#[test]
fn json_feed_variants() {
    let body = r#"{"version": "http://jsonfeed.org/version/1", "title": "JSON Wire",
        "home_page_url": "https://example.org/", "feed_url": "https://example.org/feed.json",
        "items": [
          {"id": 2, "url": "/second", "title": "post 2", "content_html": "<p>Hi</p>",
           "date_published": "Mon, 01 Jan 2024 10:00:00 GMT", "tags": "single"},
          {"id": "1", "url": "https://example.org/first", "content_text": "no title",
           "date_modified": "2024-01-02T00:00:00Z", "author": {"name": "A"}}
        ]}"#;
    let feed = parse(body.as_bytes());
    assert_eq!(feed.title.as_deref(), Some("JSON Wire"));
    assert_eq!(feed.entries.len(), 2);
    let first = &feed.entries[0];
    assert_eq!(first.id.as_deref(), Some("2"));
    assert_eq!(first.link.as_deref(), Some("https://example.org/second"));
    assert_eq!(first.summary.as_deref(), Some("Hi"));
    assert_eq!(first.categories, ["single"]);
    assert_eq!(
        first.published,
        Some(Utc.with_ymd_and_hms(2024, 1, 1, 10, 0, 0).unwrap())
    );
    assert_eq!(feed.entries[1].authors, ["A"]);
    assert!(matches!(
        parse_feed(b"{\"a\": 1}", None, None),
        Err(FeedParseError::NotAFeed(_))
    ));
}

#[test]
fn relative_links_use_xml_base_then_the_feed_url() {
    let base = Url::parse("http://example.com/feeds/main.xml").unwrap();
    let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://example.org/blog/">
        <title>T</title><link href="./"/>
        <entry xml:base="2024/"><title>A</title><link href="post.html"/><id>a</id></entry>
        <entry><title>B</title><link href="/abs.html"/><id>b</id></entry></feed>"#;
    let feed = parse_feed(atom.as_bytes(), None, Some(&base)).unwrap();
    assert_eq!(feed.link.as_deref(), Some("http://example.org/blog/"));
    assert_eq!(
        feed.entries[0].link.as_deref(),
        Some("http://example.org/blog/2024/post.html")
    );
    assert_eq!(
        feed.entries[1].link.as_deref(),
        Some("http://example.org/abs.html")
    );

    let rss = r#"<rss version="2.0"><channel><title>T</title><link>/</link>
        <item xml:base="http://other.example/first/"><title>A</title><link>a</link></item>
        <item><title>B</title><link>b?x=1&amp;y=2</link></item></channel></rss>"#;
    let feed = parse_feed(rss.as_bytes(), None, Some(&base)).unwrap();
    assert_eq!(feed.link.as_deref(), Some("http://example.com/"));
    assert_eq!(
        feed.entries[0].link.as_deref(),
        Some("http://other.example/first/a")
    );
    assert_eq!(
        feed.entries[1].link.as_deref(),
        Some("http://example.com/feeds/b?x=1&y=2")
    );
}

#[test]
fn permalink_guid_is_the_link_unless_it_says_otherwise() {
    let body = r#"<rss version="2.0"><channel>
        <item><title>A</title><guid>http://example.com/a</guid></item>
        <item><title>B</title><guid isPermaLink="false">http://example.com/b</guid></item>
        <item><title>C</title><guid>urn:x:c</guid></item></channel></rss>"#;
    let feed = parse(body.as_bytes());
    let links: Vec<Option<&str>> = feed
        .entries
        .iter()
        .map(|entry| entry.link.as_deref())
        .collect();
    assert_eq!(links, [Some("http://example.com/a"), None, None]);
    assert_eq!(feed.entries[2].id.as_deref(), Some("urn:x:c"));
}

#[test]
fn no_invented_ids() {
    let feed = parse(format!("<rss version=\"2.0\">{RSS_ITEMS}</rss>").as_bytes());
    assert!(feed.entries.iter().all(|entry| entry.id.is_none()));
}

#[test]
fn odd_dates_a_human_can_read() {
    let cases = [
        ("Tue, 10 Jun 2003 04:00:00 GMT", (2003, 6, 10, 4, 0, 0)),
        ("2006-01-11 16:43:22 -0800", (2006, 1, 12, 0, 43, 22)),
        ("2020/1/10 14:33:00", (2020, 1, 10, 14, 33, 0)),
        ("Sat, Dec 16 2023 02:02:33 PM", (2023, 12, 16, 14, 2, 33)),
        ("Thurs, 13 July 2011 07:38:00 EST", (2011, 7, 13, 12, 38, 0)),
        ("Mon, 21 Jan 2008 8:56 am PST", (2008, 1, 21, 16, 56, 0)),
        (
            "mar, 15 nov 2022 23:38:15 +0000",
            (2022, 11, 15, 23, 38, 15),
        ),
        ("2023-12-17", (2023, 12, 17, 0, 0, 0)),
        ("Sun, 3 Sep 23 9:05:00 UT", (2023, 9, 3, 9, 5, 0)),
    ];
    for (text, (year, month, day, hour, minute, second)) in cases {
        let body = format!("<rss version=\"2.0\"><channel><item><title>x</title><pubDate>{text}</pubDate></item></channel></rss>");
        let published = parse(body.as_bytes()).entries[0].published;
        let expected = Utc
            .with_ymd_and_hms(year, month, day, hour, minute, second)
            .unwrap();
        assert_eq!(published, Some(expected), "date {text:?}");
    }
    let body = "<rss version=\"2.0\"><channel><item><title>x</title><pubDate>soon</pubDate></item></channel></rss>";
    assert_eq!(parse(body.as_bytes()).entries[0].published, None);
}

#[test]
fn html_in_titles_and_summaries_becomes_text() {
    let body = r#"<rss version="2.0"><channel><title>&lt;b&gt;Wire&lt;/b&gt;</title><item>
        <title><![CDATA[<em>Drones</em> &amp; missiles]]></title>
        <description>&lt;p&gt;First&lt;/p&gt;&lt;p&gt;Second &amp;amp; third&lt;script&gt;x()&lt;/script&gt;&lt;/p&gt;</description>
        </item></channel></rss>"#;
    let feed = parse(body.as_bytes());
    assert_eq!(feed.title.as_deref(), Some("Wire"));
    assert_eq!(titles(&feed), ["Drones & missiles"]);
    assert_eq!(
        feed.entries[0].summary.as_deref(),
        Some("First Second & third")
    );
}

#[test]
fn ill_formed_xml_still_gives_its_entries() {
    // Mismatched tags, an unclosed element, a stray `<`, an item nested in
    // another, and a CDATA section that never ends.
    let body = r#"<rss version="2.0"><channel><title>Broken</title>
        <item><title>One <b>bold</title><link>http://example.com/1</link></item>
        <item><title>Two < three</title><link>http://example.com/2</link><item/></item>
        <item><title>Four</title><description><![CDATA[never closed"#;
    let feed = parse(body.as_bytes());
    assert_eq!(titles(&feed), ["One bold", "Two < three", "", "Four"]);
    assert_eq!(
        feed.entries[1].link.as_deref(),
        Some("http://example.com/2")
    );
}

#[test]
fn junk_before_the_document_is_skipped() {
    let body = format!("<br />\n<b>Warning</b>: something on line 3<br />\n<?xml version=\"1.0\"?><rss version=\"2.0\">{RSS_ITEMS}</rss>");
    assert_eq!(titles(&parse(body.as_bytes())), ["Arms deal", "Sanctions"]);
}

#[test]
fn html_page_is_a_clear_error() {
    let page = r#"<!DOCTYPE html><html><head><title>Home</title>
        <link rel="alternate" type="application/rss+xml" href="https://example.com/feed.xml"></head>
        <body><p>Welcome</p></body></html>"#;
    match parse_feed(page.as_bytes(), Some("text/html"), None) {
        Err(FeedParseError::NotAFeed(reason)) => {
            assert!(reason.contains("html page"), "{reason}");
            assert!(reason.contains("https://example.com/feed.xml"), "{reason}");
        }
        other => panic!("expected not-a-feed, got {other:?}"),
    }
}

#[test]
fn empty_body_is_a_clear_error() {
    for body in [
        &b""[..],
        b"   \r\n\t ",
        b"\xEF\xBB\xBF  ",
        b"\xFF\xFE \x00\n\x00",
    ] {
        assert!(
            matches!(parse_feed(body, None, None), Err(FeedParseError::Empty)),
            "{body:?}"
        );
    }
    assert_eq!(FeedParseError::Empty.to_string(), "empty document");
}

#[test]
fn malformed_documents_fail_cleanly() {
    for body in [
        &b"<<<>>>"[..],
        b"<note><to>x</to></note>",
        b"\x1F\x8B\x08\x00garbage",
        b"hello world",
        b"{\"broken\": ",
    ] {
        assert!(
            matches!(
                parse_feed(body, None, None),
                Err(FeedParseError::NotAFeed(_))
            ),
            "{body:?}"
        );
    }
}

#[test]
fn never_panics_on_truncated_or_mangled_input() {
    let feed = format!("<?xml version=\"1.0\"?><rss version=\"2.0\">{RSS_ITEMS}</rss>");
    let bytes = feed.as_bytes();
    for end in 0..bytes.len() {
        let _ = parse_feed(&bytes[..end], None, None);
    }
    // Deterministic pseudo-random byte flips.
    let mut state: u32 = 0x9E37_79B9;
    for _ in 0..300 {
        let mut mangled = bytes.to_vec();
        for _ in 0..4 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let position = state as usize % mangled.len();
            mangled[position] = (state >> 8) as u8;
        }
        let _ = parse_feed(&mangled, None, None);
    }
    // Deep nesting must not overflow the stack.
    let deep = format!(
        "<rss version=\"2.0\"><channel>{}</channel></rss>",
        "<a>".repeat(100_000)
    );
    let _ = parse_feed(deep.as_bytes(), None, None);
}

#[test]
fn ttl_and_syndication_interval() {
    let body = r#"<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel>
        <title>T</title><ttl>30</ttl><sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency>
        </channel></rss>"#;
    let feed = parse(body.as_bytes());
    assert_eq!(feed.ttl_minutes, Some(30));
    assert_eq!(feed.update_interval_secs, Some(900));
}

#[test]
fn conformance_record_has_the_compare_format() {
    let body =
        "<rss version=\"2.0\"><channel><title>T</title><item><title>A</title><guid>g1</guid>\
        <pubDate>Tue, 10 Jun 2003 04:00:00 +0200</pubDate></item></channel></rss>";
    let mut record = conformance_record("x.xml", &parse_feed(body.as_bytes(), None, None));
    // feed-rs also reports an RSS item's pubDate as its update time; the
    // comparison reads "published, else updated", so either is fine here.
    record["entries"][0]["updated"] = serde_json::Value::Null;
    assert_eq!(
        record,
        serde_json::json!({
            "file": "x.xml", "ok": true, "error": null, "title": "T", "link": null, "n_entries": 1,
            "entries": [{"id": "g1", "link": null, "title": "A", "published": "2003-06-10T02:00:00Z", "updated": null}]
        })
    );
    let failed = conformance_record("y.xml", &parse_feed(b"", None, None));
    assert_eq!(failed["ok"], false);
    assert_eq!(failed["error"], "empty document");
    assert_eq!(failed["n_entries"], 0);
}

#[test]
fn unknown_default_namespace_on_the_root_is_read_as_the_feed_vocabulary() {
    let body =
        format!("<rss version=\"2.0\" xmlns=\"http://example.com/my-rss-ns\">{RSS_ITEMS}</rss>");
    let feed = parse(body.as_bytes());
    assert_eq!(titles(&feed), ["Arms deal", "Sanctions"]);
    assert_eq!(
        feed.entries[0].link.as_deref(),
        Some("http://example.com/1")
    );
}

#[test]
fn html_page_without_an_html_element_is_still_called_html() {
    let page = "<!DOCTYPE html>\n<meta charset=utf-8><title>Oops</title><p>Moved";
    match parse_feed(page.as_bytes(), None, None) {
        Err(FeedParseError::NotAFeed(reason)) => assert!(reason.contains("html page"), "{reason}"),
        other => panic!("expected not-a-feed, got {other:?}"),
    }
}
