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
//!
//! Every check is a row of a rule table, in the order they print ([`checks`]): the report
//! rules in `report_checks.rs`, the ledger rules in `ledger_checks.rs`, both on the shared base
//! in `verdict.rs` (`Inputs`, `Found`, `Rule`); [`evaluate_submissions`] runs them.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};

use super::submissions::SubmissionRow;
use super::trends::TrendRow;
use super::verdict::{Found, Inputs, Reads, Rule, has_counts};
use super::week_start;
use super::{ledger_checks, report_checks};

pub use super::report_checks::lookback;
pub use super::verdict::RejectedEvidence;

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
    run(t, subs, &sev, week, &evidence, Some((store, h)), ledger)
}

/// Every check of `immdqa check` and the report's verdict, in the order they print: the report
/// rules, then the ledger rules. A new rule is a function and a row of its file's `RULES`
/// (README, "Verdicts").
pub fn checks() -> impl Iterator<Item = &'static Rule> {
    report_checks::RULES.iter().chain(ledger_checks::RULES)
}

/// Run every rule of [`checks`] that can run for the week.
fn run(
    t: &Thresholds,
    subs: &[SubmissionRow],
    severity_trend: &[TrendRow],
    as_of: Option<NaiveDate>,
    evidence: &RejectedEvidence,
    store: Option<(&crate::store::Store, &super::History)>,
    ledger: LedgerScope,
) -> Result<Verdict, super::AnalyticsError> {
    let latest = target_week(subs, severity_trend, None);
    let Some(week) = as_of.map(week_start).or(latest) else {
        let check = Check {
            name: "data",
            level: Level::Warn,
            message: "no data: the history holds no data quality report yet".into(),
            basis: "no report in the history (has `immdqa fetch` run?)".into(),
        };
        return Ok(Verdict::from_checks(None, vec![check], vec![]));
    };
    let inputs = Inputs {
        week,
        latest,
        t,
        subs: subs.iter().filter(|s| s.report_received).collect(),
        severity_trend,
        evidence,
        store,
        today: ledger.today,
        overdue_days: ledger.overdue_days,
    };
    let mut found = Found::default();
    let has_ledger = match store {
        Some((s, _)) => s.has_ledger()?,
        None => false,
    };
    for rule in checks() {
        let runs = match rule.reads {
            Reads::Reports => true,
            Reads::History | Reads::Ledger if store.is_none() => false,
            Reads::History => has_ledger || !found.checks.iter().any(|c| c.name == "data"),
            Reads::Ledger => has_ledger,
        };
        if runs {
            (rule.check)(&inputs, &mut found)?;
        }
    }
    Ok(Verdict::from_checks(Some(week), found.checks, found.extra))
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

/// Evaluate the report rules for the week holding `as_of` (default: the latest week with
/// data), from the reports alone. `severity_trend` are trend rows by severity (E rows are
/// used); `evidence` holds rejected message counts for reports without counts (see
/// [`reports_needing_evidence`]).
pub fn evaluate(
    t: &Thresholds,
    subs: &[SubmissionRow],
    severity_trend: &[TrendRow],
    as_of: Option<NaiveDate>,
    evidence: &RejectedEvidence,
) -> Verdict {
    let today = chrono::NaiveDate::MAX;
    let ledger = LedgerScope {
        today,
        overdue_days: 0,
    };
    run(t, subs, severity_trend, as_of, evidence, None, ledger)
        .unwrap_or_else(|_| Verdict::from_checks(None, vec![], vec![]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_table_lists_each_rule_once_reports_first() {
        let mut names: Vec<&str> = checks().map(|r| r.name).collect();
        let all = names.len();
        assert_eq!(all, 8);
        assert_eq!(
            checks().take_while(|r| r.reads == Reads::Reports).count(),
            2,
            "the report rules print first"
        );
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all);
    }
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
