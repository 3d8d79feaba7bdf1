//! The compiled taxonomy: every term of every lexicon and entity list made
//! findable per word, and the rule evaluation over the terms found.
//!
//! Classifying an article is: normalize (one pass), find the terms starting
//! at each word (a hashed word index for ASCII words, see `word_index`; an
//! anchored Aho-Corasick walk for others; small automata for the terms that
//! may start inside a word), keep the matches that sit on word boundaries
//! as [`Hit`]s, index them by concept, then check each rule's concepts for
//! co-occurrence within its window.

use aho_corasick::automaton::Automaton;
use aho_corasick::{dfa, nfa, AhoCorasick, AhoCorasickKind, Anchored, Input, MatchKind, StartKind};

use crate::taxonomy::{Rule, Scope, Taxonomy, ENTITY_CONCEPTS};
use crate::text::{is_word_char, NormText};
use crate::word_index::WordIndex;

/// One automaton pattern may stand for terms of several concepts.
#[derive(Clone, Copy, Debug)]
struct PatternEntry {
    concept: u16,
    entity: u32,
    open_left: bool,
    open_right: bool,
    upper_only: bool,
    /// Index in `Engine::rests` of the words that must follow, or `NO_REST`.
    rest: u32,
}

const NO_REST: u32 = u32::MAX;

pub(crate) const NO_ENTITY: u32 = u32::MAX;

/// The most words one hit can span ("democratic people's republic of
/// korea"); window searches look this far back for hit starts.
const MAX_HIT_WORDS: u32 = 16;

/// A term found in the article.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hit {
    pub concept: u16,
    /// Index in the entity kind's list, or [`NO_ENTITY`].
    pub entity: u32,
    pub norm_start: u32,
    pub norm_end: u32,
    pub tok_start: u32,
    pub tok_end: u32,
    pub sentence: u32,
    pub in_title: bool,
}

impl Hit {
    /// Whether the two hits name the same thing of one concept: the same
    /// entity, or for terms that are no entity the same place. Entities
    /// differ by entity, not by start: in a script without spaces every
    /// in-word hit is widened to the whole run, so "俄罗斯向印度交付" holds
    /// two countries that start at the same byte.
    fn is_same_thing(&self, other: &Hit) -> bool {
        self.concept == other.concept
            && if other.entity != NO_ENTITY {
                self.entity == other.entity
            } else {
                self.norm_start == other.norm_start
            }
    }

    /// Words between two hits (0 when they touch or overlap).
    fn gap(&self, other: &Hit) -> u32 {
        if other.tok_start > self.tok_end {
            other.tok_start - self.tok_end
        } else {
            self.tok_start.saturating_sub(other.tok_end)
        }
    }
}

/// An exact filter on the first four bytes of anchored terms. Most words
/// of an article begin no term, yet walking the automaton costs a few
/// transitions per word; a few bit lookups reject those words first. A
/// word is walked when a term of one or two bytes is its prefix, or when
/// the hash of its first three bytes matches a three-byte term, or the hash
/// of its first four bytes matches the start of a longer term, so every
/// word the walk could match passes (hash collisions only let extra words
/// through).
#[derive(Debug)]
struct WordStartFilter {
    one: Vec<bool>,
    two: Vec<u64>,
    three: Vec<u64>,
    four: Vec<u64>,
}

/// Bits in the three- and four-byte tables: 2^16 bits (8 KB) each.
const THREE_BYTE_BITS: u32 = 16;

impl WordStartFilter {
    fn new<'a>(patterns: impl Iterator<Item = &'a str>) -> WordStartFilter {
        let mut filter = WordStartFilter {
            one: vec![false; 256],
            two: vec![0; (1 << 16) / 64],
            three: vec![0; (1 << THREE_BYTE_BITS) / 64],
            four: vec![0; (1 << THREE_BYTE_BITS) / 64],
        };
        for pattern in patterns {
            match *pattern.as_bytes() {
                [] => {}
                [first] => filter.one[first as usize] = true,
                [first, second] => set_bit(&mut filter.two, pair_index(first, second)),
                [first, second, third] => {
                    set_bit(&mut filter.three, triple_index(first, second, third));
                }
                [first, second, third, fourth, ..] => {
                    set_bit(&mut filter.four, quad_index([first, second, third, fourth]));
                }
            }
        }
        filter
    }

    /// Whether a term may start at the beginning of `rest`.
    #[inline]
    fn may_start(&self, rest: &[u8]) -> bool {
        match *rest {
            [] => false,
            // Too close to the end for the tables: let the walk decide.
            [_] | [_, _] | [_, _, _] => true,
            [first, second, third, fourth, ..] => {
                self.one[first as usize]
                    || get_bit(&self.two, pair_index(first, second))
                    || get_bit(&self.three, triple_index(first, second, third))
                    || get_bit(&self.four, quad_index([first, second, third, fourth]))
            }
        }
    }
}

fn pair_index(first: u8, second: u8) -> usize {
    (first as usize) << 8 | second as usize
}

fn triple_index(first: u8, second: u8, third: u8) -> usize {
    let key = u32::from(first) | u32::from(second) << 8 | u32::from(third) << 16;
    // Multiplicative hashing: the top bits of the product mix all three.
    (key.wrapping_mul(0x9e37_79b1) >> (32 - THREE_BYTE_BITS)) as usize
}

fn quad_index(bytes: [u8; 4]) -> usize {
    quad_hash(bytes, THREE_BYTE_BITS)
}

/// Four bytes hashed to `bits` bits.
#[inline]
fn quad_hash(bytes: [u8; 4], bits: u32) -> usize {
    (u32::from_le_bytes(bytes).wrapping_mul(0x9e37_79b1) >> (32 - bits)) as usize
}

fn set_bit(bits: &mut [u64], index: usize) {
    bits[index / 64] |= 1 << (index % 64);
}

#[inline]
fn get_bit(bits: &[u64], index: usize) -> bool {
    bits[index / 64] & (1 << (index % 64)) != 0
}

/// How many text sentences must come before a closing line for a
/// `closing_sentences` rule to read it as an aside: in a two-line item the
/// last line is the story.
const MIN_SENTENCES_BEFORE_CLOSING: u32 = 3;

/// Per-article working memory, reused across articles.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub text: NormText,
    pub hits: Vec<Hit>,
    /// Hit indices grouped by concept; `concept_start[c]..concept_start[c+1]`.
    by_concept: Vec<u32>,
    concept_start: Vec<u32>,
}

/// A rule that fired: the hits of its best match.
#[derive(Clone, Debug)]
pub(crate) struct RuleMatch {
    pub rule: usize,
    pub negative: bool,
    pub hits: Vec<u32>,
}

