//! The fetcher's state on disk (one redb file): per-feed status and
//! validators, and the seen-set of stories already handed downstream.
//!
//! The seen-set is keyed by article id and by `feed + guid`, so a story is
//! seen when either matches: a changed guid on the same canonical link, or a
//! changed link with the same guid, is not a new story. Entries older than
//! the configured age are pruned. WebSub subscriptions (callback id,
//! secret, lease) are kept here too, so pushes still verify after a
//! restart.

// redb reports one large error enum; boxing it at every `?` buys nothing on
// this path (a few small transactions per poll).
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use redb::{Database, Durability, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::http::Validators;
use crate::websub::SubscriptionRecord;

const FEEDS: TableDefinition<&str, &[u8]> = TableDefinition::new("feeds");
const SEEN: TableDefinition<&str, i64> = TableDefinition::new("seen");
/// Feed URL -> its WebSub subscription (JSON of [`SubscriptionRecord`]).
const WEBSUB: TableDefinition<&str, &[u8]> = TableDefinition::new("websub");

/// What wirewatch knows about one feed; shown by `wirewatch status`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FeedStatus {
    #[serde(default)]
    pub validators: Validators,
    #[serde(default)]
    pub last_fetch: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_success: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_error: Option<String>,
    /// Failures in a row; 0 after a success.
    #[serde(default)]
    pub consecutive_failures: u32,
    #[serde(default)]
    pub total_failures: u64,
    #[serde(default)]
    pub next_poll: Option<DateTime<Utc>>,
    /// Where a permanent redirect (301/308) pointed last time.
    #[serde(default)]
    pub moved_to: Option<String>,
    #[serde(default)]
    pub items_emitted: u64,
    /// Polls made (successful or not).
    #[serde(default)]
    pub polls: u64,
    /// Polls the server answered 304 Not Modified.
    #[serde(default)]
    pub not_modified: u64,
    /// Publication times of recent items, for adaptive polling.
    #[serde(default)]
    pub recent_item_times: Vec<DateTime<Utc>>,
    /// The seen-set keys of the items the last document listed, kept only
    /// when feeds are shared between fetchers
    /// ([`crate::PollOptions::keep_feed_keys`]): they move with the feed,
    /// so the fetcher that takes it over knows its stories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feed_keys: Vec<String>,
}

/// The store's file inside the state directory.
pub const STATE_FILE: &str = "fetcher.redb";

/// `dir/fetcher.redb`.
pub fn state_file(dir: &Path) -> PathBuf {
    dir.join(STATE_FILE)
}

/// A state store that could not be opened or written. Names the file.
#[derive(Debug, thiserror::Error)]
#[error("{}", describe(self))]
pub struct StateError {
    pub path: PathBuf,
    pub kind: StateErrorKind,
    pub message: String,
}

/// What kind of trouble a [`StateError`] reports, so the binary can say
/// what to do about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateErrorKind {
    /// The file's bytes are not a sound redb database: overwritten,
    /// truncated, or not a state file at all. [`repair`] salvages it.
    Damaged,
    /// Another process (a running daemon) holds the file.
    InUse,
    /// Anything else: I/O, permissions, a format from another version.
    Other,
}

fn describe(error: &StateError) -> String {
    let path = error.path.display();
    match error.kind {
        StateErrorKind::Damaged => format!("state file {path} is damaged: {}", error.message),
        StateErrorKind::InUse => format!(
            "state file {path} is in use by another process (is wirewatch running?): {}",
            error.message
        ),
        StateErrorKind::Other => format!("state store {path}: {}", error.message),
    }
}

impl StateError {
    fn new(path: &Path, kind: StateErrorKind, message: impl Into<String>) -> StateError {
        StateError {
            path: path.to_owned(),
            kind,
            message: message.into(),
        }
    }

    /// Sorts redb's open errors into damage, a held lock, and the rest.
    fn from_open(path: &Path, error: redb::DatabaseError) -> StateError {
        use redb::{DatabaseError, StorageError};
        let kind = match &error {
            DatabaseError::DatabaseAlreadyOpen => StateErrorKind::InUse,
            DatabaseError::RepairAborted | DatabaseError::Storage(StorageError::Corrupted(_)) => {
                StateErrorKind::Damaged
            }
            DatabaseError::Storage(StorageError::Io(io))
                if io.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                StateErrorKind::Damaged
            }
            _ => StateErrorKind::Other,
        };
        StateError::new(path, kind, error.to_string())
    }

    fn from_panic(path: &Path, panic: String) -> StateError {
        StateError::new(
            path,
            StateErrorKind::Damaged,
            format!("the database library failed reading it ({panic})"),
        )
    }
}

/// The embedded store. Cheap to clone.
#[derive(Clone)]
pub struct StateStore {
    inner: std::sync::Arc<Inner>,
    path: PathBuf,
}

