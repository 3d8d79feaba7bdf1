//! The address guard against the ways around it: robots.txt redirects,
//! DNS rebinding, feed redirects that leave the feed's host, and IPv6
//! forms of private IPv4 addresses. The "internal" services are real
//! servers on other loopback addresses (127.0.0.2), which the guard must
//! never let a request reach.

mod support;

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use support::{ok, response, test_http_options, Reply, Server};
use wirewatch_fetcher::{FetchError, HttpClient, HttpOptions, Lookup, LookupFuture, Validators};

/// An "internal" service the guard must keep requests away from.
async fn internal_service() -> Server {
    Server::start_on(
        "127.0.0.2:0",
        Arc::new(|_: &support::Request| ok("text/html", b"<p>internal admin page: secret</p>")),
    )
    .await
}

/// Options with no private address allowed at all.
fn strict_options() -> HttpOptions {
    HttpOptions {
        allowed_private_addresses: Vec::new(),
        ..test_http_options()
    }
}

fn assert_refused(error: &FetchError) {
    assert!(
        matches!(error, FetchError::Refused { .. }),
        "expected a refusal, got {error}"
    );
}

#[tokio::test]
async fn a_robots_txt_redirect_to_a_private_address_is_not_followed() {
    let internal = internal_service().await;
    let target = format!("http://{}/admin?x=1", internal.address);
    let site = Server::start(move |request| match request.path.as_str() {
        "/robots.txt" => Reply::Raw(response("302 Found", &[("Location", &target)], b"")),
        _ => ok("text/html", b"<p>story</p>"),
    })
    .await;
    // The site itself (127.0.0.1) is allowed; 127.0.0.2 is not.
    let http = HttpClient::new(test_http_options()).unwrap();
    let page = http.fetch_page(&site.url("/news/1")).await.unwrap();
    assert_eq!(page.body, b"<p>story</p>");
    assert!(
        site.requests().iter().any(|r| r.path == "/robots.txt"),
        "robots.txt was asked for"
    );
    assert!(
        internal.requests().is_empty(),
        "the redirect reached the internal service: {:?}",
        internal.requests()
    );
}

/// Answers a first lookup with a public address and every later one with
/// 127.0.0.1: a rebinding name.
struct Rebinding {
    calls: AtomicUsize,
}

impl Lookup for Rebinding {
    fn lookup(&self, _host: &str) -> LookupFuture {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let address: IpAddr = if call == 0 {
            "93.184.216.34".parse().unwrap()
        } else {
            "127.0.0.1".parse().unwrap()
        };
        Box::pin(async move { Ok(vec![address]) })
    }
}

#[tokio::test]
async fn a_rebinding_name_never_reaches_a_loopback_address() {
    let internal = Server::start(|_| ok("text/html", b"<p>internal</p>")).await;
    let lookup = Arc::new(Rebinding {
        calls: AtomicUsize::new(0),
    });
    let http = HttpClient::with_lookup(
        HttpOptions {
            respect_robots_txt: false,
            connect_timeout: Duration::from_millis(500),
            ..strict_options()
        },
        Arc::clone(&lookup) as Arc<dyn Lookup>,
    )
    .unwrap();
    let url = url::Url::parse(&format!(
        "http://rebind.wirewatch.invalid:{}/secret",
        internal.address.port()
    ))
    .unwrap();
    // However often it is asked, the name never gets the request to the
    // loopback server: the address checked is the address connected to.
    for _ in 0..3 {
        assert!(http.fetch_page(&url).await.is_err());
    }
    assert!(lookup.calls.load(Ordering::SeqCst) >= 2);
    assert!(
        internal.requests().is_empty(),
        "the rebinding name reached 127.0.0.1: {:?}",
        internal.requests()
    );
}

