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

impl Breaks {
    /// Whether the next word may start a sentence (a space alone never
    /// makes it).
    #[inline]
    fn pending(self) -> bool {
        self.period || self.hard
    }
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

/// Arabic-script marks that news writes or leaves out at will: the short
/// vowels, shadda and sukun (U+064B to U+065F), the superscript alef and the
/// tatweel that stretches a word. Dropped inside words, in the article and
/// in the terms alike, so "تسلّم" matches the term "تسلم".
pub(crate) fn is_optional_mark(character: char) -> bool {
    matches!(character, '\u{064b}'..='\u{065f}' | '\u{0670}' | '\u{0640}')
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

/// A mask of the low `len` bytes of a u64 (`len` at most 8, else all
/// eight): a table load, where a shift by a variable count and a select
/// took a handful of steps on every word.
#[inline]
pub(crate) fn low_bytes(len: usize) -> u64 {
    LOW_BYTES[len.min(8)]
}

static LOW_BYTES: [u64; 9] = {
    let mut masks = [u64::MAX; 9];
    let mut len = 0;
    while len < 8 {
        masks[len] = (1u64 << (8 * len)) - 1;
        len += 1;
    }
    masks
};

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

/// A mask of the low `len` bits of a u64 (`len` at most 64).
#[inline]
fn low_bits(len: usize) -> u64 {
    if len >= 64 {
        u64::MAX
    } else {
        (1u64 << len) - 1
    }
}

/// The length of the run of ASCII letters and digits at `at`, and whether
/// it holds a lowercase letter: eight bytes at a time, its length from a
/// bit count rather than a branch per byte.
fn ascii_run(bytes: &[u8], at: usize) -> (usize, bool) {
    let mut index = at;
    let mut lower = false;
    loop {
        // Past the field's end the bytes read as zeros, which end a word
        // like any other non-word byte.
        let chunk = load_padded(bytes, index);
        let word = word_lanes(chunk);
        let non_word = !word & lanes(0x80);
        let run = (non_word.trailing_zeros() / 8) as usize;
        // A lowercase letter is a word byte with bits 6 and 5 set (digits
        // lack bit 6, capitals bit 5); the lanes up to the first non-word
        // byte are the run's.
        let in_run = non_word ^ non_word.wrapping_sub(1);
        lower |= chunk & (chunk << 1) & (word >> 1) & in_run != 0;
        index += run;
        if run < 8 {
            return (index - at, lower);
        }
    }
}

/// The classes of 64 bytes of a field from an offset, a bit per byte (bit
/// `i` for the byte at offset + `i`), which `push_plain` reads its words
/// and gaps off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Classes {
    /// ASCII letters and digits.
    word: u64,
    /// ASCII lowercase letters.
    lower: u64,
    /// ASCII capitals.
    upper: u64,
    /// ASCII whitespace, which normalizes to a space (the line breaks and
    /// tabs are turned into spaces when the text is finished).
    space: u64,
    /// What may end a sentence: `.`, `!`, `?`, `;` and the line breaks.
    ends: u64,
    /// What needs `push_other`: non-ASCII bytes and the backtick; and
    /// every position past the field's end.
    stop: u64,
}

impl Classes {
    #[inline]
    fn of(bytes: &[u8], at: usize) -> Classes {
        let mut padded = [0u8; 64];
        let window: &[u8; 64] = match bytes.get(at..at + 64) {
            Some(window) => window.try_into().expect("64 bytes"),
            None => {
                let rest = &bytes[at..];
                padded[..rest.len()].copy_from_slice(rest);
                &padded
            }
        };
        let mut classes = Classes::of_window(window);
        classes.stop |= !low_bits(bytes.len() - at);
        classes
    }

