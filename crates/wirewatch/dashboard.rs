//! The status page and the JSON API behind it, served on `[metrics] listen`
//! beside `/metrics` (see [`crate::metrics::serve`]):
//!
//! - `/api/feeds`: every configured feed with its health (failing first),
//!   its stored status, its 304 ratio and its pages cleaned or not;
//! - `/api/flagged?label=&since=&limit=`: the latest flagged stories this
//!   process classified, newest first, with labels, scores, entities and
//!   evidence excerpts;
//! - `/`: the same as one HTML page, rendered here; `/status.css` and
//!   `/status.js` (sorting the feed table, opening a story's evidence)
//!   are the only other files it loads, so a strict Content-Security-Policy
//!   holds: no inline script, and every feed- or page-supplied string is
//!   escaped.
//!
//! What the page shows lives in memory: [`Dashboard`] keeps the last
//! [`RECENT_STORIES`] flagged stories and a per-feed tally of pages
//! cleaned, filled by the classify and clean stages of this process. Feed
//! statuses come from the state store at request time.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use wirewatch_fetcher::{FeedSpec, FeedStatus, StateStore};
use wirewatch_model::{ArticleStatus, ClassifiedArticle, Entities, EvidenceField};

/// Flagged stories kept for the page and `/api/flagged`.
pub const RECENT_STORIES: usize = 200;
/// Feeds whose page tallies are kept (the feed list bounds them; this
/// bounds what a bus carrying foreign feed URLs could add).
const MAX_TALLIED_FEEDS: usize = 10_000;
/// Characters of context on each side of an evidence span.
const CONTEXT_CHARS: usize = 160;
/// Evidence excerpts kept per story, strongest first.
const MAX_EXCERPTS: usize = 6;
/// Stories `/api/flagged` returns when `limit` is not given.
const DEFAULT_LIMIT: usize = 50;

/// What the page knows beyond the state store. Share it through
/// [`crate::metrics::Metrics`].
#[derive(Default)]
pub struct Dashboard {
    /// Oldest first.
    recent: Mutex<VecDeque<FlaggedStory>>,
    pages: Mutex<HashMap<String, PageTally>>,
}

/// A feed's articles by how they were cleaned, since this process started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PageTally {
    /// Cleaned from their page.
    pub cleaned: u64,
    /// Classified from the feed summary: the page could not be fetched or
    /// held too little text (an extraction failure, for the operator).
    pub feed_only: u64,
}

/// One flagged story as the page shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FlaggedStory {
    pub id: String,
    pub classified_at: DateTime<Utc>,
    pub discovered_at: DateTime<Utc>,
    pub title: String,
    pub url: String,
    pub feed: String,
    pub feed_title: Option<String>,
    /// The flagged labels, highest score first.
    pub labels: Vec<FlaggedLabel>,
    pub entities: Entities,
    /// The strongest evidence spans with their context.
    pub evidence: Vec<Excerpt>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FlaggedLabel {
    pub label: String,
    pub score: f32,
}

/// An evidence span and the text around it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Excerpt {
    pub label: String,
    /// `"title"` or `"text"`.
    pub field: String,
    pub rule: Option<String>,
    pub weight: f32,
    pub before: String,
    pub matched: String,
    pub after: String,
}

impl FlaggedStory {
    /// `None` when nothing is flagged.
    pub fn of(classified: &ClassifiedArticle) -> Option<FlaggedStory> {
        let classification = &classified.classification;
        let mut labels: Vec<FlaggedLabel> = classification
            .labels
            .iter()
            .filter(|label| label.flagged)
            .map(|label| FlaggedLabel {
                label: label.label.clone(),
                score: label.score,
            })
            .collect();
        if labels.is_empty() {
            return None;
        }
        labels.sort_by(|a, b| b.score.total_cmp(&a.score));
        let article = &classified.article;
        let title = article
            .title
            .as_deref()
            .or(article.item.title.as_deref())
            .unwrap_or_default();
        let mut evidence: Vec<_> = classification
            .evidence
            .iter()
            .filter(|evidence| labels.iter().any(|label| label.label == evidence.label))
            .collect();
        evidence.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        let mut excerpts: Vec<Excerpt> = Vec::new();
        for evidence in evidence {
            if excerpts.len() == MAX_EXCERPTS {
                break;
            }
            let (field, source) = match evidence.field {
                EvidenceField::Title => ("title", title),
                EvidenceField::Text => ("text", article.text.as_str()),
            };
            let Some((before, matched, after)) = context(source, evidence.start, evidence.end)
            else {
                continue;
            };
            if excerpts
                .iter()
                .any(|seen| seen.matched == matched && seen.label == evidence.label)
            {
                continue;
            }
            excerpts.push(Excerpt {
                label: evidence.label.clone(),
                field: field.to_owned(),
                rule: evidence.rule.clone(),
                weight: evidence.weight,
                before,
                matched,
                after,
            });
        }
        Some(FlaggedStory {
            id: article.id.as_str().to_owned(),
            classified_at: classification.classified_at,
            discovered_at: article.item.discovered_at,
            title: title.to_owned(),
            url: article.url.clone(),
            feed: article.item.feed.url.clone(),
            feed_title: article.item.feed.title.clone(),
            labels,
            entities: classification.entities.clone(),
            evidence: excerpts,
        })
    }
}

