//! Consent: notices per week by normalised status and reason, and open follow-ups.
//!
//! A follow-up opens when a patient is named in a consent notice and stays open until the
//! patient appears in a later DQA report without a consent problem (evidence the registry now
//! keeps their records), or someone closes it by hand (`immdqa consent close`). Patients are
//! matched by their reference (MRN/PID-3); a notice without one (a CNF with names but no
//! Patient ID column) is followed up by the name and birth date it carries: listed with them
//! for compliance staff, open until closed by hand (no later report can name the patient).

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
    /// The latest notice's id: what `consent close ID` takes.
    pub id: i64,
    /// A hash of the patient reference (or of the name and birth date): what hand actions
    /// and their journal are keyed by, no patient data.
    pub key: String,
    /// Empty for a notice without a patient id.
    pub patient_ref: String,
    /// The name and birth date the notices carry, when they carry no patient id (the
    /// outputs meant to name patients show them: `consent --open`, the consent report).
    pub name: Option<String>,
    pub dob: Option<String>,
    /// Notes of hand actions (time, who: note), oldest first.
    pub notes: Vec<String>,
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
    /// Notices without a patient reference (followed up by name, closed by hand only).
    pub untracked: usize,
}

/// The key of a follow-up: a hash of the patient reference, else of the notice's name and
/// birth date (else of the notice itself), so journals and tables hold no patient data.
fn follow_up_key(n: &ConsentRow) -> String {
    use sha2::{Digest, Sha256};
    let basis = match (&n.patient_ref, &n.name) {
        (Some(p), _) => format!("ref\u{1f}{p}"),
        (None, Some(name)) => format!(
            "name\u{1f}{}\u{1f}{}",
            name.to_uppercase(),
            n.dob.as_deref().unwrap_or("")
        ),
        (None, None) => format!("notice\u{1f}{}\u{1f}{}", n.report_hash, n.id),
    };
    let h = Sha256::digest(basis.as_bytes());
    h[..8].iter().map(|b| format!("{b:02x}")).collect()
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
    // hand actions: the last close (or reopen) of each follow-up
    let mut hand: HashMap<String, (Option<NaiveDate>, Vec<String>)> = HashMap::new();
    for a in store.consent_actions()? {
        let e = hand.entry(a.follow_up.clone()).or_default();
        let day = NaiveDate::parse_from_str(a.at.get(..10).unwrap_or(&a.at), "%Y-%m-%d").ok();
        e.0 = if a.action == "closed" { day } else { None };
        if let Some(note) = &a.note {
            e.1.push(format!(
                "{}{}: {note} ({})",
                a.at.get(..16).unwrap_or(&a.at).replace('T', " "),
                a.by.as_deref().map(|b| format!(" {b}")).unwrap_or_default(),
                a.action
            ));
        }
    }
    let mut by_key: BTreeMap<String, Vec<&ConsentRow>> = BTreeMap::new();
    let mut untracked = 0;
    for n in &dated {
        if n.patient_ref.is_none() {
            untracked += 1;
        }
        by_key.entry(follow_up_key(n)).or_default().push(n);
    }
    let mut open = Vec::new();
    for (key, ns) in by_key {
        let p = ns[0].patient_ref.clone();
        let last_clean = p.as_ref().and_then(|p| clean.get(p)).copied();
        let (closed_on, notes) = hand.remove(&key).unwrap_or_default();
        let episode: Vec<&&ConsentRow> = ns
            .iter()
            .filter(|n| last_clean.is_none_or(|c| n.date.unwrap() >= c))
            // closed by hand: only notices after the close open it again
            .filter(|n| closed_on.is_none_or(|c| n.date.unwrap() > c))
            .collect();
        if episode.is_empty() {
            continue; // resolved: seen without a consent problem, or closed by hand
        }
        let first = episode.iter().map(|n| n.date.unwrap()).min().unwrap();
        let last = episode
            .iter()
            .max_by_key(|n| (n.date.unwrap(), n.id))
            .unwrap();
        open.push(FollowUp {
            id: last.id,
            key,
            patient_ref: p.clone().unwrap_or_default(),
            name: p.is_none().then(|| last.name.clone()).flatten(),
            dob: p.is_none().then(|| last.dob.clone()).flatten(),
            notes,
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

/// Open follow-ups, oldest first. A notice without a patient id is listed with the name and
/// birth date it carries: this table is for compliance staff (`consent --open`, the consent
/// report), the outputs meant to name patients.
pub fn open_table(v: &ConsentView) -> Table {
    let mut t = Table::new(&[
        "id",
        "patient_ref",
        "name",
        "dob",
        "opened",
        "last_notice",
        "status",
        "reason_code",
        "notices",
        "age_days",
        "source_file",
        "note",
    ]);
    for f in &v.open {
        t.push(vec![
            Value::Int(f.id),
            if f.patient_ref.is_empty() {
                Value::text("(no patient id)")
            } else {
                Value::text(&f.patient_ref)
            },
            Value::opt_text(f.name.as_deref()),
            Value::opt_text(f.dob.as_deref()),
            Value::Date(f.opened),
            Value::Date(f.last_notice),
            Value::text(&f.status),
            Value::opt_text(f.reason_code.as_deref()),
            Value::Int(f.notices),
            Value::Int(f.age_days),
            Value::opt_text(f.source_file.as_deref()),
            if f.notes.is_empty() {
                Value::Null
            } else {
                Value::text(f.notes.join(" | "))
            },
        ]);
    }
    t
}

/// One row per notice (the `consent` export).
pub fn notices_table(v: &ConsentView, as_of: NaiveDate) -> Table {
    let open: HashMap<&str, &FollowUp> = v.open.iter().map(|f| (f.key.as_str(), f)).collect();
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
        let f = open.get(follow_up_key(n).as_str());
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
