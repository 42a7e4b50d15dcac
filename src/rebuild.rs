//! `immdqa rebuild`: recreate the history from the archive alone, when `history.sqlite` was
//! lost (missing or empty beside a full archive) or damaged.
//!
//! The archive holds every fetched or imported file under its content hash, and its index
//! (`archive.index.jsonl`, see [`crate::store::index`]) says where each came from. Rebuild
//! writes a new database beside the current one (`history.sqlite.rebuilding`): the upload
//! history from its journal, every indexed version in index order (so the manifest ends as the
//! last fetch left it and the next fetch downloads nothing again), archived files the index
//! does not name under the profile `rebuild`, everything parsed, the worklist's hand actions
//! from their journal. Only then is the old database moved aside (never deleted) and the new
//! one renamed into place: a rebuild killed part way leaves the history as it was, and the
//! next rebuild starts again. Uses: store, ingest, formats (parse options).

use std::fs;
use std::path::{Path, PathBuf};

use crate::formats::ParseOptions;
use crate::ingest::{self, IngestError, IngestTotals};
use crate::store::index::{self, IndexEntry};
use crate::store::{FetchedFile, OpenMode, RunCounts, Store, StoreError, Stored};

/// What a rebuild did.
#[derive(Debug, Clone, Default)]
pub struct RebuildReport {
    /// Where the old database went (None: there was none).
    pub moved_aside: Option<PathBuf>,
    /// Versions recorded from the index.
    pub from_index: u64,
    /// Archived files the index does not name (recorded under the profile `rebuild`).
    pub unindexed: u64,
    /// Index entries whose file is missing from the archive.
    pub missing: Vec<IndexEntry>,
    /// Damaged index lines skipped.
    pub torn_lines: usize,
    /// Worklist items closed or ignored by hand, replayed from their journal.
    pub worklist_actions: usize,
    /// Uploads replayed from their journal.
    pub uploads: usize,
    pub parsed: IngestTotals,
}

#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The profile recorded for archived files the index does not name.
pub const UNINDEXED_PROFILE: &str = "rebuild";

/// Move the database and its WAL files aside as `history.sqlite.before-rebuild-<time>`.
fn move_aside(dir: &Path) -> Result<Option<PathBuf>, RebuildError> {
    let db = dir.join("history.sqlite");
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    let mut moved = None;
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", db.display()));
        if !from.exists() {
            continue;
        }
        let to = PathBuf::from(format!("{}.before-rebuild-{stamp}{suffix}", db.display()));
        fs::rename(&from, &to).map_err(|source| RebuildError::Io {
            path: from.clone(),
            source,
        })?;
        if suffix.is_empty() {
            moved = Some(to);
        }
    }
    let _ = fs::remove_file(dir.join("integrity.ok"));
    let _ = fs::remove_dir_all(dir.join("columnar")); // rebuilt from the new history
    Ok(moved)
}

/// Rebuild the history in `dir` from its archive. The caller decides whether the current
/// database may be replaced (see `immdqa rebuild --force`).
pub fn rebuild(
    dir: &Path,
    opts: &ParseOptions,
    keys: &crate::store::Keyring,
) -> Result<RebuildReport, RebuildError> {
    crate::store::check_keys(dir, keys)?;
    let _lock = crate::store::StoreLock::acquire(dir)?;
    let partial = dir.join(crate::store::REBUILD_FILE);
    for suffix in ["", "-wal", "-shm", "-journal"] {
        // what a killed rebuild left: started again
        let _ = fs::remove_file(format!("{}{suffix}", partial.display()));
    }
    let mut report = build(dir, opts, keys)?;
    crate::failpoint::hit("rebuild_before_swap");
    report.moved_aside = move_aside(dir)?;
    let db = dir.join("history.sqlite");
    fs::rename(&partial, &db).map_err(|source| RebuildError::Io {
        path: partial.clone(),
        source,
    })?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all(); // the rename is durable
    }
    Ok(report)
}

