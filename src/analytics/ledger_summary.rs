//! The sections built on the message ledger for one week: what to fix first (the open
//! backlog by site × owner, this week's codes with their owner, open records and trend), the
//! sites' acceptance, the fixes accepted this week, the worklist and timeliness. Computed
//! here once; the report, the command line and the web workspace only assemble them.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};

use super::breakdown::{self, Timeliness};
use super::trends::{self, TrendBy, TrendOptions};
use super::{AnalyticsError, History};
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
