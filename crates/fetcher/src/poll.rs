//! Polling: one task per feed, each fetching on its own schedule, finding
//! new items, handing them to an [`ItemSink`], and recording them as seen only
//! once the sink accepted them.
//!
//! A slow or failing feed never delays the others: each feed has its own
//! task, requests are bounded by a global and a per-host semaphore, and every
//! request has connect and total timeouts. Failures back off exponentially up
//! to a cap and are logged once per failure streak. What goes wrong with
//! single items (fields cut to their caps, redirector links that do not
//! resolve) is logged once per feed and poll, with a count and the first
//! example: a feed of 100,000 broken items is one line, not 100,000.
//!
//! A feed a WebSub hub pushes is fed the same way: [`Poller::ingest_pushed`]
//! runs the pushed body through the parse, dedup and seen-set path of a
//! poll, and while pushes cover a feed ([`Poller::cover_by_push`]) its
//! polls are spaced by the slower fallback interval, a safety net.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;
use wirewatch_model::{ArticleId, FeedItem, FeedRef, SCHEMA_VERSION};

use crate::http::{FeedResponse, FetchError, HttpClient};
use crate::parse::{parse_feed, ParsedEntry, ParsedFeed};
use crate::schedule::{self, Adaptive, Bounds};
use crate::state::{FeedStatus, StateError, StateStore};
use crate::websub::{self, Discovery};

/// One feed to poll, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedSpec {
    pub url: Url,
    pub title: Option<String>,
    pub tags: Vec<String>,
    /// How often to poll when nothing else says otherwise.
    pub interval: Duration,
    /// Extra request headers (authorization, cookies, ...).
    pub headers: Vec<(String, String)>,
    /// Whether to subscribe to the hub the feed names (WebSub), when the
    /// subscriber runs.
    pub websub: bool,
}

/// Scheduling bounds shared by every feed.
#[derive(Clone, Debug)]
pub struct PollOptions {
    pub min_interval: Duration,
    pub max_interval: Duration,
    /// Longest wait after repeated failures.
    pub max_backoff: Duration,
    /// Fraction of the interval removed at random (0.1 = up to 10% sooner).
    pub jitter: f64,
    /// Whether the observed publishing rate may shorten or stretch a
    /// feed's interval.
    pub adaptive: Adaptive,
    /// Items published longer ago than this are recorded as seen without
    /// being emitted (keeps the first poll of a new feed from flooding).
    pub max_item_age: Option<Duration>,
    pub max_concurrent_requests: usize,
    pub max_concurrent_requests_per_host: usize,
    /// How long a story stays in the seen-set.
    pub seen_retention: Duration,
    /// Hosts whose item links only redirect to the story (feed proxies,
    /// link shorteners): resolved before dedup, so a story reached through
    /// one and directly from another feed is one article.
    pub redirector_hosts: Vec<String>,
    /// Keep in each feed's status the seen-set keys of the items its last
    /// document listed ([`FeedStatus::feed_keys`]), for a fetcher that
    /// shares its feeds with others.
    pub keep_feed_keys: bool,
}

/// Most keys [`FeedStatus::feed_keys`] keeps (the newest items'): two per
/// item, so a document of 250 items.
pub const MAX_FEED_KEYS: usize = 500;

