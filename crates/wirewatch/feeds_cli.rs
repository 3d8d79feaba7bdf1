//! `wirewatch feeds`: bring a feed list from another reader (OPML import),
//! give ours to one (OPML export), find the feeds a site offers (discover),
//! and add one to a feed file (add).
//!
//! Feed files are appended to, never rewritten: an operator's comments and
//! order stay as they were. A feed already in the file (same URL) is not
//! added twice. Every problem names the file and the outline or URL it
//! concerns.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use url::Url;
use wirewatch_fetcher::parse::discover::{announced_feeds, usual_paths, Candidate, Found};
use wirewatch_fetcher::parse::{parse_feed, parse_opml, write_opml, ListedFeed};
use wirewatch_fetcher::{FeedResponse, HttpClient, HttpOptions, Validators};

use crate::config::Config;

/// `wirewatch feeds import FILE.opml [--into FEEDS.toml]`: the OPML's feeds
/// as `[[feed]]` tables, appended to `into` (created if missing) or printed.
pub fn import(opml: &Path, into: Option<&Path>) -> anyhow::Result<()> {
    let bytes = std::fs::read(opml).with_context(|| format!("reading {}", opml.display()))?;
    let list =
        parse_opml(&bytes).map_err(|error| anyhow::anyhow!("{}: {error}", opml.display()))?;
    for problem in &list.problems {
        eprintln!("{}: {problem}; left out", opml.display());
    }
    let known = match into {
        Some(path) if path.exists() => listed_urls(path)?,
        _ => Vec::new(),
    };
    let (new, already): (Vec<&ListedFeed>, Vec<&ListedFeed>) = list
        .feeds
        .iter()
        .partition(|feed| !known.contains(&feed.url.to_string()));
    let mut tables = String::new();
    for feed in &new {
        tables.push_str(&feed_table(feed, None));
    }
    match into {
        Some(path) => append(path, &tables, &format!("imported from {}", opml.display()))?,
        None => print!("{tables}"),
    }
    eprintln!(
        "{}: {} feeds imported, {} already listed, {} outlines left out",
        opml.display(),
        new.len(),
        already.len(),
        list.problems.len()
    );
    Ok(())
}

