//! The anchored terms that an all-ASCII word can begin, found by hashing
//! the word instead of walking an automaton from its first byte.
//!
//! The walk cost a few dependent loads per byte of every word that might
//! start a term, and on a taxonomy of a few thousand terms those loads miss
//! the cache. Here a word costs a few hashes and a two-bit test for each;
//! only the words that may start a term (a few in a hundred) go further.
//!
//! Which patterns can match at the start of an ASCII word `w` (a maximal
//! run of ASCII letters and digits, so the byte after it is neither):
//!
//! - a pattern no longer than `w` is a prefix of `w` made of letters and
//!   digits. If it is all of `w`, it is found under `w` in the exact table.
//!   If it is shorter, it ends inside the word, which only an entry open on
//!   the right accepts: those patterns ("sanction*") are the stems, found
//!   under their first (up to) four bytes.
//! - a pattern longer than `w` continues past the word's end with a byte
//!   that is not an ASCII letter or digit, so its leading run of ASCII
//!   letters and digits is exactly `w`. With three bytes or more after that
//!   run it is in the pair table under `w` and those three bytes (which the
//!   text must have after the word); with fewer, in the exact table under
//!   `w`.
//!
//! Every candidate is then compared with the text byte for byte, so a hash
//! collision costs time, never a wrong match. Words with non-ASCII letters
//! still take the automaton walk.

/// Hash-table keys: a word's own key, a stem prefix's of one to four
/// bytes, or a word's with the three bytes after it (the tags keep the kinds
/// apart).
const EXACT: u64 = 0;
const STEM: u64 = 1;
const PAIR: u64 = 2;

/// Stems are indexed by at most this many leading bytes.
const STEM_KEY_BYTES: usize = 4;

/// Filter bits: 2^17 (16 KB), so that the filter stays in the first-level
/// cache while most words are rejected by it.
const FILTER_BITS: u32 = 17;
const FILTER_WORDS: usize = (1 << FILTER_BITS) / 64;
const FILTER_WORD_BITS: u32 = FILTER_WORDS.trailing_zeros();

#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    /// 0 marks an empty slot (a key of 0 is stored as 1).
    key: u64,
    start: u32,
    len: u32,
}

/// A pattern as the index sees it. Its leading run of letters and digits
/// and the bytes after that run are kept as integers of up to eight bytes,
/// so that most candidates are checked with two comparisons instead of
/// two slice comparisons.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    /// The engine-wide pattern index.
    pattern: u32,
    /// Where the pattern's bytes are in `WordIndex::bytes`.
    offset: u32,
    len: u32,
    /// The length of the leading run of ASCII letters and digits.
    run: u32,
    /// The run's first (up to) eight bytes, as [`load`] reads them.
    run_head: u64,
    /// The (up to) eight bytes after the run.
    next: u64,
}
#[derive(Debug)]
pub(crate) struct WordIndex {
    /// A fixed-size array, so that indexing it by a 16-bit value needs no
    /// bounds check.
    filter: Box<[u64; FILTER_WORDS]>,
    slots: Vec<Slot>,
    candidates: Vec<Candidate>,
    /// Every indexed pattern's bytes, back to back.
    bytes: Vec<u8>,
    /// Bit `k` set when some stem is `k` bytes long (`k` < 3): words are
    /// then also looked up by their first `k` bytes.
    short_stems: u8,
}

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
}

/// Up to eight bytes from `at`, little-endian, zero above `len`.
#[inline]
fn load(bytes: &[u8], at: usize, len: usize) -> u64 {
    debug_assert!(len <= 8);
    if let Some(eight) = bytes.get(at..at + 8) {
        u64::from_le_bytes(eight.try_into().expect("eight bytes")) & low_bytes(len)
    } else {
        bytes[at..at + len]
            .iter()
            .rev()
            .fold(0u64, |value, &byte| value << 8 | u64::from(byte))
    }
}

use crate::text::low_bytes;

