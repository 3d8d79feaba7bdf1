//! Dates as feeds write them, not only as the specs say.
//!
//! RFC 3339 and RFC 822 are the common case, but real feeds also send
//! `2006-01-11 16:43:22 -0800`, `2020/1/10 14:33:00`,
//! `Sat, Dec 16 2023 02:02:33 PM`, two-digit years, long month names,
//! North American zone names and no zone at all (read as UTC). Rather than
//! a list of formats, the text is split into tokens (numbers, a clock time,
//! words, a numeric offset) and the fields are assigned by what they look
//! like, which reads any order a human would.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// Parses a feed date; `None` when no day can be read from it.
pub fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() || text.len() > 120 {
        return None;
    }
    if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
        return Some(parsed.with_timezone(&Utc));
    }
    if let Ok(parsed) = DateTime::parse_from_rfc2822(text) {
        return Some(parsed.with_timezone(&Utc));
    }
    // Seconds since the epoch, as some generators write.
    if (9..=10).contains(&text.len()) && text.bytes().all(|byte| byte.is_ascii_digit()) {
        return text
            .parse::<i64>()
            .ok()
            .and_then(|seconds| DateTime::from_timestamp(seconds, 0));
    }
    from_tokens(&tokenize(text))
}

#[derive(Debug, PartialEq)]
enum Token {
    Number {
        value: u32,
        digits: usize,
        separator_after: Option<char>,
    },
    Time {
        hour: u32,
        minute: u32,
        second: u32,
    },
    Word(String),
    /// A numeric UTC offset in seconds east.
    Offset(i32),
}

fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    let mut seen_time = false;
    while index < chars.len() {
        let ch = chars[index];
        if ch.is_ascii_digit() {
            let start = index;
            while index < chars.len() && chars[index].is_ascii_digit() {
                index += 1;
            }
            let digits: String = chars[start..index].iter().collect();
            let is_time = chars.get(index) == Some(&':')
                && chars.get(index + 1).is_some_and(char::is_ascii_digit)
                && !seen_time;
            if is_time {
                let mut parts = vec![digits];
                while chars.get(index) == Some(&':')
                    && chars.get(index + 1).is_some_and(char::is_ascii_digit)
                {
                    index += 1;
                    let part_start = index;
                    while index < chars.len() && chars[index].is_ascii_digit() {
                        index += 1;
                    }
                    parts.push(chars[part_start..index].iter().collect());
                }
                // Fractional seconds carry nothing a feed reader needs.
                if matches!(chars.get(index), Some('.' | ','))
                    && chars.get(index + 1).is_some_and(char::is_ascii_digit)
                {
                    index += 1;
                    while index < chars.len() && chars[index].is_ascii_digit() {
                        index += 1;
                    }
                }
                let number = |position: usize| {
                    parts
                        .get(position)
                        .and_then(|part| part.parse().ok())
                        .unwrap_or(0)
                };
                tokens.push(Token::Time {
                    hour: number(0),
                    minute: number(1),
                    second: number(2),
                });
                seen_time = true;
                continue;
            }
            let separator_after = chars
                .get(index)
                .copied()
                .filter(|next| !next.is_alphanumeric());
            if let Ok(value) = digits.parse() {
                tokens.push(Token::Number {
                    value,
                    digits: digits.len(),
                    separator_after,
                });
            }
            continue;
        }
        if (ch == '+' || ch == '-')
            && seen_time
            && chars.get(index + 1).is_some_and(char::is_ascii_digit)
        {
            let sign = if ch == '-' { -1 } else { 1 };
            index += 1;
            let start = index;
            while index < chars.len() && (chars[index].is_ascii_digit() || chars[index] == ':') {
                index += 1;
            }
            let raw: String = chars[start..index]
                .iter()
                .filter(|c| c.is_ascii_digit())
                .collect();
            let (hours, minutes) = match raw.len() {
                1 | 2 => (raw.parse().unwrap_or(0), 0),
                3 => (raw[..1].parse().unwrap_or(0), raw[1..].parse().unwrap_or(0)),
                4 => (raw[..2].parse().unwrap_or(0), raw[2..].parse().unwrap_or(0)),
                _ => (0, 0),
            };
            if hours <= 14 && minutes < 60 {
                tokens.push(Token::Offset(sign * (hours * 3600 + minutes * 60)));
            }
            continue;
        }
        if ch.is_alphabetic() {
            let start = index;
            while index < chars.len() && (chars[index].is_alphabetic() || chars[index] == '.') {
                index += 1;
            }
            let word: String = chars[start..index]
                .iter()
                .collect::<String>()
                .trim_end_matches('.')
                .to_lowercase();
            tokens.push(Token::Word(word));
            continue;
        }
        index += 1;
    }
    tokens
}

