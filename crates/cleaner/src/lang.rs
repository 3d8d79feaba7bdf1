//! A cheap language guess for pages that do not declare one: the dominant
//! writing system picks the language where a script has one main language,
//! and a handful of function words separate the big Latin-script languages.

/// Guesses an ISO 639-1 code from `text`, or `None` when there is too
/// little text to say.
pub fn guess(text: &str) -> Option<String> {
    let mut counts = [0usize; 12];
    const LATIN: usize = 0;
    const CYRILLIC: usize = 1;
    const ARABIC: usize = 2;
    const HEBREW: usize = 3;
    const GREEK: usize = 4;
    const HAN: usize = 5;
    const KANA: usize = 6;
    const HANGUL: usize = 7;
    const THAI: usize = 8;
    const DEVANAGARI: usize = 9;
    const PERSIAN_LETTERS: usize = 10;
    let mut letters = 0usize;
    for c in text.chars().take(20_000) {
        if !c.is_alphabetic() {
            continue;
        }
        letters += 1;
        let slot = match c as u32 {
            0x0041..=0x024F => LATIN,
            0x0370..=0x03FF => GREEK,
            0x0400..=0x052F => CYRILLIC,
            0x0590..=0x05FF => HEBREW,
            0x0600..=0x06FF | 0x0750..=0x077F | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => {
                // Letters used by Persian/Urdu but not Arabic.
                if matches!(c, 'پ' | 'چ' | 'ژ' | 'گ' | 'ی' | 'ک') {
                    counts[PERSIAN_LETTERS] += 1;
                }
                ARABIC
            }
            0x0900..=0x097F => DEVANAGARI,
            0x0E00..=0x0E7F => THAI,
            0x3040..=0x30FF => KANA,
            0xAC00..=0xD7AF | 0x1100..=0x11FF => HANGUL,
            0x4E00..=0x9FFF | 0x3400..=0x4DBF => HAN,
            _ => 11,
        };
        counts[slot] += 1;
    }
    if letters < 20 {
        return None;
    }
    if counts[KANA] * 20 > letters {
        return Some("ja".into());
    }
    let (top, _) = counts[..10].iter().enumerate().max_by_key(|(_, n)| **n)?;
    let code = match top {
        CYRILLIC => {
            // Ukrainian letters absent from Russian.
            if text
                .chars()
                .take(20_000)
                .any(|c| matches!(c, 'ї' | 'є' | 'ґ' | 'і'))
            {
                "uk"
            } else {
                "ru"
            }
        }
        ARABIC if counts[PERSIAN_LETTERS] * 50 > counts[ARABIC] => "fa",
        ARABIC => "ar",
        HEBREW => "he",
        GREEK => "el",
        HAN => "zh",
        HANGUL => "ko",
        THAI => "th",
        DEVANAGARI => "hi",
        LATIN => return Some(latin_language(text).into()),
        _ => return None,
    };
    Some(code.into())
}

/// Picks among Latin-script languages by counting frequent function words.
fn latin_language(text: &str) -> &'static str {
    const WORDS: [(&str, &[&str]); 8] = [
        ("en", &["the", "and", "of", "to", "is", "that", "with"]),
        ("de", &["der", "die", "und", "das", "nicht", "ist", "mit"]),
        ("fr", &["le", "la", "les", "et", "des", "est", "une"]),
        ("es", &["el", "los", "las", "y", "que", "una", "por"]),
        ("pt", &["o", "os", "que", "não", "uma", "com", "para"]),
        ("it", &["il", "che", "di", "gli", "una", "non", "per"]),
        ("nl", &["de", "het", "een", "en", "van", "niet", "dat"]),
        ("tr", &["ve", "bir", "bu", "için", "ile", "da", "olarak"]),
    ];
    let mut scores = [0usize; WORDS.len()];
    for word in text.split(|c: char| !c.is_alphabetic()).take(5_000) {
        if word.is_empty() || word.len() > 8 {
            continue;
        }
        let lower = word.to_lowercase();
        for (index, (_, list)) in WORDS.iter().enumerate() {
            if list.contains(&lower.as_str()) {
                scores[index] += 1;
            }
        }
    }
    let best = scores
        .iter()
        .enumerate()
        .max_by_key(|(_, n)| **n)
        .map_or(0, |(i, _)| i);
    WORDS[best].0
}

#[cfg(test)]
mod tests {
    use super::guess;

    #[test]
    fn scripts() {
        assert_eq!(
            guess("Министерство обороны сообщило о поставках оружия в регион").as_deref(),
            Some("ru")
        );
        assert_eq!(
            guess("فرضت وزارة الخزانة الأمريكية عقوبات جديدة على شركات").as_deref(),
            Some("ar")
        );
        assert_eq!(
            guess("美国财政部宣布对多家公司实施新的制裁措施，涉及武器转让").as_deref(),
            Some("zh")
        );
        assert_eq!(
            guess("財務省は武器の移転に関する新しい制裁を発表しました").as_deref(),
            Some("ja")
        );
        assert_eq!(
            guess("The Treasury announced that it is imposing sanctions on the broker").as_deref(),
            Some("en")
        );
        assert_eq!(
            guess("Die Regierung hat die Sanktionen gegen das Land nicht verlängert").as_deref(),
            Some("de")
        );
        assert_eq!(guess("short"), None);
    }
}
