//! `immdqa sync`: one command for cron: send the outbox, fetch and parse, check, and write
//! the report of each week completed since the last run.

use std::io::{IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::analytics::{thresholds, week_label, week_start};
use crate::cli::commands::check::exit_of;
use crate::cli::{Ctx, Exit, ingest_summary};
use crate::ingest;
use crate::store::RunLock;
use crate::sync::NoProgress;
use crate::upload;

/// The whole weekly exchange, unattended: (1) every batch in the profile's `outbox` that has
/// not changed for --settle seconds is linted under the profile's rules and uploaded, then
/// moved to outbox/sent/ (refused ones to outbox/held/ with the reason beside them);
/// (2) the mailbox is fetched and parsed; (3) the thresholds are checked; (4) the weekly
/// report of the last completed ISO week is written to `report_dir/<week>/` if it is not
/// there yet.
///
/// One lock for the whole run; one exit code, the highest of its steps (0 ok, 1 warn or
/// unknown, 2 fail, 3 a step failed, 4 some files failed). Quiet when not on a terminal (cron
/// mails only what needs a person); --log-file keeps every step's line.
///
/// Example: immdqa sync --log-file ~/immdqa/sync.log
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Show what would be sent and fetched; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Hold back (in outbox/held/) batches with any rejection-class lint finding
    #[arg(long)]
    pub strict: bool,
    /// Send an outbox file only once it has not changed for this many seconds
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub settle: u64,
    /// Append every step's line, time-stamped, to this file (owner-only)
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
}

/// Where a run's lines go: the terminal (unless quiet) and the log file (always).
struct Say {
    quiet: bool,
    log: Option<std::fs::File>,
}

impl Say {
    /// Only in the log file (what stderr already gets some other way).
    fn log_only(&mut self, text: &str) {
        if let Some(f) = &mut self.log {
            let _ = writeln!(
                f,
                "{} {text}",
                chrono::Local::now().format("%Y-%m-%d %H:%M:%S")
            );
        }
    }

    fn line(&mut self, problem: bool, text: &str) {
        if problem {
            eprintln!("{text}");
        } else if !self.quiet {
            println!("{text}");
        }
        self.log_only(text);
    }
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    // quiet under cron (not a terminal), unless -v; a dry run always says what it would do
    let quiet = ctx.quiet || (!std::io::stdout().is_terminal() && !ctx.verbose && !args.dry_run);
    let log = match &args.log_file {
        Some(p) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(p)
                .map_err(|e| anyhow::anyhow!("log file {}: {e}", p.display()))?,
        ),
        None => None,
    };
    let mut say = Say { quiet, log };
    match steps(&args, ctx, &mut say) {
        Ok(exit) => Ok(exit),
        Err(e) => {
            // the failing step's error in the log too (stderr gets it from main)
            say.log_only(&format!("sync: FAILED: {e:#}"));
            Err(e)
        }
    }
}

