//! Exactly once: a large batch links to its answer whichever arrives first; the outbox sends
//! only complete batches, from a snapshot, once, whatever point a run is killed at; a killed
//! answer import converges on the next run.

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;

use crate::util::*;

/// A wrapped batch of `n` distinct messages (own control ids and patients); with `bts`
/// false, without its BHS/BTS/FHS/FTS wrappers.
fn batch(n: usize, first: usize, wrapped: bool) -> String {
    let mut s = String::with_capacity(n * 420 + 100);
    if wrapped {
        s.push_str("FHS|^~\\&|EHR|ACME\rBHS|^~\\&|EHR|ACME\r");
    }
    for i in first..first + n {
        s.push_str(&format!(
            "MSH|^~\\&|EHR|ACME CLINIC|TXImmTrac|TxDSHS|202510280900||VXU^V04^VXU_V04|C{i:08}|P|2.5.1\r\
PID|1||M{i:08}^^^ACME^MR||DOE^ANNA||20150301|F|||1 MAIN ST^^AUSTIN^TX^78701\r\
PD1||||||||||||TXY|20250101\rNK1|1|DOE^PARENT|MTH\rORC|RE||C{i:08}|||||||||1234567^DOC\r\
RXA|0|1|20251027|20251027|20^DTaP^CVX|0.5|mL||00|P1^DOC^A|^^^SITE1||||LOT1||PMC^^MVX|||CP|A\r"
        ));
    }
    if wrapped {
        s.push_str(&format!("BTS|{n}\rFTS|1\r"));
    }
    s
}

/// The registry's answer to [`batch`]: every 10th message rejected for a missing MVX.
fn answer(name: &str, n: usize) -> String {
    let mut s = String::with_capacity(n * 110 + 100);
    s.push_str(&format!(
        "FHS|^~\\&|ImmTrac|TEXIIS||ACME|20251028||{name}.ack\r"
    ));
    for i in 0..n {
        let (msa, err) = if i % 10 == 0 {
            (
                "AE",
                "ERR||RXA^1^17|101^Required field missing^HL70357|E||||IEE-999::Missing MVX\r",
            )
        } else {
            ("AA", "")
        };
        s.push_str(&format!(
            "MSH|^~\\&|ImmTrac|TEXIIS||ACME|20251028||ACK^V04^ACK|AC{i:08}|P|2.5.1\rMSA|{msa}|C{i:08}\r{err}"
        ));
    }
    s.push_str("FTS|1\r");
    s
}

