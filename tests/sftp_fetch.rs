//! Fetch over SFTP against the in-process test server: auth, host keys, hostile listings,
//! dropped connections.

use std::fs;
use std::sync::atomic::Ordering;

use crate::sftp_server::{self, ServerOptions};
use crate::util::*;

const PW_ENV: &str = "IMMDQA_TEST_PASSWORD";

fn pw_auth() -> String {
    format!("password_env = \"{PW_ENV}\"")
}

/// Workspace + server + known_hosts trusting host key A.
fn setup(opts: impl FnOnce(&mut ServerOptions)) -> (Workspace, sftp_server::TestServer) {
    let ws = Workspace::new().with_specimens();
    let server = sftp_server::serve(&ws, opts, "");
    (ws, server)
}

fn fetch(ws: &Workspace) -> Run {
    ws.cmd_env(&["fetch"], &[(PW_ENV, "s3cret-pass")])
}

#[test]
fn password_fetch_then_noop() {
    let (ws, server) = setup(|_| {});
    let o = fetch(&ws).code(0).out_has("fetch: 6 new");
    assert!(
        o.out()
            .contains(&format!("sftp://tester@127.0.0.1:{}", server.port()))
    );
    let opened = server.stats.files_opened.load(Ordering::SeqCst);
    assert_eq!(opened, 6);
    fetch(&ws).code(0).out_has("nothing new (6 unchanged");
    assert_eq!(
        server.stats.files_opened.load(Ordering::SeqCst),
        6,
        "no-op run opened files"
    );
    assert_eq!(
        server.stats.writes.load(Ordering::SeqCst),
        0,
        "fetch wrote to the server"
    );
    assert_eq!(
        server.stats.removes.load(Ordering::SeqCst),
        0,
        "fetch removed remote files"
    );
    assert_store_consistent(&ws.store());
    // the remote files are untouched
    assert_eq!(tree(&ws.mailbox()).len(), 6);
}

#[test]
fn key_file_login() {
    let (ws, _server) = setup(|_| {});
    let kh = ws.path().join("known_hosts");
    let key = ws.path().join("id_ed25519");
    fs::copy(sftp_server::client_key_path(), &key).unwrap();
    use std::os::unix::fs::PermissionsExt;
    // a key others can read is refused, as OpenSSH refuses it, with the command that fixes it
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    ws.sftp_config(_server.port(), &format!("key_file = {key:?}"), &kh, "");
    let o = ws.cmd(&["fetch"]).code(3);
    assert!(
        o.err().contains("is readable by others (mode 644)")
            && o.err().contains(&format!("chmod 600 {}", key.display())),
        "{}",
        o.err()
    );
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    ws.cmd(&["fetch"]).code(0).out_has("fetch: 6 new");
}

