//! Feed fields from a forgiving tree ([`super::dom`]): RSS 0.9x/1.0/2.0 and
//! Atom 0.3/1.0, whatever their namespace, however broken their markup.
//!
//! This is the fallback when feed-rs rejects a document even after repair,
//! or reads a dialect it does not know as a feed without entries.

use url::Url;

use super::dom::Document;
use super::{date, resolve, text, ParsedEntry, ParsedFeed};

const ATOM_10: &str = "http://www.w3.org/2005/Atom";
const ATOM_03: &str = "http://purl.org/atom/ns#";
const DC: &str = "http://purl.org/dc/elements/1.1/";
const DCTERMS: &str = "http://purl.org/dc/terms/";
const CONTENT: &str = "http://purl.org/rss/1.0/modules/content/";
const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const SY: &str = "http://purl.org/rss/1.0/modules/syndication/";

/// Which vocabulary an element belongs to.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Vocab {
    /// No namespace, or one of the RSS namespaces (0.90, 0.91, 1.0, userland).
    Rss,
    Atom,
    Dc,
    Dcterms,
    Content,
    Rdf,
    Sy,
    Other,
}

fn vocab(ns: Option<&str>) -> Vocab {
    match ns {
        None => Vocab::Rss,
        Some(ATOM_10 | ATOM_03) => Vocab::Atom,
        Some(DC) => Vocab::Dc,
        Some(DCTERMS) => Vocab::Dcterms,
        Some(CONTENT) => Vocab::Content,
        Some(RDF) => Vocab::Rdf,
        Some(SY) => Vocab::Sy,
        Some(uri) if is_rss_namespace(uri) => Vocab::Rss,
        Some(_) => Vocab::Other,
    }
}

fn is_rss_namespace(uri: &str) -> bool {
    uri.starts_with("http://purl.org/rss/1.0")
        || uri.starts_with("http://my.netscape.com/rdf/simple/0.9")
        || uri.starts_with("http://backend.userland.com/rss")
        || uri.starts_with("http://my.netscape.com/publish/formats/rss-0.91")
}

/// What kind of document the root element says this is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum RootKind {
    Rss,
    Rdf,
    Atom,
    /// An Atom entry document (`<entry>` at the root): a feed of one.
    AtomEntry,
    Html,
    Other,
}

fn kind_of(local: &str) -> RootKind {
    match local.to_ascii_lowercase().as_str() {
        "rss" | "channel" => RootKind::Rss,
        "rdf" => RootKind::Rdf,
        "feed" => RootKind::Atom,
        "entry" => RootKind::AtomEntry,
        "html" | "body" | "head" => RootKind::Html,
        _ => RootKind::Other,
    }
}

/// The element that holds the feed, and its kind. Usually the first
/// element; when junk markup comes first (a PHP warning printed before the
/// feed, say) the first feed-like element after it.
pub(crate) fn feed_root(doc: &Document) -> Option<(usize, RootKind)> {
    let root = doc.root()?;
    let kind = kind_of(&doc.element(root).local);
    if kind != RootKind::Other {
        return Some((root, kind));
    }
    let found = doc
        .descendants(root)
        .into_iter()
        .map(|element| (element, kind_of(&doc.element(element).local)))
        .find(|(_, kind)| matches!(kind, RootKind::Rss | RootKind::Rdf | RootKind::Atom));
    Some(found.unwrap_or((root, kind)))
}

/// For an HTML page: the feed it advertises with
/// `<link rel="alternate" type="application/rss+xml" href="...">`.
pub(crate) fn advertised_feed(doc: &Document) -> Option<String> {
    let root = doc.root()?;
    doc.descendants(root).into_iter().find_map(|element| {
        let is_link = doc.element(element).local.eq_ignore_ascii_case("link");
        let rel = doc.attr(element, "rel").unwrap_or("").to_ascii_lowercase();
        let kind = doc.attr(element, "type").unwrap_or("").to_ascii_lowercase();
        let feed_type = kind.contains("rss") || kind.contains("atom") || kind.contains("feed+json");
        (is_link && rel.contains("alternate") && feed_type)
            .then(|| doc.attr(element, "href").map(str::to_string))
            .flatten()
    })
}

/// Extracts a feed; `None` when there is no feed root.
pub(crate) fn extract(doc: &Document, base_url: Option<&Url>) -> Option<ParsedFeed> {
    let (root, kind) = feed_root(doc)?;
    let base = with_xml_base(doc, root, base_url.cloned());
    match kind {
        RootKind::Rss | RootKind::Rdf => Some(rss(doc, root, base)),
        RootKind::Atom => {
            let ctx = Ctx::new(doc, root, Vocab::Atom);
            let mut entries: Vec<usize> = ctx
                .children_named(root, Vocab::Atom, "entry")
                .chain(ctx.children_named(root, Vocab::Rss, "entry"))
                .collect();
            entries.sort_unstable();
            Some(atom(doc, root, &entries, base))
        }
        RootKind::AtomEntry => Some(atom(doc, root, &[root], base)),
        RootKind::Html | RootKind::Other => None,
    }
}