/// One automaton over some of the patterns.
#[derive(Debug)]
struct Scanner {
    automaton: AhoCorasick,
    /// The engine-wide pattern index of each of this automaton's patterns.
    global: Vec<u32>,
}

impl Scanner {
    fn new(patterns: &[(u32, &str)], kind: Option<AhoCorasickKind>, start: StartKind) -> Scanner {
        let texts: Vec<&str> = patterns.iter().map(|(_, text)| *text).collect();
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .start_kind(start)
            .kind(kind)
            .build(&texts)
            .or_else(|_| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .start_kind(start)
                    .build(&texts)
            })
            .expect("lexicon terms are plain strings and always compile");
        Scanner {
            automaton,
            global: patterns.iter().map(|(index, _)| *index).collect(),
        }
    }
}

/// The ASCII terms that may start inside a word ("*waffen"), as a DFA
/// walked by hand over the words that are long enough to hold one.
///
/// Terms made only of ASCII letters and digits cannot match across a word
/// boundary: every ASCII letter or digit of the normalized text is inside a
/// token, and the bytes between tokens are spaces, punctuation or
/// non-ASCII. So walking each token alone finds exactly the matches a scan
/// of the whole text finds, while skipping the spaces and the many short
/// words. A term with any other byte turns this off (whole-text walk).
#[derive(Debug)]
struct WordScanner {
    dfa: dfa::DFA,
    /// The engine-wide pattern index of each of the DFA's patterns.
    global: Vec<u32>,
    /// Words shorter than the shortest term cannot contain one.
    min_len: usize,
    in_words: bool,
    /// Hashed first four bytes of every term (see [`quad_index`]): a word
    /// with no such four bytes where a term could start cannot contain a
    /// term, which one bit test per position shows faster than walking the
    /// automaton. Only used when every term has four bytes or more. Sized
    /// to the terms (64 bits each, 1024 at least), so that the few of a
    /// usual taxonomy take a couple of cache lines, not 8 KB.
    term_starts: Option<Vec<u64>>,
    /// log2 of the number of bits in `term_starts`.
    term_start_bits: u32,
    /// The same terms, leftmost first, for [`WordScanner::next_start`].
    first: Option<AhoCorasick>,
}

impl WordScanner {
    fn new(patterns: &[(u32, &str)]) -> WordScanner {
        let dfa = dfa::DFA::builder()
            .match_kind(MatchKind::Standard)
            .start_kind(StartKind::Unanchored)
            .build(patterns.iter().map(|(_, text)| *text))
            .expect("lexicon terms are plain strings and always compile");
        let term_start_bits = (patterns.len() * 64)
            .next_power_of_two()
            .clamp(1 << 10, 1 << THREE_BYTE_BITS)
            .trailing_zeros();
        let term_starts = patterns.iter().all(|(_, text)| text.len() >= 4).then(|| {
            let mut bits = vec![0u64; (1 << term_start_bits) / 64];
            for (_, text) in patterns {
                let first = text.as_bytes();
                set_bit(
                    &mut bits,
                    quad_hash([first[0], first[1], first[2], first[3]], term_start_bits),
                );
            }
            bits
        });
        // Searching for a handful of literals is done many bytes at a time
        // (SIMD where the processor has it).
        let first = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(patterns.iter().map(|(_, text)| *text))
            .ok()
            .filter(|_| !patterns.is_empty());
        WordScanner {
            first,
            term_starts,
            term_start_bits,
            dfa,
            global: patterns.iter().map(|(index, _)| *index).collect(),
            min_len: patterns
                .iter()
                .map(|(_, text)| text.len())
                .min()
                .unwrap_or(usize::MAX),
            in_words: patterns
                .iter()
                .all(|(_, text)| text.bytes().all(|byte| byte.is_ascii_alphanumeric())),
        }
    }

    /// Calls `found(start, end, engine pattern)` for every match, overlapping
    /// ones included, as a whole-text overlapping search would; when the
    /// terms are all letters and digits, the caller visits the words
    /// itself with [`WordScanner::scan_word`] and this does nothing.
    fn scan(&self, text: &NormText, mut found: impl FnMut(usize, usize, u32)) {
        if self.global.is_empty() || self.in_words {
            return;
        }
        let bytes = text.norm.as_bytes();
        self.walk(bytes, 0, bytes.len(), &mut found);
    }

    /// Where the first term of the text at or after byte `from` starts,
    /// if any: no word ending before it holds one. Most articles hold
    /// none, and a search of the whole text costs far less than a look
    /// into every long word.
    ///
    /// The terms are letters and digits, so an occurrence lies inside one
    /// word, and searched from each word that holds one to the next, the
    /// (non-overlapping) first matches land in every word that holds any.
    fn next_start(&self, text: &str, from: usize) -> Option<usize> {
        match &self.first {
            Some(searcher) => searcher
                .find(Input::new(text).span(from..text.len()))
                .map(|found| found.start()),
            None => Some(from),
        }
    }

    /// The matches inside the word `bytes[start..end]`.
    #[inline]
    fn scan_word(
        &self,
        bytes: &[u8],
        start: usize,
        end: usize,
        mut found: impl FnMut(usize, usize, u32),
    ) {
        if end - start < self.min_len {
            return;
        }
        if let Some(term_starts) = &self.term_starts {
            // A term starts no later than its length from the end.
            let word = &bytes[start..end];
            let may_hold = word[..word.len() - self.min_len + 4]
                .windows(4)
                .any(|four| {
                    get_bit(
                        term_starts,
                        quad_hash([four[0], four[1], four[2], four[3]], self.term_start_bits),
                    )
                });
            if !may_hold {
                return;
            }
        }
        self.walk(bytes, start, end, &mut found);
    }

    fn walk(
        &self,
        bytes: &[u8],
        start: usize,
        end: usize,
        found: &mut impl FnMut(usize, usize, u32),
    ) {
        let Ok(mut state) = self.dfa.start_state(Anchored::No) else {
            return;
        };
        for (offset, &byte) in bytes[start..end].iter().enumerate() {
            state = self.dfa.next_state(Anchored::No, state, byte);
            if self.dfa.is_match(state) {
                let match_end = start + offset + 1;
                // In a standard-semantics automaton a state's matches
                // include those of its failure states: every term ending
                // here is listed.
                for index in 0..self.dfa.match_len(state) {
                    let local = self.dfa.match_pattern(state, index);
                    let match_start = match_end - self.dfa.pattern_len(local);
                    found(match_start, match_end, self.global[local.as_usize()]);
                }
            }
        }
    }
}

