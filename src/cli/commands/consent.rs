//! `immdqa consent`: consent notices over time and open follow-ups.

use chrono::NaiveDate;

use crate::analytics::consent;
use crate::cli::output::{OutputArgs, parse_date};
use crate::cli::{Ctx, Exit};

/// Consent notices per week by normalised status and reason; with --open, the patients whose
/// follow-up is still open (named in a notice and not seen since without a consent problem),
/// oldest first, with their age in days.
///
/// Example: immdqa consent --open --format csv --out followups.csv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// List open follow-ups instead of weekly counts
    #[arg(long)]
    pub open: bool,
    /// Age follow-ups as of this date (default: today)
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let store = ctx.open_store()?;
    let h = ctx.history(&store)?;
    let as_of = args
        .as_of
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let v = consent::consent(&store, &h, as_of)?;
    if args.open {
        args.output.emit(&consent::open_table(&v))?;
        if v.untracked > 0 {
            eprintln!(
                "{} notice(s) carry no patient id and cannot be followed up automatically",
                v.untracked
            );
        }
    } else {
        args.output.emit(&consent::weekly_table(&v))?;
    }
    Ok(Exit::Ok)
}
