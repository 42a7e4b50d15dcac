//! The local history: one folder holding a SQLite database (WAL mode) and the archive of every
//! fetched file.
//!
//! ```text
//! <store>/history.sqlite   schema from queries/migrations, applied on open
//! <store>/archive/aa/<sha> every fetched file, content-addressed, read-only
//! <store>/tmp/             downloads in progress (cleaned at the start of each fetch)
//! <store>/immdqa.lock      held while a fetch runs
//! <store>/archive.index.jsonl  append-only index of the archive (rebuild's source)
//! <store>/integrity.ok     the database's size and mtime when last known sound
//! ```
//!
//! Opening refuses a missing or empty database beside a non-empty archive (the history was
//! lost: `immdqa rebuild` recreates it from the archive). Taking the write lock first checks
//! the database (`PRAGMA quick_check`) unless it is unchanged since it was last known sound;
//! a damaged database is an error naming the way back, never silently written to.
//! The folder is created 0700 and the files 0600 (owner only): they hold patient data.
//! With a store key ([`Keyring`]) the databases are SQLCipher files, archived files and
//! journal lines are sealed ([`crypt`]); a key that does not fit is refused before a byte is
//! written; [`convert`] encrypts or re-keys a store in place.
//! [`Store`] has one method per query; the SQL lives in queries/store and is embedded.

pub mod analytics;
pub mod archive;
mod bind;
mod checkpoint;
pub mod completeness;
pub mod consent;
pub mod convert;
pub mod crypt;
pub mod index;
mod journal;
pub mod ledger;
pub mod lock;
pub mod migrate;
pub mod reports;
pub mod uploads;
pub mod users;
pub mod validity;
pub mod worklist;

use std::fs;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

pub use analytics::DateRange;
pub use archive::{Archive, Stored};
pub use crypt::{Keyring, StoreKey};
pub use lock::{RunLock, StoreLock};
pub use reports::{PARSER_VERSION, RemoteFileInfo, ReportWriter};

/// Errors opening or using the store. Messages name the store path, never file contents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("cannot create or open the store at {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("store database {path}: {source}")]
    Sql {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("store database {path}: {source}")]
    Migrate {
        path: PathBuf,
        source: migrate::MigrateError,
    },
    #[error(
        "the store {path} is in use by another immdqa process{pid}; wait for it to finish (or remove nothing: the lock is released when that process ends)"
    )]
    Locked { path: PathBuf, pid: String },
    #[error(
        "the history database {path} is missing or empty, but the archive beside it holds the fetched files: the history was lost. Nothing was written. Run `immdqa rebuild` to recreate it from the archive"
    )]
    HistoryLost { path: PathBuf },
    #[error(
        "the history database {path} is damaged ({detail}). Nothing was written. Run `immdqa rebuild` to recreate it from the archive (the damaged file is kept beside it)"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "the store database {path} is encrypted and no store key was found (looked for: {looked}). Name the key file in the config (store_key_file = \"…\") or set IMMDQA_STORE_KEY_FILE. Nothing was written"
    )]
    KeyMissing { path: PathBuf, looked: String },
    #[error(
        "the store database {path} does not open with the store key {origin}: it was encrypted with another key, or its first page is damaged. Nothing was written. Find the key it was encrypted with (`immdqa status` names a store's key by its fingerprint); if the file is damaged, `immdqa rebuild` recreates it from the archive"
    )]
    WrongKey { path: PathBuf, origin: String },
    #[error(
        "the store {path} is not encrypted, but a store key is configured ({origin}). Nothing was written. Run `immdqa store encrypt` to encrypt it with that key (or remove the key from the configuration to keep using it unencrypted)"
    )]
    NotEncrypted { path: PathBuf, origin: String },
    #[error(transparent)]
    Key(#[from] crypt::KeyError),
}

