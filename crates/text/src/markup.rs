//! Text put into HTML or XML we write (the status page, OPML exports):
//! the five characters markup gives meaning to become references, and
//! control characters, which XML 1.0 forbids and a page only shows as
//! garbage, become spaces or go.

/// What happens to line breaks and tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Breaks {
    /// Kept: element text shown with `white-space: pre-wrap`.
    Keep,
    /// Spaces: attribute values, where a parser would fold them anyway.
    Space,
}

/// `text` with `&`, `<`, `>`, `"` and `'` as references (`&#39;`, which
/// HTML and XML both read), safe in element text and in quoted attribute
/// values. `\n` is kept or made a space as `breaks` says; `\r` and `\t`
/// become spaces; other control characters are dropped.
pub fn escape(text: &str, breaks: Breaks) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' if breaks == Breaks::Keep => out.push('\n'),
            '\n' | '\r' | '\t' => out.push(' '),
            other if other.is_control() => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_become_references_and_controls_spaces_or_nothing() {
        assert_eq!(
            escape("<script>\"x\"&'y'</script>", Breaks::Keep),
            "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;"
        );
        assert_eq!(escape("a\nb\tc\u{0}d\u{7f}e", Breaks::Keep), "a\nb cde");
        assert_eq!(escape("a\r\nb", Breaks::Space), "a  b");
        assert_eq!(escape("Zürich — ok", Breaks::Space), "Zürich — ok");
    }
}
