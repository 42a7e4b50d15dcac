//! Ingest: archived files → parsers → the normalised history, one transaction per file.
//!
//! A file whose content was already parsed (same SHA-256, any name) adds nothing. A file no
//! parser can read is quarantined: it stays in the archive with the reason, and is retried
//! by `reparse`. `import` brings local files through the same path as fetched ones.
//! Uses: store, formats, ledger (the sent batch reader), sync and transport (`import` of a
//! local folder goes through the fetch).

use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::DateTime;

use crate::formats::{self, Kind, ParseError, ParseOptions, Records, Summary};
use crate::ledger::read::{BatchReceiver, ReadError, SentMessage};
use crate::store::crypt::Blob;
use crate::store::ledger::SentSource;
use crate::store::{FetchedFile, Recorded, RemoteFileInfo, RunCounts, Store, StoreError};

/// The profile name recorded for files brought in with `immdqa import` when no profile is
/// selected (with one, imported files belong to it, like fetched ones).
pub const IMPORT_PROFILE: &str = "import";

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("storing the sent batch stopped: {0}")]
    Stopped(String),
    #[error("the archived copy of {name} ({sha256}) cannot be opened: {source}")]
    Archive {
        name: String,
        sha256: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Parse(ParseError),
    #[error("{path}: {source}")]
    Local {
        path: String,
        source: std::io::Error,
    },
    #[error("no stored file {0}")]
    Missing(i64),
    #[error(transparent)]
    Fetch(#[from] crate::sync::SyncError),
}

/// What [`fetch_and_parse`] did.
#[derive(Debug)]
pub struct FetchParsed {
    pub fetch: crate::sync::FetchReport,
    /// Every file parsed (what was downloaded, and anything left pending by an interrupted
    /// run); empty for a dry run or `parse = false`.
    pub parsed: Vec<Ingested>,
}

/// Fetch the mailbox, then parse what arrived: the one entry point of `fetch`, `demo` and
/// `sync`. With `parse = false` (`fetch --no-parse`), files wait, pending, for the next run.
pub fn fetch_and_parse(
    store: &mut Store,
    remote: &mut dyn crate::transport::RemoteFs,
    opts: &crate::sync::FetchOptions,
    parse_opts: &ParseOptions,
    parse: bool,
    progress: &dyn crate::sync::Progress,
) -> Result<FetchParsed, IngestError> {
    let fetch = crate::sync::fetch(store, remote, opts, progress)?;
    let parsed = if parse && !opts.dry_run {
        let _lock = store.lock()?;
        ingest_stored(store, parse_opts, false, false)?
    } else {
        Vec::new()
    };
    Ok(FetchParsed { fetch, parsed })
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_in_names() {
        let d = chrono::NaiveDate::from_ymd_opt(2025, 10, 28);
        assert_eq!(super::date_in_name("DQA_Report_2025-10-28.xlsx"), d);
        assert_eq!(super::date_in_name("ACMECLIN_CNF_20251028.csv"), d);
        assert_eq!(super::date_in_name("ACMECLIN25301.hl7.ack"), None);
        assert_eq!(super::date_in_name("report_20251399.csv"), None);
    }
}

/// What happened to one file.
#[derive(Debug, Clone)]
pub enum Outcome {
    Parsed {
        report_id: i64,
        summary: Summary,
    },
    /// Same content as an existing report: nothing added.
    Duplicate {
        report_id: i64,
    },
    /// No parser could read it; the message names the file and the reason.
    Quarantined {
        reason: String,
    },
    /// A sent batch read into the message ledger (`messages` = 0 when the profile already
    /// had a batch of that name: nothing added).
    Ledger {
        messages: u64,
    },
}

#[derive(Debug, Clone)]
pub struct Ingested {
    pub file: RemoteFileInfo,
    pub outcome: Outcome,
}

/// Parse one stored file into the history. With `replace`, an existing report of the same
/// content is replaced (reparse); otherwise it is kept and the file counts as a duplicate.
pub fn ingest_one(
    store: &mut Store,
    remote_file_id: i64,
    opts: &ParseOptions,
    replace: bool,
) -> Result<Ingested, IngestError> {
    let file = stored_file(store, remote_file_id)?;
    if file.kind == Kind::Sent {
        return ingest_sent(store, file);
    }
    if !replace && let Some(duplicate) = duplicate(store, &file)? {
        return Ok(duplicate);
    }
    let input = open_archived(store, &file)?;
    let file_opts = options_for(&file, opts);
    let name = file.name.clone();
    store_report(store, file, replace, |sink| {
        formats::parse_threaded(input, &name, &file_opts, sink)
    })
}

/// Like [`ingest_one`], with the records coming from a parser already running elsewhere on
/// the same archived content, with [`options_for`] the file.
fn ingest_records(
    store: &mut Store,
    file: RemoteFileInfo,
    records: Records,
    replace: bool,
) -> Result<Ingested, IngestError> {
    if !replace && let Some(duplicate) = duplicate(store, &file)? {
        return Ok(duplicate); // dropping `records` stops that parser
    }
    let name = file.name.clone();
    store_report(store, file, replace, |sink| records.drain_into(&name, sink))
}

fn stored_file(store: &Store, remote_file_id: i64) -> Result<RemoteFileInfo, IngestError> {
    store
        .remote_file(remote_file_id)?
        .ok_or(IngestError::Missing(remote_file_id))
}

/// Content already parsed (any name): nothing to add.
fn duplicate(store: &Store, file: &RemoteFileInfo) -> Result<Option<Ingested>, IngestError> {
    let Some(report_id) = store.report_for_sha(&file.sha256)? else {
        return Ok(None);
    };
    store.mark_parsed(&file.sha256)?;
    Ok(Some(Ingested {
        file: file.clone(),
        outcome: Outcome::Duplicate { report_id },
    }))
}

/// Parse options for one file: a file fetched from the consent folder is a consent file.
fn options_for(file: &RemoteFileInfo, opts: &ParseOptions) -> ParseOptions {
    let mut file_opts = opts.clone();
    // (imported files are recorded as `dqa` until parsed: no hint; a fetched file from the
    // consent folder, or a re-parse of a file once parsed as consent, gets one)
    if file.kind == Kind::Cnf {
        file_opts.kind_hint = Some(Kind::Cnf);
    }
    file_opts
}

/// Write what `parse` streams as one report, all or nothing: committed if it parses,
/// rolled back and the file quarantined if its content is unreadable.
fn store_report(
    store: &mut Store,
    file: RemoteFileInfo,
    replace: bool,
    parse: impl FnOnce(&mut dyn formats::Sink) -> Result<Summary, ParseError>,
) -> Result<Ingested, IngestError> {
    let fallback_date = date_in_name(&file.name).or_else(|| {
        (file.mtime > 0)
            .then(|| DateTime::from_timestamp(file.mtime, 0).map(|d| d.date_naive()))
            .flatten()
    });
    let mut writer = store.begin_report(&file, replace)?;
    let outcome = match parse(&mut writer) {
        Ok(summary) => {
            let report_id = writer.commit(&summary, fallback_date)?;
            tracing::info!(
                "parsed {}: {} ({}), {} finding rows, {} consent rows, messages {}",
                file.name,
                summary.format.as_str(),
                summary.kind.as_str(),
                summary.findings,
                summary.consent_rows,
                summary
                    .counts
                    .messages
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| "unknown".into())
            );
            if file.kind != summary.kind {
                store.set_kind(file.id, summary.kind)?;
            }
            if let Some(batch) = &summary.submission_file {
                crate::failpoint::hit("answer_before_link");
                store.link_batch(batch)?; // the answer of a batch already in the ledger
            }
            Outcome::Parsed { report_id, summary }
        }
        Err(e) if e.is_quarantine() => {
            drop(writer); // rolls back
            store.mark_quarantined(&file.sha256, &e.reason())?;
            tracing::info!("quarantined {}: {}", file.name, e.reason());
            Outcome::Quarantined {
                reason: e.to_string(),
            }
        }
        Err(e) => {
            drop(writer);
            return Err(IngestError::Parse(e));
        }
    };
    Ok(Ingested { file, outcome })
}

