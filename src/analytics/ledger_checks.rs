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
//!   answered messages are not judged).
//!
//! The ledger rules run once the ledger holds sent batches; `new_code` runs on the reports.

use chrono::{Duration, NaiveDate};

use super::breakdown;
use super::verdict::{Check, Level, pct};
use super::{AnalyticsError, History, week_label};
use crate::config::Thresholds;
use crate::store::Store;
use crate::store::ledger::LedgerKey;

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

/// Every ledger rule for the checked week.
pub fn checks(
    store: &Store,
    h: &History,
    t: &Thresholds,
    c: Context,
) -> Result<Vec<Check>, AnalyticsError> {
    let mut out = Vec::new();
    if t.warn_new_codes
        && let Some(new) = new_codes(h, c.week)?
    {
        out.push(new_code(&new, c.week));
    }
    if !store.has_ledger()? {
        return Ok(out);
    }
    let profile = h.profile.as_deref();
    out.push(answer_overdue(store, profile, c)?);
    out.push(not_mentioned(store, profile, t, c)?);
    out.push(site_acceptance(store, profile, t, c)?);
    Ok(out)
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
