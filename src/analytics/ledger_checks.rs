//! The `check` rules built on the message ledger (README, "Check rules"), each with its
//! threshold in `[thresholds]` and its basis:
//!
//! - `new_code` (warn): a registry code first seen in the checked week;
//! - `answer_overdue` (warn): a sent batch with no answer after the profile's
//!   `report_overdue_days`;
//! - `not_mentioned` (warn): sent messages of the week their batch's answer does not mention
//!   (more than `max_unmentioned_messages`);
//! - `site_acceptance` (fail, naming the site): a site whose answered messages of the week were
//!   accepted below `min_site_acceptance_rate` (sites with fewer than `min_site_messages`
//!   answered messages are not judged);
//! - `site_silent` (warn): a site that usually sends (the median of its messages over the
//!   `usual_weeks` before, at least `min_usual_messages`) sent nothing;
//! - `volume_drop` (warn): such a site sent less than `volume_drop_share` of its usual volume;
//! - `new_product` (warn): a vaccine (CVX) given in the week that no earlier batch held.
//!
//! The volume alerts judge a finished week: while the checked week is in progress they judge
//! the week before (and say so).
//!
//! The ledger rules run once the ledger holds sent batches; `new_code` runs on the reports.
//! Each is a `rule_…` function of [`Inputs`] and a row of [`RULES`] (their print order).

use chrono::{Duration, NaiveDate};

use super::breakdown;
use super::verdict::{Check, Found, Inputs, Level, Reads, Rule, pct};
use super::{AnalyticsError, History, week_label};
use crate::config::Thresholds;
use crate::store::Store;
use crate::store::ledger::LedgerKey;

/// The ledger's rules, in the order they print (after the report rules).
pub(super) static RULES: &[Rule] = &[
    Rule {
        name: "new_code",
        reads: Reads::History,
        check: rule_new_code,
    },
    Rule {
        name: "answer_overdue",
        reads: Reads::Ledger,
        check: rule_answer_overdue,
    },
    Rule {
        name: "not_mentioned",
        reads: Reads::Ledger,
        check: rule_not_mentioned,
    },
    Rule {
        name: "site_acceptance",
        reads: Reads::Ledger,
        check: rule_site_acceptance,
    },
    Rule {
        name: "site_silent and volume_drop",
        reads: Reads::Ledger,
        check: rule_volume,
    },
    Rule {
        name: "new_product",
        reads: Reads::Ledger,
        check: rule_new_product,
    },
];

/// What the ledger rules need besides the thresholds.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub week: NaiveDate,
    pub today: NaiveDate,
    pub overdue_days: u32,
}

/// Codes first seen in `week` (None when the history has no earlier week to compare).
pub fn new_codes(h: &History, week: NaiveDate) -> Result<Option<Vec<String>>, AnalyticsError> {
    let rows = super::trends::trends(
        h,
        &super::trends::TrendOptions {
            by: super::trends::TrendBy::Code,
            until: Some(week + Duration::days(6)),
            ..Default::default()
        },
    )?;
    if !rows.iter().any(|r| r.week < week) {
        return Ok(None);
    }
    let before: std::collections::HashSet<&str> = rows
        .iter()
        .filter(|r| r.week < week)
        .map(|r| r.key.as_str())
        .collect();
    let mut new: Vec<String> = rows
        .iter()
        .filter(|r| r.week == week && r.key != super::trends::NONE_KEY)
        .filter(|r| !before.contains(r.key.as_str()))
        .map(|r| r.key.clone())
        .collect();
    new.sort();
    new.dedup();
    Ok(Some(new))
}

/// The context of a ledger rule: the store, the profile, the week, today.
fn context<'a>(i: &Inputs<'a>) -> Option<(&'a Store, &'a History, Context)> {
    let (store, h) = i.store?;
    let c = Context {
        week: i.week,
        today: i.today,
        overdue_days: i.overdue_days,
    };
    Some((store, h, c))
}

/// `new_code` (when `warn_new_codes`; needs an earlier week to compare).
pub(super) fn rule_new_code(i: &Inputs<'_>, out: &mut Found) -> Result<(), AnalyticsError> {
    let Some((_, h, c)) = context(i) else {
        return Ok(());
    };
    if i.t.warn_new_codes
        && let Some(new) = new_codes(h, c.week)?
    {
        out.checks.push(new_code(&new, c.week));
    }
    Ok(())
}

