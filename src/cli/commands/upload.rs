//! `immdqa upload FILE...`: send batches to the registry's drop-off folder.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::cli::output::parse_date;
use crate::cli::{Ctx, Exit, progress::Bar};
use crate::upload::{self, Outcome};

/// Check HL7 batch files and upload them to the profile's drop-off folder as
/// <import_code><YY><DDD>.hl7 (a second file the same day gets .1, .2, … unless
/// same_day = "refuse").
///
/// A file with structural problems is never sent. Lint findings (predicted registry
/// rejections and warnings) are printed; with --strict any rejection-class finding stops that
/// file. The file is written under a temporary name, its size verified, then renamed: the
/// registry never sees half a file, and no existing name is ever overwritten.
///
/// Example: immdqa upload out/vxu-batch.hl7 --dry-run
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// HL7 VXU batch files to send
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Name the batch for this date instead of today
    #[arg(long, value_parser = parse_date)]
    pub date: Option<NaiveDate>,
    /// Print names, checks and plan; send nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not send a file with any rejection-class lint finding
    #[arg(long)]
    pub strict: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    ctx.config.check_secret_permissions()?;
    let opts = ctx.upload_options(args.date, args.dry_run, args.strict)?;
    let mut store = ctx.open_store()?;
    let mut remote = ctx.transport()?.1.open()?;
    let bar = Bar::new(ctx.quiet || args.dry_run);
    let results = upload::upload(
        &mut store,
        remote.as_mut(),
        &args.files,
        &opts,
        &bar,
        &mut |_| {},
    )?;
    let mut worst = Exit::Ok;
    for r in &results {
        for i in r.lint.structure.iter().chain(r.lint.lint.iter()) {
            eprintln!(
                "{}: line {} ({}){}: {:?}{}: {}",
                r.path.display(),
                i.line,
                i.segment,
                i.control_id
                    .as_deref()
                    .map(|c| format!(" message {c}"))
                    .unwrap_or_default(),
                i.level,
                i.predicts
                    .map(|c| format!(" (predicts {c})"))
                    .unwrap_or_default(),
                i.message
            );
        }
        crate::cli::say!("{}", upload::describe(r));
        if matches!(
            r.outcome,
            Outcome::Refused { .. }
                | Outcome::AlreadySent { .. }
                | Outcome::Failed { .. }
                | Outcome::SentButChanged { .. }
        ) {
            worst = Exit::Partial;
        }
    }
    Ok(worst)
}