/// The redirectors known by default.
pub fn default_redirector_hosts() -> Vec<String> {
    [
        "feedproxy.google.com",
        "feeds.feedburner.com",
        "feedburner.google.com",
        "rss.feedsportal.com",
        "dlvr.it",
        "trib.al",
        "ow.ly",
        "bit.ly",
        "t.co",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

impl Default for PollOptions {
    fn default() -> PollOptions {
        PollOptions {
            min_interval: Duration::from_secs(60),
            max_interval: Duration::from_secs(6 * 3600),
            max_backoff: Duration::from_secs(6 * 3600),
            jitter: 0.1,
            adaptive: Adaptive::default(),
            max_item_age: Some(Duration::from_secs(7 * 24 * 3600)),
            max_concurrent_requests: 64,
            max_concurrent_requests_per_host: 2,
            seen_retention: Duration::from_secs(90 * 24 * 3600),
            redirector_hosts: default_redirector_hosts(),
            keep_feed_keys: false,
        }
    }
}

/// Where new items go (the bus, in the pipeline).
#[async_trait]
pub trait ItemSink: Send + Sync {
    /// Resolves once the item is safely handed on; an error leaves the item
    /// unseen, so the next poll offers it again.
    async fn accept(&self, item: FeedItem) -> Result<(), String>;

    /// Makes every item accepted so far durable. A poll calls it before it
    /// records its items as seen; a sink whose `accept` is durable already
    /// (a Kafka acknowledgement) keeps this default.
    async fn sync(&self) -> Result<(), String> {
        Ok(())
    }
}

/// Told each feed's status after a poll or push of it settled: the items
/// it covers are handed on and recorded as seen by then (the feed-state
/// table of shared fetchers).
#[async_trait]
pub trait FeedStateSink: Send + Sync {
    async fn settled(&self, feed: &FeedSpec, status: &FeedStatus);
}

/// Told what polls learn about a feed's WebSub hub, and which feeds stop
/// (the WebSub subscriber).
pub trait FeedWatcher: Send + Sync {
    /// A poll of `feed` read the document; `hub` is the hub it names.
    fn polled(&self, feed: &FeedSpec, hub: Option<Discovery>);
    /// `feed_url` left the feed list.
    fn removed(&self, feed_url: &str);
}

/// Why a pushed body was not taken in.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("{0}: not in the feed list")]
    UnknownFeed(String),
    #[error("{feed}: {message}")]
    NotAFeed { feed: String, message: String },
    #[error("{feed}: {message}")]
    Emit { feed: String, message: String },
    #[error(transparent)]
    State(#[from] StateError),
}

/// What one poll of one feed did.
#[derive(Debug, Default, PartialEq)]
pub struct PollOutcome {
    pub emitted: usize,
    pub skipped_old: usize,
    pub not_modified: bool,
    pub error: Option<String>,
    /// When to poll next.
    pub next_in: Duration,
}

/// Why polling could not even start.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    State(#[from] StateError),
}

/// Polls feeds. Share it with `Arc`.
pub struct Poller {
    http: HttpClient,
    store: StateStore,
    options: PollOptions,
    sink: Arc<dyn ItemSink>,
    requests: Arc<Semaphore>,
    /// Set when `run` is told to stop: polls waiting for permits give up.
    stopping: CancellationToken,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Keys emitted by polls still running, not yet committed to the
    /// seen-set: a story in two feeds polled at once is emitted once.
    uncommitted: Mutex<std::collections::HashSet<String>>,
    /// The feeds running now, by URL (what a push is matched against).
    specs: Mutex<HashMap<String, FeedSpec>>,
    /// Feeds whose pushes are live -> the interval their polls keep.
    pushed: Mutex<HashMap<String, Duration>>,
    /// Wakes a feed's task to poll at once (its pushes stopped).
    wakeups: Mutex<HashMap<String, Arc<Notify>>>,
    /// Held while a feed's status is read, changed and written, so a push
    /// and a poll of one feed do not overwrite each other's counts.
    feed_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    watcher: std::sync::OnceLock<Arc<dyn FeedWatcher>>,
    state_sink: std::sync::OnceLock<Arc<dyn FeedStateSink>>,
    /// Feed URL -> its tasks still running (a task told to stop is here
    /// until its poll in progress finished).
    active: Mutex<HashMap<String, usize>>,
}

impl Poller {
    pub fn new(
        http: HttpClient,
        store: StateStore,
        options: PollOptions,
        sink: Arc<dyn ItemSink>,
    ) -> Poller {
        let requests = Arc::new(Semaphore::new(options.max_concurrent_requests.max(1)));
        Poller {
            http,
            store,
            options,
            sink,
            requests,
            hosts: Mutex::default(),
            uncommitted: Mutex::default(),
            stopping: CancellationToken::new(),
            specs: Mutex::default(),
            pushed: Mutex::default(),
            wakeups: Mutex::default(),
            feed_locks: Mutex::default(),
            watcher: std::sync::OnceLock::new(),
            state_sink: std::sync::OnceLock::new(),
            active: Mutex::default(),
        }
    }

    /// Sets who hears about hubs and removed feeds (once; later calls are
    /// ignored).
    pub fn set_watcher(&self, watcher: Arc<dyn FeedWatcher>) {
        let _ = self.watcher.set(watcher);
    }

    /// Sets who is told each feed's settled status (once; later calls are
    /// ignored).
    pub fn set_state_sink(&self, sink: Arc<dyn FeedStateSink>) {
        let _ = self.state_sink.set(sink);
    }

    /// Waits until no task of the feeds in `urls` runs (they left the
    /// list, and a poll in progress finished and settled), or `limit`
    /// passed; true when they all stopped.
    pub async fn wait_stopped(&self, urls: &[String], limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let running = {
                let active = self.active.lock().expect("active feeds lock");
                urls.iter().any(|url| active.contains_key(url))
            };
            if !running {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn tell_settled(&self, feed: &FeedSpec, status: &FeedStatus) {
        if let Some(sink) = self.state_sink.get() {
            sink.settled(feed, status).await;
        }
    }

    /// Marks `feed_url` as covered by pushes (its polls then wait at least
    /// `fallback`), or with `None` as no longer covered: its task then
    /// polls at once and goes back to its own interval.
    pub fn cover_by_push(&self, feed_url: &str, fallback: Option<Duration>) {
        let was_covered = {
            let mut pushed = self.pushed.lock().expect("pushed feeds lock");
            match fallback {
                Some(fallback) => pushed.insert(feed_url.to_owned(), fallback).is_some(),
                None => pushed.remove(feed_url).is_some(),
            }
        };
        if fallback.is_none() && was_covered {
            if let Some(wakeup) = self.wakeups.lock().expect("wakeups lock").get(feed_url) {
                wakeup.notify_one();
            }
        }
    }

    /// The running feed with this URL, if any.
    pub fn running_feed(&self, feed_url: &str) -> Option<FeedSpec> {
        self.specs
            .lock()
            .expect("feed specs lock")
            .get(feed_url)
            .cloned()
    }

    fn feed_lock(&self, feed_url: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.feed_locks.lock().expect("feed locks lock");
        Arc::clone(locks.entry(feed_url.to_owned()).or_default())
    }

    /// Takes in a feed body a hub pushed for `feed_url`: parsed, deduped
    /// and recorded exactly as a polled body is. The feed's schedule and
    /// validators are left alone (a push is not a poll). Returns how many
    /// new items were emitted.
    pub async fn ingest_pushed(
        &self,
        feed_url: &str,
        body: &[u8],
        content_type: Option<&str>,
    ) -> Result<usize, PushError> {
        let feed = self
            .running_feed(feed_url)
            .ok_or_else(|| PushError::UnknownFeed(feed_url.to_owned()))?;
        let parsed = parse_feed(body, content_type, Some(&feed.url)).map_err(|error| {
            PushError::NotAFeed {
                feed: feed_url.to_owned(),
                message: error.to_string(),
            }
        })?;
        let lock = self.feed_lock(feed_url);
        let _held = lock.lock().await;
        let mut status = self.store.feed_status(feed_url)?;
        let mut outcome = PollOutcome::default();
        let mut notes = ItemNotes::default();
        let emitted = self
            .emit_new(&feed, &parsed, &mut status, &mut outcome, &mut notes)
            .await;
        notes.log(feed_url);
        self.store.set_feed_status(feed_url, &status)?;
        self.tell_settled(&feed, &status).await;
        emitted.map_err(|message| PushError::Emit {
            feed: feed_url.to_owned(),
            message,
        })?;
        Ok(outcome.emitted)
    }

    pub fn store(&self) -> &StateStore {
        &self.store
    }

    /// The permits of the feed's server: host and port, the same key the
    /// client's request spacing uses, so a hung server holds only its own.
    fn host_permits(&self, url: &Url) -> Arc<Semaphore> {
        let host = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or_default()
        );
        let mut hosts = self.hosts.lock().expect("host table lock");
        Arc::clone(hosts.entry(host).or_insert_with(|| {
            Arc::new(Semaphore::new(
                self.options.max_concurrent_requests_per_host.max(1),
            ))
        }))
    }

    /// Polls `feed` once: fetch, parse, emit new items, update its status.
    pub async fn poll_once(&self, feed: &FeedSpec) -> Result<PollOutcome, PollError> {
        let feed_key = feed.url.as_str();
        let status_before = self.store.feed_status(feed_key)?;
        // Shutting down: a poll still waiting for its turn does not start
        // (and leaves the feed's status as it was).
        let Some(fetched) = self.fetch_when_permitted(feed, &status_before).await else {
            return Ok(PollOutcome::default());
        };
        // Read again under the feed's lock: a push may have changed it
        // while the request ran.
        let lock = self.feed_lock(feed_key);
        let _held = lock.lock().await;
        let mut status = self.store.feed_status(feed_key)?;
        let now = Utc::now();
        let mut outcome = PollOutcome::default();
        let polled = self
            .read_response(feed, fetched, &mut status, &mut outcome)
            .await;
        let settled = settle(
            feed_key,
            &mut status,
            polled,
            feed.interval,
            now,
            &self.policy(),
        );
        settled.log(feed_key, &status);
        outcome.error = settled.error;
        outcome.next_in = settled.next_in;
        self.store.set_feed_status(feed_key, &status)?;
        self.tell_settled(feed, &status).await;
        Ok(outcome)
    }

    /// The feed's request, once its server's permit and a global one are
    /// held; `None` when the poller is stopping first.
    async fn fetch_when_permitted(
        &self,
        feed: &FeedSpec,
        status: &FeedStatus,
    ) -> Option<Result<FeedResponse, FetchError>> {
        // The server's permit first: a task waiting for a busy or hung
        // server must not sit on a global permit meanwhile, or one bad
        // server with many feeds would starve every other feed.
        let host = self.host_permits(&feed.url);
        let permits = async {
            let host_permit = host.acquire().await.expect("semaphore open");
            let global_permit = self.requests.acquire().await.expect("semaphore open");
            (host_permit, global_permit)
        };
        let _permits = tokio::select! {
            permits = permits => permits,
            () = self.stopping.cancelled() => return None,
        };
        Some(
            self.http
                .fetch_feed(&feed.url, &status.validators, &feed.headers)
                .await,
        )
    }

    /// Parses a fetched feed and hands its new items on (updating the
    /// seen-set, the item counters and, when every item was accepted, the
    /// validators); says what the poll came to.
    async fn read_response(
        &self,
        feed: &FeedSpec,
        fetched: Result<FeedResponse, FetchError>,
        status: &mut FeedStatus,
        outcome: &mut PollOutcome,
    ) -> Polled {
        let feed_key = feed.url.as_str();
        match fetched {
            Ok(FeedResponse::NotModified {
                fresh_for,
                moved_to,
            }) => {
                outcome.not_modified = true;
                status.not_modified += 1;
                Polled {
                    result: Ok(()),
                    advertised_interval: fresh_for,
                    moved_to: moved_to.map(String::from),
                }
            }
            Ok(FeedResponse::Fetched(fetched)) => {
                let moved_to = fetched
                    .moved_to
                    .as_ref()
                    .map(std::string::ToString::to_string);
                match parse_feed(
                    &fetched.body,
                    fetched.content_type.as_deref(),
                    Some(&fetched.final_url),
                ) {
                    Ok(parsed) => {
                        if let Some(watcher) = self.watcher.get() {
                            if matches!(feed.url.scheme(), "http" | "https") {
                                let hub = websub::discover(
                                    &fetched.link_headers,
                                    &parsed,
                                    &fetched.final_url,
                                );
                                watcher.polled(feed, hub);
                            }
                        }
                        let mut notes = ItemNotes::default();
                        let emitted = self
                            .emit_new(feed, &parsed, status, outcome, &mut notes)
                            .await;
                        notes.log(feed_key);
                        // Keep the old validators when an item was refused, so
                        // the next poll fetches the document again.
                        if emitted.is_ok() {
                            status.validators = fetched.validators.clone();
                        }
                        Polled {
                            result: emitted,
                            advertised_interval: fetched.fresh_for.max(feed_interval(&parsed)),
                            moved_to,
                        }
                    }
                    Err(error) => Polled {
                        result: Err(format!("{feed_key}: {error}")),
                        advertised_interval: None,
                        moved_to,
                    },
                }
            }
            Err(error) => Polled {
                advertised_interval: error.retry_after(),
                result: Err(error.to_string()),
                moved_to: None,
            },
        }
    }

    async fn emit_new(
        &self,
        feed: &FeedSpec,
        parsed: &ParsedFeed,
        status: &mut FeedStatus,
        outcome: &mut PollOutcome,
        notes: &mut ItemNotes,
    ) -> Result<(), String> {
        let now = Utc::now();
        let oldest_wanted = self
            .options
            .max_item_age
            .and_then(|age| chrono::Duration::from_std(age).ok())
            .map(|age| now - age);
        // Feeds list newest first; emit oldest first so downstream sees
        // stories in the order they were published.
        // Keys seen in this poll are committed together at its end (one
        // fsync per poll, not per item); each item is handed to the sink
        // before its keys are queued, so a crash in between emits it again
        // rather than losing it.
        let mut seen_now = SeenThisPoll::default();
        // Every key of the document's items that is seen once this poll
        // committed (for `keep_feed_keys`).
        let mut document_keys: Vec<String> = Vec::new();
        let emitted: Result<(), String> = async {
            for entry in parsed.entries.iter().rev() {
                // The parser keeps empty entries (an `<item/>`) so counts match
                // the document; there is no story in them to emit.
                let is_empty = [&entry.link, &entry.title, &entry.summary]
                    .iter()
                    .all(|field| field.as_deref().is_none_or(|text| text.trim().is_empty()));
                if is_empty {
                    continue;
                }
                let mut item = feed_item(feed, parsed, entry);
                let guid_key = entry
                    .id
                    .as_deref()
                    .map(|guid| format!("guid\u{0}{}\u{0}{guid}", feed.url));
                let mut owned_keys = vec![item.id.as_str().to_owned()];
                owned_keys.extend(guid_key);
                match self.seen_count(&owned_keys)? {
                    0 => {}
                    count => {
                        // Known under another key (a new guid on a known link,
                        // a known guid with a new link): remember this one too,
                        // so the story stays known whichever key changes next.
                        if count < owned_keys.len() {
                            self.note_seen(&mut seen_now, &owned_keys);
                        }
                        document_keys.extend(owned_keys);
                        continue;
                    }
                }
                // A link through a redirector says nothing about the story: the
                // same story reached directly from another feed must get the
                // same id. Resolved only for items not seen yet.
                if let Some(resolved) = self.resolve_redirector(&item, notes).await {
                    let resolved_id = ArticleId::from_url(&resolved);
                    if resolved_id != item.id {
                        owned_keys.push(resolved_id.as_str().to_owned());
                        item.id = resolved_id;
                        item.link = Some(resolved.to_string());
                        if self.seen_count(&owned_keys[owned_keys.len() - 1..])? > 0 {
                            self.note_seen(&mut seen_now, &owned_keys);
                            document_keys.extend(owned_keys);
                            continue;
                        }
                    }
                }
                let when = item.published.or(item.updated);
                if let (Some(cutoff), Some(when)) = (oldest_wanted, when) {
                    if when < cutoff {
                        self.note_seen(&mut seen_now, &owned_keys);
                        document_keys.extend(owned_keys);
                        outcome.skipped_old += 1;
                        continue;
                    }
                }
                if !entry.truncated.is_empty() {
                    notes.truncated.note(|| {
                        let which = entry.link.as_deref().or(entry.id.as_deref());
                        format!(
                            "{} ({})",
                            example(which.unwrap_or("an item without link or id")),
                            entry.truncated.join(", ")
                        )
                    });
                }
                self.sink.accept(item.clone()).await?;
                self.note_seen(&mut seen_now, &owned_keys);
                document_keys.extend(owned_keys);
                outcome.emitted += 1;
                status.items_emitted += 1;
                if let Some(when) = when {
                    status.recent_item_times.push(when);
                }
            }
            Ok(())
        }
        .await;
        // The sink's records of the items first, then the seen-set: an
        // item the sink could not make durable stays unseen.
        let synced = self.sink.sync().await;
        let committed = match synced {
            Ok(()) => self.commit_seen(&seen_now, now),
            Err(error) => {
                self.forget_uncommitted(&seen_now);
                Err(error)
            }
        };
        emitted.and(committed)?;
        if self.options.keep_feed_keys {
            // Oldest first: the newest items' keys are kept.
            let keep_from = document_keys.len().saturating_sub(MAX_FEED_KEYS);
            status.feed_keys = document_keys.split_off(keep_from);
        }
        let keep_from = status.recent_item_times.len().saturating_sub(20);
        status.recent_item_times.drain(..keep_from);
        Ok(())
    }

    /// Where an item's link leads when it points at a known redirector:
    /// redirects are followed while they stay on redirectors, and the
    /// first other URL is the story's (not fetched here). `None` when the
    /// link is not a redirector's or cannot be resolved (it is then kept).
    async fn resolve_redirector(&self, item: &FeedItem, notes: &mut ItemNotes) -> Option<Url> {
        let is_redirector = |url: &Url| {
            url.host_str().is_some_and(|host| {
                self.options
                    .redirector_hosts
                    .iter()
                    .any(|redirector| host.eq_ignore_ascii_case(redirector))
            })
        };
        let link = Url::parse(item.link.as_deref()?).ok()?;
        let mut current = link.clone();
        for _ in 0..=self.http.options().max_redirects {
            if !is_redirector(&current) {
                return (current != link).then_some(current);
            }
            match self.http.redirect_target(&current).await {
                Ok(Some(next)) => current = next,
                Ok(None) => return None,
                Err(error) => {
                    notes
                        .unresolved_redirects
                        .note(|| format!("{}: {error}", example(link.as_str())));
                    return None;
                }
            }
        }
        None
    }

    /// How many of `keys` are in the seen-set or emitted by a running poll.
    fn seen_count(&self, keys: &[String]) -> Result<usize, String> {
        let (this_poll, stored): (Vec<&String>, Vec<&String>) = {
            let uncommitted = self.uncommitted.lock().expect("uncommitted keys lock");
            keys.iter().partition(|key| uncommitted.contains(*key))
        };
        let stored: Vec<&str> = stored.into_iter().map(String::as_str).collect();
        let in_store = self
            .store
            .seen_count_of(&stored)
            .map_err(|error| error.to_string())?;
        Ok(this_poll.len() + in_store)
    }

    /// Commits the keys one poll saw, in one durable write.
    fn commit_seen(
        &self,
        seen_now: &SeenThisPoll,
        now: chrono::DateTime<Utc>,
    ) -> Result<(), String> {
        if seen_now.keys.is_empty() {
            return Ok(());
        }
        let keys: Vec<&str> = seen_now.keys.iter().map(String::as_str).collect();
        let committed = self
            .store
            .mark_seen(&keys, now)
            .map_err(|error| error.to_string());
        // Committed, or failed (the poll then fails and the next one emits
        // these again): either way no longer this poll's to hold.
        self.forget_uncommitted(seen_now);
        committed
    }

    fn forget_uncommitted(&self, seen_now: &SeenThisPoll) {
        let mut uncommitted = self.uncommitted.lock().expect("uncommitted keys lock");
        for key in &seen_now.keys {
            uncommitted.remove(key);
        }
    }

    /// Queues `keys` for the poll's commit, visible to other polls now.
    fn note_seen(&self, seen_now: &mut SeenThisPoll, keys: &[String]) {
        let mut uncommitted = self.uncommitted.lock().expect("uncommitted keys lock");
        for key in keys {
            if seen_now.keys.insert(key.clone()) {
                uncommitted.insert(key.clone());
            }
        }
    }

    fn policy(&self) -> Policy {
        Policy {
            bounds: Bounds {
                min_interval: self.options.min_interval,
                max_interval: self.options.max_interval,
                max_backoff: self.options.max_backoff,
            },
            jitter: self.options.jitter,
            adaptive: self.options.adaptive,
        }
    }

    /// Polls every feed until `shutdown` is cancelled; returns when every
    /// feed task has stopped (in-flight polls finish first).
    pub async fn run(self: Arc<Self>, feeds: Vec<FeedSpec>, shutdown: CancellationToken) {
        let (_keep, lists) = watch::channel(feeds);
        self.run_with_reloads(lists, shutdown).await;
    }

    /// [`Poller::run`] over a feed list that can change while it runs: each
    /// new list on `lists` starts the feeds it adds, stops those it drops
    /// (after a poll in progress has finished and handed its items on), and
    /// restarts those whose spec changed (interval, headers, title, tags),
    /// keeping their stored schedule. Feeds that did not change are left
    /// alone.
    pub async fn run_with_reloads(
        self: Arc<Self>,
        mut lists: watch::Receiver<Vec<FeedSpec>>,
        shutdown: CancellationToken,
    ) {
        let mut tasks = JoinSet::new();
        let retention = chrono::Duration::from_std(self.options.seen_retention).ok();
        if let Some(retention) = retention {
            match self.store.prune_seen(Utc::now() - retention) {
                Ok(removed) if removed > 0 => tracing::info!(removed, "pruned old seen entries"),
                Ok(_) => {}
                Err(error) => tracing::warn!(error = %error, "pruning the seen-set failed"),
            }
        }
        let mut running: HashMap<String, (FeedSpec, CancellationToken)> = HashMap::new();
        let initial = lists.borrow_and_update().clone();
        for feed in initial {
            self.specs
                .lock()
                .expect("feed specs lock")
                .insert(feed.url.to_string(), feed.clone());
            let token = shutdown.child_token();
            tasks.spawn(Arc::clone(&self).feed_loop(feed.clone(), token.clone()));
            running.insert(feed.url.to_string(), (feed, token));
        }
        let mut lists_open = true;
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                changed = lists.changed(), if lists_open => {
                    if changed.is_err() {
                        lists_open = false;
                        continue;
                    }
                    let list = lists.borrow_and_update().clone();
                    let change = self.apply_list(&mut running, list, &shutdown, &mut tasks);
                    tracing::info!(
                        added = change.added,
                        removed = change.removed,
                        changed = change.changed,
                        feeds = running.len(),
                        "feed list reloaded"
                    );
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        // Polls waiting for their permits give up too.
        self.stopping.cancel();
        while tasks.join_next().await.is_some() {}
        if let Err(error) = self.store.flush() {
            tracing::warn!(error = %error, "writing the last feed statuses failed");
        }
    }

    /// Brings the running feed tasks in line with `list`.
    fn apply_list(
        self: &Arc<Self>,
        running: &mut HashMap<String, (FeedSpec, CancellationToken)>,
        list: Vec<FeedSpec>,
        shutdown: &CancellationToken,
        tasks: &mut JoinSet<()>,
    ) -> ListChange {
        let mut change = ListChange::default();
        let wanted: HashMap<String, FeedSpec> = list
            .into_iter()
            .map(|feed| (feed.url.to_string(), feed))
            .collect();
        let mut removed = Vec::new();
        running.retain(|url, (_, token)| {
            let keep = wanted.contains_key(url);
            if !keep {
                token.cancel();
                change.removed += 1;
                removed.push(url.clone());
            }
            keep
        });
        {
            let mut specs = self.specs.lock().expect("feed specs lock");
            specs.retain(|url, _| wanted.contains_key(url));
            specs.extend(wanted.iter().map(|(url, feed)| (url.clone(), feed.clone())));
        }
        if let Some(watcher) = self.watcher.get() {
            for url in &removed {
                watcher.removed(url);
            }
        }
        for (url, feed) in wanted {
            match running.get(&url) {
                Some((spec, _)) if *spec == feed => continue,
                Some((_, token)) => {
                    token.cancel();
                    change.changed += 1;
                }
                None => change.added += 1,
            }
            let token = shutdown.child_token();
            tasks.spawn(Arc::clone(self).feed_loop(feed.clone(), token.clone()));
            running.insert(url, (feed, token));
        }
        change
    }

    /// One feed's task: poll, wait as the schedule says, until `stop`.
    async fn feed_loop(self: Arc<Self>, feed: FeedSpec, stop: CancellationToken) {
        let _active = ActiveFeed::enter(&self.active, feed.url.as_str());
        // Resume the schedule stored by the last run.
        let mut delay = self
            .store
            .feed_status(feed.url.as_str())
            .ok()
            .and_then(|status| status.next_poll)
            .and_then(|next| (next - Utc::now()).to_std().ok())
            .unwrap_or(Duration::ZERO)
            .min(self.options.max_interval);
        let wakeup = Arc::clone(
            self.wakeups
                .lock()
                .expect("wakeups lock")
                .entry(feed.url.to_string())
                .or_default(),
        );
        loop {
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = wakeup.notified() => {
                    tracing::info!(feed = %feed.url, "pushes stopped; polling again at the feed's interval");
                }
                () = stop.cancelled() => return,
            }
            if stop.is_cancelled() {
                return;
            }
            delay = match self.poll_once(&feed).await {
                Ok(outcome) => {
                    if outcome.emitted > 0 {
                        tracing::info!(feed = %feed.url, new_items = outcome.emitted, "new items");
                    }
                    // Pushed feeds are polled as a safety net only.
                    let fallback = self
                        .pushed
                        .lock()
                        .expect("pushed feeds lock")
                        .get(feed.url.as_str())
                        .copied();
                    match fallback {
                        Some(fallback) => outcome.next_in.max(fallback),
                        None => outcome.next_in,
                    }
                }
                Err(error) => {
                    tracing::error!(feed = %feed.url, error = %error, "state store failure");
                    self.options.max_backoff.min(Duration::from_secs(60))
                }
            };
        }
    }
}

/// A feed task's entry in [`Poller::active`], removed when the task ends.
struct ActiveFeed<'a> {
    active: &'a Mutex<HashMap<String, usize>>,
    url: String,
}

impl<'a> ActiveFeed<'a> {
    fn enter(active: &'a Mutex<HashMap<String, usize>>, url: &str) -> ActiveFeed<'a> {
        *active
            .lock()
            .expect("active feeds lock")
            .entry(url.to_owned())
            .or_insert(0) += 1;
        ActiveFeed {
            active,
            url: url.to_owned(),
        }
    }
}

impl Drop for ActiveFeed<'_> {
    fn drop(&mut self) {
        let mut active = self.active.lock().expect("active feeds lock");
        if let Some(count) = active.get_mut(&self.url) {
            *count -= 1;
            if *count == 0 {
                active.remove(&self.url);
            }
        }
    }
}

/// How a reload changed the running feeds.
#[derive(Debug, Default)]
struct ListChange {
    added: usize,
    removed: usize,
    changed: usize,
}

/// What happened to single items during one poll of one feed, logged as
/// one line per kind when the poll is done.
#[derive(Debug, Default)]
struct ItemNotes {
    /// Items emitted with a field cut to its cap (`parse::MAX_TITLE_CHARS`
    /// and the others).
    truncated: Tally,
    /// Redirector links that could not be followed (the link is kept).
    unresolved_redirects: Tally,
}

/// How many times something happened, and the first time it did.
#[derive(Debug, Default)]
struct Tally {
    count: usize,
    first: Option<String>,
}

impl Tally {
    fn note(&mut self, describe: impl FnOnce() -> String) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(describe());
        }
    }
}

