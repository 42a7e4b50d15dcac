//! Upload: send HL7 batch files to the registry's drop-off folder under the registry's name,
//! checked first, never half-written, never overwriting, recorded after.
//!
//! Name: `<import_code><YY><DDD>.hl7` for the upload date; later files the same day get
//! `.1`, `.2`, … (or are refused, `same_day = "refuse"`). A name already in the drop-off
//! folder, the accepted folder, or the local upload history is never reused. Checks: the
//! structure check must pass (see [`crate::hl7::lint`]); with `strict`, so must every
//! rejection-class lint rule. Transfer: written under a temporary name the registry does not
//! pick up (`.immdqa-<name>.part`), its remote size verified, then renamed to the final name;
//! a dropped connection retries from scratch, and an interrupted run never leaves a file under
//! the final name. Uses: hl7, transport, store, batch_name, config (the registry's rules), ingest
//! (the sent batch into the ledger), mirror (progress), vaccines (the code sets lint checks against),
//! formats (the sent-batch reader: a batch's doses, to ask the history which were already
//! accepted).

use std::collections::HashSet;
use std::path::PathBuf;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use crate::batch_name;
use crate::hl7::lint::{self, LintReport};
use crate::mirror::Progress;
use crate::store::uploads::UploadRow;
use crate::store::{Store, StoreError};
use crate::transport::{self, RemoteFs, Retry, TransportError};

/// What to do with a second file on the same day.
pub use crate::batch_name::SameDay;

#[derive(Debug, Clone)]
pub struct UploadOptions {
    pub profile: String,
    pub import_code: String,
    pub dropoff_dir: String,
    pub accepted_dir: String,
    pub date: NaiveDate,
    pub today: NaiveDate,
    pub dry_run: bool,
    pub strict: bool,
    pub same_day: SameDay,
    pub retry: Retry,
    /// Refuse files larger than this.
    pub max_size: u64,
    /// Whose lint rules apply.
    pub registry: crate::config::Registry,
    /// The vaccine code sets the lint rules check doses against (`immdqa codes`).
    pub codes: &'static crate::vaccines::CodeSet,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Transport(#[from] TransportError),
    #[error("{path}: {source}")]
    Local {
        path: String,
        source: std::io::Error,
    },
}

/// What happened to one file.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Sent and renamed to `remote_name`.
    Uploaded { remote_name: String },
    /// The same content was uploaded and recorded before (a run stopped before it moved the
    /// file, or the same file dropped again): not sent again.
    AlreadySent { remote_name: String, at: String },
    /// Sent as read, but the local file changed afterwards: what went and what the file holds
    /// now differ (the reason says which messages went).
    SentButChanged { remote_name: String, reason: String },
    /// Dry run: it would be sent as `remote_name`.
    Planned { remote_name: String },
    /// Not sent; the reason says why.
    Refused { reason: String },
    /// The transfer failed (after retries); nothing is left under the final name.
    Failed { remote_name: String, reason: String },
}

#[derive(Debug, Clone)]
pub struct FileResult {
    pub path: PathBuf,
    pub lint: LintReport,
    pub outcome: Outcome,
}

/// The temporary name used while a file is being written.
pub fn temp_name(final_name: &str) -> String {
    format!(".immdqa-{final_name}.part")
}

/// The first free name for `date`: plain, then `.1`, `.2`, … (with `Sequence`).
pub fn choose_name(
    taken: &HashSet<String>,
    code: &str,
    date: NaiveDate,
    policy: SameDay,
) -> Result<String, String> {
    let plain = batch_name::format(code, date, None);
    let day_taken = |n: &str| taken.contains(n);
    if !day_taken(&plain) {
        return Ok(plain);
    }
    match policy {
        SameDay::Refuse => Err(format!(
            "{plain} already exists and same_day = \"refuse\": one batch per day"
        )),
        SameDay::Sequence => (1..10_000)
            .map(|n| batch_name::format(code, date, Some(n)))
            .find(|n| !day_taken(n))
            .ok_or_else(|| format!("no free sequence number for {plain}")),
    }
}