struct Ctx<'a> {
    doc: &'a Document,
    /// The root element's namespace when it is none we know: a feed that
    /// puts its own elements in an odd default namespace still means them.
    odd_root_ns: Option<&'a str>,
    root_vocab: Vocab,
}

impl<'a> Ctx<'a> {
    fn new(doc: &'a Document, root: usize, root_vocab: Vocab) -> Self {
        let root_ns = doc.element(root).ns.as_deref();
        let odd_root_ns = root_ns.filter(|ns| vocab(Some(ns)) == Vocab::Other);
        Ctx {
            doc,
            odd_root_ns,
            root_vocab,
        }
    }
}

impl Ctx<'_> {
    fn vocab_of(&self, ns: Option<&str>) -> Vocab {
        match vocab(ns) {
            Vocab::Other if ns.is_some() && ns == self.odd_root_ns => self.root_vocab,
            known => known,
        }
    }

    fn child(&self, parent: usize, want: Vocab, local: &str) -> Option<usize> {
        self.doc.children(parent).find(|child| {
            let element = self.doc.element(*child);
            element.local.eq_ignore_ascii_case(local)
                && self.vocab_of(element.ns.as_deref()) == want
        })
    }

    fn children_named<'b>(
        &'b self,
        parent: usize,
        want: Vocab,
        local: &'b str,
    ) -> impl Iterator<Item = usize> + 'b {
        self.doc.children(parent).filter(move |child| {
            let element = self.doc.element(*child);
            element.local.eq_ignore_ascii_case(local)
                && self.vocab_of(element.ns.as_deref()) == want
        })
    }

    /// Trimmed text of the first matching child, if not empty.
    fn child_text(&self, parent: usize, want: Vocab, local: &str) -> Option<String> {
        self.child(parent, want, local)
            .map(|child| self.doc.text(child).trim().to_string())
            .filter(|text| !text.is_empty())
    }

    fn first_text(&self, parent: usize, candidates: &[(Vocab, &str)]) -> Option<String> {
        candidates
            .iter()
            .find_map(|(want, local)| self.child_text(parent, *want, local))
    }

    fn first_date(
        &self,
        parent: usize,
        candidates: &[(Vocab, &str)],
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        candidates.iter().find_map(|(want, local)| {
            self.child_text(parent, *want, local)
                .and_then(|text| date::parse_date(&text))
        })
    }

    /// An Atom text construct (or any element that may hold HTML) as text.
    fn text_construct(&self, element: usize) -> Option<String> {
        let kind = self
            .doc
            .attr(element, "type")
            .unwrap_or("")
            .to_ascii_lowercase();
        let has_children = self.doc.children(element).next().is_some();
        let value = if kind == "xhtml" || has_children {
            text::html_to_text(&self.doc.inner_markup(element))
        } else if kind == "text" || kind == "text/plain" {
            text::collapse_whitespace(&self.doc.text(element))
        } else {
            text::html_to_text(&self.doc.text(element))
        };
        (!value.is_empty()).then_some(value)
    }
}

fn with_xml_base(doc: &Document, element: usize, base: Option<Url>) -> Option<Url> {
    match doc.attr(element, "xml:base") {
        Some(value) => resolve::join(base.as_ref(), value).or(base),
        None => base,
    }
}

