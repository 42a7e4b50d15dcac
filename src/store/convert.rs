//! `immdqa store encrypt` and `immdqa store rekey`: a store converted in place to a new key
//! (from none, or from another key), crash-safe.
//!
//! Every file that holds patient data — `history.sqlite`, `audit.sqlite`, each archived file,
//! the journals — is first written anew beside itself as `NAME.next` under the new key and
//! made durable; the old files are untouched. Then one atomic step decides: the marker
//! `convert.json` is rewritten from "prepare" to "commit" (a rename). Then each `.next`
//! replaces its file, and a rekey's new key file replaces the old one. A kill before the
//! commit leaves the old store (its `.next` files are removed on the next open); a kill after
//! it leaves the new one (the renames are finished on the next open, by [`recover`], before
//! anything reads the store). Never a mix. Recovery needs no key: it only renames and removes.
//!
//! The archive index (`archive.index.jsonl`: hashes, sizes, registry file names) and the
//! columnar cache (codes and counts) hold no patient data and stay as they are.

use std::fs;
use std::io::{self, BufRead, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::archive::fsync_dir;
use super::crypt::{self, Blob, Keyring, StoreKey};
use super::{DB_FILE, Store, StoreError, users::AUDIT_FILE};

/// The marker of a conversion under way.
pub const MARKER: &str = "convert.json";
const NEXT: &str = ".next";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Phase {
    Prepare,
    Commit,
}

#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    phase: Phase,
    /// The new key's fingerprint.
    fingerprint: String,
    /// A rekey's new key file, renamed over `key_file` once the store is converted.
    key_next: Option<PathBuf>,
    key_file: Option<PathBuf>,
}

/// What a conversion did.
#[derive(Debug, Default)]
pub struct Converted {
    pub databases: usize,
    pub archived_files: usize,
    pub journal_lines: usize,
    pub bytes: u64,
}

/// The journals that hold what users wrote (notes are free text: they are sealed).
pub fn journals(dir: &Path) -> Vec<PathBuf> {
    vec![
        super::uploads::uploads_path(dir),
        super::worklist::actions_path(dir),
        super::consent::consent_actions_path(dir),
    ]
}

fn io_err(path: &Path) -> impl Fn(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn next_of(p: &Path) -> PathBuf {
    PathBuf::from(format!("{}{NEXT}", p.display()))
}

/// Whether a conversion was interrupted (the next open finishes or undoes it).
pub fn pending(dir: &Path) -> bool {
    dir.join(MARKER).exists()
}

fn write_marker(dir: &Path, m: &Marker) -> Result<(), StoreError> {
    let path = dir.join(MARKER);
    let tmp = dir.join(format!("{MARKER}.tmp"));
    let err = io_err(&path);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(&err)?;
    f.write_all(&serde_json::to_vec(m).map_err(|e| err(io::Error::other(e)))?)
        .map_err(&err)?;
    f.sync_all().map_err(&err)?;
    fs::rename(&tmp, &path).map_err(&err)?;
    fsync_dir(dir).map_err(&err)
}

/// Every `.next` file a conversion wrote (top level and archive).
fn next_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut scan = |d: &Path| -> io::Result<()> {
        if let Ok(rd) = fs::read_dir(d) {
            for e in rd {
                let e = e?;
                if e.file_type()?.is_file() && e.file_name().to_string_lossy().ends_with(NEXT) {
                    out.push(e.path());
                }
            }
        }
        Ok(())
    };
    scan(dir)?;
    if let Ok(rd) = fs::read_dir(dir.join("archive")) {
        for e in rd {
            let e = e?;
            if e.file_type()?.is_dir() {
                scan(&e.path())?;
            }
        }
    }
    Ok(out)
}

/// Finish (after the commit) or undo (before it) an interrupted conversion. Idempotent; a
/// kill inside it is recovered by the next call. A conversion still running in another
/// process holds the store's lock: then this is [`StoreError::Locked`] (busy), never an undo
/// of its work.
pub fn recover(dir: &Path) -> Result<(), StoreError> {
    let _lock = super::StoreLock::acquire(dir)?;
    if pending(dir) {
        recover_locked(dir)?;
    }
    Ok(())
}

fn recover_locked(dir: &Path) -> Result<(), StoreError> {
    let path = dir.join(MARKER);
    let marker: Option<Marker> = fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    match marker {
        Some(m) if m.phase == Phase::Commit => roll_forward(dir, &m),
        m => roll_back(dir, m.as_ref()),
    }
}

