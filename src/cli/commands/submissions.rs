//! `immdqa submissions`: one line per submitted batch file.

use chrono::NaiveDate;

use crate::analytics::submissions;

use crate::cli::output::{OutputArgs, parse_date};
use crate::cli::{Ctx, Exit};

/// One row per submitted batch: date, messages, accepted, accepted with warnings, rejected,
/// acceptance rate, findings by severity, top codes, and which reports arrived about it.
///
/// With --by site|vaccine|provider, one row per batch and site (vaccine, provider) from the
/// message ledger: how many of its messages were accepted, accepted with warnings, rejected,
/// not answered yet or not mentioned by the answer, and the acceptance rate of those
/// answered.
///
/// Examples:
///   immdqa submissions --since 2025-10-01
///   immdqa submissions --by site --format csv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Only batches submitted on or after this date
    #[arg(long, value_parser = parse_date)]
    pub since: Option<NaiveDate>,
    /// Break each batch down by site, vaccine or provider (from the message ledger)
    #[arg(long, value_enum)]
    pub by: Option<crate::cli::choices::By>,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let store = ctx.open_store()?;
    let h = ctx.history(&store)?;
    if let Some(by) = args.by.map(crate::analytics::breakdown::By::from) {
        use crate::analytics::breakdown;
        let rows = breakdown::acceptance(&store, h.profile.as_deref(), by, args.since)?;
        args.output.emit(&breakdown::acceptance_table(&rows, by))?;
        return Ok(Exit::Ok);
    }
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
