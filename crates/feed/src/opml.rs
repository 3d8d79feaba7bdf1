//! OPML feed lists, the format feed readers (Miniflux, FreshRSS, Inoreader,
//! NetNewsWire) import and export: read into [`ListedFeed`]s, written back
//! as OPML 2.0.
//!
//! Reading is as forgiving as the feed reader: the same charset detection
//! ([`super::decode`]) and the same tree reader ([`super::dom`]), so a list
//! with a stray `&` or an unclosed outline still yields its feeds. An
//! outline with an `xmlUrl` is a feed (OPML 1.0 and 2.0 alike; the `type`
//! attribute is not required, as exporters disagree on it); an outline
//! without one is a folder, and the folders around a feed become its tags,
//! outermost first. The `category` attribute (OPML 2.0: comma-separated,
//! slash paths) adds tags too. Relative or non-HTTP `xmlUrl`s are errors
//! that name the outline's title and position, not silently dropped feeds.

use url::Url;

use super::decode;
use super::dom::{self, Document};

/// One feed in a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedFeed {
    /// The feed document's URL (`xmlUrl`).
    pub url: Url,
    /// `title`, else `text`; `None` when both are missing or blank.
    pub title: Option<String>,
    /// The site's URL (`htmlUrl`), when given and absolute.
    pub site: Option<Url>,
    /// The folders it sits in, outermost first, then its categories; no
    /// repeats.
    pub tags: Vec<String>,
}

/// A feed list read from OPML: the feeds, and the outlines that could not
/// be read as feeds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedList {
    pub title: Option<String>,
    pub feeds: Vec<ListedFeed>,
    pub problems: Vec<OpmlProblem>,
}

/// One outline that was left out, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpmlProblem {
    /// 1-based position of the outline among all outlines of the document.
    pub outline: usize,
    /// Its title or text, for the message.
    pub label: String,
    pub message: String,
}

impl std::fmt::Display for OpmlProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "outline {} ({:?}): {}",
            self.outline, self.label, self.message
        )
    }
}

/// Why a document is not an OPML feed list at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpmlError {
    #[error("not OPML: {0}")]
    NotOpml(String),
}

/// Reads an OPML document. Feeds listed twice (same URL) are kept once,
/// with the tags of both places.
pub fn parse_opml(bytes: &[u8]) -> Result<FeedList, OpmlError> {
    let text = decode::decode(bytes, None, None).text;
    let doc = dom::read(&text).map_err(|over| {
        OpmlError::NotOpml(format!(
            "the doctype's entities expand past {} bytes",
            over.limit
        ))
    })?;
    let root = doc
        .root()
        .ok_or_else(|| OpmlError::NotOpml("no XML element found".into()))?;
    if !doc.element(root).local.eq_ignore_ascii_case("opml") {
        return Err(OpmlError::NotOpml(format!(
            "the root element is <{}>, not <opml>",
            doc.element(root).local
        )));
    }
    let mut list = FeedList::default();
    let mut body = None;
    for child in doc.children(root) {
        match doc.element(child).local.as_str() {
            "head" => {
                list.title = doc
                    .children(child)
                    .find(|&field| doc.element(field).local == "title")
                    .and_then(|field| clean(&doc.text(field)));
            }
            "body" => body = Some(child),
            _ => {}
        }
    }
    let body = body.ok_or_else(|| OpmlError::NotOpml("no <body>".into()))?;
    let mut walk = Walk {
        doc: &doc,
        list: &mut list,
        folders: Vec::new(),
        seen: 0,
    };
    walk.outlines(body);
    Ok(list)
}

/// Depth-first over the outlines, with the folders above the current one.
struct Walk<'a> {
    doc: &'a Document,
    list: &'a mut FeedList,
    folders: Vec<String>,
    seen: usize,
}

