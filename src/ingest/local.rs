//! Local files into the history (`immdqa import`, `import --sent`): copied into the archive
//! on a thread of their own, parsed one file ahead ([`super::ahead`]), recorded and stored
//! like fetched ones.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::ahead::parse_ahead;
use super::{IngestError, Ingested, converge, ingest_one, ingest_records, stored_file};
use crate::formats::{Kind, ParseOptions};
use crate::store::{FetchedFile, Recorded, RunCounts, Store};

/// The result of `import`.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub ingested: Vec<Ingested>,
    /// Files already in the history with the same name and content.
    pub unchanged: u64,
    /// Paths that could not be read: (path, reason).
    pub unreadable: Vec<(String, String)>,
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>, bad: &mut Vec<(String, String)>) {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => match std::fs::read_dir(path) {
            Ok(rd) => {
                let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
                entries.sort();
                for e in entries {
                    let hidden = e
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'));
                    if !hidden {
                        collect_files(&e, out, bad);
                    }
                }
            }
            Err(e) => bad.push((path.display().to_string(), e.to_string())),
        },
        Ok(m) if m.is_file() => out.push(path.to_path_buf()),
        Ok(_) => bad.push((
            path.display().to_string(),
            "not a regular file or folder (symlinks are not followed)".into(),
        )),
        Err(e) => bad.push((path.display().to_string(), e.to_string())),
    }
}

/// A local file copied into the archive (or why it could not be).
struct Archived {
    path: PathBuf,
    copied: Result<(std::fs::Metadata, crate::store::Stored), ArchiveFailure>,
}

enum ArchiveFailure {
    /// Could not be opened: reported, the run goes on.
    Unreadable(std::io::Error),
    /// Failed while copying into the store: the run stops.
    Store(std::io::Error),
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Copy `files` into the archive on a thread of their own, up to `ARCHIVE_AHEAD` files ahead
/// of the reader of the returned channel: the copy's fsyncs wait on the disk while the
/// previous files are parsed and stored (a file's copy is complete before it is sent).
fn archive_ahead<'scope>(
    s: &'scope std::thread::Scope<'scope, '_>,
    archive: crate::store::Archive,
    files: Vec<PathBuf>,
) -> std::sync::mpsc::Receiver<Archived> {
    const ARCHIVE_AHEAD: usize = 4;
    let (tx, rx) = std::sync::mpsc::sync_channel(ARCHIVE_AHEAD);
    s.spawn(move || {
        for path in files {
            if tx.send(archive_local(&archive, &path)).is_err() {
                break; // the import stopped
            }
        }
    });
    rx
}

fn archive_local(archive: &crate::store::Archive, path: &Path) -> Archived {
    let copied = std::fs::metadata(path)
        .and_then(|m| File::open(path).map(|f| (m, f)))
        .map_err(ArchiveFailure::Unreadable)
        .and_then(|(meta, input)| {
            archive
                .store_copy(input)
                .map(|stored| (meta, stored))
                .map_err(ArchiveFailure::Store)
        });
    Archived {
        path: path.to_path_buf(),
        copied,
    }
}

/// Bring local files or folders (recursively) into the history through the same pipeline as
/// fetched files. Takes the store lock. Helper threads work ahead: one copies the files into
/// the archive (hash, fsync, rename), another parses each archived copy one file ahead,
/// streaming its records to this thread, which records the file and stores the records.
pub fn import_paths(
    store: &mut Store,
    paths: &[PathBuf],
    opts: &ParseOptions,
    profile: &str,
) -> Result<ImportReport, IngestError> {
    // imported files are parsed without a kind hint (see `options_for`)
    import_local(store, paths, opts, profile, Kind::Dqa)
}

/// `immdqa import --sent`: local batches an EHR sent by itself, into the archive and the
/// ledger, through the same pipeline (the sent-batch shape). Takes the store lock.
pub fn import_sent(
    store: &mut Store,
    paths: &[PathBuf],
    profile: &str,
) -> Result<ImportReport, IngestError> {
    let opts = ParseOptions {
        kind_hint: Some(Kind::Sent),
        ..ParseOptions::default()
    };
    import_local(store, paths, &opts, profile, Kind::Sent)
}

