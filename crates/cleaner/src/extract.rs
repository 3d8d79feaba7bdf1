//! Finding the article body in a parsed page.
//!
//! The idea is the one Readability made popular, reworked for a flat arena:
//!
//! 1. **Exclude** subtrees that are never article text: navigation, asides,
//!    footers, forms controls, hidden elements, ARIA landmarks for chrome,
//!    and elements whose class or id names boilerplate (share bars,
//!    comments, related links, cookie banners, ads). A subtree that holds
//!    most of the page's text is never excluded by name alone, so a site
//!    that wraps its article in `class="content share-root"` survives.
//! 2. **Segment** the rest into text blocks: the inline text under each
//!    block-level element (a `<p>`, or a `<div>` holding text directly).
//! 3. **Score**: each block of 25+ characters gives points for its length
//!    and commas, discounted by its share of link text, to its ancestors
//!    (less the further up). The best-scoring element, discounted by its
//!    own link density, is the article container; it is widened to a
//!    common ancestor when other strong candidates sit beside it, and
//!    siblings that look like more of the same are added.
//! 4. **Prune** inside the container: sub-blocks whose link density,
//!    image/list/form make-up or class say "not prose", and the headline.
//! 5. **Write** the text with a blank line between blocks.
//!
//! All passes are loops over node ids: the arena is in document order, so
//! "parents before children" is a forward loop and "children before
//! parents" a backward one.

use crate::dom::{AttrName, Document, NodeId, NodeKind, Tag, NONE};

/// Prose (characters) left after exclusion by class and id below which the
/// names misled (see pass 3).
const NAMES_LEFT_TOO_LITTLE: u32 = 300;

/// Positive class weight a candidate keeps however little its text earns
/// (pass 5): enough to break ties between containers of one article, not
/// to make a blurb under a good name the article.
const NAME_WEIGHT_FLOOR: f32 = 15.0;

/// Text (bytes) of a link round blocks above which it is no link (see
/// pass 1 of [`extract_inner`]): a teaser card's link holds a headline and
/// a blurb.
const WRAPPING_LINK_BYTES: usize = 1000;

/// Link density from which a sibling of the container that scores like
/// more of the article is not (a teaser column, a list of headlines).
const SIBLING_LINK_DENSITY: f32 = 0.25;

/// Fewest `<br>`-separated lines of a block for [`is_link_column`].
const LINK_LINES_MIN: u32 = 4;

/// Text blocks shorter than this (characters) give no score.
const MIN_BLOCK_CHARS: u32 = 25;

/// Share of the best candidate's score that blocks named alike must each
/// reach to be taken as sections of one article.
const REPEATED_SECTION_SHARE: f32 = 0.3;
/// How many of the best candidates are looked at for such sections.
const REPEATED_SECTION_CANDIDATES: usize = 40;

/// What the extractor found.
pub struct Extracted {
    pub text: String,
    /// The container chosen, for diagnostics.
    pub container: Option<NodeId>,
}

/// Per-node numbers, filled by the passes.
#[derive(Clone, Copy, Default)]
struct Stats {
    /// Characters of text (whitespace runs count one) in the subtree.
    len: u32,
    link_len: u32,
    commas: u32,
    /// Text directly owned by a block element (not in nested blocks).
    own_len: u32,
    own_link_len: u32,
    own_commas: u32,
    /// `<br>`s directly in a block's inline text.
    own_breaks: u32,
    paragraphs: u32,
    images: u32,
    list_items: u32,
    inputs: u32,
    embeds: u32,
    /// `<pre>` blocks (code, a listing) in the subtree.
    code: u32,
    heading_len: u32,
    /// Characters in paragraphs of prose (own text of 80+ characters, few
    /// links) in the subtree.
    prose: u32,
}

fn is_block(tag: Tag) -> bool {
    matches!(
        tag,
        Tag::P
            | Tag::Div
            | Tag::Section
            | Tag::Article
            | Tag::Main
            | Tag::H1
            | Tag::H2
            | Tag::H3
            | Tag::H4
            | Tag::H5
            | Tag::H6
            | Tag::Ul
            | Tag::Ol
            | Tag::Li
            | Tag::Blockquote
            | Tag::Pre
            | Tag::Table
            | Tag::Tr
            | Tag::Td
            | Tag::Th
            | Tag::Dl
            | Tag::Dt
            | Tag::Dd
            | Tag::Figure
            | Tag::Figcaption
            | Tag::Header
            | Tag::Footer
            | Tag::Nav
            | Tag::Aside
            | Tag::Form
            | Tag::Fieldset
            | Tag::Address
            | Tag::Details
            | Tag::Summary
            | Tag::Center
            | Tag::Body
            | Tag::Html
            | Tag::Caption
            | Tag::Tbody
            | Tag::Thead
            | Tag::Tfoot
            | Tag::Legend
            | Tag::Hgroup
            | Tag::Menu
            | Tag::Dialog
            | Tag::Hr
    )
}

/// Tags whose whole subtree is chrome, whatever their class says.
fn is_chrome_tag(tag: Tag) -> bool {
    matches!(
        tag,
        Tag::Nav
            | Tag::Aside
            | Tag::Button
            | Tag::Select
            | Tag::Option
            | Tag::Optgroup
            | Tag::Input
            | Tag::Label
            | Tag::Audio
            | Tag::Video
            | Tag::Canvas
            | Tag::Object
            | Tag::Embed
            | Tag::Dialog
            | Tag::Menu
            | Tag::Head
            | Tag::Title
            | Tag::Applet
            | Tag::Frameset
            // Captions describe pictures, which the text leaves out.
            | Tag::Figcaption
    )
}

/// Tags that are chrome unless they hold most of the page's text.
fn is_soft_chrome_tag(tag: Tag) -> bool {
    // `<noscript>`: usually "turn on JavaScript" or a tracking pixel; now
    // and then the only copy of the article.
    matches!(tag, Tag::Footer | Tag::Header | Tag::Form | Tag::Noscript)
}

/// Words in class/id values that mark boilerplate. Matched as substrings,
/// so they are chosen to be unlikely inside content names.
const STRONG_NEGATIVE: &[&str] = &[
    "comment",
    "disqus",
    "share",
    "sharing",
    "social",
    "messenger",
    "related",
    "recommend",
    "newsletter",
    "subscri",
    "signup",
    "sign-up",
    "cookie",
    "consent",
    "gdpr",
    "advert",
    "sponsor",
    "promo",
    "outbrain",
    "taboola",
    "breadcrumb",
    "pagination",
    "paywall",
    "popular",
    "trending",
    "sidebar",
    "footer",
    "masthead",
    "navbar",
    "nav-",
    "-nav",
    "menu",
    "banner",
    "skip-link",
    "sr-only",
    "visually-hidden",
    "screen-reader",
    "print-only",
    "author-bio",
    "author-box",
    "authorbox",
    "author_box",
    "about-author",
    "about-the-author",
    "more-stories",
    "teaser-list",
    "teaserlist",
    "teaser-grid",
    "read-more",
    "readmore",
    "also-read",
    "see-also",
    "toolbar",
    "modal",
    "popup",
    "overlay",
    "tags",
    "taglist",
    "byline",
    "dateline",
    "timestamp",
    "caption",
    "tooltip",
    "popover",
    "hovercard",
    "rollover",
    "credit",
    "rating",
    "copyright",
];

/// Names of comment threads.
const COMMENTS: &[&str] = &["comment", "disqus", "replies", "respond"];

/// Whole words (class tokens split on `-`/`_`) that mark boilerplate.
const NEGATIVE_WORDS: &[&str] = &[
    "ad",
    "ads",
    "nav",
    "foot",
    "header",
    "meta",
    "tag",
    "print",
    "rss",
    "combx",
    "shoutbox",
    "skyscraper",
    "supplemental",
    "remark",
    "replies",
    "extra",
    "aside",
    "lightbox",
    "follow",
    "email",
    "login",
    "subnav",
    "jump",
    "toc",
    "pager",
    "share",
    "promo",
    "bio",
    "widget",
    "widgets",
    "teasers",
];

/// Last words of a class token that name a wrapper, not what it wraps.
const WRAPPER_WORDS: &[&str] = &["wrap", "wrapper", "container", "inner", "holder"];

/// Class tokens that hide an element (also any `*-hidden`). Only whole
/// tokens: responsive frameworks' `hidden-xs` or `hidden-print` hide
/// nothing on a desktop.
const HIDING_CLASSES: &[&str] = &["hidden", "is-hidden", "hide", "invisible"];

/// Words that mark the article container.
const POSITIVE: &[&str] = &[
    "article", "body", "content", "entry", "main", "post", "story", "text", "blog", "prose",
    "hentry", "page",
];

#[derive(Clone, Copy, Default)]
struct ClassSignal {
    /// Comment threads, named as such.
    comments: bool,
    negative: bool,
    strong_negative: bool,
    /// Names the article container (a score bonus).
    positive: bool,
    /// Has a content word, even in a part's name (`entry-header`): enough
    /// to outweigh a weak negative word when excluding.
    content_word: bool,
}

/// A set of words with a bit for each (length, first byte) pair they
/// have, so that most words not in it are told with one lookup.
struct WordSet {
    words: &'static [&'static str],
    present: [u64; 64],
}

impl WordSet {
    const fn new(words: &'static [&'static str]) -> WordSet {
        let mut present = [0u64; 64];
        let mut index = 0;
        while index < words.len() {
            let word = words[index].as_bytes();
            if !word.is_empty() {
                let key = word_key(word);
                present[key >> 6] |= 1 << (key & 63);
            }
            index += 1;
        }
        WordSet { words, present }
    }

    fn contains(&self, word: &[u8]) -> bool {
        if !word.is_empty() {
            let key = word_key(word);
            if self.present[key >> 6] & (1 << (key & 63)) == 0 {
                return false;
            }
        }
        one_of(word, self.words)
    }
}

/// A non-empty word's length (modulo 16) and first byte, as an index.
const fn word_key(word: &[u8]) -> usize {
    (word.len() & 15) << 8 | word[0] as usize
}

static NEGATIVE_WORD_SET: WordSet = WordSet::new(NEGATIVE_WORDS);
static WRAPPER_WORD_SET: WordSet = WordSet::new(WRAPPER_WORDS);
static PART_WORD_SET: WordSet = WordSet::new(PART_WORDS);

/// Whether `word` is one of `words`; the length and first byte are
/// compared before the rest (most words differ there).
fn one_of(word: &[u8], words: &[&str]) -> bool {
    let Some(&first) = word.first() else {
        return words.iter().any(|known| known.is_empty());
    };
    words.iter().any(|known| {
        let known = known.as_bytes();
        known.len() == word.len() && known[0] == first && known == word
    })
}

/// Whether a class token hides its element: one of [`HIDING_CLASSES`], or
/// `*-hidden` unless the prefix names a part of the element or a property
/// (Drupal's `field--label-hidden` hides the field's label, not the field;
/// `overflow-hidden` clips; `lazy-hidden` is shown once loaded).
fn hides(token: &str) -> bool {
    if one_of(token.as_bytes(), HIDING_CLASSES) {
        return true;
    }
    let Some(prefix) = token.strip_suffix("-hidden") else {
        return false;
    };
    let prefix = prefix.trim_end_matches('-');
    !(prefix.ends_with("label")
        || prefix.ends_with("title")
        || prefix.starts_with("overflow")
        || prefix.ends_with("lazy"))
}

