//! Connecting to the database, migrating it, and opening write transactions.

use crate::error::StoreError;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::Duration;

/// Which engine is behind the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file: one writer at a time, WAL for readers.
    Sqlite,
    /// A PostgreSQL server, possibly shared by several service instances.
    Postgres,
}

impl Backend {
    /// The engine a database URL names.
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// Pool sizing.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Connections for reads (and, on PostgreSQL, writes).
    pub max_connections: u32,
    /// How long a call waits for a free connection before UNAVAILABLE.
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// The database behind the service. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
    pub(crate) sealer: Option<crate::sealed::Sealer>,
}

pub(crate) static SQLITE_MIGRATOR: sqlx::migrate::Migrator =
    sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// How long SQLite waits for another process's write lock before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 30_000;

impl Store {
    /// The same store sealing owners' private data with `sealer`.
    pub fn with_sealer(mut self, sealer: crate::sealed::Sealer) -> Store {
        self.sealer = Some(sealer);
        self
    }

    /// The keys owners' private data is sealed with, if configured.
    pub fn sealing(&self) -> Option<&crate::sealed::Sealer> {
        self.sealer.as_ref()
    }

    /// Connects to `url` (`sqlite://reserve.db?mode=rwc` or `postgres://...`).
    ///
    /// On SQLite all writes go through a single connection, so writers queue
    /// in the service instead of failing with "database is locked"; readers
    /// use their own connections and see committed data through WAL.
    pub async fn connect(url: &str, opts: &StoreOptions) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url).ok_or_else(|| {
            StoreError::Unavailable(format!(
                "unsupported database URL '{}': use sqlite://FILE or postgres://...",
                redact(url)
            ))
        })?;
        let connect_opts = AnyConnectOptions::from_str(url).map_err(StoreError::from)?;
        match backend {
            Backend::Sqlite => {
                let pragmas = |pool: AnyPoolOptions| {
                    pool.after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = NORMAL").await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            conn.execute(
                                format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}").as_str(),
                            )
                            .await?;
                            Ok(())
                        })
                    })
                };
                // The writer connects first so that it creates the file and
                // switches it to WAL before any reader opens it.
                let write = pragmas(AnyPoolOptions::new())
                    .test_before_acquire(false)
                    .max_connections(1)
                    .min_connections(1)
                    .acquire_timeout(opts.acquire_timeout.max(Duration::from_secs(30)))
                    .connect_with(connect_opts.clone())
                    .await?;
                let read = pragmas(AnyPoolOptions::new())
                    .test_before_acquire(false)
                    .max_connections(opts.max_connections.max(1))
                    .acquire_timeout(opts.acquire_timeout)
                    .connect_with(connect_opts)
                    .await?;
                Ok(Store {
                    read,
                    write,
                    backend,
                    sealer: None,
                })
            }
            Backend::Postgres => {
                // A broken connection shows up as an error on first use and
                // the health check pings on its own, so no round trip is spent
                // testing every connection before each transaction.
                let pool = AnyPoolOptions::new()
                    .test_before_acquire(false)
                    .max_connections(opts.max_connections.max(1))
                    .acquire_timeout(opts.acquire_timeout)
                    .connect_with(connect_opts)
                    .await?;
                Ok(Store {
                    read: pool.clone(),
                    write: pool,
                    backend,
                    sealer: None,
                })
            }
        }
    }

    /// Applies every migration not yet applied.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATOR,
            Backend::Postgres => &POSTGRES_MIGRATOR,
        };
        migrator
            .run(&self.write)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers a trivial query now.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.read).await.is_ok()
    }

    /// Closes every connection; waits for those in use to come back.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    /// The pool for reads.
    pub(crate) fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// The pool for writes (on PostgreSQL the same as for reads).
    pub(crate) fn writer(&self) -> &AnyPool {
        &self.write
    }

    /// Opens a read-only transaction that sees one snapshot of the whole
    /// database: REPEATABLE READ on PostgreSQL, a deferred transaction on
    /// SQLite (under WAL its snapshot is fixed by the first read). Checks
    /// that read several tables use it so a write committing between their
    /// statements cannot make consistent data look inconsistent.
    pub(crate) async fn begin_snapshot(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        let mut tx = self.read.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// Opens a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a transaction that reads before it writes can
    /// never be refused half-way by another process's write.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        let tx = match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.write.begin().await?,
        };
        Ok(tx)
    }
}

/// A database URL with any password replaced, fit for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/reserve"),
            "postgres://app:***@db:5432/reserve"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(redact("sqlite://reserve.db"), "sqlite://reserve.db");
    }

    #[test]
    fn the_backend_follows_the_url_scheme() {
        assert_eq!(Backend::of_url("sqlite://x.db"), Some(Backend::Sqlite));
        assert_eq!(
            Backend::of_url("postgresql://h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::of_url("mysql://h/db"), None);
    }
}
