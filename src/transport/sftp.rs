//! The registry mailbox over SFTP (`ssh2`, blocking).
//!
//! Connection order matters for safety: TCP connect (with timeout) → SSH handshake → the
//! server's host key is checked against the profile's OpenSSH `known_hosts` file → only then
//! are credentials sent. An unknown key or a changed key stops the run before login. One
//! connection serves the whole run; transient failures (connect errors, a dropped connection)
//! are retried with back-off by [`super::Retry`], reconnecting as needed.

use std::io::Read;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use ssh2::{
    ErrorCode, HashType, HostKeyType, KnownHostFileKind, OpenFlags, OpenType, Session, Sftp,
};

use super::Auth;
use super::preflight::Preflight;
use super::{EntryKind, RemoteEntry, RemoteFs, Retry, TransportError};

/// Everything needed to open (and reopen) the connection.
#[derive(Debug, Clone)]
pub struct SftpOptions {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub auth: Auth,
    pub known_hosts: PathBuf,
    pub timeout: Duration,
    pub retry: Retry,
}

impl SftpOptions {
    /// The host as written in known_hosts: `host` for port 22, `[host]:port` otherwise.
    pub fn known_hosts_name(&self) -> String {
        known_hosts_name(&self.host, self.port)
    }
    fn label(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// `sftp://user@host:port`: what the connection says it is, before and after connecting.
    pub(super) fn describe(&self) -> String {
        format!("sftp://{}@{}", self.user, self.label())
    }

    /// Where it connects, how it logs in, and whether known_hosts is there (`config check`).
    pub(super) fn preflight(&self, name: &str, p: &mut Preflight) {
        p.line("transport", self.describe());
        super::preflight::auth(p, name, &self.auth);
        let kh = &self.known_hosts;
        match std::fs::read_to_string(kh) {
            Ok(text) => {
                let n = text
                    .lines()
                    .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
                    .count();
                p.line("known_hosts", format!("{} ({n} entries)", kh.display()));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                p.line("known_hosts", format!("{} (not created yet)", kh.display()));
                p.problems.push(format!(
                    "profile '{name}': known_hosts {} does not exist yet: run `immdqa trust-host --profile {name}`",
                    kh.display()
                ));
            }
            Err(e) => p.problems.push(format!(
                "profile '{name}': known_hosts {} cannot be read: {e}",
                kh.display()
            )),
        }
    }
}

pub fn known_hosts_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// The server's host key as presented during the handshake.
#[derive(Debug, Clone)]
pub struct HostKey {
    pub key: Vec<u8>,
    pub key_type: HostKeyType,
    /// OpenSSH-style `SHA256:…` fingerprint.
    pub fingerprint: String,
}

impl HostKey {
    pub fn type_name(&self) -> &'static str {
        key_type_name(self.key_type)
    }
}

fn key_type_name(t: HostKeyType) -> &'static str {
    match t {
        HostKeyType::Rsa => "ssh-rsa",
        HostKeyType::Dss => "ssh-dss",
        HostKeyType::Ecdsa256 => "ecdsa-sha2-nistp256",
        HostKeyType::Ecdsa384 => "ecdsa-sha2-nistp384",
        HostKeyType::Ecdsa521 => "ecdsa-sha2-nistp521",
        HostKeyType::Ed25519 => "ssh-ed25519",
        HostKeyType::Unknown => "unknown",
    }
}

/// The verdict on a host key against a known_hosts file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKeyStatus {
    Trusted,
    Unknown,
    Changed,
    /// Marked `@revoked` in known_hosts: never accepted, never recorded.
    Revoked,
}

/// An open SFTP session on the registry mailbox.
pub struct SftpFs {
    opts: SftpOptions,
    session: Session,
    sftp: Sftp,
}

fn connect_err(opts: &SftpOptions, message: String) -> TransportError {
    TransportError::Connect {
        host: opts.label(),
        message,
    }
}

/// Ciphers offered, in order of preference.
const CIPHERS: &str = "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr";

