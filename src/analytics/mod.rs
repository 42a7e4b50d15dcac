//! Analytics: the history turned into the tables users open the tool for.
//!
//! polars stays in this module. Findings are scanned from the columnar cache ([`cache`]);
//! reports, submissions and consent notices (small) come straight from the store. Each
//! pipeline returns plain result rows, convertible to a [`crate::table::Table`]:
//! [`trends`] (findings per ISO week × field/code/severity, rate per 1,000 messages),
//! [`submissions`] (per batch: counts, acceptance rate, top codes), [`changes`] (new,
//! resolved and persisting issues against the previous period), [`consent`] (notices per week
//! and open follow-ups), [`thresholds`] (the checks behind `check` and `report`),
//! [`completeness`] and [`score`] (the per-site scorecard; [`validity`] lints the archived
//! batches again).
//!
//! Several report shapes about one submission (an ACK and an errors.txt for the same batch)
//! would count its findings twice, so each submission contributes its *primary* report: the
//! most detailed shape (ACK, then tabular listing, then errors.txt, then spreadsheet export,
//! then summary HTML), the latest of equals. Uses: store, config (thresholds), ledger (owners, the worklist), formats
//! (the code catalogue), batch_name, table (every result as a table), vaccines (names), hl7
//! (lint, for validity).

pub mod breakdown;
pub mod cache;
pub mod changes;
pub mod chart_rows;
pub mod completeness;
pub mod consent;
pub mod export;
pub mod ledger_checks;
pub mod ledger_summary;
pub mod report_checks;
pub mod score;
pub mod submissions;
pub mod thresholds;
pub mod trends;
pub mod validity;
pub mod verdict;

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use polars::prelude::*;

use crate::domain::Kind;
use crate::store::analytics::ReportRow;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("analytics: {0}")]
    Polars(#[from] PolarsError),
    #[error("analytics cache: {0}")]
    Io(#[from] std::io::Error),
    /// A request that cannot be carried out as asked (the message says what to change).
    #[error("{0}")]
    Usage(String),
}

/// The week helpers are domain values (the store dates ledger rows by week too).
pub use crate::domain::{parse_week, week_label, week_start};

pub(crate) fn days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
}

pub(crate) fn from_days(n: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + Duration::days(n as i64)
}

/// A report with what the pipelines derive from it.
#[derive(Debug, Clone)]
pub struct ReportInfo {
    pub row: ReportRow,
    pub week: Option<NaiveDate>,
    /// Counts towards findings (the primary DQA report of its submission).
    pub primary: bool,
}

/// The loaded history: reports (in memory) and findings (a lazy scan of the cache), of one
/// profile or of every profile.
pub struct History {
    pub reports: Vec<ReportInfo>,
    findings: LazyFrame,
    /// The profile the history is scoped to (None: every profile in the store).
    pub profile: Option<String>,
    /// Profiles with reports in this view (sorted).
    pub profiles: Vec<String>,
}

impl History {
    /// Load every profile's history, refreshing the columnar cache first.
    pub fn load(store: &Store) -> Result<History, AnalyticsError> {
        History::load_scoped(store, None)
    }

    /// Load one profile's history (None: every profile), refreshing the columnar cache first.
    pub fn load_scoped(store: &Store, profile: Option<&str>) -> Result<History, AnalyticsError> {
        let all_rows = store.report_rows()?;
        let parts = cache::refresh(store, &all_rows)?;
        let mut findings = cache::scan(&parts)?;
        let total = all_rows.len();
        let rows: Vec<ReportRow> = match profile {
            None => all_rows,
            Some(p) => all_rows
                .into_iter()
                .filter(|r| r.profile.as_deref() == Some(p))
                .collect(),
        };
        // narrow the findings only when the scope leaves reports out (the usual store holds
        // one profile: no join on the hot path)
        if rows.len() < total {
            let ids = DataFrame::new(
                rows.len(),
                vec![Column::new(
                    "report_id".into(),
                    rows.iter().map(|r| r.id as u32).collect::<Vec<_>>(),
                )],
            )?;
            findings = findings.inner_join(ids.lazy(), col("report_id"), col("report_id"));
        }
        let mut profiles: Vec<String> = rows.iter().filter_map(|r| r.profile.clone()).collect();
        profiles.sort();
        profiles.dedup();
        // primary report per submission
        let mut best: HashMap<i64, (u8, i64)> = HashMap::new();
        for r in rows.iter().filter(|r| r.kind == Kind::Dqa) {
            if let Some(s) = r.submission_id {
                let cand = (r.format.rank(), -r.id);
                best.entry(s)
                    .and_modify(|b| {
                        if cand < *b {
                            *b = cand
                        }
                    })
                    .or_insert(cand);
            }
        }
        let reports = rows
            .into_iter()
            .map(|row| {
                let primary = row.kind == Kind::Dqa
                    && match row.submission_id {
                        Some(s) => best.get(&s).is_some_and(|b| b.1 == -row.id),
                        None => true,
                    };
                ReportInfo {
                    week: row.date.map(week_start),
                    primary,
                    row,
                }
            })
            .collect();
        Ok(History {
            reports,
            findings,
            profile: profile.map(str::to_string),
            profiles,
        })
    }

