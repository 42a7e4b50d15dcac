//! Test helpers: a temp workspace with a mailbox, a store and a config; the built binary.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const SPECIMENS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/specimens");

/// A temp folder holding `mailbox/`, `store/` and `config.toml`.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("mailbox/DQA-Reports")).unwrap();
        fs::create_dir_all(dir.path().join("mailbox/Receive")).unwrap();
        Workspace { dir }
    }
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn mailbox(&self) -> PathBuf {
        self.path().join("mailbox")
    }
    pub fn store(&self) -> PathBuf {
        self.path().join("store")
    }
    pub fn config(&self) -> PathBuf {
        self.path().join("config.toml")
    }
    /// Copy the specimen report files into DQA-Reports and the CNF into Receive.
    pub fn with_specimens(self) -> Workspace {
        for (sub, dest) in [
            ("ack", "DQA-Reports"),
            ("legacy-dqa", "DQA-Reports"),
            ("tabular", "DQA-Reports"),
            ("cnf", "Receive"),
        ] {
            for e in fs::read_dir(Path::new(SPECIMENS).join(sub)).unwrap() {
                let e = e.unwrap();
                fs::copy(e.path(), self.mailbox().join(dest).join(e.file_name())).unwrap();
            }
        }
        self
    }
    /// The usual start of a command test: the specimens in a local-folder mailbox and a
    /// config for it (ripgrep's `rgtest!` set-up, as a constructor).
    pub fn local() -> Workspace {
        let ws = Workspace::new().with_specimens();
        ws.local_config();
        ws
    }

    /// [`Workspace::local`] after a successful first fetch.
    pub fn fetched() -> Workspace {
        let ws = Workspace::local();
        ws.cmd(&["fetch"]).code(0);
        ws
    }

    /// Run a command and return it for chained assertions (ripgrep's `TestCommand`).
    #[track_caller]
    pub fn cmd(&self, args: &[&str]) -> Run {
        Run(self.run(args))
    }
    /// [`Workspace::cmd`] with environment variables set.
    #[track_caller]
    pub fn cmd_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        Run(self.run_env(args, env))
    }

    pub fn write(&self, rel: &str, data: impl AsRef<[u8]>) {
        let p = self.mailbox().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, data).unwrap();
    }
    /// A config with one local-folder profile `t`.
    pub fn local_config(&self) -> PathBuf {
        self.write_config(&format!(
            "store = {:?}\n[profiles.t]\nlocal_dir = {:?}\nretries = 0\n",
            self.store(),
            self.mailbox()
        ))
    }
    /// Point this workspace's config at `sshd` (its host key trusted) with the four registry
    /// folders of its mailbox; `extra` lines go in the profile.
    pub fn openssh_config(&self, sshd: &crate::sshd::Sshd, extra: &str) {
        let ws = self;
        let kh = ws.path().join("known_hosts");
        fs::write(&kh, known_hosts_line(sshd.port, &sshd.host_pub())).unwrap();
        let m = ws.mailbox();
        ws.write_config(&format!(
            "store = {:?}\n[profiles.t]\nhost = \"127.0.0.1\"\nport = {}\nuser = {:?}\nkey_file = {:?}\nknown_hosts = {:?}\ndqa_dir = {:?}\nreceive_dir = {:?}\naccepted_dir = {:?}\ndropoff_dir = {:?}\n{extra}",
            ws.store(),
            sshd.port,
            sshd.user,
            sshd.client_key(),
            kh,
            m.join("DQA-Reports"),
            m.join("Receive"),
            m.join("Accepted"),
            m.join("HL7-Dropoff"),
        ));
    }
    /// A config with one SFTP profile `t` on 127.0.0.1:port.
    pub fn sftp_config(&self, port: u16, auth: &str, known_hosts: &Path, extra: &str) -> PathBuf {
        let mut defaults = String::new();
        for (k, v) in [
            ("retries", "0"),
            ("retry_delay_ms", "10"),
            ("timeout_secs", "20"),
        ] {
            if !extra.contains(k) {
                defaults.push_str(&format!("{k} = {v}\n"));
            }
        }
        self.write_config(&format!(
            "store = {:?}\n[profiles.t]\nhost = \"127.0.0.1\"\nport = {port}\nuser = \"tester\"\n{auth}\nknown_hosts = {:?}\n{defaults}{extra}\n",
            self.store(),
            known_hosts
        ))
    }
    /// Write the config, with a store key (every test store is encrypted, as `init` and
    /// `demo` make them) unless the body names one.
    pub fn write_config(&self, body: &str) -> PathBuf {
        if body.contains("store_key_file") {
            return self.write_config_plain(body);
        }
        let key = self.key_file();
        if !key.exists() {
            immdqa::store::StoreKey::generate("test")
                .unwrap()
                .write_new(&key)
                .unwrap();
        }
        self.write_config_plain(&format!("store_key_file = {key:?}\n{body}"))
    }
    /// The store key of this workspace (outside the store).
    pub fn key_file(&self) -> PathBuf {
        self.path().join("store.key")
    }
    /// Write the config as given (no key added: a plaintext store unless it names one).
    pub fn write_config_plain(&self, body: &str) -> PathBuf {
        let p = self.config();
        fs::write(&p, body).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        p
    }
    /// Run the binary with this workspace's config.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = immdqa();
        c.arg("--config").arg(self.config()).args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }
}

