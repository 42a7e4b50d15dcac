//! `immdqa audit`: the audit trail of the web workspace and of user changes.

use crate::cli::output::{OutputArgs, parse_date};
use crate::cli::{Ctx, Exit};

/// Who signed in (and who failed to), who saw which patient-level page, who did what to
/// which items, oldest first. Rows cannot be changed or deleted through immdqa (the store
/// refuses it), and `rebuild` keeps them.
///
/// Examples:
///   immdqa audit --since 2025-11-01
///   immdqa audit --user ana --format csv --out audit.csv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Only rows from this day on (YYYY-MM-DD or 2025-W44)
    #[arg(long, value_parser = parse_date)]
    pub since: Option<chrono::NaiveDate>,
    /// Only rows of this user
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let store = ctx.open_store()?;
    let since = args.since.map(|d| d.to_string());
    let rows = crate::store::users::AuditLog::open(store.dir(), store.key())?
        .rows(since.as_deref(), args.user.as_deref())?;
    args.output.emit(&crate::serve::api::audit_table(&rows))?;
    Ok(Exit::Ok)
}
