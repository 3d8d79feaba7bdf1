//! Entities from the hits of one article: countries, bodies and weapon
//! types by canonical name; the people and organisations named in a role
//! (designated, buyer, seller, broker); supplier -> recipient transfers; and
//! names from a loaded sanctions list.
//!
//! Roles come from short patterns over the hits and the capitalised words
//! of the text, using word lists from the taxonomy (`designation_verb`,
//! `broker_cue`, `sell_verb`, `buy_verb`, `person_title`); a taxonomy without
//! one of them just finds fewer roles.

use std::cell::RefCell;

use wirewatch_model::{Entities, Party, PartyRole, Transfer};

use crate::engine::{Engine, Hit, Scratch, NO_ENTITY};
use crate::taxonomy::{Taxonomy, BODY, COUNTRY, WEAPON};
use crate::text::NormText;
use crate::{Document, SanctionsList};

/// Capitalised words that start sentences or titles rather than names.
const NOT_NAMES: &[&str] = &[
    "the",
    "a",
    "an",
    "in",
    "on",
    "at",
    "of",
    "for",
    "and",
    "but",
    "or",
    "he",
    "she",
    "it",
    "they",
    "we",
    "i",
    "his",
    "her",
    "its",
    "their",
    "this",
    "that",
    "these",
    "those",
    "mr",
    "mrs",
    "ms",
    "dr",
    "according",
    "officials",
    "president",
    "minister",
    "secretary",
    "spokesman",
    "spokeswoman",
    "national",
    "council",
    "ministry",
    "department",
    "government",
    "under",
    "after",
    "before",
    "since",
    "when",
    "while",
    "if",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "us",
    "un",
    "eu",
    "uk",
    "any",
    "at",
    "between",
    "prime",
    "foreign",
    "office",
    "state",
    "states",
    "security",
    "treasury",
    "house",
    "white",
    "senate",
    "congress",
    "court",
    "agency",
    "bureau",
    "today",
    "der",
    "die",
    "das",
    "le",
    "la",
    "les",
    "el",
    "los",
    "las",
    "de",
    "del",
    "von",
];

/// Role cues looked at per kind: past the first few dozen, a long article
/// only repeats itself, and the bound keeps extraction linear in its size.
const MAX_ROLE_CUES: usize = 64;

/// Slots of [`COMMON_TABLE`], eight or so per common word: a lookup of a
/// word that is not in the list (most capitalised words are names) then
/// usually ends at an empty slot without comparing a single string.
const COMMON_SLOTS: usize = 1024;

const _: () = assert!(NOT_NAMES.len() < u8::MAX as usize && NOT_NAMES.len() < COMMON_SLOTS);

/// The longest common word, in bytes: longer words skip the table.
const LONGEST_COMMON: usize = {
    let mut longest = 0;
    let mut word = 0;
    while word < NOT_NAMES.len() {
        if NOT_NAMES[word].len() > longest {
            longest = NOT_NAMES[word].len();
        }
        word += 1;
    }
    longest
};

/// The home slot of a word in [`COMMON_TABLE`]. The common words are our
/// own short list, so the hash needs no defence against chosen collisions
/// and mixes only the length and three bytes: hashing every byte, as a
/// general set does, cost more than the rest of name finding on every
/// capitalised word of every article.
const fn common_slot(bytes: &[u8]) -> usize {
    let len = bytes.len();
    if len == 0 {
        return 0;
    }
    let second = if len > 1 { bytes[1] } else { 0 };
    let key =
        (len as u32) << 24 | (bytes[0] as u32) << 16 | (second as u32) << 8 | bytes[len - 1] as u32;
    // Fibonacci hashing: the top bits of the product spread the keys.
    (key.wrapping_mul(0x9e37_79b9) >> (32 - COMMON_SLOTS.trailing_zeros())) as usize
}

/// An open-addressing table of [`NOT_NAMES`]: each slot holds 1 + the index
/// of a word whose home slot is there or, after a collision, before it
/// with no empty slot in between; 0 is empty. Built at compile time.
static COMMON_TABLE: [u8; COMMON_SLOTS] = {
    let mut table = [0u8; COMMON_SLOTS];
    let mut word = 0;
    while word < NOT_NAMES.len() {
        let mut slot = common_slot(NOT_NAMES[word].as_bytes());
        while table[slot] != 0 {
            slot = (slot + 1) % COMMON_SLOTS;
        }
        table[slot] = word as u8 + 1;
        word += 1;
    }
    table
};

