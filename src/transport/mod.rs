//! Transport: the registry mailbox seen as a small remote file system.
//!
//! [`RemoteFs`] is all the rest of immdqa knows about where files live. Implementations:
//! [`sftp::SftpFs`] (the registry's SFTP server, through `ssh2`, host key checked before any
//! credential is sent), [`ftps::FtpsFs`] (FTP over TLS, certificate checked before the
//! password) and [`local::LocalFs`] (a local or mounted folder: vendors that already copy the
//! files to a share, and tests). A profile becomes an [`Options`] once, in the CLI; paths are
//! `/`-separated strings relative to the mailbox root (or absolute on the server).
//! Uses: config (only to resolve a profile).

pub mod discover;
pub mod ftps;
pub mod known_hosts;
pub mod local;
mod options;
pub mod preflight;
pub mod sftp;

pub use options::{Auth, Options, Secret};

use std::io::Read;
use std::time::Duration;

use crate::config::Profile;

/// What kind of directory entry the server listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    Other,
}

impl EntryKind {
    pub fn describe(self) -> &'static str {
        match self {
            EntryKind::File => "regular file",
            EntryKind::Dir => "directory",
            EntryKind::Symlink => "symbolic link",
            EntryKind::Other => "special file",
        }
    }
}

/// One entry of a remote folder listing. The name is kept as the raw bytes the server sent,
/// so that a hostile name can be reported exactly and never silently altered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteEntry {
    pub name: Vec<u8>,
    pub kind: EntryKind,
    pub size: u64,
    /// Modification time, seconds since the Unix epoch (0 when the server does not say).
    pub mtime: i64,
    /// The precision of `mtime` in seconds: 1 when exact; 60 or 86,400 for the minute- or
    /// day-precision times of an FTP LIST (the exact time is one MDTM away, asked only when
    /// the coarse time does not settle whether the file changed).
    pub mtime_step: i64,
}

/// Transport failures. Messages name the host and path, never a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    #[error(
        "the host key of {host} is not known (not in {known_hosts}).\n  {key_type} key fingerprint: {fingerprint}\n  Check this fingerprint with the registry, then record it with `immdqa trust-host`."
    )]
    UnknownHostKey {
        host: String,
        known_hosts: String,
        key_type: String,
        fingerprint: String,
    },
    #[error(
        "@@@ HOST KEY CHANGED for {host} @@@\n  The server presented a {key_type} key with fingerprint {fingerprint}, which does NOT match the key recorded in {known_hosts}.\n  Someone may be intercepting the connection, or the registry replaced its key. Nothing was sent. Confirm the new key with the registry before editing {known_hosts}."
    )]
    HostKeyChanged {
        host: String,
        known_hosts: String,
        key_type: String,
        fingerprint: String,
    },
    #[error(
        "@@@ REVOKED HOST KEY for {host} @@@\n  The server presented a {key_type} key with fingerprint {fingerprint}, which {known_hosts} marks @revoked. Nothing was sent. The key must never be accepted again: ask the registry which key it now uses."
    )]
    RevokedHostKey {
        host: String,
        known_hosts: String,
        key_type: String,
        fingerprint: String,
    },
    #[error(
        "@@@ TLS CERTIFICATE NOT TRUSTED for {host} @@@\n  {message}\n  The server presented the certificate {fingerprint}. Nothing was sent. If the registry confirms it, pin it with tls_fingerprint (immdqa trust-host shows it)."
    )]
    TlsIdentity {
        host: String,
        fingerprint: String,
        message: String,
    },
    #[error("cannot read known_hosts file {path}: {message}")]
    KnownHosts { path: String, message: String },
    #[error("login to {host} as '{user}' with {method} was refused: check the {method}")]
    AuthFailed {
        host: String,
        user: String,
        method: String,
    },
    #[error("credentials for {host} are not available: {message}")]
    Credentials { host: String, message: String },
    #[error("cannot connect to {host}: {message}")]
    Connect { host: String, message: String },
    #[error("remote path {path} does not exist")]
    NotFound { path: String },
    #[error("remote path {path} already exists")]
    AlreadyExists { path: String },
    /// The local file being sent changed before it was put in place (nothing was sent).
    #[error("{0}")]
    Changed(String),
    #[error("{op} {path}: {message}")]
    Io {
        op: &'static str,
        path: String,
        message: String,
        /// The connection itself failed (worth reconnecting and retrying).
        transient: bool,
    },
}

/// Time-outs in a row in this process, across every operation and retry (reset by any
/// success): a server that accepts connections but never answers costs a time-out per
/// attempt, so the outage bound counts them, not only the files that failed.
static TIMEOUTS_IN_A_ROW: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// How many operations in a row have timed out (see [`Retry::run`]).
pub fn timeouts_in_a_row() -> u32 {
    TIMEOUTS_IN_A_ROW.load(std::sync::atomic::Ordering::Relaxed)
}

impl TransportError {
    /// Whether the server did not answer in time (the socket's time-out expired).
    pub fn is_timeout(&self) -> bool {
        let message = match self {
            TransportError::Connect { message, .. } | TransportError::Io { message, .. } => message,
            _ => return false,
        };
        let m = message.to_ascii_lowercase();
        m.contains("timed out")
            || m.contains("timeout")
            || m.contains("temporarily unavailable")
            || m.contains("would block")
    }

