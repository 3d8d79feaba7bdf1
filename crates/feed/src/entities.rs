//! Character references: the XML built-ins, numeric references and the HTML 4
//! named entities that feeds use without declaring them (`&nbsp;`, `&rsquo;`).
//!
//! XML only knows five named entities; a feed that writes `&eacute;` is not
//! well-formed, but a browser (and a reader) understands it, so we do too.
//!
//! Entities a document declares in its own DOCTYPE ([`DeclaredEntities`])
//! are expanded under a budget: one entity of 100 KB referenced ten
//! thousand times, or entities nested ten deep ("billion laughs"), would
//! otherwise turn a small document into gigabytes.

use std::collections::HashMap;

/// The character an HTML named entity stands for (`"eacute"` -> `é`), by
/// the HTML standard's table ([`wirewatch_text::entities`]); names that
/// stand for two characters are left as written.
pub(crate) fn named(name: &str) -> Option<char> {
    match wirewatch_text::entities::lookup_terminated(name)? {
        (character, None) => Some(character),
        (_, Some(_)) => None,
    }
}

/// A numeric reference body (`"#233"`, `"#xE9"`) as a character. Code points
/// XML forbids (NUL, most C0 controls, surrogates) give `None`.
pub(crate) fn numeric(body: &str) -> Option<char> {
    let digits = body.strip_prefix('#')?;
    let code = if let Some(hex) = digits.strip_prefix(['x', 'X']) {
        u32::from_str_radix(hex, 16).ok()?
    } else {
        digits.parse::<u32>().ok()?
    };
    // Windows-1252 code points written as numbers (`&#146;`) mean the
    // Windows character almost every time: feeds copied from Word.
    let code = match code {
        0x80..=0x9F => windows_1252_c1(code),
        _ => code,
    };
    let ch = char::from_u32(code)?;
    is_xml_char(ch).then_some(ch)
}

fn windows_1252_c1(code: u32) -> u32 {
    let byte = [code as u8];
    let (decoded, _, _) = encoding_rs::WINDOWS_1252.decode(&byte);
    decoded.chars().next().map_or(code, |ch| ch as u32)
}

/// Whether XML 1.0 allows this character in a document.
pub(crate) fn is_xml_char(ch: char) -> bool {
    matches!(ch, '\t' | '\n' | '\r') || (ch >= ' ' && !matches!(ch, '\u{FFFE}' | '\u{FFFF}'))
}

