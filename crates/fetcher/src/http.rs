//! HTTP (and `file://`) fetching with limits: timeouts, redirect cap, body
//! size cap enforced while streaming (after decompression, so a gzip bomb is
//! cut off, not inflated), conditional GET, and a refusal of article links
//! that point at private addresses.
//!
//! Two reqwest clients share the limits. The guarded one resolves names
//! through [`crate::guard::GuardedResolver`], so the address check applies
//! to the address actually connected to; it carries every untrusted
//! request: article pages, robots.txt, links through redirectors, and any
//! redirect hop of a feed that leaves the feed's configured host. The
//! trusted one carries only a configured feed URL and redirects that stay
//! on its host: an operator may point a feed at a private address, a
//! stranger's redirect may not.
//!
//! Redirects are followed here rather than inside reqwest so that every hop
//! is checked (address guard, and robots.txt for article links), and so
//! that a chain of permanent moves (301/308) can be reported to the poller,
//! which records it in the feed's status.
//!
//! Politeness lives in the client, so feeds and article pages share it: the
//! start of two requests to one host (host and port) is spaced by at least
//! [`HttpOptions::min_host_delay`], and article pages honour robots.txt
//! (see [`crate::robots`]), cached per origin.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::guard::{check_literal, GuardedResolver, Lookup, NonPublicAddress, SystemLookup};
use crate::robots::Robots;
use crate::tally::{FetchResult, FetchTally, Fetching};

use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::StatusCode;
use url::Url;

/// Limits and identity for every request.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    pub user_agent: String,
    pub connect_timeout: Duration,
    /// Whole request, headers to last byte.
    pub request_timeout: Duration,
    /// Largest body accepted, counted after decompression.
    pub max_body_bytes: u64,
    pub max_redirects: usize,
    /// Article links may resolve to these addresses even though they are
    /// loopback/private (tests allow 127.0.0.1). A configured feed URL is
    /// trusted and never checked; its redirects to other hosts are.
    pub allowed_private_addresses: Vec<IpAddr>,
    /// Allow `file://` URLs (the offline demo; off for untrusted links).
    pub allow_file_urls: bool,
    /// Least time between the starts of two requests to one host.
    pub min_host_delay: Duration,
    /// Honour robots.txt for article pages (feeds are configured by hand and
    /// are always fetched).
    pub respect_robots_txt: bool,
    /// Idle connections kept per host: as many as requests may run at once
    /// on one host (`fetcher.max_concurrent_requests_per_host` for feeds,
    /// `fetcher.page_concurrency` for pages, whichever is more), so a
    /// host's next requests reuse them instead of opening new ones. Only
    /// connections that were needed are kept: with the host delay spacing
    /// requests, one host has one.
    pub max_idle_per_host: usize,
}

impl Default for HttpOptions {
    fn default() -> HttpOptions {
        HttpOptions {
            user_agent: concat!(
                "wirewatch/",
                env!("CARGO_PKG_VERSION"),
                " (+https://github.com/wirewatch/wirewatch)"
            )
            .into(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_body_bytes: 10 * 1024 * 1024,
            max_redirects: 5,
            allowed_private_addresses: Vec::new(),
            allow_file_urls: false,
            min_host_delay: Duration::from_secs(1),
            respect_robots_txt: true,
            max_idle_per_host: 2,
        }
    }
}

/// How long a robots.txt is trusted before it is fetched again.
const ROBOTS_TTL: Duration = Duration::from_secs(3600);
/// robots.txt bodies beyond this are cut (RFC 9309 asks for at least 500 KiB).
const ROBOTS_MAX_BYTES: u64 = 512 * 1024;
/// Host table size above which entries that no longer constrain anything
/// are dropped, so months of article hosts do not accumulate.
const HOST_TABLE_PRUNE_AT: usize = 4096;

/// Validators remembered from the last successful fetch.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A fetched body and what the server said about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Fetched {
    pub final_url: Url,
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub validators: Validators,
    /// `Cache-Control: max-age` or `Expires`, as a duration from now.
    pub fresh_for: Option<Duration>,
    /// Where the URL now lives, when every redirect on the way was
    /// permanent (301/308).
    pub moved_to: Option<Url>,
    /// The response's `Link` header values (where a WebSub hub is named).
    pub link_headers: Vec<String>,
}

