//! What the Kafka bus knows about whether messages flow, for `/readyz` and
//! for the log: every client (the producer, each stage's consumer) reports
//! Each stage's consumer reports librdkafka's statistics once a second
//! (which brokers are up), its assignments and its commits; every
//! acknowledged message is noted. Each change of state is logged once, when it happens:
//! brokers lost and back (with how long), partitions assigned and revoked
//! (with counts), commits failing and recovered.
//!
//! Not ready when, for longer than [`GRACE`]: a stage's consumer has no
//! broker up, or no partition; the producer holds messages and none was
//! acknowledged; a stage's commits fail. (An idle producer's connections
//! are closed by the brokers and reopened when needed, so its broker states
//! say nothing; messages waiting do.)

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::{ConsumerLag, Health};

/// How long a problem lasts before it makes the bus not ready: short
/// enough for a health check to see an outage, long enough to ride out a
/// rebalance or a broker's leader election.
pub const GRACE: Duration = Duration::from_secs(10);

#[derive(Default)]
pub struct HealthTracker {
    inner: Mutex<Inner>,
    /// How often each transition happened, for `/metrics`.
    counts: Mutex<BTreeMap<Transition, u64>>,
    /// stage -> its partitions' lag, from its consumer's last statistics.
    lags: Mutex<BTreeMap<String, Vec<ConsumerLag>>>,
}

/// The changes of state the tracker counts ([`Bus::transitions`]).
///
/// [`Bus::transitions`]: crate::Bus::transitions
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Transition {
    BrokersLost,
    BrokersBack,
    PartitionsAssigned,
    PartitionsRevoked,
    CommitsFailing,
    CommitsRecovered,
    PublishStalled,
    RepeatsSkipped,
    ConsumerReplaced,
}

impl Transition {
    pub const ALL: [Transition; 9] = [
        Transition::BrokersLost,
        Transition::BrokersBack,
        Transition::PartitionsAssigned,
        Transition::PartitionsRevoked,
        Transition::CommitsFailing,
        Transition::CommitsRecovered,
        Transition::PublishStalled,
        Transition::RepeatsSkipped,
        Transition::ConsumerReplaced,
    ];

    /// The `event` label value in `/metrics`.
    pub fn name(self) -> &'static str {
        match self {
            Transition::BrokersLost => "brokers_lost",
            Transition::BrokersBack => "brokers_back",
            Transition::PartitionsAssigned => "partitions_assigned",
            Transition::PartitionsRevoked => "partitions_revoked",
            Transition::CommitsFailing => "commits_failing",
            Transition::CommitsRecovered => "commits_recovered",
            Transition::PublishStalled => "publish_stalled",
            Transition::RepeatsSkipped => "repeats_skipped",
            Transition::ConsumerReplaced => "consumer_replaced",
        }
    }
}

struct Inner {
    /// client name -> since when no broker of it has been up.
    brokers_down: BTreeMap<String, Option<Instant>>,
    /// stage -> (partitions assigned, since when it has none).
    assignments: BTreeMap<String, (usize, Option<Instant>)>,
    /// stage -> since when its commits fail.
    commits_failing: BTreeMap<String, Instant>,
    /// The last acknowledgement, or when the tracker was made.
    last_ack: Instant,
    acknowledged_any: bool,
}

impl Default for Inner {
    fn default() -> Inner {
        Inner {
            brokers_down: BTreeMap::new(),
            assignments: BTreeMap::new(),
            commits_failing: BTreeMap::new(),
            last_ack: Instant::now(),
            acknowledged_any: false,
        }
    }
}

impl HealthTracker {
    pub fn count(&self, transition: Transition, by: u64) {
        *self
            .counts
            .lock()
            .expect("health counts lock")
            .entry(transition)
            .or_insert(0) += by;
    }

    /// Every transition with how often it happened (0 included).
    pub fn counts(&self) -> Vec<(&'static str, u64)> {
        let counts = self.counts.lock().expect("health counts lock");
        Transition::ALL
            .iter()
            .map(|transition| {
                (
                    transition.name(),
                    counts.get(transition).copied().unwrap_or(0),
                )
            })
            .collect()
    }

    /// A client's statistics said how many brokers it has up.
    pub fn brokers(&self, client: &str, up: usize, known: usize) {
        let mut inner = self.inner.lock().expect("health lock");
        let entry = inner.brokers_down.entry(client.to_owned()).or_insert(None);
        match (*entry, up > 0) {
            (None, false) if known > 0 => {
                tracing::warn!(
                    client,
                    brokers = known,
                    "kafka brokers lost: none of them is up"
                );
                *entry = Some(Instant::now());
                drop(inner);
                self.count(Transition::BrokersLost, 1);
            }
            (Some(since), true) => {
                tracing::info!(
                    client,
                    brokers_up = up,
                    after_ms = since.elapsed().as_millis() as u64,
                    "kafka brokers back"
                );
                *entry = None;
                drop(inner);
                self.count(Transition::BrokersBack, 1);
            }
            _ => {}
        }
    }

