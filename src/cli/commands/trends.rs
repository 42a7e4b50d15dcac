//! `immdqa trends`: findings per ISO week and HL7 field (or code, severity, site, vaccine,
//! provider, owner), or timeliness per site.

use chrono::NaiveDate;

use crate::analytics::trends::{self, TrendBy, TrendOptions};
use crate::cli::choices;
use crate::cli::output::{OutputArgs, parse_date};
use crate::cli::{Ctx, Exit};

/// Findings per ISO week × HL7 field (or registry code, or severity) × severity, with the
/// rate per 1,000 messages where message counts are known.
///
/// Each submission counts once, through its most detailed report (see the README).
/// --by site, vaccine and provider come from the message ledger (sent batches joined to
/// their answers): rates are per 1,000 messages of that site, vaccine or provider; --by owner
/// groups codes by who fixes them. --timeliness shows, per site and week, the share of
/// administered doses reported within 1, 7 and 30 days (RXA-3 to MSH-7).
///
/// Examples:
///   immdqa trends --by field --since 2025-09-01 --top 5 --format csv --out trends.csv
///   immdqa trends --by site --since 2025-W40
///   immdqa trends --timeliness
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// What to break findings down by
    #[arg(long, value_enum, default_value_t = choices::TrendBy::Field)]
    pub by: choices::TrendBy,
    /// First date (YYYY-MM-DD or 2025-W44)
    #[arg(long, value_parser = parse_date)]
    pub since: Option<NaiveDate>,
    /// Last date (inclusive)
    #[arg(long, value_parser = crate::cli::output::parse_date_end)]
    pub until: Option<NaiveDate>,
    /// Only the N fields/codes with the most findings
    #[arg(long)]
    pub top: Option<usize>,
    /// Timeliness per site and week instead of findings
    #[arg(long, conflicts_with_all = ["by", "top"])]
    pub timeliness: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    crate::cli::output::check_range(args.since, args.until)?;
    let by = TrendBy::from(args.by);
    let store = ctx.open_store()?;
    let h = ctx.history(&store)?;
    if args.timeliness {
        let rows = crate::analytics::breakdown::timeliness(
            &store,
            h.profile.as_deref(),
            args.since,
            args.until,
        )?;
        if rows.is_empty() && args.output.format == crate::cli::output::Format::Table {
            crate::cli::out!(
                "no administered doses with dates in the message ledger for that range: sent batches come from `immdqa upload`, the accepted folder or `immdqa import --sent`"
            );
            return Ok(Exit::Ok);
        }
        args.output
            .emit(&crate::analytics::breakdown::timeliness_table(&rows))?;
        return Ok(Exit::Ok);
    }
    let owners = crate::ledger::owners::Owners::new(&ctx.config.owners);
    let rows = crate::analytics::breakdown::trends_any(
        &store,
        &h,
        &TrendOptions {
            by,
            since: args.since,
            until: args.until,
            top: args.top,
            split_profiles: true,
        },
        &owners,
    )?;
    if rows.is_empty()
        && args.output.out.is_none()
        && args.output.format == crate::cli::output::Format::Table
    {
        if by.from_ledger() {
            crate::cli::out!(
                "no findings linked to sent messages for that range: --by {} needs the message ledger (sent batches from `immdqa upload`, the accepted folder or `immdqa import --sent`)",
                by.column()
            );
        } else {
            crate::cli::out!(
                "no findings in the history for that range: run `immdqa fetch` or `immdqa import` first"
            );
        }
        return Ok(Exit::Ok);
    }
    args.output.emit(&trends::table(&rows, by))?;
    Ok(Exit::Ok)
}
