//! Any bytes as a feed, with the charset header and base URL a fetch could
//! give: `parse_feed` must return (no panic, no abort from an allocation
//! that entity expansion or a cap should have prevented).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirewatch_feed::{parse_feed, MAX_SUMMARY_CHARS, MAX_TITLE_CHARS};

fuzz_target!(|data: &[u8]| {
    let (content_type, body) = match data.split_first() {
        Some((selector, rest)) => {
            let header = match selector % 4 {
                0 => Some("application/rss+xml; charset=utf-8"),
                1 => Some("text/xml; charset=windows-1251"),
                2 => Some("application/feed+json"),
                _ => None,
            };
            (header, rest)
        }
        None => (None, data),
    };
    let base = url::Url::parse("https://news.example.org/feeds/world.xml").ok();
    if let Ok(feed) = parse_feed(body, content_type, base.as_ref()) {
        let chars = |text: &Option<String>| text.as_deref().map_or(0, |text| text.chars().count());
        assert!(chars(&feed.title) <= MAX_TITLE_CHARS);
        for entry in &feed.entries {
            assert!(chars(&entry.title) <= MAX_TITLE_CHARS);
            assert!(chars(&entry.summary) <= MAX_SUMMARY_CHARS);
        }
    }
});