struct Inner {
    database: Database,
    /// Feed statuses not yet committed, by feed URL (serialized).
    pending: Mutex<PendingStatuses>,
    /// Seen keys waiting for their commit (group commit).
    seen_queue: Mutex<SeenQueue>,
    /// Held by the caller committing a group of seen keys.
    committing: Mutex<()>,
    /// Durable commits of seen keys so far (each one an fsync).
    seen_commits: std::sync::atomic::AtomicU64,
}

/// Group commit of the seen-set: every caller queues its keys, then one
/// of the callers waiting commits the whole queue in one durable
/// transaction (one fsync) while the others wait for it and return with
/// its result. Concurrent polls of many feeds then share their fsyncs.
struct SeenQueue {
    keys: Vec<(String, i64)>,
    /// The group now filling; the keys above will be committed with it.
    filling: u64,
    /// Groups up to this one are committed (or failed).
    done: u64,
    /// The last few groups whose commit failed, with the error.
    failures: std::collections::VecDeque<(u64, String)>,
}

impl Default for SeenQueue {
    fn default() -> SeenQueue {
        SeenQueue {
            keys: Vec::new(),
            filling: 1,
            done: 0,
            failures: std::collections::VecDeque::new(),
        }
    }
}

/// Failed groups remembered for callers still to learn of them (callers
/// of one group wait on the same lock, so a few are plenty).
const REMEMBERED_FAILURES: usize = 16;

#[derive(Default)]
struct PendingStatuses {
    statuses: HashMap<String, Vec<u8>>,
    /// When the oldest pending status was written.
    since: Option<Instant>,
}

/// Feed statuses are committed in batches: one commit per status made a
/// round of 10,000 polls answering 304 spend most of its time in the store.
/// redb's page cache. Its default (1 GiB) lets the daemon's memory grow
/// with the state file, which grows with the seen-set; the seen-set is
/// read once per new item, so a small cache costs little.
const CACHE_BYTES: usize = 16 << 20;

/// Opens (or creates) a state file with the bounded page cache.
fn open_database(path: &Path) -> Result<Database, redb::DatabaseError> {
    redb::Builder::new()
        .set_cache_size(CACHE_BYTES)
        .create(path)
}

const STATUS_BATCH: usize = 512;
/// No status waits longer than this for a commit (while writes continue;
/// the last ones are committed when the store is dropped).
const STATUS_BATCH_AGE: Duration = Duration::from_secs(1);

impl Drop for Inner {
    fn drop(&mut self) {
        let pending = std::mem::take(&mut *self.pending.lock().expect("pending statuses lock"));
        if let Err(error) = commit_statuses(&self.database, pending.statuses, Durability::Immediate)
        {
            tracing::warn!(error = %error, "writing the last feed statuses failed");
        }
    }
}

fn commit_statuses(
    database: &Database,
    statuses: HashMap<String, Vec<u8>>,
    durability: Durability,
) -> Result<(), redb::Error> {
    if statuses.is_empty() {
        return Ok(());
    }
    let mut transaction = database.begin_write()?;
    transaction.set_durability(durability);
    {
        let mut table = transaction.open_table(FEEDS)?;
        for (feed_url, bytes) in &statuses {
            table.insert(feed_url.as_str(), bytes.as_slice())?;
        }
    }
    transaction.commit()?;
    Ok(())
}

impl StateStore {
    /// Opens (creating if needed) `dir/fetcher.redb`, after checking every
    /// page of it: a damaged file is a [`StateErrorKind::Damaged`] error
    /// here, not a panic somewhere in a poll later.
    pub fn open(dir: &Path) -> Result<StateStore, StateError> {
        let path = state_file(dir);
        std::fs::create_dir_all(dir).map_err(|io| {
            StateError::new(
                &path,
                StateErrorKind::Other,
                format!("creating directory: {io}"),
            )
        })?;
        create_whole(&path)?;
        let (database, integrity) = open_checked(&path)?;
        if integrity == Integrity::RolledBack {
            tracing::warn!(
                file = %path.display(),
                "state file was damaged; redb repaired it by going back to its last sound commit"
            );
        }
        let store = StateStore {
            inner: std::sync::Arc::new(Inner {
                database,
                pending: Mutex::default(),
                seen_queue: Mutex::default(),
                committing: Mutex::default(),
                seen_commits: std::sync::atomic::AtomicU64::new(0),
            }),
            path: path.clone(),
        };
        // Create both tables so readers never see "table does not exist".
        store.write(|transaction| {
            transaction.open_table(FEEDS)?;
            transaction.open_table(SEEN)?;
            transaction.open_table(WEBSUB)?;
            Ok(())
        })?;
        Ok(store)
    }

    fn error(&self, message: impl ToString) -> StateError {
        StateError::new(&self.path, StateErrorKind::Other, message.to_string())
    }

    fn write(
        &self,
        body: impl FnOnce(&redb::WriteTransaction) -> Result<(), redb::Error>,
    ) -> Result<(), StateError> {
        self.write_with(Durability::Immediate, body)
    }