fn statuses(ws: &Workspace) -> Vec<(String, i64)> {
    let conn = db(&ws.store());
    let mut st = conn
        .prepare("SELECT status, COUNT(*) FROM ledger_message GROUP BY 1 ORDER BY 1")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// A batch of 50,000 messages (its statement journal well past the 4 MiB that once spilled
/// to a 0-byte write: "database or disk is full"; 45,000 such messages failed both ways)
/// links to its answer, answer first or batch
/// first.
#[test]
fn a_large_batch_links_to_its_answer_whichever_arrives_first() {
    const N: usize = 50_000;
    let name = "ACMECLIN25301.hl7";
    let dir = tempfile::tempdir().unwrap();
    let sent = dir.path().join(name);
    let ack = dir.path().join(format!("{name}.ack"));
    fs::write(&sent, batch(N, 0, true)).unwrap();
    fs::write(&ack, answer(name, N)).unwrap();
    let want = vec![
        ("accepted".to_string(), (N - N / 10) as i64),
        ("rejected".to_string(), (N / 10) as i64),
    ];
    for answer_first in [false, true] {
        let ws = Workspace::new();
        ws.local_config();
        let a = ["import", "--sent", sent.to_str().unwrap()];
        let b = ["import", ack.to_str().unwrap()];
        if answer_first {
            ws.cmd(&b).code(0);
            ws.cmd(&a).code(0);
        } else {
            ws.cmd(&a).code(0);
            ws.cmd(&b).code(0);
        }
        assert_eq!(statuses(&ws), want, "answer first: {answer_first}");
        let conn = db(&ws.store());
        assert_eq!(
            count(
                &conn,
                "SELECT COUNT(*) FROM sent_batch WHERE report_id IS NOT NULL"
            ),
            1
        );
        assert_eq!(
            count(&conn, "SELECT COUNT(*) FROM worklist_item"),
            (N / 10) as i64
        );
    }
}

/// An answer import killed after its commit and before the link, and a sent-batch import
/// killed at the same point: the next run (which has nothing new to read) links them.
#[test]
fn an_import_killed_before_the_link_is_linked_by_the_next_run() {
    let name = "ACMECLIN25301.hl7";
    let dir = tempfile::tempdir().unwrap();
    let sent = dir.path().join(name);
    let ack = dir.path().join(format!("{name}.ack"));
    fs::write(&sent, batch(50, 0, true)).unwrap();
    fs::write(&ack, answer(name, 50)).unwrap();
    for (first, second, point) in [
        (&sent, &ack, "answer_before_link"),
        (&ack, &sent, "sent_before_link"),
    ] {
        let ws = Workspace::new();
        ws.local_config();
        let args = |p: &PathBuf| -> Vec<String> {
            if p == &sent {
                vec!["import".into(), "--sent".into(), p.display().to_string()]
            } else {
                vec!["import".into(), p.display().to_string()]
            }
        };
        let a = args(first);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        ws.cmd(&a).code(0);
        let b = args(second);
        let b: Vec<&str> = b.iter().map(String::as_str).collect();
        let o = ws.cmd_env(&b, &[("IMMDQA_KILL_AT", &format!("{point}:1"))]);
        assert_eq!(o.0.status.signal(), Some(9), "{point}: {}", o.err());
        assert_eq!(
            count(
                &db(&ws.store()),
                "SELECT COUNT(*) FROM sent_batch WHERE report_id IS NOT NULL"
            ),
            0,
            "{point}: killed before the link"
        );
        // the same import again: nothing new to read, and the link is made
        ws.cmd(&b).code(0);
        assert_eq!(
            statuses(&ws),
            vec![("accepted".to_string(), 45), ("rejected".to_string(), 5)],
            "{point}"
        );
    }
}

/// A local mailbox with an outbox; `extra` lines go in the profile.
fn outbox_workspace(extra: &str) -> (Workspace, PathBuf) {
    let ws = Workspace::new();
    for d in ["HL7-Dropoff", "Accepted"] {
        fs::create_dir_all(ws.mailbox().join(d)).unwrap();
    }
    let out = ws.path().join("outbox");
    fs::create_dir_all(&out).unwrap();
    ws.write_config(&format!(
        "store = {:?}\n[profiles.t]\nlocal_dir = {:?}\nimport_code = \"ACMECLIN\"\noutbox = {:?}\nretries = 0\n{extra}\n",
        ws.store(),
        ws.mailbox(),
        out
    ));
    (ws, out)
}

fn dropped(ws: &Workspace) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = fs::read_dir(ws.mailbox().join("HL7-Dropoff"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn messages_in(data: &[u8]) -> usize {
    String::from_utf8_lossy(data).matches("MSH|").count()
}

/// A writer that stalls half way (longer than --settle) gets nothing sent: a wrapped batch
/// without its trailer, or an unwrapped one without a marker, waits with a line saying why;
/// the marker or the trailer makes it go, whole; `outbox_ready = "settle"` restores the old rule.
#[test]
fn the_outbox_sends_only_complete_batches() {
    let (ws, out) = outbox_workspace("");
    let whole = batch(4_000, 0, true);
    let half = &whole[..whole
        .find("MSH|^~\\&|EHR|ACME CLINIC|TXImmTrac|TxDSHS|202510280900||VXU^V04^VXU_V04|C00002000")
        .unwrap()];
    fs::write(out.join("stalled.hl7"), half).unwrap();
    fs::write(out.join("bare.hl7"), batch(10, 5_000, false)).unwrap();
    fs::write(out.join("bare.hl7.tmp"), "being written").unwrap();
    fs::create_dir(out.join("old-batches")).unwrap();
    age(&out.join("stalled.hl7"), 3_600);
    age(&out.join("bare.hl7"), 3_600);
    let o = ws.cmd(&["sync", "-v"]);
    assert!(o.0.status.code().is_some_and(|c| c < 3), "{}", o.err());
    assert!(dropped(&ws).is_empty(), "nothing complete: nothing sent");
    let log = format!("{}{}", o.out(), o.err());
    let o2 = ws.cmd(&[
        "sync",
        "--log-file",
        ws.path().join("s.log").to_str().unwrap(),
    ]);
    let logged = fs::read_to_string(ws.path().join("s.log")).unwrap();
    assert!(o2.0.status.code().is_some_and(|c| c < 3));
    for want in [
        "stalled.hl7 waits: 2000 message(s) so far and no BTS trailer yet",
        "bare.hl7 waits: an unwrapped batch",
        "bare.hl7.done",
        "old-batches ignored: a folder",
        "bare.hl7.tmp ignored: not named *.hl7",
    ] {
        assert!(logged.contains(want), "{want:?} in\n{logged}\n{log}");
    }
    // the writer finishes the first and marks the second: both go, whole
    fs::write(out.join("stalled.hl7"), &whole).unwrap();
    fs::write(out.join("bare.hl7.done"), "").unwrap();
    ws.run(&["sync"]);
    let sent = dropped(&ws);
    assert_eq!(sent.len(), 2, "{sent:?}");
    let mut counts: Vec<usize> = sent.iter().map(|(_, d)| messages_in(d)).collect();
    counts.sort();
    assert_eq!(counts, vec![10, 4_000]);
    assert!(out.join("sent/stalled.hl7").exists());
    assert!(out.join("sent/bare.hl7").exists() && out.join("sent/bare.hl7.done").exists());
    assert!(!out.join("bare.hl7.done").exists());

    // "settle": an unwrapped batch unchanged for --settle goes without a marker
    let (ws, out) = outbox_workspace("outbox_ready = \"settle\"");
    fs::write(out.join("bare.hl7"), batch(10, 0, false)).unwrap();
    age(&out.join("bare.hl7"), 3_600);
    ws.run(&["sync"]);
    assert_eq!(dropped(&ws).len(), 1);
}

/// A file appended to after sync read it: the transfer is not put in place (nothing reaches
/// the registry) and the file waits for the next run, which sends it whole.
#[test]
fn a_batch_that_changes_while_it_is_sent_is_not_put_in_place() {
    let (ws, out) = outbox_workspace("");
    let first = batch(3_000, 0, true);
    fs::write(out.join("b.hl7"), &first).unwrap();
    let (child, signal) = ws.paused_at(&["sync"], "upload_before_rename");
    // the EHR rewrites it with more messages while it is on its way
    let grown = batch(4_000, 0, true);
    fs::write(out.join("b.hl7"), &grown).unwrap();
    fs::remove_file(&signal).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_code(&o, 4);
    assert!(
        stderr(&o).contains("changed while it was being sent"),
        "{}",
        stderr(&o)
    );
    assert!(dropped(&ws).is_empty(), "nothing put in place");
    assert!(out.join("b.hl7").exists(), "kept for the next run");
    // the next run sends what the file holds now, whole
    ws.run(&["sync"]);
    let sent = dropped(&ws);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1, grown.as_bytes());
    assert!(out.join("sent/b.hl7").exists());
}

/// A run killed at each point of an upload: the next run sends nothing twice, records every
/// batch once in the upload history and the ledger, and moves every file to sent/ (none held).
#[test]
fn an_outbox_run_killed_at_any_point_sends_each_batch_once() {
    for point in [
        "upload_before_rename",
        "upload_after_rename",
        "upload_after_record",
        "outbox_before_move",
    ] {
        for nth in [1, 2] {
            let (ws, out) = outbox_workspace("");
            for i in 0..3 {
                fs::write(out.join(format!("b{i}.hl7")), batch(20, i * 100, true)).unwrap();
            }
            let spec = format!("{point}:{nth}");
            let o = ws.cmd_env(&["sync"], &[("IMMDQA_KILL_AT", &spec)]);
            assert_eq!(o.0.status.signal(), Some(9), "{spec}: {}", o.err());
            let o = ws.cmd(&[
                "sync",
                "--log-file",
                ws.path().join("s.log").to_str().unwrap(),
            ]);
            let logged = fs::read_to_string(ws.path().join("s.log")).unwrap_or_default();
            assert!(
                o.0.status.code().is_some_and(|c| c < 3),
                "{spec}: {}\n{logged}",
                o.err()
            );
            let sent = dropped(&ws);
            assert_eq!(sent.len(), 3, "{spec}: each batch once: {sent:?}");
            let mut firsts: Vec<String> = sent
                .iter()
                .map(|(_, d)| String::from_utf8_lossy(d)[..200].to_string())
                .collect();
            firsts.dedup();
            assert_eq!(firsts.len(), 3, "{spec}: three different batches");
            assert!(!out.join("held").exists(), "{spec}: nothing held\n{logged}");
            for i in 0..3 {
                assert!(out.join(format!("sent/b{i}.hl7")).exists(), "{spec}: b{i}");
            }
            let conn = db(&ws.store());
            assert_eq!(count(&conn, "SELECT COUNT(*) FROM upload"), 3, "{spec}");
            assert_eq!(count(&conn, "SELECT COUNT(*) FROM sent_batch"), 3, "{spec}");
            assert_eq!(
                count(&conn, "SELECT COUNT(*) FROM ledger_message"),
                60,
                "{spec}"
            );
            assert_eq!(
                count(&conn, "SELECT COUNT(*) FROM upload_intent"),
                0,
                "{spec}"
            );
            let journal = fs::read_to_string(ws.store().join("uploads.jsonl")).unwrap();
            assert_eq!(journal.lines().count(), 3, "{spec}");
        }
    }
}

/// A rebuild killed part way leaves the history as it was (here: lost, so `status` still says
/// so and a plain `rebuild` is still allowed), never a partial one called sound; the next
/// rebuild finishes. A rebuild killed before the swap of a sound history leaves it in place.
#[test]
fn a_killed_rebuild_leaves_the_history_as_it_was() {
    let ws = Workspace::fetched();
    let findings = |ws: &Workspace| count(&db(&ws.store()), "SELECT COUNT(*) FROM finding");
    let before = findings(&ws);
    assert!(before > 0);
    fs::write(ws.store().join("history.sqlite"), b"").unwrap();
    for point in ["rebuild_before_close", "rebuild_before_swap"] {
        let o = ws.cmd_env(&["rebuild"], &[("IMMDQA_KILL_AT", &format!("{point}:1"))]);
        assert_eq!(o.0.status.signal(), Some(9), "{point}: {}", o.err());
        ws.cmd(&["status"]).code(3).err_has("immdqa rebuild");
    }
    ws.cmd(&["rebuild"]).code(0);
    ws.cmd(&["status"]).code(0);
    assert_eq!(findings(&ws), before);
    assert!(!ws.store().join("history.sqlite.rebuilding").exists());
    // --force on a sound history, killed: the sound one is still there, untouched
    let db_before = fs::read(ws.store().join("history.sqlite")).unwrap();
    let o = ws.cmd_env(
        &["rebuild", "--force"],
        &[("IMMDQA_KILL_AT", "rebuild_before_swap:1")],
    );
    assert_eq!(o.0.status.signal(), Some(9));
    assert_eq!(
        fs::read(ws.store().join("history.sqlite")).unwrap(),
        db_before
    );
    ws.cmd(&["status"]).code(0);
    assert_eq!(findings(&ws), before);
}

/// `rebuild --force` while another process holds the store is "busy" (5), like every other
/// command, not a run failure (3).
#[test]
fn rebuild_while_the_store_is_held_is_busy() {
    let ws = Workspace::fetched();
    let lock = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(ws.store().join("immdqa.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    ws.cmd(&["rebuild", "--force"]).code(5).err_has("in use");
    drop(lock);
    ws.cmd(&["rebuild", "--force"]).code(0);
}

/// Small ones from the fault campaign: a folder as `export --out` names the folder, not the
/// analytics cache; `--since` after `--until` is a usage error; control bytes in a batch
/// (a NUL in MSH-10) are escaped in lint's output, never printed raw.
#[test]
fn small_ones_from_the_fault_campaign() {
    let ws = Workspace::fetched();
    let dir = ws.path().join("exports");
    fs::create_dir(&dir).unwrap();
    let r = ws
        .cmd(&["export", "findings", "--out", dir.to_str().unwrap()])
        .code(64)
        .err_has("is a folder: give a file name");
    assert!(!r.err().contains("analytics cache"), "{}", r.err());
    for cmd in [
        vec!["trends", "--since", "2025-11-01", "--until", "2025-10-01"],
        vec![
            "chart", "trend", "--since", "2025-W45", "--until", "2025-W40", "--out", "x.png",
        ],
        vec![
            "export",
            "findings",
            "--since",
            "2025-11-01",
            "--until",
            "2025-10-01",
            "--out",
            "f.csv",
        ],
    ] {
        ws.cmd(&cmd).code(64).err_has("is later than --until");
    }
    let f = ws.path().join("nul.hl7");
    fs::write(
        &f,
        "MSH|^~\\&|EHR|X|||20251028||VXU^V04^VXU_V04|AB\u{0}C|P|2.5.1\rPID|1||1\r",
    )
    .unwrap();
    let o = ws.cmd(&["lint", f.to_str().unwrap()]);
    assert!(!o.0.stdout.contains(&0u8), "a raw NUL in the output");
    assert!(o.out().contains("AB\\x00C"), "{}", o.out());
}