#[derive(Debug)]
pub(crate) struct Engine {
    /// Terms that start a word, matched from each word's first byte.
    anchored_nfa: nfa::contiguous::NFA,
    anchored_global: Vec<u32>,
    /// Which word starts can begin an anchored term, so that most words
    /// skip the walk: see [`WordStartFilter`].
    word_starts: WordStartFilter,
    /// The same terms for words of ASCII letters and digits, which are
    /// looked up rather than walked.
    ascii_words: WordIndex,
    floating_ascii: WordScanner,
    floating_other: Scanner,
    /// `entries[entry_start[p]..entry_start[p + 1]]` belong to pattern `p`.
    entries: Vec<PatternEntry>,
    entry_start: Vec<u32>,
    rests: Vec<Vec<(String, bool)>>,
    concept_count: usize,
}

impl Engine {
    pub fn new(taxonomy: &Taxonomy) -> Engine {
        let mut order: Vec<usize> = (0..taxonomy.terms.len()).collect();
        order.sort_by(|a, b| taxonomy.terms[*a].text.cmp(&taxonomy.terms[*b].text));
        let mut patterns: Vec<&str> = Vec::new();
        let mut entries = Vec::new();
        let mut entry_start = Vec::new();
        let mut rests = Vec::new();
        for index in order {
            let term = &taxonomy.terms[index];
            if patterns.last() != Some(&term.text.as_str()) {
                patterns.push(&term.text);
                entry_start.push(entries.len() as u32);
            }
            entries.push(PatternEntry {
                concept: term.concept,
                entity: term.entity.unwrap_or(NO_ENTITY),
                open_left: term.open_left,
                open_right: term.open_right,
                upper_only: term.upper_only,
                rest: if term.rest.is_empty() {
                    NO_REST
                } else {
                    rests.push(term.rest.clone());
                    rests.len() as u32 - 1
                },
            });
        }
        entry_start.push(entries.len() as u32);
        // Two automata. Most terms must start a word, so they are matched
        // by an anchored walk from each word's first byte, which stops
        // after a few bytes; the few terms that may start inside a word
        // ("*waffen") need a scan of the whole text.
        let mut anchored = Vec::new();
        let mut floating = Vec::new();
        for (index, pattern) in patterns.iter().enumerate() {
            let range = entry_start[index] as usize..entry_start[index + 1] as usize;
            if entries[range.clone()].iter().any(|entry| !entry.open_left) {
                anchored.push((index as u32, *pattern));
            }
            if entries[range].iter().any(|entry| entry.open_left) {
                floating.push((index as u32, *pattern));
            }
        }
        // The floating terms are mostly CJK, Arabic and Cyrillic, which an
        // ASCII article cannot contain; the few ASCII ones (German
        // compounds) get a small automaton walked over long enough words.
        let (floating_ascii, floating_other): (Vec<_>, Vec<_>) = floating
            .into_iter()
            .partition(|(_, pattern)| pattern.is_ascii());
        Engine {
            anchored_nfa: nfa::contiguous::NFA::builder()
                .match_kind(MatchKind::Standard)
                .build(anchored.iter().map(|(_, pattern)| *pattern))
                .expect("lexicon terms are plain strings and always compile"),
            anchored_global: anchored.iter().map(|(index, _)| *index).collect(),
            word_starts: WordStartFilter::new(anchored.iter().map(|(_, pattern)| *pattern)),
            ascii_words: WordIndex::new(&anchored, |pattern| {
                let range = entry_start[pattern as usize] as usize
                    ..entry_start[pattern as usize + 1] as usize;
                entries[range]
                    .iter()
                    .any(|entry| entry.open_right && !entry.open_left)
            }),
            floating_ascii: WordScanner::new(&floating_ascii),
            floating_other: Scanner::new(&floating_other, None, StartKind::Unanchored),
            entries,
            entry_start,
            rests,
            concept_count: taxonomy.concepts.len(),
        }
    }

    /// Fills `scratch.hits` with the article's terms on word boundaries.
    pub fn find_hits(&self, scratch: &mut Scratch) {
        let Scratch { text, hits, .. } = scratch;
        hits.clear();
        self.anchored_hits(text, hits);
        self.floating_hits(text, hits);
        order_hits(hits);
        self.index_by_concept(scratch);
    }

    /// The terms that start a word.
    #[inline(never)]
    fn anchored_hits(&self, text: &NormText, hits: &mut Vec<Hit>) {
        let bytes = text.norm.as_bytes();
        let floating = &self.floating_ascii;
        // The terms that may start inside a word are looked for in the
        // words where one of them occurs.
        let in_words = floating.in_words && !floating.global.is_empty();
        let mut floating_next = if in_words {
            floating.next_start(&text.norm, 0).unwrap_or(usize::MAX)
        } else {
            usize::MAX
        };
        // The loop over all words holds only the filter test of ASCII
        // words; everything else is called out of it, so that its values
        // stay in registers.
        for (index, token) in text.tokens.iter().enumerate() {
            let start = token.norm_start as usize;
            let end = token.norm_end as usize;
            if end > floating_next {
                self.floating_word_hits(text, hits, index);
                floating_next = floating.next_start(&text.norm, end).unwrap_or(usize::MAX);
            }
            if token.ascii {
                if self.ascii_words.may_match(bytes, start, end) {
                    self.ascii_word_hits(text, hits, index);
                }
            } else {
                self.walked_word_hits(text, hits, index);
            }
        }
    }

    /// The terms that may start inside word `index`, in the visit of the
    /// words.
    #[inline(never)]
    fn floating_word_hits(&self, text: &NormText, hits: &mut Vec<Hit>, index: usize) {
        let token = &text.tokens[index];
        self.floating_ascii.scan_word(
            text.norm.as_bytes(),
            token.norm_start as usize,
            token.norm_end as usize,
            |start, end, pattern| {
                self.accept(text, hits, start, end, pattern as usize, None);
            },
        );
    }