    fn write_with(
        &self,
        durability: Durability,
        body: impl FnOnce(&redb::WriteTransaction) -> Result<(), redb::Error>,
    ) -> Result<(), StateError> {
        let mut transaction = self
            .inner
            .database
            .begin_write()
            .map_err(|error| self.error(error))?;
        transaction.set_durability(durability);
        body(&transaction).map_err(|error| self.error(error))?;
        transaction.commit().map_err(|error| self.error(error))
    }

    /// A read-only view of one table, as of now.
    fn read_table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &self,
        definition: TableDefinition<K, V>,
    ) -> Result<redb::ReadOnlyTable<K, V>, StateError> {
        let transaction = self
            .inner
            .database
            .begin_read()
            .map_err(|error| self.error(error))?;
        transaction
            .open_table(definition)
            .map_err(|error| self.error(error))
    }

    pub fn feed_status(&self, feed_url: &str) -> Result<FeedStatus, StateError> {
        if let Some(bytes) = self
            .inner
            .pending
            .lock()
            .expect("pending statuses lock")
            .statuses
            .get(feed_url)
        {
            return Ok(serde_json::from_slice(bytes).unwrap_or_default());
        }
        let table = self.read_table(FEEDS)?;
        let Some(bytes) = table.get(feed_url).map_err(|error| self.error(error))? else {
            return Ok(FeedStatus::default());
        };
        // A record written by a different version that we cannot read is
        // treated as unknown rather than fatal: the feed is simply re-polled.
        Ok(serde_json::from_slice(bytes.value()).unwrap_or_default())
    }

    pub fn all_feed_statuses(&self) -> Result<Vec<(String, FeedStatus)>, StateError> {
        self.flush()?;
        let table = self.read_table(FEEDS)?;
        let mut statuses = Vec::new();
        for entry in table.iter().map_err(|error| self.error(error))? {
            let (key, value) = entry.map_err(|error| self.error(error))?;
            let status = serde_json::from_slice(value.value()).unwrap_or_default();
            statuses.push((key.value().to_owned(), status));
        }
        Ok(statuses)
    }

    /// Records a feed's status. Statuses are committed in batches (at most
    /// [`STATUS_BATCH`] or [`STATUS_BATCH_AGE`] apart) and without waiting
    /// for the disk: 10,000 feeds answering 304 would otherwise cost 10,000
    /// commits a round. Reads see pending statuses. A crash may lose the
    /// latest statuses (those feeds are polled again, with older
    /// validators); every seen-set update, which is durable, commits the
    /// pending statuses with it.
    pub fn set_feed_status(&self, feed_url: &str, status: &FeedStatus) -> Result<(), StateError> {
        let bytes = serde_json::to_vec(status).map_err(|error| self.error(error))?;
        let batch = {
            let mut pending = self.inner.pending.lock().expect("pending statuses lock");
            pending.statuses.insert(feed_url.to_owned(), bytes);
            let since = *pending.since.get_or_insert_with(Instant::now);
            if pending.statuses.len() >= STATUS_BATCH || since.elapsed() >= STATUS_BATCH_AGE {
                std::mem::take(&mut *pending).statuses
            } else {
                return Ok(());
            }
        };
        commit_statuses(&self.inner.database, batch, Durability::Eventual)
            .map_err(|error| self.error(error))
    }

    /// Commits pending feed statuses durably.
    pub fn flush(&self) -> Result<(), StateError> {
        let pending =
            std::mem::take(&mut *self.inner.pending.lock().expect("pending statuses lock"));
        commit_statuses(
            &self.inner.database,
            pending.statuses,
            Durability::Immediate,
        )
        .map_err(|error| self.error(error))
    }

    /// Takes over a feed's state written by another fetcher: its status
    /// replaces the stored one unless the stored one is as recent (its
    /// last fetch not older), and its keys join the seen-set. True when
    /// the status was taken.
    pub fn adopt(&self, feed_url: &str, status: &FeedStatus) -> Result<bool, StateError> {
        let stored = self.feed_status(feed_url)?;
        let newer = match (stored.last_fetch, status.last_fetch) {
            (Some(stored), Some(offered)) => offered > stored,
            (None, _) => true,
            (Some(_), None) => false,
        };
        if !status.feed_keys.is_empty() {
            let keys: Vec<&str> = status.feed_keys.iter().map(String::as_str).collect();
            self.mark_seen(&keys, Utc::now())?;
        }
        if newer {
            self.set_feed_status(feed_url, status)?;
        }
        Ok(newer)
    }

    /// Whether any of `keys` was recorded as seen.
    pub fn is_seen(&self, keys: &[&str]) -> Result<bool, StateError> {
        Ok(self.seen_count_of(keys)? > 0)
    }

    /// How many of `keys` were recorded as seen.
    pub fn seen_count_of(&self, keys: &[&str]) -> Result<usize, StateError> {
        let table = self.read_table(SEEN)?;
        let mut count = 0;
        for key in keys {
            if table
                .get(*key)
                .map_err(|error| self.error(error))?
                .is_some()
            {
                count += 1;
            }
        }
        Ok(count)
    }

    /// Records `keys` as seen at `when`, durably: returns once they are
    /// committed (with other callers' keys queued meanwhile, in one commit).
    pub fn mark_seen(&self, keys: &[&str], when: DateTime<Utc>) -> Result<(), StateError> {
        let queue = || self.inner.seen_queue.lock().expect("seen queue lock");
        let group = {
            let mut queue = queue();
            let seconds = when.timestamp();
            queue
                .keys
                .extend(keys.iter().map(|key| ((*key).to_owned(), seconds)));
            queue.filling
        };
        let _committer = self.inner.committing.lock().expect("seen commit lock");
        let (keys, committing) = {
            let mut queue = queue();
            if queue.done >= group {
                // Another caller committed our group while we waited.
                return match queue.failures.iter().find(|(failed, _)| *failed == group) {
                    Some((_, message)) => Err(self.error(message)),
                    None => Ok(()),
                };
            }
            let group = queue.filling;
            queue.filling += 1;
            (std::mem::take(&mut queue.keys), group)
        };
        let pending =
            std::mem::take(&mut *self.inner.pending.lock().expect("pending statuses lock"));
        let result = self.write(|transaction| {
            let mut table = transaction.open_table(SEEN)?;
            for (key, seconds) in &keys {
                table.insert(key.as_str(), *seconds)?;
            }
            let mut feeds = transaction.open_table(FEEDS)?;
            for (feed_url, bytes) in &pending.statuses {
                feeds.insert(feed_url.as_str(), bytes.as_slice())?;
            }
            Ok(())
        });
        self.inner
            .seen_commits
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut queue = queue();
        queue.done = committing;
        if let Err(error) = &result {
            if queue.failures.len() == REMEMBERED_FAILURES {
                queue.failures.pop_front();
            }
            queue.failures.push_back((committing, error.to_string()));
        }
        result
    }

    /// How many durable commits of seen keys this store has made.
    pub fn seen_commits(&self) -> u64 {
        self.inner
            .seen_commits
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Drops seen entries recorded before `cutoff`; returns how many.
    pub fn prune_seen(&self, cutoff: DateTime<Utc>) -> Result<u64, StateError> {
        let mut removed = 0;
        let cutoff_seconds = cutoff.timestamp();
        self.write(|transaction| {
            let mut table = transaction.open_table(SEEN)?;
            let before = table.len()?;
            table.retain(|_, seen_at| seen_at >= cutoff_seconds)?;
            removed = before - table.len()?;
            Ok(())
        })?;
        Ok(removed)
    }

    pub fn seen_count(&self) -> Result<u64, StateError> {
        let table = self.read_table(SEEN)?;
        table.len().map_err(|error| self.error(error))
    }

    /// Every stored WebSub subscription, by feed URL. A record this
    /// version cannot read is left out (the feed subscribes afresh).
    pub fn subscriptions(&self) -> Result<Vec<(String, SubscriptionRecord)>, StateError> {
        let table = self.read_table(WEBSUB)?;
        let mut records = Vec::new();
        for entry in table.iter().map_err(|error| self.error(error))? {
            let (key, value) = entry.map_err(|error| self.error(error))?;
            if let Ok(record) = serde_json::from_slice(value.value()) {
                records.push((key.value().to_owned(), record));
            }
        }
        Ok(records)
    }

    /// Stores (durably: the secret must outlive a crash) or, with `None`,
    /// removes a feed's WebSub subscription.
    pub fn set_subscription(
        &self,
        feed_url: &str,
        record: Option<&SubscriptionRecord>,
    ) -> Result<(), StateError> {
        let bytes = record
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|error| self.error(error))?;
        self.write(|transaction| {
            let mut table = transaction.open_table(WEBSUB)?;
            match &bytes {
                Some(bytes) => {
                    table.insert(feed_url, bytes.as_slice())?;
                }
                None => {
                    table.remove(feed_url)?;
                }
            }
            Ok(())
        })
    }
}

