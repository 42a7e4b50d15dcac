//! Consent follow-ups closed (or reopened) by hand: journaled (`consent.actions.jsonl`,
//! owner-only, replayed by `immdqa rebuild`) and recorded in the history. Entries name the
//! follow-up by a hash of its key, never by a patient reference or name.

use rusqlite::params;

use super::{Store, StoreError};

/// The journal of hand actions on consent follow-ups.
pub const CONSENT_ACTIONS_FILE: &str = "consent.actions.jsonl";

pub fn consent_actions_path(store: &std::path::Path) -> std::path::PathBuf {
    store.join(CONSENT_ACTIONS_FILE)
}

/// One hand action on a consent follow-up.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConsentActionEntry {
    /// The follow-up's key (see `analytics::consent::FollowUp::key`): a hash.
    pub follow_up: String,
    /// `closed` or `reopened`.
    pub action: String,
    pub note: Option<String>,
    pub by: Option<String>,
    pub at: String,
}

impl Store {
    /// Every journaled consent action in order (a torn last line is skipped).
    pub fn read_consent_actions(&self) -> std::io::Result<Vec<ConsentActionEntry>> {
        super::journal::read(&consent_actions_path(self.dir()), self.journal.as_ref())
    }

    /// Take a hand action: the journal first (what a rebuild replays), then the history.
    pub fn consent_action(&self, e: &ConsentActionEntry) -> Result<(), StoreError> {
        let path = consent_actions_path(self.dir());
        super::journal::append(&path, e, self.journal.as_ref())
            .map_err(|source| StoreError::Io { path, source })?;
        self.set_consent_action(e)
    }

    /// Record an action (a new one, or one replayed by `rebuild`).
    pub fn set_consent_action(&self, e: &ConsentActionEntry) -> Result<(), StoreError> {
        self.conn
            .execute(
                include_str!("../../queries/store/consent_action_insert.sql"),
                params![e.follow_up, e.action, e.note, e.by, e.at],
            )
            .map(|_| ())
            .map_err(|err| self.sql_err(err))
    }

    /// Every hand action on consent follow-ups, oldest first.
    pub fn consent_actions(&self) -> Result<Vec<ConsentActionEntry>, StoreError> {
        self.rows(
            include_str!("../../queries/store/consent_actions.sql"),
            [],
            |r| {
                Ok(ConsentActionEntry {
                    follow_up: r.get(0)?,
                    action: r.get(1)?,
                    note: r.get(2)?,
                    by: r.get(3)?,
                    at: r.get(4)?,
                })
            },
        )
    }
}
