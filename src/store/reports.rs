//! Writing parsed reports: [`ReportWriter`] is a [`Sink`] over one transaction, so a file's
//! rows land all together or not at all (dropping the writer rolls back).

use chrono::NaiveDate;
use rusqlite::{OptionalExtension, Transaction, params};

use super::{Store, StoreError};
use crate::batch_name;
use crate::formats::{ConsentNotice, Finding, Sink, SinkError, Summary};

/// Bumped when parsers change what they extract (`reparse --all` refreshes old reports).
pub const PARSER_VERSION: i64 = 1;

/// A stored file version, as the ingest pipeline needs it.
#[derive(Debug, Clone)]
pub struct RemoteFileInfo {
    pub id: i64,
    pub profile: String,
    pub folder: String,
    pub name: String,
    pub kind: crate::domain::Kind,
    pub size: u64,
    pub mtime: i64,
    pub sha256: String,
    pub parse_status: crate::domain::ParseStatus,
}

/// Rows of one report being written inside a transaction.
pub struct ReportWriter<'s> {
    tx: Transaction<'s>,
    report_id: i64,
    sha256: String,
    findings: u64,
    consent: u64,
    /// Findings waiting to go in as one multi-row INSERT.
    pending: Vec<Finding>,
    /// Occurrences per (field, code, severity): written as the report's `finding_sum` rows,
    /// which the columnar cache reads instead of every finding (the first `trends` after a
    /// large import does not pay for summing them).
    sums: std::collections::HashMap<SumKey, u64>,
    /// The key of the finding being counted (its strings reused from finding to finding).
    sum_key: SumKey,
}

/// (field, code, severity letter).
type SumKey = (Option<String>, Option<String>, &'static str);

/// Set `dst` to `src`, reusing `dst`'s allocation.
fn reuse(dst: &mut Option<String>, src: Option<&str>) {
    match (dst.as_mut(), src) {
        (Some(d), Some(s)) => {
            d.clear();
            d.push_str(s);
        }
        (None, Some(s)) => *dst = Some(s.to_string()),
        (_, None) => *dst = None,
    }
}

/// Findings per multi-row INSERT: a quarter less SQLite time per row than one statement
/// per row (benchmark B1). 11 parameters a row stay far below SQLite's limit.
const FINDINGS_PER_INSERT: usize = 64;

const FINDING_INSERT: &str = include_str!("../../queries/store/finding_insert.sql");

/// `finding_insert.sql` with `FINDINGS_PER_INSERT` value rows.
static FINDING_INSERT_MANY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    super::multi_row_insert(FINDING_INSERT, FINDING_PARAMS, FINDINGS_PER_INSERT)
});

fn opt_date(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.to_string())
}

impl ReportWriter<'_> {
    /// Insert the pending findings: one statement for a full batch, else one per row.
    fn flush_findings(&mut self) -> rusqlite::Result<()> {
        if self.pending.len() == FINDINGS_PER_INSERT {
            let mut st = self.tx.prepare_cached(&FINDING_INSERT_MANY)?;
            for (k, f) in self.pending.iter().enumerate() {
                bind_finding(&mut st, k * FINDING_PARAMS, self.report_id, f)?;
            }
            st.raw_execute()?;
        } else {
            let mut st = self.tx.prepare_cached(FINDING_INSERT)?;
            for f in &self.pending {
                bind_finding(&mut st, 0, self.report_id, f)?;
                st.raw_execute()?;
            }
        }
        self.pending.clear();
        Ok(())
    }
}

/// Parameters per finding row in `finding_insert.sql`.
const FINDING_PARAMS: usize = 13;

/// Bind a finding's parameters (in `finding_insert.sql`'s order) after the first `offset`.
fn bind_finding(
    st: &mut rusqlite::Statement<'_>,
    offset: usize,
    report_id: i64,
    f: &Finding,
) -> rusqlite::Result<()> {
    let values: [&dyn rusqlite::ToSql; FINDING_PARAMS] = [
        &report_id,
        &f.message_control_id,
        &f.message_index.map(|i| i as i64),
        &f.patient_ref,
        &f.segment,
        &f.field,
        &f.code,
        &f.severity().letter(),
        &f.text,
        &f.raw,
        &(f.count as i64),
        &f.hl7_error_code,
        &f.app_error_code,
    ];
    for (i, v) in values.into_iter().enumerate() {
        st.raw_bind_parameter(offset + i + 1, v)?;
    }
    Ok(())
}

