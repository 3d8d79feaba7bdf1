//! Textual repair of almost-XML before it is handed to feed-rs.
//!
//! Real feeds are written by string concatenation more often than by XML
//! libraries. One linear pass fixes the classes of damage that make a strict
//! parser give up, without changing what a well-formed document says:
//!
//! - HTML named entities (`&nbsp;`) become numeric references; entities
//!   declared in an internal DTD subset are expanded (under the budget of
//!   [`entities::DeclaredEntities`]: a document over it is refused, not
//!   repaired); a stray `&` becomes
//!   `&amp;`, a stray `<` becomes `&lt;`;
//! - the DOCTYPE is dropped (the parser does not need it and some DTDs are
//!   themselves broken), as are characters XML forbids;
//! - attributes are re-quoted, and duplicates dropped;
//! - dialects feed-rs does not know are renamed to ones it does: `<rss>`
//!   without a version (or 0.90/0.93/0.94) is read as RSS 2.0, the RSS 0.90
//!   namespace as RSS 1.0, the `backend.userland.com/rss2` default namespace
//!   is dropped, and Atom 0.3 elements are renamed to their Atom 1.0 names.

use super::entities::{self, DeclaredEntities, OverBudget};

const RSS_090_NS: &str = "http://my.netscape.com/rdf/simple/0.9/";
const RSS_10_NS: &str = "http://purl.org/rss/1.0/";
const ATOM_03_NS: &str = "http://purl.org/atom/ns#";
const ATOM_10_NS: &str = "http://www.w3.org/2005/Atom";

/// Repairs `text` (already UTF-8, prolog relabelled) into well-formed-ish
/// XML; fails only when its declared entities expand past their budget.
pub(crate) fn repair(text: &str) -> Result<String, OverBudget> {
    let mut repairer = Repairer {
        out: String::with_capacity(text.len() + text.len() / 16),
        declared: DeclaredEntities::new(text.len()),
        over_budget: None,
        atom03: false,
    };
    repairer.run(text);
    match repairer.over_budget {
        Some(over) => Err(over),
        None => Ok(repairer.out),
    }
}

struct Repairer {
    out: String,
    /// General entities declared in the document's internal DTD subset.
    declared: DeclaredEntities,
    /// Set when expansion went past the budget: the pass stops there.
    over_budget: Option<OverBudget>,
    /// The document's default namespace is Atom 0.3.
    atom03: bool,
}

impl Repairer {
    fn run(&mut self, text: &str) {
        let mut rest = text;
        while !rest.is_empty() && self.over_budget.is_none() {
            let Some(pos) = rest.find(['<', '&']) else {
                self.push_text(rest);
                break;
            };
            self.push_text(&rest[..pos]);
            rest = &rest[pos..];
            rest = if rest.starts_with('&') {
                self.fix_reference(rest)
            } else {
                self.markup(rest)
            };
        }
    }

    /// Copies character data, dropping characters XML does not allow.
    fn push_text(&mut self, text: &str) {
        // Byte test first: the characters XML forbids are C0 controls and
        // U+FFFE/U+FFFF, whose UTF-8 encodings start with 0xEF.
        let suspicious = text
            .bytes()
            .any(|byte| (byte < 0x20 && !matches!(byte, b'\t' | b'\n' | b'\r')) || byte == 0xEF);
        if !suspicious || text.chars().all(entities::is_xml_char) {
            self.out.push_str(text);
        } else {
            self.out
                .extend(text.chars().filter(|ch| entities::is_xml_char(*ch)));
        }
    }

