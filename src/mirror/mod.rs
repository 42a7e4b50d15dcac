//! The mailbox mirror (`fetch`): bring the registry mailbox's report folders into the local
//! history. (`immdqa sync`, the whole weekly exchange, is `exchange`.)
//!
//! For each fetched folder: list it → validate each entry (name, type, size limit) → diff with
//! the manifest (name, size, mtime) → download only what is new or changed, streaming into a
//! temp file inside the store, checking the size, hashing, and moving it into the
//! content-addressed archive → record blob, version and manifest in one transaction. A crash at
//! any point leaves the history consistent: a rerun redoes at most the file in flight. Remote
//! files are only ever read. Uses: transport, store.

pub mod names;

use std::io::{Read, Write};

use crate::domain::{EventOutcome, Kind as FileKind};
use crate::store::archive::Incoming;
use crate::store::{FetchedFile, Recorded, RunCounts, Store, StoreError, Stored};
use crate::transport::{self, EntryKind, RemoteFs, Retry, TransportError};

/// What to fetch and how.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub profile: String,
    /// The remote folders and the kind of file each holds.
    pub folders: Vec<(FileKind, String)>,
    pub dry_run: bool,
    pub max_file_size: u64,
    pub retry: Retry,
    /// The folder the registry moves processed batches to: its names are recorded so
    /// uploads can be tracked (`None`: not looked at).
    pub accepted_dir: Option<String>,
}

/// Why a listed entry will or won't be downloaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    New,
    Changed,
    Unchanged,
    Skip(String),
}

/// One listed entry and the decision taken for it.
#[derive(Debug, Clone)]
pub struct PlanItem {
    pub kind: FileKind,
    pub folder: String,
    /// Escaped, printable name.
    pub display_name: String,
    /// The validated name (None when refused).
    pub name: Option<String>,
    pub size: u64,
    pub mtime: i64,
    pub action: Action,
}

/// A file (or, with an empty name, a whole folder) that could not be fetched.
#[derive(Debug, Clone)]
pub struct Failure {
    pub folder: String,
    /// Escaped, printable name; empty when the folder itself failed.
    pub name: String,
    pub reason: String,
}

/// The outcome of one fetch.
#[derive(Debug, Clone, Default)]
pub struct FetchReport {
    pub remote: String,
    pub dry_run: bool,
    pub run_id: Option<i64>,
    pub plan: Vec<PlanItem>,
    pub counts: RunCounts,
    pub failures: Vec<Failure>,
    /// Files not attempted because the run stopped after consecutive connection failures.
    pub left: u64,
    /// remote_file ids of the versions recorded by this run (new or changed content).
    pub recorded: Vec<i64>,
    pub temp_files_cleaned: usize,
}

impl FetchReport {
    /// `fetch: 3 new, 1 changed, 40 unchanged, 2 skipped, 0 failed; 1.2 MiB downloaded`
    pub fn summary_line(&self) -> String {
        let c = &self.counts;
        if self.dry_run {
            let (new, changed) = self.plan.iter().fold((0, 0), |(n, ch), p| match p.action {
                Action::New => (n + 1, ch),
                Action::Changed => (n, ch + 1),
                _ => (n, ch),
            });
            return format!(
                "dry run: would download {new} new and {changed} changed files; {} unchanged, {} skipped; nothing was changed",
                c.unchanged, c.skipped
            );
        }
        if c.new + c.changed + c.failed == 0 {
            return format!(
                "fetch: nothing new ({} unchanged, {} skipped) from {}",
                c.unchanged, c.skipped, self.remote
            );
        }
        let mut line = format!(
            "fetch: {} new, {} changed, {} unchanged, {} skipped, {} failed; {} downloaded from {}",
            c.new,
            c.changed,
            c.unchanged,
            c.skipped,
            c.failed,
            human_bytes(c.bytes),
            self.remote
        );
        if self.left > 0 {
            line.push_str(&format!(
                "; stopped after repeated connection failures: {} file(s) left for the next run",
                self.left
            ));
        }
        line
    }
}

