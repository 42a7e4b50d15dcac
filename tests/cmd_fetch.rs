//! `immdqa fetch` and `immdqa status` through the local-folder transport.

use std::fs;
use std::time::{Duration, SystemTime};

use crate::util::*;

#[test]
fn first_fetch_then_noop_then_changed_file() {
    let ws = Workspace::local();
    ws.cmd(&["fetch"])
        .code(0)
        .out_has("fetch: 6 new, 0 changed, 0 unchanged, 0 skipped, 0 failed");
    let conn = db(&ws.store());
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM remote_file WHERE kind='dqa'"),
        5
    );
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM remote_file WHERE kind='cnf'"),
        1
    );
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM remote_file WHERE parse_status='parsed'"
        ),
        6
    );
    // the archive holds each file byte for byte
    let csv = fs::read(ws.mailbox().join("Receive/ACMECLIN_CNF_20251028.csv")).unwrap();
    assert_eq!(archived(&ws.store(), "ACMECLIN_CNF_20251028.csv"), csv);

    ws.cmd(&["fetch"])
        .code(0)
        .out_has("nothing new (6 unchanged");
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM remote_file"), 6);

    // same name, new content and mtime: both versions kept
    let p = ws.mailbox().join("Receive/ACMECLIN_CNF_20251028.csv");
    fs::write(&p, [&csv[..], b"ACMECLIN,x,2025-10-29,MRN9,A,B,,2000-01-01,F,TXA,20250101,CLR-100,No existing consent on file\n"].concat()).unwrap();
    touch_later(&p);
    ws.cmd(&["fetch"])
        .code(0)
        .out_has("0 new, 1 changed, 5 unchanged");
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM remote_file WHERE name='ACMECLIN_CNF_20251028.csv'"
        ),
        2
    );
    assert_store_consistent(&ws.store());

    let o = ws.cmd(&["status", "--check"]).code(0);
    let out = o.out();
    assert!(out.contains("integrity check: ok"), "{out}");
    assert!(out.contains("0 new, 1 changed, 5 unchanged"), "{out}");
}

#[test]
fn touched_file_with_same_content_is_not_a_new_version() {
    let ws = Workspace::new();
    ws.write("DQA-Reports/a.csv", "Field,Severity\nPID-7,E\n");
    ws.local_config();
    ws.cmd(&["fetch"]).code(0);
    let p = ws.mailbox().join("DQA-Reports/a.csv");
    touch_later(&p);
    ws.cmd(&["fetch"])
        .code(0)
        .out_has("nothing new (1 unchanged");
    assert_eq!(
        count(&db(&ws.store()), "SELECT COUNT(*) FROM remote_file"),
        1
    );
    // and the manifest now has the new mtime: a third run does not download again
    ws.cmd(&["fetch"]).out_has("nothing new");
}

#[test]
fn dry_run_prints_plan_and_changes_nothing() {
    let ws = Workspace::local();
    let o = ws.cmd(&["fetch", "--dry-run"]).code(0);
    let out = o.out();
    assert!(
        out.contains("DQA-Reports/ACMECLIN25301.hl7.ack  11997  download (new)"),
        "{out}"
    );
    assert!(
        out.contains("dry run: would download 6 new and 0 changed"),
        "{out}"
    );
    // no store rows written (the store folder may be created, but holds no history)
    let conn = db(&ws.store());
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM remote_file"), 0);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM fetch_run"), 0);
    assert!(tree(&ws.store().join("archive")).is_empty());
}

#[test]
fn skips_symlinks_and_oversized_files_and_reports_them() {
    let ws = Workspace::new();
    ws.write(
        "DQA-Reports/ok.csv",
        "Field,Message\nPID-7,Birth date missing\n",
    );
    ws.write("DQA-Reports/big.csv", vec![b'x'; 5000]);
    std::os::unix::fs::symlink("/etc/passwd", ws.mailbox().join("DQA-Reports/evil")).unwrap();
    ws.write_config(&format!(
        "store = {:?}\n[profiles.t]\nlocal_dir = {:?}\nmax_file_size = 1000\n",
        ws.store(),
        ws.mailbox()
    ));
    let o = ws.cmd(&["fetch"]).code(0);
    let err = o.err();
    assert!(
        err.contains("skipped DQA-Reports/evil: not a regular file (symbolic link)"),
        "{err}"
    );
    assert!(
        err.contains("skipped DQA-Reports/big.csv: 4.9 KiB is over the size limit"),
        "{err}"
    );
    assert!(
        o.out().contains("1 new, 0 changed, 0 unchanged, 2 skipped"),
        "{}",
        o.out()
    );
    let conn = db(&ws.store());
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM fetch_event WHERE outcome='skipped'"
        ),
        2
    );
    // status shows the last run's skips
    ws.cmd(&["status"]).out_has("skipped DQA-Reports/evil");
}

