//! An SFTP server (russh + russh-sftp) serving a folder on 127.0.0.1, in-process: the mailbox
//! of `immdqa demo`, and the test server of the test suite.
//!
//! Password login (and optionally one public key); a fresh host key per run unless one is
//! given. For tests it can inject faults: drop the connection after N bytes sent or received
//! (on the first K connections) and add hostile names to every listing. It counts connections
//! and every authentication attempt (including `none`), so tests can prove nothing was sent
//! before the host key check. Paths never leave the served folder.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use russh::keys::PrivateKey;
use russh::server::{Auth, ChannelOpenHandle, Msg, Session};
use russh::{Channel, ChannelId};
use russh_sftp::protocol::{
    Attrs, Data, File, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode, Version,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Mutex;

/// A new ed25519 host key from the operating system's random source.
pub fn fresh_host_key() -> std::io::Result<PrivateKey> {
    let mut seed = [0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut seed)?;
    let pair = russh::keys::ssh_key::private::Ed25519Keypair::from_seed(&seed);
    Ok(PrivateKey::from(pair))
}

#[derive(Clone)]
pub struct ServerOptions {
    pub root: PathBuf,
    pub user: String,
    pub password: String,
    pub host_key: PrivateKey,
    /// A public key (OpenSSH one-line form) accepted for key login.
    pub authorized_key: Option<String>,
    /// Drop the connection after this many bytes sent to the client...
    pub drop_after_bytes: Option<u64>,
    /// ...on this many of the first connections.
    pub drop_connections: usize,
    /// Drop the connection after this many bytes received from the client (uploads), on the
    /// first `drop_connections` connections.
    pub drop_after_received: Option<u64>,
    /// Names added to every directory listing (as regular 5-byte files).
    pub extra_names: Vec<String>,
}

impl ServerOptions {
    pub fn new(root: &Path, host_key: PrivateKey) -> ServerOptions {
        ServerOptions {
            root: root.to_path_buf(),
            user: "tester".into(),
            password: "s3cret-pass".into(),
            host_key,
            authorized_key: None,
            drop_after_bytes: None,
            drop_connections: 0,
            drop_after_received: None,
            extra_names: vec![],
        }
    }
}

#[derive(Default, Debug)]
pub struct Stats {
    pub connections: AtomicUsize,
    pub auth_attempts: AtomicUsize,
    pub files_opened: AtomicUsize,
    pub writes: AtomicUsize,
    pub removes: AtomicUsize,
    pub bytes_read: AtomicU64,
}

pub struct SftpServer {
    pub addr: SocketAddr,
    pub stats: Arc<Stats>,
    _rt: tokio::runtime::Runtime,
}

impl SftpServer {
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

/// A socket that fails (and so drops the connection) after `limit` bytes written.
struct Faulty {
    inner: tokio::net::TcpStream,
    sent: u64,
    limit: Option<u64>,
    received: u64,
    recv_limit: Option<u64>,
}

impl AsyncRead for Faulty {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if let Some(limit) = self.recv_limit
            && self.received >= limit
        {
            return Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "injected fault: connection dropped",
            )));
        }
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.received += (buf.filled().len() - before) as u64;
        r
    }
}

impl AsyncWrite for Faulty {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let mut n = buf.len();
        if let Some(limit) = self.limit {
            if self.sent >= limit {
                return Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "injected fault: connection dropped",
                )));
            }
            n = n.min((limit - self.sent) as usize);
        }
        match Pin::new(&mut self.inner).poll_write(cx, &buf[..n]) {
            Poll::Ready(Ok(w)) => {
                self.sent += w as u64;
                Poll::Ready(Ok(w))
            }
            other => other,
        }
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Start serving on 127.0.0.1 (a free port); runs until the returned value is dropped.
pub fn start(opts: ServerOptions) -> std::io::Result<SftpServer> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let stats = Arc::new(Stats::default());
    let config = Arc::new(russh::server::Config {
        keys: vec![opts.host_key.clone()],
        auth_rejection_time: Duration::from_millis(5),
        auth_rejection_time_initial: Some(Duration::ZERO),
        inactivity_timeout: Some(Duration::from_secs(60)),
        ..Default::default()
    });
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    let st = stats.clone();
    rt.spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                break;
            };
            let n = st.connections.fetch_add(1, Ordering::SeqCst);
            let (limit, recv_limit) = if n < opts.drop_connections {
                (opts.drop_after_bytes, opts.drop_after_received)
            } else {
                (None, None)
            };
            let stream = Faulty {
                inner: sock,
                sent: 0,
                limit,
                received: 0,
                recv_limit,
            };
            let handler = SshHandler {
                opts: opts.clone(),
                stats: st.clone(),
                channels: Arc::new(Mutex::new(HashMap::new())),
            };
            let config = config.clone();
            tokio::spawn(async move {
                if let Ok(running) = russh::server::run_stream(config, stream, handler).await {
                    let _ = running.await;
                }
            });
        }
    });
    Ok(SftpServer {
        addr,
        stats,
        _rt: rt,
    })
}

