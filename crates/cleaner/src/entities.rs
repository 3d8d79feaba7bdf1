//! HTML character references (`&amp;`, `&#8212;`, `&#x41;`), decoded with
//! the HTML standard's full table ([`wirewatch_text::entities`]).

use wirewatch_text::entities::MAX_NAME;

/// Windows-1252 meanings of the C1 range, which browsers apply to numeric
/// references such as `&#150;`.
const C1: [char; 32] = [
    '\u{20AC}', '\u{81}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{8D}', '\u{017D}', '\u{8F}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{9D}', '\u{017E}', '\u{0178}',
];

/// Appends `raw` to `out` with character references decoded. In attribute
/// values a reference without `;` followed by `=` or an alphanumeric is left
/// alone, as browsers do (so `?a=1&copy=2` stays a URL).
pub fn decode_into(raw: &str, out: &mut String, in_attribute: bool) {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while let Some(offset) = crate::dom::find_byte(b'&', &bytes[i..]) {
        let amp = i + offset;
        out.push_str(&raw[i..amp]);
        match decode_one(raw, amp + 1, in_attribute) {
            Some((decoded, next)) => {
                out.push(decoded.0);
                if let Some(second) = decoded.1 {
                    out.push(second);
                }
                i = next;
            }
            None => {
                out.push('&');
                i = amp + 1;
            }
        }
    }
    out.push_str(&raw[i..]);
}

type Decoded = (char, Option<char>);

/// Decodes the reference starting after `&` at `start`; returns the
/// characters and the index after the reference.
fn decode_one(raw: &str, start: usize, in_attribute: bool) -> Option<(Decoded, usize)> {
    let bytes = raw.as_bytes();
    if bytes.get(start) == Some(&b'#') {
        let (hex, digits_start) = match bytes.get(start + 1) {
            Some(b'x' | b'X') => (true, start + 2),
            _ => (false, start + 1),
        };
        let mut end = digits_start;
        let mut value: u32 = 0;
        while let Some(&byte) = bytes.get(end) {
            let digit = if hex {
                (byte as char).to_digit(16)
            } else {
                (byte as char).to_digit(10)
            };
            let Some(digit) = digit else { break };
            value = value
                .saturating_mul(if hex { 16 } else { 10 })
                .saturating_add(digit);
            end += 1;
        }
        if end == digits_start {
            return None;
        }
        let next = if bytes.get(end) == Some(&b';') {
            end + 1
        } else {
            end
        };
        let decoded = match value {
            0 => '\u{FFFD}',
            0x80..=0x9F => C1[(value - 0x80) as usize],
            _ => char::from_u32(value).unwrap_or('\u{FFFD}'),
        };
        return Some(((decoded, None), next));
    }
    let mut end = start;
    while end < bytes.len() && end - start < MAX_NAME && bytes[end].is_ascii_alphanumeric() {
        end += 1;
    }
    if end == start {
        return None;
    }
    if bytes.get(end) == Some(&b';') {
        if let Some(decoded) = lookup(&raw[start..=end]) {
            return Some((decoded, end + 1));
        }
    }
    // Legacy references without `;` (`&nbsp`, `&copy2019`): longest known prefix.
    for prefix_end in (start + 1..=end).rev() {
        if let Some(decoded) = lookup(&raw[start..prefix_end]) {
            if in_attribute
                && bytes
                    .get(prefix_end)
                    .is_some_and(|&b| b == b'=' || b.is_ascii_alphanumeric())
            {
                return None;
            }
            return Some((decoded, prefix_end));
        }
    }
    None
}

fn lookup(name: &str) -> Option<Decoded> {
    // The references pages use most, without the table's binary search
    // (a dozen string compares); the same answers, as a test checks.
    let common = match name {
        "amp;" | "amp" => '&',
        "nbsp;" | "nbsp" => '\u{a0}',
        "quot;" | "quot" => '"',
        "lt;" | "lt" => '<',
        "gt;" | "gt" => '>',
        "apos;" => '\'',
        "mdash;" => '\u{2014}',
        "ndash;" => '\u{2013}',
        "rsquo;" => '\u{2019}',
        "lsquo;" => '\u{2018}',
        "ldquo;" => '\u{201c}',
        "rdquo;" => '\u{201d}',
        "hellip;" => '\u{2026}',
        "copy;" | "copy" => '\u{a9}',
        _ => return wirewatch_text::entities::lookup(name),
    };
    Some((common, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(raw: &str, attr: bool) -> String {
        let mut out = String::new();
        decode_into(raw, &mut out, attr);
        out
    }

    #[test]
    fn common_references_decode_as_the_table_says() {
        for name in [
            "amp;", "amp", "nbsp;", "nbsp", "quot;", "quot", "lt;", "lt", "gt;", "gt", "apos;",
            "mdash;", "ndash;", "rsquo;", "lsquo;", "ldquo;", "rdquo;", "hellip;", "copy;", "copy",
        ] {
            assert_eq!(
                lookup(name),
                wirewatch_text::entities::lookup(name),
                "{name}"
            );
            assert!(lookup(name).is_some(), "{name}");
        }
        assert_eq!(lookup("apos"), None);
    }

    #[test]
    fn named_numeric_and_legacy() {
        assert_eq!(
            decode("a &amp; b &lt;&gt; &eacute;&#233;&#xE9;", false),
            "a & b <> ééé"
        );
        assert_eq!(
            decode("&#150; &copy2019 &bogus; & x", false),
            "\u{2013} \u{a9}2019 &bogus; & x"
        );
        assert_eq!(decode("?a=1&copy=2&amp;b", true), "?a=1&copy=2&b");
    }
}
