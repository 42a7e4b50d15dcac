//! Reading the history for analytics: plain rows and column chunks (no polars here; the
//! analytics module builds frames from these).

use chrono::NaiveDate;
use rusqlite::params;

use super::{Store, StoreError};
use crate::formats::Counts;

/// Column names and rows (as text, NULL as None) of an ad-hoc query.
pub type QueryRows = (Vec<String>, Vec<Vec<Option<String>>>);

/// One parsed report, as analytics needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    pub id: i64,
    pub kind: crate::domain::Kind,
    pub format: crate::formats::Format,
    pub submission_id: Option<i64>,
    pub submission_file: Option<String>,
    pub date: Option<NaiveDate>,
    pub counts: Counts,
    /// The profile whose mailbox the file came from (`import` for local files imported
    /// without a profile).
    pub profile: Option<String>,
    /// Content hash: the report's id across stores.
    pub sha256: String,
    /// The file's name (what a person calls a report that names no batch).
    pub file_name: Option<String>,
}

/// A chunk of finding columns (same length each).
#[derive(Debug, Default, Clone)]
pub struct FindingChunk {
    pub report_id: Vec<u32>,
    pub field: Vec<Option<String>>,
    pub code: Vec<Option<String>>,
    pub severity: Vec<String>,
    pub count: Vec<u32>,
}

impl FindingChunk {
    pub fn len(&self) -> usize {
        self.report_id.len()
    }
    pub fn is_empty(&self) -> bool {
        self.report_id.is_empty()
    }
}

/// One consent notice, without names or birth dates.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentRow {
    pub id: i64,
    pub report_id: i64,
    pub date: Option<NaiveDate>,
    pub patient_ref: Option<String>,
    pub status: String,
    pub reason_code: Option<String>,
    pub consent_code: Option<String>,
    pub source_file: Option<String>,
    pub profile: Option<String>,
    /// The content hash of the report the notice came from.
    pub report_hash: String,
    /// "LAST, FIRST MIDDLE" as the notice names the patient (compliance outputs only).
    pub name: Option<String>,
    pub dob: Option<String>,
}

/// A stored message count (never negative).
fn count(v: Option<i64>) -> Option<u64> {
    v.map(|n| n.max(0) as u64)
}

fn date(s: Option<String>) -> Option<NaiveDate> {
    s.and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok())
}

impl Store {
    /// (number of reports, highest report id): changes whenever reports are added or replaced.
    pub fn report_state(&self) -> Result<(i64, i64), StoreError> {
        self.conn
            .query_row(
                include_str!("../../queries/store/analytics_state.sql"),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.sql_err(e))
    }

