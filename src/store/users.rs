//! The people who may sign in to `immdqa serve` (name, role, argon2id password hash), their
//! API tokens (SHA-256 hashes only: a token is shown once, when made) in the history, and the
//! audit trail in a database of its own ([`AuditLog`], `<store>/audit.sqlite`: append-only,
//! the schema's triggers refuse any change or deletion of a row).
//!
//! Users and tokens live in no journal: `rebuild` carries them over from the database it
//! replaces ([`Store::carry_over_people`]); it leaves the audit trail alone.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::domain::Role;

/// A person who may sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// argon2id, PHC string.
    pub password_hash: String,
    pub created: String,
    pub updated: String,
}

/// One row of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub user: Option<String>,
    pub address: Option<String>,
    /// `login`, `login_failed`, `logout`, `view`, `action`, `download`, `denied`, `user_*`.
    pub event: String,
    /// What: the page or the action (never patient data).
    pub detail: Option<String>,
    /// Which items (ids), comma-separated.
    pub items: Option<String>,
}

/// What is appended to the audit trail.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry<'a> {
    pub user: Option<&'a str>,
    pub address: Option<&'a str>,
    pub event: &'a str,
    pub detail: Option<&'a str>,
    pub items: Option<&'a str>,
}

/// The audit trail: `<store>/audit.sqlite`, owner-only, append-only. A database of its own so
/// that appending to it is not a change of the history (the web workspace caches what it
/// computed from the history until the history changes).
pub struct AuditLog {
    conn: rusqlite::Connection,
    path: std::path::PathBuf,
}

pub const AUDIT_FILE: &str = "audit.sqlite";

