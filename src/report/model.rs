//! Step one of a report: the model. Everything the page shows is computed here, from the
//! store and the analytics, into [`ReportModel`]; [`super::render`] turns it into HTML and
//! charts without any store access, and [`super::write`] writes the folder. A new section is
//! one field here and one piece of template in `render`.

use chrono::{Duration, NaiveDate};

use crate::analytics::chart_rows::{self, Needs};
use crate::analytics::consent::{self, ConsentView, WeeklyConsent};
use crate::analytics::submissions::{self, SubmissionRow};
use crate::analytics::thresholds::{Level, Verdict};
use crate::analytics::trends::{TrendBy, TrendRow};
use crate::analytics::{AnalyticsError, History, changes, week_label, week_start};
use crate::charts::Kind;
use crate::store::Store;

/// The ledger sections (what to fix first, sites, resolved this week, the worklist) are
/// computed in analytics: the report, the command line and the web pages only assemble them.
pub use crate::analytics::ledger_summary::{LedgerModel, LedgerSettings, ledger_model};

/// Everything a report page shows, computed once.
pub struct ReportModel {
    /// Monday of the report week, its Sunday, and the first week shown.
    pub week: NaiveDate,
    pub until: NaiveDate,
    pub since: NaiveDate,
    /// The selected profile, or the profiles in view.
    pub profile: Option<String>,
    pub profiles: Vec<String>,
    /// "12 of 12 weeks with reports (… to …)".
    pub coverage: String,
    /// Field trends over the window.
    pub trend: Vec<TrendRow>,
    /// Submissions of the window.
    pub submissions: Vec<SubmissionRow>,
    /// The threshold verdict (the consent verdict for a consent-only report).
    pub verdict: Verdict,
    /// The report shows consent verdicts only.
    pub consent_only: bool,
    /// Whether consent data is shown, the consent view and the date ages are counted to.
    pub needs_consent: bool,
    pub consent: ConsentView,
    pub consent_weekly: Vec<WeeklyConsent>,
    pub consent_as_of: NaiveDate,
    /// Changes against the previous week (when the definition shows them).
    pub changes: Option<changes::Changes>,
    /// The sections built on the message ledger.
    pub ledger: LedgerModel,
    pub min_acceptance_rate: f64,
    pub rising_error_weeks: u32,
    /// What the definition's charts draw (`analytics::chart_rows`, as `immdqa chart` does).
    pub chart_rows: crate::analytics::chart_rows::ChartRows,
    /// The scorecard per site and week of the window (when shown), and its weights.
    pub scores: Vec<crate::analytics::score::SiteScore>,
    pub score_weights: crate::config::ScoreConfig,
    /// Completeness per site in the report week (when shown).
    pub completeness: Vec<crate::store::completeness::CompletenessRow>,
    /// Acceptance per batch × vaccine in the report week (when shown).
    pub vaccines: Vec<crate::store::ledger::AcceptanceGroup>,
}

