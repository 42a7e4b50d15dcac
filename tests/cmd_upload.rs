//! `immdqa upload` and `immdqa lint`: naming, checks, atomic transfer, refusal to overwrite,
//! dropped connections, crashes, tracking; over the local folder, the in-process SFTP server
//! and the real OpenSSH server.

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};

use crate::sftp_server::{self, ServerOptions};
use crate::util::*;

/// A clean VXU batch (passes every lint rule) with `n` messages; `tag` varies the content.
pub fn vxu_batch(n: usize, tag: &str) -> Vec<u8> {
    let mut s = String::from(
        "FHS|^~\\&|EHR|1117823000|TXImmTrac|TxDSHS|20251028\rBHS|^~\\&|EHR|1117823000|TXImmTrac|TxDSHS|20251028\r",
    );
    for i in 1..=n {
        s.push_str(&format!(
            "MSH|^~\\&|EHR|1117823000|TXImmTrac|TxDSHS|20251028||VXU^V04^VXU_V04|{tag}{i:05}|P|2.5.1\r\
PID|1||M{tag}{i}^^^ACME^MR||DOE^ANA||20100508|F|||1 MAIN ST^^AUSTIN^TX^78701\r\
PD1||||||||||||TXY|20250101\r\
NK1|1|DOE^PARENT|MTH^Mother^HL70063\r\
ORC|RE||X^ACME|||||||||1234567^DOC^ALICE\r\
RXA|0|1|20251027|20251027|115^Tdap^CVX|0.5|mL^mL^UCUM||00^New^NIP001||||||U12345A||PMC^^MVX|||CP|A\r\
OBX|1|CE|64994-7^Eligibility^LN|1|V02^VFC^HL70064||||||F|||20251027\r"
        ));
    }
    s.push_str(&format!("BTS|{n}\rFTS|1\r"));
    s.into_bytes()
}

fn write(ws: &Workspace, name: &str, data: &[u8]) -> PathBuf {
    let p = ws.path().join(name);
    fs::write(&p, data).unwrap();
    p
}

fn local_ws() -> Workspace {
    let ws = Workspace::new();
    fs::create_dir_all(ws.mailbox().join("HL7-Dropoff")).unwrap();
    fs::create_dir_all(ws.mailbox().join("Accepted")).unwrap();
    ws.write_config(&format!(
        "store = {:?}\n[profiles.t]\nlocal_dir = {:?}\nimport_code = \"ACME\"\nretries = 0\n",
        ws.store(),
        ws.mailbox()
    ));
    ws
}

