//! `immdqa score`: the scorecard per site and week (analytics::score computes it).

use chrono::NaiveDate;

use crate::analytics::score::{self, ScoreInputs};
use crate::cli::output::{OutputArgs, parse_date, parse_date_end};
use crate::cli::{Ctx, Exit};

/// How each site is doing, per week, on a 0–100 scale: acceptance (answered messages the
/// registry accepted), completeness (the fields of `immdqa completeness`, weighted),
/// timeliness (doses reported within 1, 7, 30 days) and validity (lint findings per 1,000
/// messages, the code sets included), and their weighted score — by default the legacy Texas
/// DQA's weights: completeness 50, acceptance 28, validity 12, timeliness 10 (`[score]` in the
/// config; the formula is in the README). A part without data makes the score `unknown`, with
/// the part named in `note`. Bands: Excellent ≥ 90, Good ≥ 80, Okay ≥ 70, Poor ≥ 60, Problem.
///
/// Exit: 0, or 1 when a site's score is unknown or below 60 in the last week shown.
///
/// Examples:
///   immdqa score                       the last 8 weeks
///   immdqa score --week 2026-W49 --site "NORTH CLINIC"
///   immdqa score --since 2026-W40 --format csv --out score.csv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Only this ISO week (2026-W49) or the week of this date
    #[arg(long, value_parser = parse_date, conflicts_with = "since")]
    pub week: Option<NaiveDate>,
    /// From this week (or date) on (default: the last 8 weeks)
    #[arg(long, value_parser = parse_date)]
    pub since: Option<NaiveDate>,
    /// Up to this week (or date) [default: this week]
    #[arg(long, value_parser = parse_date_end)]
    pub until: Option<NaiveDate>,
    /// Only this site (RXA-11.4, else MSH-4, as the other breakdowns name it)
    #[arg(long)]
    pub site: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    crate::cli::output::check_range(args.since, args.until)?;
    let store = ctx.open_store()?;
    let profile = ctx.analysis_profile(&store)?;
    let today = chrono::Local::now().date_naive();
    let monday = crate::domain::week_start;
    let (from, to) = match (args.week, args.since) {
        (Some(w), _) => (monday(w), monday(w)),
        (None, since) => {
            let to = monday(args.until.unwrap_or(today));
            (monday(since.unwrap_or(to - chrono::Duration::weeks(7))), to)
        }
    };
    let cfg = &ctx.config;
    let mut rows = score::scores(
        &store,
        profile.as_deref(),
        (from, to),
        &ScoreInputs {
            weights: &cfg.score,
            registries: &cfg.registries(),
            today,
        },
    )?;
    if let Some(site) = &args.site {
        rows.retain(|r| &r.site == site);
    }
    args.output.emit(&score::table(&rows, &cfg.score))?;
    let last = rows.iter().map(|r| r.week).max();
    let weak = rows
        .iter()
        .filter(|r| Some(r.week) == last)
        .any(|r| r.score.is_none_or(|s| s < 60.0));
    Ok(if rows.is_empty() || weak {
        Exit::Warn
    } else {
        Exit::Ok
    })
}
