//! The message ledger in the store: sent batches and their messages ([`LedgerWriter`], one
//! transaction per batch) and their link to the registry's answer ([`Store::link_batch`]);
//! the worklist built on them is in [`super::worklist`] (re-exported here).
//!
//! Linking is idempotent and runs whenever either side arrives: a sent batch after its
//! answer, or an answer after its batch. The answer of a batch is its primary report (the
//! most detailed shape, the latest of equals, as the analytics count it).

use rusqlite::{OptionalExtension, Transaction, params};

use super::bind::{Sql, insert_rows, int, opt_int, opt_text, text};
use super::{Store, StoreError};
use crate::domain::AnswerStatus;
use crate::domain::SentMessage;
use crate::domain::Short;
use crate::formats::Format;

pub use super::worklist::{
    ACTIONS_FILE, LEDGER_EXPORT_COLUMNS, WorklistActionEntry, WorklistRow, actions_path,
};

/// Where a sent batch came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentSource {
    Upload,
    Accepted,
    Import,
}

impl SentSource {
    pub fn as_str(self) -> &'static str {
        match self {
            SentSource::Upload => "upload",
            SentSource::Accepted => "accepted",
            SentSource::Import => "import",
        }
    }
}

/// Messages of one sent batch being written inside a transaction.
pub struct LedgerWriter<'s> {
    tx: Transaction<'s>,
    /// The database, for errors.
    path: std::path::PathBuf,
    batch_id: i64,
    /// Monday of the batch's week (ISO), for every message.
    week: Option<Short>,
    sent_on: Option<chrono::NaiveDate>,
    messages: u64,
    /// The id the next message gets (ids are given here so vaccinations can refer to them
    /// inside one multi-row INSERT).
    next_id: i64,
    pending: Vec<MessageRow>,
    vaccinations: Vec<VaccinationRow>,
}

/// The statements of a named SQL file holding several (comment lines dropped first, so a
/// `;` in a comment does not split a statement).
fn statements(sql: &str) -> Vec<String> {
    let code: String = sql
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    code.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A named SQL file of several statements, split once.
struct Script(std::sync::LazyLock<Vec<String>>);

macro_rules! script {
    ($file:literal) => {
        Script(std::sync::LazyLock::new(|| {
            statements(include_str!(concat!("../../queries/store/", $file)))
        }))
    };
}

static UNLINK: Script = script!("ledger_unlink.sql");
static LINK_FINDINGS: Script = script!("ledger_link_findings.sql");
static WORKLIST_REFRESH: Script = script!("worklist_refresh.sql");

impl Script {
    /// Run every statement with the same parameters (each prepared once per connection).
    fn run(&self, tx: &Transaction<'_>, p: impl rusqlite::Params + Copy) -> rusqlite::Result<()> {
        for stmt in self.0.iter() {
            tx.prepare_cached(stmt)?.execute(p)?;
        }
        Ok(())
    }
}

/// The ledger in numbers (`status`, `worklist`, `demo`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerCounts {
    pub batches: u64,
    pub messages: u64,
    /// Messages per answer status.
    pub by_status: Vec<(AnswerStatus, u64)>,
}

impl LedgerCounts {
    pub fn of(&self, s: AnswerStatus) -> u64 {
        self.by_status
            .iter()
            .find(|(k, _)| *k == s)
            .map_or(0, |(_, n)| *n)
    }
}

