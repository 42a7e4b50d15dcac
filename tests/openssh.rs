//! Interop with the real OpenSSH server: `/usr/sbin/sshd` on a free 127.0.0.1 port with a
//! throwaway host key and key login. Skipped when sshd is not installed, unless
//! IMMDQA_REQUIRE_SSHD=1 (set by .ci/run), which makes a missing sshd a failure.

use std::fs;
use std::process::Command;
use std::time::Duration;

pub use crate::sshd::{Sshd, start};
use crate::util::*;

/// A workspace whose config points at this sshd with absolute remote folders.
fn workspace(sshd: &Sshd, trusted: bool) -> Workspace {
    let ws = Workspace::new().with_specimens();
    let kh = ws.path().join("known_hosts");
    if trusted {
        fs::write(&kh, known_hosts_line(sshd.port, &sshd.host_pub())).unwrap();
    }
    let body = format!(
        "store = {:?}\n[profiles.t]\nhost = \"127.0.0.1\"\nport = {}\nuser = {:?}\nkey_file = {:?}\nknown_hosts = {:?}\ndqa_dir = {:?}\nreceive_dir = {:?}\nretries = 0\ntimeout_secs = 20\n",
        ws.store(),
        sshd.port,
        sshd.user,
        sshd.client_key(),
        kh,
        ws.mailbox().join("DQA-Reports"),
        ws.mailbox().join("Receive"),
    );
    ws.write_config(&body);
    ws
}

#[test]
fn openssh_fetch_then_noop_then_changed() {
    let Some(sshd) = start() else { return };
    let ws = workspace(&sshd, true);
    let o = ws.cmd(&["fetch"]).code(0);
    assert!(
        o.out().contains("fetch: 6 new, 0 changed"),
        "{}\n{}",
        o.out(),
        sshd.log()
    );
    ws.cmd(&["fetch"])
        .code(0)
        .out_has("nothing new (6 unchanged");
    let p = ws.mailbox().join("DQA-Reports/ACMECLIN25301_DQA.csv");
    let mut data = fs::read(&p).unwrap();
    data.extend_from_slice(
        b"ACMECLIN25301.hl7,ACMECLIN253010040,MRN1,X,Y,01/01/2000,PID-7,Error,IMR-100,late row\n",
    );
    fs::write(&p, data).unwrap();
    ws.cmd(&["fetch"])
        .code(0)
        .out_has("0 new, 1 changed, 5 unchanged");
    assert_store_consistent(&ws.store());
    assert!(sshd.log().contains("Accepted publickey"), "{}", sshd.log());
}

#[test]
fn openssh_unknown_host_refused_before_auth_then_trusted() {
    let Some(sshd) = start() else { return };
    let ws = workspace(&sshd, false);
    let o = ws.cmd(&["fetch"]).code(3);
    let err = o.err();
    assert!(err.contains("is not known"), "{err}");
    // the fingerprint we print is the one OpenSSH itself computes
    let lf = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(sshd.dir.path().join("host_ed25519.pub"))
        .output()
        .unwrap();
    let theirs = String::from_utf8(lf.stdout).unwrap();
    let fp = theirs.split_whitespace().nth(1).unwrap().to_string();
    assert!(err.contains(&fp), "{err}\nwant {fp}");
    std::thread::sleep(Duration::from_millis(100));
    let log = sshd.log();
    assert!(
        !log.contains("publickey") && !log.contains("Accepted") && !log.contains("Failed"),
        "credentials reached sshd:\n{log}"
    );
    ws.cmd(&["trust-host", "--fingerprint", &fp]).code(0);
    ws.cmd(&["fetch"]).code(0).out_has("fetch: 6 new");
}

#[test]
fn openssh_changed_host_key_refused() {
    let Some(sshd) = start() else { return };
    let ws = workspace(&sshd, false);
    // record some other ed25519 key for this host:port
    fs::write(
        ws.path().join("known_hosts"),
        known_hosts_line(sshd.port, include_str!("data/keys/host_b.pub")),
    )
    .unwrap();
    ws.cmd(&["fetch"]).code(3).err_has("HOST KEY CHANGED");
    assert!(!sshd.log().contains("Accepted"), "{}", sshd.log());
}

/// `@revoked` is honoured as OpenSSH does: with a plain line for the same key present, the
/// login is refused before any credential; with only the revoked line, `trust-host --yes`
/// refuses to record it. A known_hosts entry without a port does not match a non-22 port.
#[test]
fn openssh_revoked_key_and_portless_entries() {
    let Some(sshd) = start() else { return };
    let ws = workspace(&sshd, false);
    let kh = ws.path().join("known_hosts");
    let plain = known_hosts_line(sshd.port, &sshd.host_pub());
    let key = sshd.host_pub();
    let key = key.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    let revoked = format!("@revoked [127.0.0.1]:{} {key}\n", sshd.port);
    fs::write(&kh, format!("{plain}{revoked}")).unwrap();
    ws.cmd(&["fetch"]).code(3).err_has("REVOKED HOST KEY");
    std::thread::sleep(Duration::from_millis(100));
    assert!(!sshd.log().contains("publickey"), "{}", sshd.log());
    fs::write(&kh, &revoked).unwrap();
    ws.cmd(&["trust-host", "--yes"])
        .code(3)
        .err_has("REVOKED HOST KEY");
    assert_eq!(
        fs::read_to_string(&kh).unwrap(),
        revoked,
        "nothing recorded"
    );
    // a portless entry is for port 22 only; a cert-authority line trusts no plain key
    fs::write(
        &kh,
        format!(
            "127.0.0.1 {key}\n@cert-authority [127.0.0.1]:{} {key}\n",
            sshd.port
        ),
    )
    .unwrap();
    ws.cmd(&["fetch"]).code(3).err_has("is not known");
    // the right entry works
    fs::write(&kh, &plain).unwrap();
    ws.cmd(&["fetch"]).code(0);
}

/// A server that accepts connections but never answers (OpenSSH stopped after the listing):
/// every attempt costs a time-out, so time-outs count toward the outage bound and the run ends
/// after `stop_after_failures` of them (retries and reconnects included), exit 4, the files
/// left named; it once waited a time-out per retry per reconnect per file.
#[test]
fn a_server_that_stops_answering_ends_the_run_after_a_few_time_outs() {
    let Some(sshd) = start() else { return };
    let ws = Workspace::new();
    for i in 0..30 {
        ws.write(&format!("DQA-Reports/R{i:02}.csv"), csv_report(i, 2_000));
    }
    ws.openssh_config(
        &sshd,
        "retries = 3\nretry_delay_ms = 10\ntimeout_secs = 1\nstop_after_failures = 3\n",
    );
    let (child, signal) = ws.paused_at(&["fetch"], "fetch_before_downloads");
    sshd.signal_all("STOP");
    let t = std::time::Instant::now();
    fs::remove_file(&signal).unwrap();
    let o = child.wait_with_output().unwrap();
    let took = t.elapsed();
    sshd.signal_all("CONT");
    assert_code(&o, 4);
    assert!(
        stdout(&o).contains("file(s) left for the next run"),
        "{}\n{}",
        stdout(&o),
        stderr(&o)
    );
    assert!(
        took < Duration::from_secs(12),
        "three 1 s time-outs, then stop: took {took:?}\n{}",
        stderr(&o)
    );
    assert_store_consistent(&ws.store());
}
