//! `immdqa worklist`: the records to fix, who fixes them, and whether the fix was accepted.

use chrono::NaiveDate;

use crate::cli::output::{OutputArgs, parse_date};
use crate::cli::{Ctx, Exit};
use crate::domain::HandAction;
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
    /// Only items this person works (assigned by hand, or by `[owners.people]`)
    #[arg(long, value_name = "NAME")]
    pub assignee: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Close items by hand (fixed in the registry directly, or nothing to resend); an item an
    /// accepted resubmission resolved stays "resolved"
    Close(ActionArgs),
    /// Ignore items (kept in the history, out of the open list)
    Ignore(ActionArgs),
    /// Open closed or ignored items again
    Reopen(ActionArgs),
    /// Assign items to a person (`--to ""` unassigns); the web workspace shows who has what
    Assign(AssignArgs),
    /// One item in full: what was sent (no names, no birth date), the registry's words for
    /// each code, the fix, and its history (opened, answered, every action and note)
    Show(ShowArgs),
}

pub use super::HandArgs as ActionArgs;

#[derive(Debug, clap::Args)]
pub struct AssignArgs {
    #[command(flatten)]
    pub hand: ActionArgs,
    /// Who works the items (a user name of `immdqa user list`, or any name)
    #[arg(long, value_name = "NAME")]
    pub to: String,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The item's id
    pub id: i64,
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
    let mut store = ctx.open_store()?;
    if let Some(action) = args.action {
        let (hand, a) = match action {
            Action::Close(a) => (HandAction::Close, a),
            Action::Ignore(a) => (HandAction::Ignore, a),
            Action::Reopen(a) => (HandAction::Reopen, a),
            Action::Assign(a) => (HandAction::Assign(a.to.trim().to_string()), a.hand),
            Action::Show(s) => return show(ctx, &store, s.id),
        };
        let by = super::who(&a.by);
        let _lock = store.lock()?;
        return super::on_each_id(
            &a.ids,
            hand.verb(),
            "no worklist item",
            "immdqa worklist --all",
            |id| Ok(store.worklist_action(id, &hand, a.note.as_deref(), by.as_deref())?),
        );
    }
    let filter = Filter {
        owner: args.owner,
        site: args.site,
        code: args.code,
        since: args.since,
        all: args.all,
        assignee: args.assignee,
    };
    let items = load(ctx, &store, &filter, chrono::Local::now().date_naive())?;
    if items.is_empty()
        && args.output.out.is_none()
        && args.output.format == crate::cli::output::Format::Table
    {
        if store.ledger_counts()?.messages == 0 {
            crate::cli::out!(
                "the ledger is empty: sent batches come from `immdqa upload`, the accepted folder (`immdqa fetch`) or `immdqa import --sent FILE`"
            );
        } else {
            crate::cli::out!(
                "nothing to fix{}",
                if args.all { "" } else { " (open items)" }
            );
        }
        return Ok(Exit::Ok);
    }
    args.output.emit(&worklist::table(&items))?;
    Ok(Exit::Ok)
}

/// `worklist show ID`: one item in full (patient reference only: no names, no birth date).
fn show(ctx: &Ctx, store: &crate::store::Store, id: i64) -> anyhow::Result<Exit> {
    let filter = Filter {
        all: true,
        ..Filter::default()
    };
    let today = chrono::Local::now().date_naive();
    let Some(item) = load(ctx, store, &filter, today)?
        .into_iter()
        .find(|i| i.id == id)
    else {
        anyhow::bail!("no worklist item {id}: see the ids in `immdqa worklist --all`");
    };
    let text = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    crate::cli::out!("worklist item {id}: {}", item.status.as_str());
    crate::cli::out!(
        "  sent in       {} (message {}), profile {}",
        item.batch,
        item.message_index,
        item.profile
    );
    crate::cli::out!("  patient       {}", text(&item.patient_ref));
    crate::cli::out!("  vaccine       {}", text(&item.vaccines));
    crate::cli::out!("  given on      {}", text(&item.administered_on));
    crate::cli::out!("  site          {}", item.site);
    crate::cli::out!("  provider      {}", text(&item.provider));
    crate::cli::out!("  answer        {}", item.message_status.as_str());
    crate::cli::out!("  owner         {}", item.owner.as_str());
    crate::cli::out!("codes:");
    for c in &item.codes {
        crate::cli::out!(
            "  {} ({}) {}: {}",
            c.code,
            c.severity,
            if c.field.is_empty() { "-" } else { &c.field },
            crate::hl7::printable(&c.text)
        );
        if let Some(fix) = &c.fix {
            crate::cli::out!("    fix: {fix}");
        }
    }
    crate::cli::out!("history:");
    if let Some(o) = item.opened {
        crate::cli::out!("  {o}  opened by the registry's answer to {}", item.batch);
    }
    for e in store.worklist_events(id)? {
        crate::cli::out!("  {}", worklist::event_line(&e));
    }
    if item.status == worklist::ItemStatus::Resolved {
        crate::cli::out!(
            "  resolved: a later message for the same patient, vaccine and date was accepted"
        );
    }
    Ok(Exit::Ok)
}
