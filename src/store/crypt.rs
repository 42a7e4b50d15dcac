//! Encryption at rest: the store key, where it was found, and what it seals.
//!
//! One random 256-bit secret per store, kept in a key file outside the store (mode 0600, 64
//! hex digits). It is used three ways:
//! - SQLCipher's raw key for `history.sqlite` and `audit.sqlite` (`PRAGMA key = "x'…'"`: no
//!   password derivation on open, so a CLI command pays nothing for it), pages of 16 KiB;
//! - archived files, sealed with XChaCha20-Poly1305 in STREAM mode (RustCrypto's `aead`
//!   `stream`, big-endian 32-bit counter, 64 KiB chunks) under a key derived with
//!   HKDF-SHA256 ("immdqa archive v1"): written as they arrive, read back with random access
//!   (the report parsers seek), a truncated, reordered or altered file fails to read;
//! - journal lines (`uploads.jsonl`, the worklist and consent action journals, whose notes are
//!   free text), each sealed on its own under a second derived key ("immdqa journal v1").
//!
//! Why not `age`: its symmetric mode derives a key from a passphrase with scrypt for every file
//! (seconds per thousand files), and its crate brings a large tree; the STREAM construction it
//! uses inside is the one used here, from the same RustCrypto crates, without the rest.
//!
//! A file is sealed when it starts with [`SEALED_MAGIC`]; anything else is read as plain text
//! (a store from before encryption). Content hashes are always the hashes of the plain bytes.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chacha20poly1305::aead::stream::{NewStream, StreamBE32, StreamPrimitive};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

/// The environment variable naming a key file (before the config's `store_key_file`).
pub const KEY_FILE_ENV: &str = "IMMDQA_STORE_KEY_FILE";
/// The name of the key among systemd's credentials (`LoadCredential=immdqa-store-key:…`).
pub const CREDENTIAL_NAME: &str = "immdqa-store-key";
/// How a sealed archive file starts.
pub const SEALED_MAGIC: &[u8; 8] = b"IMMDQAs1";
/// How a sealed journal line starts.
const LINE_PREFIX: &str = "s1:";
/// SQLCipher's page size for the store's databases (also the plaintext stores' page size).
pub const PAGE_SIZE: u32 = 16384;
/// SQLCipher's page authentication: HMAC-SHA256 rather than its default SHA512, 2.2× faster
/// on CPUs with SHA extensions (the store's whole import cost, benchmark B1e) and as sound for
/// an integrity tag. Like the page size it is not stored in the file: every open sets it.
pub const HMAC: &str = "HMAC_SHA256";
const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;
const NONCE_PREFIX: usize = 19;
const HEADER: u64 = (SEALED_MAGIC.len() + NONCE_PREFIX) as u64;

/// What went wrong reading a key. Messages name the file, never its content.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the store key {path} ({origin}): {source}")]
    Read {
        path: PathBuf,
        origin: String,
        source: io::Error,
    },
    #[error("the store key {path} ({origin}) is not a key: 64 hexadecimal digits expected")]
    Malformed { path: PathBuf, origin: String },
    #[error(
        "the store key {path} ({origin}) can be read by others (mode {mode:o}); make it owner-only: chmod 600 {path}"
    )]
    Exposed {
        path: PathBuf,
        origin: String,
        mode: u32,
    },
    #[error(
        "the store key {path} ({origin}) is inside the store folder {store}: a key kept beside the data protects nothing. Move it out (e.g. beside the config) and name its new place"
    )]
    InsideStore {
        path: PathBuf,
        origin: String,
        store: PathBuf,
    },
    #[error("cannot create the store key {path}: {source}")]
    Create { path: PathBuf, source: io::Error },
}

/// The store's secret, with where it came from (for messages). Cloning shares it.
#[derive(Clone)]
pub struct StoreKey {
    secret: Arc<Zeroizing<[u8; 32]>>,
    origin: String,
    /// The file it was read from.
    file: Option<PathBuf>,
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreKey({}, {})", self.fingerprint(), self.origin)
    }
}

