//! Turning a fully received file into an update, the same way for every upload
//! path: probe it in the sandbox, store it, record it with its jobs, wake a worker.

use axum::http::StatusCode;
use bulletin_workers::probe::{ProbeError, ProbeLimits};

use super::receive::EarlyCheck;
use super::upload::TempUpload;
use super::views::UpdateView;
use super::ApiError;
use crate::app::Services;
use crate::clock::now_ms;
use crate::db::updates::{self, NewUpdate};
use crate::domain::{Title, UpdateId};
use crate::storage::{media_key, update_prefix, MediaObject};

pub fn probe_limits(services: &Services) -> ProbeLimits {
    let config = &services.config;
    ProbeLimits { max_duration_ms: config.max_duration_ms, max_pixels: config.max_pixels, max_fps: config.max_fps }
}

/// The look-while-arriving check for an upload that already holds `received` bytes.
pub fn early_check(services: &Services, received: u64) -> EarlyCheck {
    EarlyCheck::new(services.media.clone(), probe_limits(services), received)
}

/// Accept `upload` as a new update titled `title`, or refuse it. Either way the
/// file is gone from where it was: moved into the store, or deleted.
pub async fn accept(services: &Services, title: &Title, upload: TempUpload) -> Result<UpdateView, ApiError> {
    if upload.bytes == 0 {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unsupported_media", "the file is empty"));
    }
    let info = match services.media.probe(upload.path(), &probe_limits(services)).await {
        Ok(Ok(info)) => info,
        Ok(Err(refusal)) => return Err(probe_refusal(&refusal)),
        Err(step) => {
            tracing::warn!(error = %step, "probe failed on an upload");
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unsupported_media",
                "the file could not be read safely as a video",
            ));
        }
    };

    let now = now_ms();
    let id = UpdateId::generate(now);
    let new = NewUpdate {
        id: id.clone(),
        title: title.as_str().to_string(),
        duration_ms: info.duration_ms as i64,
        width: i64::from(info.video.width),
        height: i64::from(info.video.height),
        has_audio: info.audio.is_some(),
        source_bytes: upload.bytes as i64,
        media_info_json: serde_json::to_string(&info).map_err(ApiError::internal)?,
        created_at: now,
    };
    let local = upload.keep();
    services.store.put_file(&media_key(&id, MediaObject::Source), &local).await.map_err(|e| {
        let _ = std::fs::remove_file(&local);
        ApiError::internal(e)
    })?;
    if let Err(e) = updates::insert_with_jobs(&services.db, &new, services.config.job_max_attempts).await {
        let _ = services.store.delete_prefix(&update_prefix(&id)).await;
        return Err(ApiError::internal(e));
    }
    services.job_wake.notify_waiters();
    services.db.notify(crate::db::wakeups::JOBS).await;
    tracing::info!(update = %id, duration_ms = info.duration_ms, bytes = new.source_bytes, "update accepted");
    let row = updates::get(&services.db, &id).await?.ok_or_else(|| ApiError::internal("accepted update vanished"))?;
    let stages = updates::stages(&services.db, std::slice::from_ref(&id)).await?;
    Ok(UpdateView::build(row, &stages))
}

pub fn probe_refusal(refusal: &ProbeError) -> ApiError {
    let status = match refusal {
        ProbeError::NotMedia(_) | ProbeError::NoVideo | ProbeError::Undecodable(_) => {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        }
        ProbeError::Io(_) => return ApiError::internal(refusal),
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(status, refusal.code(), refusal.to_string())
}

pub fn parse_title(raw: &str) -> Result<Title, ApiError> {
    Title::parse(raw).map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_title", e.to_string()))
}