pub(super) fn rule_answer_overdue(i: &Inputs<'_>, out: &mut Found) -> Result<(), AnalyticsError> {
    if let Some((store, h, c)) = context(i) {
        out.checks
            .push(answer_overdue(store, h.profile.as_deref(), c)?);
    }
    Ok(())
}

pub(super) fn rule_not_mentioned(i: &Inputs<'_>, out: &mut Found) -> Result<(), AnalyticsError> {
    if let Some((store, h, c)) = context(i) {
        out.checks
            .push(not_mentioned(store, h.profile.as_deref(), i.t, c)?);
    }
    Ok(())
}

pub(super) fn rule_site_acceptance(i: &Inputs<'_>, out: &mut Found) -> Result<(), AnalyticsError> {
    if let Some((store, h, c)) = context(i) {
        out.checks
            .push(site_acceptance(store, h.profile.as_deref(), i.t, c)?);
    }
    Ok(())
}

/// `site_silent` and `volume_drop` (when `usual_weeks` is not 0).
pub(super) fn rule_volume(i: &Inputs<'_>, out: &mut Found) -> Result<(), AnalyticsError> {
    if let Some((store, h, c)) = context(i)
        && i.t.usual_weeks > 0
    {
        out.checks
            .extend(volume(store, h.profile.as_deref(), i.t, c)?);
    }
    Ok(())
}

/// `new_product` (when `warn_new_products`; needs an earlier week to compare).
pub(super) fn rule_new_product(i: &Inputs<'_>, out: &mut Found) -> Result<(), AnalyticsError> {
    if let Some((store, h, c)) = context(i)
        && i.t.warn_new_products
        && let Some(check) = new_product(store, h.profile.as_deref(), c.week)?
    {
        out.checks.push(check);
    }
    Ok(())
}

/// The week the volume alerts judge: the checked one once it is over, else the one before.
fn finished_week(c: Context) -> NaiveDate {
    if c.week + Duration::days(7) > c.today {
        c.week - Duration::weeks(1)
    } else {
        c.week
    }
}

/// `site_silent` and `volume_drop`: each site's messages in the judged week against the
/// median of the `usual_weeks` before it (weeks it sent nothing count as 0).
fn volume(
    store: &Store,
    profile: Option<&str>,
    t: &Thresholds,
    c: Context,
) -> Result<Vec<Check>, AnalyticsError> {
    let week = finished_week(c);
    let first = week - Duration::weeks(t.usual_weeks as i64);
    let rows = store.ledger_messages(LedgerKey::Site, profile, (Some(first), Some(week)))?;
    let mut per: std::collections::BTreeMap<&str, std::collections::BTreeMap<String, i64>> =
        Default::default();
    for r in &rows {
        *per.entry(&r.key)
            .or_default()
            .entry(r.week.clone())
            .or_default() += r.messages;
    }
    let label = week_label(week);
    let in_progress = if week == c.week {
        String::new()
    } else {
        format!(" ({} is still in progress)", week_label(c.week))
    };
    let (mut silent, mut dropped, mut judged) = (Vec::new(), Vec::new(), 0);
    for (site, weeks) in &per {
        let mut before: Vec<i64> = (1..=t.usual_weeks as i64)
            .map(|i| {
                let w = (week - Duration::weeks(i)).to_string();
                weeks.get(&w).copied().unwrap_or(0)
            })
            .collect();
        before.sort_unstable();
        let n = before.len();
        let usual = if n % 2 == 1 {
            before[n / 2] as f64
        } else {
            (before[n / 2 - 1] + before[n / 2]) as f64 / 2.0
        };
        if usual < t.min_usual_messages as f64 {
            continue;
        }
        judged += 1;
        let now = weeks.get(&week.to_string()).copied().unwrap_or(0);
        if now == 0 {
            silent.push(format!("{site} (usually {usual})"));
        } else if (now as f64) < usual * t.volume_drop_share {
            dropped.push(format!("{site} {now} messages (usually {usual})"));
        }
    }
    let basis = format!(
        "{judged} site(s) with a usual volume of at least {} messages: the median of the {} weeks before {label} (usual_weeks = {}, volume_drop_share = {}){in_progress}",
        t.min_usual_messages, t.usual_weeks, t.usual_weeks, t.volume_drop_share
    );
    // no site with a usual volume to judge: nothing is known either way
    let none_judged = format!(
        "no site sent a median of {} messages a week in the {} weeks before {label}: volume is not judged (lower min_usual_messages for a small practice)",
        t.min_usual_messages, t.usual_weeks
    );
    let level = |found: &[String]| {
        if judged == 0 {
            Level::Unknown
        } else {
            Level::warn_if(!found.is_empty())
        }
    };
    Ok(vec![
        Check {
            name: "site_silent",
            level: level(&silent),
            message: if judged == 0 {
                none_judged.clone()
            } else if silent.is_empty() {
                format!("every site that usually sends sent messages in {label}")
            } else {
                format!(
                    "{} site(s) sent nothing in {label}: {} (is the EHR's interface down for them?)",
                    silent.len(),
                    silent.join(", ")
                )
            },
            basis: basis.clone(),
        },
        Check {
            name: "volume_drop",
            level: level(&dropped),
            message: if judged == 0 {
                none_judged
            } else if dropped.is_empty() {
                format!(
                    "no site sent less than {} of its usual volume in {label}",
                    pct(t.volume_drop_share)
                )
            } else {
                format!(
                    "{} site(s) sent less than {} of their usual volume in {label}: {}",
                    dropped.len(),
                    pct(t.volume_drop_share),
                    dropped.join(", ")
                )
            },
            basis,
        },
    ])
}