fn random(buf: &mut [u8]) -> io::Result<()> {
    getrandom::getrandom(buf).map_err(|e| io::Error::other(e.to_string()))
}

fn hex(bytes: &[u8]) -> Zeroizing<String> {
    let mut s = Zeroizing::new(String::with_capacity(bytes.len() * 2));
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// SQLCipher's own log (stderr by default) off: a wrong key is our error to word, and no page
/// number or file name goes to the terminal. Its defaults (for a database attached with the
/// main key, too) are the store's settings.
fn defaults(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "PRAGMA cipher_log_level = NONE; PRAGMA cipher_default_page_size = {PAGE_SIZE}; \
         PRAGMA cipher_default_hmac_algorithm = {HMAC};"
    ))
}

/// The settings SQLCipher does not store in the file, for the database `schema`.
fn settings(schema: &str) -> String {
    format!(
        "PRAGMA {schema}.cipher_page_size = {PAGE_SIZE}; PRAGMA {schema}.cipher_hmac_algorithm = {HMAC};"
    )
}

impl StoreKey {
    /// A new random key (from the OS).
    pub fn generate(origin: impl Into<String>) -> io::Result<StoreKey> {
        let mut secret = Zeroizing::new([0u8; 32]);
        random(&mut secret[..])?;
        Ok(StoreKey {
            secret: Arc::new(secret),
            origin: origin.into(),
            file: None,
        })
    }

    /// Read a key file (64 hex digits, surrounding white space ignored), refusing one that
    /// others can read.
    pub fn read(path: &Path, origin: &str) -> Result<StoreKey, KeyError> {
        let read = |source| KeyError::Read {
            path: path.to_path_buf(),
            origin: origin.to_string(),
            source,
        };
        let mode = fs::metadata(path).map_err(read)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(KeyError::Exposed {
                path: path.to_path_buf(),
                origin: origin.to_string(),
                mode: mode & 0o777,
            });
        }
        let text = Zeroizing::new(fs::read_to_string(path).map_err(read)?);
        let digits = text.trim();
        let malformed = || KeyError::Malformed {
            path: path.to_path_buf(),
            origin: origin.to_string(),
        };
        if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed());
        }
        let mut secret = Zeroizing::new([0u8; 32]);
        for (i, b) in secret.iter_mut().enumerate() {
            *b = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).map_err(|_| malformed())?;
        }
        Ok(StoreKey {
            secret: Arc::new(secret),
            origin: format!("{} ({origin})", path.display()),
            file: Some(path.to_path_buf()),
        })
    }

    /// Write this key to a new file (mode 0600, never over an existing one), made durable.
    pub fn write_new(&self, path: &Path) -> Result<(), KeyError> {
        let create = |source| KeyError::Create {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(create)?;
        }
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(create)?;
        let mut text = hex(&self.secret[..]);
        text.push('\n');
        f.write_all(text.as_bytes()).map_err(create)?;
        f.sync_all().map_err(create)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir).and_then(|d| d.sync_all()).map_err(create)?;
        }
        Ok(())
    }

    /// Where the key came from (a path and how it was named), for messages.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The file the key was read from.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// A short public name of the key (not usable to recover it): says which key a store
    /// was converted to, and lets two keys be told apart.
    pub fn fingerprint(&self) -> String {
        hex(&self.derive(b"immdqa key fingerprint v1")[..6]).to_string()
    }

    /// `PRAGMA key` for SQLCipher: the raw key, so opening derives nothing.
    pub(crate) fn apply(&self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        defaults(conn)?;
        let sql = Zeroizing::new(format!(
            "PRAGMA key = \"x'{}'\"; {}",
            hex(&self.secret[..]).as_str(),
            settings("main")
        ));
        conn.execute_batch(&sql)
    }

    /// Key a connection opened elsewhere (tests; scripts use `PRAGMA key` the same way).
    pub fn apply_to(&self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        self.apply(conn)
    }

    /// `ATTACH` a database under this key (a new one for `store encrypt` and `rekey`; the
    /// replaced history for `rebuild`), with the store's page size and HMAC.
    pub(crate) fn attach(
        &self,
        conn: &rusqlite::Connection,
        path: &Path,
        schema: &str,
    ) -> rusqlite::Result<()> {
        defaults(conn)?;
        let sql = Zeroizing::new(format!(
            "ATTACH DATABASE '{}' AS {schema} KEY \"x'{}'\"; {}",
            path.display().to_string().replace('\'', "''"),
            hex(&self.secret[..]).as_str(),
            settings(schema)
        ));
        conn.execute_batch(&sql)
    }

    fn derive(&self, info: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        hkdf::Hkdf::<sha2::Sha256>::new(None, &self.secret[..])
            .expand(info, &mut out[..])
            .expect("32 bytes is a valid HKDF-SHA256 length");
        out
    }

    /// The cipher of archived files.
    pub fn archive_cipher(&self) -> FileCipher {
        FileCipher(Arc::new(XChaCha20Poly1305::new(
            (&*self.derive(b"immdqa archive v1")).into(),
        )))
    }

    /// The cipher of journal lines.
    pub fn journal_cipher(&self) -> LineCipher {
        LineCipher(Arc::new(XChaCha20Poly1305::new(
            (&*self.derive(b"immdqa journal v1")).into(),
        )))
    }
}