    /// A lower bound on the messages a report rejected, counted from its error findings.
    pub fn rejected_messages(&self, report_id: i64) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                include_str!("../../queries/store/rejected_messages.sql"),
                [report_id],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
            .map_err(|e| self.sql_err(e))
    }

    /// Whether the history holds files or uploads of this profile.
    pub fn has_profile(&self, profile: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                include_str!("../../queries/store/profile_exists.sql"),
                [profile],
                |r| r.get(0),
            )
            .map_err(|e| self.sql_err(e))
    }

    pub fn report_rows(&self) -> Result<Vec<ReportRow>, StoreError> {
        let mut st = self
            .conn
            .prepare(include_str!("../../queries/store/analytics_reports.sql"))
            .map_err(|e| self.sql_err(e))?;
        st.query_map([], |r| {
            Ok(ReportRow {
                id: r.get(0)?,
                kind: r.get(1)?,
                format: r.get(2)?,
                submission_id: r.get(3)?,
                submission_file: r.get(4)?,
                date: date(r.get(5)?),
                counts: Counts {
                    messages: count(r.get(6)?),
                    accepted: count(r.get(7)?),
                    accepted_with_warnings: count(r.get(8)?),
                    rejected: count(r.get(9)?),
                    skipped: count(r.get(10)?),
                    queries: count(r.get(11)?),
                },
                profile: r.get(12)?,
                sha256: r.get(13)?,
                file_name: r.get(14)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.sql_err(e))
    }

    /// Stream finding columns of reports with id > `after`, `chunk_rows` rows at a time.
    pub fn finding_chunks(
        &self,
        after: i64,
        chunk_rows: usize,
        mut each: impl FnMut(FindingChunk) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let mut st = self
            .conn
            .prepare(include_str!("../../queries/store/analytics_findings.sql"))
            .map_err(|e| self.sql_err(e))?;
        let mut rows = st.query(params![after]).map_err(|e| self.sql_err(e))?;
        let mut chunk = FindingChunk::default();
        let mut total = 0u64;
        while let Some(r) = rows.next().map_err(|e| self.sql_err(e))? {
            let mut get = || -> rusqlite::Result<()> {
                chunk.report_id.push(r.get::<_, i64>(0)? as u32);
                chunk.field.push(r.get(1)?);
                chunk.code.push(r.get(2)?);
                chunk.severity.push(r.get(3)?);
                chunk.count.push(r.get::<_, i64>(4)? as u32);
                Ok(())
            };
            get().map_err(|e| self.sql_err(e))?;
            total += 1;
            if chunk.len() >= chunk_rows {
                each(std::mem::take(&mut chunk))?;
            }
        }
        if !chunk.is_empty() {
            each(chunk)?;
        }
        Ok(total)
    }

    /// Consent notices of one profile (None: every profile).
    pub fn consent_rows(&self, profile: Option<&str>) -> Result<Vec<ConsentRow>, StoreError> {
        let mut st = self
            .conn
            .prepare(include_str!("../../queries/store/analytics_consent.sql"))
            .map_err(|e| self.sql_err(e))?;
        st.query_map([profile], |r| {
            Ok(ConsentRow {
                id: r.get(0)?,
                report_id: r.get(1)?,
                date: date(r.get(2)?),
                patient_ref: r.get(3)?,
                status: r.get(4)?,
                reason_code: r.get(5)?,
                consent_code: r.get(6)?,
                source_file: r.get(7)?,
                profile: r.get(8)?,
                report_hash: r.get(9)?,
                name: {
                    let part = |i: usize| -> rusqlite::Result<String> {
                        Ok(r.get::<_, Option<String>>(i)?
                            .unwrap_or_default()
                            .trim()
                            .to_string())
                    };
                    let (last, first, middle) = (part(10)?, part(11)?, part(12)?);
                    let given = [first, middle]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ");
                    match (last.is_empty(), given.is_empty()) {
                        (true, true) => None,
                        (false, true) => Some(last),
                        (true, false) => Some(given),
                        (false, false) => Some(format!("{last}, {given}")),
                    }
                },
                dob: r.get(13)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.sql_err(e))
    }

    /// (patient_ref, date, consent-related) for every patient named in a DQA finding.
    pub fn patient_appearances(
        &self,
        profile: Option<&str>,
    ) -> Result<Vec<(String, NaiveDate, bool)>, StoreError> {
        let mut st = self
            .conn
            .prepare(include_str!(
                "../../queries/store/analytics_appearances.sql"
            ))
            .map_err(|e| self.sql_err(e))?;
        let rows: Vec<(String, Option<String>, i64)> = st
            .query_map([profile], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.sql_err(e))?;
        Ok(rows
            .into_iter()
            .filter_map(|(p, d, c)| date(d).map(|d| (p, d, c != 0)))
            .collect())
    }

    /// Run a read-only SQL query (a named query from queries/ or the user's folder) and return
    /// column names and rows as text. Refuses statements that would write.
    /// The named parameters (`:name`) a query takes, without their colon.
    pub fn query_parameters(&self, sql: &str) -> Result<Vec<String>, StoreError> {
        let st = self.conn.prepare(sql).map_err(|e| self.sql_err(e))?;
        Ok((1..=st.parameter_count())
            .filter_map(|i| st.parameter_name(i))
            .map(|n| n.trim_start_matches([':', '@', '$']).to_string())
            .collect())
    }

    pub fn query_text(
        &self,
        sql: &str,
        params: &[(String, String)],
    ) -> Result<QueryRows, StoreError> {
        let mut st = self.conn.prepare(sql).map_err(|e| self.sql_err(e))?;
        if !st.readonly() {
            return Err(self.sql_err(rusqlite::Error::InvalidQuery));
        }
        for (k, v) in params {
            let name = format!(":{k}");
            if let Some(i) = st.parameter_index(&name).map_err(|e| self.sql_err(e))? {
                st.raw_bind_parameter(i, v).map_err(|e| self.sql_err(e))?;
            }
        }
        let cols: Vec<String> = st.column_names().map(|s| s.to_string()).collect();
        let n = cols.len();
        let mut out = Vec::new();
        let mut rows = st.raw_query();
        while let Some(r) = rows.next().map_err(|e| self.sql_err(e))? {
            let mut row = Vec::with_capacity(n);
            for i in 0..n {
                use rusqlite::types::ValueRef;
                let v = match r.get_ref(i).map_err(|e| self.sql_err(e))? {
                    ValueRef::Null => None,
                    ValueRef::Integer(x) => Some(x.to_string()),
                    ValueRef::Real(x) => Some(format!("{x}")),
                    ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Some(format!("<{} bytes>", b.len())),
                };
                row.push(v);
            }
            out.push(row);
        }
        Ok((cols, out))
    }
}

/// A chunk of the findings export (same length each).
#[derive(Debug, Default, Clone)]
pub struct ExportChunk {
    pub report_id: Vec<i64>,
    pub report_date: Vec<Option<NaiveDate>>,
    pub submission: Vec<Option<String>>,
    pub format: Vec<String>,
    pub message_control_id: Vec<Option<String>>,
    pub message_index: Vec<Option<i64>>,
    pub patient_ref: Vec<Option<String>>,
    pub segment: Vec<Option<String>>,
    pub field: Vec<Option<String>>,
    pub code: Vec<Option<String>>,
    pub severity: Vec<String>,
    pub count: Vec<i64>,
    pub text: Vec<String>,
    pub hl7_error_code: Vec<Option<String>>,
    pub app_error_code: Vec<Option<String>>,
    pub profile: Vec<Option<String>>,
    pub import_code: Vec<Option<String>>,
    pub report_hash: Vec<String>,
    /// The sent message's site (the ledger's), when the finding is linked to one.
    pub site: Vec<Option<String>>,
}

/// Report dates from `since` to `until`, both included; None = open end; and the profile
/// (None = every profile).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DateRange {
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub profile: Option<String>,
}

impl Store {
    /// Stream the findings of reports dated within `range` (all when None; either end may be
    /// open) with their report's context, `chunk_rows` at a time.
    pub fn export_findings(
        &self,
        range: DateRange,
        chunk_rows: usize,
        mut each: impl FnMut(ExportChunk) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let mut st = self
            .conn
            .prepare(include_str!("../../queries/store/export_findings.sql"))
            .map_err(|e| self.sql_err(e))?;
        let day = |d: Option<NaiveDate>| d.map(|d| d.to_string());
        let mut rows = st
            .query(params![day(range.since), day(range.until), range.profile])
            .map_err(|e| self.sql_err(e))?;
        let mut c = ExportChunk::default();
        let mut total = 0;
        let (mut last_day, mut last_date): (Option<String>, Option<NaiveDate>) = (None, None);
        while let Some(r) = rows.next().map_err(|e| self.sql_err(e))? {
            let mut push = || -> rusqlite::Result<()> {
                c.report_id.push(r.get(0)?);
                // one report's rows share its date: parse it once per report
                let day = r.get_ref(1)?.as_str_or_null()?;
                if day != last_day.as_deref() {
                    last_day = day.map(str::to_string);
                    last_date = date(last_day.clone());
                }
                c.report_date.push(last_date);
                c.submission.push(r.get(2)?);
                c.format.push(r.get(3)?);
                c.message_control_id.push(r.get(4)?);
                c.message_index.push(r.get(5)?);
                c.patient_ref.push(r.get(6)?);
                c.segment.push(r.get(7)?);
                c.field.push(r.get(8)?);
                c.code.push(r.get(9)?);
                c.severity.push(r.get(10)?);
                c.count.push(r.get(11)?);
                c.text.push(r.get(12)?);
                c.hl7_error_code.push(r.get(13)?);
                c.app_error_code.push(r.get(14)?);
                c.profile.push(r.get(15)?);
                c.import_code.push(r.get(16)?);
                c.report_hash.push(r.get(17)?);
                c.site.push(r.get(18)?);
                Ok(())
            };
            push().map_err(|e| self.sql_err(e))?;
            total += 1;
            if c.report_id.len() >= chunk_rows {
                each(std::mem::take(&mut c))?;
            }
        }
        if !c.report_id.is_empty() {
            each(c)?;
        }
        Ok(total)
    }
}
