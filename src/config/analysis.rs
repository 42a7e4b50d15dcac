//! The settings of the analysis: `[thresholds]` (what `check` and the report judge) and
//! `[score]` (how the per-site scorecard weighs its parts). Plain data, read by analytics.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The `[thresholds]` behind `check` and the report's verdicts (the analytics evaluate them).
///
/// Defaults: a week's acceptance rate below 90% fails (the registry's onboarding bar); an
/// error rate that rose in each of the last 3 weeks warns.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// A week whose acceptance rate is below this fails (0.90 = 90%).
    pub min_acceptance_rate: f64,
    /// Warn when the weekly error rate rose this many weeks in a row (0 = off).
    pub rising_error_weeks: u32,
    /// A site whose acceptance rate over the checked week is below this fails, naming the
    /// site (sites with fewer than `min_site_messages` messages are not judged).
    pub min_site_acceptance_rate: f64,
    /// Fewest messages a site must have sent in the week to be judged.
    pub min_site_messages: u32,
    /// Warn when the batches' answers leave more than this many sent messages unmentioned.
    pub max_unmentioned_messages: u32,
    /// Warn about codes first seen in the checked week (false: off).
    pub warn_new_codes: bool,
    /// A site's usual volume: the median of its messages over this many weeks before the
    /// one checked (0: the volume alerts are off).
    pub usual_weeks: u32,
    /// Sites whose usual volume is below this many messages a week are not judged.
    pub min_usual_messages: u32,
    /// Warn when a site sent less than this share of its usual volume (0.5 = half); a site
    /// that sent nothing at all is `site_silent`.
    pub volume_drop_share: f64,
    /// Warn about vaccines (CVX) first seen in the checked week (false: off).
    pub warn_new_products: bool,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_acceptance_rate: 0.90,
            rising_error_weeks: 3,
            min_site_acceptance_rate: 0.90,
            min_site_messages: 10,
            max_unmentioned_messages: 0,
            warn_new_codes: true,
            usual_weeks: 4,
            min_usual_messages: 10,
            volume_drop_share: 0.5,
            warn_new_products: true,
        }
    }
}

/// `[score]`: how the per-site scorecard weighs its four parts (README, "Scorecard"). The
/// defaults are the legacy Texas DQA's: completeness 50, quality 40 (errors 28 → acceptance,
/// warnings 12 → validity), timeliness 10. `[score.fields]` weighs the completeness fields
/// (`lot = 10`, …; the names of `immdqa completeness`' columns); a field left out keeps its
/// default, `0` leaves it out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoreConfig {
    pub acceptance: f64,
    pub completeness: f64,
    pub timeliness: f64,
    pub validity: f64,
    pub fields: BTreeMap<String, f64>,
}

impl Default for ScoreConfig {
    fn default() -> Self {
        ScoreConfig {
            acceptance: 28.0,
            completeness: 50.0,
            timeliness: 10.0,
            validity: 12.0,
            fields: BTreeMap::new(),
        }
    }
}

impl ScoreConfig {
    /// The weight of a completeness field: `[score.fields]`, else the legacy DQA's tiers —
    /// required 10 (lot, MVX), expected 6 (expiry, route, body site, administering provider,
    /// VFC eligibility, funding source), recommended 4 (the rest).
    pub fn field_weight(&self, f: crate::domain::Field) -> f64 {
        use crate::domain::Field::*;
        self.fields.get(f.as_str()).copied().unwrap_or(match f {
            Lot | Manufacturer => 10.0,
            Expiry | Route | BodySite | AdministeringProvider | VfcEligibility | FundingSource => {
                6.0
            }
            _ => 4.0,
        })
    }

    /// What is wrong with the weights, if anything (named for `config check` and the error).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let parts = [
            ("acceptance", self.acceptance),
            ("completeness", self.completeness),
            ("timeliness", self.timeliness),
            ("validity", self.validity),
        ];
        let fields = self.fields.iter().map(|(k, v)| (k.as_str(), *v));
        for (name, w) in parts.iter().copied().chain(fields) {
            if !w.is_finite() || w < 0.0 {
                out.push(format!(
                    "[score] {name} = {w}: a weight is a number 0 or more"
                ));
            }
        }
        if parts.iter().all(|(_, w)| *w <= 0.0) {
            out.push("[score]: every part weighs 0; give at least one a weight".into());
        }
        for k in self.fields.keys() {
            if !crate::domain::Field::ALL.iter().any(|f| f.as_str() == k) {
                out.push(format!(
                    "[score.fields] {k}: not a completeness field ({})",
                    crate::domain::Field::ALL.map(|f| f.as_str()).join(", ")
                ));
            }
        }
        out
    }
}
