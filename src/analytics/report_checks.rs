//! The rules judged on the registry's reports: `acceptance_rate` (or `data` when no report is
//! about the week) and `rising_error_rate`. Each is a function of [`Inputs`] and a row of
//! [`RULES`]; `thresholds` runs them, then the ledger's, in order.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};

use super::submissions::SubmissionRow;
use super::trends::TrendRow;
use super::verdict::{
    Breach, Check, Found, Inputs, Level, Reads, RejectedEvidence, Rule, has_counts, pct,
};
use super::{AnalyticsError, week_label, week_start};
use crate::config::Thresholds;

/// The rules judged on the reports, in the order they print (before the ledger's).
pub(super) static RULES: &[Rule] = &[
    Rule {
        name: "acceptance_rate",
        reads: Reads::Reports,
        check: data_or_acceptance,
    },
    Rule {
        name: "rising_error_rate",
        reads: Reads::Reports,
        check: rising_error_rate,
    },
];

/// How far before the evaluated week the checks read: the rising-error rule compares
/// `rising_error_weeks + 1` weeks and may skip as many again.
pub fn lookback(t: &Thresholds) -> Duration {
    Duration::weeks(2 * (t.rising_error_weeks as i64 + 1))
}

/// `data` when no report is about the week (naming the latest, or where the history
/// starts), else `acceptance_rate`.
pub(super) fn data_or_acceptance(i: &Inputs<'_>, out: &mut Found) -> Result<(), AnalyticsError> {
    let (week, label) = (i.week, week_label(i.week));
    let this_week: Vec<&SubmissionRow> = i
        .subs
        .iter()
        .copied()
        .filter(|s| s.date.map(week_start) == Some(week))
        .collect();
    let week_has_findings = i.severity_trend.iter().any(|r| r.week == week);
    if this_week.is_empty() && !week_has_findings {
        let mut message = format!("no data for {label}: no data quality report about it");
        if let Some(l) = i.latest.filter(|l| *l < week) {
            message.push_str(&format!(" (the latest report is from {})", week_label(l)));
        } else if let Some(first) = i.subs.iter().filter_map(|s| s.date).min()
            && week < week_start(first)
        {
            message.push_str(&format!(
                " (the history starts in {})",
                week_label(week_start(first))
            ));
        }
        out.checks.push(Check {
            name: "data",
            level: Level::Warn,
            message,
            basis: "reports in the history dated in the week".into(),
        });
    } else {
        let check = acceptance(i.t, &this_week, &label, i.evidence, &mut out.extra);
        out.checks.push(check);
    }
    Ok(())
}

/// `rising_error_rate` (when `rising_error_weeks` is not 0).
pub(super) fn rising_error_rate(i: &Inputs<'_>, out: &mut Found) -> Result<(), AnalyticsError> {
    if i.t.rising_error_weeks > 0 {
        out.checks
            .push(rising(i.t, &i.subs, i.severity_trend, i.week));
    }
    Ok(())
}

