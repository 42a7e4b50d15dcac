//! Step one of a report: the model. Everything the page shows is computed here, from the
//! store and the analytics, into [`ReportModel`]; [`super::render`] turns it into HTML and
//! charts without any store access, and [`super::write`] writes the folder. A new section is
//! one field here and one piece of template in `render`.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};

use crate::analytics::breakdown::{self, Timeliness};
use crate::analytics::consent::{self, ConsentView, WeeklyConsent};
use crate::analytics::submissions::{self, SubmissionRow};
use crate::analytics::thresholds::{Level, Verdict};
use crate::analytics::trends::{self, TrendBy, TrendOptions, TrendRow};
use crate::analytics::{AnalyticsError, History, changes, week_label, week_start};
use crate::charts::Kind;
use crate::config::WorklistConfig;
use crate::domain::Owner;
use crate::formats::codes::catalogue;
use crate::ledger::owners::Owners;
use crate::ledger::worklist::{self, Filter, Item, ItemStatus};
use crate::store::Store;
use crate::store::ledger::{AcceptanceGroup, LedgerKey};

/// What the ledger sections need besides the store and the history.
#[derive(Debug, Clone, Copy)]
pub struct LedgerSettings<'a> {
    pub worklist: &'a WorklistConfig,
    pub owners: &'a crate::config::OwnersConfig,
    pub today: NaiveDate,
}

/// Week over week, for a top issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrow {
    Up,
    Down,
    Flat,
    /// Not in the previous week.
    New,
}

impl Arrow {
    pub fn symbol(self) -> &'static str {
        match self {
            Arrow::Up => "↑",
            Arrow::Down => "↓",
            Arrow::Flat => "→",
            Arrow::New => "new",
        }
    }
}

/// One row of "what do I fix first".
#[derive(Debug, Clone, PartialEq)]
pub struct TopIssue {
    pub code: String,
    pub owner: Owner,
    /// Occurrences in the report week.
    pub findings: i64,
    /// Open worklist items carrying the code (all weeks).
    pub open_records: usize,
    pub arrow: Arrow,
    pub fix: Option<String>,
}

/// One site in the report week.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteRow {
    pub acceptance: AcceptanceGroup,
    pub findings: i64,
    pub per_1000: Option<f64>,
}

/// The ledger sections of a report.
#[derive(Debug, Clone, Default)]
pub struct LedgerModel {
    /// Whether the ledger holds any sent batch (the sections say so when it does not).
    pub has_ledger: bool,
    pub top_issues: Vec<TopIssue>,
    /// The open backlog by site × owner, most open first.
    pub backlog: Vec<BacklogRow>,
    /// Items whose fix the registry accepted in the report week.
    pub resolved_this_week: Vec<Item>,
    pub sites: Vec<SiteRow>,
    /// Every worklist item (open first in the page; all in worklist.csv).
    pub worklist: Vec<Item>,
    pub timeliness: Vec<Timeliness>,
}

impl LedgerModel {
    pub fn open_items(&self) -> usize {
        self.worklist
            .iter()
            .filter(|i| i.status == ItemStatus::Open)
            .count()
    }
}

/// One site × owner of the open backlog.
#[derive(Debug, Clone, PartialEq)]
pub struct BacklogRow {
    pub site: String,
    pub owner: crate::domain::Owner,
    pub open: usize,
    /// Opened in the report week.
    pub new_this_week: usize,
    pub oldest_days: Option<i64>,
    /// The most frequent code of the group and its fix.
    pub top_code: String,
    pub fix: Option<String>,
}

