//! Bytes to text: which charset a page is in.
//!
//! Order: a byte-order mark, then the HTTP `Content-Type` charset, then a
//! `<meta charset>` / `http-equiv` declaration in the first KiB of the page,
//! then UTF-8 if the bytes are valid UTF-8, else windows-1252 (what browsers
//! assume for undeclared Western pages). One exception to the order: when a
//! declared charset is a legacy one but the bytes are valid UTF-8 with
//! non-ASCII characters, UTF-8 wins, because pages re-encoded by a CMS, a
//! proxy or a crawler keep their old declaration far more often than text
//! in a legacy encoding (single- or multi-byte) happens to be valid UTF-8.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use memchr::memmem;

/// How far into the page to look for a `<meta>` declaration. Browsers use
/// 1024 bytes; pages with long `<head>` preambles put it later, so look a
/// little further.
const PRESCAN_BYTES: usize = 4096;

/// The decoded page and the name of the encoding used.
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    pub encoding: &'static str,
    pub warning: Option<String>,
}

/// Decodes `body` using the rules in the module docs.
pub fn decode<'a>(body: &'a [u8], content_type: Option<&str>) -> Decoded<'a> {
    if let Some((encoding, bom_len)) = Encoding::for_bom(body) {
        let (text, _) = encoding.decode_without_bom_handling(&body[bom_len..]);
        return Decoded {
            text,
            encoding: encoding.name(),
            warning: None,
        };
    }
    let mut warning = None;
    let declared = content_type
        .and_then(charset_param)
        .and_then(|label| lookup(label, &mut warning))
        .or_else(|| {
            prescan_meta(&body[..body.len().min(PRESCAN_BYTES)])
                .and_then(|label| lookup(&label, &mut warning))
        });
    let encoding = match declared {
        Some(encoding) if encoding == UTF_8 => UTF_8,
        Some(_) if looks_like_utf8(body) => UTF_8,
        Some(encoding) => encoding,
        None if std::str::from_utf8(body).is_ok() => UTF_8,
        None => {
            // Undeclared and not UTF-8: mostly-valid UTF-8 with a few bad
            // bytes is still UTF-8; otherwise assume windows-1252.
            if mostly_utf8(body) {
                UTF_8
            } else {
                WINDOWS_1252
            }
        }
    };
    let (text, _, had_errors) = encoding.decode(body);
    if had_errors && warning.is_none() {
        warning = Some(format!("invalid {} bytes replaced", encoding.name()));
    }
    Decoded {
        text,
        encoding: encoding.name(),
        warning,
    }
}

fn lookup(label: &str, warning: &mut Option<String>) -> Option<&'static Encoding> {
    let label = label.trim().trim_matches(|c| c == '"' || c == '\'');
    // Labels encoding_rs does not know but that pages use.
    let label = match label.to_ascii_lowercase().as_str() {
        "iso8859_1" | "latin-1" => "iso-8859-1",
        "utf8" => "utf-8",
        "win-1251" | "cp-1251" => "windows-1251",
        _ => label,
    };
    let found = Encoding::for_label(label.as_bytes());
    if found.is_none() {
        *warning = Some(format!("unknown charset {label:?} ignored"));
    }
    // UTF-16 declared in a byte-oriented page is always wrong (WHATWG).
    found.map(|e| {
        if e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE {
            UTF_8
        } else {
            e
        }
    })
}

/// The `charset=` parameter of a Content-Type value.
fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim())
    })
}

/// Finds `charset=` inside a `<meta` tag near the start of the page.
fn prescan_meta(head: &[u8]) -> Option<String> {
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let finder = memmem::Finder::new(b"<meta");
    for start in finder.find_iter(&lower) {
        let end = memchr::memchr(b'>', &lower[start..]).map_or(lower.len(), |o| start + o);
        let tag = &lower[start..end];
        let Some(at) = memmem::find(tag, b"charset") else {
            continue;
        };
        let mut rest = &tag[at + b"charset".len()..];
        while let [b' ' | b'\t' | b'\n' | b'\r', tail @ ..] = rest {
            rest = tail;
        }
        let Some(tail) = rest.strip_prefix(b"=") else {
            continue;
        };
        let value: Vec<u8> = tail
            .iter()
            .copied()
            .skip_while(|b| matches!(b, b' ' | b'"' | b'\''))
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
            .collect();
        if !value.is_empty() {
            return String::from_utf8(value).ok();
        }
    }
    None
}

