//! Prometheus metrics and health endpoints (`[metrics] listen = "host:port"`).
//!
//! `/metrics` serves the counters below, the latency histograms
//! ([`Latencies`], kept by `prometheus-client`) and per-feed gauges read
//! from the state store at scrape time; `/healthz` answers 200 while the process runs;
//! `/readyz` answers 200 once every stage has started and while the bus can
//! deliver (503 with the reasons, one per line, otherwise). With `[websub]`
//! on, `/websub/<id>` is the callback of one WebSub subscription: a hub's
//! GET verifies, its POST pushes a feed body (read up to the fetcher's feed
//! size cap, with a length or chunked). HTTP is hyper's (see [`serve`] for
//! the bounds on connections).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wirewatch_bus::{Bus, Shutdown};
use wirewatch_fetcher::websub::PushRefusal;
use wirewatch_fetcher::{FeedSpec, StateStore, Subscriber, VerifyAnswer};

use crate::dashboard::{Dashboard, FeedsReport, FlaggedQuery};

/// Every counter wirewatch exports, named in one place.
pub struct Metrics {
    pub ready: AtomicBool,
    pub items_published: Counter,
    pub articles_fetched: Counter,
    pub articles_feed_only: Counter,
    pub articles_classified: Counter,
    /// Articles the semantic layer scored (`[classifier.embeddings]`).
    pub semantic_applied: Counter,
    /// Articles left with the rules' verdict because the embeddings
    /// backend failed or timed out.
    pub semantic_fallbacks: Counter,
    pub outputs_written: Counter,
    /// Articles the local output had already written (redelivered, replayed).
    pub outputs_repeated: Counter,
    /// Items replayed from the journal at start (memory bus).
    pub items_replayed: Counter,
    pub dead_letters: Counter,
    /// WebSub pushes taken in.
    pub websub_pushes: Counter,
    /// reason -> WebSub pushes refused for it.
    pub websub_refused: Family<ReasonLabels, Counter>,
    /// Stories a webhook receiver accepted (2xx).
    pub webhook_delivered: Counter,
    /// Webhook attempts that failed (an error answer, a transport error, a
    /// timeout), retried or not.
    pub webhook_failed_attempts: Counter,
    /// Stories a webhook gave up on (refused, out of retries, backlog
    /// full), sent to the dead letters.
    pub webhook_dead_lettered: Counter,
    /// Stories a webhook had already delivered, or was delivering, and
    /// skipped.
    pub webhook_repeated: Counter,
    /// label -> articles flagged with it.
    pub flagged: Family<LabelLabels, Counter>,
    pub latencies: Latencies,
    /// What the status page shows beyond the state store.
    pub dashboard: Dashboard,
    /// Every counter above, for `/metrics`.
    registry: Registry,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut metrics = Metrics {
            ready: AtomicBool::new(false),
            items_published: Counter::default(),
            articles_fetched: Counter::default(),
            articles_feed_only: Counter::default(),
            articles_classified: Counter::default(),
            semantic_applied: Counter::default(),
            semantic_fallbacks: Counter::default(),
            outputs_written: Counter::default(),
            outputs_repeated: Counter::default(),
            items_replayed: Counter::default(),
            dead_letters: Counter::default(),
            websub_pushes: Counter::default(),
            webhook_delivered: Counter::default(),
            webhook_failed_attempts: Counter::default(),
            webhook_dead_lettered: Counter::default(),
            webhook_repeated: Counter::default(),
            websub_refused: Family::default(),
            flagged: Family::default(),
            latencies: Latencies::default(),
            dashboard: Dashboard::default(),
            registry: Registry::with_prefix("wirewatch"),
        };
        let mut registry = Registry::with_prefix("wirewatch");
        registry.register(
            "items_published",
            "feed items handed to the bus",
            metrics.items_published.clone(),
        );
        registry.register(
            "articles_fetched",
            "articles cleaned from their page",
            metrics.articles_fetched.clone(),
        );
        registry.register(
            "articles_feed_only",
            "articles classified from the feed summary (page unavailable)",
            metrics.articles_feed_only.clone(),
        );
        registry.register(
            "articles_classified",
            "articles classified",
            metrics.articles_classified.clone(),
        );
        registry.register(
            "semantic_applied",
            "articles scored by rules and embeddings",
            metrics.semantic_applied.clone(),
        );
        registry.register(
            "semantic_fallbacks",
            "articles classified by the rules alone because the embeddings backend failed",
            metrics.semantic_fallbacks.clone(),
        );
        registry.register(
            "outputs_written",
            "lines written by the local output",
            metrics.outputs_written.clone(),
        );
        registry.register(
            "outputs_repeated",
            "articles the local output had already written and skipped",
            metrics.outputs_repeated.clone(),
        );
        registry.register(
            "items_replayed",
            "items in flight at the last stop, replayed from the journal at start",
            metrics.items_replayed.clone(),
        );
        registry.register(
            "dead_letters",
            "messages sent to the dead-letter topic by this process",
            metrics.dead_letters.clone(),
        );
        registry.register(
            "websub_pushes",
            "websub pushes taken in (signature checked, body parsed)",
            metrics.websub_pushes.clone(),
        );
        registry.register(
            "webhook_delivered",
            "flagged stories a webhook receiver accepted",
            metrics.webhook_delivered.clone(),
        );
        registry.register(
            "webhook_failed_attempts",
            "webhook attempts that failed (error answer, transport error, timeout)",
            metrics.webhook_failed_attempts.clone(),
        );
        registry.register(
            "webhook_dead_lettered",
            "stories a webhook gave up on (refused, out of retries, backlog full) and dead-lettered",
            metrics.webhook_dead_lettered.clone(),
        );
        registry.register(
            "webhook_repeated",
            "stories a webhook had already delivered and skipped",
            metrics.webhook_repeated.clone(),
        );
        registry.register(
            "flagged",
            "articles flagged, per label",
            metrics.flagged.clone(),
        );
        registry.register(
            "websub_pushes_refused",
            "websub pushes refused, per reason",
            metrics.websub_refused.clone(),
        );
        metrics.registry = registry;
        metrics
    }
}

