//! Entities from the hits of one article: countries, bodies and weapon
//! types by canonical name; the people and organisations named in a role
//! (designated, buyer, seller, broker); supplier -> recipient transfers; and
//! names from a loaded sanctions list.
//!
//! Roles come from short patterns over the hits and the capitalised words
//! of the text, using word lists from the taxonomy (`designation_verb`,
//! `broker_cue`, `sell_verb`, `buy_verb`, `person_title`); a taxonomy without
//! one of them just finds fewer roles.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

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

/// Names starting after word `token`, nearest first (names are in text
/// order and do not overlap).
fn names_after<'n, 'a>(names: &'n [Name<'a>], token: usize) -> &'n [Name<'a>] {
    &names[names.partition_point(|name| name.first <= token)..]
}

/// Names ending before word `token`, nearest last.
fn names_before<'n, 'a>(names: &'n [Name<'a>], token: usize) -> &'n [Name<'a>] {
    &names[..names.partition_point(|name| name.last < token)]
}

/// A name borrows its text from the article: most names are never
/// reported, so copying each one would be wasted allocation.
struct Name<'a> {
    /// Token range, inclusive.
    first: usize,
    last: usize,
    text: &'a str,
}

/// FNV-1a, for the set of common words: the words are our own fixed list,
/// so the hash needs no defence against chosen collisions, and SipHash's
/// per-lookup cost dominated this check, which runs on every capitalised
/// word of every article.
struct WordHasher(u64);

impl Default for WordHasher {
    fn default() -> WordHasher {
        WordHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Whether a capitalised word is a common word rather than part of a name.
fn is_common_word(word: &str) -> bool {
    static COMMON: OnceLock<HashSet<&'static str, BuildHasherDefault<WordHasher>>> =
        OnceLock::new();
    COMMON
        .get_or_init(|| NOT_NAMES.iter().copied().collect())
        .contains(word)
}

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
    for hit in &scratch.hits {
        if hit.entity == NO_ENTITY {
            continue;
        }
        let list = match hit.concept {
            COUNTRY => &mut entities.countries,
            BODY => &mut entities.organisations,
            WEAPON => &mut entities.weapon_types,
            _ => continue,
        };
        push_unique(
            list,
            &taxonomy.entities[hit.concept as usize][hit.entity as usize],
        );
    }
    let names = find_names(scratch, document);
    find_parties(taxonomy, engine, scratch, &names, &mut entities);
    find_transfers(taxonomy, engine, scratch, &mut entities);
    if let Some(list) = sanctions_list {
        entities.sanctions_list_matches = list.find(&scratch.text.norm);
    }
    entities
}

/// Runs of capitalised words in the text (not the title, which is often in
/// title case or capitals) that are not entity names or sentence openers.
fn find_names<'a>(scratch: &Scratch, document: &Document<'a>) -> Vec<Name<'a>> {
    let text = &scratch.text;
    let mut in_entity = vec![false; text.tokens.len()];
    for hit in &scratch.hits {
        if (hit.concept == COUNTRY || hit.concept == BODY) && hit.entity != NO_ENTITY {
            for flag in &mut in_entity[hit.tok_start as usize..=hit.tok_end as usize] {
                *flag = true;
            }
        }
    }
    let is_name_word = |index: usize| {
        let token = &text.tokens[index];
        token.capitalized
            && token.norm_start >= text.text_start
            && !in_entity[index]
            && text.word(index).chars().count() > 1
            && !is_common_word(text.word(index))
    };
    let mut names = Vec::new();
    let mut index = 0;
    while index < text.tokens.len() {
        // Most words are not capitalised: that test is made here, inline,
        // so they skip the call.
        if !text.tokens[index].capitalized || !is_name_word(index) {
            index += 1;
            continue;
        }
        let first = index;
        let mut last = index;
        while last + 1 < text.tokens.len()
            && last - first < 3
            && is_name_word(last + 1)
            && text.tokens[last + 1].sentence == text.tokens[last].sentence
            && joined_by_space(text, last)
        {
            last += 1;
        }
        let start = text.tokens[first].norm_start;
        let end = text.tokens[last].norm_end;
        names.push(Name {
            first,
            last,
            text: text.source_slice(document.text, start, end),
        });
        index = last + 1;
    }
    names
}

fn joined_by_space(text: &NormText, token: usize) -> bool {
    let gap = &text.norm
        [text.tokens[token].norm_end as usize..text.tokens[token + 1].norm_start as usize];
    gap == " " || gap == "-"
}

/// The longest name in the article ending with the same word: "Mr.
/// Mkrtychev" is "Ashot Mkrtychev" when the article names him in full.
fn full_name(names: &[Name], short: &Name) -> String {
    let surname = short.text.rsplit(' ').next().unwrap_or(short.text);
    names
        .iter()
        .filter(|name| name.text.ends_with(surname) && name.text.len() > short.text.len())
        .max_by_key(|name| name.text.len())
        .map_or_else(|| short.text.to_string(), |name| name.text.to_string())
}

fn add_party(entities: &mut Entities, name: String, role: PartyRole) {
    if !entities.people.contains(&name) {
        entities.people.push(name.clone());
    }
    if !entities
        .parties
        .iter()
        .any(|party| party.name == name && party.role == role)
    {
        entities.parties.push(Party { name, role });
    }
}

