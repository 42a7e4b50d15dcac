//! The unattended weekly exchange (what `immdqa sync` runs): send the complete batches of the
//! outbox, fetch and parse the registry's answers, judge the last complete week, and write its
//! report once. A library function, so the command line, the web workspace and tests run the
//! same exchange; what happens is told step by step through [`Event`]s (the caller words
//! them), what it amounts to is the [`Outcome`].
//!
//! One lock for the whole run ([`crate::store::RunLock`]); a dry run changes nothing.
//! Uses: store, transport, outbox, upload, ingest, mirror, analytics, report, config, formats.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::NaiveDate;

use crate::analytics::thresholds::{self, LedgerScope, Level, Verdict};
use crate::domain::{week_label, week_start};
use crate::mirror::NoProgress;
use crate::outbox::Disposition;
use crate::store::{RunLock, Store};
use crate::upload::{FileResult, UploadOptions};

/// What one exchange does, resolved from a profile and the configuration.
pub struct ExchangeOptions<'a> {
    pub profile: String,
    pub transport: crate::transport::Options,
    /// The outbox and when a batch in it is complete (None: nothing to send).
    pub outbox: Option<(PathBuf, crate::config::OutboxReady)>,
    /// An outbox file is sent once unchanged for this long (the `settle` rule).
    pub settle: Duration,
    /// How batches are sent (Err: why they cannot be, said only if a batch is ready).
    pub upload: Result<UploadOptions, String>,
    pub fetch: crate::mirror::FetchOptions,
    pub parse: crate::formats::ParseOptions,
    pub dry_run: bool,
    /// The profile analyses are scoped to (None: every profile).
    pub analysis_profile: Option<String>,
    pub thresholds: &'a crate::config::Thresholds,
    pub ledger: LedgerScope,
    /// Where the weekly report goes (`report_dir/<ISO week>/`), and how it is built.
    pub report: Option<(PathBuf, crate::report::Settings<'a>)>,
    pub today: NaiveDate,
}

/// One step of the exchange, as it happens.
pub enum Event<'e> {
    /// An outbox entry that is not a batch, and why it is left alone.
    OutboxIgnored(&'e Path, &'e str),
    /// A batch not complete yet, and why.
    OutboxWaits(&'e Path, &'e str),
    /// Nothing complete in the outbox.
    OutboxEmpty,
    /// A batch sent (or refused, or already there).
    Uploaded(&'e FileResult),
    /// Where a sent batch went in the outbox (sent/, held/, or kept).
    Placed(&'e Path, &'e Disposition),
    /// The fetch and the parse, done.
    Fetched(&'e crate::ingest::FetchParsed),
    /// The week judged (the last complete one), then its verdict.
    Judging(NaiveDate),
    Verdict(&'e Verdict),
    /// The report of the judged week: already there, or written (its index).
    ReportExists(&'e Path),
    ReportWritten(&'e Path, NaiveDate),
}

/// What the exchange amounts to: whether something was left undone (a batch held or kept, a
/// file that failed or was quarantined), and the judged week's verdict (None on a dry run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub partial: bool,
    pub verdict: Option<Level>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Transport(#[from] crate::transport::TransportError),
    #[error(transparent)]
    Upload(#[from] crate::upload::UploadError),
    #[error(transparent)]
    Ingest(#[from] crate::ingest::IngestError),
    #[error(transparent)]
    Analytics(#[from] crate::analytics::AnalyticsError),
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    #[error("outbox {path}: {source}")]
    Outbox {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Options(String),
}

/// Run the exchange on `store`.
pub fn run(
    store: &mut Store,
    opts: &ExchangeOptions<'_>,
    on: &mut dyn FnMut(Event<'_>),
) -> Result<Outcome, ExchangeError> {
    let _run = if opts.dry_run {
        None
    } else {
        Some(RunLock::acquire(store.dir())?)
    };
    let mut remote = opts.transport.open()?;
    let mut partial = false;
    // 1. the outbox
    if let Some((outbox, ready)) = &opts.outbox {
        partial |= send_outbox(outbox, *ready, opts, store, remote.as_mut(), on)?;
    }
    // 2. fetch and parse
    let done = crate::ingest::fetch_and_parse(
        store,
        remote.as_mut(),
        &opts.fetch,
        &opts.parse,
        true,
        &NoProgress,
    )?;
    drop(remote);
    on(Event::Fetched(&done));
    let quarantined = done
        .parsed
        .iter()
        .any(|i| matches!(i.outcome, crate::ingest::Outcome::Quarantined { .. }));
    partial |= done.fetch.counts.failed > 0 || quarantined;
    if opts.dry_run {
        return Ok(Outcome {
            partial,
            verdict: None,
        });
    }
    // 3. judge the last complete week
    let h = crate::analytics::History::load_scoped(store, opts.analysis_profile.as_deref())?;
    let last_week = week_start(opts.today) - chrono::Duration::weeks(1);
    on(Event::Judging(last_week));
    let verdict =
        thresholds::evaluate_history(store, &h, opts.thresholds, Some(last_week), opts.ledger)?;
    on(Event::Verdict(&verdict));
    // 4. its report, once
    if let Some((dir, settings)) = &opts.report {
        let out = dir.join(week_label(last_week));
        if out.join("index.html").exists() {
            on(Event::ReportExists(&out));
        } else {
            let def = crate::report::definition("weekly")?;
            let built = crate::report::build(
                store,
                &def,
                "weekly",
                Some(last_week),
                &out,
                settings,
                h.profile.as_deref(),
            )?;
            on(Event::ReportWritten(&built.index, last_week));
        }
    }
    Ok(Outcome {
        partial,
        verdict: Some(verdict.level),
    })
}

/// Step 1: send every complete batch of the outbox, each moved as soon as its own upload is
/// recorded. True when a batch was held or kept.
fn send_outbox(
    outbox: &Path,
    ready: crate::config::OutboxReady,
    opts: &ExchangeOptions<'_>,
    store: &mut Store,
    remote: &mut dyn crate::transport::RemoteFs,
    on: &mut dyn FnMut(Event<'_>),
) -> Result<bool, ExchangeError> {
    let scan =
        crate::outbox::scan(outbox, ready, opts.settle, SystemTime::now()).map_err(|source| {
            ExchangeError::Outbox {
                path: outbox.to_path_buf(),
                source,
            }
        })?;
    for (p, why) in &scan.ignored {
        on(Event::OutboxIgnored(p, why));
    }
    for (p, why) in &scan.waiting {
        on(Event::OutboxWaits(p, why));
    }
    if scan.ready.is_empty() {
        on(Event::OutboxEmpty);
        return Ok(false);
    }
    let upload = opts
        .upload
        .as_ref()
        .map_err(|m| ExchangeError::Options(m.clone()))?;
    let mut partial = false;
    // each file is moved as soon as its own upload is recorded
    let mut moved: Result<(), ExchangeError> = Ok(());
    let mut place = |r: &FileResult| {
        on(Event::Uploaded(r));
        if opts.dry_run || moved.is_err() {
            return;
        }
        match crate::outbox::place(outbox, r) {
            Ok(d) => {
                partial |= !matches!(d, Disposition::Sent(_));
                on(Event::Placed(&r.path, &d));
            }
            Err(source) => {
                moved = Err(ExchangeError::Outbox {
                    path: r.path.clone(),
                    source,
                })
            }
        }
    };
    crate::upload::upload(store, remote, &scan.ready, upload, &NoProgress, &mut place)?;
    moved?;
    Ok(partial)
}
