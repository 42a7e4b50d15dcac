//! `immdqa export`: findings, submissions, trends or consent notices to CSV or Parquet.

use std::path::PathBuf;

use crate::analytics::export::{ExportFormat, export_findings, export_table};
use crate::analytics::{consent, submissions, trends};
use crate::cli::{Ctx, Exit};
use crate::store::DateRange;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum What {
    Findings,
    Submissions,
    Trends,
    Consent,
}

/// Export the history for analysts: one row per fact, stable column names, ISO dates
/// (schemas in the README). Parquet for DuckDB, Spark or polars on larger histories.
///
/// Example: immdqa export findings --format parquet --out findings.parquet
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[arg(value_enum)]
    pub what: What,
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// csv (default) or parquet; taken from --out's extension when not given
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
    /// Findings only: reports dated on or after this day (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub since: Option<chrono::NaiveDate>,
    /// Findings only: reports dated on or before this day (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub until: Option<chrono::NaiveDate>,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let format = args.format.unwrap_or_else(|| {
        if args.out.extension().is_some_and(|e| e == "parquet") {
            ExportFormat::Parquet
        } else {
            ExportFormat::Csv
        }
    });
    if args.what != What::Findings && (args.since.is_some() || args.until.is_some()) {
        anyhow::bail!("--since and --until apply to `export findings` only");
    }
    let store = ctx.open_store()?;
    let rows = match args.what {
        What::Findings => {
            let range = DateRange {
                since: args.since,
                until: args.until,
                profile: ctx.analysis_profile(&store)?,
            };
            export_findings(&store, &args.out, format, range)?
        }
        other => {
            let h = ctx.history(&store)?;
            let table = match other {
                What::Submissions => submissions::table(&submissions::submissions(&h, None)?),
                What::Trends => {
                    let opts = trends::TrendOptions {
                        split_profiles: true,
                        ..Default::default()
                    };
                    trends::table(&trends::trends(&h, &opts)?, opts.by)
                }
                What::Consent => {
                    let today = chrono::Local::now().date_naive();
                    consent::notices_table(&consent::consent(&store, &h, today)?, today)
                }
                What::Findings => unreachable!(),
            };
            export_table(&table, &args.out, format)?;
            table.rows.len() as u64
        }
    };
    println!("exported {rows} rows to {}", args.out.display());
    Ok(Exit::Ok)
}