/// Check and (unless dry run) upload each file. Takes the store lock. `each` sees every
/// result as soon as it is recorded (the outbox moves the file then, not after the last one).
///
/// Exactly once: the upload is noted as an intent before the rename and recorded after it;
/// a run stopped in between is settled by the next one, which asks the server whether the
/// file arrived ([`reconcile`]). Content already recorded as uploaded is never sent again.
pub fn upload(
    store: &mut Store,
    remote: &mut dyn RemoteFs,
    files: &[PathBuf],
    opts: &UploadOptions,
    progress: &dyn Progress,
    each: &mut dyn FnMut(&FileResult),
) -> Result<Vec<FileResult>, UploadError> {
    let _lock = if opts.dry_run {
        None
    } else {
        Some(store.lock()?)
    };
    if !opts.dry_run {
        for line in reconcile(store, remote, opts)? {
            tracing::warn!("{line}");
        }
    }
    let mut taken: HashSet<String> = HashSet::new();
    taken.extend(transport::file_names(remote, &opts.dropoff_dir)?);
    let accepted = transport::file_names(remote, &opts.accepted_dir)?;
    store.record_accepted(&opts.profile, &accepted)?;
    taken.extend(accepted);
    // names used by earlier uploads are never reused, even after the registry moved the files
    taken.extend(store.upload_names(&opts.profile)?);
    let mut results = Vec::new();
    for path in files {
        let r = upload_one(store, remote, path, &mut taken, opts, progress)?;
        each(&r);
        results.push(r);
    }
    Ok(results)
}

/// What a file held when it was read: sent only if it still holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    size: u64,
    modified: Option<std::time::SystemTime>,
    sha256: String,
}

impl Snapshot {
    fn of(path: &std::path::Path, data: &[u8]) -> std::io::Result<Snapshot> {
        let meta = std::fs::metadata(path)?;
        Ok(Snapshot {
            size: meta.len(),
            modified: meta.modified().ok(),
            sha256: format!("{:x}", Sha256::digest(data)),
        })
    }

    /// None when the file's size and time are still those read; else what changed.
    fn touched(&self, path: &std::path::Path) -> Option<String> {
        let Ok(meta) = std::fs::metadata(path) else {
            return Some("the file is gone".into());
        };
        (meta.len() != self.size || meta.modified().ok() != self.modified).then(|| {
            format!(
                "the file changed while it was being sent ({} bytes when read, {} now)",
                self.size,
                meta.len()
            )
        })
    }

    /// None when the file still holds what was read (size, time and content); else what
    /// changed. Read again and hashed: once per send, before the rename puts it in place.
    fn changed(&self, path: &std::path::Path) -> Option<String> {
        if let Some(what) = self.touched(path) {
            return Some(what);
        }
        let now = std::fs::read(path).ok()?;
        (format!("{:x}", Sha256::digest(&now)) != self.sha256)
            .then(|| "the file's content changed while it was being sent".to_string())
    }
}