/// The key a command runs with (none: a plaintext store), and every place it was looked for.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    key: Option<StoreKey>,
    looked: Vec<String>,
}

impl Keyring {
    /// No key: a plaintext store (tests, and stores from before encryption).
    pub fn none() -> Keyring {
        Keyring::default()
    }
    pub fn with(key: StoreKey) -> Keyring {
        Keyring {
            key: Some(key),
            looked: vec![],
        }
    }
    /// No key found, after looking in each of these places (described for a message).
    pub fn missing(looked: Vec<String>) -> Keyring {
        Keyring { key: None, looked }
    }
    pub fn key(&self) -> Option<&StoreKey> {
        self.key.as_ref()
    }
    /// Where the key was looked for, as one phrase.
    pub fn looked(&self) -> String {
        if self.looked.is_empty() {
            "nowhere (no key was configured)".into()
        } else {
            self.looked.join("; ")
        }
    }
}

/// Find the store key, in order: the file named by `IMMDQA_STORE_KEY_FILE`, the config's
/// `store_key_file` (`configured`, from the config at `config_label`), the systemd
/// credential `immdqa-store-key` (`$CREDENTIALS_DIRECTORY`). A place that names a key that
/// cannot be read is an error (never a silent fallback to no key); a key inside the store
/// folder is refused. No key anywhere: a [`Keyring`] saying where it looked.
pub fn find_key(
    configured: Option<&Path>,
    config_label: &str,
    store: &Path,
) -> Result<Keyring, KeyError> {
    let take = |path: &Path, origin: &str| -> Result<Keyring, KeyError> {
        check_outside(path, origin, store)?;
        StoreKey::read(path, origin).map(Keyring::with)
    };
    let mut looked = Vec::new();
    match std::env::var_os(KEY_FILE_ENV).filter(|v| !v.is_empty()) {
        Some(p) => return take(Path::new(&p), KEY_FILE_ENV),
        None => looked.push(format!("{KEY_FILE_ENV} (not set)")),
    }
    match configured {
        Some(p) => return take(p, &format!("store_key_file in {config_label}")),
        None => looked.push(format!("store_key_file in {config_label} (not set)")),
    }
    match std::env::var_os("CREDENTIALS_DIRECTORY").filter(|v| !v.is_empty()) {
        Some(d) => {
            let p = Path::new(&d).join(CREDENTIAL_NAME);
            if p.exists() {
                return take(&p, "systemd credential");
            }
            looked.push(format!("{} (no such file)", p.display()));
        }
        None => looked.push(format!(
            "the systemd credential {CREDENTIAL_NAME} ($CREDENTIALS_DIRECTORY not set)"
        )),
    }
    Ok(Keyring::missing(looked))
}