// ------------------------------------------------------ checking and repair

/// What a full check of a state file found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Integrity {
    /// Every page is where it should be and its checksum matches.
    Sound,
    /// Damaged, but redb repaired it by going back to its last sound commit
    /// (the latest statuses and seen entries may be lost).
    RolledBack,
}

/// The outcome of [`check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckReport {
    /// There is no state file yet (a first start creates one).
    Missing,
    /// Sound, or damaged in a way redb repairs at the next start.
    Readable(Integrity),
    /// Not usable as it is: the daemon refuses to start on it.
    Damaged(String),
}

/// How [`repair`] got the entries into the fresh file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// The file was sound: nothing was moved or rewritten.
    NothingToDo,
    /// redb went back to the last sound commit; everything in it was copied.
    LastSoundCommit,
    /// redb could not read the file; its pages were scanned for seen-set
    /// entries and feed statuses that still read whole.
    PageScan,
}

/// What [`repair`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepairReport {
    pub recovery: Recovery,
    /// Where the damaged file now is (`fetcher.redb.damaged-<UTC time>`).
    pub damaged_file: Option<PathBuf>,
    pub seen_entries: u64,
    pub feed_statuses: u64,
}

/// Checks `dir/fetcher.redb` page by page without changing it (the check
/// runs on a copy: redb repairs what it checks). Run it with the daemon
/// stopped; a file being written while it is copied can look damaged.
pub fn check(dir: &Path) -> Result<CheckReport, StateError> {
    let path = state_file(dir);
    if !path.exists() {
        return Ok(CheckReport::Missing);
    }
    let copy = TemporaryCopy::of(&path, "check")?;
    match open_checked(&copy.path) {
        Ok((_, integrity)) => Ok(CheckReport::Readable(integrity)),
        Err(error) if error.kind == StateErrorKind::Damaged => {
            Ok(CheckReport::Damaged(error.message))
        }
        Err(error) => Err(StateError::new(&path, error.kind, error.message)),
    }
}