    fn markup<'a>(&mut self, rest: &'a str) -> &'a str {
        if let Some(after) = rest.strip_prefix("<!--") {
            let end = after.find("-->").map_or(after.len(), |pos| pos + 3);
            self.out.push_str("<!--");
            // `--` inside a comment is an error for strict parsers.
            self.out
                .push_str(&after[..end].replace("--", "- ").replacen("- >", "-->", 1));
            if !after[..end].ends_with("-->") {
                self.out.push_str("-->");
            }
            return &after[end..];
        }
        if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>").map_or(after.len(), |pos| pos + 3);
            self.out.push_str("<![CDATA[");
            self.push_text(&after[..end]);
            if !after[..end].ends_with("]]>") {
                self.out.push_str("]]>");
            }
            return &after[end..];
        }
        if starts_with_ignore_case(rest, "<!DOCTYPE") {
            return self.doctype(rest);
        }
        if rest.starts_with("<!") {
            let end = rest.find('>').map_or(rest.len(), |pos| pos + 1);
            return &rest[end..];
        }
        if rest.starts_with("<?") {
            let end = rest.find("?>").map_or(rest.len(), |pos| pos + 2);
            self.out.push_str(&rest[..end]);
            return &rest[end..];
        }
        let bytes = rest.as_bytes();
        let closing = bytes.get(1) == Some(&b'/');
        let name_start = if closing { 2 } else { 1 };
        if !bytes
            .get(name_start)
            .is_some_and(|byte| is_name_start(*byte))
        {
            self.out.push_str("&lt;");
            return &rest[1..];
        }
        let name_end = name_start
            + rest[name_start..]
                .find(|ch: char| !is_name_char(ch))
                .unwrap_or(rest.len() - name_start);
        let name = &rest[name_start..name_end];
        if closing {
            let end = rest[name_end..]
                .find('>')
                .map_or(rest.len(), |pos| name_end + pos + 1);
            self.out.push_str("</");
            self.out.push_str(self.rename(name));
            self.out.push('>');
            return &rest[end..];
        }
        let (attrs, self_closing, consumed) = parse_attributes(&rest[name_end..]);
        self.start_tag(name, attrs, self_closing);
        &rest[name_end + consumed..]
    }

    fn start_tag(
        &mut self,
        name: &str,
        mut attrs: Vec<(String, Option<String>)>,
        self_closing: bool,
    ) {
        let mut seen: Vec<String> = Vec::new();
        attrs.retain(|(attr, _)| {
            let duplicate = seen.contains(attr);
            seen.push(attr.clone());
            !duplicate
        });
        for (attr, value) in &mut attrs {
            match (attr.as_str(), value.as_deref()) {
                ("xmlns", Some(RSS_090_NS)) => *value = Some(RSS_10_NS.to_string()),
                ("xmlns", Some(ns)) if ns.starts_with("http://backend.userland.com/rss") => {
                    *attr = "xmlns:userland".to_string();
                }
                ("xmlns", Some(ATOM_03_NS)) => {
                    self.atom03 = true;
                    *value = Some(ATOM_10_NS.to_string());
                }
                _ => {}
            }
        }
        if name == "rss" {
            let version = attrs.iter_mut().find(|(attr, _)| attr == "version");
            match version {
                Some((_, value)) => {
                    let supported = matches!(value.as_deref(), Some("2.0" | "0.91" | "0.92"));
                    if !supported {
                        *value = Some("2.0".to_string());
                    }
                }
                None => attrs.push(("version".to_string(), Some("2.0".to_string()))),
            }
        }
        let renamed = self.rename(name).to_string();
        self.out.push('<');
        self.out.push_str(&renamed);
        for (attr, value) in attrs {
            self.out.push(' ');
            self.out.push_str(&attr);
            self.out.push_str("=\"");
            let value = value.unwrap_or_else(|| attr.clone());
            self.attribute_value(&value);
            self.out.push('"');
        }
        self.out.push_str(if self_closing { "/>" } else { ">" });
    }

    /// Writes an attribute value: references fixed as in text, and the
    /// characters a quoted value cannot hold escaped.
    fn attribute_value(&mut self, value: &str) {
        let mut rest = value;
        while let Some(pos) = rest.find(['&', '<', '"']) {
            self.push_text(&rest[..pos]);
            rest = &rest[pos..];
            rest = match rest.as_bytes()[0] {
                b'&' => self.fix_reference(rest),
                b'<' => {
                    self.out.push_str("&lt;");
                    &rest[1..]
                }
                _ => {
                    self.out.push_str("&quot;");
                    &rest[1..]
                }
            };
        }
        self.push_text(rest);
    }

    /// Atom 0.3 element names that Atom 1.0 renamed.
    fn rename<'a>(&self, name: &'a str) -> &'a str {
        if !self.atom03 {
            return name;
        }
        match name {
            "issued" => "published",
            "modified" => "updated",
            "tagline" => "subtitle",
            "copyright" => "rights",
            _ => name,
        }
    }

    /// Skips a DOCTYPE, remembering the general entities it declares.
    fn doctype<'a>(&mut self, rest: &'a str) -> &'a str {
        let subset_open = rest.find('[');
        let first_close = rest.find('>').unwrap_or(rest.len());
        match subset_open {
            Some(open) if open < first_close => {
                let end = rest[open..].find(']').map_or(rest.len(), |pos| open + pos);
                if let Err(over) = self.declared.declare_subset(&rest[open + 1..end]) {
                    self.over_budget = Some(over);
                }
                let close = rest[end..]
                    .find('>')
                    .map_or(rest.len(), |pos| end + pos + 1);
                &rest[close..]
            }
            _ => &rest[(first_close + 1).min(rest.len())..],
        }
    }
}

