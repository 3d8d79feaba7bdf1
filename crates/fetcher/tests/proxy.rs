//! Environment proxies and the address guard. Its own test binary: it sets
//! HTTP_PROXY for the whole process.

mod support;

use support::{response, test_http_options, Reply, Server};
use wirewatch_fetcher::HttpClient;

/// A page (untrusted) is fetched directly even when HTTP_PROXY names a
/// proxy: through it the guard could not check the address connected to.
#[tokio::test]
async fn untrusted_requests_ignore_the_environment_proxy() {
    let proxy =
        Server::start(|_| Reply::Raw(response("200 OK", &[], b"<p>from the proxy</p>"))).await;
    let site = Server::start(|_| Reply::Raw(response("200 OK", &[], b"<p>direct</p>"))).await;
    let proxy_url = format!("http://{}", proxy.address);
    // Set before the client is built; the only test in this process.
    std::env::set_var("HTTP_PROXY", &proxy_url);
    std::env::set_var("http_proxy", &proxy_url);
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");
    let http = HttpClient::new(test_http_options()).unwrap();
    let page = http.fetch_page(&site.url("/story")).await.unwrap();
    assert_eq!(page.body, b"<p>direct</p>");
    assert!(
        proxy.requests().is_empty(),
        "the proxy was asked: {:?}",
        proxy.requests()
    );
}
