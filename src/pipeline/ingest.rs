//! Accepting an upload, the same way for every upload path (multipart, tus):
//! probe it in the sandbox, store the source, record the update with its
//! first stages, wake a worker. A refused or failed upload leaves nothing.

use std::path::{Path, PathBuf};

use bulletin_workers::probe::{ProbeError, ProbeLimits};

use super::{stages, Services};
use crate::clock::now_ms;
use crate::db::updates::{self, NewUpdate};
use crate::db::DbError;
use crate::domain::{Title, UpdateId};
use crate::media::StepError;
use crate::storage::{media_key, update_prefix, MediaObject, StorageError};

/// A received file; deleted when dropped unless [`TempUpload::keep`] was called.
pub struct TempUpload {
    path: PathBuf,
    pub bytes: u64,
    keep: bool,
}

impl TempUpload {
    /// A new, empty upload file under our own random name in `dir`: the
    /// client's filename is never used for anything on disk.
    pub fn new_in(dir: &Path) -> TempUpload {
        let name = format!("upload-{:016x}{:016x}", rand::random::<u64>(), rand::random::<u64>());
        TempUpload { path: dir.join(name), bytes: 0, keep: false }
    }

    /// Take ownership of a finished file received some other way (a resumable upload).
    pub fn adopt(path: PathBuf, bytes: u64) -> TempUpload {
        TempUpload { path, bytes, keep: false }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Hand the file over to its new owner (the store moves it away).
    fn keep(mut self) -> PathBuf {
        self.keep = true;
        std::mem::take(&mut self.path)
    }
}

impl Drop for TempUpload {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error("the file is empty")]
    Empty,
    /// The probe read the file and refused it (too long, no video, …).
    #[error(transparent)]
    Refused(ProbeError),
    /// The probe itself crashed, hung or ran out of memory on this file.
    #[error("the file could not be read safely as a video")]
    Unreadable(StepError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Internal(String),
}

/// The limits every upload is checked against, early and in full.
pub fn probe_limits(services: &Services) -> ProbeLimits {
    let config = &services.config;
    ProbeLimits { max_duration_ms: config.max_duration_ms, max_pixels: config.max_pixels, max_fps: config.max_fps }
}

/// Who posts an update, where, under what title.
#[derive(Debug, Clone)]
pub struct NewPost {
    pub author: i64,
    pub channel_id: i64,
    pub title: Title,
    /// Checked with [`crate::domain::description::parse_description`]; may be empty.
    pub description: String,
}

/// Accept `upload` as a new update, or refuse it. Either way the file is gone
/// from where it was: moved into the store, or deleted. The caller has checked
/// that the author may post in the channel.
pub async fn accept(services: &Services, post: &NewPost, upload: TempUpload) -> Result<UpdateId, AcceptError> {
    if upload.bytes == 0 {
        return Err(AcceptError::Empty);
    }
    let info = match services.media.probe(upload.path(), &probe_limits(services)).await {
        Ok(Ok(info)) => info,
        Ok(Err(refusal)) => return Err(AcceptError::Refused(refusal)),
        Err(step) => return Err(AcceptError::Unreadable(step)),
    };

    let now = now_ms();
    let id = UpdateId::generate(now);
    let new = NewUpdate {
        id: id.clone(),
        title: post.title.as_str().to_string(),
        description: post.description.clone(),
        duration_ms: info.duration_ms as i64,
        width: i64::from(info.video.width),
        height: i64::from(info.video.height),
        has_audio: info.audio.is_some(),
        source_bytes: upload.bytes as i64,
        media_info_json: serde_json::to_string(&info).map_err(|e| AcceptError::Internal(e.to_string()))?,
        author_id: Some(post.author),
        channel_id: post.channel_id,
        created_at: now,
    };
    let local = upload.keep();
    if let Err(e) = services.store.put_file(&media_key(&id, MediaObject::Source), &local).await {
        let _ = std::fs::remove_file(&local);
        return Err(e.into());
    }
    let max_attempts = services.config.job_max_attempts;
    if let Err(e) = updates::insert_with_jobs(&services.db, &new, &stages::FIRST, max_attempts).await {
        let _ = services.store.delete_prefix(&update_prefix(&id)).await;
        return Err(e.into());
    }
    services.wake.jobs_enqueued().await;
    tracing::info!(update = %id, duration_ms = info.duration_ms, bytes = new.source_bytes, "update accepted");
    Ok(id)
}