/// Whether a capitalised word (normalized to lowercase) is a common word
/// rather than part of a name.
fn is_common_word(word: &[u8]) -> bool {
    if word.len() > LONGEST_COMMON {
        return false;
    }
    let mut slot = common_slot(word);
    loop {
        match COMMON_TABLE[slot] {
            0 => return false,
            entry if NOT_NAMES[usize::from(entry) - 1].as_bytes() == word => return true,
            _ => slot = (slot + 1) % COMMON_SLOTS,
        }
    }
}

/// Whether a word (whole UTF-8 characters) has more than one character,
/// that is more bytes than its first character takes: counting them all
/// cost more than the rest of the test.
fn has_two_chars(word: &[u8]) -> bool {
    let first_len = match word.first() {
        None => return false,
        Some(&lead) if lead < 0x80 => 1,
        Some(&lead) if lead < 0xe0 => 2,
        Some(&lead) if lead < 0xf0 => 3,
        Some(_) => 4,
    };
    word.len() > first_len
}

/// Whether word `index` can be part of a name: capitalised, outside any
/// country or body name, longer than one letter and not a common word.
/// Bytes rather than a `&str`, so that taking the word checks no
/// character boundaries.
#[inline]
fn is_name_word(text: &NormText, in_entity: &[bool], index: usize) -> bool {
    let token = &text.tokens[index];
    if !token.capitalized || in_entity[index] {
        return false;
    }
    let word = &text.norm.as_bytes()[token.norm_start as usize..token.norm_end as usize];
    has_two_chars(word) && !is_common_word(word)
}

/// A run of capitalised words. It holds its normalized byte range, not its
/// text: few names are ever reported, so their source text is mapped back
/// only for those (see [`Names::full_name`]).
#[derive(Clone, Copy, Debug)]
struct Name {
    /// Token range, inclusive.
    first: usize,
    last: usize,
    norm_start: u32,
    norm_end: u32,
}

/// The index of the first name starting after word `token` (names are in
/// text order and do not overlap).
fn first_name_after(names: &[Name], token: usize) -> Option<usize> {
    let index = names.partition_point(|name| name.first <= token);
    (index < names.len()).then_some(index)
}

/// The index of the last name ending before word `token`.
fn last_name_before(names: &[Name], token: usize) -> Option<usize> {
    names
        .partition_point(|name| name.last < token)
        .checked_sub(1)
}

/// The names of one article, with the text they are mapped back to when
/// reported.
struct Names<'s, 'a> {
    spans: &'s [Name],
    text: &'s NormText,
    source: &'a str,
}

impl<'a> Names<'_, 'a> {
    /// The longest name in the article ending with the same word as name
    /// `short`: "Mr. Mkrtychev" is "Ashot Mkrtychev" when the article
    /// names him in full.
    fn full_name(&self, short: usize) -> &'a str {
        let source = self.source;
        let text = self.text;
        let range_of = |name: &Name| {
            let slice = text.source_slice(source, name.norm_start, name.norm_end);
            // A slice of text is a slice of `source`; only an empty one may
            // point elsewhere, and any empty range stands for it.
            let start = crate::offset_in(source, slice).unwrap_or(0);
            (start, start + slice.len())
        };
        let short_name = &self.spans[short];
        let (short_start, short_end) = range_of(short_name);
        let short_text = &source[short_start..short_end];
        let surname = short_text
            .rsplit(' ')
            .next()
            .unwrap_or(short_text)
            .as_bytes();
        // Length and last byte first: they are inline compares and reject
        // most names before `ends_with` calls out to compare memory.
        let surname_last = surname.last().copied();
        let bytes = source.as_bytes();
        // A name whose text ends with the surname has a last word ending
        // with the short name's last word, also once lowercased: that test,
        // on the normalized words, picks the few names worth mapping back
        // to the source text.
        let norm = text.norm.as_bytes();
        let last_word = |name: &Name| {
            let token = &text.tokens[name.last];
            &norm[token.norm_start as usize..token.norm_end as usize]
        };
        let short_last = last_word(short_name);
        self.spans
            .iter()
            .filter(|name| {
                let word = last_word(name);
                word.last() == short_last.last() && word.ends_with(short_last)
            })
            .map(range_of)
            .filter(|&(start, end)| {
                end - start > short_text.len()
                    && (surname_last.is_none() || Some(bytes[end - 1]) == surname_last)
                    && bytes[start..end].ends_with(surname)
            })
            .max_by_key(|&(start, end)| end - start)
            .map_or(short_text, |(start, end)| &source[start..end])
    }
}

