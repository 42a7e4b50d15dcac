//! The per-site scorecard: four parts, each 0–100, per site and week, and their weighted mean
//! (README, "Scorecard"):
//!
//! - acceptance: answered messages the registry accepted (with or without warnings), × 100;
//! - completeness: the weighted mean of the completeness fields' shares (`[score.fields]`,
//!   default the legacy DQA's tiers: required 10, expected 6, recommended 4);
//! - timeliness: the legacy DQA's points per dose — reported within 1 day 100, within 7 days
//!   90, within 30 days 70, later 0 — averaged over the administered doses;
//! - validity: 100 − (lint errors per 1,000 messages) / 10 − (lint warnings per 1,000) / 40,
//!   floored at 0 (an error in every message scores 0, a warning in every message 75), the
//!   lint rules run again over the archived batches.
//!
//! The score is Σ weight × part / Σ weight (`[score]`, default the legacy Texas DQA's
//! completeness 50, acceptance 28, validity 12, timeliness 10). A part without data (no answer
//! yet, no administered dose, a batch not archived) is unknown, and so is the score: a site is
//! never rated on the parts it happens to have. Bands as the legacy DQA: Excellent ≥ 90, Good
//! ≥ 80, Okay ≥ 70, Poor ≥ 60, Problem below.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{AnalyticsError, breakdown, completeness, validity, week_label};
use crate::config::{Registries, ScoreConfig};
use crate::domain::Field;
use crate::store::Store;
use crate::store::ledger::LedgerKey;
use crate::table::{ColType, Table, Value};

/// One site in one week.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SiteScore {
    pub week: NaiveDate,
    pub site: String,
    /// Messages sent (the ledger).
    pub messages: i64,
    /// Administered doses sent.
    pub doses: u64,
    pub acceptance: Option<f64>,
    /// Of the accepted messages: how many were inferred from a listing of issues (the
    /// acceptance is then at most the value shown).
    pub inferred: i64,
    pub completeness: Option<f64>,
    pub timeliness: Option<f64>,
    pub validity: Option<f64>,
    /// Lint errors and warnings per 1,000 messages (validity's basis).
    pub errors_per_1000: Option<f64>,
    pub warnings_per_1000: Option<f64>,
    /// The weighted score, unknown when a weighted part is.
    pub score: Option<f64>,
    /// Against the site's previous week.
    pub change: Option<f64>,
}

impl SiteScore {
    /// The parts without data, by name (why the score is unknown).
    pub fn unknown_parts(&self, w: &ScoreConfig) -> Vec<&'static str> {
        [
            ("acceptance", self.acceptance, w.acceptance),
            ("completeness", self.completeness, w.completeness),
            ("timeliness", self.timeliness, w.timeliness),
            ("validity", self.validity, w.validity),
        ]
        .into_iter()
        .filter(|(_, v, w)| v.is_none() && *w > 0.0)
        .map(|(n, _, _)| n)
        .collect()
    }
}

/// The legacy DQA's label of a score.
pub fn band(score: Option<f64>) -> &'static str {
    match score {
        None => "unknown",
        Some(s) if s >= 90.0 => "Excellent",
        Some(s) if s >= 80.0 => "Good",
        Some(s) if s >= 70.0 => "Okay",
        Some(s) if s >= 60.0 => "Poor",
        Some(_) => "Problem",
    }
}

/// The completeness part of a row: Σ weight × share / Σ weight over the fields with a base.
pub fn completeness_part(
    row: &crate::store::completeness::CompletenessRow,
    w: &ScoreConfig,
) -> Option<f64> {
    let (mut sum, mut weight) = (0.0, 0.0);
    for f in Field::ALL {
        let fw = w.field_weight(f);
        if let Some(share) = completeness::share(row, f).filter(|_| fw > 0.0) {
            sum += fw * share;
            weight += fw;
        }
    }
    (weight > 0.0).then(|| sum / weight)
}

/// The timeliness part from the counts within 1, 7 and 30 days of `doses`.
pub fn timeliness_part(doses: f64, within_1: f64, within_7: f64, within_30: f64) -> Option<f64> {
    (doses > 0.0).then(|| {
        100.0 * (within_1 + 0.9 * (within_7 - within_1) + 0.7 * (within_30 - within_7)) / doses
    })
}

/// The validity part from lint errors and warnings per 1,000 messages.
pub fn validity_part(errors_per_1000: f64, warnings_per_1000: f64) -> f64 {
    (100.0 - errors_per_1000 / 10.0 - warnings_per_1000 / 40.0).max(0.0)
}