/// The acceptance-rate check for one week's submissions.
fn acceptance(
    t: &Thresholds,
    this_week: &[&SubmissionRow],
    label: &str,
    evidence: &RejectedEvidence,
    extra: &mut Vec<Breach>,
) -> Check {
    let threshold = format!("{:.0}%", t.min_acceptance_rate * 100.0);
    let (counted, uncounted): (Vec<&SubmissionRow>, Vec<&SubmissionRow>) =
        this_week.iter().copied().partition(|s| has_counts(s));
    let m: u64 = counted.iter().map(|s| s.counts.messages.unwrap_or(0)).sum();
    let a: u64 = counted
        .iter()
        .map(|s| s.counts.accepted.unwrap_or(0) + s.counts.accepted_with_warnings.unwrap_or(0))
        .sum();
    if uncounted.is_empty() && m == 0 {
        // nothing to divide: a rate of no messages is not a verdict
        return Check {
            name: "acceptance_rate",
            level: Level::Unknown,
            message: format!(
                "acceptance rate in {label} unknown: no answer in the history counts a message of that week (threshold {threshold})"
            ),
            basis: format!(
                "{} report(s) dated in the week, none with message counts",
                counted.len()
            ),
        };
    }
    if uncounted.is_empty() {
        let rate = a as f64 / m as f64;
        let message = format!(
            "acceptance rate in {label}: {} ({a} of {m} messages; threshold {threshold})",
            pct(rate)
        );
        let basis = format!(
            "message counts of {} report(s): {}",
            counted.len(),
            names(&counted)
        );
        if rate < t.min_acceptance_rate {
            for s in &counted {
                if let Some(r) = s.acceptance_rate.filter(|r| *r < t.min_acceptance_rate) {
                    extra.push(Breach {
                        level: Level::Fail,
                        check: "acceptance_rate",
                        message: format!("{}: {} accepted", s.submission, pct(r)),
                    });
                }
            }
            return Check {
                name: "acceptance_rate",
                level: Level::Fail,
                message,
                basis,
            };
        }
        return Check {
            name: "acceptance_rate",
            level: Level::Ok,
            message,
            basis,
        };
    }
    // Some reports carry no counts: count rejections from their error findings.
    let rejected: u64 = uncounted
        .iter()
        .map(|s| {
            s.primary_report
                .and_then(|r| evidence.get(&r))
                .copied()
                .unwrap_or(0)
        })
        .sum();
    let sent: Option<u64> = uncounted.iter().map(|s| s.sent_messages).sum();
    let no_counts = format!(
        "{} without message counts ({})",
        names(&uncounted),
        uncounted
            .iter()
            .map(|s| s.report_formats.join("/"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut basis =
        format!("{rejected} rejected message(s) counted from the error findings of {no_counts}");
    if !counted.is_empty() {
        basis.push_str(&format!(
            "; message counts of {} report(s): {}",
            counted.len(),
            names(&counted)
        ));
    }
    if let Some(sent) = sent.filter(|n| *n > 0) {
        // Batch sizes known from the upload records or the ledger: the rejections bound the rate.
        let total = m + sent;
        let at_most = (a + sent.saturating_sub(rejected)) as f64 / total as f64;
        basis.push_str(&format!(
            "; {sent} message(s) sent, from the upload record(s) or the message ledger"
        ));
        let message = format!(
            "acceptance rate in {label}: at most {} ({rejected} of {sent} messages without counts rejected; threshold {threshold})",
            pct(at_most)
        );
        let level = if at_most < t.min_acceptance_rate {
            Level::Fail
        } else {
            Level::Unknown
        };
        return Check {
            name: "acceptance_rate",
            level,
            message,
            basis,
        };
    }
    let message = if rejected > 0 {
        format!(
            "acceptance rate in {label} unknown: {rejected} message(s) rejected, but the number of messages sent is not known (threshold {threshold})"
        )
    } else {
        format!(
            "acceptance rate in {label} unknown: the report(s) carry no message counts (threshold {threshold})"
        )
    };
    Check {
        name: "acceptance_rate",
        level: Level::Unknown,
        message,
        basis,
    }
}

fn names(subs: &[&SubmissionRow]) -> String {
    subs.iter()
        .map(|s| s.submission.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rising-error-rate check: the error rate (errors per 1,000 messages) of the last
/// `rising_error_weeks + 1` weeks with message counts up to `week`, each higher than the one
/// before. Weeks without counts are skipped and named (they neither break nor extend the
/// streak); at most as many weeks again may be skipped.
fn rising(t: &Thresholds, subs: &[&SubmissionRow], trend: &[TrendRow], week: NaiveDate) -> Check {
    let n = t.rising_error_weeks as usize;
    let label = week_label(week);
    // every week with data, with its error rate (errors per 1,000) and whether it is known
    let mut rate: BTreeMap<NaiveDate, (f64, bool)> = BTreeMap::new();
    for r in trend.iter().filter(|r| r.week <= week) {
        let e = rate.entry(r.week).or_insert((0.0, true));
        match (r.severity.as_str(), r.per_1000) {
            ("E", Some(v)) => e.0 += v,
            (_, None) => e.1 = false,
            _ => {}
        }
    }
    // a week whose submissions carry counts but had no finding has rate 0; one submission
    // without counts makes its week's rate unknown
    for s in subs {
        if let Some(d) = s.date.map(week_start).filter(|d| *d <= week) {
            let e = rate.entry(d).or_insert((0.0, true));
            e.1 &= has_counts(s);
        }
    }
    // weeks before the history starts are not "skipped": the history is just short
    let first = rate.keys().next().copied().unwrap_or(week);
    let window_start = (week - lookback(t) + Duration::weeks(1)).max(first);
    let mut known: Vec<(NaiveDate, f64)> = Vec::new();
    let mut skipped: Vec<NaiveDate> = Vec::new();
    let mut w = week;
    while w >= window_start && known.len() < n + 1 {
        match rate.get(&w) {
            Some((v, true)) => known.push((w, *v)),
            _ => skipped.push(w),
        }
        w -= Duration::weeks(1);
    }
    known.reverse();
    skipped.reverse();
    let skipped_note = if skipped.is_empty() {
        String::new()
    } else {
        format!(
            "; skipped (no message counts or no report): {}",
            skipped
                .iter()
                .map(|d| week_label(*d))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let series = known
        .iter()
        .map(|(w, v)| format!("{} {v:.1}", week_label(*w)))
        .collect::<Vec<_>>()
        .join(" → ");
    let basis = format!("errors per 1,000 messages in weeks with message counts{skipped_note}");
    if known.len() < n + 1 && skipped.is_empty() {
        return Check {
            name: "rising_error_rate",
            level: Level::Ok,
            message: format!(
                "error rate did not rise {n} weeks in a row up to {label}: the history holds {} week(s)",
                known.len()
            ),
            basis,
        };
    }
    if known.len() < n + 1 {
        return Check {
            name: "rising_error_rate",
            level: Level::Unknown,
            message: format!(
                "cannot tell whether the error rate rose {n} weeks in a row up to {label}: only {} week(s) with message counts among the last {} week(s) of history",
                known.len(),
                known.len() + skipped.len()
            ),
            basis,
        };
    }
    if known.windows(2).all(|p| p[1].1 > p[0].1) {
        Check {
            name: "rising_error_rate",
            level: Level::Warn,
            message: format!("error rate rose {n} weeks in a row: {series}"),
            basis,
        }
    } else {
        Check {
            name: "rising_error_rate",
            level: Level::Ok,
            message: format!("error rate did not rise {n} weeks in a row up to {label}: {series}"),
            basis,
        }
    }
}
