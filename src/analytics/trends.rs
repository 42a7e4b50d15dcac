//! Field trends: findings per ISO week × HL7 field (or registry code, or severity) × severity,
//! with the rate per 1,000 messages where the week's message counts are known.

use std::collections::HashMap;

use chrono::NaiveDate;
use polars::prelude::*;

use super::{AnalyticsError, History, from_days, int_at, str_at, week_label};
use crate::table::{Table, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrendBy {
    #[default]
    Field,
    Code,
    Severity,
    /// RXA-11.4 (else MSH-4) of the sent message: needs the message ledger.
    Site,
    /// CVX (else NDC) of the sent message's administered doses: needs the ledger.
    Vaccine,
    /// CDC's vaccine groups (DTAP, HepB, FLU…) of the administered doses: needs the ledger.
    VaccineGroup,
    /// RXA-10 of the sent message's administered doses: needs the ledger.
    Provider,
    /// Who fixes the code (front_desk, clinical, interface, registry, consent).
    Owner,
}

impl TrendBy {
    pub fn column(self) -> &'static str {
        match self {
            TrendBy::Field => "field",
            TrendBy::Code => "code",
            TrendBy::Severity => "severity",
            TrendBy::Site => "site",
            TrendBy::Vaccine => "vaccine",
            TrendBy::VaccineGroup => "vaccine_group",
            TrendBy::Provider => "provider",
            TrendBy::Owner => "owner",
        }
    }
    /// What a person calls the key (charts' axis and legend).
    pub fn label(self) -> &'static str {
        match self {
            TrendBy::Field => "HL7 field",
            TrendBy::Code => "registry code",
            TrendBy::Severity => "severity",
            TrendBy::Site => "site",
            TrendBy::Vaccine => "vaccine",
            TrendBy::VaccineGroup => "vaccine group",
            TrendBy::Provider => "provider",
            TrendBy::Owner => "owner",
        }
    }
    /// Whether the breakdown comes from the message ledger (sent messages joined to their
    /// answers) rather than from the reports alone.
    pub fn from_ledger(self) -> bool {
        matches!(
            self,
            TrendBy::Site
                | TrendBy::Vaccine
                | TrendBy::VaccineGroup
                | TrendBy::Provider
                | TrendBy::Owner
        )
    }
}

#[derive(Debug, Clone, Default)]
pub struct TrendOptions {
    pub by: TrendBy,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    /// Keep only the N keys with the most findings over the whole range.
    pub top: Option<usize>,
    /// With several profiles in view (none selected), one row per profile (the `trends`
    /// table and export) instead of their sum (charts, thresholds).
    pub split_profiles: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrendRow {
    /// The profile of the row: the selected one, each one when several are shown side by
    /// side, None when several are summed.
    pub profile: Option<String>,
    /// The profile's import code (from its batch names), when known.
    pub import_code: Option<String>,
    /// Monday of the ISO week.
    pub week: NaiveDate,
    /// The field, code or severity (`(none)` when the report gave none).
    pub key: String,
    /// E/W/I (for `--by severity` the same as `key`).
    pub severity: String,
    pub findings: i64,
    pub messages: Option<i64>,
    pub per_1000: Option<f64>,
}

pub const NONE_KEY: &str = "(none)";

/// Compute the trend rows, sorted by week, then findings (descending), then key.
pub fn trends(h: &History, opts: &TrendOptions) -> Result<Vec<TrendRow>, AnalyticsError> {
    if opts.by.from_ledger() {
        return Err(AnalyticsError::Usage(format!(
            "--by {} needs the message ledger (breakdown::trends_any)",
            opts.by.column()
        )));
    }
    let key = opts.by.column();
    let mut group: Vec<Expr> = vec![col("week"), col(key).fill_null(lit(NONE_KEY)).alias("key")];
    if opts.by != TrendBy::Severity {
        group.push(col("severity"));
    }
    let by_profile = h.by_profile() && opts.split_profiles;
    if by_profile {
        group.push(col("profile"));
    }
    let keys: &[&str] = if opts.by == TrendBy::Severity {
        &["severity"]
    } else {
        &[key, "severity"]
    };
    let df = h
        .per_report_with_week(opts.since, opts.until, keys)?
        .group_by(group)
        .agg([col("findings").sum()])
        .collect()?;
    let messages = h.messages_per_profile_week();
    let codes = h.import_codes();
    let week_messages = h.messages_per_week();
    let mut rows = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let week = from_days(int_at(&df, "week", i)?.unwrap_or(0) as i32);
        let key = str_at(&df, "key", i)?.unwrap_or_else(|| NONE_KEY.into());
        let severity = if opts.by == TrendBy::Severity {
            key.clone()
        } else {
            str_at(&df, "severity", i)?.unwrap_or_default()
        };
        let findings = int_at(&df, "findings", i)?.unwrap_or(0);
        let profile = if by_profile {
            str_at(&df, "profile", i)?
        } else {
            h.profile.clone()
        };
        let import_code = profile.as_deref().and_then(|p| codes.get(p).cloned());
        let m = if by_profile {
            messages.get(&(profile.clone(), week)).copied()
        } else {
            week_messages.get(&week).copied()
        }
        .filter(|m| *m > 0);
        rows.push(TrendRow {
            profile,
            import_code,
            week,
            key,
            severity,
            findings,
            messages: m,
            per_1000: m.map(|m| findings as f64 * 1000.0 / m as f64),
        });
    }
    top_and_order(&mut rows, opts.top);
    Ok(rows)
}

