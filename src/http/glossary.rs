//! `/api/glossary`: the workspace's names and jargon, which every later
//! transcription reads as whisper's initial prompt.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::error::ErrorBody;
use super::ApiError;
use crate::db::glossary;
use crate::domain::Glossary;
use crate::pipeline::Services;

pub fn router() -> Router<Services> {
    Router::new().route("/glossary", get(get_glossary).put(put_glossary))
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub(super) struct GlossaryBody {
    /// Terms in the spelling transcripts should use, e.g. `["Zorblax", "OKR"]`.
    terms: Vec<String>,
}

/// The glossary.
#[utoipa::path(get, path = "/api/glossary", tag = "glossary",
    responses((status = 200, body = GlossaryBody)))]
pub(super) async fn get_glossary(State(s): State<Services>) -> Result<Json<GlossaryBody>, ApiError> {
    let glossary = glossary::get(&s.db).await?;
    Ok(Json(GlossaryBody { terms: glossary.terms().to_vec() }))
}

/// Replace the glossary. Transcriptions that start afterwards use it; existing
/// transcripts are not redone.
#[utoipa::path(put, path = "/api/glossary", tag = "glossary",
    request_body = GlossaryBody,
    responses(
        (status = 200, description = "the stored glossary (trimmed, repeats dropped)", body = GlossaryBody),
        (status = 400, description = "`malformed_body`", body = ErrorBody),
        (status = 422, description = "`invalid_glossary`", body = ErrorBody),
    ))]
pub(super) async fn put_glossary(
    State(s): State<Services>,
    body: Result<Json<GlossaryBody>, JsonRejection>,
) -> Result<Json<GlossaryBody>, ApiError> {
    let Json(body) = body?;
    let glossary = Glossary::parse(&body.terms)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_glossary", e.to_string()))?;
    glossary::replace(&s.db, &glossary).await?;
    Ok(Json(GlossaryBody { terms: glossary.terms().to_vec() }))
}
