//! The report's model for the sections built on the message ledger ("what do I fix first"):
//! computed from analytics and the store here, rendered by [`super::render`] without any
//! store access, written by [`super::build`]. A new section is one field here and one piece
//! of template in `render`.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate};

use crate::analytics::breakdown::{self, Timeliness};
use crate::analytics::trends::{self, TrendBy, TrendOptions};
use crate::analytics::{AnalyticsError, History};
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
    pub owners: &'a BTreeMap<String, Owner>,
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
    let has_ledger = store.ledger_counts()?.batches > 0;
    let worklist = worklist::items(
        store.worklist_rows(profile, true)?,
        settings.worklist,
        &owners,
        &Filter {
            all: true,
            ..Filter::default()
        },
        settings.today,
    );
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
    let acceptance =
        breakdown::weekly_acceptance(&store.ledger_acceptance(LedgerKey::Site, profile)?);
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
    Ok(LedgerModel {
        has_ledger,
        top_issues,
        sites,
        worklist,
        timeliness,
    })
}