    /// Sixteen bytes per step with the SSE2 instructions every x86_64
    /// processor has: a comparison per class, then a byte's top bit each.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[inline]
    fn of_window(window: &[u8; 64]) -> Classes {
        use safe_arch::{
            add_i8_m128i, bitor_m128i, cmp_eq_mask_i8_m128i, cmp_gt_mask_i8_m128i,
            load_unaligned_m128i, m128i, move_mask_i8_m128i, set_splat_i8_m128i,
        };
        let splat = |byte: u8| set_splat_i8_m128i(byte as i8);
        // The lanes holding a byte in `low..low + count` (an ASCII range):
        // shifted so that the range starts at -128, where one signed
        // comparison bounds it; no byte of 0x80 or above lands there.
        let within = |bytes: m128i, low: u8, count: u8| {
            cmp_gt_mask_i8_m128i(
                splat(0x80u8.wrapping_add(count)),
                add_i8_m128i(bytes, splat(0x80u8.wrapping_sub(low))),
            )
        };
        let equal = |bytes: m128i, byte: u8| cmp_eq_mask_i8_m128i(bytes, splat(byte));
        let bits = |lanes: m128i| u64::from(move_mask_i8_m128i(lanes) as u16);
        let mut classes = Classes::default();
        for (step, sixteen) in window.chunks_exact(16).enumerate() {
            let bytes = load_unaligned_m128i(sixteen.try_into().expect("16 bytes"));
            let lower = within(bytes, b'a', 26);
            let upper = within(bytes, b'A', 26);
            // Setting bit 5 folds capitals onto lowercase letters.
            let letter = within(bitor_m128i(bytes, splat(0x20)), b'a', 26);
            let word = bitor_m128i(letter, within(bytes, b'0', 10));
            let ends = bitor_m128i(
                bitor_m128i(
                    bitor_m128i(equal(bytes, b'.'), equal(bytes, b'!')),
                    bitor_m128i(equal(bytes, b'?'), equal(bytes, b';')),
                ),
                bitor_m128i(equal(bytes, b'\n'), equal(bytes, b'\r')),
            );
            // Tab, line feed, vertical tab, form feed, carriage return.
            let space = bitor_m128i(equal(bytes, b' '), within(bytes, b'\t', 5));
            // Non-ASCII bytes have their top bit set already.
            let stop = bitor_m128i(bytes, equal(bytes, b'`'));
            let shift = 16 * step;
            classes.word |= bits(word) << shift;
            classes.lower |= bits(lower) << shift;
            classes.upper |= bits(upper) << shift;
            classes.space |= bits(space) << shift;
            classes.ends |= bits(ends) << shift;
            classes.stop |= bits(stop) << shift;
        }
        classes
    }

    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    #[inline]
    fn of_window(window: &[u8; 64]) -> Classes {
        Classes::of_window_bytewise(window)
    }

    /// A byte at a time from [`BYTE_CLASS`]: elsewhere than x86_64, and the
    /// reference the SSE2 version is tested against.
    #[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
    fn of_window_bytewise(window: &[u8; 64]) -> Classes {
        let mut classes = Classes::default();
        for (position, &byte) in window.iter().enumerate() {
            let bit = 1u64 << position;
            let class = BYTE_CLASS[byte as usize];
            let set = |mask: &mut u64, yes: bool| *mask |= if yes { bit } else { 0 };
            set(&mut classes.word, class & WORD_BYTE != 0);
            set(&mut classes.lower, class & LOWER_BYTE != 0);
            set(&mut classes.upper, byte.is_ascii_uppercase());
            let whitespace = byte == b' ' || (b'\t'..=b'\r').contains(&byte);
            set(&mut classes.space, whitespace);
            let line_break = byte == b'\n' || byte == b'\r';
            set(
                &mut classes.ends,
                class & HARD_BYTE != 0 || byte == b'.' || line_break,
            );
            let copied =
                class & (WORD_BYTE | PLAIN_BYTE | HARD_BYTE) != 0 || byte == b'.' || whitespace;
            set(&mut classes.stop, !copied);
        }
        classes
    }
}

/// Pushes the words whose bits `batch` holds (whole runs of word bits,
/// none reaching the window's last byte), all in `sentence`, the window
/// starting at normalized offset `norm_base`; returns the window offset
/// where the last one ends. A word costs a few bit operations: no byte of
/// it is read.
#[inline(never)]
fn push_words(
    tokens: &mut Vec<Token>,
    mut batch: u64,
    classes: &Classes,
    norm_base: u32,
    sentence: u32,
) -> usize {
    let (lower, upper) = (classes.lower, classes.upper);
    let mut end = 0;
    while batch != 0 {
        let start_bit = batch & batch.wrapping_neg();
        // The word's bits cleared, and the bit past it set.
        let after = batch + start_bit;
        let word = batch & !after;
        end = after.trailing_zeros();
        tokens.push(Token {
            norm_start: norm_base.wrapping_add(batch.trailing_zeros()),
            norm_end: norm_base.wrapping_add(end),
            sentence,
            capitalized: upper & start_bit != 0,
            no_lower: lower & word == 0,
            ascii: true,
        });
        batch &= after;
    }
    end as usize
}

/// The ASCII byte that `push_other` turns the typographic quote or dash at
/// `at` into (the commonest non-ASCII characters of English news).
#[inline]
fn typographic(bytes: &[u8], at: usize) -> Option<u8> {
    match bytes.get(at..at + 3)? {
        [0xe2, 0x80, 0x98 | 0x99] => Some(b'\''),
        [0xe2, 0x80, 0x9c..=0x9e] => Some(b'"'),
        [0xe2, 0x80, 0x90..=0x94] => Some(b'-'),
        _ => None,
    }
}

/// What [`NormText::push_plain`] tracks across a run of plain bytes.
struct PlainScan<'a> {
    bytes: &'a [u8],
    /// Where the current run starts in the normalized text and in the
    /// field: its bytes, from `start` on, are not copied to the text yet.
    out_start: usize,
    start: usize,
    tokens: Vec<Token>,
    breaks: Breaks,
    last_space: bool,
    sentence: u32,
}

