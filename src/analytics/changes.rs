//! What changed: issues (HL7 field × registry code) in a period against the previous period:
//! new, resolved and persisting, with counts and change.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use polars::prelude::*;

use super::{AnalyticsError, History, days, int_at, str_at, week_start};
use crate::table::{Table, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Period {
    #[default]
    Week,
    Month,
}

/// `[start, end]` of the period holding `d`, and of the one before it.
pub fn bounds(period: Period, d: NaiveDate) -> ((NaiveDate, NaiveDate), (NaiveDate, NaiveDate)) {
    match period {
        Period::Week => {
            let s = week_start(d);
            (
                (s, s + Duration::days(6)),
                (s - Duration::days(7), s - Duration::days(1)),
            )
        }
        Period::Month => {
            let s = d.with_day(1).unwrap();
            let next = if s.month() == 12 {
                NaiveDate::from_ymd_opt(s.year() + 1, 1, 1).unwrap()
            } else {
                NaiveDate::from_ymd_opt(s.year(), s.month() + 1, 1).unwrap()
            };
            let prev_end = s - Duration::days(1);
            (
                (s, next - Duration::days(1)),
                (prev_end.with_day(1).unwrap(), prev_end),
            )
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    New,
    Persisting,
    Resolved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Persisting => "persisting",
            Status::Resolved => "resolved",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRow {
    pub status: Status,
    pub field: String,
    pub code: String,
    pub previous: i64,
    pub current: i64,
}

impl ChangeRow {
    pub fn change(&self) -> i64 {
        self.current - self.previous
    }
}

#[derive(Debug, Clone)]
pub struct Changes {
    pub current: (NaiveDate, NaiveDate),
    pub previous: (NaiveDate, NaiveDate),
    pub rows: Vec<ChangeRow>,
}

/// The latest date in the history (the default "as of" for periods).
pub fn latest_date(h: &History) -> Option<NaiveDate> {
    h.reports.iter().filter_map(|r| r.row.date).max()
}

pub fn changes(h: &History, period: Period, as_of: NaiveDate) -> Result<Changes, AnalyticsError> {
    let (cur, prev) = bounds(period, as_of);
    let df = h
        .findings_with_week(Some(prev.0), Some(cur.1))?
        .with_column(col("day").gt_eq(lit(days(cur.0))).alias("current"))
        .group_by([
            col("current"),
            col("field").fill_null(lit("(none)")),
            col("code").fill_null(lit("(none)")),
        ])
        .agg([col("count").cast(DataType::Int64).sum().alias("n")])
        .collect()?;
    let mut m: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    let current = df.column("current")?.bool()?.clone();
    for i in 0..df.height() {
        let key = (
            str_at(&df, "field", i)?.unwrap_or_default(),
            str_at(&df, "code", i)?.unwrap_or_default(),
        );
        let n = int_at(&df, "n", i)?.unwrap_or(0);
        let e = m.entry(key).or_default();
        if current.get(i).unwrap_or(false) {
            e.1 += n;
        } else {
            e.0 += n;
        }
    }
    let mut rows: Vec<ChangeRow> = m
        .into_iter()
        .map(|((field, code), (previous, current))| ChangeRow {
            status: match (previous > 0, current > 0) {
                (false, _) => Status::New,
                (true, true) => Status::Persisting,
                (true, false) => Status::Resolved,
            },
            field,
            code,
            previous,
            current,
        })
        .collect();
    rows.sort_by(|a, b| {
        a.status
            .cmp(&b.status)
            .then(b.current.max(b.previous).cmp(&a.current.max(a.previous)))
            .then(a.field.cmp(&b.field))
            .then(a.code.cmp(&b.code))
    });
    Ok(Changes {
        current: cur,
        previous: prev,
        rows,
    })
}

pub fn table(c: &Changes) -> Table {
    let mut t = Table::new(&[
        "status",
        "field",
        "code",
        "previous",
        "current",
        "change",
        "period_start",
        "previous_start",
    ]);
    for r in &c.rows {
        t.push(vec![
            Value::text(r.status.as_str()),
            Value::text(&r.field),
            Value::text(&r.code),
            Value::Int(r.previous),
            Value::Int(r.current),
            Value::Int(r.change()),
            Value::Date(c.current.0),
            Value::Date(c.previous.0),
        ]);
    }
    t
}
