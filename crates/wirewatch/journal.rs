//! Durable records that keep the embedded pipeline lossless and its local
//! outputs free of repeats across crashes.
//!
//! [`Journal`]: the memory bus's write-ahead log (`state_dir/inflight.journal`).
//! The fetcher's sink appends each new item before the item is published,
//! and syncs the journal to disk once per poll, before the poll records its
//! items as seen (an item lost with an unsynced record is still unseen, so
//! it is fetched again); the last stages a story passes (the output sink
//! and each webhook, or the dead-letter file) append its id as done once
//! each of them finished it.
//! At start the items without a done record are published again, so a
//! story the process held in memory when it was killed is not lost: the
//! seen-set no longer hides it. A torn last line (a kill in mid-write) is
//! ignored; it was never acknowledged to the fetcher, whose item is then
//! still unseen and fetched again.
//!
//! [`WrittenIds`]: the article ids an output sink already wrote
//! (`state_dir/output-written.ids`), so a story delivered twice (Kafka
//! redelivery after a crash, a journal replay) is written once. The record
//! keeps the most recent [`WRITTEN_IDS_KEPT`] ids; the tail of the JSON-lines
//! output file is read at start too, which covers a kill between writing a
//! line and recording its id.
//!
//! Record lines are `+<item json>` and `-<id>` (journal) and `<id>`
//! (written ids). Both files are rewritten, compacted, through a temporary
//! file and a rename, at start and when they grow past a bound.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use wirewatch_model::FeedItem;

/// Journal records beyond this many, and beyond four times the items still
/// pending, trigger a compaction.
const JOURNAL_COMPACT_AT: usize = 10_000;
/// How many written ids an output sink remembers.
pub const WRITTEN_IDS_KEPT: usize = 100_000;
/// How much of the end of a JSON-lines output is read back at start.
const OUTPUT_TAIL_BYTES: u64 = 1024 * 1024;

/// The memory bus's write-ahead log of items in flight.
pub struct Journal {
    path: PathBuf,
    inner: Mutex<JournalInner>,
}

struct JournalInner {
    file: File,
    /// id -> the item's record line, for items not yet done.
    pending: HashMap<String, Vec<u8>>,
    /// Record lines in the file.
    records: usize,
    /// Whether records were added since the last sync.
    unsynced: bool,
    /// The stages a story passes last; see [`Journal::set_final_stages`].
    final_stages: Vec<String>,
    /// id -> the final stages (by position) that finished it, for stories
    /// some have not.
    finished_by: HashMap<String, BTreeSet<usize>>,
}

impl Journal {
    /// Opens (or creates) the journal in `state_dir` and returns the items
    /// that were in flight when the last run ended, oldest first.
    pub fn open(state_dir: &Path) -> anyhow::Result<(Journal, Vec<FeedItem>)> {
        std::fs::create_dir_all(state_dir)
            .with_context(|| format!("creating state directory {}", state_dir.display()))?;
        let path = state_dir.join("inflight.journal");
        let mut order: Vec<String> = Vec::new();
        let mut pending: HashMap<String, Vec<u8>> = HashMap::new();
        if path.exists() {
            let file = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
            let mut reader = BufReader::new(file);
            let mut line = Vec::new();
            let mut number = 0usize;
            loop {
                line.clear();
                let read = reader
                    .read_until(b'\n', &mut line)
                    .with_context(|| format!("reading {}", path.display()))?;
                if read == 0 {
                    break;
                }
                number += 1;
                if line.last() != Some(&b'\n') {
                    tracing::warn!(journal = %path.display(), line = number, "ignoring a torn last journal record (the process stopped while writing it)");
                    break;
                }
                let record = &line[..line.len() - 1];
                match record.first() {
                    Some(b'+') => match serde_json::from_slice::<FeedItem>(&record[1..]) {
                        Ok(item) => {
                            let id = item.id.as_str().to_owned();
                            if pending.insert(id.clone(), record.to_vec()).is_none() {
                                order.push(id);
                            }
                        }
                        Err(error) => {
                            tracing::warn!(journal = %path.display(), line = number, error = %error, "skipping an unreadable journal record");
                        }
                    },
                    Some(b'-') => {
                        let id = String::from_utf8_lossy(&record[1..]).into_owned();
                        pending.remove(&id);
                    }
                    _ => {
                        tracing::warn!(journal = %path.display(), line = number, "skipping an unknown journal record");
                    }
                }
            }
        }
        let mut items = Vec::new();
        for id in &order {
            if let Some(record) = pending.get(id) {
                let item: FeedItem =
                    serde_json::from_slice(&record[1..]).expect("parsed when it was read");
                items.push(item);
            }
        }
        // Oldest first; keep the order in the compacted file too.
        let records: Vec<&Vec<u8>> = order.iter().filter_map(|id| pending.get(id)).collect();
        rewrite(&path, records.iter().map(|record| record.as_slice()))?;
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        let journal = Journal {
            path,
            inner: Mutex::new(JournalInner {
                file,
                records: pending.len(),
                pending,
                unsynced: false,
                final_stages: Vec::new(),
                finished_by: HashMap::new(),
            }),
        };
        Ok((journal, items))
    }