impl AuditLog {
    /// Open (creating, 0600) the audit trail of the store in `dir`.
    /// Encrypted under `key` when given (the store's key).
    pub fn open(
        dir: &std::path::Path,
        key: Option<&super::crypt::StoreKey>,
    ) -> Result<AuditLog, StoreError> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = dir.join(AUDIT_FILE);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
        let sql = |e| super::sql_error(&path, e);
        let conn = super::crypt::open_db(&path, key).map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sql)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        // a row is in the file (the OS's cache) when the page goes out, so no kill of the
        // process loses it; the write-ahead log is synced at checkpoints, not at every row (an
        // fsync per page view slowed an import beside the server by half, benchmark B11i)
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sql)?;
        conn.execute_batch(include_str!("../../queries/store/audit_schema.sql"))
            .map_err(sql)?;
        Ok(AuditLog { conn, path })
    }

    /// Close with the log folded into the file (`store encrypt` copies the file alone).
    pub fn close(self) -> Result<(), StoreError> {
        let sql = |e| super::sql_error(&self.path, e);
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(sql)?;
        self.conn
            .close()
            .map_err(|(_, e)| super::sql_error(&self.path, e))
    }

    /// Append a row.
    pub fn append(&self, e: &AuditEntry<'_>) -> Result<(), StoreError> {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        self.conn
            .execute(
                "INSERT INTO audit (at, user_name, address, event, detail, items) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![now, e.user, e.address, e.event, e.detail, e.items],
            )
            .map(|_| ())
            .map_err(|err| super::sql_error(&self.path, err))
    }

    /// The rows from an instant (RFC 3339 prefix), of one user, oldest first.
    pub fn rows(
        &self,
        since: Option<&str>,
        user: Option<&str>,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(include_str!("../../queries/store/audit_rows.sql"))
            .map_err(|e| super::sql_error(&self.path, e))?;
        st.query_map(params![since, user], |r| {
            Ok(AuditRow {
                id: r.get(0)?,
                at: r.get(1)?,
                user: r.get(2)?,
                address: r.get(3)?,
                event: r.get(4)?,
                detail: r.get(5)?,
                items: r.get(6)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| super::sql_error(&self.path, e))
    }
}

fn user_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(1)?;
    Ok(User {
        name: r.get(0)?,
        role: Role::parse(&role).unwrap_or(Role::Analyst),
        password_hash: r.get(2)?,
        created: r.get(3)?,
        updated: r.get(4)?,
    })
}

const USER_COLUMNS: &str = "SELECT name, role, password_hash, created, updated FROM app_user";

impl Store {
    /// Add a user; false when the name is taken.
    pub fn user_add(&mut self, name: &str, role: Role, hash: &str) -> Result<bool, StoreError> {
        let now = super::now();
        let (tx, path) = self.write_tx()?;
        let n = tx
            .execute(
                "INSERT INTO app_user (name, role, password_hash, created, updated) \
                 VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (name) DO NOTHING",
                params![name, role.as_str(), hash, now],
            )
            .map_err(|e| super::sql_error(&path, e))?;
        tx.commit().map_err(|e| super::sql_error(&path, e))?;
        Ok(n == 1)
    }

    /// One user by name (exact).
    pub fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        self.conn
            .query_row(&format!("{USER_COLUMNS} WHERE name = ?1"), [name], user_of)
            .optional()
            .map_err(|e| self.sql_err(e))
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        self.rows(&format!("{USER_COLUMNS} ORDER BY name"), [], user_of)
    }

    /// Remove a user and their tokens; false when there is none of that name.
    pub fn user_remove(&mut self, name: &str) -> Result<bool, StoreError> {
        let (tx, path) = self.write_tx()?;
        let sql = |e| super::sql_error(&path, e);
        tx.execute("DELETE FROM api_token WHERE user_name = ?1", [name])
            .map_err(sql)?;
        let n = tx
            .execute("DELETE FROM app_user WHERE name = ?1", [name])
            .map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(n == 1)
    }

    /// A new password hash; false when there is no such user.
    pub fn user_set_password(&mut self, name: &str, hash: &str) -> Result<bool, StoreError> {
        let now = super::now();
        let (tx, path) = self.write_tx()?;
        let sql = |e| super::sql_error(&path, e);
        let n = tx
            .execute(
                "UPDATE app_user SET password_hash = ?2, updated = ?3 WHERE name = ?1",
                params![name, hash, now],
            )
            .map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(n == 1)
    }

    /// Record a new API token of a user (its hash only).
    pub fn token_add(&mut self, name: &str, token_hash: &str) -> Result<(), StoreError> {
        let now = super::now();
        let (tx, path) = self.write_tx()?;
        let sql = |e| super::sql_error(&path, e);
        tx.execute(
            "INSERT INTO api_token (user_name, token_hash, created) VALUES (?1, ?2, ?3)",
            params![name, token_hash, now],
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)
    }

    /// The user a token (by its hash) belongs to.
    pub fn token_user(&self, token_hash: &str) -> Result<Option<User>, StoreError> {
        self.conn
            .query_row(
                &format!(
                    "{USER_COLUMNS} WHERE name = (SELECT user_name FROM api_token WHERE token_hash = ?1)"
                ),
                [token_hash],
                user_of,
            )
            .optional()
            .map_err(|e| self.sql_err(e))
    }

    /// `rebuild`: the users and tokens of the database being replaced (neither is in a
    /// journal; the audit trail is a database of its own, which a rebuild leaves alone). A database that cannot be read gives nothing, not an error:
    /// the rebuild is what repairs it.
    pub fn carry_over_people(&mut self, old_db: &std::path::Path) -> Result<usize, StoreError> {
        // nothing to carry from a lost (empty) history; read only, never written
        if std::fs::metadata(old_db).map(|m| m.len()).unwrap_or(0) == 0 {
            return Ok(0);
        }
        // ATTACH cannot run inside a transaction; an encrypted store's old database is under
        // the same key (given again: an ATTACH without KEY would not derive it the same way)
        let uri = super::crypt::sqlite_uri(old_db, "mode=ro");
        let attached = match &self.key {
            Some(k) => k.attach(&self.conn, std::path::Path::new(&uri), "old"),
            None => self
                .conn
                .execute("ATTACH DATABASE ?1 AS old", [&uri])
                .map(|_| ()),
        };
        if let Err(e) = attached {
            tracing::debug!("rebuild: the old database cannot be attached: {e}");
            return Ok(0);
        }
        let (tx, path) = self.write_tx()?;
        let sql = |e| super::sql_error(&path, e);
        let has = |t: &str| {
            tx.query_row(
                "SELECT count(*) FROM old.sqlite_master WHERE type = 'table' AND name = ?1",
                [t],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n == 1)
            .unwrap_or(false)
        };
        let mut carried = 0;
        if has("app_user") && has("api_token") {
            for stmt in [
                "INSERT OR IGNORE INTO app_user SELECT * FROM old.app_user",
                "INSERT OR IGNORE INTO api_token SELECT * FROM old.api_token",
            ] {
                carried += tx.execute(stmt, []).unwrap_or(0);
            }
        }
        tx.commit().map_err(sql)?;
        self.conn
            .execute("DETACH DATABASE old", [])
            .map_err(|e| self.sql_err(e))?;
        Ok(carried)
    }
}
