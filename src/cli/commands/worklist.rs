//! `immdqa worklist`: the records to fix, who fixes them, and whether the fix was accepted.

use chrono::NaiveDate;

use crate::cli::output::{OutputArgs, parse_date};
use crate::cli::{Ctx, Exit};
use crate::domain::Owner;
use crate::ledger::owners::Owners;
use crate::ledger::worklist::{self, Filter};

/// One row per sent record to fix: a rejected message, or an accepted one with a finding of
/// an owner you follow (`[worklist] follow`, or `--owner`). Columns: id, patient reference,
/// administration date, vaccine, site, provider, codes with the catalogue's one-line fix,
/// owner, opened (the answer's date), age in days, status (open, resolved = a later accepted
/// message re-sent the same patient, vaccine and date; closed or ignored by hand). Oldest
/// first; open items only unless --all. `[worklist] ignore_codes` drops FYI-only codes.
///
/// The worklist names patients by reference (MRN) only; a file written with --out is
/// owner-only. Never paste it into a ticket or an e-mail.
///
/// Examples:
///   immdqa worklist --owner front_desk
///   immdqa worklist --site "NORTH CLINIC" --format csv --out worklist.csv
///   immdqa worklist close 1234 --note "re-sent after fixing the lot number"
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment, args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
    /// Only items with a code of this owner (front_desk, clinical, interface, registry,
    /// consent); its warnings count as followed
    #[arg(long, value_parser = parse_owner)]
    pub owner: Option<Owner>,
    /// Only items of this site (RXA-11.4, else MSH-4)
    #[arg(long)]
    pub site: Option<String>,
    /// Only items with this code (or field, for findings without a code)
    #[arg(long)]
    pub code: Option<String>,
    /// Only items opened on or after this date (YYYY-MM-DD or 2025-W44)
    #[arg(long, value_parser = parse_date)]
    pub since: Option<NaiveDate>,
    /// Every item: resolved, closed and ignored ones too
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Close an item by hand (fixed in the registry directly, or nothing to resend)
    Close(ActionArgs),
    /// Ignore an item (kept in the history, out of the open list)
    Ignore(ActionArgs),
}

#[derive(Debug, clap::Args)]
pub struct ActionArgs {
    /// The item's id (first column of `immdqa worklist`)
    pub id: i64,
    /// Why (kept with the item; do not write patient names here)
    #[arg(long)]
    pub note: Option<String>,
}

pub fn parse_owner(s: &str) -> Result<Owner, String> {
    Owner::parse(s).ok_or_else(|| {
        format!(
            "unknown owner '{s}': one of {}",
            Owner::ALL.map(Owner::as_str).join(", ")
        )
    })
}

/// The worklist of the selected profile (all profiles when none is selected).
pub fn load(
    ctx: &Ctx,
    store: &crate::store::Store,
    filter: &Filter,
    today: NaiveDate,
) -> anyhow::Result<Vec<worklist::Item>> {
    let profile = ctx.analysis_profile(store)?;
    Ok(worklist::load(
        store,
        profile.as_deref(),
        &ctx.config.worklist,
        &Owners::new(&ctx.config.owners),
        filter,
        today,
    )?)
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let store = ctx.open_store()?;
    if let Some(action) = args.action {
        let (verb, a) = match action {
            Action::Close(a) => ("closed", a),
            Action::Ignore(a) => ("ignored", a),
        };
        let _lock = store.lock()?;
        if !store.worklist_action(a.id, verb, a.note.as_deref())? {
            anyhow::bail!(
                "no worklist item {}: see the ids in `immdqa worklist --all`",
                a.id
            );
        }
        crate::cli::say!("worklist item {} {verb}", a.id);
        return Ok(Exit::Ok);
    }
    let filter = Filter {
        owner: args.owner,
        site: args.site,
        code: args.code,
        since: args.since,
        all: args.all,
    };
    let items = load(ctx, &store, &filter, chrono::Local::now().date_naive())?;
    if items.is_empty()
        && args.output.out.is_none()
        && args.output.format == crate::cli::output::Format::Table
    {
        if store.ledger_counts()?.messages == 0 {
            println!(
                "the ledger is empty: sent batches come from `immdqa upload`, the accepted folder (`immdqa fetch`) or `immdqa import --sent FILE`"
            );
        } else {
            println!(
                "nothing to fix{}",
                if args.all { "" } else { " (open items)" }
            );
        }
        return Ok(Exit::Ok);
    }
    args.output.emit(&worklist::table(&items))?;
    Ok(Exit::Ok)
}
