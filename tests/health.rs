//! `/readyz` and `/metrics` against a bus that cannot deliver: the daemon on the Kafka bus
//! with its brokers unreachable (an address nothing listens on) must turn
//! not-ready with the reason, while `/healthz` stays 200.

use std::time::{Duration, Instant};

use crate::pipeline::{http_get, http_get_if_up};
use crate::support::{free_port, spawn_daemon, Scratch};

#[test]
fn readyz_reports_unreachable_brokers_and_healthz_stays_up() {
    let scratch = Scratch::new("health-no-broker");
    scratch.write("feeds.toml", "");
    let dead_broker = free_port();
    let metrics_port = free_port();
    let config = scratch.write(
        "wirewatch.toml",
        &format!(
            r#"
feeds = ["feeds.toml"]
state_dir = "state"

[bus]
kind = "kafka"

[bus.kafka]
brokers = "127.0.0.1:{dead_broker}"

[metrics]
listen = "127.0.0.1:{metrics_port}"

[output]
stdout = false
"#
        ),
    );
    let mut child = spawn_daemon(&config, std::process::Stdio::null());
    let started = Instant::now();
    let mut last = String::new();
    let mut not_ready = false;
    while started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(500));
        if let Ok(response) = std::panic::catch_unwind(|| http_get(metrics_port, "/readyz")) {
            last = response;
            if last.starts_with("HTTP/1.1 503") && last.contains("no kafka broker reachable") {
                not_ready = true;
                break;
            }
        }
    }
    let healthz = http_get(metrics_port, "/healthz");
    let metrics = http_get(metrics_port, "/metrics");
    let _ = child.kill();
    let _ = child.wait();
    assert!(not_ready, "readyz never reported the brokers: {last}");
    assert!(last.contains("stage clean"), "{last}");
    assert!(healthz.starts_with("HTTP/1.1 200"), "{healthz}");
    assert!(metrics.contains("\nwirewatch_bus_ready 0\n"), "{metrics}");
    let lost = metrics
        .lines()
        .find_map(|line| {
            line.strip_prefix("wirewatch_bus_transitions_total{event=\"brokers_lost\"} ")
        })
        .and_then(|count| count.trim().parse::<u64>().ok());
    assert!(lost.is_some_and(|count| count >= 1), "{metrics}");
}

/// The listener serves at most 64 connections at once: 64 clients that
/// connect and send nothing fill it, the next one is answered 503 `busy`;
/// each silent client is closed once its 5 s for a request head are up,
/// and then requests are served again. A request head over 16 KiB is
/// refused, not read on. SIGTERM ends a connection still open: the daemon
/// exits before its head timeout, every task ended.
#[test]
fn silent_clients_fill_the_listener_for_at_most_the_head_timeout_and_the_excess_is_told_busy() {
    use std::io::{Read, Write};
    let scratch = Scratch::new("listener-bounds");
    scratch.write("feeds.toml", "");
    let port = free_port();
    let config = scratch.write(
        "wirewatch.toml",
        &format!(
            "feeds = [\"feeds.toml\"]\nstate_dir = \"state\"\n\n[metrics]\nlisten = \"127.0.0.1:{port}\"\n\n[output]\nstdout = false\n"
        ),
    );
    let child = spawn_daemon(&config, std::process::Stdio::null());
    let started = Instant::now();
    while !http_get_if_up(port, "/healthz").starts_with("HTTP/1.1 200") {
        assert!(started.elapsed() < Duration::from_secs(30), "never up");
        std::thread::sleep(Duration::from_millis(100));
    }
    // 64 silent clients, each holding a slot. The server's task for the
    // last /healthz poll may still hold its slot for a moment after that
    // answer: a silent client accepted meanwhile is told busy at once, and
    // is replaced by another until all 64 hold slots.
    let mut silent: Vec<std::net::TcpStream> = Vec::new();
    let filling = Instant::now();
    loop {
        while silent.len() < 64 {
            silent.push(std::net::TcpStream::connect(("127.0.0.1", port)).unwrap());
        }
        std::thread::sleep(Duration::from_millis(500));
        silent.retain(|stream| !was_answered(stream));
        if silent.len() == 64 {
            break;
        }
        assert!(
            filling.elapsed() < Duration::from_secs(4),
            "the 64 slots never filled"
        );
    }
    let filled_at = Instant::now();
    let busy = http_get(port, "/healthz");
    // The silent clients are closed by the server after the head timeout.
    let mut closed_after = Vec::new();
    for mut stream in silent {
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        closed_after.push(filled_at.elapsed());
    }
    // A slot is free once the server's task for the closed connection has
    // ended, a moment after the client saw the close.
    let closed_at = Instant::now();
    let mut served_again = http_get(port, "/healthz");
    while !served_again.starts_with("HTTP/1.1 200") && closed_at.elapsed() < Duration::from_secs(2)
    {
        std::thread::sleep(Duration::from_millis(50));
        served_again = http_get(port, "/healthz");
    }
    let mut huge = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(32 * 1024)
    );
    let _ = huge.write_all(head.as_bytes());
    let mut answer = String::new();
    let _ = huge.read_to_string(&mut answer);
    let open = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let signalled = Instant::now();
    let (status, stderr) = crate::support::terminate(child);
    let took = signalled.elapsed();
    drop(open);
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("every task ended"), "{stderr}");
    assert!(
        took < Duration::from_secs(4),
        "an open connection held the exit for {took:?}"
    );
    assert!(busy.starts_with("HTTP/1.1 503"), "{busy}");
    assert!(busy.ends_with("busy\n"), "{busy}");
    let last = closed_after.iter().max().unwrap();
    assert!(
        *last < Duration::from_secs(15),
        "a silent client was held {last:?}"
    );
    assert!(served_again.starts_with("HTTP/1.1 200"), "{served_again}");
    // Most runs refuse the head at the read buffer's cap; the one that
    // once got through (the whole head in one read into a grown buffer)
    // is stopped by the server's head-size limit, and cannot be forced
    // from here: this catches the limit's loss only in such a run.
    assert!(
        answer.starts_with("HTTP/1.1 431"),
        "a 32 KiB head was not refused as too large: {answer}"
    );
}

/// Whether the server already wrote to (or closed) this client's
/// connection, without waiting.
fn was_answered(stream: &std::net::TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut byte = [0u8; 1];
    let answered = match stream.peek(&mut byte) {
        Ok(_) => true,
        Err(error) => error.kind() != std::io::ErrorKind::WouldBlock,
    };
    stream.set_nonblocking(false).unwrap();
    answered
}
