//! A small but real HTTP/1.1 server on 127.0.0.1:0 for tests. Routes are
//! set and changed while it runs; it honours `If-None-Match` for routes with
//! an ETag, can answer a route's next requests with given statuses, and
//! records every request with its body.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug, Default)]
pub struct Route {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    pub etag: Option<String>,
    pub extra_headers: Vec<(String, String)>,
    /// Waits this long before answering (a slow page keeps work in flight).
    pub delay: Option<Duration>,
}

impl Route {
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Route {
        Route {
            status: 200,
            content_type: content_type.into(),
            body: body.into(),
            ..Route::default()
        }
    }

    /// An empty answer with `status`.
    pub fn status(status: u16) -> Route {
        Route {
            status,
            ..Route::default()
        }
    }

    pub fn with_delay(mut self, delay: Duration) -> Route {
        self.delay = Some(delay);
        self
    }

    pub fn with_etag(mut self, etag: &str) -> Route {
        self.etag = Some(etag.into());
        self
    }
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Names lowercased.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub status: u16,
    /// When it was answered.
    pub at: std::time::Instant,
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    /// path -> statuses for its next requests, before its route answers.
    scripted: HashMap<String, VecDeque<u16>>,
    requests: Vec<Request>,
    arrived: Vec<String>,
}

pub struct TestServer {
    pub port: u16,
    /// The loopback address it listens on.
    pub ip: String,
    state: Arc<Mutex<State>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::start_on("127.0.0.1")
    }

    /// A server on another loopback address (127.0.0.0/8): another host
    /// for a client that tells hosts apart.
    pub fn start_on(ip: &str) -> TestServer {
        let listener =
            TcpListener::bind((ip, 0)).unwrap_or_else(|error| panic!("binding {ip}:0: {error}"));
        let port = listener.local_addr().unwrap().port();
        let state: Arc<Mutex<State>> = Arc::default();
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        TestServer {
            port,
            ip: ip.to_owned(),
            state,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}:{}{path}", self.ip, self.port)
    }

    pub fn route(&self, path: &str, route: Route) {
        self.state.lock().unwrap().routes.insert(path.into(), route);
    }

    /// Answers the next requests to `path` with `statuses` (empty bodies),
    /// one each, before its route answers again.
    pub fn answer_next(&self, path: &str, statuses: &[u16]) {
        self.state
            .lock()
            .unwrap()
            .scripted
            .entry(path.into())
            .or_default()
            .extend(statuses);
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The paths of the requests received so far, answered or not (a
    /// delayed route's request is here while its answer is still due).
    pub fn arrived(&self) -> Vec<String> {
        self.state.lock().unwrap().arrived.clone()
    }
}

/// Reads a request line and its headers (names lowercased); `None` when
/// the connection closes first.
pub fn read_head(reader: &mut impl BufRead) -> Option<(String, HashMap<String, String>)> {
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return None;
    }
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            return Some((request_line, headers));
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(clone) => clone,
        Err(_) => return,
    });
    let mut writer = stream;
    loop {
        let Some((request_line, headers)) = read_head(&mut reader) else {
            return;
        };
        let mut words = request_line.split_whitespace();
        let method = words.next().unwrap_or("GET").to_owned();
        let path = words.next().unwrap_or("/").to_owned();
        let length: usize = headers
            .get("content-length")
            .and_then(|length| length.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let route = {
            let mut state = state.lock().unwrap();
            state.arrived.push(path.clone());
            let scripted = state
                .scripted
                .get_mut(&path)
                .and_then(VecDeque::pop_front)
                .map(Route::status);
            scripted.or_else(|| state.routes.get(&path).cloned())
        };
        if let Some(delay) = route.as_ref().and_then(|route| route.delay) {
            std::thread::sleep(delay);
        }
        let request_body = body;
        let (status, content_type, body, etag, extra) = match route {
            None => (
                404,
                "text/plain".to_owned(),
                b"not found".to_vec(),
                None,
                vec![],
            ),
            Some(route) => {
                let matches =
                    route.etag.is_some() && headers.get("if-none-match") == route.etag.as_ref();
                if matches {
                    (
                        304,
                        String::new(),
                        Vec::new(),
                        route.etag,
                        route.extra_headers,
                    )
                } else {
                    (
                        route.status,
                        route.content_type,
                        route.body,
                        route.etag,
                        route.extra_headers,
                    )
                }
            }
        };
        state.lock().unwrap().requests.push(Request {
            method,
            path: path.clone(),
            headers: headers.clone(),
            body: request_body,
            status,
            at: std::time::Instant::now(),
        });
        let reason = match status {
            200 => "OK",
            304 => "Not Modified",
            404 => "Not Found",
            _ => "Status",
        };
        let mut head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\n",
            body.len()
        );
        if !content_type.is_empty() {
            head.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        if let Some(etag) = etag {
            head.push_str(&format!("ETag: {etag}\r\n"));
        }
        for (name, value) in extra {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(&body).is_err() {
            return;
        }
        let _ = writer.flush();
        if headers
            .get("connection")
            .is_some_and(|value| value.eq_ignore_ascii_case("close"))
        {
            return;
        }
    }
}