impl Repairer {
    /// Handles the `&` at the start of `rest`; returns what follows it.
    fn fix_reference<'a>(&mut self, rest: &'a str) -> &'a str {
        let bytes = rest.as_bytes();
        let mut end = 1;
        if bytes.get(end) == Some(&b'#') {
            end += 1;
            if matches!(bytes.get(end), Some(b'x' | b'X')) {
                end += 1;
            }
        }
        while end < bytes.len()
            && end < 64
            && (bytes[end].is_ascii_alphanumeric() || matches!(bytes[end], b'_' | b'-' | b'.'))
        {
            end += 1;
        }
        let body = &rest[1..end];
        let terminated = bytes.get(end) == Some(&b';');
        if terminated && !body.is_empty() {
            let after = &rest[end + 1..];
            if body.starts_with('#') {
                // Keep valid numeric references; drop ones naming characters
                // XML forbids (a strict parser rejects `&#1;`).
                if let Some(ch) = entities::numeric(body) {
                    self.push_char_reference(ch);
                }
                return after;
            }
            if matches!(body, "amp" | "lt" | "gt" | "quot" | "apos") {
                self.out.push_str(&rest[..=end]);
                return after;
            }
            match self.declared.expand(body) {
                Ok(Some(value)) => {
                    for ch in value.chars() {
                        push_char_reference(&mut self.out, ch);
                    }
                    return after;
                }
                Ok(None) => {}
                Err(over) => {
                    self.over_budget = Some(over);
                    return after;
                }
            }
            if let Some(ch) = entities::named(body) {
                self.push_char_reference(ch);
                return after;
            }
        } else if !body.is_empty() && !body.starts_with('#') {
            // `&nbsp ` without its semicolon, as browsers accept.
            // (Not before `=`: that is a query string, `?a=1&copy=2`.)
            let in_query = bytes.get(end) == Some(&b'=');
            if let Some(ch) = entities::named(body).filter(|_| !in_query) {
                self.push_char_reference(ch);
                return &rest[end..];
            }
        }
        self.out.push_str("&amp;");
        &rest[1..]
    }

    fn push_char_reference(&mut self, ch: char) {
        push_char_reference(&mut self.out, ch);
    }
}

/// Writes `ch` so that a strict parser reads it back as that character.
fn push_char_reference(out: &mut String, ch: char) {
    match ch {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        ch if ch.is_ascii() => out.push(ch),
        ch => {
            use std::fmt::Write;
            let _ = write!(out, "&#{};", ch as u32);
        }
    }
}