fn upload_one(
    store: &mut Store,
    remote: &mut dyn RemoteFs,
    path: &PathBuf,
    taken: &mut HashSet<String>,
    opts: &UploadOptions,
    progress: &dyn Progress,
) -> Result<FileResult, UploadError> {
    let local = |source| UploadError::Local {
        path: path.display().to_string(),
        source,
    };
    let result = |lint: LintReport, outcome: Outcome| FileResult {
        path: path.clone(),
        lint,
        outcome,
    };
    let refuse = |reason: String, lint: LintReport| result(lint, Outcome::Refused { reason });
    let meta = std::fs::metadata(path).map_err(local)?;
    if meta.len() > opts.max_size {
        return Ok(refuse(
            format!(
                "{} bytes is over the limit of {}",
                meta.len(),
                opts.max_size
            ),
            LintReport::default(),
        ));
    }
    let data = std::fs::read(path).map_err(local)?;
    let snapshot = Snapshot::of(path, &data).map_err(local)?;
    let prior = lint::Prior {
        accepted: store.accepted_doses(&opts.profile, &doses_of(&data))?,
    };
    let report = lint::check_against(&data, opts.today, opts.registry, opts.codes, prior);
    if !report.structure_ok() {
        let n = report.structure.len();
        return Ok(refuse(
            format!("{n} structural problem(s): not sent"),
            report,
        ));
    }
    if opts.strict && report.errors() > 0 {
        let n = report.errors();
        return Ok(refuse(
            format!("{n} rejection-class finding(s) and --strict: not sent"),
            report,
        ));
    }
    let sha = snapshot.sha256.clone();
    if let Some((name, at)) = store.upload_of_content(&opts.profile, &sha)? {
        if !opts.dry_run {
            ensure_in_ledger(store, opts, &name, &data);
        }
        return Ok(result(
            report,
            Outcome::AlreadySent {
                remote_name: name,
                at,
            },
        ));
    }
    let name = match choose_name(taken, &opts.import_code, opts.date, opts.same_day) {
        Ok(n) => n,
        Err(reason) => return Ok(refuse(reason, report)),
    };
    taken.insert(name.clone());
    if opts.dry_run {
        return Ok(result(report, Outcome::Planned { remote_name: name }));
    }
    let row = UploadRow {
        profile: opts.profile.clone(),
        local_path: std::fs::canonicalize(path)
            .unwrap_or_else(|_| path.clone())
            .display()
            .to_string(),
        remote_dir: opts.dropoff_dir.clone(),
        remote_name: name.clone(),
        size: data.len() as u64,
        sha256: sha,
        uploaded_at: String::new(),
        messages: report.messages as u64,
        lint_errors: report.errors() as u64,
        lint_warnings: report.warnings() as u64,
        accepted_seen_at: None,
    };
    store.record_upload_intent(&row)?;
    progress.start(1, data.len() as u64);
    progress.file(&opts.dropoff_dir, &name);
    let unchanged = || snapshot.changed(path);
    let sent = send(
        remote,
        &opts.dropoff_dir,
        &name,
        &data,
        opts.retry,
        progress,
        &unchanged,
    );
    progress.finish();
    match sent {
        Ok(()) => {
            crate::failpoint::hit("upload_after_rename");
            record(store, opts, row, &data)?;
            // the content was compared just before the rename: size and time say whether
            // the writer came back since
            let outcome = match snapshot.touched(path) {
                None => Outcome::Uploaded { remote_name: name },
                Some(what) => Outcome::SentButChanged {
                    reason: format!(
                        "{what}: {} went as {name} ({}); the rest was not sent",
                        report.messages,
                        control_id_span(&data)
                    ),
                    remote_name: name,
                },
            };
            Ok(result(report, outcome))
        }
        Err(e) => {
            store.drop_upload_intent(&opts.profile, &name)?;
            Ok(match e {
                TransportError::AlreadyExists { .. } => refuse(
                    format!("{name} appeared on the server meanwhile: not overwritten"),
                    report,
                ),
                TransportError::Changed(what) => result(
                    report,
                    Outcome::Failed {
                        remote_name: name,
                        reason: format!("{what}: nothing sent, tried again on the next run"),
                    },
                ),
                e => result(
                    report,
                    Outcome::Failed {
                        remote_name: name,
                        reason: e.to_string(),
                    },
                ),
            })
        }
    }
}

/// "messages MSH-10 first … last" of a batch, for a person to find what went.
fn control_id_span(data: &[u8]) -> String {
    let ids = crate::hl7::control_ids(data);
    match (ids.first(), ids.last()) {
        (Some(a), Some(b)) if a == b => format!("message {a}"),
        (Some(a), Some(b)) => format!("messages {a} … {b}"),
        _ => "no message ids".into(),
    }
}

/// Record an upload the server holds: the journal and history, then the ledger, then the
/// intent settled. A run stopped between the upload record and the ledger is repaired by the
/// next one ([`ensure_in_ledger`] on content already uploaded).
fn record(
    store: &mut Store,
    opts: &UploadOptions,
    mut row: UploadRow,
    data: &[u8],
) -> Result<(), UploadError> {
    let name = row.remote_name.clone();
    // a run stopped after the record and before the intent was settled: recorded once
    let recorded = store.upload_of_content(&opts.profile, &row.sha256)?;
    if recorded.is_none_or(|(n, _)| n != name) {
        row.uploaded_at = crate::store::now();
        store.record_upload(&row)?;
    }
    crate::failpoint::hit("upload_after_record");
    ensure_in_ledger(store, opts, &name, data);
    store.drop_upload_intent(&opts.profile, &name)?;
    Ok(())
}