/// Domain values are stored under their one spelling (`as_str`), and read back typed: a
/// spelling the code does not know is an error, never a silent default.
macro_rules! sql_text_enum {
    ($($t:ty => $parse:expr),* $(,)?) => {$(
        impl rusqlite::ToSql for $t {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }
        impl rusqlite::types::FromSql for $t {
            fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                let s = v.as_str()?;
                ($parse)(s).ok_or_else(|| {
                    rusqlite::types::FromSqlError::Other(
                        format!("unknown {} '{s}' in the store", stringify!($t)).into(),
                    )
                })
            }
        }
    )*};
}
sql_text_enum!(
    crate::domain::Kind => crate::domain::Kind::parse,
    crate::domain::ParseStatus => crate::domain::ParseStatus::parse,
    crate::domain::EventOutcome => crate::domain::EventOutcome::parse,
    crate::domain::AnswerStatus => crate::domain::AnswerStatus::parse,
    crate::formats::Format => crate::formats::Format::parse,
);

/// A SQLite error, or [`StoreError::Corrupt`] when it says the file is damaged.
fn sql_error(path: &Path, source: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
    match source.sqlite_error_code() {
        Some(DatabaseCorrupt | NotADatabase) => StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: source.to_string(),
        },
        _ => StoreError::Sql {
            path: path.to_path_buf(),
            source,
        },
    }
}

/// The manifest's view of one remote file at the last fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    pub size: u64,
    pub mtime: i64,
    pub sha256: String,
    pub remote_file_id: i64,
}

/// A downloaded, archived file to record.
#[derive(Debug, Clone)]
pub struct FetchedFile<'a> {
    pub profile: &'a str,
    pub folder: &'a str,
    pub name: &'a str,
    pub kind: crate::domain::Kind,
    pub mtime: i64,
    pub stored: &'a Stored,
    pub run_id: i64,
}

/// What recording a download changed in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A name never seen before.
    New,
    /// Known name, new content: a new version was added (the old one is kept).
    Changed,
    /// Known name, same content (only the size/mtime were refreshed).
    Unchanged,
}

/// Counters of one run, as shown in the summary and stored in `fetch_run`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    pub skipped: u64,
    pub failed: u64,
    pub bytes: u64,
}

/// What `immdqa status` shows.
#[derive(Debug, Clone, Default)]
pub struct StoreStatus {
    pub path: PathBuf,
    /// (profile, kind, parse status, files, bytes)
    pub files: Vec<(String, String, String, u64, u64)>,
    pub last_run: Option<LastRun>,
    pub db_bytes: u64,
    pub archive_bytes: u64,
}

#[derive(Debug, Clone)]
pub struct LastRun {
    pub id: i64,
    pub profile: String,
    pub remote: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub counts: RunCounts,
    /// (folder, name, outcome, reason)
    pub events: Vec<(String, String, String, String)>,
}

pub struct Store {
    dir: PathBuf,
    db_path: PathBuf,
    conn: Connection,
    archive: Archive,
    /// The archive index, opened for appending on the first recorded file.
    index: Option<fs::File>,
    /// `Rebuild`: versions are read back from the index, not appended to it again.
    mode: OpenMode,
    /// Checked sound by this process ([`Store::verify`]): its state when the connection
    /// closes is recorded as sound too, so the next run does not check again.
    sound: std::cell::Cell<bool>,
    /// The log's checkpoints while a run writes (see [`checkpoint`]).
    checkpointer: Option<checkpoint::Checkpointer>,
    /// The store key (an encrypted store), and what it seals journal lines with.
    key: Option<crypt::StoreKey>,
    journal: Option<crypt::LineCipher>,
}

impl Drop for Store {
    fn drop(&mut self) {
        drop(self.checkpointer.take()); // a run that did not finish: stop its checkpoints
        if self.sound.get() {
            // close first: the last connection's close checkpoints the log into the file
            if let Ok(mem) = Connection::open_in_memory() {
                drop(std::mem::replace(&mut self.conn, mem));
            }
            self.mark_sound();
        }
    }
}

/// How [`Store::open_with`] treats an existing store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Refuse a lost history beside a non-empty archive.
    Normal,
    /// `immdqa rebuild`: a new database, [`REBUILD_FILE`] beside the current one, which
    /// replaces it by a rename once complete (see [`crate::rebuild`]).
    Rebuild,
}

