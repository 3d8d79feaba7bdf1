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
    /// Whether the word is ASCII letters and digits only.
    pub ascii: bool,
}

/// The normalized article. The title comes first, then a newline, then the
/// text, so one automaton pass covers both and a match never spans the two.
#[derive(Debug, Default)]
pub(crate) struct NormText {
    pub norm: String,
    /// `norm` while it is being built: bytes are appended without a UTF-8
    /// check each, and one validation at the end turns them back into
    /// `norm` (only whole characters are ever appended). Empty otherwise;
    /// the two swap one allocation back and forth.
    building: Vec<u8>,
    /// `(norm offset, source offset)` pairs from which offsets map one to
    /// one until the next pair: a pair is added only where normalization
    /// changed a length (a collapsed space, a folded quote), so an ASCII
    /// article needs almost none.
    anchors: Vec<(u32, u32)>,
    pub tokens: Vec<Token>,
    /// Where the text starts in `norm`; bytes before it belong to the title.
    pub text_start: u32,
    /// Whether `norm` has any non-ASCII character.
    pub non_ascii: bool,
}

/// Punctuation seen since the last word that may end a sentence; applied
/// when the next word starts, so a period followed by a lowercase word or a
/// number does not break.
#[derive(Clone, Copy, Debug, Default)]
struct Breaks {
    period: bool,
    hard: bool,
    space: bool,
}

/// [`BYTE_CLASS`] bits: an ASCII letter or digit; an ASCII lowercase
/// letter; an ASCII byte that normalization copies unchanged and that only
/// ends a word (most punctuation).
const WORD_BYTE: u8 = 1;
const LOWER_BYTE: u8 = 2;
const PLAIN_BYTE: u8 = 4;

/// The class bits of each byte, so the scans, which see every byte of an
/// article, cost one load per byte instead of range checks.
static BYTE_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 128 {
        let value = byte as u8;
        if value.is_ascii_alphanumeric() {
            table[byte] |= WORD_BYTE;
        }
        if value.is_ascii_lowercase() {
            table[byte] |= LOWER_BYTE;
        }
        // What `push_other` does to these bytes is end the word and copy
        // them; the others (sentence ends, whitespace, the backtick, which
        // is folded to an apostrophe) need its full dispatch.
        let special = matches!(
            value,
            b'.' | b'!' | b'?' | b';' | b'`' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' '
        );
        if !value.is_ascii_alphanumeric() && !special {
            table[byte] |= PLAIN_BYTE;
        }
        byte += 1;
    }
    table
};

/// Whether a word followed by a period is an abbreviation, after which the
/// period does not end a sentence.
fn is_abbreviation(word: &str) -> bool {
    matches!(
        word,
        "mr" | "mrs"
            | "ms"
            | "dr"
            | "st"
            | "gen"
            | "col"
            | "lt"
            | "sen"
            | "rep"
            | "gov"
            | "jr"
            | "sr"
            | "inc"
            | "corp"
            | "co"
            | "ltd"
            | "no"
            | "vs"
            | "jan"
            | "feb"
            | "mar"
            | "apr"
            | "aug"
            | "sep"
            | "sept"
            | "oct"
            | "nov"
            | "dec"
            | "prof"
            | "adm"
            | "maj"
            | "capt"
            | "sgt"
            | "bzw"
            | "z"
            | "nr"
            | "ca"
            | "etc"
    )
}

/// Eight copies of a byte.
const fn lanes(byte: u8) -> u64 {
    u64::from_le_bytes([byte; 8])
}

/// For each byte lane of `chunk` below 0x80, the lane's top bit set when
/// the byte is at least `low` (bytes of 0x80 and above must be masked out
/// by the caller). No lane carries into the next: a lane holds at most
/// 0x7f + 0x7f.
#[inline]
fn lanes_at_least(chunk: u64, low: u8) -> u64 {
    ((chunk & lanes(0x7f)) + lanes(0x80 - low)) & lanes(0x80)
}

