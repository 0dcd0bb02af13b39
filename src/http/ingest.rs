//! The HTTP face of accepting an upload: the checks while it arrives, and the
//! answers for [`pipeline::ingest`](crate::pipeline::ingest)'s outcomes.

use axum::http::StatusCode;
use bulletin_workers::probe::ProbeError;

use super::receive::EarlyCheck;
use super::views::UpdateView;
use super::ApiError;
use crate::db::updates;
use crate::domain::Title;
use crate::pipeline::ingest::{self, AcceptError, NewPost, TempUpload};
use crate::pipeline::Services;

/// The look-while-arriving check for an upload that already holds `received` bytes.
pub fn early_check(services: &Services, received: u64) -> EarlyCheck {
    EarlyCheck::new(services.media.clone(), ingest::probe_limits(services), received)
}

/// Accept `upload` as a new update and show it, or say why not.
pub async fn accept(services: &Services, post: &NewPost, upload: TempUpload) -> Result<UpdateView, ApiError> {
    let id = ingest::accept(services, post, upload).await.map_err(|e| match e {
        AcceptError::Empty => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unsupported_media", e.to_string()),
        AcceptError::Refused(refusal) => probe_refusal(&refusal),
        AcceptError::Unreadable(ref step) => {
            tracing::warn!(error = %step, "probe failed on an upload");
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unsupported_media", e.to_string())
        }
        AcceptError::Storage(_) | AcceptError::Db(_) | AcceptError::Internal(_) => ApiError::internal(e),
    })?;
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
