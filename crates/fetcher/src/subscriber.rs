//! The WebSub subscriber: subscribes to the hubs polls discover, answers
//! the hubs' verification requests, takes in signed pushes, renews leases,
//! and tells the poller which feeds pushes cover.
//!
//! Each subscription has a random callback id and secret, stored in the
//! state file so that a restart keeps verifying the pushes of leases still
//! running. Requests to a hub go through the address guard: the hub's URL
//! comes from a stranger's feed. A feed falls back to polling at its own
//! interval as soon as its hub fails (a subscribe or renewal refused or
//! unanswered, a denial) or its lease lapses; while pushes cover it, it is
//! polled at the slower fallback interval.
//!
//! The HTTP side (reading the request, the body cap, status lines) belongs
//! to whoever owns the listener; it hands this module the parts:
//! [`Subscriber::verify`] for a hub's GET, [`Subscriber::push`] for a POST.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::http::HttpClient;
use crate::poll::{FeedSpec, FeedWatcher, Poller, PushError};
use crate::state::StateStore;
use crate::websub::{
    answer_verification, check_signature, read_hub_request, Awaited, Discovery, HubRequest, Mode,
    PushRefusal, SubscriptionRecord,
};

/// How the subscriber behaves, validated.
#[derive(Clone, Debug)]
pub struct SubscriberOptions {
    /// Public base URL of the daemon's listener; callbacks are
    /// `<base>/websub/<id>`.
    pub callback_base: Url,
    /// Lease asked of hubs (`hub.lease_seconds`).
    pub lease: Duration,
    /// Renew this long before a lease ends (halfway through shorter ones).
    pub renew_before: Duration,
    /// Least poll interval of a feed that pushes cover.
    pub fallback_interval: Duration,
    /// How long a hub may take to verify a request before it counts as
    /// failed.
    pub verify_timeout: Duration,
    /// Pushes processed at once; more are answered "busy".
    pub max_concurrent_callbacks: usize,
    /// Largest push body (the fetcher's feed size cap).
    pub max_body_bytes: u64,
}

/// The answer to a hub's GET on a callback.
#[derive(Debug, PartialEq, Eq)]
pub enum VerifyAnswer {
    /// 200 with this body.
    Challenge(String),
    /// 200, empty (a denial heard).
    Acknowledged,
    /// 404: not a request we are waiting for.
    Refused,
}

/// Shortest and longest wait before subscribing again after a failure.
const RETRY_FIRST: Duration = Duration::from_secs(60);
const RETRY_MAX: Duration = Duration::from_secs(6 * 3600);
/// How often leases and pending verifications are looked at.
const TICK: Duration = Duration::from_millis(250);

struct Entry {
    record: SubscriptionRecord,
    /// A request sent (or about to be) and not yet verified, with when.
    awaiting: Option<(Awaited, DateTime<Utc>)>,
    /// No new request before this, after a failure.
    retry_at: Option<DateTime<Utc>>,
    failures: u32,
    /// Whether the poller was told pushes cover the feed.
    covered: bool,
}

#[derive(Default)]
struct Table {
    by_feed: HashMap<String, Entry>,
    /// Callback id -> feed URL.
    by_id: HashMap<String, String>,
}

/// Subscriptions of every push-capable feed. Share it with `Arc`.
pub struct Subscriber {
    http: HttpClient,
    store: StateStore,
    options: SubscriberOptions,
    poller: Weak<Poller>,
    table: Mutex<Table>,
    callbacks: Arc<Semaphore>,
}