impl Walk<'_> {
    fn outlines(&mut self, parent: usize) {
        // An explicit stack, not recursion: nesting depth is the document's
        // choice. Each level: the outlines left to visit, and whether the
        // outline that opened it pushed a folder.
        let mut pending = vec![(self.outline_children(parent).into_iter(), false)];
        while let Some((children, _)) = pending.last_mut() {
            let Some(outline) = children.next() else {
                if pending.pop().is_some_and(|(_, folder)| folder) {
                    self.folders.pop();
                }
                continue;
            };
            self.seen += 1;
            let folder = self.visit(outline);
            let is_folder = folder.is_some();
            self.folders.extend(folder);
            pending.push((self.outline_children(outline).into_iter(), is_folder));
        }
    }

    fn outline_children(&self, index: usize) -> Vec<usize> {
        self.doc
            .children(index)
            .filter(|&child| self.doc.element(child).local == "outline")
            .collect()
    }

    /// Records the outline if it is a feed; returns its folder name if it
    /// is a folder (an outline without `xmlUrl`).
    fn visit(&mut self, outline: usize) -> Option<String> {
        let attr = |name: &str| self.doc.attr(outline, name).and_then(clean);
        let label = attr("title").or_else(|| attr("text"));
        let Some(raw_url) = attr("xmlUrl").or_else(|| attr("xmlurl")) else {
            return label;
        };
        let problem = |message: String| OpmlProblem {
            outline: self.seen,
            label: label.clone().unwrap_or_default(),
            message,
        };
        let url = match Url::parse(&raw_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => url,
            Ok(url) => {
                let problem = problem(format!(
                    "xmlUrl {raw_url:?} is a {} URL, not http or https",
                    url.scheme()
                ));
                self.list.problems.push(problem);
                return None;
            }
            Err(error) => {
                let problem = problem(format!("xmlUrl {raw_url:?}: {error}"));
                self.list.problems.push(problem);
                return None;
            }
        };
        let site = attr("htmlUrl")
            .and_then(|site| Url::parse(&site).ok())
            .filter(|site| matches!(site.scheme(), "http" | "https"));
        let mut tags = self.folders.clone();
        if let Some(categories) = attr("category") {
            tags.extend(
                categories
                    .split(',')
                    .flat_map(|category| category.split('/'))
                    .filter_map(clean),
            );
        }
        let mut unique = Vec::with_capacity(tags.len());
        for tag in tags {
            if !unique.contains(&tag) {
                unique.push(tag);
            }
        }
        match self.list.feeds.iter_mut().find(|feed| feed.url == url) {
            Some(known) => {
                for tag in unique {
                    if !known.tags.contains(&tag) {
                        known.tags.push(tag);
                    }
                }
            }
            None => self.list.feeds.push(ListedFeed {
                url,
                title: label,
                site,
                tags: unique,
            }),
        }
        None
    }
}

/// Trimmed, whitespace collapsed, control characters removed; `None` when
/// nothing is left.
fn clean(value: &str) -> Option<String> {
    let mut text = super::text::collapse_whitespace(value);
    super::text::remove_controls(&mut text);
    (!text.is_empty()).then_some(text)
}

/// Writes feeds as OPML 2.0: one folder per first tag (feeds without tags
/// at the top), the other tags in `category`, as Miniflux and FreshRSS
/// read them back.
pub fn write_opml(title: &str, feeds: &[ListedFeed]) -> String {
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n");
    out.push_str(&format!(
        "  <head>\n    <title>{}</title>\n  </head>\n  <body>\n",
        escape(title)
    ));
    let mut folders: Vec<(&str, Vec<&ListedFeed>)> = Vec::new();
    for feed in feeds {
        match feed.tags.first() {
            None => out.push_str(&outline(feed, &feed.tags, "    ")),
            Some(folder) => match folders.iter_mut().find(|(name, _)| name == folder) {
                Some((_, members)) => members.push(feed),
                None => folders.push((folder, vec![feed])),
            },
        }
    }
    for (folder, members) in folders {
        out.push_str(&format!(
            "    <outline text=\"{0}\" title=\"{0}\">\n",
            escape(folder)
        ));
        for feed in members {
            out.push_str(&outline(feed, &feed.tags[1..], "      "));
        }
        out.push_str("    </outline>\n");
    }
    out.push_str("  </body>\n</opml>\n");
    out
}

fn outline(feed: &ListedFeed, categories: &[String], indent: &str) -> String {
    let title = feed.title.as_deref().unwrap_or(feed.url.as_str());
    let mut line = format!(
        "{indent}<outline type=\"rss\" text=\"{0}\" title=\"{0}\" xmlUrl=\"{1}\"",
        escape(title),
        escape(feed.url.as_str())
    );
    if let Some(site) = &feed.site {
        line.push_str(&format!(" htmlUrl=\"{}\"", escape(site.as_str())));
    }
    if !categories.is_empty() {
        line.push_str(&format!(" category=\"{}\"", escape(&categories.join(","))));
    }
    line.push_str("/>\n");
    line
}

