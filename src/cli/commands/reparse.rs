//! `immdqa reparse`: parse archived files again (after a parser improves).

use crate::cli::{Ctx, Exit, ingest_summary};
use crate::ingest;

/// Parse archived files again, replacing their rows.
///
/// Without arguments: files still pending and every quarantined file (retried). With --all:
/// every archived file. With FILE: the stored files of that name (or content hash prefix).
///
/// Example: immdqa reparse --all
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Re-read every archived file
    #[arg(long, conflicts_with = "files")]
    pub all: bool,
    /// Stored file names (as in `immdqa status`) or SHA-256 prefixes
    pub files: Vec<String>,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let opts = ctx.parse_options()?;
    let mut store = ctx.open_store()?;
    let _lock = store.lock()?;
    let items = if args.files.is_empty() {
        ingest::ingest_stored(&mut store, &opts, args.all, true)?
    } else {
        let mut out = Vec::new();
        for name in &args.files {
            let ids = store.files_named(name)?;
            if ids.is_empty() {
                anyhow::bail!("no stored file named {name} (see `immdqa status`)");
            }
            for id in ids {
                out.push(ingest::ingest_one(&mut store, id, &opts, true)?);
            }
        }
        out
    };
    if items.is_empty() {
        crate::cli::say!("reparse: nothing to do (no pending or quarantined files)");
        return Ok(Exit::Ok);
    }
    let q = ingest_summary::print("reparse", &items);
    Ok(if q > 0 { Exit::Partial } else { Exit::Ok })
}