/// Keeps a damaged `dir/fetcher.redb` as `fetcher.redb.damaged-<UTC time>`
/// beside it and writes a fresh file with every
/// seen-set entry and feed status that can still be read. A sound file is
/// left alone. Refuses while another process holds the file.
pub fn repair(dir: &Path) -> Result<RepairReport, StateError> {
    let path = state_file(dir);
    if !path.exists() {
        return Err(StateError::new(
            &path,
            StateErrorKind::Other,
            "there is no state file to repair",
        ));
    }
    // The copy kept aside is taken first: opening the file, even only to
    // see whether another process holds it, can set redb's recovery flag.
    let damaged_file = free_name(&path);
    std::fs::copy(&path, &damaged_file).map_err(|io| {
        StateError::new(
            &path,
            StateErrorKind::Other,
            format!("copying it aside to {}: {io}", damaged_file.display()),
        )
    })?;
    let forget_copy = |error: StateError| {
        let _ = std::fs::remove_file(&damaged_file);
        error
    };
    refuse_if_in_use(&path).map_err(forget_copy)?;
    let copy = TemporaryCopy::of(&damaged_file, "repair").map_err(forget_copy)?;
    let (salvage, recovery) = match open_checked(&copy.path) {
        Ok((_, Integrity::Sound)) => {
            let _ = std::fs::remove_file(&damaged_file);
            return Ok(RepairReport {
                recovery: Recovery::NothingToDo,
                damaged_file: None,
                seen_entries: 0,
                feed_statuses: 0,
            });
        }
        Ok((database, Integrity::RolledBack)) => {
            match contained(|| Salvage::read_database(&database)) {
                Ok(Ok(salvage)) => (salvage, Recovery::LastSoundCommit),
                _ => (Salvage::scan_file(&damaged_file)?, Recovery::PageScan),
            }
        }
        Err(error) if error.kind == StateErrorKind::Damaged => {
            (Salvage::scan_file(&damaged_file)?, Recovery::PageScan)
        }
        Err(error) => {
            return Err(forget_copy(StateError::new(
                &path,
                error.kind,
                error.message,
            )))
        }
    };
    drop(copy);
    std::fs::remove_file(&path).map_err(|io| {
        StateError::new(
            &path,
            StateErrorKind::Other,
            format!(
                "removing it (a copy is at {}): {io}",
                damaged_file.display()
            ),
        )
    })?;
    let written_error = |message: String| {
        StateError::new(
            &path,
            StateErrorKind::Other,
            format!(
                "writing the repaired file ({message}); the damaged one is at {}",
                damaged_file.display()
            ),
        )
    };
    salvage
        .write_to(&path)
        .map_err(|error| written_error(error.to_string()))?;
    // The fresh file must pass the same check the daemon runs at start.
    open_checked(&path).map_err(|error| written_error(error.to_string()))?;
    Ok(RepairReport {
        recovery,
        damaged_file: Some(damaged_file),
        seen_entries: salvage.seen.len() as u64,
        feed_statuses: salvage.statuses.len() as u64,
    })
}

/// A new state file is made beside `path` and renamed into place once redb
/// has written it whole, so a process killed while creating it leaves no
/// half-made file that every later start would refuse as damaged.
fn create_whole(path: &Path) -> Result<(), StateError> {
    if path.exists() {
        return Ok(());
    }
    let fresh = path.with_extension("redb.new");
    let made = (|| -> Result<(), String> {
        let _ = std::fs::remove_file(&fresh);
        drop(open_database(&fresh).map_err(|error| error.to_string())?);
        std::fs::rename(&fresh, path).map_err(|io| io.to_string())
    })();
    made.map_err(|message| {
        StateError::new(
            path,
            StateErrorKind::Other,
            format!("creating the state file: {message}"),
        )
    })
}

/// Opens `path` and checks every page, with redb's panics on damaged
/// pages (failed assertions, slices past a page) turned into errors.
fn open_checked(path: &Path) -> Result<(Database, Integrity), StateError> {
    let opened = contained(|| -> Result<_, redb::DatabaseError> {
        let mut database = open_database(path)?;
        let sound = database.check_integrity()?;
        Ok((database, sound))
    });
    match opened {
        Ok(Ok((database, true))) => Ok((database, Integrity::Sound)),
        Ok(Ok((database, false))) => Ok((database, Integrity::RolledBack)),
        Ok(Err(error)) => Err(StateError::from_open(path, error)),
        Err(panic) => Err(StateError::from_panic(path, panic)),
    }
}

