//! Submissions: per batch file, its date, message counts, acceptance rate, findings by
//! severity and top codes, and whether a report about it has arrived.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use polars::prelude::*;

use super::{AnalyticsError, History, int_at, str_at};
use crate::table::{Table, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct SubmissionRow {
    pub submission: String,
    pub date: Option<NaiveDate>,
    pub messages: Option<i64>,
    pub accepted: Option<i64>,
    pub accepted_with_warnings: Option<i64>,
    pub rejected: Option<i64>,
    pub skipped: Option<i64>,
    /// (accepted + accepted with warnings) / messages.
    pub acceptance_rate: Option<f64>,
    pub errors: i64,
    pub warnings: i64,
    pub info: i64,
    /// Up to three most frequent codes, `CODE (n)`.
    pub top_codes: Vec<(String, i64)>,
    pub report_formats: Vec<String>,
    pub report_received: bool,
}

/// One row per submission named by a report, oldest first.
pub fn submissions(
    h: &History,
    since: Option<NaiveDate>,
) -> Result<Vec<SubmissionRow>, AnalyticsError> {
    // counts per submission: the report with the most complete counts (largest message count)
    let mut subs: BTreeMap<(Option<NaiveDate>, String), SubmissionRow> = BTreeMap::new();
    let mut primary_of: HashMap<i64, String> = HashMap::new();
    for r in &h.reports {
        let (Some(sid), Some(name)) = (r.row.submission_id, r.row.submission_file.clone()) else {
            continue;
        };
        if r.row.kind != "dqa" {
            continue;
        }
        let date = crate::batch_name::parse(&name)
            .map(|b| b.date)
            .or(r.row.date);
        if since.is_some_and(|s| date.is_some_and(|d| d < s)) {
            continue;
        }
        let e = subs
            .entry((date, name.clone()))
            .or_insert_with(|| SubmissionRow {
                submission: name.clone(),
                date,
                messages: None,
                accepted: None,
                accepted_with_warnings: None,
                rejected: None,
                skipped: None,
                acceptance_rate: None,
                errors: 0,
                warnings: 0,
                info: 0,
                top_codes: vec![],
                report_formats: vec![],
                report_received: true,
            });
        if !e.report_formats.contains(&r.row.format) {
            e.report_formats.push(r.row.format.clone());
            e.report_formats.sort();
        }
        if r.row.messages.unwrap_or(-1) > e.messages.unwrap_or(-1) {
            e.messages = r.row.messages;
            e.accepted = r.row.accepted;
            e.accepted_with_warnings = r.row.accepted_with_warnings;
            e.rejected = r.row.rejected;
            e.skipped = r.row.skipped;
        }
        if r.primary {
            primary_of.insert(r.row.id, name);
        }
        let _ = sid;
    }
    // findings by severity and code from the primary reports (polars over the cache)
    let df = h
        .findings_with_week(None, None)?
        .group_by([col("report_id"), col("severity"), col("code")])
        .agg([col("count").cast(DataType::Int64).sum().alias("n")])
        .collect()?;
    let mut codes: HashMap<String, HashMap<String, i64>> = HashMap::new();
    let mut sev: HashMap<String, [i64; 3]> = HashMap::new();
    for i in 0..df.height() {
        let rid = int_at(&df, "report_id", i)?.unwrap_or(0);
        let Some(name) = primary_of.get(&rid) else {
            continue;
        };
        let n = int_at(&df, "n", i)?.unwrap_or(0);
        let s = str_at(&df, "severity", i)?.unwrap_or_default();
        let idx = match s.as_str() {
            "E" => 0,
            "W" => 1,
            _ => 2,
        };
        sev.entry(name.clone()).or_default()[idx] += n;
        if let Some(code) = str_at(&df, "code", i)? {
            *codes
                .entry(name.clone())
                .or_default()
                .entry(code)
                .or_default() += n;
        }
    }
    let mut out: Vec<SubmissionRow> = subs.into_values().collect();
    for s in &mut out {
        if let (Some(m), Some(a)) = (s.messages, s.accepted) {
            if m > 0 {
                s.acceptance_rate =
                    Some((a + s.accepted_with_warnings.unwrap_or(0)) as f64 / m as f64);
            }
        }
        if let Some([e, w, i]) = sev.get(&s.submission) {
            (s.errors, s.warnings, s.info) = (*e, *w, *i);
        }
        if let Some(c) = codes.get(&s.submission) {
            let mut v: Vec<(String, i64)> = c.iter().map(|(k, n)| (k.clone(), *n)).collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            v.truncate(3);
            s.top_codes = v;
        }
    }
    Ok(out)
}

pub fn table(rows: &[SubmissionRow]) -> Table {
    let mut t = Table::new(&[
        "submission",
        "submitted_on",
        "messages",
        "accepted",
        "accepted_with_warnings",
        "rejected",
        "skipped",
        "acceptance_rate",
        "errors",
        "warnings",
        "info",
        "top_codes",
        "report_formats",
        "report_received",
    ]);
    for s in rows {
        t.push(vec![
            Value::text(&s.submission),
            s.date.map(Value::Date).unwrap_or(Value::Null),
            Value::opt_int(s.messages),
            Value::opt_int(s.accepted),
            Value::opt_int(s.accepted_with_warnings),
            Value::opt_int(s.rejected),
            Value::opt_int(s.skipped),
            Value::opt_float(s.acceptance_rate),
            Value::Int(s.errors),
            Value::Int(s.warnings),
            Value::Int(s.info),
            Value::text(
                s.top_codes
                    .iter()
                    .map(|(c, n)| format!("{c} ({n})"))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Value::text(s.report_formats.join(";")),
            Value::Bool(s.report_received),
        ]);
    }
    t
}