/// Write the new database ([`crate::store::REBUILD_FILE`]) and close it.
fn build(
    dir: &Path,
    opts: &ParseOptions,
    keys: &crate::store::Keyring,
) -> Result<RebuildReport, RebuildError> {
    let mut report = RebuildReport::default();
    let mut store = Store::open_with(dir, OpenMode::Rebuild, keys)?;
    let io = |path: PathBuf| move |source| RebuildError::Io { path, source };
    let (entries, torn) = index::read(dir).map_err(io(index::path(dir)))?;
    report.torn_lines = torn;
    // (hash, size of the content: a sealed file is read for it)
    let blobs: Vec<(String, u64)> = {
        let archive = store.archive();
        let mut out = Vec::new();
        for (sha, path) in archive.blobs().map_err(io(dir.join("archive")))? {
            let size = archive
                .open_path(&path)
                .and_then(|b| b.len())
                .map_err(io(path.clone()))?;
            out.push((sha, size));
        }
        out.sort();
        out
    };
    let in_archive: std::collections::HashMap<&str, u64> =
        blobs.iter().map(|(s, n)| (s.as_str(), *n)).collect();
    // the upload history, from its journal, before the sent batches are read (a batch immdqa
    // uploaded is recorded in the ledger as such)
    let uploads = store
        .read_uploads()
        .map_err(io(crate::store::uploads::uploads_path(dir)))?;
    for u in &uploads {
        store.insert_upload(u)?;
    }
    report.uploads = uploads.len();
    let run_id = store.begin_run(UNINDEXED_PROFILE, "archive (rebuild)")?;
    let mut counts = RunCounts::default();
    let mut named = std::collections::HashSet::new();
    for e in &entries {
        let Some(&size) = in_archive.get(e.sha256.as_str()) else {
            report.missing.push(e.clone());
            continue;
        };
        let stored = Stored {
            sha256: e.sha256.clone(),
            size,
            path: store.archive().path_of(&e.sha256),
        };
        store.record_fetched(&FetchedFile {
            profile: &e.profile,
            folder: &e.folder,
            name: &e.name,
            kind: crate::domain::Kind::parse(&e.kind).unwrap_or(crate::domain::Kind::Dqa),
            mtime: e.mtime,
            stored: &stored,
            run_id,
        })?;
        named.insert(e.sha256.as_str());
        report.from_index += 1;
        counts.new += 1;
    }
    for (sha, size) in &blobs {
        if named.contains(sha.as_str()) {
            continue;
        }
        let stored = Stored {
            sha256: sha.clone(),
            size: *size,
            path: store.archive().path_of(sha),
        };
        store.record_fetched(&FetchedFile {
            profile: UNINDEXED_PROFILE,
            folder: "archive",
            name: sha,
            kind: crate::domain::Kind::Dqa,
            mtime: 0,
            stored: &stored,
            run_id,
        })?;
        report.unindexed += 1;
        counts.new += 1;
    }
    store.finish_run(run_id, &counts)?;
    let items = ingest::ingest_stored(&mut store, opts, false, false)?;
    report.parsed = ingest::totals(&items);
    // the worklist's hand actions, from their journal (the database held them too)
    let actions = store
        .read_actions()
        .map_err(io(crate::store::ledger::actions_path(dir)))?;
    for a in &actions {
        store.set_worklist_action(a)?;
    }
    report.worklist_actions = actions.len();
    // consent follow-ups closed by hand, from theirs
    for a in store
        .read_consent_actions()
        .map_err(io(crate::store::consent::consent_actions_path(dir)))?
    {
        store.set_consent_action(&a)?;
    }
    // the people who may sign in and the audit trail are in no journal: from the database
    // this one replaces
    store.carry_over_people(&dir.join("history.sqlite"))?;
    crate::failpoint::hit("rebuild_before_close");
    store.close()?;
    Ok(report)
}