/// The top bit of each byte lane of `chunk` that is an ASCII letter or digit.
#[inline]
fn word_lanes(chunk: u64) -> u64 {
    let ascii = !chunk & lanes(0x80);
    let digit = lanes_at_least(chunk, b'0') & !lanes_at_least(chunk, b'9' + 1);
    // Setting bit 5 folds uppercase onto lowercase; the bytes it moves into
    // a..z (none) are the only ones it could wrongly admit.
    let folded = chunk | lanes(0x20);
    let letter = lanes_at_least(folded, b'a') & !lanes_at_least(folded, b'z' + 1);
    (digit | letter) & ascii
}

/// Appends the lowercased run of ASCII letters and digits starting at
/// `start` to `out`; returns where the run ends and its classes ORed
/// together ([`LOWER_BYTE`] set when it has a lowercase letter).
///
/// Eight bytes are classified and copied at once: a word of news text fits
/// in one or two such steps, where a byte loop pays a table lookup, a test
/// and a push per byte. The step writes all eight bytes and then cuts `out`
/// back to the run, so no byte past the run survives.
#[inline]
fn copy_word_run(bytes: &[u8], start: usize, out: &mut Vec<u8>) -> (usize, u8) {
    let mut end = start;
    let mut seen = 0u8;
    while let Some(eight) = bytes.get(end..end + 8) {
        let chunk = u64::from_le_bytes(eight.try_into().expect("eight bytes"));
        let word = word_lanes(chunk);
        let run = ((!word & lanes(0x80)).trailing_zeros() / 8) as usize;
        let kept = if run == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * run)) - 1
        };
        // A lowercase letter is a word byte with bits 6 and 5 set (digits
        // lack bit 6, capitals bit 5).
        if chunk & (chunk << 1) & (word >> 1) & kept != 0 {
            seen |= LOWER_BYTE;
        }
        // For ASCII letters and digits, setting bit 5 is lowercasing:
        // digits (0x30..=0x39) have it already.
        let from = out.len();
        out.extend_from_slice(&(chunk | lanes(0x20)).to_le_bytes());
        out.truncate(from + run);
        end += run;
        if run < 8 {
            return (end, seen | WORD_BYTE);
        }
    }
    // The last few bytes of the field, one at a time.
    while let Some(&next) = bytes.get(end) {
        let class = BYTE_CLASS[next as usize];
        if class & WORD_BYTE == 0 {
            break;
        }
        seen |= class;
        out.push(next | 0x20);
        end += 1;
    }
    (end, seen)
}

impl NormText {
    pub fn clear(&mut self) {
        self.norm.clear();
        self.anchors.clear();
        self.tokens.clear();
        self.text_start = 0;
        self.non_ascii = false;
    }

    /// Normalizes `title` and `text` into `self`, reusing its buffers.
    pub fn build(&mut self, title: &str, text: &str) {
        self.clear();
        self.building = std::mem::take(&mut self.norm).into_bytes();
        self.building.reserve(title.len() + text.len() + 1);
        let mut sentence = 0u32;
        self.anchors.push((0, 0));
        self.push_field(title, &mut sentence);
        // The title is its own sentence, whatever punctuation it ends with.
        sentence += 1;
        self.building.push(b'\n');
        self.text_start = self.building.len() as u32;
        self.anchors.push((self.text_start, 0));
        self.push_field(text, &mut sentence);
        self.norm = String::from_utf8(std::mem::take(&mut self.building))
            .expect("normalization appends whole characters only");
    }

    /// Appends a normalized character.
    #[inline]
    fn emit(&mut self, character: char) {
        if !character.is_ascii() {
            self.non_ascii = true;
        }
        let mut utf8 = [0u8; 4];
        self.building
            .extend_from_slice(character.encode_utf8(&mut utf8).as_bytes());
    }

    /// Records where normalized and source offsets meet again after a
    /// character whose normalized length differs from its source length.
    #[inline]
    fn realign(&mut self, emitted_from: usize, source_end: u32, source_len: usize) {
        if self.building.len() - emitted_from == source_len {
            return;
        }
        let norm_end = self.building.len() as u32;
        match self.anchors.last_mut() {
            Some(last) if last.0 == norm_end => last.1 = source_end,
            _ => self.anchors.push((norm_end, source_end)),
        }
    }

