//! FTPS (FTP over TLS), the registry's second documented method: implicit TLS on port 990
//! (the registry's setting) or explicit `AUTH TLS` on port 21, passive mode, through suppaftp
//! with rustls. rustls, not native-tls: vsftpd (and the registry's recommended settings)
//! require the data connections to resume the control connection's TLS session, which
//! suppaftp's rustls backend does (one `ClientConfig`, one session cache, for all of them).
//!
//! The server's identity is checked during the TLS handshake, before the user name or
//! password is sent: against the system's roots (plus `ca_file`), or, with `tls_fingerprint`,
//! against that SHA-256 pin alone (a self-signed certificate works when pinned; any other
//! certificate stops the run loudly). After login `PBSZ 0` and `PROT P` are sent (suppaftp
//! does not in implicit mode). Same [`RemoteFs`] semantics as SFTP: listings with size and
//! mtime (MLSD where offered, else LIST parsed and MDTM for times), streaming reads, uploads
//! that never overwrite, renames refusing an existing target, reconnect on transient failures.

use std::io::Read;
use std::net::ToSocketAddrs;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use suppaftp::list::ListParser;
use suppaftp::types::FileType;
use suppaftp::{FtpError, RustlsConnector, RustlsFtpStream, Status};

use super::preflight::Preflight;
use super::{Auth, EntryKind, RemoteEntry, RemoteFs, Retry, TransportError};

/// Everything needed to open (and reopen) the connection.
#[derive(Debug, Clone)]
pub struct FtpsOptions {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub auth: Auth,
    /// Implicit TLS (port 990) rather than `AUTH TLS`.
    pub implicit: bool,
    /// The server certificate's SHA-256, when pinned.
    pub pin: Option<[u8; 32]>,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
    pub retry: Retry,
}

impl FtpsOptions {
    fn label(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// `ftps://user@host:port`: what the connection says it is, before and after connecting.
    pub(super) fn describe(&self) -> String {
        format!("ftps://{}@{}", self.user, self.label())
    }

    /// Where it connects, how it logs in, and which certificate it accepts (`config check`).
    pub(super) fn preflight(&self, name: &str, p: &mut Preflight) {
        let tls = if self.implicit {
            "implicit"
        } else {
            "explicit"
        };
        p.line("transport", format!("{} ({tls} TLS)", self.describe()));
        super::preflight::auth(p, name, &self.auth);
        match (&self.pin, &self.ca_file) {
            (Some(pin), _) => p.line("certificate", format!("pinned {}", format_fingerprint(pin))),
            (None, Some(ca)) => {
                p.line("certificate", format!("system roots and {}", ca.display()));
                if !ca.is_file() {
                    p.problems.push(format!(
                        "profile '{name}': ca_file {} does not exist",
                        ca.display()
                    ));
                }
            }
            (None, None) => p.line(
                "certificate",
                "system roots (or pin one: immdqa trust-host)".into(),
            ),
        }
    }
}

/// `SHA256:<base64>`, as `ssh-keygen` and immdqa print fingerprints.
pub fn format_fingerprint(hash: &[u8; 32]) -> String {
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(hash)
    )
}

/// Read a pinned fingerprint: `SHA256:<base64>` (padded or not), or the colon-separated hex
/// `openssl x509 -noout -fingerprint -sha256` prints (with or without its
/// `sha256 Fingerprint=` prefix), or plain hex.
pub fn parse_fingerprint(s: &str) -> Result<[u8; 32], String> {
    let s = s.trim();
    let s = s
        .split_once('=')
        .filter(|(k, _)| k.to_ascii_lowercase().contains("fingerprint"))
        .map(|(_, v)| v.trim())
        .unwrap_or(s);
    let prefixed = s
        .strip_prefix("SHA256:")
        .or_else(|| s.strip_prefix("sha256:"));
    // `SHA256:` before openssl's colon hex (as FileZilla shows it) is hex: base64 has no colons
    let (s, prefixed) = match prefixed {
        Some(h) if h.contains(':') => (h, None),
        other => (s, other),
    };
    let bytes = if let Some(b64) = prefixed {
        let b64 = b64.trim_end_matches('=');
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(b64)
            .map_err(|e| format!("'{s}' is not SHA256:<base64> ({e})"))?
    } else {
        let hex: String = s.chars().filter(|c| *c != ':').collect();
        if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!(
                "'{s}' is neither SHA256:<base64> nor 32 hex bytes (AB:CD:…)"
            ));
        }
        (0..32)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    };
    bytes
        .try_into()
        .map_err(|_| format!("'{s}' is not a SHA-256 fingerprint (32 bytes)"))
}