fn rss(doc: &Document, root: usize, root_base: Option<Url>) -> ParsedFeed {
    let ctx = Ctx::new(doc, root, Vocab::Rss);
    let channel = ctx.child(root, Vocab::Rss, "channel").unwrap_or(root);
    let base = if channel == root {
        root_base
    } else {
        with_xml_base(doc, channel, root_base)
    };
    let mut feed = ParsedFeed {
        title: ctx
            .child(channel, Vocab::Rss, "title")
            .or_else(|| ctx.child(channel, Vocab::Dc, "title"))
            .and_then(|title| ctx.text_construct(title)),
        link: ctx
            .child_text(channel, Vocab::Rss, "link")
            .or_else(|| atom_link(&ctx, channel))
            .and_then(|link| resolve::link(base.as_ref(), &link)),
        lang: ctx.first_text(
            channel,
            &[(Vocab::Rss, "language"), (Vocab::Dc, "language")],
        ),
        ttl_minutes: ctx
            .child_text(channel, Vocab::Rss, "ttl")
            .and_then(|ttl| ttl.parse().ok()),
        update_interval_secs: update_interval(&ctx, channel),
        hubs: atom_links_with_rel(&ctx, channel, "hub", base.as_ref()),
        self_link: atom_links_with_rel(&ctx, channel, "self", base.as_ref())
            .into_iter()
            .next(),
        entries: Vec::new(),
    };
    // Items live in the channel (RSS 2.0) or beside it (RSS 0.90/1.0), and
    // in broken feeds inside one another: every `item` element is one, in
    // document order (arena order is document order).
    let mut items: Vec<usize> = doc
        .descendants(root)
        .into_iter()
        .filter(|element| {
            let element = doc.element(*element);
            element.local.eq_ignore_ascii_case("item")
                && ctx.vocab_of(element.ns.as_deref()) == Vocab::Rss
        })
        .collect();
    items.sort_unstable();
    for item in items {
        let item_base = with_xml_base(doc, item, base.clone());
        let guid = ctx.child(item, Vocab::Rss, "guid");
        let guid_text = guid
            .map(|guid| doc.text(guid).trim().to_string())
            .filter(|text| !text.is_empty());
        let guid_is_permalink = guid.is_some_and(|guid| {
            !doc.attr(guid, "isPermaLink")
                .is_some_and(|value| value.eq_ignore_ascii_case("false"))
        });
        let link = ctx
            .child(item, Vocab::Rss, "link")
            .and_then(|link| {
                let href = doc.text(link).trim().to_string();
                let link_base = with_xml_base(doc, link, item_base.clone());
                resolve::link(link_base.as_ref(), &href)
            })
            .or_else(|| {
                atom_link(&ctx, item).and_then(|href| resolve::link(item_base.as_ref(), &href))
            })
            .or_else(|| {
                guid_text
                    .as_deref()
                    .filter(|_| guid_is_permalink)
                    .filter(|text| resolve::looks_absolute_web(text))
                    .map(str::to_string)
            });
        let id = guid_text.or_else(|| {
            doc.attr(item, "rdf:about")
                .map(str::to_string)
                .filter(|about| !about.is_empty())
        });
        let summary = [
            (Vocab::Rss, "description"),
            (Vocab::Content, "encoded"),
            (Vocab::Atom, "summary"),
            (Vocab::Atom, "content"),
        ]
        .iter()
        .find_map(|(want, local)| {
            ctx.child(item, *want, local)
                .and_then(|element| ctx.text_construct(element))
        });
        feed.entries.push(ParsedEntry {
            id,
            link,
            title: [
                (Vocab::Rss, "title"),
                (Vocab::Dc, "title"),
                (Vocab::Atom, "title"),
            ]
            .iter()
            .find_map(|(want, local)| {
                ctx.child(item, *want, local)
                    .and_then(|element| ctx.text_construct(element))
            }),
            summary,
            published: ctx.first_date(
                item,
                &[
                    (Vocab::Rss, "pubDate"),
                    (Vocab::Dc, "date"),
                    (Vocab::Dcterms, "issued"),
                    (Vocab::Dcterms, "created"),
                    (Vocab::Atom, "published"),
                    (Vocab::Atom, "issued"),
                ],
            ),
            updated: ctx.first_date(
                item,
                &[
                    (Vocab::Atom, "updated"),
                    (Vocab::Dcterms, "modified"),
                    (Vocab::Atom, "modified"),
                ],
            ),
            authors: ctx
                .children_named(item, Vocab::Rss, "author")
                .chain(ctx.children_named(item, Vocab::Dc, "creator"))
                .map(|author| text::collapse_whitespace(&doc.text(author)))
                .filter(|name| !name.is_empty())
                .collect(),
            categories: ctx
                .children_named(item, Vocab::Rss, "category")
                .chain(ctx.children_named(item, Vocab::Dc, "subject"))
                .map(|category| text::collapse_whitespace(&doc.text(category)))
                .filter(|name| !name.is_empty())
                .collect(),
            lang: doc
                .attr(item, "xml:lang")
                .map(str::to_string)
                .or_else(|| ctx.child_text(item, Vocab::Dc, "language")),
            truncated: Vec::new(),
        });
    }
    feed
}

/// An `atom:link` (rel alternate or none) inside an RSS element.
fn atom_link(ctx: &Ctx<'_>, parent: usize) -> Option<String> {
    ctx.children_named(parent, Vocab::Atom, "link")
        .find(|link| matches!(ctx.doc.attr(*link, "rel"), None | Some("alternate")))
        .and_then(|link| ctx.doc.attr(link, "href").map(str::to_string))
}