/// The result of a conditional feed fetch.
// One per poll, moved once: boxing the fetched body buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum FeedResponse {
    NotModified {
        fresh_for: Option<Duration>,
        /// As [`Fetched::moved_to`].
        moved_to: Option<Url>,
    },
    Fetched(Fetched),
}

/// Why a fetch failed. Every variant names the URL.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: http status {status}")]
    Status {
        url: String,
        status: u16,
        retry_after: Option<Duration>,
    },
    #[error("{url}: body larger than {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: timed out")]
    Timeout { url: String },
    #[error("{url}: refused: {reason}")]
    Refused { url: String, reason: String },
    #[error("{url}: disallowed by robots.txt")]
    RobotsDisallowed { url: String },
    #[error("{url}: more than {limit} redirects")]
    TooManyRedirects { url: String, limit: usize },
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url}: {source}")]
    File { url: String, source: std::io::Error },
}

impl FetchError {
    /// The server's `Retry-After`, when it sent one with a 429 or 503.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A shared HTTP client. Cheap to clone; clones share the connection pool,
/// the per-host spacing and the robots.txt cache.
#[derive(Clone, Debug)]
pub struct HttpClient {
    /// For configured feed URLs and redirects on their own host.
    trusted: reqwest::Client,
    /// For everything a stranger wrote: connects only to guarded addresses.
    guarded: reqwest::Client,
    options: HttpOptions,
    /// Host (and port) -> the earliest instant the next request may start.
    next_slot: Arc<Mutex<HashMap<String, Instant>>>,
    /// Origin -> parsed robots.txt and when it expires.
    robots: Arc<Mutex<RobotsCache>>,
    /// Feed and page fetches by how they ended.
    tally: Arc<FetchTally>,
}

/// Origin -> when the entry expires and the rules.
type RobotsCache = HashMap<String, (Instant, Arc<Robots>)>;

/// Whether a request is for a configured feed or an untrusted page link.
#[derive(Clone, Copy, PartialEq)]
enum Trust {
    Feed,
    Page,
    Robots,
}

impl HttpClient {
    /// A client that resolves names with the system resolver.
    pub fn new(options: HttpOptions) -> Result<HttpClient, FetchError> {
        HttpClient::with_lookup(options, Arc::new(SystemLookup))
    }

    /// A client whose guarded requests resolve names through `lookup`
    /// (configured feeds keep the system resolver).
    pub fn with_lookup(
        options: HttpOptions,
        lookup: Arc<dyn Lookup>,
    ) -> Result<HttpClient, FetchError> {
        let builder = || {
            reqwest::Client::builder()
                .user_agent(options.user_agent.clone())
                .connect_timeout(options.connect_timeout)
                .timeout(options.request_timeout)
                // Followed by hand in `send`: see the module docs.
                .redirect(reqwest::redirect::Policy::none())
                .pool_idle_timeout(Duration::from_secs(30))
                // Up to the host's concurrency: with one, about every second
                // request to a busy host opened a new connection.
                .pool_max_idle_per_host(options.max_idle_per_host.max(1))
        };
        let build_error = |error: reqwest::Error| FetchError::Transport {
            url: String::new(),
            message: format!("building the http client: {error}"),
        };
        let trusted = builder().build().map_err(build_error)?;
        let resolver = GuardedResolver::new(lookup, &options.allowed_private_addresses);
        // No proxy for untrusted requests, whatever HTTP_PROXY and friends
        // say: through a proxy the proxy resolves the name, and the guard
        // would check the proxy's address instead of the one connected to.
        let guarded = builder()
            .no_proxy()
            .dns_resolver(Arc::new(resolver))
            .build()
            .map_err(build_error)?;
        Ok(HttpClient {
            trusted,
            guarded,
            options,
            next_slot: Arc::default(),
            robots: Arc::default(),
            tally: Arc::default(),
        })
    }

    pub fn options(&self) -> &HttpOptions {
        &self.options
    }