impl Subscriber {
    /// A subscriber for `poller`'s feeds, with the subscriptions stored by
    /// the last run: those of feeds still listed (and not opted out) are
    /// kept, and those whose lease runs cover their feed at once; the
    /// others are forgotten.
    pub fn start(
        http: HttpClient,
        store: StateStore,
        options: SubscriberOptions,
        poller: &Arc<Poller>,
        feeds: &[FeedSpec],
    ) -> Arc<Subscriber> {
        let eligible: std::collections::HashSet<String> = feeds
            .iter()
            .filter(|feed| feed.websub)
            .map(|feed| feed.url.to_string())
            .collect();
        let mut table = Table::default();
        let now = Utc::now();
        match store.subscriptions() {
            Ok(records) => {
                for (feed_url, record) in records {
                    if !eligible.contains(&feed_url) {
                        let _ = store.set_subscription(&feed_url, None);
                        continue;
                    }
                    let covered = record.is_active(now);
                    if covered {
                        poller.cover_by_push(&feed_url, Some(options.fallback_interval));
                    }
                    table.by_id.insert(record.id.clone(), feed_url.clone());
                    table.by_feed.insert(
                        feed_url,
                        Entry {
                            record,
                            awaiting: None,
                            retry_at: None,
                            failures: 0,
                            covered,
                        },
                    );
                }
            }
            Err(error) => {
                tracing::warn!(error = %error, "reading stored websub subscriptions failed; subscribing afresh");
            }
        }
        let subscriber = Arc::new(Subscriber {
            http,
            store,
            callbacks: Arc::new(Semaphore::new(options.max_concurrent_callbacks.max(1))),
            options,
            poller: Arc::downgrade(poller),
            table: Mutex::new(table),
        });
        poller.set_watcher(Arc::new(Arc::clone(&subscriber)));
        subscriber
    }

    pub fn options(&self) -> &SubscriberOptions {
        &self.options
    }

