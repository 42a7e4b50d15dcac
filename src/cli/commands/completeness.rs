//! `immdqa completeness`: of the administered doses sent, the share carrying each field a
//! registry relies on, per week and site, provider or vaccine.

use chrono::NaiveDate;

use crate::cli::output::{OutputArgs, parse_date, parse_date_end};
use crate::cli::{Ctx, Exit};

/// What your EHR leaves out: for the administered doses in the message ledger, the share (%)
/// carrying each field a registry relies on — RXA-15 lot, RXA-16 expiry, RXA-17 MVX, NDC,
/// RXR-1 route, RXR-2 site, RXA-10 administering and ORC-12 ordering provider, the OBX for
/// VFC eligibility (64994-7) and funding source (30963-3), PD1-12/13 consent, PID-11 address,
/// PID-13 phone, and NK1 for minors — per week. Registries reject few of these, so no answer
/// ever says they are missing. `unknown` counts doses read before immdqa kept which fields
/// were present (`immdqa rebuild` reads them again).
///
/// Examples:
///   immdqa completeness --by site --since 2026-W40
///   immdqa completeness --by vaccine --week 2026-W49 --format csv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// One row per week and site (default), provider, vaccine or vaccine group
    #[arg(long, value_enum, default_value_t = crate::cli::choices::CompletenessBy::Site)]
    pub by: crate::cli::choices::CompletenessBy,
    /// Only this ISO week (2026-W49) or the week of this date
    #[arg(long, value_parser = parse_date, conflicts_with = "since")]
    pub week: Option<NaiveDate>,
    /// From this week (or date) on (default: the last 12 weeks)
    #[arg(long, value_parser = parse_date)]
    pub since: Option<NaiveDate>,
    /// Up to this week (or date)
    #[arg(long, value_parser = parse_date_end)]
    pub until: Option<NaiveDate>,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let store = ctx.open_store()?;
    let h = ctx.history(&store)?;
    let today = chrono::Local::now().date_naive();
    let monday = crate::domain::week_start;
    let (from, to) = match (args.week, args.since) {
        (Some(w), _) => (monday(w), monday(w)),
        (None, since) => (
            monday(since.unwrap_or(today - chrono::Duration::weeks(11))),
            monday(args.until.unwrap_or(today)),
        ),
    };
    let by = crate::analytics::completeness::By::from(args.by);
    let rows = crate::analytics::completeness::rows(&store, by, from, to, h.profile.as_deref())?;
    args.output
        .emit(&crate::analytics::completeness::table(&rows, by))?;
    Ok(if rows.is_empty() {
        Exit::Warn
    } else {
        Exit::Ok
    })
}