fn find_parties(
    taxonomy: &Taxonomy,
    engine: &Engine,
    scratch: &Scratch,
    names: &[Name],
    entities: &mut Entities,
) {
    let text = &scratch.text;
    let sentence_of = |token: usize| text.tokens[token].sentence;
    // "sanctioned Mr. Mkrtychev", "designated Ivan Petrov": a name just
    // after the verb; "Petrov was sanctioned": a name just before it.
    if let Some(designation) = taxonomy.roles.designation_verb {
        for hit in engine.hits_of(scratch, designation).take(MAX_ROLE_CUES) {
            let after = names_after(names, hit.tok_end as usize)
                .first()
                .filter(|name| {
                    name.first <= hit.tok_end as usize + 3
                        && sentence_of(name.first) == hit.sentence
                });
            let before = names_before(names, hit.tok_start as usize)
                .last()
                .filter(|name| {
                    name.last + 3 >= hit.tok_start as usize
                        && sentence_of(name.last) == hit.sentence
                        && passive_between(text, name.last, hit.tok_start as usize)
                });
            if let Some(name) = after.or(before) {
                add_party(entities, full_name(names, name), PartyRole::Designated);
            }
        }
    }
    // "X ... brokered the deal", "arms dealer X", "X helped facilitate".
    if let Some(broker) = taxonomy.roles.broker_cue {
        for hit in engine.hits_of(scratch, broker).take(MAX_ROLE_CUES) {
            let after = names_after(names, hit.tok_end as usize)
                .first()
                .filter(|name| {
                    name.first <= hit.tok_end as usize + 2
                        && sentence_of(name.first) == hit.sentence
                });
            let before = names_before(names, hit.tok_start as usize)
                .last()
                .filter(|name| {
                    name.last + 25 >= hit.tok_start as usize
                        && sentence_of(name.last) == hit.sentence
                });
            if let Some(name) = after.or(before) {
                add_party(entities, full_name(names, name), PartyRole::Broker);
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
            let before = names_before(names, hit.tok_start as usize)
                .last()
                .filter(|name| {
                    name.last + 2 >= hit.tok_start as usize
                        && sentence_of(name.last) == hit.sentence
                });
            if let Some(name) = before {
                add_party(entities, full_name(names, name), role);
            }
        }
    }
    // People named with a title: "spokesman John Kirby".
    if let Some(title) = taxonomy.roles.person_title {
        for hit in engine.hits_of(scratch, title).take(MAX_ROLE_CUES) {
            if let Some(name) = names_after(names, hit.tok_end as usize)
                .first()
                .filter(|name| {
                    name.first == hit.tok_end as usize + 1
                        && sentence_of(name.first) == hit.sentence
                        && name.last > name.first
                })
            {
                let full = full_name(names, name);
                if !entities.people.contains(&full) {
                    entities.people.push(full);
                }
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

/// Countries on either side of a verb of selling (supplier before,
/// recipient after) or buying (recipient before, supplier after), in a
/// sentence that names weapons.
fn find_transfers(
    taxonomy: &Taxonomy,
    engine: &Engine,
    scratch: &Scratch,
    entities: &mut Entities,
) {
    let arms = taxonomy.roles.arms_noun;
    let weapon_in = |sentence: u32| -> Option<Vec<String>> {
        let mut kinds: Vec<String> = Vec::new();
        let mut generic = false;
        let hits = &scratch.hits;
        let from = hits.partition_point(|hit| hit.sentence < sentence);
        let to = hits.partition_point(|hit| hit.sentence <= sentence);
        for hit in &hits[from..to.max(from)] {
            if hit.concept == WEAPON && hit.entity != NO_ENTITY {
                push_unique(
                    &mut kinds,
                    &taxonomy.entities[WEAPON as usize][hit.entity as usize],
                );
            } else if Some(hit.concept) == arms {
                generic = true;
            }
        }
        if kinds.is_empty() && generic {
            kinds.push("arms".to_string());
        }
        (!kinds.is_empty()).then_some(kinds)
    };
    let countries: Vec<&Hit> = engine.hits_of(scratch, COUNTRY).collect();
    for (verb, selling) in [
        (taxonomy.roles.sell_verb, true),
        (taxonomy.roles.buy_verb, false),
    ] {
        let Some(verb) = verb else {
            continue;
        };
        for hit in engine.hits_of(scratch, verb).take(MAX_ROLE_CUES) {
            let Some(weapons) = weapon_in(hit.sentence) else {
                continue;
            };
            let before = countries.iter().rev().find(|country| {
                country.sentence == hit.sentence
                    && country.tok_end < hit.tok_start
                    && country.tok_end + 12 >= hit.tok_start
            });
            let after = countries.iter().find(|country| {
                country.sentence == hit.sentence
                    && country.tok_start > hit.tok_end
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
                    for weapon in weapons {
                        push_unique(&mut existing.weapons, &weapon);
                    }
                }
                None => entities.transfers.push(Transfer {
                    supplier: supplier.clone(),
                    recipient: recipient.clone(),
                    weapons,
                }),
            }
        }
    }
}
