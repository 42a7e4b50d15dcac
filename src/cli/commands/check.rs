//! `immdqa check`: evaluate the thresholds; the exit code says ok (0), warn (1) or fail (2).

use chrono::NaiveDate;

use crate::analytics::thresholds::{self, Level};
use crate::analytics::{History, submissions, trends};
use crate::cli::output::parse_date;
use crate::cli::{Ctx, Exit};

/// Evaluate the data quality thresholds for the latest week (or --week) and exit 0 (ok),
/// 1 (warn) or 2 (fail), printing one line per breach: for cron and CI.
///
/// Thresholds come from `[thresholds]` in the config (defaults: acceptance rate below 90%
/// fails; an error rate rising 3 weeks in a row warns).
///
/// Example: immdqa check --week 2025-W44 || mail -s "ImmTrac2 data quality" dq@example.org
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The week to evaluate (2025-W44 or a date in it; default: the latest week with data)
    #[arg(long, value_parser = parse_date)]
    pub week: Option<NaiveDate>,
}

pub fn evaluate(
    ctx: &Ctx,
    h: &History,
    week: Option<NaiveDate>,
) -> anyhow::Result<thresholds::Verdict> {
    let subs = submissions::submissions(h, None)?;
    let sev = trends::trends(
        h,
        &trends::TrendOptions {
            by: trends::TrendBy::Severity,
            ..Default::default()
        },
    )?;
    Ok(thresholds::evaluate(
        &ctx.config.thresholds,
        &subs,
        &sev,
        week,
    ))
}

pub fn exit_of(level: Level) -> Exit {
    match level {
        Level::Ok => Exit::Ok,
        Level::Warn => Exit::Warn,
        Level::Fail => Exit::Fail,
    }
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let store = ctx.open_store()?;
    let h = History::load(&store)?;
    let v = evaluate(ctx, &h, args.week)?;
    for b in &v.breaches {
        println!(
            "{}: {}: {}",
            b.level.as_str().to_uppercase(),
            b.check,
            b.message
        );
    }
    if v.breaches.is_empty() {
        for (name, _, msg) in &v.checks {
            println!("OK: {name}: {msg}");
        }
    }
    Ok(exit_of(v.level))
}
