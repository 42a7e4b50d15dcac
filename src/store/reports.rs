//! Writing parsed reports: [`ReportWriter`] is a [`Sink`] over one transaction, so a file's
//! rows land all together or not at all (dropping the writer rolls back).

use chrono::NaiveDate;
use rusqlite::{OptionalExtension, Transaction, params};

use super::bind::{Sql, insert_rows, int, opt_int, opt_text, text};
use super::{Store, StoreError};
use crate::batch_name;
use crate::formats::{ConsentNotice, Finding, Short, Sink, SinkError, Summary};

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
    /// The database, for errors.
    path: std::path::PathBuf,
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
}

/// (field, code, severity letter).
type SumKey = (Option<Short>, Option<Short>, &'static str);

/// Findings per multi-row INSERT: a quarter less SQLite time per row than one statement
/// per row (benchmark B1). 11 parameters a row stay far below SQLite's limit.
const FINDINGS_PER_INSERT: usize = 64;

const FINDING_INSERT: &str = include_str!("../../queries/store/finding_insert.sql");

/// `finding_insert.sql` with `FINDINGS_PER_INSERT` value rows.
static FINDING_INSERT_MANY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    super::bind::multi_row_insert(FINDING_INSERT, FINDING_PARAMS, FINDINGS_PER_INSERT)
});

fn opt_date(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.to_string())
}

impl ReportWriter<'_> {
    /// Insert the pending findings: one statement for a full batch, else one per row.
    fn flush_findings(&mut self) -> rusqlite::Result<()> {
        let report_id = self.report_id;
        insert_rows(
            &self.tx,
            (FINDING_INSERT, &FINDING_INSERT_MANY, FINDINGS_PER_INSERT),
            &self.pending,
            |f: &Finding| -> [Sql<'_>; FINDING_PARAMS] {
                [
                    int(report_id),
                    opt_text(&f.message_control_id),
                    opt_int(f.message_index.map(|i| i as i64)),
                    opt_text(&f.patient_ref),
                    opt_text(&f.segment),
                    opt_text(&f.field),
                    opt_text(&f.code),
                    text(f.severity().letter()),
                    text(&f.text),
                    text(&f.raw),
                    int(f.count as i64),
                    opt_text(&f.hl7_error_code),
                    opt_text(&f.app_error_code),
                ]
            },
        )?;
        self.pending.clear();
        Ok(())
    }
}

/// Parameters per finding row in `finding_insert.sql`.
const FINDING_PARAMS: usize = 13;

impl Sink for ReportWriter<'_> {
    fn finding(&mut self, f: Finding) -> Result<(), SinkError> {
        // field and code are inline strings: no allocation per finding
        *self
            .sums
            .entry((f.field.clone(), f.code.clone(), f.severity().letter()))
            .or_default() += f.count;
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
            a.message_control_id.as_deref(),
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
        self,
        summary: &Summary,
        fallback_date: Option<NaiveDate>,
    ) -> Result<i64, StoreError> {
        let path = self.path.clone();
        self.commit_sql(summary, fallback_date)
            .map_err(|e| super::sql_error(&path, e))
    }

    fn commit_sql(
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
                    field.as_deref(),
                    code.as_deref(),
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
        let date = sub.map(|b| b.date).or(summary.date).or(fallback_date);
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
            path: path.clone(),
            report_id,
            sha256: file.sha256.clone(),
            findings: 0,
            consent: 0,
            pending: Vec::with_capacity(FINDINGS_PER_INSERT),
            sums: Default::default(),
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