const DB_FILE: &str = "history.sqlite";
/// The database a rebuild writes, renamed to `history.sqlite` when it is complete: a
/// rebuild killed part way leaves the history as it was, never a partial one.
pub const REBUILD_FILE: &str = "history.sqlite.rebuilding";

/// A missing or empty database beside an archive that holds files (and no write-ahead log
/// that could still hold the data).
fn history_lost(dir: &Path, db_path: &Path) -> bool {
    let len = |p: &Path| fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let wal = db_path.with_file_name(format!("{DB_FILE}-wal"));
    len(db_path) == 0 && len(&wal) == 0 && index::archive_has_blobs(dir)
}

/// The lock that serialises opening a store across processes.
fn open_lock(dir: &Path) -> std::io::Result<fs::File> {
    let f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(dir.join("open.lock"))?;
    f.lock()?;
    Ok(f)
}

/// Whether `keys` fits the database at `db_path`, read without writing a byte: a new
/// database takes the key (or none); a plaintext one takes none; an encrypted one takes the
/// key it was encrypted with (tried on a read-only, immutable connection: no log, no lock
/// file).
fn check_key(db_path: &Path, keys: &Keyring) -> Result<(), StoreError> {
    let state = crypt::db_state(db_path).map_err(|source| StoreError::Io {
        path: db_path.to_path_buf(),
        source,
    })?;
    match (state, keys.key()) {
        (crypt::DbState::Absent, _) | (crypt::DbState::Plain, None) => Ok(()),
        (crypt::DbState::Plain, Some(k)) => Err(StoreError::NotEncrypted {
            path: db_path.parent().unwrap_or(db_path).to_path_buf(),
            origin: k.origin().to_string(),
        }),
        (crypt::DbState::Encrypted, None) => Err(StoreError::KeyMissing {
            path: db_path.to_path_buf(),
            looked: keys.looked(),
        }),
        (crypt::DbState::Encrypted, Some(k)) => {
            if crypt::key_fits(db_path, k).map_err(|e| sql_error(db_path, e))? {
                Ok(())
            } else {
                Err(StoreError::WrongKey {
                    path: db_path.to_path_buf(),
                    origin: k.origin().to_string(),
                })
            }
        }
    }
}

