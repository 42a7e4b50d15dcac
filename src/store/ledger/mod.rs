//! The message ledger in the store: sent batches and their messages ([`LedgerWriter`], one
//! transaction per batch) and their link to the registry's answer ([`Store::link_batch`]);
//! the worklist built on them is in [`super::worklist`] (re-exported here).
//!
//! One concept per file: [`writer`] (a sent batch written in one transaction), [`reads`]
//! (breakdowns, timeliness, acceptance), here the linking and the ledger's counts.
//!
//! Linking is idempotent and runs whenever either side arrives: a sent batch after its
//! answer, or an answer after its batch. The answer of a batch is its primary report (the
//! most detailed shape, the latest of equals, as the analytics count it).

use rusqlite::{Transaction, params};

use crate::domain::AnswerStatus;
use crate::formats::Format;
use crate::store::{Store, StoreError};

mod reads;
mod writer;

pub use reads::{AcceptanceGroup, FindingGroup, LedgerKey, MessageGroup, TimelinessGroup, Weeks};
pub use writer::LedgerWriter;

pub use crate::store::worklist::{
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
            statements(include_str!(concat!("../../../queries/store/", $file)))
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
                include_str!("../../../queries/store/ledger_any.sql"),
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.sql_err(e))
    }

    /// How many batches and messages the ledger holds, per answer status.
    pub fn ledger_counts(&self) -> Result<LedgerCounts, StoreError> {
        let rows: Vec<(i64, Option<AnswerStatus>, i64)> = self.rows(
            include_str!("../../../queries/store/ledger_counts.sql"),
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

    /// Link every batch of this name to its answer (see the module doc). Returns how many
    /// ledger batches have that name.
    pub fn link_batch(&mut self, name: &str) -> Result<usize, StoreError> {
        // most reports are about batches the ledger does not hold: no transaction for them
        // (only this process writes the store: the lock is held)
        let batches: Vec<i64> = self.rows(
            include_str!("../../../queries/store/ledger_batches_named.sql"),
            [name],
            |r| r.get(0),
        )?;
        if batches.is_empty() {
            return Ok(0);
        }
        let (tx, path) = self.write_tx()?;
        let sql = |e| crate::store::sql_error(&path, e);
        let reports: Vec<(i64, String, bool)> = {
            let mut st = tx
                .prepare_cached(include_str!(
                    "../../../queries/store/ledger_reports_of_batch.sql"
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
                    include_str!("../../../queries/store/ledger_batch_linked.sql"),
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
                    include_str!("../../../queries/store/ledger_status_from_answers.sql"),
                    params![batch, report],
                )
                .map_err(sql)?;
            } else {
                let linked: i64 = tx
                    .query_row(
                        include_str!("../../../queries/store/ledger_linked_count.sql"),
                        [report],
                        |r| r.get(0),
                    )
                    .map_err(sql)?;
                tx.execute(
                    include_str!("../../../queries/store/ledger_status_from_findings.sql"),
                    params![batch, report, linked],
                )
                .map_err(sql)?;
            }
            tx.execute(
                include_str!("../../../queries/store/ledger_batch_answered.sql"),
                params![batch, report, crate::store::now()],
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
            include_str!("../../../queries/store/ledger_unlinked_answered.sql"),
            [],
            |r| r.get(0),
        )?;
        for name in &names {
            self.link_batch(name)?;
        }
        Ok(names)
    }
}

impl Store {
    /// Sent batches without an answer: (name, date sent, messages).
    pub fn unanswered_batches(
        &self,
        profile: Option<&str>,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        self.rows(
            include_str!("../../../queries/store/ledger_unanswered.sql"),
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
            include_str!("../../../queries/store/ledger_not_mentioned.sql"),
            params![profile, week.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }
}

impl Store {
    /// The size of every sent batch in the ledger: (profile, name, messages).
    pub fn sent_batch_sizes(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        self.rows(
            include_str!("../../../queries/store/ledger_batch_sizes.sql"),
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
