//! `immdqa submissions`: one line per submitted batch file.

use chrono::NaiveDate;

use crate::analytics::submissions;

use crate::cli::output::{OutputArgs, parse_date};
use crate::cli::{Ctx, Exit};

/// One row per submitted batch: date, messages, accepted, accepted with warnings, rejected,
/// acceptance rate, findings by severity, top codes, and which reports arrived about it.
///
/// Example: immdqa submissions --since 2025-10-01
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Only batches submitted on or after this date
    #[arg(long, value_parser = parse_date)]
    pub since: Option<NaiveDate>,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let store = ctx.open_store()?;
    let h = ctx.history(&store)?;
    // Without a profile (a history read on its own), the default overdue period applies.
    let overdue_days = ctx
        .profile()
        .map(|(_, p)| p.report_overdue_days)
        .unwrap_or_else(|_| crate::config::Profile::default().report_overdue_days);
    let today = chrono::Local::now().date_naive();
    let mut rows = submissions::with_uploads(
        submissions::submissions(&h, args.since)?,
        &store.uploads()?,
        overdue_days,
        today,
    );
    if let Some(s) = args.since {
        rows.retain(|r| r.date.is_none_or(|d| d >= s));
    }
    args.output.emit(&submissions::table(&rows))?;
    Ok(Exit::Ok)
}
