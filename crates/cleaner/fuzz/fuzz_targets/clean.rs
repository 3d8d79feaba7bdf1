//! Any bytes, with or without a charset header: `clean` must return, in
//! time linear in the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirewatch_cleaner::{clean, PageInput};

fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.split_first() {
        Some((selector, rest)) if selector % 3 == 0 => (Some("text/html; charset=windows-1251"), rest),
        Some((selector, rest)) if selector % 3 == 1 => (Some("text/html; charset=utf-8"), rest),
        _ => (None, data),
    };
    let _ = clean(&PageInput { body, content_type: header, url: None });
});
