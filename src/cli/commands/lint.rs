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
/// memory is reused from file to file), each result handed to `done` in the files' order as
/// soon as it and those before it are ready: the output streams, and a file's findings are
/// freed once written. A file that cannot be read is the error (naming it).
fn checked<T: Send>(
    files: &[std::path::PathBuf],
    check: impl Fn(&std::path::Path, &[u8]) -> T + Sync,
    mut done: impl FnMut(T) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let (check, next) = (&check, &next);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, anyhow::Result<T>)>();
    std::thread::scope(|s| {
        for _ in 0..2 {
            let tx = tx.clone();
            s.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(f) = files.get(i) else { break };
                    let r = crate::cli::output::read_input(f).map(|(_, data)| check(f, &data));
                    if tx.send((i, r)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut waiting: std::collections::BTreeMap<usize, anyhow::Result<T>> = Default::default();
        let mut at = 0;
        for (i, r) in rx.iter() {
            waiting.insert(i, r);
            while let Some(r) = waiting.remove(&at) {
                at += 1;
                if let Err(e) = r.and_then(&mut done) {
                    // the workers stop at their next file
                    next.store(files.len(), Ordering::Relaxed);
                    return Err(e);
                }
            }
        }
        anyhow::ensure!(at == files.len(), "lint stopped before a file");
        Ok(())
    })
}

/// What one file gives: its worst outcome and what is printed of it.
struct Checked {
    exit: Exit,
    /// The text report, or the JSON document.
    text: String,
    json: Option<serde_json::Value>,
}

/// The worse of two outcomes (fail, then warn, then ok).
fn worst_of(a: Exit, b: Exit) -> Exit {
    let rank = |e: Exit| match e {
        Exit::Fail => 2,
        Exit::Warn => 1,
        _ => 0,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// A small integer formatter that reuses its buffer.
struct Itoa(String);

impl Itoa {
    fn format(&mut self, n: usize) -> &str {
        use std::fmt::Write;
        self.0.clear();
        let _ = write!(self.0, "{n}");
        &self.0
    }
}

fn itoa_buf() -> Itoa {
    Itoa(String::with_capacity(20))
}

/// A file's report as text: a summary line, then one line per finding.
fn text_report(f: &std::path::Path, r: &lint::LintReport) -> String {
    let mut text = format!(
        "{}: {} messages; {} structural problems; {} errors, {} warnings predicted\n",
        f.display(),
        r.messages,
        r.structure.len(),
        r.errors(),
        r.warnings()
    );
    // "  line {:>5} {:<4} {:<8} {:<8} {:<18} {}", written by hand: the formatter's padding
    // was a tenth of lint's time over a million messages (benchmark B12)
    fn pad(out: &mut String, s: &str, width: usize) {
        out.push_str(s);
        let n = if s.is_ascii() {
            s.len()
        } else {
            s.chars().count()
        };
        out.extend(std::iter::repeat_n(' ', width.saturating_sub(n)));
    }
    let mut num = itoa_buf();
    for i in r.structure.iter().chain(r.lint.iter()) {
        let level = match i.level {
            lint::Level::Error => "Error",
            lint::Level::Warning => "Warning",
        };
        text.push_str("  line ");
        let line = num.format(i.line);
        text.extend(std::iter::repeat_n(' ', 5usize.saturating_sub(line.len())));
        text.push_str(line);
        text.push(' ');
        pad(&mut text, &i.segment, 4);
        text.push(' ');
        pad(&mut text, level, 8);
        text.push(' ');
        pad(&mut text, i.predicts.unwrap_or("-"), 8);
        text.push(' ');
        pad(&mut text, i.control_id.as_deref().unwrap_or("-"), 18);
        text.push(' ');
        text.push_str(&i.message);
        text.push('\n');
    }
    text
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
    // of lint's time on 100 batches, benchmark B12).
    crate::cli::plain_pages();
    let json = args.format == "json";
    let mut docs = Vec::new();
    let mut worst = Exit::Ok;
    // the files are checked two at a time (one per core), each report formatted where it
    // was checked and written in the files' order
    checked(
        &args.files,
        |f, data| {
            let r = lint::check_with(data, today, registry, codes);
            let exit = if !r.structure.is_empty() || r.errors() > 0 {
                Exit::Fail
            } else if r.warnings() > 0 {
                Exit::Warn
            } else {
                Exit::Ok
            };
            if json {
                let doc = serde_json::json!({"file": f.display().to_string(), "report": r});
                return Checked {
                    exit,
                    text: String::new(),
                    json: Some(doc),
                };
            }
            Checked {
                exit,
                text: text_report(f, &r),
                json: None,
            }
        },
        |c| {
            worst = worst_of(worst, c.exit);
            match c.json {
                Some(doc) => docs.push(doc),
                // one write per file, not per line
                None => crate::cli::out_part!("{}", c.text),
            }
            Ok(())
        },
    )?;
    if args.format == "json" {
        crate::cli::out!("{}", serde_json::to_string_pretty(&docs)?);
    }
    Ok(worst)
}
