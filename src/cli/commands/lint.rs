//! `immdqa lint FILE...`: the upload checks without uploading.

use std::path::PathBuf;

use crate::cli::{Ctx, Exit};
use crate::hl7::lint;

/// Check HL7 VXU batch files as `upload` would, without sending anything: structure
/// (terminators, FHS/BHS/BTS/FTS, MSH-9 VXU^V04, MSH-12 2.5.1, unique MSH-10) and lint rules
/// that predict the registry's rejections and warnings, each with the code it predicts.
/// Exit 0 clean, 1 warnings only, 2 errors.
///
/// Example: immdqa lint batch.hl7 --format json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// table (default) or json
    #[arg(long, default_value = "table")]
    pub format: String,
}

pub fn run(args: Args, _ctx: &Ctx) -> anyhow::Result<Exit> {
    let today = chrono::Local::now().date_naive();
    let mut docs = Vec::new();
    let mut worst = Exit::Ok;
    for f in &args.files {
        let data = std::fs::read(f).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
        let r = lint::check(&data, today);
        if !r.structure.is_empty() || r.errors() > 0 {
            worst = Exit::Fail;
        } else if r.warnings() > 0 && worst == Exit::Ok {
            worst = Exit::Warn;
        }
        if args.format == "json" {
            docs.push(serde_json::json!({"file": f.display().to_string(), "report": r}));
        } else {
            println!(
                "{}: {} messages; {} structural problems; {} errors, {} warnings predicted",
                f.display(),
                r.messages,
                r.structure.len(),
                r.errors(),
                r.warnings()
            );
            for i in r.structure.iter().chain(r.lint.iter()) {
                println!(
                    "  line {:>5} {:<4} {:<8} {:<8} {:<18} {}",
                    i.line,
                    i.segment,
                    format!("{:?}", i.level),
                    i.predicts.unwrap_or("-"),
                    i.control_id.as_deref().unwrap_or("-"),
                    i.message
                );
            }
        }
    }
    if args.format == "json" {
        println!("{}", serde_json::to_string_pretty(&docs)?);
    }
    Ok(worst)
}
