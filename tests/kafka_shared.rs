//! Fetchers that share the feed list through Kafka, against the real
//! broker: `feeds sync` writes 3,000 feeds (30 hosts on loopback addresses)
//! to the shared table, three fetcher processes split them, one is killed
//! with SIGKILL and its feeds resume on the others, and a fourth joins and
//! takes feeds over with conditional requests.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::http::{Request, Route, TestServer};
use crate::support::kafka::{bootstrap, consume_all, consume_until, Record, TestTopics};
use crate::support::{binary, create_topics, text, wirewatch, Scratch};

const HOSTS: usize = 30;
const FEEDS_PER_HOST: usize = 100;
const FEEDS: usize = HOSTS * FEEDS_PER_HOST;
/// Every feed's interval: the longest a feed waits for its next poll.
const INTERVAL: Duration = Duration::from_secs(10);
const WAIT: Duration = Duration::from_secs(150);

struct Feeds {
    servers: Vec<TestServer>,
}

impl Feeds {
    /// 30 servers on 127.0.0.2 .. 127.0.0.31, 100 feeds each, every feed
    /// listing the stories of rounds 1 ..= `round` with the ETag `r<round>`.
    fn start() -> Feeds {
        let servers = (0..HOSTS)
            .map(|host| TestServer::start_on(&format!("127.0.0.{}", host + 2)))
            .collect();
        let feeds = Feeds { servers };
        feeds.publish_round(1);
        feeds
    }

    fn path(feed: usize) -> String {
        format!("/feeds/{feed}.xml")
    }

    fn url(&self, host: usize, feed: usize) -> String {
        self.servers[host].url(&Feeds::path(feed))
    }

    fn publish_round(&self, round: usize) {
        for (host, server) in self.servers.iter().enumerate() {
            for index in 0..FEEDS_PER_HOST {
                let feed = host * FEEDS_PER_HOST + index;
                let items: String = (1..=round)
                    .rev()
                    .map(|r| {
                        format!(
                            "<item><title>Story {feed} of round {r}</title><link>{}</link><guid>{}</guid></item>",
                            server.url(&format!("/stories/{feed}/{r}.html")),
                            guid(feed, r)
                        )
                    })
                    .collect();
                let body = format!(
                    r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {feed}</title><link>{}</link>{items}</channel></rss>"#,
                    server.url("/")
                );
                server.route(
                    &Feeds::path(feed),
                    Route::ok("application/rss+xml", body).with_etag(&format!("r{round}")),
                );
            }
        }
    }

    /// Every request any server answered, with the server's index.
    fn requests(&self) -> Vec<Request> {
        self.servers.iter().flat_map(TestServer::requests).collect()
    }

    fn feed_list(&self) -> String {
        let mut list = String::new();
        for host in 0..HOSTS {
            for index in 0..FEEDS_PER_HOST {
                let feed = host * FEEDS_PER_HOST + index;
                list.push_str(&format!(
                    "[[feed]]\nurl = \"{}\"\ninterval = \"{}s\"\n\n",
                    self.url(host, feed),
                    INTERVAL.as_secs()
                ));
            }
        }
        list
    }
}

fn guid(feed: usize, round: usize) -> String {
    format!("story-{feed}-{round}")
}

/// The feed a request was for (its path's number).
fn feed_of(request: &Request) -> Option<usize> {
    request
        .path
        .strip_prefix("/feeds/")?
        .strip_suffix(".xml")?
        .parse()
        .ok()
}