/// Buffers of [`extract`], kept per thread and cleared rather than freed
/// between articles, like the matcher's own scratch space (which belongs
/// to the engine and holds nothing of this module's).
#[derive(Default)]
struct EntityScratch {
    /// Per word of the article: whether a country or body name covers it.
    in_entity: Vec<bool>,
    names: Vec<Name>,
    /// Entity indices of one kind already listed.
    seen_entities: Vec<u32>,
}

thread_local! {
    static ENTITY_SCRATCH: RefCell<EntityScratch> = RefCell::new(EntityScratch::default());
}

/// Entity buffers above this are released after use, so one giant article
/// does not pin their memory for the life of the thread. A quarter of the
/// bound on the text buffers: these hold a few bytes per word, not per byte.
const ENTITY_SCRATCH_KEEP_BYTES: usize = crate::SCRATCH_KEEP_BYTES / 4;

fn push_unique(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|existing| existing == value) {
        list.push(value.to_string());
    }
}

pub(crate) fn extract(
    taxonomy: &Taxonomy,
    engine: &Engine,
    scratch: &Scratch,
    document: &Document<'_>,
    sanctions_list: Option<&SanctionsList>,
) -> Entities {
    let mut entities = Entities::default();
    ENTITY_SCRATCH.with(|cell| {
        let mut buffers = cell.borrow_mut();
        // Each list in text order: a concept's hits are in text order. The
        // distinct entities are gathered first, by index, which is cheaper
        // to compare than a name and sizes the list once.
        let seen = &mut buffers.seen_entities;
        for (concept, list) in [
            (COUNTRY, &mut entities.countries),
            (BODY, &mut entities.organisations),
            (WEAPON, &mut entities.weapon_types),
        ] {
            seen.clear();
            for hit in engine.hits_of(scratch, concept) {
                if hit.entity != NO_ENTITY && !seen.contains(&hit.entity) {
                    seen.push(hit.entity);
                }
            }
            list.reserve_exact(seen.len());
            let canonical = &taxonomy.entities[concept as usize];
            for &entity in seen.iter() {
                push_unique(list, &canonical[entity as usize]);
            }
        }
        // Names are only asked for near a role cue: an article without
        // any skips the scan of its words.
        let roles = &taxonomy.roles;
        let any_cue = [
            roles.designation_verb,
            roles.broker_cue,
            roles.sell_verb,
            roles.buy_verb,
            roles.person_title,
        ]
        .into_iter()
        .flatten()
        .any(|cue| engine.hits_of(scratch, cue).next().is_some());
        if any_cue {
            find_names(engine, scratch, &mut buffers);
            let names = Names {
                spans: &buffers.names,
                text: &scratch.text,
                source: document.text,
            };
            find_parties(taxonomy, engine, scratch, &names, &mut entities);
        }
        let kept = buffers.in_entity.capacity() * std::mem::size_of::<bool>()
            + buffers.names.capacity() * std::mem::size_of::<Name>()
            + buffers.seen_entities.capacity() * std::mem::size_of::<u32>();
        if kept > ENTITY_SCRATCH_KEEP_BYTES {
            *buffers = EntityScratch::default();
        }
    });
    find_transfers(taxonomy, engine, scratch, &mut entities);
    if let Some(list) = sanctions_list {
        entities.sanctions_list_matches = list.find(&scratch.text.norm);
    }
    entities
}

