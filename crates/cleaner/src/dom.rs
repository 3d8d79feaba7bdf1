//! A small HTML tokenizer and tree builder, made for extraction rather than
//! for rendering.
//!
//! Why not html5ever: on news pages most of the bytes are scripts, styles,
//! inline SVG and comments, none of which an extractor needs. This parser
//! jumps over them with `memchr`/`memmem` instead of tokenizing them, keeps
//! only the attributes the extractor reads, and stores the tree in one arena
//! in document order (a parent always has a smaller id than its children, so
//! subtree sums are one backwards loop, with no recursion).
//!
//! Tree building follows the parts of the HTML5 algorithm that change the
//! shape an extractor sees (implied `</p>`, `</li>`, `</td>`, void
//! elements, end tags that match nothing being ignored) and leaves out the
//! rest (adoption agency, foster parenting, foreign content). Nesting is
//! capped at [`MAX_DEPTH`], so depth-bombs cost no more than flat pages.

use std::collections::HashMap;

use memchr::{memchr, memmem};

use crate::entities::decode_into;

/// Id of a node in [`Document::nodes`].
pub type NodeId = u32;
/// "No node" in the links of [`Node`].
pub const NONE: NodeId = u32::MAX;
/// Elements nested deeper than this are not created; their text goes to the
/// deepest element that was.
pub const MAX_DEPTH: usize = 256;

macro_rules! tags {
    ($($variant:ident = $name:literal),* $(,)?) => {
        /// Element names the extractor cares about; everything else is `Other`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Tag { $($variant,)* Other }

        impl Tag {
            /// The tag for a lowercase element name.
            pub fn from_lowercase(name: &[u8]) -> Tag {
                match name { $($name => Tag::$variant,)* _ => Tag::Other }
            }
        }
    };
}

tags! {
    A = b"a", Address = b"address", Applet = b"applet", Area = b"area", Article = b"article",
    Aside = b"aside", Audio = b"audio", B = b"b", Base = b"base", Blockquote = b"blockquote",
    Body = b"body", Br = b"br", Button = b"button", Canvas = b"canvas", Caption = b"caption",
    Center = b"center", Col = b"col", Dd = b"dd", Details = b"details", Dialog = b"dialog",
    Div = b"div", Dl = b"dl", Dt = b"dt", Em = b"em", Embed = b"embed", Fieldset = b"fieldset",
    Figcaption = b"figcaption", Figure = b"figure", Footer = b"footer", Form = b"form",
    H1 = b"h1", H2 = b"h2", H3 = b"h3", H4 = b"h4", H5 = b"h5", H6 = b"h6", Head = b"head",
    Header = b"header", Hgroup = b"hgroup", Hr = b"hr", Html = b"html", I = b"i", Iframe = b"iframe",
    Img = b"img", Input = b"input", Label = b"label", Legend = b"legend", Li = b"li", Link = b"link",
    Main = b"main", Marquee = b"marquee", Menu = b"menu", Meta = b"meta", Nav = b"nav",
    Noscript = b"noscript", Object = b"object", Ol = b"ol", Optgroup = b"optgroup",
    Option = b"option", P = b"p", Param = b"param", Picture = b"picture", Pre = b"pre",
    Script = b"script", Section = b"section", Select = b"select", Source = b"source",
    Span = b"span", Strong = b"strong", Style = b"style", Summary = b"summary", Svg = b"svg",
    Math = b"math", Table = b"table", Tbody = b"tbody", Td = b"td", Template = b"template",
    Textarea = b"textarea", Tfoot = b"tfoot", Th = b"th", Thead = b"thead", Time = b"time",
    Title = b"title", Tr = b"tr", Track = b"track", Ul = b"ul", Video = b"video", Wbr = b"wbr",
    Xmp = b"xmp", Noembed = b"noembed", Noframes = b"noframes", Plaintext = b"plaintext",
    Frameset = b"frameset", Font = b"font", Small = b"small",
}

const TAG_COUNT: usize = Tag::Other as usize + 1;

impl Tag {
    fn is_void(self) -> bool {
        matches!(
            self,
            Tag::Area
                | Tag::Base
                | Tag::Br
                | Tag::Col
                | Tag::Embed
                | Tag::Hr
                | Tag::Img
                | Tag::Input
                | Tag::Link
                | Tag::Meta
                | Tag::Param
                | Tag::Source
                | Tag::Track
                | Tag::Wbr
        )
    }

    /// Start tags that close an open `<p>` (HTML5 "close a p element").
    fn closes_p(self) -> bool {
        matches!(
            self,
            Tag::Address
                | Tag::Article
                | Tag::Aside
                | Tag::Blockquote
                | Tag::Center
                | Tag::Details
                | Tag::Dialog
                | Tag::Div
                | Tag::Dl
                | Tag::Fieldset
                | Tag::Figcaption
                | Tag::Figure
                | Tag::Footer
                | Tag::Form
                | Tag::H1
                | Tag::H2
                | Tag::H3
                | Tag::H4
                | Tag::H5
                | Tag::H6
                | Tag::Header
                | Tag::Hgroup
                | Tag::Hr
                | Tag::Main
                | Tag::Menu
                | Tag::Nav
                | Tag::Ol
                | Tag::P
                | Tag::Pre
                | Tag::Section
                | Tag::Summary
                | Tag::Table
                | Tag::Ul
                | Tag::Li
                | Tag::Dd
                | Tag::Dt
        )
    }

    /// Elements that stop the search for an open element to close
    /// (roughly the HTML5 "scope" markers).
    fn is_scope_boundary(self) -> bool {
        matches!(
            self,
            Tag::Applet
                | Tag::Caption
                | Tag::Html
                | Tag::Table
                | Tag::Td
                | Tag::Th
                | Tag::Marquee
                | Tag::Object
                | Tag::Template
                | Tag::Button
        )
    }

