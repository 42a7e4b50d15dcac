//! `immdqa rebuild`: recreate the history from the archive (after it was lost or damaged).

use crate::cli::{Ctx, Exit};
use crate::store::{Store, StoreError};

/// Recreate the history (history.sqlite) from the archive alone: every fetched or imported
/// file is there under its content hash, and the archive's index says where each came from.
///
/// Use it when immdqa says the history was lost (an empty or missing history.sqlite beside a
/// full archive) or is damaged. The new history is written beside the old one and takes its
/// place only when complete (an interrupted rebuild changes nothing); the old database is
/// moved aside, never deleted. Upload records and worklist actions come back from their
/// journals (uploads.jsonl, worklist.actions.jsonl). A sound history is only replaced with
/// --force.
///
/// Example: immdqa rebuild
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Rebuild even though the history is sound (it is moved aside)
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let dir = ctx.store_path()?;
    let keys = ctx.keyring()?;
    if !args.force {
        match Store::open(&dir, &keys).and_then(|s| s.verify().map(|_| s)) {
            Ok(_) => anyhow::bail!(
                "the history in {} is sound: nothing to rebuild (use --force to rebuild it anyway; the current database is kept beside it)",
                dir.display()
            ),
            Err(StoreError::HistoryLost { .. } | StoreError::Corrupt { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let opts = ctx.parse_options()?;
    let r = crate::rebuild::rebuild(&dir, &opts, &keys)?;
    if let Some(old) = &r.moved_aside {
        crate::cli::say!("the old database was moved to {}", old.display());
    }
    crate::cli::say!(
        "rebuild: {} file version(s) from the archive index, {} archived file(s) it does not name (profile '{}'); parsed {} reports: {} findings, {} consent notices, {} quarantined",
        r.from_index,
        r.unindexed,
        crate::rebuild::UNINDEXED_PROFILE,
        r.parsed.parsed,
        r.parsed.findings,
        r.parsed.consent_rows,
        r.parsed.quarantined
    );
    if !r.missing.is_empty() {
        eprintln!(
            "{} indexed file(s) are missing from the archive and could not be recovered",
            r.missing.len()
        );
    }
    if r.torn_lines > 0 {
        eprintln!("{} damaged index line(s) skipped", r.torn_lines);
    }
    if r.worklist_actions > 0 {
        crate::cli::say!(
            "{} worklist action(s) (closed, ignored or reopened by hand) replayed from their journal",
            r.worklist_actions
        );
    }
    crate::cli::say!(
        "{} upload record(s) replayed from their journal (the accepted folder is seen again on the next fetch)",
        r.uploads
    );
    Ok(if r.parsed.quarantined > 0 || !r.missing.is_empty() {
        Exit::Partial
    } else {
        Exit::Ok
    })
}