/// Needles filed under their first byte, for [`contains_any`]: each with
/// its first four bytes as a number (every needle has at least four), and
/// the sets it belongs to ([`COMMENT_SET`], [`STRONG_NEGATIVE_SET`]).
struct Needles {
    by_first_byte: [Vec<(u32, &'static [u8], u8)>; 256],
    /// A bit for each pair of bytes that starts a needle.
    pairs: Box<[u64; 1024]>,
}

/// A needle of [`COMMENTS`].
const COMMENT_SET: u8 = 1;
/// A needle of [`STRONG_NEGATIVE`].
const STRONG_NEGATIVE_SET: u8 = 2;
/// `commentary`, which [`value_signal`] reads as `opinion`.
const COMMENTARY_SET: u8 = 4;

impl Needles {
    fn new(sets: &[(&[&'static str], u8)]) -> Self {
        let mut by_first_byte: [Vec<(u32, &'static [u8], u8)>; 256] =
            std::array::from_fn(|_| Vec::new());
        let mut pairs = Box::new([0u64; 1024]);
        for &(needles, set) in sets {
            for needle in needles {
                let bytes = needle.as_bytes();
                let pair = pair_at(bytes, 0);
                pairs[pair >> 6] |= 1 << (pair & 63);
                let bucket = &mut by_first_byte[bytes[0] as usize];
                match bucket.iter_mut().find(|(_, known, _)| *known == bytes) {
                    Some(known) => known.2 |= set,
                    None => bucket.push((prefix(bytes).expect("needles are 4+ bytes"), bytes, set)),
                }
            }
        }
        Needles {
            by_first_byte,
            pairs,
        }
    }
}

/// The two bytes at `at` as an index.
fn pair_at(bytes: &[u8], at: usize) -> usize {
    (bytes[at] as usize) << 8 | bytes[at + 1] as usize
}

/// The first four bytes of `bytes` as a number.
fn prefix(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?))
}

static NEEDLES: std::sync::LazyLock<Needles> = std::sync::LazyLock::new(|| {
    Needles::new(&[
        (COMMENTS, COMMENT_SET),
        (STRONG_NEGATIVE, STRONG_NEGATIVE_SET),
        (&["commentary"], COMMENTARY_SET),
    ])
});

/// The sets of which some needle occurs in `haystack`. Class values are
/// short and the needles many: one pass over the haystack, trying only the
/// needles filed under the byte at hand (first by their first four bytes),
/// is much cheaper than a substring search per needle (this was a third of
/// the cleaner's time), or than testing every needle's first byte at every
/// position (a sixth).
fn contains_any(haystack: &str, needles: &Needles) -> u8 {
    let haystack = haystack.as_bytes();
    let mut sets = 0;
    // Every needle has four bytes or more.
    for at in 0..haystack.len().saturating_sub(3) {
        let pair = pair_at(haystack, at);
        if needles.pairs[pair >> 6] & (1 << (pair & 63)) == 0 {
            continue;
        }
        let rest = &haystack[at..];
        let head = prefix(rest).expect("four bytes left");
        for &(needle_head, needle, set) in &needles.by_first_byte[rest[0] as usize] {
            if needle_head == head && rest.starts_with(needle) {
                sets |= set;
            }
        }
    }
    sets
}

/// Words that, ending a class name, make it a part of the article
/// (`article-meta`, `articleMeta`, `post-date`, `entry-title`), not the
/// article.
const PART_WORDS: &[&str] = &[
    "meta",
    "date",
    "time",
    "info",
    "author",
    "byline",
    "title",
    "header",
    "head",
    "footer",
    "tags",
    "tag",
    "category",
    "categories",
    "label",
    "teaser",
    "image",
    "img",
    "photo",
    "media",
    "caption",
    "credit",
    "nav",
    "list",
    "share",
];

/// What a class token says of content, in one pass over its words: whether
/// a word starts with one of [`POSITIVE`] (a content word), and whether the
/// token names the article container: a content word whose rest is not one
/// of [`PART_WORDS`] (`articlemeta`), in a token that does not end with one
/// (`article-meta`).
fn content_names(token: &str) -> (bool, bool) {
    let (mut content_word, mut names_container) = (false, false);
    let mut last: &[u8] = b"";
    for word in token.as_bytes().split(|&b| b == b'-' || b == b'_') {
        if word.is_empty() {
            continue;
        }
        last = word;
        if !matches!(
            word[0],
            b'a' | b'b' | b'c' | b'e' | b'h' | b'm' | b'p' | b's' | b't'
        ) {
            continue;
        }
        for positive in POSITIVE {
            if positive.as_bytes()[0] != word[0] {
                continue;
            }
            if let Some(rest) = word.strip_prefix(positive.as_bytes()) {
                content_word = true;
                if !PART_WORD_SET.contains(rest) {
                    names_container = true;
                }
            }
        }
    }
    let ends_with_part = PART_WORD_SET.contains(last);
    (content_word, names_container && !ends_with_part)
}

#[cfg(test)]
fn names_content(token: &str) -> bool {
    content_names(token).1
}

/// Class signals of class values already seen on the page: pages repeat
/// a few class lists on thousands of elements. Bounded; the hasher is the
/// standard keyed one, so a page cannot make its lookups collide.
struct SignalMemo<'d> {
    known: std::collections::HashMap<&'d str, ClassSignal>,
    /// Scratch space for the lowercased value.
    lower: String,
}

/// Distinct class values remembered per page.
const MEMO_VALUES: usize = 8192;

impl SignalMemo<'_> {
    fn new() -> Self {
        SignalMemo {
            known: std::collections::HashMap::new(),
            lower: String::new(),
        }
    }
}

/// The class signal of an element: what its class and id say.
fn class_signal<'d>(doc: &'d Document, id: NodeId, memo: &mut SignalMemo<'d>) -> ClassSignal {
    let mut signal = ClassSignal::default();
    if let Some(class) = doc.attr(id, AttrName::Class) {
        let of_class = match memo.known.get(class) {
            Some(&known) => known,
            None => {
                let computed = value_signal(class, &mut memo.lower);
                if memo.known.len() < MEMO_VALUES {
                    memo.known.insert(class, computed);
                }
                computed
            }
        };
        signal.or(of_class);
    }
    if let Some(id_value) = doc.attr(id, AttrName::Id) {
        signal.or(value_signal(id_value, &mut memo.lower));
    }
    signal
}

impl ClassSignal {
    fn or(&mut self, other: ClassSignal) {
        self.comments |= other.comments;
        self.negative |= other.negative;
        self.strong_negative |= other.strong_negative;
        self.positive |= other.positive;
        self.content_word |= other.content_word;
    }
}

/// What one class or id value says; `lower` is scratch space.
fn value_signal(value: &str, lower: &mut String) -> ClassSignal {
    let mut signal = ClassSignal::default();
    if value.is_empty() || value.len() > 512 {
        return signal;
    }
    lower.clear();
    lower.push_str(value);
    lower.make_ascii_lowercase();
    let mut sets = contains_any(lower, &NEEDLES);
    // A commentary is an opinion article, not a comment thread.
    if sets & COMMENTARY_SET != 0 {
        *lower = lower.replace("commentary", "opinion");
        sets = contains_any(lower, &NEEDLES);
    }
    if sets & COMMENT_SET != 0 {
        signal.comments = true;
    }
    if sets & STRONG_NEGATIVE_SET != 0 {
        signal.strong_negative = true;
    }
    for token in lower.split_ascii_whitespace() {
        if hides(token) {
            signal.strong_negative = true;
        }
        // A BEM modifier (`block--modifier`) says how a block looks or
        // what it may hold (`section--has-ads`), not what it is.
        let token_bytes = token.as_bytes();
        let name = match token_bytes.windows(2).position(|pair| pair == b"--") {
            Some(end) => &token_bytes[..end],
            None => token_bytes,
        };
        // A wrapper of a thing (`widget-container`, `header-wrap`) is
        // page structure: page builders wrap every block so.
        let is_separator = |byte: &u8| *byte == b'-' || *byte == b'_';
        let wrapper = name
            .rsplit(is_separator)
            .next()
            .is_some_and(|last| WRAPPER_WORD_SET.contains(last));
        if !wrapper
            && name
                .split(is_separator)
                .any(|word| NEGATIVE_WORD_SET.contains(word))
        {
            signal.negative = true;
        }
        let (content_word, names_container) = content_names(token);
        signal.content_word |= content_word;
        signal.positive |= names_container;
    }
    signal
}

/// Score bonus or malus from the class/id and semantic attributes.
fn class_weight(analysis: &Analysis<'_>, id: NodeId) -> f32 {
    let doc = analysis.doc;
    let signal = analysis.signals[id as usize];
    let negative = signal.strong_negative || signal.negative;
    let mut weight = 0.0;
    if negative {
        weight -= 25.0;
    }
    // A part's name (`entry-header`) cancels a malus but earns no bonus.
    if signal.positive || (negative && signal.content_word) {
        weight += 25.0;
    }
    if let Some(prop) = doc.attr(id, AttrName::Itemprop) {
        if prop.contains("articleBody") || prop == "text" {
            weight += 30.0;
        }
    }
    weight
}

fn is_hidden(doc: &Document, id: NodeId) -> bool {
    if doc.attr(id, AttrName::Hidden).is_some() {
        return true;
    }
    if doc
        .attr(id, AttrName::AriaHidden)
        .is_some_and(|v| v.trim() == "true")
    {
        return true;
    }
    if let Some(style) = doc.attr(id, AttrName::Style) {
        let compact: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        if compact.contains("display:none") || compact.contains("visibility:hidden") {
            return true;
        }
    }
    false
}

fn is_chrome_role(doc: &Document, id: NodeId) -> bool {
    doc.attr(id, AttrName::Role).is_some_and(|role| {
        matches!(
            role.trim().to_ascii_lowercase().as_str(),
            "navigation"
                | "banner"
                | "contentinfo"
                | "complementary"
                | "menu"
                | "menubar"
                | "dialog"
                | "alertdialog"
                | "search"
                | "toolbar"
                | "tablist"
                | "alert"
        )
    })
}

/// The high bit of each byte of a `u64`.
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
/// The low bit of each byte of a `u64`.
const LOW_BITS: u64 = 0x0101_0101_0101_0101;

/// The high bit of each zero byte of `word` (exact: no carry crosses bytes).
fn zero_bytes(word: u64) -> u64 {
    let low = LOW_BITS * 0x7f;
    !(((word & low) + low) | word) & HIGH_BITS
}

/// The high bit of each byte of `word` (ASCII only) that [`is_blank`]
/// holds: a space, or `\t` to `\r` (9 to 13).
fn ascii_blanks(word: u64) -> u64 {
    let spaces = zero_bytes(word ^ (LOW_BITS * u64::from(b' ')));
    // Bytes below 0x80 plus 0x77 reach 0x80 from 9 on, plus 0x72 from 14
    // on; neither carries into the next byte.
    let controls = (word + LOW_BITS * 0x77) & !(word + LOW_BITS * 0x72) & HIGH_BITS;
    spaces | controls
}

/// Characters with whitespace runs counted once, and commas (Latin, CJK,
/// Arabic).
fn measure(text: &str) -> (u32, u32) {
    let mut len = 0u32;
    let mut commas = 0u32;
    let mut in_space = true;
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        // Eight ASCII bytes at a time, as bit masks (one high bit per
        // byte): every byte adds one except a blank after a blank.
        if let Some(chunk) = bytes.get(at..at + 8) {
            let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
            if word & HIGH_BITS == 0 {
                let blanks = ascii_blanks(word);
                let after_blank = (blanks << 8) | if in_space { 0x80 } else { 0 };
                len += 8 - (blanks & after_blank).count_ones();
                commas += zero_bytes(word ^ (LOW_BITS * u64::from(b','))).count_ones();
                in_space = blanks >> 63 != 0;
                at += 8;
                continue;
            }
        }
        let byte = bytes[at];
        if byte.is_ascii() {
            // ASCII (nearly all of it): the same as the general case below,
            // without decoding.
            at += 1;
            if matches!(byte, b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r' | b' ') {
                if !in_space {
                    len += 1;
                    in_space = true;
                }
                continue;
            }
            in_space = false;
            len += 1;
            commas += u32::from(byte == b',');
            continue;
        }
        let c = text[at..].chars().next().expect("at is a char boundary");
        at += c.len_utf8();
        if is_blank(c) {
            if !in_space {
                len += 1;
                in_space = true;
            }
            continue;
        }
        in_space = false;
        // Han, kana and Hangul characters each carry about a word: count
        // them double so that thresholds tuned on alphabetic text fit.
        len += if matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x9FFF | 0xAC00..=0xD7AF) {
            2
        } else {
            1
        };
        if matches!(c, ',' | '，' | '、' | '،') {
            commas += 1;
        }
    }
    if len > 0 && in_space {
        len -= 1;
    }
    (len, commas)
}

struct Analysis<'a> {
    doc: &'a Document,
    signals: Vec<ClassSignal>,
    excluded: Vec<bool>,
    stats: Vec<Stats>,
    score: Vec<f32>,
    pruned: Vec<bool>,
}

impl Analysis<'_> {
    fn link_density(&self, id: NodeId) -> f32 {
        let stats = &self.stats[id as usize];
        if stats.len == 0 {
            0.0
        } else {
            stats.link_len as f32 / stats.len as f32
        }
    }
}

/// Extracts the article text. `title` (if known) lets the headline be
/// dropped from the body; `summaries` (the page's descriptions, see
/// [`crate::meta::Metadata::summaries`]) let a standfirst set apart from
/// the body be recognised.
pub fn extract(doc: &Document, title: Option<&str>, summaries: &[String]) -> Extracted {
    extract_inner(doc, title, summaries, None)
}

/// For tuning by hand: the extraction, plus for the first text node that
/// contains `needle`, its ancestors with their exclusion, pruning and score.
pub fn explain(doc: &Document, title: Option<&str>, summaries: &[String], needle: &str) -> String {
    let mut report = String::new();
    let extracted = extract_inner(doc, title, summaries, Some((needle, &mut report)));
    if let Some(container) = extracted.container {
        report.push_str(&format!("container: {}\n", describe(doc, container)));
    }
    report
}

fn describe(doc: &Document, id: NodeId) -> String {
    format!(
        "#{id} {:?} class={:?} id={:?} style={:?}",
        doc.tag(id),
        doc.attr(id, AttrName::Class).unwrap_or(""),
        doc.attr(id, AttrName::Id).unwrap_or(""),
        doc.attr(id, AttrName::Style).unwrap_or("")
    )
}

