//! Consent: notices per week by normalised status and reason, and open follow-ups.
//!
//! A follow-up opens when a patient is named in a consent notice and stays open until the
//! patient appears in a later DQA report without a consent problem (evidence the registry now
//! keeps their records). Patients are matched by their reference (MRN/PID-3) only.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use polars::prelude::*;

use super::{AnalyticsError, History, days, from_days, int_at, str_at, week_label, week_start};
use crate::store::Store;
use crate::store::analytics::ConsentRow;
use crate::table::{Table, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct WeeklyConsent {
    pub week: NaiveDate,
    pub status: String,
    pub reason_code: String,
    pub notices: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FollowUp {
    pub patient_ref: String,
    pub opened: NaiveDate,
    pub last_notice: NaiveDate,
    pub status: String,
    pub reason_code: Option<String>,
    pub notices: i64,
    pub age_days: i64,
    pub source_file: Option<String>,
}

#[derive(Default)]
pub struct ConsentView {
    pub notices: Vec<ConsentRow>,
    pub weekly: Vec<WeeklyConsent>,
    pub open: Vec<FollowUp>,
    /// Notices without a patient reference (cannot be followed up automatically).
    pub untracked: usize,
}

pub fn consent(
    store: &Store,
    h: &History,
    as_of: NaiveDate,
) -> Result<ConsentView, AnalyticsError> {
    let notices = store.consent_rows(h.profile.as_deref())?;
    let dated: Vec<&ConsentRow> = notices.iter().filter(|n| n.date.is_some()).collect();
    let df = DataFrame::new(
        dated.len(),
        vec![
            Column::new(
                "week".into(),
                dated
                    .iter()
                    .map(|n| days(week_start(n.date.unwrap())))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "status".into(),
                dated.iter().map(|n| n.status.clone()).collect::<Vec<_>>(),
            ),
            Column::new(
                "reason_code".into(),
                dated
                    .iter()
                    .map(|n| n.reason_code.clone().unwrap_or_else(|| "(none)".into()))
                    .collect::<Vec<_>>(),
            ),
        ],
    )?;
    let weekly_df = df
        .lazy()
        .group_by([col("week"), col("status"), col("reason_code")])
        .agg([len().cast(DataType::Int64).alias("notices")])
        .sort(["week", "status", "reason_code"], Default::default())
        .collect()?;
    let mut weekly = Vec::with_capacity(weekly_df.height());
    for i in 0..weekly_df.height() {
        weekly.push(WeeklyConsent {
            week: from_days(int_at(&weekly_df, "week", i)?.unwrap_or(0) as i32),
            status: str_at(&weekly_df, "status", i)?.unwrap_or_default(),
            reason_code: str_at(&weekly_df, "reason_code", i)?.unwrap_or_default(),
            notices: int_at(&weekly_df, "notices", i)?.unwrap_or(0),
        });
    }

    // follow-ups
    let mut clean: HashMap<String, NaiveDate> = HashMap::new();
    for (p, d, consent_related) in store.patient_appearances(h.profile.as_deref())? {
        if !consent_related {
            let e = clean.entry(p).or_insert(d);
            if d > *e {
                *e = d;
            }
        }
    }
    let mut by_patient: BTreeMap<String, Vec<&ConsentRow>> = BTreeMap::new();
    let mut untracked = 0;
    for n in &dated {
        match &n.patient_ref {
            Some(p) => by_patient.entry(p.clone()).or_default().push(n),
            None => untracked += 1,
        }
    }
    let mut open = Vec::new();
    for (p, ns) in by_patient {
        let last_clean = clean.get(&p).copied();
        let episode: Vec<&&ConsentRow> = ns
            .iter()
            .filter(|n| last_clean.is_none_or(|c| n.date.unwrap() >= c))
            .collect();
        if episode.is_empty() {
            continue; // resolved: seen without a consent problem after the last notice
        }
        let first = episode.iter().map(|n| n.date.unwrap()).min().unwrap();
        let last = episode
            .iter()
            .max_by_key(|n| (n.date.unwrap(), n.id))
            .unwrap();
        open.push(FollowUp {
            patient_ref: p,
            opened: first,
            last_notice: last.date.unwrap(),
            status: last.status.clone(),
            reason_code: last.reason_code.clone(),
            notices: episode.len() as i64,
            age_days: (as_of - first).num_days().max(0),
            source_file: last.source_file.clone(),
        });
    }
    open.sort_by(|a, b| {
        b.age_days
            .cmp(&a.age_days)
            .then(a.patient_ref.cmp(&b.patient_ref))
    });
    Ok(ConsentView {
        notices,
        weekly,
        open,
        untracked,
    })
}

pub fn weekly_table(v: &ConsentView) -> Table {
    let mut t = Table::new(&["week", "week_start", "status", "reason_code", "notices"]);
    for w in &v.weekly {
        t.push(vec![
            Value::text(week_label(w.week)),
            Value::Date(w.week),
            Value::text(&w.status),
            Value::text(&w.reason_code),
            Value::Int(w.notices),
        ]);
    }
    t
}

pub fn open_table(v: &ConsentView) -> Table {
    let mut t = Table::new(&[
        "patient_ref",
        "opened",
        "last_notice",
        "status",
        "reason_code",
        "notices",
        "age_days",
        "source_file",
    ]);
    for f in &v.open {
        t.push(vec![
            Value::text(&f.patient_ref),
            Value::Date(f.opened),
            Value::Date(f.last_notice),
            Value::text(&f.status),
            Value::opt_text(f.reason_code.as_deref()),
            Value::Int(f.notices),
            Value::Int(f.age_days),
            Value::opt_text(f.source_file.as_deref()),
        ]);
    }
    t
}

/// One row per notice (the `consent` export).
pub fn notices_table(v: &ConsentView, as_of: NaiveDate) -> Table {
    let open: HashMap<&str, &FollowUp> =
        v.open.iter().map(|f| (f.patient_ref.as_str(), f)).collect();
    use crate::table::ColType::{Bool, Date, Int, Text};
    let mut t = Table::typed(&[
        ("notice_id", Int),
        ("notice_date", Date),
        ("week", Text),
        ("patient_ref", Text),
        ("status", Text),
        ("reason_code", Text),
        ("consent_code", Text),
        ("source_file", Text),
        ("follow_up_open", Bool),
        ("follow_up_age_days", Int),
        ("profile", Text),
        ("import_code", Text),
        ("report_hash", Text),
    ]);
    for n in &v.notices {
        let import_code = n
            .source_file
            .as_deref()
            .and_then(crate::batch_name::parse)
            .map(|b| b.import_code);
        let f = n.patient_ref.as_deref().and_then(|p| open.get(p));
        t.push(vec![
            Value::Int(n.id),
            n.date.map(Value::Date).unwrap_or(Value::Null),
            n.date
                .map(|d| Value::text(week_label(d)))
                .unwrap_or(Value::Null),
            Value::opt_text(n.patient_ref.as_deref()),
            Value::text(&n.status),
            Value::opt_text(n.reason_code.as_deref()),
            Value::opt_text(n.consent_code.as_deref()),
            Value::opt_text(n.source_file.as_deref()),
            Value::Bool(f.is_some()),
            f.map(|f| Value::Int((as_of - f.opened).num_days().max(0)))
                .unwrap_or(Value::Null),
            Value::opt_text(n.profile.as_deref()),
            Value::opt_text(import_code.as_deref()),
            Value::text(&n.report_hash),
        ]);
    }
    t
}