    /// The terms starting at word `index`, which has non-ASCII letters.
    /// Such words walk the automaton by hand: a search call per word would
    /// cost more than the few transitions each word needs. A contiguous NFA
    /// rather than a DFA, because the DFA's table is megabytes and each
    /// word's walk would miss cache.
    #[inline(never)]
    fn walked_word_hits(&self, text: &NormText, hits: &mut Vec<Hit>, index: usize) {
        let bytes = text.norm.as_bytes();
        let start = text.tokens[index].norm_start as usize;
        if !self.word_starts.may_start(&bytes[start..]) {
            return;
        }
        let nfa = &self.anchored_nfa;
        let Ok(mut state) = nfa.start_state(Anchored::Yes) else {
            return;
        };
        for (offset, &byte) in bytes[start..].iter().enumerate() {
            state = nfa.next_state(Anchored::Yes, state, byte);
            if nfa.is_dead(state) {
                break;
            }
            if nfa.is_match(state) {
                let end = start + offset + 1;
                for match_index in 0..nfa.match_len(state) {
                    let local = nfa.match_pattern(state, match_index);
                    // A state also lists the terms of its failure states,
                    // which end here but start inside the word ("sudan" at
                    // the end of "south sudan"); only terms starting at the
                    // word's start are anchored here.
                    if nfa.pattern_len(local) != end - start {
                        continue;
                    }
                    let pattern = self.anchored_global[local.as_usize()];
                    self.accept(text, hits, start, end, pattern as usize, Some(index));
                }
            }
        }
    }

    /// The terms starting at ASCII word `index`, which passed the filter.
    #[inline(never)]
    fn ascii_word_hits(&self, text: &NormText, hits: &mut Vec<Hit>, index: usize) {
        let token = &text.tokens[index];
        let start = token.norm_start as usize;
        let end = token.norm_end as usize;
        self.ascii_words
            .matches(text.norm.as_bytes(), start, end, |end, pattern| {
                self.accept(text, hits, start, end, pattern as usize, Some(index));
            });
    }

    /// The terms that may start inside a word.
    #[inline(never)]
    fn floating_hits(&self, text: &NormText, hits: &mut Vec<Hit>) {
        let haystack = text.norm.as_str();
        self.floating_ascii.scan(text, |start, end, pattern| {
            self.accept(text, hits, start, end, pattern as usize, None);
        });
        if text.non_ascii {
            // Non-ASCII floating terms are written in non-Latin scripts and
            // can only match inside runs of non-ASCII text (with the spaces
            // between its words), so only those runs are scanned.
            let bytes = haystack.as_bytes();
            let mut position = 0;
            while position < bytes.len() {
                // Skip to the next non-ASCII byte in one search.
                match next_non_ascii(bytes, position) {
                    Some(found) => position = found,
                    None => break,
                }
                let run_start = position;
                let mut run_end = position;
                while position < bytes.len() && (bytes[position] >= 0x80 || bytes[position] == b' ')
                {
                    if bytes[position] >= 0x80 {
                        run_end = position + 1;
                    }
                    position += 1;
                }
                let input = Input::new(haystack).span(run_start..run_end);
                for found in self.floating_other.automaton.find_overlapping_iter(input) {
                    let pattern = self.floating_other.global[found.pattern().as_usize()];
                    self.accept(
                        text,
                        hits,
                        found.start(),
                        found.end(),
                        pattern as usize,
                        None,
                    );
                }
            }
        }
    }

    /// Turns one automaton match into hits, one per term entry whose
    /// word-boundary, capitals and following-word conditions hold. The
    /// floating scan only serves entries that may start inside a word.
    /// `start_token` is the word the match starts at when the caller knows
    /// it (the anchored walk); `None` marks the floating scan.
    fn accept(
        &self,
        text: &NormText,
        hits: &mut Vec<Hit>,
        start: usize,
        end: usize,
        pattern: usize,
        start_token: Option<usize>,
    ) {
        let floating = start_token.is_none();
        let left_bound =
            start_token.is_some() || start == 0 || !is_word_char_before(&text.norm, start);
        let right_bound = match text.norm.as_bytes().get(end) {
            None => true,
            Some(&byte) if byte < 0x80 => !byte.is_ascii_alphanumeric(),
            Some(_) => !is_word_char_at(&text.norm, end),
        };
        let range = self.entry_start[pattern] as usize..self.entry_start[pattern + 1] as usize;
        // The words the match covers, found once for all its entries.
        let tok_start = start_token.unwrap_or_else(|| text.token_at(start as u32));
        if tok_start >= text.tokens.len() {
            return;
        }
        let match_tok_end = if text.tokens[tok_start].norm_end >= end as u32 {
            tok_start
        } else if start_token.is_some() {
            // A term spans a few words: step to the last one it reaches.
            let mut last = tok_start;
            while text
                .tokens
                .get(last + 1)
                .is_some_and(|next| next.norm_start < end as u32)
            {
                last += 1;
            }
            last
        } else {
            text.token_ending_at(end as u32)
        };
        for entry in &self.entries[range] {
            if entry.open_left != floating {
                continue;
            }
            if (!left_bound && !entry.open_left) || (!right_bound && !entry.open_right) {
                continue;
            }
            // An open end extends the hit to the whole word, so evidence
            // shows "Waffenlieferungen", not "waffenliefer".
            let mut hit_start = start as u32;
            let mut hit_end = end as u32;
            let mut tok_end = match_tok_end;
            if entry.upper_only
                && !text.tokens[tok_start..=tok_end]
                    .iter()
                    .all(|token| token.no_lower)
            {
                continue;
            }
            if entry.open_left {
                hit_start = hit_start.min(text.tokens[tok_start].norm_start);
            }
            if entry.open_right {
                hit_end = hit_end.max(text.tokens[tok_end].norm_end);
            }
            if entry.rest != NO_REST {
                match self.follow(text, tok_end, &self.rests[entry.rest as usize]) {
                    Some(last) => {
                        tok_end = last;
                        hit_end = text.tokens[last].norm_end;
                    }
                    None => continue,
                }
            }
            hits.push(Hit {
                concept: entry.concept,
                entity: entry.entity,
                norm_start: hit_start,
                norm_end: hit_end,
                tok_start: tok_start as u32,
                tok_end: tok_end as u32,
                sentence: text.tokens[tok_start].sentence,
                in_title: hit_start < text.text_start,
            });
        }
    }

    /// Checks that the words after token `after` match `words`; returns the
    /// last matching token.
    fn follow(&self, text: &NormText, after: usize, words: &[(String, bool)]) -> Option<usize> {
        let sentence = text.tokens[after].sentence;
        let mut token = after;
        for (stem, open) in words {
            token += 1;
            if token >= text.tokens.len() || text.tokens[token].sentence != sentence {
                return None;
            }
            let word = text.word(token);
            let matches = if *open {
                word.starts_with(stem.as_str())
            } else {
                word == stem
            };
            if !matches {
                return None;
            }
        }
        Some(token)
    }