/// `new_product`: vaccines given in the week that no earlier week of the ledger held (None
/// when the ledger has no earlier week to compare).
fn new_product(
    store: &Store,
    profile: Option<&str>,
    week: NaiveDate,
) -> Result<Option<Check>, AnalyticsError> {
    let rows = store.ledger_messages(LedgerKey::Vaccine, profile, (None, Some(week)))?;
    let this = week.to_string();
    if !rows.iter().any(|r| r.week < this) {
        return Ok(None);
    }
    let before: std::collections::HashSet<&str> = rows
        .iter()
        .filter(|r| r.week < this)
        .map(|r| r.key.as_str())
        .collect();
    let mut new: Vec<&str> = rows
        .iter()
        .filter(|r| r.week == this && !before.contains(r.key.as_str()))
        .map(|r| r.key.as_str())
        .collect();
    new.sort_unstable();
    new.dedup();
    let label = week_label(week);
    let named: Vec<String> = new
        .iter()
        .map(|c| format!("{c} ({})", crate::vaccines::names_of(c)))
        .collect();
    Ok(Some(Check {
        name: "new_product",
        level: Level::warn_if(!new.is_empty()),
        message: if new.is_empty() {
            format!("no vaccine first given in {label}")
        } else {
            format!(
                "{} vaccine(s) first sent in {label}: {} (check the EHR maps it to the right CVX and MVX)",
                new.len(),
                named.join(", ")
            )
        },
        basis: format!(
            "administered doses of {label} against every earlier week of the ledger ({} vaccine(s) before)",
            before.len()
        ),
    }))
}

/// `new_code`: the codes first seen in the week (`new`).
fn new_code(new: &[String], week: NaiveDate) -> Check {
    let label = week_label(week);
    Check {
        name: "new_code",
        level: Level::warn_if(!new.is_empty()),
        message: if new.is_empty() {
            format!("no code first seen in {label}")
        } else {
            format!(
                "{} code(s) first seen in {label}: {} (see `immdqa explain`)",
                new.len(),
                new.join(", ")
            )
        },
        basis: format!("codes of {label} against every earlier week of the history"),
    }
}

