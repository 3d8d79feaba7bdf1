//! The cleaner: a news page's HTML -> article text and metadata.
//!
//! [`clean`] takes a [`PageInput`] (the raw bytes, the HTTP `Content-Type`
//! and the final URL) and returns a [`Cleaned`]: the article body as
//! paragraphs separated by blank lines, plus title, byline, dates,
//! language, canonical URL, site name and lead image. It never fails: when
//! no article container is found it falls back to the page's JSON-LD
//! `articleBody`, its paragraphs, its description, then all its text, so
//! `text` is empty only for a page without any text (with a warning).
//! `method` says which source the text came from.
//!
//! The pipeline, one module per step:
//!
//! - [`charset`]: bytes -> `str` (BOM, HTTP header, `<meta>`, UTF-8 check).
//! - [`dom`]: a tokenizer and arena tree that skips scripts, styles, SVG
//!   and comments without tokenizing them; most of a page's bytes, so this
//!   is where the speed comes from. Depth is capped, so cost is linear.
//! - [`meta`]: metadata from JSON-LD, Open Graph, `<meta>`, `<time>`.
//! - [`extract`]: content scoring (text and link density, class/id
//!   patterns, paragraph scores) to find the article container, then
//!   pruning inside it and writing text.
//! - [`lang`]: a script- and function-word-based language guess when the
//!   page declares none.
//!
//! [`clean_dir`] runs [`clean`] over a directory of `<id>.html` files and
//! writes `<id>.txt` (body only); `wirewatch clean --batch` and the
//! benchmark scripts use it.

pub mod charset;
mod date;
pub mod dom;
mod entities;
pub mod extract;
pub mod lang;
pub mod meta;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use url::Url;

pub use date::parse_date;

/// A fetched page.
#[derive(Clone, Copy, Debug)]
pub struct PageInput<'a> {
    pub body: &'a [u8],
    /// The HTTP `Content-Type` header, for its charset.
    pub content_type: Option<&'a str>,
    /// The page's final URL, for resolving relative links.
    pub url: Option<&'a Url>,
}

/// What the cleaner found in a page. `text` holds paragraphs separated by a
/// blank line; empty when no article text was found (see `warnings`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cleaned {
    pub title: Option<String>,
    pub byline: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub modified: Option<DateTime<Utc>>,
    pub lang: Option<String>,
    pub canonical_url: Option<String>,
    pub site_name: Option<String>,
    pub lead_image: Option<String>,
    pub text: String,
    /// How the text was found: `scored` (content scoring), `json_ld`
    /// (the page's JSON-LD `articleBody`), `paragraphs` (every paragraph of
    /// the page, when scoring found nothing), `description` (the page's
    /// meta description), `page_text` (all text, the last resort) or `none`.
    pub method: String,
    pub warnings: Vec<String>,
}

/// JSON-LD `articleBody` replaces the scored text only when it is this
/// much longer: the scored text keeps paragraph breaks, so it wins ties.
const JSON_LD_PREFERENCE: f32 = 1.5;

/// Extracts the article from a page. Never fails; see the crate docs for
/// the fallbacks. Cost is linear in the page size.
pub fn clean(input: &PageInput<'_>) -> Cleaned {
    let decoded = charset::decode(
        input.body,
        input.content_type,
        input.url.and_then(|url| url.host_str()),
    );
    let mut warnings: Vec<String> = decoded.warning.into_iter().collect();
    let document = dom::parse(&decoded.text);
    if document.depth_capped {
        warnings.push(format!(
            "elements nested deeper than {} were flattened",
            dom::MAX_DEPTH
        ));
    }
    let metadata = meta::collect(&document);
    if metadata.json_ld_errors > 0 {
        warnings.push(format!(
            "{} json-ld block(s) could not be parsed",
            metadata.json_ld_errors
        ));
    }
    let title = metadata
        .title
        .clone()
        .or_else(|| metadata.html_title.clone());
    let extracted = extract::extract(&document, title.as_deref(), &metadata.summaries);
    let scored = extracted.text.trim().to_owned();

    let json_ld_body = metadata
        .article_body
        .as_deref()
        .map(plain_text)
        .filter(|body| body.chars().count() >= 80);
    let (text, method) = match json_ld_body {
        Some(body)
            if body.chars().count() as f32 > JSON_LD_PREFERENCE * scored.chars().count() as f32 =>
        {
            (body, "json_ld")
        }
        _ if !scored.is_empty() => (scored, "scored"),
        _ => fallback(&document, metadata.description.as_deref()),
    };
    if text.is_empty() {
        warnings.push("no article text found".into());
    }
    let text = composed(without_soft_hyphens(text));
    let title = title.map(|title| composed(without_soft_hyphens(title)));

    let resolve = |link: Option<String>| link.map(|link| resolve_url(input.url, &link));
    let lang = metadata
        .lang
        .clone()
        .filter(|l| !l.is_empty())
        .or_else(|| lang::guess(&text));
    Cleaned {
        title,
        byline: metadata.byline,
        published: metadata.published,
        modified: metadata.modified,
        lang,
        canonical_url: resolve(metadata.canonical_url),
        site_name: metadata.site_name,
        lead_image: resolve(metadata.lead_image),
        text,
        method: method.into(),
        warnings,
    }
}

