//! The shared base of every check (the report thresholds and the ledger rules): a check's
//! level, what it found and on what basis, and what every rule reads ([`Inputs`]). Both rule
//! files build on it; neither imports the other's rules; `thresholds` lists and runs them.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::History;
use super::submissions::SubmissionRow;
use super::trends::TrendRow;
use crate::config::Thresholds;
use crate::store::Store;

/// Rejected messages per report, counted from error findings (distinct message control ids,
/// else message indexes), for reports that carry no message counts.
pub type RejectedEvidence = HashMap<i64, u64>;

/// What every rule reads: the week judged, the thresholds, the submissions and severity
/// trend (the reports), and — for the ledger rules — the store, the history and today.
pub struct Inputs<'a> {
    pub week: NaiveDate,
    /// The latest week with data (what an unnamed week defaults to).
    pub latest: Option<NaiveDate>,
    pub t: &'a Thresholds,
    /// The submissions with a report, oldest first.
    pub subs: Vec<&'a SubmissionRow>,
    pub severity_trend: &'a [TrendRow],
    pub evidence: &'a RejectedEvidence,
    /// The store and the history (None: the reports alone are judged).
    pub store: Option<(&'a Store, &'a History)>,
    pub today: NaiveDate,
    pub overdue_days: u32,
}

/// One check rule: a row of `report_checks::RULES` or `ledger_checks::RULES`.
pub struct Rule {
    pub name: &'static str,
    /// What it reads: the reports alone, the history (its codes), or the message ledger.
    pub reads: Reads,
    pub(super) check: fn(&Inputs<'_>, &mut Found) -> Result<(), super::AnalyticsError>,
}

/// What a rule reads, which decides when it runs: `Reports` always; `History` and `Ledger`
/// with the store (not in `thresholds::evaluate`), and only once the week has a report or the
/// ledger holds sent batches (a site gone silent is what a week without reports may be about);
/// `Ledger` only once the ledger holds sent batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    Reports,
    History,
    Ledger,
}

/// What the rules found: every check in order, and the per-submission details of failures.
#[derive(Debug, Default)]
pub struct Found {
    pub checks: Vec<Check>,
    pub extra: Vec<Breach>,
}

/// Whether a submission's report carries message counts.
pub fn has_counts(s: &SubmissionRow) -> bool {
    s.counts.messages.is_some_and(|m| m > 0) && s.counts.accepted.is_some()
}

/// A check's outcome. `Unknown` (the data cannot tell) exits like a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Unknown,
    Warn,
    Fail,
}

impl Level {
    /// Warn when `found`, else OK (a rule whose finding is a warning).
    pub fn warn_if(found: bool) -> Level {
        if found { Level::Warn } else { Level::Ok }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Unknown => "unknown",
            Level::Warn => "warn",
            Level::Fail => "fail",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Breach {
    pub level: Level,
    pub check: &'static str,
    pub message: String,
}

/// One evaluated check: its outcome, what it found, and what that was based on.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub name: &'static str,
    pub level: Level,
    pub message: String,
    pub basis: String,
}

/// A rate as the checks word it: `87.5%`.
pub fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}