struct SshHandler {
    opts: ServerOptions,
    stats: Arc<Stats>,
    channels: Arc<Mutex<HashMap<ChannelId, Channel<Msg>>>>,
}

impl russh::server::Handler for SshHandler {
    type Error = anyhow::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        self.stats.auth_attempts.fetch_add(1, Ordering::SeqCst);
        Ok(Auth::reject())
    }

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        self.stats.auth_attempts.fetch_add(1, Ordering::SeqCst);
        if user == self.opts.user && password == self.opts.password {
            Ok(Auth::Accept)
        } else {
            Ok(Auth::reject())
        }
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: russh::server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        self.stats.auth_attempts.fetch_add(1, Ordering::SeqCst);
        self.check_key(user, offer.public_key)
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        self.stats.auth_attempts.fetch_add(1, Ordering::SeqCst);
        self.check_key(user, key.public_key)
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.lock().await.insert(channel.id(), channel);
        reply.accept().await;
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.close(channel)?;
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel_id: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let channel = self.channels.lock().await.remove(&channel_id);
        match (name, channel) {
            ("sftp", Some(channel)) => {
                session.channel_success(channel_id)?;
                let fs = SftpFs {
                    root: self.opts.root.clone(),
                    extra_names: self.opts.extra_names.clone(),
                    stats: self.stats.clone(),
                    handles: HashMap::new(),
                    next: 0,
                };
                russh_sftp::server::run(channel.into_stream(), fs).await;
            }
            _ => session.channel_failure(channel_id)?,
        }
        Ok(())
    }
}

impl SshHandler {
    fn check_key(&self, user: &str, key: &russh::keys::PublicKey) -> Result<Auth, anyhow::Error> {
        let Some(authorized) = &self.opts.authorized_key else {
            return Ok(Auth::reject());
        };
        let want = russh::keys::PublicKey::from_openssh(authorized.trim())?;
        if user == self.opts.user && key.key_data() == want.key_data() {
            Ok(Auth::Accept)
        } else {
            Ok(Auth::reject())
        }
    }
}

enum Open {
    File(std::fs::File),
    Dir { entries: Vec<File>, sent: bool },
}

struct SftpFs {
    root: PathBuf,
    extra_names: Vec<String>,
    stats: Arc<Stats>,
    handles: HashMap<String, Open>,
    next: u64,
}

fn ok(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Ok".into(),
        language_tag: "en-US".into(),
    }
}

fn io_code(e: &std::io::Error) -> StatusCode {
    match e.kind() {
        std::io::ErrorKind::NotFound => StatusCode::NoSuchFile,
        std::io::ErrorKind::PermissionDenied => StatusCode::PermissionDenied,
        _ => StatusCode::Failure,
    }
}

fn attrs_of(m: &std::fs::Metadata) -> FileAttributes {
    use std::os::unix::fs::MetadataExt;
    FileAttributes {
        size: Some(m.len()),
        uid: Some(m.uid()),
        gid: Some(m.gid()),
        permissions: Some(m.mode()),
        atime: Some(m.atime() as u32),
        mtime: Some(m.mtime() as u32),
        ..Default::default()
    }
}

impl SftpFs {
    fn resolve(&self, path: &str) -> Result<PathBuf, StatusCode> {
        let rel = Path::new(path.trim_start_matches('/'));
        if rel
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(StatusCode::PermissionDenied);
        }
        Ok(self.root.join(rel))
    }
    fn new_handle(&mut self, h: Open) -> String {
        self.next += 1;
        let name = format!("h{}", self.next);
        self.handles.insert(name.clone(), h);
        name
    }
}

impl russh_sftp::server::Handler for SftpFs {
    type Error = StatusCode;

    fn unimplemented(&self) -> Self::Error {
        StatusCode::OpUnsupported
    }