/// Maps names to fixed addresses.
struct Table(Vec<(&'static str, IpAddr)>);

impl Lookup for Table {
    fn lookup(&self, host: &str) -> LookupFuture {
        let found: Vec<IpAddr> = self
            .0
            .iter()
            .filter(|(name, _)| *name == host)
            .map(|(_, address)| *address)
            .collect();
        Box::pin(async move {
            if found.is_empty() {
                Err(std::io::Error::other("no such name"))
            } else {
                Ok(found)
            }
        })
    }
}

#[tokio::test]
async fn names_are_checked_at_connect_time_for_pages_robots_and_redirect_hops() {
    let internal = internal_service().await;
    let internal_port = internal.address.port();
    let site = Server::start(move |request| match request.path.as_str() {
        "/robots.txt" => Reply::Raw(response(
            "302 Found",
            &[(
                "Location",
                &format!("http://internal.wirewatch.invalid:{internal_port}/robots.txt"),
            )],
            b"",
        )),
        "/hop" => Reply::Raw(response(
            "302 Found",
            &[(
                "Location",
                &format!("http://internal.wirewatch.invalid:{internal_port}/admin"),
            )],
            b"",
        )),
        _ => ok("text/html", b"<p>story</p>"),
    })
    .await;
    let table = Table(vec![
        ("news.wirewatch.invalid", "127.0.0.1".parse().unwrap()),
        ("internal.wirewatch.invalid", "127.0.0.2".parse().unwrap()),
    ]);
    let http = HttpClient::with_lookup(test_http_options(), Arc::new(table)).unwrap();
    let base = format!("http://news.wirewatch.invalid:{}", site.address.port());
    // The page on the allowed address is fetched (its robots.txt redirect
    // to the internal name is refused, and counts as no robots.txt).
    let page = http
        .fetch_page(&url::Url::parse(&format!("{base}/story")).unwrap())
        .await
        .unwrap();
    assert_eq!(page.body, b"<p>story</p>");
    // A page redirect to the internal name is refused, with the reason.
    let error = http
        .fetch_page(&url::Url::parse(&format!("{base}/hop")).unwrap())
        .await
        .unwrap_err();
    assert_refused(&error);
    assert!(error.to_string().contains("not public"), "{error}");
    // A page link naming the internal host directly, too.
    let direct = url::Url::parse(&format!(
        "http://internal.wirewatch.invalid:{internal_port}/admin"
    ))
    .unwrap();
    assert_refused(&http.fetch_page(&direct).await.unwrap_err());
    assert!(
        internal.requests().is_empty(),
        "a request reached the internal service: {:?}",
        internal.requests()
    );
}

#[tokio::test]
async fn a_feed_may_be_private_but_its_redirects_may_not_leave_its_host() {
    let internal = internal_service().await;
    let target = format!("http://{}/feed.xml", internal.address);
    let feed_body = support::rss(&[("g1", "http://news.wirewatch.invalid/1")]);
    let feeds = Server::start(move |request| match request.path.as_str() {
        "/feed.xml" => ok("application/rss+xml", &feed_body),
        "/moved-here" => Reply::Raw(response("302 Found", &[("Location", "/feed.xml")], b"")),
        "/moved-inside" => Reply::Raw(response("302 Found", &[("Location", &target)], b"")),
        "/moved-to-metadata" => Reply::Raw(response(
            "302 Found",
            &[("Location", "http://169.254.169.254/latest/meta-data/")],
            b"",
        )),
        "/moved-to-v6" => Reply::Raw(response(
            "302 Found",
            &[("Location", "http://[::ffff:127.0.0.2]/feed.xml")],
            b"",
        )),
        _ => Reply::Raw(response("404 Not Found", &[], b"")),
    })
    .await;
    // No private address is allowed, yet the configured feed on 127.0.0.1
    // is fetched: the operator chose it.
    let http = HttpClient::new(strict_options()).unwrap();
    let validators = Validators::default();
    http.fetch_feed(&feeds.url("/feed.xml"), &validators, &[])
        .await
        .unwrap();
    http.fetch_feed(&feeds.url("/moved-here"), &validators, &[])
        .await
        .unwrap();
    for path in ["/moved-inside", "/moved-to-metadata", "/moved-to-v6"] {
        let error = http
            .fetch_feed(&feeds.url(path), &validators, &[])
            .await
            .unwrap_err();
        assert_refused(&error);
    }
    assert!(
        internal.requests().is_empty(),
        "a feed redirect reached the internal service: {:?}",
        internal.requests()
    );
}

#[tokio::test]
async fn ipv6_literals_that_carry_private_ipv4_addresses_are_refused() {
    let internal = internal_service().await;
    let port = internal.address.port();
    let http = HttpClient::new(test_http_options()).unwrap();
    for host in [
        "[::127.0.0.2]",
        "[::ffff:127.0.0.2]",
        "[64:ff9b::7f00:2]",
        "[2002:7f00:2::1]",
        "[fec0::1]",
    ] {
        let url = url::Url::parse(&format!("http://{host}:{port}/admin")).unwrap();
        let error = http.fetch_page(&url).await.unwrap_err();
        assert_refused(&error);
        assert!(
            error.to_string().contains("not a public address"),
            "{error}"
        );
    }
    assert!(internal.requests().is_empty());
}
