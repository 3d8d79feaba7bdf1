//! Connections to one host are kept for reuse up to the host's request
//! concurrency, so a busy host is not sent a new connection per request.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use support::test_http_options;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wirewatch_fetcher::{HttpClient, HttpOptions};

/// A keep-alive server: answers any number of requests per connection,
/// each after `delay`; counts the connections it accepted.
async fn keep_alive_server(delay: Duration) -> (url::Url, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    while let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n")
                    {
                        buffer.drain(..end + 4);
                        tokio::time::sleep(delay).await;
                        let body = "<html><body><p>page</p></body></html>";
                        let reply = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if stream.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => buffer.extend_from_slice(&chunk[..read]),
                    }
                }
            });
        }
    });
    (
        url::Url::parse(&format!("http://{address}/page")).unwrap(),
        connections,
    )
}

/// Three rounds of two concurrent page fetches to one host.
async fn connections_for_rounds(options: HttpOptions) -> usize {
    let (url, connections) = keep_alive_server(Duration::from_millis(50)).await;
    let client = HttpClient::new(options).unwrap();
    for _ in 0..3 {
        let (first, second) = tokio::join!(client.fetch_page(&url), client.fetch_page(&url));
        assert_eq!(first.unwrap().status, 200);
        assert_eq!(second.unwrap().status, 200);
    }
    connections.load(Ordering::SeqCst)
}

#[tokio::test]
async fn a_host_s_concurrent_requests_reuse_their_connections() {
    let options = HttpOptions {
        respect_robots_txt: false,
        max_idle_per_host: 2,
        ..test_http_options()
    };
    assert_eq!(connections_for_rounds(options).await, 2);
    // With one idle connection kept, every round opens a second one again.
    let options = HttpOptions {
        respect_robots_txt: false,
        max_idle_per_host: 1,
        ..test_http_options()
    };
    assert_eq!(connections_for_rounds(options).await, 4);
}