/// What the identity check saw: the presented certificate's fingerprint, and why it was
/// refused (None: accepted, or not reached).
#[derive(Debug, Default)]
struct Seen {
    fingerprint: Option<[u8; 32]>,
    refused: Option<String>,
}

/// Where the verifier reports what it saw, for messages and `trust-host`.
type Presented = Arc<Mutex<Seen>>;

/// Checks the server certificate: the pin alone when there is one, else the roots.
#[derive(Debug)]
struct Identity {
    pin: Option<[u8; 32]>,
    roots: Option<Arc<dyn ServerCertVerifier>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
    presented: Presented,
}

impl ServerCertVerifier for Identity {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let hash: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
        let verdict = match (&self.pin, &self.roots) {
            (Some(pin), _) if *pin == hash => Ok(ServerCertVerified::assertion()),
            (Some(pin), _) => Err(rustls::Error::General(format!(
                "the server's certificate {} is not the pinned {}",
                format_fingerprint(&hash),
                format_fingerprint(pin)
            ))),
            (None, Some(roots)) => {
                roots.verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            }
            (None, None) => Err(rustls::Error::General(
                "no trusted root certificates and no tls_fingerprint pin".into(),
            )),
        };
        *self.presented.lock().unwrap() = Seen {
            fingerprint: Some(hash),
            refused: verdict.as_ref().err().map(|e| e.to_string()),
        };
        verdict
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The TLS configuration (one per connection, shared by its data connections so they resume
/// its session) and where the presented certificate's fingerprint lands.
fn tls_config(o: &FtpsOptions) -> Result<(Arc<rustls::ClientConfig>, Presented), TransportError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let err = |message: String| TransportError::Connect {
        host: o.label(),
        message,
    };
    let roots: Option<Arc<dyn ServerCertVerifier>> = if o.pin.is_some() {
        None
    } else {
        let mut store = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = store.add(cert);
        }
        if let Some(ca) = &o.ca_file {
            use rustls::pki_types::pem::PemObject;
            let certs = CertificateDer::pem_file_iter(ca)
                .map_err(|e| err(format!("ca_file {}: {e}", ca.display())))?;
            for c in certs {
                let c = c.map_err(|e| err(format!("ca_file {}: {e}", ca.display())))?;
                store
                    .add(c)
                    .map_err(|e| err(format!("ca_file {}: {e}", ca.display())))?;
            }
        }
        if store.is_empty() {
            None
        } else {
            Some(
                rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(store),
                    provider.clone(),
                )
                .build()
                .map_err(|e| err(format!("certificate roots: {e}")))?,
            )
        }
    };
    let presented = Presented::default();
    let identity = Identity {
        pin: o.pin,
        roots,
        provider: provider.clone(),
        presented: presented.clone(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err(format!("TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(identity))
        .with_no_client_auth();
    Ok((Arc::new(config), presented))
}

/// A server reply code, when the error is one.
/// An FTPS failure as a sentence a person can act on, not the library's debug text
/// ("Connection error: received corrupt message of type InvalidContentType").
fn describe(e: &FtpError) -> String {
    match e {
        FtpError::ConnectionError(io) => {
            use std::io::ErrorKind::*;
            let text = io.to_string();
            match io.kind() {
                ConnectionRefused => {
                    "nothing accepts connections on that port (connection refused): check host and port (implicit FTPS is port 990, explicit 21)".into()
                }
                TimedOut | WouldBlock => {
                    "the server did not answer in time (timeout_secs): it may be down or a firewall drops the connection".into()
                }
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => {
                    "the server closed the connection".into()
                }
                _ if text.contains("InvalidContentType") || text.contains("corrupt message") => {
                    "the server did not answer with TLS (it sent plain text, such as an FTP error like vsftpd's \"500 OOPS\"): check tls = \"implicit\" (port 990) or \"explicit\" (port 21) with the registry, and the server's log".into()
                }
                _ if text.contains("certificate") || text.contains("Certificate") => {
                    format!("the TLS handshake failed on the server's certificate ({})", tls_reason(&text))
                }
                _ => format!("the connection failed: {}", tls_reason(&text)),
            }
        }
        FtpError::SecureError(text) => format!("the TLS session failed: {}", tls_reason(text)),
        FtpError::UnexpectedResponse(r) => format!(
            "the server answered {} {}",
            r.status.code(),
            r.as_string().unwrap_or_default().trim()
        ),
        FtpError::BadResponse => "the server's answer could not be read as FTP".into(),
        other => other.to_string(),
    }
}

/// rustls' reasons in words (its `Debug` names otherwise).
fn tls_reason(text: &str) -> String {
    let words = [
        ("UnknownIssuer", "issued by an authority not trusted here"),
        ("NotValidForName", "not issued for this host name"),
        ("Expired", "expired"),
        ("BadSignature", "its signature does not verify"),
        ("HandshakeFailure", "no common TLS settings"),
        ("DecryptError", "the data could not be decrypted"),
    ];
    for (name, said) in words {
        if text.contains(name) {
            return said.to_string();
        }
    }
    text.to_string()
}

fn reply_code(e: &FtpError) -> Option<u32> {
    match e {
        FtpError::UnexpectedResponse(r) => Some(r.status.code()),
        _ => None,
    }
}

fn map_err(op: &'static str, path: &str, e: FtpError) -> TransportError {
    match (&e, reply_code(&e)) {
        (_, Some(550)) => TransportError::NotFound {
            path: path.to_string(),
        },
        (_, Some(code)) => TransportError::Io {
            op,
            path: path.to_string(),
            message: describe(&e),
            // 4xx are transient by definition (421 closing, 425/426 data connection)
            transient: (400..500).contains(&code),
        },
        (FtpError::ConnectionError(_), _) | (FtpError::SecureError(_), _) => TransportError::Io {
            op,
            path: path.to_string(),
            message: describe(&e),
            transient: true,
        },
        _ => TransportError::Io {
            op,
            path: path.to_string(),
            message: describe(&e),
            transient: false,
        },
    }
}

/// An open FTPS session on the registry mailbox.
pub struct FtpsFs {
    opts: FtpsOptions,
    ftp: RustlsFtpStream,
    /// Whether the server answers MLSD (None: not tried yet).
    mlsd: Option<bool>,
}

/// The fingerprint of the certificate a server presents (connecting, sending no credential):
/// for `trust-host` and `config check`.
pub fn probe_certificate(o: &FtpsOptions) -> Result<String, TransportError> {
    let mut unpinned = o.clone();
    unpinned.pin = Some([0; 32]); // any pin: the handshake stops after the certificate
    let (config, presented) = tls_config(&unpinned)?;
    let _ = open_control(&unpinned, config);
    let hash = presented
        .lock()
        .unwrap()
        .fingerprint
        .ok_or_else(|| TransportError::Connect {
            host: o.label(),
            message: "the server presented no certificate".into(),
        })?;
    Ok(format_fingerprint(&hash))
}

/// TCP + TLS (implicit, or AUTH TLS): nothing but the handshake, no user name yet.
fn open_control(
    o: &FtpsOptions,
    config: Arc<rustls::ClientConfig>,
) -> Result<RustlsFtpStream, FtpError> {
    let connector = RustlsConnector::from(config);
    let addr = (o.host.as_str(), o.port)
        .to_socket_addrs()
        .map_err(FtpError::ConnectionError)?
        .next()
        .ok_or_else(|| {
            FtpError::ConnectionError(std::io::Error::other("the host name has no address"))
        })?;
    if o.implicit {
        RustlsFtpStream::connect_secure_implicit(addr, connector, &o.host)
    } else {
        RustlsFtpStream::connect_timeout(addr, o.timeout)?.into_secure(connector, &o.host)
    }
}

impl FtpsFs {
    pub fn connect(opts: FtpsOptions) -> Result<FtpsFs, TransportError> {
        let ftp = opts.retry.run("connect", |_| Self::connect_once(&opts))?;
        tracing::info!("connected to {} as {} (FTPS)", opts.label(), opts.user);
        Ok(FtpsFs {
            opts,
            ftp,
            mlsd: None,
        })
    }

    fn connect_once(o: &FtpsOptions) -> Result<RustlsFtpStream, TransportError> {
        let started = std::time::Instant::now();
        let (config, presented) = tls_config(o)?;
        let ftp = match open_control(o, config) {
            Ok(f) => f,
            Err(e) => {
                // a certificate that fails the identity check stops the run, not retried; the
                // verifier says so (rustls handshakes on the first read, so the error itself
                // may come back as a mere connection error)
                let seen = presented.lock().unwrap();
                if let (Some(hash), Some(why)) = (seen.fingerprint, &seen.refused) {
                    return Err(TransportError::TlsIdentity {
                        host: o.label(),
                        fingerprint: format_fingerprint(&hash),
                        message: why.clone(),
                    });
                }
                return Err(TransportError::Connect {
                    host: o.label(),
                    message: describe(&e),
                });
            }
        };
        // the registry recommends a 65 s network time-out: on the control connection and on
        // every passive data connection (the implicit connect itself has none in suppaftp)
        let t = o.timeout;
        {
            let control = ftp.get_ref();
            let _ = control.set_read_timeout(Some(t));
            let _ = control.set_write_timeout(Some(t));
        }
        let mut ftp = ftp.passive_stream_builder(move |addr| {
            let s = std::net::TcpStream::connect_timeout(&addr, t)
                .map_err(FtpError::ConnectionError)?;
            let _ = s.set_read_timeout(Some(t));
            let _ = s.set_write_timeout(Some(t));
            Ok(s)
        });
        if let Some(h) = presented.lock().unwrap().fingerprint {
            tracing::info!(
                "TLS handshake with {} in {:.0?}: certificate {}{}",
                o.label(),
                started.elapsed(),
                format_fingerprint(&h),
                if o.pin.is_some() { " (pinned)" } else { "" }
            );
        }
        let password = o.auth.password(&o.label())?;
        ftp.login(o.user.as_str(), password.0.as_str())
            .map_err(|e| match reply_code(&e) {
                Some(530) => TransportError::AuthFailed {
                    host: o.label(),
                    user: o.user.clone(),
                    method: "password".into(),
                },
                _ => TransportError::Connect {
                    host: o.label(),
                    message: format!("login: {}", describe(&e)),
                },
            })?;
        if o.implicit {
            // suppaftp sends these itself only after AUTH TLS
            for cmd in ["PBSZ 0", "PROT P"] {
                ftp.custom_command(cmd, &[Status::CommandOk]).map_err(|e| {
                    TransportError::Connect {
                        host: o.label(),
                        message: format!("{cmd}: {}", describe(&e)),
                    }
                })?;
            }
        }
        ftp.transfer_type(FileType::Binary)
            .map_err(|e| map_err("TYPE I", "", e))?;
        Ok(ftp)
    }

    fn mdtm(&mut self, path: &str) -> i64 {
        self.ftp
            .mdtm(path)
            .map(|t| t.and_utc().timestamp())
            .unwrap_or(0)
    }
}

impl Drop for FtpsFs {
    fn drop(&mut self) {
        let _ = self.ftp.quit();
    }
}

fn entry_of(f: &suppaftp::list::File) -> RemoteEntry {
    let kind = if f.is_directory() {
        EntryKind::Dir
    } else if f.is_symlink() {
        EntryKind::Symlink
    } else if f.is_file() {
        EntryKind::File
    } else {
        EntryKind::Other
    };
    let mtime = f
        .modified()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    RemoteEntry {
        name: f.name().as_bytes().to_vec(),
        kind,
        size: f.size() as u64,
        mtime,
        mtime_step: 1,
    }
}

/// A download's data connection: at its end the server's completion reply is read, and a
/// transfer the server reports as failed is an error, not a short file.
struct Download<T: suppaftp::TlsStream> {
    stream: Option<suppaftp::TransferStream<T>>,
}

impl<T: suppaftp::TlsStream> Read for Download<T> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(s) = self.stream.as_mut() else {
            return Ok(0);
        };
        let n = s.read(buf)?;
        if n == 0 && !buf.is_empty() {
            let s = self.stream.take().expect("checked above");
            s.finish()
                .map_err(|e| std::io::Error::other(describe(&e)))?;
        }
        Ok(n)
    }
}

impl RemoteFs for FtpsFs {
    fn describe(&self) -> String {
        self.opts.describe()
    }

    fn list(&mut self, dir: &str) -> Result<Vec<RemoteEntry>, TransportError> {
        let dir_arg = if dir.is_empty() { None } else { Some(dir) };
        if self.mlsd != Some(false) {
            match self.ftp.mlsd(dir_arg) {
                Ok(lines) => {
                    self.mlsd = Some(true);
                    return Ok(lines
                        .iter()
                        .filter_map(|l| ListParser::parse_mlsd(l).ok())
                        .filter(|f| f.name() != "." && f.name() != "..")
                        .map(|f| entry_of(&f))
                        .collect());
                }
                Err(e) if matches!(reply_code(&e), Some(500..=502)) => self.mlsd = Some(false),
                Err(e) => return Err(map_err("list", dir, e)),
            }
        }
        let lines = self
            .ftp
            .list(dir_arg)
            .map_err(|e| map_err("list", dir, e))?;
        // LIST times are coarse: the minute for recent files, the day for older ones (no
        // seconds, no time zone). They are marked so: the fetch plan asks MDTM for the exact
        // time only where the coarse one does not settle whether a file changed.
        Ok(lines
            .iter()
            .filter_map(|l| {
                ListParser::parse_posix(l)
                    .or_else(|_| ListParser::parse_dos(l))
                    .ok()
            })
            .filter(|f| f.name() != "." && f.name() != "..")
            .map(|f| {
                let mut e = entry_of(&f);
                e.mtime_step = if e.mtime.rem_euclid(86_400) == 0 {
                    86_400
                } else {
                    60
                };
                e
            })
            .collect())
    }

    fn open_read(&mut self, path: &str) -> Result<Box<dyn Read + '_>, TransportError> {
        let stream = self
            .ftp
            .retr_as_stream(path)
            .map_err(|e| map_err("download", path, e))?;
        Ok(Box::new(Download {
            stream: Some(stream),
        }))
    }

    fn write_new(&mut self, path: &str, data: &mut dyn Read) -> Result<u64, TransportError> {
        if self.stat(path)?.is_some() {
            return Err(TransportError::AlreadyExists {
                path: path.to_string(),
            });
        }
        self.ftp
            .put_file(path, &mut &mut *data)
            .map_err(|e| map_err("upload", path, e))
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<(), TransportError> {
        if self.stat(to)?.is_some() {
            return Err(TransportError::AlreadyExists {
                path: to.to_string(),
            });
        }
        self.ftp
            .rename(from, to)
            .map_err(|e| map_err("rename", from, e))
    }

    fn remove(&mut self, path: &str) -> Result<(), TransportError> {
        self.ftp.rm(path).map_err(|e| map_err("remove", path, e))
    }

    fn stat(&mut self, path: &str) -> Result<Option<RemoteEntry>, TransportError> {
        match self.ftp.size(path) {
            Ok(size) => {
                let mtime = self.mdtm(path);
                let name = path.rsplit('/').next().unwrap_or(path);
                Ok(Some(RemoteEntry {
                    name: name.as_bytes().to_vec(),
                    kind: EntryKind::File,
                    size: size as u64,
                    mtime,
                    mtime_step: 1,
                }))
            }
            Err(e) if reply_code(&e) == Some(550) => Ok(None),
            Err(e) => Err(map_err("stat", path, e)),
        }
    }

    fn reconnect(&mut self) -> Result<(), TransportError> {
        let ftp = Self::connect_once(&self.opts)?;
        let _ = std::mem::replace(&mut self.ftp, ftp).quit();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A "server" on loopback that answers in clear text (vsftpd's "500 OOPS" when the user's
    /// home cannot be entered) where TLS is expected: the error is a sentence saying what to
    /// check, not rustls' "received corrupt message of type InvalidContentType".
    #[test]
    fn a_server_answering_in_clear_text_gets_a_sentence_not_debug_text() {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = listener.accept() {
                let _ = s.write_all(b"500 OOPS: cannot change directory:/nonexistent\r\n");
            }
        });
        let opts = FtpsOptions {
            host: "127.0.0.1".into(),
            port,
            user: "u".into(),
            auth: crate::transport::Auth::PasswordEnv("IMMDQA_NO_SUCH_VAR".into()),
            implicit: true,
            pin: Some([0; 32]),
            ca_file: None,
            timeout: Duration::from_secs(5),
            retry: Retry {
                attempts: 0,
                first_delay: Duration::from_millis(1),
                stop_after_failures: 3,
            },
        };
        let err = match FtpsFs::connect(opts) {
            Ok(_) => panic!("connected to a clear-text server"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("did not answer with TLS"), "{err}");
        assert!(err.contains("tls = \"implicit\""), "{err}");
        assert!(!err.contains("InvalidContentType"), "{err}");
        // a port nobody listens on
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let e = describe(&FtpError::ConnectionError(
            std::net::TcpStream::connect(("127.0.0.1", port)).unwrap_err(),
        ));
        assert!(
            e.contains("connection refused") && e.contains("port 990"),
            "{e}"
        );
    }

    #[test]
    fn fingerprints_in_every_spelling() {
        let hash: [u8; 32] = Sha256::digest(b"cert").into();
        let b64 = format_fingerprint(&hash);
        let hex: Vec<String> = hash.iter().map(|b| format!("{b:02X}")).collect();
        for s in [
            b64.clone(),
            format!("{b64}="),
            hex.join(":"),
            format!("sha256 Fingerprint={}", hex.join(":")),
            hex.join("").to_lowercase(),
            // FileZilla's spelling: the prefix with openssl's colon hex
            format!("SHA256:{}", hex.join(":")),
        ] {
            assert_eq!(parse_fingerprint(&s), Ok(hash), "{s}");
        }
        assert!(parse_fingerprint("SHA256:abc").is_err());
        assert!(parse_fingerprint("12:34").is_err());
    }
}
