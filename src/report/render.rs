//! Rendering the report's ledger sections from [`super::model::LedgerModel`]: tables only,
//! no store access. Each section is one function returning a [`Table`].

use super::model::LedgerModel;
use crate::table::{ColType, Table, Value};

/// "What do I fix first": the week's top codes with owner, open records, trend and fix.
pub fn top_issues(m: &LedgerModel) -> Table {
    let mut t = Table::typed(&[
        ("code", ColType::Text),
        ("owner", ColType::Text),
        ("this week", ColType::Int),
        ("open records", ColType::Int),
        ("trend", ColType::Text),
        ("how to fix", ColType::Text),
    ]);
    for i in &m.top_issues {
        t.push(vec![
            Value::text(&i.code),
            Value::text(i.owner.as_str()),
            Value::Int(i.findings),
            Value::Int(i.open_records as i64),
            Value::text(i.arrow.symbol()),
            Value::opt_text(i.fix.as_deref()),
        ]);
    }
    t
}

/// Acceptance and findings per site in the report week.
pub fn sites(m: &LedgerModel) -> Table {
    let mut t = Table::typed(&[
        ("site", ColType::Text),
        ("messages", ColType::Int),
        ("accepted", ColType::Int),
        ("with warnings", ColType::Int),
        ("rejected", ColType::Int),
        ("no answer", ColType::Int),
        ("acceptance", ColType::Text),
        ("findings", ColType::Int),
        ("per 1,000", ColType::Float),
    ]);
    for s in &m.sites {
        let g = &s.acceptance;
        t.push(vec![
            Value::text(&g.key),
            Value::Int(g.messages),
            Value::Int(g.accepted),
            Value::Int(g.accepted_with_warnings),
            Value::Int(g.rejected),
            Value::Int(g.pending + g.not_mentioned),
            Value::text(
                crate::analytics::breakdown::acceptance_rate(g)
                    .map(|r| format!("{:.1}%", r * 100.0))
                    .unwrap_or_else(|| "unknown".into()),
            ),
            Value::Int(s.findings),
            Value::opt_float(s.per_1000.map(|x| (x * 10.0).round() / 10.0)),
        ]);
    }
    t
}

/// The open worklist (oldest first), as shown on the page; worklist.csv holds every item.
pub fn open_worklist(m: &LedgerModel) -> Table {
    let open: Vec<_> = m
        .worklist
        .iter()
        .filter(|i| i.status == crate::ledger::worklist::ItemStatus::Open)
        .cloned()
        .collect();
    crate::ledger::worklist::table(&open)
}

/// Timeliness per site and week.
pub fn timeliness(m: &LedgerModel) -> Table {
    crate::analytics::breakdown::timeliness_table(&m.timeliness)
}

/// The note shown when the ledger is empty.
pub const NO_LEDGER: &str = "The message ledger is empty: these sections fill once sent batches arrive (immdqa upload, the accepted folder, or immdqa import --sent).";