const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

/// Where the key of `len` bytes of a kind starts.
#[inline]
const fn seed(kind: u64, len: usize) -> u64 {
    (kind << 32 | len as u64).wrapping_mul(MULTIPLIER)
}

/// Mixes in the last (up to) eight bytes. Never 0, which marks empty slots.
#[inline]
fn finish(state: u64, last: u64) -> u64 {
    let hash = (state ^ last).wrapping_mul(MULTIPLIER);
    (hash ^ hash >> 32).max(1)
}

/// How many bytes after a word the patterns that run past it are filed
/// under (see [`pair_key`]).
const PAIR_BYTES: usize = 3;

/// The [`PAIR_BYTES`] bytes at `at`, as one integer, if the text has them.
#[inline]
fn next_bytes(bytes: &[u8], at: usize) -> Option<u64> {
    match bytes.get(at..at + PAIR_BYTES)? {
        &[first, second, third] => {
            Some(u64::from(first) | u64::from(second) << 8 | u64::from(third) << 16)
        }
        _ => None,
    }
}

/// The key of the patterns that run past a word whose key is `word_key`
/// with the bytes `next` (see [`next_bytes`]): filed apart from the
/// word's own, so that "arms" followed by " sa" is not checked against
/// the dozens of "arms ..." terms, nor "the" followed by " fi" against
/// "the federal reserve".
#[inline]
fn pair_key(word_key: u64, next: u64) -> u64 {
    finish(word_key ^ seed(PAIR, PAIR_BYTES), next)
}

/// The key of `bytes[at..at + len]` of the given kind; for eight bytes or
/// fewer, `finish(seed(kind, len), load(bytes, at, len))`.
#[inline]
fn key(kind: u64, bytes: &[u8], at: usize, len: usize) -> u64 {
    let mut state = seed(kind, len);
    let mut position = at;
    let end = at + len;
    while end - position > 8 {
        state = (state ^ load(bytes, position, 8)).wrapping_mul(MULTIPLIER);
        state ^= state >> 29;
        position += 8;
    }
    finish(state, load(bytes, position, end - position))
}

/// The filter's hashes, apart from the table keys. The filter is tried
/// on every word of every article, so its hashes are one multiply each
/// after the word's load, with the pair's second multiply the only step
/// that waits on another; the table keys are only computed for the words
/// that pass. The top bits of one say where in the filter it goes (see
/// [`filter_bits`]).
///
/// A word's: its length and first (up to) eight bytes, so that a long word
/// is screened by the one load a short word needs.
#[inline]
fn screen_word(head: u64, len: usize) -> u64 {
    (head ^ (len as u64).wrapping_mul(LENGTH_MIX)).wrapping_mul(MULTIPLIER)
}

/// A word's (see [`screen_word`]) with the bytes after it (see
/// [`next_bytes`]).
#[inline]
fn screen_pair(word: u64, next: u64) -> u64 {
    (word ^ next.wrapping_mul(PAIR_MIX)).wrapping_mul(MULTIPLIER)
}

/// A stem's first `len` bytes (`prefix`, at most four), kept apart from
/// a word of the same bytes by the length's mix.
#[inline]
fn screen_stem(prefix: u64, len: usize) -> u64 {
    (prefix ^ (len as u64 + 16).wrapping_mul(LENGTH_MIX)).wrapping_mul(MULTIPLIER)
}

const LENGTH_MIX: u64 = 0xd6e8_feb8_6659_fd93;
const PAIR_MIX: u64 = 0xa076_1d64_78bd_642f;

/// Where a filter hash (see [`screen_word`]) sets its bits: two bits of
/// one 64-bit word, so that a test is still one load but a word that is
/// not there passes only when both bits were set by others (a fraction of
/// a percent of words, where one bit let through a few percent).
#[inline]
fn filter_bits(hash: u64) -> (usize, u64) {
    let word = (hash >> (64 - FILTER_WORD_BITS)) as usize;
    let first = (hash >> (64 - FILTER_WORD_BITS - 6)) & 63;
    let second = (hash >> (64 - FILTER_WORD_BITS - 12)) & 63;
    (word, 1 << first | 1 << second)
}