/// Decodes every reference in `text` that we can read; anything else (a
/// stray `&`, an unknown name) is kept as written.
pub(crate) fn decode_all(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        match reference_at(rest) {
            Some((ch, len)) => {
                out.push(ch);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// If `text` starts with a reference we understand, the character and the
/// reference's length. The `;` may be missing after a name or number when
/// the next character cannot continue it (`&amp ` in sloppy HTML).
pub(crate) fn reference_at(text: &str) -> Option<(char, usize)> {
    let body_start = 1;
    let bytes = text.as_bytes();
    let mut end = body_start;
    if bytes.get(end) == Some(&b'#') {
        end += 1;
        if matches!(bytes.get(end), Some(b'x' | b'X')) {
            end += 1;
        }
    }
    while end < bytes.len() && end < 40 && bytes[end].is_ascii_alphanumeric() {
        end += 1;
    }
    let body = &text[body_start..end];
    if body.is_empty() {
        return None;
    }
    let ch = if body.starts_with('#') {
        numeric(body)?
    } else {
        named(body)?
    };
    let len = if bytes.get(end) == Some(&b';') {
        end + 1
    } else {
        end
    };
    Some((ch, len))
}

/// Entity expansion may produce at most this many bytes per byte of the
/// document (plus [`ENTITY_EXPANSION_ALLOWANCE`]); a document over it is not
/// read. Feeds that declare entities use them for a name or a symbol, far
/// below this.
pub const ENTITY_EXPANSION_FACTOR: usize = 4;

/// Bytes of entity expansion every document may use whatever its size, so
/// a small feed can still spell a long boilerplate through an entity.
pub const ENTITY_EXPANSION_ALLOWANCE: usize = 64 * 1024;

/// A document's declared entities would expand past their budget.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct OverBudget {
    /// The budget, in bytes of expanded text.
    pub limit: usize,
}

/// The general entities declared in a document's internal DTD subset, with
/// what is left of the document's expansion budget. Values are stored fully
/// resolved (references to entities declared before them expanded, as XML
/// does on use), and storing them is charged like using them, so nesting
/// costs what it produces and cannot multiply past the budget.
pub(crate) struct DeclaredEntities {
    values: HashMap<String, String>,
    limit: usize,
    spent: usize,
}

impl DeclaredEntities {
    /// An empty table for a document of `document_len` bytes.
    pub fn new(document_len: usize) -> DeclaredEntities {
        DeclaredEntities {
            values: HashMap::new(),
            limit: document_len
                .saturating_mul(ENTITY_EXPANSION_FACTOR)
                .saturating_add(ENTITY_EXPANSION_ALLOWANCE),
            spent: 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Reads the `<!ENTITY name "value">` declarations of an internal
    /// subset (the text between `[` and `]`). Parameter entities (`%`) and
    /// external ones (`SYSTEM`, `PUBLIC`) are ignored; the first declaration
    /// of a name wins, as in XML.
    pub fn declare_subset(&mut self, subset: &str) -> Result<(), OverBudget> {
        for declaration in subset.split("<!ENTITY").skip(1) {
            let declaration = declaration.trim_start();
            if declaration.starts_with('%') {
                continue;
            }
            let Some(name_end) = declaration.find(char::is_whitespace) else {
                continue;
            };
            let name = &declaration[..name_end];
            let value_part = declaration[name_end..].trim_start();
            let Some(quote) = value_part
                .chars()
                .next()
                .filter(|ch| *ch == '"' || *ch == '\'')
            else {
                continue;
            };
            let Some(end) = value_part[1..].find(quote) else {
                continue;
            };
            if self.values.contains_key(name) {
                continue;
            }
            let value = self.resolve(&value_part[1..=end])?;
            self.values.insert(name.to_string(), value);
        }
        Ok(())
    }

    /// The value of the declared entity `name`, charged to the budget;
    /// `Ok(None)` when the document declares no such entity.
    pub fn expand(&mut self, name: &str) -> Result<Option<&str>, OverBudget> {
        let Some(value) = self.values.get(name) else {
            return Ok(None);
        };
        self.spent = self.spent.saturating_add(value.len());
        if self.spent > self.limit {
            return Err(OverBudget { limit: self.limit });
        }
        Ok(Some(value.as_str()))
    }

    /// A declared value with character references and references to
    /// entities declared before it expanded.
    fn resolve(&mut self, raw: &str) -> Result<String, OverBudget> {
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(pos) = rest.find('&') {
            out.push_str(&rest[..pos]);
            rest = &rest[pos..];
            let nested = rest[1..]
                .find(';')
                .filter(|end| *end <= 64)
                .filter(|end| self.values.contains_key(&rest[1..1 + end]));
            if let Some(end) = nested {
                let value = self
                    .expand(&rest[1..=end])?
                    .expect("checked it is declared");
                out.push_str(value);
                rest = &rest[end + 2..];
            } else if let Some((ch, len)) = reference_at(rest) {
                out.push(ch);
                rest = &rest[len..];
            } else {
                out.push('&');
                rest = &rest[1..];
            }
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_declarations_resolve_within_the_budget() {
        let mut declared = DeclaredEntities::new(100);
        declared
            .declare_subset(r#"<!ENTITY a "x&amp;"> <!ENTITY b '&a;&a;'> <!ENTITY % p "no">"#)
            .unwrap();
        assert_eq!(declared.expand("b"), Ok(Some("x&x&")));
        assert_eq!(declared.expand("p"), Ok(None));
    }

    #[test]
    fn billion_laughs_stops_at_the_budget() {
        let mut subset = String::from(r#"<!ENTITY l0 "lol">"#);
        for level in 1..10 {
            let previous = format!("&l{};", level - 1);
            subset.push_str(&format!(r#"<!ENTITY l{level} "{}">"#, previous.repeat(10)));
        }
        let mut declared = DeclaredEntities::new(subset.len());
        let limit = subset.len() * ENTITY_EXPANSION_FACTOR + ENTITY_EXPANSION_ALLOWANCE;
        assert_eq!(declared.declare_subset(&subset), Err(OverBudget { limit }));
    }

    #[test]
    fn decodes_named_numeric_and_keeps_unknown() {
        assert_eq!(
            decode_all("caf&eacute; &#233; &#xE9; &bogus; AT&T"),
            "café é é &bogus; AT&T"
        );
        assert_eq!(decode_all("it&#146;s"), "it\u{2019}s");
    }
}