/// The extraction, step by step: what each node sits in ([`Context`]),
/// how much text and prose each subtree holds ([`Raw`]), what is left out
/// as boilerplate ([`exclude`]), statistics over the rest
/// ([`statistics`]), block scores flowing to candidate containers
/// ([`score_candidates`]); then the best container, widened to what holds
/// the article, with its siblings, table rows and sections that are more
/// of it, pruned, and written out as text.
fn extract_inner(
    doc: &Document,
    title: Option<&str>,
    summaries: &[String],
    explain: Option<(&str, &mut String)>,
) -> Extracted {
    let count = doc.nodes.len();
    let context = Context::of(doc);
    let raw = Raw::of(doc, &context);
    let (signals, excluded) = exclude(doc, &raw);
    let stats = statistics(doc, &context, &raw.text_measure, &excluded);
    let mut analysis = Analysis {
        doc,
        signals,
        excluded,
        stats,
        score: vec![0.0; count],
        pruned: vec![false; count],
    };
    let (is_candidate, candidates) = score_candidates(&mut analysis, &context);
    let Some(&first) = candidates.first() else {
        return Extracted {
            text: String::new(),
            container: None,
        };
    };
    let top = widen(&analysis, first, &candidates);
    let top = best_cell(&analysis, top, &is_candidate);

    let threshold = (analysis.score[top as usize] * 0.2).max(10.0);
    let mut content = siblings(&analysis, top, threshold, &is_candidate);
    content.extend(table_rows(
        &analysis,
        top,
        &content,
        threshold,
        &is_candidate,
    ));
    content.sort_unstable();
    add_same_name_blocks(&analysis, first, &candidates, &mut content);
    add_repeated_sections(&analysis, first, &candidates, &mut content);
    content.extend(standfirst(&analysis, top, &content));
    content.sort_unstable();
    if let Some(lead) = described_lead(&analysis, &content, summaries) {
        content.push(lead);
        content.sort_unstable();
    }

    let mut seen_prose = false;
    for &root in &content {
        prune(&mut analysis, root, first, title, &mut seen_prose);
        drop_br_lines(&mut analysis, root);
    }
    drop_trailing_headings(&mut analysis, &content);
    if let Some((needle, report)) = explain {
        report_needle(&analysis, &candidates, needle, report);
    }
    let mut text = String::new();
    for &root in &content {
        write_text(&analysis, root, &mut text);
    }
    drop_leading_headline(&mut text, title);
    drop_trailing_calls_to_follow(&mut text);
    drop_trailing_fragments(&mut text);
    drop_leading_fragments(&mut text);
    Extracted {
        text,
        container: Some(top),
    }
}

/// What pass 1 finds for each node.
struct Context {
    /// The nearest block ancestor (the node itself for a block).
    block_of: Vec<NodeId>,
    /// Inside a link (an `<a href>` that does not wrap blocks of much text).
    in_link: Vec<bool>,
    in_heading: Vec<bool>,
}

impl Context {
    fn of(doc: &Document) -> Context {
        let count = doc.nodes.len();
        // Pass 1 (forwards): nearest block ancestor, link and heading context.
        let mut block_of = vec![0 as NodeId; count];
        let mut in_link = vec![false; count];
        let mut in_heading = vec![false; count];
        let mut links_wrap_blocks = false;
        for id in 1..count {
            let parent = doc.nodes[id].parent as usize;
            in_link[id] = in_link[parent];
            in_heading[id] = in_heading[parent];
            block_of[id] = block_of[parent];
            let NodeKind::Element { tag, .. } = doc.nodes[id].kind else {
                continue;
            };
            if is_block(tag) {
                block_of[id] = id as NodeId;
            }
            // An anchor without `href` (`<a name="top">`, often left open on
            // older pages) links nowhere: its text is not link text.
            if tag == Tag::A && doc.attr(id as NodeId, AttrName::Href).is_some() {
                in_link[id] = true;
            }
            if in_link[parent] && is_block(tag) {
                links_wrap_blocks = true;
            }
            if tag.is_heading() {
                in_heading[id] = true;
            }
        }

        // A link round blocks of much text is no link: an `<a>` left open
        // before the article (HTML5 keeps it open across blocks), or one round
        // a whole section. A teaser card's link holds a headline and a blurb.
        if links_wrap_blocks {
            let mut id = 1;
            while id < count {
                let node = id as NodeId;
                if !(in_link[id] && doc.tag(node) == Some(Tag::A)) {
                    id += 1;
                    continue;
                }
                let end = doc.subtree_end(node) as usize;
                let text_bytes: usize = (id..end)
                    .filter_map(|inner| doc.text(inner as NodeId))
                    .map(str::len)
                    .sum();
                if text_bytes >= WRAPPING_LINK_BYTES
                    && (id + 1..end).any(|inner| doc.tag(inner as NodeId).is_some_and(is_block))
                {
                    in_link[id..end].fill(false);
                }
                id = end;
            }
        }

        Context {
            block_of,
            in_link,
            in_heading,
        }
    }
}

/// What pass 2 finds for each node, before anything is excluded.
struct Raw {
    /// A text node's length and commas (see [`measure`]).
    text_measure: Vec<(u32, u32)>,
    /// A block's own text and own link text.
    own: Vec<(u32, u32)>,
    /// Prose in the subtree.
    prose: Vec<u32>,
    /// Text in the subtree.
    len: Vec<u32>,
}

impl Raw {
    fn of(doc: &Document, context: &Context) -> Raw {
        let count = doc.nodes.len();
        let Context {
            block_of, in_link, ..
        } = context;
        // Pass 2 (backwards): how much prose (long, link-poor text blocks) each
        // subtree holds before anything is excluded. A subtree with a good share
        // of the page's prose is never excluded by its name: class names like
        // `content-with-sidebar` or `field-label-hidden` wrap real articles.
        let mut text_measure = vec![(0u32, 0u32); count];
        let mut raw_own = vec![(0u32, 0u32); count];
        let mut raw_prose = vec![0u32; count];
        let mut raw_len = vec![0u32; count];
        for id in (1..count).rev() {
            match doc.nodes[id].kind {
                NodeKind::Text { .. } => {
                    let measured = measure(doc.text(id as NodeId).unwrap_or(""));
                    text_measure[id] = measured;
                    raw_len[id] = measured.0;
                    let own = &mut raw_own[block_of[id] as usize];
                    own.0 += measured.0;
                    if in_link[id] {
                        own.1 += measured.0;
                    }
                }
                NodeKind::Element { tag, .. } if is_prose_block(tag, raw_own[id]) => {
                    raw_prose[id] += raw_own[id].0;
                }
                _ => {}
            }
            let parent = doc.nodes[id].parent as usize;
            raw_prose[parent] += raw_prose[id];
            raw_len[parent] += raw_len[id];
        }

        Raw {
            text_measure,
            own: raw_own,
            prose: raw_prose,
            len: raw_len,
        }
    }
}

/// Pass 3: which nodes are excluded, and the class signal of each element
/// that was judged.
fn exclude(doc: &Document, raw: &Raw) -> (Vec<ClassSignal>, Vec<bool>) {
    let count = doc.nodes.len();
    let Raw {
        own: raw_own,
        prose: raw_prose,
        len: raw_len,
        ..
    } = raw;
    let body = (0..count as NodeId)
        .find(|&id| doc.tag(id) == Some(Tag::Body))
        .unwrap_or(0);
    let page_prose = raw_prose[body as usize];
    // Shares are of the prose a reader sees: a hidden copy of the article
    // (for screen readers, or microdata) would halve every visible part's.
    let landmark = page_landmark(doc);
    let visible_prose = page_prose - hidden_prose(doc, raw_prose, page_prose, landmark);
    let protected = |id: NodeId| {
        visible_prose > 0 && raw_prose[id as usize] as f32 >= 0.3 * visible_prose as f32
    };
    // Comment sections are prose too, often more than the article, and
    // hidden elements may hold a full copy of it: they are protected only
    // when excluding them would leave almost nothing.
    let protected_strict = |id: NodeId| {
        let outside = page_prose - raw_prose[id as usize];
        raw_prose[id as usize] > 0 && (outside < 300 || (outside as f32) < 0.1 * page_prose as f32)
    };
    let hides_the_page = |id: NodeId| hides_the_page(doc, id, raw_prose, page_prose, landmark);

    // Pass 3 (forwards): exclusion. On a forum thread or a live blog every
    // post is named a comment, and page builders name every block a widget:
    // when names exclude nearly all of the page's prose, they misled, and
    // the pass runs again without them.
    let mut signals = vec![ClassSignal::default(); count];
    let mut excluded = vec![false; count];
    // Inside an `<article>`, a `<header>` is the article's own: headline,
    // standfirst, byline (each judged on its own), not the site's banner.
    let mut in_article = vec![false; count];
    let mut memo = SignalMemo::new();
    for names_misled in [false, true] {
        let (mut named_prose, mut kept_prose) = (0u32, 0u32);
        for id in 1..count {
            let parent = doc.nodes[id].parent as usize;
            excluded[id] = excluded[parent];
            in_article[id] = in_article[parent];
            let NodeKind::Element { tag, .. } = doc.nodes[id].kind else {
                continue;
            };
            if tag == Tag::Article {
                in_article[id] = true;
            }
            // So is a header that is mostly prose: a banner is links.
            let soft_chrome = is_soft_chrome_tag(tag)
                && !(tag == Tag::Header
                    && (in_article[id]
                        || raw_prose[id] > 0 && raw_prose[id] as f32 >= 0.5 * raw_len[id] as f32));
            let node = id as NodeId;
            if excluded[id] {
                continue;
            }
            // Only where something asks: excluded subtrees are never scored.
            signals[id] = class_signal(doc, node, &mut memo);
            if names_misled {
                // Posts or sections, not boilerplate: names weigh nothing.
                signals[id].strong_negative = false;
                signals[id].negative = false;
            }
            if matches!(tag, Tag::Body | Tag::Html) {
                continue;
            }
            let by_tag = is_chrome_tag(tag)
                || is_hidden(doc, node) && !protected_strict(node) && !hides_the_page(node)
                || ((soft_chrome || is_chrome_role(doc, node)) && !protected(node));
            let by_name = !names_misled
                && !by_tag
                && !matches!(tag, Tag::Article | Tag::Main | Tag::A | Tag::P)
                && {
                    let signal = signals[id];
                    if signal.comments {
                        !protected_strict(node)
                    } else {
                        (signal.strong_negative || (signal.negative && !signal.content_word))
                            && !protected(node)
                    }
                };
            if by_name {
                named_prose += raw_prose[id];
            }
            excluded[id] = by_tag || by_name;
            if !excluded[id] && is_prose_block(tag, raw_own[id]) {
                kept_prose += raw_own[id].0;
            }
        }
        if names_misled || named_prose == 0 || kept_prose >= NAMES_LEFT_TOO_LITTLE {
            break;
        }
    }

    (signals, excluded)
}

/// Pass 4 (backwards): statistics over what is not excluded.
fn statistics(
    doc: &Document,
    context: &Context,
    text_measure: &[(u32, u32)],
    excluded: &[bool],
) -> Vec<Stats> {
    let count = doc.nodes.len();
    let Context {
        block_of,
        in_link,
        in_heading,
    } = context;
    // Pass 4 (backwards): statistics over what is left.
    let mut stats = vec![Stats::default(); count];
    for id in (1..count).rev() {
        if excluded[id] {
            continue;
        }
        let parent = doc.nodes[id].parent as usize;
        match doc.nodes[id].kind {
            NodeKind::Text { .. } => {
                let (len, commas) = text_measure[id];
                let stats_here = &mut stats[id];
                stats_here.len = len;
                stats_here.commas = commas;
                if in_link[id] {
                    stats_here.link_len = len;
                }
                if in_heading[id] {
                    stats_here.heading_len = len;
                }
                let block = &mut stats[block_of[id] as usize];
                block.own_len += len;
                block.own_commas += commas;
                if in_link[id] {
                    block.own_link_len += len;
                }
                // A text node's other statistics are zero: only these
                // flow up.
                let up = &mut stats[parent];
                up.len += len;
                up.commas += commas;
                if in_link[id] {
                    up.link_len += len;
                }
                if in_heading[id] {
                    up.heading_len += len;
                }
                continue;
            }
            NodeKind::Element { tag, .. } => {
                if tag == Tag::Br {
                    stats[block_of[id] as usize].own_breaks += 1;
                }
                let here = &mut stats[id];
                if is_prose_block(tag, (here.own_len, here.own_link_len)) {
                    here.prose += here.own_len;
                }
                if is_block(tag) && here.own_len >= MIN_BLOCK_CHARS {
                    // A block of text is a paragraph, or several when
                    // `<br>`s split it.
                    here.paragraphs += 1 + here.own_breaks / 2;
                }
                match tag {
                    Tag::Img | Tag::Picture => here.images += 1,
                    Tag::Li => here.list_items += 1,
                    Tag::Input | Tag::Select | Tag::Textarea | Tag::Button => here.inputs += 1,
                    Tag::Embed | Tag::Object | Tag::Iframe | Tag::Video => here.embeds += 1,
                    Tag::Pre => here.code += 1,
                    _ => {}
                }
            }
            NodeKind::Document => {}
        }
        let child = stats[id];
        let up = &mut stats[parent];
        up.len += child.len;
        up.link_len += child.link_len;
        up.commas += child.commas;
        up.paragraphs += child.paragraphs;
        up.images += child.images;
        up.list_items += child.list_items;
        up.inputs += child.inputs;
        up.embeds += child.embeds;
        up.code += child.code;
        up.heading_len += child.heading_len;
        up.prose += child.prose;
    }

    stats
}