/// A date written in a file name (`DQA_Report_2025-10-28.xlsx`, `X_CNF_20251028.csv`).
pub fn date_in_name(name: &str) -> Option<chrono::NaiveDate> {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?:^|[^0-9])(20\d{2})[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?:[^0-9]|$)",
        )
        .unwrap()
    });
    let c = RE.captures(name)?;
    chrono::NaiveDate::from_ymd_opt(c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?)
}

/// Parse every stored file still pending (and, with `retry_quarantined`, the quarantined ones;
/// with `all`, every file, replacing earlier rows).
pub fn ingest_stored(
    store: &mut Store,
    opts: &ParseOptions,
    all: bool,
    retry_quarantined: bool,
) -> Result<Vec<Ingested>, IngestError> {
    let ids = store.files_to_parse(all, retry_quarantined)?;
    let (sent, files): (Vec<_>, Vec<_>) = ids
        .into_iter()
        .map(|id| stored_file(store, id))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .partition(|f| f.kind == Kind::Sent);
    // sent batches: the next one read on a helper thread while this one is stored
    let mut ledger = Vec::with_capacity(sent.len());
    let sent: Vec<(RemoteFileInfo, PathBuf)> = sent
        .into_iter()
        .map(|f| {
            let path = store.archive().path_of(&f.sha256);
            (f, path)
        })
        .collect();
    let (tx, rx) = std::sync::mpsc::sync_channel::<((RemoteFileInfo, PathBuf), _)>(1);
    let reader = store.archive().clone();
    std::thread::scope(|s| -> Result<(), IngestError> {
        s.spawn(move || read_sent_ahead(sent, |(_, path)| reader.open_path(path).ok(), tx));
        for ((file, _), messages) in rx {
            ledger.push(match messages {
                Some(m) => ingest_sent_from(store, file, |each| m.drain(each))?,
                None => ingest_sent(store, file)?, // names the archive error
            });
        }
        Ok(())
    })?;
    let jobs: Vec<(PathBuf, String, ParseOptions)> = files
        .iter()
        .map(|f| {
            let path = store.archive().path_of(&f.sha256);
            (path, f.name.clone(), options_for(f, opts))
        })
        .collect();
    let (tx, rx) = std::sync::mpsc::sync_channel::<((), Option<Records>)>(1);
    let reader = store.archive().clone();
    let out = std::thread::scope(|s| {
        s.spawn(move || {
            parse_ahead(
                jobs,
                |(path, name, file_opts)| {
                    // a file that cannot be opened goes to the store side, which reports it
                    (
                        (),
                        reader
                            .open_path(&path)
                            .ok()
                            .map(|input| (input, name, file_opts)),
                    )
                },
                tx,
            )
        });
        let mut out = ledger;
        for (file, ((), records)) in files.into_iter().zip(rx) {
            out.push(match records {
                Some(records) => ingest_records(store, file, records, all)?,
                None => ingest_one(store, file.id, opts, all)?, // names the archive error
            });
        }
        Ok::<_, IngestError>(out)
    })?;
    converge(store)?;
    Ok(out)
}

