//! The janitor removes what nothing owns any more, on a timer:
//!
//! - media objects of an update the database does not know (a crash between
//!   storing an upload's source and inserting its row, or a delete cut short),
//!   and outputs of a transcode attempt the update does not show (a worker that
//!   lost its lease after storing them). Objects have no reliable age on every
//!   store, so they go once two passes in a row, an interval apart, found them
//!   unowned: far longer than the moment between storing and recording;
//! - in the resumable-upload folder, a data file without its record and a
//!   record's unfinished `.json.tmp`, once an hour old;
//! - upload temp files an hour old (a live upload writes to its file all the
//!   time), and job scratch folders older than any job may run (a crash leaves
//!   them; a live worker's are younger).
//!
//! Every item is tried even when one before it failed.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use super::Services;
use crate::config::Config;
use crate::db::updates;

/// What one pass removed, and how many removals failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Prefixes of media removed (an update's, or one attempt's folder).
    pub unowned_media: usize,
    pub files: usize,
    pub errors: usize,
}

/// Local files untouched this long belong to no live request.
const LEFTOVER_AGE: Duration = Duration::from_secs(60 * 60);

#[derive(Debug, Default)]
pub struct Janitor {
    /// Prefixes (an update's, or one attempt's folder) nothing owned on the last pass.
    suspects: HashSet<String>,
}

impl Janitor {
    pub async fn sweep(&mut self, services: &Services) -> Swept {
        let mut swept = Swept::default();
        self.sweep_store(services, &mut swept).await;
        // Plain file-system calls, many of them: off the async workers.
        let config = services.config.clone();
        match tokio::task::spawn_blocking(move || sweep_local(&config)).await {
            Ok(local) => {
                swept.files += local.files;
                swept.errors += local.errors;
            }
            Err(e) => {
                tracing::warn!(error = %e, "janitor: the local sweep failed");
                swept.errors += 1;
            }
        }
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
        let shown: HashMap<String, Option<i64>> = match updates::media_attempts(&services.db).await {
            Ok(rows) => rows.into_iter().map(|(id, attempt)| (id.to_string(), attempt)).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "janitor: cannot read updates");
                swept.errors += 1;
                return;
            }
        };
        let unowned: HashSet<String> = keys.iter().filter_map(|key| unowned_prefix(key, &shown)).collect();
        for prefix in unowned.intersection(&self.suspects) {
            match services.store.delete_prefix(prefix).await {
                Ok(()) => {
                    tracing::info!(%prefix, "janitor: removed media nothing shows");
                    swept.unowned_media += 1;
                }
                Err(e) => {
                    tracing::warn!(%prefix, error = %e, "janitor: cannot remove unowned media");
                    swept.errors += 1;
                }
            }
        }
        self.suspects = unowned;
    }
}

/// Leftover local files: resumable data without its record and half-written
/// records, upload temp files, job scratch folders.
fn sweep_local(config: &Config) -> Swept {
    let mut swept = Swept::default();
    let resumable = config.resumable_dir();
    sweep_files(&resumable, LEFTOVER_AGE, &mut swept, |name| {
        let orphan_data = name.strip_suffix(".bin").is_some_and(|key| !resumable.join(format!("{key}.json")).exists());
        orphan_data || name.ends_with(".json.tmp")
    });
    sweep_files(&config.upload_tmp_dir(), LEFTOVER_AGE, &mut swept, |_| true);
    let longest_job = Duration::from_secs(config.job_timeout_secs.saturating_mul(2));
    sweep_files(&config.job_tmp_dir(), longest_job.max(LEFTOVER_AGE), &mut swept, |_| true);
    swept
}

/// The prefix of `key` nothing owns: its update's, if the database does not know
/// the update; its attempt folder's, if the update shows another attempt.
fn unowned_prefix(key: &str, shown: &HashMap<String, Option<i64>>) -> Option<String> {
    let mut parts = key.split('/');
    let (Some("updates"), Some(id)) = (parts.next(), parts.next()) else { return None };
    let Some(current) = shown.get(id) else { return Some(format!("updates/{id}/")) };
    let attempt = parts.next().filter(|_| parts.next().is_some())?.strip_prefix('a')?.parse::<i64>().ok()?;
    (*current != Some(attempt)).then(|| format!("updates/{id}/a{attempt}/"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_nothing_owns() {
        let shown: HashMap<String, Option<i64>> =
            [("kept".to_string(), Some(2)), ("legacy".to_string(), None)].into_iter().collect();
        assert_eq!(unowned_prefix("updates/gone/source", &shown).as_deref(), Some("updates/gone/"));
        assert_eq!(unowned_prefix("updates/kept/source", &shown), None);
        assert_eq!(unowned_prefix("updates/kept/a2/video.mp4", &shown), None);
        assert_eq!(unowned_prefix("updates/kept/a1/video.mp4", &shown).as_deref(), Some("updates/kept/a1/"));
        assert_eq!(unowned_prefix("updates/legacy/video.mp4", &shown), None);
        assert_eq!(unowned_prefix("updates/legacy/a3/poster.jpg", &shown).as_deref(), Some("updates/legacy/a3/"));
        assert_eq!(unowned_prefix("elsewhere/x", &shown), None);
    }
}
