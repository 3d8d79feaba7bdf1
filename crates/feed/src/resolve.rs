//! Relative references: `xml:base` first, then the URL the feed came from.

use url::Url;

/// `value` resolved against `base` (or on its own when absolute).
pub(crate) fn join(base: Option<&Url>, value: &str) -> Option<Url> {
    let value = value.trim();
    match Url::parse(value) {
        Ok(absolute) => Some(absolute),
        Err(url::ParseError::RelativeUrlWithoutBase) => base.and_then(|base| base.join(value).ok()),
        Err(_) => None,
    }
}

/// A link as the pipeline wants it: absolute links are kept as written
/// (re-serializing would percent-encode what the publisher wrote), relative
/// ones are resolved when there is a base, and kept otherwise.
pub(crate) fn link(base: Option<&Url>, href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    if has_scheme(href) {
        return Some(href.to_string());
    }
    match base.and_then(|base| base.join(href).ok()) {
        Some(resolved) => Some(resolved.to_string()),
        None => Some(href.to_string()),
    }
}

/// `http://` or `https://` (a guid or Atom id that can stand in for a link).
pub(crate) fn looks_absolute_web(text: &str) -> bool {
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

fn has_scheme(href: &str) -> bool {
    match href.find(':') {
        Some(colon) if colon > 0 => {
            let scheme = &href[..colon];
            scheme.as_bytes()[0].is_ascii_alphabetic()
                && scheme
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'-' | b'.'))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_and_keeps_absolute() {
        let base = Url::parse("http://example.com/feeds/a.xml").unwrap();
        assert_eq!(
            link(Some(&base), "../post/1").as_deref(),
            Some("http://example.com/post/1")
        );
        assert_eq!(
            link(Some(&base), "HTTP://Example.com/x y").as_deref(),
            Some("HTTP://Example.com/x y")
        );
        assert_eq!(link(None, "/x").as_deref(), Some("/x"));
    }
}