fn config(
    scratch: &Scratch,
    topics: &TestTopics,
    brokers: &str,
    name: &str,
    feeds: &str,
) -> PathBuf {
    scratch.write("feeds.toml", feeds);
    scratch.write(
        "wirewatch.toml",
        &format!(
            r#"
feeds = ["feeds.toml"]
state_dir = "state"

[log]
level = "info"

[fetcher]
user_agent = "{name}"
feed_list = "kafka"
allow_private_addresses = [{private}]
min_host_delay = "0s"
max_item_age = "0s"
min_interval = "1s"
adaptive = "off"

[output]
stdout = false
{}"#,
            topics.config_section(brokers, ""),
            private = (2..=250)
                .map(|last| format!("\"127.0.0.{last}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

/// A fetcher process, its log in a file (3,000 feeds say more than a pipe
/// holds).
struct Fetcher {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Drop for Fetcher {
    fn drop(&mut self) {
        // A test that failed must not leave fetchers behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Fetcher {
    fn start(scratch: &Scratch, topics: &TestTopics, brokers: &str, name: &str) -> Fetcher {
        let config = config(scratch, topics, brokers, name, "");
        let log = scratch.path.join("fetcher.log");
        let child = binary()
            .args(["run", "--stages", "fetch", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("starting a fetcher");
        Fetcher {
            name: name.to_owned(),
            child,
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn stop(self) {
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let mut this = self;
        let status = this.child.wait().unwrap();
        assert!(
            status.success(),
            "{} exited with {status}: {}",
            this.name,
            this.log()
        );
    }
}

/// How many records each guid has.
fn guid_counts(records: &[Record]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for record in records {
        if let Some(guid) = record.json()["guid"].as_str() {
            *counts.entry(guid.to_owned()).or_insert(0) += 1;
        }
    }
    counts
}

/// Reads `topic` until every feed's story of `round` is there (or the
/// wait ends); the records read. Counts only the records new since the
/// last look (parsing all of them on every poll would fall behind).
fn read_until_round(brokers: &str, topic: &str, round: usize) -> Vec<Record> {
    let seen = std::cell::RefCell::new((0usize, HashSet::new()));
    consume_until(brokers, topic, WAIT, |records| {
        let mut seen = seen.borrow_mut();
        let (counted, found) = &mut *seen;
        for record in &records[*counted..] {
            if let Some(guid) = record.json()["guid"].as_str() {
                found.insert(guid.to_owned());
            }
        }
        *counted = records.len();
        (0..FEEDS).all(|feed| found.contains(&guid(feed, round)))
    })
}

fn round_count(counts: &HashMap<String, usize>, round: usize) -> usize {
    (0..FEEDS)
        .filter(|feed| counts.contains_key(&guid(*feed, round)))
        .count()
}

/// Which fetchers (user agents) polled each feed among `requests`.
fn pollers(requests: &[Request]) -> BTreeMap<usize, HashSet<String>> {
    let mut by_feed: BTreeMap<usize, HashSet<String>> = BTreeMap::new();
    for request in requests {
        if let Some(feed) = feed_of(request) {
            let agent = request
                .headers
                .get("user-agent")
                .cloned()
                .unwrap_or_default();
            by_feed.entry(feed).or_default().insert(agent);
        }
    }
    by_feed
}

/// Waits (up to three windows) for a window of two intervals in which
/// every feed was polled by exactly one fetcher; returns each feed's
/// fetcher.
fn settled_owners(feeds: &Feeds) -> BTreeMap<usize, String> {
    let mut last = String::new();
    for _ in 0..3 {
        let start = Instant::now();
        std::thread::sleep(INTERVAL * 2);
        let window: Vec<Request> = feeds
            .requests()
            .into_iter()
            .filter(|request| request.at >= start)
            .collect();
        let by_feed = pollers(&window);
        let shared: Vec<usize> = by_feed
            .iter()
            .filter(|(_, agents)| agents.len() > 1)
            .map(|(feed, _)| *feed)
            .collect();
        if by_feed.len() == FEEDS && shared.is_empty() {
            return by_feed
                .into_iter()
                .map(|(feed, agents)| (feed, agents.into_iter().next().unwrap()))
                .collect();
        }
        last = format!(
            "{} feeds polled in the window, {} by more than one fetcher (first: {:?})",
            by_feed.len(),
            shared.len(),
            shared.first()
        );
    }
    panic!("the fetchers never settled on one fetcher per feed: {last}");
}

fn agents_count(owners: &BTreeMap<usize, String>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for agent in owners.values() {
        *counts.entry(agent.clone()).or_insert(0) += 1;
    }
    counts
}

/// Each feed's first request by `agent` after `since`.
fn first_requests_of(feeds: &Feeds, agent: &str, since: Instant) -> HashMap<usize, Request> {
    let mut first: HashMap<usize, Request> = HashMap::new();
    for request in feeds.requests() {
        if request.at <= since
            || request.headers.get("user-agent").map(String::as_str) != Some(agent)
        {
            continue;
        }
        if let Some(feed) = feed_of(&request) {
            if first
                .get(&feed)
                .is_none_or(|earlier| request.at < earlier.at)
            {
                first.insert(feed, request);
            }
        }
    }
    first
}

fn sync(config: &Path) -> String {
    let output = wirewatch(&["feeds", "sync", "--config", config.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "feeds sync: {}",
        text(&output.stderr)
    );
    text(&output.stdout)
}

#[test]
fn three_fetchers_split_3000_feeds_a_killed_ones_feeds_resume_without_loss_and_a_fourth_takes_feeds_over_with_their_etags(
) {
    let Some(brokers) = bootstrap() else { return };
    let feeds = Feeds::start();
    let topics = TestTopics::new("shared");
    let admin = Scratch::new("shared-admin");
    let admin_config = config(&admin, &topics, &brokers, "admin", &feeds.feed_list());
    create_topics(&admin_config);
    let synced = sync(&admin_config);
    assert!(
        synced.contains(&format!(
            "{FEEDS} feeds ({FEEDS} written, 0 unchanged), 0 removed"
        )),
        "{synced}"
    );
    let again = sync(&admin_config);
    assert!(
        again.contains(&format!(
            "{FEEDS} feeds (0 written, {FEEDS} unchanged), 0 removed"
        )),
        "a second sync writes nothing: {again}"
    );

    let scratches: Vec<Scratch> = ["a", "b", "c", "d"]
        .iter()
        .map(|name| Scratch::new(&format!("shared-fetcher-{name}")))
        .collect();
    let mut fetchers: Vec<Fetcher> = ["fetcher-a", "fetcher-b", "fetcher-c"]
        .iter()
        .zip(&scratches)
        .map(|(name, scratch)| Fetcher::start(scratch, &topics, &brokers, name))
        .collect();

    // Every feed's first story comes through, once the fetchers share the
    // list.
    let items = topics.name("items");
    let first = read_until_round(&brokers, &items, 1);
    let counts = guid_counts(&first);
    assert_eq!(
        round_count(&counts, 1),
        FEEDS,
        "stories missing after start-up"
    );
    let startup_repeats: usize = counts.values().map(|count| count - 1).sum();
    eprintln!("start-up: {FEEDS} stories, {startup_repeats} repeats while the group formed");

    let owners = settled_owners(&feeds);
    let shares = agents_count(&owners);
    eprintln!("feeds per fetcher: {shares:?}");
    assert_eq!(
        shares.len(),
        3,
        "each of the three fetchers polls feeds: {shares:?}"
    );
    // One host's feeds stay on one fetcher.
    for host in 0..HOSTS {
        let agents: HashSet<&String> = (0..FEEDS_PER_HOST)
            .map(|index| &owners[&(host * FEEDS_PER_HOST + index)])
            .collect();
        assert_eq!(agents.len(), 1, "host {host} is split between {agents:?}");
    }

    // SIGKILL one fetcher, then give every feed a second story.
    let killed = fetchers.remove(2);
    let killed_feeds: Vec<usize> = owners
        .iter()
        .filter(|(_, agent)| **agent == killed.name)
        .map(|(feed, _)| *feed)
        .collect();
    let mut killed = killed;
    killed.child.kill().unwrap();
    killed.child.wait().unwrap();
    let killed_at = Instant::now();
    feeds.publish_round(2);
    let second = read_until_round(&brokers, &items, 2);
    let counts = guid_counts(&second);
    assert_eq!(
        round_count(&counts, 2),
        FEEDS,
        "second stories missing after a fetcher was killed"
    );
    let requests = feeds.requests();
    let mut gaps = Vec::new();
    let mut unconditional = Vec::new();
    for feed in &killed_feeds {
        let first_after = requests
            .iter()
            .filter(|request| request.at > killed_at && feed_of(request) == Some(*feed))
            .min_by_key(|request| request.at)
            .unwrap_or_else(|| panic!("feed {feed} of the killed fetcher never polled again"));
        gaps.push(first_after.at - killed_at);
        if first_after.headers.get("if-none-match").map(String::as_str) != Some("r1") {
            unconditional.push(*feed);
        }
    }
    gaps.sort();
    eprintln!(
        "after SIGKILL: {} feeds resumed on the others, gap median {:.1} s, max {:.1} s",
        gaps.len(),
        gaps[gaps.len() / 2].as_secs_f64(),
        gaps[gaps.len() - 1].as_secs_f64()
    );
    assert!(
        unconditional.is_empty(),
        "{} moved feeds were asked for without the ETag their state held (first: {:?})",
        unconditional.len(),
        unconditional.first()
    );
    // The first stories were known to the killed fetcher: they moved with
    // its feeds' state and are not emitted again.
    let first_repeats: usize = (0..FEEDS)
        .map(|feed| counts.get(&guid(feed, 1)).copied().unwrap_or(0))
        .sum::<usize>()
        - (FEEDS + startup_repeats);
    let second_repeats: usize = (0..FEEDS)
        .map(|feed| counts.get(&guid(feed, 2)).copied().unwrap_or(0))
        .sum::<usize>()
        - FEEDS;
    eprintln!(
        "after SIGKILL: {first_repeats} first stories again, {second_repeats} second stories twice"
    );
    assert_eq!(
        first_repeats, 0,
        "stories the killed fetcher had handed on came again"
    );
    assert!(
        second_repeats <= killed_feeds.len() / 20,
        "{second_repeats} repeats of second stories"
    );

    // A fourth fetcher: partitions move to it, and its first request of
    // each feed it takes over is conditional.
    // Whatever was still on its way is in before the fourth fetcher joins.
    let before_fourth = consume_all(&brokers, &items, Duration::from_secs(3), WAIT).len();
    let joined_at = Instant::now();
    fetchers.push(Fetcher::start(
        &scratches[3],
        &topics,
        &brokers,
        "fetcher-d",
    ));
    let deadline = Instant::now() + WAIT;
    while first_requests_of(&feeds, "fetcher-d", joined_at).len() < FEEDS_PER_HOST {
        assert!(
            Instant::now() < deadline,
            "the fourth fetcher polled no feeds: {}",
            fetchers[2].log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // One more interval for the rest of the feeds it was given.
    std::thread::sleep(INTERVAL + Duration::from_secs(2));
    let taken = first_requests_of(&feeds, "fetcher-d", joined_at);
    let without_etag: Vec<usize> = taken
        .iter()
        .filter(|(_, request)| {
            request.headers.get("if-none-match").map(String::as_str) != Some("r2")
        })
        .map(|(feed, _)| *feed)
        .collect();
    eprintln!("the fourth fetcher took over {} feeds", taken.len());
    assert!(
        without_etag.is_empty(),
        "{} feeds taken over were fetched without their ETag (first: {:?})",
        without_etag.len(),
        without_etag.first()
    );
    let after = consume_all(&brokers, &items, Duration::from_secs(3), WAIT);
    assert_eq!(
        after.len(),
        before_fourth,
        "moving feeds to the fourth fetcher emitted stories again"
    );
    for fetcher in fetchers {
        fetcher.stop();
    }
}

/// An article page with enough text to be cleaned.
fn page(title: &str) -> String {
    format!(
        "<html><head><title>{title}</title></head><body><article><h1>{title}</h1>\
         <p>The ministry said on Tuesday that the shipment left the port under the \
         contract signed last year, and that the remaining vehicles follow by spring.</p>\
         <p>Officials gave no figure for the value of the deal, which parliament \
         approved in a closed session earlier this month.</p></article></body></html>"
    )
}

#[test]
fn a_story_in_two_feeds_polled_by_two_fetchers_is_on_the_items_topic_twice_and_cleaned_once() {
    use wirewatch_bus::kafka_table::partition_for;
    let Some(brokers) = bootstrap() else { return };
    // One host on each of the 4 partitions (the tables' count in the test
    // config), so that whichever two partitions each fetcher holds, some
    // stories are in feeds held by different fetchers.
    let mut hosts: Vec<String> = Vec::new();
    for last in 40..=250 {
        let ip = format!("127.0.0.{last}");
        if !hosts
            .iter()
            .any(|host| partition_for(host, 4) == partition_for(&ip, 4))
        {
            hosts.push(ip);
        }
        if hosts.len() == 4 {
            break;
        }
    }
    assert_eq!(hosts.len(), 4);
    let servers: Vec<TestServer> = hosts.iter().map(|ip| TestServer::start_on(ip)).collect();
    let empty =
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Feed</title></channel></rss>"#;
    for server in &servers {
        server.route("/feed.xml", Route::ok("application/rss+xml", empty));
    }
    let topics = TestTopics::new("shared-dedup");
    let admin = Scratch::new("shared-dedup-admin");
    let list: String = servers
        .iter()
        .map(|server| {
            format!(
                "[[feed]]\nurl = \"{}\"\ninterval = \"2s\"\n\n",
                server.url("/feed.xml")
            )
        })
        .collect();
    let admin_config = config(&admin, &topics, &brokers, "admin", &list);
    create_topics(&admin_config);
    sync(&admin_config);
    let scratches: Vec<Scratch> = ["a", "b", "clean"]
        .iter()
        .map(|name| Scratch::new(&format!("shared-dedup-{name}")))
        .collect();
    let fetchers: Vec<Fetcher> = ["fetcher-a", "fetcher-b"]
        .iter()
        .zip(&scratches)
        .map(|(name, scratch)| Fetcher::start(scratch, &topics, &brokers, name))
        .collect();
    let clean_config = config(&scratches[2], &topics, &brokers, "cleaner", "");
    let cleaner = Fetcher {
        name: "cleaner".into(),
        child: binary()
            .args(["run", "--stages", "clean", "--config"])
            .arg(&clean_config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(scratches[2].path.join("fetcher.log")).unwrap())
            .spawn()
            .expect("starting the clean stage"),
        log: scratches[2].path.join("fetcher.log"),
    };
    // Both fetchers hold feeds, and the group has settled, before any
    // story appears.
    let all_requests =
        || -> Vec<Request> { servers.iter().flat_map(TestServer::requests).collect() };
    let deadline = Instant::now() + WAIT;
    loop {
        let since = Instant::now();
        std::thread::sleep(Duration::from_secs(5));
        let window: Vec<Request> = all_requests()
            .into_iter()
            .filter(|r| r.at >= since)
            .collect();
        let by_host: HashSet<(String, String)> = window
            .iter()
            .filter_map(|r| {
                Some((
                    r.headers.get("host")?.clone(),
                    r.headers.get("user-agent")?.clone(),
                ))
            })
            .collect();
        let agents: HashSet<&String> = by_host.iter().map(|(_, agent)| agent).collect();
        let hosts_polled: HashSet<&String> = by_host.iter().map(|(host, _)| host).collect();
        if agents.len() == 2 && hosts_polled.len() == 4 && by_host.len() == 4 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the two fetchers never settled: {by_host:?}"
        );
    }
    // Story (a, b), for every two hosts a < b, is on host a and listed by
    // the feeds of both.
    let mut stories = Vec::new();
    for (a, server) in servers.iter().enumerate() {
        for b in (a + 1)..servers.len() {
            let path = format!("/stories/{a}-{b}.html");
            server.route(
                &path,
                Route::ok("text/html", page(&format!("Story {a}-{b}"))),
            );
            stories.push((a, b, server.url(&path)));
        }
    }
    for (host, server) in servers.iter().enumerate() {
        let items: String = stories
            .iter()
            .filter(|(a, b, _)| *a == host || *b == host)
            .map(|(a, b, link)| {
                format!("<item><title>Story {a}-{b}</title><link>{link}</link><guid>{host}-{a}-{b}</guid></item>")
            })
            .collect();
        server.route(
            "/feed.xml",
            Route::ok(
                "application/rss+xml",
                format!(r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {host}</title>{items}</channel></rss>"#),
            ),
        );
    }
    let links: HashSet<&String> = stories.iter().map(|(_, _, link)| link).collect();
    consume_until(&brokers, &topics.name("articles"), WAIT, |records| {
        let found: HashSet<String> = records
            .iter()
            .filter_map(|r| r.json()["url"].as_str().map(String::from))
            .collect();
        links.iter().all(|link| found.contains(*link))
    });
    // Time for a second copy to be cleaned, if it were.
    std::thread::sleep(Duration::from_secs(5));
    let articles = consume_all(
        &brokers,
        &topics.name("articles"),
        Duration::from_secs(3),
        WAIT,
    );
    let items = consume_all(
        &brokers,
        &topics.name("items"),
        Duration::from_secs(3),
        WAIT,
    );
    let mut item_copies: HashMap<String, usize> = HashMap::new();
    for record in &items {
        if let Some(link) = record.json()["link"].as_str() {
            *item_copies.entry(link.to_owned()).or_default() += 1;
        }
    }
    let mut article_copies: HashMap<String, usize> = HashMap::new();
    for record in &articles {
        if let Some(link) = record.json()["url"].as_str() {
            *article_copies.entry(link.to_owned()).or_default() += 1;
        }
    }
    let twice = links
        .iter()
        .filter(|link| item_copies.get(**link) == Some(&2))
        .count();
    eprintln!(
        "{twice} of {} stories came from both fetchers; articles: {article_copies:?}",
        links.len()
    );
    assert!(
        twice >= 1,
        "no story reached the items topic from two fetchers: {item_copies:?}"
    );
    for link in &links {
        assert_eq!(
            article_copies.get(*link),
            Some(&1),
            "{link} cleaned {:?} times",
            article_copies.get(*link)
        );
    }
    cleaner.stop();
    for fetcher in fetchers {
        fetcher.stop();
    }
}