#[test]
fn missing_remote_folder_fails_with_exit_4_and_names_the_setting() {
    let ws = Workspace::new();
    fs::remove_dir(ws.mailbox().join("Receive")).unwrap();
    ws.write(
        "DQA-Reports/a.csv",
        "Field,Message\nPID-7,Birth date missing\n",
    );
    ws.local_config();
    ws.cmd(&["fetch"])
        .code(4)
        .err_has("remote folder 'Receive' does not exist")
        .err_has("receive_dir")
        .out_has("1 new");
}

#[test]
fn concurrent_fetch_is_refused_by_the_lock() {
    let ws = Workspace::fetched();
    let store = immdqa::store::Store::open(&ws.store(), &keys(&ws.store())).unwrap();
    let held = store.lock().unwrap();
    let o = ws
        .cmd(&["fetch"])
        .code(5)
        .err_has("is in use by another immdqa process");
    assert!(
        o.err().contains(&format!("pid {}", std::process::id())),
        "{}",
        o.err()
    );
    // every command that writes the store says busy (5), not a failed run (3)
    let f = ws.path().join("x.csv");
    fs::write(&f, "Field,Message\nPID-7,Birth date missing\n").unwrap();
    ws.cmd(&["import", f.to_str().unwrap()])
        .code(5)
        .err_has("is in use by another immdqa process");
    ws.cmd(&["reparse", "--all"]).code(5);
    drop(held);
    ws.cmd(&["fetch"]).code(0);
}

#[test]
fn two_processes_at_once_one_waits_out() {
    // Real processes racing: exactly the ones that got the lock succeed, the rest exit 5.
    let ws = Workspace::new();
    for i in 0..200 {
        ws.write(&format!("DQA-Reports/f{i:03}.csv"), csv_report(i, 20_000));
    }
    ws.local_config();
    let spawn = || {
        crate::util::immdqa()
            .arg("--config")
            .arg(ws.config())
            .arg("fetch")
            .output()
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(spawn);
        let b = s.spawn(spawn);
        (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
    });
    let codes = [a.status.code().unwrap(), b.status.code().unwrap()];
    assert!(
        codes.contains(&0),
        "{codes:?}\n{}\n{}\n{}\n{}",
        stdout(&a),
        stderr(&a),
        stdout(&b),
        stderr(&b)
    );
    assert!(
        codes.iter().all(|c| *c == 0 || *c == 5),
        "{codes:?}\n{}\n{}",
        stderr(&a),
        stderr(&b)
    );
    assert_eq!(
        count(&db(&ws.store()), "SELECT COUNT(*) FROM remote_file"),
        200
    );
    assert_store_consistent(&ws.store());
}

#[test]
fn store_is_owner_only() {
    use std::os::unix::fs::MetadataExt;
    let ws = Workspace::fetched();
    assert_eq!(fs::metadata(ws.store()).unwrap().mode() & 0o777, 0o700);
    for f in [
        "history.sqlite",
        "history.sqlite-wal",
        "history.sqlite-shm",
        "immdqa.lock",
    ] {
        let Ok(m) = fs::metadata(ws.store().join(f)) else {
            continue; // -wal/-shm are removed when the last connection closes
        };
        let m = m.mode() & 0o777;
        assert_eq!(m & 0o077, 0, "{f} mode {m:o}");
    }
    for f in tree(&ws.store().join("archive")) {
        let m = fs::metadata(ws.store().join("archive").join(&f))
            .unwrap()
            .mode()
            & 0o777;
        assert_eq!(m, 0o400, "{f}");
    }
}

#[test]
fn status_on_empty_history_says_what_to_do() {
    let ws = Workspace::new();
    ws.local_config();
    ws.cmd(&["status"])
        .code(0)
        .out_has("the history is empty: run `immdqa fetch`");
}

/// Move a file's mtime 10 s into the future (a "changed" file for the manifest).
fn touch_later(p: &std::path::Path) {
    fs::File::options()
        .write(true)
        .open(p)
        .unwrap()
        .set_modified(SystemTime::now() + Duration::from_secs(10))
        .unwrap();
}

#[test]
fn no_parse_archives_only_then_reparse_parses() {
    let ws = Workspace::local();
    ws.cmd(&["fetch", "--no-parse"])
        .code(0)
        .out_has("fetch: 6 new")
        .out_lacks("parse:");
    let conn = db(&ws.store());
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM remote_file WHERE parse_status='pending'"
        ),
        6
    );
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM report"), 0);
    // archived byte for byte all the same
    let csv = fs::read(ws.mailbox().join("Receive/ACMECLIN_CNF_20251028.csv")).unwrap();
    assert_eq!(archived(&ws.store(), "ACMECLIN_CNF_20251028.csv"), csv);
    ws.cmd(&["reparse"]).code(0);
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM remote_file WHERE parse_status='parsed'"
        ),
        6
    );
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM report WHERE kind='cnf'"),
        1
    );
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM consent_notice"), 9);
    // a plain fetch afterwards has nothing new and nothing pending
    ws.cmd(&["fetch"]).code(0).out_has("nothing new");
}