/// The weighted score of the parts, unknown when a weighted part is.
pub fn weighted(s: &SiteScore, w: &ScoreConfig) -> Option<f64> {
    let parts = [
        (s.acceptance, w.acceptance),
        (s.completeness, w.completeness),
        (s.timeliness, w.timeliness),
        (s.validity, w.validity),
    ];
    let (mut sum, mut weight) = (0.0, 0.0);
    for (v, w) in parts {
        if w > 0.0 {
            sum += v? * w;
            weight += w;
        }
    }
    (weight > 0.0).then(|| sum / weight)
}

/// What scoring needs besides the store.
pub struct ScoreInputs<'a> {
    pub weights: &'a ScoreConfig,
    /// Each profile's lint rules (validity).
    pub registries: &'a Registries,
    /// "Not in the future" for lint.
    pub today: NaiveDate,
}

/// The scorecard of every site for the weeks `from`..=`to` (Mondays), oldest week first,
/// sites by name; `change` against the week before (read too).
pub fn scores(
    store: &Store,
    profile: Option<&str>,
    (from, to): (NaiveDate, NaiveDate),
    inp: &ScoreInputs<'_>,
) -> Result<Vec<SiteScore>, AnalyticsError> {
    let before = from - chrono::Duration::weeks(1);
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let mut rows: BTreeMap<(NaiveDate, String), SiteScore> = BTreeMap::new();
    fn at<'m>(
        rows: &'m mut BTreeMap<(NaiveDate, String), SiteScore>,
        week: NaiveDate,
        site: &str,
    ) -> &'m mut SiteScore {
        rows.entry((week, site.to_string()))
            .or_insert_with(|| SiteScore {
                week,
                site: site.to_string(),
                ..Default::default()
            })
    }
    let weeks = (Some(before), Some(to));
    let acceptance =
        breakdown::weekly_acceptance(&store.ledger_acceptance(LedgerKey::Site, profile, weeks)?);
    for g in &acceptance {
        let Some(w) = date(&g.week) else { continue };
        let s = at(&mut rows, w, &g.key);
        s.messages += g.messages;
        s.acceptance = breakdown::acceptance_rate(g).map(|r| r * 100.0);
        s.inferred = g.inferred;
    }
    for r in completeness::rows(store, completeness::By::Site, before, to, profile)? {
        let Some(w) = date(&r.week) else { continue };
        let s = at(&mut rows, w, &r.group);
        s.doses = r.doses;
        s.completeness = completeness_part(&r, inp.weights);
    }
    // timeliness rows are per profile: summed per site
    let mut t: BTreeMap<(NaiveDate, String), [f64; 4]> = BTreeMap::new();
    for r in breakdown::timeliness(
        store,
        profile,
        Some(before),
        Some(to + chrono::Duration::days(6)),
    )? {
        let d = r.doses as f64;
        let e = t.entry((r.week, r.site.clone())).or_default();
        e[0] += d;
        e[1] += r.within_1 * d;
        e[2] += r.within_7 * d;
        e[3] += r.within_30 * d;
    }
    for ((w, site), [d, w1, w7, w30]) in t {
        at(&mut rows, w, &site).timeliness = timeliness_part(d, w1, w7, w30);
    }
    for v in validity::validity(store, profile, (before, to), inp.registries, inp.today)? {
        let Some(w) = date(&v.week) else { continue };
        let s = at(&mut rows, w, &v.site);
        let per = if v.not_linted > 0 { None } else { v.per_1000() };
        s.errors_per_1000 = per.map(|p| p.0);
        s.warnings_per_1000 = per.map(|p| p.1);
        s.validity = per.map(|(e, w)| validity_part(e, w));
    }
    let mut out: Vec<SiteScore> = rows.into_values().collect();
    for s in &mut out {
        s.score = weighted(s, inp.weights);
    }
    let previous: BTreeMap<(NaiveDate, String), Option<f64>> = out
        .iter()
        .map(|s| ((s.week, s.site.clone()), s.score))
        .collect();
    for s in &mut out {
        let prev = previous
            .get(&(s.week - chrono::Duration::weeks(1), s.site.clone()))
            .copied()
            .flatten();
        s.change = s.score.zip(prev).map(|(a, b)| a - b);
    }
    out.retain(|s| s.week >= from);
    Ok(out)
}