    /// Elements that may stay in `<head>`; any other start tag ends it, as
    /// in HTML5's "in head" insertion mode.
    fn belongs_in_head(self) -> bool {
        matches!(
            self,
            Tag::Base
                | Tag::Link
                | Tag::Meta
                | Tag::Title
                | Tag::Style
                | Tag::Script
                | Tag::Noscript
                | Tag::Template
                | Tag::Noframes
                | Tag::Html
                | Tag::Head
        )
    }

    pub fn is_heading(self) -> bool {
        matches!(
            self,
            Tag::H1 | Tag::H2 | Tag::H3 | Tag::H4 | Tag::H5 | Tag::H6
        )
    }
}

/// Attributes kept on elements; the rest are dropped while tokenizing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrName {
    Id,
    Class,
    Role,
    Itemprop,
    Itemtype,
    Property,
    Name,
    Content,
    Href,
    Rel,
    Src,
    DataSrc,
    Lang,
    Hidden,
    Style,
    AriaHidden,
    Datetime,
    Type,
    Charset,
    HttpEquiv,
}

/// The longest name of an [`AttrName`] (`aria-hidden`).
const LONGEST_ATTR_NAME: usize = 11;

impl AttrName {
    fn from_lowercase(name: &[u8]) -> Option<AttrName> {
        Some(match name {
            b"id" => AttrName::Id,
            b"class" => AttrName::Class,
            b"role" => AttrName::Role,
            b"itemprop" => AttrName::Itemprop,
            b"itemtype" => AttrName::Itemtype,
            b"property" => AttrName::Property,
            b"name" => AttrName::Name,
            b"content" => AttrName::Content,
            b"href" => AttrName::Href,
            b"rel" => AttrName::Rel,
            b"src" => AttrName::Src,
            b"data-src" => AttrName::DataSrc,
            b"lang" | b"xml:lang" => AttrName::Lang,
            b"hidden" => AttrName::Hidden,
            b"style" => AttrName::Style,
            b"aria-hidden" => AttrName::AriaHidden,
            b"datetime" => AttrName::Datetime,
            b"type" => AttrName::Type,
            b"charset" => AttrName::Charset,
            b"http-equiv" => AttrName::HttpEquiv,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug)]
struct Attr {
    name: AttrName,
    start: u32,
    end: u32,
}

/// What a node is.
#[derive(Clone, Copy, Debug)]
pub enum NodeKind {
    Document,
    Element {
        tag: Tag,
        /// For `Tag::Other`: an id per distinct element name, so end tags of
        /// custom elements match their own start tags.
        other_name: u32,
        attrs_start: u32,
        attrs_end: u32,
    },
    /// Text, as a byte range of [`Document::buf`] (entities decoded).
    Text {
        start: u32,
        end: u32,
    },
}

/// A node of the arena; links are [`NodeId`]s, [`NONE`] when absent.
#[derive(Clone, Copy, Debug)]
pub struct Node {
    pub parent: NodeId,
    pub first_child: NodeId,
    pub last_child: NodeId,
    pub next_sibling: NodeId,
    pub kind: NodeKind,
}

/// A parsed page: nodes in document order plus the text they point into.
#[derive(Debug)]
pub struct Document {
    pub nodes: Vec<Node>,
    attrs: Vec<Attr>,
    /// Decoded text of text nodes and attribute values.
    pub buf: String,
    /// Raw contents of `<script type="application/ld+json">` elements.
    pub json_ld: Vec<String>,
    /// True when [`MAX_DEPTH`] was reached somewhere.
    pub depth_capped: bool,
}

impl Document {
    pub fn tag(&self, id: NodeId) -> Option<Tag> {
        match self.nodes[id as usize].kind {
            NodeKind::Element { tag, .. } => Some(tag),
            _ => None,
        }
    }

    pub fn attr(&self, id: NodeId, name: AttrName) -> Option<&str> {
        match self.nodes[id as usize].kind {
            NodeKind::Element {
                attrs_start,
                attrs_end,
                ..
            } => self.attrs[attrs_start as usize..attrs_end as usize]
                .iter()
                .find(|attr| attr.name == name)
                .map(|attr| &self.buf[attr.start as usize..attr.end as usize]),
            _ => None,
        }
    }

    pub fn text(&self, id: NodeId) -> Option<&str> {
        match self.nodes[id as usize].kind {
            NodeKind::Text { start, end } => Some(&self.buf[start as usize..end as usize]),
            _ => None,
        }
    }

    pub fn children(&self, id: NodeId) -> Children<'_> {
        Children {
            doc: self,
            next: self.nodes[id as usize].first_child,
        }
    }

    /// One past the last node of `id`'s subtree (document order makes a
    /// subtree a contiguous id range).
    pub fn subtree_end(&self, id: NodeId) -> NodeId {
        let mut current = id;
        loop {
            let node = &self.nodes[current as usize];
            if node.next_sibling != NONE {
                return node.next_sibling;
            }
            if node.parent == NONE {
                return self.nodes.len() as NodeId;
            }
            current = node.parent;
        }
    }

    /// All text below `id`, concatenated (no whitespace normalisation).
    pub fn text_content(&self, id: NodeId) -> String {
        let mut out = String::new();
        for node in id..self.subtree_end(id) {
            if let Some(text) = self.text(node) {
                out.push_str(text);
            }
        }
        out
    }
}

pub struct Children<'a> {
    doc: &'a Document,
    next: NodeId,
}

impl Iterator for Children<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        if self.next == NONE {
            return None;
        }
        let current = self.next;
        self.next = self.doc.nodes[current as usize].next_sibling;
        Some(current)
    }
}

struct Builder {
    doc: Document,
    stack: Vec<NodeId>,
    open_counts: [u32; TAG_COUNT],
    /// Start tags swallowed because of the depth cap, still awaiting their end tag.
    skipped_depth: u32,
    /// A `<head>` was opened: a second one is ignored, as in HTML5, rather
    /// than hiding what follows it.
    head_seen: bool,
    other_names: HashMap<Box<[u8]>, u32>,
    /// Bytes of text outside `<head>` and `<title>`: how much a parse kept
    /// of the page, to tell whether a recovering one kept more.
    body_text_bytes: usize,
}

impl Builder {
    fn current(&self) -> NodeId {
        *self
            .stack
            .last()
            .expect("the document node is never popped")
    }

