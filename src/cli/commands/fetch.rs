//! `immdqa fetch`: download what is new in the mailbox's report folders into the history.

use crate::cli::{Ctx, Exit, ingest_summary, progress::Bar};
use crate::ingest;
use crate::mirror::Action;

/// Download new and changed files from the DQA and consent folders into the local history.
///
/// Lists `dqa_dir` and `receive_dir`, compares with the manifest of earlier fetches (name, size,
/// mtime) and downloads only what is new or changed. Every file is archived by its SHA-256;
/// a file changed under the same name keeps both versions. Remote files are never modified.
/// Downloaded files are then parsed into the history; a file no parser can read is
/// quarantined with the reason (exit code 4) and kept in the archive. With --no-parse the
/// files wait, archived, until the next fetch or `immdqa reparse` parses them.
///
/// Example: immdqa fetch --profile registry --dry-run
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Print what would be downloaded and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Download and archive only; parse later (next fetch, or `immdqa reparse`)
    #[arg(long)]
    pub no_parse: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    ctx.config.check_secret_permissions()?;
    let opts = ctx.fetch_options(args.dry_run)?;
    let mut store = ctx.open_store()?;
    let mut remote = ctx.transport()?.1.open()?;
    let bar = Bar::new(ctx.quiet || args.dry_run);
    let done = ingest::fetch_and_parse(
        &mut store,
        remote.as_mut(),
        &opts,
        &ctx.parse_options()?,
        !args.no_parse,
        &bar,
    )?;
    let report = &done.fetch;

    if args.dry_run {
        for p in &report.plan {
            let what = match &p.action {
                Action::New => "download (new)".to_string(),
                Action::Changed => "download (changed)".to_string(),
                Action::Unchanged => continue,
                Action::Skip(r) => format!("skip: {r}"),
            };
            crate::cli::out!("{}/{}  {}  {}", p.folder, p.display_name, p.size, what);
        }
    } else {
        for p in &report.plan {
            if let Action::Skip(reason) = &p.action {
                eprintln!("skipped {}/{}: {reason}", p.folder, p.display_name);
            }
        }
    }
    for f in &report.failures {
        if f.name.is_empty() {
            eprintln!("failed {}: {}", f.folder, f.reason);
        } else {
            eprintln!("failed {}/{}: {}", f.folder, f.name, f.reason);
        }
    }
    if report.temp_files_cleaned > 0 {
        eprintln!(
            "removed {} incomplete download(s) left by an interrupted run",
            report.temp_files_cleaned
        );
    }
    crate::cli::say!("{}", report.summary_line());
    let quarantined = ingest_summary::print("parse", &done.parsed);
    Ok(if report.counts.failed > 0 || quarantined > 0 {
        Exit::Partial
    } else {
        Exit::Ok
    })
}
