//! The worklist in the store: the rows behind it ([`Store::for_each_worklist_row`]), the
//! hand actions taken on its items (journaled in `worklist.actions.jsonl`, with their
//! history), when a resolved item's fix was accepted, and the rows of `export ledger`.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::domain::{AnswerStatus, HandAction};

/// One worklist candidate as stored (owners and ignored codes are applied by the caller).
#[derive(Debug, Clone)]
pub struct WorklistRow {
    pub id: i64,
    pub profile: String,
    pub batch: String,
    pub message_index: i64,
    pub patient_ref: Option<String>,
    pub site: String,
    pub status: AnswerStatus,
    pub opened: Option<String>,
    pub vaccines: Option<String>,
    pub administered_on: Option<String>,
    pub provider: Option<String>,
    /// (code, severity letter, field, text) per linked finding.
    pub findings: Vec<(String, String, String, String)>,
    pub action: Option<String>,
    pub note: Option<String>,
    pub resolved: bool,
    /// Who the item is assigned to (`assign`), if anyone.
    pub assignee: Option<String>,
}

impl Store {
    /// Every sent message with its answer, for `export ledger`: a row of text cells in the
    /// order of [`LEDGER_EXPORT_COLUMNS`] (None: empty).
    pub fn ledger_export_rows(
        &self,
        profile: Option<&str>,
        first_week: Option<&str>,
        last_week: Option<&str>,
    ) -> Result<Vec<Vec<Option<String>>>, StoreError> {
        self.rows(
            include_str!("../../queries/store/export_ledger.sql"),
            params![profile, first_week, last_week],
            |r| {
                (0..LEDGER_EXPORT_COLUMNS.len())
                    .map(|i| {
                        Ok(match r.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => None,
                            rusqlite::types::ValueRef::Integer(n) => Some(n.to_string()),
                            v => Some(v.as_str().unwrap_or_default().to_string()),
                        })
                    })
                    .collect()
            },
        )
    }

    /// (worklist item id, the date its fix was accepted) for every resolved item.
    pub fn worklist_resolved_on(
        &self,
        profile: Option<&str>,
    ) -> Result<Vec<(i64, Option<String>)>, StoreError> {
        self.rows(
            include_str!("../../queries/store/worklist_resolved_on.sql"),
            [profile],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// Worklist candidates of a profile (None: all), oldest answer first; with `all`, closed,
    /// ignored and resolved items too. Each row goes to `each` as it is read (the worklist of
    /// a large ledger is never held twice).
    pub fn for_each_worklist_row(
        &self,
        profile: Option<&str>,
        all: bool,
        mut each: impl FnMut(WorklistRow),
    ) -> Result<(), StoreError> {
        let mut st = self
            .conn
            .prepare_cached(include_str!("../../queries/store/worklist_items.sql"))
            .map_err(|e| self.sql_err(e))?;
        let rows = st
            .query_map(params![profile, all], |r| {
                let codes: Option<String> = r.get(11)?;
                let findings = codes
                    .unwrap_or_default()
                    .split('\u{1e}')
                    .filter(|s| !s.is_empty())
                    .map(|f| {
                        let mut p = f.splitn(4, '\u{1f}').map(str::to_string);
                        let mut next = || p.next().unwrap_or_default();
                        (next(), next(), next(), next())
                    })
                    .collect();
                Ok(WorklistRow {
                    id: r.get(0)?,
                    profile: r.get(1)?,
                    batch: r.get(2)?,
                    message_index: r.get(3)?,
                    patient_ref: r.get(4)?,
                    site: r.get(5)?,
                    status: r.get(6)?,
                    opened: r.get(7)?,
                    vaccines: r.get(8)?,
                    administered_on: r.get(9)?,
                    provider: r.get(10)?,
                    findings,
                    action: r.get(12)?,
                    note: r.get(13)?,
                    resolved: r.get(14)?,
                    assignee: r.get(15)?,
                })
            })
            .map_err(|e| self.sql_err(e))?;
        for row in rows {
            each(row.map_err(|e| self.sql_err(e))?);
        }
        Ok(())
    }

    /// Close, ignore, reopen or assign a worklist item by hand, with a note and who took the
    /// action. False when no item has that id.
    pub fn worklist_action(
        &mut self,
        id: i64,
        action: &HandAction,
        note: Option<&str>,
        by: Option<&str>,
    ) -> Result<bool, StoreError> {
        let key: Option<(String, String, i64)> = self
            .conn
            .query_row(
                include_str!("../../queries/store/worklist_item_key.sql"),
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| self.sql_err(e))?;
        let Some((profile, batch, message_index)) = key else {
            return Ok(false);
        };
        let entry = WorklistActionEntry {
            profile,
            batch,
            message_index,
            action: action.verb().to_string(),
            note: note.map(str::to_string),
            at: super::now(),
            by: by.map(str::to_string),
            assignee: match action {
                HandAction::Assign(who) => Some(who.clone()),
                _ => None,
            },
        };
        // the journal first: what a rebuild replays (the database may be the thing lost)
        super::journal::append(&actions_path(self.dir()), &entry, self.journal.as_ref()).map_err(
            |source| StoreError::Io {
                path: actions_path(self.dir()),
                source,
            },
        )?;
        self.set_worklist_action(&entry)?;
        Ok(true)
    }

    /// Record an action by its key (a hand action, or one replayed by `rebuild`): its event in
    /// the item's history, and the item's hand state (reopened: none).
    pub fn set_worklist_action(&mut self, e: &WorklistActionEntry) -> Result<(), StoreError> {
        let (tx, path) = self.write_tx()?;
        let sql = |err| super::sql_error(&path, err);
        tx.execute(
            include_str!("../../queries/store/worklist_event_insert.sql"),
            params![
                e.profile,
                e.batch,
                e.message_index,
                e.action,
                e.note,
                e.by,
                e.at,
                e.assignee
            ],
        )
        .map_err(sql)?;
        if e.action == "assigned" {
            tx.execute(
                include_str!("../../queries/store/worklist_assignee_set.sql"),
                params![
                    e.profile,
                    e.batch,
                    e.message_index,
                    e.assignee.as_deref().unwrap_or_default(),
                    e.at
                ],
            )
            .map_err(sql)?;
        } else if e.action == "reopened" {
            tx.execute(
                include_str!("../../queries/store/worklist_action_clear.sql"),
                params![e.profile, e.batch, e.message_index],
            )
            .map_err(sql)?;
        } else {
            tx.execute(
                include_str!("../../queries/store/worklist_action_set.sql"),
                params![e.profile, e.batch, e.message_index, e.action, e.note, e.at],
            )
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)
    }

    /// An item's history of hand actions, oldest first.
    pub fn worklist_events(&self, id: i64) -> Result<Vec<WorklistEvent>, StoreError> {
        self.rows(
            include_str!("../../queries/store/worklist_events.sql"),
            [id],
            |r| {
                Ok(WorklistEvent {
                    action: r.get(0)?,
                    note: r.get(1)?,
                    by: r.get(2)?,
                    at: r.get(3)?,
                    assignee: r.get(4)?,
                })
            },
        )
    }
}

/// One message of a sent batch as the web workspace's drill-down shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchMessage {
    pub message_index: i64,
    pub control_id: Option<String>,
    pub site: String,
    pub patient_ref: Option<String>,
    pub status: AnswerStatus,
    pub inferred: bool,
    pub vaccines: Option<String>,
    pub administered_on: Option<String>,
    /// The message is a worklist item (its id is the message's id).
    pub on_worklist: bool,
    pub profile: String,
}