    /// Records `item` as in flight; durable after the next [`Journal::sync`].
    pub fn add(&self, item: &FeedItem) -> std::io::Result<()> {
        let mut record = Vec::with_capacity(512);
        record.push(b'+');
        serde_json::to_writer(&mut record, item).map_err(std::io::Error::other)?;
        let mut inner = self.inner.lock().expect("journal lock");
        let mut line = record.clone();
        line.push(b'\n');
        inner.file.write_all(&line)?;
        inner.unsynced = true;
        inner.records += 1;
        inner.pending.insert(item.id.as_str().to_owned(), record);
        Ok(())
    }

    /// Syncs the records added so far to disk (nothing to do when none was
    /// added since the last sync).
    pub fn sync(&self) -> std::io::Result<()> {
        let mut inner = self.inner.lock().expect("journal lock");
        if inner.unsynced {
            inner.file.sync_data()?;
            inner.unsynced = false;
        }
        Ok(())
    }

    /// Names the stages every story passes last (the output, each
    /// webhook): a story is done once each of them finished it. Without
    /// this, the first stage to finish a story makes it done.
    pub fn set_final_stages(&self, stages: &[String]) {
        self.inner.lock().expect("journal lock").final_stages = stages.to_vec();
    }

    /// `stage` is finished with the story `id`: it wrote or delivered it,
    /// had nothing to do, or dead-lettered it. The story is done once every
    /// final stage finished it, or at once when `stage` is not a final one
    /// (an earlier stage dead-lettered it, so it reaches none). Until then a
    /// crash replays it to all of them, and each one's record of ids keeps
    /// it from being written or posted twice.
    pub fn done(&self, id: &str, stage: &str) -> std::io::Result<()> {
        let mut inner = self.inner.lock().expect("journal lock");
        if !inner.pending.contains_key(id) {
            return Ok(());
        }
        let parts = inner.final_stages.len();
        if let Some(part) = inner.final_stages.iter().position(|name| name == stage) {
            let finished = inner.finished_by.entry(id.to_owned()).or_default();
            finished.insert(part);
            if finished.len() < parts {
                return Ok(());
            }
        }
        inner.finished_by.remove(id);
        Self::finish(&self.path, &mut inner, id)
    }

    /// Writes the done record. Not synced: a done record lost to a power
    /// cut replays the story, and the final stages' records of ids keep it
    /// from being written twice.
    fn finish(path: &Path, inner: &mut JournalInner, id: &str) -> std::io::Result<()> {
        if inner.pending.remove(id).is_none() {
            return Ok(());
        }
        inner.file.write_all(format!("-{id}\n").as_bytes())?;
        inner.records += 1;
        if inner.records > JOURNAL_COMPACT_AT && inner.records > 4 * inner.pending.len() {
            let kept: Vec<Vec<u8>> = inner.pending.values().cloned().collect();
            rewrite(path, kept.iter().map(Vec::as_slice))
                .map_err(|error| std::io::Error::other(format!("{error:#}")))?;
            inner.file = OpenOptions::new().append(true).open(path)?;
            inner.records = inner.pending.len();
        }
        Ok(())
    }

    /// Items recorded and not yet done.
    #[cfg(test)]
    pub fn pending(&self) -> usize {
        self.inner.lock().expect("journal lock").pending.len()
    }
}

