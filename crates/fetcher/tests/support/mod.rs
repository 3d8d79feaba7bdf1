//! A raw HTTP/1.1 server for the fetcher's network tests: it answers with
//! exactly the bytes, timing and failures a test asks for (drips, hangs,
//! resets), and records every request it saw.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wirewatch_fetcher::{
    FeedSpec, HttpClient, HttpOptions, ItemSink, PollOptions, Poller, StateStore,
};
use wirewatch_model::FeedItem;

/// One request as the server read it.
#[derive(Clone, Debug)]
pub struct Request {
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// What the server does with one request.
pub enum Reply {
    /// Writes these bytes (a whole response) and closes.
    Raw(Vec<u8>),
    /// Writes `head`, then the body one byte per `every`.
    Drip {
        head: Vec<u8>,
        body: Vec<u8>,
        every: Duration,
    },
    /// Writes `head`, then `total` bytes of `fill` in 64 KiB chunks.
    Stream {
        head: Vec<u8>,
        fill: u8,
        total: usize,
    },
    /// Never answers.
    Hang,
    /// Closes with a TCP reset.
    Reset,
}

/// A whole response with a `Content-Length` and `Connection: close`.
pub fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        bytes.push_str(&format!("{name}: {value}\r\n"));
    }
    bytes.push_str("\r\n");
    let mut bytes = bytes.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A 200 answer carrying `body` as `content_type`.
pub fn ok(content_type: &str, body: &[u8]) -> Reply {
    Reply::Raw(response("200 OK", &[("Content-Type", content_type)], body))
}

pub type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// A running server on `127.0.0.1:0` and the requests it has seen.
pub struct Server {
    pub address: SocketAddr,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    pub async fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Server {
        Server::start_on("127.0.0.1:0", Arc::new(handler)).await
    }

    pub async fn start_on(bind: &str, handler: Handler) -> Server {
        let listener = TcpListener::bind(bind).await.unwrap();
        let address = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handler = Arc::clone(&handler);
                let seen = Arc::clone(&seen);
                tokio::spawn(async move {
                    let _ = serve_connection(stream, handler, seen).await;
                });
            }
        });
        Server { address, requests }
    }

    pub fn url(&self, path: &str) -> url::Url {
        url::Url::parse(&format!("http://{}{path}", self.address)).unwrap()
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

async fn serve_connection(
    mut stream: TcpStream,
    handler: Handler,
    seen: Arc<Mutex<Vec<Request>>>,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..read]);
        if buffer.windows(4).any(|window| window == b"\r\n\r\n") || buffer.len() > 64 * 1024 {
            break;
        }
    }
    let text = String::from_utf8_lossy(&buffer);
    let mut lines = text.split("\r\n");
    let path = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .unwrap_or("/")
        .to_owned();
    let headers = lines
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let request = Request { path, headers };
    seen.lock().unwrap().push(request.clone());
    match handler(&request) {
        Reply::Raw(bytes) => {
            stream.write_all(&bytes).await?;
            stream.shutdown().await?;
        }
        Reply::Drip { head, body, every } => {
            stream.write_all(&head).await?;
            for byte in body {
                tokio::time::sleep(every).await;
                stream.write_all(&[byte]).await?;
            }
        }
        Reply::Stream { head, fill, total } => {
            stream.write_all(&head).await?;
            let block = vec![fill; 64 * 1024];
            let mut sent = 0;
            while sent < total {
                let size = block.len().min(total - sent);
                stream.write_all(&block[..size]).await?;
                sent += size;
            }
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Reply::Reset => {
            // SO_LINGER 0 makes the close a reset; the blocking concern in
            // the deprecation does not apply to a zero linger.
            #[allow(deprecated)]
            stream.set_linger(Some(Duration::ZERO))?;
            drop(stream);
        }
    }
    Ok(())
}

/// An RSS document with one item per `(guid, link)`, all published now.
pub fn rss(items: &[(&str, &str)]) -> Vec<u8> {
    let date = chrono::Utc::now().to_rfc2822();
    let mut body = String::from(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><link>http://example.invalid/</link>",
    );
    for (guid, link) in items {
        body.push_str(&format!(
            "<item><title>{guid}</title><guid>{guid}</guid><link>{link}</link><pubDate>{date}</pubDate></item>"
        ));
    }
    body.push_str("</channel></rss>");
    body.into_bytes()
}

/// Collects what the poller emits; optionally refuses everything, or
/// holds the item titled `hold_title` until `release` is notified.
#[derive(Default)]
pub struct CollectingSink {
    pub items: Mutex<Vec<FeedItem>>,
    pub refuse: std::sync::atomic::AtomicBool,
    pub hold_title: Mutex<Option<String>>,
    pub release: tokio::sync::Notify,
}

