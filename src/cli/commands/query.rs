//! `immdqa query NAME`: run a named SQL query against the history.

use crate::cli::output::OutputArgs;
use crate::cli::{Ctx, Exit};
use crate::table::{Table, Value};

/// Named queries shipped with immdqa (queries/*.sql).
pub const BUILT_IN: &[(&str, &str)] = &[
    (
        "top_errors_by_field",
        include_str!("../../../queries/top_errors_by_field.sql"),
    ),
    (
        "consent_followups_by_source",
        include_str!("../../../queries/consent_followups_by_source.sql"),
    ),
    (
        "rejections_by_code",
        include_str!("../../../queries/rejections_by_code.sql"),
    ),
    (
        "quarantined_files",
        include_str!("../../../queries/quarantined_files.sql"),
    ),
];

/// Run a named, read-only SQL query over the history and print its rows.
///
/// Built-in: top_errors_by_field, consent_followups_by_source, rejections_by_code,
/// quarantined_files. Add your own as NAME.sql in `queries_dir` (default: queries/ next to
/// the config file); yours take precedence. Parameters are bound by name (:since).
///
/// Example: immdqa query top_errors_by_field --param since=2025-10-01
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Query name (omit with --list)
    #[arg(required_unless_present = "list")]
    pub name: Option<String>,
    /// k=v parameters
    #[arg(long = "param", value_name = "K=V")]
    pub params: Vec<String>,
    /// List the available queries
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn user_dir(ctx: &Ctx) -> Option<std::path::PathBuf> {
    ctx.config.queries_dir.clone().or_else(|| {
        ctx.config
            .source
            .as_ref()
            .and_then(|p| p.parent())
            .map(|d| d.join("queries"))
    })
}

fn description(sql: &str) -> String {
    sql.lines()
        .filter_map(|l| l.strip_prefix("-- "))
        .find(|l| !l.starts_with("name:") && !l.starts_with("params:"))
        .unwrap_or("")
        .to_string()
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let dir = user_dir(ctx);
    if args.list {
        for (n, sql) in BUILT_IN {
            crate::cli::out!("{n:<30} {}", description(sql));
        }
        if let Some(d) = dir.as_ref().and_then(|d| std::fs::read_dir(d).ok()) {
            for e in d.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "sql") {
                    let sql = std::fs::read_to_string(&p).unwrap_or_default();
                    crate::cli::out!(
                        "{:<30} {} ({})",
                        p.file_stem().unwrap().to_string_lossy(),
                        description(&sql),
                        p.display()
                    );
                }
            }
        }
        return Ok(Exit::Ok);
    }
    let name = args.name.expect("required by clap");
    let user = dir
        .map(|d| d.join(format!("{name}.sql")))
        .filter(|p| p.is_file())
        .map(|p| std::fs::read_to_string(&p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display())))
        .transpose()?;
    let sql = match user {
        Some(s) => s,
        None => BUILT_IN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s.to_string())
            .ok_or_else(|| {
                anyhow::anyhow!("no query named '{name}' (see `immdqa query --list`)")
            })?,
    };
    let store = ctx.open_store()?;
    let takes = store.query_parameters(&sql)?;
    let mut params = Vec::new();
    for p in &args.params {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--param {p}: expected K=V"))?;
        let k = k.trim().to_string();
        if !takes.contains(&k) {
            crate::cli::usage!(
                "--param {k}: query '{name}' has no such parameter ({})",
                if takes.is_empty() {
                    "it takes none".to_string()
                } else {
                    format!("it takes {}", takes.join(", "))
                }
            );
        }
        params.push((k.clone(), iso_week_as_date(&k, v.trim())));
    }
    let (cols, rows) = store
        .query_text(&sql, &params)
        .map_err(|e| anyhow::anyhow!("query '{name}': {e} (only read-only SELECT queries run)"))?;
    let mut t = Table {
        types: vec![crate::table::ColType::Auto; cols.len()],
        columns: cols,
        rows: Vec::new(),
        default_columns: None,
    };
    for r in rows {
        t.rows.push(
            r.into_iter()
                .map(|v| v.map(Value::Text).unwrap_or(Value::Null))
                .collect(),
        );
    }
    args.output.emit(&t)?;
    Ok(Exit::Ok)
}

/// An ISO week (`2025-W44`) given to a query parameter is the date the query compares with:
/// its Monday, or its Sunday for a parameter that ends a range (`until`, `to`, `end`).
fn iso_week_as_date(key: &str, value: &str) -> String {
    match crate::analytics::parse_week(value) {
        Some(monday) => {
            let k = key.to_ascii_lowercase();
            if k.contains("until") || k.ends_with("to") || k.contains("end") {
                (monday + chrono::Duration::days(6)).to_string()
            } else {
                monday.to_string()
            }
        }
        None => value.to_string(),
    }
}