/// Replaces `path` with `records`, one per line, through a synced temporary
/// file and a rename.
fn rewrite<'a>(path: &Path, records: impl Iterator<Item = &'a [u8]>) -> anyhow::Result<()> {
    let temporary = path.with_extension("tmp");
    let mut file =
        File::create(&temporary).with_context(|| format!("creating {}", temporary.display()))?;
    let mut buffer = Vec::new();
    for record in records {
        buffer.extend_from_slice(record);
        buffer.push(b'\n');
    }
    file.write_all(&buffer)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("replacing {} with {}", path.display(), temporary.display()))?;
    Ok(())
}

/// The article ids an output sink wrote, most recent [`WRITTEN_IDS_KEPT`].
pub struct WrittenIds {
    path: PathBuf,
    inner: Mutex<WrittenInner>,
}

struct WrittenInner {
    file: File,
    ids: HashSet<String>,
    order: VecDeque<String>,
    records: usize,
}

impl WrittenIds {
    /// Opens the record at `path`, and adds the ids found in the last
    /// megabyte of the JSON-lines output `output` when there is one.
    pub fn open(path: &Path, output: Option<&Path>) -> anyhow::Result<WrittenIds> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let mut order: VecDeque<String> = VecDeque::new();
        if path.exists() {
            let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
            for line in BufReader::new(file).split(b'\n') {
                let line = line.with_context(|| format!("reading {}", path.display()))?;
                if !line.is_empty() {
                    order.push_back(String::from_utf8_lossy(&line).into_owned());
                }
            }
        }
        if let Some(output) = output {
            order.extend(ids_in_output_tail(output)?);
        }
        let mut ids = HashSet::new();
        let mut kept = VecDeque::new();
        for id in order.into_iter().rev() {
            if kept.len() >= WRITTEN_IDS_KEPT {
                break;
            }
            if ids.insert(id.clone()) {
                kept.push_front(id);
            }
        }
        rewrite(path, kept.iter().map(std::string::String::as_bytes))?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        Ok(WrittenIds {
            path: path.to_owned(),
            inner: Mutex::new(WrittenInner {
                file,
                records: kept.len(),
                ids,
                order: kept,
            }),
        })
    }

    pub fn contains(&self, id: &str) -> bool {
        self.inner
            .lock()
            .expect("written ids lock")
            .ids
            .contains(id)
    }

    /// Records `id` as written (flushed to the operating system, which
    /// keeps it through a kill of the process).
    pub fn record(&self, id: &str) -> std::io::Result<()> {
        let mut inner = self.inner.lock().expect("written ids lock");
        if !inner.ids.insert(id.to_owned()) {
            return Ok(());
        }
        inner.order.push_back(id.to_owned());
        inner.file.write_all(format!("{id}\n").as_bytes())?;
        inner.records += 1;
        while inner.order.len() > WRITTEN_IDS_KEPT {
            if let Some(oldest) = inner.order.pop_front() {
                inner.ids.remove(&oldest);
            }
        }
        if inner.records > 2 * WRITTEN_IDS_KEPT {
            let kept: Vec<String> = inner.order.iter().cloned().collect();
            rewrite(&self.path, kept.iter().map(std::string::String::as_bytes))
                .map_err(|error| std::io::Error::other(format!("{error:#}")))?;
            inner.file = OpenOptions::new().append(true).open(&self.path)?;
            inner.records = kept.len();
        }
        Ok(())
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner.lock().expect("written ids lock").ids.len()
    }
}

