//! Ingest: archived files → parsers → the normalised history, one transaction per file.
//!
//! A file whose content was already parsed (same SHA-256, any name) adds nothing. A file no
//! parser can read is quarantined: it stays in the archive with the reason, and is retried
//! by `reparse`. `import` brings local files through the same path as fetched ones.
//!
//! One pipeline for every shape: a parser runs one file ahead ([`ahead`]) and streams its
//! records to the store side, which stores a report ([`store_report`], here) or a sent batch
//! ([`sent`]: the ledger) in one transaction; [`local`] brings local files in.
//! Uses: store, formats, mirror and transport (`import` of a local folder goes through the
//! fetch).

mod ahead;
mod local;
mod sent;

pub use local::{import_paths, import_sent};
pub use sent::record_sent_bytes;

use chrono::DateTime;

use crate::formats::{self, Kind, ParseError, ParseOptions, Records, Summary};
use crate::store::crypt::Blob;
use crate::store::{RemoteFileInfo, Store, StoreError};

/// The profile name recorded for files brought in with `immdqa import` when no profile is
/// selected (with one, imported files belong to it, like fetched ones).
pub const IMPORT_PROFILE: &str = "import";

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
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
    Fetch(#[from] crate::mirror::SyncError),
}

/// What [`fetch_and_parse`] did.
#[derive(Debug)]
pub struct FetchParsed {
    pub fetch: crate::mirror::FetchReport,
    /// Every file parsed (what was downloaded, and anything left pending by an interrupted
    /// run); empty for a dry run or `parse = false`.
    pub parsed: Vec<Ingested>,
}

/// Fetch the mailbox, then parse what arrived: the one entry point of `fetch`, `demo` and
/// `sync`. With `parse = false` (`fetch --no-parse`), files wait, pending, for the next run.
pub fn fetch_and_parse(
    store: &mut Store,
    remote: &mut dyn crate::transport::RemoteFs,
    opts: &crate::mirror::FetchOptions,
    parse_opts: &ParseOptions,
    parse: bool,
    progress: &dyn crate::mirror::Progress,
) -> Result<FetchParsed, IngestError> {
    let fetch = crate::mirror::fetch(store, remote, opts, progress)?;
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
        summary: Summary,
    },
    /// Same content as an existing report: nothing added.
    Duplicate,
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
    if file.kind != Kind::Sent
        && !replace
        && let Some(duplicate) = duplicate(store, &file)?
    {
        return Ok(duplicate);
    }
    let input = open_archived(store, &file)?;
    let file_opts = options_for(&file, opts);
    let name = file.name.clone();
    store_file(store, file, replace, |sink| {
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
    let name = file.name.clone();
    store_file(store, file, replace, |sink| records.drain_into(&name, sink))
}

/// The store side of every shape: a sent batch into the ledger, anything else as a report
/// (content already parsed under another name adds nothing; dropping the records stops
/// their parser).
fn store_file(
    store: &mut Store,
    file: RemoteFileInfo,
    replace: bool,
    parse: impl FnOnce(&mut dyn formats::Sink) -> Result<Summary, ParseError>,
) -> Result<Ingested, IngestError> {
    if file.kind == Kind::Sent {
        return sent::store_sent(store, file, parse);
    }
    if !replace && let Some(duplicate) = duplicate(store, &file)? {
        return Ok(duplicate);
    }
    store_report(store, file, replace, parse)
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

fn stored_file(store: &Store, remote_file_id: i64) -> Result<RemoteFileInfo, IngestError> {
    store
        .remote_file(remote_file_id)?
        .ok_or(IngestError::Missing(remote_file_id))
}

/// Content already parsed (any name): nothing to add.
fn duplicate(store: &Store, file: &RemoteFileInfo) -> Result<Option<Ingested>, IngestError> {
    if store.report_for_sha(&file.sha256)?.is_none() {
        return Ok(None);
    }
    store.mark_parsed(&file.sha256)?;
    Ok(Some(Ingested {
        file: file.clone(),
        outcome: Outcome::Duplicate,
    }))
}

/// Parse options for one file: a file fetched from the consent folder is a consent file.
fn options_for(file: &RemoteFileInfo, opts: &ParseOptions) -> ParseOptions {
    let mut file_opts = opts.clone();
    // (imported files are recorded as `dqa` until parsed: no hint; a fetched file from the
    // consent folder, or a re-parse of a file once parsed as consent, gets one)
    if matches!(file.kind, Kind::Cnf | Kind::Sent) {
        file_opts.kind_hint = Some(file.kind);
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
            writer.commit(&summary, fallback_date)?;
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
            Outcome::Parsed { summary }
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
    let mut files = ids
        .into_iter()
        .map(|id| stored_file(store, id))
        .collect::<Result<Vec<_>, _>>()?;
    // sent batches first: the answers parsed after them link to them at once
    files.sort_by_key(|f| f.kind != Kind::Sent);
    let reader = store.archive().clone();
    let out = std::thread::scope(|s| {
        // a file that cannot be opened goes to the store side, which reports it
        let open = move |f: &RemoteFileInfo| {
            let input = reader.open_path(&reader.path_of(&f.sha256)).ok()?;
            Some((input, f.name.clone(), options_for(f, opts)))
        };
        let rx = ahead::parse_ahead(s, files, open);
        let mut out = Vec::new();
        for (file, records) in rx {
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
