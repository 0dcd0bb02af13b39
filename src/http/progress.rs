//! `/api/updates/{id}/progress`: where this person is in an update, what of it
//! they watched, and whether that counts as seen. Each person sees only their own.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::channels::channel_refusal;
use super::error::ErrorBody;
use super::updates::visible_update;
use super::{ApiError, Caller};
use crate::channels;
use crate::clock::now_ms;
use crate::db::acknowledgements;
use crate::db::progress::{self, ProgressRow, Reading, Report};
use crate::db::updates;
use crate::domain::progress::{parse_position, parse_reading, resume_at, ProgressError, Watched};
use crate::pipeline::Services;

pub fn router() -> Router<Services> {
    Router::new()
        .route("/updates/{id}/progress", get(get_progress).post(report_progress))
        .route("/unseen", get(unseen_counts))
        .route("/unseen/mark-seen", post(mark_all_seen))
}

/// Updates the caller has not seen yet, per channel they may see.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct UnseenView {
    total: i64,
    channels: Vec<UnseenChannel>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct UnseenChannel {
    slug: String,
    name: String,
    unseen: i64,
}

async fn unseen_view(s: &Services, caller: &Caller) -> Result<UnseenView, ApiError> {
    let counts = updates::unseen_counts(&s.db, &caller.viewer()).await?;
    let channels: Vec<UnseenChannel> =
        counts.into_iter().map(|(slug, name, unseen)| UnseenChannel { slug, name, unseen }).collect();
    Ok(UnseenView { total: channels.iter().map(|c| c.unseen).sum(), channels })
}

/// How many updates the caller has not seen (nor posted), per channel.
#[utoipa::path(get, path = "/api/unseen", tag = "progress", responses((status = 200, body = UnseenView)))]
pub(super) async fn unseen_counts(State(s): State<Services>, caller: Caller) -> Result<Json<UnseenView>, ApiError> {
    Ok(Json(unseen_view(&s, &caller).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub(super) struct MarkSeen {
    /// Only this channel's updates (a name or slug); default every channel.
    channel: Option<String>,
}

/// Count every update the caller may see (of one channel, or all) as seen.
#[utoipa::path(post, path = "/api/unseen/mark-seen", tag = "progress",
    request_body = MarkSeen,
    responses(
        (status = 200, body = UnseenView, description = "what is left unseen"),
        (status = 404, description = "no such channel", body = ErrorBody),
    ))]
pub(super) async fn mark_all_seen(
    State(s): State<Services>,
    caller: Caller,
    body: Option<Json<MarkSeen>>,
) -> Result<Json<UnseenView>, ApiError> {
    let Json(request) = body.unwrap_or_default();
    let channel_id = match request.channel.as_deref() {
        Some(reference) => {
            Some(channels::channel_for(&s.db, &caller.user, reference).await.map_err(channel_refusal)?.channel.id)
        }
        None => None,
    };
    updates::mark_all_seen(&s.db, &caller.viewer(), channel_id, now_ms()).await?;
    Ok(Json(unseen_view(&s, &caller).await?))
}

/// What the player saw since its last report.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct ProgressReport {
    /// Watched stretches, `[start_ms, end_ms]`, at whatever speed (at most 200 per report).
    #[serde(default)]
    watched: Vec<(u64, u64)>,
    /// Where playback is now; absent (a report of reading alone) keeps the last one.
    position_ms: Option<u64>,
    /// Reading the transcript instead: the share of its lines that has been on
    /// screen (0–1, the largest so far) and for how long since the last report.
    read: Option<ReadReport>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct ReadReport {
    fraction: f64,
    visible_ms: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ProgressView {
    /// Where to start playing: the last position, or 0 after the end.
    resume_ms: u64,
    position_ms: u64,
    /// Time covered by what was watched (each moment once, at any speed).
    watched_ms: u64,
    duration_ms: u64,
    /// Share of the transcript's lines that has been on screen.
    read_fraction: f64,
    /// At least 80 % of the duration watched, or of the transcript read for a
    /// plausible time (40 % of its reading time); it stays seen.
    seen: bool,
    seen_at: Option<String>,
    /// The author asked this person to acknowledge it ("Please acknowledge").
    asked_to_acknowledge: bool,
    acknowledged_at: Option<String>,
}

fn view(row: Option<ProgressRow>, duration_ms: u64, request: Option<Option<i64>>) -> ProgressView {
    let row = row.unwrap_or(ProgressRow {
        watched: Watched::default(),
        position_ms: 0,
        seen_at: None,
        read_fraction: 0.0,
        read_ms: 0,
    });
    ProgressView {
        resume_ms: resume_at(row.position_ms, duration_ms),
        position_ms: row.position_ms,
        watched_ms: row.watched.covered_ms(),
        duration_ms,
        read_fraction: row.read_fraction,
        seen: row.seen_at.is_some(),
        seen_at: row.seen_at.map(crate::clock::rfc3339),
        asked_to_acknowledge: request.is_some(),
        acknowledged_at: request.flatten().map(crate::clock::rfc3339),
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
    let request = acknowledgements::request_of(&s.db, &row.id, caller.user.id).await?;
    Ok(Json(view(progress::get(&s.db, caller.user.id, &row.id).await?, duration_ms, request)))
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
    let position_ms = report.position_ms.map(|ms| parse_position(ms, duration_ms)).transpose().map_err(refusal)?;
    let reading = match report.read {
        Some(read) => {
            let (fraction, visible_ms) = parse_reading(read.fraction, read.visible_ms).map_err(refusal)?;
            Reading { fraction, visible_ms }
        }
        None => Reading::default(),
    };
    let words = u64::try_from(row.word_count).unwrap_or(0);
    let checked = Report { watched: &report.watched, position_ms, reading };
    let stored = progress::record(&s.db, caller.user.id, &row.id, checked, duration_ms, words, now_ms()).await?;
    let request = acknowledgements::request_of(&s.db, &row.id, caller.user.id).await?;
    Ok(Json(view(Some(stored), duration_ms, request)))
}
