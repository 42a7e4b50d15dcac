//! Append-only JSON-lines journals beside the database (`worklist.actions.jsonl`,
//! `uploads.jsonl`): what the user did that no fetched file holds, so `immdqa rebuild`
//! can replay it when the database is lost. Each entry is one `write` of one line, fsynced;
//! the file is owner-only; a torn last line is skipped on reading.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Append `entry` as one line and fsync it.
pub(crate) fn append<T: serde::Serialize>(path: &Path, entry: &T) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    let mut line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
    line.push('\n');
    f.write_all(line.as_bytes())?;
    f.sync_all()
}

/// Every entry in order (none when the journal does not exist; unreadable lines skipped).
pub(crate) fn read<T: serde::de::DeserializeOwned>(path: &Path) -> std::io::Result<Vec<T>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(vec![]),
        Err(e) => Err(e),
    }
}