    fn start_token(
        &mut self,
        capitalized: bool,
        alphabetic: bool,
        breaks: &mut Breaks,
        sentence: &mut u32,
    ) {
        if breaks.hard || (breaks.period && breaks.space && (capitalized || !alphabetic)) {
            *sentence += 1;
        }
        *breaks = Breaks::default();
        let word_start = self.building.len() as u32;
        self.tokens.push(Token {
            norm_start: word_start,
            norm_end: word_start,
            sentence: *sentence,
            capitalized,
            no_lower: true,
            ascii: true,
        });
    }

    fn end_token(&mut self) {
        let end = self.building.len() as u32;
        if let Some(token) = self.tokens.last_mut() {
            token.norm_end = end;
        }
    }

    fn push_field(&mut self, field: &str, sentence: &mut u32) {
        let bytes = field.as_bytes();
        let mut in_word = false;
        let mut breaks = Breaks::default();
        let mut last_space = false;
        let mut index = 0;
        while index < bytes.len() {
            let byte = bytes[index];
            let class = BYTE_CLASS[byte as usize];
            if class & WORD_BYTE != 0 {
                if !in_word {
                    self.start_token(
                        byte.is_ascii_uppercase(),
                        byte.is_ascii_alphabetic(),
                        &mut breaks,
                        sentence,
                    );
                    in_word = true;
                }
                // The common case, a run of ASCII letters and digits, is
                // copied eight bytes at a time (see `word_run`).
                let (end, seen) = copy_word_run(bytes, index, &mut self.building);
                if seen & LOWER_BYTE != 0 {
                    if let Some(token) = self.tokens.last_mut() {
                        token.no_lower = false;
                    }
                }
                index = end;
                last_space = false;
                continue;
            }
            if class & PLAIN_BYTE != 0 {
                // Punctuation that only ends a word, handled exactly as
                // `push_other` would but without its character dispatch.
                if in_word {
                    in_word = false;
                    self.end_token();
                }
                self.building.push(byte);
                last_space = false;
                index += 1;
                continue;
            }
            if byte == b' ' {
                // The next most common byte, handled here exactly as
                // `push_other` would but without its character dispatch.
                if in_word {
                    in_word = false;
                    self.end_token();
                }
                breaks.space = true;
                let emitted_from = self.building.len();
                if !last_space {
                    self.building.push(b' ');
                    last_space = true;
                }
                index += 1;
                self.realign(emitted_from, index as u32, 1);
                continue;
            }
            let character = if byte < 0x80 {
                char::from(byte)
            } else {
                field[index..].chars().next().unwrap_or('\u{fffd}')
            };
            let source_len = character.len_utf8();
            index += source_len;
            let emitted_from = self.building.len();
            self.push_other(
                character,
                &mut in_word,
                &mut breaks,
                &mut last_space,
                sentence,
            );
            self.realign(emitted_from, index as u32, source_len);
        }
        if in_word {
            self.end_token();
        }
    }

