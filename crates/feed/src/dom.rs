//! A forgiving XML reader: no markup makes it fail, it always returns a
//! tree. The one document it refuses is one whose declared entities expand
//! past their budget ([`entities::DeclaredEntities`]).
//!
//! Used when a strict parser rejects a document (mismatched tags, a CDATA
//! section that never ends, HTML pasted into an RSS description). It reads
//! what a person would: text is kept, unknown references are kept as
//! written, an end tag closes the nearest open element of that name (and
//! everything opened inside it), an end tag with no open element is
//! ignored, and the end of input closes everything.
//!
//! The tree is an arena (`Vec<Element>` indexed by position) so deep or
//! broken nesting costs no recursion.

use super::entities::{self, DeclaredEntities, OverBudget};
use super::repair::{is_name_char, is_name_start, parse_attributes};

/// Nesting deeper than this is flattened into its parent: no feed needs it,
/// and it bounds the work a hostile document can cause.
const MAX_DEPTH: usize = 256;

pub(crate) struct Document {
    pub elements: Vec<Element>,
}

pub(crate) struct Element {
    /// Local name (prefix removed), as written.
    pub local: String,
    /// Namespace URI the prefix (or default namespace) resolves to.
    pub ns: Option<String>,
    /// Attributes by qualified name, values with references decoded.
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

pub(crate) enum Node {
    Element(usize),
    Text(String),
}

impl Document {
    /// The first element, if any.
    pub fn root(&self) -> Option<usize> {
        (!self.elements.is_empty()).then_some(0)
    }

    pub fn element(&self, index: usize) -> &Element {
        &self.elements[index]
    }

    /// Child elements of `index`, in order.
    pub fn children(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        self.elements[index]
            .children
            .iter()
            .filter_map(|node| match node {
                Node::Element(child) => Some(*child),
                Node::Text(_) => None,
            })
    }

    /// All descendant elements of `index` in document order.
    pub fn descendants(&self, index: usize) -> Vec<usize> {
        let mut found = Vec::new();
        let mut stack: Vec<usize> = self.children(index).collect();
        stack.reverse();
        while let Some(next) = stack.pop() {
            found.push(next);
            let mut children: Vec<usize> = self.children(next).collect();
            children.reverse();
            stack.extend(children);
        }
        found
    }

    /// All text inside `index`, concatenated.
    pub fn text(&self, index: usize) -> String {
        let mut out = String::new();
        let mut stack: Vec<&Node> = self.elements[index].children.iter().rev().collect();
        while let Some(node) = stack.pop() {
            match node {
                Node::Text(text) => out.push_str(text),
                Node::Element(child) => stack.extend(self.elements[*child].children.iter().rev()),
            }
        }
        out
    }

    /// The markup inside `index`, re-serialized (for XHTML content, whose
    /// text is markup).
    pub fn inner_markup(&self, index: usize) -> String {
        let mut out = String::new();
        self.write_markup(index, &mut out, 0);
        out
    }

    fn write_markup(&self, index: usize, out: &mut String, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        for node in &self.elements[index].children {
            match node {
                Node::Text(text) => out.push_str(&text.replace('&', "&amp;").replace('<', "&lt;")),
                Node::Element(child) => {
                    let element = &self.elements[*child];
                    out.push('<');
                    out.push_str(&element.local);
                    for (name, value) in &element.attrs {
                        out.push_str(&format!(" {name}=\"{}\"", value.replace('"', "&quot;")));
                    }
                    out.push('>');
                    self.write_markup(*child, out, depth + 1);
                    out.push_str(&format!("</{}>", element.local));
                }
            }
        }
    }

