//! Bytes to UTF-8 text, before any XML parser sees them.
//!
//! Order of evidence: a byte order mark (unambiguous), UTF-16 or UTF-32
//! without one (an XML document starts with `<`, so its zero bytes give it
//! away), then the HTTP `charset` parameter and the XML declaration's
//! `encoding`, checked against the bytes by the rules the cleaner shares
//! ([`wirewatch_text::charset`]: UTF-8-looking bytes are UTF-8, a
//! declaration must decode cleanly, then a detector for feeds in Shift_JIS
//! or KOI8-R that declare nothing or the wrong thing). One stray byte in a
//! UTF-8 feed costs one replacement character, not a re-read of the whole
//! feed in a legacy encoding.

use encoding_rs::{UTF_16BE, UTF_16LE};
use wirewatch_text::charset;

/// The document as text, and the encoding it was read with.
pub(crate) struct Decoded {
    pub text: String,
    pub encoding: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Wide {
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
}

pub(crate) fn decode(body: &[u8], content_type: Option<&str>, host: Option<&str>) -> Decoded {
    if let Some((wide, bom_len)) = wide_bom(body) {
        return decode_wide(&body[bom_len..], wide);
    }
    if let Some(rest) = body.strip_prefix(b"\xEF\xBB\xBF") {
        // A UTF-8 BOM on bytes that are not UTF-8 is a copy-paste accident;
        // the declaration or the bytes are better evidence then.
        if let Ok(text) = std::str::from_utf8(rest) {
            return Decoded {
                text: text.to_string(),
                encoding: "UTF-8",
            };
        }
        return decode_legacy(rest, content_type, host);
    }
    if let Some(wide) = sniff_wide(body) {
        return decode_wide(body, wide);
    }
    decode_legacy(body, content_type, host)
}

/// An ASCII-compatible document: the HTTP charset or the XML declaration,
/// checked against the bytes by the shared rules ([`wirewatch_text::charset`]).
fn decode_legacy(body: &[u8], content_type: Option<&str>, host: Option<&str>) -> Decoded {
    let declared = content_type
        .and_then(charset::charset_param)
        .and_then(charset::encoding_for_label)
        .or_else(|| {
            prolog_encoding(body)
                .as_deref()
                .and_then(charset::encoding_for_label)
        });
    // The detector weighs its candidates by region; the feed's declared
    // language says more about that than the host name, so it goes first.
    let hint = language_hint(body).or_else(|| host.and_then(top_level_domain));
    let decoded = charset::decode(body, declared, hint.as_deref());
    Decoded {
        text: decoded.text.into_owned(),
        encoding: decoded.encoding.name(),
    }
}

fn wide_bom(body: &[u8]) -> Option<(Wide, usize)> {
    match body {
        [0x00, 0x00, 0xFE, 0xFF, ..] => Some((Wide::Utf32Be, 4)),
        [0xFF, 0xFE, 0x00, 0x00, ..] => Some((Wide::Utf32Le, 4)),
        [0xFE, 0xFF, ..] => Some((Wide::Utf16Be, 2)),
        [0xFF, 0xFE, ..] => Some((Wide::Utf16Le, 2)),
        _ => None,
    }
}

/// UTF-16/32 without a BOM: an XML document starts with `<` (or
/// whitespace), so the zero bytes around the first character give the width
/// and byte order away.
fn sniff_wide(body: &[u8]) -> Option<Wide> {
    match body {
        [0x00, 0x00, 0x00, b, ..] if *b != 0 => Some(Wide::Utf32Be),
        [b, 0x00, 0x00, 0x00, ..] if *b != 0 => Some(Wide::Utf32Le),
        [0x00, b, 0x00, c, ..] if *b != 0 && *c != 0 => Some(Wide::Utf16Be),
        [b, 0x00, c, 0x00, ..] if *b != 0 && *c != 0 => Some(Wide::Utf16Le),
        _ => None,
    }
}

fn decode_wide(body: &[u8], wide: Wide) -> Decoded {
    match wide {
        Wide::Utf16Le => {
            let (text, _) = UTF_16LE.decode_without_bom_handling(body);
            Decoded {
                text: text.into_owned(),
                encoding: "UTF-16LE",
            }
        }
        Wide::Utf16Be => {
            let (text, _) = UTF_16BE.decode_without_bom_handling(body);
            Decoded {
                text: text.into_owned(),
                encoding: "UTF-16BE",
            }
        }
        Wide::Utf32Le | Wide::Utf32Be => {
            // encoding_rs has no UTF-32 (the web never needed it); it is a
            // fixed-width format, so decoding it is one line per unit.
            let text = body
                .chunks_exact(4)
                .map(|unit| {
                    let unit = [unit[0], unit[1], unit[2], unit[3]];
                    let code = if wide == Wide::Utf32Le {
                        u32::from_le_bytes(unit)
                    } else {
                        u32::from_be_bytes(unit)
                    };
                    char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
                })
                .collect();
            let name = if wide == Wide::Utf32Le {
                "UTF-32LE"
            } else {
                "UTF-32BE"
            };
            Decoded {
                text,
                encoding: name,
            }
        }
    }
}

/// A region hint for the detector from `<language>xx` / `<dc:language>` /
/// `xml:lang="xx"` near the start of the document (ASCII, so readable
/// before decoding), as the country-code domain chardetng understands.
fn language_hint(body: &[u8]) -> Option<String> {
    let head = &body[..body.len().min(4096)];
    let head = String::from_utf8_lossy(head);
    let value_start = ["language>", "xml:lang=\"", "xml:lang='"]
        .iter()
        .find_map(|marker| head.find(marker).map(|at| at + marker.len()))?;
    let code: String = head[value_start..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_lowercase();
    let region = match code.as_str() {
        "cs" => "cz",
        "ja" => "jp",
        "zh" => "cn",
        "ko" => "kr",
        "el" => "gr",
        "he" | "iw" => "il",
        "uk" => "ua",
        "sv" => "se",
        "da" => "dk",
        "et" => "ee",
        "sl" => "si",
        "sr" => "rs",
        "fa" => "ir",
        "ar" => "sa",
        "vi" => "vn",
        "be" => "by",
        "kk" => "kz",
        "en" => "com",
        other if other.len() == 2 => other,
        _ => return None,
    };
    Some(region.to_string())
}

fn top_level_domain(host: &str) -> Option<String> {
    let tld = host.rsplit('.').next()?;
    (tld.len() >= 2 && tld.bytes().all(|byte| byte.is_ascii_alphabetic()))
        .then(|| tld.to_ascii_lowercase())
}

/// The `encoding` pseudo-attribute of an XML declaration at the start of
/// the document (after optional whitespace).
fn prolog_encoding(body: &[u8]) -> Option<String> {
    let start = body.iter().position(|byte| !byte.is_ascii_whitespace())?;
    let head = &body[start..body.len().min(start + 512)];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|pair| pair == b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let after = &decl[decl.find("encoding")? + "encoding".len()..];
    let after = after.trim_start().strip_prefix('=')?.trim_start();
    let quote = after
        .chars()
        .next()
        .filter(|ch| *ch == '"' || *ch == '\'')?;
    let value = &after[1..];
    let value = &value[..value.find(quote)?];
    Some(value.trim().to_string())
}

/// Replaces the declaration's `encoding` with UTF-8 (the text is UTF-8
/// now), so a parser that honours the declaration does not decode twice.
pub(crate) fn relabel_prolog_utf8(text: &str) -> String {
    let trimmed = text.trim_start_matches(['\u{FEFF}', ' ', '\t', '\r', '\n']);
    if !trimmed.starts_with("<?xml") {
        return trimmed.to_string();
    }
    let Some(end) = trimmed.find("?>") else {
        return trimmed.to_string();
    };
    let decl = &trimmed[..end];
    let rest = &trimmed[end..];
    let version = if decl.contains("1.1") { "1.1" } else { "1.0" };
    format!("<?xml version=\"{version}\" encoding=\"utf-8\"{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_declared_windows_1251() {
        let body = b"<?xml version=\"1.0\" encoding=\"windows-1251\"?><rss>\xcf\xf0\xe8</rss>";
        assert!(decode(body, None, None)
            .text
            .contains("\u{41f}\u{440}\u{438}"));
    }

    #[test]
    fn header_charset_beats_prolog() {
        let body = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss>\xcf\xf0\xe8</rss>";
        let decoded = decode(body, Some("text/xml; charset=windows-1251"), None);
        assert_eq!(decoded.encoding, "windows-1251");
    }

    #[test]
    fn a_stray_byte_keeps_utf8_and_costs_one_replacement() {
        let mut body = "<rss><title>Z\u{fc}rich \u{2013} Gen\u{e8}ve</title>"
            .as_bytes()
            .to_vec();
        body.push(0x92);
        body.extend_from_slice(b"</rss>");
        for declared in [None, Some("text/xml; charset=utf-8")] {
            let decoded = decode(&body, declared, None);
            assert_eq!(decoded.encoding, "UTF-8");
            assert!(decoded.text.contains("Z\u{fc}rich \u{2013} Gen\u{e8}ve"));
            assert_eq!(decoded.text.matches('\u{FFFD}').count(), 1);
        }
    }

    #[test]
    fn latin1_without_a_declaration_is_still_detected() {
        let body = b"<rss><title>Z\xfcrich, Gen\xe8ve, K\xf6ln, M\xfcnchen</title></rss>";
        let decoded = decode(body, None, None);
        assert_ne!(decoded.encoding, "UTF-8");
        assert!(decoded.text.contains("Z\u{fc}rich, Gen\u{e8}ve, K\u{f6}ln"));
    }

    #[test]
    fn utf16_without_bom() {
        let body: Vec<u8> = "<rss/>".encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(decode(&body, None, None).text, "<rss/>");
    }

    #[test]
    fn relabels_prolog() {
        let text = "<?xml version='1.0' encoding='koi8-r' standalone='yes'?><rss/>";
        assert_eq!(
            relabel_prolog_utf8(text),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss/>"
        );
    }
}