fn roll_back(dir: &Path, m: Option<&Marker>) -> Result<(), StoreError> {
    for p in next_files(dir).map_err(io_err(dir))? {
        fs::remove_file(&p).map_err(io_err(&p))?;
    }
    if let Some(k) = m.and_then(|m| m.key_next.as_ref()) {
        let _ = fs::remove_file(k);
    }
    let _ = fs::remove_file(dir.join(format!("{MARKER}.tmp")));
    fs::remove_file(dir.join(MARKER)).map_err(io_err(dir))?;
    fsync_dir(dir).map_err(io_err(dir))
}

fn roll_forward(dir: &Path, m: &Marker) -> Result<(), StoreError> {
    // the databases: their (checkpointed, empty) logs go first, so SQLite never applies the
    // old log to the new file
    for db in [DB_FILE, AUDIT_FILE] {
        let next = next_of(&dir.join(db));
        if next.exists() {
            for side in ["-wal", "-shm"] {
                let p = dir.join(format!("{db}{side}"));
                if p.exists() {
                    fs::remove_file(&p).map_err(io_err(&p))?;
                }
            }
            fs::rename(&next, dir.join(db)).map_err(io_err(&next))?;
            crate::failpoint::hit("convert_renamed");
        }
    }
    for next in next_files(dir).map_err(io_err(dir))? {
        let s = next.to_string_lossy();
        let to = PathBuf::from(&s[..s.len() - NEXT.len()]);
        let archived = next.parent().and_then(|p| p.parent()) == Some(&dir.join("archive"));
        if archived {
            fs::set_permissions(&next, fs::Permissions::from_mode(0o400)).map_err(io_err(&next))?;
        }
        fs::rename(&next, &to).map_err(io_err(&next))?;
        crate::failpoint::hit("convert_renamed");
    }
    for d in archive_dirs(dir) {
        fsync_dir(&d).map_err(io_err(&d))?;
    }
    if let (Some(next), Some(file)) = (&m.key_next, &m.key_file)
        && next.exists()
    {
        fs::rename(next, file).map_err(io_err(next))?;
        if let Some(d) = file.parent() {
            fsync_dir(d).map_err(io_err(d))?;
        }
    }
    let _ = fs::remove_file(dir.join("integrity.ok"));
    let _ = fs::remove_file(dir.join(format!("{MARKER}.tmp")));
    fs::remove_file(dir.join(MARKER)).map_err(io_err(dir))?;
    fsync_dir(dir).map_err(io_err(dir))
}

fn archive_dirs(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir.join("archive"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect()
}

/// Convert the store in `dir` from `from` (none: plaintext) to `to`. For a rekey, `key_move`
/// is (the new key's file, written already; the key file it replaces at the end). The caller
/// holds nothing; this takes the store's lock.
pub fn convert(
    dir: &Path,
    from: &Keyring,
    to: &StoreKey,
    key_move: Option<(PathBuf, PathBuf)>,
) -> Result<Converted, StoreError> {
    let _lock = super::StoreLock::acquire(dir)?;
    if pending(dir) {
        recover_locked(dir)?;
    }
    // the old store, checked and with its logs folded into its files
    let store = Store::open(dir, from)?;
    store.verify()?;
    store.close()?;
    let audit = dir.join(AUDIT_FILE);
    if audit.exists() {
        super::users::AuditLog::open(dir, from.key())?.close()?;
    }
    let (key_next, key_file) = match key_move {
        Some((n, f)) => (Some(n), Some(f)),
        None => (None, None),
    };
    let mut marker = Marker {
        phase: Phase::Prepare,
        fingerprint: to.fingerprint(),
        key_next,
        key_file,
    };
    write_marker(dir, &marker)?;
    let mut done = Converted::default();
    for db in [dir.join(DB_FILE), audit] {
        if db.exists() {
            export_db(&db, from.key(), to)?;
            done.databases += 1;
        }
    }
    crate::failpoint::hit("convert_prepare");
    let old_files = from.key().map(|k| k.archive_cipher());
    let new_files = to.archive_cipher();
    let archive = super::Archive::open(dir, None).map_err(io_err(dir))?;
    for (_, path) in archive.blobs().map_err(io_err(dir))? {
        let next = next_of(&path);
        let err = io_err(&path);
        let mut input = Blob::open(&path, old_files.as_ref()).map_err(&err)?;
        let out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&next)
            .map_err(&err)?;
        let mut w = new_files.seal(io::BufWriter::new(out)).map_err(&err)?;
        done.bytes += io::copy(&mut input, &mut w).map_err(&err)?;
        let out = w
            .finish()
            .map_err(&err)?
            .into_inner()
            .map_err(|e| err(e.into_error()))?;
        out.sync_all().map_err(&err)?;
        done.archived_files += 1;
        crate::failpoint::hit("convert_file");
    }
    let old_lines = from.key().map(|k| k.journal_cipher());
    let new_lines = to.journal_cipher();
    for j in journals(dir) {
        let Ok(f) = fs::File::open(&j) else { continue };
        let next = next_of(&j);
        let err = io_err(&j);
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&next)
            .map_err(&err)?;
        for line in io::BufReader::new(f).lines() {
            let line = line.map_err(&err)?;
            let plain = if crypt::is_sealed_line(&line) {
                match old_lines.as_ref().and_then(|c| c.open(&line)) {
                    Some(p) => p,
                    None => continue, // a torn line: skipped, as reading does
                }
            } else {
                zeroize::Zeroizing::new(line)
            };
            if plain.trim().is_empty() {
                continue;
            }
            let mut sealed = new_lines.seal(&plain).map_err(&err)?;
            sealed.push('\n');
            out.write_all(sealed.as_bytes()).map_err(&err)?;
            done.journal_lines += 1;
        }
        out.sync_all().map_err(&err)?;
    }
    for d in archive_dirs(dir) {
        fsync_dir(&d).map_err(io_err(&d))?;
    }
    fsync_dir(dir).map_err(io_err(dir))?;
    crate::failpoint::hit("convert_before_commit");
    marker.phase = Phase::Commit;
    write_marker(dir, &marker)?;
    crate::failpoint::hit("convert_committed");
    roll_forward(dir, &marker)?;
    Ok(done)
}