/// Pass 5: block scores flow to their ancestors. Returns which nodes are
/// candidates, and the candidates best first.
fn score_candidates(analysis: &mut Analysis<'_>, context: &Context) -> (Vec<bool>, Vec<NodeId>) {
    let doc = analysis.doc;
    let count = doc.nodes.len();
    let in_link = &context.in_link;
    // Pass 5: block scores flow to ancestors.
    let mut is_candidate = vec![false; count];
    // A candidate's class weight and the points its text gives it, apart
    // until all are in (see below).
    let mut name_weight = vec![0.0f32; count];
    let mut content_points = vec![0.0f32; count];
    for id in 1..count {
        let node = id as NodeId;
        if analysis.excluded[id] {
            continue;
        }
        let Some(tag) = doc.tag(node) else { continue };
        if !is_block(tag) || tag.is_heading() || matches!(tag, Tag::Body | Tag::Html) {
            continue;
        }
        let stats = analysis.stats[id];
        if stats.own_len < MIN_BLOCK_CHARS {
            continue;
        }
        let own_link_density = stats.own_link_len as f32 / stats.own_len as f32;
        // Text split by `<br>`s counts as several paragraphs, as if it had
        // been marked up with `<p>`s; a column of lines of which every other
        // holds a link (a section name over its blurb, a list of headlines)
        // is one block.
        let segments_by_breaks = (stats.own_breaks + 1).min(stats.own_len / 80).max(1);
        let segments = if segments_by_breaks > 1 && is_link_column(doc, node, in_link) {
            1.0
        } else {
            segments_by_breaks as f32
        };
        let points = (segments
            + stats.own_commas.min(30) as f32
            + (stats.own_len as f32 / 100.0).min(3.0 * segments))
            * (1.0 - own_link_density);
        if tag != Tag::P && (segments > 1.0 || matches!(tag, Tag::Td | Tag::Th)) {
            // A `<div>` that holds the text itself is a container too, and
            // so is a table cell, even of one block: a short item of one
            // paragraph in an old table layout, beside a menu column.
            if !is_candidate[id] {
                is_candidate[id] = true;
                analysis.score[id] += initial_score(tag);
                name_weight[id] = class_weight(analysis, node);
            }
            analysis.score[id] += points;
            content_points[id] += points;
        }
        let mut ancestor = doc.nodes[id].parent;
        let mut level = 0;
        while ancestor != NONE && level < 5 {
            let Some(ancestor_tag) = doc.tag(ancestor) else {
                break;
            };
            if !is_candidate[ancestor as usize] {
                is_candidate[ancestor as usize] = true;
                analysis.score[ancestor as usize] += initial_score(ancestor_tag);
                name_weight[ancestor as usize] = class_weight(analysis, ancestor);
            }
            let divider = match level {
                0 => 1.0,
                1 => 2.0,
                _ => level as f32 * 3.0,
            };
            analysis.score[ancestor as usize] += points / divider;
            content_points[ancestor as usize] += points / divider;
            if ancestor_tag == Tag::Body {
                break;
            }
            ancestor = doc.nodes[ancestor as usize].parent;
            level += 1;
        }
    }
    for (id, candidate) in is_candidate.iter().enumerate() {
        if *candidate {
            // A name that promises the article ("content", "entry") adds
            // no more than the candidate's text earns it, or
            // NAME_WEIGHT_FLOOR: a footer named `futer_content` around
            // one blurb is no article.
            let weight = name_weight[id];
            analysis.score[id] += if weight > 0.0 {
                weight.min(content_points[id].max(NAME_WEIGHT_FLOOR))
            } else {
                weight
            };
            analysis.score[id] *= 1.0 - analysis.link_density(id as NodeId);
        }
    }

    let mut candidates: Vec<NodeId> = (0..count as NodeId)
        .filter(|&id| is_candidate[id as usize])
        .collect();
    candidates.sort_by(|a, b| analysis.score[*b as usize].total_cmp(&analysis.score[*a as usize]));

    (is_candidate, candidates)
}

/// The container and its siblings that look like more of the article, in
/// document order.
fn siblings(
    analysis: &Analysis<'_>,
    top: NodeId,
    threshold: f32,
    is_candidate: &[bool],
) -> Vec<NodeId> {
    let doc = analysis.doc;
    let top_score = analysis.score[top as usize];
    let parent = doc.nodes[top as usize].parent;
    let mut content: Vec<NodeId> = Vec::new();
    if parent == NONE || doc.tag(top) == Some(Tag::Body) {
        content.push(top);
    } else {
        let top_class = doc.attr(top, AttrName::Class).unwrap_or("");
        let mut run_open = false;
        // Siblings with text, in order, and whether each is taken.
        let mut judged: Vec<(NodeId, bool)> = vec![];
        for sibling in doc.children(parent) {
            if sibling == top {
                content.push(sibling);
                run_open = true;
                judged.push((sibling, true));
                continue;
            }
            if analysis.excluded[sibling as usize] || doc.tag(sibling).is_none() {
                continue;
            }
            if analysis.stats[sibling as usize].len == 0 {
                continue;
            }
            let mut bonus = 0.0;
            if !top_class.is_empty() && doc.attr(sibling, AttrName::Class) == Some(top_class) {
                bonus += top_score * 0.2;
            }
            let include = if is_candidate[sibling as usize]
                && analysis.score[sibling as usize] + bonus >= threshold
            {
                // A column of headlines and blurbs beside the article scores
                // like more of it; its links give it away.
                analysis.link_density(sibling) < SIBLING_LINK_DENSITY
            } else if doc.tag(sibling) == Some(Tag::P) || {
                // A `<div>` with only inline content is a paragraph too.
                let stats = analysis.stats[sibling as usize];
                doc.tag(sibling) == Some(Tag::Div)
                    && stats.own_len > 0
                    && stats.own_len == stats.len
            } {
                let stats = analysis.stats[sibling as usize];
                let density = analysis.link_density(sibling);
                let text = doc.text_content(sibling);
                (stats.len > 80 && density < 0.25)
                    || (stats.len > 0 && stats.len <= 80 && density == 0.0 && ends_sentence(&text))
            } else if (sibling < top
                || (run_open
                    && doc.tag(sibling) == doc.tag(top)
                    && doc.attr(sibling, AttrName::Class).unwrap_or("") == top_class
                    && !holds_a_link_block(analysis, sibling)))
                && matches!(
                    doc.tag(sibling),
                    Some(Tag::Div | Tag::Section | Tag::Blockquote | Tag::Header)
                )
            {
                // Before the container, a wrapper of plain paragraphs (an
                // intro, the part of the body before a picture): prose that
                // ends a sentence, no lists or forms. After it, the same
                // when it is the container's kind (tag and class: the
                // section after a subheading, the part after a picture) and
                // follows it or another part kept, pictures and excluded
                // boxes aside (and there a short one under a subheading,
                // without links, will do; a writer's one-line tagline not),
                // with no block of links (a column of teasers, each led by
                // its headline's link): an author box or a comment thread
                // after the article is not reached through a block left out.
                let stats = analysis.stats[sibling as usize];
                stats.paragraphs >= 1
                    && (stats.len > 80
                        || (sibling > top && stats.link_len == 0 && stats.heading_len > 0))
                    && ends_sentence(&doc.text_content(sibling))
                    && analysis.link_density(sibling) < 0.2
                    && stats.list_items == 0
                    && stats.inputs == 0
                    && stats.embeds == 0
            } else {
                false
            };
            if sibling > top {
                run_open = include;
            }
            if include {
                content.push(sibling);
            }
            judged.push((sibling, include));
        }
        content.extend(lists_between(analysis, &judged));
        content.sort_unstable();
    }

    content
}

/// Whether a block in `id`'s subtree other than a paragraph has text that
/// is mostly links: a teaser's headline, a box of links. A part of the
/// article links words inside its paragraphs, or a paragraph of one link
/// ("Read more: ...").
fn holds_a_link_block(analysis: &Analysis<'_>, id: NodeId) -> bool {
    let doc = analysis.doc;
    (id..doc.subtree_end(id)).any(|inner| {
        let stats = analysis.stats[inner as usize];
        stats.own_len > 0
            && stats.own_link_len * 2 >= stats.own_len
            && doc
                .tag(inner)
                .is_some_and(|tag| is_block(tag) && tag != Tag::P)
    })
}

/// Lists among the container's siblings that sit between two parts of the
/// article (points of a plan, steps, a list introduced by a sentence
/// ending in ':'): a list of plain items, hardly a link, with text kept
/// before it and after it. `judged` holds the siblings with text, in
/// order, and whether each was taken.
fn lists_between(analysis: &Analysis<'_>, judged: &[(NodeId, bool)]) -> Vec<NodeId> {
    let doc = analysis.doc;
    let mut found = Vec::new();
    for (at, &(sibling, include)) in judged.iter().enumerate() {
        if include || !matches!(doc.tag(sibling), Some(Tag::Ul | Tag::Ol)) {
            continue;
        }
        let stats = analysis.stats[sibling as usize];
        if stats.list_items == 0
            || (stats.link_len as f32) >= 0.2 * stats.len as f32
            || stats.inputs > 0
            || stats.images > 0
        {
            continue;
        }
        let before = at > 0 && judged[at - 1].1;
        let after = judged.get(at + 1).is_some_and(|&(_, include)| include);
        if before && after {
            found.push(sibling);
        }
    }
    found
}

/// Articles split into sections by pull quotes or pictures: further
/// blocks named exactly like the best candidate, with a fair score, are
/// more of the same article.
fn add_same_name_blocks(
    analysis: &Analysis<'_>,
    first: NodeId,
    candidates: &[NodeId],
    content: &mut Vec<NodeId>,
) {
    let doc = analysis.doc;
    let best_class = doc.attr(first, AttrName::Class).unwrap_or("");
    if !best_class.is_empty() {
        let best_tag = doc.tag(first);
        let minimum = (analysis.score[first as usize] * 0.2).max(10.0);
        let mut extra: Vec<NodeId> = Vec::new();
        for &candidate in candidates {
            if analysis.score[candidate as usize] < minimum {
                break;
            }
            if doc.tag(candidate) != best_tag
                || doc.attr(candidate, AttrName::Class) != Some(best_class)
            {
                continue;
            }
            if !overlaps_any(doc, content.iter().chain(&extra), candidate) {
                extra.push(candidate);
            }
        }
        if !extra.is_empty() {
            content.extend(extra);
            content.sort_unstable();
        }
    }
}

/// Page builders and CMS blocks cut an article into sibling sections
/// that share one name ("headline-with-text", "text-block") under no
/// strong common parent: two or more blocks of one name, each scored
/// about as well as the best and mostly prose, are more of the article.
fn add_repeated_sections(
    analysis: &Analysis<'_>,
    first: NodeId,
    candidates: &[NodeId],
    content: &mut Vec<NodeId>,
) {
    let doc = analysis.doc;
    let best_class = doc.attr(first, AttrName::Class).unwrap_or("");
    let strong = analysis.score[first as usize] * REPEATED_SECTION_SHARE;
    let mut repeated: Vec<(Option<Tag>, &str, Vec<NodeId>)> = Vec::new();
    // Only the best few: cost stays linear on pages of thousands of blocks.
    for &candidate in candidates.iter().take(REPEATED_SECTION_CANDIDATES) {
        if analysis.score[candidate as usize] < strong {
            break;
        }
        let Some(class) = doc
            .attr(candidate, AttrName::Class)
            .filter(|c| !c.trim().is_empty())
        else {
            continue;
        };
        // Teaser cards are named alike too, but their blurbs trail off
        // without a full stop; a section of prose ends a sentence.
        if class == best_class
            || analysis.link_density(candidate) >= 0.25
            || !ends_sentence(&doc.text_content(candidate))
            || (analysis.stats[candidate as usize].prose as f32)
                < 0.5 * analysis.stats[candidate as usize].len as f32
        {
            continue;
        }
        let tag = doc.tag(candidate);
        match repeated
            .iter_mut()
            .find(|(t, c, _)| *t == tag && *c == class)
        {
            Some((_, _, members)) => members.push(candidate),
            None => repeated.push((tag, class, vec![candidate])),
        }
    }
    for (_, _, members) in &repeated {
        if members.len() < 2 {
            continue;
        }
        for &member in members {
            if !overlaps_any(doc, content.iter(), member) {
                content.push(member);
            }
        }
        content.sort_unstable();
    }
}

/// Whether `id` is inside one of `roots`' subtrees or holds one of them.
fn overlaps_any<'r>(
    doc: &Document,
    mut roots: impl Iterator<Item = &'r NodeId>,
    id: NodeId,
) -> bool {
    let end = doc.subtree_end(id);
    roots.any(|&root| {
        let root_end = doc.subtree_end(root);
        (root <= id && id < root_end) || (id <= root && root < end)
    })
}

/// For [`explain`]: the ancestors of the first text node holding `needle`,
/// with their exclusion, pruning and score, and the best candidates.
fn report_needle(
    analysis: &Analysis<'_>,
    candidates: &[NodeId],
    needle: &str,
    report: &mut String,
) {
    let doc = analysis.doc;
    let count = doc.nodes.len();
    // The first copy kept, else the first (hidden copies come first
    // on some pages).
    let holds = |id: NodeId| doc.text(id).is_some_and(|t| t.contains(needle));
    let found = (0..count as NodeId)
        .find(|&id| holds(id) && !analysis.excluded[id as usize])
        .or_else(|| (0..count as NodeId).find(|&id| holds(id)));
    let mut ancestor = found.map_or(NONE, |id| doc.nodes[id as usize].parent);
    while ancestor != NONE {
        let index = ancestor as usize;
        report.push_str(&format!(
            "{} excluded={} pruned={} score={:.1} len={} link_len={} own_len={}\n",
            describe(doc, ancestor),
            analysis.excluded[index],
            analysis.pruned[index],
            analysis.score[index],
            analysis.stats[index].len,
            analysis.stats[index].link_len,
            analysis.stats[index].own_len
        ));
        ancestor = doc.nodes[index].parent;
    }
    for &c in candidates.iter().take(5) {
        report.push_str(&format!(
            "candidate {} score={:.1}\n",
            describe(doc, c),
            analysis.score[c as usize]
        ));
    }
}