    async fn init(
        &mut self,
        _version: u32,
        _extensions: HashMap<String, String>,
    ) -> Result<Version, Self::Error> {
        Ok(Version::new())
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, Self::Error> {
        let p = if path.is_empty() || path == "." {
            "/".to_string()
        } else {
            path
        };
        Ok(Name {
            id,
            files: vec![File::dummy(p)],
        })
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, Self::Error> {
        let dir = self.resolve(&path)?;
        let rd = std::fs::read_dir(&dir).map_err(|e| io_code(&e))?;
        let mut entries = Vec::new();
        for e in rd.flatten() {
            if let Ok(m) = e.path().symlink_metadata() {
                entries.push(File::new(
                    e.file_name().to_string_lossy().into_owned(),
                    attrs_of(&m),
                ));
            }
        }
        for n in &self.extra_names {
            let mut a = FileAttributes {
                size: Some(5),
                mtime: Some(1_700_000_000),
                permissions: Some(0o644),
                ..Default::default()
            };
            a.set_regular(true);
            entries.push(File::new(n.clone(), a));
        }
        let handle = self.new_handle(Open::Dir {
            entries,
            sent: false,
        });
        Ok(Handle { id, handle })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, Self::Error> {
        match self.handles.get_mut(&handle) {
            Some(Open::Dir { entries, sent }) if !*sent => {
                *sent = true;
                Ok(Name {
                    id,
                    files: std::mem::take(entries),
                })
            }
            Some(Open::Dir { .. }) => Err(StatusCode::Eof),
            _ => Err(StatusCode::Failure),
        }
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        _attrs: FileAttributes,
    ) -> Result<Handle, Self::Error> {
        let path = self.resolve(&filename)?;
        let f = std::fs::OpenOptions::from(pflags)
            .open(&path)
            .map_err(|e| io_code(&e))?;
        self.stats.files_opened.fetch_add(1, Ordering::SeqCst);
        let handle = self.new_handle(Open::File(f));
        Ok(Handle { id, handle })
    }

    async fn read(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        len: u32,
    ) -> Result<Data, Self::Error> {
        let Some(Open::File(f)) = self.handles.get_mut(&handle) else {
            return Err(StatusCode::Failure);
        };
        f.seek(SeekFrom::Start(offset)).map_err(|e| io_code(&e))?;
        let mut buf = vec![0u8; len as usize];
        let n = f.read(&mut buf).map_err(|e| io_code(&e))?;
        if n == 0 {
            return Err(StatusCode::Eof);
        }
        buf.truncate(n);
        self.stats.bytes_read.fetch_add(n as u64, Ordering::SeqCst);
        Ok(Data { id, data: buf })
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<Status, Self::Error> {
        let Some(Open::File(f)) = self.handles.get_mut(&handle) else {
            return Err(StatusCode::Failure);
        };
        f.seek(SeekFrom::Start(offset)).map_err(|e| io_code(&e))?;
        f.write_all(&data).map_err(|e| io_code(&e))?;
        self.stats.writes.fetch_add(1, Ordering::SeqCst);
        Ok(ok(id))
    }

    async fn close(&mut self, id: u32, handle: String) -> Result<Status, Self::Error> {
        self.handles.remove(&handle);
        Ok(ok(id))
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let p = self.resolve(&path)?;
        let m = p.symlink_metadata().map_err(|e| io_code(&e))?;
        Ok(Attrs {
            id,
            attrs: attrs_of(&m),
        })
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, Self::Error> {
        let p = self.resolve(&path)?;
        let m = p.metadata().map_err(|e| io_code(&e))?;
        Ok(Attrs {
            id,
            attrs: attrs_of(&m),
        })
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, Self::Error> {
        let Some(Open::File(f)) = self.handles.get(&handle) else {
            return Err(StatusCode::Failure);
        };
        let m = f.metadata().map_err(|e| io_code(&e))?;
        Ok(Attrs {
            id,
            attrs: attrs_of(&m),
        })
    }

    async fn setstat(
        &mut self,
        id: u32,
        _path: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        Ok(ok(id))
    }

    async fn rename(
        &mut self,
        id: u32,
        oldpath: String,
        newpath: String,
    ) -> Result<Status, Self::Error> {
        let (a, b) = (self.resolve(&oldpath)?, self.resolve(&newpath)?);
        if b.exists() {
            return Err(StatusCode::Failure);
        }
        std::fs::rename(a, b).map_err(|e| io_code(&e))?;
        Ok(ok(id))
    }

    async fn remove(&mut self, id: u32, filename: String) -> Result<Status, Self::Error> {
        let p = self.resolve(&filename)?;
        std::fs::remove_file(p).map_err(|e| io_code(&e))?;
        self.stats.removes.fetch_add(1, Ordering::SeqCst);
        Ok(ok(id))
    }

    async fn mkdir(
        &mut self,
        id: u32,
        path: String,
        _attrs: FileAttributes,
    ) -> Result<Status, Self::Error> {
        let p = self.resolve(&path)?;
        std::fs::create_dir(p).map_err(|e| io_code(&e))?;
        Ok(ok(id))
    }
}
