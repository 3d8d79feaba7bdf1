//! `/readyz` and `/metrics` against a bus that cannot deliver: the daemon on the Kafka bus
//! with its brokers unreachable (an address nothing listens on) must turn
//! not-ready with the reason, while `/healthz` stays 200.

use std::time::{Duration, Instant};

use crate::pipeline::http_get;
use crate::support::{binary, free_port, Scratch};

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
    let mut child = binary()
        .args(["run", "--config", config.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
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