/// Keep the rows of the `top` keys with most findings (when given), then order by week,
/// findings (descending), key, severity and profile: every breakdown's last step.
pub(super) fn top_and_order(rows: &mut Vec<TrendRow>, top: Option<usize>) {
    if let Some(n) = top {
        let keep: std::collections::HashSet<String> = totals_by_key(rows)
            .into_iter()
            .take(n)
            .map(|(k, _)| k)
            .collect();
        rows.retain(|r| keep.contains(&r.key));
    }
    rows.sort_by(|a, b| {
        a.week
            .cmp(&b.week)
            .then(b.findings.cmp(&a.findings))
            .then(a.key.cmp(&b.key))
            .then(a.severity.cmp(&b.severity))
            .then(a.profile.cmp(&b.profile))
    });
}

/// The trend rows as a table: the documented, typed schema of `export trends`
/// (docs/export-schemas.md), the same whether or not it has rows.
pub fn table(rows: &[TrendRow], by: TrendBy) -> Table {
    use crate::table::ColType::{Date, Float, Int, Text};
    let mut cols = vec![
        ("week", Text),
        ("week_start", Date),
        (by.column(), Text),
        ("severity", Text),
        ("findings", Int),
        ("messages", Int),
        ("per_1000_messages", Float),
        ("profile", Text),
        ("import_code", Text),
    ];
    if by == TrendBy::Severity {
        cols.remove(3);
    }
    let named = by == TrendBy::Vaccine;
    if named {
        cols.insert(3, ("vaccine_name", Text));
    }
    let mut t = Table::typed(&cols);
    for r in rows {
        let mut row = vec![
            Value::text(week_label(r.week)),
            Value::Date(r.week),
            Value::text(&r.key),
            Value::text(&r.severity),
            Value::Int(r.findings),
            Value::opt_int(r.messages),
            Value::opt_float(r.per_1000),
            Value::opt_text(r.profile.as_deref()),
            Value::opt_text(r.import_code.as_deref()),
        ];
        if by == TrendBy::Severity {
            row.remove(3);
        }
        if named {
            row.insert(3, Value::text(crate::vaccines::names_of(&r.key)));
        }
        t.push(row);
    }
    t
}

/// Total findings per key over all weeks, largest first (bar chart, heat map ordering).
pub fn totals_by_key(rows: &[TrendRow]) -> Vec<(String, i64)> {
    let mut m: HashMap<&str, i64> = HashMap::new();
    for r in rows {
        *m.entry(&r.key).or_default() += r.findings;
    }
    let mut v: Vec<(String, i64)> = m.into_iter().map(|(k, n)| (k.to_string(), n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}
