//! Thresholds: the checks behind `immdqa check` and the report's verdicts.
//!
//! Defaults: a week's acceptance rate below 90% fails (the registry's onboarding bar); an
//! error rate that rose in each of the last 3 weeks warns. Set in `[thresholds]`.
//!
//! Every check says what it was based on, and says `unknown` when the data cannot tell
//! (README, "Verdicts"): a week whose reports carry no message counts has an unknown
//! acceptance rate, unless its error findings alone prove a failure (each error names a
//! rejected message; with the batch's size known from immdqa's upload record, the rejections
//! bound the rate from above). A week with no report at all warns ("no data"), so a cron job
//! with a broken fetch hears about it. Weeks without counts are skipped, and named, by the
//! rising-error rule; they never reset its streak.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate};

use super::submissions::SubmissionRow;
use super::trends::TrendRow;
use super::{week_label, week_start};

/// The settings (`[thresholds]` in the config): plain data in the config, read here.
pub use crate::config::Thresholds;

pub use super::verdict::{Breach, Check, Level, pct};

#[derive(Debug, Clone)]
pub struct Verdict {
    /// The week evaluated (None: the history is empty).
    pub week: Option<NaiveDate>,
    pub level: Level,
    /// Every check that is not OK, and per-submission details of failures.
    pub breaches: Vec<Breach>,
    /// Every check that ran, with its outcome and basis, in order.
    pub checks: Vec<Check>,
}

impl Verdict {
    fn from_checks(week: Option<NaiveDate>, checks: Vec<Check>, extra: Vec<Breach>) -> Verdict {
        let mut breaches: Vec<Breach> = checks
            .iter()
            .filter(|c| c.level != Level::Ok)
            .map(|c| Breach {
                level: c.level,
                check: c.name,
                message: c.message.clone(),
            })
            .collect();
        breaches.extend(extra);
        let level = checks.iter().map(|c| c.level).max().unwrap_or(Level::Ok);
        Verdict {
            week,
            level,
            breaches,
            checks,
        }
    }
}

/// Rejected messages per report, counted from error findings (distinct message control ids,
/// else message indexes), for reports that carry no message counts.
pub type RejectedEvidence = HashMap<i64, u64>;

/// The primary reports of submissions in `week` that carry no message counts: what the
/// caller should count rejections for (see [`RejectedEvidence`]).
pub fn reports_needing_evidence(subs: &[SubmissionRow], week: NaiveDate) -> Vec<i64> {
    subs.iter()
        .filter(|s| s.report_received && s.date.map(week_start) == Some(week))
        .filter(|s| !has_counts(s))
        .filter_map(|s| s.primary_report)
        .collect()
}

/// The week a verdict is about: the one holding `as_of`, else the latest week with data.
pub fn target_week(
    subs: &[SubmissionRow],
    severity_trend: &[TrendRow],
    as_of: Option<NaiveDate>,
) -> Option<NaiveDate> {
    as_of.map(week_start).or_else(|| {
        subs.iter()
            .filter(|s| s.report_received)
            .filter_map(|s| s.date)
            .chain(severity_trend.iter().map(|r| r.week))
            .max()
            .map(week_start)
    })
}

/// Count rejected messages from the error findings of the week's reports without counts.
pub fn gather_evidence(
    store: &crate::store::Store,
    subs: &[SubmissionRow],
    week: Option<NaiveDate>,
) -> Result<RejectedEvidence, crate::store::StoreError> {
    let mut out = RejectedEvidence::new();
    if let Some(week) = week {
        for id in reports_needing_evidence(subs, week) {
            // counted already by `with_sent_sizes` when the batch size is known
            let known = subs
                .iter()
                .find(|s| s.primary_report == Some(id))
                .and_then(|s| s.rejected_messages);
            let n = match known {
                Some(n) => n,
                None => store.rejected_messages(id)?,
            };
            out.insert(id, n);
        }
    }
    Ok(out)
}

/// How far before the evaluated week the checks read: the rising-error rule compares
/// `rising_error_weeks + 1` weeks and may skip as many again.
pub fn lookback(t: &Thresholds) -> Duration {
    Duration::weeks(2 * (t.rising_error_weeks as i64 + 1))
}

/// Evaluate the thresholds over a loaded history, with the upload records (batch sizes) and
/// the rejection evidence of reports without counts: what `check` runs.
pub fn evaluate_history(
    store: &crate::store::Store,
    h: &super::History,
    t: &Thresholds,
    as_of: Option<NaiveDate>,
    ledger: LedgerScope,
) -> Result<Verdict, super::AnalyticsError> {
    let subs = super::submissions::submissions(h, None)?;
    let subs = with_sent_sizes(subs, store, h.profile.as_deref())?;
    evaluate_submissions(store, h, t, &subs, as_of, ledger)
}

