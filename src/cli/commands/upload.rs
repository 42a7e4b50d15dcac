//! `immdqa upload FILE...`: send batches to the registry's drop-off folder.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::cli::output::parse_date;
use crate::cli::{Ctx, Exit, progress::Bar};
use crate::transport::Retry;
use crate::upload::{self, Outcome, UploadOptions};

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
    let (name, profile) = ctx.profile()?;
    ctx.config.check_secret_permissions()?;
    let import_code = profile.import_code.clone().ok_or_else(|| {
        anyhow::anyhow!(
            "profile '{name}' has no import_code: it names the batches (<import_code><YY><DDD>.hl7)"
        )
    })?;
    let today = chrono::Local::now().date_naive();
    let opts = UploadOptions {
        profile: name.clone(),
        import_code,
        dropoff_dir: profile.dropoff_dir.clone(),
        accepted_dir: profile.accepted_dir.clone(),
        date: args.date.unwrap_or(today),
        today,
        dry_run: args.dry_run,
        strict: args.strict,
        same_day: profile.same_day,
        retry: Retry::from_profile(profile),
        max_size: profile.max_file_size,
        registry: profile.registry,
    };
    let store = ctx.open_store()?;
    let mut remote = ctx.transport()?.1.open()?;
    let bar = Bar::new(ctx.quiet || args.dry_run);
    let results = upload::upload(&store, remote.as_mut(), &args.files, &opts, &bar)?;
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
        if matches!(r.outcome, Outcome::Refused { .. } | Outcome::Failed { .. }) {
            worst = Exit::Partial;
        }
    }
    Ok(worst)
}
