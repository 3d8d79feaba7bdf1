//! One pass over an article's title and text that builds the lowercase copy
//! the lexicon automaton runs over, the word tokens with their sentence
//! numbers, and the map back to character offsets in the original fields.
//!
//! Everything lives in a [`Scratch`] whose buffers are cleared, not freed,
//! between articles, so classifying a stream of articles allocates nothing
//! once the buffers have grown to the largest article seen.

use wirewatch_model::EvidenceField;

/// A word: a maximal run of alphanumeric characters.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Token {
    /// Byte range in the normalized text.
    pub norm_start: u32,
    pub norm_end: u32,
    /// The sentence the word belongs to, numbered across title and text.
    pub sentence: u32,
    /// Whether the word starts with an uppercase letter in the original.
    pub capitalized: bool,
    /// Whether the word has no lowercase letter in the original.
    pub no_lower: bool,
}

/// The normalized article. The title comes first, then a newline, then the
/// text, so one automaton pass covers both and a match never spans the two.
#[derive(Debug, Default)]
pub(crate) struct NormText {
    pub norm: String,
    /// For every byte of `norm` (and one past the end), the character offset
    /// in the original field that produced it.
    pub char_at: Vec<u32>,
    /// The same, as byte offsets, so spans of the original are sliced
    /// without rescanning it.
    pub byte_at: Vec<u32>,
    pub tokens: Vec<Token>,
    /// Where the text starts in `norm`; bytes before it belong to the title.
    pub text_start: u32,
    /// Whether `norm` has any non-ASCII character.
    pub non_ascii: bool,
}

/// Words after which a period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "st", "gen", "col", "lt", "sen", "rep", "gov", "jr", "sr", "inc",
    "corp", "co", "ltd", "no", "vs", "jan", "feb", "mar", "apr", "aug", "sep", "sept", "oct",
    "nov", "dec", "prof", "adm", "maj", "capt", "sgt", "gen", "bzw", "z", "dr", "nr", "ca", "etc",
];

impl NormText {
    pub fn clear(&mut self) {
        self.norm.clear();
        self.char_at.clear();
        self.byte_at.clear();
        self.tokens.clear();
        self.text_start = 0;
        self.non_ascii = false;
    }

    /// Normalizes `title` and `text` into `self`, reusing its buffers.
    pub fn build(&mut self, title: &str, text: &str) {
        self.clear();
        let mut sentence = 0u32;
        self.push_field(title, &mut sentence);
        // The title is its own sentence, whatever punctuation it ends with.
        sentence += 1;
        self.push_mapped('\n', title.chars().count() as u32, title.len() as u32);
        self.text_start = self.norm.len() as u32;
        self.push_field(text, &mut sentence);
        self.char_at.push(text.chars().count() as u32);
        self.byte_at.push(text.len() as u32);
    }

    /// Appends `character`, mapping each of its bytes to the source
    /// position it came from.
    #[inline]
    fn push_mapped(&mut self, character: char, char_index: u32, byte_index: u32) {
        if character.is_ascii() {
            self.norm.push(character);
            self.char_at.push(char_index);
            self.byte_at.push(byte_index);
            return;
        }
        self.non_ascii = true;
        let before = self.norm.len();
        self.norm.push(character);
        for _ in before..self.norm.len() {
            self.char_at.push(char_index);
            self.byte_at.push(byte_index);
        }
    }

