//! Text from feeds and pages made safe to show on a terminal.

use std::borrow::Cow;

/// `text` with every control character (C0, DEL, C1) written as a Rust
/// escape (`\u{1b}`), so a title that carries `ESC ]0;…BEL` shows as text
/// instead of retitling the window, recolouring or moving the cursor.
/// Newlines and tabs are escaped too: a line of output stays one line and
/// tab-separated fields stay where they are.
pub fn printable(text: &str) -> Cow<'_, str> {
    escape(text, |_| false)
}

/// [`printable`] for several lines: keeps `\n`, escapes everything else.
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    escape(text, |character| character == '\n')
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    let escaped = |character: char| character.is_control() && !keep(character);
    if !text.chars().any(escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for character in text.chars() {
        if escaped(character) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(character)));
        } else {
            out.push(character);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_sequences_are_shown_not_obeyed() {
        assert_eq!(
            printable("a\u{1b}]0;title\u{7}b\u{9b}31m\tc\nd\u{7f}"),
            "a\\u{1b}]0;title\\u{7}b\\u{9b}31m\\u{9}c\\u{a}d\\u{7f}"
        );
        assert_eq!(printable_lines("one\u{1b}[2J\ntwo"), "one\\u{1b}[2J\ntwo");
    }

    #[test]
    fn plain_text_is_borrowed_as_is() {
        assert!(matches!(printable("Zürich – “quoted”"), Cow::Borrowed(_)));
    }
}