impl Store {
    /// Whether the ledger holds any sent batch (cheap: [`Store::ledger_counts`] reads every
    /// message).
    pub fn has_ledger(&self) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                include_str!("../../queries/store/ledger_any.sql"),
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.sql_err(e))
    }

    /// How many batches and messages the ledger holds, per answer status.
    pub fn ledger_counts(&self) -> Result<LedgerCounts, StoreError> {
        let rows: Vec<(i64, Option<AnswerStatus>, i64)> = self.rows(
            include_str!("../../queries/store/ledger_counts.sql"),
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let mut c = LedgerCounts::default();
        for (batches, status, n) in rows {
            c.batches = batches as u64;
            if let Some(s) = status {
                c.messages += n as u64;
                c.by_status.push((s, n as u64));
            }
        }
        Ok(c)
    }

    /// Start writing a sent batch. None when the profile already has a batch of that name
    /// (the registry's copy of an uploaded batch, or the same import twice).
    pub fn begin_sent_batch(
        &mut self,
        profile: &str,
        name: &str,
        sha256: &str,
        source: SentSource,
    ) -> Result<Option<LedgerWriter<'_>>, StoreError> {
        let (tx, path) = self.write_tx()?;
        let sql = |e| super::sql_error(&path, e);
        let sent_on = crate::batch_name::parse(name).map(|b| b.date);
        let id: Option<i64> = tx
            .query_row(
                include_str!("../../queries/store/ledger_batch_insert.sql"),
                params![
                    profile,
                    name,
                    sha256,
                    source.as_str(),
                    sent_on.map(|d| d.to_string()),
                    super::now()
                ],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql)?;
        let Some(batch_id) = id else {
            return Ok(None);
        };
        let next_id: i64 = tx
            .query_row(
                include_str!("../../queries/store/ledger_next_message_id.sql"),
                [],
                |r| r.get(0),
            )
            .map_err(sql)?;
        Ok(Some(LedgerWriter {
            tx,
            path: path.clone(),
            batch_id,
            week: sent_on.map(|d| iso_date(crate::domain::week_start(d))),
            sent_on,
            messages: 0,
            next_id,
            pending: Vec::with_capacity(LEDGER_ROWS_PER_INSERT),
            vaccinations: Vec::with_capacity(2 * LEDGER_ROWS_PER_INSERT),
        }))
    }

    /// Link every batch of this name to its answer (see the module doc). Returns how many
    /// ledger batches have that name.
    pub fn link_batch(&mut self, name: &str) -> Result<usize, StoreError> {
        // most reports are about batches the ledger does not hold: no transaction for them
        // (only this process writes the store: the lock is held)
        let batches: Vec<i64> = self.rows(
            include_str!("../../queries/store/ledger_batches_named.sql"),
            [name],
            |r| r.get(0),
        )?;
        if batches.is_empty() {
            return Ok(0);
        }
        let (tx, path) = self.write_tx()?;
        let sql = |e| super::sql_error(&path, e);
        let reports: Vec<(i64, String, bool)> = {
            let mut st = tx
                .prepare_cached(include_str!(
                    "../../queries/store/ledger_reports_of_batch.sql"
                ))
                .map_err(sql)?;
            st.query_map([name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .and_then(|rows| rows.collect())
                .map_err(sql)?
        };
        // the primary report: lowest rank, latest of equals (as the analytics count it)
        let primary = reports
            .iter()
            .min_by_key(|(id, format, _)| {
                (
                    Format::parse(format).map(Format::rank).unwrap_or(u8::MAX),
                    -id,
                )
            })
            .cloned();
        let mut refresh_batches = Vec::new();
        for &batch in &batches {
            let was_linked: bool = tx
                .query_row(
                    include_str!("../../queries/store/ledger_batch_linked.sql"),
                    [batch],
                    |r| r.get(0),
                )
                .map_err(sql)?;
            // a batch without an answer, before or now, changes no item
            if was_linked || primary.is_some() {
                refresh_batches.push(batch);
            }
            if was_linked {
                UNLINK.run(&tx, [batch]).map_err(sql)?;
            }
            let Some((report, _, answers)) = &primary else {
                continue;
            };
            LINK_FINDINGS.run(&tx, (batch, *report)).map_err(sql)?;
            if *answers {
                tx.execute(
                    include_str!("../../queries/store/ledger_status_from_answers.sql"),
                    params![batch, report],
                )
                .map_err(sql)?;
            } else {
                let linked: i64 = tx
                    .query_row(
                        include_str!("../../queries/store/ledger_linked_count.sql"),
                        [report],
                        |r| r.get(0),
                    )
                    .map_err(sql)?;
                tx.execute(
                    include_str!("../../queries/store/ledger_status_from_findings.sql"),
                    params![batch, report, linked],
                )
                .map_err(sql)?;
            }
            tx.execute(
                include_str!("../../queries/store/ledger_batch_answered.sql"),
                params![batch, report, super::now()],
            )
            .map_err(sql)?;
        }
        for batch in refresh_batches {
            WORKLIST_REFRESH.run(&tx, [batch]).map_err(sql)?;
        }
        tx.commit().map_err(sql)?;
        Ok(batches.len())
    }

    /// Link every batch whose answer is stored but not linked to it (a run stopped between
    /// the answer's commit and its link converges on the next). Returns the batches linked.
    pub fn link_unlinked(&mut self) -> Result<Vec<String>, StoreError> {
        let names: Vec<String> = self.rows(
            include_str!("../../queries/store/ledger_unlinked_answered.sql"),
            [],
            |r| r.get(0),
        )?;
        for name in &names {
            self.link_batch(name)?;
        }
        Ok(names)
    }
}

/// Rows per multi-row INSERT of the ledger writer (9 and 14 parameters a row: far below
/// SQLite's limit).
const LEDGER_ROWS_PER_INSERT: usize = 64;
const MESSAGE_PARAMS: usize = 9;
const VACCINATION_PARAMS: usize = 14;
const MESSAGE_INSERT: &str = include_str!("../../queries/store/ledger_message_insert.sql");
const VACCINATION_INSERT: &str = include_str!("../../queries/store/ledger_vaccination_insert.sql");
static MESSAGE_INSERT_MANY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    super::bind::multi_row_insert(MESSAGE_INSERT, MESSAGE_PARAMS, LEDGER_ROWS_PER_INSERT)
});
static VACCINATION_INSERT_MANY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    super::bind::multi_row_insert(
        VACCINATION_INSERT,
        VACCINATION_PARAMS,
        LEDGER_ROWS_PER_INSERT,
    )
});

