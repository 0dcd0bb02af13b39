//! The janitor removes what nothing owns any more, on a timer:
//!
//! - media objects of an update the database does not know: a crash between
//!   storing an upload's source and inserting its row, or a delete cut short.
//!   Objects have no reliable age on every store, so an update's objects go once
//!   they were found unowned on two passes in a row, an interval apart (far
//!   longer than the moment between storing a source and recording it);
//! - in the resumable-upload folder, a data file without its record and a
//!   record's unfinished `.json.tmp`, once an hour old;
//! - upload temp files an hour old (a live upload writes to its file all the
//!   time), and job scratch folders older than any job may run (a crash leaves
//!   them; a live worker's are younger).
//!
//! Every item is tried even when one before it failed.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use super::Services;
use crate::db::updates;
use crate::domain::UpdateId;
use crate::storage::update_prefix;

/// What one pass removed, and how many removals failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub updates_of_objects: usize,
    pub files: usize,
    pub errors: usize,
}

/// Local files untouched this long belong to no live request.
const LEFTOVER_AGE: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, Default)]
pub struct Janitor {
    /// Update ids whose objects had no row on the last pass.
    suspects: HashSet<String>,
}

impl Janitor {
    pub async fn sweep(&mut self, services: &Services) -> Swept {
        let mut swept = Swept::default();
        self.sweep_store(services, &mut swept).await;
        let config = &services.config;
        let resumable = config.resumable_dir();
        sweep_files(&resumable, LEFTOVER_AGE, &mut swept, |name| {
            let orphan_data =
                name.strip_suffix(".bin").is_some_and(|key| !resumable.join(format!("{key}.json")).exists());
            orphan_data || name.ends_with(".json.tmp")
        });
        sweep_files(&config.upload_tmp_dir(), LEFTOVER_AGE, &mut swept, |_| true);
        let longest_job = Duration::from_secs(config.job_timeout_secs.saturating_mul(2));
        sweep_files(&config.job_tmp_dir(), longest_job.max(LEFTOVER_AGE), &mut swept, |_| true);
        swept
    }

    async fn sweep_store(&mut self, services: &Services, swept: &mut Swept) {
        let keys = match services.store.list("updates/").await {
            Ok(keys) => keys,
            Err(e) => {
                tracing::warn!(error = %e, "janitor: cannot list the media store");
                swept.errors += 1;
                return;
            }
        };
        let stored: HashSet<String> = keys.iter().filter_map(|key| key.split('/').nth(1)).map(str::to_string).collect();
        let known: HashSet<String> = match updates::all_ids(&services.db).await {
            Ok(ids) => ids.into_iter().map(|id| id.to_string()).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "janitor: cannot read update ids");
                swept.errors += 1;
                return;
            }
        };
        let unowned: HashSet<String> = stored.difference(&known).cloned().collect();
        for id in unowned.intersection(&self.suspects) {
            match services.store.delete_prefix(&update_prefix(&UpdateId::from_trusted(id.clone()))).await {
                Ok(()) => {
                    tracing::info!(update = %id, "janitor: removed media no update owns");
                    swept.updates_of_objects += 1;
                }
                Err(e) => {
                    tracing::warn!(update = %id, error = %e, "janitor: cannot remove unowned media");
                    swept.errors += 1;
                }
            }
        }
        self.suspects = unowned;
    }
}

/// Remove entries of `dir` that `is_litter` picks and that were last changed over `age` ago.
fn sweep_files(dir: &Path, age: Duration, swept: &mut Swept, is_litter: impl Fn(&str) -> bool) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let old =
            entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok()).is_some_and(|a| a > age);
        if !old || !is_litter(name) {
            continue;
        }
        let path = entry.path();
        let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        match removed {
            Ok(()) => swept.files += 1,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "janitor: cannot remove");
                swept.errors += 1;
            }
        }
    }
}