/// Longest first line (characters) that [`drop_leading_headline`] drops.
const HEADLINE_CHARS: usize = 300;

/// Older pages set the headline in bold or a `<font>`, not a heading, at the
/// top of the text cell: a first line of the text that repeats the title is
/// the headline, which is metadata, and goes (as headings do in [`prune`]).
fn drop_leading_headline(text: &mut String, title: Option<&str>) {
    let Some(title) = title.map(normalized).filter(|title| !title.is_empty()) else {
        return;
    };
    let Some(line_end) = text.find('\n') else {
        return;
    };
    let line = normalized(&text[..line_end]);
    // The title itself, or the title holding the line (the site's name
    // beside it), or the line holding the title and a little more ("|
    // Update"): not a reworded headline, which may be a line of the text.
    let repeats_title = line == title
        || (line.len() > 15 && title.contains(&line))
        || (title.len() > 15 && line.contains(&title) && 5 * line.len() <= 6 * title.len());
    if line.chars().count() >= HEADLINE_CHARS || !repeats_title {
        return;
    }
    let rest = text[line_end..].trim_start().len();
    if rest == 0 {
        return;
    }
    text.drain(..text.len() - rest);
}

/// Names that, in a short closing paragraph, ask the reader to follow,
/// subscribe or share: brand names, the same in every language.
const FOLLOW_NAMES: &[&str] = &[
    "facebook",
    "twitter",
    "instagram",
    "whatsapp",
    "telegram",
    "newsletter",
    "youtube",
    "tiktok",
    "linkedin",
];

/// Longest closing paragraph (characters) that [`drop_trailing_calls_to_follow`]
/// drops.
const FOLLOW_CHARS: usize = 300;

/// The last paragraphs of an article are often the site's calls to follow
/// it ("Follow us on Twitter and Instagram @site", "Abonnieren Sie den
/// Newsletter"): short closing paragraphs that name networks or a
/// newsletter are dropped, at most three.
fn drop_trailing_calls_to_follow(text: &mut String) {
    for _ in 0..3 {
        let trimmed = text.trim_end().len();
        let start = text[..trimmed].rfind("\n\n").map_or(0, |at| at + 2);
        let last = &text[start..trimmed];
        if start == 0 || last.chars().count() >= FOLLOW_CHARS {
            return;
        }
        // One network named in passing is news ("Twitter seemed confused
        // by the campaign:"); a call names several, a newsletter, or an
        // address to follow.
        let lower = last.to_lowercase();
        let names = FOLLOW_NAMES
            .iter()
            .filter(|name| lower.contains(*name))
            .count();
        let calls =
            names >= 2 || (names == 1 && (lower.contains("newsletter") || lower.contains('@')));
        if !calls {
            return;
        }
        text.truncate(start);
        let kept = text.trim_end().len();
        text.truncate(kept);
    }
}

/// Longest label (characters) of [`is_label`].
const FRAGMENT_CHARS: usize = 50;

/// A paragraph of the text that is a label, not prose: short, no sentence,
/// and a single word or no word at all ("Comments", "Anzeigen", "mehr",
/// "---", "^", a date, a page number, a kicker over the headline). Short
/// lines of several words are not: credits and sign-offs ("Reporting by ...;
/// Editing by ...", "With Post wires") are the article's, and a label ending
/// in ':' may introduce what is kept.
fn is_label(paragraph: &str) -> bool {
    paragraph.chars().count() < FRAGMENT_CHARS
        && !ends_sentence(paragraph)
        && (!paragraph.chars().any(char::is_alphabetic)
            || !paragraph.trim().contains(char::is_whitespace))
}

/// Labels closing the text are the page's links and labels after the
/// article: dropped, at most three.
fn drop_trailing_fragments(text: &mut String) {
    for _ in 0..3 {
        let trimmed = text.trim_end().len();
        let Some(start) = text[..trimmed].rfind("\n\n").map(|at| at + 2) else {
            return;
        };
        if !is_label(&text[start..trimmed]) {
            return;
        }
        text.truncate(start);
        let kept = text.trim_end().len();
        text.truncate(kept);
    }
}

/// Labels opening the text (a kicker, a date, "Hauptinhalt") are the page's
/// too: dropped, at most two, when text follows.
fn drop_leading_fragments(text: &mut String) {
    for _ in 0..2 {
        let Some(end) = text.find("\n\n") else {
            return;
        };
        if !is_label(&text[..end]) || text[end..].trim().is_empty() {
            return;
        }
        let rest = text[end..].trim_start().len();
        text.drain(..text.len() - rest);
    }
}

/// Whether a block's inline text (its lines between `<br>`s, nested
/// blocks skipped) is a column of links: four lines or more, at least every
/// other one holding a link. Called only for blocks split by `<br>`s, each
/// looking at its own inline content only, so the cost stays linear.
fn is_link_column(doc: &Document, block: NodeId, in_link: &[bool]) -> bool {
    let (mut lines, mut link_lines) = (0u32, 0u32);
    let (mut line_has_text, mut line_has_link) = (false, false);
    walk_lines(doc, block, false, |piece| match piece {
        Inline::Text(id) => {
            if doc
                .text(id)
                .is_some_and(|text| text.chars().any(char::is_alphanumeric))
            {
                line_has_text = true;
                line_has_link |= in_link[id as usize];
            }
        }
        Inline::Link(_) => {}
        Inline::LineEnd => {
            if line_has_text {
                lines += 1;
                link_lines += u32::from(line_has_link);
            }
            (line_has_text, line_has_link) = (false, false);
        }
    });
    lines >= LINK_LINES_MIN && 2 * link_lines >= lines
}

/// A piece of a block's inline content, for [`walk_lines`].
enum Inline {
    Text(NodeId),
    /// An `<a>`, taken whole.
    Link(NodeId),
    /// A `<br>`, or the end of the block.
    LineEnd,
}

/// Walks a block's inline content in order, nested blocks skipped: its
/// text nodes, its links (taken whole when `whole_links`, else walked
/// into) and the end of each line. Each node is visited once.
fn walk_lines(doc: &Document, block: NodeId, whole_links: bool, mut visit: impl FnMut(Inline)) {
    let end = doc.subtree_end(block);
    let mut id = block + 1;
    while id < end {
        match doc.tag(id) {
            Some(Tag::Br) => visit(Inline::LineEnd),
            Some(tag) if is_block(tag) => {
                id = doc.subtree_end(id);
                continue;
            }
            Some(Tag::A) if whole_links => {
                visit(Inline::Link(id));
                id = doc.subtree_end(id);
                continue;
            }
            Some(_) => {}
            None => visit(Inline::Text(id)),
        }
        id += 1;
    }
    visit(Inline::LineEnd);
}

/// How far above the container a table cell may be for [`table_rows`].
const TABLE_CELL_LEVELS: usize = 3;

/// Older table layouts put an article in one table, a row per part
/// (the opening in one row, the rest under a picture or a subheading in the
/// next): when the container sits in a cell that fills its row, the cells
/// of the table's other rows are its siblings, kept when they score as
/// siblings do and are not mostly links.
fn table_rows(
    analysis: &Analysis<'_>,
    top: NodeId,
    content: &[NodeId],
    threshold: f32,
    is_candidate: &[bool],
) -> Vec<NodeId> {
    let doc = analysis.doc;
    let mut found = Vec::new();
    // The row: the container's (an only child's container climbs to it),
    // or the one of the cell the container is in.
    let mut row = top;
    let mut levels = 0;
    while doc.tag(row) != Some(Tag::Tr) {
        if levels > TABLE_CELL_LEVELS || matches!(doc.tag(row), None | Some(Tag::Table)) {
            return found;
        }
        row = doc.nodes[row as usize].parent;
        levels += 1;
    }
    // A cell beside others (a sidebar, a menu column) is one column of a
    // page layout, not a row of the article.
    let row_len = analysis.stats[row as usize].len as f32;
    if (analysis.stats[top as usize].len as f32) < 0.8 * row_len {
        return found;
    }
    let rows = doc.nodes[row as usize].parent;
    if rows == NONE {
        return found;
    }
    // Rows next to the container's (a picture or an advert between them
    // aside) are parts of the article however short: an intro in bold
    // above, the last paragraphs under an advert. A row of links (related
    // stories, a footer) ends that run.
    let siblings: Vec<NodeId> = doc
        .children(rows)
        .filter(|&sibling| doc.tag(sibling) == Some(Tag::Tr))
        .collect();
    let at = siblings.iter().position(|&sibling| sibling == row);
    let mut adjacent = vec![false; siblings.len()];
    if let Some(at) = at {
        let is_barrier = |sibling: NodeId| {
            let stats = analysis.stats[sibling as usize];
            (stats.len >= MIN_BLOCK_CHARS && stats.link_len * 2 >= stats.len)
                || is_bold_label(analysis, sibling)
        };
        for index in (0..at).rev() {
            if is_barrier(siblings[index]) {
                break;
            }
            adjacent[index] = true;
        }
        for index in at + 1..siblings.len() {
            if is_barrier(siblings[index]) {
                break;
            }
            adjacent[index] = true;
        }
    }
    for (position, &sibling) in siblings.iter().enumerate() {
        if sibling == row {
            continue;
        }
        // The row's cells, not the row: a cell of prices or a picture
        // beside the text is no more of the article.
        for other in doc.children(sibling) {
            let index = other as usize;
            if !matches!(doc.tag(other), Some(Tag::Td | Tag::Th)) || analysis.excluded[index] {
                continue;
            }
            let scores = is_candidate[index]
                && analysis.score[index] >= threshold
                && analysis.link_density(other) < 0.25;
            let prose_beside = adjacent[position] && is_prose_cell(analysis, other);
            if !(scores || prose_beside) {
                continue;
            }
            let end = doc.subtree_end(other);
            let overlaps = content.iter().any(|&root| {
                let root_end = doc.subtree_end(root);
                (root <= other && other < root_end) || (other <= root && root < end)
            });
            if !overlaps {
                found.push(other);
            }
        }
    }
    found
}

/// A block whose text is a short heading or bold run and no sentence: a
/// subheading, or the head of what follows ("Leserkommentare (3)", "Ihre
/// Meinung"). Reading comments set as rows after the article's rows are
/// not reached past it by [`table_rows`]' prose rule (rows that score are
/// still taken).
fn is_bold_label(analysis: &Analysis<'_>, id: NodeId) -> bool {
    let doc = analysis.doc;
    let stats = analysis.stats[id as usize];
    if stats.len == 0 || stats.len >= PROSE_CELL_CHARS || stats.link_len > 0 {
        return false;
    }
    let end = doc.subtree_end(id);
    let all_bold = (id + 1..end).all(|inner| {
        if analysis.excluded[inner as usize]
            || !doc
                .text(inner)
                .is_some_and(|text| text.chars().any(char::is_alphanumeric))
        {
            return true;
        }
        let mut ancestor = doc.nodes[inner as usize].parent;
        while ancestor != id && ancestor != NONE {
            if doc
                .tag(ancestor)
                .is_some_and(|tag| tag.is_heading() || matches!(tag, Tag::B | Tag::Strong))
            {
                return true;
            }
            ancestor = doc.nodes[ancestor as usize].parent;
        }
        false
    });
    all_bold && !ends_sentence(&doc.text_content(id))
}

/// Shortest text (characters) of [`is_prose_cell`].
const PROSE_CELL_CHARS: u32 = 80;

/// A table cell of plain prose: text only (no nested blocks but
/// paragraphs), hardly a link, ending a sentence, no copyright notice (a
/// footer row of small print: "© 2008 ... Alle Rechte vorbehalten.").
fn is_prose_cell(analysis: &Analysis<'_>, cell: NodeId) -> bool {
    let doc = analysis.doc;
    let stats = analysis.stats[cell as usize];
    stats.len >= PROSE_CELL_CHARS
        && (stats.link_len as f32) < 0.1 * stats.len as f32
        && stats.list_items == 0
        && stats.inputs == 0
        && stats.heading_len * 2 < stats.len
        && (cell + 1..doc.subtree_end(cell)).all(|inner| {
            doc.tag(inner)
                .is_none_or(|tag| !is_block(tag) || matches!(tag, Tag::P | Tag::Div))
        })
        && {
            let text = doc.text_content(cell);
            ends_sentence(&text) && !text.contains('©')
        }
}