/// A stage whose time is measured per article.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Stage {
    /// Fetching the article's page (success or failure).
    PageFetch,
    /// Cleaning the page to text.
    Clean,
    /// Classifying (rules, and the semantic layer when on).
    Classify,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabels {
    stage: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LabelLabels {
    label: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    reason: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Latency histograms, in seconds: each stage's time per article, and the
/// time from an item's discovery in its feed to its classification, per
/// flagged label (`none` for articles flagged with nothing). The labels'
/// values are bounded: three stages, and the taxonomy's labels.
pub struct Latencies {
    registry: Registry,
    stages: Histograms<StageLabels>,
    discovered_to_classified: Histograms<LabelLabels>,
}

impl Default for Latencies {
    fn default() -> Latencies {
        // 0.5 ms to about a minute.
        fn stage_histogram() -> Histogram {
            Histogram::new(exponential_buckets(0.0005, 2.0, 18))
        }
        // 5 ms to about 45 minutes (a poll interval and a backoff).
        fn delay_histogram() -> Histogram {
            Histogram::new(exponential_buckets(0.005, 2.0, 20))
        }
        let stages: Histograms<StageLabels> = Family::new_with_constructor(stage_histogram);
        let discovered_to_classified: Histograms<LabelLabels> =
            Family::new_with_constructor(delay_histogram);
        let mut registry = Registry::with_prefix("wirewatch");
        registry.register_with_unit(
            "stage",
            "time per article in each stage",
            Unit::Seconds,
            stages.clone(),
        );
        registry.register_with_unit(
            "discovered_to_classified",
            "from the item's discovery in its feed to its classification, per flagged label",
            Unit::Seconds,
            discovered_to_classified.clone(),
        );
        Latencies {
            registry,
            stages,
            discovered_to_classified,
        }
    }
}

impl Latencies {
    pub fn stage(&self, stage: Stage, took: std::time::Duration) {
        let stage = match stage {
            Stage::PageFetch => "page_fetch",
            Stage::Clean => "clean",
            Stage::Classify => "classify",
        };
        self.stages
            .get_or_create(&StageLabels { stage })
            .observe(took.as_secs_f64());
    }

    /// One observation per flagged label, or one under `none`.
    pub fn classified<'a>(
        &self,
        labels: impl IntoIterator<Item = &'a str>,
        delay: chrono::TimeDelta,
    ) {
        let seconds = delay.as_seconds_f64().max(0.0);
        let mut any = false;
        for label in labels {
            any = true;
            self.discovered_to_classified
                .get_or_create(&LabelLabels {
                    label: label.to_owned(),
                })
                .observe(seconds);
        }
        if !any {
            self.discovered_to_classified
                .get_or_create(&LabelLabels {
                    label: "none".to_owned(),
                })
                .observe(seconds);
        }
    }

    fn render(&self, out: &mut String) {
        let _ = prometheus_client::encoding::prometheus_text::encode(out, &self.registry);
    }
}

impl Metrics {
    pub fn count(counter: &Counter) {
        counter.inc();
    }

    pub fn refuse_push(&self, reason: PushRefusal) {
        self.websub_refused
            .get_or_create(&ReasonLabels {
                reason: reason.as_str(),
            })
            .inc();
    }

    pub fn flag(&self, label: &str) {
        self.flagged
            .get_or_create(&LabelLabels {
                label: label.to_owned(),
            })
            .inc();
    }

    /// The counters (prometheus-client's text encoding), the seen-set size
    /// and the latency histograms.
    pub fn render(&self, store: Option<&StateStore>) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        if let Some(store) = store {
            if let Ok(seen) = store.seen_count() {
                let _ = writeln!(out, "# HELP wirewatch_seen_entries stories in the seen-set\n# TYPE wirewatch_seen_entries gauge\nwirewatch_seen_entries {seen}");
            }
        }
        self.latencies.render(&mut out);
        out
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Connections served at once; more are answered 503 and closed, so a
/// flood of slow clients cannot pile up tasks and buffers.
const MAX_CONNECTIONS: usize = 64;

/// What the HTTP listener serves, besides the metrics themselves.
pub struct Served {
    pub metrics: Arc<Metrics>,
    pub store: Option<StateStore>,
    pub bus: Arc<dyn Bus>,
    pub subscriber: Option<Arc<Subscriber>>,
    /// The feed list this process polls (it follows reloads).
    pub feeds: Option<tokio::sync::watch::Receiver<Vec<FeedSpec>>>,
    /// Feed and page fetches by how they ended.
    pub fetches: Arc<wirewatch_fetcher::FetchTally>,
    /// Feeds given their own series on `/metrics`.
    pub max_feed_series: usize,
}

/// An answer: status line, content type, body.
struct Answer {
    status: &'static str,
    content_type: &'static str,
    body: String,
}

impl Answer {
    fn text(status: &'static str, body: impl Into<String>) -> Answer {
        Answer {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
        }
    }

    fn json(value: &impl serde::Serialize) -> Answer {
        Answer {
            status: "200 OK",
            content_type: "application/json",
            body: serde_json::to_string(value).unwrap_or_default(),
        }
    }
}

/// Serves `/metrics`, `/healthz`, `/readyz`, `/status.json`, the status
/// page (`/`, `/api/feeds`, `/api/flagged`: see [`crate::dashboard`]) and,
/// with a subscriber, the WebSub callbacks on `listener` until shutdown.
///
/// HTTP/1.1 by hyper, one request per connection, at most
/// [`MAX_CONNECTIONS`] at once (more are answered 503 and closed); a
/// client gets [`HEAD_TIMEOUT`] to send its request head (of at most
/// [`MAX_HEAD_BYTES`]) and [`CONNECTION_TIMEOUT`] in all, so slow or idle
/// clients cannot hold the slots.
pub async fn serve(
    listener: TcpListener,
    served: Served,
    mut shutdown: Shutdown,
    tasks: tokio_util::task::TaskTracker,
) {
    let served = Arc::new(served);
    let connections = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            () = shutdown.wait() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((mut stream, _)) = accepted else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            tasks.spawn(async move {
                let _ = stream
                    .write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\nConnection: close\r\nRetry-After: 1\r\n\r\nbusy\n")
                    .await;
                let _ = stream.shutdown().await;
                // Read what the client sent, for a moment: closing with its
                // request unread would reset the connection, and the reset
                // can reach the client before the answer does.
                let mut unread = [0u8; 1024];
                let _ = tokio::time::timeout(std::time::Duration::from_secs(1), async {
                    while matches!(stream.read(&mut unread).await, Ok(read) if read > 0) {}
                })
                .await;
            });
            continue;
        };
        let served = Arc::clone(&served);
        let mut stopping = shutdown.clone();
        tasks.spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |request| {
                let served = Arc::clone(&served);
                async move { Ok::<_, std::convert::Infallible>(served.respond(request).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .max_buf_size(MAX_HEAD_BYTES)
                // The buffer cap alone lets a head through that arrived
                // whole in one read into a buffer grown past the cap.
                .max_header_size(MAX_HEAD_BYTES)
                .keep_alive(false)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            // A connection ends at shutdown too, answered or not.
            tokio::select! {
                _ = tokio::time::timeout(CONNECTION_TIMEOUT, connection) => {}
                () = stopping.wait() => {}
            }
        });
    }
}

/// How long a client has to send its request head.
const HEAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The request head's size cap (hyper's read buffer and its head limit,
/// answered 431; the buffer's minimum is 8 KiB).
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// How long one connection may last, a WebSub push body included.
const CONNECTION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

type Response = hyper::Response<http_body_util::Full<bytes::Bytes>>;

impl Answer {
    /// The HTTP response, with the headers every answer carries and, for
    /// the page, the content security policy.
    fn into_response(self) -> Response {
        let status = self
            .status
            .get(..3)
            .and_then(|code| hyper::StatusCode::from_bytes(code.as_bytes()).ok())
            .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
        let mut builder = hyper::Response::builder()
            .status(status)
            .header("content-type", self.content_type)
            .header("x-content-type-options", "nosniff")
            .header("cache-control", "no-store");
        if self.content_type.starts_with("text/html") {
            builder = builder
                .header("content-security-policy", "default-src 'none'; script-src 'self'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
                .header("x-frame-options", "DENY")
                .header("referrer-policy", "no-referrer");
        }
        builder
            .body(http_body_util::Full::new(bytes::Bytes::from(self.body)))
            .expect("static header names and values")
    }
}

impl Served {
    /// The answer to one request.
    async fn respond(&self, request: hyper::Request<hyper::body::Incoming>) -> Response {
        let path = request.uri().path().to_owned();
        let query = request.uri().query().unwrap_or("").to_owned();
        let answer = match (&self.subscriber, path.strip_prefix("/websub/")) {
            (Some(subscriber), Some(id)) if request.method() == hyper::Method::POST => {
                let (head, body) = request.into_parts();
                let push = Push {
                    id,
                    headers: &head.headers,
                    body,
                };
                let (status, body) = push.handle(subscriber, &self.metrics).await;
                Answer::text(status, body)
            }
            (Some(subscriber), Some(id)) => match subscriber.verify(id, &query) {
                VerifyAnswer::Challenge(challenge) => Answer::text("200 OK", challenge),
                VerifyAnswer::Acknowledged => Answer::text("200 OK", ""),
                VerifyAnswer::Refused => Answer::text("404 Not Found", "not found\n"),
            },
            _ => self.answer(&path, &query),
        };
        answer.into_response()
    }

    /// Every path but the WebSub callbacks.
    fn answer(&self, path: &str, query: &str) -> Answer {
        match path {
            "/metrics" => {
                let mut text = self.metrics.render(self.store.as_ref());
                if let Some(Ok(report)) = self.feeds_report() {
                    render_feeds(&mut text, &report, self.max_feed_series);
                }
                render_fetches(&mut text, &self.fetches);
                render_hosts(&mut text, &self.fetches);
                render_bus(&mut text, self.bus.as_ref());
                Answer {
                    status: "200 OK",
                    content_type: "text/plain; version=0.0.4; charset=utf-8",
                    body: text,
                }
            }
            "/healthz" => Answer::text("200 OK", "ok\n"),
            "/readyz" => {
                let (status, body) = readiness(&self.metrics, self.bus.as_ref());
                Answer::text(status, body)
            }
            "/status.json" => {
                let (status, body) = status_json(self.store.as_ref());
                Answer {
                    content_type: if status.starts_with("200") {
                        "application/json"
                    } else {
                        "text/plain; charset=utf-8"
                    },
                    ..Answer::text(status, body)
                }
            }
            "/api/feeds" => match self.feeds_report() {
                Some(Ok(report)) => Answer::json(&report),
                Some(Err(error)) => Answer::text(
                    "500 Internal Server Error",
                    format!("reading the state store: {error:#}\n"),
                ),
                None => Answer::text("404 Not Found", "this process does not poll feeds\n"),
            },
            "/api/flagged" => match FlaggedQuery::parse(query) {
                Ok(query) => Answer::json(&serde_json::json!({
                    "stories": self.metrics.dashboard.flagged(
                        query.label.as_deref(),
                        query.since,
                        query.limit,
                    )
                })),
                Err(problem) => Answer::text("400 Bad Request", format!("{problem}\n")),
            },
            "/" | "/index.html" => {
                let report = match self.feeds_report() {
                    Some(Ok(report)) => Some(report),
                    Some(Err(error)) => {
                        return Answer::text(
                            "500 Internal Server Error",
                            format!("reading the state store: {error:#}\n"),
                        )
                    }
                    None => None,
                };
                let stories =
                    self.metrics
                        .dashboard
                        .flagged(None, None, crate::dashboard::RECENT_STORIES);
                Answer {
                    status: "200 OK",
                    content_type: "text/html; charset=utf-8",
                    body: crate::dashboard::page(report.as_ref(), &stories),
                }
            }
            "/status.css" => Answer {
                status: "200 OK",
                content_type: "text/css; charset=utf-8",
                body: crate::dashboard::STYLE.to_owned(),
            },
            "/status.js" => Answer {
                status: "200 OK",
                content_type: "text/javascript; charset=utf-8",
                body: crate::dashboard::SCRIPT.to_owned(),
            },
            _ => Answer::text("404 Not Found", "not found\n"),
        }
    }

    /// `None` when this process polls no feeds.
    fn feeds_report(&self) -> Option<anyhow::Result<FeedsReport>> {
        let store = self.store.as_ref()?;
        let feeds = self.feeds.as_ref()?.borrow().clone();
        Some(crate::dashboard::feeds_report(
            &feeds,
            store,
            &self.metrics.dashboard,
        ))
    }
}

/// A POST on a WebSub callback: its headers and body.
struct Push<'a> {
    id: &'a str,
    headers: &'a hyper::HeaderMap,
    body: hyper::body::Incoming,
}

impl Push<'_> {
    /// Reads the body (bounded by the feed size cap; sent with a length or
    /// chunked) and hands it to the subscriber; the status line and body to
    /// answer.
    async fn handle(self, subscriber: &Subscriber, metrics: &Metrics) -> (&'static str, String) {
        use http_body_util::BodyExt;
        let refused = |reason: PushRefusal, detail: &str| {
            subscriber.log_refusal(self.id, reason, detail);
            metrics.refuse_push(reason);
        };
        let Some(_permit) = subscriber.callback_permit() else {
            refused(PushRefusal::Busy, "every callback slot is busy");
            return ("503 Service Unavailable", "busy\n".to_owned());
        };
        let header = |name: &str| {
            self.headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(|value| value.trim().to_owned())
        };
        let limit = subscriber.options().max_body_bytes;
        let declared = header("content-length").and_then(|length| length.parse::<u64>().ok());
        if let Some(length) = declared.filter(|length| *length > limit) {
            refused(
                PushRefusal::TooLarge,
                &format!("{length} bytes over the {limit}-byte cap"),
            );
            return ("413 Content Too Large", "too large\n".to_owned());
        }
        let capped =
            http_body_util::Limited::new(self.body, usize::try_from(limit).unwrap_or(usize::MAX));
        let body = match capped.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(error) if error.is::<http_body_util::LengthLimitError>() => {
                refused(
                    PushRefusal::TooLarge,
                    &format!("body over the {limit}-byte cap"),
                );
                return ("413 Content Too Large", "too large\n".to_owned());
            }
            Err(_) => {
                return (
                    "400 Bad Request",
                    "body cut short or malformed\n".to_owned(),
                )
            }
        };
        let signature = header("x-hub-signature");
        let content_type = header("content-type");
        match subscriber
            .push(
                self.id,
                signature.as_deref(),
                content_type.as_deref(),
                &body,
            )
            .await
        {
            Ok(_) => {
                Metrics::count(&metrics.websub_pushes);
                ("200 OK", String::new())
            }
            Err(reason) => {
                metrics.refuse_push(reason);
                let status = match reason {
                    PushRefusal::Unsigned
                    | PushRefusal::MalformedSignature
                    | PushRefusal::BadSignature => "403 Forbidden",
                    PushRefusal::UnknownSubscription => "404 Not Found",
                    PushRefusal::NotAFeed => "400 Bad Request",
                    PushRefusal::TooLarge => "413 Content Too Large",
                    PushRefusal::Busy => "503 Service Unavailable",
                };
                (status, format!("{}\n", reason.as_str()))
            }
        }
    }
}

