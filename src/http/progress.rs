//! `/api/updates/{id}/progress`: where this person is in an update, what of it
//! they watched, and whether that counts as seen. Each person sees only their own.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::error::ErrorBody;
use super::updates::visible_update;
use super::{ApiError, Caller};
use crate::clock::now_ms;
use crate::db::progress::{self, ProgressRow};
use crate::domain::progress::{parse_position, resume_at, ProgressError, Watched};
use crate::pipeline::Services;

pub fn router() -> Router<Services> {
    Router::new().route("/updates/{id}/progress", get(get_progress).post(report_progress))
}

/// What the player saw since its last report.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct ProgressReport {
    /// Watched stretches, `[start_ms, end_ms]`, at whatever speed (at most 200 per report).
    #[serde(default)]
    watched: Vec<(u64, u64)>,
    /// Where playback is now.
    position_ms: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ProgressView {
    /// Where to start playing: the last position, or 0 after the end.
    resume_ms: u64,
    position_ms: u64,
    /// Time covered by what was watched (each moment once, at any speed).
    watched_ms: u64,
    duration_ms: u64,
    /// At least 80 % of the duration watched; it stays seen.
    seen: bool,
    seen_at: Option<String>,
}

fn view(row: Option<ProgressRow>, duration_ms: u64) -> ProgressView {
    let row = row.unwrap_or(ProgressRow { watched: Watched::default(), position_ms: 0, seen_at: None });
    ProgressView {
        resume_ms: resume_at(row.position_ms, duration_ms),
        position_ms: row.position_ms,
        watched_ms: row.watched.covered_ms(),
        duration_ms,
        seen: row.seen_at.is_some(),
        seen_at: row.seen_at.map(crate::clock::rfc3339),
    }
}

fn refusal(e: ProgressError) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_progress", e.to_string())
}

/// This person's progress through the update.
#[utoipa::path(get, path = "/api/updates/{id}/progress", tag = "progress",
    params(("id" = String, Path, description = "update id")),
    responses((status = 200, body = ProgressView), (status = 404, description = "`not_found`", body = ErrorBody)))]
pub(super) async fn get_progress(
    State(s): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<ProgressView>, ApiError> {
    let row = visible_update(&s, &caller, &raw).await?;
    let duration_ms = u64::try_from(row.duration_ms).unwrap_or(0);
    Ok(Json(view(progress::get(&s.db, caller.user.id, &row.id).await?, duration_ms)))
}

/// Report what was watched since the last report, and where playback is.
#[utoipa::path(post, path = "/api/updates/{id}/progress", tag = "progress",
    params(("id" = String, Path, description = "update id")),
    request_body = ProgressReport,
    responses(
        (status = 200, body = ProgressView),
        (status = 400, description = "`malformed_body`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`invalid_progress`: an interval that ends before it starts, too many, a position past the end", body = ErrorBody),
    ))]
pub(super) async fn report_progress(
    State(s): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
    body: Result<Json<ProgressReport>, JsonRejection>,
) -> Result<Json<ProgressView>, ApiError> {
    let row = visible_update(&s, &caller, &raw).await?;
    let Json(report) = body?;
    let duration_ms = u64::try_from(row.duration_ms).unwrap_or(0);
    // Checked before anything is stored: a bad report changes nothing.
    Watched::default().add(&report.watched, duration_ms).map_err(refusal)?;
    let position_ms = parse_position(report.position_ms, duration_ms).map_err(refusal)?;
    let stored =
        progress::record(&s.db, caller.user.id, &row.id, &report.watched, position_ms, duration_ms, now_ms()).await?;
    Ok(Json(view(Some(stored), duration_ms)))
}