/// [`evaluate_history`] with the submissions already loaded (with their sent sizes; they
/// must cover the evaluated week and the [`lookback`] before it): what the report runs.
pub fn evaluate_submissions(
    store: &crate::store::Store,
    h: &super::History,
    t: &Thresholds,
    subs: &[SubmissionRow],
    as_of: Option<NaiveDate>,
    ledger: LedgerScope,
) -> Result<Verdict, super::AnalyticsError> {
    let week = as_of.map(week_start);
    let sev = super::trends::trends(
        h,
        &super::trends::TrendOptions {
            by: super::trends::TrendBy::Severity,
            since: week.map(|w| w - lookback(t)),
            until: week.map(|w| w + Duration::days(6)),
            ..Default::default()
        },
    )?;
    let week = target_week(subs, &sev, as_of);
    let evidence = gather_evidence(store, subs, week)?;
    let v = evaluate(t, subs, &sev, week, &evidence);
    // no report about the week: the ledger rules still speak (a site gone silent is what a
    // week without reports may be about), once the ledger holds sent batches
    let no_report = v.checks.iter().any(|c| c.name == "data");
    let Some(week) = v
        .week
        .filter(|_| !no_report || store.has_ledger().unwrap_or(false))
    else {
        return Ok(v);
    };
    let mut checks = v.checks;
    checks.extend(super::ledger_checks::checks(
        store,
        h,
        t,
        super::ledger_checks::Context {
            week,
            today: ledger.today,
            overdue_days: ledger.overdue_days,
        },
    )?);
    let extra = v
        .breaches
        .into_iter()
        .filter(|b| {
            !checks
                .iter()
                .any(|c| c.name == b.check && c.message == b.message)
        })
        .collect();
    Ok(Verdict::from_checks(Some(week), checks, extra))
}

/// What the ledger rules need from the caller: today and the profile's overdue period.
#[derive(Debug, Clone, Copy)]
pub struct LedgerScope {
    pub today: NaiveDate,
    pub overdue_days: u32,
}

/// Batch sizes from immdqa's upload records and the message ledger, for submissions whose
/// reports carry no counts, and the acceptance those sizes bound (what the acceptance chart
/// draws for them; `check` bounds the week the same way).
pub fn with_sent_sizes(
    mut subs: Vec<SubmissionRow>,
    store: &crate::store::Store,
    profile: Option<&str>,
) -> Result<Vec<SubmissionRow>, crate::store::StoreError> {
    // the submissions of each name, in order (a lookup, not a scan per batch)
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, s) in subs.iter().enumerate() {
        by_name.entry(s.submission.clone()).or_default().push(i);
    }
    for u in store.uploads()? {
        if profile.is_some_and(|p| p != u.profile) {
            continue;
        }
        if let Some(&i) = by_name.get(&u.remote_name).and_then(|v| v.first()) {
            subs[i].sent_messages = Some(u.messages);
        }
    }
    // the message ledger knows the size of every batch it holds (the accepted folder's copy,
    // an upload, an import --sent)
    for (p, name, messages) in store.sent_batch_sizes()? {
        if profile.is_some_and(|x| x != p) || messages <= 0 {
            continue;
        }
        let unsized_sub = by_name
            .get(&name)
            .and_then(|v| v.iter().find(|&&i| subs[i].sent_messages.is_none()));
        if let Some(&i) = unsized_sub {
            subs[i].sent_messages = Some(messages as u64);
        }
    }
    // what bounds a report without counts: the messages its errors reject (also the
    // evidence `check` counts, see [`gather_evidence`])
    for s in subs.iter_mut().filter(|s| !has_counts(s)) {
        if let (Some(_), Some(report)) = (s.sent_messages.filter(|n| *n > 0), s.primary_report) {
            s.rejected_messages = Some(store.rejected_messages(report)?);
        }
    }
    Ok(subs)
}

fn has_counts(s: &SubmissionRow) -> bool {
    s.counts.messages.is_some_and(|m| m > 0) && s.counts.accepted.is_some()
}