/// Refuse a key file inside the store folder.
pub fn check_outside(key_path: &Path, origin: &str, store: &Path) -> Result<(), KeyError> {
    let canon = |p: &Path| {
        fs::canonicalize(p).unwrap_or_else(|_| {
            // the store may not exist yet: resolve its parent
            match (p.parent(), p.file_name()) {
                (Some(d), Some(n)) => fs::canonicalize(d)
                    .map(|d| d.join(n))
                    .unwrap_or(p.to_path_buf()),
                _ => p.to_path_buf(),
            }
        })
    };
    let (k, s) = (canon(key_path), canon(store));
    if k.starts_with(&s) {
        return Err(KeyError::InsideStore {
            path: key_path.to_path_buf(),
            origin: origin.to_string(),
            store: store.to_path_buf(),
        });
    }
    Ok(())
}

/// Open a database of the store, keyed when `key` is given (before any other statement).
pub(crate) fn open_db(
    path: &Path,
    key: Option<&StoreKey>,
) -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    if let Some(k) = key {
        k.apply(&conn)?;
    }
    // temporary tables, indices and sorts in memory, never in a temp file (the build's
    // default too: SQLITE_TEMP_STORE=2)
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

/// A `file:` URI for SQLite (the characters a URI gives meaning to, escaped).
pub(crate) fn sqlite_uri(path: &Path, query: &str) -> String {
    let p = path
        .to_string_lossy()
        .replace('%', "%25")
        .replace('?', "%3f")
        .replace('#', "%23");
    format!("file:{p}?{query}")
}

/// Whether `key` opens the encrypted database at `path`. Read-only and immutable: no log,
/// no shared-memory file, no lock is created, whatever the answer.
pub(crate) fn key_fits(path: &Path, key: &StoreKey) -> rusqlite::Result<bool> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        sqlite_uri(path, "immutable=1"),
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let read = key.apply(&conn).and_then(|_| {
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
            r.get::<_, i64>(0)
        })
    });
    match read {
        Ok(_) => Ok(true),
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether a database file is plain SQLite (its header readable), encrypted, or absent/empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbState {
    Absent,
    Plain,
    Encrypted,
}

pub fn db_state(path: &Path) -> io::Result<DbState> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(DbState::Absent),
        Err(e) => return Err(e),
    };
    let mut head = [0u8; 16];
    let n = read_up_to(&mut f, &mut head)?;
    Ok(match n {
        0 => DbState::Absent,
        _ if &head[..n] == b"SQLite format 3\0" => DbState::Plain,
        _ => DbState::Encrypted,
    })
}

/// The cipher of archived files (cheap to clone).
#[derive(Clone)]
pub struct FileCipher(Arc<XChaCha20Poly1305>);

impl FileCipher {
    fn stream(&self, prefix: &[u8]) -> StreamBE32<XChaCha20Poly1305> {
        StreamBE32::from_aead((*self.0).clone(), prefix.into())
    }

    /// Seal what is written into `inner` (the header is written now).
    pub fn seal<W: Write>(&self, mut inner: W) -> io::Result<SealWriter<W>> {
        let mut prefix = [0u8; NONCE_PREFIX];
        random(&mut prefix)?;
        inner.write_all(SEALED_MAGIC)?;
        inner.write_all(&prefix)?;
        Ok(SealWriter {
            inner,
            stream: self.stream(&prefix),
            buf: Vec::with_capacity(CHUNK + TAG),
            position: 0,
        })
    }

    /// Open a sealed file for reading (its header checked).
    pub fn open_sealed(&self, mut file: File) -> io::Result<SealedReader> {
        let len = file.metadata()?.len();
        let mut head = [0u8; HEADER as usize];
        file.read_exact(&mut head)?;
        if &head[..SEALED_MAGIC.len()] != SEALED_MAGIC {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not a sealed file",
            ));
        }
        let body = len - HEADER;
        let chunks = body.div_ceil((CHUNK + TAG) as u64).max(1);
        let full = (chunks - 1) * (CHUNK + TAG) as u64;
        if body < TAG as u64 || body - full < TAG as u64 {
            return Err(damaged());
        }
        Ok(SealedReader {
            stream: self.stream(&head[SEALED_MAGIC.len()..]),
            file,
            chunks,
            plain_len: body - chunks * TAG as u64,
            pos: 0,
            chunk: None,
            buf: Vec::with_capacity(CHUNK + TAG),
        })
    }
}

