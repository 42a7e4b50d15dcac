//! The outbox of unattended exchange (`immdqa sync`): the folder the EHR writes batches to.
//!
//! A file is ready when it was last modified at least `settle` ago (the legacy registry
//! processor waited 60 s for the same reason: a file still being written is not sent). Ready
//! files go through `upload` (lint, registry name, atomic transfer); then each is moved:
//! sent → `outbox/sent/`, refused (structure errors, `--strict` lint errors, content already
//! sent) → `outbox/held/` with `<name>.reason.txt` beside it; a failed transfer stays in the
//! outbox for the next run. Nothing is deleted. Uses: upload.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::upload::{FileResult, Outcome};

pub const SENT: &str = "sent";
pub const HELD: &str = "held";

/// What the outbox holds now.
#[derive(Debug, Default)]
pub struct Scan {
    /// Files to send, oldest first.
    pub ready: Vec<PathBuf>,
    /// Files left for a later run, and why.
    pub waiting: Vec<(PathBuf, String)>,
}

/// Look at the outbox: regular, non-hidden files directly in it (not `sent/`, `held/`).
pub fn scan(dir: &Path, settle: Duration, now: SystemTime) -> io::Result<Scan> {
    let mut out = Scan::default();
    let mut ready: Vec<(SystemTime, PathBuf)> = Vec::new();
    for e in fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let meta = e.metadata()?;
        if name.starts_with('.') || !meta.is_file() {
            continue;
        }
        let modified = meta.modified()?;
        let age = now.duration_since(modified).unwrap_or_default();
        if age < settle {
            out.waiting.push((
                e.path(),
                format!(
                    "modified {}s ago: may still be being written (sent once unchanged for {}s)",
                    age.as_secs(),
                    settle.as_secs()
                ),
            ));
        } else {
            ready.push((modified, e.path()));
        }
    }
    ready.sort();
    out.ready = ready.into_iter().map(|(_, p)| p).collect();
    out.waiting.sort();
    Ok(out)
}

/// Where a file went after the upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    Sent(PathBuf),
    Held {
        to: PathBuf,
        reason: String,
    },
    /// Left in the outbox (a failed transfer, or a dry run).
    Kept(String),
}

/// A free path in `dir` for `name` (`name`, then `name.1`, …): never overwrite.
fn free_path(dir: &Path, name: &str) -> PathBuf {
    let mut p = dir.join(name);
    let mut n = 1;
    while p.exists() {
        p = dir.join(format!("{name}.{n}"));
        n += 1;
    }
    p
}

/// Move each uploaded file where its outcome says.
pub fn file_results(dir: &Path, results: &[FileResult]) -> io::Result<Vec<(PathBuf, Disposition)>> {
    let mut out = Vec::new();
    for r in results {
        let name = r
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let d = match &r.outcome {
            Outcome::Uploaded { remote_name } => {
                let sent = dir.join(SENT);
                fs::create_dir_all(&sent)?;
                let to = free_path(&sent, &name);
                fs::rename(&r.path, &to)?;
                tracing::info!("{name}: sent as {remote_name}, moved to {}", to.display());
                Disposition::Sent(to)
            }
            Outcome::Refused { reason } => {
                let held = dir.join(HELD);
                fs::create_dir_all(&held)?;
                let to = free_path(&held, &name);
                fs::rename(&r.path, &to)?;
                let mut why = format!("{reason}\n");
                for i in r.lint.structure.iter().chain(r.lint.lint.iter()) {
                    why.push_str(&format!(
                        "line {} ({}): {:?} {}: {}\n",
                        i.line,
                        i.segment,
                        i.level,
                        i.predicts.unwrap_or("-"),
                        i.message
                    ));
                }
                fs::write(PathBuf::from(format!("{}.reason.txt", to.display())), why)?;
                Disposition::Held {
                    to,
                    reason: reason.clone(),
                }
            }
            Outcome::Failed { reason, .. } => Disposition::Kept(reason.clone()),
            Outcome::Planned { remote_name } => {
                Disposition::Kept(format!("dry run: would be sent as {remote_name}"))
            }
        };
        out.push((r.path.clone(), d));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_settled_regular_visible_files_are_ready() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("old.hl7"), "x").unwrap();
        fs::write(d.join("new.hl7"), "x").unwrap();
        fs::write(d.join(".hidden"), "x").unwrap();
        fs::create_dir(d.join(SENT)).unwrap();
        let past = SystemTime::now() - Duration::from_secs(600);
        fs::File::options()
            .write(true)
            .open(d.join("old.hl7"))
            .unwrap()
            .set_modified(past)
            .unwrap();
        let s = scan(d, Duration::from_secs(60), SystemTime::now()).unwrap();
        assert_eq!(s.ready, vec![d.join("old.hl7")]);
        assert_eq!(s.waiting.len(), 1);
        assert!(s.waiting[0].1.contains("may still be being written"));
    }
}