impl Workspace {
    /// Start a command that pauses at the failpoint `point` (see `failpoint::pause`); returns
    /// once it is there, with the child and the signal file to remove to let it go on.
    pub fn paused_at(&self, args: &[&str], point: &str) -> (std::process::Child, PathBuf) {
        let signal = self.path().join(format!("paused-{point}"));
        let child = immdqa()
            .arg("--config")
            .arg(self.config())
            .args(args)
            .env("IMMDQA_PAUSE_AT", point)
            .env("IMMDQA_PAUSE_FILE", &signal)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let t = std::time::Instant::now();
        while !signal.exists() {
            assert!(
                t.elapsed() < std::time::Duration::from_secs(60),
                "{args:?} never reached {point}"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        (child, signal)
    }
}

/// Set a file's modification time `secs` seconds in the past.
pub fn age(p: &Path, secs: u64) {
    fs::File::options()
        .write(true)
        .open(p)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(secs))
        .unwrap();
}

/// A finished command, for chained assertions: `ws.cmd(&["fetch"]).code(0).out_has("6 new")`.
pub struct Run(pub Output);

impl Run {
    /// The exit code is `code` (both streams shown when it is not).
    #[track_caller]
    pub fn code(self, code: i32) -> Run {
        assert_code(&self.0, code);
        self
    }
    #[track_caller]
    pub fn out_has(self, s: &str) -> Run {
        assert!(
            stdout(&self.0).contains(s),
            "stdout lacks {s:?}:\n{}",
            stdout(&self.0)
        );
        self
    }
    #[track_caller]
    pub fn out_lacks(self, s: &str) -> Run {
        assert!(
            !stdout(&self.0).contains(s),
            "stdout has {s:?}:\n{}",
            stdout(&self.0)
        );
        self
    }
    #[track_caller]
    pub fn err_has(self, s: &str) -> Run {
        assert!(
            stderr(&self.0).contains(s),
            "stderr lacks {s:?}:\n{}",
            stderr(&self.0)
        );
        self
    }
    pub fn out(&self) -> String {
        stdout(&self.0)
    }
    pub fn err(&self) -> String {
        stderr(&self.0)
    }
}

/// `immdqa().args(..).exec().code(0)`: run a command built by hand, for chained assertions.
pub trait Exec {
    fn exec(&mut self) -> Run;
}

impl Exec for Command {
    fn exec(&mut self) -> Run {
        Run(self.output().unwrap())
    }
}

/// The built binary with a clean environment (no user config, no IMMDQA_* leaking in).
pub fn immdqa() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_immdqa"));
    for (k, _) in std::env::vars() {
        if k.starts_with("IMMDQA_") {
            c.env_remove(k);
        }
    }
    c.env("NO_COLOR", "1");
    c
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Assert an exit code, printing both streams when it differs.
#[track_caller]
pub fn assert_code(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "exit status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        stdout(o),
        stderr(o)
    );
}

/// A known_hosts line for 127.0.0.1:port with the given `.pub` key text.
pub use crate::sshd::known_hosts_line;

