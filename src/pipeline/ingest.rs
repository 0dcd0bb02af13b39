//! Accepting an upload, the same way for every upload path (multipart, tus):
//! probe it in the sandbox, store the source, record the update with its
//! first stages, wake a worker. A refused upload leaves nothing; one that failed
//! for a reason that says nothing about its bytes is handed back whole, for a
//! caller that can try again later (a resumable upload) to keep.

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

    /// Hand the file over to its new owner (the store moves it away, or a
    /// resumable upload keeps it where it is).
    pub fn keep(mut self) -> PathBuf {
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

impl AcceptError {
    /// The failure says nothing about the media: the same bytes may be accepted
    /// later (a probe that timed out or could not start under load, the store or
    /// the database failing). A crash of the probe is the file's doing.
    pub fn is_transient(&self) -> bool {
        match self {
            AcceptError::Unreadable(step) => {
                matches!(step, StepError::TimedOut(_) | StepError::Spawn(_) | StepError::Busy)
            }
            AcceptError::Storage(_) | AcceptError::Db(_) | AcceptError::Internal(_) => true,
            AcceptError::Empty | AcceptError::Refused(_) => false,
        }
    }
}

/// An upload that did not become an update, and, when the failure was
/// transient and the bytes are still whole, the file back.
pub struct NotAccepted {
    pub error: AcceptError,
    pub upload: Option<TempUpload>,
}

impl NotAccepted {
    fn refused(error: AcceptError) -> NotAccepted {
        NotAccepted { error, upload: None }
    }
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
    /// People asked to acknowledge it (checked: each sees the channel).
    pub ask: Vec<i64>,
    /// The update it answers, and at which moment (checked: the poster sees it).
    pub reply: Option<(UpdateId, Option<u64>)>,
    /// The spoken language the uploader declared (checked), else detected.
    pub language: Option<String>,
}

/// Accept `upload` as a new update, or refuse it. Accepted, the file is moved
/// into the store; refused, it is deleted; on a transient failure it comes back
/// in [`NotAccepted::upload`] (dropping that deletes it). The caller has checked
/// that the author may post in the channel.
pub async fn accept(services: &Services, post: &NewPost, upload: TempUpload) -> Result<UpdateId, NotAccepted> {
    if upload.bytes == 0 {
        return Err(NotAccepted::refused(AcceptError::Empty));
    }
    let info = match services.media.probe(upload.path(), &probe_limits(services)).await {
        Ok(Ok(info)) => info,
        Ok(Err(refusal)) => return Err(NotAccepted::refused(AcceptError::Refused(refusal))),
        Err(step) => {
            let error = AcceptError::Unreadable(step);
            let upload = error.is_transient().then_some(upload);
            return Err(NotAccepted { error, upload });
        }
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
        media_info_json: match serde_json::to_string(&info) {
            Ok(json) => json,
            Err(e) => return Err(NotAccepted { error: AcceptError::Internal(e.to_string()), upload: Some(upload) }),
        },
        author_id: Some(post.author),
        channel_id: post.channel_id,
        created_at: now,
        ask: post.ask.clone(),
        reply_to: post.reply.as_ref().map(|(id, _)| id.clone()),
        reply_at_ms: post.reply.as_ref().and_then(|(_, at)| *at).map(|ms| i64::try_from(ms).unwrap_or(i64::MAX)),
        declared_language: post.language.clone(),
        original_type: info.browser_content_type(),
    };
    let bytes = upload.bytes;
    let local = upload.keep();
    let source = media_key(&id, MediaObject::Source);
    if let Err(e) = services.store.put_file(&source, &local).await {
        let upload = take_back(services, &source, local, bytes).await;
        let _ = services.store.delete_prefix(&update_prefix(&id)).await;
        return Err(NotAccepted { error: e.into(), upload });
    }
    let max_attempts = services.config.job_max_attempts;
    if let Err(e) = updates::insert_with_jobs(&services.db, &new, &stages::FIRST, max_attempts).await {
        let upload = take_back(services, &source, local, bytes).await;
        let _ = services.store.delete_prefix(&update_prefix(&id)).await;
        return Err(NotAccepted { error: e.into(), upload });
    }
    services.wake.jobs_enqueued().await;
    tracing::info!(update = %id, duration_ms = info.duration_ms, bytes = new.source_bytes, "update accepted");
    Ok(id)
}

/// The upload's file after storing it failed part way: still where it was, or
/// (moved already) copied back out of the store. `None` if neither worked.
async fn take_back(services: &Services, source: &str, local: PathBuf, bytes: u64) -> Option<TempUpload> {
    if tokio::fs::metadata(&local).await.is_ok_and(|m| m.len() == bytes) {
        return Some(TempUpload::adopt(local, bytes));
    }
    let dir = local.parent()?;
    // A folder store hands out the object's own path: moving it back is the cheap case.
    let copied = match services.store.local_copy(source, dir).await {
        Ok(copied) => copied,
        Err(e) => {
            tracing::error!(error = %e, file = %local.display(), "an upload's bytes are lost: not in its place, not in the store");
            return None;
        }
    };
    match tokio::fs::rename(&copied, &local).await {
        Ok(()) => Some(TempUpload::adopt(local, bytes)),
        Err(e) => {
            tracing::error!(error = %e, file = %local.display(), "cannot put an upload's bytes back");
            let _ = tokio::fs::remove_file(&copied).await;
            None
        }
    }
}
