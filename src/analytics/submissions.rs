//! Submissions: per batch file, its date, message counts, acceptance rate, findings by
//! severity and top codes, and whether a report about it has arrived.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use polars::prelude::*;

use super::{AnalyticsError, History, int_at, str_at};
use crate::formats::Counts;
use crate::table::{Table, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct SubmissionRow {
    pub submission: String,
    pub date: Option<NaiveDate>,
    /// From the submission's report with the most complete counts.
    pub counts: Counts,
    /// (accepted + accepted with warnings) / messages.
    pub acceptance_rate: Option<f64>,
    pub errors: i64,
    pub warnings: i64,
    pub info: i64,
    /// Up to three most frequent codes, `CODE (n)`.
    pub top_codes: Vec<(String, i64)>,
    pub report_formats: Vec<String>,
    pub report_received: bool,
    /// When immdqa uploaded it (None: not uploaded by immdqa).
    pub uploaded_at: Option<String>,
    /// uploaded → accepted (seen in the accepted folder) → report received.
    pub state: String,
    /// Uploaded, no report after the configured number of days.
    pub overdue: bool,
    /// The report whose findings count for this submission (its primary DQA report).
    pub primary_report: Option<i64>,
    /// Messages in the batch as sent (from immdqa's upload record), when known.
    pub sent_messages: Option<u64>,
    /// A report without counts over a batch of known size: the messages its error findings
    /// reject. Set by [`crate::analytics::thresholds::with_sent_sizes`].
    pub rejected_messages: Option<u64>,
    /// The profile the submission's reports came from.
    pub profile: Option<String>,
    /// The primary report's content hash: its id across stores.
    pub report_hash: Option<String>,
}

impl SubmissionRow {
    /// A report without counts over a batch of known size: the most that can have been
    /// accepted, 1 − (messages its errors reject) / (messages sent).
    pub fn acceptance_at_most(&self) -> Option<f64> {
        let sent = self.sent_messages.filter(|n| *n > 0)?;
        let rejected = self.rejected_messages?.min(sent);
        Some((sent - rejected) as f64 / sent as f64)
    }

    /// A row with no counts yet.
    pub fn new(
        submission: String,
        date: Option<NaiveDate>,
        report_received: bool,
    ) -> SubmissionRow {
        SubmissionRow {
            submission,
            date,
            counts: Counts::default(),
            acceptance_rate: None,
            errors: 0,
            warnings: 0,
            info: 0,
            top_codes: vec![],
            report_formats: vec![],
            report_received,
            uploaded_at: None,
            state: if report_received {
                "report received"
            } else {
                "uploaded"
            }
            .into(),
            overdue: false,
            primary_report: None,
            sent_messages: None,
            rejected_messages: None,
            profile: None,
            report_hash: None,
        }
    }
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
        if r.row.kind != crate::domain::Kind::Dqa {
            continue;
        }
        let name = match (r.row.submission_id, &r.row.submission_file) {
            (Some(_), Some(name)) => name.clone(),
            // an answer that names no batch (another registry's or an EHR vendor's file
            // name): its messages still count, as a submission of its own under the file's
            // name, dated by the answer (MSH-7) or else the file
            _ if r.row.counts.messages.is_some_and(|m| m > 0) => {
                r.row.file_name.clone().unwrap_or_else(|| {
                    format!("report {}", &r.row.sha256[..12.min(r.row.sha256.len())])
                })
            }
            _ => continue,
        };
        let date = crate::batch_name::parse(&name)
            .map(|b| b.date)
            .or(r.row.date);
        if since.is_some_and(|s| date.is_some_and(|d| d < s)) {
            continue;
        }
        let e = subs
            .entry((date, name.clone()))
            .or_insert_with(|| SubmissionRow::new(name.clone(), date, true));
        let format = r.row.format.as_str().to_string();
        if !e.report_formats.contains(&format) {
            e.report_formats.push(format);
            e.report_formats.sort();
        }
        if r.row.counts.messages > e.counts.messages {
            e.counts = r.row.counts;
        }
        if r.primary {
            e.primary_report = Some(r.row.id);
            e.report_hash = Some(r.row.sha256.clone());
            primary_of.insert(r.row.id, name);
        }
        if e.profile.is_none() {
            e.profile = r.row.profile.clone();
        }
    }
    // findings by severity and code from the primary reports (polars over the cache)
    // (a submission's reports are dated from it: none before `since` is needed)
    // (primary reports are picked by `primary_of` below: no join needed)
    let df = h
        .findings_in(since, None)
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
        let c = &s.counts;
        if let (Some(m), Some(a)) = (c.messages, c.accepted)
            && m > 0
        {
            s.acceptance_rate = Some((a + c.accepted_with_warnings.unwrap_or(0)) as f64 / m as f64);
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

/// Merge the upload history: uploads without a report yet become rows of their own, with
/// their state; an upload with no report after `overdue_days` is flagged.
pub fn with_uploads(
    mut rows: Vec<SubmissionRow>,
    uploads: &[crate::store::uploads::UploadRow],
    overdue_days: u32,
    today: NaiveDate,
) -> Vec<SubmissionRow> {
    for u in uploads {
        let uploaded_day =
            NaiveDate::parse_from_str(&u.uploaded_at[..10.min(u.uploaded_at.len())], "%Y-%m-%d")
                .ok();
        match rows.iter_mut().find(|r| r.submission == u.remote_name) {
            Some(r) => {
                r.uploaded_at = Some(u.uploaded_at.clone());
                r.sent_messages = Some(u.messages);
            }
            None => {
                let date = crate::batch_name::parse(&u.remote_name).map(|b| b.date);
                let overdue =
                    uploaded_day.is_some_and(|d| (today - d).num_days() > overdue_days as i64);
                let mut row = SubmissionRow::new(u.remote_name.clone(), date, false);
                row.counts.messages = Some(u.messages);
                row.sent_messages = Some(u.messages);
                row.profile = Some(u.profile.clone());
                row.uploaded_at = Some(u.uploaded_at.clone());
                if u.accepted_seen_at.is_some() {
                    row.state = "accepted".into();
                }
                row.overdue = overdue;
                rows.push(row);
            }
        }
    }
    rows.sort_by(|a, b| a.date.cmp(&b.date).then(a.submission.cmp(&b.submission)));
    rows
}

/// The submissions as a table: the documented, typed schema of `export submissions`
/// (docs/export-schemas.md), the same whether or not it has rows.
pub fn table(rows: &[SubmissionRow]) -> Table {
    use crate::table::ColType::{Bool, Date, Float, Int, Text};
    let mut t = Table::typed(&[
        ("submission", Text),
        ("submitted_on", Date),
        ("messages", Int),
        ("accepted", Int),
        ("accepted_with_warnings", Int),
        ("rejected", Int),
        ("skipped", Int),
        ("acceptance_rate", Float),
        ("errors", Int),
        ("warnings", Int),
        ("info", Int),
        ("top_codes", Text),
        ("report_formats", Text),
        ("report_received", Bool),
        ("uploaded_at", Text),
        ("state", Text),
        ("overdue", Bool),
        ("profile", Text),
        ("import_code", Text),
        ("report_hash", Text),
    ])
    // a terminal shows the rate and the state first (CSV, JSON and --columns keep them all)
    .show_by_default(&[
        "submission",
        "submitted_on",
        "acceptance_rate",
        "messages",
        "rejected",
        "state",
        "errors",
        "warnings",
        "top_codes",
        "overdue",
    ]);
    for s in rows {
        t.push(vec![
            Value::text(&s.submission),
            s.date.map(Value::Date).unwrap_or(Value::Null),
            Value::opt_count(s.counts.messages),
            Value::opt_count(s.counts.accepted),
            Value::opt_count(s.counts.accepted_with_warnings),
            Value::opt_count(s.counts.rejected),
            Value::opt_count(s.counts.skipped),
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
            Value::opt_text(s.uploaded_at.as_deref()),
            Value::text(&s.state),
            Value::Bool(s.overdue),
            Value::opt_text(s.profile.as_deref()),
            Value::opt_text(
                crate::batch_name::parse(&s.submission)
                    .map(|b| b.import_code)
                    .as_deref(),
            ),
            Value::opt_text(s.report_hash.as_deref()),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::uploads::UploadRow;

    fn up(name: &str, at: &str, accepted: bool) -> UploadRow {
        UploadRow {
            profile: "p".into(),
            local_path: "x".into(),
            remote_dir: "HL7-Dropoff".into(),
            remote_name: name.into(),
            size: 1,
            sha256: "s".into(),
            uploaded_at: at.into(),
            messages: 5,
            lint_errors: 0,
            lint_warnings: 0,
            accepted_seen_at: accepted.then(|| at.to_string()),
        }
    }

    #[test]
    fn upload_states_and_overdue() {
        let today = NaiveDate::from_ymd_opt(2025, 11, 10).unwrap();
        let rows = with_uploads(
            vec![],
            &[
                up("A25301.hl7", "2025-10-28T10:00:00Z", true),
                up("A25312.hl7", "2025-11-08T10:00:00Z", false),
            ],
            3,
            today,
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].state.as_str(), rows[0].overdue),
            ("accepted", true)
        );
        assert_eq!(
            (rows[1].state.as_str(), rows[1].overdue),
            ("uploaded", false)
        );
        assert_eq!(rows[0].date, NaiveDate::from_ymd_opt(2025, 10, 28));
    }
}