/// UTF-8 with multi-byte sequences, allowing a rare bad byte (pages cut or
/// stitched together by a CMS).
fn looks_like_utf8(body: &[u8]) -> bool {
    !body.is_ascii() && (std::str::from_utf8(body).is_ok() || mostly_utf8(body))
}

/// At most one invalid sequence per 1000 non-ASCII bytes.
fn mostly_utf8(body: &[u8]) -> bool {
    let mut invalid = 0usize;
    let mut rest = body;
    while let Err(error) = std::str::from_utf8(rest) {
        invalid += 1;
        let skip = error.valid_up_to()
            + error
                .error_len()
                .unwrap_or(rest.len() - error.valid_up_to())
                .max(1);
        rest = &rest[skip.min(rest.len())..];
        if invalid > 64 {
            return false;
        }
    }
    let non_ascii = body.iter().filter(|b| !b.is_ascii()).count();
    invalid * 1000 <= non_ascii
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_charset_windows_1251() {
        let (bytes, _, _) =
            encoding_rs::WINDOWS_1251.encode("<meta charset=\"windows-1251\"><p>Привет, мир</p>");
        let decoded = decode(&bytes, None);
        assert_eq!(decoded.encoding, "windows-1251");
        assert!(decoded.text.contains("Привет, мир"));
    }

    #[test]
    fn http_equiv_and_header() {
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode("<p>日本語のテキスト</p>");
        let mut page =
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\">".to_vec();
        page.extend_from_slice(&bytes);
        assert!(decode(&page, None).text.contains("日本語のテキスト"));
        assert!(decode(&bytes, Some("text/html; charset=shift_jis"))
            .text
            .contains("日本語のテキスト"));
    }

    #[test]
    fn bom_wins_over_declarations() {
        let mut page = vec![0xEF, 0xBB, 0xBF];
        page.extend_from_slice("<meta charset=iso-8859-1><p>Ελληνικά</p>".as_bytes());
        let decoded = decode(&page, Some("text/html; charset=iso-8859-1"));
        assert_eq!(decoded.encoding, "UTF-8");
        assert!(decoded.text.contains("Ελληνικά"));
        let (utf16, _, _) = encoding_rs::UTF_16LE.encode("x");
        assert_eq!(utf16, b"x".as_slice()); // encode() never emits UTF-16; build it by hand
        let mut page16 = vec![0xFF, 0xFE];
        for unit in "<p>Ωμέγα</p>".encode_utf16() {
            page16.extend_from_slice(&unit.to_le_bytes());
        }
        assert!(decode(&page16, None).text.contains("Ωμέγα"));
    }

    #[test]
    fn stale_latin1_declaration_on_utf8_bytes() {
        let page = "<meta charset=iso-8859-1><p>café déjà vu</p>".as_bytes();
        assert!(decode(page, None).text.contains("café déjà vu"));
    }

    #[test]
    fn stale_multibyte_declaration_on_utf8_bytes() {
        let page = "<meta charset=gb2312><p>美国财政部宣布制裁</p>".as_bytes();
        assert!(decode(page, Some("text/html; charset=shift_jis"))
            .text
            .contains("美国财政部宣布制裁"));
    }

    #[test]
    fn one_bad_byte_does_not_turn_utf8_into_latin1() {
        let mut page = "<meta charset=windows-1252><p>".as_bytes().to_vec();
        for _ in 0..200 {
            page.extend_from_slice("Zürich, café, naïve. ".as_bytes());
        }
        page.push(0xFF);
        let decoded = decode(&page, None);
        assert_eq!(decoded.encoding, "UTF-8");
        assert!(decoded.text.contains("Zürich, café"));
    }

    #[test]
    fn undeclared_latin1_falls_back_to_windows_1252() {
        let page = b"<p>caf\xe9 \x93quoted\x94</p>";
        assert!(decode(page, None)
            .text
            .contains("caf\u{e9} \u{201c}quoted\u{201d}"));
    }
}
