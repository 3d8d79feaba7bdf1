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
    /// Built by appending whole slices of the source and whole characters,
    /// so it never needs a UTF-8 check.
    pub norm: String,
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

/// Where normalization of a field stands between characters.
#[derive(Clone, Copy, Debug, Default)]
struct FieldState {
    in_word: bool,
    breaks: Breaks,
    last_space: bool,
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
/// `!`, `?` and `;`: copied, and they end the sentence.
const HARD_BYTE: u8 = 8;

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
        if matches!(value, b'!' | b'?' | b';') {
            table[byte] |= HARD_BYTE;
        }
        byte += 1;
    }
    table
};

/// [`is_abbreviation`] of a word of up to four ASCII letters and digits in
/// any case.
fn is_abbreviation_ascii(word: &[u8]) -> bool {
    let mut lower = [0u8; 4];
    let lower = &mut lower[..word.len()];
    lower.copy_from_slice(word);
    lower.make_ascii_lowercase();
    std::str::from_utf8(lower).is_ok_and(is_abbreviation)
}

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

/// `char::is_alphanumeric`, answered at once for the punctuation news
/// text is full of (curly quotes, dashes, ellipses: the block U+2000 to
/// U+206F, which holds no letter or digit) rather than by a table search.
#[inline]
pub(crate) fn is_word_char(character: char) -> bool {
    !('\u{2000}'..='\u{206f}').contains(&character) && character.is_alphanumeric()
}

/// Eight copies of a byte.
const fn lanes(byte: u8) -> u64 {
    u64::from_le_bytes([byte; 8])
}

/// For each byte lane of `chunk` below 0x80, the lane's top bit set when
/// the byte is at least `low` (lanes of 0x80 and above must be masked out
/// by the caller). No lane carries into the next: a lane holds at most
/// 0x7f + 0x7f.
#[inline]
fn lanes_at_least(chunk: u64, low: u8) -> u64 {
    ((chunk & lanes(0x7f)) + lanes(0x80 - low)) & lanes(0x80)
}

/// The top bit of each byte lane of `chunk` that is an ASCII letter or
/// digit.
#[inline]
fn word_lanes(chunk: u64) -> u64 {
    let ascii = !chunk & lanes(0x80);
    let digit = lanes_at_least(chunk, b'0') & !lanes_at_least(chunk, b'9' + 1);
    // Setting bit 5 folds capitals onto lowercase letters; no other byte
    // lands in a..z by it.
    let folded = chunk | lanes(0x20);
    let letter = lanes_at_least(folded, b'a') & !lanes_at_least(folded, b'z' + 1);
    (digit | letter) & ascii
}

/// A mask of the low `len` bytes of a u64 (`len` at most 8).
#[inline]
pub(crate) fn low_bytes(len: usize) -> u64 {
    if len >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * len)) - 1
    }
}

/// Eight bytes from `at`, little-endian, zeros past the end of `bytes`.
#[inline]
fn load_padded(bytes: &[u8], at: usize) -> u64 {
    match bytes.get(at..at + 8) {
        Some(eight) => u64::from_le_bytes(eight.try_into().expect("eight bytes")),
        None => {
            let mut eight = [0u8; 8];
            let rest = bytes.get(at..).unwrap_or(&[]);
            eight[..rest.len()].copy_from_slice(rest);
            u64::from_le_bytes(eight)
        }
    }
}