/// Redo what a stopped run left undone: answers stored but not linked to their batch.
fn converge(store: &mut Store) -> Result<(), IngestError> {
    for name in store.link_unlinked()? {
        tracing::info!("{name}: linked to its answer (a stopped run had left it unlinked)");
    }
    Ok(())
}

/// On a helper thread: `prepare` each item (what the store side receives, and the opened
/// file with its name and parse options when there is something to parse), send it with the
/// records channel of its parse, then parse into that channel. The parser thus works one file
/// ahead of the file being stored. Stops when the store side hangs up.
fn parse_ahead<T, U>(
    items: impl IntoIterator<Item = T>,
    prepare: impl Fn(T) -> (U, Option<(Blob, String, ParseOptions)>),
    tx: std::sync::mpsc::SyncSender<(U, Option<Records>)>,
) {
    for item in items {
        let (sent, input) = prepare(item);
        let Some((input, name, file_opts)) = input else {
            if tx.send((sent, None)).is_err() {
                break;
            }
            continue;
        };
        let (sender, records) = formats::records_channel();
        if tx.send((sent, Some(records))).is_err() {
            break; // the store side stopped
        }
        sender.parse(input, &name, &file_opts);
    }
}

/// [`parse_ahead`] for sent batches: on a helper thread, open each item's batch (None: the
/// store side reports why it cannot be read), send the item with the reading end of its
/// batch channel, then read the batch into it, one file ahead of the file being stored.
/// Stops when the store side hangs up.
fn read_sent_ahead<T>(
    items: impl IntoIterator<Item = T>,
    open: impl Fn(&T) -> Option<Blob>,
    tx: std::sync::mpsc::SyncSender<(T, Option<BatchReceiver>)>,
) {
    for item in items {
        let Some(input) = open(&item) else {
            if tx.send((item, None)).is_err() {
                break;
            }
            continue;
        };
        let (sender, receiver) = crate::ledger::read::batch_channel();
        if tx.send((item, Some(receiver))).is_err() {
            break; // the store side stopped
        }
        sender.read(std::io::BufReader::new(input));
    }
}