/// A share as a percentage with one decimal (`80.9%`), as every check message writes it.
/// Evaluate the thresholds for the week holding `as_of` (default: the latest week with data).
/// `severity_trend` are trend rows by severity (E rows are used); `evidence` holds rejected
/// message counts for reports without counts (see [`reports_needing_evidence`]).
pub fn evaluate(
    t: &Thresholds,
    subs: &[SubmissionRow],
    severity_trend: &[TrendRow],
    as_of: Option<NaiveDate>,
    evidence: &RejectedEvidence,
) -> Verdict {
    let latest = target_week(subs, severity_trend, None);
    let subs: Vec<&SubmissionRow> = subs.iter().filter(|s| s.report_received).collect();
    let Some(week) = as_of.map(week_start).or(latest) else {
        let check = Check {
            name: "data",
            level: Level::Warn,
            message: "no data: the history holds no data quality report yet".into(),
            basis: "no report in the history (has `immdqa fetch` run?)".into(),
        };
        return Verdict::from_checks(None, vec![check], vec![]);
    };
    let label = week_label(week);
    let mut checks = Vec::new();
    let mut extra = Vec::new();
    let this_week: Vec<&SubmissionRow> = subs
        .iter()
        .copied()
        .filter(|s| s.date.map(week_start) == Some(week))
        .collect();
    let week_has_findings = severity_trend.iter().any(|r| r.week == week);
    if this_week.is_empty() && !week_has_findings {
        let mut message = format!("no data for {label}: no data quality report about it");
        if let Some(l) = latest.filter(|l| *l < week) {
            message.push_str(&format!(" (the latest report is from {})", week_label(l)));
        } else if let Some(first) = subs.iter().filter_map(|s| s.date).min()
            && week < week_start(first)
        {
            message.push_str(&format!(
                " (the history starts in {})",
                week_label(week_start(first))
            ));
        }
        checks.push(Check {
            name: "data",
            level: Level::Warn,
            message,
            basis: "reports in the history dated in the week".into(),
        });
    } else {
        checks.push(acceptance(t, &this_week, &label, evidence, &mut extra));
    }
    if t.rising_error_weeks > 0 {
        checks.push(rising(t, &subs, severity_trend, week));
    }
    Verdict::from_checks(Some(week), checks, extra)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::Counts;

    fn d(s: &str) -> NaiveDate {
        super::super::parse_week(s).unwrap() + Duration::days(1)
    }

    fn sub(name: &str, week: &str, counts: Option<(u64, u64, u64)>, report: i64) -> SubmissionRow {
        let mut s = SubmissionRow::new(name.into(), Some(d(week)), true);
        if let Some((m, a, r)) = counts {
            s.counts = Counts {
                messages: Some(m),
                accepted: Some(a),
                accepted_with_warnings: Some(0),
                rejected: Some(r),
                ..Counts::default()
            };
            s.acceptance_rate = Some(a as f64 / m as f64);
        } else {
            s.report_formats = vec!["csv".into()];
        }
        s.primary_report = Some(report);
        s
    }

    fn errors(week: &str, per_1000: Option<f64>) -> TrendRow {
        TrendRow {
            profile: None,
            import_code: None,
            week: week_start(d(week)),
            key: "E".into(),
            severity: "E".into(),
            findings: 1,
            messages: per_1000.map(|_| 100),
            per_1000,
        }
    }

    #[test]
    fn empty_history_warns_no_data() {
        let v = evaluate(&Thresholds::default(), &[], &[], None, &HashMap::new());
        assert_eq!(v.level, Level::Warn);
        assert!(v.checks[0].message.contains("no data"), "{:?}", v.checks);
    }

    #[test]
    fn a_week_without_reports_warns_no_data_for_it() {
        let subs = [sub("A26100.hl7", "2026-W15", Some((100, 99, 1)), 1)];
        let v = evaluate(
            &Thresholds::default(),
            &subs,
            &[],
            Some(d("2026-W10")),
            &HashMap::new(),
        );
        assert_eq!(v.level, Level::Warn);
        assert!(
            v.checks[0].message.starts_with("no data for 2026-W10"),
            "{:?}",
            v.checks[0]
        );
    }

    #[test]
    fn a_week_without_counts_is_unknown_and_names_its_rejections() {
        let subs = [sub("A26211.hl7", "2026-W31", None, 7)];
        let evidence = HashMap::from([(7, 32)]);
        let t = Thresholds {
            rising_error_weeks: 0,
            ..Thresholds::default()
        };
        let v = evaluate(&t, &subs, &[], None, &evidence);
        assert_eq!(v.level, Level::Unknown);
        let c = &v.checks[0];
        assert!(
            c.message.contains("unknown: 32 message(s) rejected"),
            "{c:?}"
        );
        assert!(
            c.basis
                .contains("counted from the error findings of A26211.hl7"),
            "{c:?}"
        );
    }

    #[test]
    fn findings_prove_a_failure_when_the_batch_size_is_known() {
        let mut s = sub("A26211.hl7", "2026-W31", None, 7);
        s.sent_messages = Some(50);
        let evidence = HashMap::from([(7, 32)]);
        let t = Thresholds {
            rising_error_weeks: 0,
            ..Thresholds::default()
        };
        let v = evaluate(&t, &[s.clone()], &[], None, &evidence);
        assert_eq!(v.level, Level::Fail, "{:?}", v.checks);
        assert!(v.checks[0].message.contains("at most 36.0%"));
        // few rejections: still unknown (not every rejection need carry an error finding)
        let v = evaluate(&t, &[s], &[], None, &HashMap::from([(7, 1)]));
        assert_eq!(v.level, Level::Unknown);
    }

    #[test]
    fn a_short_history_has_not_risen_but_gaps_in_it_are_unknown() {
        let subs = [
            sub("A1.hl7", "2026-W10", Some((100, 99, 1)), 1),
            sub("A2.hl7", "2026-W11", Some((100, 98, 2)), 2),
        ];
        let trend = [
            errors("2026-W10", Some(10.0)),
            errors("2026-W11", Some(20.0)),
        ];
        let v = evaluate(&Thresholds::default(), &subs, &trend, None, &HashMap::new());
        let r = v
            .checks
            .iter()
            .find(|c| c.name == "rising_error_rate")
            .unwrap();
        assert_eq!(r.level, Level::Ok, "{r:?}");
        assert!(r.message.contains("the history holds 2 week(s)"), "{r:?}");
        let subs = [
            sub("A1.hl7", "2026-W10", Some((100, 99, 1)), 1),
            sub("A2.hl7", "2026-W11", None, 2),
            sub("A3.hl7", "2026-W12", Some((100, 98, 2)), 3),
        ];
        let trend = [
            errors("2026-W10", Some(10.0)),
            errors("2026-W11", None),
            errors("2026-W12", Some(20.0)),
        ];
        let v = evaluate(&Thresholds::default(), &subs, &trend, None, &HashMap::new());
        let r = v
            .checks
            .iter()
            .find(|c| c.name == "rising_error_rate")
            .unwrap();
        assert_eq!(r.level, Level::Unknown, "{r:?}");
    }

    #[test]
    fn counted_weeks_pass_or_fail_on_the_rate() {
        let t = Thresholds {
            rising_error_weeks: 0,
            ..Thresholds::default()
        };
        let ok = [sub("A.hl7", "2026-W31", Some((100, 95, 5)), 1)];
        assert_eq!(
            evaluate(&t, &ok, &[], None, &HashMap::new()).level,
            Level::Ok
        );
        let bad = [sub("A.hl7", "2026-W31", Some((100, 80, 20)), 1)];
        let v = evaluate(&t, &bad, &[], None, &HashMap::new());
        assert_eq!(v.level, Level::Fail);
        assert!(
            v.breaches
                .iter()
                .any(|b| b.message.starts_with("A.hl7: 80.0%"))
        );
    }

    #[test]
    fn rising_rule_skips_weeks_without_counts_and_runs_when_acceptance_fails() {
        let subs = [
            sub("A1.hl7", "2026-W10", Some((100, 99, 1)), 1),
            sub("A2.hl7", "2026-W11", Some((100, 98, 2)), 2),
            sub("A3.hl7", "2026-W12", None, 3),
            sub("A4.hl7", "2026-W13", Some((100, 97, 3)), 4),
            sub("A5.hl7", "2026-W14", Some((100, 80, 20)), 5),
        ];
        let trend = [
            errors("2026-W10", Some(10.0)),
            errors("2026-W11", Some(20.0)),
            errors("2026-W12", None),
            errors("2026-W13", Some(30.0)),
            errors("2026-W14", Some(200.0)),
        ];
        let v = evaluate(&Thresholds::default(), &subs, &trend, None, &HashMap::new());
        assert_eq!(v.level, Level::Fail);
        let r = v
            .checks
            .iter()
            .find(|c| c.name == "rising_error_rate")
            .unwrap();
        assert_eq!(r.level, Level::Warn, "{r:?}");
        assert!(
            r.basis
                .contains("skipped (no message counts or no report): 2026-W12")
        );
        assert!(v.breaches.iter().any(|b| b.check == "rising_error_rate"));
        // a fall in between breaks the streak
        let mut t2 = trend.clone();
        t2[1].per_1000 = Some(5.0);
        let v = evaluate(&Thresholds::default(), &subs, &t2, None, &HashMap::new());
        let r = v
            .checks
            .iter()
            .find(|c| c.name == "rising_error_rate")
            .unwrap();
        assert_eq!(r.level, Level::Ok, "{r:?}");
    }
}
