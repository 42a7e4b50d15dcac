//! Thresholds: the checks behind `immdqa check` and the report's verdicts.
//!
//! Defaults: a week's acceptance rate below 90% fails (the registry's onboarding bar); an
//! error rate that rose in each of the last 3 weeks warns. Set in `[thresholds]`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Deserialize;

use super::submissions::SubmissionRow;
use super::trends::TrendRow;
use super::{week_label, week_start};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// A week whose acceptance rate is below this fails (0.90 = 90%).
    pub min_acceptance_rate: f64,
    /// Warn when the weekly error rate rose this many weeks in a row (0 = off).
    pub rising_error_weeks: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_acceptance_rate: 0.90,
            rising_error_weeks: 3,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
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

#[derive(Debug, Clone)]
pub struct Verdict {
    pub week: Option<NaiveDate>,
    pub level: Level,
    pub breaches: Vec<Breach>,
    /// Every check that ran, with its outcome, for the report.
    pub checks: Vec<(&'static str, Level, String)>,
}

/// Evaluate the thresholds for the week holding `as_of` (default: the latest week with data).
/// `severity_trend` are trend rows by severity (E rows are used).
pub fn evaluate(
    t: &Thresholds,
    subs: &[SubmissionRow],
    severity_trend: &[TrendRow],
    as_of: Option<NaiveDate>,
) -> Verdict {
    let week = as_of.map(week_start).or_else(|| {
        subs.iter()
            .filter_map(|s| s.date)
            .chain(severity_trend.iter().map(|r| r.week))
            .max()
            .map(week_start)
    });
    let mut breaches = Vec::new();
    let mut checks = Vec::new();
    let Some(week) = week else {
        checks.push(("data", Level::Ok, "no data in the history yet".to_string()));
        return Verdict {
            week: None,
            level: Level::Ok,
            breaches,
            checks,
        };
    };
    let label = week_label(week);

    // acceptance rate of the week's submissions
    let this_week: Vec<&SubmissionRow> = subs
        .iter()
        .filter(|s| s.date.map(week_start) == Some(week) && s.counts.messages.unwrap_or(0) > 0)
        .collect();
    if this_week.is_empty() {
        checks.push((
            "acceptance_rate",
            Level::Ok,
            format!("no submission with message counts in {label}"),
        ));
    } else {
        let m: u64 = this_week
            .iter()
            .map(|s| s.counts.messages.unwrap_or(0))
            .sum();
        let a: u64 = this_week
            .iter()
            .map(|s| s.counts.accepted.unwrap_or(0) + s.counts.accepted_with_warnings.unwrap_or(0))
            .sum();
        let rate = a as f64 / m as f64;
        let msg = format!(
            "acceptance rate in {label}: {:.1}% ({a} of {m} messages; threshold {:.0}%)",
            rate * 100.0,
            t.min_acceptance_rate * 100.0
        );
        if rate < t.min_acceptance_rate {
            breaches.push(Breach {
                level: Level::Fail,
                check: "acceptance_rate",
                message: msg.clone(),
            });
            for s in &this_week {
                if let Some(r) = s.acceptance_rate.filter(|r| *r < t.min_acceptance_rate) {
                    breaches.push(Breach {
                        level: Level::Fail,
                        check: "acceptance_rate",
                        message: format!("{}: {:.1}% accepted", s.submission, r * 100.0),
                    });
                }
            }
            checks.push(("acceptance_rate", Level::Fail, msg));
        } else {
            checks.push(("acceptance_rate", Level::Ok, msg));
        }
    }

    // rising error rate
    if t.rising_error_weeks > 0 {
        let mut weekly: BTreeMap<NaiveDate, f64> = BTreeMap::new();
        for r in severity_trend
            .iter()
            .filter(|r| r.severity == "E" && r.week <= week)
        {
            *weekly.entry(r.week).or_default() += r.per_1000.unwrap_or(r.findings as f64);
        }
        let n = t.rising_error_weeks as usize;
        let last: Vec<(NaiveDate, f64)> = weekly.into_iter().rev().take(n + 1).collect();
        let consecutive = last.len() == n + 1
            && last
                .windows(2)
                .all(|w| (w[0].0 - w[1].0).num_days() == 7 && w[0].1 > w[1].1);
        if consecutive {
            let series: Vec<String> = last
                .iter()
                .rev()
                .map(|(w, v)| format!("{} {v:.1}", week_label(*w)))
                .collect();
            let msg = format!("error rate rose {n} weeks in a row: {}", series.join(" → "));
            breaches.push(Breach {
                level: Level::Warn,
                check: "rising_error_rate",
                message: msg.clone(),
            });
            checks.push(("rising_error_rate", Level::Warn, msg));
        } else {
            checks.push((
                "rising_error_rate",
                Level::Ok,
                format!("error rate did not rise {n} weeks in a row up to {label}"),
            ));
        }
    }
    let level = breaches.iter().map(|b| b.level).max().unwrap_or(Level::Ok);
    Verdict {
        week: Some(week),
        level,
        breaches,
        checks,
    }
}