/// The open backlog by site × owner: what to fix first is where most records wait, oldest
/// first among equals.
pub fn backlog(items: &[Item], week: NaiveDate) -> Vec<BacklogRow> {
    let mut groups: std::collections::BTreeMap<(String, &'static str), Vec<&Item>> =
        Default::default();
    for i in items.iter().filter(|i| i.status == ItemStatus::Open) {
        groups
            .entry((i.site.clone(), i.owner.as_str()))
            .or_default()
            .push(i);
    }
    let mut rows: Vec<BacklogRow> = groups
        .into_values()
        .map(|g| {
            let mut codes: HashMap<&str, (usize, Option<&String>)> = HashMap::new();
            for i in &g {
                if let Some(c) = i.own_code() {
                    let e = codes.entry(c.code.as_str()).or_insert((0, c.fix.as_ref()));
                    e.0 += 1;
                }
            }
            let (top_code, (_, fix)) = codes
                .into_iter()
                .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.0.cmp(a.0)))
                .unwrap_or(("", (0, None)));
            BacklogRow {
                site: g[0].site.clone(),
                owner: g[0].owner,
                open: g.len(),
                new_this_week: g
                    .iter()
                    .filter(|i| {
                        i.opened
                            .is_some_and(|o| o >= week && o < week + Duration::days(7))
                    })
                    .count(),
                oldest_days: g.iter().filter_map(|i| i.age_days).max(),
                top_code: top_code.to_string(),
                fix: fix.cloned(),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.open
            .cmp(&a.open)
            .then(b.oldest_days.cmp(&a.oldest_days))
            .then(a.site.cmp(&b.site))
    });
    rows
}

/// The items whose fix the registry accepted in the week starting `week`.
fn resolved_in_week(
    store: &Store,
    profile: Option<&str>,
    worklist: &[Item],
    week: NaiveDate,
) -> Result<Vec<Item>, AnalyticsError> {
    let resolved_on: HashMap<i64, Option<String>> =
        store.worklist_resolved_on(profile)?.into_iter().collect();
    let in_week = |d: &str| {
        NaiveDate::parse_from_str(d.get(..10).unwrap_or(d), "%Y-%m-%d")
            .is_ok_and(|d| d >= week && d < week + Duration::days(7))
    };
    Ok(worklist
        .iter()
        .filter(|i| i.status == ItemStatus::Resolved)
        .filter(|i| {
            resolved_on
                .get(&i.id)
                .is_some_and(|d| d.as_deref().is_some_and(in_week))
        })
        .cloned()
        .collect())
}