/// Every feed's status and the seen-set size, as JSON, for `wirewatch
/// status` while this daemon holds the state file.
fn status_json(store: Option<&StateStore>) -> (&'static str, String) {
    let Some(store) = store else {
        return (
            "404 Not Found",
            "this process does not poll feeds (no state store)\n".to_owned(),
        );
    };
    let statuses = store.all_feed_statuses().map(|statuses| {
        statuses
            .into_iter()
            .collect::<std::collections::BTreeMap<String, wirewatch_fetcher::FeedStatus>>()
    });
    match (statuses, store.seen_count()) {
        (Ok(feeds), Ok(seen)) => (
            "200 OK",
            serde_json::json!({ "feeds": feeds, "seen": seen }).to_string(),
        ),
        (Err(error), _) | (_, Err(error)) => (
            "500 Internal Server Error",
            format!("reading the state store: {error}\n"),
        ),
    }
}

/// The configured feeds on `/metrics`: how many are in each health, and
/// the first `max_series` of the report's order (failing first, longest
/// streak first) with their own series, so a list of 100,000 feeds does not
/// make 300,000 series; how many were left out.
fn render_feeds(out: &mut String, report: &FeedsReport, max_series: usize) {
    use crate::dashboard::Health;
    let _ = writeln!(out, "# HELP wirewatch_feeds configured feeds by health (ok, failing, never_polled)\n# TYPE wirewatch_feeds gauge");
    for health in [Health::Ok, Health::Failing, Health::NeverPolled] {
        let count = report
            .feeds
            .iter()
            .filter(|feed| feed.health == health)
            .count();
        let _ = writeln!(
            out,
            "wirewatch_feeds{{health=\"{}\"}} {count}",
            health.as_str()
        );
    }
    let shown = &report.feeds[..report.feeds.len().min(max_series)];
    let _ = writeln!(out, "# HELP wirewatch_feed_series_omitted feeds without their own series (over metrics.max_feed_series)\n# TYPE wirewatch_feed_series_omitted gauge\nwirewatch_feed_series_omitted {}", report.feeds.len() - shown.len());
    let statuses = || {
        shown
            .iter()
            .filter_map(|feed| Some((escape(&feed.url), feed.status.as_ref()?)))
    };
    let _ = writeln!(out, "# HELP wirewatch_feed_consecutive_failures failed polls in a row, per feed\n# TYPE wirewatch_feed_consecutive_failures gauge");
    for (feed, status) in statuses() {
        let _ = writeln!(
            out,
            "wirewatch_feed_consecutive_failures{{feed=\"{feed}\"}} {}",
            status.consecutive_failures
        );
    }
    let _ = writeln!(out, "# HELP wirewatch_feed_last_success_seconds unix time of the last successful poll, per feed\n# TYPE wirewatch_feed_last_success_seconds gauge");
    for (feed, status) in statuses() {
        if let Some(success) = status.last_success {
            let _ = writeln!(
                out,
                "wirewatch_feed_last_success_seconds{{feed=\"{feed}\"}} {}",
                success.timestamp()
            );
        }
    }
    let _ = writeln!(out, "# HELP wirewatch_feed_items_total items emitted, per feed\n# TYPE wirewatch_feed_items_total counter");
    for (feed, status) in statuses() {
        let _ = writeln!(
            out,
            "wirewatch_feed_items_total{{feed=\"{feed}\"}} {}",
            status.items_emitted
        );
    }
}