    /// Feed and page fetches so far, by how they ended (shared by clones).
    pub fn tally(&self) -> Arc<FetchTally> {
        Arc::clone(&self.tally)
    }

    /// Fetches a feed with conditional GET. `extra_headers` come from the
    /// feed's config.
    pub async fn fetch_feed(
        &self,
        url: &Url,
        validators: &Validators,
        extra_headers: &[(String, String)],
    ) -> Result<FeedResponse, FetchError> {
        let result = self.get_feed(url, validators, extra_headers).await;
        self.tally.count_on(
            Fetching::Feed,
            url.host_str(),
            FetchResult::of_feed(&result),
        );
        result
    }

    async fn get_feed(
        &self,
        url: &Url,
        validators: &Validators,
        extra_headers: &[(String, String)],
    ) -> Result<FeedResponse, FetchError> {
        if url.scheme() == "file" {
            return self.read_file(url).await.map(FeedResponse::Fetched);
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static(
                "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
            ),
        );
        if let Some(etag) = validators.etag.as_deref().and_then(header_value) {
            headers.insert(header::IF_NONE_MATCH, etag);
        }
        if let Some(since) = validators.last_modified.as_deref().and_then(header_value) {
            headers.insert(header::IF_MODIFIED_SINCE, since);
        }
        for (name, value) in extra_headers {
            if let (Ok(name), Some(value)) =
                (HeaderName::try_from(name.as_str()), header_value(value))
            {
                headers.insert(name, value);
            }
        }
        let (response, moved_to) = self.send(url, headers, Trust::Feed).await?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(FeedResponse::NotModified {
                fresh_for: freshness(response.headers()),
                moved_to,
            });
        }
        self.read_response(url, response, moved_to, self.options.max_body_bytes)
            .await
            .map(FeedResponse::Fetched)
    }

    /// Fetches an article page linked from a feed. Untrusted: private
    /// addresses are refused unless allowed, `file://` unless allowed.
    pub async fn fetch_page(&self, url: &Url) -> Result<Fetched, FetchError> {
        let result = self.get_page(url).await;
        let kind = match &result {
            Ok(_) => FetchResult::Ok,
            Err(error) => FetchResult::of_error(error),
        };
        self.tally.count_on(Fetching::Page, url.host_str(), kind);
        result
    }