/// The span `start..end` (characters) of `text` with up to
/// [`CONTEXT_CHARS`] characters each side, whitespace runs folded; `None`
/// when the span is empty or outside the text.
fn context(text: &str, start: usize, end: usize) -> Option<(String, String, String)> {
    let chars: Vec<char> = text.chars().collect();
    if start >= end || end > chars.len() {
        return None;
    }
    let from = start.saturating_sub(CONTEXT_CHARS);
    let to = (end + CONTEXT_CHARS).min(chars.len());
    let fold = |slice: &[char]| -> String {
        let joined: String = slice.iter().collect();
        joined.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let mut before = fold(&chars[from..start]);
    if chars[..start].last().is_some_and(|c| c.is_whitespace()) {
        before.push(' ');
    }
    if from > 0 {
        before.insert(0, '…');
    }
    let mut after = String::new();
    if chars.get(end).is_some_and(|c| c.is_whitespace()) {
        after.push(' ');
    }
    after.push_str(&fold(&chars[end..to]));
    if to < chars.len() {
        after.push('…');
    }
    Some((before, fold(&chars[start..end]), after))
}

impl Dashboard {
    /// Keeps a classified story when it is flagged.
    pub fn classified(&self, classified: &ClassifiedArticle) {
        let Some(story) = FlaggedStory::of(classified) else {
            return;
        };
        let mut recent = self.recent.lock().expect("dashboard lock");
        // A redelivered story replaces its earlier copy.
        recent.retain(|kept| kept.id != story.id);
        if recent.len() == RECENT_STORIES {
            recent.pop_front();
        }
        recent.push_back(story);
    }

    /// Counts a cleaned article for its feed.
    pub fn cleaned(&self, feed: &str, status: ArticleStatus) {
        let mut pages = self.pages.lock().expect("dashboard lock");
        if !pages.contains_key(feed) && pages.len() >= MAX_TALLIED_FEEDS {
            return;
        }
        let tally = pages.entry(feed.to_owned()).or_default();
        match status {
            ArticleStatus::Fetched => tally.cleaned += 1,
            ArticleStatus::FeedOnly => tally.feed_only += 1,
        }
    }

    /// Flagged stories, newest first: with `label` only those flagged with
    /// it (any case), with `since` only those classified then or later.
    pub fn flagged(
        &self,
        label: Option<&str>,
        since: Option<DateTime<Utc>>,
        limit: usize,
    ) -> Vec<FlaggedStory> {
        let recent = self.recent.lock().expect("dashboard lock");
        recent
            .iter()
            .rev()
            .filter(|story| {
                label.is_none_or(|wanted| {
                    story
                        .labels
                        .iter()
                        .any(|label| label.label.eq_ignore_ascii_case(wanted))
                })
            })
            .filter(|story| since.is_none_or(|since| story.classified_at >= since))
            .take(limit)
            .cloned()
            .collect()
    }

    fn tally(&self, feed: &str) -> PageTally {
        self.pages
            .lock()
            .expect("dashboard lock")
            .get(feed)
            .copied()
            .unwrap_or_default()
    }
}

/// A feed's state at a glance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// The last poll failed.
    Failing,
    /// Not polled yet (just added, or waiting for its first turn).
    NeverPolled,
    /// The last poll succeeded.
    Ok,
}

