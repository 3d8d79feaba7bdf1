//! Bytes to text once the declarations are known.
//!
//! Order of evidence, after a byte order mark (which the callers handle):
//!
//! 1. Bytes that are UTF-8 (valid, or [`mostly_utf8`]) with non-ASCII
//!    characters are UTF-8 whatever a legacy declaration says: pages and
//!    feeds re-encoded by a CMS, a proxy or a crawler keep their old
//!    declaration far more often than legacy text happens to be valid UTF-8
//!    (a lead byte followed by exactly the right continuation bytes, `â‚¬`
//!    for `€`, is practically never meant).
//! 2. The declared encoding, if the bytes decode cleanly with it.
//! 3. UTF-8, when the bytes are (mostly) UTF-8.
//! 4. A statistical detector (chardetng) for the rest: undeclared or
//!    wrongly declared Shift_JIS, KOI8-R, windows-1251, GBK, ... are common.
//!    A region hint (a country-code domain or a language) helps it.
//!
//! One stray byte in UTF-8 costs one replacement character, not a re-read
//! of the whole document in a legacy encoding that turns `ü` into `Ã¼`.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};

/// The document as text, and the encoding it was read with.
#[derive(Debug)]
pub struct Decoded<'a> {
    /// Borrowed from the bytes when they were valid UTF-8.
    pub text: Cow<'a, str>,
    pub encoding: &'static Encoding,
    /// Invalid bytes were replaced with U+FFFD.
    pub replaced: bool,
}

/// The encoding a charset label names, with the misspellings documents use
/// that the WHATWG list lacks. UTF-16 labels on an ASCII-compatible
/// document are always wrong and name nothing. `None` for unknown labels.
pub fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    let label = label.trim().trim_matches(['"', '\'']).trim();
    let label = match label.to_ascii_lowercase().as_str() {
        "iso8859_1" | "latin-1" => "iso-8859-1",
        "utf8" | "utf_8" => "utf-8",
        "win-1251" | "cp-1251" => "windows-1251",
        _ => label,
    };
    Encoding::for_label(label.as_bytes()).filter(|found| *found != UTF_16LE && *found != UTF_16BE)
}

/// The `charset` parameter of a `Content-Type` value, unquoted.
pub fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let value = value.trim().trim_matches(['"', '\'']).trim();
        (!value.is_empty()).then_some(value)
    })
}

/// An ASCII-compatible document's bytes (no byte order mark) as text, by
/// the rules in the module docs. `declared` is what the headers or markup
/// say; `region` is a country-code domain or language code for the
/// detector (`"jp"`, `"ru"`).
pub fn decode<'a>(
    body: &'a [u8],
    declared: Option<&'static Encoding>,
    region: Option<&str>,
) -> Decoded<'a> {
    if let Some(encoding) = declared {
        if encoding != UTF_8 && !body.is_ascii() {
            if let Some(decoded) = utf8_like(body) {
                return decoded;
            }
        }
        if let Some(text) = encoding.decode_without_bom_handling_and_without_replacement(body) {
            return Decoded {
                text,
                encoding,
                replaced: false,
            };
        }
    }
    if let Some(decoded) = utf8_like(body) {
        return decoded;
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(body, true);
    let guess = detector.guess(region.map(str::as_bytes), false);
    let (text, replaced) = guess.decode_without_bom_handling(body);
    Decoded {
        text,
        encoding: guess,
        replaced,
    }
}

/// The body as UTF-8 when it is, or is [`mostly_utf8`]. Valid UTF-8 is
/// checked once and borrowed: checking it, then decoding it lossily, read
/// every page twice.
fn utf8_like(body: &[u8]) -> Option<Decoded<'_>> {
    if let Ok(text) = std::str::from_utf8(body) {
        return Some(Decoded {
            text: Cow::Borrowed(text),
            encoding: UTF_8,
            replaced: false,
        });
    }
    mostly_utf8(body).then(|| utf8(body))
}

fn utf8(body: &[u8]) -> Decoded<'_> {
    let text = String::from_utf8_lossy(body);
    let replaced = matches!(text, Cow::Owned(_));
    Decoded {
        text,
        encoding: UTF_8,
        replaced,
    }
}

/// Whether bytes that are not valid UTF-8 are still UTF-8 with a few broken
/// sequences: well-formed multi-byte characters outnumber the invalid
/// sequences. Legacy text has almost no well-formed multi-byte sequences
/// and an invalid one at nearly every non-ASCII byte, so it stays far
/// below; UTF-8 with a stray byte or a truncated character stays far above.
pub fn mostly_utf8(body: &[u8]) -> bool {
    let mut multibyte_chars = 0usize;
    let mut invalid_sequences = 0usize;
    for chunk in body.utf8_chunks() {
        multibyte_chars += chunk.valid().bytes().filter(|byte| *byte >= 0xC0).count();
        if !chunk.invalid().is_empty() {
            invalid_sequences += 1;
        }
    }
    multibyte_chars > invalid_sequences
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_utf8_is_borrowed_and_beats_a_stale_legacy_declaration() {
        let body = "Zürich, 美国财政部".as_bytes();
        let decoded = decode(body, encoding_for_label("shift_jis"), None);
        assert_eq!(decoded.encoding, UTF_8);
        assert!(matches!(decoded.text, Cow::Borrowed(_)));
        assert_eq!(decoded.text, "Zürich, 美国财政部");
        let latin = decode(body, encoding_for_label("iso-8859-1"), None);
        assert_eq!(latin.text, "Zürich, 美国财政部");
    }

    #[test]
    fn a_declaration_the_bytes_agree_with_is_used() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode("Санкции против");
        let decoded = decode(&bytes, encoding_for_label("cp-1251"), None);
        assert_eq!(decoded.encoding, encoding_rs::WINDOWS_1251);
        assert_eq!(decoded.text, "Санкции против");
    }

    #[test]
    fn undeclared_shift_jis_and_koi8_r_are_detected() {
        let japanese = "日本政府は北朝鮮に対する制裁を延長した。".repeat(4);
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(&japanese);
        let decoded = decode(&bytes, None, None);
        assert_eq!(decoded.encoding, encoding_rs::SHIFT_JIS);
        assert_eq!(decoded.text, japanese);
        let russian = "Евросоюз ввёл новые санкции против поставщиков оружия. ".repeat(4);
        let (bytes, _, _) = encoding_rs::KOI8_R.encode(&russian);
        let decoded = decode(&bytes, None, Some("ru"));
        assert_eq!(decoded.text, russian);
    }

    #[test]
    fn a_stray_byte_keeps_utf8_and_costs_one_replacement() {
        let mut body = "Zürich, café, naïve. ".repeat(50).into_bytes();
        body.push(0xFF);
        let decoded = decode(&body, encoding_for_label("windows-1252"), None);
        assert_eq!(decoded.encoding, UTF_8);
        assert!(decoded.replaced);
        assert_eq!(decoded.text.matches('\u{FFFD}').count(), 1);
    }

    #[test]
    fn labels_with_misspellings_and_utf16_lies() {
        assert_eq!(encoding_for_label(" \"utf8\" "), Some(UTF_8));
        assert_eq!(
            encoding_for_label("win-1251"),
            Some(encoding_rs::WINDOWS_1251)
        );
        assert_eq!(encoding_for_label("utf-16"), None);
        assert_eq!(encoding_for_label("no-such-charset"), None);
        assert_eq!(
            charset_param("text/html; Charset=\"KOI8-R\""),
            Some("KOI8-R")
        );
        assert_eq!(charset_param("text/html"), None);
    }
}
