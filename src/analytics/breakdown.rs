//! Breakdowns from the message ledger: findings per week × site, vaccine, provider or owner
//! with the rate per 1,000 messages *of that site, vaccine or provider* (owner: of all sent
//! messages), and timeliness (days from administration to message) per site and week.
//!
//! Only findings linked to a sent message count (the primary report of each batch, as in
//! the field trends); historical doses (RXA-9 ≠ 00) are left out of the vaccine and provider
//! breakdowns and of timeliness. A message holding several vaccines counts once for each.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::trends::{TrendBy, TrendOptions, TrendRow};
use super::{AnalyticsError, week_label};
use crate::ledger::owners::Owners;
use crate::store::Store;
use crate::store::ledger::{AcceptanceGroup, LedgerKey};
use crate::table::{ColType, Table, Value};

/// Trend rows for any breakdown: the reports' fields, codes and severities from the
/// history, sites, vaccines, providers and owners from the ledger.
pub fn trends_any(
    store: &crate::store::Store,
    h: &super::History,
    opts: &TrendOptions,
    owners: &crate::ledger::owners::Owners<'_>,
) -> Result<Vec<TrendRow>, AnalyticsError> {
    if opts.by.from_ledger() {
        trends(store, h.profile.as_deref(), opts, owners)
    } else {
        super::trends::trends(h, opts)
    }
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// The keys a ledger row counts under: its own, or for vaccine groups each of its vaccine's
/// CDC groups (a vaccine of several groups, e.g. DTaP-HepB-IPV, counts in each; one of none
/// under `(no group)`).
fn keys_of(by: TrendBy, key: &str) -> Vec<String> {
    if by != TrendBy::VaccineGroup {
        return vec![key.to_string()];
    }
    let groups = crate::vaccines::current().groups_of(key);
    if groups.is_empty() {
        vec!["(no group)".to_string()]
    } else {
        groups.to_vec()
    }
}

/// Trend rows for `--by site|vaccine|vaccine-group|provider|owner`, sorted like the field
/// trends.
pub fn trends(
    store: &Store,
    profile: Option<&str>,
    opts: &TrendOptions,
    owners: &Owners<'_>,
) -> Result<Vec<TrendRow>, AnalyticsError> {
    let key = match opts.by {
        TrendBy::Site | TrendBy::Owner => LedgerKey::Site,
        TrendBy::Vaccine | TrendBy::VaccineGroup => LedgerKey::Vaccine,
        TrendBy::Provider => LedgerKey::Provider,
        other => {
            return Err(AnalyticsError::Usage(format!(
                "--by {} is not a ledger breakdown",
                other.column()
            )));
        }
    };
    let (findings, messages) = store.ledger_breakdown(key, profile, (opts.since, opts.until))?;
    let split = opts.split_profiles && profile.is_none();
    let profile_of = |p: &str| -> Option<String> {
        if split {
            Some(p.to_string())
        } else {
            profile.map(str::to_string)
        }
    };
    // denominators: per (profile, week, key); for owners, every message of the week
    let mut denominators: HashMap<(Option<String>, NaiveDate, String), i64> = HashMap::new();
    for m in &messages {
        let Some(w) = date(&m.week) else { continue };
        for k in keys_of(opts.by, &m.key) {
            let k = if opts.by == TrendBy::Owner {
                String::new()
            } else {
                k
            };
            *denominators
                .entry((profile_of(&m.profile), w, k))
                .or_default() += m.messages;
        }
    }
    let mut sums: HashMap<(Option<String>, NaiveDate, String, String), i64> = HashMap::new();
    for f in &findings {
        let Some(w) = date(&f.week) else {
            continue;
        };
        let keys = if opts.by == TrendBy::Owner {
            vec![
                owners
                    .of(
                        f.code.as_deref().unwrap_or(""),
                        f.field.as_deref().unwrap_or(""),
                    )
                    .as_str()
                    .to_string(),
            ]
        } else {
            keys_of(opts.by, &f.key)
        };
        for k in keys {
            *sums
                .entry((profile_of(&f.profile), w, k, f.severity.clone()))
                .or_default() += f.findings;
        }
    }
    let mut rows: Vec<TrendRow> = sums
        .into_iter()
        .map(|((profile, week, key, severity), n)| {
            let dk = if opts.by == TrendBy::Owner {
                String::new()
            } else {
                key.clone()
            };
            let m = denominators
                .get(&(profile.clone(), week, dk))
                .copied()
                .filter(|m| *m > 0);
            TrendRow {
                profile,
                import_code: None,
                week,
                key,
                severity,
                findings: n,
                messages: m,
                per_1000: m.map(|m| n as f64 * 1000.0 / m as f64),
            }
        })
        .collect();
    super::trends::top_and_order(&mut rows, opts.top);
    Ok(rows)
}

/// Timeliness of one site in one week.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeliness {
    pub week: NaiveDate,
    pub profile: String,
    pub site: String,
    pub doses: i64,
    pub within_1: f64,
    pub within_7: f64,
    pub within_30: f64,
    pub mean_days: Option<f64>,
}

