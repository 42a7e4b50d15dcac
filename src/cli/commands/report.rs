//! `immdqa report`: build a report folder (index.html, PNG charts, CSV files).

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::cli::commands::check::exit_of;
use crate::cli::output::parse_date;
use crate::cli::{Ctx, Exit};
use crate::report;

/// Build a report folder: index.html (threshold verdicts, charts inline as SVG, tables,
/// links), the charts as PNG and the CSV exports. Exit code as `check`: 0 ok, 1 warn or unknown, 2 fail
/// (the consent report: 1 while follow-ups are open).
///
/// Reports: weekly (data quality officers; the default) and consent (compliance staff), from
/// reports/*.toml; or a path to your own .toml definition.
///
/// Example: immdqa report weekly --week 2025-W44 --out reports/2025-W44
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Report name (weekly, consent) or a path to a .toml definition
    #[arg(default_value = "weekly")]
    pub name: String,
    /// The report's week (2025-W44 or a date in it; default: the latest week with data)
    #[arg(long, value_parser = parse_date)]
    pub week: Option<NaiveDate>,
    /// Output folder (created)
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    crate::cli::plain_pages();
    let def = report::definition(&args.name)?;
    let store = ctx.open_store()?;
    let profile = ctx.analysis_profile(&store)?;
    let built = report::build(
        &store,
        &def,
        &args.name,
        args.week,
        &args.out,
        &ctx.report_settings(),
        profile.as_deref(),
    )?;
    for b in &built.verdict.breaches {
        crate::cli::out!(
            "{}: {}: {}",
            b.level.as_str().to_uppercase(),
            b.check,
            b.message
        );
    }
    crate::cli::say!(
        "report '{}' for {} written to {} ({} files)",
        args.name,
        crate::analytics::week_label(built.week),
        built.index.display(),
        built.files.len() + 1
    );
    Ok(exit_of(built.verdict.level))
}