/// `wirewatch feeds export [--config FILE]`: every configured http(s)
/// feed as OPML 2.0 on stdout, first tag as its folder.
pub fn export(config: &Path) -> anyhow::Result<()> {
    let config = Config::load(config).map_err(|error| anyhow::anyhow!("{error}"))?;
    let mut feeds = Vec::new();
    for spec in &config.feeds {
        if !matches!(spec.url.scheme(), "http" | "https") {
            eprintln!("{}: not exported (a local file)", spec.url);
            continue;
        }
        feeds.push(ListedFeed {
            url: spec.url.clone(),
            title: spec.title.clone(),
            site: None,
            tags: spec.tags.clone(),
        });
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(write_opml("wirewatch feeds", &feeds).as_bytes())?;
    Ok(())
}

/// A feed found by discovery, checked by fetching and parsing it.
pub struct Discovered {
    pub candidate: Candidate,
    /// The feed's own title, else the link's.
    pub title: Option<String>,
    pub entries: usize,
}

/// `wirewatch feeds discover URL`: the feeds the page at `url` announces,
/// or, when it announces none, those at the usual paths of its site; each
/// fetched and parsed, and printed as TOML to paste into a feed file. A URL
/// that is itself a feed is that feed.
pub async fn discover(url: &str, config: Option<&Path>) -> anyhow::Result<Vec<Discovered>> {
    let url = Url::parse(url).with_context(|| format!("{url}: not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("{url}: only http and https sites can be discovered");
    }
    let http = client(config)?;
    // The URL the operator typed is trusted as a configured feed URL is;
    // what the page announces is not (another host: checked as a page).
    let page = match http
        .fetch_feed(&url, &Validators::default(), &[])
        .await
        .with_context(|| format!("fetching {url}"))?
    {
        FeedResponse::Fetched(page) => page,
        FeedResponse::NotModified { .. } => bail!("{url}: 304 to an unconditional request"),
    };
    if let Ok(feed) = parse_feed(
        &page.body,
        page.content_type.as_deref(),
        Some(&page.final_url),
    ) {
        return Ok(vec![Discovered {
            candidate: Candidate {
                url: page.final_url.clone(),
                title: None,
                found: Found::Announced,
            },
            title: feed.title.clone(),
            entries: feed.entries.len(),
        }]);
    }
    let mut candidates = announced_feeds(&page.body, page.content_type.as_deref(), &page.final_url);
    if candidates.is_empty() {
        candidates = usual_paths(&page.final_url);
    }
    let mut found = Vec::new();
    for candidate in candidates {
        let same_site = candidate.url.host_str() == page.final_url.host_str();
        let fetched = if same_site {
            match http
                .fetch_feed(&candidate.url, &Validators::default(), &[])
                .await
            {
                Ok(FeedResponse::Fetched(fetched)) => Ok(fetched),
                Ok(FeedResponse::NotModified { .. }) => continue,
                Err(error) => Err(error),
            }
        } else {
            http.fetch_page(&candidate.url).await
        };
        let fetched = match fetched {
            Ok(fetched) if fetched.status < 300 => fetched,
            Ok(fetched) => {
                tracing::debug!(url = %candidate.url, status = fetched.status, "not a feed");
                continue;
            }
            Err(error) => {
                if candidate.found == Found::Announced {
                    eprintln!("{}: announced by {url}, but {error}", candidate.url);
                }
                continue;
            }
        };
        match parse_feed(
            &fetched.body,
            fetched.content_type.as_deref(),
            Some(&fetched.final_url),
        ) {
            Ok(feed) => found.push(Discovered {
                title: feed.title.clone().or_else(|| candidate.title.clone()),
                entries: feed.entries.len(),
                candidate,
            }),
            Err(error) => {
                if candidate.found == Found::Announced {
                    eprintln!("{}: announced by {url}, but {error}", candidate.url);
                }
            }
        }
    }
    Ok(found)
}

/// Prints what discovery found as `[[feed]]` tables, or says it found none.
pub fn print_discovered(url: &str, found: &[Discovered]) -> anyhow::Result<()> {
    if found.is_empty() {
        bail!("{url}: no feed announced, and none at the usual paths");
    }
    for feed in found {
        print!("{}", discovered_table(feed));
    }
    Ok(())
}

/// `wirewatch feeds add URL --into FEEDS.toml`: the first feed discovery
/// finds at `url`, appended to the file unless it is already listed.
pub async fn add(url: &str, into: &Path, config: Option<&Path>) -> anyhow::Result<()> {
    let found = discover(url, config).await?;
    let Some(first) = found.first() else {
        bail!("{url}: no feed announced, and none at the usual paths");
    };
    let known = if into.exists() {
        listed_urls(into)?
    } else {
        Vec::new()
    };
    if known.contains(&first.candidate.url.to_string()) {
        eprintln!(
            "{}: {} is already listed",
            into.display(),
            first.candidate.url
        );
        return Ok(());
    }
    append(into, &discovered_table(first), &format!("added from {url}"))?;
    eprintln!("{}: added {}", into.display(), first.candidate.url);
    Ok(())
}

fn discovered_table(feed: &Discovered) -> String {
    let how = match feed.candidate.found {
        Found::Announced => "announced by the page",
        Found::UsualPath => "at a usual path (not announced)",
    };
    feed_table(
        &ListedFeed {
            url: feed.candidate.url.clone(),
            title: feed.title.clone(),
            site: None,
            tags: Vec::new(),
        },
        Some(&format!("{} entries, {how}", feed.entries)),
    )
}

/// The HTTP client of the config when one is given (its user agent, limits
/// and private-address allowances), else the defaults.
fn client(config: Option<&Path>) -> anyhow::Result<HttpClient> {
    let options = match config {
        Some(path) => {
            Config::load(path)
                .map_err(|error| anyhow::anyhow!("{error}"))?
                .http
        }
        None => HttpOptions {
            min_host_delay: std::time::Duration::ZERO,
            ..HttpOptions::default()
        },
    };
    HttpClient::new(options).map_err(|error| anyhow::anyhow!("{error}"))
}

/// One `[[feed]]` table, values quoted as TOML strings.
fn feed_table(feed: &ListedFeed, comment: Option<&str>) -> String {
    let quote = |text: &str| toml::Value::String(text.to_owned()).to_string();
    let mut table = String::from("\n");
    if let Some(comment) = comment {
        table.push_str(&format!("# {comment}\n"));
    }
    table.push_str(&format!("[[feed]]\nurl = {}\n", quote(feed.url.as_str())));
    if let Some(title) = &feed.title {
        table.push_str(&format!("title = {}\n", quote(title)));
    }
    if !feed.tags.is_empty() {
        let tags: Vec<String> = feed.tags.iter().map(|tag| quote(tag)).collect();
        table.push_str(&format!("tags = [{}]\n", tags.join(", ")));
    }
    table
}

/// The `url` of every `[[feed]]` in a feed file.
fn listed_urls(path: &Path) -> anyhow::Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: toml::Table = text.parse().map_err(|error: toml::de::Error| {
        anyhow::anyhow!("{}: {}", path.display(), error.message())
    })?;
    let urls = value
        .get("feed")
        .and_then(toml::Value::as_array)
        .map(|feeds| {
            feeds
                .iter()
                .filter_map(|feed| feed.get("url").and_then(toml::Value::as_str))
                .filter_map(|url| Url::parse(url).ok())
                .map(|url| url.to_string())
                .collect()
        })
        .unwrap_or_default();
    Ok(urls)
}

/// Appends `tables` to the feed file at `path` (made if missing), under a
/// comment saying where they came from.
fn append(path: &Path, tables: &str, origin: &str) -> anyhow::Result<()> {
    if tables.is_empty() {
        return Ok(());
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    write!(file, "\n# {origin}\n{tables}")
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