/// Standfirsts (the lead paragraph under the headline) often sit in the
/// article's header, apart from the body the scoring found: paragraphs of
/// prose between the start of the enclosing `<article>` (or `<main>`) and the first
/// content root are more of the article. Only plain blocks: no nested
/// blocks, few links, a finished sentence; headings, list items, and
/// anything excluded are passed over.
fn standfirst(analysis: &Analysis<'_>, top: NodeId, content: &[NodeId]) -> Vec<NodeId> {
    let doc = analysis.doc;
    let mut found = Vec::new();
    let Some(&first_root) = content.iter().min() else {
        return found;
    };
    let mut scope = doc.nodes[top as usize].parent;
    let mut levels = 0;
    while scope != NONE && levels < STANDFIRST_LEVELS {
        match doc.tag(scope) {
            Some(Tag::Article | Tag::Main) => break,
            Some(Tag::Body | Tag::Html) | None => return found,
            _ => {}
        }
        scope = doc.nodes[scope as usize].parent;
        levels += 1;
    }
    if scope == NONE || levels == STANDFIRST_LEVELS {
        return found;
    }
    let mut id = scope + 1;
    while id < first_root {
        let index = id as usize;
        let end = doc.subtree_end(id);
        if analysis.excluded[index] {
            id = end;
            continue;
        }
        let Some(tag) = doc.tag(id) else {
            id += 1;
            continue;
        };
        if end > first_root {
            // An ancestor of the content: look inside.
            id += 1;
            continue;
        }
        if matches!(tag, Tag::Li | Tag::Ul | Tag::Ol | Tag::Dl | Tag::Table) || tag.is_heading() {
            id = end;
            continue;
        }
        let stats = analysis.stats[index];
        if matches!(tag, Tag::P | Tag::Div | Tag::Section | Tag::Blockquote)
            && stats.own_len >= STANDFIRST_MIN_CHARS
            && stats.own_len == stats.len
            && (stats.link_len as f32) < 0.2 * stats.len as f32
            && ends_sentence(&doc.text_content(id))
        {
            found.push(id);
            id = end;
            continue;
        }
        id += 1;
    }
    found
}

/// Shortest lead of [`described_lead`]: a dek under the headline (one
/// sentence) is the article's summary, not its text; an opening paragraph
/// set apart is.
const LEAD_MIN_CHARS: u32 = 200;

/// Characters of a description compared with a block's text in
/// [`described_lead`] (letters and digits only).
const SUMMARY_KEY_CHARS: usize = 40;

