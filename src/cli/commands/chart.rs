//! `immdqa chart KIND`: draw one chart to a PNG or SVG file.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::analytics::trends::TrendBy;
use crate::charts::{self, ChartData, Kind};
use crate::cli::choices;
use crate::cli::output::parse_date;
use crate::cli::{Ctx, Exit};

/// Draw a chart: weekly trend lines for the top fields (trend), top fields or codes (top),
/// acceptance rate per submission with the threshold (acceptance), consent notices per week
/// by status (consent), a field × week heat map (heatmap), doses reported within 7 days per
/// site (timeliness) or the scorecard's score per site (score, the last 12 weeks unless
/// --since). PNG or SVG by the extension.
///
/// Example: immdqa chart trend --since 2025-07-01 --out trend.png
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Which chart to draw
    #[arg(value_parser = choices::named(&Kind::ALL, Kind::name, Kind::summary))]
    pub kind: Kind,
    /// From this day or ISO week (2025-W40)
    #[arg(long, value_parser = parse_date)]
    pub since: Option<NaiveDate>,
    /// Up to this day, or the end of this ISO week
    #[arg(long, value_parser = crate::cli::output::parse_date_end)]
    pub until: Option<NaiveDate>,
    /// Break findings down by field (default), code, site, vaccine, provider or owner
    #[arg(long, value_enum, default_value_t = choices::TrendBy::Field)]
    pub by: choices::TrendBy,
    /// How many fields/codes to show
    #[arg(long, default_value_t = 6)]
    pub top: usize,
    /// Output file (.png or .svg) [default: KIND.png]
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    crate::cli::output::check_range(args.since, args.until)?;
    let (kind, by) = (args.kind, TrendBy::from(args.by));
    let store = ctx.open_store()?;
    let h = ctx.history(&store)?;
    // Compute only what this kind of chart draws: each is a pass over the history.
    let owners = crate::ledger::owners::Owners::new(&ctx.config.owners);
    let rows = crate::analytics::chart_rows::rows(
        &store,
        &h,
        kind.needs(),
        &crate::analytics::chart_rows::Query {
            by,
            since: args.since,
            until: args.until,
            today: chrono::Local::now().date_naive(),
            owners: &owners,
            score: &ctx.config.score,
            registries: &ctx.config.registries(),
        },
    )?;
    let data = ChartData::of(
        &rows,
        by.label(),
        ctx.config.thresholds.min_acceptance_rate,
        args.top,
        String::new(),
    );
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("{}.png", kind.name())));
    charts::render(kind, &data, &out)?;
    crate::cli::out!("wrote {}", out.display());
    Ok(Exit::Ok)
}