fn damaged() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "the sealed file is damaged or was sealed with another key",
    )
}

/// Writes sealed chunks; [`SealWriter::finish`] seals the last one (required: a file
/// without its last chunk does not read).
pub struct SealWriter<W: Write> {
    inner: W,
    stream: StreamBE32<XChaCha20Poly1305>,
    buf: Vec<u8>,
    position: u32,
}

impl<W: Write> SealWriter<W> {
    fn seal_chunk(&mut self, last: bool) -> io::Result<()> {
        let rest = if last {
            Vec::new()
        } else {
            self.buf.split_off(CHUNK)
        };
        self.stream
            .encrypt_in_place(self.position, last, b"", &mut self.buf)
            .map_err(|_| io::Error::other("sealing failed"))?;
        self.inner.write_all(&self.buf)?;
        self.buf.clear();
        self.buf.extend_from_slice(&rest);
        self.position = self
            .position
            .checked_add(1)
            .ok_or_else(|| io::Error::other("file too large to seal (256 TiB)"))?;
        Ok(())
    }

    /// Seal the last chunk and hand back the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.seal_chunk(true)?;
        Ok(self.inner)
    }

    pub fn get_ref(&self) -> &W {
        &self.inner
    }
}

impl<W: Write> Write for SealWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        // a full chunk is sealed only once more follows: the last chunk may be a full one
        while self.buf.len() > CHUNK {
            self.seal_chunk(false)?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Reads a sealed file as its plain bytes, seeking by chunk.
pub struct SealedReader {
    stream: StreamBE32<XChaCha20Poly1305>,
    file: File,
    chunks: u64,
    plain_len: u64,
    pos: u64,
    /// The chunk held in `buf`, decrypted.
    chunk: Option<u64>,
    buf: Vec<u8>,
}

impl SealedReader {
    pub fn plain_len(&self) -> u64 {
        self.plain_len
    }

    fn load(&mut self, index: u64) -> io::Result<()> {
        if self.chunk == Some(index) {
            return Ok(());
        }
        self.chunk = None;
        let last = index + 1 == self.chunks;
        let size = if last {
            (self.plain_len - index * CHUNK as u64) as usize + TAG
        } else {
            CHUNK + TAG
        };
        self.file
            .seek(SeekFrom::Start(HEADER + index * (CHUNK + TAG) as u64))?;
        self.buf.resize(size, 0);
        self.file.read_exact(&mut self.buf)?;
        let position = u32::try_from(index).map_err(|_| damaged())?;
        self.stream
            .decrypt_in_place(position, last, b"", &mut self.buf)
            .map_err(|_| damaged())?;
        self.chunk = Some(index);
        Ok(())
    }
}

impl Read for SealedReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.plain_len || out.is_empty() {
            // an empty file still has its (authenticated) last chunk
            if self.plain_len == 0 && self.chunk.is_none() {
                self.load(0)?;
            }
            return Ok(0);
        }
        let index = self.pos / CHUNK as u64;
        self.load(index)?;
        let at = (self.pos - index * CHUNK as u64) as usize;
        let n = out.len().min(self.buf.len() - at);
        out[..n].copy_from_slice(&self.buf[at..at + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SealedReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.plain_len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}

/// A file of the archive, plain or sealed, read as its plain bytes.
pub enum Blob {
    Plain(File),
    Sealed(Box<SealedReader>),
}

impl Blob {
    /// Open `path`, unsealing it if it is sealed (which needs a cipher).
    pub fn open(path: &Path, cipher: Option<&FileCipher>) -> io::Result<Blob> {
        let mut file = File::open(path)?;
        let sealed = starts_sealed(&mut file)?;
        file.seek(SeekFrom::Start(0))?;
        if sealed {
            let cipher = cipher.ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    "the archived file is encrypted and no store key was given",
                )
            })?;
            return Ok(Blob::Sealed(Box::new(cipher.open_sealed(file)?)));
        }
        Ok(Blob::Plain(file))
    }

    /// The plain content's length.
    pub fn len(&self) -> io::Result<u64> {
        match self {
            Blob::Plain(f) => Ok(f.metadata()?.len()),
            Blob::Sealed(r) => Ok(r.plain_len()),
        }
    }

    /// Whether the plain content is empty.
    pub fn is_empty(&self) -> io::Result<bool> {
        self.len().map(|n| n == 0)
    }

    /// Every plain byte (for small files).
    pub fn read_all(path: &Path, cipher: Option<&FileCipher>) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Blob::open(path, cipher)?.read_to_end(&mut out)?;
        Ok(out)
    }
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