    fn push_field(&mut self, field: &str, sentence: &mut u32) {
        let mut in_word = false;
        // A sentence break seen in punctuation, applied when the next word
        // starts (so a period followed by a lowercase word does not break).
        let mut pending_period = false;
        let mut pending_hard = false;
        let mut saw_space = false;
        let mut last_space = false;
        let mut char_index = 0u32;
        for (byte_index, character) in field.char_indices() {
            let byte_index = byte_index as u32;
            if character.is_alphanumeric() {
                if !in_word {
                    let capitalized = character.is_uppercase();
                    if pending_hard
                        || (pending_period
                            && saw_space
                            && (capitalized || !character.is_alphabetic()))
                    {
                        *sentence += 1;
                    }
                    pending_hard = false;
                    pending_period = false;
                    saw_space = false;
                    in_word = true;
                    let word_start = self.norm.len() as u32;
                    self.tokens.push(Token {
                        norm_start: word_start,
                        norm_end: word_start,
                        sentence: *sentence,
                        capitalized,
                        no_lower: true,
                    });
                }
                if character.is_ascii() {
                    if character.is_ascii_lowercase() {
                        if let Some(token) = self.tokens.last_mut() {
                            token.no_lower = false;
                        }
                    }
                    self.norm.push(character.to_ascii_lowercase());
                    self.char_at.push(char_index);
                    self.byte_at.push(byte_index);
                } else {
                    if character.is_lowercase() {
                        if let Some(token) = self.tokens.last_mut() {
                            token.no_lower = false;
                        }
                    }
                    for lower in character.to_lowercase() {
                        self.push_mapped(lower, char_index, byte_index);
                    }
                }
                last_space = false;
            } else {
                if in_word {
                    in_word = false;
                    let end = self.norm.len() as u32;
                    if let Some(token) = self.tokens.last_mut() {
                        token.norm_end = end;
                    }
                }
                match character {
                    '.' => {
                        let word = self
                            .tokens
                            .last()
                            .filter(|token| token.norm_end == self.norm.len() as u32)
                            .map(|token| {
                                &self.norm[token.norm_start as usize..token.norm_end as usize]
                            });
                        // "U.S." and "Mr." do not end a sentence; other periods
                        // end one when a capitalized word follows.
                        let abbreviation = match word {
                            Some(word) => {
                                word.chars().count() == 1 || ABBREVIATIONS.contains(&word)
                            }
                            None => false,
                        };
                        if !abbreviation {
                            pending_period = true;
                            saw_space = false;
                        }
                        self.push_mapped('.', char_index, byte_index);
                        last_space = false;
                    }
                    '!' | '?' | ';' => {
                        pending_hard = true;
                        self.push_mapped(character, char_index, byte_index);
                        last_space = false;
                    }
                    '\n' | '\r' | '\u{2029}' => {
                        pending_hard = true;
                        if !last_space {
                            self.push_mapped(' ', char_index, byte_index);
                            last_space = true;
                        }
                    }
                    _ if character.is_whitespace() => {
                        saw_space = true;
                        if !last_space {
                            self.push_mapped(' ', char_index, byte_index);
                            last_space = true;
                        }
                    }
                    '\u{2019}' | '\u{2018}' | '`' | '\u{b4}' => {
                        self.push_mapped('\'', char_index, byte_index);
                        last_space = false;
                    }
                    '\u{201c}' | '\u{201d}' | '\u{ab}' | '\u{bb}' | '\u{201e}' => {
                        self.push_mapped('"', char_index, byte_index);
                        last_space = false;
                    }
                    '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' => {
                        self.push_mapped('-', char_index, byte_index);
                        last_space = false;
                    }
                    _ => {
                        for lower in character.to_lowercase() {
                            self.push_mapped(lower, char_index, byte_index);
                        }
                        last_space = false;
                    }
                }
            }
            char_index += 1;
        }
        if in_word {
            let end = self.norm.len() as u32;
            if let Some(token) = self.tokens.last_mut() {
                token.norm_end = end;
            }
        }
    }

    /// The field a normalized byte offset falls in.
    pub fn field_of(&self, norm_offset: u32) -> EvidenceField {
        if norm_offset < self.text_start {
            EvidenceField::Title
        } else {
            EvidenceField::Text
        }
    }

    /// The character range in the original field of a normalized byte range.
    pub fn char_range(&self, norm_start: u32, norm_end: u32) -> (usize, usize) {
        let start = self.char_at[norm_start as usize] as usize;
        // The end maps through the last byte of the range so that a
        // lowercase expansion of one character still ends after it.
        let end = if norm_end > norm_start {
            self.char_at[norm_end as usize - 1] as usize + 1
        } else {
            start
        };
        (start, end)
    }

    /// The original text of a normalized byte range of `field` (the title
    /// or the text the range falls in).
    pub fn source_slice<'a>(&self, field: &'a str, norm_start: u32, norm_end: u32) -> &'a str {
        let start = self.byte_at[norm_start as usize] as usize;
        let end = if norm_end > norm_start {
            let last = self.byte_at[norm_end as usize - 1] as usize;
            // The end of the source character that produced the last byte.
            last + field[last..].chars().next().map_or(0, char::len_utf8)
        } else {
            start
        };
        field.get(start..end).unwrap_or("")
    }

    /// The index of the token containing or following `norm_offset`.
    pub fn token_at(&self, norm_offset: u32) -> usize {
        self.tokens
            .partition_point(|token| token.norm_end <= norm_offset)
    }

    /// The index of the token containing the byte before `norm_end`.
    pub fn token_ending_at(&self, norm_end: u32) -> usize {
        self.tokens
            .partition_point(|token| token.norm_start < norm_end)
            .saturating_sub(1)
    }

    pub fn word(&self, token: usize) -> &str {
        let token = &self.tokens[token];
        &self.norm[token.norm_start as usize..token.norm_end as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(norm: &NormText) -> Vec<(&str, u32)> {
        (0..norm.tokens.len())
            .map(|index| (norm.word(index), norm.tokens[index].sentence))
            .collect()
    }

    #[test]
    fn lowercases_and_numbers_sentences() {
        let mut norm = NormText::default();
        norm.build(
            "Big News",
            "The U.S. Treasury acted. Mr. Smith left! Then more.",
        );
        assert_eq!(
            words(&norm),
            vec![
                ("big", 0),
                ("news", 0),
                ("the", 1),
                ("u", 1),
                ("s", 1),
                ("treasury", 1),
                ("acted", 1),
                ("mr", 2),
                ("smith", 2),
                ("left", 2),
                ("then", 3),
                ("more", 3)
            ]
        );
    }

    #[test]
    fn maps_normalized_bytes_to_character_offsets() {
        let mut norm = NormText::default();
        let text = "Ça coûte “Санкции” now";
        norm.build("T", text);
        let position = norm.norm.find("санкции").unwrap() as u32;
        let (start, end) = norm.char_range(position, position + "санкции".len() as u32);
        let slice: String = text.chars().skip(start).take(end - start).collect();
        assert_eq!(slice, "Санкции");
        assert_eq!(
            norm.source_slice(text, position, position + "санкции".len() as u32),
            "Санкции"
        );
        assert_eq!(norm.field_of(position), EvidenceField::Text);
    }
}