/// Compute the ledger sections for the report week (`week`, its Monday) and window.
pub fn ledger_model(
    store: &Store,
    h: &History,
    week: NaiveDate,
    since: NaiveDate,
    settings: LedgerSettings<'_>,
    top: usize,
) -> Result<LedgerModel, AnalyticsError> {
    let profile = h.profile.as_deref();
    let owners = Owners::new(settings.owners);
    let has_ledger = store.has_ledger()?;
    let worklist = worklist::load(
        store,
        profile,
        settings.worklist,
        &owners,
        &Filter {
            all: true,
            ..Filter::default()
        },
        settings.today,
    )?;
    // top issues: codes of the report week, against the week before
    let by_code = trends::trends(
        h,
        &TrendOptions {
            by: TrendBy::Code,
            since: Some(week - Duration::weeks(1)),
            until: Some(week + Duration::days(6)),
            ..TrendOptions::default()
        },
    )?;
    let mut this: HashMap<&str, (i64, Option<f64>)> = HashMap::new();
    let mut prev: HashMap<&str, (i64, Option<f64>)> = HashMap::new();
    let mut fields: HashMap<&str, &str> = HashMap::new();
    for r in &by_code {
        let m = if r.week == week { &mut this } else { &mut prev };
        let e = m.entry(r.key.as_str()).or_insert((0, Some(0.0)));
        e.0 += r.findings;
        e.1 = e.1.zip(r.per_1000).map(|(a, b)| a + b);
        fields.entry(r.key.as_str()).or_insert(r.severity.as_str());
    }
    let mut open_by_code: HashMap<String, usize> = HashMap::new();
    for i in worklist.iter().filter(|i| i.status == ItemStatus::Open) {
        for c in &i.codes {
            *open_by_code.entry(c.code.clone()).or_default() += 1;
        }
    }
    let mut top_issues: Vec<TopIssue> = this
        .iter()
        .filter(|(code, _)| **code != trends::NONE_KEY)
        .filter(|(code, _)| {
            !settings
                .worklist
                .ignore_codes
                .iter()
                .any(|c| c.eq_ignore_ascii_case(code))
        })
        .map(|(code, (n, rate))| {
            let arrow = match prev.get(code) {
                None => Arrow::New,
                Some((pn, prate)) => {
                    let (a, b) = match (rate, prate) {
                        (Some(a), Some(b)) => (*a, *b),
                        _ => (*n as f64, *pn as f64),
                    };
                    if a > b * 1.05 {
                        Arrow::Up
                    } else if a < b * 0.95 {
                        Arrow::Down
                    } else {
                        Arrow::Flat
                    }
                }
            };
            let info = catalogue().get(code);
            TopIssue {
                code: code.to_string(),
                owner: owners.of(code, info.and_then(|i| i.field.as_deref()).unwrap_or("")),
                findings: *n,
                open_records: open_by_code.get(*code).copied().unwrap_or(0),
                arrow,
                fix: info.map(|i| i.fix.clone()),
            }
        })
        .collect();
    top_issues.sort_by(|a, b| {
        b.open_records
            .cmp(&a.open_records)
            .then(b.findings.cmp(&a.findings))
            .then(a.code.cmp(&b.code))
    });
    top_issues.truncate(top.max(10));
    // sites: the week's acceptance, with findings per 1,000 of the site's messages
    let week_text = week.to_string();
    let acceptance = breakdown::weekly_acceptance(&store.ledger_acceptance(
        LedgerKey::Site,
        profile,
        (Some(week), Some(week)),
    )?);
    let site_trend = breakdown::trends(
        store,
        profile,
        &TrendOptions {
            by: TrendBy::Site,
            since: Some(week),
            until: Some(week + Duration::days(6)),
            ..TrendOptions::default()
        },
        &owners,
    )?;
    let sites = acceptance
        .into_iter()
        .filter(|g| g.week == week_text)
        .map(|g| {
            let rows: Vec<_> = site_trend.iter().filter(|r| r.key == g.key).collect();
            let findings = rows.iter().map(|r| r.findings).sum();
            let per_1000 = (g.messages > 0).then(|| findings as f64 * 1000.0 / g.messages as f64);
            SiteRow {
                acceptance: g,
                findings,
                per_1000,
            }
        })
        .collect();
    let timeliness =
        breakdown::timeliness(store, profile, Some(since), Some(week + Duration::days(6)))?;
    let resolved_this_week = resolved_in_week(store, profile, &worklist, week)?;
    Ok(LedgerModel {
        has_ledger,
        top_issues,
        backlog: backlog(&worklist, week),
        resolved_this_week,
        sites,
        worklist,
        timeliness,
    })
}

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
        .unwrap_or_else(|| week_start(chrono::Local::now().date_naive()));
    let until = week + Duration::days(6);
    let since = week - Duration::weeks(def.weeks.saturating_sub(1) as i64);
    let trend = trends::trends(
        &h,
        &TrendOptions {
            by: TrendBy::Field,
            since: Some(since),
            until: Some(until),
            top: None,
            split_profiles: false,
        },
    )?;
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
    let mut verdict = crate::analytics::thresholds::evaluate_submissions(
        store,
        &h,
        thresholds,
        &window_subs,
        Some(week),
        settings.ledger,
    )?;
    let needs_ledger = def.tables.iter().any(|t| t.is_ledger_section())
        || def.exports.contains(&super::ExportKind::Worklist)
        || def.charts.contains(&Kind::Timeliness);
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
    let consent_as_of = until.min(chrono::Local::now().date_naive());
    let cview = if needs_consent {
        consent::consent(store, &h, consent_as_of)?
    } else {
        ConsentView::default()
    };
    let mut weekly = cview.weekly.clone();
    weekly.retain(|w| w.week >= since && w.week <= until);
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
    // the weeks of the window that hold at least one report
    let covered: std::collections::BTreeSet<NaiveDate> = h
        .reports
        .iter()
        .filter_map(|r| r.week)
        .filter(|w| *w >= since && *w <= week)
        .collect();
    let coverage = match (covered.first(), covered.last()) {
        (Some(first), Some(last)) => format!(
            "{} of {} weeks with reports ({} to {})",
            covered.len(),
            def.weeks,
            week_label(*first),
            week_label(*last)
        ),
        _ => format!("no reports in the {} weeks shown", def.weeks),
    };
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
        crate::charts::ChartData {
            trend: &self.trend,
            key_label: "HL7 field",
            submissions: &self.submissions,
            consent: &self.consent_weekly,
            timeliness: &self.ledger.timeliness,
            min_acceptance_rate: self.min_acceptance_rate,
            top,
            subtitle: format!("{} to {}", week_label(self.since), week_label(self.week)),
        }
    }
}
