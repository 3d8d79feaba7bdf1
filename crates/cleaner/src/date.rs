//! Publication dates as pages write them: ISO 8601 with or without offset,
//! date only, `+0000` offsets, RFC 2822, and the space-separated form.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Parses a date string into UTC; local times without an offset are taken
/// as UTC (the page gives nothing better). Years outside 1990..=2100 are
/// rejected as garbage.
pub fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    let text = raw.trim();
    if text.is_empty() || text.len() > 64 {
        return None;
    }
    let parsed = parse_any(text)?;
    let year = chrono::Datelike::year(&parsed);
    (1990..=2100).contains(&year).then_some(parsed)
}

fn parse_any(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(date) = DateTime::parse_from_rfc3339(text) {
        return Some(date.with_timezone(&Utc));
    }
    if let Ok(date) = DateTime::parse_from_rfc2822(text) {
        return Some(date.with_timezone(&Utc));
    }
    // "2019-11-19T10:00:00.000+0000", "2019-11-19 10:00:00 +01:00"
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f %z",
        "%Y-%m-%dT%H:%M%z",
    ] {
        if let Ok(date) = DateTime::<FixedOffset>::parse_from_str(text, format) {
            return Some(date.with_timezone(&Utc));
        }
    }
    let without_zone = text.strip_suffix('Z').unwrap_or(text);
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
    ] {
        if let Ok(date) = NaiveDateTime::parse_from_str(without_zone, format) {
            return Some(Utc.from_utc_datetime(&date));
        }
    }
    for format in [
        "%Y-%m-%d",
        "%Y/%m/%d",
        "%Y%m%d",
        "%B %d, %Y",
        "%b %d, %Y",
        "%d %B %Y",
    ] {
        if let Ok(date) = NaiveDate::parse_from_str(text, format) {
            return Some(Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?));
        }
    }
    // "2019-11-19T10:00:00+00:00 extra" or a date with trailing text: try the
    // first ISO-looking token.
    let first = text.split_whitespace().next()?;
    if first.len() < text.len() {
        return parse_any(first);
    }
    None
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