    async fn get_page(&self, url: &Url) -> Result<Fetched, FetchError> {
        match url.scheme() {
            "http" | "https" => {}
            "file" if self.options.allow_file_urls => return self.read_file(url).await,
            other => {
                return Err(FetchError::Refused {
                    url: url.to_string(),
                    reason: format!("scheme {other} not allowed"),
                })
            }
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html, application/xhtml+xml;q=0.9, */*;q=0.5"),
        );
        let (response, moved_to) = self.send(url, headers, Trust::Page).await?;
        self.read_response(url, response, moved_to, self.options.max_body_bytes)
            .await
    }

    /// Where `url` redirects to, if it does: one request, not followed,
    /// body not read (for links through redirectors). Checked like a page.
    pub async fn redirect_target(&self, url: &Url) -> Result<Option<Url>, FetchError> {
        self.page_checks(url).await?;
        self.wait_for_host(url).await;
        let response = self
            .guarded
            .get(url.clone())
            .send()
            .await
            .map_err(|error| transport_error(url, &error))?;
        if !response.status().is_redirection() {
            return Ok(None);
        }
        Ok(response
            .headers()
            .get(header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|location| url.join(location).ok()))
    }

    /// POSTs a form to a URL a stranger wrote (a WebSub hub named by a
    /// feed): guarded like a page link, no redirect followed. Returns the
    /// status and the start of the body (for the log).
    pub async fn post_form(
        &self,
        url: &Url,
        form: &[(&str, &str)],
    ) -> Result<(u16, String), FetchError> {
        self.check_hop(url)?;
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let response = self
            .guarded
            .post(url.clone())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|error| transport_error(url, &error))?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let start: String = text.chars().take(200).collect();
        Ok((status, start))
    }

    /// Sends a GET and follows redirects up to the limit. Every hop of an
    /// untrusted request, and every hop of a feed that leaves the feed's
    /// host, goes through the guard (article links also through robots.txt);
    /// returns the last response and, when every hop was a permanent
    /// redirect, where the resource moved.
    async fn send(
        &self,
        url: &Url,
        headers: HeaderMap,
        trust: Trust,
    ) -> Result<(reqwest::Response, Option<Url>), FetchError> {
        let mut current = url.clone();
        let mut all_permanent = true;
        let mut moved_to = None;
        for hop in 0..=self.options.max_redirects {
            let on_feed_host = trust == Trust::Feed && current.host_str() == url.host_str();
            let client = if on_feed_host {
                &self.trusted
            } else {
                match trust {
                    Trust::Page => self.page_checks(&current).await?,
                    Trust::Feed | Trust::Robots => self.check_hop(&current)?,
                }
                &self.guarded
            };
            self.wait_for_host(&current).await;
            let sent = client
                .get(current.clone())
                .headers(headers.clone())
                .send()
                .await
                .map_err(|error| transport_error(&current, &error));
            let response = match sent {
                Ok(response) => response,
                Err(error @ FetchError::Refused { .. }) if hop > 0 => {
                    tracing::warn!(url = %url, hop = %current, error = %error, "redirect refused by the address guard");
                    return Err(error);
                }
                Err(error) => return Err(error),
            };
            let status = response.status();
            if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
                return Ok((response, moved_to));
            }
            let Some(next) = response
                .headers()
                .get(header::LOCATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|location| current.join(location).ok())
            else {
                // A redirect without a usable target: reported as its status.
                return Ok((response, moved_to));
            };
            all_permanent &= matches!(status.as_u16(), 301 | 308);
            moved_to = all_permanent.then(|| next.clone());
            tracing::debug!(from = %current, to = %next, status = status.as_u16(), "following redirect");
            current = next;
        }
        Err(FetchError::TooManyRedirects {
            url: url.to_string(),
            limit: self.options.max_redirects,
        })
    }

    /// The checks every hop of an untrusted link passes: scheme, address,
    /// robots.txt. Boxed because fetching robots.txt goes through `send`,
    /// which calls this.
    fn page_checks<'a>(
        &'a self,
        url: &'a Url,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), FetchError>> + Send + 'a>>
    {
        Box::pin(async move {
            self.check_hop(url)?;
            if self.options.respect_robots_txt && !self.robots_allow(url).await {
                return Err(FetchError::RobotsDisallowed {
                    url: url.to_string(),
                });
            }
            Ok(())
        })
    }

    /// Waits for this host's next free slot and books the one after it, so
    /// request starts to one host are at least `min_host_delay` apart.
    async fn wait_for_host(&self, url: &Url) {
        let delay = self.options.min_host_delay;
        if delay.is_zero() {
            return;
        }
        let key = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or_default()
        );
        let slot = {
            let mut slots = self.next_slot.lock().expect("host table lock");
            book_slot(&mut slots, key, Instant::now(), delay)
        };
        tokio::time::sleep_until(slot).await;
    }

    /// Whether the origin's robots.txt lets us fetch `url`. Cached per
    /// origin for an hour. A missing robots.txt (4xx) allows everything; so
    /// does one that cannot be fetched, because the page fetch that follows
    /// fails the same way and the item falls back to its feed summary.
    async fn robots_allow(&self, url: &Url) -> bool {
        let origin = url.origin().ascii_serialization();
        let cached = {
            let robots = self.robots.lock().expect("robots cache lock");
            robots
                .get(&origin)
                .filter(|(expires, _)| *expires > Instant::now())
                .map(|(_, rules)| Arc::clone(rules))
        };
        let rules = match cached {
            Some(rules) => rules,
            None => {
                let rules = Arc::new(self.fetch_robots(url).await);
                let mut robots = self.robots.lock().expect("robots cache lock");
                if robots.len() > HOST_TABLE_PRUNE_AT {
                    let now = Instant::now();
                    robots.retain(|_, (expires, _)| *expires > now);
                }
                robots.insert(origin, (Instant::now() + ROBOTS_TTL, Arc::clone(&rules)));
                rules
            }
        };
        let mut path = url.path().to_owned();
        if let Some(query) = url.query() {
            path.push('?');
            path.push_str(query);
        }
        rules.allows(&path)
    }

    async fn fetch_robots(&self, url: &Url) -> Robots {
        let Ok(robots_url) = url.join("/robots.txt") else {
            return Robots::allow_all();
        };
        let agent = self
            .options
            .user_agent
            .split(['/', ' '])
            .next()
            .unwrap_or_default()
            .to_owned();
        let fetched = match self
            .send(&robots_url, HeaderMap::new(), Trust::Robots)
            .await
        {
            Ok((response, moved_to)) => {
                self.read_response(&robots_url, response, moved_to, ROBOTS_MAX_BYTES)
                    .await
            }
            Err(error) => Err(error),
        };
        match fetched {
            Ok(fetched) => Robots::parse(&String::from_utf8_lossy(&fetched.body), &agent),
            Err(FetchError::TooLarge { .. }) => Robots::allow_all(),
            Err(error) => {
                tracing::debug!(url = %robots_url, error = %error, "no usable robots.txt; allowing");
                Robots::allow_all()
            }
        }
    }

    async fn read_response(
        &self,
        url: &Url,
        mut response: reqwest::Response,
        moved_to: Option<Url>,
        limit: u64,
    ) -> Result<Fetched, FetchError> {
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: status.as_u16(),
                retry_after: retry_after(response.headers()),
            });
        }
        if response
            .content_length()
            .is_some_and(|length| length > limit)
        {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
                limit,
            });
        }
        let final_url = response.url().clone();
        let response_headers = response.headers().clone();
        // Sized once from the announced length (checked against the limit
        // above; a compressed body may still grow past it): growing from
        // empty copied a page several times over.
        let announced = response.content_length().unwrap_or(0);
        let mut body = Vec::with_capacity(announced.min(limit) as usize);
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| transport_error(url, &error))?
        {
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(FetchError::TooLarge {
                    url: url.to_string(),
                    limit,
                });
            }
            body.extend_from_slice(&chunk);
        }
        let text_header = |name: header::HeaderName| {
            response_headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        Ok(Fetched {
            final_url,
            status: status.as_u16(),
            content_type: text_header(header::CONTENT_TYPE),
            validators: Validators {
                etag: text_header(header::ETAG),
                last_modified: text_header(header::LAST_MODIFIED),
            },
            fresh_for: freshness(&response_headers),
            moved_to,
            link_headers: response_headers
                .get_all(header::LINK)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .map(str::to_owned)
                .collect(),
            body,
        })
    }

    async fn read_file(&self, url: &Url) -> Result<Fetched, FetchError> {
        let path = url.to_file_path().map_err(|()| FetchError::Refused {
            url: url.to_string(),
            reason: "not a local file path".into(),
        })?;
        let file_error = |source| FetchError::File {
            url: url.to_string(),
            source,
        };
        let metadata = tokio::fs::metadata(&path).await.map_err(file_error)?;
        if metadata.len() > self.options.max_body_bytes {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
                limit: self.options.max_body_bytes,
            });
        }
        let body = tokio::fs::read(&path).await.map_err(file_error)?;
        let content_type = match path.extension().and_then(|extension| extension.to_str()) {
            Some("html" | "htm") => Some("text/html".to_owned()),
            Some("json") => Some("application/feed+json".to_owned()),
            Some("xml" | "rss" | "atom") => Some("application/xml".to_owned()),
            _ => None,
        };
        Ok(Fetched {
            final_url: url.clone(),
            status: 200,
            content_type,
            body,
            validators: Validators::default(),
            fresh_for: None,
            moved_to: None,
            link_headers: Vec::new(),
        })
    }

    /// The checks a hop of an untrusted request passes before any
    /// connection: an http(s) URL with a host, and a literal address the
    /// guard allows. Names are checked when they are resolved, by the
    /// guarded client's resolver.
    fn check_hop(&self, url: &Url) -> Result<(), FetchError> {
        let refused = |reason: String| {
            tracing::warn!(url = %url, reason = %reason, "request refused by the address guard");
            Err(FetchError::Refused {
                url: url.to_string(),
                reason,
            })
        };
        if !matches!(url.scheme(), "http" | "https") {
            return refused(format!("scheme {} not allowed", url.scheme()));
        }
        let Some(host) = url.host() else {
            return refused("no host".into());
        };
        if let Some(address) = check_literal(&host, &self.options.allowed_private_addresses) {
            return refused(format!("{address} is not a public address"));
        }
        Ok(())
    }
}

/// Books the next request start to the host `key`: the earliest of `now`
/// and its next free slot, and moves the free slot `delay` past it. Hosts
/// whose slot has passed constrain nothing and are dropped when the table
/// grows.
fn book_slot(
    slots: &mut HashMap<String, Instant>,
    key: String,
    now: Instant,
    delay: Duration,
) -> Instant {
    if slots.len() > HOST_TABLE_PRUNE_AT {
        slots.retain(|_, next| *next > now);
    }
    let next = slots.entry(key).or_insert(now);
    let slot = (*next).max(now);
    *next = slot + delay;
    slot
}

fn header_value(text: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(text).ok()
}

fn transport_error(url: &Url, error: &reqwest::Error) -> FetchError {
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        if let Some(guard) = inner.downcast_ref::<NonPublicAddress>() {
            return FetchError::Refused {
                url: url.to_string(),
                reason: guard.to_string(),
            };
        }
        cause = inner.source();
    }
    if error.is_timeout() {
        return FetchError::Timeout {
            url: url.to_string(),
        };
    }
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    FetchError::Transport {
        url: url.to_string(),
        message,
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    delta.to_std().ok()
}

fn freshness(headers: &HeaderMap) -> Option<Duration> {
    if let Some(control) = headers
        .get(header::CACHE_CONTROL)
        .and_then(|value| value.to_str().ok())
    {
        for directive in control.split(',') {
            let directive = directive.trim().to_ascii_lowercase();
            if directive == "no-cache" || directive == "no-store" {
                return Some(Duration::ZERO);
            }
            if let Some(seconds) = directive.strip_prefix("max-age=") {
                if let Ok(seconds) = seconds.trim_matches('"').parse::<u64>() {
                    return Some(Duration::from_secs(seconds));
                }
            }
        }
    }
    let expires = headers.get(header::EXPIRES)?.to_str().ok()?;
    let when = chrono::DateTime::parse_from_rfc2822(expires).ok()?;
    (when.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_wins_over_expires() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=600"),
        );
        headers.insert(
            header::EXPIRES,
            HeaderValue::from_static("Thu, 01 Jan 2099 00:00:00 GMT"),
        );
        assert_eq!(freshness(&headers), Some(Duration::from_secs(600)));
    }

    #[test]
    fn request_starts_to_one_host_are_spaced_and_hosts_are_independent() {
        let mut slots = HashMap::new();
        let start = Instant::now();
        let second = Duration::from_secs(1);
        let booked: Vec<Instant> = (0..3)
            .map(|_| book_slot(&mut slots, "a:80".into(), start, second))
            .collect();
        assert_eq!(booked, vec![start, start + second, start + 2 * second]);
        // Another host is not held up by the first one's queue.
        assert_eq!(book_slot(&mut slots, "b:80".into(), start, second), start);
        // After a quiet spell the next request goes at once.
        let later = start + 10 * second;
        assert_eq!(book_slot(&mut slots, "a:80".into(), later, second), later);
    }

    #[test]
    fn the_host_table_forgets_hosts_that_no_longer_constrain() {
        let mut slots = HashMap::new();
        let start = Instant::now();
        let delay = Duration::from_millis(10);
        for index in 0..=HOST_TABLE_PRUNE_AT {
            book_slot(&mut slots, format!("host{index}:80"), start, delay);
        }
        assert_eq!(slots.len(), HOST_TABLE_PRUNE_AT + 1);
        book_slot(
            &mut slots,
            "new:80".into(),
            start + Duration::from_secs(1),
            delay,
        );
        assert_eq!(slots.len(), 1);
    }

    #[test]
    fn retry_after_reads_seconds() {
        let mut headers = HeaderMap::new();
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(120)));
    }
}