    fn index_by_concept(&self, scratch: &mut Scratch) {
        let Scratch {
            hits,
            by_concept,
            concept_start,
            ..
        } = scratch;
        concept_start.clear();
        concept_start.resize(self.concept_count + 1, 0);
        for hit in hits.iter() {
            concept_start[hit.concept as usize + 1] += 1;
        }
        for index in 1..concept_start.len() {
            concept_start[index] += concept_start[index - 1];
        }
        by_concept.clear();
        by_concept.resize(hits.len(), 0);
        let mut fill: Vec<u32> = concept_start[..self.concept_count].to_vec();
        // Hits are in text order, so each concept's slice is too.
        for (index, hit) in hits.iter().enumerate() {
            let slot = &mut fill[hit.concept as usize];
            by_concept[*slot as usize] = index as u32;
            *slot += 1;
        }
    }

    /// Every rule of `rules` that matches, with the hits of its first match.
    pub fn eval_rules(
        &self,
        scratch: &Scratch,
        rules: &[Rule],
        negative: bool,
        out: &mut Vec<RuleMatch>,
    ) {
        // Working lists shared by the rules, allocated once per call
        // rather than once per rule.
        let mut chosen = Vec::new();
        let mut sentences = Vec::new();
        for (rule_index, rule) in rules.iter().enumerate() {
            if let Some(hits) = self.eval_rule(scratch, rule, &mut chosen, &mut sentences) {
                out.push(RuleMatch {
                    rule: rule_index,
                    negative,
                    hits,
                });
            }
        }
    }

    fn concept_hits<'a>(&self, scratch: &'a Scratch, concept: u16) -> &'a [u32] {
        let start = scratch.concept_start[concept as usize] as usize;
        let end = scratch.concept_start[concept as usize + 1] as usize;
        &scratch.by_concept[start..end]
    }

    /// The hits of `concept` that may reach words `low..=high`: each
    /// concept's hits are in text order, so two binary searches bound them
    /// and a window check costs the same in a 5 KB or a 5 MB article.
    fn concept_hits_near<'a>(
        &self,
        scratch: &'a Scratch,
        concept: u16,
        low: u32,
        high: u32,
    ) -> &'a [u32] {
        let all = self.concept_hits(scratch, concept);
        let hits = &scratch.hits;
        // Multi-word hits start up to a few words before they end.
        let from = low.saturating_sub(MAX_HIT_WORDS);
        let start = all.partition_point(|&index| hits[index as usize].tok_start < from);
        let end = all.partition_point(|&index| hits[index as usize].tok_start <= high);
        &all[start..end.max(start)]
    }

    /// The hits of the first match of `rule`, if any; `chosen` and
    /// `sentences` are working lists (cleared first).
    fn eval_rule(
        &self,
        scratch: &Scratch,
        rule: &Rule,
        chosen: &mut Vec<u32>,
        sentences: &mut Vec<u32>,
    ) -> Option<Vec<u32>> {
        // A rule needs a hit of one of each entry's concepts somewhere in
        // the article: most rules lack one, and are settled by this before
        // any search or allocation.
        let present = |entry: &Vec<u16>| {
            entry
                .iter()
                .any(|&concept| !self.concept_hits(scratch, concept).is_empty())
        };
        if !rule.all.iter().all(present) {
            return None;
        }
        // Article-wide conditions do not depend on where the match is, so
        // they are settled once, before the search.
        if !rule.in_article.is_empty() && !self.article_holds(scratch, &rule.in_article) {
            return None;
        }
        if !rule.none_in_article.is_empty() && self.article_holds(scratch, &rule.none_in_article) {
            return None;
        }
        if !rule.none_in_title.is_empty() && self.title_holds(scratch, &rule.none_in_title) {
            return None;
        }
        // A closing aside: every hit of the first entry in the last
        // sentences of a text that tells at least three sentences before
        // them, none in the title (sentence 0 is the title's).
        if rule.closing_sentences > 0 {
            let last = scratch.text.tokens.last().map_or(0, |token| token.sentence);
            let first = last.saturating_sub(rule.closing_sentences - 1);
            let closing = first > MIN_SENTENCES_BEFORE_CLOSING
                && rule.all[0].iter().all(|&concept| {
                    self.hits_of(scratch, concept)
                        .all(|hit| !hit.in_title && hit.sentence >= first)
                });
            if !closing {
                return None;
            }
        }
        let hits = &scratch.hits;
        let mut best: Option<Vec<u32>> = None;
        chosen.clear();
        // Sentences in which the rule matched, up to `min_sentences`.
        sentences.clear();
        let wanted = rule.min_sentences as usize;
        // Outside sentence scope a `none` concept vetoes every match alike,
        // so it is checked once rather than per anchor.
        if rule.scope != Scope::Sentence
            && (rule.none.iter().any(|&concept| match rule.scope {
                Scope::Title => self.hits_of(scratch, concept).any(|hit| hit.in_title),
                _ => !self.concept_hits(scratch, concept).is_empty(),
            }) || rule.none_twice.iter().any(|&concept| {
                two_different(
                    self.hits_of(scratch, concept)
                        .filter(|hit| rule.scope != Scope::Title || hit.in_title),
                )
            }))
        {
            return None;
        }
        for &anchor_concept in &rule.all[0] {
            for &anchor in self.concept_hits(scratch, anchor_concept) {
                let anchor_hit = &hits[anchor as usize];
                if rule.scope == Scope::Title && !anchor_hit.in_title {
                    continue;
                }
                if wanted > 1 && sentences.contains(&anchor_hit.sentence) {
                    continue;
                }
                // Later anchors cannot beat an earlier match already found.
                if wanted == 1 {
                    if let Some(found) = &best {
                        if hits[found[0] as usize].norm_start <= anchor_hit.norm_start {
                            break;
                        }
                    }
                }
                chosen.clear();
                chosen.push(anchor);
                let mut complete = true;
                for entry in &rule.all[1..] {
                    match self.nearest(scratch, rule, anchor_hit, entry, chosen) {
                        Some(index) => chosen.push(index),
                        None => {
                            complete = false;
                            break;
                        }
                    }
                }
                if complete && !self.vetoed(scratch, rule, chosen) {
                    let earlier = best.as_ref().is_none_or(|found| {
                        hits[found[0] as usize].norm_start > anchor_hit.norm_start
                    });
                    if earlier {
                        best = Some(chosen.clone());
                    }
                    if wanted == 1 {
                        break;
                    }
                    sentences.push(anchor_hit.sentence);
                    if sentences.len() >= wanted {
                        return best;
                    }
                }
            }
        }
        if sentences.len() < wanted && wanted > 1 {
            return None;
        }
        best
    }

    /// Whether the article holds a hit for every entry, different hits for
    /// entries of the same concept (two countries are two entities). Hits
    /// are taken first come for each entry in turn, which is exact for the
    /// lists rules use (one concept per entry, or one kind repeated).
    fn article_holds(&self, scratch: &Scratch, entries: &[Vec<u16>]) -> bool {
        self.holds(scratch, entries, false)
    }

    /// As [`Engine::article_holds`], with only the title's hits.
    fn title_holds(&self, scratch: &Scratch, entries: &[Vec<u16>]) -> bool {
        self.holds(scratch, entries, true)
    }

    fn holds(&self, scratch: &Scratch, entries: &[Vec<u16>], title_only: bool) -> bool {
        let hits = &scratch.hits;
        let mut taken: Vec<u32> = Vec::with_capacity(entries.len());
        for entry in entries {
            let found = entry.iter().find_map(|&concept| {
                self.concept_hits(scratch, concept)
                    .iter()
                    .copied()
                    // The title comes first, so its hits are a prefix.
                    .take_while(|&index| !title_only || hits[index as usize].in_title)
                    .find(|&index| {
                        let hit = &hits[index as usize];
                        !taken
                            .iter()
                            .any(|&other| hits[other as usize].is_same_thing(hit))
                    })
            });
            match found {
                Some(index) => taken.push(index),
                None => return false,
            }
        }
        true
    }

    /// The hit of one of `concepts` closest to `anchor` that the rule's scope
    /// allows and that is not already part of the match.
    fn nearest(
        &self,
        scratch: &Scratch,
        rule: &Rule,
        anchor: &Hit,
        concepts: &[u16],
        chosen: &[u32],
    ) -> Option<u32> {
        let hits = &scratch.hits;
        let mut best: Option<(u32, u32)> = None;
        for &concept in concepts {
            let candidates = match rule.scope {
                Scope::Sentence => self.concept_hits_near(
                    scratch,
                    concept,
                    anchor.tok_start.saturating_sub(rule.window),
                    anchor.tok_end + rule.window,
                ),
                Scope::Title | Scope::Document => self.concept_hits(scratch, concept),
            };
            for &index in candidates {
                let hit = &hits[index as usize];
                let allowed = match rule.scope {
                    Scope::Sentence => {
                        hit.sentence == anchor.sentence && anchor.gap(hit) <= rule.window
                    }
                    Scope::Title => hit.in_title,
                    Scope::Document => true,
                };
                if !allowed {
                    continue;
                }
                // Two entries naming the same kind want two different
                // things ("country" twice: a supplier and a recipient).
                let duplicate = chosen
                    .iter()
                    .any(|&other| hits[other as usize].is_same_thing(hit));
                if duplicate {
                    continue;
                }
                let distance = anchor.gap(hit);
                if best.is_none_or(|(_, best_distance)| distance < best_distance) {
                    best = Some((index, distance));
                }
            }
        }
        best.map(|(index, _)| index)
    }

    fn vetoed(&self, scratch: &Scratch, rule: &Rule, chosen: &[u32]) -> bool {
        // Other scopes were checked once in `eval_rule`.
        if (rule.none.is_empty() && rule.none_twice.is_empty()) || rule.scope != Scope::Sentence {
            return false;
        }
        let hits = &scratch.hits;
        let first = &hits[chosen[0] as usize];
        let low = chosen
            .iter()
            .map(|&index| hits[index as usize].tok_start)
            .min()
            .unwrap_or(0);
        let high = chosen
            .iter()
            .map(|&index| hits[index as usize].tok_end)
            .max()
            .unwrap_or(0);
        let in_reach = |concept: u16| {
            self.concept_hits_near(
                scratch,
                concept,
                low.saturating_sub(rule.window),
                high + rule.window,
            )
            .iter()
            .map(|&index| &hits[index as usize])
            .filter(|hit| {
                hit.sentence == first.sentence
                    && hit.tok_end + rule.window >= low
                    && hit.tok_start <= high + rule.window
            })
        };
        rule.none
            .iter()
            .any(|&concept| in_reach(concept).next().is_some())
            || rule
                .none_twice
                .iter()
                .any(|&concept| two_different(in_reach(concept)))
    }

    /// Hits of `concept`, in text order.
    pub fn hits_of<'a>(
        &self,
        scratch: &'a Scratch,
        concept: u16,
    ) -> impl Iterator<Item = &'a Hit> + 'a {
        self.concept_hits(scratch, concept)
            .iter()
            .map(move |&index| &scratch.hits[index as usize])
    }
}