/// [`import_paths`] and [`import_sent`]: the files recorded as `kind`.
fn import_local(
    store: &mut Store,
    paths: &[PathBuf],
    opts: &ParseOptions,
    profile: &str,
    kind: Kind,
) -> Result<ImportReport, IngestError> {
    let _lock = store.lock()?;
    let label = if kind == Kind::Sent {
        "local import (sent)"
    } else {
        "local import"
    };
    let (files, mut report, run_id, archive) = start_local_import(store, paths, profile, label)?;
    let mut counts = RunCounts::default();
    let local = LocalRun {
        profile,
        run_id,
        kind,
    };
    let reader = archive.clone();
    std::thread::scope(|s| -> Result<(), IngestError> {
        let archived_files = archive_ahead(s, archive, files);
        // not archived, or not readable: the store side reports it
        let open = move |archived: &Archived| {
            let (_, stored) = archived.copied.as_ref().ok()?;
            let input = reader.open_path(&stored.path).ok()?;
            Some((input, file_name(&archived.path), opts.clone()))
        };
        let rx = parse_ahead(s, archived_files, open);
        for (archived, records) in rx {
            let Some((recorded, id)) =
                record_local(store, archived, &local, &mut counts, &mut report)?
            else {
                continue; // dropping `records` stops its parser
            };
            // a report already parsed is unchanged; a sent batch says so itself (the ledger
            // holds its name)
            let already = kind != Kind::Sent
                && store
                    .remote_file(id)?
                    .is_some_and(|f| f.parse_status != crate::domain::ParseStatus::Pending);
            if recorded == Recorded::Unchanged && already {
                report.unchanged += 1;
                continue;
            }
            report.ingested.push(match records {
                Some(records) => ingest_records(store, stored_file(store, id)?, records, false)?,
                None => ingest_one(store, id, opts, false)?, // reports why it cannot be read
            });
        }
        Ok(())
    })?;
    converge(store)?;
    store.finish_run(run_id, &counts)?;
    Ok(report)
}

/// The start of a local import: the files under `paths` (unreadable ones noted in the
/// report), the run, and the archive the helper thread copies into.
fn start_local_import(
    store: &mut Store,
    paths: &[PathBuf],
    profile: &str,
    label: &str,
) -> Result<(Vec<PathBuf>, ImportReport, i64, crate::store::Archive), IngestError> {
    let mut files = Vec::new();
    let mut report = ImportReport::default();
    for p in paths {
        collect_files(p, &mut files, &mut report.unreadable);
    }
    let run_id = store.begin_run(profile, label)?;
    let archive = store.archive().clone();
    Ok((files, report, run_id, archive))
}

/// What every file of one local import run is recorded as.
struct LocalRun<'a> {
    profile: &'a str,
    run_id: i64,
    kind: Kind,
}

/// Record a local file copied into the archive (counting it in the run); None when it could
/// not be read (reported in `report`, the run goes on).
fn record_local(
    store: &mut Store,
    Archived { path, copied }: Archived,
    run: &LocalRun<'_>,
    counts: &mut RunCounts,
    report: &mut ImportReport,
) -> Result<Option<(Recorded, i64)>, IngestError> {
    let (meta, stored) = match copied {
        Ok(c) => c,
        Err(ArchiveFailure::Unreadable(e)) => {
            report
                .unreadable
                .push((path.display().to_string(), e.to_string()));
            counts.failed += 1;
            return Ok(None);
        }
        Err(ArchiveFailure::Store(source)) => {
            return Err(IngestError::Local {
                path: path.display().to_string(),
                source,
            });
        }
    };
    use std::os::unix::fs::MetadataExt;
    let (recorded, id) = store.record_fetched(&FetchedFile {
        profile: run.profile,
        folder: &local_folder(&path),
        name: &file_name(&path),
        kind: run.kind,
        mtime: meta.mtime(),
        stored: &stored,
        run_id: run.run_id,
    })?;
    counts.bytes += stored.size;
    match recorded {
        Recorded::New => counts.new += 1,
        Recorded::Changed => counts.changed += 1,
        Recorded::Unchanged => counts.unchanged += 1,
    }
    Ok(Some((recorded, id)))
}

/// The absolute folder of a local file, as recorded for imports.
fn local_folder(path: &Path) -> String {
    path.parent()
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()))
        .unwrap_or_default()
        .display()
        .to_string()
}
