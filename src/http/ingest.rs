//! The HTTP face of accepting an upload: the checks while it arrives, and the
//! answers for [`pipeline::ingest`](crate::pipeline::ingest)'s outcomes.

use axum::http::StatusCode;
use bulletin_workers::probe::ProbeError;

use super::receive::EarlyCheck;
use super::updates::views_for;
use super::views::UpdateView;
use super::{ApiError, Caller};
use crate::db::updates;
use crate::domain::language::parse_language;
use crate::domain::{Title, UpdateId};
use crate::media::StepError;
use crate::pipeline::ingest::{self, AcceptError, NewPost, TempUpload};
use crate::pipeline::Services;

/// The look-while-arriving check for an upload that already holds `received` bytes.
pub fn early_check(services: &Services, received: u64) -> EarlyCheck {
    EarlyCheck::new(services.media.clone(), ingest::probe_limits(services), received)
}

/// An upload that did not become an update: the answer, and the file back
/// when the failure was transient (dropping it deletes it).
pub struct NotPosted {
    pub error: ApiError,
    pub upload: Option<TempUpload>,
}

/// Accept `upload` as a new update, or say why not.
pub async fn accept_id(services: &Services, post: &NewPost, upload: TempUpload) -> Result<UpdateId, NotPosted> {
    ingest::accept(services, post, upload).await.map_err(|failure| {
        let e = failure.error;
        let error = match e {
            AcceptError::Empty => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unsupported_media", e.to_string()),
            AcceptError::Refused(refusal) => probe_refusal(&refusal),
            AcceptError::Unreadable(StepError::Busy) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the server is checking other videos right now; send this one again in a moment",
            )
            .retry_after(5),
            AcceptError::Unreadable(ref step) if e.is_transient() => {
                tracing::warn!(error = %step, "could not probe an upload");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "try_again",
                    "the video could not be checked just now; send it again in a moment",
                )
                .retry_after(5)
            }
            AcceptError::Unreadable(ref step) => {
                tracing::warn!(error = %step, "probe failed on an upload");
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unsupported_media", e.to_string())
            }
            AcceptError::Storage(_) | AcceptError::Db(_) | AcceptError::Internal(_) => ApiError::internal(e),
        };
        NotPosted { error, upload: failure.upload }
    })
}

/// Accept `upload` as a new update and show it to its poster, or say why not.
pub async fn accept(
    services: &Services,
    caller: &Caller,
    post: &NewPost,
    upload: TempUpload,
) -> Result<UpdateView, ApiError> {
    // A post that did not go through is sent again whole: nothing to keep.
    let id = accept_id(services, post, upload).await.map_err(|not| not.error)?;
    let row = updates::get(&services.db, &id).await?.ok_or_else(|| ApiError::internal("accepted update vanished"))?;
    let mut views = views_for(services, caller, vec![row]).await?;
    Ok(views.remove(0))
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

/// The spoken language an uploader declared, checked against this server's
/// model (read from its header: an English-only model takes English only).
pub fn declared_language(services: &Services, raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    // A model that cannot be read is no reason to refuse: transcription says what is wrong.
    let multilingual = bulletin_workers::model::read_ggml_header(&services.config.whisper_model)
        .map_or(true, |header| header.is_multilingual());
    parse_language(raw, bulletin_workers::transcribe::is_known_language, multilingual)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string()))
}
