//! The archive's own index (`<store>/archive.index.jsonl`): one JSON line per archived file
//! version (content hash, size, profile, remote folder and name, kind, remote mtime, when it
//! was fetched), appended as each file is recorded and fsynced at the end of each run. It
//! never shrinks, holds no file contents, and lets `immdqa rebuild` recreate the history
//! from the archive alone when `history.sqlite` is lost or damaged.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub const INDEX_FILE: &str = "archive.index.jsonl";

/// One archived file version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    pub sha256: String,
    pub size: u64,
    pub profile: String,
    pub folder: String,
    pub name: String,
    pub kind: String,
    pub mtime: i64,
    pub fetched_at: String,
}

pub fn path(store: &Path) -> PathBuf {
    store.join(INDEX_FILE)
}

/// Open the index for appending (created owner-only).
pub fn open_append(store: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path(store))
}

/// Append one entry (one `write` of one line, so lines never interleave).
pub fn append(f: &mut File, e: &IndexEntry) -> io::Result<()> {
    let mut line = serde_json::to_string(e).map_err(io::Error::other)?;
    line.push('\n');
    f.write_all(line.as_bytes())
}

/// Read every entry; a damaged line (a torn last write) is skipped and counted.
pub fn read(store: &Path) -> io::Result<(Vec<IndexEntry>, usize)> {
    let f = match File::open(path(store)) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((vec![], 0)),
        Err(e) => return Err(e),
    };
    let (mut out, mut bad) = (Vec::new(), 0);
    for line in BufReader::new(f).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(&line) {
            Ok(e) => out.push(e),
            Err(_) => bad += 1,
        }
    }
    Ok((out, bad))
}

/// Whether the archive holds at least one file (a blob under `archive/<aa>/`).
pub fn archive_has_blobs(store: &Path) -> bool {
    let Ok(dirs) = fs::read_dir(store.join("archive")) else {
        return false;
    };
    dirs.flatten().any(|d| {
        d.file_type().is_ok_and(|t| t.is_dir())
            && fs::read_dir(d.path()).is_ok_and(|mut f| f.next().is_some())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_then_read_skips_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = open_append(dir.path()).unwrap();
        let e = IndexEntry {
            sha256: "ab".repeat(32),
            size: 3,
            profile: "p".into(),
            folder: "DQA-Reports".into(),
            name: "a\tb\n.csv".into(),
            kind: "dqa".into(),
            mtime: 1,
            fetched_at: "2026-01-01T00:00:00Z".into(),
        };
        append(&mut f, &e).unwrap();
        f.write_all(b"{\"sha256\":\"torn").unwrap();
        let (entries, bad) = read(dir.path()).unwrap();
        assert_eq!(entries, vec![e]);
        assert_eq!(bad, 1);
    }
}