/// `wirewatch_fetches_total{what="feed"|"page",result=...}`: every
/// combination, zeros included.
fn render_fetches(out: &mut String, tally: &wirewatch_fetcher::FetchTally) {
    let _ = writeln!(out, "# HELP wirewatch_fetches_total feed and page fetches by how they ended (ok, not_modified, 4xx, 5xx, other_status, timeout, refused, too_large, too_many_redirects, transport)\n# TYPE wirewatch_fetches_total counter");
    for (fetching, result, count) in tally.snapshot() {
        let _ = writeln!(
            out,
            "wirewatch_fetches_total{{what=\"{}\",result=\"{}\"}} {count}",
            fetching.as_str(),
            result.as_str()
        );
    }
}

/// `wirewatch_host_fetches_total{host,result}`: feeds and pages together,
/// per host (the first 100 hosts asked; the rest as `other`).
fn render_hosts(out: &mut String, tally: &wirewatch_fetcher::FetchTally) {
    let hosts = tally.hosts();
    if hosts.is_empty() {
        return;
    }
    let _ = writeln!(out, "# HELP wirewatch_host_fetches_total feed and page fetches per host by how they ended (the first 100 hosts asked by name, the rest as other)\n# TYPE wirewatch_host_fetches_total counter");
    for (host, result, count) in hosts {
        let _ = writeln!(
            out,
            "wirewatch_host_fetches_total{{host=\"{}\",result=\"{}\"}} {count}",
            escape(&host),
            result.as_str()
        );
    }
}