/// Runs of capitalised words in the text (not the title, which is often in
/// title case or capitals) that are not entity names or sentence openers,
/// into `buffers.names`.
fn find_names(engine: &Engine, scratch: &Scratch, buffers: &mut EntityScratch) {
    let text = &scratch.text;
    let EntityScratch {
        in_entity, names, ..
    } = buffers;
    in_entity.clear();
    in_entity.resize(text.tokens.len(), false);
    for concept in [COUNTRY, BODY] {
        for hit in engine.hits_of(scratch, concept) {
            if hit.entity != NO_ENTITY {
                in_entity[hit.tok_start as usize..=hit.tok_end as usize].fill(true);
            }
        }
    }
    names.clear();
    let tokens = &text.tokens;
    // Tokens are in text order, so the text's words are those from here on.
    let text_words = tokens.partition_point(|token| token.norm_start < text.text_start);
    // The first word that is not yet part of a name.
    let mut index = text_words;
    // Most words are not capitalised. The capitalised ones are taken 64
    // words at a time as bits, in a pass with no branch per word, where a
    // scan for the next one stopped (and mispredicted) at each.
    for (chunk_index, chunk) in tokens[text_words..].chunks(64).enumerate() {
        let base = text_words + 64 * chunk_index;
        let mut capitals = chunk
            .iter()
            .enumerate()
            .fold(0u64, |bits, (offset, token)| {
                bits | u64::from(token.capitalized) << offset
            });
        while capitals != 0 {
            let first = base + capitals.trailing_zeros() as usize;
            capitals &= capitals - 1;
            // Inside a name already found.
            if first < index || !is_name_word(text, in_entity, first) {
                continue;
            }
            let mut last = first;
            while last + 1 < tokens.len()
                && last - first < 3
                && is_name_word(text, in_entity, last + 1)
                && text.tokens[last + 1].sentence == text.tokens[last].sentence
                && joined_by_space(text, last)
            {
                last += 1;
            }
            names.push(Name {
                first,
                last,
                norm_start: text.tokens[first].norm_start,
                norm_end: text.tokens[last].norm_end,
            });
            index = last + 1;
        }
    }
}

/// Whether word `token` comes right after a colon: what a cue announced
/// ("the middleman ...: Ashot Mkrtychev").
fn after_colon(text: &NormText, token: usize) -> bool {
    token > 0 && {
        let gap = &text.norm
            [text.tokens[token - 1].norm_end as usize..text.tokens[token].norm_start as usize];
        gap.trim_end() == ":"
    }
}

fn joined_by_space(text: &NormText, token: usize) -> bool {
    let gap = &text.norm
        [text.tokens[token].norm_end as usize..text.tokens[token + 1].norm_start as usize];
    gap == " " || gap == "-"
}

/// Adds `name` to the people and, once per role, to the parties; copies
/// it only when it is new.
fn add_party(entities: &mut Entities, name: &str, role: PartyRole) {
    add_person(entities, name);
    if !entities
        .parties
        .iter()
        .any(|party| party.name == name && party.role == role)
    {
        entities.parties.push(Party {
            name: name.to_string(),
            role,
        });
    }
}

fn add_person(entities: &mut Entities, name: &str) {
    if !entities.people.iter().any(|person| person == name) {
        entities.people.push(name.to_string());
    }
}

