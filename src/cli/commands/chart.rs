//! `immdqa chart KIND`: draw one chart to a PNG or SVG file.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::analytics::trends::{TrendBy, TrendOptions};
use crate::analytics::{consent, submissions};
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
    let trend = match kind {
        Kind::Trend | Kind::Top | Kind::Heatmap => crate::analytics::breakdown::trends_any(
            &store,
            &h,
            &TrendOptions {
                by,
                since: args.since,
                until: args.until,
                top: None,
                split_profiles: false,
            },
            &crate::ledger::owners::Owners::new(&ctx.config.owners),
        )?,
        _ => vec![],
    };
    let mut subs = match kind {
        // with batch sizes: a listing without counts is drawn up to the most its size allows
        Kind::Acceptance => crate::analytics::thresholds::with_sent_sizes(
            submissions::submissions(&h, args.since)?,
            &store,
            h.profile.as_deref(),
        )?,
        _ => vec![],
    };
    if let Some(u) = args.until {
        subs.retain(|s| s.date.is_none_or(|d| d <= u));
    }
    let mut weekly = match kind {
        Kind::Consent => consent::consent(&store, &h, chrono::Local::now().date_naive())?.weekly,
        _ => vec![],
    };
    weekly.retain(|w| {
        args.since
            .is_none_or(|s| w.week >= crate::analytics::week_start(s))
            && args.until.is_none_or(|u| w.week <= u)
    });
    let timeliness = match kind {
        Kind::Timeliness => crate::analytics::breakdown::timeliness(
            &store,
            h.profile.as_deref(),
            args.since,
            args.until,
        )?,
        _ => vec![],
    };
    let scores = match kind {
        Kind::Score => {
            let today = chrono::Local::now().date_naive();
            let monday = crate::analytics::week_start;
            let to = monday(args.until.unwrap_or(today));
            let from = monday(args.since.unwrap_or(to - chrono::Duration::weeks(11)));
            crate::analytics::score::scores(
                &store,
                h.profile.as_deref(),
                (from, to),
                &crate::analytics::score::ScoreInputs {
                    weights: &ctx.config.score,
                    registries: &ctx.config.registries(),
                    today,
                },
            )?
        }
        _ => vec![],
    };
    let data = ChartData {
        timeliness: &timeliness,
        scores: &scores,
        trend: &trend,
        key_label: match by {
            TrendBy::Code => "registry code",
            TrendBy::Site => "site",
            TrendBy::Vaccine => "vaccine",
            TrendBy::VaccineGroup => "vaccine group",
            TrendBy::Provider => "provider",
            TrendBy::Owner => "owner",
            TrendBy::Severity => "severity",
            TrendBy::Field => "HL7 field",
        },
        submissions: &subs,
        consent: &weekly,
        min_acceptance_rate: ctx.config.thresholds.min_acceptance_rate,
        top: args.top,
        subtitle: String::new(),
    };
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("{}.png", kind.name())));
    charts::render(kind, &data, &out)?;
    crate::cli::out!("wrote {}", out.display());
    Ok(Exit::Ok)
}