/// Timeliness per week × site (administered doses only), within the range.
pub fn timeliness(
    store: &Store,
    profile: Option<&str>,
    since: Option<NaiveDate>,
    until: Option<NaiveDate>,
) -> Result<Vec<Timeliness>, AnalyticsError> {
    Ok(store
        .timeliness(profile, (since, until))?
        .into_iter()
        .filter_map(|g| {
            let week = date(&g.week)?;
            let share = |n: i64| n as f64 / g.doses.max(1) as f64;
            Some(Timeliness {
                week,
                profile: g.profile,
                site: g.site,
                doses: g.doses,
                within_1: share(g.within_1),
                within_7: share(g.within_7),
                within_30: share(g.within_30),
                mean_days: g.mean_days,
            })
        })
        .collect())
}

/// Timeliness as a table (`immdqa trends --timeliness`, the report).
pub fn timeliness_table(rows: &[Timeliness]) -> Table {
    let mut t = Table::typed(&[
        ("week", ColType::Text),
        ("week_start", ColType::Date),
        ("site", ColType::Text),
        ("doses", ColType::Int),
        ("within_1_day", ColType::Float),
        ("within_7_days", ColType::Float),
        ("within_30_days", ColType::Float),
        ("mean_days", ColType::Float),
        ("profile", ColType::Text),
    ]);
    for r in rows {
        t.push(vec![
            Value::text(week_label(r.week)),
            Value::Date(r.week),
            Value::text(&r.site),
            Value::Int(r.doses),
            Value::Float(r.within_1),
            Value::Float(r.within_7),
            Value::Float(r.within_30),
            Value::opt_float(r.mean_days),
            Value::text(&r.profile),
        ]);
    }
    t
}

/// What `submissions --by` breaks a batch down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Site,
    Vaccine,
    /// CDC's vaccine groups, over their vaccines (a message holding two vaccines of one group
    /// counts once for each).
    VaccineGroup,
    Provider,
}

impl By {
    pub fn key(self) -> LedgerKey {
        match self {
            By::Site => LedgerKey::Site,
            By::Vaccine | By::VaccineGroup => LedgerKey::Vaccine,
            By::Provider => LedgerKey::Provider,
        }
    }
    pub fn column(self) -> &'static str {
        match self {
            By::Site => "site",
            By::Vaccine => "vaccine",
            By::VaccineGroup => "vaccine_group",
            By::Provider => "provider",
        }
    }
}

