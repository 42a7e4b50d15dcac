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
#[command(verbatim_doc_comment, args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
    /// List open follow-ups instead of weekly counts
    #[arg(long)]
    pub open: bool,
    /// Age follow-ups as of this date (default: today)
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Close open follow-ups by hand (the registry confirmed the consent, the patient moved
    /// away, a notice without a patient id was handled); a later notice opens it again
    Close(CloseArgs),
}

pub use super::HandArgs as CloseArgs;

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let store = ctx.open_store()?;
    let h = ctx.history(&store)?;
    let as_of = args
        .as_of
        .unwrap_or_else(|| chrono::Local::now().date_naive());
    let v = consent::consent(&store, &h, as_of)?;
    if let Some(Action::Close(c)) = args.action {
        let _lock = store.lock()?;
        let by = super::who(&c.by);
        return super::on_each_id(
            &c.ids,
            "closed",
            "no open consent follow-up",
            "immdqa consent --open",
            |id| {
                let Some(f) = v.open.iter().find(|f| f.id == id) else {
                    return Ok(false);
                };
                store.consent_action(&crate::store::consent::ConsentActionEntry {
                    follow_up: f.key.clone(),
                    action: "closed".into(),
                    note: c.note.clone(),
                    by: by.clone(),
                    at: crate::store::now(),
                })?;
                Ok(true)
            },
        );
    }
    if args.open {
        args.output.emit(&consent::open_table(&v))?;
        if v.untracked > 0 {
            eprintln!(
                "{} notice(s) carry no patient id: listed by the name and birth date they carry; close them by hand (`immdqa consent close ID --note ...`) once handled",
                v.untracked
            );
        }
    } else {
        args.output.emit(&consent::weekly_table(&v))?;
    }
    Ok(Exit::Ok)
}
