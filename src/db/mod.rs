//! The metadata repository and the job queue, on SQLite (embedded default) or
//! PostgreSQL (scale-out). The engine is chosen once from the URL.
//!
//! Queries are written once with `$N` placeholders, which both engines accept,
//! and run through [`on_pool!`], which expands the same code for each pool
//! type. Where the dialects truly differ (the queue claim) both versions sit
//! side by side in one function.

pub mod accounts;
pub mod acknowledgements;
pub mod channels;
pub mod comments;
pub mod glossary;
pub mod invitations;
pub mod jobs;
pub mod progress;
#[cfg(test)]
mod queue_tests;
pub mod search_feed;
pub mod sessions;
#[cfg(test)]
pub(crate) mod test_databases;
pub mod updates;
pub mod wakeups;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

/// A connection pool to one of the supported engines.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL (expected sqlite:// or postgres://): {0}")]
    UnsupportedUrl(String),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// Run `$body` with `$pool` bound to the concrete pool, whatever the engine.
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Run `$body` inside a write transaction `$tx`, committed if `$body` returns `Ok`.
/// SQLite transactions start with `BEGIN IMMEDIATE` so two writers queue on the
/// busy timeout instead of failing when a read lock would need upgrading.
macro_rules! in_write_tx {
    ($db:expr, |$tx:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(pool) => {
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let value = $body;
                $tx.commit().await?;
                value
            }
            $crate::db::Db::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let value = $body;
                $tx.commit().await?;
                value
            }
        }
    };
}
pub(crate) use in_write_tx;

impl Db {
    /// Connect to the URL's engine; for SQLite create the file (and its folder).
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a commit is on disk before we answer 202, even across power loss.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(15));
            if let Some(parent) = options.get_filename().parent() {
                std::fs::create_dir_all(parent).map_err(|e| DbError::Sqlx(sqlx::Error::Io(e)))?;
            }
            let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
            Ok(Db::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool =
                PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
            Ok(Db::Postgres(pool))
        } else {
            Err(DbError::UnsupportedUrl(url.to_string()))
        }
    }

    /// Apply the engine's own migrations (idempotent).
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Db::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    pub fn engine(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// The database's own clock, in Unix milliseconds. Leases and due times are
    /// written and compared by many hosts; reading one clock keeps a host whose
    /// clock runs ahead from taking jobs whose leases are still alive.
    pub async fn now_ms(&self) -> Result<i64, DbError> {
        let ms: i64 = match self {
            Db::Sqlite(pool) => {
                sqlx::query_scalar("SELECT CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)")
                    .fetch_one(pool)
                    .await?
            }
            Db::Postgres(pool) => {
                sqlx::query_scalar("SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint")
                    .fetch_one(pool)
                    .await?
            }
        };
        Ok(ms)
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), DbError> {
        on_pool!(self, |pool| sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
    }
}