/// The sent batch enters the ledger (archive + messages), joined to its answer when it comes;
/// nothing to do when it is there already.
fn ensure_in_ledger(store: &mut Store, opts: &UploadOptions, name: &str, data: &[u8]) {
    match store.has_sent_batch(&opts.profile, name) {
        Ok(true) => {}
        Ok(false) => {
            if let Err(e) = crate::ingest::record_sent_bytes(
                store,
                &opts.profile,
                &opts.dropoff_dir,
                name,
                data,
            ) {
                tracing::warn!("{name} was sent, but recording it in the ledger failed: {e}");
            }
        }
        Err(e) => tracing::warn!("{name}: cannot tell whether the ledger holds it: {e}"),
    }
}

/// Settle the uploads a stopped run left between the server's rename and the record: a file
/// the server holds under its name (or has moved to the accepted folder) with the same size and
/// hash is recorded, never sent again; otherwise our temporary file is removed and the batch
/// goes out normally. Returns a line per settled intent.
pub fn reconcile(
    store: &mut Store,
    remote: &mut dyn RemoteFs,
    opts: &UploadOptions,
) -> Result<Vec<String>, UploadError> {
    let mut lines = Vec::new();
    for row in store.upload_intents(&opts.profile)? {
        let name = row.remote_name.clone();
        let mut arrived = None;
        for dir in [&opts.dropoff_dir, &opts.accepted_dir] {
            let p = transport::join(dir, &name);
            if let Some(st) = remote.stat(&p)?
                && st.size == row.size
            {
                let mut bytes = Vec::with_capacity(row.size as usize);
                std::io::Read::read_to_end(&mut remote.open_read(&p)?, &mut bytes).map_err(
                    |e| TransportError::Io {
                        op: "read",
                        path: p.clone(),
                        message: e.to_string(),
                        transient: true,
                    },
                )?;
                if format!("{:x}", Sha256::digest(&bytes)) == row.sha256 {
                    arrived = Some(bytes);
                    break;
                }
            }
        }
        match arrived {
            Some(bytes) => {
                record(store, opts, row, &bytes)?;
                lines.push(format!(
                    "{name}: a stopped run had sent it; the server holds it unchanged: recorded, not sent again"
                ));
            }
            None => {
                let tmp = transport::join(&opts.dropoff_dir, &temp_name(&name));
                if remote.stat(&tmp)?.is_some() {
                    let _ = remote.remove(&tmp);
                }
                store.drop_upload_intent(&opts.profile, &name)?;
                lines.push(format!(
                    "{name}: a stopped run had not finished sending it: it goes out again"
                ));
            }
        }
    }
    Ok(lines)
}

/// Write under the temporary name, verify the size, rename. Retries transient failures,
/// reconnecting and starting the file again.
fn send(
    remote: &mut dyn RemoteFs,
    dir: &str,
    name: &str,
    data: &[u8],
    retry: Retry,
    progress: &dyn Progress,
    unchanged: &dyn Fn() -> Option<String>,
) -> Result<(), TransportError> {
    let tmp = transport::join(dir, &temp_name(name));
    let dest = transport::join(dir, name);
    retry.run("upload", |attempt| {
        if attempt > 0 {
            remote.reconnect()?;
        }
        if remote.stat(&dest)?.is_some() {
            return Err(TransportError::AlreadyExists { path: dest.clone() });
        }
        if remote.stat(&tmp)?.is_some() {
            remote.remove(&tmp)?; // our own leftover from an interrupted attempt
        }
        let mut reader = Counting {
            inner: data,
            progress,
        };
        let written = remote.write_new(&tmp, &mut reader)?;
        let st = remote
            .stat(&tmp)?
            .ok_or_else(|| TransportError::NotFound { path: tmp.clone() })?;
        if written != data.len() as u64 || st.size != data.len() as u64 {
            let _ = remote.remove(&tmp);
            return Err(TransportError::Io {
                op: "verify",
                path: tmp.clone(),
                message: format!("remote size {} after writing {} bytes", st.size, data.len()),
                transient: true,
            });
        }
        crate::failpoint::hit("upload_before_rename");
        // a snapshot: the file must still hold what was read, or nothing goes
        if let Some(what) = unchanged() {
            let _ = remote.remove(&tmp);
            return Err(TransportError::Changed(what));
        }
        remote.rename(&tmp, &dest)
    })
}

/// A reader that reports bytes read to a progress bar.
struct Counting<'a> {
    inner: &'a [u8],
    progress: &'a dyn Progress,
}

