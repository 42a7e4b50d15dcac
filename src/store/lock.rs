//! The store lock: one fetch (or import) at a time per store.
//!
//! An OS file lock (`flock`) on `<store>/immdqa.lock`, so it is released by the kernel when
//! the holder exits, even on SIGKILL: there is never a stale lock to delete by hand. The
//! holder's PID is written into the file for the message shown to a second process.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::StoreError;

/// Held while a run writes to the store; dropping it releases the lock.
#[derive(Debug)]
pub struct StoreLock {
    /// None: the lock is held for the whole run by a [`RunLock`] of this process.
    _file: Option<File>,
}

/// Stores whose lock this process holds for a whole run (`immdqa sync`): the steps' own
/// `acquire` calls then succeed without a second lock.
static RUN_HELD: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());

fn key(dir: &Path) -> std::path::PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// The store lock held across the steps of one run (upload, fetch, parse, report), so no
/// other immdqa process writes in between; each step's own lock is then part of it.
#[derive(Debug)]
pub struct RunLock {
    _lock: StoreLock,
    dir: std::path::PathBuf,
}

impl RunLock {
    pub fn acquire(dir: &Path) -> Result<RunLock, StoreError> {
        let lock = StoreLock::acquire(dir)?;
        let dir = key(dir);
        RUN_HELD.lock().unwrap().push(dir.clone());
        Ok(RunLock { _lock: lock, dir })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        RUN_HELD.lock().unwrap().retain(|d| *d != self.dir);
    }
}

impl StoreLock {
    pub fn acquire(dir: &Path) -> Result<StoreLock, StoreError> {
        if RUN_HELD.lock().unwrap().contains(&key(dir)) {
            return Ok(StoreLock { _file: None });
        }
        let path = dir.join("immdqa.lock");
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                return Err(StoreError::Locked {
                    path: dir.to_path_buf(),
                    pid: if pid.is_empty() {
                        String::new()
                    } else {
                        format!(" (pid {pid})")
                    },
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        write!(file, "{}", std::process::id()).map_err(io)?;
        Ok(StoreLock { _file: Some(file) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let first = StoreLock::acquire(dir.path()).unwrap();
        let err = StoreLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(err.contains("in use by another immdqa process"), "{err}");
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        StoreLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn a_run_lock_covers_its_steps_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        let run = RunLock::acquire(dir.path()).unwrap();
        let step = StoreLock::acquire(dir.path()).unwrap();
        drop(step);
        let _o = StoreLock::acquire(other.path()).unwrap();
        drop(run);
        // released: a new holder may take it, and then this process's steps are refused
        let again = StoreLock::acquire(dir.path()).unwrap();
        assert!(StoreLock::acquire(dir.path()).is_err());
        drop(again);
    }
}