/// Feed titles and URLs as XML attribute values (see
/// [`wirewatch_text::markup`]).
fn escape(text: &str) -> String {
    wirewatch_text::markup::escape(text, wirewatch_text::markup::Breaks::Space)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nested folders as FreshRSS exports them, a Miniflux-style flat
    /// list with `category`, OPML 1.0 outlines without `type`, a feed
    /// listed twice, entities and a stray `&`.
    const LIST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>My  feeds</title></head>
  <body>
    <outline text="Defence">
      <outline text="Europe" title="Europe">
        <outline type="rss" text="Armée &amp; Défense" xmlUrl="https://example.org/defense.xml" htmlUrl="https://example.org/"/>
      </outline>
      <outline text="Wire" xmlUrl="https://wire.example/rss?a=1&b=2"/>
    </outline>
    <outline text="Sanctions news" xmlUrl="https://example.net/sanctions.xml" category="/compliance/ofac,eu"/>
    <outline text="Again" xmlUrl="https://example.org/defense.xml" category="favourites"/>
    <outline text="Broken" xmlUrl="/relative.xml"/>
    <outline text="Local file" xmlUrl="file:///etc/passwd"/>
  </body>
</opml>"#;

    #[test]
    fn folders_become_tags_and_problems_name_their_outline() {
        let list = parse_opml(LIST.as_bytes()).unwrap();
        assert_eq!(list.title.as_deref(), Some("My feeds"));
        let summary: Vec<(String, Option<String>, Vec<String>)> = list
            .feeds
            .iter()
            .map(|feed| (feed.url.to_string(), feed.title.clone(), feed.tags.clone()))
            .collect();
        let tags = |names: &[&str]| names.iter().map(std::string::ToString::to_string).collect();
        assert_eq!(
            summary,
            vec![
                (
                    "https://example.org/defense.xml".to_string(),
                    Some("Armée & Défense".to_string()),
                    tags(&["Defence", "Europe", "favourites"])
                ),
                (
                    "https://wire.example/rss?a=1&b=2".to_string(),
                    Some("Wire".to_string()),
                    tags(&["Defence"])
                ),
                (
                    "https://example.net/sanctions.xml".to_string(),
                    Some("Sanctions news".to_string()),
                    tags(&["compliance", "ofac", "eu"])
                ),
            ]
        );
        assert_eq!(
            list.feeds[0].site.as_ref().map(Url::as_str),
            Some("https://example.org/")
        );
        let problems: Vec<String> = list.problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("outline 7 (\"Broken\"): xmlUrl \"/relative.xml\""));
        assert!(problems[1].starts_with("outline 8 (\"Local file\"): xmlUrl"));
        assert!(problems[1].contains("file URL"), "{}", problems[1]);
    }

    #[test]
    fn what_is_written_reads_back_the_same() {
        let list = parse_opml(LIST.as_bytes()).unwrap();
        let written = write_opml("wirewatch feeds", &list.feeds);
        let again = parse_opml(written.as_bytes()).unwrap();
        assert_eq!(again.title.as_deref(), Some("wirewatch feeds"));
        assert_eq!(again.feeds, list.feeds);
        assert!(again.problems.is_empty());
    }

    #[test]
    fn documents_that_are_not_opml_say_why() {
        assert_eq!(
            parse_opml(b"<rss version=\"2.0\"><channel/></rss>").unwrap_err(),
            OpmlError::NotOpml("the root element is <rss>, not <opml>".into())
        );
        assert!(parse_opml(b"").is_err());
        assert_eq!(
            parse_opml(b"<opml><head/></opml>").unwrap_err(),
            OpmlError::NotOpml("no <body>".into())
        );
    }

    /// Folders 250 deep are read (iteratively); outlines past the tree
    /// reader's depth bound (256) are left out, not a crash.
    #[test]
    fn deep_folders_are_read_and_past_the_bound_left_out() {
        let nested = |depth: usize| {
            let mut doc = String::from("<opml><body>");
            for level in 0..depth {
                doc.push_str(&format!("<outline text=\"f{level}\">"));
            }
            doc.push_str("<outline text=\"x\" xmlUrl=\"https://deep.example/feed\"/>");
            doc.push_str("</body></opml>");
            parse_opml(doc.as_bytes()).unwrap()
        };
        let list = nested(250);
        assert_eq!(list.feeds.len(), 1);
        assert_eq!(list.feeds[0].tags.len(), 250);
        assert_eq!(list.feeds[0].tags[249], "f249");
        assert!(nested(100_000).feeds.is_empty());
    }
}
