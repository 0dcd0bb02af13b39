//! The application layer: what Bulletin does, apart from how it is asked.
//!
//! [`Services`] is the application state. The use cases live here: accept an
//! upload ([`ingest`]), run and finish a stage and decide what follows
//! ([`stages`], which also holds the stage graph), correct a transcript line
//! ([`corrections`]). `http` parses requests and renders answers, `jobs` runs
//! the worker loops, `db` runs per-table SQL; none of them decides what
//! happens next, and none imports the process wiring in `app`.

pub mod corrections;
pub mod deletion;
pub mod edits;
pub mod ingest;
pub mod janitor;
pub mod moves;
pub mod stages;
mod wake;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::accounts::setup::SetupLink;
use crate::accounts::throttle::SignInThrottle;
use crate::config::Config;
use crate::db::Db;
use crate::media::{Admission, ChildLimits, MediaRunner};
use crate::metrics::Metrics;
use crate::resumable::ResumableUploads;
use crate::search::SearchIndex;
use crate::storage::BlobStore;
pub use wake::Wakeups;

/// Everything a request handler or a job needs, cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub db: Db,
    pub store: BlobStore,
    pub media: MediaRunner,
    /// Present in processes that own a search index (`serve`), absent in `worker`.
    pub search: Option<SearchIndex>,
    pub wake: Wakeups,
    pub uploads: ResumableUploads,
    pub metrics: Metrics,
    /// The first-run setup link's code, while nobody has an account.
    pub setup: SetupLink,
    /// Limits on password and token guessing.
    pub throttle: Arc<SignInThrottle>,
}

/// How long a change that affects search waits for this server's index, so a
/// search right after the answer already sees it. Past it the change still
/// stands: the index catches up from the change feed on its own.
const INDEX_WAIT: Duration = Duration::from_secs(5);

impl Services {
    /// Wake every search index for change `seq` (of `update`) and wait for
    /// this server's to apply it.
    pub async fn wait_searchable(&self, seq: i64, update: &crate::domain::UpdateId) {
        self.wake.search_changed().await;
        if let Some(search) = &self.search {
            if !search.wait_applied(seq, INDEX_WAIT).await {
                tracing::warn!(%update, seq, "change not yet in this server's index");
            }
        }
    }

    /// Connect, migrate and open the store (and the search index if asked).
    pub async fn open(config: Config, with_search: bool) -> anyhow::Result<Services> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data folder {}", config.data_dir.display()))?;
        let db = Db::connect(&config.database_url).await.context("cannot open the database")?;
        db.migrate().await.context("cannot apply database migrations")?;
        let store =
            BlobStore::open(&config.storage, &config.s3_options()).await.context("cannot open media storage")?;
        let search = if with_search {
            Some(SearchIndex::open(&config.index_dir()).context("cannot open the search index")?)
        } else {
            None
        };
        let exe = std::env::current_exe().context("cannot locate the bulletin executable")?;
        let limits = ChildLimits {
            memory_mb: config.job_memory_mb,
            file_size_mb: config.media_file_size_mb(),
            require_sandbox: config.require_sandbox,
        };
        let admission = Admission::new(config.media_slots, config.media_queue);
        let media = MediaRunner::new(exe, Duration::from_secs(config.job_timeout_secs), limits, admission);
        let uploads = ResumableUploads::new(config.resumable_dir(), Duration::from_secs(config.upload_expiry_secs));
        Ok(Services {
            config: Arc::new(config),
            wake: Wakeups::new(db.clone(), search.clone()),
            db,
            store,
            media,
            search,
            uploads,
            metrics: Metrics::default(),
            setup: SetupLink::default(),
            throttle: Arc::new(SignInThrottle::default()),
        })
    }
}