impl ItemNotes {
    fn log(&self, feed_key: &str) {
        if let Some(first) = &self.truncated.first {
            tracing::warn!(feed = %feed_key, items = self.truncated.count, first = %first, "item fields over the length caps were cut");
        }
        if let Some(first) = &self.unresolved_redirects.first {
            tracing::debug!(feed = %feed_key, items = self.unresolved_redirects.count, first = %first, "redirector links not resolved; kept as they are");
        }
    }
}

/// A link or id short enough for a log line (they are not capped).
fn example(text: &str) -> String {
    const MAX_EXAMPLE_CHARS: usize = 200;
    match text.char_indices().nth(MAX_EXAMPLE_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

/// The interval a feed document asks for (`<ttl>`, `sy:updatePeriod`).
fn feed_interval(parsed: &ParsedFeed) -> Option<Duration> {
    let ttl = parsed
        .ttl_minutes
        .map(|minutes| Duration::from_secs(u64::from(minutes) * 60));
    let syndication = parsed.update_interval_secs.map(Duration::from_secs);
    ttl.max(syndication)
}

/// Builds the message for one entry. The id is the canonical link's hash;
/// without a usable link, the feed URL and guid (or title).
pub fn feed_item(feed: &FeedSpec, parsed: &ParsedFeed, entry: &ParsedEntry) -> FeedItem {
    let link = entry
        .link
        .as_deref()
        .and_then(|link| Url::parse(link).ok())
        .filter(|link| matches!(link.scheme(), "http" | "https" | "file"));
    let id = match &link {
        Some(link) => ArticleId::from_url(link),
        None => ArticleId::from_key(&format!(
            "{}\n{}",
            feed.url,
            entry
                .id
                .as_deref()
                .or(entry.title.as_deref())
                .unwrap_or_default()
        )),
    };
    FeedItem {
        schema_version: SCHEMA_VERSION,
        id,
        feed: FeedRef {
            url: feed.url.to_string(),
            title: feed.title.clone().or_else(|| parsed.title.clone()),
            tags: feed.tags.clone(),
        },
        guid: entry.id.clone(),
        link: link.map(String::from).or_else(|| entry.link.clone()),
        title: entry.title.clone(),
        summary: entry.summary.clone(),
        published: entry.published,
        updated: entry.updated,
        authors: entry.authors.clone(),
        categories: entry.categories.clone(),
        lang: entry.lang.clone().or_else(|| parsed.lang.clone()),
        discovered_at: Utc::now(),
    }
}

/// What one poll came to, before the feed's status is updated.
#[derive(Debug)]
struct Polled {
    /// Done, or why not (the message names the feed).
    result: Result<(), String>,
    /// The interval the server or the feed asked for (Cache-Control,
    /// Expires, Retry-After, ttl, sy:update*).
    advertised_interval: Option<Duration>,
    /// Where a permanent redirect pointed, if one did.
    moved_to: Option<String>,
}

/// The seen-set keys of one poll, committed at its end.
#[derive(Default)]
struct SeenThisPoll {
    keys: std::collections::HashSet<String>,
}

/// The scheduling rules every feed shares.
#[derive(Clone, Copy, Debug)]
struct Policy {
    bounds: Bounds,
    jitter: f64,
    adaptive: Adaptive,
}

/// What a poll changed, for the poller's return value and its log.
#[derive(Debug, PartialEq)]
struct Settled {
    next_in: Duration,
    error: Option<String>,
    /// The failure streak that this success ended.
    recovered_after: Option<u32>,
    /// A new permanent move, to tell the operator about.
    newly_moved: bool,
}

impl Settled {
    fn log(&self, feed_key: &str, status: &FeedStatus) {
        if self.newly_moved {
            tracing::warn!(feed = %feed_key, moved_to = status.moved_to.as_deref().unwrap_or_default(), "feed moved permanently; update the feed list");
        }
        if let Some(failures) = self.recovered_after {
            tracing::info!(feed = %feed_key, failures, "feed recovered");
        }
        if let Some(message) = &self.error {
            if status.consecutive_failures == 1 {
                tracing::warn!(feed = %feed_key, error = %message, "feed poll failed; backing off");
            } else {
                tracing::debug!(feed = %feed_key, error = %message, failures = status.consecutive_failures, "feed still failing");
            }
        }
    }
}

/// The feed's status after a poll, and when to poll next: the failure
/// streak, last error or success, the recorded move, and the schedule.
/// Pure: no I/O, the clock comes in as `now`.
fn settle(
    feed_key: &str,
    status: &mut FeedStatus,
    polled: Polled,
    interval: Duration,
    now: chrono::DateTime<Utc>,
    policy: &Policy,
) -> Settled {
    status.last_fetch = Some(now);
    status.polls += 1;
    let newly_moved = polled.moved_to.is_some() && polled.moved_to != status.moved_to;
    // A move is forgotten only by a success that did not move.
    if polled.moved_to.is_some() || polled.result.is_ok() {
        status.moved_to = polled.moved_to;
    }
    let (next_in, error, recovered_after) = match polled.result {
        Ok(()) => {
            let recovered_after =
                (status.consecutive_failures > 0).then_some(status.consecutive_failures);
            status.consecutive_failures = 0;
            status.last_error = None;
            status.last_success = Some(now);
            let next_in = schedule::after_success(
                interval,
                polled.advertised_interval,
                &status.recent_item_times,
                now,
                policy.bounds,
                policy.adaptive,
            );
            (next_in, None, recovered_after)
        }
        Err(message) => {
            status.consecutive_failures += 1;
            status.total_failures += 1;
            status.last_error = Some(message.clone());
            let next_in = schedule::after_failure(
                interval,
                status.consecutive_failures,
                polled.advertised_interval,
                policy.bounds,
            );
            (next_in, Some(message), None)
        }
    };
    let next_in = schedule::jitter(next_in, policy.jitter, feed_key);
    status.next_poll = chrono::Duration::from_std(next_in)
        .ok()
        .map(|delay| now + delay);
    Settled {
        next_in,
        error,
        recovered_after,
        newly_moved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn policy() -> Policy {
        Policy {
            bounds: Bounds {
                min_interval: MINUTE,
                max_interval: 60 * MINUTE,
                max_backoff: 30 * MINUTE,
            },
            jitter: 0.0,
            adaptive: Adaptive::Faster,
        }
    }

    fn failed(message: &str) -> Polled {
        Polled {
            result: Err(message.to_owned()),
            advertised_interval: None,
            moved_to: None,
        }
    }

    fn succeeded(moved_to: Option<&str>) -> Polled {
        Polled {
            result: Ok(()),
            advertised_interval: None,
            moved_to: moved_to.map(String::from),
        }
    }

    /// Failures lengthen a streak and back off (doubling up to the cap);
    /// a success ends the streak, says how long it was, clears the error,
    /// and goes back to the configured interval; the next poll time is
    /// always `now` plus the delay returned.
    #[test]
    fn settle_backs_off_on_a_failure_streak_and_resets_on_success() {
        let mut status = FeedStatus::default();
        let now = Utc::now();
        let delays: Vec<Duration> = (1..=6)
            .map(|_| {
                let settled = settle(
                    "f",
                    &mut status,
                    failed("f: 503"),
                    5 * MINUTE,
                    now,
                    &policy(),
                );
                assert_eq!(settled.error.as_deref(), Some("f: 503"));
                assert_eq!(settled.recovered_after, None);
                assert_eq!(
                    status.next_poll,
                    Some(now + chrono::Duration::from_std(settled.next_in).unwrap())
                );
                settled.next_in
            })
            .collect();
        assert_eq!(
            delays,
            [5, 10, 20, 30, 30, 30].map(|minutes| minutes * MINUTE)
        );
        assert_eq!(status.consecutive_failures, 6);
        assert_eq!(status.total_failures, 6);
        assert_eq!(status.last_error.as_deref(), Some("f: 503"));
        assert_eq!(status.last_success, None);
        assert_eq!(status.last_fetch, Some(now));

        let later = now + chrono::Duration::minutes(30);
        let settled = settle(
            "f",
            &mut status,
            succeeded(None),
            5 * MINUTE,
            later,
            &policy(),
        );
        assert_eq!(settled.recovered_after, Some(6));
        assert_eq!(settled.error, None);
        assert_eq!(settled.next_in, 5 * MINUTE);
        assert_eq!(status.consecutive_failures, 0);
        assert_eq!(status.total_failures, 6);
        assert_eq!(status.last_error, None);
        assert_eq!(status.last_success, Some(later));
    }

    /// A permanent move is recorded (and reported once), kept through a
    /// failure that says nothing about it, and forgotten by a success that
    /// did not move.
    #[test]
    fn settle_records_a_move_until_a_success_without_one() {
        let mut status = FeedStatus::default();
        let now = Utc::now();
        let moved = Some("https://example.org/new.xml");
        assert!(settle("f", &mut status, succeeded(moved), MINUTE, now, &policy()).newly_moved);
        assert!(!settle("f", &mut status, succeeded(moved), MINUTE, now, &policy()).newly_moved);
        assert_eq!(status.moved_to.as_deref(), moved);
        settle(
            "f",
            &mut status,
            failed("f: timeout"),
            MINUTE,
            now,
            &policy(),
        );
        assert_eq!(status.moved_to.as_deref(), moved);
        settle("f", &mut status, succeeded(None), MINUTE, now, &policy());
        assert_eq!(status.moved_to, None);
    }

    #[test]
    fn same_link_gives_same_id_whatever_the_tracking() {
        let feed = FeedSpec {
            url: Url::parse("https://example.org/feed").unwrap(),
            title: None,
            tags: vec![],
            interval: Duration::from_secs(60),
            headers: vec![],
            websub: false,
        };
        let entry = |link: &str| ParsedEntry {
            id: Some("x".into()),
            link: Some(link.into()),
            ..ParsedEntry::default()
        };
        let parsed = ParsedFeed::default();
        let first = feed_item(
            &feed,
            &parsed,
            &entry("https://example.org/a?utm_source=rss"),
        );
        let second = feed_item(&feed, &parsed, &entry("https://www.example.org/a"));
        assert_eq!(first.id, second.id);
    }
}