fn steps(args: &Args, ctx: &Ctx, say: &mut Say) -> anyhow::Result<Exit> {
    let (name, profile) = ctx.profile()?;
    say.line(
        false,
        &format!(
            "sync: profile {name}{}",
            if args.dry_run { " (dry run)" } else { "" }
        ),
    );
    ctx.config.check_secret_permissions()?;
    let (_, transport) = ctx.transport()?;
    let mut store = ctx.open_store()?;
    let _run = if args.dry_run {
        None
    } else {
        Some(RunLock::acquire(store.dir())?)
    };
    let mut remote = transport.open()?;
    let mut worst = Exit::Ok;

    // 1. the outbox
    if let Some(outbox) = &profile.outbox {
        let sent = send_outbox(
            outbox,
            profile.outbox_ready,
            args,
            ctx,
            say,
            &mut store,
            remote.as_mut(),
        )?;
        worst = worst.max(sent);
    }

    // 2. fetch and parse
    let opts = ctx.fetch_options(args.dry_run)?;
    let done = ingest::fetch_and_parse(
        &mut store,
        remote.as_mut(),
        &opts,
        &ctx.parse_options()?,
        true,
        &NoProgress,
    )?;
    drop(remote);
    for f in &done.fetch.failures {
        say.line(
            true,
            &format!("fetch: failed {}/{}: {}", f.folder, f.name, f.reason),
        );
    }
    say.line(false, &done.fetch.summary_line());
    let parsed = ingest_summary::summary("parse", &done.parsed);
    for q in &parsed.quarantined {
        say.line(true, q);
    }
    if let Some(line) = &parsed.line {
        say.line(false, line);
    }
    if done.fetch.counts.failed > 0 || parsed.count > 0 {
        worst = worst.max(Exit::Partial);
    }
    if args.dry_run {
        return Ok(worst);
    }

    // 3. check the week the report is about: the last complete one
    let h = ctx.history(&store)?;
    let last_week = week_start(chrono::Local::now().date_naive()) - chrono::Duration::weeks(1);
    say.line(
        false,
        &format!(
            "check: judging {}, the last complete week",
            week_label(last_week)
        ),
    );
    let verdict = thresholds::evaluate_history(
        &store,
        &h,
        &ctx.config.thresholds,
        Some(last_week),
        ctx.ledger_scope(),
    )?;
    for (problem, line, basis) in crate::cli::commands::check::verdict_lines(&verdict) {
        match basis {
            Some(b) => say.line(problem, &format!("check: {line} (basis: {b})")),
            None => say.line(problem, &format!("check: {line}")),
        }
    }
    worst = worst.max(exit_of(verdict.level));

    // 4. the report of the last completed week, once
    if let Some(dir) = &profile.report_dir {
        let out = dir.join(week_label(last_week));
        if out.join("index.html").exists() {
            say.line(false, &format!("report: {} already written", out.display()));
        } else {
            let def = crate::report::definition("weekly")?;
            let built = crate::report::build(
                &store,
                &def,
                "weekly",
                Some(last_week),
                &out,
                &ctx.report_settings(),
                h.profile.as_deref(),
            )?;
            say.line(
                false,
                &format!(
                    "report: {} for {} written",
                    built.index.display(),
                    week_label(last_week)
                ),
            );
        }
    }
    Ok(worst)
}

/// Step 1 of sync: send every complete batch of the outbox, each moved as soon as its own
/// upload is recorded. Returns the step's exit (partial when a batch was held or kept).
fn send_outbox(
    outbox: &std::path::Path,
    ready: crate::config::OutboxReady,
    args: &Args,
    ctx: &Ctx,
    say: &mut Say,
    store: &mut crate::store::Store,
    remote: &mut dyn crate::transport::RemoteFs,
) -> anyhow::Result<Exit> {
    let mut worst = Exit::Ok;
    let scan = crate::outbox::scan(
        outbox,
        ready,
        Duration::from_secs(args.settle),
        SystemTime::now(),
    )
    .map_err(|e| anyhow::anyhow!("outbox {}: {e}", outbox.display()))?;
    for (p, why) in &scan.ignored {
        say.line(false, &format!("outbox: {} ignored: {why}", p.display()));
    }
    for (p, why) in &scan.waiting {
        say.line(false, &format!("outbox: {} waits: {why}", p.display()));
    }
    if !scan.ready.is_empty() {
        let opts = ctx.upload_options(None, args.dry_run, args.strict)?;
        // each file is moved as soon as its own upload is recorded
        let mut moved: Result<(), anyhow::Error> = Ok(());
        let mut place = |r: &upload::FileResult| {
            say.line(false, &format!("outbox: {}", upload::describe(r)));
            if args.dry_run || moved.is_err() {
                return;
            }
            use crate::outbox::Disposition::*;
            match crate::outbox::place(outbox, r) {
                Ok(Sent(to)) => say.line(
                    false,
                    &format!("outbox: {} moved to {}", r.path.display(), to.display()),
                ),
                Ok(Held { to, reason }) => {
                    worst = worst.max(Exit::Partial);
                    say.line(
                        true,
                        &format!(
                            "outbox: {} held in {}: {reason}",
                            r.path.display(),
                            to.display()
                        ),
                    );
                }
                Ok(Kept(reason)) => {
                    worst = worst.max(Exit::Partial);
                    say.line(
                        true,
                        &format!(
                            "outbox: {} not sent, kept for the next run: {reason}",
                            r.path.display()
                        ),
                    );
                }
                Err(e) => {
                    moved = Err(anyhow::anyhow!(
                        "outbox: cannot move {}: {e}",
                        r.path.display()
                    ))
                }
            }
        };
        upload::upload(store, remote, &scan.ready, &opts, &NoProgress, &mut place)?;
        moved?;
    } else {
        say.line(false, "outbox: nothing to send");
    }
    Ok(worst)
}