/// Every file under `dir`, relative, sorted.
pub fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(base: &Path, d: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The key of a test store: `store.key` (a workspace) or `immdqa-demo.key` (a demo) beside
/// it; None: a plaintext store.
pub fn store_key(store: &Path) -> Option<immdqa::store::StoreKey> {
    let dir = store.parent()?;
    ["store.key", "immdqa-demo.key"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.exists())
        .map(|p| immdqa::store::StoreKey::read(&p, "test").unwrap())
}

/// The keys to open a test store with.
pub fn keys(store: &Path) -> immdqa::store::Keyring {
    store_key(store)
        .map(immdqa::store::Keyring::with)
        .unwrap_or_default()
}

/// Open one of the store's databases for assertions, with the store's key when it has one.
pub fn db_file(store: &Path, file: &str) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(store.join(file)).unwrap();
    if let Some(k) = store_key(store) {
        k.apply_to(&conn).unwrap();
    }
    conn
}

/// Open the store database for assertions.
pub fn db(store: &Path) -> rusqlite::Connection {
    db_file(store, "history.sqlite")
}

/// An archived file's plain content (unsealed with the store's key).
pub fn archive_file(store: &Path, rel: &str) -> Vec<u8> {
    let cipher = store_key(store).map(|k| k.archive_cipher());
    immdqa::store::crypt::Blob::read_all(&store.join("archive").join(rel), cipher.as_ref()).unwrap()
}

pub fn count(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Check the store's invariants: integrity ok, no temp files, every archived file's content
/// matches its hash name, every blob row has its file and vice versa, no duplicate versions.
pub fn assert_store_consistent(store: &Path) {
    use sha2::Digest;
    let conn = db(store);
    let ic: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ic, "ok");
    let tmp: Vec<_> = fs::read_dir(store.join("tmp")).unwrap().collect();
    assert!(tmp.is_empty(), "temp files left: {tmp:?}");
    let files = tree(&store.join("archive"));
    for f in &files {
        let data = archive_file(store, f);
        let sha = format!("{:x}", sha2::Sha256::digest(&data));
        assert!(
            f.ends_with(&sha),
            "archive file {f} does not match its content"
        );
    }
    let blobs = count(&conn, "SELECT COUNT(*) FROM blob");
    let referenced = count(&conn, "SELECT COUNT(DISTINCT sha256) FROM remote_file");
    assert_eq!(blobs, referenced, "blobs without versions");
    // every blob row has its archive file (archive may also hold an unrecorded blob from a
    // crash between rename and commit: harmless, it is reused on the next download)
    let mut st = conn.prepare("SELECT sha256 FROM blob").unwrap();
    let shas: Vec<String> = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for s in shas {
        assert!(
            files.iter().any(|f| f.ends_with(&s)),
            "blob {s} missing from the archive"
        );
    }
    let dup = count(
        &conn,
        "SELECT COUNT(*) FROM (SELECT 1 FROM remote_file GROUP BY profile, folder, name, sha256 HAVING COUNT(*) > 1)",
    );
    assert_eq!(dup, 0);
}

/// A valid tabular DQA report of about `size` bytes whose content depends on `seed`.
pub fn csv_report(seed: usize, size: usize) -> Vec<u8> {
    let fields = [
        "PID-7", "RXA-5", "NK1", "PD1-12", "RXR-2", "OBX-14", "ORC-12.1",
    ];
    let mut out = String::from("Message Control ID,HL7 Field,Severity,Code,Message\n");
    let mut i = 0usize;
    while out.len() < size {
        let f = fields[(seed + i) % fields.len()];
        out.push_str(&format!(
            "CTRL{seed:05}{i:06},{f},{},IEE-{:03},Issue {} in {f} for message {i}\n",
            if (seed + i).is_multiple_of(5) {
                "Error"
            } else {
                "Warning"
            },
            500 + (seed * 7 + i) % 99,
            (seed * 31 + i * 7) % 1000
        ));
        i += 1;
    }
    out.into_bytes()
}

/// The archived bytes of the (latest) stored file with this remote name.
pub fn archived(store: &Path, name: &str) -> Vec<u8> {
    let sha: String = db(store)
        .query_row(
            "SELECT sha256 FROM remote_file WHERE name = ?1 ORDER BY id DESC LIMIT 1",
            [name],
            |r| r.get(0),
        )
        .unwrap();
    archive_file(store, &format!("{}/{sha}", &sha[..2]))
}