/// Whether `hits` (of one concept) hold two different things: two entities,
/// or two hits at different places for a plain lexicon.
fn two_different<'a>(mut hits: impl Iterator<Item = &'a Hit>) -> bool {
    let Some(first) = hits.next() else {
        return false;
    };
    hits.any(|hit| {
        if hit.entity != NO_ENTITY {
            hit.entity != first.entity
        } else {
            hit.norm_start != first.norm_start
        }
    })
}

/// Sorts hits into text order, longest first at each start, drops
/// duplicates and entities inside longer entities of the same kind.
#[inline(never)]
fn order_hits(hits: &mut Vec<Hit>) {
    let key = |hit: &Hit| {
        (
            hit.norm_start,
            std::cmp::Reverse(hit.norm_end),
            hit.concept,
            hit.entity,
        )
    };
    // The anchored hits come in text order except among the terms starting
    // at one word, and the floating ones are few: an insertion sort moves
    // only those, where a general sort would compare every hit many times.
    // Should the moves pile up (a text full of floating terms), the
    // general sort takes over, so the cost stays n log n.
    let mut moves_left = 4 * hits.len() + 64;
    for index in 1..hits.len() {
        let mut position = index;
        while position > 0 && key(&hits[position - 1]) > key(&hits[position]) {
            hits.swap(position - 1, position);
            position -= 1;
            moves_left = moves_left.saturating_sub(1);
        }
        if moves_left == 0 {
            hits.sort_unstable_by_key(key);
            break;
        }
    }
    hits.dedup_by(|later, earlier| {
        later.concept == earlier.concept
            && later.entity == earlier.entity
            && later.norm_start == earlier.norm_start
            && later.norm_end == earlier.norm_end
    });
    // An entity named inside a longer name of the same kind ("Korea" in
    // "North Korea") is not a second entity.
    // `reach[c]`: the furthest end of a kept hit of entity kind `c`; a hit
    // ending beyond it is inside none, which settles most without a look
    // back.
    let mut reach = [0u32; ENTITY_CONCEPTS.len()];
    let mut kept = 0;
    for index in 0..hits.len() {
        let hit = hits[index];
        let kind = hit.concept as usize;
        let is_entity = kind < ENTITY_CONCEPTS.len();
        let inside = is_entity
            && reach[kind] >= hit.norm_end
            && hits[..kept].iter().rev().take(8).any(|earlier| {
                earlier.concept == hit.concept
                    && earlier.norm_start <= hit.norm_start
                    && earlier.norm_end >= hit.norm_end
                    && (earlier.norm_end - earlier.norm_start) > (hit.norm_end - hit.norm_start)
            });
        if !inside {
            if is_entity {
                reach[kind] = reach[kind].max(hit.norm_end);
            }
            hits[kept] = hit;
            kept += 1;
        }
    }
    hits.truncate(kept);
}