fn find_parties(
    taxonomy: &Taxonomy,
    engine: &Engine,
    scratch: &Scratch,
    names: &Names,
    entities: &mut Entities,
) {
    let text = &scratch.text;
    let spans = names.spans;
    let sentence_of = |token: usize| text.tokens[token].sentence;
    // "sanctioned Mr. Mkrtychev", "designated Ivan Petrov": a name just
    // after the verb; "Petrov was sanctioned": a name just before it.
    if let Some(designation) = taxonomy.roles.designation_verb {
        for hit in engine.hits_of(scratch, designation).take(MAX_ROLE_CUES) {
            let after = first_name_after(spans, hit.tok_end as usize).filter(|&index| {
                let name = &spans[index];
                name.first <= hit.tok_end as usize + 3 && sentence_of(name.first) == hit.sentence
            });
            let before = last_name_before(spans, hit.tok_start as usize).filter(|&index| {
                let name = &spans[index];
                name.last + 3 >= hit.tok_start as usize
                    && sentence_of(name.last) == hit.sentence
                    && passive_between(text, name.last, hit.tok_start as usize)
            });
            if let Some(index) = after.or(before) {
                add_party(entities, names.full_name(index), PartyRole::Designated);
            }
        }
    }
    // "X ... brokered the deal", "arms dealer X", "X helped facilitate",
    // "named the middleman at the centre of it: X".
    if let Some(broker) = taxonomy.roles.broker_cue {
        for hit in engine.hits_of(scratch, broker).take(MAX_ROLE_CUES) {
            let after = first_name_after(spans, hit.tok_end as usize).filter(|&index| {
                let name = &spans[index];
                let near = name.first <= hit.tok_end as usize + 2
                    || (name.first <= hit.tok_end as usize + 12 && after_colon(text, name.first));
                near && sentence_of(name.first) == hit.sentence
            });
            let before = last_name_before(spans, hit.tok_start as usize).filter(|&index| {
                let name = &spans[index];
                name.last + 25 >= hit.tok_start as usize && sentence_of(name.last) == hit.sentence
            });
            if let Some(index) = after.or(before) {
                add_party(entities, names.full_name(index), PartyRole::Broker);
            }
        }
    }
    // A name right before a verb of selling or buying.
    for (verb, role) in [
        (taxonomy.roles.sell_verb, PartyRole::Seller),
        (taxonomy.roles.buy_verb, PartyRole::Buyer),
    ] {
        let Some(verb) = verb else {
            continue;
        };
        for hit in engine.hits_of(scratch, verb).take(MAX_ROLE_CUES) {
            let before = last_name_before(spans, hit.tok_start as usize).filter(|&index| {
                let name = &spans[index];
                name.last + 2 >= hit.tok_start as usize && sentence_of(name.last) == hit.sentence
            });
            if let Some(index) = before {
                add_party(entities, names.full_name(index), role);
            }
        }
    }
    // People named with a title: "spokesman John Kirby".
    if let Some(title) = taxonomy.roles.person_title {
        for hit in engine.hits_of(scratch, title).take(MAX_ROLE_CUES) {
            let after = first_name_after(spans, hit.tok_end as usize).filter(|&index| {
                let name = &spans[index];
                name.first == hit.tok_end as usize + 1
                    && sentence_of(name.first) == hit.sentence
                    && name.last > name.first
            });
            if let Some(index) = after {
                add_person(entities, names.full_name(index));
            }
        }
    }
}

/// Whether the words between a name and a verb make the name its object
/// ("was", "were", "has been", "had been").
fn passive_between(text: &NormText, name_last: usize, verb: usize) -> bool {
    (name_last + 1..verb)
        .any(|token| matches!(text.word(token), "was" | "were" | "been" | "is" | "are"))
}

/// The hits of `sentence`: hits are in text order, so a sentence's are
/// contiguous.
fn sentence_hits(hits: &[Hit], sentence: u32) -> &[Hit] {
    let from = hits.partition_point(|hit| hit.sentence < sentence);
    let to = hits.partition_point(|hit| hit.sentence <= sentence);
    &hits[from..to.max(from)]
}

/// The weapons named among a sentence's hits, into `kinds` (cleared
/// first): their canonical names, else "arms" when only the generic noun
/// occurs. They stay borrowed until a transfer keeps them, as most verbs
/// of selling find no pair of countries.
fn weapons_in<'t>(taxonomy: &'t Taxonomy, sentence_hits: &[Hit], kinds: &mut Vec<&'t str>) {
    kinds.clear();
    let mut generic = false;
    for hit in sentence_hits {
        if hit.concept == WEAPON && hit.entity != NO_ENTITY {
            let name = taxonomy.entities[WEAPON as usize][hit.entity as usize].as_str();
            if !kinds.contains(&name) {
                kinds.push(name);
            }
        } else if Some(hit.concept) == taxonomy.roles.arms_noun {
            generic = true;
        }
    }
    if kinds.is_empty() && generic {
        kinds.push("arms");
    }
}