/// Answer statuses per batch × site, vaccine or provider, batches on or after `since`.
pub fn acceptance(
    store: &Store,
    profile: Option<&str>,
    by: By,
    since: Option<NaiveDate>,
) -> Result<Vec<AcceptanceGroup>, AnalyticsError> {
    let rows = store.ledger_acceptance(by.key(), profile, (since, None))?;
    if by != By::VaccineGroup {
        return Ok(rows);
    }
    // per batch × vaccine, summed per batch × group
    let mut m: std::collections::BTreeMap<(String, String, String), AcceptanceGroup> =
        Default::default();
    for r in rows {
        for g in keys_of(TrendBy::VaccineGroup, &r.key) {
            let e = m
                .entry((r.profile.clone(), r.batch.clone(), g.clone()))
                .or_insert_with(|| AcceptanceGroup {
                    batch: r.batch.clone(),
                    sent_on: r.sent_on.clone(),
                    week: r.week.clone(),
                    profile: r.profile.clone(),
                    key: g,
                    ..Default::default()
                });
            add(e, &r);
        }
    }
    Ok(m.into_values().collect())
}

/// Add `r`'s counts to `e`.
fn add(e: &mut AcceptanceGroup, r: &AcceptanceGroup) {
    e.messages += r.messages;
    e.accepted += r.accepted;
    e.accepted_with_warnings += r.accepted_with_warnings;
    e.rejected += r.rejected;
    e.pending += r.pending;
    e.not_mentioned += r.not_mentioned;
    e.inferred += r.inferred;
}

/// The share of answered messages accepted (with or without warnings); None when none of
/// the messages has an answer yet.
pub fn acceptance_rate(g: &AcceptanceGroup) -> Option<f64> {
    let answered = g.accepted + g.accepted_with_warnings + g.rejected;
    (answered > 0).then(|| (g.accepted + g.accepted_with_warnings) as f64 / answered as f64)
}

/// Acceptance per week × key, batches of a week summed (`check`, the report).
pub fn weekly_acceptance(rows: &[AcceptanceGroup]) -> Vec<AcceptanceGroup> {
    let mut by: std::collections::BTreeMap<(String, String), AcceptanceGroup> = Default::default();
    for r in rows {
        let e = by
            .entry((r.week.clone(), r.key.clone()))
            .or_insert_with(|| AcceptanceGroup {
                week: r.week.clone(),
                profile: r.profile.clone(),
                key: r.key.clone(),
                ..Default::default()
            });
        add(e, r);
    }
    by.into_values().collect()
}

/// Per batch × key as a table (`submissions --by`).
pub fn acceptance_table(rows: &[AcceptanceGroup], by: By) -> Table {
    let named = by == By::Vaccine;
    let mut cols = vec![
        ("file", ColType::Text),
        ("date", ColType::Text),
        ("week", ColType::Text),
        (by.column(), ColType::Text),
    ];
    if named {
        cols.push(("vaccine_name", ColType::Text));
    }
    cols.extend([
        ("messages", ColType::Int),
        ("accepted", ColType::Int),
        ("accepted_with_warnings", ColType::Int),
        ("rejected", ColType::Int),
        ("no_answer", ColType::Int),
        ("not_mentioned", ColType::Int),
        ("acceptance_rate", ColType::Float),
        ("profile", ColType::Text),
    ]);
    // a terminal shows the rate first (CSV, JSON and --columns keep every column)
    let mut shown = vec!["file", "week", by.column()];
    if named {
        shown.push("vaccine_name");
    }
    shown.extend([
        "acceptance_rate",
        "messages",
        "accepted",
        "rejected",
        "no_answer",
        "not_mentioned",
        "accepted_with_warnings",
    ]);
    let mut t = Table::typed(&cols).show_by_default(&shown);
    for r in rows {
        let mut row = vec![
            Value::text(&r.batch),
            Value::opt_text(r.sent_on.as_deref()),
            Value::text(date(&r.week).map(week_label).unwrap_or_default()),
            Value::text(&r.key),
        ];
        if named {
            row.push(Value::text(crate::vaccines::names_of(&r.key)));
        }
        row.extend([
            Value::Int(r.messages),
            Value::Int(r.accepted),
            Value::Int(r.accepted_with_warnings),
            Value::Int(r.rejected),
            Value::Int(r.pending),
            Value::Int(r.not_mentioned),
            Value::opt_float(acceptance_rate(r)),
            Value::text(&r.profile),
        ]);
        t.push(row);
    }
    t
}