fn from_tokens(tokens: &[Token]) -> Option<DateTime<Utc>> {
    let mut month_names = Vec::new();
    let mut time = None;
    let mut numeric_offset = None;
    let mut zone_name_offset = None;
    let mut pm = None;
    let mut numbers = Vec::new();
    for (position, token) in tokens.iter().enumerate() {
        match token {
            Token::Number {
                value,
                digits,
                separator_after,
            } => numbers.push((*value, *digits, *separator_after)),
            Token::Time {
                hour,
                minute,
                second,
            } => {
                if time.is_none() {
                    time = Some((*hour, *minute, *second));
                }
            }
            Token::Offset(seconds) => numeric_offset = numeric_offset.or(Some(*seconds)),
            Token::Word(word) => {
                if let Some(month) = month_number(word) {
                    month_names.push((position, month, weekday(word)));
                } else if word == "pm" || word == "p.m" {
                    pm = Some(true);
                } else if word == "am" || word == "a.m" {
                    pm = Some(false);
                } else if let Some(seconds) = zone_offset(word) {
                    zone_name_offset = zone_name_offset.or(Some(seconds));
                }
            }
        }
    }
    // "mar, 15 nov 2022" (Italian): a leading word that can be a weekday is
    // one when another month name follows; "Mar 5, 2023" keeps its month.
    let month_from_name = match month_names.as_slice() {
        [(0, _, true), (_, month, _), ..] => Some(*month),
        [(_, month, _), ..] => Some(*month),
        [] => None,
    };
    // "GMT+1": the number is more precise than the name.
    let offset = numeric_offset.or(zone_name_offset);

    let (year, month, day) = assign_date(&numbers, month_from_name)?;
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let (mut hour, minute, second) = time.unwrap_or((0, 0, 0));
    match pm {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    // 24:00 means the end of the day; a few feeds write it.
    let (hour, carry_day) = if hour == 24 { (0, 1) } else { (hour, 0) };
    let naive_time = NaiveTime::from_hms_opt(hour, minute, second.min(59))?;
    let naive = NaiveDateTime::new(date, naive_time) + chrono::Duration::days(carry_day);
    let utc =
        Utc.from_utc_datetime(&naive) - chrono::Duration::seconds(i64::from(offset.unwrap_or(0)));
    Some(utc)
}

/// Picks year, month and day out of the bare numbers.
fn assign_date(
    numbers: &[(u32, usize, Option<char>)],
    month_from_name: Option<u32>,
) -> Option<(i32, u32, u32)> {
    // A run of 8 digits: 20240131.
    if let [(value, 8, _), ..] = numbers {
        return Some(((value / 10000) as i32, value / 100 % 100, value % 100));
    }
    let year_position = numbers.iter().position(|(_, digits, _)| *digits == 4);
    match (month_from_name, year_position) {
        (Some(month), Some(year_at)) => {
            let day = numbers
                .iter()
                .enumerate()
                .find(|(at, (value, _, _))| *at != year_at && (1..=31).contains(value))
                .map_or(1, |(_, (value, _, _))| *value);
            Some((numbers[year_at].0 as i32, month, day))
        }
        (Some(month), None) => {
            // RFC 822 two-digit year: "05 Jan 04".
            let [(day, _, _), (year, _, _), ..] = numbers else {
                return None;
            };
            Some((two_digit_year(*year), month, *day))
        }
        (None, Some(0)) => {
            // Year first: ISO order; a year alone is its first day.
            let month = numbers.get(1).map_or(1, |number| number.0);
            let day = numbers.get(2).map_or(1, |number| number.0);
            Some((numbers[0].0 as i32, month, day))
        }
        (None, Some(year_at)) if year_at >= 2 => {
            let (first, second) = (numbers[year_at - 2], numbers[year_at - 1]);
            // Day first unless that is impossible, or the writer used `/`
            // (the North American habit) and the first number can be a month.
            let month_first = first.0 <= 12 && (second.0 > 12 || first.2 == Some('/'));
            let (month, day) = if month_first {
                (first.0, second.0)
            } else {
                (second.0, first.0)
            };
            Some((numbers[year_at].0 as i32, month, day))
        }
        _ => None,
    }
}

fn two_digit_year(year: u32) -> i32 {
    match year {
        0..=68 => 2000 + year as i32,
        69..=99 => 1900 + year as i32,
        _ => year as i32,
    }
}

fn weekday(word: &str) -> bool {
    const DAYS: &[&str] = &[
        "mon", "tue", "wed", "thu", "fri", "sat", "sun", // English
        "lun", "mar", "mer", "gio", "ven", "sab", "dom", // Italian
        "mié", "jue", "vie", "sáb", "mie", // Spanish
        "mo", "di", "mi", "do", "fr", "sa", "so", // German
        "jeu", "dim", // French
    ];
    DAYS.iter().any(|day| word.starts_with(day))
}

fn month_number(word: &str) -> Option<u32> {
    if word.chars().count() < 3 {
        return None;
    }
    // French "juin"/"juillet" share a prefix; settle them first.
    if word.starts_with("juil") {
        return Some(7);
    }
    if word.starts_with("juin") {
        return Some(6);
    }
    let prefix: String = word.chars().take(3).collect();
    let month = match prefix.as_str() {
        "jan" | "gen" | "ene" | "jän" => 1,
        "feb" | "fév" | "fev" => 2,
        "mar" | "mär" => 3,
        "apr" | "avr" | "abr" => 4,
        "may" | "mai" | "mag" => 5,
        "jun" | "giu" => 6,
        "jul" | "lug" => 7,
        "aug" | "aoû" | "aou" | "ago" => 8,
        "sep" | "set" => 9,
        "oct" | "okt" | "ott" | "out" => 10,
        "nov" => 11,
        "dec" | "déc" | "dez" | "dic" => 12,
        _ => return None,
    };
    Some(month)
}

/// Zone names feeds use, as seconds east of UTC. Unknown names read as UTC,
/// which is what an unmarked time is taken to be as well.
fn zone_offset(word: &str) -> Option<i32> {
    let hours = match word {
        "z" | "gmt" | "ut" | "utc" | "wet" => 0,
        "est" => -5,
        "edt" => -4,
        "cst" => -6,
        "cdt" => -5,
        "mst" => -7,
        "mdt" => -6,
        "pst" => -8,
        "pdt" => -7,
        "akst" => -9,
        "akdt" => -8,
        "hst" => -10,
        "ast" => -4,
        "adt" => -3,
        "bst" | "cet" | "west" => 1,
        "cest" | "eet" => 2,
        "eest" | "msk" => 3,
        "ist" => return Some(5 * 3600 + 1800),
        "jst" | "kst" => 9,
        "aest" => 10,
        "aedt" => 11,
        _ => return None,
    };
    Some(hours * 3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(text: &str) -> Option<String> {
        parse_date(text).map(|date| date.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    }

    #[test]
    fn reads_common_and_odd_formats() {
        assert_eq!(
            iso("Tue, 10 Jun 2003 04:00:00 GMT").as_deref(),
            Some("2003-06-10T04:00:00Z")
        );
        assert_eq!(
            iso("2003-12-13T18:30:02.25+01:00").as_deref(),
            Some("2003-12-13T17:30:02Z")
        );
        assert_eq!(
            iso("2006-01-11 16:43:22 -0800").as_deref(),
            Some("2006-01-12T00:43:22Z")
        );
        assert_eq!(
            iso("2020/1/10 14:33:00").as_deref(),
            Some("2020-01-10T14:33:00Z")
        );
        assert_eq!(
            iso("Sat, Dec 16 2023 02:02:33 PM").as_deref(),
            Some("2023-12-16T14:02:33Z")
        );
        assert_eq!(
            iso("Thursday, 13 July 2011 07:38:00 EST").as_deref(),
            Some("2011-07-13T12:38:00Z")
        );
        assert_eq!(
            iso("05 Jan 04 10:00 +0100").as_deref(),
            Some("2004-01-05T09:00:00Z")
        );
        assert_eq!(iso("2004-01-05").as_deref(), Some("2004-01-05T00:00:00Z"));
        assert_eq!(
            iso("Mar 5, 2023 10:00 GMT+1").as_deref(),
            Some("2023-03-05T09:00:00Z")
        );
        assert_eq!(iso("dic 5 2023").as_deref(), Some("2023-12-05T00:00:00Z"));
        assert_eq!(
            iso("Sun Jan  4 16:29:06 2004").as_deref(),
            Some("2004-01-04T16:29:06Z")
        );
        assert_eq!(
            iso("Fri, 2006/09/15 08:19:53 EDT").as_deref(),
            Some("2006-09-15T12:19:53Z")
        );
        assert_eq!(iso("2003-12").as_deref(), Some("2003-12-01T00:00:00Z"));
        assert_eq!(iso("nonsense"), None);
    }
}