/// Countries on either side of a verb of selling (supplier before,
/// recipient after) or buying (recipient before, supplier after), in a
/// sentence that names weapons.
fn find_transfers(
    taxonomy: &Taxonomy,
    engine: &Engine,
    scratch: &Scratch,
    entities: &mut Entities,
) {
    let mut weapons: Vec<&str> = Vec::new();
    for (verb, selling) in [
        (taxonomy.roles.sell_verb, true),
        (taxonomy.roles.buy_verb, false),
    ] {
        let Some(verb) = verb else {
            continue;
        };
        for hit in engine.hits_of(scratch, verb).take(MAX_ROLE_CUES) {
            let in_sentence = sentence_hits(&scratch.hits, hit.sentence);
            weapons_in(taxonomy, in_sentence, &mut weapons);
            if weapons.is_empty() {
                continue;
            }
            // Only countries of the verb's sentence count, so only its hits
            // are looked at.
            let countries = in_sentence.iter().filter(|other| other.concept == COUNTRY);
            let before = countries.clone().rev().find(|country| {
                country.tok_end < hit.tok_start && country.tok_end + 12 >= hit.tok_start
            });
            let after = countries.clone().find(|country| {
                country.tok_start > hit.tok_end
                    && country.tok_start <= hit.tok_end + 12
                    && before.is_none_or(|before| before.entity != country.entity)
            });
            let (Some(before), Some(after)) = (before, after) else {
                continue;
            };
            let names = &taxonomy.entities[COUNTRY as usize];
            // A preposition before the second country overrides the verb:
            // "obtain weapons for Russia", "buying drones from Iran".
            let preposition = (after.tok_start as usize)
                .checked_sub(1)
                .map(|token| scratch.text.word(token));
            let selling = match preposition {
                Some("to" | "for" | "an" | "nach" | "à" | "vers" | "hacia") => true,
                Some("from" | "aus" | "von" | "desde") => false,
                _ => selling,
            };
            let (supplier, recipient) = if selling {
                (
                    &names[before.entity as usize],
                    &names[after.entity as usize],
                )
            } else {
                (
                    &names[after.entity as usize],
                    &names[before.entity as usize],
                )
            };
            if supplier == recipient {
                continue;
            }
            match entities
                .transfers
                .iter_mut()
                .find(|transfer| transfer.supplier == *supplier && transfer.recipient == *recipient)
            {
                Some(existing) => {
                    for weapon in &weapons {
                        push_unique(&mut existing.weapons, weapon);
                    }
                }
                None => entities.transfers.push(Transfer {
                    supplier: supplier.clone(),
                    recipient: recipient.clone(),
                    weapons: weapons
                        .iter()
                        .map(std::string::ToString::to_string)
                        .collect(),
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_word_table_holds_exactly_the_list() {
        for word in NOT_NAMES {
            assert!(is_common_word(word.as_bytes()), "{word}");
        }
        for word in [
            "",
            "x",
            "th",
            "thee",
            "them",
            "putin",
            "petrov",
            "mays",
            "ministers",
            "washington",
            "officia",
            "spokeswomen",
            "mrs.",
            "über",
            "la\u{301}",
        ] {
            assert_eq!(
                is_common_word(word.as_bytes()),
                NOT_NAMES.contains(&word),
                "{word}"
            );
        }
    }

    #[test]
    fn entity_buffers_are_released_after_a_huge_article() {
        use crate::{Classifier, ClassifierOptions};
        use wirewatch_model::ArticleId;

        let classifier =
            Classifier::new(Taxonomy::builtin(), ClassifierOptions::default()).unwrap();
        let id = ArticleId::from_key("test");
        // A role cue ("spokesman") in every sentence, so that names are
        // looked for across the whole article.
        let huge = "Spokesman Ivan Petrov met Maria Lopez in Vienna. ".repeat(30_000);
        for text in [huge.as_str(), "A short article."] {
            classifier.classify(&Document {
                id: &id,
                title: "Meeting",
                text,
                lang: Some("en"),
            });
        }
        let kept = ENTITY_SCRATCH.with(|cell| {
            let buffers = cell.borrow();
            buffers.in_entity.capacity() + buffers.names.capacity() * std::mem::size_of::<Name>()
        });
        assert!(
            kept <= ENTITY_SCRATCH_KEEP_BYTES,
            "entity scratch kept {kept} bytes"
        );
    }

    #[test]
    fn two_chars_means_two_characters_not_bytes() {
        assert!(!has_two_chars("".as_bytes()));
        assert!(!has_two_chars("é".as_bytes()));
        assert!(!has_two_chars("制".as_bytes()));
        assert!(has_two_chars("ab".as_bytes()));
        assert!(has_two_chars("éa".as_bytes()));
    }
}