/// Totals over a batch of ingests, for summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestTotals {
    pub parsed: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    pub findings: u64,
    pub consent_rows: u64,
    /// Sent batches read into the ledger, and their messages.
    pub sent_batches: u64,
    pub sent_messages: u64,
}

pub fn totals(items: &[Ingested]) -> IngestTotals {
    let mut t = IngestTotals::default();
    for i in items {
        match &i.outcome {
            Outcome::Parsed { summary, .. } => {
                t.parsed += 1;
                t.findings += summary.by_severity.iter().sum::<u64>();
                t.consent_rows += summary.consent_rows;
            }
            Outcome::Duplicate { .. } => t.duplicates += 1,
            Outcome::Quarantined { .. } => t.quarantined += 1,
            // the registry's copy of a batch `upload` already recorded adds nothing
            Outcome::Ledger { messages: 0 } => t.duplicates += 1,
            Outcome::Ledger { messages } => {
                t.sent_batches += 1;
                t.sent_messages += messages;
            }
        }
    }
    t
}

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
    let _lock = store.lock()?;
    let (files, mut report, run_id, archive) =
        start_local_import(store, paths, profile, "local import")?;
    let mut counts = RunCounts::default();
    // Imported files are parsed without a kind hint (see `options_for`).
    let (tx, rx) = std::sync::mpsc::sync_channel::<(Archived, Option<Records>)>(1);
    let reader = archive.clone();
    std::thread::scope(|s| -> Result<(), IngestError> {
        let archived_files = archive_ahead(s, archive, files);
        s.spawn(move || {
            parse_ahead(
                archived_files,
                |archived: Archived| {
                    let input = archived
                        .copied
                        .as_ref()
                        .ok()
                        .and_then(|(_, stored)| reader.open_path(&stored.path).ok())
                        .map(|input| (input, file_name(&archived.path), opts.clone()));
                    (archived, input) // not archived: the store side reports it
                },
                tx,
            )
        });
        for (archived, records) in rx {
            let local = LocalRun {
                profile,
                run_id,
                kind: Kind::Dqa,
            };
            let Some((recorded, id)) =
                record_local(store, archived, &local, &mut counts, &mut report)?
            else {
                continue;
            };
            let already = store
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

/// Where a stored sent batch came from: an upload of the same content, a local import (an
/// absolute local folder), else the registry's accepted folder.
fn sent_source(store: &Store, file: &RemoteFileInfo) -> Result<SentSource, IngestError> {
    Ok(if store.is_uploaded(&file.sha256)? {
        SentSource::Upload
    } else if file.folder.starts_with('/') {
        SentSource::Import
    } else {
        SentSource::Accepted
    })
}

/// A stored file's archived copy, opened (the error names the file and its hash).
fn open_archived(store: &Store, file: &RemoteFileInfo) -> Result<Blob, IngestError> {
    store
        .archive()
        .open_blob(&file.sha256)
        .map_err(|source| IngestError::Archive {
            name: file.name.clone(),
            sha256: file.sha256.clone(),
            source,
        })
}

/// Read a stored sent batch into the message ledger (one transaction) and link it to its
/// answer. A file that is not an HL7 batch is quarantined with the reason.
pub fn ingest_sent(store: &mut Store, file: RemoteFileInfo) -> Result<Ingested, IngestError> {
    let input = open_archived(store, &file)?;
    ingest_sent_from(store, file, |each| {
        crate::ledger::read::read_batch_threaded(std::io::BufReader::new(input), each)
    })
}

/// [`ingest_sent`] with the messages coming from `read` (which gives each to the callback
/// and returns the reader's result): a reader on this file's own thread, or one already
/// running ahead on the import's helper thread.
fn ingest_sent_from(
    store: &mut Store,
    file: RemoteFileInfo,
    read: impl FnOnce(&mut dyn FnMut(SentMessage) -> Result<(), String>) -> Result<u64, ReadError>,
) -> Result<Ingested, IngestError> {
    let source = sent_source(store, &file)?;
    let Some(mut writer) =
        store.begin_sent_batch(&file.profile, &file.name, &file.sha256, source)?
    else {
        store.mark_parsed(&file.sha256)?;
        store.link_batch(&file.name)?;
        return Ok(Ingested {
            file,
            outcome: Outcome::Ledger { messages: 0 },
        });
    };
    let mut store_error = None;
    let mut first_date = None;
    let read = read(&mut |m: SentMessage| {
        if first_date.is_none() {
            first_date = m.time.map(|t| t.date());
        }
        writer.message(m).map_err(|e| {
            let text = e.to_string();
            store_error = Some(e);
            text
        })
    });
    let outcome = match read {
        Ok(_) => {
            let messages = writer.commit(first_date)?;
            store.mark_parsed(&file.sha256)?;
            crate::failpoint::hit("sent_before_link");
            store.link_batch(&file.name)?;
            tracing::info!(
                "sent batch {}: {messages} message(s) in the ledger",
                file.name
            );
            Outcome::Ledger { messages }
        }
        Err(ReadError::Sink(text)) => {
            drop(writer);
            return Err(store_error.map_or(IngestError::Stopped(text), IngestError::Store));
        }
        Err(e) => {
            drop(writer); // rolls back
            let reason = format!("not a readable HL7 batch: {e}");
            store.mark_quarantined(&file.sha256, &reason)?;
            tracing::info!("quarantined {}: {reason}", file.name);
            Outcome::Quarantined {
                reason: format!("{}: {reason}", file.name),
            }
        }
    };
    Ok(Ingested { file, outcome })
}

/// Record a batch that was just sent (by `upload`) in the archive and the ledger.
pub fn record_sent_bytes(
    store: &mut Store,
    profile: &str,
    folder: &str,
    name: &str,
    data: &[u8],
) -> Result<Ingested, IngestError> {
    let stored = store
        .archive()
        .store_copy(data)
        .map_err(|source| IngestError::Local {
            path: store.dir().display().to_string(),
            source,
        })?;
    let run_id = store.begin_run(profile, "upload")?;
    let (_, id) = store.record_fetched(&FetchedFile {
        profile,
        folder,
        name,
        kind: Kind::Sent,
        mtime: chrono::Utc::now().timestamp(),
        stored: &stored,
        run_id,
    })?;
    store.finish_run(
        run_id,
        &RunCounts {
            new: 1,
            bytes: stored.size,
            ..RunCounts::default()
        },
    )?;
    ingest_one(store, id, &ParseOptions::default(), false)
}

/// `immdqa import --sent`: local batches an EHR sent by itself, into the archive and the
/// ledger. Takes the store lock.
pub fn import_sent(
    store: &mut Store,
    paths: &[PathBuf],
    profile: &str,
) -> Result<ImportReport, IngestError> {
    let _lock = store.lock()?;
    let (files, mut report, run_id, archive) =
        start_local_import(store, paths, profile, "local import (sent)")?;
    let mut counts = RunCounts::default();
    let local = LocalRun {
        profile,
        run_id,
        kind: Kind::Sent,
    };
    // One helper thread copies the files into the archive (hash, fsync, rename), a second
    // reads each archived batch into a channel one file ahead of this thread, which stores
    // them: copying, parsing the next batch and committing the current one overlap.
    let (tx, rx) = std::sync::mpsc::sync_channel::<(Archived, Option<BatchReceiver>)>(1);
    let reader = archive.clone();
    std::thread::scope(|s| -> Result<(), IngestError> {
        let archived_files = archive_ahead(s, archive, files);
        s.spawn(move || {
            read_sent_ahead(
                archived_files,
                |archived: &Archived| {
                    let (_, stored) = archived.copied.as_ref().ok()?;
                    reader.open_path(&stored.path).ok()
                },
                tx,
            )
        });
        for (archived, messages) in rx {
            let Some((_, id)) = record_local(store, archived, &local, &mut counts, &mut report)?
            else {
                continue; // dropping `messages` stops its reader
            };
            let file = stored_file(store, id)?;
            report.ingested.push(match messages {
                Some(m) => ingest_sent_from(store, file, |each| m.drain(each))?,
                None => ingest_sent(store, file)?, // names the archive error
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
