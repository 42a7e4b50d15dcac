//! Append-only JSON-lines journals beside the database (`worklist.actions.jsonl`,
//! `uploads.jsonl`): what the user did that no fetched file holds, so `immdqa rebuild`
//! can replay it when the database is lost. Each entry is one `write` of one line, fsynced;
//! the file is owner-only; a torn last line is skipped on reading. In an encrypted store each
//! line is sealed on its own ([`LineCipher`]): notes are free text and may name a patient.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::crypt::LineCipher;

/// Append `entry` as one line (sealed with `cipher` when given) and fsync it.
pub(crate) fn append<T: serde::Serialize>(
    path: &Path,
    entry: &T,
    cipher: Option<&LineCipher>,
) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    let json =
        zeroize::Zeroizing::new(serde_json::to_string(entry).map_err(std::io::Error::other)?);
    let mut line = match cipher {
        Some(c) => c.seal(&json)?,
        None => json.to_string(),
    };
    line.push('\n');
    f.write_all(line.as_bytes())?;
    f.sync_all()
}

/// Every entry in order (none when the journal does not exist; unreadable lines skipped).
/// Sealed lines need `cipher`: without it (or under another key) reading them is an error,
/// never an empty journal.
pub(crate) fn read<T: serde::de::DeserializeOwned>(
    path: &Path,
    cipher: Option<&LineCipher>,
) -> std::io::Result<Vec<T>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let mut out = Vec::new();
            let (mut sealed, mut opened) = (0, 0);
            for l in text.lines() {
                if super::crypt::is_sealed_line(l) {
                    sealed += 1;
                    if let Some(plain) = cipher.and_then(|c| c.open(l)) {
                        opened += 1;
                        out.extend(serde_json::from_str(&plain).ok());
                    }
                } else {
                    out.extend(serde_json::from_str(l).ok());
                }
            }
            // one torn last line is what a kill leaves; more unreadable lines are a wrong key
            if sealed > 0 && opened + 1 < sealed {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!(
                        "{} sealed line(s) do not open with the store key",
                        sealed - opened
                    ),
                ));
            }
            Ok(out)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(vec![]),
        Err(e) => Err(e),
    }
}