    /// Handles one character outside a run of ASCII letters and digits.
    fn push_other(
        &mut self,
        character: char,
        in_word: &mut bool,
        breaks: &mut Breaks,
        last_space: &mut bool,
        sentence: &mut u32,
    ) {
        {
            if character.is_alphanumeric() {
                if !*in_word {
                    self.start_token(
                        character.is_uppercase(),
                        character.is_alphabetic(),
                        breaks,
                        sentence,
                    );
                    *in_word = true;
                }
                if let Some(token) = self.tokens.last_mut() {
                    token.ascii = false;
                    if character.is_lowercase() {
                        token.no_lower = false;
                    }
                }
                for lower in character.to_lowercase() {
                    self.emit(lower);
                }
                *last_space = false;
                return;
            }
            if *in_word {
                *in_word = false;
                self.end_token();
            }
            match character {
                '.' => {
                    let word = self
                        .tokens
                        .last()
                        .filter(|token| token.norm_end == self.building.len() as u32)
                        .and_then(|token| {
                            // A token is whole characters, so this is valid.
                            std::str::from_utf8(
                                &self.building[token.norm_start as usize..token.norm_end as usize],
                            )
                            .ok()
                        });
                    // "U.S." and "Mr." do not end a sentence; other periods
                    // end one when a capitalized word follows.
                    let abbreviation = match word {
                        Some(word) => word.chars().nth(1).is_none() || is_abbreviation(word),
                        None => false,
                    };
                    if !abbreviation {
                        breaks.period = true;
                        breaks.space = false;
                    }
                    self.emit('.');
                    *last_space = false;
                }
                '!' | '?' | ';' => {
                    breaks.hard = true;
                    self.emit(character);
                    *last_space = false;
                }
                '\n' | '\r' | '\u{2029}' => {
                    breaks.hard = true;
                    if !*last_space {
                        self.emit(' ');
                        *last_space = true;
                    }
                }
                _ if character.is_whitespace() => {
                    breaks.space = true;
                    if !*last_space {
                        self.emit(' ');
                        *last_space = true;
                    }
                }
                '\u{2019}' | '\u{2018}' | '`' | '\u{b4}' => {
                    self.emit('\'');
                    *last_space = false;
                }
                '\u{201c}' | '\u{201d}' | '\u{ab}' | '\u{bb}' | '\u{201e}' => {
                    self.emit('"');
                    *last_space = false;
                }
                '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' => {
                    self.emit('-');
                    *last_space = false;
                }
                _ => {
                    for lower in character.to_lowercase() {
                        self.emit(lower);
                    }
                    *last_space = false;
                }
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

    /// The source offset of a normalized offset at a character boundary.
    fn source_offset(&self, norm_offset: u32) -> usize {
        let index = self
            .anchors
            .partition_point(|anchor| anchor.0 <= norm_offset)
            .saturating_sub(1);
        let (norm, source) = self.anchors.get(index).copied().unwrap_or((0, 0));
        (source + norm_offset.saturating_sub(norm)) as usize
    }

    /// The byte range in the original field of a normalized byte range.
    fn source_range(&self, field: &str, norm_start: u32, norm_end: u32) -> (usize, usize) {
        let mut start = self.source_offset(norm_start).min(field.len());
        let mut end = self.source_offset(norm_end).min(field.len()).max(start);
        // A range inside a character whose normalized form is longer
        // (rare lowercase expansions) is widened to whole characters.
        while !field.is_char_boundary(start) {
            start -= 1;
        }
        while !field.is_char_boundary(end) {
            end += 1;
        }
        (start, end)
    }

    /// The character range (what evidence offsets count) in `field` of a
    /// normalized byte range. Counting is only done for evidence, so the
    /// per-byte map stays one array.
    pub fn char_range(&self, field: &str, norm_start: u32, norm_end: u32) -> (usize, usize) {
        let (start, end) = self.source_range(field, norm_start, norm_end);
        let start_chars = field
            .get(..start)
            .map_or(0, |prefix| prefix.chars().count());
        let span_chars = field.get(start..end).map_or(0, |span| span.chars().count());
        (start_chars, start_chars + span_chars)
    }

    /// The original text of a normalized byte range of `field` (the title
    /// or the text the range falls in).
    pub fn source_slice<'a>(&self, field: &'a str, norm_start: u32, norm_end: u32) -> &'a str {
        let (start, end) = self.source_range(field, norm_start, norm_end);
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
        let (start, end) = norm.char_range(text, position, position + "санкции".len() as u32);
        let slice: String = text.chars().skip(start).take(end - start).collect();
        assert_eq!(slice, "Санкции");
        assert_eq!(
            norm.source_slice(text, position, position + "санкции".len() as u32),
            "Санкции"
        );
        assert_eq!(norm.field_of(position), EvidenceField::Text);
    }
}
