//! Publication dates as pages write them, read by the parser the feed
//! reader uses ([`wirewatch_text::date`]), with what is garbage on a page
//! rejected: years outside 1990..=2100, and values too long to be a date.

use chrono::{DateTime, Utc};

/// Parses a date string into UTC; local times without an offset are taken
/// as UTC (the page gives nothing better).
pub fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    let text = raw.trim();
    if text.is_empty() || text.len() > 64 {
        return None;
    }
    let parsed = wirewatch_text::date::parse_date(text)?;
    let year = chrono::Datelike::year(&parsed);
    (1990..=2100).contains(&year).then_some(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(raw: &str) -> String {
        parse_date(raw).map(|d| d.to_rfc3339()).unwrap_or_default()
    }

    #[test]
    fn common_forms() {
        assert_eq!(
            iso("2019-11-19T10:30:00+02:00"),
            "2019-11-19T08:30:00+00:00"
        );
        assert_eq!(
            iso("2019-11-19T10:30:00.000+0000"),
            "2019-11-19T10:30:00+00:00"
        );
        assert_eq!(iso("2019-11-19T10:30:00Z"), "2019-11-19T10:30:00+00:00");
        assert_eq!(iso("2019-11-19T10:30:00"), "2019-11-19T10:30:00+00:00");
        assert_eq!(iso("2019-11-19"), "2019-11-19T00:00:00+00:00");
        assert_eq!(
            iso("Tue, 19 Nov 2019 10:30:00 GMT"),
            "2019-11-19T10:30:00+00:00"
        );
        assert_eq!(iso("November 19, 2019"), "2019-11-19T00:00:00+00:00");
        assert_eq!(iso("yesterday"), "");
        assert_eq!(iso("0001-01-01T00:00:00Z"), "");
    }
}
