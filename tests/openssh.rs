//! Interop with the real OpenSSH server: `/usr/sbin/sshd` on a free 127.0.0.1 port with a
//! throwaway host key and key login. Skipped when sshd is not installed, unless
//! IMMDQA_REQUIRE_SSHD=1 (set by .ci/run), which makes a missing sshd a failure.

use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::*;

const SSHD: &str = "/usr/sbin/sshd";

pub struct Sshd {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub user: String,
}

impl Sshd {
    pub fn client_key(&self) -> PathBuf {
        self.dir.path().join("client_ed25519")
    }
    pub fn host_pub(&self) -> String {
        fs::read_to_string(self.dir.path().join("host_ed25519.pub")).unwrap()
    }
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        if let Ok(pid) = fs::read_to_string(self.dir.path().join("sshd.pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

fn keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen");
    assert!(ok.success());
}

/// Start sshd, or None (skip) when it is not installed and not required.
pub fn start() -> Option<Sshd> {
    if !Path::new(SSHD).exists() {
        if std::env::var("IMMDQA_REQUIRE_SSHD").as_deref() == Ok("1") {
            panic!(
                "IMMDQA_REQUIRE_SSHD=1 but {SSHD} is missing: apt-get install -y openssh-server"
            );
        }
        eprintln!("skipping OpenSSH interop test: {SSHD} not installed");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    keygen(&d.join("host_ed25519"));
    keygen(&d.join("client_ed25519"));
    fs::copy(d.join("client_ed25519.pub"), d.join("authorized_keys")).unwrap();
    let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_string();
    if unsafe { libc::geteuid() } == 0 {
        fs::create_dir_all("/run/sshd").unwrap(); // privilege separation folder
    }
    for _attempt in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cfg = d.join("sshd_config");
        fs::write(
            &cfg,
            format!(
                "ListenAddress 127.0.0.1\nPort {port}\nHostKey {host}\nPidFile {pid}\nAuthorizedKeysFile {ak}\nPubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nUsePAM no\nStrictModes no\nSubsystem sftp internal-sftp\nLogLevel VERBOSE\n",
                host = d.join("host_ed25519").display(),
                pid = d.join("sshd.pid").display(),
                ak = d.join("authorized_keys").display(),
            ),
        )
        .unwrap();
        let status = Command::new(SSHD)
            .arg("-f")
            .arg(&cfg)
            .arg("-E")
            .arg(d.join("sshd.log"))
            .status()
            .unwrap();
        if !status.success() {
            continue;
        }
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(5) {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() && d.join("sshd.pid").exists() {
                return Some(Sshd { dir, port, user });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    panic!(
        "sshd did not start; log:\n{}",
        fs::read_to_string(d.join("sshd.log")).unwrap_or_default()
    );
}

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
    let o = ws.run(&["fetch"]);
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains("fetch: 6 new, 0 changed"),
        "{}\n{}",
        stdout(&o),
        sshd.log()
    );
    let o = ws.run(&["fetch"]);
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains("nothing new (6 unchanged"),
        "{}",
        stdout(&o)
    );
    let p = ws.mailbox().join("DQA-Reports/ACMECLIN25301_DQA.csv");
    let mut data = fs::read(&p).unwrap();
    data.extend_from_slice(
        b"ACMECLIN25301.hl7,ACMECLIN253010040,MRN1,X,Y,01/01/2000,PID-7,Error,IMR-100,late row\n",
    );
    fs::write(&p, data).unwrap();
    let o = ws.run(&["fetch"]);
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains("0 new, 1 changed, 5 unchanged"),
        "{}",
        stdout(&o)
    );
    assert_store_consistent(&ws.store());
    assert!(sshd.log().contains("Accepted publickey"), "{}", sshd.log());
}

#[test]
fn openssh_unknown_host_refused_before_auth_then_trusted() {
    let Some(sshd) = start() else { return };
    let ws = workspace(&sshd, false);
    let o = ws.run(&["fetch"]);
    assert_code(&o, 3);
    let err = stderr(&o);
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
    let o = ws.run(&["trust-host", "--fingerprint", &fp]);
    assert_code(&o, 0);
    let o = ws.run(&["fetch"]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("fetch: 6 new"), "{}", stdout(&o));
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
    let o = ws.run(&["fetch"]);
    assert_code(&o, 3);
    assert!(stderr(&o).contains("HOST KEY CHANGED"), "{}", stderr(&o));
    assert!(!sshd.log().contains("Accepted"), "{}", sshd.log());
}
