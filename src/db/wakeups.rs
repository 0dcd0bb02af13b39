//! Cross-process wake-ups. On PostgreSQL, `NOTIFY` tells idle workers and
//! index followers in other processes that there is something new, so they
//! need not wait for their next poll; on SQLite (one machine, usually one
//! process) polling is the only and sufficient mechanism.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::Db;

/// New or newly due jobs.
pub const JOBS: &str = "bulletin_jobs";
/// New entries in the search change feed.
pub const SEARCH: &str = "bulletin_search";

impl Db {
    /// Announce on `channel`; best effort (listeners also poll).
    pub async fn notify(&self, channel: &str) {
        if let Db::Postgres(pool) = self {
            if let Err(e) = sqlx::query("SELECT pg_notify($1, '')").bind(channel).execute(pool).await {
                tracing::debug!(error = %e, channel, "notify failed; listeners will poll");
            }
        }
    }

    /// Call `wake` whenever `channel` is notified, until `shutdown`. None on SQLite.
    pub fn spawn_wakeups(
        &self,
        channel: &'static str,
        wake: impl Fn() + Send + 'static,
        shutdown: CancellationToken,
    ) -> Option<JoinHandle<()>> {
        let Db::Postgres(pool) = self else { return None };
        let pool = pool.clone();
        Some(tokio::spawn(async move {
            while !shutdown.is_cancelled() {
                let mut listener = match PgListener::connect_with(&pool).await {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::warn!(error = %e, channel, "cannot LISTEN; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                if let Err(e) = listener.listen(channel).await {
                    tracing::warn!(error = %e, channel, "cannot LISTEN; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                loop {
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        message = listener.recv() => match message {
                            Ok(_) => wake(),
                            Err(e) => {
                                tracing::warn!(error = %e, channel, "LISTEN connection lost; reconnecting");
                                break;
                            }
                        },
                    }
                }
            }
        }))
    }
}
