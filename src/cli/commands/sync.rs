//! `immdqa sync`: one command for cron: send the outbox, fetch and parse, check, and write
//! the report of each week completed since the last run.

use std::io::{IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::Duration;

use crate::analytics::week_label;
use crate::cli::commands::check::exit_of;
use crate::cli::{Ctx, Exit, ingest_summary};
use crate::exchange::{self, Event, ExchangeOptions};
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
            crate::cli::out!("{text}");
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

/// The exchange ([`crate::exchange::run`]) with each of its steps worded for the terminal and
/// the log.
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
    let opts = ExchangeOptions {
        profile: name,
        transport,
        outbox: profile.outbox.clone().map(|o| (o, profile.outbox_ready)),
        settle: Duration::from_secs(args.settle),
        upload: ctx
            .upload_options(None, args.dry_run, args.strict)
            .map_err(|e| e.to_string()),
        fetch: ctx.fetch_options(args.dry_run)?,
        parse: ctx.parse_options()?,
        dry_run: args.dry_run,
        analysis_profile: ctx.analysis_profile(&store)?,
        thresholds: &ctx.config.thresholds,
        ledger: ctx.ledger_scope(),
        report: profile
            .report_dir
            .clone()
            .map(|d| (d, ctx.report_settings())),
        today: chrono::Local::now().date_naive(),
    };
    let outcome = exchange::run(&mut store, &opts, &mut |e| tell(say, &e))?;
    let mut exit = outcome.verdict.map_or(Exit::Ok, exit_of);
    if outcome.partial {
        exit = exit.max(Exit::Partial);
    }
    Ok(exit)
}

/// One step of the exchange in words: (a problem?, the line).
fn tell(say: &mut Say, e: &Event<'_>) {
    use crate::outbox::Disposition::*;
    match e {
        Event::OutboxIgnored(p, why) => {
            say.line(false, &format!("outbox: {} ignored: {why}", p.display()))
        }
        Event::OutboxWaits(p, why) => {
            say.line(false, &format!("outbox: {} waits: {why}", p.display()))
        }
        Event::OutboxEmpty => say.line(false, "outbox: nothing to send"),
        Event::Uploaded(r) => say.line(false, &format!("outbox: {}", upload::describe(r))),
        Event::Placed(p, Sent(to)) => say.line(
            false,
            &format!("outbox: {} moved to {}", p.display(), to.display()),
        ),
        Event::Placed(p, Held { to, reason }) => say.line(
            true,
            &format!("outbox: {} held in {}: {reason}", p.display(), to.display()),
        ),
        Event::Placed(p, Kept(reason)) => say.line(
            true,
            &format!(
                "outbox: {} not sent, kept for the next run: {reason}",
                p.display()
            ),
        ),
        Event::Fetched(done) => {
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
        }
        Event::Judging(week) => say.line(
            false,
            &format!(
                "check: judging {}, the last complete week",
                week_label(*week)
            ),
        ),
        Event::Verdict(v) => {
            for (problem, line, basis) in crate::cli::commands::check::verdict_lines(v) {
                match basis {
                    Some(b) => say.line(problem, &format!("check: {line} (basis: {b})")),
                    None => say.line(problem, &format!("check: {line}")),
                }
            }
        }
        Event::ReportExists(out) => {
            say.line(false, &format!("report: {} already written", out.display()))
        }
        Event::ReportWritten(index, week) => say.line(
            false,
            &format!(
                "report: {} for {} written",
                index.display(),
                week_label(*week)
            ),
        ),
    }
}