impl CollectingSink {
    pub fn titles(&self) -> Vec<String> {
        self.items
            .lock()
            .unwrap()
            .iter()
            .filter_map(|item| item.title.clone())
            .collect()
    }
}

#[async_trait]
impl ItemSink for CollectingSink {
    async fn accept(&self, item: FeedItem) -> Result<(), String> {
        if self.refuse.load(std::sync::atomic::Ordering::SeqCst) {
            return Err("downstream unavailable".into());
        }
        let held = self.hold_title.lock().unwrap().clone();
        if held.is_some() && held == item.title {
            self.release.notified().await;
        }
        self.items.lock().unwrap().push(item);
        Ok(())
    }
}

/// A fresh directory under the system temp dir for a poller's state. It is
/// kept (the poller holds its store open for the rest of the test).
pub fn temporary_dir(name: &str) -> PathBuf {
    tempfile::Builder::new()
        .prefix(&format!("wirewatch-fetcher-{name}-"))
        .tempdir()
        .unwrap()
        .keep()
}

/// Options for tests: short timeouts, small body limit, no host delay.
pub fn test_http_options() -> HttpOptions {
    HttpOptions {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(2),
        max_body_bytes: 1024 * 1024,
        max_redirects: 5,
        allowed_private_addresses: vec!["127.0.0.1".parse().unwrap()],
        min_host_delay: Duration::ZERO,
        ..HttpOptions::default()
    }
}

pub fn test_poll_options() -> PollOptions {
    PollOptions {
        min_interval: Duration::from_secs(60),
        max_interval: Duration::from_secs(3600),
        max_backoff: Duration::from_secs(3600),
        jitter: 0.0,
        max_item_age: None,
        ..PollOptions::default()
    }
}

pub fn poller(name: &str, http: HttpOptions, sink: Arc<CollectingSink>) -> Arc<Poller> {
    poller_with(name, http, test_poll_options(), sink)
}

pub fn poller_with(
    name: &str,
    http: HttpOptions,
    poll: PollOptions,
    sink: Arc<CollectingSink>,
) -> Arc<Poller> {
    let store = StateStore::open(&temporary_dir(name)).unwrap();
    let http = HttpClient::new(http).unwrap();
    Arc::new(Poller::new(http, store, poll, sink))
}

/// A response head without a length: the body runs until the connection
/// closes.
pub fn open_ended_head(headers: &[(&str, &str)]) -> Vec<u8> {
    let mut head = String::from("HTTP/1.1 200 OK\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// A gzip member that inflates to about `inflated` zero bytes while
/// staying ~160 times smaller on the wire: one fixed-Huffman deflate block
/// of a literal zero followed by maximal back-references to it. The CRC is
/// left zero on purpose: a client that inflates it all fails anyway, but
/// only a client that stops at its limit reports the size.
pub fn gzip_bomb(inflated: usize) -> Vec<u8> {
    struct Bits {
        bytes: Vec<u8>,
        current: u32,
        filled: u32,
    }
    impl Bits {
        // Deflate packs Huffman codes most significant bit first into a
        // least-significant-bit-first stream.
        fn code(&mut self, code: u32, length: u32) {
            for shift in (0..length).rev() {
                self.bit((code >> shift) & 1);
            }
        }
        fn bit(&mut self, bit: u32) {
            self.current |= bit << self.filled;
            self.filled += 1;
            if self.filled == 8 {
                self.bytes.push(self.current as u8);
                self.current = 0;
                self.filled = 0;
            }
        }
    }
    let mut bits = Bits {
        bytes: vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255],
        current: 0,
        filled: 0,
    };
    bits.bit(1); // final block
    bits.bit(1); // BTYPE = 01 (fixed Huffman), low bit first
    bits.bit(0);
    bits.code(0x30, 8); // literal 0
    for _ in 0..inflated / 258 {
        bits.code(0b1100_0101, 8); // length 258 (symbol 285)
        bits.code(0, 5); // distance 1
    }
    bits.code(0, 7); // end of block
    while bits.filled != 0 {
        bits.bit(0);
    }
    let mut bytes = bits.bytes;
    bytes.extend_from_slice(&[0; 4]); // CRC-32 (deliberately wrong)
    bytes.extend_from_slice(&(inflated as u32).to_le_bytes());
    bytes
}

pub fn feed(url: url::Url) -> FeedSpec {
    FeedSpec {
        url,
        title: None,
        tags: vec![],
        interval: Duration::from_secs(300),
        headers: vec![],
        websub: false,
    }
}