    /// Whether retrying after a back-off (and, for SFTP, a reconnect) may help.
    pub fn is_transient(&self) -> bool {
        match self {
            TransportError::Connect { .. } => true,
            TransportError::Io { transient, .. } => *transient,
            _ => false,
        }
    }
}

/// A mailbox the sync and upload code can list, read and write.
pub trait RemoteFs {
    /// A short description for messages, e.g. `sftp://user@host:22` or `local:/srv/mailbox`.
    fn describe(&self) -> String;
    /// List a folder's entries (without `.` and `..`).
    fn list(&mut self, dir: &str) -> Result<Vec<RemoteEntry>, TransportError>;
    /// Open a file for a streaming read.
    fn open_read(&mut self, path: &str) -> Result<Box<dyn Read + '_>, TransportError>;
    /// Create a new file (failing if it exists) and stream `data` into it; returns bytes written.
    fn write_new(&mut self, path: &str, data: &mut dyn Read) -> Result<u64, TransportError>;
    /// Rename a file; fails if `to` exists.
    fn rename(&mut self, from: &str, to: &str) -> Result<(), TransportError>;
    /// Remove a file (used only to clean up our own temporary upload names).
    fn remove(&mut self, path: &str) -> Result<(), TransportError>;
    /// Metadata of one path (with an exact mtime), `None` if it does not exist.
    fn stat(&mut self, path: &str) -> Result<Option<RemoteEntry>, TransportError>;
    /// Re-establish the connection after a transient failure (no-op where there is none).
    fn reconnect(&mut self) -> Result<(), TransportError> {
        Ok(())
    }
}

/// The (UTF-8) file names in a remote folder; a missing folder has none.
pub fn file_names(remote: &mut dyn RemoteFs, dir: &str) -> Result<Vec<String>, TransportError> {
    match remote.list(dir) {
        Ok(list) => Ok(list
            .into_iter()
            .filter_map(|e| String::from_utf8(e.name).ok())
            .collect()),
        Err(TransportError::NotFound { .. }) => Ok(vec![]),
        Err(e) => Err(e),
    }
}

/// Join a folder and a file name with `/`.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() || dir == "." {
        name.to_string()
    } else if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// Retry policy for transient failures: `attempts` retries, delay doubling from `first_delay`.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    pub first_delay: Duration,
    /// Stop the run after this many files in a row failed on the connection (after their
    /// retries): the server is down, and retrying every remaining file would take hours.
    /// 0 = never stop.
    pub stop_after_failures: u32,
}

impl Retry {
    pub fn from_profile(p: &Profile) -> Retry {
        Retry {
            attempts: p.retries,
            first_delay: Duration::from_millis(p.retry_delay_ms),
            stop_after_failures: p.stop_after_failures,
        }
    }

    /// Run `op` until it succeeds, fails permanently, or the retries are used up.
    pub fn run<T>(
        &self,
        what: &str,
        mut op: impl FnMut(u32) -> Result<T, TransportError>,
    ) -> Result<T, TransportError> {
        use std::sync::atomic::Ordering::Relaxed;
        let mut delay = self.first_delay;
        let mut attempt = 0;
        loop {
            let result = op(attempt);
            match &result {
                Ok(_) => TIMEOUTS_IN_A_ROW.store(0, Relaxed),
                Err(e) if e.is_timeout() => {
                    let n = TIMEOUTS_IN_A_ROW.fetch_add(1, Relaxed) + 1;
                    if self.stop_after_failures > 0 && n >= self.stop_after_failures {
                        // the server is not answering: no more waiting on it in this run
                        return result;
                    }
                }
                Err(_) => {}
            }
            match result {
                Err(e) if e.is_transient() && attempt < self.attempts => {
                    attempt += 1;
                    tracing::warn!(
                        "{what} failed ({e}); retry {attempt}/{} in {:.1}s",
                        self.attempts,
                        delay.as_secs_f64()
                    );
                    std::thread::sleep(delay);
                    delay = delay.saturating_mul(2).min(Duration::from_secs(300));
                }
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_paths() {
        assert_eq!(join("DQA-Reports", "a.csv"), "DQA-Reports/a.csv");
        assert_eq!(join("/x/", "a"), "/x/a");
        assert_eq!(join("", "a"), "a");
    }

    #[test]
    fn retry_stops_on_permanent_error_and_bounds_transient() {
        let r = Retry {
            attempts: 2,
            first_delay: Duration::from_millis(1),
            stop_after_failures: 3,
        };
        let mut calls = 0;
        let res: Result<(), _> = r.run("x", |_| {
            calls += 1;
            Err(TransportError::Connect {
                host: "h".into(),
                message: "refused".into(),
            })
        });
        assert!(res.is_err());
        assert_eq!(calls, 3);
        calls = 0;
        let res: Result<(), _> = r.run("x", |_| {
            calls += 1;
            Err(TransportError::NotFound { path: "p".into() })
        });
        assert!(res.is_err());
        assert_eq!(calls, 1);
        let ok = r.run("x", |n| {
            if n < 1 {
                Err(TransportError::Connect {
                    host: "h".into(),
                    message: "refused".into(),
                })
            } else {
                Ok(n)
            }
        });
        assert_eq!(ok.unwrap(), 1);
    }
}