impl Read for Blob {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self {
            Blob::Plain(f) => f.read(out),
            Blob::Sealed(r) => r.read(out),
        }
    }
}

impl Seek for Blob {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match self {
            Blob::Plain(f) => f.seek(to),
            Blob::Sealed(r) => r.seek(to),
        }
    }
}

/// Whether the file at `path` is sealed (starts with [`SEALED_MAGIC`]).
pub fn is_sealed_file(path: &Path) -> io::Result<bool> {
    starts_sealed(&mut File::open(path)?)
}

/// Whether a file (read from its current position) starts with [`SEALED_MAGIC`].
fn starts_sealed(f: &mut File) -> io::Result<bool> {
    let mut head = [0u8; 8];
    let n = read_up_to(f, &mut head)?;
    Ok(n == head.len() && &head == SEALED_MAGIC)
}

/// The cipher of journal lines (cheap to clone).
#[derive(Clone)]
pub struct LineCipher(Arc<XChaCha20Poly1305>);

impl LineCipher {
    /// One line, sealed: `s1:` and the base64 of nonce and ciphertext.
    pub fn seal(&self, line: &str) -> io::Result<String> {
        use base64::Engine;
        let mut nonce = [0u8; 24];
        random(&mut nonce)?;
        let ct = self
            .0
            .encrypt(XNonce::from_slice(&nonce), line.as_bytes())
            .map_err(|_| io::Error::other("sealing failed"))?;
        let mut raw = nonce.to_vec();
        raw.extend_from_slice(&ct);
        Ok(format!(
            "{LINE_PREFIX}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(raw)
        ))
    }

    /// A sealed line's text (`None`: not sealed, damaged, or another key's).
    pub fn open(&self, line: &str) -> Option<Zeroizing<String>> {
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(line.strip_prefix(LINE_PREFIX)?)
            .ok()?;
        if raw.len() < 24 + TAG {
            return None;
        }
        let plain = self
            .0
            .decrypt(XNonce::from_slice(&raw[..24]), &raw[24..])
            .ok()?;
        String::from_utf8(plain).ok().map(Zeroizing::new)
    }
}