/// Letters and digits of `text`, lowercased: quotes, dashes, entities and
/// spacing differ between a description and the page's text.
fn summary_key(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The standfirst set apart from the body: a hero, an intro box, a lead in a
/// heading under the headline, outside any `<article>` the body is in. CMSs
/// fill the page's description from it, so a block before the body whose text
/// starts like one of the page's descriptions (or holds its start) is it. Only
/// a plain block (no nested blocks, few links), not already in the text.
fn described_lead(
    analysis: &Analysis<'_>,
    content: &[NodeId],
    summaries: &[String],
) -> Option<NodeId> {
    let doc = analysis.doc;
    let first_root = *content.iter().min()?;
    let keys: Vec<String> = summaries
        .iter()
        .map(|summary| summary_key(summary))
        .filter(|key| key.chars().count() >= SUMMARY_KEY_CHARS)
        .map(|key| key.chars().take(SUMMARY_KEY_CHARS).collect())
        .collect();
    if keys.is_empty() {
        return None;
    }
    let mut id = 1;
    while id < first_root {
        let index = id as usize;
        if analysis.excluded[index] {
            id = doc.subtree_end(id);
            continue;
        }
        let stats = analysis.stats[index];
        if doc.tag(id).is_some_and(is_block)
            && doc.tag(id) != Some(Tag::H1)
            && stats.own_len >= LEAD_MIN_CHARS
            && stats.own_len == stats.len
            && (stats.link_len as f32) < 0.2 * stats.len as f32
            && doc.subtree_end(id) <= first_root
        {
            let key = summary_key(&doc.text_content(id));
            if let Some(summary) = keys.iter().find(|summary| key.contains(summary.as_str())) {
                // The body may open with the same words.
                let in_body = content
                    .iter()
                    .any(|&root| summary_key(&doc.text_content(root)).contains(summary.as_str()));
                return (!in_body).then_some(id);
            }
        }
        id += 1;
    }
    None
}

/// How far above the container an `<article>` may be for [`standfirst`].
const STANDFIRST_LEVELS: usize = 8;
/// Shortest standfirst, in characters.
const STANDFIRST_MIN_CHARS: u32 = 80;

/// Whether text ends with a sentence-final mark (Latin, CJK, Devanagari,
/// Arabic), closing quotes and brackets aside.
fn ends_sentence(text: &str) -> bool {
    text.trim_end_matches(|c: char| {
        is_blank(c) || matches!(c, '"' | '\'' | '”' | '’' | '»' | '«' | ')' | '“' | '」')
    })
    .ends_with(['.', '!', '?', '。', '！', '？', '।', '؟', '…'])
}

/// A block whose own text (length, link length) is a paragraph of prose.
fn is_prose_block(tag: Tag, (len, link_len): (u32, u32)) -> bool {
    is_block(tag) && len >= 80 && (link_len as f32) < 0.3 * len as f32
}

fn initial_score(tag: Tag) -> f32 {
    match tag {
        Tag::Div | Tag::Article | Tag::Section | Tag::Main => 5.0,
        Tag::Pre | Tag::Td | Tag::Blockquote => 3.0,
        Tag::Address | Tag::Ol | Tag::Ul | Tag::Dl | Tag::Dd | Tag::Dt | Tag::Li | Tag::Form => {
            -3.0
        }
        Tag::H1 | Tag::H2 | Tag::H3 | Tag::H4 | Tag::H5 | Tag::H6 | Tag::Th => -5.0,
        _ => 0.0,
    }
}

/// A row of a layout table is columns side by side (the article, a column
/// of headlines, a menu), not one container: the best-scoring cell of the
/// row stands for it, and the others are judged as its siblings.
fn best_cell(analysis: &Analysis<'_>, top: NodeId, is_candidate: &[bool]) -> NodeId {
    let doc = analysis.doc;
    // A table of one row (the only-child climb in [`widen`] goes up to it).
    let mut row = top;
    while matches!(doc.tag(row), Some(Tag::Table | Tag::Tbody)) {
        let mut children = doc
            .children(row)
            .filter(|&child| doc.tag(child).is_some() && !analysis.excluded[child as usize]);
        match (children.next(), children.next()) {
            (Some(only), None) => row = only,
            _ => return top,
        }
    }
    if doc.tag(row) != Some(Tag::Tr) {
        return top;
    }
    let cells: Vec<NodeId> = doc
        .children(row)
        .filter(|&cell| {
            matches!(doc.tag(cell), Some(Tag::Td | Tag::Th))
                && is_candidate[cell as usize]
                && !analysis.excluded[cell as usize]
        })
        .collect();
    if cells.len() < 2 {
        return top;
    }
    cells
        .into_iter()
        .max_by(|a, b| analysis.score[*a as usize].total_cmp(&analysis.score[*b as usize]))
        .unwrap_or(top)
}

/// Moves the container up when the best candidates share an ancestor
/// (articles split into several sibling blocks), or when its parent scores
/// better, or when it is an only child.
fn widen(analysis: &Analysis<'_>, first: NodeId, candidates: &[NodeId]) -> NodeId {
    let doc = analysis.doc;
    let top_score = analysis.score[first as usize];
    let mut top = first;
    let alternatives: Vec<NodeId> = candidates
        .iter()
        .skip(1)
        .take(4)
        .copied()
        .filter(|&c| analysis.score[c as usize] >= 0.75 * top_score)
        .collect();
    if alternatives.len() >= 3 {
        let mut ancestor = doc.nodes[top as usize].parent;
        while ancestor != NONE && doc.tag(ancestor) != Some(Tag::Body) {
            let end = doc.subtree_end(ancestor);
            let inside = alternatives
                .iter()
                .filter(|&&c| c > ancestor && c < end)
                .count();
            if inside >= 3 {
                top = ancestor;
                break;
            }
            ancestor = doc.nodes[ancestor as usize].parent;
        }
    }
    // Climb while a parent scores better than the current container.
    let threshold = analysis.score[top as usize] / 3.0;
    let mut last_score = analysis.score[top as usize];
    let mut parent = doc.nodes[top as usize].parent;
    while parent != NONE && doc.tag(parent) != Some(Tag::Body) && doc.tag(parent).is_some() {
        let parent_score = analysis.score[parent as usize];
        if parent_score == 0.0 {
            parent = doc.nodes[parent as usize].parent;
            continue;
        }
        if parent_score < threshold {
            break;
        }
        // A layout table scores from all its rows (a footer of small print,
        // a column of teasers): it is worth more than a cell of it only
        // when it beats the cell itself, not a thinner row between.
        let beaten = if matches!(
            doc.tag(parent),
            Some(Tag::Table | Tag::Tbody | Tag::Thead | Tag::Tr)
        ) {
            analysis.score[top as usize]
        } else {
            last_score
        };
        if parent_score > beaten {
            top = parent;
            break;
        }
        last_score = parent_score;
        parent = doc.nodes[parent as usize].parent;
    }
    // An only child says nothing its parent does not.
    loop {
        let parent = doc.nodes[top as usize].parent;
        if parent == NONE || matches!(doc.tag(parent), None | Some(Tag::Body | Tag::Html)) {
            break;
        }
        let element_children = doc
            .children(parent)
            .filter(|&c| doc.tag(c).is_some() && !analysis.excluded[c as usize])
            .count();
        if element_children != 1 {
            break;
        }
        top = parent;
    }
    top
}

/// The page's main landmark: its first `<main>` or `<article>`, else its
/// first `<h1>`.
fn page_landmark(doc: &Document) -> Option<NodeId> {
    let mut heading = None;
    for id in 0..doc.nodes.len() as NodeId {
        match doc.tag(id) {
            Some(Tag::Main | Tag::Article) => return Some(id),
            Some(Tag::H1) if heading.is_none() => heading = Some(id),
            _ => {}
        }
    }
    heading
}

/// A hidden element that holds the page's main landmark and most of its
/// prose (twice what is outside it): the page hidden for a moment (behind
/// an open cookie dialog, `aria-hidden` while a modal shows; `display:none`
/// until a script has loaded), not a hidden copy of the article (a copy
/// leaves as much outside) or a hidden cookie policy (no landmark). Such
/// an element is not hidden for the cleaner.
fn hides_the_page(
    doc: &Document,
    id: NodeId,
    raw_prose: &[u32],
    page_prose: u32,
    landmark: Option<NodeId>,
) -> bool {
    let inside = raw_prose[id as usize];
    inside >= PAGE_HIDING_MIN_PROSE
        && inside >= 2 * (page_prose - inside)
        && landmark.is_some_and(|landmark| id <= landmark && landmark < doc.subtree_end(id))
}

/// Least prose (characters) of [`hides_the_page`].
const PAGE_HIDING_MIN_PROSE: u32 = 300;

/// Prose in hidden subtrees (outermost hidden elements only; one that
/// [`hides_the_page`] does not count).
fn hidden_prose(
    doc: &Document,
    raw_prose: &[u32],
    page_prose: u32,
    landmark: Option<NodeId>,
) -> u32 {
    let mut hidden = 0;
    let mut id = 1;
    while (id as usize) < doc.nodes.len() {
        if raw_prose[id as usize] == 0 {
            id = doc.subtree_end(id);
            continue;
        }
        if doc.tag(id).is_some()
            && is_hidden(doc, id)
            && !hides_the_page(doc, id, raw_prose, page_prose, landmark)
        {
            hidden += raw_prose[id as usize];
            id = doc.subtree_end(id);
            continue;
        }
        id += 1;
    }
    hidden
}

/// Whether a heading repeats the page title (which often carries the
/// site name too, or is the headline shortened).
fn is_headline(heading: &str, title: &str) -> bool {
    if title.is_empty() {
        return false;
    }
    if heading == title
        || (heading.len() > 15 && title.contains(heading))
        || (title.len() > 15 && heading.contains(title))
    {
        return true;
    }
    let title_words: Vec<&str> = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let heading_words: Vec<&str> = heading
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if heading_words.len() < 3 {
        return false;
    }
    let shared = heading_words
        .iter()
        .filter(|w| title_words.contains(w))
        .count();
    shared as f32 >= 0.7 * heading_words.len().max(title_words.len()) as f32
}

fn normalized(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Marks sub-blocks of `root` that are not article prose.
/// `best` is the best-scoring candidate: it and its ancestors are never
/// pruned, whatever their names say (page builders name every wrapper
/// `widget`).
fn prune(
    analysis: &mut Analysis<'_>,
    root: NodeId,
    best: NodeId,
    title: Option<&str>,
    seen_prose: &mut bool,
) {
    let doc = analysis.doc;
    let title = title.map(normalized).unwrap_or_default();
    let end = doc.subtree_end(root);
    let root_len = analysis.stats[root as usize].len;
    let mut id = root + 1;
    while id < end {
        let index = id as usize;
        if !analysis.excluded[index]
            && analysis.stats[index].own_len >= MIN_BLOCK_CHARS
            && doc.tag(id).is_some_and(|tag| !tag.is_heading())
        {
            *seen_prose = true;
        }
        if analysis.excluded[index] || analysis.pruned[index] {
            id = doc.subtree_end(id);
            continue;
        }
        let Some(tag) = doc.tag(id) else {
            id += 1;
            continue;
        };
        let holds_best = id <= best && best < doc.subtree_end(id);
        let remove = if holds_best {
            false
        } else if is_captioned_picture(analysis, id, tag) {
            true
        } else if tag.is_heading() {
            // The headline is metadata, not body; so are empty or
            // boilerplate-named headings.
            let text = normalized(&doc.text_content(id));
            // An `<h1>` above all the prose is the headline, whatever
            // the `<title>` says.
            text.is_empty()
                || is_headline(&text, &title)
                || (tag == Tag::H1 && !*seen_prose)
                || class_weight(analysis, id) < 0.0
        } else if matches!(
            tag,
            Tag::Div
                | Tag::Section
                | Tag::Ul
                | Tag::Ol
                | Tag::Table
                | Tag::Form
                | Tag::Figure
                | Tag::Header
                | Tag::Footer
                | Tag::Dl
                | Tag::Fieldset
                | Tag::Center
        ) {
            conditionally_remove(analysis, id, tag, root_len)
        } else if tag == Tag::P || tag == Tag::Li {
            let stats = analysis.stats[index];
            stats.len > 0 && stats.link_len as f32 / stats.len as f32 > 0.6
        } else {
            false
        };
        if remove {
            analysis.pruned[index] = true;
            id = doc.subtree_end(id);
        } else {
            id += 1;
        }
    }
}

/// Headings after the last text kept ("Further reading", "Mehr zum Thema")
/// introduced what was pruned: they go too.
fn drop_trailing_headings(analysis: &mut Analysis<'_>, content: &[NodeId]) {
    let doc = analysis.doc;
    let mut last_text = None;
    let mut headings = Vec::new();
    for &root in content {
        let end = doc.subtree_end(root);
        let mut id = root;
        while id < end {
            let index = id as usize;
            if analysis.excluded[index] || analysis.pruned[index] {
                id = doc.subtree_end(id);
                continue;
            }
            match doc.tag(id) {
                // A heading as long as a paragraph is one (some pages set
                // their prose in heading tags).
                Some(tag)
                    if (tag.is_heading() || is_bold_line(analysis, id, tag))
                        && analysis.stats[index].len < 80 =>
                {
                    headings.push(id);
                    id = doc.subtree_end(id);
                    continue;
                }
                Some(_) => {}
                None => {
                    if doc.text(id).is_some_and(|text| !text.trim().is_empty()) {
                        last_text = Some(id);
                    }
                }
            }
            id += 1;
        }
    }
    for heading in headings {
        if last_text.is_none_or(|text| heading > text) {
            analysis.pruned[heading as usize] = true;
        }
    }
}

/// A paragraph that is one bold run and no sentence (`<p><b>Related
/// stories</b></p>`): a heading in older markup.
fn is_bold_line(analysis: &Analysis<'_>, id: NodeId, tag: Tag) -> bool {
    let doc = analysis.doc;
    if !matches!(tag, Tag::P | Tag::Div) || analysis.stats[id as usize].len == 0 {
        return false;
    }
    let mut with_text = doc
        .children(id)
        .filter(|&child| analysis.stats[child as usize].len > 0);
    let (Some(only), None) = (with_text.next(), with_text.next()) else {
        return false;
    };
    matches!(doc.tag(only), Some(Tag::B | Tag::Strong)) && !ends_sentence(&doc.text_content(id))
}

/// Longest caption (characters) of [`is_captioned_picture`].
const CAPTION_CHARS: u32 = 200;

/// A picture and its caption or credit outside `<figcaption>` (`<div><a><img></a>
/// <span>Lee Elder in 1975. © Getty Images</span></div>`): a wrapper whose first
/// child with anything in it is a picture without text, followed by a short
/// text.
fn is_captioned_picture(analysis: &Analysis<'_>, id: NodeId, tag: Tag) -> bool {
    let doc = analysis.doc;
    let stats = analysis.stats[id as usize];
    if !matches!(tag, Tag::Div | Tag::Figure | Tag::Span | Tag::Td)
        || stats.images == 0
        || stats.len == 0
        || stats.len >= CAPTION_CHARS
        || stats.heading_len > 0
        || stats.list_items > 0
    {
        return false;
    }
    let first = doc.children(id).find(|&child| {
        !analysis.excluded[child as usize]
            && (doc.tag(child).is_some() || analysis.stats[child as usize].len > 0)
    });
    first.is_some_and(|child| {
        let child_stats = analysis.stats[child as usize];
        doc.tag(child).is_some() && child_stats.images > 0 && child_stats.len == 0
    })
}

/// In text split by `<br>`s (old table layouts, forum posts), each line is a
/// paragraph: a line made only of two or more links ("Print | E-mail this
/// story") is navigation; one link alone may be a source or a reference.
/// Lines are the inline content of a block between `<br>`s; a block of a
/// single line, or of nothing but links, is left to [`prune`].
fn drop_br_lines(analysis: &mut Analysis<'_>, root: NodeId) {
    let doc = analysis.doc;
    let end = doc.subtree_end(root);
    let mut block = root;
    while block < end {
        if analysis.excluded[block as usize] || analysis.pruned[block as usize] {
            block = doc.subtree_end(block);
            continue;
        }
        let stats = analysis.stats[block as usize];
        if doc.tag(block).is_some_and(is_block) && stats.own_breaks > 0 && stats.own_len > 0 {
            drop_br_lines_of(analysis, block);
        }
        block += 1;
    }
}

/// Fewest consecutive lines of nothing but links that [`drop_br_lines_of`]
/// takes for a list of headlines ("Related", "Mehr zum Thema"), one link a
/// line.
const LINK_RUN_LINES: usize = 3;

/// Longest label line (characters) over such a run that goes with it.
const LINK_RUN_LABEL_CHARS: usize = 50;

/// Longest teaser line (characters) between two link lines of such a run:
/// a headline's link over a line of blurb, a list of teasers.
const TEASER_LINE_CHARS: usize = 150;

/// A run of link lines in [`drop_br_lines_of`], and what goes with it.
#[derive(Default)]
struct LinkRun {
    /// The units of its link lines, and of the teaser lines between them.
    units: Vec<NodeId>,
    /// Its link lines.
    lines: usize,
    /// Its link lines whose links read as headlines (words, not an address,
    /// each another: not "Zum Angebot" under every item of a list).
    headlines: usize,
    /// The link text of each link line, lowercased, for telling repeats.
    link_texts: std::collections::HashSet<String>,
    /// Teaser lines taken between link lines.
    teasers: usize,
    /// A short plain line after the last link line, taken when another
    /// link line follows (or the run is one of teasers and it is no longer
    /// than they are), and its length in characters.
    teaser: Vec<NodeId>,
    teaser_chars: usize,
    /// The longest teaser line taken.
    longest_teaser: usize,
    /// The label line over the run.
    label: Vec<NodeId>,
}

impl LinkRun {
    fn link_line(
        &mut self,
        units: &[NodeId],
        link_text: String,
        headline: bool,
        last_label: &mut Vec<NodeId>,
    ) {
        if self.lines == 0 {
            self.label = std::mem::take(last_label);
        } else if !self.teaser.is_empty() {
            self.units.append(&mut self.teaser);
            self.teasers += 1;
            self.longest_teaser = self.longest_teaser.max(self.teaser_chars);
        }
        self.units.extend_from_slice(units);
        self.lines += 1;
        if self.link_texts.insert(link_text) {
            self.headlines += usize::from(headline);
        } else {
            // A repeated link is no headline, nor was its first: the run
            // is not one of teasers.
            self.headlines = 0;
        }
    }

    /// Takes a short plain line after a link line; false when there is no
    /// run or it already holds one.
    fn teaser_line(&mut self, units: &[NodeId], chars: usize) -> bool {
        if self.lines == 0 || !self.teaser.is_empty() {
            return false;
        }
        self.teaser.extend_from_slice(units);
        self.teaser_chars = chars;
        true
    }

    /// Ends the run: a list of headlines ([`LINK_RUN_LINES`] link lines or
    /// more, each but the last followed by a teaser line or none) goes,
    /// with its label, and its last teaser when it is a list of teasers.
    /// Teasers are led by headlines: titles each over its shop's address (a
    /// list of deals) are the article's.
    fn end(&mut self, dropped: &mut Vec<NodeId>) {
        let list = self.lines >= LINK_RUN_LINES
            && (self.teasers == 0
                || (self.teasers + 1 >= self.lines && self.headlines == self.lines));
        if list {
            dropped.append(&mut self.label);
            dropped.append(&mut self.units);
            // The text's first paragraph after teasers is no teaser.
            if self.teasers > 0 && 2 * self.teaser_chars <= 3 * self.longest_teaser {
                dropped.append(&mut self.teaser);
            }
        }
        *self = LinkRun::default();
    }
}

/// One block of [`drop_br_lines`]: its inline content in order, nested
/// blocks skipped, links taken whole. A line of two or more links goes; so
/// does a run of [`LINK_RUN_LINES`] or more lines of links (a list of
/// headlines after the text, one a line, perhaps each over a short line
/// of teaser), with a short label line over it that is no sentence
/// ("Related stories", "Lesen Sie auch:").
fn drop_br_lines_of(analysis: &mut Analysis<'_>, block: NodeId) {
    let doc = analysis.doc;
    // Links are navigation only among other text: a block of nothing but
    // links is [`prune`]'s to judge.
    let stats = analysis.stats[block as usize];
    let links_may_go = stats.own_link_len > 0 && stats.own_link_len < stats.own_len;
    // The current line: its units (text nodes and links), whether it has
    // plain words, how many links, its plain text.
    let mut units: Vec<NodeId> = Vec::new();
    let (mut plain, mut links) = (false, 0usize);
    let mut plain_text = String::new();
    // Whether every link of the line reads as a headline (several words),
    // and the line's link text.
    let mut headline = true;
    let mut link_text = String::new();
    let mut dropped: Vec<NodeId> = Vec::new();
    let mut lines = 0usize;
    // The run of link lines going on, and the line before it when it may
    // be the run's label.
    let mut run = LinkRun::default();
    let mut last_label: Vec<NodeId> = Vec::new();
    walk_lines(doc, block, true, |piece| match piece {
        Inline::Link(id) => {
            if analysis.stats[id as usize].len > 0 {
                links += 1;
                units.push(id);
                let text = doc.text_content(id);
                headline &= text.trim().contains(char::is_whitespace);
                if link_text.len() < TEASER_LINE_CHARS {
                    link_text.push_str(&normalized(&text));
                }
            }
        }
        Inline::Text(id) => {
            let text = doc.text(id).unwrap_or("");
            if text.chars().any(char::is_alphanumeric) {
                plain = true;
            }
            if plain_text.len() <= 4 * TEASER_LINE_CHARS {
                plain_text.push_str(text);
            }
            units.push(id);
        }
        Inline::LineEnd => {
            if plain || links > 0 {
                if links_may_go && !plain && links >= 2 {
                    dropped.extend_from_slice(&units);
                }
                // A headline's date beside its link ("(12.03.2008)") is no
                // plain word.
                let dated_link = links == 1 && !plain_text.chars().any(char::is_alphabetic);
                let text = plain_text.trim();
                let chars = text.chars().count();
                if links_may_go && (!plain || dated_link) {
                    run.link_line(
                        &units,
                        std::mem::take(&mut link_text),
                        headline,
                        &mut last_label,
                    );
                } else if !(links == 0
                    && chars < TEASER_LINE_CHARS
                    && run.teaser_line(&units, chars))
                {
                    run.end(&mut dropped);
                    last_label.clear();
                    if links == 0 && chars < LINK_RUN_LABEL_CHARS && !ends_sentence(text) {
                        last_label.extend_from_slice(&units);
                    }
                }
                lines += 1;
            }
            units.clear();
            plain_text.clear();
            (plain, links, headline) = (false, 0, true);
            link_text.clear();
        }
    });
    run.end(&mut dropped);
    if lines >= 2 {
        for unit in dropped {
            analysis.pruned[unit as usize] = true;
        }
    }
}

/// Prose (characters) that makes a block a passage of the article whatever
/// else it holds.
const PASSAGE_CHARS: u32 = 200;

/// Readability-style "clean conditionally": drops blocks inside the
/// container whose make-up (links, images, list items, inputs, embeds) or
/// name says they are not prose. A block holding most of the container's
/// text is the article itself and is kept.
fn conditionally_remove(analysis: &Analysis<'_>, id: NodeId, tag: Tag, root_len: u32) -> bool {
    let stats = analysis.stats[id as usize];
    if stats.len as f32 >= 0.5 * root_len as f32 && analysis.link_density(id) < 0.5 {
        return false;
    }
    let weight = class_weight(analysis, id);
    // A boilerplate name removes a block unless its content score (which
    // already includes the name's malus) says otherwise. A list's own
    // negative starting score is no reason to drop it.
    let score = analysis.score[id as usize];
    if weight < 0.0 && score <= 0.0 {
        return true;
    }
    if stats.commas >= 10 {
        return false;
    }
    let is_list = matches!(tag, Tag::Ul | Tag::Ol | Tag::Dl);
    let paragraphs = stats.paragraphs as f32;
    let images = stats.images as f32;
    let list_items = stats.list_items as f32 - 100.0;
    let inputs = stats.inputs as f32;
    let density = analysis.link_density(id);
    let len = stats.len;
    let heading_density = if len == 0 {
        0.0
    } else {
        stats.heading_len as f32 / len as f32
    };
    let in_figure = tag == Tag::Figure;
    // A list is navigation when links are most of it; a list of points may
    // link a word or two in each.
    let link_density_limit = if is_list { 0.35 } else { 0.2 };
    // Pictures around a real paragraph are an illustrated passage, not a
    // gallery. A short block holding code (`<pre>`, a command to type) is
    // text, however little.
    (images > 1.0 && paragraphs / images < 0.5 && !in_figure && stats.prose < PASSAGE_CHARS)
        || (!is_list && list_items > paragraphs)
        || (inputs > (paragraphs / 3.0).floor())
        || (!is_list
            && len < MIN_BLOCK_CHARS
            && (images == 0.0 || images > 2.0)
            && heading_density < 0.9
            && !(density == 0.0 && stats.code > 0))
        || (weight < 25.0 && density > link_density_limit && len < 2000)
        || (weight >= 25.0 && density > 0.5)
        || (stats.embeds == 1 && len < 75)
        || stats.embeds > 1
}

/// Builds text with whitespace collapsed: a space inside inline runs, a
/// newline for `<br>`, a blank line between blocks.
struct Writer<'a> {
    out: &'a mut String,
    /// 0 nothing, 1 space, 2 newline, 3 blank line.
    pending: u8,
}

/// Whether the character at `at` (a char boundary) of `text` is blank
/// (see [`is_blank`]), and its width in bytes.
fn blank_at(text: &str, at: usize) -> (bool, usize) {
    let byte = text.as_bytes()[at];
    if byte.is_ascii() {
        return (
            matches!(byte, b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r' | b' '),
            1,
        );
    }
    let c = text[at..].chars().next().expect("at is a char boundary");
    (is_blank(c), c.len_utf8())
}

/// Whitespace, plus the invisible characters pages use as spacers (zero
/// width space, word joiner, stray byte-order marks). Zero width joiners
/// are kept: scripts and emoji need them.
fn is_blank(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}')
}

impl Writer<'_> {
    fn text(&mut self, text: &str) {
        // Words are the runs between blanks; each one after a blank (in
        // this text) is set apart by at least a space, and so is what
        // follows a text that ends with one.
        let bytes = text.as_bytes();
        let mut at = 0;
        let mut after_blank = false;
        while at < bytes.len() {
            let (blank, width) = blank_at(text, at);
            if blank {
                after_blank = true;
                at += width;
                continue;
            }
            // A run of words each set apart by one space comes out as it
            // is: it is copied whole rather than word by word.
            let start = at;
            at += width;
            loop {
                while at < bytes.len() {
                    // Eight ASCII bytes at a time up to the next blank.
                    if let Some(chunk) = bytes.get(at..at + 8) {
                        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
                        if word & HIGH_BITS == 0 {
                            let blanks = ascii_blanks(word);
                            if blanks == 0 {
                                at += 8;
                                continue;
                            }
                            at += (blanks.trailing_zeros() / 8) as usize;
                            break;
                        }
                    }
                    let (blank, width) = blank_at(text, at);
                    if blank {
                        break;
                    }
                    at += width;
                }
                if at + 1 < bytes.len() && bytes[at] == b' ' && !blank_at(text, at + 1).0 {
                    at += 1;
                    continue;
                }
                break;
            }
            if after_blank {
                self.pending = self.pending.max(1);
            }
            if !self.out.is_empty() {
                match self.pending {
                    1 => self.out.push(' '),
                    2 => self.out.push('\n'),
                    // Several roots: the previous one ended with a blank line.
                    3 if self.out.ends_with("\n\n") => {}
                    3 => self.out.push_str("\n\n"),
                    _ => {}
                }
            }
            self.pending = 0;
            self.out.push_str(&text[start..at]);
            after_blank = false;
        }
        if after_blank {
            self.pending = self.pending.max(1);
        }
    }

    fn brk(&mut self, level: u8) {
        self.pending = self.pending.max(level);
    }
}

