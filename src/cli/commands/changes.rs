//! `immdqa changes`: new, resolved and persisting issues against the previous period.

use chrono::NaiveDate;

use crate::analytics::changes;
use crate::cli::choices::Period;
use crate::cli::output::{OutputArgs, parse_date};
use crate::cli::{Ctx, Exit};

/// Issues (HL7 field × registry code) in a period compared with the period before: new ones,
/// resolved ones and persisting ones, with counts and change.
///
/// The period is the week (or month) holding --as-of, by default the latest report's date.
///
/// Example: immdqa changes --period month
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Compare weeks or months
    #[arg(long, value_enum, default_value_t = Period::Week)]
    pub period: Period,
    /// A date inside the period to look at (default: the latest report's date)
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let store = ctx.open_store()?;
    let h = ctx.history(&store)?;
    let Some(as_of) = args.as_of.or_else(|| changes::latest_date(&h)) else {
        crate::cli::out!("the history is empty: run `immdqa fetch` or `immdqa import` first");
        return Ok(Exit::Ok);
    };
    let c = changes::changes(&h, args.period.into(), as_of)?;
    if args.output.format == crate::cli::output::Format::Table && args.output.out.is_none() {
        crate::cli::out!(
            "{} to {} compared with {} to {}",
            c.current.0,
            c.current.1,
            c.previous.0,
            c.previous.1
        );
    }
    args.output.emit(&changes::table(&c))?;
    Ok(Exit::Ok)
}