impl Health {
    /// The name `/api/feeds` and `/metrics` use.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Failing => "failing",
            Health::NeverPolled => "never_polled",
            Health::Ok => "ok",
        }
    }
}

/// One feed in `/api/feeds`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FeedHealth {
    pub url: String,
    pub title: Option<String>,
    pub tags: Vec<String>,
    pub health: Health,
    /// Polls answered 304 Not Modified, of all polls; `None` before the
    /// first poll.
    pub not_modified_ratio: Option<f64>,
    pub pages: PageTally,
    /// The stored status; `None` before the first poll.
    pub status: Option<FeedStatus>,
}

/// `/api/feeds`.
#[derive(Debug, Serialize, Deserialize)]
pub struct FeedsReport {
    pub generated_at: DateTime<Utc>,
    /// Stories in the seen-set.
    pub seen: u64,
    /// Failing first (longest streak first), then never polled, then the
    /// rest; by URL within each.
    pub feeds: Vec<FeedHealth>,
}

/// The feeds report, from the configured list and the stored statuses.
pub fn feeds_report(
    feeds: &[FeedSpec],
    store: &StateStore,
    dashboard: &Dashboard,
) -> anyhow::Result<FeedsReport> {
    let mut statuses: HashMap<String, FeedStatus> =
        store.all_feed_statuses()?.into_iter().collect();
    let mut report: Vec<FeedHealth> = feeds
        .iter()
        .map(|feed| {
            let url = feed.url.as_str();
            // The seen-set keys a shared fetcher keeps are for the
            // fetcher that takes the feed over, not for a report.
            let status = statuses.remove(url).map(|mut status| {
                status.feed_keys.clear();
                status
            });
            let health = match &status {
                None => Health::NeverPolled,
                Some(status) if status.consecutive_failures > 0 => Health::Failing,
                Some(status) if status.polls == 0 && status.last_success.is_none() => {
                    Health::NeverPolled
                }
                Some(_) => Health::Ok,
            };
            let not_modified_ratio = status
                .as_ref()
                .filter(|status| status.polls > 0)
                .map(|status| status.not_modified as f64 / status.polls as f64);
            FeedHealth {
                url: url.to_owned(),
                title: feed.title.clone(),
                tags: feed.tags.clone(),
                health,
                not_modified_ratio,
                pages: dashboard.tally(url),
                status,
            }
        })
        .collect();
    report.sort_by(|a, b| {
        let streak = |feed: &FeedHealth| {
            feed.status
                .as_ref()
                .map_or(0, |status| status.consecutive_failures)
        };
        (a.health, std::cmp::Reverse(streak(a)), &a.url).cmp(&(
            b.health,
            std::cmp::Reverse(streak(b)),
            &b.url,
        ))
    });
    Ok(FeedsReport {
        generated_at: Utc::now(),
        seen: store.seen_count()?,
        feeds: report,
    })
}

/// The query of `/api/flagged`, or what is wrong with it.
pub struct FlaggedQuery {
    pub label: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub limit: usize,
}

impl FlaggedQuery {
    /// `label=NAME`, `since=RFC 3339 time`, `limit=1..200`; other keys are
    /// refused so a typo does not silently return everything.
    pub fn parse(query: &str) -> Result<FlaggedQuery, String> {
        let mut parsed = FlaggedQuery {
            label: None,
            since: None,
            limit: DEFAULT_LIMIT,
        };
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match &*key {
                "label" if !value.is_empty() => parsed.label = Some(value.into_owned()),
                "label" => {}
                "since" => {
                    let since = DateTime::parse_from_rfc3339(&value).map_err(|error| {
                        format!(
                            "since must be an RFC 3339 time like 2026-12-03T10:00:00Z; {value:?}: {error}"
                        )
                    })?;
                    parsed.since = Some(since.with_timezone(&Utc));
                }
                "limit" => {
                    parsed.limit = value
                        .parse::<usize>()
                        .ok()
                        .filter(|limit| (1..=RECENT_STORIES).contains(limit))
                        .ok_or_else(|| {
                            format!("limit must be 1 to {RECENT_STORIES}; found {value:?}")
                        })?;
                }
                other => {
                    return Err(format!(
                        "unknown parameter {other:?}; known: label, since, limit"
                    ))
                }
            }
        }
        Ok(parsed)
    }
}

