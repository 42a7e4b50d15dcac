//! Crash points for the crash-safety tests.
//!
//! `IMMDQA_KILL_AT=<point>:<n>` makes the process SIGKILL itself the n-th time (1-based) it
//! passes `<point>`, exactly as an outside `kill -9` would, so the tests can stop a fetch at a
//! precise step (after the temp file, before the archive rename, inside the store transaction,
//! after the commit) and check that a rerun leaves no partial files and no duplicate rows.
//! Without the variable this costs one relaxed atomic load.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

struct Armed {
    point: String,
    nth: u32,
    hits: AtomicU32,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let v = std::env::var("IMMDQA_KILL_AT").ok()?;
            let (point, nth) = v.rsplit_once(':').unwrap_or((v.as_str(), "1"));
            Some(Armed {
                point: point.to_string(),
                nth: nth.parse().unwrap_or(1),
                hits: AtomicU32::new(0),
            })
        })
        .as_ref()
}

/// Mark a crash point; kills the process if it is the armed one.
pub fn hit(point: &str) {
    if let Some(a) = armed()
        && a.point == point
        && a.hits.fetch_add(1, Ordering::SeqCst) + 1 == a.nth
    {
        // SAFETY: plain libc calls; the process ends here.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}