    /// A slot to process one push, if one is free.
    pub fn callback_permit(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.callbacks).try_acquire_owned().ok()
    }

    /// The feed a callback id belongs to.
    pub fn feed_of(&self, id: &str) -> Option<String> {
        self.table
            .lock()
            .expect("subscription table lock")
            .by_id
            .get(id)
            .cloned()
    }

    /// Logs a refused push (with its feed, when the id is known).
    pub fn log_refusal(&self, id: &str, reason: PushRefusal, detail: &str) {
        let feed = self.feed_of(id).unwrap_or_default();
        tracing::warn!(feed = %feed, callback = %id, reason = reason.as_str(), detail = %detail, "websub push refused");
    }

    /// Answers a hub's GET on callback `id` with `query`.
    pub fn verify(&self, id: &str, query: &str) -> VerifyAnswer {
        let Some(request) = read_hub_request(query) else {
            return VerifyAnswer::Refused;
        };
        let now = Utc::now();
        let mut table = self.table.lock().expect("subscription table lock");
        let Some(feed_url) = table.by_id.get(id).cloned() else {
            return VerifyAnswer::Refused;
        };
        let Some(entry) = table.by_feed.get_mut(&feed_url) else {
            return VerifyAnswer::Refused;
        };
        match &request {
            HubRequest::Denied { topic, reason } => {
                if *topic != entry.record.topic {
                    return VerifyAnswer::Refused;
                }
                let reason = format!(
                    "hub denied the subscription: {}",
                    reason.as_deref().unwrap_or("no reason given")
                );
                self.fail(&feed_url, entry, now, &reason);
                VerifyAnswer::Acknowledged
            }
            HubRequest::Verify { lease_seconds, .. } => {
                let awaited = entry.awaiting.as_ref().map(|(awaited, _)| awaited);
                let Some(challenge) = answer_verification(&request, awaited) else {
                    tracing::warn!(feed = %feed_url, query = %query, "websub verification for a request we did not make; refused");
                    return VerifyAnswer::Refused;
                };
                let challenge = challenge.to_owned();
                let mode = awaited.map(|awaited| awaited.mode);
                if mode == Some(Mode::Unsubscribe) {
                    let id = entry.record.id.clone();
                    table.by_feed.remove(&feed_url);
                    table.by_id.remove(&id);
                    self.persist(&feed_url, None);
                    tracing::info!(feed = %feed_url, "websub unsubscribed");
                    return VerifyAnswer::Challenge(challenge);
                }
                let lease = lease_seconds.map_or(self.options.lease, Duration::from_secs);
                entry.record.grant(now, lease, self.options.renew_before);
                entry.awaiting = None;
                entry.retry_at = None;
                entry.failures = 0;
                entry.covered = true;
                self.persist(&feed_url, Some(&entry.record));
                if let Some(poller) = self.poller.upgrade() {
                    poller.cover_by_push(&feed_url, Some(self.options.fallback_interval));
                }
                tracing::info!(feed = %feed_url, hub = %entry.record.hub, lease_seconds = lease.as_secs(), "websub subscription verified; pushes cover the feed");
                VerifyAnswer::Challenge(challenge)
            }
        }
    }

    /// Takes in a push on callback `id`: the signature is checked against
    /// the subscription's secret, then the body goes through the poller's
    /// path for feed bodies. Refusals are logged here; the caller counts
    /// them and picks the status line.
    pub async fn push(
        &self,
        id: &str,
        signature: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<usize, PushRefusal> {
        let known = {
            let table = self.table.lock().expect("subscription table lock");
            table.by_id.get(id).and_then(|feed_url| {
                let entry = table.by_feed.get(feed_url)?;
                Some((feed_url.clone(), entry.record.secret.clone()))
            })
        };
        let Some((feed_url, secret)) = known else {
            self.log_refusal(id, PushRefusal::UnknownSubscription, "");
            return Err(PushRefusal::UnknownSubscription);
        };
        if let Err(refusal) = check_signature(signature, secret.as_bytes(), body) {
            self.log_refusal(id, refusal, "");
            return Err(refusal);
        }
        let Some(poller) = self.poller.upgrade() else {
            return Err(PushRefusal::Busy);
        };
        match poller.ingest_pushed(&feed_url, body, content_type).await {
            Ok(emitted) => {
                if emitted > 0 {
                    tracing::info!(feed = %feed_url, new_items = emitted, "new items pushed");
                }
                Ok(emitted)
            }
            Err(error @ (PushError::NotAFeed { .. } | PushError::UnknownFeed(_))) => {
                self.log_refusal(id, PushRefusal::NotAFeed, &error.to_string());
                Err(PushRefusal::NotAFeed)
            }
            Err(error) => {
                // The items stay unseen; the hub's retry or the next poll
                // offers them again.
                tracing::warn!(feed = %feed_url, error = %error, "pushed items could not be handed on");
                Err(PushRefusal::Busy)
            }
        }
    }

    /// Looks at leases and pending requests until `shutdown`: renews what
    /// is due, fails verifications that did not come, and uncovers feeds
    /// whose lease lapsed.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = shutdown.cancelled() => return,
            }
            self.maintain(Utc::now());
        }
    }

    fn maintain(self: &Arc<Self>, now: DateTime<Utc>) {
        let timeout = chrono::Duration::from_std(self.options.verify_timeout)
            .unwrap_or(chrono::Duration::MAX);
        let mut requests = Vec::new();
        let mut table = self.table.lock().expect("subscription table lock");
        let mut leaving = Vec::new();
        for (feed_url, entry) in &mut table.by_feed {
            if entry.record.expires_at.is_some() && !entry.record.is_active(now) {
                entry.record.expires_at = None;
                entry.record.renew_at = None;
                self.persist(feed_url, Some(&entry.record));
                tracing::warn!(feed = %feed_url, hub = %entry.record.hub, "websub lease lapsed; polling at the feed's interval");
                self.uncover(feed_url, entry);
            }
            if let Some((awaited, sent_at)) = &entry.awaiting {
                if now - *sent_at > timeout {
                    if awaited.mode == Mode::Unsubscribe {
                        leaving.push(feed_url.clone());
                        continue;
                    }
                    let reason = format!(
                        "hub did not verify within {} s",
                        self.options.verify_timeout.as_secs_f64()
                    );
                    self.fail(feed_url, entry, now, &reason);
                }
                continue;
            }
            let retry_allowed = entry.retry_at.is_none_or(|retry_at| retry_at <= now);
            let renew_due = entry
                .record
                .renew_at
                .is_some_and(|renew_at| renew_at <= now);
            if entry.record.is_active(now) && renew_due && retry_allowed {
                entry.awaiting = Some((self.awaited(&entry.record, Mode::Subscribe), now));
                requests.push((feed_url.clone(), Mode::Subscribe, entry.record.clone()));
            }
        }
        for feed_url in leaving {
            if let Some(entry) = table.by_feed.remove(&feed_url) {
                table.by_id.remove(&entry.record.id);
            }
            self.persist(&feed_url, None);
        }
        drop(table);
        for (feed_url, mode, record) in requests {
            self.send(feed_url, mode, record);
        }
    }

    fn awaited(&self, record: &SubscriptionRecord, mode: Mode) -> Awaited {
        Awaited {
            mode,
            topic: record.topic.clone(),
        }
    }

    fn callback_url(&self, id: &str) -> String {
        format!(
            "{}/websub/{id}",
            self.options.callback_base.as_str().trim_end_matches('/')
        )
    }

    /// Sends a (un)subscribe request in the background; `awaiting` is set
    /// already, since a hub may verify before it answers the request.
    fn send(self: &Arc<Self>, feed_url: String, mode: Mode, record: SubscriptionRecord) {
        let subscriber = Arc::clone(self);
        tokio::spawn(async move {
            let failure = match Url::parse(&record.hub) {
                Err(error) => Some(format!("hub url {}: {error}", record.hub)),
                Ok(hub) => {
                    let callback = subscriber.callback_url(&record.id);
                    let lease = subscriber.options.lease.as_secs().to_string();
                    let mut form = vec![
                        ("hub.callback", callback.as_str()),
                        ("hub.mode", mode.as_str()),
                        ("hub.topic", record.topic.as_str()),
                    ];
                    if mode == Mode::Subscribe {
                        form.push(("hub.lease_seconds", lease.as_str()));
                        form.push(("hub.secret", record.secret.as_str()));
                    }
                    match subscriber.http.post_form(&hub, &form).await {
                        Ok((status, _)) if (200..300).contains(&status) => None,
                        Ok((status, body)) => Some(format!(
                            "hub answered {status} to {}: {}",
                            mode.as_str(),
                            body.trim()
                        )),
                        Err(error) => Some(error.to_string()),
                    }
                }
            };
            tracing::debug!(feed = %feed_url, hub = %record.hub, mode = mode.as_str(), failed = failure.is_some(), "websub request sent");
            if let Some(reason) = failure {
                let mut table = subscriber.table.lock().expect("subscription table lock");
                if mode == Mode::Unsubscribe {
                    if let Some(entry) = table.by_feed.remove(&feed_url) {
                        table.by_id.remove(&entry.record.id);
                    }
                    subscriber.persist(&feed_url, None);
                    return;
                }
                if let Some(entry) = table.by_feed.get_mut(&feed_url) {
                    let still_ours = entry
                        .awaiting
                        .as_ref()
                        .is_some_and(|(awaited, _)| awaited.mode == mode);
                    if still_ours {
                        subscriber.fail(&feed_url, entry, Utc::now(), &reason);
                    }
                }
            }
        });
    }

    /// A request failed: polling resumes at the feed's interval at once,
    /// and the next request waits (doubling from a minute to six hours).
    fn fail(&self, feed_url: &str, entry: &mut Entry, now: DateTime<Utc>, reason: &str) {
        entry.awaiting = None;
        entry.failures += 1;
        let wait = RETRY_FIRST
            .saturating_mul(2u32.saturating_pow(entry.failures - 1))
            .min(RETRY_MAX);
        entry.retry_at = chrono::Duration::from_std(wait)
            .ok()
            .and_then(|wait| now.checked_add_signed(wait));
        if entry.failures == 1 {
            tracing::warn!(feed = %feed_url, hub = %entry.record.hub, reason = %reason, retry_in_seconds = wait.as_secs(), "websub hub failed; polling at the feed's interval");
        } else {
            tracing::debug!(feed = %feed_url, hub = %entry.record.hub, reason = %reason, failures = entry.failures, "websub hub still failing");
        }
        self.uncover(feed_url, entry);
    }

    fn uncover(&self, feed_url: &str, entry: &mut Entry) {
        if entry.covered {
            entry.covered = false;
            if let Some(poller) = self.poller.upgrade() {
                poller.cover_by_push(feed_url, None);
            }
        }
    }

    fn persist(&self, feed_url: &str, record: Option<&SubscriptionRecord>) {
        if let Err(error) = self.store.set_subscription(feed_url, record) {
            tracing::warn!(feed = %feed_url, error = %error, "storing the websub subscription failed");
        }
    }
}

