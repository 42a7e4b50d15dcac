//! FTPS against a real vsftpd on 127.0.0.1 (tests/vsftpd.rs): the same list as SFTP: fetch,
//! re-fetch no-op, upload, a wrong certificate refused before login, a connection dropped
//! mid-transfer, a kill during download, trust-host pinning, explicit TLS.

use std::fs;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::util::*;
use crate::vsftpd::{self, USER, Vsftpd};

const PW_ENV: &str = "IMMDQA_TEST_FTP_PASSWORD";

/// A workspace whose profile points at this server, pinned (or with `pin` instead).
fn workspace(server: &Vsftpd, pin: Option<&str>, extra: &str) -> Workspace {
    let ws = Workspace::new();
    let fingerprint = server.openssl_fingerprint();
    let pin = pin.unwrap_or(&fingerprint);
    ws.write_config(&format!(
        "store = {:?}\n[profiles.f]\nprotocol = \"ftps\"\ntls = \"{}\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"{USER}\"\npassword_env = \"{PW_ENV}\"\ntls_fingerprint = {pin:?}\nimport_code = \"ACMECLIN\"\nretries = 0\ntimeout_secs = 20\n{extra}\n",
        ws.store(),
        if server.implicit { "implicit" } else { "explicit" },
        server.port,
    ));
    ws
}

fn run(ws: &Workspace, server: &Vsftpd, args: &[&str]) -> Run {
    ws.cmd_env(args, &[(PW_ENV, server.password())])
}

fn with_specimens(server: &Vsftpd) {
    for (sub, dest) in [
        ("ack", "DQA-Reports"),
        ("legacy-dqa", "DQA-Reports"),
        ("tabular", "DQA-Reports"),
        ("cnf", "Receive"),
    ] {
        for e in fs::read_dir(std::path::Path::new(SPECIMENS).join(sub)).unwrap() {
            let e = e.unwrap();
            server.write(
                &format!("{dest}/{}", e.file_name().to_string_lossy()),
                fs::read(e.path()).unwrap(),
            );
        }
    }
}

/// A server holding the specimens, and a workspace whose profile is pinned to it.
fn specimen_server(implicit: bool) -> Option<(Vsftpd, Workspace)> {
    let server = vsftpd::start(implicit)?;
    with_specimens(&server);
    let ws = workspace(&server, None, "");
    Some((server, ws))
}

#[test]
fn ftps_fetch_refetch_and_upload() {
    let Some((server, ws)) = specimen_server(true) else {
        return;
    };
    let o = run(&ws, &server, &["fetch"]).code(0);
    assert!(
        o.out().contains("fetch: 6 new, 0 changed"),
        "{}\n{}",
        o.out(),
        o.err()
    );
    assert!(
        o.out()
            .contains(&format!("ftps://{USER}@127.0.0.1:{}", server.port))
    );
    // the same bytes as the server's files
    assert_eq!(
        archived(&ws.store(), "ACMECLIN25301.hl7.ack"),
        fs::read(server.root().join("DQA-Reports/ACMECLIN25301.hl7.ack")).unwrap()
    );
    assert_store_consistent(&ws.store());
    let mdtm_before = server.log().matches("MDTM").count();
    run(&ws, &server, &["fetch"])
        .code(0)
        .out_has("nothing new (6 unchanged");
    // the listing's coarse times settle it: no per-file MDTM on a run with nothing new
    assert_eq!(
        server.log().matches("MDTM").count(),
        mdtm_before,
        "MDTM on a no-op run"
    );
    // a report the registry rewrote is fetched again
    let p = "DQA-Reports/ACMECLIN25301_DQA.csv";
    let mut changed = fs::read(server.root().join(p)).unwrap();
    changed.extend_from_slice(
        b"ACMECLIN25301.hl7,ACMECLIN253010040,MRN1,X,Y,01/01/2000,PID-7,Error,IMR-100,late row\n",
    );
    server.write(p, &changed);
    run(&ws, &server, &["fetch"])
        .code(0)
        .out_has("0 new, 1 changed, 5 unchanged");
    assert_eq!(
        server.log().matches("RETR").count(),
        7,
        "6 reports, then the 1 rewritten"
    );
    // upload: a temporary name, then renamed; never overwrites
    let batch = ws.path().join("batch.hl7");
    fs::copy(
        std::path::Path::new(SPECIMENS).join("hl7/ACMECLIN25301.hl7"),
        &batch,
    )
    .unwrap();
    run(
        &ws,
        &server,
        &["upload", batch.to_str().unwrap(), "--date", "2025-10-28"],
    )
    .code(0);
    let sent = server.root().join("HL7-Dropoff/ACMECLIN25301.hl7");
    assert_eq!(fs::read(&sent).unwrap(), fs::read(&batch).unwrap());
    assert!(
        server.log().contains("RNFR"),
        "uploaded under a temporary name then renamed"
    );
    let other = ws.path().join("other.hl7");
    let text = fs::read_to_string(&batch)
        .unwrap()
        .replace("ACMECLIN253010001", "ACMECLIN253019999");
    fs::write(&other, text).unwrap();
    run(
        &ws,
        &server,
        &["upload", other.to_str().unwrap(), "--date", "2025-10-28"],
    )
    .code(0);
    assert!(
        server
            .root()
            .join("HL7-Dropoff/ACMECLIN25301.1.hl7")
            .exists(),
        "a second name, not an overwrite"
    );
    assert_eq!(fs::read(&sent).unwrap(), fs::read(&batch).unwrap());
}