/// The scorecard as a table (`immdqa score`, the report, `export score`): one decimal.
pub fn table(rows: &[SiteScore], w: &ScoreConfig) -> Table {
    let mut t = Table::typed(&[
        ("week", ColType::Text),
        ("week_start", ColType::Date),
        ("site", ColType::Text),
        ("messages", ColType::Int),
        ("doses", ColType::Int),
        ("acceptance", ColType::Float),
        ("completeness", ColType::Float),
        ("timeliness", ColType::Float),
        ("validity", ColType::Float),
        ("lint_errors_per_1000", ColType::Float),
        ("lint_warnings_per_1000", ColType::Float),
        ("score", ColType::Float),
        ("band", ColType::Text),
        ("change", ColType::Float),
        ("note", ColType::Text),
    ])
    // a terminal shows the score first; CSV, JSON and --columns keep every column
    .show_by_default(&[
        "week",
        "site",
        "score",
        "band",
        "change",
        "acceptance",
        "completeness",
        "timeliness",
        "validity",
        "note",
    ]);
    let r1 = |x: Option<f64>| Value::opt_float(x.map(|x| (x * 10.0).round() / 10.0));
    for s in rows {
        let unknown = s.unknown_parts(w);
        let mut note = Vec::new();
        if !unknown.is_empty() {
            note.push(format!("unknown: {}", unknown.join(", ")));
        }
        if s.inferred > 0 {
            note.push(format!(
                "acceptance at most (inferred for {} message(s))",
                s.inferred
            ));
        }
        t.push(vec![
            Value::text(week_label(s.week)),
            Value::Date(s.week),
            Value::text(&s.site),
            Value::Int(s.messages),
            Value::Int(s.doses as i64),
            r1(s.acceptance),
            r1(s.completeness),
            r1(s.timeliness),
            r1(s.validity),
            r1(s.errors_per_1000),
            r1(s.warnings_per_1000),
            r1(s.score),
            Value::text(band(s.score)),
            r1(s.change),
            Value::text(note.join("; ")),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parts_follow_the_readme_formula() {
        // 10 doses: 5 within a day, 3 more within 7, 1 more within 30, 1 later
        assert_eq!(
            timeliness_part(10.0, 5.0, 8.0, 9.0),
            Some(100.0 * (5.0 + 2.7 + 0.7) / 10.0)
        );
        assert_eq!(timeliness_part(0.0, 0.0, 0.0, 0.0), None);
        assert_eq!(validity_part(0.0, 0.0), 100.0);
        assert_eq!(validity_part(250.0, 0.0), 75.0);
        assert_eq!(validity_part(0.0, 1000.0), 75.0);
        assert_eq!(validity_part(100.0, 400.0), 80.0);
        assert_eq!(validity_part(2500.0, 0.0), 0.0);
        let w = ScoreConfig::default();
        let s = SiteScore {
            acceptance: Some(90.0),
            completeness: Some(80.0),
            timeliness: Some(70.0),
            validity: Some(100.0),
            ..Default::default()
        };
        let want = (28.0 * 90.0 + 50.0 * 80.0 + 10.0 * 70.0 + 12.0 * 100.0) / 100.0;
        assert!((weighted(&s, &w).unwrap() - want).abs() < 1e-9);
        assert_eq!(band(Some(want)), "Good");
    }

    #[test]
    fn a_missing_part_makes_the_score_unknown_unless_it_weighs_nothing() {
        let mut w = ScoreConfig::default();
        let s = SiteScore {
            acceptance: None,
            completeness: Some(80.0),
            timeliness: Some(70.0),
            validity: Some(100.0),
            ..Default::default()
        };
        assert_eq!(weighted(&s, &w), None);
        assert_eq!(band(None), "unknown");
        assert_eq!(s.unknown_parts(&w), vec!["acceptance"]);
        w.acceptance = 0.0;
        assert!(weighted(&s, &w).is_some());
        assert!(s.unknown_parts(&w).is_empty());
    }

    #[test]
    fn field_weights_change_completeness() {
        let mut r = crate::store::completeness::CompletenessRow {
            week: "2026-11-30".into(),
            group: "NORTH".into(),
            doses: 10,
            unknown: 0,
            present: [10; 14],
            minors: 0,
        };
        r.present[0] = 0; // no lot at all
        let w = ScoreConfig::default();
        // 13 fields with a base (NK1 has none): lot (10) at 0 %, the rest at 100 %
        let total: f64 = Field::ALL
            .iter()
            .filter(|f| **f != Field::ResponsiblePerson)
            .map(|f| w.field_weight(*f))
            .sum();
        let want = 100.0 * (total - 10.0) / total;
        assert!((completeness_part(&r, &w).unwrap() - want).abs() < 1e-9);
        let mut w2 = ScoreConfig::default();
        w2.fields.insert("lot".into(), 0.0);
        assert_eq!(completeness_part(&r, &w2), Some(100.0));
    }
}