/// Step one: compute the model of `def` for the week holding `week` (default: the latest
/// week with data).
pub fn compute(
    store: &Store,
    def: &super::ReportDef,
    week: Option<NaiveDate>,
    settings: &super::Settings<'_>,
    profile: Option<&str>,
) -> Result<ReportModel, AnalyticsError> {
    let thresholds = settings.thresholds;
    let h = History::load_scoped(store, profile)?;
    let week = week
        .map(week_start)
        .or_else(|| changes::latest_date(&h).map(week_start))
        .unwrap_or_else(|| week_start(settings.ledger.today));
    let until = week + Duration::days(6);
    let since = week - Duration::weeks(def.weeks.saturating_sub(1) as i64);
    // the charts' rows, as `immdqa chart` computes them (consent: from the view below); the
    // field trend always (the trends table and the page's coverage read it too)
    let chart_needs = def
        .charts
        .iter()
        .fold(Needs::default(), |n, k| n.or(k.needs()));
    let trend_needs = Needs {
        trend: true,
        ..chart_needs
    };
    let mut chart_rows = charts_of(store, &h, trend_needs, settings, (since, until))?;
    let trend = chart_rows.trend.clone();
    // The thresholds look at the report week and the weeks before it; the charts at the
    // report's `weeks`. One submissions pass over the longer window.
    let window_since = since.min(week - crate::analytics::thresholds::lookback(thresholds));
    let window_subs = crate::analytics::thresholds::with_sent_sizes(
        submissions::submissions(&h, Some(window_since))?,
        store,
        profile,
    )?;
    let subs: Vec<_> = window_subs
        .iter()
        .filter(|s| s.date.is_none_or(|d| d >= since && d <= until))
        .cloned()
        .collect();
    if chart_needs.submissions {
        chart_rows.submissions = subs.clone();
    }
    let mut verdict = crate::analytics::thresholds::evaluate_submissions(
        store,
        &h,
        thresholds,
        &window_subs,
        Some(week),
        settings.ledger,
    )?;
    let PerSite {
        scores,
        completeness,
        vaccines,
    } = per_site(store, def, settings, profile, (since, week), &chart_rows)?;
    let needs_ledger = def.tables.iter().any(|t| t.is_ledger_section())
        || def.exports.contains(&super::ExportKind::Worklist);
    let ledger = if needs_ledger {
        ledger_model(
            store,
            &h,
            week,
            since,
            LedgerSettings {
                worklist: settings.worklist,
                owners: settings.owners,
                today: settings.ledger.today,
            },
            def.top,
        )?
    } else {
        LedgerModel::default()
    };
    // consent status reads every patient reference in the history: only when shown
    let needs_consent = def.charts.contains(&Kind::Consent)
        || def.tables.iter().any(|t| {
            matches!(
                t,
                super::TableKind::ConsentOpen | super::TableKind::ConsentWeekly
            )
        })
        || def.exports.contains(&super::ExportKind::Consent);
    // One reference date for every follow-up age on the page and in consent.csv: the end of
    // the report week, or today for the current week.
    let consent_as_of = until.min(settings.ledger.today);
    let cview = if needs_consent {
        consent::consent(store, &h, consent_as_of)?
    } else {
        ConsentView::default()
    };
    let mut weekly = cview.weekly.clone();
    weekly.retain(|w| w.week >= since && w.week <= until);
    if chart_needs.consent {
        chart_rows.consent = weekly.clone();
    }
    // A report about consent only shows consent verdicts; the others the thresholds.
    let consent_only = !def.tables.contains(&super::TableKind::Verdicts)
        && def.charts.iter().all(|k| *k == Kind::Consent)
        && needs_consent;
    if consent_only {
        verdict = consent_verdict(&cview, consent_as_of, week);
    }
    let changes = if def.tables.contains(&super::TableKind::Changes) {
        Some(changes::changes(&h, changes::Period::Week, week)?)
    } else {
        None
    };
    let coverage = coverage(&h, since, week, def.weeks);
    Ok(ReportModel {
        week,
        until,
        since,
        profile: profile.map(str::to_string),
        profiles: h.profiles.clone(),
        coverage,
        trend,
        submissions: subs,
        verdict,
        consent_only,
        needs_consent,
        consent: cview,
        consent_weekly: weekly,
        consent_as_of,
        changes,
        ledger,
        min_acceptance_rate: thresholds.min_acceptance_rate,
        rising_error_weeks: thresholds.rising_error_weeks,
        chart_rows,
        scores,
        score_weights: settings.score.clone(),
        completeness,
        vaccines,
    })
}

/// How many of the `weeks` shown (`since` to `week`) hold at least one report, and which.
fn coverage(h: &History, since: NaiveDate, week: NaiveDate, weeks: u32) -> String {
    let covered: std::collections::BTreeSet<NaiveDate> = h
        .reports
        .iter()
        .filter_map(|r| r.week)
        .filter(|w| *w >= since && *w <= week)
        .collect();
    match (covered.first(), covered.last()) {
        (Some(first), Some(last)) => format!(
            "{} of {weeks} weeks with reports ({} to {})",
            covered.len(),
            week_label(*first),
            week_label(*last)
        ),
        _ => format!("no reports in the {weeks} weeks shown"),
    }
}

