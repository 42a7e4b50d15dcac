//! Schema migrations: numbered SQL files under queries/migrations, embedded at build time and
//! applied in order, in one transaction, on every open. The schema version is
//! `PRAGMA user_version`. Append-only: a change to the schema is a new file.

use rusqlite::Connection;

/// `(file name, SQL)`, in order. Migration N (1-based) brings the schema to version N.
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_create_history.sql",
        include_str!("../../queries/migrations/0001_create_history.sql"),
    ),
    (
        "0002_create_findings.sql",
        include_str!("../../queries/migrations/0002_create_findings.sql"),
    ),
    (
        "0003_create_uploads.sql",
        include_str!("../../queries/migrations/0003_create_uploads.sql"),
    ),
    (
        "0004_ack_details.sql",
        include_str!("../../queries/migrations/0004_ack_details.sql"),
    ),
    (
        "0005_ledger.sql",
        include_str!("../../queries/migrations/0005_ledger.sql"),
    ),
    (
        "0006_upload_intent.sql",
        include_str!("../../queries/migrations/0006_upload_intent.sql"),
    ),
    (
        "0007_worklist_history.sql",
        include_str!("../../queries/migrations/0007_worklist_history.sql"),
    ),
    (
        "0008_consent_actions.sql",
        include_str!("../../queries/migrations/0008_consent_actions.sql"),
    ),
    (
        "0009_serve.sql",
        include_str!("../../queries/migrations/0009_serve.sql"),
    ),
    (
        "0010_completeness.sql",
        include_str!("../../queries/migrations/0010_completeness.sql"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "the store's schema version is {found}, newer than this immdqa knows ({known}); upgrade immdqa"
    )]
    TooNew { found: u32, known: u32 },
    #[error("migration {name} failed: {source}")]
    Failed {
        name: &'static str,
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
}

/// Bring the database to the latest schema. Returns how many migrations were applied.
pub fn migrate(conn: &mut Connection) -> Result<usize, MigrateError> {
    let known = MIGRATIONS.len() as u32;
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current == known {
        return Ok(0);
    }
    // A migration may rebuild a table (SQLite's 12-step ALTER: 0005 rebuilds remote_file):
    // foreign keys off while it runs (the pragma is a no-op inside a transaction), checked
    // after; the caller turns them on.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    // IMMEDIATE: take the write lock up front (waiting on busy_timeout), so two processes
    // opening a new store at once serialise instead of failing on a lock upgrade.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let current: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > known {
        return Err(MigrateError::TooNew {
            found: current,
            known,
        });
    }
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.execute_batch(sql)
            .map_err(|source| MigrateError::Failed { name, source })?;
        tx.pragma_update(None, "user_version", (i + 1) as u32)?;
    }
    let dangling: i64 = tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
        r.get(0)
    })?;
    if dangling > 0 {
        return Err(MigrateError::Failed {
            name: MIGRATIONS[known as usize - 1].0,
            source: rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
                Some(format!("{dangling} row(s) refer to rows that do not exist")),
            ),
        });
    }
    tx.commit()?;
    Ok((known - current) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_registered_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/queries/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let registered: Vec<&str> = MIGRATIONS.iter().map(|(n, _)| *n).collect();
        assert_eq!(files, registered);
        for (i, name) in registered.iter().enumerate() {
            assert!(name.starts_with(&format!("{:04}_", i + 1)), "{name}");
        }
    }

    /// A store at version 4 with files, a report and findings migrates to the ledger schema
    /// keeping its rows: remote_file rebuilt with the `sent` kind (same ids), the finding sums
    /// backfilled.
    #[test]
    fn version_4_store_keeps_its_rows_through_0005() {
        let mut c = Connection::open_in_memory().unwrap();
        let tx = c.transaction().unwrap();
        for (i, (_, sql)) in MIGRATIONS.iter().take(4).enumerate() {
            tx.execute_batch(sql).unwrap();
            tx.pragma_update(None, "user_version", (i + 1) as u32)
                .unwrap();
        }
        tx.execute_batch(
            "INSERT INTO blob VALUES ('aa', 1, 't');
             INSERT INTO remote_file (id, profile, folder, name, kind, size, mtime, sha256, fetched_at)
                VALUES (7, 'p', 'DQA-Reports', 'X.ack', 'dqa', 1, 0, 'aa', 't');
             INSERT INTO report (id, sha256, remote_file_id, kind, format, parsed_at, parser_version)
                VALUES (3, 'aa', 7, 'dqa', 'hl7-ack', 't', 1);
             INSERT INTO finding (report_id, field, code, severity, text, raw, count) VALUES
                (3, 'NK1', 'IEE-519', 'W', 't', 'r', 1), (3, 'NK1', 'IEE-519', 'W', 't', 'r', 2),
                (3, 'RXA-17', 'IMR-111', 'E', 't', 'r', 1);",
        )
        .unwrap();
        tx.commit().unwrap();
        assert_eq!(migrate(&mut c).unwrap(), MIGRATIONS.len() - 4);
        let kind: String = c
            .query_row("SELECT kind FROM remote_file WHERE id = 7", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(kind, "dqa");
        c.execute(
            "INSERT INTO remote_file (profile, folder, name, kind, size, mtime, sha256, fetched_at)
             VALUES ('p', 'Accepted', 'X.hl7', 'sent', 1, 0, 'aa', 't')",
            [],
        )
        .unwrap();
        let sums: Vec<(String, i64)> = c
            .prepare("SELECT code, count FROM finding_sum WHERE report_id = 3 ORDER BY code")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(sums, vec![("IEE-519".into(), 3), ("IMR-111".into(), 1)]);
    }

    #[test]
    fn applies_all_then_nothing_and_refuses_newer() {
        let mut c = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut c).unwrap(), MIGRATIONS.len());
        assert_eq!(migrate(&mut c).unwrap(), 0);
        let v: u32 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v as usize, MIGRATIONS.len());
        c.pragma_update(None, "user_version", 999).unwrap();
        assert!(matches!(
            migrate(&mut c),
            Err(MigrateError::TooNew { found: 999, .. })
        ));
    }
}