/// Feed and page text as markup (see [`wirewatch_text::markup`]).
fn escape(text: &str) -> String {
    wirewatch_text::markup::escape(text, wirewatch_text::markup::Breaks::Keep)
}

/// `url` as an `href` when it is http(s), else `None` (no `javascript:`
/// or `data:` link from a feed).
fn safe_href(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| escape(parsed.as_str()))
}

fn when(time: Option<DateTime<Utc>>) -> (i64, String) {
    match time {
        Some(time) => (
            time.timestamp(),
            time.format("%Y-%m-%d %H:%M:%S").to_string(),
        ),
        None => (0, "–".to_owned()),
    }
}

/// The status page.
pub fn page(feeds: Option<&FeedsReport>, stories: &[FlaggedStory]) -> String {
    let mut html = String::with_capacity(16 * 1024);
    html.push_str(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>wirewatch</title><link rel=\"stylesheet\" href=\"/status.css\">\
         <script src=\"/status.js\" defer></script></head><body>\n<header><h1>wirewatch</h1>",
    );
    match feeds {
        Some(report) => {
            let failing = report
                .feeds
                .iter()
                .filter(|feed| feed.health == Health::Failing)
                .count();
            let _ = write!(
                html,
                "<p id=\"summary\">{} feeds, <span class=\"{}\">{failing} failing</span>; {} stories in the seen-set; {} flagged stories below; at {} UTC</p>",
                report.feeds.len(),
                if failing > 0 { "failing" } else { "ok" },
                report.seen,
                stories.len(),
                report.generated_at.format("%Y-%m-%d %H:%M:%S"),
            );
        }
        None => {
            let _ = write!(
                html,
                "<p id=\"summary\">this process does not poll feeds; {} flagged stories below</p>",
                stories.len()
            );
        }
    }
    html.push_str("</header>\n");
    if let Some(report) = feeds {
        feed_table(&mut html, report);
    }
    story_table(&mut html, stories);
    html.push_str("</body></html>\n");
    html
}

fn feed_table(html: &mut String, report: &FeedsReport) {
    html.push_str(
        "<section><h2>Feeds</h2><p class=\"hint\">Click a column to sort.</p>\
         <table id=\"feeds\"><thead><tr>\
         <th data-sort=\"num\">health</th><th data-sort=\"text\">feed</th>\
         <th data-sort=\"num\">last success</th><th data-sort=\"text\">last error</th>\
         <th data-sort=\"num\">failures in a row</th><th data-sort=\"num\">next poll</th>\
         <th data-sort=\"num\">items</th><th data-sort=\"num\">304 ratio</th>\
         <th data-sort=\"num\">pages cleaned</th><th data-sort=\"num\">extraction failures</th>\
         </tr></thead><tbody>\n",
    );
    for feed in &report.feeds {
        let status = feed.status.clone().unwrap_or_default();
        let (health_rank, health) = match feed.health {
            Health::Failing => (0, "failing"),
            Health::NeverPolled => (1, "never polled"),
            Health::Ok => (2, "ok"),
        };
        let name = feed.title.as_deref().unwrap_or(&feed.url);
        let (success_at, success) = when(status.last_success);
        let (next_at, next) = when(status.next_poll);
        let ratio = feed
            .not_modified_ratio
            .map_or(("-1".to_owned(), "–".to_owned()), |ratio| {
                (format!("{ratio:.4}"), format!("{:.0}%", ratio * 100.0))
            });
        let _ = writeln!(
            html,
            "<tr class=\"feed {class}\" data-url=\"{url}\">\
             <td data-value=\"{health_rank}\" class=\"health\">{health}</td>\
             <td data-value=\"{name}\"><span class=\"name\">{name}</span><br><span class=\"url\">{url}</span></td>\
             <td data-value=\"{success_at}\">{success}</td>\
             <td data-value=\"{error}\" class=\"error\">{error}</td>\
             <td data-value=\"{streak}\">{streak}</td>\
             <td data-value=\"{next_at}\">{next}</td>\
             <td data-value=\"{items}\">{items}</td>\
             <td data-value=\"{ratio_value}\">{ratio_text}</td>\
             <td data-value=\"{cleaned}\">{cleaned}</td>\
             <td data-value=\"{feed_only}\">{feed_only}</td></tr>",
            class = health.replace(' ', "-"),
            url = escape(&feed.url),
            name = escape(name),
            error = escape(status.last_error.as_deref().unwrap_or("")),
            streak = status.consecutive_failures,
            items = status.items_emitted,
            ratio_value = ratio.0,
            ratio_text = ratio.1,
            cleaned = feed.pages.cleaned,
            feed_only = feed.pages.feed_only,
        );
    }
    html.push_str("</tbody></table></section>\n");
}

