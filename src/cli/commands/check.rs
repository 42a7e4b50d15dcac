//! `immdqa check`: evaluate the thresholds; the exit code says ok (0), warn (1) or fail (2).

use chrono::NaiveDate;

use crate::analytics::thresholds::{self, Level};
use crate::cli::output::parse_date;
use crate::cli::{Ctx, Exit};

/// Evaluate the data quality thresholds for the latest week (or --week) and exit 0 (ok),
/// 1 (warn, or unknown: the data cannot tell) or 2 (fail), printing one line per check with
/// what it was based on: for cron and CI. A week with no report at all, or an empty history,
/// warns ("no data for 2026-W10").
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
    /// text (default) or json: {profile, week, level, exit, checks: [{name, level, message,
    /// basis}], breaches: [...]}
    #[arg(long, value_enum, default_value_t = crate::cli::commands::status::TextOrJson::Table)]
    pub format: crate::cli::commands::status::TextOrJson,
}

fn json(v: &thresholds::Verdict, profile: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "profile": profile,
        "week": v.week.map(crate::analytics::week_label),
        "level": v.level.as_str(),
        "exit": exit_of(v.level) as u8,
        "checks": v.checks.iter().map(|c| serde_json::json!({
            "name": c.name, "level": c.level.as_str(), "message": c.message, "basis": c.basis,
        })).collect::<Vec<_>>(),
        "breaches": v.breaches.iter().map(|b| serde_json::json!({
            "check": b.check, "level": b.level.as_str(), "message": b.message,
        })).collect::<Vec<_>>(),
    })
}

pub fn exit_of(level: Level) -> Exit {
    match level {
        Level::Ok => Exit::Ok,
        Level::Unknown | Level::Warn => Exit::Warn,
        Level::Fail => Exit::Fail,
    }
}

/// One line per check (`OK: acceptance_rate: …`) with its basis, then the per-submission
/// details of failures (no basis); each says whether it is a problem (not OK).
pub fn verdict_lines(v: &thresholds::Verdict) -> Vec<(bool, String, Option<String>)> {
    let mut out: Vec<(bool, String, Option<String>)> = v
        .checks
        .iter()
        .map(|c| {
            (
                c.level != Level::Ok,
                format!(
                    "{}: {}: {}",
                    c.level.as_str().to_uppercase(),
                    c.name,
                    c.message
                ),
                Some(c.basis.clone()),
            )
        })
        .collect();
    out.extend(
        v.breaches
            .iter()
            .filter(|b| {
                !v.checks
                    .iter()
                    .any(|c| c.name == b.check && c.message == b.message)
            })
            .map(|b| {
                (
                    true,
                    format!(
                        "{}: {}: {}",
                        b.level.as_str().to_uppercase(),
                        b.check,
                        b.message
                    ),
                    None,
                )
            }),
    );
    out
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let store = ctx.open_store()?;
    let h = ctx.history(&store)?;
    let v = thresholds::evaluate_history(
        &store,
        &h,
        &ctx.config.thresholds,
        args.week,
        ctx.ledger_scope(),
    )?;
    if args.format == crate::cli::commands::status::TextOrJson::Json {
        crate::cli::out!(
            "{}",
            serde_json::to_string_pretty(&json(&v, h.profile.as_deref()))?
        );
        return Ok(exit_of(v.level));
    }
    if args.format == crate::cli::commands::status::TextOrJson::Csv {
        use crate::table::{Table, Value};
        let mut t = Table::new(&["week", "level", "check", "message", "basis"]);
        let week = v.week.map(crate::analytics::week_label);
        for c in &v.checks {
            if ctx.quiet && c.level == Level::Ok {
                continue;
            }
            t.push(vec![
                Value::opt_text(week.as_deref()),
                Value::text(c.level.as_str()),
                Value::text(c.name),
                Value::text(&c.message),
                Value::text(&c.basis),
            ]);
        }
        crate::cli::output::write_table(&t, crate::cli::output::Format::Csv, None)?;
        return Ok(exit_of(v.level));
    }
    // -q: only what is not OK (nothing when every check passes: what cron mails)
    if !ctx.quiet || v.level != Level::Ok {
        if let Some(p) = &h.profile {
            crate::cli::out!("profile: {p}");
        }
        if let Some(w) = v.week {
            crate::cli::out!("{}", judged_week(w, chrono::Local::now().date_naive()));
        }
        for (problem, line, basis) in verdict_lines(&v) {
            if ctx.quiet && !problem {
                continue;
            }
            crate::cli::out!("{line}");
            if let Some(b) = basis {
                crate::cli::out!("  basis: {b}");
            }
        }
    }
    Ok(exit_of(v.level))
}

/// Which week a verdict judges, and whether it is still going on.
pub fn judged_week(week: chrono::NaiveDate, today: chrono::NaiveDate) -> String {
    let label = crate::analytics::week_label(week);
    if crate::analytics::week_start(today) == week {
        format!(
            "week: {label} (incomplete week: it ends on Sunday {}; answers may still come)",
            week + chrono::Duration::days(6)
        )
    } else {
        format!("week: {label}")
    }
}