/// Fails when another process holds the file's lock. Opens it with repair
/// refused, so the probe itself never rewrites a damaged file.
fn refuse_if_in_use(path: &Path) -> Result<(), StateError> {
    let probe = contained(|| {
        Database::builder()
            .set_repair_callback(redb::RepairSession::abort)
            .create(path)
            .map(drop)
    });
    match probe {
        Ok(Err(error @ redb::DatabaseError::DatabaseAlreadyOpen)) => {
            Err(StateError::from_open(path, error))
        }
        _ => Ok(()),
    }
}

/// A copy of the state file beside it, removed on drop.
struct TemporaryCopy {
    path: PathBuf,
}

impl TemporaryCopy {
    fn of(path: &Path, purpose: &str) -> Result<TemporaryCopy, StateError> {
        let copy = path.with_file_name(format!(".{STATE_FILE}.{purpose}-{}", std::process::id()));
        std::fs::copy(path, &copy).map_err(|io| {
            StateError::new(
                path,
                StateErrorKind::Other,
                format!("copying it to {}: {io}", copy.display()),
            )
        })?;
        Ok(TemporaryCopy { path: copy })
    }
}

impl Drop for TemporaryCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `fetcher.redb.damaged-20250102T030405Z`, or with `-2`, `-3`... when taken.
fn free_name(path: &Path) -> PathBuf {
    let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
    let base = format!("{STATE_FILE}.damaged-{stamp}");
    let mut candidate = path.with_file_name(&base);
    let mut counter = 2;
    while candidate.exists() {
        candidate = path.with_file_name(format!("{base}-{counter}"));
        counter += 1;
    }
    candidate
}

/// Entries read back from a damaged file.
#[derive(Debug, Default)]
struct Salvage {
    /// Seen-set key -> seen at (Unix seconds).
    seen: HashMap<String, i64>,
    /// Feed URL -> serialized [`FeedStatus`], with its last fetch to pick
    /// the newest of several copies found in old pages.
    statuses: HashMap<String, (Vec<u8>, Option<DateTime<Utc>>)>,
}

/// redb's page size (the default; wirewatch never sets another).
const PAGE_SIZE: usize = 4096;
/// redb's tag of a leaf page (its first byte).
const LEAF_PAGE: u8 = 1;
/// Seen times before this (2000-01-01) are not ours.
const EARLIEST_SEEN: i64 = 946_684_800;

impl Salvage {
    fn read_database(database: &Database) -> Result<Salvage, redb::Error> {
        let mut salvage = Salvage::default();
        let transaction = database.begin_read()?;
        match transaction.open_table(SEEN) {
            Ok(table) => {
                for entry in table.iter()? {
                    let (key, seen_at) = entry?;
                    salvage.seen.insert(key.value().to_owned(), seen_at.value());
                }
            }
            Err(redb::TableError::TableDoesNotExist(_)) => {}
            Err(error) => return Err(error.into()),
        }
        match transaction.open_table(FEEDS) {
            Ok(table) => {
                for entry in table.iter()? {
                    let (key, value) = entry?;
                    salvage.add_status(key.value(), value.value());
                }
            }
            Err(redb::TableError::TableDoesNotExist(_)) => {}
            Err(error) => return Err(error.into()),
        }
        Ok(salvage)
    }

    fn scan_file(path: &Path) -> Result<Salvage, StateError> {
        let bytes = std::fs::read(path)
            .map_err(|io| StateError::new(path, StateErrorKind::Other, format!("reading: {io}")))?;
        Ok(Salvage::scan_pages(&bytes, Utc::now().timestamp()))
    }

    /// Reads every page that still parses as a leaf of the seen table
    /// (string keys, 8-byte times) or of the feeds table (URL keys, JSON
    /// statuses), following redb 2's leaf layout: tag, a spare byte, the
    /// pair count (u16), the end offset of each key (u32), for variable
    /// values the end offset of each value (u32), the keys, the values.
    /// Pages redb no longer uses can hold older copies of entries: the
    /// latest time and the newest status win. Whatever is damaged fails
    /// these checks and is left out.
    fn scan_pages(bytes: &[u8], now: i64) -> Salvage {
        let mut salvage = Salvage::default();
        let mut offset = 0;
        while offset < bytes.len() {
            // A leaf can span several pages when its values are large.
            let window = &bytes[offset..bytes.len().min(offset + 64 * PAGE_SIZE)];
            salvage.scan_seen_leaf(window, now);
            salvage.scan_feeds_leaf(window);
            offset += PAGE_SIZE;
        }
        salvage
    }