fn story_table(html: &mut String, stories: &[FlaggedStory]) {
    html.push_str(
        "<section><h2>Latest flagged stories</h2>\
         <p class=\"hint\">Click a story to see the evidence.</p>\
         <table id=\"stories\"><thead><tr><th>classified</th><th>labels</th>\
         <th>title</th><th>source</th></tr></thead><tbody>\n",
    );
    if stories.is_empty() {
        html.push_str("<tr><td colspan=\"4\">none yet</td></tr>\n");
    }
    for (index, story) in stories.iter().enumerate() {
        let labels: String = story
            .labels
            .iter()
            .map(|label| {
                format!(
                    "<span class=\"label\">{} {:.2}</span>",
                    escape(&label.label),
                    label.score
                )
            })
            .collect();
        let title = if story.title.is_empty() {
            "(no title)"
        } else {
            &story.title
        };
        let _ = writeln!(
            html,
            "<tr class=\"story\" tabindex=\"0\" data-id=\"{id}\" aria-controls=\"evidence-{index}\">\
             <td>{when}</td><td>{labels}</td><td class=\"title\">{title}</td><td>{source}</td></tr>",
            id = escape(&story.id),
            when = when(Some(story.classified_at)).1,
            title = escape(title),
            source = escape(story.feed_title.as_deref().unwrap_or(&story.feed)),
        );
        let _ = write!(
            html,
            "<tr class=\"evidence\" id=\"evidence-{index}\" hidden><td colspan=\"4\"><ul>"
        );
        for excerpt in &story.evidence {
            let _ = write!(
                html,
                "<li><span class=\"label\">{label}</span> {field}: {before}<mark>{matched}</mark>{after}\
                 <span class=\"rule\">{rule} (+{weight:.2})</span></li>",
                label = escape(&excerpt.label),
                field = excerpt.field,
                before = escape(&excerpt.before),
                matched = escape(&excerpt.matched),
                after = escape(&excerpt.after),
                rule = escape(excerpt.rule.as_deref().unwrap_or("")),
                weight = excerpt.weight,
            );
        }
        html.push_str("</ul>");
        entity_line(html, &story.entities);
        match safe_href(&story.url) {
            Some(href) => {
                let _ = write!(
                    html,
                    "<p><a href=\"{href}\" rel=\"noreferrer noopener\" target=\"_blank\">{}</a></p>",
                    escape(&story.url)
                );
            }
            None => {
                let _ = write!(html, "<p>{}</p>", escape(&story.url));
            }
        }
        html.push_str("</td></tr>\n");
    }
    html.push_str("</tbody></table></section>\n");
}

fn entity_line(html: &mut String, entities: &Entities) {
    let groups = [
        ("countries", &entities.countries),
        ("organisations", &entities.organisations),
        ("people", &entities.people),
        ("weapons", &entities.weapon_types),
    ];
    let parts: Vec<String> = groups
        .iter()
        .filter(|(_, values)| !values.is_empty())
        .map(|(name, values)| {
            let values: Vec<String> = values.iter().map(|value| escape(value)).collect();
            format!("<b>{name}</b>: {}", values.join(", "))
        })
        .collect();
    if !parts.is_empty() {
        let _ = write!(html, "<p class=\"entities\">{}</p>", parts.join("; "));
    }
}

