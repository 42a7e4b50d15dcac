//! Checkpointing the write-ahead log on a thread of its own while a run writes, so the
//! storing thread never waits for a checkpoint (copying the log into the database and two
//! fsyncs: a fifth of import time at 1 M findings, benchmark B1).
//!
//! The thread has its own connection and runs `PRAGMA wal_checkpoint(PASSIVE)` every
//! [`PERIOD`]: passive checkpoints never block the writer. But a log is only started again
//! from its beginning when a write begins after a checkpoint that copied all of it, which a
//! writer that never pauses rarely meets; so once the log holds more than [`RESET_FRAMES`],
//! the thread raises a flag and the writer, between two transactions, checkpoints the small
//! remainder itself ([`Checkpointer::take_reset_request`]): the log stays bounded.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// How often the thread checkpoints (a checkpoint with nothing to copy costs nothing).
const PERIOD: Duration = Duration::from_millis(100);

/// Log frames (16 KiB pages: 128 MiB, the most a run let the log grow before) past which the
/// writer restarts the log.
const RESET_FRAMES: i64 = 8_192;

/// A running checkpoint thread; stopped (and joined) when dropped.
pub(crate) struct Checkpointer {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    reset: Arc<AtomicBool>,
}

impl Checkpointer {
    /// Start checkpointing `db` (already in WAL mode) on a new thread.
    pub(crate) fn start(
        db: &Path,
        key: Option<&super::crypt::StoreKey>,
    ) -> std::io::Result<Checkpointer> {
        Checkpointer::with_reset_at(db, key, RESET_FRAMES)
    }

    /// [`Checkpointer::start`], asking for a restart past `reset_frames` log frames.
    fn with_reset_at(
        db: &Path,
        key: Option<&super::crypt::StoreKey>,
        reset_frames: i64,
    ) -> std::io::Result<Checkpointer> {
        let open = || -> rusqlite::Result<Connection> {
            let conn = super::crypt::open_db(db, key)?;
            conn.busy_timeout(Duration::from_secs(10))?;
            // a checkpoint still fsyncs the log and the database
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.pragma_update(None, "wal_autocheckpoint", 0)?;
            Ok(conn)
        };
        let conn = open().map_err(std::io::Error::other)?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let reset = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&reset);
        let thread = std::thread::Builder::new()
            .name("checkpoint".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(PERIOD) {
                    match passive_checkpoint(&conn) {
                        Ok((_, log, _)) if log > reset_frames => {
                            flag.store(true, Ordering::Relaxed)
                        }
                        Ok(_) => {}
                        // the writer's own checkpoints (and the run's last one) still run
                        Err(e) => tracing::debug!("background checkpoint: {e}"),
                    }
                }
            })?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
            reset,
        })
    }

    /// Whether the log has grown past [`RESET_FRAMES`] since the writer last restarted it
    /// (clears the request).
    pub(crate) fn take_reset_request(&self) -> bool {
        self.reset.swap(false, Ordering::Relaxed)
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take()); // wakes the thread: it stops
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `PRAGMA wal_checkpoint(PASSIVE)`: (busy, frames in the log, frames copied).
pub(crate) fn passive_checkpoint(conn: &Connection) -> rusqlite::Result<(bool, i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get::<_, i64>(0)? != 0, r.get(1)?, r.get(2)?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The thread copies the log into the database while the writer goes on, asks for a
    /// restart once the log is long, and the writer's own checkpoint between transactions
    /// lets the next transaction start the log again from its beginning.
    #[test]
    fn checkpoints_in_the_background_and_keeps_the_log_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.sqlite");
        let writer = Connection::open(&db).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        writer
            .execute_batch("CREATE TABLE t (x TEXT); PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let before = size(&db);
        let c = Checkpointer::with_reset_at(&db, None, 20).unwrap();
        for _ in 0..10 {
            writer
                .execute(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) \
                     INSERT INTO t SELECT hex(randomblob(500)) FROM n",
                    [],
                )
                .unwrap();
        }
        // the writer never checkpoints (autocheckpoint off): only the thread can grow the file
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while size(&db) == before && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            size(&db) > before,
            "no background checkpoint reached the database"
        );
        while !c.take_reset_request() {
            assert!(std::time::Instant::now() < deadline, "no restart asked for");
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(c); // (here the writer's checkpoint must not meet the thread's: it would be busy)
        let (busy, log, copied) = passive_checkpoint(&writer).unwrap();
        assert!(!busy && log > 20 && copied == log, "{busy} {log} {copied}");
        writer
            .execute("INSERT INTO t VALUES ('after')", [])
            .unwrap();
        let (_, log, _) = passive_checkpoint(&writer).unwrap();
        assert!(log < 20, "the log did not start again: {log} frames");
        let n: i64 = writer
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1001);
    }
}
