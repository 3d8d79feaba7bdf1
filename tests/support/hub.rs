//! A small WebSub hub on 127.0.0.1:0 for the tests: it takes subscription
//! requests (form POSTs), verifies the subscriber's intent with a GET on
//! the callback as the spec says (after answering 202), and pushes feed
//! bodies signed with the subscriber's secret. It can be told to accept
//! requests without verifying them, and be stopped (connections refused).

use std::collections::HashMap;
use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};

/// One subscription request as the hub received it.
#[derive(Clone, Debug)]
pub struct SubscriptionRequest {
    pub callback: String,
    pub mode: String,
    pub topic: String,
    pub lease_seconds: Option<u64>,
    pub secret: Option<String>,
    pub received_at: Instant,
    /// When the subscriber echoed the challenge (`None`: not verified).
    pub verified_at: Option<Instant>,
}

#[derive(Default)]
struct State {
    requests: Vec<SubscriptionRequest>,
    /// Answer 202 but never verify.
    silent: bool,
}

pub struct TestHub {
    pub port: u16,
    state: Arc<Mutex<State>>,
    stopped: Arc<AtomicBool>,
}

impl TestHub {
    pub fn start() -> TestHub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let state: Arc<Mutex<State>> = Arc::default();
        let stopped = Arc::new(AtomicBool::new(false));
        let (shared, stop) = (Arc::clone(&state), Arc::clone(&stopped));
        std::thread::spawn(move || {
            // Polled so that `stop` can close the listener.
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let state = Arc::clone(&shared);
                        std::thread::spawn(move || serve(stream, &state));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        TestHub {
            port,
            state,
            stopped,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hub", self.port)
    }

    /// From now on, requests are answered 202 and never verified.
    pub fn stop_verifying(&self) {
        self.state.lock().unwrap().silent = true;
    }

    /// Closes the listener: requests to the hub are refused.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        // Let the accept loop see the flag and drop the listener.
        std::thread::sleep(Duration::from_millis(50));
    }

    pub fn requests(&self) -> Vec<SubscriptionRequest> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Waits until `count` requests were verified; the verified ones.
    pub fn wait_verified(&self, count: usize, timeout: Duration) -> Vec<SubscriptionRequest> {
        let deadline = Instant::now() + timeout;
        loop {
            let verified: Vec<SubscriptionRequest> = self
                .requests()
                .into_iter()
                .filter(|request| request.verified_at.is_some())
                .collect();
            if verified.len() >= count {
                return verified;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} subscriptions verified in {timeout:?}; requests: {:?}",
                verified.len(),
                self.requests()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Pushes `body` to the subscription's callback, signed with
    /// HMAC-SHA256 under its secret; the status code.
    pub fn push(&self, subscription: &SubscriptionRequest, body: &str) -> u16 {
        let signature = sign::<Hmac<sha2::Sha256>>("sha256", subscription, body);
        self.push_with_signature(subscription, body, Some(&signature))
    }

    /// Pushes with HMAC-SHA1 (the spec allows it).
    pub fn push_sha1(&self, subscription: &SubscriptionRequest, body: &str) -> u16 {
        let signature = sign::<Hmac<sha1::Sha1>>("sha1", subscription, body);
        self.push_with_signature(subscription, body, Some(&signature))
    }

    /// Pushes signed with HMAC-SHA256, the body sent in 100-byte chunks
    /// (`Transfer-Encoding: chunked`, no length).
    pub fn push_chunked(&self, subscription: &SubscriptionRequest, body: &str) -> u16 {
        let signature = sign::<Hmac<sha2::Sha256>>("sha256", subscription, body);
        let mut request = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/rss+xml\r\nTransfer-Encoding: chunked\r\nX-Hub-Signature: {signature}\r\nConnection: close\r\n\r\n",
            path_of(&subscription.callback),
            authority_of(&subscription.callback),
        );
        for chunk in body.as_bytes().chunks(100) {
            request.push_str(&format!("{:x}\r\n", chunk.len()));
            request.push_str(std::str::from_utf8(chunk).expect("ASCII feed body"));
            request.push_str("\r\n");
        }
        request.push_str("0\r\n\r\n");
        let (status, _) = exchange(&subscription.callback, &request);
        status
    }

    /// Pushes with any `X-Hub-Signature` header, or none.
    pub fn push_with_signature(
        &self,
        subscription: &SubscriptionRequest,
        body: &str,
        signature: Option<&str>,
    ) -> u16 {
        let mut head = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\nConnection: close\r\n",
            path_of(&subscription.callback),
            authority_of(&subscription.callback),
            body.len()
        );
        if let Some(signature) = signature {
            head.push_str(&format!("X-Hub-Signature: {signature}\r\n"));
        }
        head.push_str("\r\n");
        let (status, _) = exchange(&subscription.callback, &(head + body));
        status
    }
}

/// `method=<hex HMAC of body under the subscription's secret>`.
fn sign<M: Mac + hmac::digest::KeyInit>(
    method: &str,
    subscription: &SubscriptionRequest,
    body: &str,
) -> String {
    let secret = subscription.secret.as_deref().expect("a secret");
    let mut mac = <M as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("{method}={}", hex(&mac.finalize().into_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn authority_of(url: &str) -> String {
    let url = url::Url::parse(url).expect("callback url");
    format!(
        "{}:{}",
        url.host_str().unwrap(),
        url.port_or_known_default().unwrap()
    )
}

fn path_of(url: &str) -> String {
    let url = url::Url::parse(url).expect("callback url");
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

/// Sends a whole request to the callback's host; the status and body.
fn exchange(url: &str, request: &str) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(authority_of(url)) else {
        return (0, String::new());
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    if stream.write_all(request.as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let Some((_, headers)) = super::http::read_head(&mut reader) else {
        return;
    };
    let length = headers
        .get("content-length")
        .and_then(|length| length.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let (Some(callback), Some(mode), Some(topic)) = (
        form.get("hub.callback"),
        form.get("hub.mode"),
        form.get("hub.topic"),
    ) else {
        let _ = writer.write_all(
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        return;
    };
    let request = SubscriptionRequest {
        callback: callback.clone(),
        mode: mode.clone(),
        topic: topic.clone(),
        lease_seconds: form
            .get("hub.lease_seconds")
            .and_then(|lease| lease.parse().ok()),
        secret: form.get("hub.secret").cloned(),
        received_at: Instant::now(),
        verified_at: None,
    };
    let index = {
        let mut state = state.lock().unwrap();
        state.requests.push(request.clone());
        if state.silent {
            None
        } else {
            Some(state.requests.len() - 1)
        }
    };
    let _ = writer
        .write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    drop(writer);
    let Some(index) = index else {
        return;
    };
    // The intent verification, after the 202 as the spec describes it.
    let challenge = format!("challenge-{index}-{}", std::process::id());
    let separator = if request.callback.contains('?') {
        '&'
    } else {
        '?'
    };
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("hub.mode", &request.mode)
        .append_pair("hub.topic", &request.topic)
        .append_pair("hub.challenge", &challenge)
        .append_pair(
            "hub.lease_seconds",
            &request.lease_seconds.unwrap_or(3600).to_string(),
        )
        .finish();
    let target = format!("{}{separator}{query}", request.callback);
    let get = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        path_of(&target),
        authority_of(&target)
    );
    let (status, answer) = exchange(&target, &get);
    if status == 200 && answer == challenge {
        state.lock().unwrap().requests[index].verified_at = Some(Instant::now());
    }
}