impl WordIndex {
    /// Indexes `patterns` (engine-wide index, lowercase text) for ASCII
    /// words; `stem(p)` tells whether pattern `p` has an anchored entry
    /// open on the right.
    pub fn new(patterns: &[(u32, &str)], stem: impl Fn(u32) -> bool) -> WordIndex {
        let mut index = WordIndex {
            filter: Box::new([0; FILTER_WORDS]),
            slots: Vec::new(),
            candidates: Vec::new(),
            bytes: Vec::new(),
            short_stems: 0,
        };
        // (key, filter key, candidate), grouped by key below.
        let mut keyed: Vec<(u64, u64, Candidate)> = Vec::new();
        for &(pattern, text) in patterns {
            let bytes = text.as_bytes();
            let run = bytes
                .iter()
                .position(|&byte| !is_word_byte(byte))
                .unwrap_or(bytes.len());
            if run == 0 {
                // Starts with something no ASCII word starts with.
                continue;
            }
            let after = bytes.len() - run;
            let candidate = Candidate {
                pattern,
                offset: index.bytes.len() as u32,
                len: bytes.len() as u32,
                run: run as u32,
                run_head: load(bytes, 0, run.min(8)),
                next: load(bytes, run, after.min(8)),
            };
            index.bytes.extend_from_slice(bytes);
            let word_key = key(EXACT, bytes, 0, run);
            let word_screen = screen_word(candidate.run_head, run);
            if let Some(next) = next_bytes(bytes, run) {
                keyed.push((
                    pair_key(word_key, next),
                    screen_pair(word_screen, next),
                    candidate,
                ));
            } else {
                keyed.push((word_key, word_screen, candidate));
            }
            if run == bytes.len() && stem(pattern) {
                // A stem is filed under its first (up to) four bytes.
                let mut file_stem = |prefix: &[u8]| {
                    let len = prefix.len();
                    keyed.push((
                        key(STEM, prefix, 0, len),
                        screen_stem(load(prefix, 0, len), len),
                        candidate,
                    ));
                };
                match bytes.len() {
                    1 | 2 => {
                        index.short_stems |= 1 << bytes.len();
                        file_stem(bytes);
                    }
                    // A three-byte stem ("rpg*") can only match a word of
                    // four bytes or more: it is filed under every four-byte
                    // start such a word can have, so that one lookup by
                    // the first four bytes serves both.
                    3 => {
                        for next in (b'0'..=b'9').chain(b'a'..=b'z') {
                            file_stem(&[bytes[0], bytes[1], bytes[2], next]);
                        }
                    }
                    _ => file_stem(&bytes[..STEM_KEY_BYTES]),
                }
            }
        }
        for (_, filter_key, _) in &keyed {
            let (word, mask) = filter_bits(*filter_key);
            index.filter[word] |= mask;
        }
        keyed.sort_by_key(|(key, _, candidate)| (*key, candidate.pattern));
        let slot_count = (keyed.len() * 2).next_power_of_two().max(16);
        index.slots = vec![Slot::default(); slot_count];
        let mut start = 0;
        while start < keyed.len() {
            let key = keyed[start].0;
            let end = start + keyed[start..].partition_point(|(other, _, _)| *other == key);
            let slot = Slot {
                key,
                start: index.candidates.len() as u32,
                len: (end - start) as u32,
            };
            index
                .candidates
                .extend(keyed[start..end].iter().map(|(_, _, candidate)| *candidate));
            let mut position = index.slot_of(key);
            while index.slots[position].key != 0 {
                position = (position + 1) & (slot_count - 1);
            }
            index.slots[position] = slot;
            start = end;
        }
        index
    }

