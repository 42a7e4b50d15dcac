//! `immdqa lint FILE...`: the upload checks without uploading.

use std::path::PathBuf;

use crate::cli::{Ctx, Exit};
use crate::config::Registry;
use crate::hl7::lint;

/// Check HL7 VXU batch files as `upload` would, without sending anything: structure
/// (terminators, FHS/BHS/BTS/FTS, MSH-9 VXU^V04, MSH-12 2.5.1, unique MSH-10) and lint rules
/// that predict the registry's rejections and warnings, each with the code it predicts.
/// Exit 0 clean, 1 warnings only, 2 errors.
///
/// Rules carry a registry scope: `generic` (CDC IG 1.5) rules always apply, `texas` rules
/// (consent, NK1, ORC-12, OBX-14, address) under `registry = "texas"` (the profile's key,
/// default texas; --registry overrides). `--list-rules` prints the rule table.
///
/// Example: immdqa lint batch.hl7 --format json
///          immdqa lint --list-rules --registry generic
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Batch files to check (`-`: standard input)
    #[arg(required_unless_present = "list_rules")]
    pub files: Vec<PathBuf>,
    /// table (default) or json
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Whose rules apply [default: the profile's `registry`, else texas]
    #[arg(long, value_enum)]
    pub registry: Option<crate::cli::choices::Registry>,
    /// Print the rules (id, scope, predicted code, level, description) and exit
    #[arg(long)]
    pub list_rules: bool,
}

/// The registry whose rules apply: --registry, else the selected profile's, else texas.
fn registry(args: &Args, ctx: &Ctx) -> Registry {
    args.registry
        .map(Registry::from)
        .unwrap_or_else(|| ctx.profile().map(|(_, p)| p.registry).unwrap_or_default())
}

fn list_rules(registry: Registry, format: &str) -> anyhow::Result<Exit> {
    let rules = lint::RULES.iter().filter(|r| r.applies(registry));
    if format == "json" {
        let v: Vec<_> = rules
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "scope": r.scope.as_str(),
                    "predicts": r.predicts,
                    "level": format!("{:?}", r.level).to_lowercase(),
                    "description": r.description,
                })
            })
            .collect();
        crate::cli::out!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        crate::cli::out!("rules under registry = \"{}\":", registry.as_str());
        for r in rules {
            crate::cli::out!(
                "  {:<20} {:<8} {:<8} {:<8} {}",
                r.id,
                r.scope.as_str(),
                r.predicts.unwrap_or("-"),
                format!("{:?}", r.level).to_lowercase(),
                r.description
            );
        }
    }
    Ok(Exit::Ok)
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let registry = registry(&args, ctx);
    if args.list_rules {
        return list_rules(registry, &args.format);
    }
    let today = chrono::Local::now().date_naive();
    let codes = ctx.code_set()?;
    let mut docs = Vec::new();
    let mut worst = Exit::Ok;
    for f in &args.files {
        let (_, data) = crate::cli::output::read_input(f)?;
        let r = lint::check_with(&data, today, registry, &codes);
        if !r.structure.is_empty() || r.errors() > 0 {
            worst = Exit::Fail;
        } else if r.warnings() > 0 && worst == Exit::Ok {
            worst = Exit::Warn;
        }
        if args.format == "json" {
            docs.push(serde_json::json!({"file": f.display().to_string(), "report": r}));
        } else {
            crate::cli::out!(
                "{}: {} messages; {} structural problems; {} errors, {} warnings predicted",
                f.display(),
                r.messages,
                r.structure.len(),
                r.errors(),
                r.warnings()
            );
            for i in r.structure.iter().chain(r.lint.iter()) {
                crate::cli::out!(
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
        crate::cli::out!("{}", serde_json::to_string_pretty(&docs)?);
    }
    Ok(worst)
}
