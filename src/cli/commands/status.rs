//! `immdqa status`: what the local history holds.

use crate::cli::{Ctx, Exit};
use crate::mirror::human_bytes;

/// Show what the history holds: files per profile and kind, parse status, last fetch, size.
///
/// Example: immdqa status --check
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Also run SQLite's integrity check on the database
    #[arg(long)]
    pub check: bool,
    /// table (default: the summary), csv (the files table: profile, kind, parse_status,
    /// files, bytes) or json (one object: store, files, last_fetch, parsed, quarantined, size,
    /// integrity)
    #[arg(long, value_enum, default_value_t = TextOrJson::Table)]
    pub format: TextOrJson,
}

/// `--format` of commands that print a summary with a table in it: the summary (`table`,
/// also spelled `text`), the table as CSV, or everything as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TextOrJson {
    #[value(alias = "text")]
    Table,
    Csv,
    Json,
}

fn json(
    store: &crate::store::Store,
    st: &crate::store::StoreStatus,
    check: bool,
) -> anyhow::Result<(serde_json::Value, bool)> {
    let (reports, submissions, findings, notices) = store.report_totals()?;
    let ledger = store.ledger_counts()?;
    let integrity = if check {
        Some(store.integrity_check()?)
    } else {
        None
    };
    let ok = integrity.as_deref().is_none_or(|v| v == "ok");
    let sealed = crate::store::convert::sealed_files(store.dir())?;
    let v = serde_json::json!({
        "store": st.path.display().to_string(),
        "files": st.files.iter().map(|(p, k, s, n, b)| serde_json::json!({
            "profile": p, "kind": k, "parse_status": s, "files": n, "bytes": b,
        })).collect::<Vec<_>>(),
        "last_fetch": st.last_run.as_ref().map(|r| serde_json::json!({
            "id": r.id, "profile": r.profile, "remote": r.remote,
            "started_at": r.started_at, "finished_at": r.finished_at,
            "new": r.counts.new, "changed": r.counts.changed, "unchanged": r.counts.unchanged,
            "skipped": r.counts.skipped, "failed": r.counts.failed, "bytes": r.counts.bytes,
            "events": r.events.iter().map(|(f, n, o, why)| serde_json::json!({
                "folder": f, "name": n, "outcome": o, "reason": why,
            })).collect::<Vec<_>>(),
        })),
        "parsed": {"reports": reports, "submissions": submissions, "findings": findings, "consent_notices": notices},
        "quarantined": store.quarantined()?.iter().map(|(f, n, why)| serde_json::json!({
            "folder": f, "name": n, "reason": why,
        })).collect::<Vec<_>>(),
        "ledger": {
            "batches": ledger.batches,
            "messages": ledger.messages,
            "by_status": ledger.by_status.iter().map(|(k, n)| (k.as_str().to_string(), serde_json::json!(n)))
                .collect::<serde_json::Map<_, _>>(),
        },
        "size": {"database": st.db_bytes, "archive": st.archive_bytes},
        "encryption": {
            "encrypted": store.key().is_some(),
            "key": store.key().map(|k| k.origin().to_string()),
            "fingerprint": store.key().map(|k| k.fingerprint()),
            "archived_files_sealed": sealed.0,
            "archived_files": sealed.1,
        },
        "integrity": integrity,
    });
    Ok((v, ok))
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let store = ctx.open_store()?;
    let st = store.status()?;
    if args.format == TextOrJson::Json {
        let (v, ok) = json(&store, &st, args.check)?;
        crate::cli::out!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(if ok { Exit::Ok } else { Exit::Error });
    }
    if args.format == TextOrJson::Csv {
        use crate::table::{ColType, Table, Value};
        let mut t = Table::typed(&[
            ("profile", ColType::Text),
            ("kind", ColType::Text),
            ("parse_status", ColType::Text),
            ("files", ColType::Int),
            ("bytes", ColType::Int),
        ]);
        for (profile, kind, status, n, bytes) in &st.files {
            t.push(vec![
                Value::text(profile),
                Value::text(kind),
                Value::text(status),
                Value::Int(*n as i64),
                Value::Int(*bytes as i64),
            ]);
        }
        crate::cli::output::write_table(&t, crate::cli::output::Format::Csv, None)?;
        return Ok(Exit::Ok);
    }
    crate::cli::out!("store: {}", st.path.display());
    let (sealed, files) = crate::store::convert::sealed_files(store.dir())?;
    match store.key() {
        Some(k) => crate::cli::out!(
            "encryption: on (history and audit log: SQLCipher; {sealed} of {files} archived file(s) sealed); key {}, fingerprint {}",
            k.origin(),
            k.fingerprint()
        ),
        None => crate::cli::out!(
            "encryption: off: patient data is stored in plaintext; `immdqa store encrypt` encrypts it"
        ),
    }
    if st.files.is_empty() {
        crate::cli::out!(
            "the history is empty: run `immdqa fetch` (or `immdqa fetch --dry-run` to see what it would download)"
        );
    } else {
        let mut t = crate::table::Table::new(&["profile", "kind", "parse status", "files", "size"]);
        for (profile, kind, status, n, bytes) in &st.files {
            t.push(
                [
                    profile.clone(),
                    kind.clone(),
                    status.clone(),
                    n.to_string(),
                    human_bytes(*bytes),
                ]
                .map(crate::table::Value::Text)
                .to_vec(),
            );
        }
        crate::cli::out!("{}", t.to_terminal());
    }
    if let Some(run) = &st.last_run {
        let c = &run.counts;
        crate::cli::out!(
            "last fetch: #{} profile {} from {} started {} {}",
            run.id,
            run.profile,
            run.remote,
            run.started_at,
            match &run.finished_at {
                Some(f) => format!("finished {f}"),
                None => "(interrupted)".to_string(),
            }
        );
        crate::cli::out!(
            "  {} new, {} changed, {} unchanged, {} skipped, {} failed; {}",
            c.new,
            c.changed,
            c.unchanged,
            c.skipped,
            c.failed,
            human_bytes(c.bytes)
        );
        for (folder, name, outcome, reason) in &run.events {
            crate::cli::out!("  {outcome} {folder}/{name}: {reason}");
        }
    }
    let (reports, submissions, findings, notices) = store.report_totals()?;
    if reports > 0 {
        crate::cli::out!(
            "parsed: {reports} reports about {submissions} submissions; {findings} findings, {notices} consent notices"
        );
    }
    let ledger = store.ledger_counts()?;
    if ledger.batches > 0 {
        use crate::domain::AnswerStatus as S;
        crate::cli::out!(
            "ledger: {} sent batch(es), {} messages: {} accepted, {} with warnings, {} rejected, {} waiting for an answer, {} not mentioned by theirs",
            ledger.batches,
            ledger.messages,
            ledger.of(S::Accepted),
            ledger.of(S::AcceptedWithWarnings),
            ledger.of(S::Rejected),
            ledger.of(S::Pending),
            ledger.of(S::NotMentioned)
        );
    }
    let quarantined = store.quarantined()?;
    if !quarantined.is_empty() {
        crate::cli::out!(
            "quarantined ({}; kept in the archive, retried by `immdqa reparse`):",
            quarantined.len()
        );
        for (folder, name, reason) in &quarantined {
            crate::cli::out!("  {folder}/{name}: {reason}");
        }
    }
    crate::cli::out!(
        "size: database {}, archive {}",
        human_bytes(st.db_bytes),
        human_bytes(st.archive_bytes)
    );
    if args.check {
        let verdict = store.integrity_check()?;
        crate::cli::out!("integrity check: {verdict}");
        if verdict != "ok" {
            return Ok(Exit::Error);
        }
    }
    Ok(Exit::Ok)
}