impl PlainScan<'_> {
    /// Goes on with a word begun in non-ASCII letters through the ASCII
    /// letters at `index`. `Ok` when a space or plain punctuation ends it
    /// (taken in): where the scan goes on. `Err` where what ends it (a
    /// period, a non-ASCII letter) is `push_other`'s to judge.
    #[inline]
    fn finish_word(&mut self, mut index: usize) -> Result<usize, usize> {
        let (run, lower) = ascii_run(self.bytes, index);
        if run > 0 {
            if lower {
                if let Some(token) = self.tokens.last_mut() {
                    token.no_lower = false;
                }
            }
            self.last_space = false;
            index += run;
        }
        match self.bytes.get(index) {
            Some(&byte) if byte == b' ' || BYTE_CLASS[byte as usize] & PLAIN_BYTE != 0 => {
                let end = self.norm_at(index) as usize;
                end_token(&mut self.tokens, end);
                self.breaks.space |= byte == b' ';
                self.last_space = byte == b' ';
                Ok(index + 1)
            }
            _ => Err(index),
        }
    }

    /// At a window's stop `stop` (field byte `at`) that the run can fold
    /// and go past: where the next run starts and what stands in the text
    /// for the bytes before it. Collapsed whitespace is dropped (a line
    /// break among it still breaks the sentence); a curly quote or a dash,
    /// three bytes, becomes one character. `None` for any other stop.
    #[inline]
    fn fold_stop(
        &mut self,
        classes: &Classes,
        doubled: u64,
        stop: usize,
        at: usize,
    ) -> Option<(usize, Option<char>)> {
        if doubled >> stop & 1 != 0 {
            let skipped = (!(classes.space >> stop)).trailing_zeros() as usize;
            let dropped = low_bits(skipped) << stop;
            self.breaks.hard |= classes.ends & dropped != 0;
            self.breaks.space |= classes.space & !classes.ends & dropped != 0;
            Some((at + skipped, None))
        } else if let Some(mapped) = typographic(self.bytes, at) {
            self.last_space = false;
            Some((at + 3, Some(char::from(mapped))))
        } else {
            None
        }
    }

    /// The normalized offset of field byte `index` of the current run.
    /// Wrapping: a window's base may lie before the run's start, and only
    /// offsets inside the run, added to it, are ever stored.
    #[inline]
    fn norm_at(&self, index: usize) -> u32 {
        (self.out_start as u32)
            .wrapping_add(index as u32)
            .wrapping_sub(self.start as u32)
    }

    /// Takes in the bytes `from..to`, which lie between words (spaces and
    /// punctuation), one at a time: for the gaps that hold a sentence end,
    /// or follow one. `Err` gives the index of a period that `push_other`
    /// must judge.
    #[inline(never)]
    fn gap(&mut self, from: usize, to: usize) -> Result<(), usize> {
        for index in from..to {
            match self.bytes[index] {
                // What `push_other` does with whitespace that is not
                // collapsed (a second one stops the run).
                b' ' | b'\t' | 0x0b | 0x0c => {
                    self.breaks.space = true;
                    self.last_space = true;
                    continue;
                }
                b'\n' | b'\r' => {
                    self.breaks.hard = true;
                    self.last_space = true;
                    continue;
                }
                b'.' => {
                    let at = self.norm_at(index);
                    let before = self.tokens.last().filter(|token| token.norm_end == at);
                    // "U.S." and "Mr." do not end a sentence.
                    let abbreviation = match before {
                        None => false,
                        Some(token) if token.ascii && token.norm_start >= self.out_start as u32 => {
                            let len = (token.norm_end - token.norm_start) as usize;
                            let word = &self.bytes[index - len..index];
                            len == 1 || (len <= 4 && is_abbreviation_ascii(word))
                        }
                        Some(_) => return Err(index),
                    };
                    if !abbreviation {
                        self.breaks.period = true;
                        self.breaks.space = false;
                    }
                }
                b'!' | b'?' | b';' => self.breaks.hard = true,
                _ => {}
            }
            self.last_space = false;
        }
        Ok(())
    }

    /// Pushes the ASCII word of `len` bytes at `at`, in a new sentence if
    /// the breaks since the last word end one.
    #[inline]
    fn word(&mut self, at: usize, len: usize, no_lower: bool) {
        let first = self.bytes[at];
        let breaks = self.breaks;
        if breaks.hard
            || (breaks.period
                && breaks.space
                && (first.is_ascii_uppercase() || !first.is_ascii_alphabetic()))
        {
            self.sentence += 1;
        }
        self.breaks = Breaks::default();
        self.last_space = false;
        self.push(at, len, no_lower);
    }

    /// Pushes the ASCII word of `len` bytes at `at` in the current
    /// sentence, no break having been seen since the last word.
    #[inline]
    fn push(&mut self, at: usize, len: usize, no_lower: bool) {
        let norm_start = self.norm_at(at);
        self.tokens.push(Token {
            norm_start,
            norm_end: norm_start + len as u32,
            sentence: self.sentence,
            capitalized: self.bytes[at].is_ascii_uppercase(),
            no_lower,
            ascii: true,
        });
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
        self.build_with::<true>(title, text);
    }

    /// [`NormText::build`], with `PLAIN_RUNS` false a character at a time
    /// (the reference the run scan is tested against).
    fn build_with<const PLAIN_RUNS: bool>(&mut self, title: &str, text: &str) {
        self.clear();
        self.norm.reserve(title.len() + text.len() + 1);
        let mut sentence = 0u32;
        self.anchors.push((0, 0));
        self.push_field::<PLAIN_RUNS>(title, &mut sentence);
        // The title is its own sentence, whatever punctuation it ends with.
        sentence += 1;
        self.norm.push('\n');
        self.text_start = self.norm.len() as u32;
        self.anchors.push((self.text_start, 0));
        self.push_field::<PLAIN_RUNS>(text, &mut sentence);
        self.finish_runs();
    }

    /// The ASCII runs were copied as they are, capitals and line breaks
    /// included; everything else was emitted normalized. One pass over the
    /// whole text lowercases the capitals and turns the whitespace (which
    /// the runs only hold where it was not collapsed) into spaces, many
    /// bytes at a time, where a pass per run stalls on the short runs
    /// between curly quotes.
    fn finish_runs(&mut self) {
        let separator = self.text_start as usize - 1;
        let mut bytes = std::mem::take(&mut self.norm).into_bytes();
        for byte in &mut bytes {
            let value = *byte;
            *byte = if value.wrapping_sub(b'\t') < 5 {
                b' '
            } else {
                value | u8::from(value.wrapping_sub(b'A') < 26) << 5
            };
        }
        bytes[separator] = b'\n';
        // ASCII bytes were replaced by ASCII bytes: the text is still UTF-8.
        self.norm = String::from_utf8(bytes)
            .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned());
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

    fn push_field<const PLAIN_RUNS: bool>(&mut self, field: &str, sentence: &mut u32) {
        let bytes = field.as_bytes();
        let mut state = FieldState::default();
        let mut index = 0;
        while index < bytes.len() {
            if PLAIN_RUNS {
                index = self.push_plain(field, index, &mut state, sentence);
            }
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

    /// Normalizes the field from `start` up to the first byte that needs
    /// the general path (non-ASCII other than a typographic quote or dash,
    /// the backtick, a period after a word that path began), whose index
    /// it returns.
    ///
    /// The bytes are classified 64 at a time into bit masks ([`Classes`])
    /// and the words read off the masks with bit scans. Runs that map one
    /// to one are copied in bulk (lowercased, and their whitespace turned
    /// into spaces, with the rest of the text at the end); collapsed
    /// whitespace and typographic quotes and dashes end a run and start
    /// the next without leaving the window. This is where almost all of
    /// an English article goes. Words, breaks and spaces are tracked
    /// exactly as `push_other` would.
    fn push_plain(
        &mut self,
        field: &str,
        start: usize,
        state: &mut FieldState,
        sentence: &mut u32,
    ) -> usize {
        let bytes = field.as_bytes();
        let mut scan = PlainScan {
            bytes,
            out_start: self.norm.len(),
            start,
            tokens: std::mem::take(&mut self.tokens),
            breaks: state.breaks,
            last_space: state.last_space,
            sentence: *sentence,
        };
        let mut in_word = state.in_word;
        let mut index = start;
        'scan: {
            if in_word {
                match scan.finish_word(index) {
                    Ok(next) => {
                        in_word = false;
                        index = next;
                    }
                    Err(at) => {
                        index = at;
                        break 'scan;
                    }
                }
            }
            // The end of a word longer than a window, pushed by itself.
            let mut word_end = usize::MAX;
            'window: loop {
                let classes = Classes::of(bytes, index);
                // Whitespace after whitespace is collapsed: not one to one.
                let doubled = classes.space & (classes.space << 1 | u64::from(scan.last_space));
                let stops = classes.stop | doubled;
                // Where the window's bytes still to be taken in start: past
                // a collapse or a typographic quote, the window goes on.
                let mut from = 0;
                loop {
                    let stop = (stops & !low_bits(from)).trailing_zeros() as usize;
                    let span = low_bits(stop) & !low_bits(from);
                    let words = classes.word & span;
                    let ends = classes.ends & span;
                    // Where the gaps that need a byte-at-a-time look begin:
                    // at the next sentence end, or at once while breaks seen
                    // before wait for a word. Between words with nothing of
                    // the kind between them, breaks stay as they are (none)
                    // whatever spaces and commas lie there.
                    let mut next_end = if scan.breaks.pending() {
                        from
                    } else {
                        ends.trailing_zeros() as usize
                    };
                    // The words that end inside the window: all but one that
                    // runs into its last byte.
                    let complete = words & u64::MAX.checked_shr(words.leading_ones()).unwrap_or(0);
                    let mut gap_start = from;
                    let mut rest = words;
                    loop {
                        // The words before the next sentence end, in a batch.
                        let batch = rest & complete & low_bits(next_end);
                        if batch != 0 {
                            let norm_base = scan.norm_at(index);
                            gap_start = push_words(
                                &mut scan.tokens,
                                batch,
                                &classes,
                                norm_base,
                                scan.sentence,
                            );
                            rest &= !batch;
                        }
                        if rest == 0 {
                            break;
                        }
                        let first = rest.trailing_zeros() as usize;
                        let len = (!(words >> first)).trailing_zeros() as usize;
                        if first + len == 64 {
                            // The word may go on past the window: the next
                            // one starts with it, unless it fills this one.
                            if next_end <= first {
                                if let Err(at) = scan.gap(index + gap_start, index + first) {
                                    index = at;
                                    break 'scan;
                                }
                            }
                            if first > 0 {
                                index += first;
                            } else {
                                let (len, lower) = ascii_run(bytes, index);
                                scan.word(index, len, !lower);
                                index += len;
                                word_end = index;
                            }
                            continue 'window;
                        }
                        // A word after a sentence end: the gap before it is
                        // read a byte at a time.
                        if let Err(at) = scan.gap(index + gap_start, index + first) {
                            index = at;
                            break 'scan;
                        }
                        // `len` is below 64 here.
                        let no_lower = (classes.lower >> first) & !(u64::MAX << len) == 0;
                        scan.word(index + first, len, no_lower);
                        next_end = (ends & (u64::MAX << first)).trailing_zeros() as usize;
                        gap_start = first + len;
                        // Clears the word's bits: the lowest run of ones.
                        rest &= rest + (rest & rest.wrapping_neg());
                    }
                    let end = stop.min(64);
                    if next_end < end {
                        if let Err(at) = scan.gap(index + gap_start, index + end) {
                            index = at;
                            break 'scan;
                        }
                    }
                    // Whether the last byte taken in is whitespace, and a
                    // word ends right before the stop.
                    let at_word_end = if end > from {
                        scan.last_space = classes.space >> (end - 1) & 1 != 0;
                        words >> (end - 1) & 1 != 0
                    } else {
                        from == 0 && word_end == index
                    };
                    if stop >= 64 {
                        index += 64;
                        continue 'window;
                    }
                    let at = index + stop;
                    // Where the next run starts, and what stands in the
                    // text for the bytes before it.
                    let Some((resume, folded)) = scan.fold_stop(&classes, doubled, stop, at) else {
                        index = at;
                        in_word = at_word_end && bytes.get(at).is_some_and(|&byte| byte >= 0x80);
                        break 'scan;
                    };
                    // The run so far goes to the text, and a new one starts
                    // without leaving the window.
                    self.norm.push_str(&field[scan.start..at]);
                    self.norm.extend(folded);
                    self.realign_at(self.norm.len(), resume as u32);
                    scan.out_start = self.norm.len();
                    scan.start = resume;
                    from = resume - index;
                    if from >= 64 {
                        index += from;
                        continue 'window;
                    }
                }
            }
        }
        if in_word {
            // The word may go on in non-ASCII letters; if not, the next
            // character ends it where it is now.
            let end = scan.norm_at(index) as usize;
            end_token(&mut scan.tokens, end);
        }
        *state = FieldState {
            in_word,
            breaks: scan.breaks,
            last_space: scan.last_space,
        };
        *sentence = scan.sentence;
        // The run is ASCII, so it starts and ends on character boundaries.
        // It is lowercased with the rest of the text at the end.
        self.norm.push_str(&field[scan.start..index]);
        self.tokens = scan.tokens;
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
            if *in_word && is_optional_mark(character) {
                return;
            }
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
                // Full stops, question marks and semicolons of other
                // scripts end a sentence too: the CJK "。！？；", the
                // Devanagari danda "।" and "॥", the Arabic "؟" and "؛"
                // and the Urdu full stop "۔".
                '!' | '?' | ';' | '\u{3002}' | '\u{ff01}' | '\u{ff1f}' | '\u{ff1b}'
                | '\u{0964}' | '\u{0965}' | '\u{061f}' | '\u{061b}' | '\u{06d4}' => {
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

    /// The sentence number of a word of `text` (under the title "T").
    fn sentence_numbers(text: &str) -> impl Fn(&str) -> u32 {
        let mut norm = NormText::default();
        norm.build("T", text);
        let numbered: Vec<(String, u32)> = words(&norm)
            .into_iter()
            .map(|(word, sentence)| (word.to_owned(), sentence))
            .collect();
        move |word| {
            numbered
                .iter()
                .find(|(candidate, _)| candidate == word)
                .unwrap_or_else(|| panic!("no word {word:?}"))
                .1
        }
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
        let sentence_of = sentence_numbers(
            "Sent to Zürich. Then Dr. Müller left; CAPT. Ono came! São Paulo. Corp. Ltd. e.g. Ok?",
        );
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

    /// The full stops of CJK, Devanagari, Arabic and Urdu end sentences.
    #[test]
    fn sentence_ends_at_full_stops_of_other_scripts() {
        let sentence_of =
            sentence_numbers("中国反对。美国制裁！ भारत आगे है। तोपों की आपूर्ति هل هذا؟ نعم");
        assert_eq!(sentence_of("中国反对"), 1);
        assert_eq!(sentence_of("美国制裁"), 2);
        assert_eq!(sentence_of("भारत"), 3);
        assert_eq!(sentence_of("तोपों"), 4);
        assert_eq!(sentence_of("هل"), 4);
        assert_eq!(sentence_of("نعم"), 5);
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

    #[test]
    fn byte_classes_agree_with_the_byte_table() {
        // Every byte value at every position of a window.
        let all: Vec<u8> = (0..=255).collect();
        for block in all.chunks(64) {
            for rotation in 0..64 {
                let mut window: [u8; 64] = block.try_into().unwrap();
                window.rotate_left(rotation);
                assert_eq!(
                    Classes::of_window(&window),
                    Classes::of_window_bytewise(&window),
                    "{window:?}"
                );
            }
        }
    }

    /// The tokens as the character-at-a-time path makes them; it marks
    /// every word as non-ASCII, so that flag is left out.
    fn reference_tokens(norm: &NormText) -> Vec<(u32, u32, u32, bool, bool)> {
        norm.tokens
            .iter()
            .map(|token| {
                (
                    token.norm_start,
                    token.norm_end,
                    token.sentence,
                    token.capitalized,
                    token.no_lower,
                )
            })
            .collect()
    }

    fn assert_runs_agree(title: &str, text: &str) {
        let mut fast = NormText::default();
        fast.build(title, text);
        let mut slow = NormText::default();
        slow.build_with::<false>(title, text);
        assert_eq!(fast.norm, slow.norm, "{title:?} {text:?}");
        assert_eq!(fast.anchors, slow.anchors, "{title:?} {text:?}");
        assert_eq!(fast.non_ascii, slow.non_ascii, "{title:?} {text:?}");
        assert_eq!(
            reference_tokens(&fast),
            reference_tokens(&slow),
            "{title:?} {text:?}"
        );
        for (index, token) in fast.tokens.iter().enumerate() {
            let word = fast.word(index);
            assert_eq!(token.ascii, word.is_ascii(), "{word:?} in {text:?}");
        }
    }

    /// The scan of plain runs (64-byte masks, batches of words, gaps read
    /// a byte at a time after sentence ends) numbers words and sentences
    /// exactly as the character-at-a-time path does: on texts pieced
    /// together from the cases it treats apart, words across and longer
    /// than a window among them.
    #[test]
    fn plain_runs_agree_with_the_character_path() {
        let long = "x".repeat(70);
        let longer = "Ab".repeat(100);
        let pieces: [&str; 41] = [
            "word",
            "Word",
            "WORD",
            "w0rd",
            "1990",
            " ",
            "  ",
            "   ",
            ".",
            ". ",
            "!",
            "?",
            ";",
            ",",
            "\n",
            "\r\n",
            "\n\n",
            " \n ",
            "\t",
            "\u{b}\u{c}",
            "é",
            "Ünter",
            "\u{2019}",
            "\u{2018}",
            "\u{201c}",
            "\u{201e}",
            "\u{2014}",
            "\u{2013}",
            "\u{2026}",
            "\u{e2}",
            "`",
            "Mr",
            "U",
            "S",
            "e.g",
            "Corp",
            "-",
            "\"",
            ":",
            &long,
            &longer,
        ];
        for offset in 0..140 {
            let pad = "a".repeat(offset);
            for tail in [
                " Mr. Smith.  Then U.S. caf\u{e9} left",
                ". The end",
                "Zürich. Done",
                "\u{e9}t\u{e9} x",
                "  ",
                ".",
            ] {
                assert_runs_agree("", &format!("{pad}{tail}"));
                assert_runs_agree(&format!("{pad}{tail}"), &format!("{tail}{pad}"));
            }
        }
        // A fixed pseudo-random sequence, so that a failure repeats.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound as u64) as usize
        };
        for _ in 0..6000 {
            let mut text = String::new();
            for _ in 0..next(80) {
                text.push_str(pieces[next(pieces.len())]);
            }
            let split = next(text.len() + 1);
            let split = (0..=split)
                .rev()
                .find(|&at| text.is_char_boundary(at))
                .unwrap();
            assert_runs_agree(&text[..split], &text[split..]);
        }
    }

    /// The same on the real articles of the shared dev corpus.
    #[test]
    #[cfg_attr(not(shared_data), ignore = "needs ../shared/ beside the repository")]
    fn plain_runs_agree_with_the_character_path_on_real_text() {
        let corpus = crate::dev_corpus();
        let mut checked = 0;
        for record in &corpus {
            let field = |name: &str| record[name].as_str().unwrap_or("").to_string();
            assert_runs_agree(&field("title"), &field("text"));
            checked += 1;
        }
        assert!(checked > 100, "{checked} items");
    }
}
