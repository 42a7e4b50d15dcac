//! A real OpenSSH server for tests and benchmarks: `/usr/sbin/sshd` on a free 127.0.0.1 port
//! with a throwaway host key, key login only, the internal SFTP server, logging to a file.
//! Shared by the integration tests (tests/openssh.rs) and the benchmark (examples/bench).

use std::fs;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

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
    /// Send `signal` (STOP, CONT) to the server and every session it forked: stopped, it still
    /// accepts connections (the kernel completes them) but never answers.
    pub fn signal_all(&self, signal: &str) {
        let Ok(pid) = fs::read_to_string(self.dir.path().join("sshd.pid")) else {
            return;
        };
        let mut todo = vec![pid.trim().to_string()];
        let mut all = Vec::new();
        while let Some(p) = todo.pop() {
            if let Ok(o) = Command::new("pgrep").args(["-P", &p]).output() {
                todo.extend(
                    String::from_utf8_lossy(&o.stdout)
                        .split_whitespace()
                        .map(str::to_string),
                );
            }
            all.push(p);
        }
        for p in all {
            let _ = Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(&p)
                .status();
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.signal_all("CONT");
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

/// The known_hosts line pinning this server's host key.
pub fn known_hosts_line(port: u16, pubkey: &str) -> String {
    let mut parts = pubkey.split_whitespace();
    let (t, k) = (parts.next().unwrap(), parts.next().unwrap());
    format!("[127.0.0.1]:{port} {t} {k}\n")
}