/// The index of the first byte of 0x80 or above at or after `from`, eight
/// bytes at a time: an article with one accented name is otherwise read a
/// byte at a time to its end.
fn next_non_ascii(bytes: &[u8], from: usize) -> Option<usize> {
    let mut position = from;
    while let Some(eight) = bytes.get(position..position + 8) {
        let chunk = u64::from_le_bytes(eight.try_into().expect("eight bytes"));
        let high = chunk & 0x8080_8080_8080_8080;
        if high != 0 {
            return Some(position + (high.trailing_zeros() / 8) as usize);
        }
        position += 8;
    }
    bytes[position.min(bytes.len())..]
        .iter()
        .position(|&byte| byte >= 0x80)
        .map(|skip| position + skip)
}

fn is_word_char_before(text: &str, byte: usize) -> bool {
    text[..byte].chars().next_back().is_some_and(is_word_char)
}

fn is_word_char_at(text: &str, byte: usize) -> bool {
    text[byte..].chars().next().is_some_and(is_word_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(norm_start: u32, norm_end: u32, concept: u16) -> Hit {
        Hit {
            concept,
            entity: NO_ENTITY,
            norm_start,
            norm_end,
            tok_start: norm_start,
            tok_end: norm_end,
            sentence: 0,
            in_title: false,
        }
    }

    /// Hits in any order come out as a full sort would put them, with
    /// duplicates dropped: in order but for a few (the insertion sort's
    /// case), reversed, and shuffled (past its move budget).
    #[test]
    fn hits_are_ordered_whatever_order_they_come_in() {
        let sorted: Vec<Hit> = (0..400)
            .map(|index| {
                hit(
                    index * 3,
                    index * 3 + 1 + index % 3,
                    10 + (index % 5) as u16,
                )
            })
            .collect();
        let key = |hit: &Hit| (hit.norm_start, hit.norm_end, hit.concept);
        let mut nearly = sorted.clone();
        nearly.swap(10, 11);
        nearly.push(sorted[5]);
        let mut reversed = sorted.clone();
        reversed.reverse();
        let mut shuffled = sorted.clone();
        let mut seed = 0x9e37_79b9_u64;
        for index in (1..shuffled.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            shuffled.swap(index, (seed % (index as u64 + 1)) as usize);
        }
        for mut hits in [nearly, reversed, shuffled] {
            order_hits(&mut hits);
            let got: Vec<_> = hits.iter().map(key).collect();
            let want: Vec<_> = sorted.iter().map(key).collect();
            assert_eq!(got, want);
        }
    }

    /// The word-start filter only skips the automaton walk; it must never
    /// reject a word that begins an anchored term, whatever follows it.
    #[test]
    fn word_start_filter_passes_every_anchored_term() {
        let taxonomy = Taxonomy::builtin();
        let engine = Engine::new(&taxonomy);
        for term in taxonomy.terms.iter().filter(|term| !term.open_left) {
            for rest in ["", " ", "s", " x.", "\n"] {
                let word = format!("{}{rest}", term.text);
                assert!(
                    engine.word_starts.may_start(word.as_bytes()),
                    "filter rejects {word:?}"
                );
            }
        }
    }

    /// The ASCII terms that may start inside a word, and an automaton of
    /// them for whole-text overlapping searches to compare with.
    fn in_word_terms(taxonomy: &Taxonomy) -> (Vec<&str>, AhoCorasick) {
        let patterns: Vec<&str> = taxonomy
            .terms
            .iter()
            .filter(|term| term.open_left && term.text.is_ascii())
            .map(|term| term.text.as_str())
            .collect();
        let whole = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .unwrap();
        (patterns, whole)
    }

    /// Walking words one by one finds what the whole-text overlapping
    /// search it replaced finds.
    #[test]
    fn floating_terms_found_per_word_as_in_whole_text() {
        let taxonomy = Taxonomy::builtin();
        let engine = Engine::new(&taxonomy);
        let mut text = NormText::default();
        text.build(
            "Rüstungsexporte und Waffenlieferungen",
            "Die Panzerhaubitze, Kampfflugzeuge und Munition; exports of \
             ammunition, Waffenexportgesetz, sanktionen, weiterzugeben.",
        );
        let mut per_word = Vec::new();
        assert!(engine.floating_ascii.in_words);
        for token in &text.tokens {
            engine.floating_ascii.scan_word(
                text.norm.as_bytes(),
                token.norm_start as usize,
                token.norm_end as usize,
                |start, end, pattern| per_word.push((start, end, pattern)),
            );
        }
        let (patterns, whole) = in_word_terms(&taxonomy);
        let mut expected: Vec<(usize, usize, &str)> = whole
            .find_overlapping_iter(text.norm.as_str())
            .map(|found| {
                (
                    found.start(),
                    found.end(),
                    patterns[found.pattern().as_usize()],
                )
            })
            .collect();
        let mut found: Vec<(usize, usize, &str)> = per_word
            .iter()
            .map(|&(start, end, _)| (start, end, &text.norm[start..end]))
            .collect();
        expected.sort_unstable();
        expected.dedup();
        found.sort_unstable();
        found.dedup();
        assert!(!found.is_empty());
        assert_eq!(found, expected);
    }

    /// In-word terms are only looked for in the words where one of them
    /// occurs: searched from each such word to the next, the first starts
    /// land in exactly the words that hold any occurrence (overlapping ones
    /// included), in text with none, with one late and with several; and a
    /// term late in a long article is still found.
    #[test]
    fn in_word_terms_looked_for_in_the_words_that_hold_one() {
        let late = format!(
            "{} Später kamen die Waffenlieferungen.",
            "Ein langer Bericht ohne das Stichwort. ".repeat(40)
        );
        let texts = [
            "Nothing here but long words: international development.".to_string(),
            late.clone(),
            "Kleinwaffen, dann Rüstungsexporte und Panzerhaubitzen.".to_string(),
        ];
        assert!(
            in_word_starts_agree(&texts) >= 2,
            "too few texts with in-word terms"
        );
        let taxonomy = Taxonomy::builtin();
        let engine = Engine::new(&taxonomy);
        let mut scratch = Scratch::default();
        scratch.text.build("", &late);
        engine.find_hits(&mut scratch);
        let position = scratch.text.norm.find("waffenlieferungen").unwrap() as u32;
        assert!(
            scratch
                .hits
                .iter()
                .any(|hit| hit.norm_start <= position && position < hit.norm_end),
            "no hit on the late compound"
        );
    }

    /// The same on every article of the shared dev corpus.
    #[test]
    #[cfg_attr(not(shared_data), ignore = "needs ../shared/ beside the repository")]
    fn in_word_terms_looked_for_in_the_words_that_hold_one_on_the_dev_corpus() {
        let texts: Vec<String> = crate::dev_corpus()
            .iter()
            .map(|item| item["text"].as_str().unwrap_or("").to_string())
            .collect();
        let with_terms = in_word_starts_agree(&texts);
        assert!(
            with_terms > 20,
            "only {with_terms} articles with in-word terms"
        );
    }

    /// Walks the in-word starts of each text and asserts they land in
    /// exactly the words holding an occurrence; returns how many texts
    /// held any.
    fn in_word_starts_agree(texts: &[String]) -> usize {
        let taxonomy = Taxonomy::builtin();
        let engine = Engine::new(&taxonomy);
        let (_, whole) = in_word_terms(&taxonomy);
        let mut scratch = Scratch::default();
        let mut with_terms = 0;
        for source in texts {
            scratch.text.build("", source);
            let text = &scratch.text;
            let norm = text.norm.as_str();
            let mut holding: Vec<usize> = whole
                .find_overlapping_iter(norm)
                .map(|found| text.token_at(found.start() as u32))
                .collect();
            holding.dedup();
            let mut visited = Vec::new();
            let mut from = 0;
            while let Some(start) = engine.floating_ascii.next_start(norm, from) {
                let word = text.token_at(start as u32);
                visited.push(word);
                from = text.tokens[word].norm_end as usize;
            }
            assert_eq!(visited, holding, "in {source:?}");
            with_terms += usize::from(!holding.is_empty());
        }
        with_terms
    }
}

#[cfg(test)]
mod word_index_tests {
    use super::*;

    /// A hit's position, term and words, for comparing two hit lists.
    type HitKey = (u32, u32, u16, u32, u32, u32);

    fn keys(hits: &[Hit]) -> Vec<HitKey> {
        let mut keys: Vec<HitKey> = hits
            .iter()
            .map(|hit| {
                let Hit {
                    norm_start,
                    norm_end,
                    concept,
                    entity,
                    tok_start,
                    tok_end,
                    ..
                } = *hit;
                (norm_start, norm_end, concept, entity, tok_start, tok_end)
            })
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// The hits the automaton walk accepts at the start of each ASCII word
    /// (the way every word was matched before the index), and the hits
    /// from the index's candidates.
    fn walked_and_indexed(engine: &Engine, text: &NormText) -> (Vec<HitKey>, Vec<HitKey>) {
        let bytes = text.norm.as_bytes();
        let nfa = &engine.anchored_nfa;
        let start_state = nfa.start_state(Anchored::Yes).unwrap();
        let mut walked = Vec::new();
        let mut indexed = Vec::new();
        for (index, token) in text.tokens.iter().enumerate() {
            if !token.ascii {
                continue;
            }
            let start = token.norm_start as usize;
            let mut state = start_state;
            for (offset, &byte) in bytes[start..].iter().enumerate() {
                state = nfa.next_state(Anchored::Yes, state, byte);
                if nfa.is_dead(state) {
                    break;
                }
                if !nfa.is_match(state) {
                    continue;
                }
                for match_index in 0..nfa.match_len(state) {
                    let local = nfa.match_pattern(state, match_index);
                    if nfa.pattern_len(local) != offset + 1 {
                        continue;
                    }
                    let pattern = engine.anchored_global[local.as_usize()] as usize;
                    let end = start + offset + 1;
                    engine.accept(text, &mut walked, start, end, pattern, Some(index));
                }
            }
            let end = token.norm_end as usize;
            engine
                .ascii_words
                .matches(bytes, start, end, |end, pattern| {
                    engine.accept(
                        text,
                        &mut indexed,
                        start,
                        end,
                        pattern as usize,
                        Some(index),
                    );
                });
        }
        (keys(&walked), keys(&indexed))
    }

    /// The word index is an exact replacement for the walk on ASCII words:
    /// same hits on our own fixtures and on text made to hit its edges
    /// (terms running past the word, stems, three-byte stems, words of
    /// eight bytes and more, the end of the text).
    #[test]
    fn word_index_finds_what_the_walk_finds() {
        let taxonomy = Taxonomy::builtin();
        let engine = Engine::new(&taxonomy);
        let texts = [
            include_str!("../tests/fixtures/seed-own-words.txt"),
            "An arms embargo on South Sudan and Sudan. U.S. sanctions on the \
             DPRK's arms-for-oil deals; RPGs and rpg launchers, sanctioned \
             entities, the Treasury's OFAC, Department of the Treasury, \
             surface-to-air missiles, counterintelligence, re-exported \
             Waffenlieferungen, North Korea's, United Kingdom, arms",
            "sanction",
        ];
        let mut text = NormText::default();
        let mut compared = 0;
        for source in texts {
            text.build("Arms sale", source);
            let (walked, indexed) = walked_and_indexed(&engine, &text);
            assert_eq!(walked, indexed, "in {source:?}");
            compared += walked.len();
        }
        assert!(compared > 40, "only {compared} hits compared");
    }

    /// The same on every item of the shared dev corpus, in all its
    /// languages.
    #[test]
    #[cfg_attr(not(shared_data), ignore = "needs ../shared/ beside the repository")]
    fn word_index_finds_what_the_walk_finds_on_the_dev_corpus() {
        let corpus = crate::dev_corpus();
        let taxonomy = Taxonomy::builtin();
        let engine = Engine::new(&taxonomy);
        let mut text = NormText::default();
        let mut compared = 0;
        for item in &corpus {
            let body = item["text"].as_str().unwrap_or("");
            text.build(item["title"].as_str().unwrap_or(""), body);
            let (walked, indexed) = walked_and_indexed(&engine, &text);
            assert_eq!(walked, indexed, "in item {}", item["id"]);
            compared += walked.len();
        }
        assert!(compared > 1000, "only {compared} hits compared");
    }
}