fn write_text(analysis: &Analysis<'_>, root: NodeId, out: &mut String) {
    let doc = analysis.doc;
    let mut writer = Writer { out, pending: 3 };
    // (node, leaving) pairs: an explicit stack instead of recursion.
    let mut stack: Vec<(NodeId, bool)> = vec![(root, false)];
    while let Some((id, leaving)) = stack.pop() {
        let index = id as usize;
        match doc.nodes[index].kind {
            NodeKind::Text { .. } => {
                if !analysis.excluded[index] && !analysis.pruned[index] {
                    writer.text(doc.text(id).unwrap_or(""));
                }
            }
            NodeKind::Element { tag, .. } => {
                if leaving {
                    if is_block(tag) {
                        writer.brk(3);
                    } else if matches!(tag, Tag::Td | Tag::Th) {
                        writer.brk(1);
                    }
                    continue;
                }
                if analysis.excluded[index] || analysis.pruned[index] {
                    // A block left out still ends the paragraph before it:
                    // the text after a dropped picture or box is a new one.
                    if is_block(tag) {
                        writer.brk(3);
                    }
                    continue;
                }
                match tag {
                    // A line break; two in a row (nothing but blanks
                    // between) end a paragraph, as older pages and
                    // table layouts write them.
                    Tag::Br if writer.pending == 2 => writer.brk(3),
                    Tag::Br => writer.brk(2),
                    Tag::Img | Tag::Picture | Tag::Svg => {}
                    _ => {
                        if is_block(tag) {
                            writer.brk(3);
                        }
                        stack.push((id, true));
                        let first = stack.len();
                        stack.extend(doc.children(id).map(|child| (child, false)));
                        stack[first..].reverse();
                    }
                }
            }
            NodeKind::Document => {
                let first = stack.len();
                stack.extend(doc.children(id).map(|child| (child, false)));
                stack[first..].reverse();
            }
        }
    }
    writer.brk(3);
    if !writer.out.is_empty() && !writer.out.ends_with("\n\n") {
        writer.out.push_str("\n\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_around_a_paragraph_are_not_a_gallery() {
        let paragraph =
            "Zwar waren nach der Schließung des Ateliers einige Kino- und TV-Produktionen \
            in Göttingen entstanden, darunter zwei Fernsehfilme, doch all diese Bemühungen \
            führten am Ende zu keinem nachhaltigen Ergebnis für die Filmstadt.";
        let picture = r#"<div class="col"><a href="/b.jpg"><img src="b.jpg"></a></div>"#;
        let html = format!(
            "<body><article><div class=\"text\"><p>{paragraph}</p><p>{paragraph}</p>\
             <div class=\"row\">{picture}{picture}{picture}<p>{paragraph} Zuletzt.</p></div>\
             <p>{paragraph}</p></div></article></body>"
        );
        let doc = crate::dom::parse(&html);
        let text = extract(&doc, None, &[]).text;
        assert!(
            text.contains("Ergebnis für die Filmstadt. Zuletzt."),
            "{text}"
        );
    }

    #[test]
    fn a_picture_with_its_credit_is_not_text() {
        let paragraph = "Marco Odermatt besitzt eine schnelle Auffassungsgabe, es werden seine \
            ersten Olympischen Spiele, und 2018 holte er bei der Junioren-WM fünfmal Gold.";
        let html = format!(
            "<body><article><div class=\"text\"><p>{paragraph}</p>\
             <div class=\"img-inline\"><a href=\"/o.jpg\"><img src=\"o.jpg\"></a>\
             <p class=\"imagedescription\">Marco Odermatt, Ski-Star. © AFP</p></div>\
             <p>{paragraph}</p><p>{paragraph}</p></div></article></body>"
        );
        let doc = crate::dom::parse(&html);
        let text = extract(&doc, None, &[]).text;
        assert!(!text.contains("AFP"), "{text}");
        assert_eq!(text.matches("fünfmal Gold").count(), 3, "{text}");
    }

    #[test]
    fn text_after_a_dropped_picture_box_is_a_paragraph_of_its_own() {
        let before = "Der Stadtrat hat am Montagabend beschlossen, das alte Hallenbad bis zum \
            Herbst zu schließen und durch einen Neubau am Stadtpark zu ersetzen.";
        let after = "Die Kosten für den Neubau werden auf rund zwölf Millionen Euro geschätzt, \
            ein Drittel davon soll aus Fördermitteln des Landes kommen.";
        let html = format!(
            "<body><div id=\"artikel\">{before}<br><br>{before}<div class=\"foto\">\
             <img src=\"bad.jpg\"><br>Foto: Archiv</div>{after}<br><br>{after}</div></body>"
        );
        let doc = crate::dom::parse(&html);
        let text = extract(&doc, None, &[]).text;
        assert_eq!(
            text.trim_end(),
            format!("{before}\n\n{before}\n\n{after}\n\n{after}"),
            "{text}"
        );
    }

    #[test]
    fn a_heading_over_pruned_links_goes_with_them() {
        let paragraph = "Le marché du travail reste tendu, selon les chiffres publiés jeudi, \
            et les entreprises peinent toujours à recruter dans plusieurs secteurs.";
        let html = format!(
            "<body><article><div class=\"texte\"><h2>Les chiffres</h2><p>{paragraph}</p>\
             <p>{paragraph}</p><p>{paragraph}</p><h3>À lire aussi</h3>\
             <ul><li><a href=\"/a\">Un autre article sur le chômage</a></li>\
             <li><a href=\"/b\">Encore un article sur l'emploi</a></li></ul></div></article></body>"
        );
        let doc = crate::dom::parse(&html);
        let text = extract(&doc, None, &[]).text;
        assert!(text.starts_with("Les chiffres"), "{text}");
        assert!(!text.contains("À lire aussi"), "{text}");
    }

    #[test]
    fn a_bold_line_over_pruned_links_goes_with_them() {
        let paragraph = "El concejo municipal aprobó el martes un presupuesto que financia tres \
            escuelas nuevas, una red de autobuses más amplia y reparaciones del acueducto.";
        let html = format!(
            "<body><div class=\"nota\"><p>{paragraph}</p><p><b>Vea también</b> el mapa.</p>\
             <p>{paragraph}</p><p>{paragraph}</p><p><strong>MÁS INFORMACIÓN:</strong></p>\
             <ul><li><a href=\"/a\">Otra nota sobre el presupuesto municipal</a></li>\
             <li><a href=\"/b\">Otra nota sobre las escuelas nuevas</a></li></ul></div></body>"
        );
        let doc = crate::dom::parse(&html);
        let text = extract(&doc, None, &[]).text;
        assert!(text.contains("Vea también el mapa."), "{text}");
        assert!(!text.contains("MÁS INFORMACIÓN"), "{text}");
        assert!(text.trim_end().ends_with("acueducto."), "{text}");
    }

    #[test]
    fn closing_single_words_are_labels_and_credits_stay() {
        let paragraph = "Nationally, dealers sold nearly 17.3 million new vehicles last year, \
            an increase of just 0.3 percent from the year before, the group said.";
        for (tail, kept) in [
            ("<p>Comments</p><p>---</p>", false),
            ("<p>Anzeigen</p>", false),
            ("<p>(Reporting by Ann Lee; Editing by Tom Brown)</p>", true),
            ("<p>With Post wires</p>", true),
        ] {
            let html = format!(
                "<body><div class=\"story\"><p>{paragraph}</p><p>{paragraph}</p>{tail}</div></body>"
            );
            let doc = crate::dom::parse(&html);
            let text = extract(&doc, None, &[]).text;
            assert_eq!(
                text.trim_end().ends_with("the group said."),
                !kept,
                "{tail}: {text}"
            );
        }
    }

    #[test]
    fn an_opening_kicker_or_date_is_a_label() {
        let paragraph = "Le conseil municipal a voté mardi un budget qui finance trois écoles, \
            un réseau de bus plus large et la réparation du réseau d'eau, a-t-il annoncé.";
        for (head, kept) in [
            ("<p>Environnement</p>", false),
            ("<p>19.11.2021 11:35</p>", false),
            ("<p>Par Anne Martin</p>", true),
        ] {
            let html = format!(
                "<body><div class=\"story\">{head}<p>{paragraph}</p><p>{paragraph}</p></div></body>"
            );
            let doc = crate::dom::parse(&html);
            let text = extract(&doc, None, &[]).text;
            assert_eq!(text.starts_with("Le conseil"), !kept, "{head}: {text}");
        }
    }

    #[test]
    fn measure_counts_as_char_by_char() {
        fn by_chars(text: &str) -> (u32, u32) {
            let (mut len, mut commas, mut in_space) = (0u32, 0u32, true);
            for c in text.chars() {
                if is_blank(c) {
                    len += u32::from(!in_space);
                    in_space = true;
                    continue;
                }
                in_space = false;
                len += if matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x9FFF | 0xAC00..=0xD7AF) {
                    2
                } else {
                    1
                };
                commas += u32::from(matches!(c, ',' | '，' | '、' | '،'));
            }
            (len - u32::from(len > 0 && in_space), commas)
        }
        let mut text = String::new();
        for piece in [
            "  a, b\t\tc\r\n",
            "x",
            "\u{b}\u{c}",
            "東京、",
            " \u{200b} ",
            ",,,,,,,,",
            "\u{1f}\u{7f}\u{e}\u{8}",
            "long word without blanks",
            "  \n\n  ",
            "é,",
            "\u{a0}z",
        ] {
            text.push_str(piece);
            for start in 0..text.len() {
                if text.is_char_boundary(start) {
                    assert_eq!(
                        measure(&text[start..]),
                        by_chars(&text[start..]),
                        "{:?}",
                        &text[start..]
                    );
                }
            }
        }
    }

    #[test]
    fn every_positive_word_is_a_content_word() {
        for positive in POSITIVE {
            assert_eq!(content_names(positive), (true, true), "{positive}");
        }
    }

    #[test]
    fn part_names_earn_no_container_bonus() {
        for token in [
            "article-body",
            "entry-content",
            "articletext",
            "post",
            "main-content",
        ] {
            assert!(names_content(token), "{token}");
        }
        for token in [
            "articlemeta",
            "post-date",
            "entry-title",
            "article__header",
            "content-image",
        ] {
            assert!(!names_content(token), "{token}");
        }
    }
}