    fn scan_seen_leaf(&mut self, page: &[u8], now: i64) {
        let Some((count, key_ends)) = leaf_offsets(page, 1) else {
            return;
        };
        let mut key_start = 4 + 4 * count;
        let values_start = key_ends[count - 1];
        for (index, &key_end) in key_ends.iter().enumerate() {
            let key = &page[key_start..key_end];
            key_start = key_end;
            let value_at = values_start + 8 * index;
            let Some(value) = page.get(value_at..value_at + 8) else {
                break;
            };
            let seen_at = i64::from_le_bytes(value.try_into().expect("8 bytes"));
            let Ok(key) = std::str::from_utf8(key) else {
                continue;
            };
            if key.is_empty() || !(EARLIEST_SEEN..=now + 86_400).contains(&seen_at) {
                continue;
            }
            let entry = self.seen.entry(key.to_owned()).or_insert(seen_at);
            *entry = (*entry).max(seen_at);
        }
    }

    fn scan_feeds_leaf(&mut self, page: &[u8]) {
        let Some((count, ends)) = leaf_offsets(page, 2) else {
            return;
        };
        let (key_ends, value_ends) = ends.split_at(count);
        let mut key_start = 4 + 8 * count;
        let mut value_start = key_ends[count - 1];
        for (&key_end, &value_end) in key_ends.iter().zip(value_ends) {
            let key = &page[key_start..key_end];
            let value = &page[value_start..value_end];
            key_start = key_end;
            value_start = value_end;
            if let Ok(key) = std::str::from_utf8(key) {
                if key.contains("://") && value.first() == Some(&b'{') {
                    self.add_status(key, value);
                }
            }
        }
    }

    fn add_status(&mut self, feed_url: &str, bytes: &[u8]) {
        let Ok(status) = serde_json::from_slice::<FeedStatus>(bytes) else {
            return;
        };
        let older_copy = self
            .statuses
            .get(feed_url)
            .is_some_and(|(_, last_fetch)| status.last_fetch < *last_fetch);
        if !older_copy {
            self.statuses
                .insert(feed_url.to_owned(), (bytes.to_vec(), status.last_fetch));
        }
    }

    fn write_to(&self, path: &Path) -> Result<(), redb::Error> {
        let database = open_database(path)?;
        let transaction = database.begin_write()?;
        {
            let mut seen = transaction.open_table(SEEN)?;
            for (key, seen_at) in &self.seen {
                seen.insert(key.as_str(), *seen_at)?;
            }
            let mut feeds = transaction.open_table(FEEDS)?;
            for (feed_url, (bytes, _)) in &self.statuses {
                feeds.insert(feed_url.as_str(), bytes.as_slice())?;
            }
        }
        transaction.commit()?;
        Ok(())
    }
}

/// A leaf's pair count and its `offsets_per_pair * count` end offsets,
/// when they describe pairs that lie inside `page` in order.
fn leaf_offsets(page: &[u8], offsets_per_pair: usize) -> Option<(usize, Vec<usize>)> {
    if page.len() < 4 || page[0] != LEAF_PAGE {
        return None;
    }
    let count = usize::from(u16::from_le_bytes([page[2], page[3]]));
    let header_end = 4 + 4 * offsets_per_pair * count;
    if count == 0 || header_end > page.len() {
        return None;
    }
    let ends: Vec<usize> = page[4..header_end]
        .chunks_exact(4)
        .map(|end| u32::from_le_bytes(end.try_into().expect("4 bytes")) as usize)
        .collect();
    // Keys, then values, each run ending where the next begins.
    let mut previous = header_end;
    let (key_ends, value_ends) = ends.split_at(count);
    for &end in key_ends.iter().chain(value_ends) {
        if end < previous || end > page.len() {
            return None;
        }
        previous = end;
    }
    Some((count, ends))
}