/// Ends the last word at normalized offset `end`.
#[inline]
fn end_token(tokens: &mut [Token], end: usize) {
    if let Some(token) = tokens.last_mut() {
        token.norm_end = end as u32;
    }
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
        self.norm.reserve(title.len() + text.len() + 1);
        let mut sentence = 0u32;
        self.anchors.push((0, 0));
        self.push_field(title, &mut sentence);
        // The title is its own sentence, whatever punctuation it ends with.
        sentence += 1;
        self.norm.push('\n');
        self.text_start = self.norm.len() as u32;
        self.anchors.push((self.text_start, 0));
        self.push_field(text, &mut sentence);
        // The ASCII runs were copied as they are; everything else was
        // emitted lowercase. One pass over the whole text lowercases them
        // many bytes at a time, where a pass per run stalls on the short
        // runs between curly quotes and line breaks.
        self.norm.make_ascii_lowercase();
    }

    /// Appends a normalized character.
    #[inline]
    fn emit(&mut self, character: char) {
        if !character.is_ascii() {
            self.non_ascii = true;
        }
        self.norm.push(character);
    }

    /// Records where normalized and source offsets meet again after a
    /// character whose normalized length differs from its source length.
    #[inline]
    fn realign(&mut self, emitted_from: usize, source_end: u32, source_len: usize) {
        if self.norm.len() - emitted_from == source_len {
            return;
        }
        self.realign_at(self.norm.len(), source_end);
    }

    /// Records that normalized offset `norm_end` is source offset
    /// `source_end`.
    fn realign_at(&mut self, norm_end: usize, source_end: u32) {
        let norm_end = norm_end as u32;
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
        let word_start = self.norm.len() as u32;
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
        end_token(&mut self.tokens, self.norm.len());
    }

    fn push_field(&mut self, field: &str, sentence: &mut u32) {
        let bytes = field.as_bytes();
        let mut state = FieldState::default();
        let mut index = 0;
        while index < bytes.len() {
            index = self.push_plain(field, index, &mut state, sentence);
            let Some(&byte) = bytes.get(index) else {
                break;
            };
            let character = if byte < 0x80 {
                char::from(byte)
            } else {
                field[index..].chars().next().unwrap_or('\u{fffd}')
            };
            let source_len = character.len_utf8();
            index += source_len;
            let emitted_from = self.norm.len();
            self.push_other(
                character,
                &mut state.in_word,
                &mut state.breaks,
                &mut state.last_space,
                sentence,
            );
            self.realign(emitted_from, index as u32, source_len);
        }
        if state.in_word {
            self.end_token();
        }
    }

    /// Normalizes the bytes from `start` up to the first one that needs
    /// more than lowercasing (a sentence end, a second space, a line break,
    /// anything non-ASCII...), whose index it returns.
    ///
    /// Those bytes map one to one, so they are found and split into words
    /// in one tight scan, then copied and lowercased in bulk; this is
    /// where almost all of an English article goes. Words, breaks and
    /// spaces are tracked exactly as `push_other` would.
    fn push_plain(
        &mut self,
        field: &str,
        start: usize,
        state: &mut FieldState,
        sentence: &mut u32,
    ) -> usize {
        // Locals rather than fields: the compiler keeps them in registers
        // instead of storing each change.
        let FieldState {
            mut in_word,
            mut breaks,
            mut last_space,
        } = *state;
        let bytes = field.as_bytes();
        let out_start = self.norm.len();
        let norm_at = |index: usize| (out_start + index - start) as u32;
        let mut tokens = std::mem::take(&mut self.tokens);
        let mut index = start;
        while let Some(&byte) = bytes.get(index) {
            let class = BYTE_CLASS[byte as usize];
            if class & WORD_BYTE != 0 {
                let run_start = index;
                let mut seen = class;
                index += 1;
                // The rest of the word, eight bytes at a time: its length
                // comes from a bit count rather than from a branch per
                // byte, which mispredicts at every word's end.
                loop {
                    // Past the field's end the bytes read as zeros, which
                    // end a word like any other non-word byte.
                    let chunk = load_padded(bytes, index);
                    let word = word_lanes(chunk);
                    let non_word = !word & lanes(0x80);
                    let run = (non_word.trailing_zeros() / 8) as usize;
                    // A lowercase letter is a word byte with bits 6 and 5
                    // set (digits lack bit 6, capitals bit 5); the lanes
                    // up to the first non-word byte are the run's.
                    // Without a branch: whether a word has a lowercase
                    // letter in its first eight bytes is anyone's guess.
                    let in_run = non_word ^ non_word.wrapping_sub(1);
                    let lower = chunk & (chunk << 1) & (word >> 1) & in_run != 0;
                    seen |= LOWER_BYTE * u8::from(lower);
                    index += run;
                    if run < 8 {
                        break;
                    }
                }
                last_space = false;
                if in_word {
                    // The word went on from non-ASCII letters before the
                    // run; it ends where the next character says.
                    if seen & LOWER_BYTE != 0 {
                        if let Some(token) = tokens.last_mut() {
                            token.no_lower = false;
                        }
                    }
                    continue;
                }
                let capitalized = byte.is_ascii_uppercase();
                if breaks.hard
                    || (breaks.period
                        && breaks.space
                        && (capitalized || !byte.is_ascii_alphabetic()))
                {
                    *sentence += 1;
                }
                breaks = Breaks::default();
                // The word is pushed whole: only a non-ASCII letter right
                // after it can extend it (then `push_other` goes on with it).
                tokens.push(Token {
                    norm_start: norm_at(run_start),
                    norm_end: norm_at(index),
                    sentence: *sentence,
                    capitalized,
                    no_lower: seen & LOWER_BYTE == 0,
                    ascii: true,
                });
                match bytes.get(index) {
                    // Most words end at a single space: taken here, as the
                    // space branch below would, without another dispatch.
                    Some(b' ') => {
                        in_word = false;
                        breaks.space = true;
                        last_space = true;
                        index += 1;
                    }
                    next => in_word = next.is_some_and(|&next| next >= 0x80),
                }
                continue;
            }
            if byte == b' ' {
                if last_space {
                    // Collapsed: not one to one.
                    break;
                }
                if in_word {
                    in_word = false;
                    end_token(&mut tokens, norm_at(index) as usize);
                }
                breaks.space = true;
                last_space = true;
                index += 1;
                continue;
            }
            if class & PLAIN_BYTE != 0 {
                if in_word {
                    in_word = false;
                    end_token(&mut tokens, norm_at(index) as usize);
                }
                last_space = false;
                index += 1;
                continue;
            }
            // Sentence ends are copied too; handled here exactly as
            // `push_other` would, as long as the word before a period is
            // ASCII and in this run (else `push_other` looks at it).
            if class & HARD_BYTE != 0 || byte == b'.' {
                if in_word {
                    break;
                }
                if byte == b'.' {
                    let before = tokens
                        .last()
                        .filter(|token| token.norm_end == norm_at(index));
                    let abbreviation = match before {
                        None => false,
                        Some(token) if token.ascii && token.norm_start >= out_start as u32 => {
                            let len = (token.norm_end - token.norm_start) as usize;
                            let word = &bytes[index - len..index];
                            len == 1 || (len <= 4 && is_abbreviation_ascii(word))
                        }
                        Some(_) => break,
                    };
                    if !abbreviation {
                        breaks.period = true;
                        breaks.space = false;
                    }
                } else {
                    breaks.hard = true;
                }
                last_space = false;
                index += 1;
                continue;
            }
            break;
        }
        if in_word {
            // The word may go on in non-ASCII letters; if not, the next
            // character ends it where it is now.
            end_token(&mut tokens, norm_at(index) as usize);
        }
        self.tokens = tokens;
        *state = FieldState {
            in_word,
            breaks,
            last_space,
        };
        // The run is ASCII, so it starts and ends on character boundaries.
        // It is lowercased with the rest of the text at the end.
        self.norm.push_str(&field[start..index]);
        index
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
            if is_word_char(character) {
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
                        .filter(|token| token.norm_end == self.norm.len() as u32)
                        .and_then(|token| {
                            self.norm
                                .get(token.norm_start as usize..token.norm_end as usize)
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

    /// Periods after ASCII words are settled in the fast path, those after
    /// words with other letters in the general one: both number alike.
    #[test]
    fn sentence_ends_after_ascii_and_other_words() {
        let mut norm = NormText::default();
        norm.build(
            "T",
            "Sent to Zürich. Then Dr. Müller left; CAPT. Ono came! São Paulo. Corp. Ltd. e.g. Ok?",
        );
        let sentences: Vec<(&str, u32)> = words(&norm);
        let sentence_of = |word: &str| {
            sentences
                .iter()
                .find(|(candidate, _)| *candidate == word)
                .map(|(_, sentence)| *sentence)
                .unwrap()
        };
        assert_eq!(sentence_of("sent"), 1);
        assert_eq!(sentence_of("zürich"), 1);
        assert_eq!(sentence_of("then"), 2);
        // "Dr." and "CAPT." are abbreviations, in any case.
        assert_eq!(sentence_of("müller"), 2);
        assert_eq!(sentence_of("capt"), 3);
        assert_eq!(sentence_of("ono"), 3);
        assert_eq!(sentence_of("são"), 4);
        assert_eq!(sentence_of("corp"), 5);
        // "Corp." and "Ltd." do not end a sentence; "e.g." is single letters.
        assert_eq!(sentence_of("ltd"), 5);
        assert_eq!(sentence_of("ok"), 5);
    }

    #[test]
    fn the_punctuation_block_holds_no_word_character() {
        for character in '\u{2000}'..='\u{206f}' {
            assert!(!character.is_alphanumeric(), "{character:?}");
        }
        for character in ['a', 'Ü', 'я', '7', '中', '\u{2071}'] {
            assert_eq!(is_word_char(character), character.is_alphanumeric());
        }
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