#[test]
fn wrong_password_is_a_clear_error_without_the_password() {
    let (ws, _server) = setup(|_| {});
    let o = ws
        .cmd_env(&["fetch"], &[(PW_ENV, "wrong-password-123")])
        .code(3);
    let err = o.err();
    assert!(
        err.contains("login to 127.0.0.1:")
            && err.contains("as 'tester' with password was refused"),
        "{err}"
    );
    assert!(!err.contains("wrong-password-123"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn unset_password_variable_is_named() {
    let (ws, server) = setup(|_| {});
    ws.cmd(&["fetch"])
        .code(3)
        .err_has("environment variable IMMDQA_TEST_PASSWORD (password) is not set");
    assert_eq!(server.stats.auth_attempts.load(Ordering::SeqCst), 0);
}

#[test]
fn unknown_host_key_refused_before_auth() {
    let (ws, server) = setup(|_| {});
    fs::write(ws.path().join("known_hosts"), "").unwrap();
    let o = fetch(&ws).code(3);
    let err = o.err();
    assert!(err.contains("is not known"), "{err}");
    assert!(
        err.contains("ssh-ed25519 key fingerprint: SHA256:"),
        "{err}"
    );
    assert!(err.contains("immdqa trust-host"), "{err}");
    assert_eq!(server.stats.connections.load(Ordering::SeqCst), 1);
    assert_eq!(
        server.stats.auth_attempts.load(Ordering::SeqCst),
        0,
        "credentials were offered"
    );
    assert_eq!(
        count(&db(&ws.store()), "SELECT COUNT(*) FROM remote_file"),
        0
    );
    // a missing known_hosts file behaves the same
    fs::remove_file(ws.path().join("known_hosts")).unwrap();
    fetch(&ws).code(3).err_has("is not known");
    assert_eq!(server.stats.auth_attempts.load(Ordering::SeqCst), 0);
}

#[test]
fn changed_host_key_refused_loudly_before_auth() {
    let (ws, server) = setup(|o| o.host_key = sftp_server::key(sftp_server::HOST_KEY_B));
    // known_hosts says key A, the server presents key B
    let o = fetch(&ws).code(3);
    let err = o.err();
    assert!(err.contains("HOST KEY CHANGED"), "{err}");
    assert!(err.contains("does NOT match"), "{err}");
    assert_eq!(server.stats.auth_attempts.load(Ordering::SeqCst), 0);
    // trust-host will not paper over a changed key
    ws.cmd(&["trust-host", "--yes"])
        .code(3)
        .err_has("HOST KEY CHANGED");
    assert_eq!(server.stats.auth_attempts.load(Ordering::SeqCst), 0);
}

#[test]
fn trust_host_checks_fingerprint_then_records() {
    let (ws, server) = setup(|_| {});
    let kh = ws.path().join("known_hosts");
    fs::remove_file(&kh).unwrap();
    let o = ws.cmd(&["trust-host"]).code(3);
    let out = o.out();
    let fp = out
        .split_whitespace()
        .find(|w| w.starts_with("SHA256:"))
        .expect("fingerprint printed")
        .to_string();
    assert!(o.err().contains("--fingerprint"), "{}", o.err());
    assert!(!kh.exists());
    ws.cmd(&["trust-host", "--fingerprint", "SHA256:wrongwrongwrong"])
        .code(3);
    assert!(!kh.exists());
    ws.cmd(&["trust-host", "--fingerprint", &fp]).code(0);
    let line = fs::read_to_string(&kh).unwrap();
    assert!(
        line.starts_with(&format!("[127.0.0.1]:{} ssh-ed25519 ", server.port())),
        "{line}"
    );
    use std::os::unix::fs::MetadataExt;
    assert_eq!(fs::metadata(&kh).unwrap().mode() & 0o777, 0o600);
    assert_eq!(server.stats.auth_attempts.load(Ordering::SeqCst), 0);
    ws.cmd(&["trust-host"]).code(0).out_has("already trusted");
    fetch(&ws).code(0);
}

#[test]
fn hostile_names_refused_and_nothing_written_outside_the_store() {
    let hostile = [
        "../escape.csv",
        "a/b.csv",
        "x..y.csv",
        "nul\0name.csv",
        "new\nline.csv",
        "back\\slash.csv",
        "\u{1b}[31mred.csv",
    ];
    let (ws, _server) = setup(|o| o.extra_names = hostile.iter().map(|s| s.to_string()).collect());
    std::os::unix::fs::symlink("/etc/passwd", ws.mailbox().join("DQA-Reports/passwd-link"))
        .unwrap();
    let before: Vec<String> = tree(ws.path())
        .into_iter()
        .filter(|p| !p.starts_with("store/"))
        .collect();
    let o = fetch(&ws).code(0);
    let err = o.err();
    for needle in [
        "DQA-Reports/../escape.csv: refused: name contains a path separator '/'",
        "DQA-Reports/a/b.csv: refused",
        "refused: name contains '..'",
        "nul\\0name.csv: refused: name contains NUL or a control character",
        "new\\nline.csv: refused",
        "back\\\\slash.csv: refused: name contains a path separator '\\\\'",
        "passwd-link: not a regular file (symbolic link)",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in\n{err}");
    }
    // no raw escape sequence reaches the terminal
    assert!(!err.contains('\u{1b}'), "{err:?}");
    // 7 hostile names listed in each of 2 folders, plus the symlink
    assert!(
        o.out()
            .contains("6 new, 0 changed, 0 unchanged, 15 skipped"),
        "{}",
        o.out()
    );
    let after: Vec<String> = tree(ws.path())
        .into_iter()
        .filter(|p| !p.starts_with("store/"))
        .collect();
    assert_eq!(before, after, "files appeared outside the store");
    assert!(!ws.path().parent().unwrap().join("escape.csv").exists());
    let conn = db(&ws.store());
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM remote_file"), 6);
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM fetch_event WHERE outcome='skipped'"
        ),
        15
    );
    assert_store_consistent(&ws.store());
}

fn big_mailbox(ws: &Workspace) -> Vec<u8> {
    let data = csv_report(7, 3_000_000);
    ws.write("DQA-Reports/BIG_REPORT.csv", &data);
    data
}

#[test]
fn dropped_connection_mid_file_leaves_no_partial_file_and_rerun_completes() {
    let (ws, server) = setup(|o| {
        o.drop_after_bytes = Some(1_000_000);
        o.drop_connections = 1;
    });
    let data = big_mailbox(&ws);
    fetch(&ws)
        .code(4)
        .err_has("failed DQA-Reports/BIG_REPORT.csv")
        .out_has("1 failed");
    let conn = db(&ws.store());
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM remote_file WHERE name='BIG_REPORT.csv'"
        ),
        0
    );
    assert_store_consistent(&ws.store()); // no temp or partial file anywhere
    // the archive holds no blob of the big file's size
    for f in tree(&ws.store().join("archive")) {
        assert!(
            fs::metadata(ws.store().join("archive").join(f))
                .unwrap()
                .len()
                < 3_000_000
        );
    }
    fetch(&ws).code(0);
    assert!(server.stats.connections.load(Ordering::SeqCst) >= 2);
    assert_eq!(archived(&ws.store(), "BIG_REPORT.csv"), data);
    assert_store_consistent(&ws.store());
}