/// Whether a journal line is sealed.
pub fn is_sealed_line(line: &str) -> bool {
    line.starts_with(LINE_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> StoreKey {
        StoreKey::generate("test").unwrap()
    }

    fn sealed(c: &FileCipher, data: &[u8]) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        let mut w = c.seal(f.reopen().unwrap()).unwrap();
        for part in data.chunks(7777) {
            w.write_all(part).unwrap();
        }
        w.finish().unwrap();
        f
    }

    /// SQLCipher runs on the system's OpenSSL (AES-NI, SHA extensions), with the store's page
    /// size and HMAC, and a wrong key does not open the file.
    #[test]
    fn databases_are_sqlcipher_on_openssl_and_refuse_another_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.sqlite");
        let k = key();
        let conn = open_db(&p, Some(&k)).unwrap();
        let q = |sql: &str| -> String { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(q("PRAGMA cipher_provider"), "openssl");
        assert_eq!(q("PRAGMA cipher_page_size"), PAGE_SIZE.to_string());
        assert_eq!(q("PRAGMA cipher_hmac_algorithm"), HMAC);
        conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES ('MRN123');")
            .unwrap();
        drop(conn);
        let raw = fs::read(&p).unwrap();
        assert!(!raw.windows(6).any(|w| w == b"MRN123"));
        assert_eq!(db_state(&p).unwrap(), DbState::Encrypted);
        assert!(key_fits(&p, &k).unwrap());
        assert!(!key_fits(&p, &key()).unwrap());
    }

    #[test]
    fn sealed_files_read_back_whole_and_by_seeking() {
        let c = key().archive_cipher();
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 5] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let f = sealed(&c, &data);
            let raw = fs::read(f.path()).unwrap();
            assert_eq!(&raw[..8], SEALED_MAGIC);
            let chunks = len.div_ceil(CHUNK).max(1) as u64;
            assert_eq!(raw.len() as u64, HEADER + len as u64 + TAG as u64 * chunks);
            assert_eq!(
                Blob::read_all(f.path(), Some(&c)).unwrap(),
                data,
                "len {len}"
            );
            let mut b = Blob::open(f.path(), Some(&c)).unwrap();
            if len > 10 {
                b.seek(SeekFrom::Start(len as u64 - 10)).unwrap();
                let mut tail = Vec::new();
                b.read_to_end(&mut tail).unwrap();
                assert_eq!(tail, data[len - 10..]);
                b.seek(SeekFrom::Start(3)).unwrap();
                let mut three = [0u8; 3];
                b.read_exact(&mut three).unwrap();
                assert_eq!(three, data[3..6]);
            }
        }
    }

    #[test]
    fn a_wrong_key_a_truncation_or_a_flipped_byte_fails_to_read() {
        let c = key().archive_cipher();
        let data = vec![7u8; 2 * CHUNK + 100];
        let f = sealed(&c, &data);
        assert!(Blob::read_all(f.path(), Some(&key().archive_cipher())).is_err());
        assert!(Blob::read_all(f.path(), None).is_err());
        let raw = fs::read(f.path()).unwrap();
        // the last chunk cut off: the chunk before is not a last chunk
        let cut = &raw[..HEADER as usize + 2 * (CHUNK + TAG)];
        fs::write(f.path(), cut).unwrap();
        assert!(Blob::read_all(f.path(), Some(&c)).is_err());
        let mut flipped = raw.clone();
        flipped[HEADER as usize + 5] ^= 1;
        fs::write(f.path(), &flipped).unwrap();
        assert!(Blob::read_all(f.path(), Some(&c)).is_err());
        fs::write(f.path(), &raw).unwrap();
        assert_eq!(Blob::read_all(f.path(), Some(&c)).unwrap(), data);
    }

    #[test]
    fn plain_files_read_as_they_are() {
        let f = tempfile::NamedTempFile::new().unwrap();
        fs::write(f.path(), b"MSH|^~\\&|").unwrap();
        assert_eq!(
            Blob::read_all(f.path(), Some(&key().archive_cipher())).unwrap(),
            b"MSH|^~\\&|"
        );
    }

    #[test]
    fn journal_lines_seal_and_open_only_under_their_key() {
        let k = key();
        let c = k.journal_cipher();
        let line = r#"{"note":"called the mother"}"#;
        let s = c.seal(line).unwrap();
        assert!(is_sealed_line(&s) && !s.contains("mother"));
        assert_eq!(c.open(&s).unwrap().as_str(), line);
        assert!(key().journal_cipher().open(&s).is_none());
        assert!(c.open(&s[..s.len() - 4]).is_none());
    }

    #[test]
    fn key_files_are_owner_only_hex_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        let k = key();
        k.write_new(&p).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(k.write_new(&p).is_err());
        let back = StoreKey::read(&p, "test").unwrap();
        assert_eq!(back.fingerprint(), k.fingerprint());
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            StoreKey::read(&p, "test"),
            Err(KeyError::Exposed { .. })
        ));
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(&p, "not a key\n").unwrap();
        let e = StoreKey::read(&p, "test").unwrap_err().to_string();
        assert!(e.contains("64 hexadecimal digits"), "{e}");
        assert!(
            check_outside(&dir.path().join("store/k"), "t", &dir.path().join("store")).is_err()
        );
        assert!(check_outside(&p, "t", &dir.path().join("store")).is_ok());
    }
}
