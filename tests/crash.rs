//! Crash safety: the fetch process SIGKILLed at chosen points and at random moments, then rerun:
//! no partial files, no duplicate rows, integrity_check ok, and every file fetched exactly once.

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use crate::util::*;

const POINTS: [&str; 4] = [
    "after_temp_write",
    "archive_before_rename",
    "store_in_transaction",
    "store_after_commit",
];

fn mailbox(files: usize, size: usize) -> Workspace {
    let ws = Workspace::new();
    for i in 0..files {
        ws.write(&format!("DQA-Reports/R{i:04}.csv"), csv_report(i, size));
    }
    ws.local_config();
    ws
}

#[test]
fn sigkill_at_each_point_then_rerun_is_consistent() {
    for point in POINTS {
        for nth in [1, 3] {
            let ws = mailbox(5, 10_000);
            let spec = format!("{point}:{nth}");
            let o = ws.cmd_env(&["fetch"], &[("IMMDQA_KILL_AT", &spec)]);
            assert_eq!(
                o.0.status.signal(),
                Some(9),
                "{spec}: {:?}\n{}",
                o.0.status,
                o.err()
            );
            let conn = db(&ws.store());
            let recorded = count(&conn, "SELECT COUNT(*) FROM remote_file");
            let archive_stage = point == "after_temp_write" || point == "archive_before_rename";
            if archive_stage {
                // downloads run ahead of the archive helper, which runs ahead of the history:
                // at most the files before this one are recorded
                assert!(recorded < nth as i64, "{spec}: {recorded} recorded");
            } else {
                let expect = if point == "store_after_commit" {
                    nth
                } else {
                    nth - 1
                };
                assert_eq!(recorded, expect as i64, "{spec}");
            }
            drop(conn);

            let o = ws.cmd(&["fetch"]).code(0);
            let want = format!("{} new", 5 - recorded);
            assert!(o.out().contains(&want), "{spec}: {}", o.out());
            if archive_stage {
                assert!(
                    o.err().contains("incomplete download"),
                    "{spec}: {}",
                    o.err()
                );
            }
            assert_store_consistent(&ws.store());
            let conn = db(&ws.store());
            assert_eq!(
                count(&conn, "SELECT COUNT(*) FROM remote_file"),
                5,
                "{spec}"
            );
            assert_eq!(count(&conn, "SELECT COUNT(*) FROM manifest"), 5, "{spec}");
            let o = ws.cmd(&["fetch"]);
            assert!(
                o.out().contains("nothing new (5 unchanged"),
                "{spec}: {}",
                o.out()
            );
            // the killed run is visible as interrupted
            assert_eq!(
                count(
                    &conn,
                    "SELECT COUNT(*) FROM fetch_run WHERE finished_at IS NULL"
                ),
                1
            );
        }
    }
}

#[test]
fn sigkill_at_random_moments_then_rerun_is_consistent() {
    let ws = mailbox(120, 40_000);
    // a small deterministic PRNG: the delays differ between iterations, not between runs
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut killed = 0;
    for _ in 0..10 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let delay = Duration::from_millis(5 + x % 120);
        let mut child = immdqa()
            .arg("--config")
            .arg(ws.config())
            .arg("fetch")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let st = child.wait().unwrap();
        if st.signal() == Some(9) {
            killed += 1;
        }
    }
    assert!(killed >= 3, "too few runs were actually killed ({killed})");
    let o = ws.cmd(&["fetch"]);
    assert!(o.0.status.code() == Some(0), "{}", o.err());
    assert_store_consistent(&ws.store());
    let conn = db(&ws.store());
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM remote_file"), 120);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM manifest"), 120);
    ws.cmd(&["fetch"]).out_has("nothing new (120 unchanged");
}