/// Whether `keys` fit the store in `dir` — its history, or, when the history is lost, its
/// archive (an archived file must unseal under the key) — read without writing a byte.
/// `rebuild` asks this before taking the lock.
pub fn check_keys(dir: &Path, keys: &Keyring) -> Result<(), StoreError> {
    let db = dir.join(DB_FILE);
    if crypt::db_state(&db).map_err(|source| StoreError::Io {
        path: db.clone(),
        source,
    })? != crypt::DbState::Absent
    {
        return check_key(&db, keys);
    }
    let Ok(archive) = fs::metadata(dir.join("archive")).map(|_| Archive::plain_view(dir)) else {
        return Ok(()); // no store yet
    };
    let blobs = archive.blobs().map_err(|source| StoreError::Io {
        path: dir.join("archive"),
        source,
    })?;
    let Some((_, first)) = blobs.first() else {
        return Ok(());
    };
    let sealed = crypt::is_sealed_file(first).map_err(|source| StoreError::Io {
        path: first.clone(),
        source,
    })?;
    match (sealed, keys.key()) {
        (false, None) => Ok(()),
        (false, Some(k)) => Err(StoreError::NotEncrypted {
            path: dir.to_path_buf(),
            origin: k.origin().to_string(),
        }),
        (true, None) => Err(StoreError::KeyMissing {
            path: dir.join("archive"),
            looked: keys.looked(),
        }),
        (true, Some(k)) => {
            let mut b = [0u8; 1];
            let fits = crypt::Blob::open(first, Some(&k.archive_cipher()))
                .and_then(|mut blob| std::io::Read::read(&mut blob, &mut b))
                .is_ok();
            if fits {
                Ok(())
            } else {
                Err(StoreError::WrongKey {
                    path: dir.join("archive"),
                    origin: k.origin().to_string(),
                })
            }
        }
    }
}

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Store {
    /// Open (creating if needed, owner-only) the store in `dir` and migrate its schema; with
    /// a key in `keys`, the store is (or is created) encrypted. A key that does not fit, an
    /// encrypted store without a key or a plaintext one with a key is refused before anything
    /// is written.
    pub fn open(dir: &Path, keys: &Keyring) -> Result<Store, StoreError> {
        Store::open_with(dir, OpenMode::Normal, keys)
    }

    /// Open the store; see [`OpenMode`].
    pub fn open_with(dir: &Path, mode: OpenMode, keys: &Keyring) -> Result<Store, StoreError> {
        let io = |source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let db_path = dir.join(match mode {
            OpenMode::Normal => DB_FILE,
            OpenMode::Rebuild => REBUILD_FILE,
        });
        // an interrupted `store encrypt` or `rekey` is finished or undone first (by renames
        // alone: no key needed), so the checks below see one whole store
        if convert::pending(dir) {
            let _open = open_lock(dir).map_err(io)?;
            convert::recover(dir)?;
        }
        check_key(&db_path, keys)?;
        archive::mkdir_private(dir).map_err(io)?;
        // Tighten a folder that exists with looser permissions.
        let perms = fs::metadata(dir).map_err(io)?.permissions().mode();
        if perms & 0o077 != 0 {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io)?;
        }
        // Serialise opening (WAL switch, migrations) across processes: SQLite does not wait on
        // its busy handler for a journal-mode change, so two first opens could otherwise fail.
        let open_lock = open_lock(dir).map_err(io)?;
        if mode == OpenMode::Normal && history_lost(dir, &db_path) {
            return Err(StoreError::HistoryLost { path: db_path });
        }
        // Create the database file 0600 before SQLite opens it; SQLite gives the -wal and
        // -shm files the same permissions as the database.
        fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&db_path)
            .map_err(io)?;
        let sql = |source| sql_error(&db_path, source);
        let mut conn = crypt::open_db(&db_path, keys.key()).map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sql)?;
        // 16 KiB pages for a new store (no effect on an existing one): bulk ingest writes
        // 12% faster than with 4 KiB pages (benchmark B1).
        conn.pragma_update(None, "page_size", crypt::PAGE_SIZE)
            .map_err(sql)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        // Temporary tables, indices and statement journals in memory, never in a temp file:
        // no patient data in /var/tmp, and a multi-row INSERT or a batch-wide UPDATE inside a
        // transaction journals its pages without writing them to disk (the 1 GB of temp
        // writes importing 1 M findings, B1). A statement over a whole 1 M-message batch
        // journals its pages in memory (tens of MB) for the length of that statement.
        conn.pragma_update(None, "temp_store", "MEMORY")
            .map_err(sql)?;
        // Every commit is fsynced, except inside a fetch or import run (see `begin_run`).
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql)?;
        // Foreign keys are enforced after the migrations: a migration that rebuilds a table
        // (SQLite's 12-step ALTER) must run with them off.
        migrate::migrate(&mut conn).map_err(|source| match source {
            migrate::MigrateError::Sql(e) => sql_error(&db_path, e),
            source => StoreError::Migrate {
                path: db_path.clone(),
                source,
            },
        })?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| sql_error(&db_path, e))?;
        let archive = Archive::open(dir, keys.key().map(|k| k.archive_cipher())).map_err(io)?;
        drop(open_lock);
        let mut store = Store {
            dir: dir.to_path_buf(),
            db_path,
            conn,
            archive,
            index: None,
            mode,
            sound: std::cell::Cell::new(false),
            checkpointer: None,
            key: keys.key().cloned(),
            journal: keys.key().map(|k| k.journal_cipher()),
        };
        if mode == OpenMode::Normal {
            if !index::path(dir).exists() {
                store.backfill_index()?;
            }
            store.backfill_upload_journal()?;
        }
        Ok(store)
    }

    /// Write the archive index from the history (a store from before the index existed).
    fn backfill_index(&mut self) -> Result<(), StoreError> {
        let rows = self.index_rows()?;
        if rows.is_empty() {
            return Ok(());
        }
        let io = |source| StoreError::Io {
            path: index::path(&self.dir),
            source,
        };
        let mut f = index::open_append(&self.dir).map_err(io)?;
        for e in &rows {
            index::append(&mut f, e).map_err(io)?;
        }
        f.sync_all().map_err(io)
    }

    /// Every recorded file version, as index entries (from the history).
    fn index_rows(&self) -> Result<Vec<index::IndexEntry>, StoreError> {
        let mut st = self
            .conn
            .prepare(include_str!("../../queries/store/index_rows.sql"))
            .map_err(|e| self.sql_err(e))?;
        st.query_map([], |r| {
            Ok(index::IndexEntry {
                sha256: r.get(0)?,
                size: r.get::<_, i64>(1)? as u64,
                profile: r.get(2)?,
                folder: r.get(3)?,
                name: r.get(4)?,
                kind: r.get(5)?,
                mtime: r.get(6)?,
                fetched_at: r.get(7)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.sql_err(e))
    }

    /// The database file's (size, mtime in ns): what [`Store::lock`] compares with the
    /// last known-sound state.
    fn db_stamp(&self) -> Option<(u64, i128)> {
        let m = fs::metadata(&self.db_path).ok()?;
        let t = m
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        Some((m.len(), t.as_nanos() as i128))
    }

    /// Close the database with its log folded into the file (no `-wal` left beside it), so
    /// the file alone can be renamed into place (`rebuild`).
    pub fn close(mut self) -> Result<(), StoreError> {
        drop(self.checkpointer.take());
        self.sound.set(false);
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(|e| self.sql_err(e))?;
        let mem = Connection::open_in_memory().map_err(|e| self.sql_err(e))?;
        let conn = std::mem::replace(&mut self.conn, mem);
        conn.close().map_err(|(_, e)| self.sql_err(e))?;
        if let Ok(f) = fs::File::open(&self.db_path) {
            f.sync_all().map_err(|source| StoreError::Io {
                path: self.db_path.clone(),
                source,
            })?;
        }
        Ok(())
    }

    fn integrity_marker(&self) -> PathBuf {
        self.dir.join("integrity.ok")
    }

    /// Record the database's current state as sound (after a check, or at the end of our own
    /// run, which started from a checked state).
    fn mark_sound(&self) {
        if let Some((len, mtime)) = self.db_stamp() {
            let _ = fs::write(self.integrity_marker(), format!("{len} {mtime}\n"));
        }
    }

    /// `PRAGMA quick_check` unless the database is unchanged since it was last known sound.
    pub fn verify(&self) -> Result<(), StoreError> {
        if self.sound.get() {
            return Ok(()); // checked by this process already; its own writes since are sound
        }
        let known = fs::read_to_string(self.integrity_marker()).ok();
        if let (Some(known), Some((len, mtime))) = (known, self.db_stamp())
            && known.trim() == format!("{len} {mtime}")
        {
            self.sound.set(true);
            return Ok(());
        }
        let verdict: String = self
            .conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
            .map_err(|e| self.sql_err(e))?;
        if verdict != "ok" {
            return Err(StoreError::Corrupt {
                path: self.db_path.clone(),
                detail: format!("quick_check: {verdict}"),
            });
        }
        self.sound.set(true);
        self.mark_sound();
        Ok(())
    }

    /// The store key (an encrypted store).
    pub fn key(&self) -> Option<&StoreKey> {
        self.key.as_ref()
    }
    /// The keys this store was opened with, to open it again (another connection, a thread).
    pub fn keyring(&self) -> Keyring {
        self.key.clone().map(Keyring::with).unwrap_or_default()
    }
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn archive(&self) -> &Archive {
        &self.archive
    }
    /// The raw connection, for the crate's own tests (everything else goes through a method
    /// with its SQL in queries/).
    #[cfg(test)]
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Start a write transaction, taking the write lock up front (IMMEDIATE: waits on the
    /// busy timeout rather than failing on a lock upgrade), with the database path for
    /// [`sql_error`].
    fn write_tx(&mut self) -> Result<(rusqlite::Transaction<'_>, PathBuf), StoreError> {
        let path = self.db_path.clone();
        // between two transactions: restart a log the background checkpoints let grow
        if self
            .checkpointer
            .as_ref()
            .is_some_and(|c| c.take_reset_request())
        {
            checkpoint::passive_checkpoint(&self.conn).map_err(|e| sql_error(&path, e))?;
        }
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| sql_error(&path, e))?;
        Ok((tx, path))
    }

    /// Every row of a named query, each mapped by `f` (errors name the database file).
    pub(crate) fn rows<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let mut st = self.conn.prepare_cached(sql).map_err(|e| self.sql_err(e))?;
        st.query_map(params, f)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.sql_err(e))
    }

    fn sql_err(&self, source: rusqlite::Error) -> StoreError {
        sql_error(&self.db_path, source)
    }

    /// Take the store's exclusive lock (held until the guard is dropped or the process ends),
    /// then check the database is sound before anything is written to it.
    pub fn lock(&self) -> Result<StoreLock, StoreError> {
        let lock = StoreLock::acquire(&self.dir)?;
        self.verify()?;
        Ok(lock)
    }

    pub fn manifest_get(
        &self,
        profile: &str,
        folder: &str,
        name: &str,
    ) -> Result<Option<ManifestEntry>, StoreError> {
        self.conn
            .prepare_cached(include_str!("../../queries/store/manifest_get.sql"))
            .and_then(|mut st| {
                st.query_row(params![profile, folder, name], |r| {
                    Ok(ManifestEntry {
                        size: r.get::<_, i64>(0)? as u64,
                        mtime: r.get(1)?,
                        sha256: r.get(2)?,
                        remote_file_id: r.get(3)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.sql_err(e))
    }

    /// Start a fetch or import run. Until [`Store::finish_run`], commits are not fsynced one
    /// by one (`synchronous=NORMAL`: still atomic and durable if the process dies; a power
    /// cut can lose the run's last commits, which the next run redoes from the remote or the
    /// archive, fsynced before any commit that names them). 10% of ingest time (B1).
    pub fn begin_run(&mut self, profile: &str, remote: &str) -> Result<i64, StoreError> {
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| self.sql_err(e))?;
        // the log is checkpointed on a thread of its own while the run writes; should that
        // thread not start, by this connection in fewer, larger checkpoints than usual
        match checkpoint::Checkpointer::start(&self.db_path, self.key.as_ref()) {
            Ok(c) => {
                self.conn
                    .pragma_update(None, "wal_autocheckpoint", 0)
                    .map_err(|e| self.sql_err(e))?;
                self.checkpointer = Some(c);
            }
            Err(e) => {
                tracing::debug!("no background checkpoints: {e}");
                self.conn
                    .pragma_update(None, "wal_autocheckpoint", 8192)
                    .map_err(|e| self.sql_err(e))?;
            }
        }
        self.conn
            .execute(
                include_str!("../../queries/store/run_begin.sql"),
                params![profile, remote, now()],
            )
            .map_err(|e| self.sql_err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn finish_run(&mut self, run_id: i64, c: &RunCounts) -> Result<(), StoreError> {
        self.conn
            .execute(
                include_str!("../../queries/store/run_finish.sql"),
                params![
                    run_id,
                    now(),
                    c.new as i64,
                    c.changed as i64,
                    c.unchanged as i64,
                    c.skipped as i64,
                    c.failed as i64,
                    c.bytes as i64
                ],
            )
            .map_err(|e| self.sql_err(e))?;
        // The checkpoint fsyncs the log first: the whole run is durable from here on.
        drop(self.checkpointer.take()); // stops the background checkpoints
        checkpoint::passive_checkpoint(&self.conn).map_err(|e| self.sql_err(e))?;
        self.conn
            .pragma_update(None, "wal_autocheckpoint", 1000)
            .map_err(|e| self.sql_err(e))?;
        self.conn
            .pragma_update(None, "synchronous", "FULL")
            .map_err(|e| self.sql_err(e))?;
        if let Some(f) = &self.index {
            f.sync_all().map_err(|source| StoreError::Io {
                path: index::path(&self.dir),
                source,
            })?;
        }
        Ok(())
    }

    pub fn record_event(
        &self,
        run_id: i64,
        folder: &str,
        name: &str,
        outcome: crate::domain::EventOutcome,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                include_str!("../../queries/store/event_insert.sql"),
                params![run_id, folder, name, outcome, reason],
            )
            .map_err(|e| self.sql_err(e))?;
        Ok(())
    }

    /// Record an archived download: blob, version and manifest, in one transaction.
    pub fn record_fetched(&mut self, f: &FetchedFile<'_>) -> Result<(Recorded, i64), StoreError> {
        let before = self.manifest_get(f.profile, f.folder, f.name)?;
        let at = now();
        let tx = self.conn.transaction().map_err(|e| StoreError::Sql {
            path: self.db_path.clone(),
            source: e,
        })?;
        let result = (|| {
            tx.execute(
                include_str!("../../queries/store/blob_insert.sql"),
                params![f.stored.sha256, f.stored.size as i64, at],
            )?;
            let id: i64 = tx.query_row(
                include_str!("../../queries/store/version_upsert.sql"),
                params![
                    f.profile,
                    f.folder,
                    f.name,
                    f.kind,
                    f.stored.size as i64,
                    f.mtime,
                    f.stored.sha256,
                    at,
                    f.run_id
                ],
                |r| r.get(0),
            )?;
            crate::failpoint::hit("store_in_transaction");
            tx.execute(
                include_str!("../../queries/store/manifest_upsert.sql"),
                params![
                    f.profile,
                    f.folder,
                    f.name,
                    f.stored.size as i64,
                    f.mtime,
                    id,
                    at
                ],
            )?;
            Ok(id)
        })();
        let id = match result {
            Ok(id) => id,
            Err(e) => {
                drop(tx); // rolled back
                return Err(self.sql_err(e));
            }
        };
        tx.commit().map_err(|e| StoreError::Sql {
            path: self.db_path.clone(),
            source: e,
        })?;
        crate::failpoint::hit("store_after_commit");
        if self.mode == OpenMode::Normal
            && before.as_ref().is_none_or(|b| b.sha256 != f.stored.sha256)
        {
            self.index_append(f, &at)?;
        }
        let outcome = match before {
            None => Recorded::New,
            Some(b) if b.sha256 == f.stored.sha256 => Recorded::Unchanged,
            Some(_) => Recorded::Changed,
        };
        Ok((outcome, id))
    }

    /// Append a newly recorded version to the archive index (fsynced at the run's end).
    fn index_append(&mut self, f: &FetchedFile<'_>, at: &str) -> Result<(), StoreError> {
        let io = |source| StoreError::Io {
            path: index::path(&self.dir),
            source,
        };
        if self.index.is_none() {
            self.index = Some(index::open_append(&self.dir).map_err(io)?);
        }
        let entry = index::IndexEntry {
            sha256: f.stored.sha256.clone(),
            size: f.stored.size,
            profile: f.profile.to_string(),
            folder: f.folder.to_string(),
            name: f.name.to_string(),
            kind: f.kind.as_str().to_string(),
            mtime: f.mtime,
            fetched_at: at.to_string(),
        };
        index::append(self.index.as_mut().expect("opened above"), &entry).map_err(io)
    }

    /// What the history holds.
    pub fn status(&self) -> Result<StoreStatus, StoreError> {
        let e = |e| self.sql_err(e);
        let mut st = self
            .conn
            .prepare(include_str!("../../queries/store/status_files.sql"))
            .map_err(e)?;
        let files = st
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get::<_, i64>(3)? as u64,
                    r.get::<_, i64>(4)? as u64,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(e)?;
        let last_run = self
            .conn
            .query_row(
                include_str!("../../queries/store/status_last_run.sql"),
                [],
                |r| {
                    Ok(LastRun {
                        id: r.get(0)?,
                        profile: r.get(1)?,
                        remote: r.get(2)?,
                        started_at: r.get(3)?,
                        finished_at: r.get(4)?,
                        counts: RunCounts {
                            new: r.get::<_, i64>(5)? as u64,
                            changed: r.get::<_, i64>(6)? as u64,
                            unchanged: r.get::<_, i64>(7)? as u64,
                            skipped: r.get::<_, i64>(8)? as u64,
                            failed: r.get::<_, i64>(9)? as u64,
                            bytes: r.get::<_, i64>(10)? as u64,
                        },
                        events: vec![],
                    })
                },
            )
            .optional()
            .map_err(e)?;
        let last_run = match last_run {
            Some(mut run) => {
                let mut st = self
                    .conn
                    .prepare(include_str!("../../queries/store/events_of_run.sql"))
                    .map_err(e)?;
                run.events = st
                    .query_map([run.id], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })
                    .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                    .map_err(e)?;
                Some(run)
            }
            None => None,
        };
        let db_bytes = ["", "-wal"]
            .iter()
            .filter_map(|s| fs::metadata(format!("{}{s}", self.db_path.display())).ok())
            .map(|m| m.len())
            .sum();
        Ok(StoreStatus {
            path: self.dir.clone(),
            files,
            last_run,
            db_bytes,
            archive_bytes: self.archive.size_on_disk().unwrap_or(0),
        })
    }

    /// `PRAGMA integrity_check` (used by tests and `status --check`).
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| self.sql_err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn open_creates_owner_only_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let mut store = Store::open(&path, &crate::store::Keyring::none()).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o700);
        assert_eq!(
            fs::metadata(path.join(DB_FILE)).unwrap().mode() & 0o777,
            0o600
        );
        // WAL file exists after a write and is owner-only too
        store.begin_run("p", "local:x").unwrap();
        let wal = path.join(format!("{DB_FILE}-wal"));
        assert_eq!(fs::metadata(wal).unwrap().mode() & 0o777, 0o600);
        assert_eq!(store.integrity_check().unwrap(), "ok");
    }

    #[test]
    fn record_new_unchanged_changed_keeps_versions() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path(), &crate::store::Keyring::none()).unwrap();
        let run = store.begin_run("p", "local:x").unwrap();
        let a = store.archive().store_copy(&b"v1"[..]).unwrap();
        fn mk(stored: &Stored, mtime: i64, run_id: i64) -> FetchedFile<'_> {
            FetchedFile {
                profile: "p",
                folder: "DQA-Reports",
                name: "a.csv",
                kind: crate::domain::Kind::Dqa,
                mtime,
                stored,
                run_id,
            }
        }
        assert_eq!(
            store.record_fetched(&mk(&a, 1, run)).unwrap().0,
            Recorded::New
        );
        assert_eq!(
            store.record_fetched(&mk(&a, 2, run)).unwrap().0,
            Recorded::Unchanged
        );
        let b = store.archive().store_copy(&b"v2!"[..]).unwrap();
        assert_eq!(
            store.record_fetched(&mk(&b, 3, run)).unwrap().0,
            Recorded::Changed
        );
        let m = store
            .manifest_get("p", "DQA-Reports", "a.csv")
            .unwrap()
            .unwrap();
        assert_eq!(
            (m.size, m.mtime, m.sha256.as_str()),
            (3, 3, b.sha256.as_str())
        );
        // back to the first content: no duplicate row, manifest points at the old version
        assert_eq!(
            store.record_fetched(&mk(&a, 4, run)).unwrap().0,
            Recorded::Changed
        );
        let versions: i64 = store
            .connection()
            .query_row("SELECT COUNT(*) FROM remote_file", [], |r| r.get(0))
            .unwrap();
        assert_eq!(versions, 2);
        let st = store.status().unwrap();
        assert_eq!(
            st.files,
            vec![("p".into(), "dqa".into(), "pending".into(), 2, 5)]
        );
    }
}