impl FeedWatcher for Arc<Subscriber> {
    fn polled(&self, feed: &FeedSpec, hub: Option<Discovery>) {
        let Some(discovery) = hub else {
            return;
        };
        let feed_url = feed.url.to_string();
        // A poll that finished after its feed left the list says nothing.
        let listed = self
            .poller
            .upgrade()
            .is_some_and(|poller| poller.running_feed(&feed_url).is_some());
        if !feed.websub || !listed {
            return;
        }
        let now = Utc::now();
        let mut table = self.table.lock().expect("subscription table lock");
        let table = &mut *table;
        let entry = match table.by_feed.entry(feed_url.clone()) {
            std::collections::hash_map::Entry::Occupied(occupied) => occupied.into_mut(),
            std::collections::hash_map::Entry::Vacant(vacant) => {
                let record = match SubscriptionRecord::new(&discovery) {
                    Ok(record) => record,
                    Err(error) => {
                        tracing::warn!(feed = %feed_url, error = %error, "no random bytes for a websub secret; not subscribing");
                        return;
                    }
                };
                table.by_id.insert(record.id.clone(), feed_url.clone());
                vacant.insert(Entry {
                    record,
                    awaiting: None,
                    retry_at: None,
                    failures: 0,
                    covered: false,
                })
            }
        };
        let moved = entry.record.hub != discovery.hub.as_str()
            || entry.record.topic != discovery.topic.as_str();
        if moved {
            // A new hub or topic: a new subscription (same id and secret).
            entry.record.hub = discovery.hub.to_string();
            entry.record.topic = discovery.topic.to_string();
            entry.record.expires_at = None;
            entry.record.renew_at = None;
            entry.retry_at = None;
            entry.awaiting = None;
        }
        let due = entry.awaiting.is_none()
            && !entry.record.is_active(now)
            && entry.retry_at.is_none_or(|retry_at| retry_at <= now);
        if !due {
            return;
        }
        entry.awaiting = Some((self.awaited(&entry.record, Mode::Subscribe), now));
        let record = entry.record.clone();
        self.persist(&feed_url, Some(&record));
        self.send(feed_url, Mode::Subscribe, record);
    }

    fn removed(&self, feed_url: &str) {
        let now = Utc::now();
        let mut table = self.table.lock().expect("subscription table lock");
        let Some(entry) = table.by_feed.get_mut(feed_url) else {
            return;
        };
        self.uncover(feed_url, entry);
        if !entry.record.is_active(now) {
            let id = entry.record.id.clone();
            table.by_feed.remove(feed_url);
            table.by_id.remove(&id);
            self.persist(feed_url, None);
            return;
        }
        entry.awaiting = Some((self.awaited(&entry.record, Mode::Unsubscribe), now));
        let record = entry.record.clone();
        drop(table);
        self.send(feed_url.to_owned(), Mode::Unsubscribe, record);
    }
}
