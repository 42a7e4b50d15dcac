//! A real FTPS server for tests and benchmarks: Debian's `vsftpd` on a free 127.0.0.1 port,
//! implicit (the registry's setting) or explicit TLS, TLS session reuse required on data
//! connections (vsftpd's default and the registry's), a throwaway self-signed certificate, a
//! local user with a random password, and the mailbox as its root. Transfers are limited to
//! 4 MB/s, so a test can act (drop the connection, kill the client) while one is running. Skipped when vsftpd is not
//! installed (or not running as root, which vsftpd and `useradd` need), unless
//! IMMDQA_REQUIRE_VSFTPD=1 (set by .ci/run), which makes that a failure.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const VSFTPD: &str = "/usr/sbin/vsftpd";
pub const USER: &str = "immdqaftp";

pub struct Vsftpd {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub implicit: bool,
    child: Child,
}

impl Vsftpd {
    /// The mailbox (the FTP user's root): DQA-Reports, Receive, Accepted, HL7-Dropoff.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }
    pub fn password(&self) -> &'static str {
        password()
    }
    pub fn cert(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }
    /// The server's protocol log (every command, no passwords).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("vsftpd.log")).unwrap_or_default()
    }
    /// The certificate's fingerprint as `openssl x509 -fingerprint -sha256` prints it.
    pub fn openssl_fingerprint(&self) -> String {
        let o = Command::new("openssl")
            .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
            .arg(self.cert())
            .output()
            .unwrap();
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    }
    /// Put a file in the mailbox, readable by the FTP user.
    pub fn write(&self, rel: &str, data: impl AsRef<[u8]>) {
        let p = self.root().join(rel);
        fs::write(&p, data).unwrap();
        chown(&p);
    }
    /// Kill the processes serving sessions, and theirs (vsftpd runs a session as a privileged
    /// process and an unprivileged child that moves the data): every connection drops
    /// mid-transfer; the listener stays.
    pub fn drop_sessions(&self) {
        let children = |pid: u32| -> Vec<u32> {
            Command::new("pgrep")
                .args(["-P", &pid.to_string()])
                .output()
                .map(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .split_whitespace()
                        .filter_map(|p| p.parse().ok())
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut todo = children(self.child.id());
        let mut all = Vec::new();
        while let Some(p) = todo.pop() {
            todo.extend(children(p));
            all.push(p);
        }
        for p in all {
            let _ = Command::new("kill")
                .args(["-KILL", &p.to_string()])
                .status();
        }
    }
}

impl Drop for Vsftpd {
    fn drop(&mut self) {
        self.drop_sessions();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chown(p: &Path) {
    let _ = Command::new("chown").args(["-R", USER]).arg(p).status();
}

/// A random password for the test user, set once per test process.
fn password() -> &'static str {
    static PW: OnceLock<String> = OnceLock::new();
    PW.get_or_init(|| {
        let mut b = [0u8; 12];
        fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
            .unwrap();
        let pw: String = b.iter().map(|x| format!("{x:02x}")).collect();
        ensure_user(USER);
        let mut c = Command::new("chpasswd")
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        c.stdin
            .take()
            .unwrap()
            .write_all(format!("{USER}:{pw}\n").as_bytes())
            .unwrap();
        assert!(c.wait().unwrap().success(), "chpasswd");
        pw
    })
}

/// The test user exists with a home vsftpd can enter and a shell PAM accepts, whatever the
/// machine held before: created when missing, repaired when an earlier set-up (or someone else)
/// left it with a home such as `/nonexistent` (vsftpd then answers `500 OOPS: cannot change
/// directory` in clear text and every TLS handshake fails) or a shell not in /etc/shells.
pub fn ensure_user(user: &str) {
    let entry = Command::new("getent")
        .args(["passwd", user])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if entry.is_empty() {
        let ok = Command::new("useradd")
            .args(["-M", "-d", "/", "-s", "/bin/sh", user])
            .status()
            .unwrap();
        assert!(ok.success(), "useradd {user}");
        return;
    }
    let fields: Vec<&str> = entry.split(':').collect();
    let home = fields.get(5).copied().unwrap_or("");
    let shell = fields.get(6).copied().unwrap_or("");
    let shells = fs::read_to_string("/etc/shells").unwrap_or_default();
    let home_ok = !home.is_empty() && Path::new(home).is_dir();
    let shell_ok = shells.lines().any(|l| l.trim() == shell);
    if !home_ok || !shell_ok {
        let ok = Command::new("usermod")
            .args(["-d", "/", "-s", "/bin/sh", user])
            .status()
            .unwrap();
        assert!(
            ok.success(),
            "usermod {user} (home {home:?}, shell {shell:?})"
        );
    }
    // vsftpd's PAM service refuses users listed in /etc/ftpusers
    if let Ok(deny) = fs::read_to_string("/etc/ftpusers") {
        if deny.lines().any(|l| l.trim() == user) {
            let kept: String = deny
                .lines()
                .filter(|l| l.trim() != user)
                .map(|l| format!("{l}\n"))
                .collect();
            fs::write("/etc/ftpusers", kept).unwrap();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Start vsftpd (implicit TLS on its port, or explicit `AUTH TLS`), or None (skip).
/// Transfers are limited to 4 MB/s (see the module doc).
pub fn start(implicit: bool) -> Option<Vsftpd> {
    start_with(implicit, Some(4_000_000))
}

/// Start vsftpd with a transfer rate limit in bytes/s (None: unlimited, for benchmarks).
pub fn start_with(implicit: bool, max_rate: Option<u64>) -> Option<Vsftpd> {
    let required = std::env::var("IMMDQA_REQUIRE_VSFTPD").as_deref() == Ok("1");
    let root_user = unsafe { libc_geteuid() } == 0;
    if !Path::new(VSFTPD).exists() || !root_user {
        if required {
            panic!(
                "IMMDQA_REQUIRE_VSFTPD=1 but {VSFTPD} is missing (apt-get install -y vsftpd) or not running as root"
            );
        }
        eprintln!("skipping FTPS test: vsftpd not installed, or not root");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // the FTP user must traverse to its root
    fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
    for sub in ["DQA-Reports", "Receive", "Accepted", "HL7-Dropoff"] {
        fs::create_dir_all(d.join("root").join(sub)).unwrap();
    }
    let pw = password();
    chown(&d.join("root"));
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-nodes",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
        ])
        .arg(d.join("key.pem"))
        .arg("-out")
        .arg(d.join("cert.pem"))
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(ok.success(), "openssl req");
    fs::create_dir_all("/var/run/vsftpd/empty").unwrap();
    let port = free_port();
    let pasv = free_port();
    let conf = format!(
        "listen=YES\nlisten_address=127.0.0.1\nlisten_port={port}\nbackground=NO\nlocal_enable=YES\nwrite_enable=YES\nlocal_umask=077\nlocal_root={root}\nssl_enable=YES\nimplicit_ssl={implicit}\nforce_local_data_ssl=YES\nforce_local_logins_ssl=YES\nrequire_ssl_reuse=YES\nrsa_cert_file={cert}\nrsa_private_key_file={key}\npasv_enable=YES\npasv_min_port={pasv}\npasv_max_port={pasv}\npasv_address=127.0.0.1\nlocal_max_rate={rate}\nseccomp_sandbox=NO\nsecure_chroot_dir=/var/run/vsftpd/empty\npam_service_name=vsftpd\nvsftpd_log_file={log}\nlog_ftp_protocol=YES\ndual_log_enable=YES\nxferlog_enable=YES\nxferlog_file={xfer}\n",
        root = d.join("root").display(),
        implicit = if implicit { "YES" } else { "NO" },
        cert = d.join("cert.pem").display(),
        key = d.join("key.pem").display(),
        log = d.join("vsftpd.log").display(),
        xfer = d.join("xfer.log").display(),
        rate = max_rate.unwrap_or(0),
    );
    fs::write(d.join("vsftpd.conf"), conf).unwrap();
    let child = Command::new(VSFTPD)
        .arg(d.join("vsftpd.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "vsftpd did not start on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = pw;
    Some(Vsftpd {
        dir,
        port,
        implicit,
        child,
    })
}

unsafe extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}