/// Runs `body`, turning a panic into an error holding its message, and
/// keeping the message off stderr: a damaged file is reported once, as an
/// error that says what to do, not as a backtrace.
fn contained<T>(body: impl FnOnce() -> T) -> Result<T, String> {
    use std::cell::{Cell, RefCell};
    thread_local! {
        static CONTAINED: Cell<bool> = const { Cell::new(false) };
        static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
    }
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CONTAINED.with(Cell::get) {
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(std::string::ToString::to_string)
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                LAST_PANIC.with(|last| *last.borrow_mut() = Some(message));
            } else {
                previous(info);
            }
        }));
    });
    let outer = CONTAINED.with(|flag| flag.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
    CONTAINED.with(|flag| flag.set(outer));
    result.map_err(|_| {
        LAST_PANIC
            .with(|last| last.borrow_mut().take())
            .unwrap_or_else(|| "unknown panic".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temporary_dir(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("wirewatch-state-{name}-"))
            .tempdir()
            .unwrap()
    }

    #[test]
    fn a_feed_state_taken_over_replaces_an_older_one_and_its_keys_become_seen() {
        let dir = temporary_dir("adopt");
        let store = StateStore::open(dir.path()).unwrap();
        let at = |seconds: i64| DateTime::<Utc>::from_timestamp(seconds, 0);
        let offered = FeedStatus {
            last_fetch: at(2_000),
            validators: Validators {
                etag: Some("\"v2\"".into()),
                last_modified: None,
            },
            feed_keys: vec!["article-1".into(), "guid-1".into()],
            ..FeedStatus::default()
        };
        assert!(store.adopt("https://a.example/feed", &offered).unwrap());
        assert_eq!(
            store.feed_status("https://a.example/feed").unwrap(),
            offered
        );
        assert!(store.is_seen(&["guid-1"]).unwrap());
        let older = FeedStatus {
            last_fetch: at(1_000),
            feed_keys: vec!["article-0".into()],
            ..FeedStatus::default()
        };
        assert!(!store.adopt("https://a.example/feed", &older).unwrap());
        assert_eq!(
            store.feed_status("https://a.example/feed").unwrap(),
            offered
        );
        assert!(store.is_seen(&["article-0"]).unwrap(), "keys join even so");
    }

    #[test]
    fn concurrent_marks_share_commits_and_every_key_is_durable() {
        let tmp = temporary_dir("group");
        let threads = 8;
        let per_thread = 50;
        {
            let store = StateStore::open(tmp.path()).unwrap();
            std::thread::scope(|scope| {
                for thread in 0..threads {
                    let store = store.clone();
                    scope.spawn(move || {
                        for index in 0..per_thread {
                            let key = format!("t{thread}-{index}");
                            store.mark_seen(&[key.as_str()], Utc::now()).unwrap();
                            // Returned: durable, so readable now.
                            assert!(store.is_seen(&[key.as_str()]).unwrap());
                        }
                    });
                }
            });
            let commits = store.seen_commits();
            assert!(commits >= 1 && commits <= (threads * per_thread) as u64);
            eprintln!("{} marks in {commits} commits", threads * per_thread);
        }
        let store = StateStore::open(tmp.path()).unwrap();
        assert_eq!(store.seen_count().unwrap(), (threads * per_thread) as u64);
    }

    #[test]
    fn seen_set_and_feed_status_survive_reopening() {
        let tmp = temporary_dir("reopen");
        let dir = tmp.path();
        {
            let store = StateStore::open(dir).unwrap();
            store.mark_seen(&["a", "feed\u{0}g1"], Utc::now()).unwrap();
            let status = FeedStatus {
                validators: Validators {
                    etag: Some("\"v1\"".into()),
                    last_modified: None,
                },
                ..FeedStatus::default()
            };
            store.set_feed_status("https://f", &status).unwrap();
        }
        let store = StateStore::open(dir).unwrap();
        assert!(store.is_seen(&["zzz", "a"]).unwrap());
        assert!(!store.is_seen(&["zzz"]).unwrap());
        assert_eq!(
            store
                .feed_status("https://f")
                .unwrap()
                .validators
                .etag
                .as_deref(),
            Some("\"v1\"")
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// The page scan of `repair` reads redb's leaf layout itself; on a
    /// sound file it must find every entry, or a redb upgrade moved it.
    #[test]
    fn the_page_scan_finds_every_entry_of_a_sound_file() {
        let tmp = temporary_dir("scan");
        let dir = tmp.path();
        let now = Utc::now();
        {
            let store = StateStore::open(dir).unwrap();
            for batch in 0..10 {
                let keys: Vec<String> = (0..300).map(|n| format!("story-{batch}-{n}")).collect();
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                store.mark_seen(&keys, now).unwrap();
            }
            let status = FeedStatus {
                last_fetch: Some(now),
                items_emitted: 3,
                ..FeedStatus::default()
            };
            store
                .set_feed_status("https://f/feed.xml", &status)
                .unwrap();
            store.flush().unwrap();
        }
        let bytes = std::fs::read(state_file(dir)).unwrap();
        let salvage = Salvage::scan_pages(&bytes, now.timestamp());
        assert_eq!(salvage.seen.len(), 3000);
        assert_eq!(salvage.seen["story-7-123"], now.timestamp());
        let (status, _) = &salvage.statuses["https://f/feed.xml"];
        let status: FeedStatus = serde_json::from_slice(status).unwrap();
        assert_eq!(status.items_emitted, 3);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_contained_panic_is_an_error_with_its_message() {
        let outcome: Result<(), String> = contained(|| panic!("page {} out of range", 7));
        assert_eq!(outcome, Err("page 7 out of range".to_owned()));
        assert_eq!(contained(|| 5), Ok(5));
    }

    #[test]
    fn pruning_drops_only_old_entries() {
        let tmp = temporary_dir("prune");
        let dir = tmp.path();
        let store = StateStore::open(dir).unwrap();
        let now = Utc::now();
        store
            .mark_seen(&["old"], now - chrono::Duration::days(40))
            .unwrap();
        store.mark_seen(&["new"], now).unwrap();
        assert_eq!(
            store.prune_seen(now - chrono::Duration::days(30)).unwrap(),
            1
        );
        assert!(store.is_seen(&["new"]).unwrap());
        assert!(!store.is_seen(&["old"]).unwrap());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
