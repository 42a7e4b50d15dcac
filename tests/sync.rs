//! `immdqa sync`: the unattended weekly exchange, over a local mailbox and over OpenSSH.

use std::fs;
use std::path::Path;

use crate::util::*;

/// An outbox with a good batch, a broken one (both settled) and one still being written (its
/// trailer not there yet).
fn outbox(dir: &Path) -> Vec<u8> {
    fs::create_dir_all(dir).unwrap();
    let good = fs::read(Path::new(SPECIMENS).join("hl7/ACMECLIN25301.hl7")).unwrap();
    fs::write(dir.join("good.hl7"), &good).unwrap();
    fs::write(dir.join("bad.hl7"), "this is not an HL7 batch\n").unwrap();
    let text = String::from_utf8_lossy(&good);
    fs::write(dir.join("fresh.hl7"), &text[..text.find("BTS|").unwrap()]).unwrap();
    age(&dir.join("good.hl7"), 600);
    age(&dir.join("bad.hl7"), 600);
    good
}

fn today_batch() -> String {
    immdqa::batch_name::format("ACMECLIN", chrono::Local::now().date_naive(), None)
}

/// The last complete ISO week (what sync judges and reports) and an answer dated in it that
/// rejects its one message.
fn last_week_answer(ws: &Workspace) -> String {
    let monday = immdqa::analytics::week_start(chrono::Local::now().date_naive())
        - chrono::Duration::weeks(1);
    let name = immdqa::batch_name::format("ACMECLIN", monday + chrono::Duration::days(2), None);
    ws.write(
        &format!("DQA-Reports/{name}.ack"),
        "MSH|^~\\&|ImmTrac|TEXIIS||ACME|20251028||ACK^V04^ACK|1|P|2.5.1\rMSA|AR|X1\rERR||RXA^1^17|101|E||||IMR-111::Immunization rejected. Manufacturer Code invalid.\r",
    );
    immdqa::analytics::week_label(monday)
}

#[test]
fn sync_sends_the_outbox_fetches_checks_and_reports_once_a_week() {
    let ws = Workspace::new().with_specimens();
    for d in ["HL7-Dropoff", "Accepted"] {
        fs::create_dir_all(ws.mailbox().join(d)).unwrap();
    }
    let out = ws.path().join("outbox");
    let reports = ws.path().join("reports");
    let log = ws.path().join("sync.log");
    let good = outbox(&out);
    let judged = last_week_answer(&ws);
    ws.write_config(&format!(
        "store = {:?}\n[profiles.t]\nlocal_dir = {:?}\nimport_code = \"ACMECLIN\"\noutbox = {:?}\nreport_dir = {:?}\n",
        ws.store(),
        ws.mailbox(),
        out,
        reports
    ));
    let o = ws.run(&["sync", "--log-file", log.to_str().unwrap()]);
    // the highest of the steps: a held batch (4) over the judged week's failing check (2)
    assert_code(&o, 4);
    assert_eq!(stdout(&o), "", "quiet when not on a terminal");
    let err = stderr(&o);
    assert!(err.contains("bad.hl7 held in"), "{err}");
    // sync judges the week it reports, the last complete one, and says which
    assert!(
        err.contains(&format!(
            "check: FAIL: acceptance_rate: acceptance rate in {judged}"
        )),
        "{err}"
    );
    // sent under the registry's name, moved to sent/; the broken one held with its reason;
    // the one still being written waits
    let sent = ws.mailbox().join("HL7-Dropoff").join(today_batch());
    assert_eq!(fs::read(&sent).unwrap(), good);
    assert!(out.join("sent/good.hl7").exists());
    assert!(out.join("held/bad.hl7").exists());
    let why = fs::read_to_string(out.join("held/bad.hl7.reason.txt")).unwrap();
    assert!(why.contains("structur") || why.contains("MSH"), "{why}");
    assert!(out.join("fresh.hl7").exists());
    // fetched and parsed
    let conn = db(&ws.store());
    assert!(count(&conn, "SELECT COUNT(*) FROM report") >= 6);
    // last week's report, once
    let monday = immdqa::analytics::week_start(chrono::Local::now().date_naive())
        - chrono::Duration::weeks(1);
    let week = immdqa::analytics::week_label(monday);
    assert!(reports.join(&week).join("index.html").exists());
    let logged = fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("outbox: ") && logged.contains("fetch: ") && logged.contains("report: "),
        "{logged}"
    );
    assert!(
        logged.contains(&format!("check: judging {judged}, the last complete week")),
        "{logged}"
    );
    // the next run: nothing new to send or fetch; the report is not rewritten
    ws.cmd(&["sync", "--log-file", log.to_str().unwrap()])
        .code(2);
    let logged = fs::read_to_string(&log).unwrap();
    assert!(logged.contains("already written"), "{logged}");
    assert!(logged.contains("fetch: nothing new"), "{logged}");
    assert!(out.join("fresh.hl7").exists(), "still being written");
    assert!(
        logged.contains("fresh.hl7 waits: 40 message(s) so far and no BTS trailer yet"),
        "{logged}"
    );
    // a dry run changes nothing
    fs::write(out.join("fresh.hl7.done"), "").unwrap();
    let o = ws.cmd(&["sync", "--dry-run", "--log-file", log.to_str().unwrap()]);
    assert!(o.0.status.code().is_some_and(|c| c < 3), "{}", o.err());
    assert!(out.join("fresh.hl7").exists());
    assert_eq!(
        fs::read_dir(ws.mailbox().join("HL7-Dropoff"))
            .unwrap()
            .count(),
        1
    );
}