/// `answer_overdue`: sent batches with no answer after the overdue period.
fn answer_overdue(
    store: &Store,
    profile: Option<&str>,
    c: Context,
) -> Result<Check, AnalyticsError> {
    let unanswered = store.unanswered_batches(profile)?;
    let due = c.today - Duration::days(c.overdue_days as i64);
    let overdue: Vec<&(String, String, i64)> = unanswered
        .iter()
        .filter(|(_, d, _)| NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok_and(|d| d < due))
        .collect();
    Ok(Check {
        name: "answer_overdue",
        level: Level::warn_if(!overdue.is_empty()),
        message: if overdue.is_empty() {
            "every sent batch older than the overdue period has an answer".into()
        } else {
            format!(
                "{} sent batch(es) with no answer after {} days: {}",
                overdue.len(),
                c.overdue_days,
                overdue
                    .iter()
                    .take(5)
                    .map(|(n, d, m)| format!("{n} (sent {d}, {m} messages)"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        basis: format!(
            "{} batch(es) of the ledger without an answer, report_overdue_days = {}, today {}",
            unanswered.len(),
            c.overdue_days,
            c.today
        ),
    })
}

/// `not_mentioned`: sent messages of the week their batch's answer does not mention.
fn not_mentioned(
    store: &Store,
    profile: Option<&str>,
    t: &Thresholds,
    c: Context,
) -> Result<Check, AnalyticsError> {
    let label = week_label(c.week);
    let unmentioned = store.not_mentioned(profile, c.week)?;
    let n: i64 = unmentioned.iter().map(|(_, n)| n).sum();
    Ok(Check {
        name: "not_mentioned",
        level: Level::warn_if(n > t.max_unmentioned_messages as i64),
        message: if n == 0 {
            format!("the answers of {label} mention every sent message")
        } else {
            format!(
                "{n} sent message(s) of {label} not mentioned by their batch's answer: {}",
                unmentioned
                    .iter()
                    .map(|(b, k)| format!("{b} ({k})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        basis: format!(
            "sent messages of {label} joined to their answers on MSH-10 (max_unmentioned_messages = {})",
            t.max_unmentioned_messages
        ),
    })
}

/// `site_acceptance`: sites whose answered messages of the week were accepted below the
/// threshold (a site resting on inferred acceptances can fail, never pass).
fn site_acceptance(
    store: &Store,
    profile: Option<&str>,
    t: &Thresholds,
    c: Context,
) -> Result<Check, AnalyticsError> {
    let label = week_label(c.week);
    let weekly = breakdown::weekly_acceptance(&store.ledger_acceptance(
        LedgerKey::Site,
        profile,
        (Some(c.week), Some(c.week)),
    )?);
    let week_text = c.week.to_string();
    let sites: Vec<_> = weekly.iter().filter(|g| g.week == week_text).collect();
    let judged: Vec<_> = sites
        .iter()
        .filter(|g| {
            g.accepted + g.accepted_with_warnings + g.rejected >= t.min_site_messages as i64
        })
        .collect();
    let below: Vec<String> = judged
        .iter()
        .filter_map(|g| {
            let r = breakdown::acceptance_rate(g)?;
            (r < t.min_site_acceptance_rate).then(|| {
                format!(
                    "{} {} ({} of {} answered messages rejected)",
                    g.key,
                    pct(r),
                    g.rejected,
                    g.accepted + g.accepted_with_warnings + g.rejected
                )
            })
        })
        .collect();
    // an acceptance inferred from a listing of issues is an upper bound: below the threshold
    // it proves a failure, above it proves nothing
    let inferred: Vec<&str> = judged
        .iter()
        .filter(|g| g.inferred > 0)
        .map(|g| g.key.as_str())
        .collect();
    let level = if !below.is_empty() {
        Level::Fail
    } else if judged.is_empty() || !inferred.is_empty() {
        Level::Unknown
    } else {
        Level::Ok
    };
    Ok(Check {
        name: "site_acceptance",
        level,
        message: match level {
            Level::Fail => format!(
                "site acceptance below {} in {label}: {}",
                pct(t.min_site_acceptance_rate),
                below.join("; ")
            ),
            Level::Unknown if judged.is_empty() => format!(
                "no site had {} answered messages in {label}: acceptance per site is not known",
                t.min_site_messages
            ),
            Level::Unknown => format!(
                "acceptance per site in {label} is at most what the answers show: a listing of issues does not say that the messages it leaves out were accepted ({})",
                inferred.join(", ")
            ),
            _ => format!(
                "every site at or above {} in {label}",
                pct(t.min_site_acceptance_rate)
            ),
        },
        basis: format!(
            "{} site(s) sent messages in {label}, {} with at least {} answered (min_site_acceptance_rate = {})",
            sites.len(),
            judged.len(),
            t.min_site_messages,
            t.min_site_acceptance_rate
        ),
    })
}
