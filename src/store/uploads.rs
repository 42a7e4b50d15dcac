//! Upload history and the names seen in the accepted folder. Each upload is also journaled
//! (`<store>/uploads.jsonl`, owner-only), so `immdqa rebuild` brings the upload history back:
//! the names already used, the batch sizes, which sent batches immdqa uploaded.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// One recorded upload.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct UploadRow {
    pub profile: String,
    pub local_path: String,
    pub remote_dir: String,
    pub remote_name: String,
    pub size: u64,
    pub sha256: String,
    pub uploaded_at: String,
    pub messages: u64,
    pub lint_errors: u64,
    pub lint_warnings: u64,
    /// When the name was first seen in the accepted folder (not journaled: the next fetch
    /// sees the accepted folder again).
    #[serde(skip)]
    pub accepted_seen_at: Option<String>,
}

/// The journal of uploads, replayed by `immdqa rebuild`.
pub const UPLOADS_FILE: &str = "uploads.jsonl";

pub fn uploads_path(store: &std::path::Path) -> std::path::PathBuf {
    store.join(UPLOADS_FILE)
}

/// A dose of a batch about to be sent: (message, dose) positions, patient reference, vaccine
/// as sent, ISO date.
pub type DoseKey = (u64, usize, String, String, String);

impl Store {
    /// Of these doses, the ones the registry already accepted in an earlier batch of
    /// `profile` (their positions).
    pub fn accepted_doses(
        &self,
        profile: &str,
        doses: &[DoseKey],
    ) -> Result<std::collections::HashSet<(u64, usize)>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(include_str!("../../queries/store/dose_accepted.sql"))
            .map_err(|e| self.sql_err(e))?;
        let mut out = std::collections::HashSet::new();
        for (m, d, patient, vaccine, date) in doses {
            let hit: bool = st
                .query_row(rusqlite::params![patient, vaccine, date, profile], |r| {
                    r.get(0)
                })
                .map_err(|e| self.sql_err(e))?;
            if hit {
                out.insert((*m, *d));
            }
        }
        Ok(out)
    }

    /// Every journaled upload in order (a torn last line is skipped).
    pub fn read_uploads(&self) -> std::io::Result<Vec<UploadRow>> {
        super::journal::read(&uploads_path(self.dir()), self.journal.as_ref())
    }

    /// Record an upload: journaled first (what a rebuild replays; the database may be the
    /// thing lost), then in the history.
    pub fn record_upload(&self, u: &UploadRow) -> Result<(), StoreError> {
        super::journal::append(&uploads_path(self.dir()), u, self.journal.as_ref()).map_err(
            |source| StoreError::Io {
                path: uploads_path(self.dir()),
                source,
            },
        )?;
        self.insert_upload(u)
    }

    /// Note an upload about to be renamed into place on the server (see migration 0006).
    pub fn record_upload_intent(&self, u: &UploadRow) -> Result<(), StoreError> {
        let json = serde_json::to_string(u).map_err(|e| StoreError::Io {
            path: self.db_path.clone(),
            source: std::io::Error::other(e),
        })?;
        self.conn
            .execute(
                include_str!("../../queries/store/upload_intent_insert.sql"),
                params![u.profile, u.remote_name, json, super::now()],
            )
            .map(|_| ())
            .map_err(|e| self.sql_err(e))
    }

    /// Settle an intent: the upload is recorded, or it never reached the server.
    pub fn drop_upload_intent(&self, profile: &str, remote_name: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                include_str!("../../queries/store/upload_intent_delete.sql"),
                params![profile, remote_name],
            )
            .map(|_| ())
            .map_err(|e| self.sql_err(e))
    }

    /// The uploads of a profile a stopped run left between rename and record.
    pub fn upload_intents(&self, profile: &str) -> Result<Vec<UploadRow>, StoreError> {
        let mut st = self
            .conn
            .prepare(include_str!("../../queries/store/upload_intents.sql"))
            .map_err(|e| self.sql_err(e))?;
        let rows: Vec<String> = st
            .query_map([profile], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.sql_err(e))?;
        Ok(rows
            .iter()
            .filter_map(|j| serde_json::from_str(j).ok())
            .collect())
    }

    /// Whether the profile's ledger holds a sent batch of this name.
    pub fn has_sent_batch(&self, profile: &str, name: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                include_str!("../../queries/store/ledger_batch_exists.sql"),
                params![profile, name],
                |r| r.get(0),
            )
            .map_err(|e| self.sql_err(e))
    }

    /// Write the upload journal from the history (a store from before the journal existed).
    pub(super) fn backfill_upload_journal(&self) -> Result<(), StoreError> {
        let path = uploads_path(self.dir());
        if path.exists() {
            return Ok(());
        }
        for u in self.uploads()? {
            super::journal::append(&path, &u, self.journal.as_ref()).map_err(|source| {
                StoreError::Io {
                    path: path.clone(),
                    source,
                }
            })?;
        }
        Ok(())
    }

    /// Put an upload in the history (a new one, or one replayed by `rebuild`).
    pub fn insert_upload(&self, u: &UploadRow) -> Result<(), StoreError> {
        self.conn
            .execute(
                include_str!("../../queries/store/upload_insert.sql"),
                params![
                    u.profile,
                    u.local_path,
                    u.remote_dir,
                    u.remote_name,
                    u.size as i64,
                    u.sha256,
                    u.uploaded_at,
                    u.messages as i64,
                    u.lint_errors as i64,
                    u.lint_warnings as i64
                ],
            )
            .map(|_| ())
            .map_err(|e| self.sql_err(e))
    }

    /// Whether this content was uploaded by immdqa (any profile, any name).
    pub fn is_uploaded(&self, sha256: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                include_str!("../../queries/store/upload_sha_exists.sql"),
                [sha256],
                |r| r.get(0),
            )
            .map_err(|e| self.sql_err(e))
    }

    /// Every remote name used by earlier uploads of this profile.
    pub fn upload_names(&self, profile: &str) -> Result<Vec<String>, StoreError> {
        let mut st = self
            .conn
            .prepare(include_str!("../../queries/store/upload_names.sql"))
            .map_err(|e| self.sql_err(e))?;
        st.query_map([profile], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.sql_err(e))
    }

    /// The same content uploaded before (any name), if any: (remote name, uploaded at).
    pub fn upload_of_content(
        &self,
        profile: &str,
        sha256: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        self.conn
            .query_row(
                include_str!("../../queries/store/upload_of_content.sql"),
                params![profile, sha256],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.sql_err(e))
    }

    pub fn uploads(&self) -> Result<Vec<UploadRow>, StoreError> {
        let mut st = self
            .conn
            .prepare(include_str!("../../queries/store/uploads.sql"))
            .map_err(|e| self.sql_err(e))?;
        st.query_map([], |r| {
            Ok(UploadRow {
                profile: r.get(0)?,
                local_path: r.get(1)?,
                remote_dir: r.get(2)?,
                remote_name: r.get(3)?,
                size: r.get::<_, i64>(4)? as u64,
                sha256: r.get(5)?,
                uploaded_at: r.get(6)?,
                messages: r.get::<_, i64>(7)? as u64,
                lint_errors: r.get::<_, i64>(8)? as u64,
                lint_warnings: r.get::<_, i64>(9)? as u64,
                accepted_seen_at: r.get(10)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.sql_err(e))
    }

    /// Record names listed in the accepted folder (first sighting kept).
    pub fn record_accepted(&self, profile: &str, names: &[String]) -> Result<(), StoreError> {
        let now = super::now();
        let mut st = self
            .conn
            .prepare_cached(include_str!("../../queries/store/accepted_insert.sql"))
            .map_err(|e| self.sql_err(e))?;
        for n in names {
            st.execute(params![profile, n, now])
                .map_err(|e| self.sql_err(e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str) -> UploadRow {
        UploadRow {
            profile: "p".into(),
            local_path: "/x/a.hl7".into(),
            remote_dir: "HL7-Dropoff".into(),
            remote_name: name.into(),
            size: 10,
            sha256: "ab".repeat(32),
            uploaded_at: "2026-11-25T20:00:00Z".into(),
            messages: 3,
            lint_errors: 0,
            lint_warnings: 1,
            accepted_seen_at: None,
        }
    }

    /// Uploads are journaled as recorded; a store whose uploads predate the journal gets one
    /// written from the history when it is opened.
    #[test]
    fn uploads_are_journaled_and_an_older_store_is_backfilled() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &crate::store::Keyring::none()).unwrap();
        store.record_upload(&row("A26001.hl7")).unwrap();
        assert_eq!(store.read_uploads().unwrap(), vec![row("A26001.hl7")]);
        // a store from before the journal: its upload is only in the database
        store.insert_upload(&row("A26002.hl7")).unwrap();
        std::fs::remove_file(uploads_path(dir.path())).unwrap();
        drop(store);
        let store = Store::open(dir.path(), &crate::store::Keyring::none()).unwrap();
        let names: Vec<String> = store
            .read_uploads()
            .unwrap()
            .into_iter()
            .map(|u| u.remote_name)
            .collect();
        assert_eq!(names, ["A26001.hl7", "A26002.hl7"]);
    }
}
