//! Any bytes as an article page, with or without a charset header and a
//! URL: `clean` must return.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirewatch_cleaner::{clean, PageInput};

fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.split_first() {
        Some((selector, rest)) if selector % 3 == 0 => {
            (Some("text/html; charset=windows-1251"), rest)
        }
        Some((selector, rest)) if selector % 3 == 1 => (Some("text/html; charset=utf-8"), rest),
        _ => (None, data),
    };
    let url = url::Url::parse("https://news.example.org/2024/05/story.html").ok();
    let _ = clean(&PageInput {
        body,
        content_type: header,
        url: url.as_ref(),
    });
});