    /// Primary DQA reports dated within the range (both ends included; None = open).
    fn primary_in(
        &self,
        since: Option<NaiveDate>,
        until: Option<NaiveDate>,
    ) -> impl Iterator<Item = &ReportInfo> {
        self.reports.iter().filter(move |r| {
            r.primary
                && r.row
                    .date
                    .is_some_and(|d| since.is_none_or(|s| d >= s) && until.is_none_or(|u| d <= u))
        })
    }

    /// Whether results show several profiles side by side (none selected, several present):
    /// the profile becomes a column.
    pub fn by_profile(&self) -> bool {
        self.profile.is_none() && self.profiles.len() > 1
    }

    /// Primary DQA reports as a small frame: report_id, day (i32), week (i32, Monday), and
    /// the profile (str) when [`History::by_profile`].
    fn primary_frame(
        &self,
        since: Option<NaiveDate>,
        until: Option<NaiveDate>,
    ) -> PolarsResult<LazyFrame> {
        let sel: Vec<&ReportInfo> = self.primary_in(since, until).collect();
        let mut df = DataFrame::new(
            sel.len(),
            vec![
                Column::new(
                    "report_id".into(),
                    sel.iter().map(|r| r.row.id as u32).collect::<Vec<_>>(),
                ),
                Column::new(
                    "day".into(),
                    sel.iter()
                        .map(|r| days(r.row.date.unwrap()))
                        .collect::<Vec<_>>(),
                ),
                Column::new(
                    "week".into(),
                    sel.iter()
                        .map(|r| days(r.week.unwrap()))
                        .collect::<Vec<_>>(),
                ),
            ],
        )?;
        if self.by_profile() {
            df.with_column(Column::new(
                "profile".into(),
                sel.iter()
                    .map(|r| r.row.profile.clone())
                    .collect::<Vec<_>>(),
            ))?;
        }
        Ok(df.lazy())
    }

    /// The cached findings, narrowed (when a range is given) to the report ids of primary
    /// reports dated in the range: the cache is written in report order, so Parquet row
    /// groups outside that id span are skipped unread. A superset: join or look up the
    /// primary reports to finish the selection.
    pub(crate) fn findings_in(
        &self,
        since: Option<NaiveDate>,
        until: Option<NaiveDate>,
    ) -> LazyFrame {
        if since.is_none() && until.is_none() {
            return self.findings.clone();
        }
        let ids = self.primary_in(since, until).map(|r| r.row.id as u32);
        let (lo, hi) = ids.fold((u32::MAX, 0), |(lo, hi), id| (lo.min(id), hi.max(id)));
        self.findings.clone().filter(
            col("report_id")
                .gt_eq(lit(lo))
                .and(col("report_id").lt_eq(lit(hi))),
        )
    }

    /// Findings of primary reports in the date range, joined with their week.
    pub(crate) fn findings_with_week(
        &self,
        since: Option<NaiveDate>,
        until: Option<NaiveDate>,
    ) -> PolarsResult<LazyFrame> {
        Ok(self.findings_in(since, until).inner_join(
            self.primary_frame(since, until)?,
            col("report_id"),
            col("report_id"),
        ))
    }