/// What the charts draw over the report's weeks, as `immdqa chart` computes it (all but the
/// submissions and consent rows: the report has both already, the same rows).
fn charts_of(
    store: &Store,
    h: &History,
    needs: Needs,
    settings: &super::Settings<'_>,
    (since, until): (NaiveDate, NaiveDate),
) -> Result<chart_rows::ChartRows, AnalyticsError> {
    let owners = crate::ledger::owners::Owners::new(settings.owners);
    chart_rows::rows(
        store,
        h,
        Needs {
            consent: false,
            submissions: false,
            ..needs
        },
        &chart_rows::Query {
            by: TrendBy::Field,
            since: Some(since),
            until: Some(until),
            today: settings.ledger.today,
            owners: &owners,
            score: settings.score,
            registries: &settings.registries,
        },
    )
}

/// The scorecard, completeness and acceptance per vaccine: each computed only when the
/// definition shows it.
struct PerSite {
    scores: Vec<crate::analytics::score::SiteScore>,
    completeness: Vec<crate::store::completeness::CompletenessRow>,
    vaccines: Vec<crate::store::ledger::AcceptanceGroup>,
}

fn per_site(
    store: &Store,
    def: &super::ReportDef,
    settings: &super::Settings<'_>,
    profile: Option<&str>,
    (since, week): (NaiveDate, NaiveDate),
    charts: &crate::analytics::chart_rows::ChartRows,
) -> Result<PerSite, AnalyticsError> {
    let scores = if def.charts.contains(&Kind::Score) {
        // the chart's rows: the same weeks
        charts.scores.clone()
    } else if def.tables.contains(&super::TableKind::Score)
        || def.exports.contains(&super::ExportKind::Score)
    {
        crate::analytics::score::scores(
            store,
            profile,
            (since, week),
            &crate::analytics::score::ScoreInputs {
                weights: settings.score,
                registries: &settings.registries,
                today: settings.ledger.today,
            },
        )?
    } else {
        vec![]
    };
    let completeness = if def.tables.contains(&super::TableKind::Completeness) {
        crate::analytics::completeness::rows(
            store,
            crate::analytics::completeness::By::Site,
            week,
            week,
            profile,
        )?
    } else {
        vec![]
    };
    let vaccines = if def.tables.contains(&super::TableKind::Vaccines) {
        let mut rows = crate::analytics::breakdown::acceptance(
            store,
            profile,
            crate::analytics::breakdown::By::Vaccine,
            Some(week),
        )?;
        let monday = week.to_string();
        rows.retain(|r| r.week == monday);
        rows
    } else {
        vec![]
    };
    Ok(PerSite {
        scores,
        completeness,
        vaccines,
    })
}

/// The verdict of a consent report: open follow-ups warn (someone has to act), none is OK,
/// no consent data at all is unknown.
fn consent_verdict(v: &ConsentView, as_of: NaiveDate, week: NaiveDate) -> Verdict {
    use crate::analytics::thresholds::{Breach, Check};
    let oldest = v.open.iter().map(|f| f.age_days).max();
    let (level, message) = if v.notices.is_empty() {
        (
            Level::Unknown,
            "no consent notification in the history: nothing to follow up, or no CNF fetched yet"
                .to_string(),
        )
    } else if v.open.is_empty() {
        (Level::Ok, format!("no open follow-up as of {as_of}"))
    } else {
        (
            Level::Warn,
            format!(
                "{} open follow-up(s) as of {as_of}, the oldest {} days old",
                v.open.len(),
                oldest.unwrap_or(0)
            ),
        )
    };
    let check = Check {
        name: "consent_follow_ups",
        level,
        message: message.clone(),
        basis: format!(
            "{} consent notice(s); a follow-up closes when the patient appears later without a consent problem",
            v.notices.len()
        ),
    };
    Verdict {
        week: Some(week),
        level,
        breaches: if level == Level::Ok {
            vec![]
        } else {
            vec![Breach {
                level,
                check: "consent_follow_ups",
                message,
            }]
        },
        checks: vec![check],
    }
}

impl ReportModel {
    /// What the charts draw (the PNG files and the inline SVGs alike).
    pub fn chart_data(&self, top: usize) -> crate::charts::ChartData<'_> {
        crate::charts::ChartData::of(
            &self.chart_rows,
            TrendBy::Field.label(),
            self.min_acceptance_rate,
            top,
            format!("{} to {}", week_label(self.since), week_label(self.week)),
        )
    }
}