#[test]
fn ftps_wrong_certificate_is_refused_before_login() {
    let Some(server) = vsftpd::start(true) else {
        return;
    };
    with_specimens(&server);
    let other = format!("SHA256:{}", "A".repeat(43));
    let ws = workspace(&server, Some(&other), "");
    let o = run(&ws, &server, &["fetch"])
        .code(3)
        .err_has("TLS CERTIFICATE NOT TRUSTED");
    assert!(!o.err().contains(server.password()));
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        !server.log().contains("USER"),
        "the user name reached the server:\n{}",
        server.log()
    );
    // unpinned, a self-signed certificate is not trusted by the system roots either
    let ws = workspace(&server, None, "");
    let cfg = fs::read_to_string(ws.config()).unwrap();
    ws.write_config(
        &cfg.lines()
            .filter(|l| !l.starts_with("tls_fingerprint"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    run(&ws, &server, &["fetch"])
        .code(3)
        .err_has("TLS CERTIFICATE NOT TRUSTED");
    assert!(!server.log().contains("USER"));
    // trust-host shows the fingerprint and pins it (the colon hex openssl prints matches)
    run(
        &ws,
        &server,
        &["trust-host", "--fingerprint", &server.openssl_fingerprint()],
    )
    .code(0);
    assert!(
        fs::read_to_string(ws.config())
            .unwrap()
            .contains("tls_fingerprint = \"SHA256:")
    );
    run(&ws, &server, &["fetch"]).code(0).out_has("6 new");
}

#[test]
fn ftps_explicit_tls() {
    let Some((server, ws)) = specimen_server(false) else {
        return;
    };
    let o = run(&ws, &server, &["fetch"]).code(0);
    assert!(o.out().contains("6 new"), "{}\n{}", o.out(), o.err());
    assert!(server.log().contains("AUTH TLS"), "{}", server.log());
}

/// Start a fetch of a large file and wait until its download has begun (the caller waits for
/// the child).
#[allow(clippy::zombie_processes)]
fn fetch_in_progress(ws: &Workspace, server: &Vsftpd) -> std::process::Child {
    let mut c = immdqa();
    c.arg("--config")
        .arg(ws.config())
        .arg("fetch")
        .env(PW_ENV, server.password())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = c.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let partial = fs::read_dir(ws.store().join("tmp"))
            .map(|d| {
                d.flatten()
                    .any(|e| e.metadata().map(|m| m.len() > 1_000_000).unwrap_or(false))
            })
            .unwrap_or(false);
        if partial {
            return child;
        }
        if Instant::now() > deadline {
            let mut child = child;
            let _ = child.kill();
            let _ = child.wait();
            panic!("the download did not start");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn ftps_connection_dropped_mid_transfer_then_rerun_completes() {
    let Some(server) = vsftpd::start(true) else {
        return;
    };
    let data = csv_report(3, 12_000_000);
    server.write("DQA-Reports/BIG_REPORT.csv", &data);
    let ws = workspace(&server, None, "");
    let child = fetch_in_progress(&ws, &server);
    server.drop_sessions();
    let o = child.wait_with_output().unwrap();
    assert_code(&o, 4);
    assert!(stderr(&o).contains("BIG_REPORT.csv"), "{}", stderr(&o));
    assert_store_consistent(&ws.store()); // no partial file anywhere
    run(&ws, &server, &["fetch"]).code(0);
    assert_eq!(archived(&ws.store(), "BIG_REPORT.csv"), data);
}

#[test]
fn ftps_kill_during_download_leaves_no_partial_file() {
    let Some(server) = vsftpd::start(true) else {
        return;
    };
    let data = csv_report(4, 12_000_000);
    server.write("DQA-Reports/BIG_REPORT.csv", &data);
    let ws = workspace(&server, None, "");
    let mut child = fetch_in_progress(&ws, &server);
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        !tree(&ws.store().join("archive"))
            .iter()
            .any(|f| f != "archive.index.jsonl"),
        "nothing in the archive"
    );
    run(&ws, &server, &["fetch"]).code(0);
    assert_eq!(archived(&ws.store(), "BIG_REPORT.csv"), data);
    assert_store_consistent(&ws.store());
}

#[test]
fn ftps_config_check_connect_maps_folders() {
    let Some(server) = vsftpd::start(true) else {
        return;
    };
    // a home with the registry's lower-case names
    for (from, to) in [
        ("DQA-Reports", "dqa-reports"),
        ("HL7-Dropoff", "hl7-dropoff"),
    ] {
        fs::rename(server.root().join(from), server.root().join(to)).unwrap();
    }
    let ws = workspace(&server, None, "");
    let o = run(&ws, &server, &["config", "check", "--connect"]).code(0);
    let text = fs::read_to_string(ws.config()).unwrap();
    assert!(
        text.contains("dqa_dir = \"dqa-reports\"")
            && text.contains("dropoff_dir = \"hl7-dropoff\""),
        "{text}\n{}",
        o.out()
    );
    run(&ws, &server, &["fetch"]).code(0);
}

/// The harness repairs a test user an earlier set-up left with a home vsftpd cannot enter (a
/// fresh machine's `useradd -M -d /nonexistent` made every FTPS test fail with `500 OOPS`), and
/// running it again changes nothing. A user of its own, so the FTPS tests running beside it keep
/// theirs.
#[test]
fn ftps_harness_repairs_a_user_whose_home_vsftpd_cannot_enter() {
    if vsftpd::start(true).is_none() {
        return; // not root or no vsftpd: nothing to set up
    }
    let user = "immdqaftp2";
    let home = || {
        let o = std::process::Command::new("getent")
            .args(["passwd", user])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout)
            .trim()
            .split(':')
            .nth(5)
            .unwrap_or("")
            .to_string()
    };
    if home().is_empty() {
        let ok = std::process::Command::new("useradd")
            .args(["-M", "-d", "/nonexistent", "-s", "/bin/sh", user])
            .status()
            .unwrap();
        assert!(ok.success());
    } else {
        let ok = std::process::Command::new("usermod")
            .args(["-d", "/nonexistent", user])
            .status()
            .unwrap();
        assert!(ok.success());
    }
    assert_eq!(home(), "/nonexistent");
    vsftpd::ensure_user(user);
    assert!(
        std::path::Path::new(&home()).is_dir(),
        "home {} not repaired",
        home()
    );
    vsftpd::ensure_user(user);
    assert!(std::path::Path::new(&home()).is_dir());
}
