//! `immdqa trends`: findings per ISO week and HL7 field (or code, or severity).

use chrono::NaiveDate;

use crate::analytics::trends::{self, TrendBy, TrendOptions};
use crate::cli::output::{OutputArgs, parse_date};
use crate::cli::{Ctx, Exit};

/// Findings per ISO week × HL7 field (or registry code, or severity) × severity, with the
/// rate per 1,000 messages where message counts are known.
///
/// Each submission counts once, through its most detailed report (see the README).
///
/// Example: immdqa trends --by field --since 2025-09-01 --top 5 --format csv --out trends.csv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// What to break findings down by
    #[arg(long, value_enum, default_value_t = TrendBy::Field)]
    pub by: TrendBy,
    /// First date (YYYY-MM-DD or 2025-W44)
    #[arg(long, value_parser = parse_date)]
    pub since: Option<NaiveDate>,
    /// Last date (inclusive)
    #[arg(long, value_parser = crate::cli::output::parse_date_end)]
    pub until: Option<NaiveDate>,
    /// Only the N fields/codes with the most findings
    #[arg(long)]
    pub top: Option<usize>,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let store = ctx.open_store()?;
    let h = ctx.history(&store)?;
    let rows = trends::trends(
        &h,
        &TrendOptions {
            by: args.by,
            since: args.since,
            until: args.until,
            top: args.top,
            split_profiles: true,
        },
    )?;
    if rows.is_empty()
        && args.output.out.is_none()
        && args.output.format == crate::cli::output::Format::Table
    {
        println!(
            "no findings in the history for that range: run `immdqa fetch` or `immdqa import` first"
        );
        return Ok(Exit::Ok);
    }
    args.output.emit(&trends::table(&rows, args.by))?;
    Ok(Exit::Ok)
}