    /// Occurrences (`findings`) per report and `keys`, for primary reports in the range,
    /// with each report's `week`. Summed per report before the join, so the join sees one
    /// row per report and key instead of one per finding.
    pub(crate) fn per_report_with_week(
        &self,
        since: Option<NaiveDate>,
        until: Option<NaiveDate>,
        keys: &[&str],
    ) -> PolarsResult<LazyFrame> {
        let mut group = vec![col("report_id")];
        group.extend(keys.iter().map(|k| col(*k)));
        Ok(self
            .findings_in(since, until)
            .group_by(group)
            .agg([col("count").cast(DataType::Int64).sum().alias("findings")])
            .inner_join(
                self.primary_frame(since, until)?,
                col("report_id"),
                col("report_id"),
            ))
    }

    /// The import code of each profile, from the batch names its reports are about (the
    /// most frequent one).
    pub fn import_codes(&self) -> HashMap<String, String> {
        let mut n: HashMap<(String, String), usize> = HashMap::new();
        for r in &self.reports {
            if let (Some(p), Some(b)) = (
                &r.row.profile,
                r.row
                    .submission_file
                    .as_deref()
                    .and_then(crate::batch_name::parse),
            ) {
                *n.entry((p.clone(), b.import_code)).or_default() += 1;
            }
        }
        let mut best: HashMap<String, (usize, String)> = HashMap::new();
        for ((p, code), k) in n {
            let e = best.entry(p).or_insert((0, String::new()));
            if (k, &code) > (e.0, &e.1) {
                *e = (k, code);
            }
        }
        best.into_iter().map(|(p, (_, c))| (p, c)).collect()
    }

    /// Messages per week, counting each submission once (its largest reported count).
    pub fn messages_per_week(&self) -> HashMap<NaiveDate, i64> {
        let mut out: HashMap<NaiveDate, i64> = HashMap::new();
        for ((_, week), m) in self.messages_per_profile_week() {
            *out.entry(week).or_default() += m;
        }
        out
    }

    /// Messages per (profile, week), counting each submission once (its largest count).
    pub fn messages_per_profile_week(&self) -> HashMap<(Option<String>, NaiveDate), i64> {
        type Key = (Option<String>, NaiveDate);
        let mut per_sub: HashMap<i64, (Key, i64)> = HashMap::new();
        let mut out: HashMap<Key, i64> = HashMap::new();
        for r in &self.reports {
            let (Some(week), Some(m)) = (r.week, r.row.counts.messages.map(|m| m as i64)) else {
                continue;
            };
            let key = (r.row.profile.clone(), week);
            match r.row.submission_id {
                Some(s) => {
                    let e = per_sub.entry(s).or_insert((key, m));
                    e.1 = e.1.max(m);
                }
                None if r.primary => *out.entry(key).or_default() += m,
                None => {}
            }
        }
        for (key, m) in per_sub.into_values() {
            *out.entry(key).or_default() += m;
        }
        out
    }
}

/// Read a string column value.
pub(crate) fn str_at(df: &DataFrame, name: &str, i: usize) -> PolarsResult<Option<String>> {
    Ok(df.column(name)?.str()?.get(i).map(str::to_string))
}

/// Read an integer column value (any integer type), as i64.
pub(crate) fn int_at(df: &DataFrame, name: &str, i: usize) -> PolarsResult<Option<i64>> {
    let c = df.column(name)?.cast(&DataType::Int64)?;
    Ok(c.i64()?.get(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks() {
        let d = NaiveDate::from_ymd_opt(2025, 10, 28).unwrap(); // a Tuesday
        assert_eq!(
            week_start(d),
            NaiveDate::from_ymd_opt(2025, 10, 27).unwrap()
        );
        assert_eq!(week_label(d), "2025-W44");
        assert_eq!(
            parse_week("2025-W44"),
            Some(NaiveDate::from_ymd_opt(2025, 10, 27).unwrap())
        );
        assert_eq!(
            parse_week("2025-10-30"),
            Some(NaiveDate::from_ymd_opt(2025, 10, 27).unwrap())
        );
        assert_eq!(
            week_label(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()),
            "2026-W01"
        );
        assert_eq!(
            week_label(NaiveDate::from_ymd_opt(2024, 12, 30).unwrap()),
            "2025-W01"
        );
        assert_eq!(from_days(days(d)), d);
    }
}