#[test]
fn sync_over_openssh() {
    let Some(sshd) = crate::sshd::start() else {
        return;
    };
    let ws = Workspace::new().with_specimens();
    for d in ["HL7-Dropoff", "Accepted"] {
        fs::create_dir_all(ws.mailbox().join(d)).unwrap();
    }
    let out = ws.path().join("outbox");
    let good = outbox(&out);
    last_week_answer(&ws);
    fs::remove_file(out.join("bad.hl7")).unwrap();
    ws.openssh_config(
        &sshd,
        &format!("import_code = \"ACMECLIN\"\noutbox = {out:?}\nretries = 0\n"),
    );
    let o = ws.run(&["sync"]);
    // the judged week fails its check (2); everything else went through
    assert_code(&o, 2);
    assert_eq!(
        fs::read(ws.mailbox().join("HL7-Dropoff").join(today_batch())).unwrap(),
        good
    );
    assert!(out.join("sent/good.hl7").exists());
    assert!(count(&db(&ws.store()), "SELECT COUNT(*) FROM report") >= 6);
}

/// `config check --connect` and `init --connect` map the four folders to the server's own
/// (lower-case) names and write them into the profile.
#[test]
fn folder_discovery_maps_lower_case_folders() {
    let ws = Workspace::new();
    let home = ws.path().join("home");
    for d in ["dqa-reports", "receive", "hl7-dropoff", "accepted"] {
        fs::create_dir_all(home.join(d)).unwrap();
    }
    let cfg = ws.path().join("c.toml");
    immdqa()
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "init",
            "--local-dir",
            home.to_str().unwrap(),
            "--import-code",
            "X",
            "--connect",
        ])
        .stdin(std::process::Stdio::null())
        .exec()
        .code(0);
    let text = fs::read_to_string(&cfg).unwrap();
    for line in [
        "dqa_dir = \"dqa-reports\"",
        "receive_dir = \"receive\"",
        "dropoff_dir = \"hl7-dropoff\"",
        "accepted_dir = \"accepted\"",
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
    assert_eq!(
        text.matches("dqa_dir").count(),
        1,
        "replaced, not repeated:\n{text}"
    );
    // config check --connect: all found now; a folder that went away is a problem
    fs::remove_dir(home.join("accepted")).unwrap();
    immdqa()
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "config",
            "check",
            "--connect",
        ])
        .exec()
        .code(3)
        .out_has("accepted_dir = \"accepted\": no such folder");
}

/// A failing step's error reaches the log file, not only stderr (a missing mailbox once left
/// only "sync: profile t" in the log); `-v` shows the steps under cron (stdout not a
/// terminal); `--dry-run` always prints what it would do.
#[test]
fn sync_errors_reach_the_log_and_verbose_and_dry_run_print() {
    let ws = Workspace::new();
    let log = ws.path().join("sync.log");
    ws.write_config(&format!(
        "store = {:?}\n[profiles.t]\nlocal_dir = {:?}\nimport_code = \"ACMECLIN\"\n",
        ws.store(),
        ws.path().join("no-such-mailbox")
    ));
    ws.cmd(&["sync", "--log-file", log.to_str().unwrap()])
        .code(3)
        .err_has("no-such-mailbox");
    let logged = fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("sync: FAILED:") && logged.contains("no-such-mailbox"),
        "{logged}"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(fs::metadata(&log).unwrap().permissions().mode() & 0o077, 0);
    // a working mailbox: quiet when piped; -v shows the steps; --dry-run prints
    let ws = Workspace::local();
    assert_eq!(ws.cmd(&["sync"]).out(), "");
    let v = ws.cmd(&["sync", "-v"]).out();
    assert!(v.contains("sync: profile t") && v.contains("fetch:"), "{v}");
    let d = ws.cmd(&["sync", "--dry-run"]).out();
    assert!(d.contains("(dry run)"), "{d}");
}