    pub fn assigned(&self, stage: &str, added: usize) {
        let mut inner = self.inner.lock().expect("health lock");
        let entry = inner
            .assignments
            .entry(stage.to_owned())
            .or_insert((0, Some(Instant::now())));
        entry.0 += added;
        if entry.0 > 0 {
            entry.1 = None;
        }
        tracing::info!(stage, added, partitions = entry.0, "partitions assigned");
        drop(inner);
        self.count(Transition::PartitionsAssigned, added as u64);
    }

    pub fn revoked(&self, stage: &str, removed: usize) {
        let mut inner = self.inner.lock().expect("health lock");
        let entry = inner
            .assignments
            .entry(stage.to_owned())
            .or_insert((0, None));
        entry.0 = entry.0.saturating_sub(removed);
        if entry.0 == 0 && entry.1.is_none() {
            entry.1 = Some(Instant::now());
        }
        tracing::info!(stage, removed, partitions = entry.0, "partitions revoked");
        drop(inner);
        self.count(Transition::PartitionsRevoked, removed as u64);
    }

    /// A stage's consumer failed for good and was replaced by a new one:
    /// whatever the old one held, the new one has no partition until
    /// assigned.
    pub fn consumer_replaced(&self, stage: &str) {
        let mut inner = self.inner.lock().expect("health lock");
        inner
            .assignments
            .insert(stage.to_owned(), (0, Some(Instant::now())));
        drop(inner);
        self.count(Transition::ConsumerReplaced, 1);
    }

    /// A stage's consumer started: it has no partition until assigned.
    pub fn stage_started(&self, stage: &str) {
        let mut inner = self.inner.lock().expect("health lock");
        inner
            .assignments
            .entry(stage.to_owned())
            .or_insert((0, Some(Instant::now())));
    }

    /// A stage stopped: it no longer counts.
    pub fn stage_stopped(&self, stage: &str) {
        let mut inner = self.inner.lock().expect("health lock");
        inner.assignments.remove(stage);
        inner.commits_failing.remove(stage);
        inner.brokers_down.remove(stage);
        drop(inner);
        self.lags.lock().expect("lags lock").remove(stage);
    }

    pub fn commit(&self, stage: &str, ok: bool) {
        let mut inner = self.inner.lock().expect("health lock");
        if ok {
            if let Some(since) = inner.commits_failing.remove(stage) {
                tracing::info!(
                    stage,
                    after_ms = since.elapsed().as_millis() as u64,
                    "offset commits succeed again"
                );
                drop(inner);
                self.count(Transition::CommitsRecovered, 1);
            }
        } else if !inner.commits_failing.contains_key(stage) {
            tracing::warn!(stage, "offset commits failing");
            inner
                .commits_failing
                .insert(stage.to_owned(), Instant::now());
            drop(inner);
            self.count(Transition::CommitsFailing, 1);
        }
    }

    /// The brokers acknowledged a message.
    pub fn acknowledged(&self) {
        let mut inner = self.inner.lock().expect("health lock");
        inner.last_ack = Instant::now();
        inner.acknowledged_any = true;
    }

    /// A stage's consumer reported its statistics: its partitions' lag
    /// replaces what it said before.
    pub fn lags(&self, stage: &str, statistics: &rdkafka::Statistics) {
        let lags = partition_lags(stage, statistics);
        self.lags
            .lock()
            .expect("lags lock")
            .insert(stage.to_owned(), lags);
    }

    /// Every stage's partitions' lag, by stage, topic and partition.
    pub fn all_lags(&self) -> Vec<ConsumerLag> {
        self.lags
            .lock()
            .expect("lags lock")
            .values()
            .flatten()
            .cloned()
            .collect()
    }

    /// The problems that have lasted longer than `grace`; `waiting` is how
    /// many messages the producer holds unacknowledged.
    pub fn health(&self, grace: Duration, waiting: u64) -> Health {
        let inner = self.inner.lock().expect("health lock");
        let mut problems = Vec::new();
        let long = |since: &Instant| since.elapsed() > grace;
        for (client, since) in &inner.brokers_down {
            if let Some(since) = since.filter(long) {
                problems.push(format!(
                    "{client}: no kafka broker reachable for {} s",
                    since.elapsed().as_secs()
                ));
            }
        }
        if waiting > 0 {
            let quiet = inner.last_ack.elapsed();
            if quiet > grace {
                problems.push(format!(
                    "producer: {} messages waiting for the brokers, {}",
                    waiting,
                    if inner.acknowledged_any {
                        format!("last acknowledgement {} s ago", quiet.as_secs())
                    } else {
                        format!("none acknowledged in {} s", quiet.as_secs())
                    }
                ));
            }
        }
        for (stage, (partitions, since)) in &inner.assignments {
            if let Some(since) = since.filter(long) {
                if *partitions == 0 {
                    problems.push(format!(
                        "stage {stage}: no partition assigned for {} s",
                        since.elapsed().as_secs()
                    ));
                }
            }
        }
        for (stage, since) in &inner.commits_failing {
            if long(since) {
                problems.push(format!(
                    "stage {stage}: offset commits failing for {} s",
                    since.elapsed().as_secs()
                ));
            }
        }
        Health { problems }
    }
}

