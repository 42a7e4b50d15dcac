//! `immdqa inspect FILE...`: parse files without storing them and show what was found.

use std::path::PathBuf;

use serde_json::json;

use crate::cli::{Ctx, Exit};
use crate::formats::{self, Collect, Kind};

/// Parse report files without storing anything and show, per file: the kind (dqa, cnf or
/// unknown), the format, message counts, findings by severity, consent rows, or why it cannot
/// be read.
///
/// --json prints one JSON array with an object per file; every object carries every key
/// (null when unknown): file, kind, format, messages, accepted, accepted_with_warnings,
/// rejected, skipped, queries (query responses counted apart), findings, finding_rows,
/// by_severity {E,W,I}, rows, submission, error.
///
/// Example: immdqa inspect examples/mailbox/DQA-Reports/* --json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Report files (`-`: standard input)
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// One JSON document instead of tables (the same as --format json)
    #[arg(long)]
    pub json: bool,
    /// table (default), csv (one row per file) or json
    #[arg(long, value_enum, default_value_t = crate::cli::output::Format::Table)]
    pub format: crate::cli::output::Format,
    /// How many findings to show per file (table output)
    #[arg(long, default_value_t = 5)]
    pub show: usize,
    /// Read the files as consent notification files (as if from the Receive folder)
    #[arg(long)]
    pub cnf: bool,
}

/// One file's JSON object: every documented key, always present (null when unknown), so a
/// script reading `inspect --json` never meets a missing key.
fn summary_json(
    path: &std::path::Path,
    s: Option<&formats::Summary>,
    error: Option<String>,
) -> serde_json::Value {
    let c = s.map(|s| s.counts).unwrap_or_default();
    let sev = s.map(|s| s.by_severity).unwrap_or([0; 3]);
    json!({
        "file": path.display().to_string(),
        "kind": s.map(|s| s.kind.as_str()).unwrap_or("unknown"),
        "format": s.map(|s| s.format.as_str()),
        "messages": c.messages,
        "accepted": c.accepted,
        "accepted_with_warnings": c.accepted_with_warnings,
        "rejected": c.rejected,
        "skipped": c.skipped,
        "queries": c.queries.unwrap_or(0),
        "findings": sev.iter().sum::<u64>(),
        "finding_rows": s.map(|s| s.findings).unwrap_or(0),
        "by_severity": {"E": sev[0], "W": sev[1], "I": sev[2]},
        "rows": s.map(|s| s.consent_rows).unwrap_or(0),
        "submission": s.and_then(|s| s.submission_file.clone()),
        "error": error,
    })
}

/// The keys of every `inspect --json` object (README, "inspect").
pub const JSON_KEYS: [&str; 15] = [
    "file",
    "kind",
    "format",
    "messages",
    "accepted",
    "accepted_with_warnings",
    "rejected",
    "skipped",
    "queries",
    "findings",
    "finding_rows",
    "by_severity",
    "rows",
    "submission",
    "error",
];

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let mut opts = ctx.parse_options()?;
    if args.cnf {
        opts.kind_hint = Some(Kind::Cnf);
    }
    let mut docs = Vec::new();
    let mut any_error = false;
    for path in &args.files {
        let mut sink = Collect {
            limit: args.show,
            ..Collect::default()
        };
        // `-` reads standard input (into memory); files stream from disk
        let result = if path.as_os_str() == "-" {
            crate::cli::output::read_input(path)
                .map_err(|e| e.to_string())
                .and_then(|(name, data)| {
                    formats::parse_bytes(&data, &name, &opts, &mut sink).map_err(|e| e.to_string())
                })
        } else {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string());
            std::fs::File::open(path)
                .map_err(|e| format!("{}: cannot open: {e}", path.display()))
                .and_then(|f| formats::parse(f, &name, &opts, &mut sink).map_err(|e| e.to_string()))
        };
        match result {
            Ok(s) => docs.push((summary_json(path, Some(&s), None), sink)),
            Err(reason) => {
                any_error = true;
                docs.push((summary_json(path, None, Some(reason)), sink));
            }
        }
    }
    if args.json || args.format == crate::cli::output::Format::Json {
        let arr: Vec<_> = docs.iter().map(|(d, _)| d.clone()).collect();
        crate::cli::out!("{}", serde_json::to_string_pretty(&arr)?);
    } else if args.format == crate::cli::output::Format::Csv {
        let mut t = crate::table::Table::new(&JSON_KEYS[..JSON_KEYS.len()]);
        for (d, _) in &docs {
            t.push(
                JSON_KEYS
                    .iter()
                    .map(|k| match &d[*k] {
                        serde_json::Value::Null => crate::table::Value::Null,
                        serde_json::Value::String(s) => crate::table::Value::text(s),
                        other => crate::table::Value::text(other.to_string()),
                    })
                    .collect(),
            );
        }
        crate::cli::output::write_table(&t, crate::cli::output::Format::Csv, None)?;
    } else {
        let mut t = crate::table::Table::new(&[
            "file",
            "kind",
            "format",
            "messages",
            "findings",
            "E",
            "W",
            "I",
            "consent rows",
            "submission",
        ]);
        let v = |x: &serde_json::Value| match x {
            serde_json::Value::Null => "-".to_string(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        for (d, _) in &docs {
            t.push(
                [
                    v(&d["file"]),
                    v(&d["kind"]),
                    v(&d["format"]),
                    v(&d["messages"]),
                    v(&d["findings"]),
                    v(&d["by_severity"]["E"]),
                    v(&d["by_severity"]["W"]),
                    v(&d["by_severity"]["I"]),
                    v(&d["rows"]),
                    v(&d["submission"]),
                ]
                .map(crate::table::Value::Text)
                .to_vec(),
            );
        }
        crate::cli::out!("{}", t.to_terminal());
        for (d, sink) in &docs {
            if let Some(err) = d["error"].as_str() {
                crate::cli::out!("\n{err}");
                continue;
            }
            if !sink.findings.is_empty() {
                crate::cli::out!("\n{} (first {}):", v(&d["file"]), sink.findings.len());
                for f in &sink.findings {
                    crate::cli::out!(
                        "  {} {:<9} {:<8} {}{}",
                        f.severity(),
                        f.field.as_deref().unwrap_or("-"),
                        f.code.as_deref().unwrap_or("-"),
                        f.text,
                        if f.count > 1 {
                            format!(" (x{})", f.count)
                        } else {
                            String::new()
                        }
                    );
                }
            }
            if !sink.consent.is_empty() {
                crate::cli::out!(
                    "\n{} (first {} notices; names and dates of birth not shown):",
                    v(&d["file"]),
                    sink.consent.len()
                );
                for c in &sink.consent {
                    crate::cli::out!(
                        "  {:<8} consent sent {:<4} {}",
                        c.reason_code.as_deref().unwrap_or("-"),
                        c.consent_code.as_deref().unwrap_or("-"),
                        c.status.as_str()
                    );
                }
            }
        }
    }
    Ok(if any_error { Exit::Partial } else { Exit::Ok })
}
