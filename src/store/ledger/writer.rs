//! Writing a sent batch into the ledger: one transaction per batch, messages and
//! vaccinations in multi-row INSERTs, dates written digit by digit.

use rusqlite::{OptionalExtension, Transaction, params};

use super::SentSource;
use crate::domain::{SentMessage, Short};
use crate::store::bind::{Sql, insert_rows, int, opt_int, opt_text, text};
use crate::store::{Store, StoreError};

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

impl Store {
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
        let sql = |e| crate::store::sql_error(&path, e);
        let sent_on = crate::batch_name::parse(name).map(|b| b.date);
        let id: Option<i64> = tx
            .query_row(
                include_str!("../../../queries/store/ledger_batch_insert.sql"),
                params![
                    profile,
                    name,
                    sha256,
                    source.as_str(),
                    sent_on.map(|d| d.to_string()),
                    crate::store::now()
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
                include_str!("../../../queries/store/ledger_next_message_id.sql"),
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
}

/// Rows per multi-row INSERT of the ledger writer (9 and 14 parameters a row: far below
/// SQLite's limit).
const LEDGER_ROWS_PER_INSERT: usize = 64;
const MESSAGE_PARAMS: usize = 9;
const VACCINATION_PARAMS: usize = 14;
const MESSAGE_INSERT: &str = include_str!("../../../queries/store/ledger_message_insert.sql");
const VACCINATION_INSERT: &str =
    include_str!("../../../queries/store/ledger_vaccination_insert.sql");
static MESSAGE_INSERT_MANY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    crate::store::bind::multi_row_insert(MESSAGE_INSERT, MESSAGE_PARAMS, LEDGER_ROWS_PER_INSERT)
});
static VACCINATION_INSERT_MANY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    crate::store::bind::multi_row_insert(
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
        self.add(m)
            .map_err(|e| crate::store::sql_error(&self.path, e))
    }

    fn add(&mut self, m: SentMessage) -> Result<(), rusqlite::Error> {
        self.messages += 1;
        let id = self.next_id;
        self.next_id += 1;
        let time = match (m.time, self.sent_on) {
            (Some(t), _) => iso_time(t),
            (None, Some(d)) => iso_time(d.and_time(chrono::NaiveTime::MIN)),
            (None, None) => Short::from(crate::store::now()),
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
            .map_err(|e| crate::store::sql_error(&path, e))
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
            include_str!("../../../queries/store/ledger_batch_finish.sql"),
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