/// `1.2 MiB`
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Progress reporting hooks (the CLI draws a bar; tests and pipes use [`NoProgress`]).
pub trait Progress {
    fn start(&self, _files: u64, _bytes: u64) {}
    fn file(&self, _folder: &str, _name: &str) {}
    fn advance(&self, _bytes: u64) {}
    fn finish(&self) {}
}

pub struct NoProgress;
impl Progress for NoProgress {}

/// Errors that stop a whole fetch (a single file's failure does not).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("local disk error in the store {path}: {source}")]
    Local {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Transport(#[from] TransportError),
}

enum DownloadError {
    Remote(TransportError),
    Local(std::io::Error),
}

/// Whether a recorded exact mtime falls in a listed time of precision `step` seconds (1:
/// exact; 60 or 86,400: an FTP LIST's minute or day).
fn same_time(recorded: i64, listed: i64, step: i64) -> bool {
    if step <= 1 {
        return recorded == listed;
    }
    recorded.div_euclid(step) * step == listed
}

/// Decide what to do with each entry of each folder (no writes).
pub fn plan(
    store: &Store,
    remote: &mut dyn RemoteFs,
    opts: &FetchOptions,
) -> Result<(Vec<PlanItem>, Vec<Failure>), SyncError> {
    let mut items = Vec::new();
    let mut folder_failures = Vec::new();
    for (kind, folder) in &opts.folders {
        let listing = match opts.retry.run("list", |attempt| {
            if attempt > 0 {
                remote.reconnect()?;
            }
            remote.list(folder)
        }) {
            Ok(l) => l,
            Err(TransportError::NotFound { .. }) if *kind == FileKind::Sent => {
                // the ledger's source is optional: a mailbox without it still fetches reports
                tracing::warn!(
                    "the accepted folder '{folder}' does not exist on {}: no sent batches fetched (set accepted_dir, or fetch_accepted = false)",
                    remote.describe()
                );
                continue;
            }
            Err(TransportError::NotFound { .. }) => {
                folder_failures.push(Failure {
                    folder: folder.clone(),
                    name: String::new(),
                    reason: format!(
                        "remote folder '{folder}' does not exist on {}; check the {} setting of the profile",
                        remote.describe(),
                        match kind {
                            FileKind::Dqa => "dqa_dir",
                            FileKind::Cnf => "receive_dir",
                            FileKind::Sent => "accepted_dir (or fetch_accepted = false)",
                        }
                    ),
                });
                continue;
            }
            Err(e) if e.is_transient() => return Err(e.into()),
            Err(e) => {
                folder_failures.push(Failure {
                    folder: folder.clone(),
                    name: String::new(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        for e in listing {
            let display_name = names::display(&e.name);
            let mut item = PlanItem {
                kind: *kind,
                folder: folder.clone(),
                display_name,
                name: None,
                size: e.size,
                mtime: e.mtime,
                action: Action::Unchanged,
            };
            if e.kind == EntryKind::Dir {
                // reported, not silently passed over: a registry that starts filing reports
                // in sub-folders must be noticed
                item.action = Action::Skip(
                    "a sub-folder: immdqa reads the files of the folder itself, not of its sub-folders".into(),
                );
                items.push(item);
                continue;
            }
            let name = match names::validate(&e.name) {
                Ok(n) => n.to_string(),
                Err(problem) => {
                    item.action = Action::Skip(format!("refused: {problem}"));
                    items.push(item);
                    continue;
                }
            };
            item.name = Some(name.clone());
            item.action = if e.kind != EntryKind::File {
                Action::Skip(format!("not a regular file ({})", e.kind.describe()))
            } else if e.size > opts.max_file_size {
                Action::Skip(format!(
                    "{} is over the size limit of {} (max_file_size)",
                    human_bytes(e.size),
                    human_bytes(opts.max_file_size)
                ))
            } else {
                let known = store.manifest_get(&opts.profile, folder, &name)?;
                let listed_match = known
                    .as_ref()
                    .is_some_and(|m| m.size == e.size && same_time(m.mtime, e.mtime, e.mtime_step));
                if !listed_match
                    && e.mtime_step > 1
                    && let Some(exact) = remote.stat(&transport::join(folder, &name))?
                {
                    // a coarse listing time that does not settle it: the exact time decides,
                    // and is what the manifest records
                    (item.size, item.mtime) = (exact.size, exact.mtime);
                }
                match known {
                    None => Action::New,
                    Some(m) if listed_match || (m.size, m.mtime) == (item.size, item.mtime) => {
                        Action::Unchanged
                    }
                    Some(_) => Action::Changed,
                }
            };
            tracing::debug!(
                "{folder}/{}: {}",
                item.display_name,
                match &item.action {
                    Action::New => "new: download".to_string(),
                    Action::Changed =>
                        "changed (size or mtime differ from the manifest): download".into(),
                    Action::Unchanged =>
                        "unchanged (size and mtime as in the manifest): skip".into(),
                    Action::Skip(why) => format!("skipped: {why}"),
                }
            );
            items.push(item);
        }
    }
    Ok((items, folder_failures))
}

fn download_once(
    store: &Store,
    remote: &mut dyn RemoteFs,
    path: &str,
    expected: u64,
    progress: &dyn Progress,
) -> Result<Incoming, DownloadError> {
    let mut incoming = store.archive().temp_file().map_err(DownloadError::Local)?;
    {
        let mut reader = remote.open_read(path).map_err(DownloadError::Remote)?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(DownloadError::Remote(TransportError::Io {
                        op: "read",
                        path: path.to_string(),
                        message: e.to_string(),
                        transient: true,
                    }));
                }
            };
            incoming
                .write_all(&buf[..n])
                .map_err(DownloadError::Local)?;
            progress.advance(n as u64);
            if incoming.len() > expected {
                break; // grew while we read: stop early, reported below
            }
        }
    }
    crate::failpoint::hit("after_temp_write");
    if incoming.len() != expected {
        return Err(DownloadError::Remote(TransportError::Io {
            op: "download",
            path: path.to_string(),
            message: format!(
                "size changed during download (listed {expected} bytes, received {}{}); it will be fetched again next run",
                incoming.len(),
                if incoming.len() > expected { "+" } else { "" }
            ),
            transient: false,
        }));
    }
    Ok(incoming)
}

/// Record one durable download in the history.
fn record_download(
    store: &mut Store,
    report: &mut FetchReport,
    opts: &FetchOptions,
    run_id: i64,
    it: &PlanItem,
    stored: &Stored,
) -> Result<(), SyncError> {
    let name = it.name.as_deref().expect("downloads have validated names");
    let (recorded, id) = store.record_fetched(&FetchedFile {
        profile: &opts.profile,
        folder: &it.folder,
        name,
        kind: it.kind,
        mtime: it.mtime,
        stored,
        run_id,
    })?;
    report.counts.bytes += stored.size;
    match recorded {
        Recorded::New => report.counts.new += 1,
        Recorded::Changed => report.counts.changed += 1,
        Recorded::Unchanged => report.counts.unchanged += 1,
    }
    if recorded != Recorded::Unchanged {
        report.recorded.push(id);
    }
    tracing::info!(
        "fetched {} ({} bytes, {:?})",
        transport::join(&it.folder, name),
        stored.size,
        recorded
    );
    Ok(())
}

/// The listing's skips and failures, in the run's events.
fn record_plan(store: &mut Store, report: &FetchReport, run_id: i64) -> Result<(), SyncError> {
    for it in &report.plan {
        if let Action::Skip(reason) = &it.action {
            tracing::info!("skipped {}/{}: {reason}", it.folder, it.display_name);
            store.record_event(
                run_id,
                &it.folder,
                &it.display_name,
                EventOutcome::Skipped,
                reason,
            )?;
        }
    }
    for f in &report.failures {
        store.record_event(run_id, &f.folder, &f.name, EventOutcome::Failed, &f.reason)?;
    }
    Ok(())
}

/// A file that failed to download: in the run's events and the report.
fn record_failure(
    store: &mut Store,
    report: &mut FetchReport,
    run_id: i64,
    it: &PlanItem,
    reason: String,
) -> Result<(), SyncError> {
    report.counts.failed += 1;
    store.record_event(
        run_id,
        &it.folder,
        &it.display_name,
        EventOutcome::Failed,
        &reason,
    )?;
    report.failures.push(Failure {
        folder: it.folder.clone(),
        name: it.display_name.clone(),
        reason,
    });
    Ok(())
}

/// Why the run stops before its next file (`left` of them still to do), if the outage bound
/// (`stop_after_failures`: files failed on the connection, or time-outs, in a row) is reached.
fn stop_reason(opts: &FetchOptions, consecutive: u32, left: u64) -> Option<String> {
    let bound = opts.retry.stop_after_failures;
    let timeouts = transport::timeouts_in_a_row();
    if bound == 0 || (consecutive < bound && timeouts < bound) {
        return None;
    }
    let what = if timeouts >= bound {
        format!("{timeouts} time-outs")
    } else {
        format!("{consecutive} files")
    };
    Some(format!(
        "stopped after {what} in a row failed on the connection (stop_after_failures): {left} file(s) left for the next run"
    ))
}

/// Fetch the profile's folders into the store. Takes the store lock for the whole run.
pub fn fetch(
    store: &mut Store,
    remote: &mut dyn RemoteFs,
    opts: &FetchOptions,
    progress: &dyn Progress,
) -> Result<FetchReport, SyncError> {
    let mut report = FetchReport {
        remote: remote.describe(),
        dry_run: opts.dry_run,
        ..FetchReport::default()
    };
    let _lock = if opts.dry_run {
        None
    } else {
        Some(store.lock()?)
    };
    if !opts.dry_run {
        report.temp_files_cleaned = clean_temp(store)?;
    }
    let listed = std::time::Instant::now();
    let (items, folder_failures) = plan(store, remote, opts)?;
    tracing::info!(
        "listed {} folder(s) in {:.0?}: {} entries",
        opts.folders.len(),
        listed.elapsed(),
        items.len()
    );
    for it in &items {
        match it.action {
            Action::Unchanged => report.counts.unchanged += 1,
            Action::Skip(_) => report.counts.skipped += 1,
            _ => {}
        }
    }
    report.counts.failed += folder_failures.len() as u64;
    report.failures.extend(folder_failures);
    report.plan = items;
    if opts.dry_run {
        return Ok(report);
    }

    let run_id = store.begin_run(&opts.profile, &report.remote)?;
    report.run_id = Some(run_id);
    record_plan(store, &report, run_id)?;

    let todo: Vec<PlanItem> = report
        .plan
        .iter()
        .filter(|p| matches!(p.action, Action::New | Action::Changed))
        .cloned()
        .collect();
    progress.start(todo.len() as u64, todo.iter().map(|p| p.size).sum());
    // Downloads run here; a helper thread makes each one durable in the archive (fsync,
    // rename, fsync of the folder) while the next one downloads. Files are recorded in the
    // history in order, each only once its archive copy is durable.
    let store_dir = store.dir().display().to_string();
    let local = |source| SyncError::Local {
        path: store_dir.clone(),
        source,
    };
    let archive = store.archive().clone();
    let (to_commit, commits) = std::sync::mpsc::sync_channel::<(usize, Incoming)>(4);
    let (done, committed) = std::sync::mpsc::channel::<(usize, std::io::Result<Stored>)>();
    std::thread::scope(|s| -> Result<(), SyncError> {
        s.spawn(move || {
            for (i, incoming) in commits {
                if done.send((i, archive.commit(incoming))).is_err() {
                    break; // the download side stopped
                }
            }
        });
        macro_rules! record {
            ($committed:expr) => {{
                let (i, stored): (usize, std::io::Result<Stored>) = $committed;
                let stored = stored.map_err(local)?;
                record_download(store, &mut report, opts, run_id, &todo[i], &stored)?;
            }};
        }
        // Set when a file failed because the connection broke: the next file reconnects first.
        let mut broken = false;
        // Files in a row that failed on the connection: the run stops at the bound.
        let mut consecutive = 0u32;
        crate::failpoint::hit("fetch_before_downloads");
        for (i, it) in todo.iter().enumerate() {
            let left = (todo.len() - i) as u64;
            if let Some(reason) = stop_reason(opts, consecutive, left) {
                report.left = left;
                tracing::warn!("{reason}");
                store.record_event(run_id, &it.folder, "", EventOutcome::Failed, &reason)?;
                report.failures.push(Failure {
                    folder: it.folder.clone(),
                    name: String::new(),
                    reason,
                });
                break;
            }
            let name = it.name.as_deref().expect("downloads have validated names");
            let path = transport::join(&it.folder, name);
            progress.file(&it.folder, name);
            let result = opts.retry.run("download", |attempt| {
                if attempt > 0 || broken {
                    remote.reconnect()?;
                    broken = false;
                }
                match download_once(store, remote, &path, it.size, progress) {
                    Ok(s) => Ok(Ok(s)),
                    Err(DownloadError::Remote(e)) => Err(e),
                    Err(DownloadError::Local(e)) => Ok(Err(e)),
                }
            });
            match result {
                Ok(Ok(incoming)) => {
                    consecutive = 0;
                    if to_commit.send((i, incoming)).is_err() {
                        break; // cannot happen while the helper runs; reported below
                    }
                }
                Ok(Err(source)) => {
                    progress.finish();
                    return Err(local(source));
                }
                Err(e) => {
                    broken = e.is_transient();
                    consecutive = if broken { consecutive + 1 } else { 0 };
                    tracing::info!("failed {path}: {e}");
                    record_failure(store, &mut report, run_id, it, e.to_string())?;
                }
            }
            while let Ok(c) = committed.try_recv() {
                record!(c);
            }
        }
        drop(to_commit);
        for c in committed.iter() {
            record!(c);
        }
        Ok(())
    })?;
    progress.finish();
    tracing::info!(
        "downloaded {} file(s), {} in {:.1?}",
        report.counts.new + report.counts.changed,
        human_bytes(report.counts.bytes),
        listed.elapsed()
    );
    track_accepted(store, remote, opts)?;
    store.finish_run(run_id, &report.counts)?;
    Ok(report)
}

/// What a killed run left in the store's temp folder: removed (how many files).
fn clean_temp(store: &Store) -> Result<usize, SyncError> {
    store
        .archive()
        .clean_temp()
        .map_err(|source| SyncError::Local {
            path: store.dir().display().to_string(),
            source,
        })
}

/// The names in the accepted folder, so uploads are known to have been taken (a folder that
/// cannot be listed is a warning, not a failure of the fetch).
fn track_accepted(
    store: &mut Store,
    remote: &mut dyn RemoteFs,
    opts: &FetchOptions,
) -> Result<(), SyncError> {
    if let Some(dir) = &opts.accepted_dir {
        match transport::file_names(remote, dir) {
            Ok(names) => store.record_accepted(&opts.profile, &names)?,
            Err(e) => tracing::warn!("cannot list {dir} to track uploads: {e}"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::local::LocalFs;
    use std::fs;

    #[test]
    fn coarse_listing_times() {
        assert!(same_time(100, 100, 1));
        assert!(!same_time(100, 101, 1));
        let exact = 1_700_000_096; // recorded to the second, listed to the minute or day
        assert!(same_time(exact, exact.div_euclid(60) * 60, 60));
        assert!(!same_time(exact, exact.div_euclid(60) * 60 + 60, 60));
        assert!(same_time(exact, exact.div_euclid(86_400) * 86_400, 86_400));
    }
    use std::time::Duration;

    fn opts() -> FetchOptions {
        FetchOptions {
            profile: "p".into(),
            folders: vec![
                (FileKind::Dqa, "DQA-Reports".into()),
                (FileKind::Cnf, "Receive".into()),
            ],
            dry_run: false,
            max_file_size: 1000,
            retry: Retry {
                stop_after_failures: 3,
                attempts: 0,
                first_delay: Duration::from_millis(1),
            },
            accepted_dir: None,
        }
    }

    #[test]
    fn first_second_changed_and_skips() {
        let mbox = tempfile::tempdir().unwrap();
        let st = tempfile::tempdir().unwrap();
        fs::create_dir(mbox.path().join("DQA-Reports")).unwrap();
        fs::create_dir(mbox.path().join("Receive")).unwrap();
        fs::write(mbox.path().join("DQA-Reports/a.csv"), "a,b\n1,2\n").unwrap();
        fs::write(mbox.path().join("DQA-Reports/big.csv"), vec![b'x'; 2000]).unwrap();
        fs::write(mbox.path().join("Receive/cnf.csv"), "x\n").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", mbox.path().join("Receive/link")).unwrap();
        let mut remote = LocalFs::new(mbox.path().to_path_buf()).unwrap();
        let mut store = Store::open(st.path(), &crate::store::Keyring::none()).unwrap();

        let mut dry = opts();
        dry.dry_run = true;
        let r = fetch(&mut store, &mut remote, &dry, &NoProgress).unwrap();
        assert_eq!(r.plan.iter().filter(|p| p.action == Action::New).count(), 2);
        assert!(
            store.status().unwrap().files.is_empty(),
            "dry run wrote nothing"
        );

        let r = fetch(&mut store, &mut remote, &opts(), &NoProgress).unwrap();
        assert_eq!(
            (r.counts.new, r.counts.skipped, r.counts.failed),
            (2, 2, 0),
            "{r:?}"
        );
        assert_eq!(r.counts.bytes, 10);
        let r = fetch(&mut store, &mut remote, &opts(), &NoProgress).unwrap();
        assert_eq!(
            (r.counts.new, r.counts.unchanged, r.counts.bytes),
            (0, 2, 0)
        );
        assert!(
            r.summary_line().contains("nothing new"),
            "{}",
            r.summary_line()
        );

        // change the content under the same name (and make sure the mtime moves)
        let p = mbox.path().join("DQA-Reports/a.csv");
        fs::write(&p, "a,b\n1,2\n3,4\n").unwrap();
        let t = std::time::SystemTime::now() + Duration::from_secs(5);
        fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(t)
            .unwrap();
        let r = fetch(&mut store, &mut remote, &opts(), &NoProgress).unwrap();
        assert_eq!((r.counts.changed, r.counts.new), (1, 0));
        let versions: i64 = store
            .connection()
            .query_row(
                "SELECT COUNT(*) FROM remote_file WHERE name = 'a.csv'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(versions, 2, "both versions kept");
    }

    #[test]
    fn missing_folder_is_a_failure_naming_the_setting() {
        let mbox = tempfile::tempdir().unwrap();
        let st = tempfile::tempdir().unwrap();
        fs::create_dir(mbox.path().join("DQA-Reports")).unwrap();
        let mut remote = LocalFs::new(mbox.path().to_path_buf()).unwrap();
        let mut store = Store::open(st.path(), &crate::store::Keyring::none()).unwrap();
        let r = fetch(&mut store, &mut remote, &opts(), &NoProgress).unwrap();
        assert_eq!(r.counts.failed, 1);
        assert!(
            r.failures[0].reason.contains("receive_dir"),
            "{:?}",
            r.failures
        );
    }

    #[test]
    fn human_bytes_units() {
        assert_eq!(human_bytes(10), "10 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