fn dropoff(ws: &Workspace) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(ws.mailbox().join("HL7-Dropoff"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn upload_names_sequences_and_never_overwrites() {
    let ws = local_ws();
    let a = write(&ws, "a.hl7", &vxu_batch(3, "A"));
    let b = write(&ws, "b.hl7", &vxu_batch(2, "B"));
    let c = write(&ws, "c.hl7", &vxu_batch(2, "C"));
    // dry run: plan only
    ws.cmd(&[
        "upload",
        a.to_str().unwrap(),
        "--date",
        "2025-12-31",
        "--dry-run",
    ])
    .code(0)
    .out_has("→ ACME25365.hl7: would upload (3 messages, 0 errors, 0 warnings predicted); dry run");
    assert!(dropoff(&ws).is_empty());
    // an older batch already sits in Accepted under the day's plain name
    fs::write(ws.mailbox().join("Accepted/ACME25365.hl7"), "old").unwrap();
    ws.cmd(&[
        "upload",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--date",
        "2025-12-31",
    ])
    .code(0)
    .out_has("a.hl7 → ACME25365.1.hl7: uploaded")
    .out_has("b.hl7 → ACME25365.2.hl7: uploaded");
    assert_eq!(dropoff(&ws), ["ACME25365.1.hl7", "ACME25365.2.hl7"]);
    assert_eq!(
        fs::read(ws.mailbox().join("HL7-Dropoff/ACME25365.1.hl7")).unwrap(),
        vxu_batch(3, "A")
    );
    // the registry moves a batch away: its name stays used (upload history)
    fs::remove_file(ws.mailbox().join("HL7-Dropoff/ACME25365.1.hl7")).unwrap();
    ws.cmd(&["upload", c.to_str().unwrap(), "--date", "2025-12-31"])
        .out_has("→ ACME25365.3.hl7: uploaded");
    // next day, plain name again; across the year boundary
    let d = write(&ws, "d.hl7", &vxu_batch(1, "D"));
    ws.cmd(&["upload", d.to_str().unwrap(), "--date", "2026-01-01"])
        .out_has("→ ACME26001.hl7: uploaded");
    // the same content again is refused
    ws.cmd(&["upload", a.to_str().unwrap(), "--date", "2026-01-02"])
        .code(4)
        .out_has("NOT SENT: the same file was already uploaded as ACME25365.1.hl7");
    // same_day = "refuse"
    let cfg = fs::read_to_string(ws.config()).unwrap();
    ws.write_config(&format!("{cfg}same_day = \"refuse\"\n"));
    let e = write(&ws, "e.hl7", &vxu_batch(1, "E"));
    ws.cmd(&["upload", e.to_str().unwrap(), "--date", "2026-01-01"])
        .code(4)
        .out_has("ACME26001.hl7 already exists and same_day = \"refuse\"");
    assert_eq!(count(&db(&ws.store()), "SELECT COUNT(*) FROM upload"), 4);
    // nothing left under a temporary name
    assert!(
        dropoff(&ws).iter().all(|n| !n.ends_with(".part")),
        "{:?}",
        dropoff(&ws)
    );
}

#[test]
fn checks_before_sending_structure_and_strict() {
    let ws = local_ws();
    let mut bad = String::from_utf8(vxu_batch(2, "S")).unwrap();
    bad = bad.replace("BTS|2", "BTS|7");
    let p = write(&ws, "bad.hl7", bad.as_bytes());
    ws.cmd(&["upload", p.to_str().unwrap()])
        .code(4)
        .err_has("line 17 (BTS): Error: BTS-1 says 7 messages but the batch holds 2")
        .out_has("NOT SENT: 1 structural problem(s)");
    assert!(dropoff(&ws).is_empty());
    // a lint error: sent with a warning printed, refused with --strict
    let lint = String::from_utf8(vxu_batch(1, "L"))
        .unwrap()
        .replace("PD1||||||||||||TXY", "PD1||||||||||||TXA");
    let p = write(&ws, "lint.hl7", lint.as_bytes());
    ws.cmd(&["upload", p.to_str().unwrap(), "--strict"])
        .code(4)
        .err_has("(predicts CLR-101)")
        .out_has("NOT SENT: 1 rejection-class finding(s) and --strict");
    let o = ws
        .cmd(&["upload", p.to_str().unwrap()])
        .code(0)
        .out_has("1 errors, 0 warnings predicted");
    // patient data never printed
    assert!(!o.err().contains("DOE") && !o.out().contains("20100508"));
}

#[test]
fn lint_command_exit_codes_and_json() {
    let ws = local_ws();
    let clean = write(&ws, "clean.hl7", &vxu_batch(2, "K"));
    ws.cmd(&["lint", clean.to_str().unwrap()]).code(0);
    let warn = String::from_utf8(vxu_batch(1, "W"))
        .unwrap()
        .replace("NK1|1|DOE^PARENT|MTH^Mother^HL70063\r", "");
    let warn = write(&ws, "warn.hl7", warn.as_bytes());
    ws.cmd(&["lint", warn.to_str().unwrap()]).code(1);
    let o = ws.cmd(&[
        "lint",
        warn.to_str().unwrap(),
        clean.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.0.stdout).unwrap();
    assert_eq!(v[0]["report"]["lint"][0]["predicts"], "IEE-519");
    assert_eq!(v[0]["report"]["lint"][0]["rule"], "nk1");
    assert_eq!(v[1]["report"]["messages"], 2);
    // the specimen batch (corrected 2026-11-25: consent in PD1-12, MVX in RXA-17) is clean
    let spec = Path::new(SPECIMENS).join("hl7/ACMECLIN25301.hl7");
    ws.cmd(&["lint", spec.to_str().unwrap()]).code(0);
}

#[test]
fn killed_before_rename_leaves_nothing_under_the_final_name() {
    let ws = local_ws();
    let a = write(&ws, "a.hl7", &vxu_batch(3, "K"));
    let o = ws.cmd_env(
        &["upload", a.to_str().unwrap(), "--date", "2025-10-28"],
        &[("IMMDQA_KILL_AT", "upload_before_rename:1")],
    );
    assert_eq!(o.0.status.signal(), Some(9));
    assert_eq!(dropoff(&ws), [".immdqa-ACME25301.hl7.part"]);
    assert_eq!(count(&db(&ws.store()), "SELECT COUNT(*) FROM upload"), 0);
    ws.cmd(&["upload", a.to_str().unwrap(), "--date", "2025-10-28"])
        .code(0);
    assert_eq!(
        dropoff(&ws),
        ["ACME25301.hl7"],
        "the leftover temp file was replaced"
    );
}

/// The upload history is journaled beside the database, so `rebuild` brings it back: a lost
/// history does not let a name be used twice, nor the same batch be sent again unnoticed.
#[test]
fn rebuild_brings_back_the_upload_history() {
    use std::os::unix::fs::PermissionsExt;
    let ws = local_ws();
    let a = write(&ws, "a.hl7", &vxu_batch(3, "A"));
    let b = write(&ws, "b.hl7", &vxu_batch(2, "B"));
    ws.cmd(&["upload", a.to_str().unwrap(), "--date", "2025-12-31"])
        .out_has("→ ACME25365.hl7: uploaded");
    let journal = ws.store().join("uploads.jsonl");
    assert_eq!(
        fs::metadata(&journal).unwrap().permissions().mode() & 0o077,
        0
    );
    // the registry moves the batch away, then the history is lost
    fs::remove_file(ws.mailbox().join("HL7-Dropoff/ACME25365.hl7")).unwrap();
    for f in ["history.sqlite-wal", "history.sqlite-shm"] {
        let _ = fs::remove_file(ws.store().join(f));
    }
    fs::write(ws.store().join("history.sqlite"), b"").unwrap();
    ws.cmd(&["rebuild"])
        .code(0)
        .out_has("1 upload record(s) replayed from their journal");
    // the name stays used and the content stays known
    ws.cmd(&["upload", b.to_str().unwrap(), "--date", "2025-12-31"])
        .out_has("b.hl7 → ACME25365.1.hl7: uploaded");
    ws.cmd(&["upload", a.to_str().unwrap(), "--date", "2026-01-02"])
        .code(4)
        .out_has("NOT SENT: the same file was already uploaded as ACME25365.hl7");
}

#[test]
fn tracking_uploaded_accepted_report_received() {
    let ws = local_ws();
    let a = write(&ws, "a.hl7", &vxu_batch(4, "T"));
    ws.cmd(&["upload", a.to_str().unwrap(), "--date", "2025-10-28"])
        .code(0);
    let state = |ws: &Workspace| {
        let o = ws.cmd(&["submissions", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.0.stdout).unwrap();
        (
            v[0]["state"].as_str().unwrap().to_string(),
            v[0]["report_received"].clone(),
            v[0]["overdue"].clone(),
        )
    };
    assert_eq!(
        state(&ws),
        ("uploaded".into(), false.into(), false.into()),
        "uploaded today: not overdue yet"
    );
    // the registry moves it to Accepted; fetch notices
    fs::rename(
        ws.mailbox().join("HL7-Dropoff/ACME25301.hl7"),
        ws.mailbox().join("Accepted/ACME25301.hl7"),
    )
    .unwrap();
    ws.cmd(&["fetch"]).code(0);
    assert_eq!(state(&ws).0, "accepted");
    // then its DQA report arrives
    let mut ack = String::new();
    for i in 1..=4 {
        ack.push_str(&format!(
            "MSH|^~\\&|I|T||A|2025||ACK^V04^ACK|{i}|P|2.5.1\rMSA|AA|T{i:05}\r"
        ));
    }
    ws.write("DQA-Reports/ACME25301.hl7.ack", ack);
    ws.cmd(&["fetch"]).code(0);
    let o = ws.cmd(&["submissions", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.0.stdout).unwrap();
    assert_eq!(v[0]["state"], "report received");
    assert_eq!(v[0]["acceptance_rate"], 1.0);
    assert!(v[0]["uploaded_at"].is_string());
}

fn sftp_ws(
    opts: impl FnOnce(&mut ServerOptions),
    extra: &str,
) -> (Workspace, sftp_server::TestServer) {
    let ws = Workspace::new();
    fs::create_dir_all(ws.mailbox().join("HL7-Dropoff")).unwrap();
    let server = sftp_server::serve(&ws, opts, &format!("import_code = \"ACME\"\n{extra}"));
    (ws, server)
}

#[test]
fn sftp_upload_dropped_mid_transfer_then_completes() {
    let big = vxu_batch(4000, "Z"); // ~1.7 MB
    let (ws, _server) = sftp_ws(
        |o| {
            o.drop_after_received = Some(600_000);
            o.drop_connections = 1;
        },
        "",
    );
    let p = write(&ws, "big.hl7", &big);
    let pw = [("IMMDQA_TEST_PASSWORD", "s3cret-pass")];
    ws.cmd_env(
        &["upload", p.to_str().unwrap(), "--date", "2025-10-28"],
        &pw,
    )
    .code(4)
    .out_has("→ ACME25301.hl7: FAILED");
    assert!(
        !ws.mailbox().join("HL7-Dropoff/ACME25301.hl7").exists(),
        "partial file under the final name"
    );
    assert_eq!(count(&db(&ws.store()), "SELECT COUNT(*) FROM upload"), 0);
    ws.cmd_env(
        &["upload", p.to_str().unwrap(), "--date", "2025-10-28"],
        &pw,
    )
    .code(0);
    assert_eq!(
        fs::read(ws.mailbox().join("HL7-Dropoff/ACME25301.hl7")).unwrap(),
        big
    );
    assert_eq!(dropoff(&ws), ["ACME25301.hl7"]);
}

#[test]
fn sftp_upload_retries_within_one_run() {
    let big = vxu_batch(4000, "R");
    let (ws, server) = sftp_ws(
        |o| {
            o.drop_after_received = Some(600_000);
            o.drop_connections = 1;
        },
        "retries = 2\nretry_delay_ms = 10",
    );
    let p = write(&ws, "big.hl7", &big);
    ws.cmd_env(
        &["upload", p.to_str().unwrap(), "--date", "2025-10-28"],
        &[("IMMDQA_TEST_PASSWORD", "s3cret-pass")],
    )
    .code(0);
    assert_eq!(
        fs::read(ws.mailbox().join("HL7-Dropoff/ACME25301.hl7")).unwrap(),
        big
    );
    assert_eq!(dropoff(&ws), ["ACME25301.hl7"]);
    assert!(
        server
            .stats
            .connections
            .load(std::sync::atomic::Ordering::SeqCst)
            >= 2
    );
}

#[test]
fn openssh_upload() {
    let Some(sshd) = crate::openssh::start() else {
        return;
    };
    let ws = Workspace::new();
    let drop = ws.mailbox().join("HL7-Dropoff");
    fs::create_dir_all(&drop).unwrap();
    let kh = ws.path().join("known_hosts");
    fs::write(&kh, known_hosts_line(sshd.port, &sshd.host_pub())).unwrap();
    ws.write_config(&format!(
        "store = {:?}\n[profiles.t]\nhost = \"127.0.0.1\"\nport = {}\nuser = {:?}\nkey_file = {:?}\nknown_hosts = {:?}\ndropoff_dir = {:?}\naccepted_dir = {:?}\nimport_code = \"ACME\"\nretries = 0\n",
        ws.store(), sshd.port, sshd.user, sshd.client_key(), kh, drop, ws.mailbox().join("Accepted")
    ));
    let a = write(&ws, "a.hl7", &vxu_batch(5, "O"));
    let b = write(&ws, "b.hl7", &vxu_batch(5, "P"));
    ws.cmd(&[
        "upload",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--date",
        "2024-12-31",
    ])
    .code(0);
    assert_eq!(dropoff(&ws), ["ACME24366.1.hl7", "ACME24366.hl7"]);
    assert_eq!(
        fs::read(drop.join("ACME24366.hl7")).unwrap(),
        vxu_batch(5, "O")
    );
}
