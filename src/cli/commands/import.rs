//! `immdqa import PATH...`: bring local report files into the history.

use std::path::PathBuf;

use crate::cli::{Ctx, Exit, ingest_summary};
use crate::ingest;

/// Archive and parse local files or folders (recursively) through the same pipeline as fetch.
///
/// For organisations whose EHR vendor already downloads the registry's files. Each file is
/// archived by SHA-256; content already in the history adds nothing; a file no parser can read
/// is quarantined with the reason (see `immdqa status`) and retried by `immdqa reparse`.
/// Imported files belong to the selected profile (`--profile`, `default_profile` or the only
/// profile), like fetched ones; with none selected, to the profile `import`.
///
/// Example: immdqa import ~/Downloads/DQA-Reports ~/Downloads/ACMECLIN_CNF_20251028.csv
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Files or folders to import (`-`: standard input, recorded as `stdin`)
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The files are HL7 batches your EHR sent to the registry by itself: read them into
    /// the message ledger (each message joined to the registry's answer), not as reports
    #[arg(long)]
    pub sent: bool,
}

/// Standard input spooled to a file named `stdin` in a temporary folder (kept until the
/// import ends), so it goes through the same archive and parse path as a file.
fn spool_stdin(paths: &[PathBuf]) -> anyhow::Result<(Option<tempfile::TempDir>, Vec<PathBuf>)> {
    if !paths.iter().any(|p| p.as_os_str() == "-") {
        return Ok((None, paths.to_vec()));
    }
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("stdin");
    let mut out = std::fs::File::create(&file)?;
    std::io::copy(&mut std::io::stdin().lock(), &mut out)
        .map_err(|e| anyhow::anyhow!("cannot read standard input: {e}"))?;
    let paths = paths
        .iter()
        .map(|p| {
            if p.as_os_str() == "-" {
                file.clone()
            } else {
                p.clone()
            }
        })
        .collect();
    Ok((Some(dir), paths))
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let opts = ctx.parse_options()?;
    let mut store = ctx.open_store()?;
    // imported files belong to the selected profile (none selected: `import`)
    let profile = ctx
        .analysis_profile(&store)?
        .unwrap_or_else(|| ingest::IMPORT_PROFILE.to_string());
    let (_spool, paths) = spool_stdin(&args.paths)?;
    let report = if args.sent {
        ingest::import_sent(&mut store, &paths, &profile)?
    } else {
        ingest::import_paths(&mut store, &paths, &opts, &profile)?
    };
    for (path, reason) in &report.unreadable {
        eprintln!("cannot import {path}: {reason}");
    }
    let quarantined = ingest_summary::print("import", &report.ingested);
    if report.ingested.is_empty() {
        crate::cli::say!(
            "import: nothing new ({} file(s) already in the history)",
            report.unchanged
        );
    }
    Ok(if quarantined > 0 || !report.unreadable.is_empty() {
        Exit::Partial
    } else {
        Exit::Ok
    })
}
