//! The content-addressed archive of every fetched file: `archive/<aa>/<sha256>`.
//!
//! Files arrive through [`Archive::temp_file`] (inside the store, so the final rename never
//! crosses file systems), are fsynced, hashed while written, and moved into place with an
//! atomic rename followed by an fsync of the folder. A crash leaves at worst a stray temp file,
//! removed by [`Archive::clean_temp`]; a file under its hash name is always complete.
//!
//! With a store key, files are sealed as they are written (even the temp file holds no plain
//! byte) and unsealed as they are read ([`Archive::open_blob`]); the hash, the name and the
//! size are always those of the plain content, so duplicates and `rebuild` work the same.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::crypt::{Blob, FileCipher, SealWriter};

#[derive(Clone)]
pub struct Archive {
    root: PathBuf,
    tmp: PathBuf,
    cipher: Option<FileCipher>,
}

/// A file being written into the archive, hashing (the plain bytes) as it goes.
pub struct Incoming {
    file: Sink,
    hasher: Sha256,
    len: u64,
}

enum Sink {
    Plain(tempfile::NamedTempFile),
    Sealed(SealWriter<tempfile::NamedTempFile>),
}

impl Sink {
    fn temp(&self) -> &tempfile::NamedTempFile {
        match self {
            Sink::Plain(f) => f,
            Sink::Sealed(w) => w.get_ref(),
        }
    }
}

impl Write for Incoming {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = match &mut self.file {
            Sink::Plain(f) => f.write(buf)?,
            Sink::Sealed(w) => w.write(buf)?,
        };
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Sink::Plain(f) => f.flush(),
            Sink::Sealed(w) => w.flush(),
        }
    }
}

impl Incoming {
    pub fn len(&self) -> u64 {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn path(&self) -> &Path {
        self.file.temp().path()
    }
}

/// A file that has been made durable in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub sha256: String,
    pub size: u64,
    pub path: PathBuf,
}

pub(crate) fn mkdir_private(path: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
}