impl Sink for ReportWriter<'_> {
    fn finding(&mut self, f: Finding) -> Result<(), SinkError> {
        // the key is built in a reused buffer: no allocation per finding, one per new key
        let k = &mut self.sum_key;
        reuse(&mut k.0, f.field.as_deref());
        reuse(&mut k.1, f.code.as_deref());
        k.2 = f.severity().letter();
        match self.sums.get_mut(&self.sum_key) {
            Some(n) => *n += f.count,
            None => {
                self.sums.insert(self.sum_key.clone(), f.count);
            }
        }
        self.pending.push(f);
        if self.pending.len() == FINDINGS_PER_INSERT {
            self.flush_findings()?;
        }
        self.findings += 1;
        Ok(())
    }

    fn consent(&mut self, c: ConsentNotice) -> Result<(), SinkError> {
        let mut st = self
            .tx
            .prepare_cached(include_str!("../../queries/store/consent_insert.sql"))?;
        st.execute(params![
            self.report_id,
            c.patient_ref,
            c.last_name,
            c.first_name,
            c.middle_name,
            opt_date(c.dob),
            c.dob_raw,
            c.consent_code,
            opt_date(c.consent_date),
            c.consent_date_raw,
            c.reason_code,
            c.reason_text,
            c.status.as_str(),
            c.source_file,
            opt_date(c.processed_on),
            c.raw
        ])?;
        self.consent += 1;
        Ok(())
    }

    fn answer(&mut self, a: crate::formats::Answer) -> Result<(), SinkError> {
        let mut st = self
            .tx
            .prepare_cached(include_str!("../../queries/store/answer_insert.sql"))?;
        st.execute(params![
            self.report_id,
            a.message_control_id,
            a.message_index as i64,
            a.status
        ])?;
        Ok(())
    }
}

impl ReportWriter<'_> {
    /// Complete the report (counts, submission link, date) and commit everything.
    /// `fallback_date` dates a report whose submission is unknown (the file's own date).
    pub fn commit(
        mut self,
        summary: &Summary,
        fallback_date: Option<NaiveDate>,
    ) -> Result<i64, rusqlite::Error> {
        self.flush_findings()?;
        {
            let mut st = self
                .tx
                .prepare_cached(include_str!("../../queries/store/finding_sum_insert.sql"))?;
            for ((field, code, severity), count) in &self.sums {
                st.execute(params![
                    self.report_id,
                    field,
                    code,
                    severity,
                    *count as i64
                ])?;
            }
        }
        let sub = summary
            .submission_file
            .as_deref()
            .and_then(batch_name::parse);
        let submission_id: Option<i64> = match &sub {
            Some(b) => Some(self.tx.query_row(
                include_str!("../../queries/store/submission_upsert.sql"),
                params![b.file_name, b.import_code, b.date.to_string(), b.seq],
                |r| r.get(0),
            )?),
            None => None,
        };
        let date = sub.map(|b| b.date).or(fallback_date);
        let c = &summary.counts;
        let n = |v: Option<u64>| v.map(|x| x as i64);
        self.tx.execute(
            include_str!("../../queries/store/report_complete.sql"),
            params![
                self.report_id,
                summary.kind.as_str(),
                summary.format.as_str(),
                submission_id,
                opt_date(date),
                n(c.messages),
                n(c.accepted),
                n(c.accepted_with_warnings),
                n(c.rejected),
                n(c.skipped),
                self.findings as i64,
                self.consent as i64,
                n(c.queries)
            ],
        )?;
        self.tx.execute(
            include_str!("../../queries/store/parse_status_set.sql"),
            params![
                self.sha256,
                crate::domain::ParseStatus::Parsed,
                Option::<String>::None
            ],
        )?;
        crate::failpoint::hit("ingest_before_commit");
        self.tx.commit()?;
        Ok(self.report_id)
    }
}