#[test]
fn dropped_connection_is_retried_within_one_run() {
    let (ws, server) = setup(|o| {
        o.drop_after_bytes = Some(1_000_000);
        o.drop_connections = 1;
    });
    let data = big_mailbox(&ws);
    let kh = ws.path().join("known_hosts");
    ws.sftp_config(
        server.port(),
        &pw_auth(),
        &kh,
        "retries = 2\nretry_delay_ms = 10",
    );
    fetch(&ws).code(0).out_has("7 new");
    assert_eq!(
        server.stats.connections.load(Ordering::SeqCst),
        2,
        "one reconnect"
    );
    assert_eq!(archived(&ws.store(), "BIG_REPORT.csv"), data);
}

#[test]
fn connection_refused_is_retried_then_reported() {
    let ws = Workspace::new();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }; // closed again: nothing listens there
    let kh = ws.path().join("known_hosts");
    ws.sftp_config(port, &pw_auth(), &kh, "retries = 2\nretry_delay_ms = 20");
    let t = std::time::Instant::now();
    let o = fetch(&ws).code(3);
    assert!(
        o.err()
            .contains(&format!("cannot connect to 127.0.0.1:{port}")),
        "{}",
        o.err()
    );
    assert!(
        t.elapsed().as_millis() >= 60,
        "two back-offs of 20 and 40 ms"
    );
}

/// A server that fails every transfer: the run stops after `stop_after_failures` files in a
/// row instead of retrying each of the remaining ones, says how many are left, exits 4; the
/// next run, with the server back, fetches them.
#[test]
fn an_outage_stops_the_run_after_consecutive_failures() {
    let ws = Workspace::new();
    for i in 0..40 {
        ws.write(&format!("DQA-Reports/R{i:02}.csv"), csv_report(i, 60_000));
    }
    let server = sftp_server::serve(
        &ws,
        |o| {
            o.drop_after_bytes = Some(30_000);
            o.drop_connections = 1_000;
        },
        "",
    );
    let kh = ws.path().join("known_hosts");
    ws.sftp_config(
        server.port(),
        &pw_auth(),
        &kh,
        "retries = 1\nretry_delay_ms = 10\nstop_after_failures = 3",
    );
    let t = std::time::Instant::now();
    let o = fetch(&ws).code(4);
    let out = o.out();
    assert!(out.contains("3 failed"), "{out}");
    assert!(
        out.contains(
            "stopped after repeated connection failures: 37 file(s) left for the next run"
        ),
        "{out}"
    );
    let warnings = o.err().lines().filter(|l| l.contains("retry")).count();
    assert!(
        warnings <= 3,
        "one retry warning per failed file: {}",
        o.err()
    );
    assert!(t.elapsed().as_secs() < 20, "{:?}", t.elapsed());
    assert!(
        server.stats.connections.load(Ordering::SeqCst) <= 8,
        "stopped reconnecting"
    );
    assert_store_consistent(&ws.store());
}
