//! Upload history and the names seen in the accepted folder.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// One recorded upload.
#[derive(Debug, Clone, PartialEq)]
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
    /// When the name was first seen in the accepted folder.
    pub accepted_seen_at: Option<String>,
}

impl Store {
    pub fn record_upload(&self, u: &UploadRow) -> Result<(), StoreError> {
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