impl Store {
    /// The messages of a sent batch (every profile's batch of that name when none is given).
    pub fn batch_messages(
        &self,
        batch: &str,
        profile: Option<&str>,
    ) -> Result<Vec<BatchMessage>, StoreError> {
        self.rows(
            include_str!("../../queries/store/batch_messages.sql"),
            params![batch, profile],
            |r| {
                Ok(BatchMessage {
                    message_index: r.get(0)?,
                    control_id: r.get(1)?,
                    site: r.get(2)?,
                    patient_ref: r.get(3)?,
                    status: r.get(4)?,
                    inferred: r.get(5)?,
                    vaccines: r.get(6)?,
                    administered_on: r.get(7)?,
                    on_worklist: r.get(8)?,
                    profile: r.get(9)?,
                })
            },
        )
    }

    /// A number that changes whenever another connection commits to the database (SQLite's
    /// `data_version`): what a long-lived reader checks before trusting what it computed.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(|e| self.sql_err(e))
    }
}

/// One event of an item's history of hand actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorklistEvent {
    pub action: String,
    pub note: Option<String>,
    pub by: Option<String>,
    pub at: String,
    /// `assigned`: to whom (empty: unassigned).
    pub assignee: Option<String>,
}

/// The columns of `export ledger`, in the order of `queries/store/export_ledger.sql`.
pub const LEDGER_EXPORT_COLUMNS: [&str; 18] = [
    "profile",
    "batch",
    "source",
    "sent_on",
    "message_index",
    "control_id",
    "message_time",
    "week",
    "facility",
    "site",
    "patient_ref",
    "status",
    "inferred",
    "vaccines",
    "administered_on",
    "provider",
    "answered_on",
    "answer_hash",
];

/// The journal of hand actions on the worklist (`<store>/worklist.actions.jsonl`): appended
/// as each is taken, never rewritten, replayed by `immdqa rebuild`. Owner-only like the store
/// (notes are the user's words).
pub const ACTIONS_FILE: &str = "worklist.actions.jsonl";

/// One hand action, keyed so it survives a rebuild (ids do not).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WorklistActionEntry {
    pub profile: String,
    pub batch: String,
    pub message_index: i64,
    pub action: String,
    pub note: Option<String>,
    pub at: String,
    /// Who took the action (`$USER`, or `--as NAME`); absent in journals from before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// `assigned`: to whom (empty: unassigned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
}

pub fn actions_path(store: &std::path::Path) -> std::path::PathBuf {
    store.join(ACTIONS_FILE)
}

impl Store {
    /// Every journaled worklist action in order (a torn last line is skipped).
    pub fn read_actions(&self) -> std::io::Result<Vec<WorklistActionEntry>> {
        super::journal::read(&actions_path(self.dir()), self.journal.as_ref())
    }
}
