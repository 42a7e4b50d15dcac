//! What changed: issues (HL7 field × registry code) in a period against the previous period:
//! new, resolved and persisting, with counts and change.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use polars::prelude::*;

use super::{AnalyticsError, History, days, int_at, str_at, week_start};
use crate::table::{Table, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
/// One issue reported with its code in one period and as text only in the other (a legacy
/// errors.txt names the field but not always the code): count the uncoded occurrences under
/// the field's one code, so the issue is not listed as both new and resolved. A field with
/// several codes keeps its uncoded row apart (which code it was cannot be told).
fn merge_uncoded(m: &mut BTreeMap<(String, String), (i64, i64)>) {
    let none = "(none)";
    let uncoded: Vec<String> = m
        .keys()
        .filter(|(f, c)| c == none && f != none)
        .map(|(f, _)| f.clone())
        .collect();
    for field in uncoded {
        let coded: Vec<String> = m
            .keys()
            .filter(|(f, c)| *f == field && c != none)
            .map(|(_, c)| c.clone())
            .collect();
        if let [code] = coded.as_slice() {
            let (p, c) = m
                .remove(&(field.clone(), none.to_string()))
                .unwrap_or_default();
            let e = m.entry((field, code.clone())).or_default();
            e.0 += p;
            e.1 += c;
        }
    }
}

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
    merge_uncoded(&mut m);
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    #[test]
    fn an_issue_coded_in_one_week_and_text_only_in_the_other_persists() {
        let k = |f: &str, c: &str| (f.to_string(), c.to_string());
        let mut m = BTreeMap::from([
            (k("RXR-2", "IEE-575"), (0, 4)),
            (k("RXR-2", "(none)"), (4, 0)),
            (k("PID-11", "IEE-998"), (1, 0)),
            (k("PID-11", "IEE-411"), (0, 1)),
            (k("PID-11", "(none)"), (2, 0)),
        ]);
        super::merge_uncoded(&mut m);
        assert_eq!(m.get(&k("RXR-2", "IEE-575")), Some(&(4, 4)));
        assert!(!m.contains_key(&k("RXR-2", "(none)")));
        // two codes on the field: which one the text meant is unknown, kept apart
        assert_eq!(m.get(&k("PID-11", "(none)")), Some(&(2, 0)));
    }
}
