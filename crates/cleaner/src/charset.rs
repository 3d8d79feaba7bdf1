//! Bytes to text: which charset a page is in.
//!
//! A byte-order mark wins. Otherwise the page's declaration, the HTTP
//! `Content-Type` charset or else a `<meta charset>` / `http-equiv` in the
//! first 4 KiB, goes to the rules the feed reader shares
//! ([`wirewatch_text::charset`]): UTF-8-looking bytes are UTF-8 whatever a
//! legacy declaration says (pages re-encoded by a CMS, a proxy or a crawler
//! keep their old declaration), a declaration is believed when the bytes
//! decode cleanly with it, mostly-UTF-8 stays UTF-8, and the rest goes to a
//! detector (undeclared Shift_JIS, KOI8-R, windows-1251 and GBK pages are
//! read as what they are, not as windows-1252), hinted by the page's
//! country-code domain.

use std::borrow::Cow;

use encoding_rs::Encoding;
use memchr::memmem;
use wirewatch_text::charset;

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

/// Decodes `body` using the rules in the module docs; `host` (the page's)
/// hints the detector.
pub fn decode<'a>(body: &'a [u8], content_type: Option<&str>, host: Option<&str>) -> Decoded<'a> {
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
        .and_then(charset::charset_param)
        .and_then(|label| lookup(label, &mut warning))
        .or_else(|| {
            prescan_meta(&body[..body.len().min(PRESCAN_BYTES)])
                .and_then(|label| lookup(&label, &mut warning))
        });
    let region = host.and_then(top_level_domain);
    let decoded = charset::decode(body, declared, region);
    if decoded.replaced && warning.is_none() {
        warning = Some(format!(
            "invalid {} bytes replaced",
            decoded.encoding.name()
        ));
    }
    Decoded {
        text: decoded.text,
        encoding: decoded.encoding.name(),
        warning,
    }
}

/// The encoding a label names; an unknown one is ignored with a warning (a
/// UTF-16 label on a byte-oriented page is ignored silently: always wrong).
fn lookup(label: &str, warning: &mut Option<String>) -> Option<&'static Encoding> {
    let found = charset::encoding_for_label(label);
    if found.is_none() && Encoding::for_label(label.trim().as_bytes()).is_none() {
        *warning = Some(format!("unknown charset {:?} ignored", label.trim()));
    }
    found
}

/// The last label of a host name when it is a country or generic domain
/// ("jp", "ru", "com"): the detector's region hint.
fn top_level_domain(host: &str) -> Option<&str> {
    let tld = host.rsplit('.').next()?;
    (tld.len() >= 2 && tld.bytes().all(|byte| byte.is_ascii_alphabetic())).then_some(tld)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_charset_windows_1251() {
        let (bytes, _, _) =
            encoding_rs::WINDOWS_1251.encode("<meta charset=\"windows-1251\"><p>Привет, мир</p>");
        let decoded = decode(&bytes, None, None);
        assert_eq!(decoded.encoding, "windows-1251");
        assert!(decoded.text.contains("Привет, мир"));
    }

    #[test]
    fn http_equiv_and_header() {
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode("<p>日本語のテキスト</p>");
        let mut page =
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\">".to_vec();
        page.extend_from_slice(&bytes);
        assert!(decode(&page, None, None).text.contains("日本語のテキスト"));
        assert!(decode(&bytes, Some("text/html; charset=shift_jis"), None)
            .text
            .contains("日本語のテキスト"));
    }

    #[test]
    fn bom_wins_over_declarations() {
        let mut page = vec![0xEF, 0xBB, 0xBF];
        page.extend_from_slice("<meta charset=iso-8859-1><p>Ελληνικά</p>".as_bytes());
        let decoded = decode(&page, Some("text/html; charset=iso-8859-1"), None);
        assert_eq!(decoded.encoding, "UTF-8");
        assert!(decoded.text.contains("Ελληνικά"));
        let (utf16, _, _) = encoding_rs::UTF_16LE.encode("x");
        assert_eq!(utf16, b"x".as_slice()); // encode() never emits UTF-16; build it by hand
        let mut page16 = vec![0xFF, 0xFE];
        for unit in "<p>Ωμέγα</p>".encode_utf16() {
            page16.extend_from_slice(&unit.to_le_bytes());
        }
        assert!(decode(&page16, None, None).text.contains("Ωμέγα"));
    }

    #[test]
    fn stale_latin1_declaration_on_utf8_bytes() {
        let page = "<meta charset=iso-8859-1><p>café déjà vu</p>".as_bytes();
        assert!(decode(page, None, None).text.contains("café déjà vu"));
    }

    #[test]
    fn stale_multibyte_declaration_on_utf8_bytes() {
        let page = "<meta charset=gb2312><p>美国财政部宣布制裁</p>".as_bytes();
        assert!(decode(page, Some("text/html; charset=shift_jis"), None)
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
        let decoded = decode(&page, None, None);
        assert_eq!(decoded.encoding, "UTF-8");
        assert!(decoded.text.contains("Zürich, café"));
    }

    #[test]
    fn undeclared_latin1_falls_back_to_windows_1252() {
        let page = b"<p>caf\xe9 \x93quoted\x94</p>";
        assert!(decode(page, None, None)
            .text
            .contains("caf\u{e9} \u{201c}quoted\u{201d}"));
    }

    #[test]
    fn undeclared_shift_jis_and_koi8_r_pages_are_read_as_what_they_are() {
        let japanese = "<html><body><p>日本政府は北朝鮮に対する制裁を延長した。武器の輸出も禁止された。</p></body></html>";
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(japanese);
        let decoded = decode(&bytes, Some("text/html"), Some("www.example.jp"));
        assert_eq!(decoded.encoding, "Shift_JIS");
        assert!(
            decoded.text.contains("北朝鮮に対する制裁"),
            "{}",
            decoded.text
        );
        let russian = "<html><body><p>Евросоюз ввёл новые санкции против поставщиков оружия и боеприпасов.</p></body></html>";
        let (bytes, _, _) = encoding_rs::KOI8_R.encode(russian);
        let decoded = decode(&bytes, None, Some("news.example.ru"));
        // KOI8-U reads Russian text the same; either is right here.
        assert!(decoded.encoding.starts_with("KOI8"), "{}", decoded.encoding);
        assert!(decoded.text.contains("новые санкции"), "{}", decoded.text);
    }

    #[test]
    fn an_unknown_charset_is_ignored_with_a_warning() {
        let decoded = decode(b"<p>plain</p>", Some("text/html; charset=x-klingon"), None);
        assert_eq!(decoded.encoding, "UTF-8");
        assert_eq!(
            decoded.warning.as_deref(),
            Some("unknown charset \"x-klingon\" ignored")
        );
    }
}