/// Text in Unicode normal form C. Some pages spell accented letters as a
/// base letter and a combining mark ("u" + U+0308 for "ü"); composed, they
/// match what a reader types or a lexicon holds. Unchanged text (nearly
/// all of it) is not copied.
fn composed(text: String) -> String {
    match icu_normalizer::ComposingNormalizerBorrowed::new_nfc().normalize(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(normalized) => normalized,
    }
}

/// Text without soft hyphens (U+00AD). They only say where a word may be
/// broken at a line end and are invisible otherwise; some CMSs put one in
/// every long word ("Wäh\u{ad}rend"), which then matches no word a reader
/// types. Text without any (nearly all) is not copied.
fn without_soft_hyphens(text: String) -> String {
    if text.contains('\u{ad}') {
        text.replace('\u{ad}', "")
    } else {
        text
    }
}

/// When scoring finds nothing: every paragraph of the page, else the
/// description, else all the page's text.
fn fallback(document: &dom::Document, description: Option<&str>) -> (String, &'static str) {
    let paragraphs: Vec<String> = (0..document.nodes.len() as dom::NodeId)
        .filter(|&id| document.tag(id) == Some(dom::Tag::P))
        .map(|id| {
            document
                .text_content(id)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|text| !text.is_empty())
        .collect();
    if !paragraphs.is_empty() {
        return (paragraphs.join("\n\n"), "paragraphs");
    }
    if let Some(description) = description.map(str::trim).filter(|d| !d.is_empty()) {
        return (description.to_owned(), "description");
    }
    // Last resort: all the text of the page (scripts and styles were never
    // parsed), so a page with any text never comes out empty.
    let mut all = String::new();
    for id in 0..document.nodes.len() as dom::NodeId {
        let Some(text) = document.text(id) else {
            continue;
        };
        if document.tag(document.nodes[id as usize].parent) == Some(dom::Tag::Title) {
            continue;
        }
        for word in text.split_whitespace() {
            if !all.is_empty() {
                all.push(' ');
            }
            all.push_str(word);
        }
    }
    if all.is_empty() {
        (String::new(), "none")
    } else {
        (all, "page_text")
    }
}

/// JSON-LD bodies sometimes carry HTML or entities: reduce to plain text
/// with paragraph breaks kept.
fn plain_text(body: &str) -> String {
    let text = if body.contains('<') || body.contains('&') {
        let document = dom::parse(body);
        document.text_content(0)
    } else {
        body.to_owned()
    };
    let paragraphs: Vec<String> = text
        .split('\n')
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect();
    paragraphs.join("\n\n")
}

fn resolve_url(base: Option<&Url>, link: &str) -> String {
    match base.and_then(|base| base.join(link).ok()) {
        Some(url) => url.to_string(),
        None => link.to_owned(),
    }
}

/// Failure of [`clean_dir`]; single pages never fail, only file access.
#[derive(Debug, thiserror::Error)]
pub enum CleanDirError {
    #[error("cannot list html directory {path}: {source}")]
    ListDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read html file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create output directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write text file {path}: {source}")]
    WriteFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What a [`clean_dir`] run did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BatchReport {
    /// Pages cleaned (`.html` files found).
    pub pages: usize,
    /// Pages whose text came out empty.
    pub empty: usize,
    /// Total input bytes.
    pub bytes: u64,
    /// Time spent inside [`clean`] only (no file I/O).
    pub clean_time: Duration,
}

/// Cleans every `HTML_DIR/<id>.html` into `OUT_DIR/<id>.txt` (body text
/// only), in name order. Pages are cleaned without a URL or HTTP header.
pub fn clean_dir(html_dir: &Path, out_dir: &Path) -> Result<BatchReport, CleanDirError> {
    clean_dir_with_progress(html_dir, out_dir, &mut |_, _| {})
}

/// [`clean_dir`], telling `progress` (pages done, pages in all) after the
/// listing and after each page.
pub fn clean_dir_with_progress(
    html_dir: &Path,
    out_dir: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<BatchReport, CleanDirError> {
    let entries = fs::read_dir(html_dir).map_err(|source| CleanDirError::ListDir {
        path: html_dir.into(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| CleanDirError::ListDir {
            path: html_dir.into(),
            source,
        })?;
        let path = entry.path();
        if path.extension().is_some_and(|ext| ext == "html") {
            paths.push(path);
        }
    }
    paths.sort();
    fs::create_dir_all(out_dir).map_err(|source| CleanDirError::CreateDir {
        path: out_dir.into(),
        source,
    })?;
    let mut report = BatchReport::default();
    let total = paths.len();
    progress(0, total);
    for (done, path) in paths.into_iter().enumerate() {
        let body = fs::read(&path).map_err(|source| CleanDirError::ReadFile {
            path: path.clone(),
            source,
        })?;
        let started = Instant::now();
        let cleaned = clean(&PageInput {
            body: &body,
            content_type: None,
            url: None,
        });
        report.clean_time += started.elapsed();
        report.pages += 1;
        report.bytes += body.len() as u64;
        if cleaned.text.is_empty() {
            report.empty += 1;
        }
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        let out_path = out_dir.join(format!("{stem}.txt"));
        fs::write(&out_path, cleaned.text).map_err(|source| CleanDirError::WriteFile {
            path: out_path,
            source,
        })?;
        progress(done + 1, total);
    }
    Ok(report)
}

#[cfg(test)]
mod tests;
