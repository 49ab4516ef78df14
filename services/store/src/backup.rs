//! Online backups of the embedded SQLite database, and the checks a file
//! must pass before it may replace one.
//!
//! A backup is `VACUUM INTO`: one read transaction, so under WAL it is a
//! consistent snapshot of every committed write while writers keep going,
//! and the copy comes out compacted. PostgreSQL has its own tools
//! (`pg_dump`, base backups with WAL archiving); see the README.

use crate::db::{Backend, SQLITE_MIGRATOR, Store};
use crate::error::StoreError;
use sqlx::{Connection, Row};
use std::path::Path;

/// Why a backup could not be taken or a file cannot be restored.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Backups through the service are for the embedded SQLite database.
    #[error(
        "this is a PostgreSQL database: back it up with pg_dump -Fc (or a base backup with WAL archiving), see the README"
    )]
    NotSqlite,
    /// The path cannot be put into SQL (it is not UTF-8).
    #[error("the path {0} is not valid UTF-8")]
    PathNotUtf8(String),
    /// SQLite could not open or read the file as a database.
    #[error("{path} is not a readable SQLite database: {reason}")]
    NotADatabase {
        /// The file.
        path: String,
        /// What SQLite said.
        reason: String,
    },
    /// `PRAGMA integrity_check` found damage.
    #[error("{path} is damaged: {}", problems.join("; "))]
    Damaged {
        /// The file.
        path: String,
        /// What the integrity check reported (at most ten lines).
        problems: Vec<String>,
    },
    /// The file is a database but was never migrated by this service.
    #[error("{0} is not a database of this service (it has no migration history)")]
    NotThisService(String),
    /// The file carries a migration this build does not know, or a known one
    /// with a different checksum: it comes from another (newer) version.
    #[error(
        "{path} has migration {version} that this version of the service does not know; restore it with the version that wrote it"
    )]
    UnknownMigration {
        /// The file.
        path: String,
        /// The migration version.
        version: i64,
    },
    /// A migration in the file failed half-way.
    #[error("{path} has migration {version} recorded as failed")]
    FailedMigration {
        /// The file.
        path: String,
        /// The migration version.
        version: i64,
    },
    /// The database failed while taking the backup.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a checked backup file holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupInfo {
    /// Migrations applied in it.
    pub migrations: usize,
    /// The newest of them.
    pub schema_version: i64,
    /// Migrations of this build it lacks; the server applies them at start.
    pub pending_migrations: usize,
}

impl Store {
    /// Writes a consistent copy of the whole SQLite database to `to`, which
    /// must not exist (SQLite refuses to overwrite a non-empty file).
    #[tracing::instrument(level = "info", skip_all)]
    pub async fn backup_into(&self, to: &Path) -> Result<(), BackupError> {
        if self.backend() != Backend::Sqlite {
            return Err(BackupError::NotSqlite);
        }
        let target = to
            .to_str()
            .ok_or_else(|| BackupError::PathNotUtf8(to.display().to_string()))?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(self.reader())
            .await
            .map_err(StoreError::from)?;
        Ok(())
    }
}

/// Opens the SQLite file at `path` read-only and checks that it is an
/// undamaged database of this service whose schema this build can run.
pub async fn inspect_sqlite_file(path: &Path) -> Result<BackupInfo, BackupError> {
    sqlx::any::install_default_drivers();
    let shown = path.display().to_string();
    let name = path
        .to_str()
        .ok_or_else(|| BackupError::PathNotUtf8(shown.clone()))?;
    // Immutable: nothing (not even a -wal or -shm file) is written beside it.
    let url = format!("sqlite://{name}?mode=ro&immutable=true");
    let not_db = |e: sqlx::Error| BackupError::NotADatabase {
        path: shown.clone(),
        reason: e.to_string(),
    };
    let mut conn = sqlx::AnyConnection::connect(&url).await.map_err(not_db)?;
    let result = inspect(&mut conn, &shown).await;
    let _ = conn.close().await;
    result
}

async fn inspect(conn: &mut sqlx::AnyConnection, shown: &str) -> Result<BackupInfo, BackupError> {
    let not_db = |e: sqlx::Error| BackupError::NotADatabase {
        path: shown.to_string(),
        reason: e.to_string(),
    };
    let rows = sqlx::query("PRAGMA integrity_check(10)")
        .fetch_all(&mut *conn)
        .await
        .map_err(not_db)?;
    let problems: Vec<String> = rows
        .iter()
        .filter_map(|r| r.try_get::<String, _>(0).ok())
        .filter(|s| s != "ok")
        .collect();
    if !problems.is_empty() || rows.is_empty() {
        return Err(BackupError::Damaged {
            path: shown.to_string(),
            problems,
        });
    }
    let has_history: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(not_db)?;
    if has_history == 0 {
        return Err(BackupError::NotThisService(shown.to_string()));
    }
    let applied = sqlx::query(
        "SELECT version, CAST(success AS INTEGER) AS ok, checksum FROM _sqlx_migrations ORDER BY version",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(not_db)?;
    if applied.is_empty() {
        return Err(BackupError::NotThisService(shown.to_string()));
    }
    let mut newest = 0;
    for row in &applied {
        let version: i64 = row.try_get("version").map_err(not_db)?;
        let ok: i64 = row.try_get("ok").map_err(not_db)?;
        let checksum: Vec<u8> = row.try_get("checksum").map_err(not_db)?;
        let known = SQLITE_MIGRATOR
            .iter()
            .any(|m| m.version == version && *m.checksum == *checksum);
        if !known {
            return Err(BackupError::UnknownMigration {
                path: shown.to_string(),
                version,
            });
        }
        if ok == 0 {
            return Err(BackupError::FailedMigration {
                path: shown.to_string(),
                version,
            });
        }
        newest = newest.max(version);
    }
    let pending = SQLITE_MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .count()
        .saturating_sub(applied.len());
    Ok(BackupInfo {
        migrations: applied.len(),
        schema_version: newest,
        pending_migrations: pending,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::StoreOptions;

    #[tokio::test]
    async fn a_backup_of_a_migrated_database_passes_inspection_and_a_stranger_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/r.db?mode=rwc", dir.path().display());
        let store = Store::connect(&url, &StoreOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let copy = dir.path().join("copy.db");
        store.backup_into(&copy).await.unwrap();
        assert!(
            store.backup_into(&copy).await.is_err(),
            "an existing backup is never overwritten"
        );
        store.close().await;
        let info = inspect_sqlite_file(&copy).await.unwrap();
        assert_eq!(info.pending_migrations, 0);
        assert!(info.migrations > 0);

        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, b"not a database at all, just some bytes").unwrap();
        assert!(matches!(
            inspect_sqlite_file(&junk).await,
            Err(BackupError::NotADatabase { .. } | BackupError::Damaged { .. })
        ));
        let other = dir.path().join("other.db");
        let mut conn =
            sqlx::AnyConnection::connect(&format!("sqlite://{}?mode=rwc", other.display()))
                .await
                .unwrap();
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        assert!(matches!(
            inspect_sqlite_file(&other).await,
            Err(BackupError::NotThisService(_))
        ));
    }
}
