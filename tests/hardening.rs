//! Hardening (issue 13): faults that must not stop a weekly run or lose data, and the
//! command-line conventions cron and scripts rely on.

use std::fs;

use crate::util::*;
use crate::xlsx::xlsx_stored;

/// A spreadsheet whose second column's cell reference is corrupted (16 letters): calamine
/// overflows computing the column (a panic in debug builds, which `cargo run` uses).
fn corrupt_xlsx() -> Vec<u8> {
    fn col(i: usize) -> String {
        if i == 1 {
            "A".repeat(16)
        } else {
            ((b'A' + i as u8) as char).to_string()
        }
    }
    xlsx_stored(
        &[
            vec!["Field", "Severity", "Code", "Message"],
            vec!["PID-11", "Warning", "IEE-998", "Warning. Invalid address."],
        ],
        col,
    )
}

#[test]
fn a_spreadsheet_that_panics_its_parser_is_quarantined_and_the_run_goes_on() {
    let ws = Workspace::new().with_specimens();
    ws.write("DQA-Reports/DQA_Report_2025-11-04.xlsx", corrupt_xlsx());
    ws.local_config();
    let o = ws.run(&["fetch"]);
    // the other reports are parsed; the bad one is quarantined with a reason: exit 4, not 101
    assert_code(&o, 4);
    let err = stderr(&o);
    assert!(
        err.contains("DQA_Report_2025-11-04.xlsx: the parser failed on this file's content"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "no panic output: {err}");
    let conn = db(&ws.store());
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM remote_file WHERE parse_status='quarantined'"),
        1
    );
    assert!(count(&conn, "SELECT COUNT(*) FROM report") >= 6);
    // every later run goes on: fetch (nothing new), reparse (retries, quarantines again)
    assert_code(&ws.run(&["fetch"]), 0);
    let o = ws.run(&["reparse"]);
    assert_code(&o, 4);
    assert!(stdout(&o).contains("1 quarantined"), "{}", stdout(&o));
    // import of a folder holding it too
    let dir = ws.path().join("incoming");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("bad.xlsx"), corrupt_xlsx()).unwrap();
    fs::copy(
        std::path::Path::new(SPECIMENS).join("tabular/ACMECLIN25301_DQA.csv"),
        dir.join("good.csv"),
    )
    .unwrap();
    let o = ws.run(&["import", dir.to_str().unwrap()]);
    assert_code(&o, 4);
    assert!(stderr(&o).contains("bad.xlsx: the parser failed"), "{}", stderr(&o));
    // inspect says why, too
    let p = dir.join("bad.xlsx");
    let o = ws.run(&["inspect", p.to_str().unwrap()]);
    assert_ne!(o.status.code(), Some(101));
}