/// Parses attributes after a start tag's name, tolerating unquoted values,
/// values without `=`, and a missing `>`. Returns the attributes, whether
/// the tag closes itself, and how many bytes were consumed.
pub(crate) fn parse_attributes(text: &str) -> (Vec<(String, Option<String>)>, bool, usize) {
    let bytes = text.as_bytes();
    let mut attrs = Vec::new();
    let mut pos = 0;
    loop {
        while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        match bytes.get(pos) {
            None => return (attrs, false, pos),
            Some(b'>') => return (attrs, false, pos + 1),
            Some(b'/') if bytes.get(pos + 1) == Some(&b'>') => return (attrs, true, pos + 2),
            Some(b'<') => return (attrs, false, pos),
            _ => {}
        }
        let name_start = pos;
        while pos < bytes.len()
            && !bytes[pos].is_ascii_whitespace()
            && !matches!(bytes[pos], b'=' | b'>' | b'<')
            && (bytes[pos] != b'/' || bytes.get(pos + 1) != Some(&b'>'))
        {
            pos += 1;
        }
        let name = &text[name_start..pos];
        if name.is_empty() {
            // A lone `=` or quote: skip the byte.
            pos += 1;
            continue;
        }
        let mut cursor = pos;
        while cursor < bytes.len() && bytes[cursor].is_ascii_whitespace() {
            cursor += 1;
        }
        let mut value = None;
        if bytes.get(cursor) == Some(&b'=') {
            cursor += 1;
            while cursor < bytes.len() && bytes[cursor].is_ascii_whitespace() {
                cursor += 1;
            }
            match bytes.get(cursor) {
                Some(quote @ (b'"' | b'\'')) => {
                    let close = text[cursor + 1..]
                        .find(*quote as char)
                        .map_or(text.len(), |p| cursor + 1 + p);
                    value = Some(text[cursor + 1..close].to_string());
                    pos = (close + 1).min(text.len());
                }
                _ => {
                    let start = cursor;
                    while cursor < bytes.len()
                        && !bytes[cursor].is_ascii_whitespace()
                        && bytes[cursor] != b'>'
                    {
                        cursor += 1;
                    }
                    value = Some(text[start..cursor].to_string());
                    pos = cursor;
                }
            }
        }
        if is_valid_name(name) {
            attrs.push((name.to_string(), value));
        }
    }
}

fn is_valid_name(name: &str) -> bool {
    name.as_bytes()
        .first()
        .is_some_and(|byte| is_name_start(*byte))
        && name.chars().all(is_name_char)
}

pub(crate) fn is_name_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_' || byte == b':' || byte >= 0x80
}

pub(crate) fn is_name_char(ch: char) -> bool {
    ch.is_alphanumeric() || matches!(ch, '_' | ':' | '-' | '.')
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixes_entities_and_stray_ampersands() {
        assert_eq!(
            repair("<a>caf&eacute; &amp; AT&T &#1;</a>").unwrap(),
            "<a>caf&#233; &amp; AT&amp;T </a>"
        );
    }

    #[test]
    fn versionless_rss_becomes_rss2() {
        assert_eq!(
            repair("<rss><channel/></rss>").unwrap(),
            "<rss version=\"2.0\"><channel/></rss>"
        );
    }

    #[test]
    fn expands_declared_entities_and_drops_doctype() {
        let text = "<!DOCTYPE rss [<!ENTITY who \"W&amp;W\">]><rss version=\"2.0\">&who;</rss>";
        assert_eq!(repair(text).unwrap(), "<rss version=\"2.0\">W&amp;W</rss>");
    }

    #[test]
    fn renames_atom03() {
        let text = "<feed xmlns=\"http://purl.org/atom/ns#\"><modified>x</modified></feed>";
        assert_eq!(
            repair(text).unwrap(),
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><updated>x</updated></feed>"
        );
    }
}