    pub fn attr<'a>(&'a self, index: usize, name: &str) -> Option<&'a str> {
        self.elements[index]
            .attrs
            .iter()
            .find(|(attr, _)| attr == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Reads `text` into a tree.
pub(crate) fn read(text: &str) -> Result<Document, OverBudget> {
    let mut reader = Reader {
        doc: Document {
            elements: Vec::new(),
        },
        stack: Vec::new(),
        qualified: Vec::new(),
        scopes: Vec::new(),
        declared: DeclaredEntities::new(text.len()),
        over_budget: None,
    };
    reader.run(text);
    match reader.over_budget {
        Some(over) => Err(over),
        None => Ok(reader.doc),
    }
}

struct Reader {
    doc: Document,
    /// Open elements (arena indices).
    stack: Vec<usize>,
    /// Qualified names of the open elements, parallel to `stack`.
    qualified: Vec<String>,
    /// Namespace declarations: (prefix, uri, depth declared at).
    scopes: Vec<(String, String, usize)>,
    declared: DeclaredEntities,
    /// Set when entity expansion went past the budget: reading stops.
    over_budget: Option<OverBudget>,
}

impl Reader {
    fn run(&mut self, text: &str) {
        let mut rest = text;
        while !rest.is_empty() && self.over_budget.is_none() {
            let Some(pos) = rest.find('<') else {
                let decoded = self.decode(rest);
                self.push_text(&decoded);
                break;
            };
            if pos > 0 {
                let decoded = self.decode(&rest[..pos]);
                self.push_text(&decoded);
            }
            rest = self.markup(&rest[pos..]);
        }
    }

    fn decode(&mut self, text: &str) -> String {
        if self.declared.is_empty() || !text.contains('&') {
            return entities::decode_all(text);
        }
        // One pass with map look-ups: a document declaring thousands of
        // entities must not cost thousands of passes over its text.
        let mut expanded = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(pos) = rest.find('&') {
            expanded.push_str(&rest[..pos]);
            rest = &rest[pos..];
            let Some(end) = rest[1..].find(';').filter(|end| *end <= 64) else {
                expanded.push('&');
                rest = &rest[1..];
                continue;
            };
            match self.declared.expand(&rest[1..=end]) {
                Ok(Some(value)) => {
                    expanded.push_str(value);
                    rest = &rest[end + 2..];
                }
                Ok(None) => {
                    expanded.push('&');
                    rest = &rest[1..];
                }
                Err(over) => {
                    self.over_budget = Some(over);
                    return expanded;
                }
            }
        }
        expanded.push_str(rest);
        entities::decode_all(&expanded)
    }

    fn push_text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if let Some(top) = self.stack.last() {
            let children = &mut self.doc.elements[*top].children;
            if let Some(Node::Text(last)) = children.last_mut() {
                last.push_str(text);
            } else {
                children.push(Node::Text(text.to_string()));
            }
        }
    }

    fn markup<'a>(&mut self, rest: &'a str) -> &'a str {
        if let Some(after) = rest.strip_prefix("<!--") {
            return after.find("-->").map_or("", |end| &after[end + 3..]);
        }
        if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>").unwrap_or(after.len());
            self.push_text(&after[..end]);
            return after.get(end + 3..).unwrap_or("");
        }
        if rest.len() >= 9 && rest.as_bytes()[..9].eq_ignore_ascii_case(b"<!DOCTYPE") {
            return self.doctype(rest);
        }
        if rest.starts_with("<!") {
            return rest.find('>').map_or("", |end| &rest[end + 1..]);
        }
        if rest.starts_with("<?") {
            return rest.find("?>").map_or("", |end| &rest[end + 2..]);
        }
        let bytes = rest.as_bytes();
        let closing = bytes.get(1) == Some(&b'/');
        let name_start = if closing { 2 } else { 1 };
        if !bytes
            .get(name_start)
            .is_some_and(|byte| is_name_start(*byte))
        {
            self.push_text("<");
            return &rest[1..];
        }
        let name_len = rest[name_start..]
            .find(|ch: char| !is_name_char(ch))
            .unwrap_or(rest.len() - name_start);
        let name = &rest[name_start..name_start + name_len];
        let after_name = &rest[name_start + name_len..];
        if closing {
            self.close(name);
            return after_name
                .find('>')
                .map_or("", |end| &after_name[end + 1..]);
        }
        let (attrs, self_closing, consumed) = parse_attributes(after_name);
        self.open(name, attrs, self_closing);
        &after_name[consumed..]
    }

    fn doctype<'a>(&mut self, rest: &'a str) -> &'a str {
        let first_close = rest.find('>').unwrap_or(rest.len());
        if let Some(open) = rest.find('[').filter(|open| *open < first_close) {
            let end = rest[open..].find(']').map_or(rest.len(), |pos| open + pos);
            if let Err(over) = self.declared.declare_subset(&rest[open + 1..end]) {
                self.over_budget = Some(over);
            }
            return rest[end..]
                .find('>')
                .map_or("", |pos| &rest[end + pos + 1..]);
        }
        rest.get(first_close + 1..).unwrap_or("")
    }

    fn open(&mut self, qualified: &str, attrs: Vec<(String, Option<String>)>, self_closing: bool) {
        if self.stack.len() >= MAX_DEPTH {
            return;
        }
        let depth = self.stack.len() + 1;
        let attrs: Vec<(String, String)> = attrs
            .into_iter()
            .map(|(name, value)| {
                let value = value.map(|raw| self.decode(&raw)).unwrap_or_default();
                (name, value)
            })
            .collect();
        for (name, value) in &attrs {
            if name == "xmlns" {
                self.scopes.push((String::new(), value.clone(), depth));
            } else if let Some(prefix) = name.strip_prefix("xmlns:") {
                self.scopes.push((prefix.to_string(), value.clone(), depth));
            }
        }
        let (prefix, local) = qualified.split_once(':').unwrap_or(("", qualified));
        let ns = self
            .scopes
            .iter()
            .rev()
            .find(|(declared, _, _)| declared == prefix)
            .map(|(_, uri, _)| uri.clone())
            .filter(|uri| !uri.is_empty());
        let index = self.doc.elements.len();
        self.doc.elements.push(Element {
            local: local.to_string(),
            ns,
            attrs,
            children: Vec::new(),
        });
        if let Some(parent) = self.stack.last() {
            self.doc.elements[*parent]
                .children
                .push(Node::Element(index));
        } else if index != 0 {
            // A second top-level element: keep it under the first so
            // nothing is lost (a feed after junk markup, say).
            self.doc.elements[0].children.push(Node::Element(index));
        }
        if self_closing {
            self.scopes
                .retain(|(_, _, declared_at)| *declared_at < depth);
        } else {
            self.stack.push(index);
            self.qualified.push(qualified.to_string());
        }
    }

    fn close(&mut self, qualified: &str) {
        let found = self
            .qualified
            .iter()
            .rposition(|open| open == qualified)
            .or_else(|| {
                self.qualified
                    .iter()
                    .rposition(|open| open.eq_ignore_ascii_case(qualified))
            });
        if let Some(position) = found {
            self.stack.truncate(position);
            self.qualified.truncate(position);
            let depth = self.stack.len();
            self.scopes
                .retain(|(_, _, declared_at)| *declared_at <= depth);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_mismatched_tags() {
        let doc =
            read("<rss><channel><item><title>a &eacute; <b>b</title></item><item>c</channel>")
                .unwrap();
        let root = doc.root().unwrap();
        assert_eq!(doc.element(root).local, "rss");
        assert_eq!(doc.text(root), "a é bc");
    }

    #[test]
    fn resolves_namespaces() {
        let doc = read("<a xmlns='urn:x' xmlns:d='urn:d'><d:b/></a>").unwrap();
        assert_eq!(doc.element(1).ns.as_deref(), Some("urn:d"));
        assert_eq!(doc.element(0).ns.as_deref(), Some("urn:x"));
    }
}