    fn append(&mut self, kind: NodeKind) -> NodeId {
        let id = self.doc.nodes.len() as NodeId;
        let parent = self.current();
        self.doc.nodes.push(Node {
            parent,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            kind,
        });
        let parent_node = &mut self.doc.nodes[parent as usize];
        let previous = parent_node.last_child;
        parent_node.last_child = id;
        if previous == NONE {
            parent_node.first_child = id;
        } else {
            self.doc.nodes[previous as usize].next_sibling = id;
        }
        id
    }

    fn text(&mut self, raw: &str) {
        if raw.is_empty() {
            return;
        }
        // Text cannot stay in `<head>` (script text spilled by a broken tag,
        // or a page without `<body>`): it starts the body, as in HTML5.
        if self.open_counts[Tag::Head as usize] > 0
            && self.tag_and_name(self.current()).0 == Tag::Head
            && !raw.bytes().all(is_space)
        {
            self.pop();
        }
        if self.open_counts[Tag::Head as usize] == 0 && self.open_counts[Tag::Title as usize] == 0 {
            self.body_text_bytes += raw.len();
        }
        // Merge with a preceding text node when its bytes end the buffer.
        let parent = self.current();
        let last = self.doc.nodes[parent as usize].last_child;
        if last != NONE {
            if let NodeKind::Text { start, end } = self.doc.nodes[last as usize].kind {
                if end as usize == self.doc.buf.len() {
                    decode_into(raw, &mut self.doc.buf, false);
                    let end = self.doc.buf.len() as u32;
                    self.doc.nodes[last as usize].kind = NodeKind::Text { start, end };
                    return;
                }
            }
        }
        let start = self.doc.buf.len() as u32;
        decode_into(raw, &mut self.doc.buf, false);
        let end = self.doc.buf.len() as u32;
        self.append(NodeKind::Text { start, end });
    }

    fn tag_and_name(&self, id: NodeId) -> (Tag, u32) {
        match self.doc.nodes[id as usize].kind {
            NodeKind::Element {
                tag, other_name, ..
            } => (tag, other_name),
            _ => (Tag::Other, u32::MAX),
        }
    }

    fn pop(&mut self) {
        if self.stack.len() > 1 {
            let id = self.stack.pop().expect("checked length");
            let (tag, _) = self.tag_and_name(id);
            self.open_counts[tag as usize] -= 1;
        }
    }

    /// Closes the innermost open `target` unless a scope boundary (or one of
    /// `stoppers`) comes first; how far it looks is bounded.
    fn close_in_scope(&mut self, target: Tag, other_name: u32, stoppers: &[Tag]) -> bool {
        if self.open_counts[target as usize] == 0 {
            return false;
        }
        let limit = self.stack.len().saturating_sub(512).max(1);
        for index in (limit..self.stack.len()).rev() {
            let (tag, name) = self.tag_and_name(self.stack[index]);
            if tag == target && (tag != Tag::Other || name == other_name) {
                while self.stack.len() > index {
                    self.pop();
                }
                return true;
            }
            if tag.is_scope_boundary() || stoppers.contains(&tag) {
                return false;
            }
        }
        false
    }

    fn other_name_id(&mut self, name: &[u8]) -> u32 {
        if let Some(&id) = self.other_names.get(name) {
            return id;
        }
        // Bounded: pages with thousands of distinct custom tags share one id.
        if self.other_names.len() >= 4096 {
            return u32::MAX - 1;
        }
        let id = self.other_names.len() as u32;
        self.other_names.insert(name.into(), id);
        id
    }

    fn start_tag(&mut self, tag: Tag, name: &[u8], attrs: &[(AttrName, &str)]) -> Option<NodeId> {
        if matches!(tag, Tag::Html | Tag::Body | Tag::Head) && self.open_counts[tag as usize] > 0
            || tag == Tag::Head && self.head_seen
        {
            return None;
        }
        if self.open_counts[Tag::Head as usize] > 0 && !tag.belongs_in_head() {
            self.close_in_scope(Tag::Head, 0, &[]);
        }
        self.head_seen |= tag == Tag::Head;
        if tag.closes_p() {
            self.close_in_scope(Tag::P, 0, &[]);
        }
        match tag {
            Tag::Li => {
                self.close_in_scope(Tag::Li, 0, &[Tag::Ul, Tag::Ol]);
            }
            Tag::Dt | Tag::Dd => {
                self.close_in_scope(Tag::Dt, 0, &[Tag::Dl]);
                self.close_in_scope(Tag::Dd, 0, &[Tag::Dl]);
            }
            Tag::Td | Tag::Th => {
                self.close_in_scope(Tag::Td, 0, &[Tag::Tr]);
                self.close_in_scope(Tag::Th, 0, &[Tag::Tr]);
            }
            Tag::Tr => {
                self.close_in_scope(Tag::Tr, 0, &[Tag::Table]);
            }
            Tag::Option if self.tag_and_name(self.current()).0 == Tag::Option => self.pop(),
            Tag::A => {
                self.close_in_scope(Tag::A, 0, &[]);
            }
            // A heading does not nest in a heading.
            _ if tag.is_heading() && self.tag_and_name(self.current()).0.is_heading() => self.pop(),
            _ => {}
        }
        if !tag.is_void() && self.stack.len() > MAX_DEPTH {
            self.doc.depth_capped = true;
            self.skipped_depth += 1;
            return None;
        }
        let other_name = if tag == Tag::Other {
            self.other_name_id(name)
        } else {
            0
        };
        let attrs_start = self.doc.attrs.len() as u32;
        for &(attr_name, value) in attrs {
            let start = self.doc.buf.len() as u32;
            decode_into(value, &mut self.doc.buf, true);
            let end = self.doc.buf.len() as u32;
            self.doc.attrs.push(Attr {
                name: attr_name,
                start,
                end,
            });
        }
        let attrs_end = self.doc.attrs.len() as u32;
        let id = self.append(NodeKind::Element {
            tag,
            other_name,
            attrs_start,
            attrs_end,
        });
        if !tag.is_void() {
            self.stack.push(id);
            self.open_counts[tag as usize] += 1;
        }
        Some(id)
    }

