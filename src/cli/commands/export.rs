//! `immdqa export`: findings, submissions, trends or consent notices to CSV or Parquet.

use std::path::PathBuf;

use crate::analytics::export::{self, Dataset, ExportFormat, ExportOptions};
use crate::cli::output::{parse_date, parse_date_end};
use crate::cli::{Ctx, Exit};
use crate::store::DateRange;

/// A column to split a Parquet export by (Hive-style folders `COLUMN=VALUE/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PartitionBy {
    ImportCode,
}

/// Export the history for analysts: one row per fact, stable column names and types, ISO
/// dates (schemas in docs/export-schemas.md). Every export carries the profile, the import code and (per
/// report) the report's content hash, so exports of several sites stack. Parquet for DuckDB,
/// Spark or polars on larger histories.
///
/// Example: immdqa export findings --out findings.parquet
///          immdqa export findings --partition-by import-code --out findings/
///          IMMDQA_PSEUDONYM_KEY=... immdqa export findings --pseudonymize --out f.csv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// What to export (schemas in docs/export-schemas.md)
    #[arg(value_parser = crate::cli::choices::named(&Dataset::ALL, Dataset::name, Dataset::summary))]
    pub what: Dataset,
    /// Output file (`-`: standard output, CSV), or a folder with --partition-by
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// csv or parquet [default: from --out's extension, else csv]
    #[arg(long, value_enum)]
    pub format: Option<crate::cli::choices::ExportFormat>,
    /// Reports (findings, submissions) or weeks (trends, consent) on or after this day or ISO week
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub since: Option<chrono::NaiveDate>,
    /// Reports or weeks on or before this day, or up to the end of this ISO week
    #[arg(long, value_name = "DATE", value_parser = parse_date_end)]
    pub until: Option<chrono::NaiveDate>,
    /// Write a Hive-partitioned Parquet folder, one sub-folder per import code
    #[arg(long, value_enum, value_name = "COLUMN")]
    pub partition_by: Option<PartitionBy>,
    /// Replace patient references by a keyed HMAC-SHA256 (key from IMMDQA_PSEUDONYM_KEY), for
    /// exports leaving the organisation
    #[arg(long)]
    pub pseudonymize: bool,
}

/// The format: --format, else the extension; a contradiction is an error.
fn format_of(args: &Args) -> anyhow::Result<ExportFormat> {
    let ext = args
        .out
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let from_ext = match ext.as_deref() {
        Some("parquet") | Some("pq") => Some(ExportFormat::Parquet),
        Some("csv") | Some("txt") => Some(ExportFormat::Csv),
        _ => None,
    };
    match (args.format.map(ExportFormat::from), from_ext) {
        (Some(f), Some(e)) if f != e => crate::cli::usage!(
            "--format {} contradicts the extension of {} (a {} file): change one of them",
            f.as_str(),
            args.out.display(),
            e.as_str()
        ),
        (Some(f), _) => Ok(f),
        (None, Some(e)) => Ok(e),
        (None, None) if args.partition_by.is_some() => Ok(ExportFormat::Parquet),
        (None, None) => Ok(ExportFormat::Csv),
    }
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    crate::cli::output::check_range(args.since, args.until)?;
    let what = args.what;
    let format = format_of(&args)?;
    let to_stdout = args.out.as_os_str() == "-";
    if to_stdout && (format == ExportFormat::Parquet || args.partition_by.is_some()) {
        crate::cli::usage!(
            "--out - writes CSV to standard output: Parquet and --partition-by need a path"
        );
    }
    if !to_stdout && args.partition_by.is_none() && args.out.is_dir() {
        crate::cli::usage!(
            "--out {} is a folder: give a file name (e.g. {}), or --partition-by import-code for a folder of Parquet files",
            args.out.display(),
            args.out
                .join(format!("{}.{}", what.name(), format.as_str()))
                .display()
        );
    }
    if args.partition_by.is_some() && format != ExportFormat::Parquet {
        crate::cli::usage!(
            "--partition-by writes a Parquet folder: use --format parquet (or leave it out)"
        );
    }
    let key = if args.pseudonymize {
        Some(export::pseudonym_key_from_env()?)
    } else {
        None
    };
    let store = ctx.open_store()?;
    let profile = ctx.analysis_profile(&store)?;
    let opts = ExportOptions {
        format,
        range: DateRange {
            since: args.since,
            until: args.until,
            profile: profile.clone(),
        },
        pseudonym_key: key,
    };
    // Partitioned: write the whole export to a temporary file (in the store: owner-only, on a
    // disk with room for the history), then split it.
    let tmp = match args.partition_by {
        Some(_) => Some(
            tempfile::Builder::new()
                .suffix(".parquet")
                .tempfile_in(ctx.store_path()?)?,
        ),
        None => None,
    };
    let target: PathBuf = if let Some(tmp) = &tmp {
        tmp.path().to_path_buf()
    } else if to_stdout {
        PathBuf::from("/dev/stdout")
    } else {
        args.out.clone()
    };
    let rows = match what {
        Dataset::Findings => export::export_findings(&store, &target, &opts)?,
        other => {
            let h = export::LazyHistory::new(&store, profile.as_deref());
            let registries = ctx.config.registries();
            let query = export::DatasetQuery {
                since: args.since,
                until: args.until,
                today: chrono::Local::now().date_naive(),
                worklist: &ctx.config.worklist,
                owners: &ctx.config.owners,
                score: &ctx.config.score,
                registries: &registries,
            };
            let mut table = other.table(&store, &h, &query)?;
            export::pseudonymize_table(&mut table, opts.pseudonym_key.as_deref());
            export::export_table(&table, &target, format)?;
            table.rows.len() as u64
        }
    };
    if let Some(tmp) = &tmp {
        let parts = export::partition_parquet(tmp.path(), "import_code", &args.out)?;
        crate::cli::say!(
            "exported {rows} rows to {} ({parts} partition(s) by import_code)",
            args.out.display()
        );
    } else if !to_stdout {
        crate::cli::say!("exported {rows} rows to {}", args.out.display());
    }
    Ok(Exit::Ok)
}
