//! A mailbox on a local or mounted folder (an EHR vendor's share, the sample mailbox, tests).
//!
//! Paths are resolved under the root; a path that would leave the root is refused, so the
//! local transport can never be used to read or write elsewhere.

use std::fs;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use super::preflight::Preflight;
use super::{EntryKind, RemoteEntry, RemoteFs, TransportError};

pub struct LocalFs {
    root: PathBuf,
}

impl LocalFs {
    pub fn new(root: PathBuf) -> Result<LocalFs, TransportError> {
        match fs::metadata(&root) {
            Ok(m) if m.is_dir() => Ok(LocalFs { root }),
            Ok(_) => Err(TransportError::Connect {
                host: root.display().to_string(),
                message: "local_dir is not a folder".into(),
            }),
            Err(e) => Err(TransportError::Connect {
                host: root.display().to_string(),
                message: format!("local_dir cannot be opened: {e}"),
            }),
        }
    }

    /// Which folder, and whether it is there (`config check`).
    pub(super) fn preflight(root: &Path, name: &str, p: &mut Preflight) {
        p.line("transport", Self::describe_root(root));
        if !root.is_dir() {
            p.problems.push(format!(
                "profile '{name}': local_dir {} is not a readable folder",
                root.display()
            ));
        }
    }

    /// `local folder /path`: what the options name, before any connection.
    pub(super) fn describe_root(root: &Path) -> String {
        format!("local folder {}", root.display())
    }

    fn resolve(&self, path: &str) -> Result<PathBuf, TransportError> {
        let rel = Path::new(path);
        let safe = rel
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !safe {
            return Err(io_err(
                "resolve",
                path,
                "path leaves the mailbox folder".into(),
            ));
        }
        Ok(self.root.join(rel))
    }
}

fn io_err(op: &'static str, path: &str, message: String) -> TransportError {
    TransportError::Io {
        op,
        path: path.to_string(),
        message,
        transient: false,
    }
}

fn map_io(op: &'static str, path: &str, e: io::Error) -> TransportError {
    match e.kind() {
        io::ErrorKind::NotFound => TransportError::NotFound {
            path: path.to_string(),
        },
        io::ErrorKind::AlreadyExists => TransportError::AlreadyExists {
            path: path.to_string(),
        },
        _ => io_err(op, path, e.to_string()),
    }
}

fn entry(name: Vec<u8>, m: &fs::Metadata) -> RemoteEntry {
    let ft = m.file_type();
    let kind = if ft.is_symlink() {
        EntryKind::Symlink
    } else if ft.is_file() {
        EntryKind::File
    } else if ft.is_dir() {
        EntryKind::Dir
    } else {
        EntryKind::Other
    };
    use std::os::unix::fs::MetadataExt;
    RemoteEntry {
        name,
        kind,
        size: m.len(),
        mtime: m.mtime(),
        mtime_step: 1,
    }
}

impl RemoteFs for LocalFs {
    fn describe(&self) -> String {
        format!("local:{}", self.root.display())
    }

    fn list(&mut self, dir: &str) -> Result<Vec<RemoteEntry>, TransportError> {
        let path = self.resolve(dir)?;
        let rd = fs::read_dir(&path).map_err(|e| map_io("list", dir, e))?;
        let mut out = Vec::new();
        for item in rd {
            let item = item.map_err(|e| map_io("list", dir, e))?;
            let m = item
                .path()
                .symlink_metadata()
                .map_err(|e| map_io("stat", dir, e))?;
            out.push(entry(item.file_name().as_bytes().to_vec(), &m));
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn open_read(&mut self, path: &str) -> Result<Box<dyn Read + '_>, TransportError> {
        let p = self.resolve(path)?;
        let f = fs::File::open(&p).map_err(|e| map_io("open", path, e))?;
        Ok(Box::new(f))
    }

    fn write_new(&mut self, path: &str, data: &mut dyn Read) -> Result<u64, TransportError> {
        let p = self.resolve(path)?;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
            .map_err(|e| map_io("create", path, e))?;
        let n = io::copy(data, &mut f).map_err(|e| map_io("write", path, e))?;
        f.sync_all().map_err(|e| map_io("sync", path, e))?;
        Ok(n)
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<(), TransportError> {
        let (a, b) = (self.resolve(from)?, self.resolve(to)?);
        // hard_link fails if the target exists: a rename that never replaces a file.
        fs::hard_link(&a, &b).map_err(|e| map_io("rename", to, e))?;
        fs::remove_file(&a).map_err(|e| map_io("rename", from, e))
    }

    fn remove(&mut self, path: &str) -> Result<(), TransportError> {
        let p = self.resolve(path)?;
        fs::remove_file(p).map_err(|e| map_io("remove", path, e))
    }

    fn stat(&mut self, path: &str) -> Result<Option<RemoteEntry>, TransportError> {
        let p = self.resolve(path)?;
        match p.symlink_metadata() {
            Ok(m) => {
                let name = p
                    .file_name()
                    .map(|n| n.as_bytes().to_vec())
                    .unwrap_or_default();
                Ok(Some(entry(name, &m)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(map_io("stat", path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_read_write_rename() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("in")).unwrap();
        fs::write(dir.path().join("in/b.txt"), b"bbb").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("in/link")).unwrap();
        let mut fs_ = LocalFs::new(dir.path().to_path_buf()).unwrap();
        let list = fs_.list("in").unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].name, b"b.txt");
        assert_eq!(list[0].kind, EntryKind::File);
        assert_eq!(list[0].size, 3);
        assert_eq!(list[1].kind, EntryKind::Symlink);
        let mut s = String::new();
        fs_.open_read("in/b.txt")
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "bbb");
        fs_.write_new("in/c.tmp", &mut &b"cc"[..]).unwrap();
        assert!(matches!(
            fs_.write_new("in/c.tmp", &mut &b"cc"[..]),
            Err(TransportError::AlreadyExists { .. })
        ));
        assert!(matches!(
            fs_.rename("in/c.tmp", "in/b.txt"),
            Err(TransportError::AlreadyExists { .. })
        ));
        fs_.rename("in/c.tmp", "in/c.txt").unwrap();
        assert_eq!(fs_.stat("in/c.txt").unwrap().unwrap().size, 2);
        assert!(fs_.stat("in/c.tmp").unwrap().is_none());
        assert!(matches!(
            fs_.list("nope"),
            Err(TransportError::NotFound { .. })
        ));
        assert!(fs_.open_read("../etc/passwd").is_err());
        assert!(fs_.open_read("/etc/passwd").is_err());
    }
}