impl std::io::Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// A one-line description of an outcome.
pub fn describe(r: &FileResult) -> String {
    let lint = format!(
        "{} messages, {} errors, {} warnings predicted",
        r.lint.messages,
        r.lint.errors(),
        r.lint.warnings()
    );
    match &r.outcome {
        Outcome::Uploaded { remote_name } => {
            format!("{} → {remote_name}: uploaded ({lint})", r.path.display())
        }
        Outcome::Planned { remote_name } => format!(
            "{} → {remote_name}: would upload ({lint}); dry run, nothing sent",
            r.path.display()
        ),
        Outcome::AlreadySent { remote_name, at } => format!(
            "{}: NOT SENT: the same file was already uploaded as {remote_name} at {at}",
            r.path.display()
        ),
        Outcome::SentButChanged {
            remote_name,
            reason,
        } => format!(
            "{} → {remote_name}: SENT, THEN CHANGED: {reason}",
            r.path.display()
        ),
        Outcome::Refused { reason } => format!("{}: NOT SENT: {reason}", r.path.display()),
        Outcome::Failed {
            remote_name,
            reason,
        } => format!("{} → {remote_name}: FAILED: {reason}", r.path.display()),
    }
}

/// The administered doses of a batch, as the ledger would record them (a batch that does
/// not read as HL7 has none: lint says why).
fn doses_of(data: &[u8]) -> Vec<crate::store::uploads::DoseKey> {
    /// Keeps each message's administered doses, not the message.
    struct Doses(Vec<crate::store::uploads::DoseKey>);
    impl crate::formats::Sink for Doses {
        fn finding(&mut self, _: crate::formats::Finding) -> Result<(), crate::formats::SinkError> {
            Ok(())
        }
        fn consent(
            &mut self,
            _: crate::formats::ConsentNotice,
        ) -> Result<(), crate::formats::SinkError> {
            Ok(())
        }
        fn sent(
            &mut self,
            m: crate::formats::SentMessage,
        ) -> Result<(), crate::formats::SinkError> {
            let Some(patient) = m.patient_ref.as_deref() else {
                return Ok(());
            };
            for (seq, v) in m.vaccinations.iter().enumerate() {
                if let (false, Some(on)) = (v.historical, v.administered_on) {
                    self.0.push((
                        m.index,
                        seq + 1,
                        patient.to_string(),
                        v.vaccine().to_string(),
                        on.to_string(),
                    ));
                }
            }
            Ok(())
        }
    }
    let mut doses = Doses(Vec::new());
    let _ = crate::formats::sent::read_batch(data, &mut doses);
    doses.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn names_across_year_and_day_boundaries() {
        let none = HashSet::new();
        let n = |date| choose_name(&none, "ACME", date, SameDay::Sequence).unwrap();
        assert_eq!(n(d(2025, 12, 31)), "ACME25365.hl7");
        assert_eq!(n(d(2026, 1, 1)), "ACME26001.hl7");
        assert_eq!(n(d(2024, 12, 31)), "ACME24366.hl7", "leap year");
        assert_eq!(n(d(2024, 2, 29)), "ACME24060.hl7");
        assert_eq!(n(d(2025, 3, 1)), "ACME25060.hl7");
        assert_eq!(n(d(2030, 1, 9)), "ACME30009.hl7");
    }

    #[test]
    fn sequence_suffixes_and_refusal() {
        let mut taken: HashSet<String> = ["ACME25301.hl7".to_string()].into();
        assert_eq!(
            choose_name(&taken, "ACME", d(2025, 10, 28), SameDay::Sequence).unwrap(),
            "ACME25301.1.hl7"
        );
        taken.insert("ACME25301.1.hl7".into());
        assert_eq!(
            choose_name(&taken, "ACME", d(2025, 10, 28), SameDay::Sequence).unwrap(),
            "ACME25301.2.hl7"
        );
        assert!(
            choose_name(&taken, "ACME", d(2025, 10, 28), SameDay::Refuse)
                .unwrap_err()
                .contains("one batch per day")
        );
        assert_eq!(
            choose_name(&taken, "ACME", d(2025, 10, 29), SameDay::Refuse).unwrap(),
            "ACME25302.hl7"
        );
    }

    #[test]
    fn temp_name_is_not_picked_up_as_a_batch() {
        let t = temp_name("ACME25301.hl7");
        assert!(t.starts_with('.') && !t.ends_with(".hl7"));
    }
}
