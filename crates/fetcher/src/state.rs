//! The fetcher's state on disk (one redb file): per-feed status and
//! validators, and the seen-set of stories already handed downstream.
//!
//! The seen-set is keyed by article id and by `feed + guid`, so a story is
//! seen when either matches: a changed guid on the same canonical link, or a
//! changed link with the same guid, is not a new story. Entries older than
//! the configured age are pruned.

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

const FEEDS: TableDefinition<&str, &[u8]> = TableDefinition::new("feeds");
const SEEN: TableDefinition<&str, i64> = TableDefinition::new("seen");

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
    /// Publication times of recent items, for adaptive polling.
    #[serde(default)]
    pub recent_item_times: Vec<DateTime<Utc>>,
}

/// A state store that could not be opened or written. Names the file.
#[derive(Debug, thiserror::Error)]
#[error("state store {path}: {message}")]
pub struct StateError {
    pub path: PathBuf,
    pub message: String,
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
}

#[derive(Default)]
struct PendingStatuses {
    statuses: HashMap<String, Vec<u8>>,
    /// When the oldest pending status was written.
    since: Option<Instant>,
}

/// Feed statuses are committed in batches: one commit per status made a
/// round of 10,000 polls answering 304 spend most of its time in the store.
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
    /// Opens (creating if needed) `dir/fetcher.redb`.
    pub fn open(dir: &Path) -> Result<StateStore, StateError> {
        let path = dir.join("fetcher.redb");
        let error = |message: String| StateError {
            path: path.clone(),
            message,
        };
        std::fs::create_dir_all(dir).map_err(|io| error(format!("creating directory: {io}")))?;
        let database = Database::create(&path).map_err(|db| error(db.to_string()))?;
        let store = StateStore {
            inner: std::sync::Arc::new(Inner {
                database,
                pending: Mutex::default(),
            }),
            path: path.clone(),
        };
        // Create both tables so readers never see "table does not exist".
        store.write(|transaction| {
            transaction.open_table(FEEDS)?;
            transaction.open_table(SEEN)?;
            Ok(())
        })?;
        Ok(store)
    }

    fn error(&self, message: impl ToString) -> StateError {
        StateError {
            path: self.path.clone(),
            message: message.to_string(),
        }
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

    /// Records `keys` as seen at `when`.
    pub fn mark_seen(&self, keys: &[&str], when: DateTime<Utc>) -> Result<(), StateError> {
        let pending =
            std::mem::take(&mut *self.inner.pending.lock().expect("pending statuses lock"));
        self.write(|transaction| {
            let mut table = transaction.open_table(SEEN)?;
            for key in keys {
                table.insert(*key, when.timestamp())?;
            }
            let mut feeds = transaction.open_table(FEEDS)?;
            for (feed_url, bytes) in &pending.statuses {
                feeds.insert(feed_url.as_str(), bytes.as_slice())?;
            }
            Ok(())
        })
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temporary_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "wirewatch-state-{name}-{}-{}",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn seen_set_and_feed_status_survive_reopening() {
        let dir = temporary_dir("reopen");
        {
            let store = StateStore::open(&dir).unwrap();
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
        let store = StateStore::open(&dir).unwrap();
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

    #[test]
    fn pruning_drops_only_old_entries() {
        let dir = temporary_dir("prune");
        let store = StateStore::open(&dir).unwrap();
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
