//! Article pages: robots.txt, the private-address guard at every hop, and
//! the same limits as feeds.

mod support;

use std::time::Duration;

use support::{ok, response, test_http_options, Reply, Server};
use wirewatch_fetcher::{FetchError, HttpClient, HttpOptions};

async fn site() -> Server {
    Server::start(|request| match request.path.as_str() {
        "/robots.txt" => ok(
            "text/plain",
            b"User-agent: *\nDisallow: /private/\n\nUser-agent: otherbot\nDisallow: /\n",
        ),
        "/hop" => Reply::Raw(response(
            "302 Found",
            &[("Location", "/private/story")],
            b"",
        )),
        "/big" => Reply::Raw(response("200 OK", &[], &vec![b'x'; 2 * 1024 * 1024])),
        _ => ok("text/html", b"<p>story</p>"),
    })
    .await
}

fn robots_requests(server: &Server) -> usize {
    server
        .requests()
        .iter()
        .filter(|request| request.path == "/robots.txt")
        .count()
}

#[tokio::test]
async fn robots_txt_is_honoured_and_cached_per_host() {
    let server = site().await;
    let http = HttpClient::new(test_http_options()).unwrap();
    let page = http.fetch_page(&server.url("/news/1")).await.unwrap();
    assert_eq!(page.body, b"<p>story</p>");
    let refused = http
        .fetch_page(&server.url("/private/story"))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, FetchError::RobotsDisallowed { .. }),
        "{refused}"
    );
    assert!(refused.to_string().contains("/private/story"));
    assert!(refused.to_string().contains("robots.txt"));
    // A redirect into a disallowed path is refused too.
    let via_hop = http.fetch_page(&server.url("/hop")).await.unwrap_err();
    assert!(
        matches!(via_hop, FetchError::RobotsDisallowed { .. }),
        "{via_hop}"
    );
    http.fetch_page(&server.url("/news/2")).await.unwrap();
    assert_eq!(robots_requests(&server), 1);
    assert!(!server
        .requests()
        .iter()
        .any(|request| request.path.starts_with("/private")));
}

#[tokio::test]
async fn robots_txt_can_be_turned_off() {
    let server = site().await;
    let http = HttpClient::new(HttpOptions {
        respect_robots_txt: false,
        ..test_http_options()
    })
    .unwrap();
    http.fetch_page(&server.url("/private/story"))
        .await
        .unwrap();
    assert_eq!(robots_requests(&server), 0);
}

#[tokio::test]
async fn a_missing_robots_txt_allows_everything() {
    let server = Server::start(|request| {
        if request.path == "/robots.txt" {
            Reply::Raw(response("404 Not Found", &[], b""))
        } else {
            Reply::Raw(response("200 OK", &[], b"<p>ok</p>"))
        }
    })
    .await;
    let http = HttpClient::new(test_http_options()).unwrap();
    let page = http
        .fetch_page(&server.url("/private/story"))
        .await
        .unwrap();
    assert_eq!(page.body, b"<p>ok</p>");
    assert_eq!(robots_requests(&server), 1, "robots.txt was not asked for");
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/robots.txt", "/private/story"]);
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed_at_every_hop() {
    // A second site on another loopback address, 127.0.0.2, which the
    // options below do not allow: a redirect there must not reach it.
    let internal = Server::start_on(
        "127.0.0.2:0",
        std::sync::Arc::new(|_: &support::Request| {
            Reply::Raw(response("200 OK", &[], b"<p>internal</p>"))
        }),
    )
    .await;
    let to_internal = internal.url("/admin");
    let server = Server::start(move |request| match request.path.as_str() {
        "/internal" => Reply::Raw(response(
            "302 Found",
            &[("Location", to_internal.as_str())],
            b"",
        )),
        "/metadata" => Reply::Raw(response(
            "302 Found",
            &[("Location", "http://169.254.169.254/latest/meta-data/")],
            b"",
        )),
        _ => Reply::Raw(response("200 OK", &[], b"<p>story</p>")),
    })
    .await;
    let strict = HttpClient::new(HttpOptions {
        allowed_private_addresses: vec![],
        ..test_http_options()
    })
    .unwrap();
    let refused = strict.fetch_page(&server.url("/news/1")).await.unwrap_err();
    assert!(matches!(refused, FetchError::Refused { .. }), "{refused}");
    assert!(
        server.requests().is_empty(),
        "a refused address was sent a request"
    );
    // Loopback 127.0.0.1 allowed: its page is fetched, but a redirect to
    // 127.0.0.2 or to the metadata service is refused before connecting.
    let http = HttpClient::new(test_http_options()).unwrap();
    http.fetch_page(&server.url("/news/1")).await.unwrap();
    let hop = http.fetch_page(&server.url("/internal")).await.unwrap_err();
    assert!(matches!(hop, FetchError::Refused { .. }), "{hop}");
    assert!(hop.to_string().contains("127.0.0.2"), "{hop}");
    assert!(
        internal.requests().is_empty(),
        "the redirect reached 127.0.0.2: {:?}",
        internal.requests()
    );
    let metadata = http.fetch_page(&server.url("/metadata")).await.unwrap_err();
    assert!(
        metadata.to_string().contains("169.254.169.254"),
        "{metadata}"
    );
}

#[tokio::test]
async fn pages_have_the_same_body_limit_and_spacing_as_feeds() {
    let server = site().await;
    let http = HttpClient::new(HttpOptions {
        min_host_delay: Duration::from_millis(200),
        ..test_http_options()
    })
    .unwrap();
    let too_large = http.fetch_page(&server.url("/big")).await.unwrap_err();
    assert!(
        matches!(too_large, FetchError::TooLarge { .. }),
        "{too_large}"
    );
    let started = std::time::Instant::now();
    http.fetch_page(&server.url("/a")).await.unwrap();
    http.fetch_page(&server.url("/b")).await.unwrap();
    // robots.txt, /big, /a, /b: each start at least 200 ms after the last.
    assert!(
        started.elapsed() >= Duration::from_millis(350),
        "{:?}",
        started.elapsed()
    );
}
