//! Scale: 10,000 feeds on local servers, every one answering 304 after the
//! first round. Reports polls per second, CPU seconds of the fetcher
//! process per full round of 304s, and its peak RSS.
//!
//! The feed servers run in a child process (this same binary, started with
//! `WIREWATCH_SCALE_SERVE`), so the CPU and memory figures are the
//! fetcher's alone. The state store lives in the system temporary
//! directory (on disk here), with the production durability settings.
//!
//! Knobs (environment): `WIREWATCH_SCALE_FEEDS` (10000),
//! `WIREWATCH_SCALE_SERVERS` (100 servers, each its own host:port for the
//! per-host limits), `WIREWATCH_SCALE_HOST_DELAY_MS` (0: the default 1 s
//! spacing would make a round take feeds/servers seconds, which measures
//! politeness, not the fetcher), `WIREWATCH_SCALE_ROUNDS` (3 rounds of 304s).
//!
//! Run: `cargo bench -p wirewatch-fetcher --bench scale`

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader as AsyncBufReader};
use tokio::net::TcpListener;
use wirewatch_fetcher::{
    FeedSpec, HttpClient, HttpOptions, ItemSink, PollOptions, Poller, StateStore,
};
use wirewatch_model::FeedItem;

const SERVE: &str = "WIREWATCH_SCALE_SERVE";

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if let Ok(servers) = std::env::var(SERVE) {
        serve(servers.parse().expect("server count"));
        return;
    }
    // `cargo bench` passes `--bench`; a filter that is not ours skips it.
    if std::env::args()
        .skip(1)
        .any(|arg| !arg.starts_with('-') && !"scale".contains(arg.as_str()))
    {
        return;
    }
    let feeds = knob("WIREWATCH_SCALE_FEEDS", 10_000) as usize;
    let servers = knob("WIREWATCH_SCALE_SERVERS", 100) as usize;
    let host_delay = Duration::from_millis(knob("WIREWATCH_SCALE_HOST_DELAY_MS", 0));
    let rounds = knob("WIREWATCH_SCALE_ROUNDS", 3);

    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .env(SERVE, servers.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting the feed servers");
    let mut ports = String::new();
    BufReader::new(child.stdout.take().expect("child stdout"))
        .read_line(&mut ports)
        .expect("reading the server ports");
    let ports: Vec<u16> = ports
        .split_whitespace()
        .map(|port| port.parse().expect("port"))
        .collect();
    assert_eq!(ports.len(), servers);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let state_dir = std::env::temp_dir().join(format!("wirewatch-scale-{}", std::process::id()));
        let store = StateStore::open(&state_dir).expect("state store");
        let http = HttpClient::new(HttpOptions {
            min_host_delay: host_delay,
            ..HttpOptions::default()
        })
        .expect("http client");
        let sink = Arc::new(CountingSink::default());
        let options = PollOptions {
            max_item_age: None,
            ..PollOptions::default()
        };
        let poller = Arc::new(Poller::new(http, store, options.clone(), Arc::clone(&sink) as Arc<dyn ItemSink>));
        let specs: Vec<FeedSpec> = (0..feeds)
            .map(|index| FeedSpec {
                url: format!("http://127.0.0.1:{}/feed/{index}", ports[index % servers]).parse().expect("url"),
                title: None,
                tags: vec![],
                interval: Duration::from_secs(900),
                headers: vec![],
                websub: false,
            })
            .collect();
        println!(
            "scale: {feeds} feeds on {servers} servers, global limit {}, per-server limit {}, host spacing {host_delay:?}",
            options.max_concurrent_requests, options.max_concurrent_requests_per_host
        );
        let first = round(&poller, &specs).await;
        println!(
            "round 1 (200s, {} new items): {:.2} s wall, {:.2} CPU s, {:.0} polls/s, {} errors",
            sink.items.load(Ordering::SeqCst),
            first.wall.as_secs_f64(),
            first.cpu,
            feeds as f64 / first.wall.as_secs_f64(),
            first.errors
        );
        for number in 2..=rounds + 1 {
            let measured = round(&poller, &specs).await;
            assert_eq!(measured.errors, 0, "failures in a round of 304s");
            assert_eq!(measured.not_modified, feeds, "every feed answers 304");
            println!(
                "round {number} (304s): {:.2} s wall, {:.2} CPU s, {:.0} polls/s",
                measured.wall.as_secs_f64(),
                measured.cpu,
                feeds as f64 / measured.wall.as_secs_f64()
            );
        }
        println!("peak RSS (VmHWM): {:.1} MB", peak_rss_kib() as f64 / 1024.0);
        drop(poller);
        let _ = std::fs::remove_dir_all(&state_dir);
    });
    let _ = child.kill();
    let _ = child.wait();
}

#[derive(Default)]
struct CountingSink {
    items: AtomicUsize,
}

#[async_trait]
impl ItemSink for CountingSink {
    async fn accept(&self, _item: FeedItem) -> Result<(), String> {
        self.items.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

struct Round {
    wall: Duration,
    cpu: f64,
    errors: usize,
    not_modified: usize,
}

/// Polls every feed once, all at once (the limits inside the poller do the
/// throttling), as `wirewatch fetch --once` does.
async fn round(poller: &Arc<Poller>, specs: &[FeedSpec]) -> Round {
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for spec in specs {
        let spec = spec.clone();
        let poller = Arc::clone(poller);
        tasks.spawn(async move { poller.poll_once(&spec).await });
    }
    let (mut errors, mut not_modified) = (0, 0);
    while let Some(joined) = tasks.join_next().await {
        match joined.expect("poll task") {
            Ok(outcome) if outcome.error.is_none() => {
                not_modified += usize::from(outcome.not_modified);
            }
            Ok(outcome) => {
                if errors == 0 {
                    eprintln!("first error: {:?}", outcome.error);
                }
                errors += 1;
            }
            Err(error) => panic!("state store: {error}"),
        }
    }
    Round {
        wall: started.elapsed(),
        cpu: cpu_seconds() - cpu_before,
        errors,
        not_modified,
    }
}

/// User plus system CPU of this process, from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the whole line.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |index: usize| -> u64 {
        fields
            .get(index)
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    };
    // `fields[0]` is the 3rd field (state): utime is 14th, stime 15th.
    let ticks = field(11) + field(12);
    ticks as f64 / clock_ticks_per_second()
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The child process: `servers` keep-alive HTTP/1.1 servers on 127.0.0.1;
/// each feed answers 200 with an ETag the first time and 304 after.
fn serve(servers: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("server runtime");
    runtime.block_on(async move {
        let mut ports = Vec::new();
        for _ in 0..servers {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            ports.push(listener.local_addr().expect("address").port().to_string());
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(connection(stream));
                }
            });
        }
        let mut stdout = std::io::stdout();
        writeln!(stdout, "{}", ports.join(" ")).expect("stdout");
        stdout.flush().expect("stdout");
        std::future::pending::<()>().await;
    });
}

async fn connection(stream: tokio::net::TcpStream) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = AsyncBufReader::new(reader);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let path = line.split(' ').nth(1).unwrap_or("/").to_owned();
        let mut validator_matches = false;
        loop {
            line.clear();
            if reader.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("if-none-match") && value.trim() == "\"v1\"" {
                    validator_matches = true;
                }
            }
        }
        let response = if validator_matches {
            "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 0\r\n\r\n".to_owned()
        } else {
            let body = format!(
                "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>feed</title><item><title>story</title><guid>{path}#1</guid><link>http://example.invalid{path}/1</link></item></channel></rss>"
            );
            format!(
                "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        writer.write_all(response.as_bytes()).await?;
    }
}
