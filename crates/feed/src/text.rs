//! HTML fragments (titles, summaries) to plain text.
//!
//! Feeds put HTML in text fields, escaped once, twice, or not at all. The
//! pipeline wants text: tags go, `<script>`/`<style>` go with their
//! contents, block-level tags become spaces, references are decoded, and
//! whitespace is collapsed.

use super::entities;

/// Strips tags and decodes references in an HTML fragment.
pub(crate) fn html_to_text(html: &str) -> String {
    let mut text = strip_tags(&entities::decode_all(&strip_tags(html)));
    // Text escaped twice (`&amp;lt;b&amp;gt;`) still shows markup after one
    // round; one more is what a reader of the feed would see.
    if text.contains('&') {
        text = entities::decode_all(&text);
    }
    collapse_whitespace(&text)
}

/// Collapses runs of whitespace to one space and trims.
pub(crate) fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Whether `ch` is a control character a reader should never be shown: C0
/// other than tab, line feed and carriage return, DEL, and C1. (An escape
/// sequence in a title rewrites the terminal of whoever reads the log.)
pub(crate) fn is_unwanted_control(ch: char) -> bool {
    matches!(ch, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{7F}'..='\u{9F}')
}

/// Removes [`is_unwanted_control`] characters in place; whether any were.
pub(crate) fn remove_controls(text: &mut String) -> bool {
    if !text.chars().any(is_unwanted_control) {
        return false;
    }
    text.retain(|ch| !is_unwanted_control(ch));
    true
}

/// Cuts `text` to at most `max_chars` characters (at a character
/// boundary); whether it was longer.
pub(crate) fn truncate_chars(text: &mut String, max_chars: usize) -> bool {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => {
            text.truncate(cut);
            true
        }
        None => false,
    }
}

/// Removes markup; `<` not followed by something tag-like is kept as text
/// (`a < b`).
fn strip_tags(html: &str) -> String {
    if !html.contains('<') {
        return html.to_string();
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(pos) = rest.find('<') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        let next = rest.as_bytes().get(1).copied();
        let tag_like = next
            .is_some_and(|byte| byte.is_ascii_alphabetic() || matches!(byte, b'/' | b'!' | b'?'));
        if !tag_like {
            out.push('<');
            rest = &rest[1..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let end = tag_end(rest);
        let tag = &rest[..end];
        rest = &rest[end..];
        let name: String = tag
            .trim_start_matches(['<', '/'])
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        if (name == "script" || name == "style") && !tag.starts_with("</") {
            let closing = format!("</{name}");
            rest = find_ignore_case(rest, &closing)
                .map_or("", |at| &rest[at + tag_end(&rest[at..])..]);
            continue;
        }
        if is_block(&name) {
            out.push(' ');
        }
    }
    out.push_str(rest);
    out
}

/// Length of the tag at the start of `text`, honouring quoted attributes.
fn tag_end(text: &str) -> usize {
    let mut quote: Option<u8> = None;
    for (index, byte) in text.bytes().enumerate() {
        match (quote, byte) {
            (Some(open), byte) if byte == open => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(byte),
            (None, b'>') => return index + 1,
            _ => {}
        }
    }
    text.len()
}

fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "br"
            | "div"
            | "li"
            | "ul"
            | "ol"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "tr"
            | "td"
            | "th"
            | "table"
            | "blockquote"
            | "pre"
            | "hr"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "figure"
            | "figcaption"
            | "dd"
            | "dt"
            | "img"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_tags_and_decodes() {
        assert_eq!(
            html_to_text("<p>Tom &amp; <b>Jerry</b></p><p>x</p>"),
            "Tom & Jerry x"
        );
        assert_eq!(html_to_text("&lt;b&gt;bold&lt;/b&gt; a < b"), "bold a < b");
        assert_eq!(html_to_text("a<script>alert(1)</script>b"), "ab");
    }

    #[test]
    fn controls_go_and_cuts_fall_on_char_boundaries() {
        let mut title = "\u{1b}]0;x\u{7}\ta\u{7f}\u{85}\u{9f}\u{a0}b\n".to_string();
        assert!(remove_controls(&mut title));
        assert_eq!(title, "]0;x\ta\u{a0}b\n");
        let mut text = "\u{fc}\u{fc}\u{fc}".to_string();
        assert!(truncate_chars(&mut text, 2));
        assert_eq!(text, "\u{fc}\u{fc}");
        assert!(!truncate_chars(&mut text, 2));
    }
}