impl Store {
    pub fn remote_file(&self, id: i64) -> Result<Option<RemoteFileInfo>, StoreError> {
        self.conn
            .query_row(
                include_str!("../../queries/store/remote_file_get.sql"),
                [id],
                |r| {
                    Ok(RemoteFileInfo {
                        id: r.get(0)?,
                        profile: r.get(1)?,
                        folder: r.get(2)?,
                        name: r.get(3)?,
                        kind: r.get(4)?,
                        size: r.get::<_, i64>(5)? as u64,
                        mtime: r.get(6)?,
                        sha256: r.get(7)?,
                        parse_status: r.get(8)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.sql_err(e))
    }

    /// The report already parsed from this content, if any.
    pub fn report_for_sha(&self, sha256: &str) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row(
                include_str!("../../queries/store/report_for_sha.sql"),
                [sha256],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sql_err(e))
    }

    /// Start writing a report for this content. With `replace`, an earlier report of the same
    /// content is deleted in the same transaction (its rows go with it).
    pub fn begin_report(
        &mut self,
        file: &RemoteFileInfo,
        replace: bool,
    ) -> Result<ReportWriter<'_>, StoreError> {
        let (tx, path) = self.write_tx()?;
        let sql = |e| super::sql_error(&path, e);
        if replace {
            tx.execute(
                include_str!("../../queries/store/report_delete.sql"),
                [&file.sha256],
            )
            .map_err(sql)?;
        }
        tx.execute(
            include_str!("../../queries/store/report_insert.sql"),
            params![file.sha256, file.id, super::now(), PARSER_VERSION],
        )
        .map_err(sql)?;
        let report_id = tx.last_insert_rowid();
        Ok(ReportWriter {
            tx,
            report_id,
            sha256: file.sha256.clone(),
            findings: 0,
            consent: 0,
            pending: Vec::with_capacity(FINDINGS_PER_INSERT),
            sums: Default::default(),
            sum_key: (None, None, "W"),
        })
    }

    /// Mark every version with this content as parsed (a duplicate of an existing report).
    pub fn mark_parsed(&self, sha256: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                include_str!("../../queries/store/parse_status_set.sql"),
                params![
                    sha256,
                    crate::domain::ParseStatus::Parsed,
                    Option::<String>::None
                ],
            )
            .map(|_| ())
            .map_err(|e| self.sql_err(e))
    }

    /// Quarantine: no parser could read this content; the reason is kept with the file.
    pub fn mark_quarantined(&self, sha256: &str, reason: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                include_str!("../../queries/store/parse_status_set.sql"),
                params![sha256, crate::domain::ParseStatus::Quarantined, reason],
            )
            .map(|_| ())
            .map_err(|e| self.sql_err(e))
    }

    /// Record what a local import's content turned out to be.
    pub fn set_kind(
        &self,
        remote_file_id: i64,
        kind: crate::domain::Kind,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                include_str!("../../queries/store/kind_set.sql"),
                params![remote_file_id, kind],
            )
            .map(|_| ())
            .map_err(|e| self.sql_err(e))
    }

    /// Ids of stored versions to parse: `pending` (and `quarantined` with `retry_quarantined`),
    /// or every version with `all`. One id per distinct content.
    pub fn files_to_parse(
        &self,
        all: bool,
        retry_quarantined: bool,
    ) -> Result<Vec<i64>, StoreError> {
        let mut st = self
            .conn
            .prepare(include_str!("../../queries/store/files_to_parse.sql"))
            .map_err(|e| self.sql_err(e))?;
        st.query_map(params![all, retry_quarantined], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.sql_err(e))
    }

    /// Ids of stored versions whose remote name (or content hash prefix) matches.
    pub fn files_named(&self, name: &str) -> Result<Vec<i64>, StoreError> {
        let mut st = self
            .conn
            .prepare(include_str!("../../queries/store/files_named.sql"))
            .map_err(|e| self.sql_err(e))?;
        st.query_map([name], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.sql_err(e))
    }

    /// Quarantined files: (folder, name, reason).
    pub fn quarantined(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        let mut st = self
            .conn
            .prepare(include_str!("../../queries/store/quarantined.sql"))
            .map_err(|e| self.sql_err(e))?;
        st.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get::<_, Option<String>>(2)?.unwrap_or_default(),
            ))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.sql_err(e))
    }

    /// (reports, submissions, finding occurrences, consent notices)
    pub fn report_totals(&self) -> Result<(u64, u64, u64, u64), StoreError> {
        self.conn
            .query_row(
                include_str!("../../queries/store/report_totals.sql"),
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u64,
                        r.get::<_, i64>(1)? as u64,
                        r.get::<_, i64>(2)? as u64,
                        r.get::<_, i64>(3)? as u64,
                    ))
                },
            )
            .map_err(|e| self.sql_err(e))
    }
}