    fn end_tag(&mut self, tag: Tag, name: &[u8]) {
        if self.skipped_depth > 0 {
            self.skipped_depth -= 1;
            return;
        }
        match tag {
            // Content after </body> or </html> still belongs to the body.
            Tag::Body | Tag::Html => {}
            Tag::Br => {
                self.start_tag(Tag::Br, b"br", &[]);
            }
            Tag::Other => {
                let Some(&id) = self.other_names.get(name) else {
                    return;
                };
                self.close_in_scope(Tag::Other, id, &[]);
            }
            _ => {
                self.close_in_scope(tag, 0, &[]);
            }
        }
    }
}

/// The first `needle` in `haystack`, like `memchr`, but the first sixteen
/// bytes are tried inline, eight at a time: in markup the byte sought is
/// most often near (the `>` after a tag name, the quote ending a class, the
/// `<` after the blanks between tags), where a `memchr` call costs more than
/// the search.
pub(crate) fn find_byte(needle: u8, haystack: &[u8]) -> Option<usize> {
    const LOW_BITS: u64 = 0x0101_0101_0101_0101;
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    let pattern = LOW_BITS * u64::from(needle);
    let mut at = 0;
    while at < 16 {
        let Some(chunk) = haystack.get(at..at + 8) else {
            return haystack[at..]
                .iter()
                .position(|&byte| byte == needle)
                .map(|offset| at + offset);
        };
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes")) ^ pattern;
        // The high bit of each zero byte, exactly (no carry crosses bytes).
        let low = LOW_BITS * 0x7f;
        let zeros = !(((word & low) + low) | word) & HIGH_BITS;
        if zeros != 0 {
            return Some(at + (zeros.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    memchr(needle, &haystack[at..]).map(|offset| at + offset)
}

fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// The searcher for `</`, built once (building one per search cost more
/// than most searches).
static END_TAG_OPEN: std::sync::LazyLock<memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memmem::Finder::new(b"</"));

/// Position of the end tag `</name` (ASCII case-insensitive) at or after
/// `from`, or the end of input.
fn find_end_tag(bytes: &[u8], from: usize, name: &[u8]) -> usize {
    let mut at = from;
    while let Some(offset) = END_TAG_OPEN.find(&bytes[at..]) {
        let start = at + offset;
        let name_end = start + 2 + name.len();
        if name_end <= bytes.len()
            && bytes[start + 2..name_end].eq_ignore_ascii_case(name)
            && bytes
                .get(name_end)
                .is_none_or(|&b| is_space(b) || b == b'>' || b == b'/')
        {
            return start;
        }
        at = start + 2;
    }
    bytes.len()
}

/// Remembers the last answer of a forward search, so that searches from
/// increasing positions cost one pass over the input in total, even when
/// every one of them runs to the end (thousands of unclosed `<script>`s).
#[derive(Clone, Copy)]
struct Memo {
    from: usize,
    found: usize,
}

impl Memo {
    const EMPTY: Memo = Memo {
        from: usize::MAX,
        found: 0,
    };

    /// The first match at or after `from`: a remembered match is still the
    /// first one for any `from` between the search start and the match.
    fn get(&mut self, from: usize, search: impl FnOnce(usize) -> usize) -> usize {
        if self.from <= from && from <= self.found {
            return self.found;
        }
        let found = search(from);
        *self = Memo { from, found };
        found
    }
}

/// End-tag searches of the raw-text elements, memoized by name.
struct EndTags {
    memos: Vec<(&'static [u8], Memo)>,
    head_or_body: Memo,
    /// A span `(from, to)` where no `</head` or `<body` starts.
    clear: (usize, usize),
    /// The recovering parse: a comment or raw-text element that swallows
    /// the head/body boundary ends where an unclosed one would.
    lenient: bool,
    /// A comment or raw-text element swallowed the boundary.
    swallowed: bool,
}

/// A comment or raw-text element that runs over a sixteenth of the page and
/// across `</head>` or `<body>` was most likely left open by its author
/// (an unclosed `<!--` in the head that ends at the last comment of the
/// page): HTML5 shows a blank page there; a re-parse that ends it early
/// recovers the page, as lxml and the peers do.
const SWALLOW_SHARE: usize = 16;

/// Or that runs over this many bytes: on a long page a sixteenth is more
/// than the start of the article.
const SWALLOW_BYTES: usize = 4096;

impl EndTags {
    /// Whether the construct whose content is `bytes[from..end]` swallows
    /// the head/body boundary (and is long enough to matter). Records it.
    fn swallows(&mut self, bytes: &[u8], from: usize, end: usize) -> bool {
        // Only constructs this long search (the search is memoized, so
        // the check stays linear however many there are).
        if (end - from) * SWALLOW_SHARE < bytes.len() && end - from < SWALLOW_BYTES {
            return false;
        }
        let swallows = self.head_or_body_before(bytes, from, end);
        self.swallowed |= swallows;
        swallows
    }

    fn find(&mut self, bytes: &[u8], from: usize, name: &'static [u8]) -> usize {
        let index = match self.memos.iter().position(|(known, _)| *known == name) {
            Some(index) => index,
            None => {
                self.memos.push((name, Memo::EMPTY));
                self.memos.len() - 1
            }
        };
        self.memos[index]
            .1
            .get(from, |from| find_end_tag(bytes, from, name))
    }

    /// The first `</head` or `<body` at or after `from`, or the end.
    fn head_or_body(&mut self, bytes: &[u8], from: usize) -> usize {
        self.head_or_body
            .get(from, |from| first_head_or_body(bytes, from, bytes.len()))
    }

    /// Whether a `</head` or `<body` starts in `from..end`: what
    /// `head_or_body(from) < end` says, with the search stopped at `end`
    /// (a long script in the body would otherwise search the rest of the
    /// page). Spans known to hold none are remembered, so searches from
    /// increasing positions still read each byte once.
    fn head_or_body_before(&mut self, bytes: &[u8], from: usize, end: usize) -> bool {
        let memo = self.head_or_body;
        if memo.from <= from && from <= memo.found {
            return memo.found < end;
        }
        let (clear_from, clear_to) = self.clear;
        let search_from = if clear_from <= from && from <= clear_to {
            if end <= clear_to {
                return false;
            }
            clear_to
        } else {
            from
        };
        let found = first_head_or_body(bytes, search_from, end);
        if found < end {
            // The first one at or after `from`: none before `search_from`.
            self.head_or_body = Memo { from, found };
            true
        } else {
            let start = if search_from == from {
                from
            } else {
                clear_from
            };
            self.clear = (start, end);
            false
        }
    }
}

/// The first `</head` or `<body` that starts in `from..to`, or `to`.
fn first_head_or_body(bytes: &[u8], from: usize, to: usize) -> usize {
    let mut at = from;
    while let Some(offset) = memchr(b'<', &bytes[at..to]) {
        let start = at + offset;
        let rest = &bytes[start + 1..];
        let is_tag = |name: &[u8]| {
            rest.len() > name.len()
                && rest[..name.len()].eq_ignore_ascii_case(name)
                && (is_space(rest[name.len()]) || rest[name.len()] == b'>')
        };
        if is_tag(b"/head") || is_tag(b"body") {
            return start;
        }
        at = start + 1;
    }
    to
}

/// Whether a tag (start, end, comment or doctype) begins at `at`.
fn starts_tag(bytes: &[u8], at: usize) -> bool {
    bytes[at] == b'<'
        && bytes
            .get(at + 1)
            .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'/' || b == b'!')
}

/// The first `<` in `bytes[from..to]` that begins a tag, or `to`.
fn first_tag(bytes: &[u8], from: usize, to: usize) -> usize {
    let mut at = from;
    while let Some(offset) = memchr(b'<', &bytes[at..to]) {
        if starts_tag(bytes, at + offset) {
            return at + offset;
        }
        at += offset + 1;
    }
    to
}

/// The first line in `bytes[from..to]` whose first non-blank character begins
/// a tag, or the end. Script lines rarely start with `<`; markup lines do.
fn first_tag_line(bytes: &[u8], from: usize, to: usize) -> usize {
    let mut at = from;
    while let Some(offset) = memchr(b'\n', &bytes[at..to]) {
        let mut start = at + offset + 1;
        while start < to && matches!(bytes[start], b' ' | b'\t' | b'\r') {
            start += 1;
        }
        if start < to && starts_tag(bytes, start) {
            return start;
        }
        at = start;
    }
    to
}

/// Titles are a line of text: one longer than this that holds markup lost
/// its end tag, and what follows it is the page.
const MAX_TITLE_BYTES: usize = 1024;

/// Where the content of a raw-text element that starts at `from` ends, and
/// where parsing resumes. HTML5 runs an element whose end tag is missing to
/// the end of the input, so a browser shows a blank page; here the element
/// is closed at the first point where markup plausibly resumes instead:
/// the first tag for text-only elements (title, textarea, style), `</head>`,
/// `<body>` or the first line that starts with a tag for scripts, and the
/// start tag itself (its content parsed as markup) for elements whose
/// content is markup anyway (noscript, iframe, template, svg and the like).
fn raw_text_end(
    bytes: &[u8],
    from: usize,
    tag: Tag,
    name: &'static [u8],
    ends: &mut EndTags,
) -> (usize, usize) {
    let end = ends.find(bytes, from, name);
    let swallows = end < bytes.len()
        && matches!(tag, Tag::Script | Tag::Style | Tag::Textarea | Tag::Xmp)
        && ends.swallows(bytes, from, end);
    let closed = end < bytes.len() && !(swallows && ends.lenient);
    if tag == Tag::Title && (!closed || end - from > MAX_TITLE_BYTES) {
        let cut = first_tag(bytes, from, end);
        if cut < end || !closed {
            return (cut, cut);
        }
    }
    if closed {
        return (end, skip_past_gt(bytes, end));
    }
    let cut = match tag {
        Tag::Textarea | Tag::Style | Tag::Xmp => first_tag(bytes, from, bytes.len()),
        Tag::Script => {
            let head_or_body = ends.head_or_body(bytes, from);
            first_tag_line(bytes, from, head_or_body)
        }
        _ => from,
    };
    (cut, cut)
}

/// Static names of the raw-text and skipped elements, for [`EndTags`].
fn raw_name(tag: Tag) -> Option<&'static [u8]> {
    Some(match tag {
        Tag::Script => b"script",
        Tag::Style => b"style",
        Tag::Title => b"title",
        Tag::Textarea => b"textarea",
        Tag::Noscript => b"noscript",
        Tag::Iframe => b"iframe",
        Tag::Noembed => b"noembed",
        Tag::Noframes => b"noframes",
        Tag::Xmp => b"xmp",
        Tag::Template => b"template",
        Tag::Svg => b"svg",
        Tag::Math => b"math",
        _ => return None,
    })
}

/// Index just past the next `>` at or after `from`.
fn skip_past_gt(bytes: &[u8], from: usize) -> usize {
    match find_byte(b'>', &bytes[from.min(bytes.len())..]) {
        Some(offset) => from + offset + 1,
        None => bytes.len(),
    }
}

/// Parses `html` into a [`Document`]. Linear in the input; never fails.
///
/// When a comment or raw-text element swallowed the head/body boundary
/// (see [`SWALLOW_SHARE`]), the page is parsed once more with those ended
/// early, and that parse is kept when it holds clearly more text (a
/// quarter more: an unclosed `<!--` in the head that ends at a comment in
/// the middle of the body swallows the article's start but leaves its
/// end, so doubling is too much to ask): at most two passes, each linear.
pub fn parse(html: &str) -> Document {
    let (document, body_text_bytes, swallowed) = parse_pass(html, false);
    if !swallowed {
        return document;
    }
    let (recovered, recovered_text_bytes, _) = parse_pass(html, true);
    if 4 * recovered_text_bytes > 5 * body_text_bytes + 1024 {
        recovered
    } else {
        document
    }
}

/// One pass of the parser: the document, the bytes of body text it holds,
/// and whether a construct swallowed the head/body boundary.
fn parse_pass(html: &str, lenient: bool) -> (Document, usize, bool) {
    let bytes = html.as_bytes();
    let mut builder = Builder::new(bytes.len());
    let mut name_buf: Vec<u8> = Vec::with_capacity(16);
    let mut attrs: Vec<(AttrName, &str)> = Vec::with_capacity(8);
    let mut comments = Comments::new();
    let mut ends = EndTags {
        memos: Vec::new(),
        head_or_body: Memo::EMPTY,
        clear: (usize::MAX, 0),
        lenient,
        swallowed: false,
    };
    let len = bytes.len();
    let mut i = 0;
    while i < len {
        let Some(offset) = find_byte(b'<', &bytes[i..]) else {
            builder.text(&html[i..]);
            break;
        };
        let lt = i + offset;
        if lt > i {
            builder.text(&html[i..lt]);
        }
        let Some(&next) = bytes.get(lt + 1) else {
            builder.text("<");
            break;
        };
        if next == b'!' {
            i = comments.skip(bytes, lt, &mut ends);
            continue;
        }
        if next == b'?' {
            i = skip_past_gt(bytes, lt + 2);
            continue;
        }
        let is_end = next == b'/';
        let name_start = if is_end { lt + 2 } else { lt + 1 };
        if !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
            if is_end {
                // "</>" or "</ garbage>": a bogus comment.
                i = skip_past_gt(bytes, name_start);
            } else {
                builder.text("<");
                i = lt + 1;
            }
            continue;
        }
        let mut j = name_start;
        name_buf.clear();
        while j < len && !is_space(bytes[j]) && bytes[j] != b'>' && bytes[j] != b'/' {
            name_buf.push(bytes[j].to_ascii_lowercase());
            j += 1;
        }
        let tag = Tag::from_lowercase(&name_buf);
        if is_end {
            i = skip_past_gt(bytes, j);
            builder.end_tag(tag, &name_buf);
            continue;
        }
        i = read_attributes(html, j, &mut attrs);
        i = builder.element(html, i, tag, &name_buf, &attrs, &mut ends);
    }
    (builder.doc, builder.body_text_bytes, ends.swallowed)
}

impl Builder {
    /// A builder holding only the document node, sized for `len` bytes of
    /// HTML.
    fn new(len: usize) -> Builder {
        let mut builder = Builder {
            doc: Document {
                nodes: Vec::with_capacity(len / 64 + 16),
                attrs: Vec::new(),
                buf: String::with_capacity(len / 4),
                json_ld: Vec::new(),
                depth_capped: false,
            },
            stack: vec![0],
            open_counts: [0; TAG_COUNT],
            skipped_depth: 0,
            head_seen: false,
            other_names: HashMap::new(),
            body_text_bytes: 0,
        };
        builder.doc.nodes.push(Node {
            parent: NONE,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            kind: NodeKind::Document,
        });
        builder
    }
}

impl Builder {
    /// Opens the element of a start tag whose attributes end at `i`; the
    /// raw-text elements (scripts, styles, titles, and markup that never
    /// holds article text) are read or skipped whole. Returns where parsing
    /// goes on.
    fn element(
        &mut self,
        html: &str,
        mut i: usize,
        tag: Tag,
        name: &[u8],
        attrs: &[(AttrName, &str)],
        ends: &mut EndTags,
    ) -> usize {
        let bytes = html.as_bytes();
        let len = bytes.len();
        match tag {
            Tag::Script => {
                let (end, resume) = raw_text_end(bytes, i, tag, b"script", ends);
                let is_json_ld = attrs.iter().any(|(name, value)| {
                    *name == AttrName::Type
                        && value.trim().eq_ignore_ascii_case("application/ld+json")
                });
                if is_json_ld && self.doc.json_ld.len() < 64 {
                    self.doc.json_ld.push(html[i..end].to_owned());
                }
                i = resume;
            }
            Tag::Noscript
                if self.open_counts[Tag::Head as usize] == 0
                    && ends.find(bytes, i, b"noscript") < len =>
            {
                // A browser without scripts, which is what the cleaner is,
                // shows a body's `<noscript>` as markup: some pages keep the
                // article there for it (the script copy is a template). The
                // element is kept for the extractor to judge; an unclosed one
                // is left out, so it cannot swallow the page.
                self.start_tag(tag, name, attrs);
            }
            Tag::Noframes if ends.find(bytes, i, b"noframes") < len => {
                // A frameset page's only text: what a browser without
                // frames shows, markup like a body's `<noscript>`.
                self.start_tag(tag, name, attrs);
            }
            Tag::Style
            | Tag::Noscript
            | Tag::Iframe
            | Tag::Noembed
            | Tag::Noframes
            | Tag::Xmp
            | Tag::Template
            | Tag::Svg
            | Tag::Math
            | Tag::Textarea => {
                // Raw text, or markup that never holds article text: skip
                // it whole without tokenizing.
                let name = raw_name(tag).expect("every skipped tag has a name");
                i = raw_text_end(bytes, i, tag, name, ends).1;
            }
            Tag::Title => {
                let (end, resume) = raw_text_end(bytes, i, tag, b"title", ends);
                if let Some(id) = self.start_tag(tag, name, attrs) {
                    self.text(&html[i..end]);
                    if self.current() == id {
                        self.pop();
                    }
                }
                i = resume;
            }
            Tag::Plaintext => {
                self.text(&html[i..]);
                i = len;
            }
            _ => {
                self.start_tag(tag, name, attrs);
            }
        }
        i
    }
}

/// Where comments end: `-->` and `--!>` searches, each remembered (see
/// [`Memo`]).
struct Comments {
    end: memmem::Finder<'static>,
    bang_end: memmem::Finder<'static>,
    end_memo: Memo,
    bang_memo: Memo,
}

impl Comments {
    fn new() -> Comments {
        Comments {
            end: memmem::Finder::new(b"-->"),
            bang_end: memmem::Finder::new(b"--!>"),
            end_memo: Memo::EMPTY,
            bang_memo: Memo::EMPTY,
        }
    }

    /// Skips the markup declaration at `lt` (`<!`: a comment, CDATA, a
    /// doctype); returns where the text goes on.
    fn skip(&mut self, bytes: &[u8], lt: usize, ends: &mut EndTags) -> usize {
        let len = bytes.len();
        if bytes[lt..].starts_with(b"<!-->") {
            lt + 5 // an empty comment closed early, as browsers read it
        } else if bytes[lt..].starts_with(b"<!--->") {
            lt + 6
        } else if bytes[lt..].starts_with(b"<!--") {
            // `-->` ends a comment, and so does `--!>` (HTML5). One that
            // never ends runs to the end in a browser; here it ends at
            // its first `>` instead, so the page is not lost.
            let from = lt + 4;
            let dashes = self.end_memo.get(from, |from| {
                self.end.find(&bytes[from..]).map_or(len, |o| from + o)
            });
            let bang = self.bang_memo.get(from, |from| {
                self.bang_end.find(&bytes[from..]).map_or(len, |o| from + o)
            });
            let (end, resume) = if dashes < len && dashes <= bang {
                (dashes, dashes + 3)
            } else if bang < len {
                (bang, bang + 4)
            } else {
                (len, len)
            };
            if end == len {
                skip_past_gt(bytes, from)
            } else if ends.swallows(bytes, from, end) && ends.lenient {
                // Recovering: the comment ends where markup resumes, so
                // a `<title>` right after it is kept.
                first_tag(bytes, from, len)
            } else {
                resume
            }
        } else if bytes[lt..].starts_with(b"<![CDATA[") {
            // Outside SVG and MathML (skipped whole), CDATA is a bogus
            // comment that ends at the first `>` (HTML5).
            skip_past_gt(bytes, lt + 9)
        } else {
            skip_past_gt(bytes, lt + 2)
        }
    }
}

/// Reads a start tag's attributes from `j` (past its name) into `attrs`,
/// each name once (the first wins, as in HTML5), and returns where the tag
/// ends (past its `>`). HTML ignores a `/` before the `>` except on void
/// elements, so it is read as space.
fn read_attributes<'h>(html: &'h str, mut j: usize, attrs: &mut Vec<(AttrName, &'h str)>) -> usize {
    let bytes = html.as_bytes();
    let len = bytes.len();
    attrs.clear();
    loop {
        while j < len && (is_space(bytes[j]) || bytes[j] == b'/') {
            j += 1;
        }
        if j >= len {
            break;
        }
        if bytes[j] == b'>' {
            j += 1;
            break;
        }
        let attr_start = j;
        j += 1; // the first character may be '=' and still be part of the name
        while j < len && !is_space(bytes[j]) && !matches!(bytes[j], b'>' | b'/' | b'=') {
            j += 1;
        }
        // Only names as long as a kept one's are lowercased and looked up.
        let name = &bytes[attr_start..j];
        let mut lower = [0u8; LONGEST_ATTR_NAME];
        let kept = if name.len() <= LONGEST_ATTR_NAME {
            for (to, from) in lower.iter_mut().zip(name) {
                *to = from.to_ascii_lowercase();
            }
            AttrName::from_lowercase(&lower[..name.len()])
        } else {
            None
        };
        while j < len && is_space(bytes[j]) {
            j += 1;
        }
        let mut value = "";
        if j < len && bytes[j] == b'=' {
            j += 1;
            while j < len && is_space(bytes[j]) {
                j += 1;
            }
            if j < len && (bytes[j] == b'"' || bytes[j] == b'\'') {
                let quote = bytes[j];
                let value_start = j + 1;
                let value_end =
                    find_byte(quote, &bytes[value_start..]).map_or(len, |o| value_start + o);
                value = &html[value_start..value_end];
                j = (value_end + 1).min(len);
            } else {
                let value_start = j;
                while j < len && !is_space(bytes[j]) && bytes[j] != b'>' {
                    j += 1;
                }
                value = &html[value_start..j];
            }
        }
        if let Some(attr) = kept {
            if !attrs.iter().any(|(known, _)| *known == attr) {
                attrs.push((attr, value));
            }
        }
    }
    j
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(doc: &Document) -> String {
        let mut out = String::new();
        let mut stack: Vec<(NodeId, usize)> = doc.children(0).map(|child| (child, 0)).collect();
        stack.reverse();
        while let Some((id, depth)) = stack.pop() {
            match doc.nodes[id as usize].kind {
                NodeKind::Document => {}
                NodeKind::Element { tag, .. } => {
                    out.push_str(&format!("{}{tag:?}\n", " ".repeat(depth)));
                }
                NodeKind::Text { .. } => out.push_str(&format!(
                    "{}{:?}\n",
                    " ".repeat(depth),
                    doc.text(id).unwrap()
                )),
            }
            let children: Vec<_> = doc.children(id).collect();
            for child in children.into_iter().rev() {
                stack.push((child, depth + 1));
            }
        }
        out
    }

    #[test]
    fn no_kept_attribute_name_is_longer_than_the_longest() {
        for name in [
            "id",
            "class",
            "role",
            "itemprop",
            "itemtype",
            "property",
            "name",
            "content",
            "href",
            "rel",
            "src",
            "data-src",
            "lang",
            "xml:lang",
            "hidden",
            "style",
            "aria-hidden",
            "datetime",
            "type",
            "charset",
            "http-equiv",
        ] {
            assert!(
                AttrName::from_lowercase(name.as_bytes()).is_some(),
                "{name}"
            );
            assert!(name.len() <= LONGEST_ATTR_NAME, "{name}");
        }
    }

    #[test]
    fn find_byte_finds_what_memchr_finds() {
        let haystack: Vec<u8> = (0..80u8)
            .map(|i| if i % 7 == 3 { b'<' } else { i | 0x80 })
            .collect();
        for start in 0..haystack.len() {
            for end in start..=haystack.len() {
                for needle in [b'<', b'>', 0x80, 0xff] {
                    let hay = &haystack[start..end];
                    assert_eq!(
                        find_byte(needle, hay),
                        memchr(needle, hay),
                        "{start}..{end} {needle}"
                    );
                }
            }
        }
    }

    #[test]
    fn implied_end_tags_and_void_elements() {
        let doc = parse("<body><p>one<p>two<br>three<ul><li>a<li>b</ul></body>");
        assert_eq!(
            dump(&doc),
            "Body\n P\n  \"one\"\n P\n  \"two\"\n  Br\n  \"three\"\n Ul\n  Li\n   \"a\"\n  Li\n   \"b\"\n"
        );
    }

    #[test]
    fn skips_scripts_styles_comments_and_svg() {
        let doc = parse(
            "<div>a<script>if (x < 1) { document.write('</div>') }</script><style>p{}</style>\
             <!-- <p>hidden</p> --><!-->b<!--->c<svg><text>no</text></svg>d</div>",
        );
        assert_eq!(doc.text_content(0), "abcd");
    }

    #[test]
    fn keeps_json_ld_raw() {
        let doc = parse(r#"<script type="application/ld+json">{"a":"x &amp; y"}</script>"#);
        assert_eq!(doc.json_ld, vec![r#"{"a":"x &amp; y"}"#.to_owned()]);
    }

    #[test]
    fn attributes_and_entities() {
        let doc =
            parse(r"<a href='/x?a=1&amp;b=2' CLASS=Big>Tom &amp; Jerry&nbsp;&#8212;&#x41;</a>");
        assert_eq!(doc.attr(1, AttrName::Href), Some("/x?a=1&b=2"));
        assert_eq!(doc.attr(1, AttrName::Class), Some("Big"));
        assert_eq!(doc.text_content(0), "Tom & Jerry\u{a0}\u{2014}A");
    }

    #[test]
    fn stray_end_tags_are_ignored() {
        let doc = parse("<div><span>a</p></b></span>b</div></div>c");
        assert_eq!(doc.text_content(0), "abc");
        assert_eq!(doc.children(1).count(), 2);
    }

    #[test]
    fn an_unclosed_title_ends_at_the_first_tag() {
        let doc = parse("<html><head><title>Broker sanctioned<meta charset=utf-8></head><body><p>Shells</p></body></html>");
        let title = (0..doc.nodes.len() as NodeId)
            .find(|&id| doc.tag(id) == Some(Tag::Title))
            .unwrap();
        assert_eq!(doc.text_content(title), "Broker sanctioned");
        assert!(
            dump(&doc).contains("Body\n  P\n   \"Shells\""),
            "{}",
            dump(&doc)
        );
        // Closed, but only after the whole page: also cut.
        let long = format!(
            "<title>Broker</head><body><p>{}</p><svg><title>icon</title></svg>",
            "Shells. ".repeat(200)
        );
        assert!(parse(&long).text_content(0).contains("Shells. Shells."));
        // A short closed title keeps what it holds, as in a browser.
        let doc = parse("<title>a <b> c</title><p>d</p>");
        assert_eq!(doc.text_content(0), "a <b> cd");
    }

    #[test]
    fn unclosed_raw_text_elements_do_not_swallow_the_page() {
        for page in [
            "<head><script>var a = 1;\n</head><body><p>Shells</p></body>",
            "<head><script src=a.js>\n<div><p>Shells</p></div>",
            "<head><script>if (a<b) { go() }</head><p>Shells</p>",
            "<head><style>p { color: red }</head><body><p>Shells</p>",
            "<body><textarea>Write here<p>Shells</p>",
            "<body><noscript><p>Shells</p>",
            "<body><iframe src=x><p>Shells</p>",
            "<head><!-- a comment never closed ><body><p>Shells</p>",
            "<body><!-- ends the HTML5 way --!><p>Shells</p><!-- -->",
            "<body><![CDATA[ bogus ]]><p>Shells</p>",
        ] {
            let doc = parse(page);
            assert!(
                doc.text_content(0).trim().ends_with("Shells"),
                "{page:?}: {:?}",
                doc.text_content(0)
            );
        }
        // Closed ones are still skipped whole.
        let doc =
            parse("<script>if (a<b) { x = '<p>no</p>' }</script><textarea><p>no</p></textarea>ok");
        assert_eq!(doc.text_content(0), "ok");
    }

    #[test]
    fn a_closed_noscript_in_the_body_is_markup() {
        let doc = parse(
            "<head><noscript><link rel=x></noscript></head><body>\
             <noscript><p>Shells</p></noscript><p>fell</p>",
        );
        let noscript = (0..doc.nodes.len() as NodeId)
            .find(|&id| doc.tag(id) == Some(Tag::Noscript))
            .expect("the body's noscript is an element");
        assert_eq!(doc.text_content(noscript), "Shells");
        assert_eq!(doc.text_content(0), "Shellsfell");
    }

    #[test]
    fn head_ends_where_html5_ends_it() {
        // No `</head>` and no `<body>`: the first body element ends the head.
        let doc = parse("<html><head><title>t</title><meta name=a><div><p>Shells</p></div>");
        let div = (0..doc.nodes.len() as NodeId)
            .find(|&id| doc.tag(id) == Some(Tag::Div))
            .unwrap();
        assert_eq!(doc.tag(doc.nodes[div as usize].parent), Some(Tag::Html));
        // So does text (script text spilled by a broken tag).
        let doc = parse("<head><meta name=a>var x = 1;<p>Shells</p>");
        let p = (0..doc.nodes.len() as NodeId)
            .find(|&id| doc.tag(id) == Some(Tag::P))
            .unwrap();
        assert_ne!(doc.tag(doc.nodes[p as usize].parent), Some(Tag::Head));
        // A second `<head>` in the body is ignored, not a hiding place.
        let doc = parse("<head></head><body><head><p>Shells</p></head></body>");
        assert_eq!(
            (0..doc.nodes.len() as NodeId)
                .filter(|&id| doc.tag(id) == Some(Tag::Head))
                .count(),
            1
        );
    }
}