/// A message row waiting for its multi-row INSERT (its text inline: no allocation).
struct MessageRow {
    id: i64,
    index: i64,
    control_id: Option<Short>,
    time: Short,
    week: Short,
    facility: Option<Short>,
    site: Short,
    patient_ref: Option<Short>,
}

/// A vaccination row waiting for its multi-row INSERT.
struct VaccinationRow {
    message_id: i64,
    seq: i64,
    vaccine: Short,
    ndc: Option<Short>,
    administered_on: Option<Short>,
    historical: bool,
    completion: Option<Short>,
    provider: Short,
    entered_by: Option<Short>,
    ordering_provider: Option<Short>,
    site: Short,
    age_years: Option<i32>,
    days: Option<i64>,
    fields: u16,
}

/// `n` in decimal, zero-padded to the width of `out` (its last digits when wider).
fn put_digits(out: &mut [u8], mut n: u32) {
    for d in out.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// `2025-10-28T08:30:00` as bytes, written digit by digit (chrono's formatter and `format!`
/// were a quarter of the ledger writer's time at 1 M messages). Years outside 0–9999 are
/// written modulo 10,000, never happening for dates read from 8 digits.
fn iso_bytes(t: chrono::NaiveDateTime) -> [u8; 19] {
    use chrono::{Datelike, Timelike};
    let mut b = *b"0000-00-00T00:00:00";
    put_digits(&mut b[0..4], u32::try_from(t.year()).unwrap_or(0));
    put_digits(&mut b[5..7], t.month());
    put_digits(&mut b[8..10], t.day());
    put_digits(&mut b[11..13], t.hour());
    put_digits(&mut b[14..16], t.minute());
    put_digits(&mut b[17..19], t.second());
    b
}

/// The ASCII bytes of [`iso_bytes`] as text.
fn ascii(b: &[u8]) -> Short {
    Short::from(std::str::from_utf8(b).unwrap_or_default())
}

/// `2025-10-28`.
fn iso_date(d: chrono::NaiveDate) -> Short {
    ascii(&iso_bytes(d.and_time(chrono::NaiveTime::MIN))[..10])
}

/// `2025-10-28T08:30:00`.
fn iso_time(t: chrono::NaiveDateTime) -> Short {
    ascii(&iso_bytes(t))
}

impl LedgerWriter<'_> {
    /// Add one message (and its vaccinations); rows go in by multi-row INSERTs.
    pub fn message(&mut self, m: SentMessage) -> Result<(), StoreError> {
        self.add(m).map_err(|e| super::sql_error(&self.path, e))
    }

    fn add(&mut self, m: SentMessage) -> Result<(), rusqlite::Error> {
        self.messages += 1;
        let id = self.next_id;
        self.next_id += 1;
        let time = match (m.time, self.sent_on) {
            (Some(t), _) => iso_time(t),
            (None, Some(d)) => iso_time(d.and_time(chrono::NaiveTime::MIN)),
            (None, None) => Short::from(super::now()),
        };
        let week = match &self.week {
            Some(w) => w.clone(),
            None => iso_date(crate::domain::week_start(
                m.time
                    .map(|t| t.date())
                    .unwrap_or_else(|| chrono::Utc::now().date_naive()),
            )),
        };
        let site = m.site();
        for (seq, v) in m.vaccinations.into_iter().enumerate() {
            let days = match (m.time, v.administered_on) {
                (Some(t), Some(a)) => Some((t.date() - a).num_days()),
                _ => None,
            };
            self.vaccinations.push(VaccinationRow {
                message_id: id,
                seq: seq as i64 + 1,
                vaccine: v.vaccine(),
                ndc: v.ndc,
                administered_on: v.administered_on.map(iso_date),
                historical: v.historical,
                completion: v.completion,
                provider: v
                    .provider
                    .unwrap_or_else(|| Short::const_new(crate::domain::NONE)),
                entered_by: v.entered_by,
                ordering_provider: v.ordering_provider,
                site: v.site.unwrap_or_else(|| site.clone()),
                age_years: v.age_years,
                days,
                fields: v.fields,
            });
        }
        self.pending.push(MessageRow {
            id,
            index: m.index as i64,
            control_id: m.control_id,
            time,
            week,
            facility: m.facility,
            site,
            patient_ref: m.patient_ref,
        });
        if self.pending.len() == LEDGER_ROWS_PER_INSERT {
            self.flush_messages()?;
        }
        if self.vaccinations.len() >= LEDGER_ROWS_PER_INSERT {
            self.flush_vaccinations()?;
        }
        Ok(())
    }

    fn flush_messages(&mut self) -> rusqlite::Result<()> {
        let batch_id = self.batch_id;
        insert_rows(
            &self.tx,
            (MESSAGE_INSERT, &MESSAGE_INSERT_MANY, LEDGER_ROWS_PER_INSERT),
            &self.pending,
            |r: &MessageRow| -> [Sql<'_>; MESSAGE_PARAMS] {
                [
                    int(r.id),
                    int(batch_id),
                    int(r.index),
                    opt_text(&r.control_id),
                    text(&r.time),
                    text(&r.week),
                    opt_text(&r.facility),
                    text(&r.site),
                    opt_text(&r.patient_ref),
                ]
            },
        )?;
        self.pending.clear();
        Ok(())
    }

    fn flush_vaccinations(&mut self) -> rusqlite::Result<()> {
        // messages first: their rows are referenced
        if !self.pending.is_empty() {
            self.flush_messages()?;
        }
        insert_rows(
            &self.tx,
            (
                VACCINATION_INSERT,
                &VACCINATION_INSERT_MANY,
                LEDGER_ROWS_PER_INSERT,
            ),
            &self.vaccinations,
            |r: &VaccinationRow| -> [Sql<'_>; VACCINATION_PARAMS] {
                [
                    int(r.message_id),
                    int(r.seq),
                    text(&r.vaccine),
                    opt_text(&r.ndc),
                    opt_text(&r.administered_on),
                    int(r.historical),
                    opt_text(&r.completion),
                    text(&r.provider),
                    opt_text(&r.entered_by),
                    opt_text(&r.ordering_provider),
                    text(&r.site),
                    opt_int(r.age_years),
                    opt_int(r.days),
                    int(i64::from(r.fields)),
                ]
            },
        )?;
        self.vaccinations.clear();
        Ok(())
    }

    /// Commit the batch with its message count; dropping the writer instead rolls back.
    pub fn commit(self, first_message_date: Option<chrono::NaiveDate>) -> Result<u64, StoreError> {
        let path = self.path.clone();
        self.commit_sql(first_message_date)
            .map_err(|e| super::sql_error(&path, e))
    }

    fn commit_sql(
        mut self,
        first_message_date: Option<chrono::NaiveDate>,
    ) -> Result<u64, rusqlite::Error> {
        self.flush_vaccinations()?; // flushes the messages too
        if !self.pending.is_empty() {
            self.flush_messages()?;
        }
        self.tx.execute(
            include_str!("../../queries/store/ledger_batch_finish.sql"),
            params![
                self.batch_id,
                self.messages as i64,
                first_message_date.map(|d| d.to_string())
            ],
        )?;
        self.tx.commit()?;
        Ok(self.messages)
    }
}

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
            include_str!("../../queries/store/breakdown_findings_site.sql"),
            include_str!("../../queries/store/breakdown_findings_dose.sql"),
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
            include_str!("../../queries/store/breakdown_messages_site.sql"),
            include_str!("../../queries/store/breakdown_messages_dose.sql"),
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
            include_str!("../../queries/store/timeliness.sql"),
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
            include_str!("../../queries/store/ledger_acceptance_site.sql"),
            include_str!("../../queries/store/ledger_acceptance_dose.sql"),
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

impl Store {
    /// Sent batches without an answer: (name, date sent, messages).
    pub fn unanswered_batches(
        &self,
        profile: Option<&str>,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        self.rows(
            include_str!("../../queries/store/ledger_unanswered.sql"),
            [profile],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }

    /// Messages of the week (its Monday) their answer does not mention, per batch.
    pub fn not_mentioned(
        &self,
        profile: Option<&str>,
        week: chrono::NaiveDate,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        self.rows(
            include_str!("../../queries/store/ledger_not_mentioned.sql"),
            params![profile, week.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }
}

impl Store {
    /// The size of every sent batch in the ledger: (profile, name, messages).
    pub fn sent_batch_sizes(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        self.rows(
            include_str!("../../queries/store/ledger_batch_sizes.sql"),
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_semicolon_in_a_comment_does_not_split() {
        let s = super::statements("-- a; b\nSELECT 1;\n-- c;\nSELECT 2;\n");
        assert_eq!(s, vec!["SELECT 1", "SELECT 2"]);
    }
}
