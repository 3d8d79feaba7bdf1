//! Helpers shared by the integration tests: a real HTTP server on
//! 127.0.0.1, scratch directories, and running the `wirewatch` binary.

pub mod http;
pub mod hub;
pub mod kafka;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/` beside the repository. The tests that call this are
/// `#[ignore]`d unless `cfg(shared_data)` (`build/shared_data.rs`); under
/// `CI` they run, and a missing folder fails them here.
pub fn shared_dir() -> PathBuf {
    let dir = repo_root().join("../shared");
    assert!(
        dir.is_dir(),
        "{} is missing (CI needs ../shared/ beside the repository)",
        dir.display()
    );
    dir
}

/// A fresh, empty directory under the system temp dir, removed on drop,
/// except when the test panicked: then it is kept for a look.
pub struct Scratch {
    pub path: PathBuf,
    dir: Option<tempfile::TempDir>,
}

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix(&format!("wirewatch-test-{name}-"))
            .tempdir()
            .expect("creating scratch dir");
        Scratch {
            path: dir.path().to_path_buf(),
            dir: Some(dir),
        }
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            if std::thread::panicking() {
                eprintln!("kept {} for a look", dir.keep().display());
            }
        }
    }
}

/// A port nothing listens on now (bound and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Writes `feeds.toml` with the one feed `feed_url` and `wirewatch.toml`
/// polling it with the settings a test on 127.0.0.1 needs (state in
/// `state`, no host spacing, no age limit), followed by `rest` (more
/// `[fetcher]` keys first, then other tables); returns the config's path.
pub fn write_local_config(scratch: &Scratch, feed_url: &str, rest: &str) -> PathBuf {
    scratch.write("feeds.toml", &format!("[[feed]]\nurl = \"{feed_url}\"\n"));
    scratch.write(
        "wirewatch.toml",
        &format!(
            "feeds = [\"feeds.toml\"]\nstate_dir = \"state\"\n\n[fetcher]\n\
             allow_private_addresses = [\"127.0.0.1\"]\nmin_host_delay = \"0s\"\n\
             max_item_age = \"0s\"\n{rest}"
        ),
    )
}

pub fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wirewatch"));
    command
        .env_remove("KAFKA_BOOTSTRAP")
        .env("WIREWATCH_LOG", "info");
    command
}

/// Starts the daemon (`run --config config`) with its stdout sent to
/// `stdout` and its stderr piped, for the test to read or drain.
pub fn spawn_daemon(config: &Path, stdout: Stdio) -> Child {
    binary()
        .args(["run", "--config", config.to_str().unwrap()])
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs the binary with `args` under a pseudo-terminal (util-linux
/// `script`), with the shell redirection `redirect` (`"> FILE"` takes stdout
/// off the terminal, `"2> FILE"` stderr); what the terminal showed.
pub fn on_a_terminal(args: &[&str], redirect: &str) -> String {
    let command = format!(
        "{} {} {redirect}",
        env!("CARGO_BIN_EXE_wirewatch"),
        args.join(" ")
    );
    let output = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("KAFKA_BOOTSTRAP")
        .env("WIREWATCH_LOG", "info")
        .output()
        .expect("util-linux script runs the command under a pseudo-terminal");
    assert!(output.status.success(), "{}", text(&output.stdout));
    text(&output.stdout)
}

/// Runs the binary to completion.
pub fn wirewatch(args: &[&str]) -> Output {
    binary().args(args).output().expect("running wirewatch")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The JSON lines of a file (empty when it does not exist).
pub fn json_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).expect("output line is JSON"))
        .collect()
}

/// Labels flagged on an output record.
pub fn flagged_labels(record: &serde_json::Value) -> Vec<String> {
    record["classification"]["labels"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|label| label["flagged"].as_bool() == Some(true))
        .filter_map(|label| label["label"].as_str().map(str::to_owned))
        .collect()
}

/// Reads a file from the demo directory of the repository.
pub fn demo_file(relative: &str) -> String {
    std::fs::read_to_string(repo_root().join("demo").join(relative)).expect("demo file")
}

/// Output lines of a JSON-lines output per feed guid.
pub fn guid_counts(path: &Path) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for record in json_lines(path) {
        let guid = record["article"]["item"]["guid"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        *counts.entry(guid).or_insert(0) += 1;
    }
    counts
}

/// `wirewatch run --config CONFIG [--stages STAGES]`, stdout discarded,
/// stderr piped.
pub fn spawn_run(config: &Path, stages: &str) -> std::process::Child {
    let mut command = binary();
    command.args(["run", "--config", config.to_str().unwrap()]);
    if !stages.is_empty() {
        command.args(["--stages", stages]);
    }
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starting wirewatch")
}

/// SIGTERM, then the exit status and stderr.
pub fn terminate(child: std::process::Child) -> (std::process::ExitStatus, String) {
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().unwrap();
    (output.status, text(&output.stderr))
}

/// `wirewatch topics create --config CONFIG`, which must succeed; its stdout.
pub fn create_topics(config: &Path) -> String {
    let output = wirewatch(&["topics", "create", "--config", config.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "topics create: {}",
        text(&output.stderr)
    );
    text(&output.stdout)
}