    fn slot_of(&self, key: u64) -> usize {
        (key as usize) & (self.slots.len() - 1)
    }

    /// Whether anything may be stored under `key`: one load and a test of
    /// two bits, which rejects most words before the table is touched.
    #[inline]
    fn may_hold(&self, key: u64) -> bool {
        let (word, mask) = filter_bits(key);
        self.filter[word] & mask == mask
    }

    /// The candidates stored under `key`.
    fn lookup(&self, key: u64) -> &[Candidate] {
        let mask = self.slots.len() - 1;
        let mut position = self.slot_of(key);
        loop {
            let slot = &self.slots[position];
            if slot.key == key {
                return &self.candidates[slot.start as usize..(slot.start + slot.len) as usize];
            }
            if slot.key == 0 {
                return &[];
            }
            position = (position + 1) & mask;
        }
    }

    fn text_of(&self, candidate: &Candidate) -> &[u8] {
        &self.bytes[candidate.offset as usize..(candidate.offset + candidate.len) as usize]
    }

    /// Whether any pattern may match at the word `text[start..end]`: the
    /// filter tests of [`WordIndex::matches`] alone, for the hot loop over
    /// all words, which leaves the lookups to the few words that pass.
    #[inline]
    pub fn may_match(&self, text: &[u8], start: usize, end: usize) -> bool {
        let word_len = end - start;
        if self.short_stems != 0 {
            return true;
        }
        let head = load(text, start, word_len.min(8));
        let word = screen_word(head, word_len);
        // The stem test is made whatever the length and its outcome masked,
        // rather than branching on a length that varies word to word.
        let stem = screen_stem(head & 0xffff_ffff, STEM_KEY_BYTES);
        let stem_fits = word_len >= STEM_KEY_BYTES;
        // All three tests are made and combined without a branch: which
        // of them passes varies from word to word.
        let pair = match next_bytes(text, end) {
            Some(next) => self.may_hold(screen_pair(word, next)),
            _ => false,
        };
        (stem_fits & self.may_hold(stem)) | self.may_hold(word) | pair
    }

    /// Calls `found(end, pattern)` for every indexed pattern that matches
    /// `text` at `start`, where `text[start..end]` is a word of ASCII
    /// letters and digits followed by neither.
    #[inline]
    pub fn matches(
        &self,
        text: &[u8],
        start: usize,
        end: usize,
        mut found: impl FnMut(usize, u32),
    ) {
        let word_len = end - start;
        // Most words are eight bytes or fewer: one load serves both keys.
        let head = load(text, start, word_len.min(8));
        let screen = screen_word(head, word_len);
        let exact = if word_len <= 8 {
            finish(seed(EXACT, word_len), head)
        } else {
            key(EXACT, text, start, word_len)
        };
        // (filter key, table key) of the word alone and of the word with
        // the three bytes after it.
        let mut keys = [(screen, exact), (0, 0)];
        if let Some(next) = next_bytes(text, end) {
            keys[1] = (screen_pair(screen, next), pair_key(exact, next));
        }
        for (screen, key) in keys {
            if key == 0 || !self.may_hold(screen) {
                continue;
            }
            for candidate in self.lookup(key) {
                if self.continues(text, start, end, head, candidate) {
                    found(start + candidate.len as usize, candidate.pattern);
                }
            }
        }
        // Stems strictly shorter than the word (one of the same length was
        // found above, as the whole word).
        if word_len >= STEM_KEY_BYTES
            && self.may_hold(screen_stem(head & 0xffff_ffff, STEM_KEY_BYTES))
        {
            let stem = finish(seed(STEM, STEM_KEY_BYTES), head & 0xffff_ffff);
            self.stems(text, start, end, stem, &mut found);
        }
        if self.short_stems != 0 {
            for prefix in 1..word_len.min(3) {
                if self.short_stems & (1 << prefix) != 0
                    && self.may_hold(screen_stem(load(text, start, prefix), prefix))
                {
                    let stem = key(STEM, text, start, prefix);
                    self.stems(text, start, end, stem, &mut found);
                }
            }
        }
    }