/// Brokers up and brokers known in a librdkafka statistics report (the
/// bootstrap entries, which stand for addresses rather than brokers, are
/// left out once a real broker is known).
pub fn broker_counts(statistics: &rdkafka::Statistics) -> (usize, usize) {
    let real: Vec<&rdkafka::statistics::Broker> = statistics
        .brokers
        .values()
        .filter(|broker| broker.nodeid >= 0)
        .collect();
    let brokers: Vec<&rdkafka::statistics::Broker> = if real.is_empty() {
        statistics.brokers.values().collect()
    } else {
        real
    };
    let up = brokers.iter().filter(|broker| broker.state == "UP").count();
    (up, brokers.len())
}

/// The lag of each partition a consumer holds, from its statistics: the
/// partitions it fetches (`desired`, or fetching), not the internal
/// unassigned one (-1). librdkafka's own `consumer_lag` is -1 until the
/// group commits; then everything from the low watermark counts.
fn partition_lags(stage: &str, statistics: &rdkafka::Statistics) -> Vec<ConsumerLag> {
    let mut lags = Vec::new();
    for (topic, report) in &statistics.topics {
        for partition in report.partitions.values() {
            if partition.partition < 0 || !(partition.desired || partition.fetch_state == "active")
            {
                continue;
            }
            let messages = if partition.consumer_lag >= 0 {
                partition.consumer_lag
            } else if partition.hi_offset >= 0 && partition.committed_offset < 0 {
                partition.hi_offset - partition.lo_offset.max(0)
            } else {
                continue;
            };
            lags.push(ConsumerLag {
                stage: stage.to_owned(),
                topic: topic.clone(),
                partition: partition.partition,
                messages,
            });
        }
    }
    lags.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
    lags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_count_only_after_the_grace_and_clear_on_recovery() {
        let tracker = HealthTracker::default();
        tracker.stage_started("clean");
        tracker.brokers("clean", 0, 1);
        assert!(tracker.health(Duration::from_secs(3600), 1).is_ready());
        let health = tracker.health(Duration::ZERO, 1);
        assert_eq!(health.problems.len(), 3, "{:?}", health.problems);
        assert!(health.problems[0].contains("no kafka broker reachable"));
        tracker.brokers("clean", 1, 1);
        tracker.acknowledged();
        tracker.assigned("clean", 3);
        assert!(tracker.health(Duration::ZERO, 0).is_ready());
        assert!(tracker.health(Duration::from_secs(5), 1).is_ready());
        tracker.commit("clean", false);
        assert!(tracker.health(Duration::ZERO, 0).problems[0].contains("commits failing"));
        tracker.commit("clean", true);
        tracker.revoked("clean", 3);
        assert!(tracker.health(Duration::ZERO, 0).problems[0].contains("no partition"));
        tracker.stage_stopped("clean");
        assert!(tracker.health(Duration::ZERO, 0).is_ready());
    }

    #[test]
    fn lag_counts_held_partitions_from_the_committed_offset_or_the_low_watermark() {
        use rdkafka::statistics::{Partition, Statistics, Topic};
        let partition = |id: i32, desired: bool, committed: i64, lag: i64| Partition {
            partition: id,
            desired,
            fetch_state: if desired { "active" } else { "none" }.to_owned(),
            lo_offset: 5,
            hi_offset: 40,
            committed_offset: committed,
            consumer_lag: lag,
            ..Partition::default()
        };
        let mut topic = Topic {
            topic: "items".to_owned(),
            ..Topic::default()
        };
        for held in [
            partition(0, true, 30, 10),
            // nothing committed yet: librdkafka says -1
            partition(1, true, -1001, -1),
            // not this consumer's
            partition(2, false, 12, 28),
            // the internal unassigned partition
            partition(-1, true, -1, -1),
        ] {
            topic.partitions.insert(held.partition, held);
        }
        let mut statistics = Statistics::default();
        statistics.topics.insert("items".to_owned(), topic);
        let tracker = HealthTracker::default();
        tracker.lags("clean", &statistics);
        let lags: Vec<(i32, i64)> = tracker
            .all_lags()
            .iter()
            .map(|lag| (lag.partition, lag.messages))
            .collect();
        assert_eq!(lags, vec![(0, 10), (1, 35)]);
        tracker.stage_stopped("clean");
        assert!(tracker.all_lags().is_empty());
    }
}