/// `/status.css`.
pub const STYLE: &str = "\
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1b1b;background:#fff}\
h1{font-size:1.4em;margin:0}h2{font-size:1.15em;margin:1.5em 0 .3em}\
table{border-collapse:collapse;width:100%}\
th,td{text-align:left;vertical-align:top;padding:.3em .5em;border-bottom:1px solid #ddd}\
th{background:#f3f3f3;cursor:pointer;user-select:none;white-space:nowrap}\
th[aria-sort=ascending]::after{content:' \\25B4'}th[aria-sort=descending]::after{content:' \\25BE'}\
.url{color:#666;font-size:.85em;word-break:break-all}\
tr.failing td.health,span.failing{color:#b00020;font-weight:600}\
tr.never-polled td.health{color:#8a6d00}tr.ok td.health,span.ok{color:#146c2e}\
td.error{color:#b00020;max-width:28em;word-break:break-word}\
tr.story{cursor:pointer}tr.story:hover,tr.story:focus{background:#f5f8ff}\
.label{display:inline-block;background:#223f7a;color:#fff;border-radius:3px;padding:0 .4em;margin-right:.3em;font-size:.85em}\
mark{background:#ffe066;padding:0 .1em}tr.evidence li{margin:.3em 0}\
.rule{color:#666;font-size:.8em;margin-left:.5em}.hint{color:#666;margin:0 0 .3em}\
";

/// `/status.js`: sorting the feed table by a clicked column, and showing
/// a story's evidence when its row is clicked (or Enter is pressed on it).
pub const SCRIPT: &str = r#""use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("table#feeds")) {
    const headers = table.querySelectorAll("th");
    headers.forEach((header, column) => {
      header.addEventListener("click", () => {
        const ascending = header.getAttribute("aria-sort") !== "ascending";
        headers.forEach((other) => other.removeAttribute("aria-sort"));
        header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const numeric = header.dataset.sort === "num";
        const body = table.tBodies[0];
        const rows = Array.from(body.rows);
        const key = (row) => row.cells[column].dataset.value || "";
        rows.sort((a, b) => {
          const order = numeric ? Number(key(a)) - Number(key(b)) : key(a).localeCompare(key(b));
          return ascending ? order : -order;
        });
        rows.forEach((row) => body.appendChild(row));
      });
    });
  }
  const toggle = (row) => {
    const evidence = document.getElementById(row.getAttribute("aria-controls"));
    if (evidence) {
      evidence.hidden = !evidence.hidden;
      row.setAttribute("aria-expanded", String(!evidence.hidden));
    }
  };
  for (const row of document.querySelectorAll("tr.story")) {
    row.addEventListener("click", () => toggle(row));
    row.addEventListener("keydown", (event) => {
      if (event.key === "Enter") toggle(row);
    });
  }
});
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_keeps_the_span_and_marks_cut_ends() {
        let text = format!(
            "{} the sale of F-16 jets {}",
            "a ".repeat(200),
            "b ".repeat(200)
        );
        let start = text.find("F-16").unwrap();
        let (before, matched, after) = context(&text, start, start + "F-16 jets".len()).unwrap();
        assert_eq!(matched, "F-16 jets");
        assert!(before.starts_with('…') && before.ends_with("sale of "));
        assert!(after.starts_with(" b") && after.ends_with('…'));
        assert!(context(&text, 5, 5).is_none());
        assert!(context("short", 2, 50).is_none());
    }

    #[test]
    fn escape_leaves_no_markup_and_no_script_links() {
        assert_eq!(
            escape("<script>\"x\"&'y'</script>"),
            "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;"
        );
        assert_eq!(safe_href("javascript:alert(1)"), None);
        assert_eq!(safe_href("data:text/html,hi"), None);
        assert_eq!(
            safe_href("https://example.org/a?b=1&c=\"2\"").as_deref(),
            Some("https://example.org/a?b=1&amp;c=%222%22")
        );
    }

    #[test]
    fn flagged_query_reads_label_since_and_limit_and_refuses_the_rest() {
        let query =
            FlaggedQuery::parse("label=SANCTIONS&since=2026-12-03T10%3A00%3A00Z&limit=5").unwrap();
        assert_eq!(query.label.as_deref(), Some("SANCTIONS"));
        assert_eq!(
            query.since.unwrap().to_rfc3339(),
            "2026-12-03T10:00:00+00:00"
        );
        assert_eq!(query.limit, 5);
        assert_eq!(FlaggedQuery::parse("").unwrap().limit, DEFAULT_LIMIT);
        assert!(FlaggedQuery::parse("since=yesterday")
            .err()
            .unwrap()
            .contains("RFC 3339"));
        assert!(FlaggedQuery::parse("limit=0").is_err());
        assert!(FlaggedQuery::parse("lable=X")
            .err()
            .unwrap()
            .contains("unknown parameter"));
    }
}