    /// Whether the pattern of an exact-table candidate is at `start`: its
    /// run is the word `text[start..end]` (whose first bytes are `head`),
    /// and the rest of it follows the word.
    #[inline]
    fn continues(
        &self,
        text: &[u8],
        start: usize,
        end: usize,
        head: u64,
        candidate: &Candidate,
    ) -> bool {
        let word_len = end - start;
        if candidate.run as usize != word_len {
            return false;
        }
        let run_matches = if word_len <= 8 {
            candidate.run_head == head
        } else {
            text[start..end] == self.text_of(candidate)[..word_len]
        };
        if !run_matches {
            return false;
        }
        let after = (candidate.len - candidate.run) as usize;
        if end + after > text.len() {
            return false;
        }
        if after <= 8 {
            load(text, end, after) == candidate.next
        } else {
            text[end..end + after] == self.text_of(candidate)[word_len..]
        }
    }

    fn stems(
        &self,
        text: &[u8],
        start: usize,
        end: usize,
        key: u64,
        found: &mut impl FnMut(usize, u32),
    ) {
        let word_len = end - start;
        let head = load(text, start, word_len.min(8));
        for candidate in self.lookup(key) {
            // A stem is all run.
            let stem_len = candidate.len as usize;
            if stem_len >= word_len {
                continue;
            }
            let matches = if stem_len <= 8 {
                head & low_bytes(stem_len) == candidate.run_head
            } else {
                text[start..end].starts_with(self.text_of(candidate))
            };
            if matches {
                found(start + stem_len, candidate.pattern);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(index: &WordIndex, text: &str, start: usize, end: usize) -> Vec<(usize, u32)> {
        let mut all = Vec::new();
        index.matches(text.as_bytes(), start, end, |end, pattern| {
            all.push((end, pattern));
        });
        all.sort_unstable();
        all
    }

    #[test]
    fn finds_whole_words_longer_patterns_and_stems() {
        let patterns = [
            (0, "arms"),
            (1, "arm"),
            (2, "u.s."),
            (3, "u"),
            (4, "sanction"),
            (5, "south africa"),
            (6, "rpg"),
            (7, "armsx"),
            (8, "ab"),
            (9, "counterintelligence"),
        ];
        // "arm", "sanction", "rpg" and "ab" are stems.
        let index = WordIndex::new(&patterns, |pattern| matches!(pattern, 1 | 4 | 6 | 8));
        assert_eq!(found(&index, "arms sale", 0, 4), vec![(3, 1), (4, 0)]);
        assert_eq!(found(&index, "u.s. arms", 0, 1), vec![(1, 3), (4, 2)]);
        assert_eq!(found(&index, "sanctioned", 0, 10), vec![(8, 4)]);
        assert_eq!(found(&index, "sanction", 0, 8), vec![(8, 4)]);
        assert_eq!(found(&index, "south africa", 0, 5), vec![(12, 5)]);
        assert_eq!(found(&index, "south africans", 0, 5), vec![(12, 5)]);
        assert_eq!(found(&index, "south america", 0, 5), vec![]);
        assert_eq!(found(&index, "rpgs", 0, 4), vec![(3, 6)]);
        assert_eq!(found(&index, "weapons", 0, 7), vec![]);
        assert_eq!(found(&index, "abc", 0, 3), vec![(2, 8)]);
        assert_eq!(found(&index, "ab", 0, 2), vec![(2, 8)]);
        assert_eq!(found(&index, "counterintelligence", 0, 19), vec![(19, 9)]);
        assert_eq!(found(&index, "counterintelligencf", 0, 19), vec![]);
        // Near the end of the text, where eight bytes cannot be loaded.
        assert_eq!(found(&index, "x arm", 2, 5), vec![(5, 1)]);
    }
}
