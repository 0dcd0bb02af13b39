//! Wake-ups: one call tells every interested loop that there is something new,
//! in this process (a `Notify`) and, on PostgreSQL, in every other process
//! (`NOTIFY`). Loops also poll, so a lost wake-up only costs latency.

use std::sync::Arc;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::db::{wakeups, Db};
use crate::search::SearchIndex;

#[derive(Clone)]
pub struct Wakeups {
    db: Db,
    jobs: Arc<Notify>,
    /// This process's index, if it has one (`serve` does, `worker` does not).
    search: Option<SearchIndex>,
}

impl Wakeups {
    pub fn new(db: Db, search: Option<SearchIndex>) -> Wakeups {
        Wakeups { db, jobs: Arc::new(Notify::new()), search }
    }

    /// New or newly due jobs: idle workers here and elsewhere look now.
    pub async fn jobs_enqueued(&self) {
        self.jobs.notify_waiters();
        self.db.notify(wakeups::JOBS).await;
    }

    /// New entries in the search change feed: every index follower looks now.
    pub async fn search_changed(&self) {
        if let Some(search) = &self.search {
            search.wake();
        }
        self.db.notify(wakeups::SEARCH).await;
    }

    /// Resolves at the next [`Wakeups::jobs_enqueued`] in any process.
    pub async fn jobs_notified(&self) {
        self.jobs.notified().await
    }

    /// Relay the other processes' `NOTIFY`s to this process's loops until
    /// `shutdown` (nothing to relay on SQLite).
    pub fn spawn_listeners(&self, shutdown: &CancellationToken) -> Vec<JoinHandle<()>> {
        let jobs = self.jobs.clone();
        let mut listeners = vec![self.db.spawn_wakeups(wakeups::JOBS, move || jobs.notify_waiters(), shutdown.clone())];
        if let Some(search) = self.search.clone() {
            listeners.push(self.db.spawn_wakeups(wakeups::SEARCH, move || search.wake(), shutdown.clone()));
        }
        listeners.into_iter().flatten().collect()
    }
}
