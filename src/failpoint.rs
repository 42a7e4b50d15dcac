//! Crash points for the crash-safety tests.
//!
//! `IMMDQA_KILL_AT=<point>:<n>` makes the process SIGKILL itself the n-th time (1-based) it
//! passes `<point>`, exactly as an outside `kill -9` would, so the tests can stop a fetch at a
//! precise step (after the temp file, before the archive rename, inside the store transaction,
//! after the commit) and check that a rerun leaves no partial files and no duplicate rows.
//! Without the variable this costs one relaxed atomic load. `IMMDQA_PAUSE_AT` (see [`pause`])
//! stops the process at a point instead, for a test to act there.

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

/// Mark a crash (and pause) point: kills the process if it is the armed one, pauses it if
/// it is the paused one (see [`pause`]).
pub fn hit(point: &str) {
    pause(point);
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

/// A pause point for tests that must act while the process is at a precise step (change a
/// file being sent): `IMMDQA_PAUSE_AT=<point>` and `IMMDQA_PAUSE_FILE=<path>` make the process
/// create `<path>` the first time it passes `<point>`, then wait until the test removes it
/// (at most 60 s). Without the variables this costs one relaxed atomic load.
fn pause(point: &str) {
    static ARMED: OnceLock<Option<(String, std::path::PathBuf)>> = OnceLock::new();
    static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let armed = ARMED.get_or_init(|| {
        Some((
            std::env::var("IMMDQA_PAUSE_AT").ok()?,
            std::env::var_os("IMMDQA_PAUSE_FILE")?.into(),
        ))
    });
    let Some((at, file)) = armed else {
        return;
    };
    if at != point || DONE.swap(true, Ordering::SeqCst) {
        return;
    }
    if std::fs::write(file, point).is_err() {
        return;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while file.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
