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

/// `check` of each file's bytes on two worker threads (one per core; long-lived, so their
/// memory is reused from file to file), in the files' order. A file that cannot be read is
/// the error (naming it).
fn checked<T: Send>(
    files: &[std::path::PathBuf],
    check: impl Fn(&[u8]) -> T + Sync,
) -> anyhow::Result<Vec<T>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let (check, next) = (&check, &next);
    let mut slots: Vec<Option<anyhow::Result<T>>> = (0..files.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(f) = files.get(i) else { break };
                        let r = crate::cli::output::read_input(f).map(|(_, data)| check(&data));
                        done.push((i, r));
                    }
                    done
                })
            })
            .collect();
        for w in workers {
            for (i, r) in w.join().unwrap_or_default() {
                slots[i] = Some(r);
            }
        }
    });
    slots
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(anyhow::anyhow!("lint stopped before a file"))))
        .collect()
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let registry = registry(&args, ctx);
    if args.list_rules {
        return list_rules(registry, &args.format);
    }
    let today = chrono::Local::now().date_naive();
    // the set `codes update` kept, installed once at start-up (not read again here)
    let codes = crate::vaccines::current();
    // Each file is read and checked in buffers the size of the file, freed after it: with
    // transparent huge pages every new buffer is 2 MiB pages the kernel zeroes first (a third
    // of lint's time on 100 batches, benchmark B12). Plain pages for this process only.
    // SAFETY: prctl with integer arguments; it changes nothing but this process's THP policy.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    let mut docs = Vec::new();
    let mut worst = Exit::Ok;
    // the files are checked two at a time (one per core), reported in their order
    let reports = checked(&args.files, |data| {
        lint::check_with(data, today, registry, codes)
    })?;
    for (f, r) in args.files.iter().zip(reports) {
        if !r.structure.is_empty() || r.errors() > 0 {
            worst = Exit::Fail;
        } else if r.warnings() > 0 && worst == Exit::Ok {
            worst = Exit::Warn;
        }
        if args.format == "json" {
            docs.push(serde_json::json!({"file": f.display().to_string(), "report": r}));
        } else {
            use std::fmt::Write;
            let mut text = format!(
                "{}: {} messages; {} structural problems; {} errors, {} warnings predicted\n",
                f.display(),
                r.messages,
                r.structure.len(),
                r.errors(),
                r.warnings()
            );
            for i in r.structure.iter().chain(r.lint.iter()) {
                let level = match i.level {
                    lint::Level::Error => "Error",
                    lint::Level::Warning => "Warning",
                };
                let _ = writeln!(
                    text,
                    "  line {:>5} {:<4} {:<8} {:<8} {:<18} {}",
                    i.line,
                    i.segment,
                    level,
                    i.predicts.unwrap_or("-"),
                    i.control_id.as_deref().unwrap_or("-"),
                    i.message
                );
            }
            // one write per file, not per line
            crate::cli::out_part!("{text}");
        }
    }
    if args.format == "json" {
        crate::cli::out!("{}", serde_json::to_string_pretty(&docs)?);
    }
    Ok(worst)
}
