//! The ledger's aggregate reads: breakdowns by site, vaccine or provider, timeliness and
//! acceptance per batch, bounded by weeks in SQL.

use crate::store::{Store, StoreError};

/// The weeks a ledger query aggregates: those holding the first and the last date, an end
/// open when None. Filtered in SQL: aggregating the whole ledger to keep one week cost half
/// a second per query at 1 M messages.
pub type Weeks = (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>);

/// The parameters of a ledger query bounded by [`Weeks`]: profile, first and last Monday.
fn week_params(
    profile: Option<&str>,
    (first, last): Weeks,
) -> (Option<&str>, Option<String>, Option<String>) {
    let monday = |d: Option<chrono::NaiveDate>| d.map(|d| crate::domain::week_start(d).to_string());
    (profile, monday(first), monday(last))
}

/// What a ledger breakdown is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerKey {
    Site,
    Vaccine,
    Provider,
}

impl LedgerKey {
    /// The query for this key: the site's own, or the per-dose one with its
    /// `ledger_vaccination` column filled in (a fixed name, never user input).
    fn query(self, site: &str, dose: &str) -> String {
        match self {
            LedgerKey::Site => site.to_string(),
            LedgerKey::Vaccine => dose.replace("{col}", "vaccine"),
            LedgerKey::Provider => dose.replace("{col}", "provider"),
        }
    }
}

/// Findings of one week × key × code × field × severity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingGroup {
    pub week: String,
    pub profile: String,
    pub key: String,
    pub code: Option<String>,
    pub field: Option<String>,
    pub severity: String,
    pub findings: i64,
}

/// Sent messages of one week × key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageGroup {
    pub week: String,
    pub profile: String,
    pub key: String,
    pub messages: i64,
}

/// Timeliness of one week × site.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelinessGroup {
    pub week: String,
    pub profile: String,
    pub site: String,
    pub doses: i64,
    pub within_1: i64,
    pub within_7: i64,
    pub within_30: i64,
    pub mean_days: Option<f64>,
}

impl Store {
    /// The rows behind `--by site|vaccine|provider|owner` (owner: by site, regrouped by code).
    pub fn ledger_breakdown(
        &self,
        key: LedgerKey,
        profile: Option<&str>,
        weeks: Weeks,
    ) -> Result<(Vec<FindingGroup>, Vec<MessageGroup>), StoreError> {
        let findings_sql = key.query(
            include_str!("../../../queries/store/breakdown_findings_site.sql"),
            include_str!("../../../queries/store/breakdown_findings_dose.sql"),
        );
        let findings = self.rows(&findings_sql, week_params(profile, weeks), |r| {
            Ok(FindingGroup {
                week: r.get(0)?,
                profile: r.get(1)?,
                key: r.get(2)?,
                code: r.get(3)?,
                field: r.get(4)?,
                severity: r.get(5)?,
                findings: r.get(6)?,
            })
        })?;
        let messages = self.ledger_messages(key, profile, weeks)?;
        Ok((findings, messages))
    }

    /// Sent messages per week × site, vaccine or provider (the breakdowns' denominators,
    /// `check`'s volume alerts).
    pub fn ledger_messages(
        &self,
        key: LedgerKey,
        profile: Option<&str>,
        weeks: Weeks,
    ) -> Result<Vec<MessageGroup>, StoreError> {
        let sql = key.query(
            include_str!("../../../queries/store/breakdown_messages_site.sql"),
            include_str!("../../../queries/store/breakdown_messages_dose.sql"),
        );
        self.rows(&sql, week_params(profile, weeks), |r| {
            Ok(MessageGroup {
                week: r.get(0)?,
                profile: r.get(1)?,
                key: r.get(2)?,
                messages: r.get(3)?,
            })
        })
    }

    /// Timeliness per week × site.
    pub fn timeliness(
        &self,
        profile: Option<&str>,
        weeks: Weeks,
    ) -> Result<Vec<TimelinessGroup>, StoreError> {
        self.rows(
            include_str!("../../../queries/store/timeliness.sql"),
            week_params(profile, weeks),
            |r| {
                Ok(TimelinessGroup {
                    week: r.get(0)?,
                    profile: r.get(1)?,
                    site: r.get(2)?,
                    doses: r.get(3)?,
                    within_1: r.get(4)?,
                    within_7: r.get(5)?,
                    within_30: r.get(6)?,
                    mean_days: r.get(7)?,
                })
            },
        )
    }
}

/// Answer statuses of one batch's messages of one site, vaccine or provider.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcceptanceGroup {
    pub batch: String,
    pub sent_on: Option<String>,
    pub week: String,
    pub profile: String,
    pub key: String,
    pub messages: i64,
    pub accepted: i64,
    pub accepted_with_warnings: i64,
    pub rejected: i64,
    pub pending: i64,
    pub not_mentioned: i64,
    /// Of `accepted`: inferred because a listing of issues does not name the message.
    pub inferred: i64,
}

impl Store {
    /// Answer statuses per batch × key (`submissions --by`, the report's sites, `check`).
    pub fn ledger_acceptance(
        &self,
        key: LedgerKey,
        profile: Option<&str>,
        weeks: Weeks,
    ) -> Result<Vec<AcceptanceGroup>, StoreError> {
        let sql = key.query(
            include_str!("../../../queries/store/ledger_acceptance_site.sql"),
            include_str!("../../../queries/store/ledger_acceptance_dose.sql"),
        );
        self.rows(&sql, week_params(profile, weeks), |r| {
            Ok(AcceptanceGroup {
                batch: r.get(0)?,
                sent_on: r.get(1)?,
                week: r.get(2)?,
                profile: r.get(3)?,
                key: r.get(4)?,
                messages: r.get(5)?,
                accepted: r.get(6)?,
                accepted_with_warnings: r.get(7)?,
                rejected: r.get(8)?,
                pending: r.get(9)?,
                not_mentioned: r.get(10)?,
                inferred: r.get(11)?,
            })
        })
    }
}