pub(crate) fn fsync_dir(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

impl Archive {
    /// The archive of the store in `store`; files are sealed with `cipher` when given.
    pub fn open(store: &Path, cipher: Option<FileCipher>) -> io::Result<Archive> {
        let root = store.join("archive");
        let tmp = store.join("tmp");
        mkdir_private(&root)?;
        mkdir_private(&tmp)?;
        Ok(Archive { root, tmp, cipher })
    }

    /// The archive of `store` as it is, for looking only (creates nothing, seals nothing).
    pub(crate) fn plain_view(store: &Path) -> Archive {
        Archive {
            root: store.join("archive"),
            tmp: store.join("tmp"),
            cipher: None,
        }
    }

    /// An archived file's plain content, unsealed as it is read (seekable).
    pub fn open_blob(&self, sha256: &str) -> io::Result<Blob> {
        Blob::open(&self.path_of(sha256), self.cipher.as_ref())
    }

    /// Read an archived file at `path` (a path of this archive).
    pub fn open_path(&self, path: &Path) -> io::Result<Blob> {
        Blob::open(path, self.cipher.as_ref())
    }

    /// Every archived file: (hash name, path), in no particular order.
    pub fn blobs(&self) -> io::Result<Vec<(String, PathBuf)>> {
        let mut out = Vec::new();
        for d in fs::read_dir(&self.root)? {
            let d = d?;
            if d.file_type()?.is_dir() {
                for f in fs::read_dir(d.path())? {
                    let f = f?;
                    let name = f.file_name().to_string_lossy().into_owned();
                    if f.file_type()?.is_file() && name.len() == 64 && !name.contains('.') {
                        out.push((name, f.path()));
                    }
                }
            }
        }
        Ok(out)
    }

    /// Where a blob with this hash lives.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.root.join(&sha256[..2.min(sha256.len())]).join(sha256)
    }

    /// Start a new incoming file (mode 0600, inside the store's tmp folder).
    pub fn temp_file(&self) -> io::Result<Incoming> {
        let file = tempfile::Builder::new()
            .prefix("incoming-")
            .tempfile_in(&self.tmp)?;
        let file = match &self.cipher {
            Some(c) => Sink::Sealed(c.seal(file)?),
            None => Sink::Plain(file),
        };
        Ok(Incoming {
            file,
            hasher: Sha256::new(),
            len: 0,
        })
    }

    /// fsync the incoming file and move it under its hash name (kept if already archived).
    pub fn commit(&self, incoming: Incoming) -> io::Result<Stored> {
        let Incoming { file, hasher, len } = incoming;
        let file = match file {
            Sink::Plain(f) => f,
            Sink::Sealed(w) => w.finish()?,
        };
        file.as_file().sync_all()?;
        let sha256 = format!("{:x}", hasher.finalize());
        crate::failpoint::hit("archive_before_rename");
        let dest = self.path_of(&sha256);
        let dir = dest.parent().expect("archive path has a parent");
        mkdir_private(dir)?;
        if dest.exists() {
            drop(file); // identical content already archived; the temp file is removed
        } else {
            let f = file.persist(&dest).map_err(|e| e.error)?;
            f.set_permissions(fs::Permissions::from_mode(0o400))?;
            fsync_dir(dir)?;
        }
        Ok(Stored {
            sha256,
            size: len,
            path: dest,
        })
    }

    /// Archive a local file by copying it (used by `import`).
    pub fn store_copy(&self, mut src: impl Read) -> io::Result<Stored> {
        let mut inc = self.temp_file()?;
        io::copy(&mut src, &mut inc)?;
        self.commit(inc)
    }

    /// Remove temp files left by an interrupted run. Call only while holding the store lock.
    pub fn clean_temp(&self) -> io::Result<usize> {
        let mut n = 0;
        for e in fs::read_dir(&self.tmp)? {
            let e = e?;
            if e.file_type()?.is_file() {
                fs::remove_file(e.path())?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Total size in bytes of the archived files.
    pub fn size_on_disk(&self) -> io::Result<u64> {
        let mut total = 0;
        for d in fs::read_dir(&self.root)? {
            let d = d?;
            if d.file_type()?.is_dir() {
                for f in fs::read_dir(d.path())? {
                    total += f?.metadata()?.len();
                }
            }
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn commit_is_content_addressed_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let a = Archive::open(dir.path(), None).unwrap();
        let s1 = a.store_copy(&b"hello"[..]).unwrap();
        assert_eq!(
            s1.sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(s1.size, 5);
        assert_eq!(fs::read(&s1.path).unwrap(), b"hello");
        assert_eq!(fs::metadata(&s1.path).unwrap().mode() & 0o777, 0o400);
        let s2 = a.store_copy(&b"hello"[..]).unwrap();
        assert_eq!(s1, s2);
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        let Sink::Plain(left) = a.temp_file().unwrap().file else {
            panic!("a plain archive writes plain files")
        };
        let _left = left.keep().unwrap();
        assert_eq!(a.clean_temp().unwrap(), 1);
    }

    #[test]
    fn a_keyed_archive_seals_under_the_plain_hash() {
        let dir = tempfile::tempdir().unwrap();
        let key = crate::store::crypt::StoreKey::generate("test").unwrap();
        let a = Archive::open(dir.path(), Some(key.archive_cipher())).unwrap();
        let s = a.store_copy(&b"PID|1||MRN123"[..]).unwrap();
        assert_eq!(s.sha256, format!("{:x}", Sha256::digest(b"PID|1||MRN123")));
        assert_eq!(s.size, 13);
        let raw = fs::read(&s.path).unwrap();
        assert!(!raw.windows(6).any(|w| w == b"MRN123"));
        let mut back = Vec::new();
        a.open_blob(&s.sha256)
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, b"PID|1||MRN123");
        assert_eq!(a.blobs().unwrap(), vec![(s.sha256.clone(), s.path.clone())]);
    }
}