/// The bus's side of `/metrics`: whether it can deliver, and how often each
/// change of its state happened.
fn render_bus(out: &mut String, bus: &dyn Bus) {
    let _ = writeln!(
        out,
        "# HELP wirewatch_bus_ready 1 when the bus can deliver (what /readyz reports), else 0\n# TYPE wirewatch_bus_ready gauge\nwirewatch_bus_ready {}",
        u8::from(bus.health().is_ready())
    );
    let lags = bus.consumer_lag();
    if !lags.is_empty() {
        let _ = writeln!(out, "# HELP wirewatch_consumer_lag_messages messages on a partition of a stage's input topic that its consumer group has not committed (Kafka, from the consumer's statistics each second)\n# TYPE wirewatch_consumer_lag_messages gauge");
        for lag in lags {
            let _ = writeln!(
                out,
                "wirewatch_consumer_lag_messages{{stage=\"{}\",topic=\"{}\",partition=\"{}\"}} {}",
                escape(&lag.stage),
                escape(&lag.topic),
                lag.partition,
                lag.messages
            );
        }
    }
    let transitions = bus.transitions();
    if transitions.is_empty() {
        return;
    }
    let _ = writeln!(out, "# HELP wirewatch_bus_transitions_total changes of the bus's state (brokers lost and back, partitions assigned and revoked, commits failing and recovered, publishes stalled, repeated inputs skipped)\n# TYPE wirewatch_bus_transitions_total counter");
    for (event, count) in transitions {
        let _ = writeln!(
            out,
            "wirewatch_bus_transitions_total{{event=\"{event}\"}} {count}"
        );
    }
}