/// TCP connect + SSH handshake, nothing sent beyond the key exchange.
fn handshake(opts: &SftpOptions) -> Result<(Session, HostKey), TransportError> {
    let addrs: Vec<_> = (opts.host.as_str(), opts.port)
        .to_socket_addrs()
        .map_err(|e| connect_err(opts, format!("cannot resolve host name: {e}")))?
        .collect();
    let mut last = None;
    let mut tcp = None;
    for addr in &addrs {
        match TcpStream::connect_timeout(addr, opts.timeout) {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let tcp = tcp.ok_or_else(|| {
        connect_err(
            opts,
            last.map(|e| e.to_string())
                .unwrap_or_else(|| "no address".into()),
        )
    })?;
    let started = std::time::Instant::now();
    if let Ok(peer) = tcp.peer_addr() {
        tracing::info!("connected to {peer} ({})", opts.label());
    }
    let _ = tcp.set_read_timeout(Some(opts.timeout));
    let _ = tcp.set_write_timeout(Some(opts.timeout));
    let _ = tcp.set_nodelay(true);
    let mut session = Session::new().map_err(|e| connect_err(opts, e.to_string()))?;
    // AES-GCM first: OpenSSL runs it on the CPU's AES instructions, while libssh2's
    // ChaCha20-Poly1305 (the server's usual first choice) is portable C, several times slower
    // per byte (benchmark B4). Servers without AES-GCM get the next match.
    for dir in [ssh2::MethodType::CryptCs, ssh2::MethodType::CryptSc] {
        session
            .method_pref(dir, CIPHERS)
            .map_err(|e| connect_err(opts, format!("cipher preferences: {e}")))?;
    }
    session.set_tcp_stream(tcp);
    session.set_timeout(opts.timeout.as_millis().min(u32::MAX as u128) as u32);
    session
        .handshake()
        .map_err(|e| connect_err(opts, format!("SSH handshake failed: {e}")))?;
    let (key, key_type) = session
        .host_key()
        .ok_or_else(|| connect_err(opts, "server sent no host key".into()))?;
    let key = key.to_vec();
    let hash = session
        .host_key_hash(HashType::Sha256)
        .ok_or_else(|| connect_err(opts, "cannot hash the host key".into()))?;
    let fingerprint = format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(hash)
    );
    tracing::info!(
        "SSH handshake in {:.0?}: cipher {} / {}, key exchange {}, host key {} {fingerprint}",
        started.elapsed(),
        session.methods(ssh2::MethodType::CryptCs).unwrap_or("?"),
        session.methods(ssh2::MethodType::CryptSc).unwrap_or("?"),
        session.methods(ssh2::MethodType::Kex).unwrap_or("?"),
        key_type_name(key_type)
    );
    Ok((
        session,
        HostKey {
            key,
            key_type,
            fingerprint,
        },
    ))
}

/// Check a host key against an OpenSSH known_hosts file (a missing file knows no hosts), with
/// OpenSSH's semantics ([`super::known_hosts`]): `@revoked` keys are refused, `@cert-authority`
/// lines never trust a plain key, an entry without a port matches port 22 only.
pub fn check_host_key(
    known_hosts: &Path,
    host: &str,
    port: u16,
    key: &HostKey,
) -> Result<HostKeyStatus, TransportError> {
    use super::known_hosts::{Verdict, check_file};
    let verdict =
        check_file(known_hosts, host, port, &key.key).map_err(|e| TransportError::KnownHosts {
            path: known_hosts.display().to_string(),
            message: e.to_string(),
        })?;
    Ok(match verdict {
        Verdict::Trusted => HostKeyStatus::Trusted,
        Verdict::Unknown => HostKeyStatus::Unknown,
        Verdict::Changed => HostKeyStatus::Changed,
        Verdict::Revoked => HostKeyStatus::Revoked,
    })
}

/// Connect and return the server's host key and its status, sending no credentials.
/// Used by `trust-host` and `config check`.
pub fn probe_host_key(opts: &SftpOptions) -> Result<(HostKey, HostKeyStatus), TransportError> {
    let (session, key) = opts.retry.run("connect", |_| handshake(opts))?;
    let status = check_host_key(&opts.known_hosts, &opts.host, opts.port, &key)?;
    let _ = session.disconnect(None, "host key probe done", None);
    Ok((key, status))
}

/// Append a host key to a known_hosts file (created 0600 if missing).
pub fn trust_host_key(opts: &SftpOptions, key: &HostKey) -> Result<(), TransportError> {
    let err = |message: String| TransportError::KnownHosts {
        path: opts.known_hosts.display().to_string(),
        message,
    };
    let session = Session::new().map_err(|e| err(e.to_string()))?;
    let mut kh = session.known_hosts().map_err(|e| err(e.to_string()))?;
    kh.add(
        &opts.known_hosts_name(),
        &key.key,
        "added by immdqa trust-host",
        key.key_type.into(),
    )
    .map_err(|e| err(e.to_string()))?;
    let host = kh
        .hosts()
        .map_err(|e| err(e.to_string()))?
        .pop()
        .ok_or_else(|| err("key not recorded".into()))?;
    let line = kh
        .write_string(&host, KnownHostFileKind::OpenSSH)
        .map_err(|e| err(e.to_string()))?;
    if let Some(dir) = opts.known_hosts.parent() {
        std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    }
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(&opts.known_hosts)
        .map_err(|e| err(e.to_string()))?;
    let line = if line.ends_with('\n') {
        line
    } else {
        line + "\n"
    };
    f.write_all(line.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| err(e.to_string()))
}

fn authenticate(session: &Session, opts: &SftpOptions) -> Result<(), TransportError> {
    let host = opts.label();
    let from_env = |var: &str, what: &str| {
        std::env::var(var).map_err(|_| TransportError::Credentials {
            host: host.clone(),
            message: format!("environment variable {var} ({what}) is not set"),
        })
    };
    let (result, method) = match &opts.auth {
        Auth::KeyFile {
            path,
            passphrase_env,
        } => {
            if !path.exists() {
                return Err(TransportError::Credentials {
                    host,
                    message: format!("key_file {} does not exist", path.display()),
                });
            }
            key_is_private(path).map_err(|message| TransportError::Credentials {
                host: host.clone(),
                message,
            })?;
            let pass = match passphrase_env {
                Some(var) => Some(from_env(var, "key passphrase")?),
                None => None,
            };
            (
                session.userauth_pubkey_file(&opts.user, None, path, pass.as_deref()),
                format!("key {}", path.display()),
            )
        }
        Auth::PasswordEnv(var) => {
            let pw = from_env(var, "password")?;
            (
                session.userauth_password(&opts.user, &pw),
                "password".into(),
            )
        }
        Auth::Password(secret) => (
            session.userauth_password(&opts.user, &secret.0),
            "password".into(),
        ),
    };
    match result {
        Ok(()) if session.authenticated() => Ok(()),
        Ok(()) => Err(TransportError::AuthFailed {
            host,
            user: opts.user.clone(),
            method,
        }),
        Err(e) if is_transient(&e) => Err(TransportError::Connect {
            host,
            message: format!("connection lost during login: {e}"),
        }),
        Err(_) => Err(TransportError::AuthFailed {
            host,
            user: opts.user.clone(),
            method,
        }),
    }
}

/// A private key others can read is refused, as OpenSSH refuses it ("UNPROTECTED PRIVATE KEY
/// FILE"): a key someone else may have copied is not one to log in with unnoticed.
fn key_is_private(path: &std::path::Path) -> Result<(), String> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = std::fs::metadata(path).map_err(|e| format!("key_file {}: {e}", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    // SAFETY: getuid has no preconditions.
    let mine = meta.uid() == unsafe { libc::getuid() };
    if mine && mode & 0o077 != 0 {
        return Err(format!(
            "key_file {} is readable by others (mode {mode:o}); OpenSSH refuses such a key too: run `chmod 600 {}`",
            path.display(),
            path.display()
        ));
    }
    Ok(())
}

/// Whether an ssh2 error means the connection itself failed.
fn is_transient(e: &ssh2::Error) -> bool {
    match e.code() {
        // socket send/recv, timeout, disconnect, channel closed/EOF, transport failures
        ErrorCode::Session(c) => matches!(c, -7 | -9 | -13 | -26 | -27 | -43 | -44 | -2 | -8),
        // SSH_FX_NO_CONNECTION, SSH_FX_CONNECTION_LOST
        ErrorCode::SFTP(c) => c == 6 || c == 7,
    }
}

fn map_err(op: &'static str, path: &str, e: ssh2::Error) -> TransportError {
    match e.code() {
        ErrorCode::SFTP(2) => TransportError::NotFound {
            path: path.to_string(),
        },
        ErrorCode::SFTP(11) => TransportError::AlreadyExists {
            path: path.to_string(),
        },
        _ => TransportError::Io {
            op,
            path: path.to_string(),
            transient: is_transient(&e),
            message: e.to_string(),
        },
    }
}

fn entry_from_stat(name: Vec<u8>, st: &ssh2::FileStat) -> RemoteEntry {
    let ft = st.file_type();
    let kind = if ft.is_symlink() {
        EntryKind::Symlink
    } else if ft.is_file() {
        EntryKind::File
    } else if ft.is_dir() {
        EntryKind::Dir
    } else {
        EntryKind::Other
    };
    RemoteEntry {
        name,
        kind,
        size: st.size.unwrap_or(0),
        mtime: st.mtime.map(|m| m as i64).unwrap_or(0),
        mtime_step: 1,
    }
}

impl SftpFs {
    /// Connect, verify the host key, log in and open the SFTP channel (with retries).
    pub fn connect(opts: SftpOptions) -> Result<SftpFs, TransportError> {
        let (session, sftp) = opts.retry.run("connect", |_| Self::connect_once(&opts))?;
        tracing::info!("connected to {} as {}", opts.label(), opts.user);
        Ok(SftpFs {
            opts,
            session,
            sftp,
        })
    }

    fn connect_once(opts: &SftpOptions) -> Result<(Session, Sftp), TransportError> {
        let (session, key) = handshake(opts)?;
        let status = check_host_key(&opts.known_hosts, &opts.host, opts.port, &key)?;
        type Refusal = fn(String, String, String, String) -> TransportError;
        let refused: Option<(&str, Refusal)> = match status {
            HostKeyStatus::Trusted => None,
            HostKeyStatus::Unknown => Some((
                "unknown host key",
                |host, known_hosts, key_type, fingerprint| TransportError::UnknownHostKey {
                    host,
                    known_hosts,
                    key_type,
                    fingerprint,
                },
            )),
            HostKeyStatus::Revoked => Some((
                "revoked host key",
                |host, known_hosts, key_type, fingerprint| TransportError::RevokedHostKey {
                    host,
                    known_hosts,
                    key_type,
                    fingerprint,
                },
            )),
            HostKeyStatus::Changed => Some((
                "host key mismatch",
                |host, known_hosts, key_type, fingerprint| TransportError::HostKeyChanged {
                    host,
                    known_hosts,
                    key_type,
                    fingerprint,
                },
            )),
        };
        if let Some((why, error)) = refused {
            // nothing but the key exchange has happened: no user name, no credential
            let _ = session.disconnect(None, why, None);
            return Err(error(
                opts.known_hosts_name(),
                opts.known_hosts.display().to_string(),
                key.type_name().to_string(),
                key.fingerprint.clone(),
            ));
        }
        authenticate(&session, opts)?;
        let sftp = session.sftp().map_err(|e| TransportError::Connect {
            host: opts.label(),
            message: format!("cannot start the SFTP subsystem: {e}"),
        })?;
        Ok((session, sftp))
    }
}

impl Drop for SftpFs {
    fn drop(&mut self) {
        let _ = self.session.disconnect(None, "immdqa done", None);
    }
}

impl RemoteFs for SftpFs {
    fn describe(&self) -> String {
        self.opts.describe()
    }

    fn list(&mut self, dir: &str) -> Result<Vec<RemoteEntry>, TransportError> {
        let mut handle = self
            .sftp
            .opendir(Path::new(dir))
            .map_err(|e| map_err("list", dir, e))?;
        let mut out = Vec::new();
        loop {
            match handle.readdir() {
                Ok((path, stat)) => {
                    use std::os::unix::ffi::OsStrExt;
                    let name = path.as_os_str().as_bytes().to_vec();
                    if name == b"." || name == b".." {
                        continue;
                    }
                    out.push(entry_from_stat(name, &stat));
                }
                Err(e) if e.code() == ErrorCode::Session(-16) => break, // LIBSSH2_ERROR_FILE: end
                Err(e) => return Err(map_err("list", dir, e)),
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn open_read(&mut self, path: &str) -> Result<Box<dyn Read + '_>, TransportError> {
        let f = self
            .sftp
            .open(Path::new(path))
            .map_err(|e| map_err("open", path, e))?;
        Ok(Box::new(f))
    }

    fn write_new(&mut self, path: &str, data: &mut dyn Read) -> Result<u64, TransportError> {
        let mut f = self
            .sftp
            .open_mode(
                Path::new(path),
                OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::EXCLUSIVE,
                0o600,
                OpenType::File,
            )
            .map_err(|e| map_err("create", path, e))?;
        let n = std::io::copy(data, &mut f).map_err(|e| TransportError::Io {
            op: "write",
            path: path.to_string(),
            message: e.to_string(),
            transient: true,
        })?;
        f.close().map_err(|e| map_err("close", path, e))?;
        Ok(n)
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<(), TransportError> {
        if self.stat(to)?.is_some() {
            return Err(TransportError::AlreadyExists {
                path: to.to_string(),
            });
        }
        self.sftp
            .rename(
                Path::new(from),
                Path::new(to),
                Some(ssh2::RenameFlags::ATOMIC | ssh2::RenameFlags::NATIVE),
            )
            .map_err(|e| map_err("rename", to, e))
    }

    fn remove(&mut self, path: &str) -> Result<(), TransportError> {
        self.sftp
            .unlink(Path::new(path))
            .map_err(|e| map_err("remove", path, e))
    }

    fn stat(&mut self, path: &str) -> Result<Option<RemoteEntry>, TransportError> {
        match self.sftp.lstat(Path::new(path)) {
            Ok(st) => {
                let name = path.rsplit('/').next().unwrap_or(path).as_bytes().to_vec();
                Ok(Some(entry_from_stat(name, &st)))
            }
            Err(e) if e.code() == ErrorCode::SFTP(2) => Ok(None),
            Err(e) => Err(map_err("stat", path, e)),
        }
    }

    fn reconnect(&mut self) -> Result<(), TransportError> {
        let _ = self.session.disconnect(None, "reconnecting", None);
        let (session, sftp) = self
            .opts
            .retry
            .run("reconnect", |_| Self::connect_once(&self.opts))?;
        self.session = session;
        self.sftp = sftp;
        tracing::info!("reconnected to {}", self.opts.label());
        Ok(())
    }
}