/// The `href`s, resolved, of the `atom:link`s (or plain `link`s, as
/// sloppy Atom writes them) under `parent` whose `rel` is `rel`.
fn atom_links_with_rel(ctx: &Ctx<'_>, parent: usize, rel: &str, base: Option<&Url>) -> Vec<String> {
    ctx.children_named(parent, Vocab::Atom, "link")
        .chain(ctx.children_named(parent, Vocab::Rss, "link"))
        .filter(|link| {
            ctx.doc
                .attr(*link, "rel")
                .is_some_and(|value| value.trim().eq_ignore_ascii_case(rel))
        })
        .filter_map(|link| ctx.doc.attr(link, "href"))
        .filter_map(|href| resolve::link(base, href))
        .collect()
}

fn update_interval(ctx: &Ctx<'_>, channel: usize) -> Option<u64> {
    let period = ctx.child_text(channel, Vocab::Sy, "updatePeriod")?;
    let period_secs: u64 = match period.to_ascii_lowercase().as_str() {
        "hourly" => 3600,
        "daily" => 86_400,
        "weekly" => 7 * 86_400,
        "monthly" => 30 * 86_400,
        "yearly" => 365 * 86_400,
        _ => return None,
    };
    let frequency: u64 = ctx
        .child_text(channel, Vocab::Sy, "updateFrequency")
        .and_then(|text| text.parse().ok())
        .filter(|value| *value > 0)
        .unwrap_or(1);
    Some(period_secs / frequency)
}

fn atom(doc: &Document, root: usize, entries: &[usize], base: Option<Url>) -> ParsedFeed {
    let ctx = Ctx::new(doc, root, Vocab::Atom);
    // Atom elements are in the Atom namespace or, in sloppy feeds, none.
    let find = |parent: usize, local: &str| {
        ctx.child(parent, Vocab::Atom, local)
            .or_else(|| ctx.child(parent, Vocab::Rss, local))
    };
    let links = |parent: usize| -> Vec<usize> {
        ctx.children_named(parent, Vocab::Atom, "link")
            .chain(ctx.children_named(parent, Vocab::Rss, "link"))
            .collect()
    };
    let alternate = |parent: usize, parent_base: Option<&Url>| -> Option<String> {
        let candidates = links(parent);
        let chosen = candidates.iter().find(|link| {
            matches!(doc.attr(**link, "rel"), None | Some("alternate"))
                && doc.attr(**link, "href").is_some()
        })?;
        let link_base = with_xml_base(doc, *chosen, parent_base.cloned());
        resolve::link(link_base.as_ref(), doc.attr(*chosen, "href")?)
    };
    let date_of = |parent: usize, names: &[&str]| {
        names.iter().find_map(|name| {
            find(parent, name).and_then(|element| date::parse_date(&doc.text(element)))
        })
    };
    let mut feed = ParsedFeed {
        title: find(root, "title").and_then(|title| ctx.text_construct(title)),
        link: alternate(root, base.as_ref()).or_else(|| {
            find(root, "id")
                .map(|id| doc.text(id).trim().to_string())
                .filter(|id| resolve::looks_absolute_web(id))
        }),
        lang: doc.attr(root, "xml:lang").map(str::to_string),
        ttl_minutes: None,
        update_interval_secs: update_interval(&ctx, root),
        hubs: atom_links_with_rel(&ctx, root, "hub", base.as_ref()),
        self_link: atom_links_with_rel(&ctx, root, "self", base.as_ref())
            .into_iter()
            .next(),
        entries: Vec::new(),
    };
    for &entry in entries {
        let entry_base = with_xml_base(doc, entry, base.clone());
        let id = find(entry, "id")
            .map(|id| doc.text(id).trim().to_string())
            .filter(|id| !id.is_empty());
        let link = alternate(entry, entry_base.as_ref()).or_else(|| {
            id.as_deref()
                .filter(|id| resolve::looks_absolute_web(id))
                .map(str::to_string)
        });
        let summary = ["summary", "content"]
            .iter()
            .find_map(|name| find(entry, name).and_then(|element| ctx.text_construct(element)));
        feed.entries.push(ParsedEntry {
            id,
            link,
            title: find(entry, "title").and_then(|title| ctx.text_construct(title)),
            summary,
            published: date_of(entry, &["published", "issued", "created"]),
            updated: date_of(entry, &["updated", "modified"]),
            authors: ctx
                .children_named(entry, Vocab::Atom, "author")
                .filter_map(|author| {
                    find(author, "name").map(|name| text::collapse_whitespace(&doc.text(name)))
                })
                .filter(|name| !name.is_empty())
                .collect(),
            categories: ctx
                .children_named(entry, Vocab::Atom, "category")
                .filter_map(|category| doc.attr(category, "term").map(str::to_string))
                .collect(),
            lang: doc.attr(entry, "xml:lang").map(str::to_string),
            truncated: Vec::new(),
        });
    }
    feed
}