/// `/readyz`: the status line and body.
fn readiness(metrics: &Metrics, bus: &dyn Bus) -> (&'static str, String) {
    if !metrics.ready.load(Ordering::Relaxed) {
        return ("503 Service Unavailable", "starting\n".to_owned());
    }
    let health = bus.health();
    if health.is_ready() {
        return ("200 OK", "ready\n".to_owned());
    }
    let mut body = String::from("not ready\n");
    for problem in &health.problems {
        body.push_str(problem);
        body.push('\n');
    }
    ("503 Service Unavailable", body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_feed_series_stop_at_the_cap_with_the_failing_feeds_kept_and_every_feed_counted() {
        use crate::dashboard::{FeedHealth, Health, PageTally};
        use wirewatch_fetcher::FeedStatus;
        let feed = |url: &str, health: Health, failures: u32| FeedHealth {
            url: url.to_owned(),
            title: None,
            tags: Vec::new(),
            health,
            not_modified_ratio: None,
            pages: PageTally::default(),
            status: (health != Health::NeverPolled).then(|| FeedStatus {
                consecutive_failures: failures,
                items_emitted: 7,
                ..FeedStatus::default()
            }),
        };
        // In the report's order: failing first.
        let report = FeedsReport {
            generated_at: chrono::Utc::now(),
            seen: 0,
            feeds: vec![
                feed("https://a.example/down.xml", Health::Failing, 4),
                feed("https://b.example/new.xml", Health::NeverPolled, 0),
                feed("https://c.example/ok.xml", Health::Ok, 0),
            ],
        };
        let mut out = String::new();
        render_feeds(&mut out, &report, 1);
        assert!(
            out.contains("wirewatch_feeds{health=\"failing\"} 1\n"),
            "{out}"
        );
        assert!(out.contains("wirewatch_feeds{health=\"ok\"} 1\n"), "{out}");
        assert!(
            out.contains("wirewatch_feeds{health=\"never_polled\"} 1\n"),
            "{out}"
        );
        assert!(out.contains("wirewatch_feed_series_omitted 2\n"), "{out}");
        assert!(out.contains(
            "wirewatch_feed_consecutive_failures{feed=\"https://a.example/down.xml\"} 4\n"
        ));
        assert!(!out.contains("c.example"), "{out}");
        let mut all = String::new();
        render_feeds(&mut all, &report, 1000);
        assert!(all.contains("wirewatch_feed_items_total{feed=\"https://c.example/ok.xml\"} 7\n"));
        assert!(all.contains("wirewatch_feed_series_omitted 0\n"));
    }

    #[test]
    fn renders_counters_and_labels() {
        let metrics = Metrics::default();
        Metrics::count(&metrics.articles_classified);
        metrics.flag("SANCTIONS");
        metrics.flag("SANCTIONS");
        let text = metrics.render(None);
        assert!(text.contains("wirewatch_articles_classified_total 1"));
        assert!(text.contains("wirewatch_flagged_total{label=\"SANCTIONS\"} 2"));
    }

    #[test]
    fn renders_latency_histograms_per_stage_and_label() {
        let metrics = Metrics::default();
        let latencies = &metrics.latencies;
        latencies.stage(Stage::Clean, std::time::Duration::from_millis(3));
        latencies.classified(["SANCTIONS"], chrono::TimeDelta::milliseconds(40));
        latencies.classified([], chrono::TimeDelta::seconds(2));
        let text = metrics.render(None);
        assert!(
            text.contains("# TYPE wirewatch_stage_seconds histogram"),
            "{text}"
        );
        assert!(text.contains("wirewatch_stage_seconds_count{stage=\"clean\"} 1"));
        // 40 ms falls in the 0.04 bucket (0.005 * 2^3), not the one below.
        let bucket = |le: &str| {
            format!("wirewatch_discovered_to_classified_seconds_bucket{{label=\"SANCTIONS\",le=\"{le}\"}}")
        };
        assert!(text.contains(&format!("{} 0", bucket("0.02"))), "{text}");
        assert!(text.contains(&format!("{} 1", bucket("0.04"))), "{text}");
        assert!(
            text.contains("wirewatch_discovered_to_classified_seconds_count{label=\"none\"} 1"),
            "{text}"
        );
    }
}