/// The `article.id` of every whole line in the last [`OUTPUT_TAIL_BYTES`]
/// of a JSON-lines output (missing file: none).
fn ids_in_output_tail(path: &Path) -> anyhow::Result<Vec<String>> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error).with_context(|| format!("opening {}", path.display())),
    };
    let length = file
        .metadata()
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    let start = length.saturating_sub(OUTPUT_TAIL_BYTES);
    file.seek(SeekFrom::Start(start))
        .with_context(|| format!("reading {}", path.display()))?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail)
        .with_context(|| format!("reading {}", path.display()))?;
    let mut lines = tail.split(|byte| *byte == b'\n').peekable();
    if start > 0 {
        // The first piece is the end of a line cut by the window.
        lines.next();
    }
    let mut ids = Vec::new();
    for line in lines {
        if line.is_empty() {
            continue;
        }
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        if let Some(id) = value
            .pointer("/article/id")
            .and_then(serde_json::Value::as_str)
        {
            ids.push(id.to_owned());
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(index: usize) -> FeedItem {
        serde_json::from_value(serde_json::json!({
            "id": format!("id{index}"),
            "feed": {"url": "http://feeds.wirewatch.invalid/a.xml"},
            "title": format!("story {index}"),
            "discovered_at": "2026-12-02T00:00:00Z",
        }))
        .expect("a feed item")
    }

    fn scratch(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("wirewatch-journal-{name}-"))
            .tempdir()
            .unwrap()
    }

    #[test]
    fn items_not_done_are_returned_in_order_and_a_torn_record_is_ignored() {
        let tmp = scratch("replay");
        let dir = tmp.path();
        {
            let (journal, replay) = Journal::open(dir).unwrap();
            assert!(replay.is_empty());
            for index in 0..5 {
                journal.add(&item(index)).unwrap();
            }
            journal.done("id1", "output").unwrap();
            journal.done("id3", "output").unwrap();
        }
        // A kill in the middle of a record leaves half a line.
        let path = dir.join("inflight.journal");
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"+{\"id\":\"id9\",\"fe").unwrap();
        drop(file);
        let (journal, replay) = Journal::open(dir).unwrap();
        let ids: Vec<&str> = replay.iter().map(|item| item.id.as_str()).collect();
        assert_eq!(ids, ["id0", "id2", "id4"]);
        assert_eq!(journal.pending(), 3);
        // The compacted file holds just those three records.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
        for id in ["id0", "id2", "id4"] {
            journal.done(id, "output").unwrap();
        }
        drop(journal);
        let (_, replay) = Journal::open(dir).unwrap();
        assert!(replay.is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_story_is_done_once_every_final_stage_finished_it() {
        let tmp = scratch("final-stages");
        let dir = tmp.path();
        {
            let (journal, _) = Journal::open(dir).unwrap();
            journal.set_final_stages(&["output".into(), "webhook.alerts".into()]);
            for index in 0..3 {
                journal.add(&item(index)).unwrap();
            }
            // id0: output and webhook; id1: the output twice (a repeat),
            // never the webhook; id2: dead-lettered by the clean stage.
            journal.done("id0", "output").unwrap();
            journal.done("id0", "webhook.alerts").unwrap();
            journal.done("id1", "output").unwrap();
            journal.done("id1", "output").unwrap();
            journal.done("id2", "clean").unwrap();
            assert_eq!(journal.pending(), 1);
        }
        let (_, replay) = Journal::open(dir).unwrap();
        let ids: Vec<&str> = replay.iter().map(|item| item.id.as_str()).collect();
        assert_eq!(ids, ["id1"]);
    }

    #[test]
    fn the_journal_compacts_when_done_records_pile_up() {
        let tmp = scratch("compact");
        let dir = tmp.path();
        let (journal, _) = Journal::open(dir).unwrap();
        for index in 0..JOURNAL_COMPACT_AT {
            journal.add(&item(index)).unwrap();
            journal.done(&format!("id{index}"), "output").unwrap();
        }
        journal.add(&item(999_999)).unwrap();
        let lines = std::fs::read_to_string(dir.join("inflight.journal"))
            .unwrap()
            .lines()
            .count();
        // 2N + 1 records were written; compaction keeps the file within
        // one compaction interval of them.
        assert!(
            lines <= JOURNAL_COMPACT_AT + 1,
            "{lines} journal lines after compaction"
        );
        drop(journal);
        let (_, replay) = Journal::open(dir).unwrap();
        assert_eq!(replay.len(), 1);
        assert_eq!(replay[0].id.as_str(), "id999999");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn written_ids_persist_and_the_output_tail_counts_as_written() {
        let tmp = scratch("written");
        let dir = tmp.path();
        let record = dir.join("output-written.ids");
        let output = dir.join("out.jsonl");
        {
            let written = WrittenIds::open(&record, Some(&output)).unwrap();
            written.record("a").unwrap();
            written.record("a").unwrap();
            assert_eq!(written.len(), 1);
        }
        // A line written just before a kill, whose id was never recorded.
        std::fs::write(
            &output,
            "{\"article\":{\"id\":\"b\"}}\n{\"article\":{\"id\":",
        )
        .unwrap();
        let written = WrittenIds::open(&record, Some(&output)).unwrap();
        assert!(written.contains("a"));
        assert!(written.contains("b"));
        assert!(!written.contains("c"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