/// Write `db` anew as `db.next`, encrypted under `to` (SQLCipher's `sqlcipher_export`).
fn export_db(db: &Path, from: Option<&StoreKey>, to: &StoreKey) -> Result<(), StoreError> {
    let next = next_of(db);
    let sql = |e| super::sql_error(db, e);
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&next)
        .map_err(io_err(&next))?;
    let conn = crypt::open_db(db, from).map_err(sql)?;
    to.attach(&conn, &next, "next").map_err(sql)?;
    let version: i64 = conn
        .query_row("PRAGMA main.user_version", [], |r| r.get(0))
        .map_err(sql)?;
    conn.query_row("SELECT sqlcipher_export('next')", [], |_| Ok(()))
        .map_err(sql)?;
    conn.execute_batch(&format!(
        "PRAGMA next.user_version = {version}; DETACH DATABASE next;"
    ))
    .map_err(sql)?;
    conn.close().map_err(|(_, e)| sql(e))?;
    let f = fs::File::open(&next).map_err(io_err(&next))?;
    f.sync_all().map_err(io_err(&next))?;
    // the copy reads back under its key, with the same tables
    if !crypt::key_fits(&next, to).map_err(sql)? {
        return Err(StoreError::Io {
            path: next,
            source: io::Error::other("the converted copy does not open with its key"),
        });
    }
    Ok(())
}

/// Whether a database file is encrypted, for `status`.
pub fn is_encrypted(dir: &Path) -> Option<bool> {
    match crypt::db_state(&dir.join(DB_FILE)).ok()? {
        crypt::DbState::Absent => None,
        crypt::DbState::Plain => Some(false),
        crypt::DbState::Encrypted => Some(true),
    }
}

/// Whether every archived file is sealed (for `status`): (sealed, total).
pub fn sealed_files(dir: &Path) -> io::Result<(usize, usize)> {
    let blobs = super::Archive::plain_view(dir).blobs()?;
    let mut sealed = 0;
    for (_, p) in &blobs {
        if crypt::is_sealed_file(p)? {
            sealed += 1;
        }
    }
    Ok((sealed, blobs.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plaintext database exported under a key (the first `store encrypt`, in a process
    /// that has keyed nothing before) opens with that key, with its rows and version.
    #[test]
    fn a_plaintext_database_exports_under_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("h.sqlite");
        let conn = crypt::open_db(&db, None).unwrap();
        conn.execute_batch(
            "CREATE TABLE t(x); INSERT INTO t VALUES ('MRN42'); PRAGMA user_version = 9;",
        )
        .unwrap();
        drop(conn);
        let key = StoreKey::generate("t").unwrap();
        export_db(&db, None, &key).unwrap();
        let next = next_of(&db);
        assert!(crypt::key_fits(&next, &key).unwrap());
        let conn = crypt::open_db(&next, Some(&key)).unwrap();
        let (x, v): (String, i64) = conn
            .query_row(
                "SELECT x, (SELECT user_version FROM pragma_user_version) FROM t",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((x.as_str(), v), ("MRN42", 9));
        // and again under a second key (rekey)
        std::fs::rename(&next, &db).unwrap();
        let other = StoreKey::generate("t2").unwrap();
        export_db(&db, Some(&key), &other).unwrap();
        assert!(crypt::key_fits(&next, &other).unwrap());
        assert!(!crypt::key_fits(&next, &key).unwrap());
    }
}
