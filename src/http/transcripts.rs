//! Transcripts as JSON, WebVTT captions and SRT subtitles, and hand
//! corrections of single lines.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::error::ErrorBody;
use super::updates::{views_for, visible_update};
use super::views::UpdateView;
use super::{ApiError, Caller};
use crate::clock::rfc3339;
use crate::db::updates::UpdateRow;
use crate::db::{glossary, jobs, updates};
use crate::domain::glossary::candidates_from_correction;
use crate::domain::skim::{chapters, paragraphs};
use crate::domain::transcript::{reading_minutes, to_srt, to_webvtt, TranscriptSegment};
use crate::domain::JobKind;
use crate::pipeline::corrections::{correct_line, CorrectionError};
use crate::pipeline::edits::may_edit;
use crate::pipeline::Services;

pub fn router() -> Router<Services> {
    Router::new()
        .route("/updates/{id}/transcript", get(transcript_json))
        .route("/updates/{id}/transcript.vtt", get(transcript_vtt))
        .route("/updates/{id}/transcript.srt", get(transcript_srt))
        .route("/updates/{id}/transcript/segments/{index}", patch(edit_segment))
        .route("/updates/{id}/retranscribe", post(retranscribe))
}

async fn load(s: &Services, caller: &Caller, raw: &str) -> Result<(UpdateRow, Vec<TranscriptSegment>), ApiError> {
    let row = visible_update(s, caller, raw).await?;
    let segments = updates::segments(&s.db, &row.id).await?;
    Ok((row, segments))
}

/// The transcript: timed segments, readable paragraphs and chapters.
#[utoipa::path(get, path = "/api/updates/{id}/transcript", tag = "transcripts",
    params(("id" = String, Path, description = "update id")),
    responses(
        (status = 200, content_type = "application/json",
         description = "`language`, `available`, `reading_minutes`, `segments` [{`start_ms`, `end_ms`, `text`, `words` ([{`start_ms`, `end_ms`, `text`}] as whisper timed them; a correction keeps the timings of the words it does not change and shares the rest; null where none are known), `corrected` (`{by: {login, display_name}, at}` for a line corrected by hand, else null)}], `suggestions` [{`start_ms`, `end_ms`, `text`, `by`, `at`}] (corrections whose line a re-transcription no longer has), `paragraphs`, `chapters`"),
        (status = 404, body = ErrorBody),
    ))]
pub(super) async fn transcript_json(
    State(s): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let (row, segments) = load(&s, &caller, &raw).await?;
    let available = row.language.is_some();
    // Derived on every request: cheap (linear in a ≤ 3 min transcript) and
    // always in step with the stored segments.
    let paragraphs = paragraphs(&segments);
    let chapters = chapters(&segments, row.duration_ms);
    let corrections = updates::corrections(&s.db, &row.id).await?;
    let words = updates::segment_words(&s.db, &row.id).await?;
    let suggestions: Vec<_> = updates::correction_suggestions(&s.db, &row.id)
        .await?
        .into_iter()
        .map(|(start_ms, end_ms, text, by, at)| {
            json!({ "start_ms": start_ms, "end_ms": end_ms, "text": text, "by": by, "at": rfc3339(at) })
        })
        .collect();
    let lines: Vec<_> = segments
        .iter()
        .enumerate()
        .map(|(i, segment)| {
            let corrected = corrections
                .iter()
                .find(|c| c.idx == i as i64)
                .map(|c| json!({ "by": { "login": c.login, "display_name": c.display_name }, "at": rfc3339(c.at) }));
            // As whisper timed them; on a line corrected by hand, unchanged words keep theirs.
            let words: Option<serde_json::Value> =
                words.get(i).and_then(|w| w.as_deref()).and_then(|w| serde_json::from_str(w).ok());
            json!({
                "start_ms": segment.start_ms, "end_ms": segment.end_ms, "text": segment.text,
                "words": words, "corrected": corrected,
            })
        })
        .collect();
    Ok(Json(json!({
        "language": row.language.unwrap_or_else(|| bulletin_workers::transcribe::UNDETERMINED_LANGUAGE.into()),
        // False while transcription has not finished yet.
        "available": available,
        "reading_minutes": reading_minutes(&segments),
        "segments": lines,
        // Hand corrections a re-transcription found no line for.
        "suggestions": suggestions,
        "paragraphs": paragraphs,
        "chapters": chapters,
    }))
    .into_response())
}

/// Captions as WebVTT.
#[utoipa::path(get, path = "/api/updates/{id}/transcript.vtt", tag = "transcripts",
    params(("id" = String, Path, description = "update id")),
    responses((status = 200, content_type = "text/vtt"), (status = 404, body = ErrorBody)))]
pub(super) async fn transcript_vtt(
    State(s): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let (_, segments) = load(&s, &caller, &raw).await?;
    Ok(([(header::CONTENT_TYPE, "text/vtt; charset=utf-8")], to_webvtt(&segments)).into_response())
}

/// Captions as SubRip.
#[utoipa::path(get, path = "/api/updates/{id}/transcript.srt", tag = "transcripts",
    params(("id" = String, Path, description = "update id")),
    responses((status = 200, content_type = "application/x-subrip"), (status = 404, body = ErrorBody)))]
pub(super) async fn transcript_srt(
    State(s): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let (_, segments) = load(&s, &caller, &raw).await?;
    Ok(([(header::CONTENT_TYPE, "application/x-subrip; charset=utf-8")], to_srt(&segments)).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct LineCorrection {
    /// The corrected line: one line of 1–500 characters.
    text: String,
}

/// Correct one transcript line by hand. The JSON transcript, captions and
/// search all show the new text; the line keeps its timing.
#[utoipa::path(patch, path = "/api/updates/{id}/transcript/segments/{index}", tag = "transcripts",
    params(
        ("id" = String, Path, description = "update id"),
        ("index" = u32, Path, description = "the line's position in `segments`, from 0"),
    ),
    request_body = LineCorrection,
    responses(
        (status = 200, content_type = "application/json", description = "the corrected line: `index`, `start_ms`, `end_ms`, `text`, and `glossary_candidates` (names it brought in that the glossary lacks, to suggest)"),
        (status = 400, description = "`malformed_body`", body = ErrorBody),
        (status = 403, description = "`not_allowed_to_correct`: only the update's author and admins correct it", body = ErrorBody),
        (status = 404, description = "no such update or line", body = ErrorBody),
        (status = 422, description = "`invalid_text`", body = ErrorBody),
    ))]
pub(super) async fn edit_segment(
    State(s): State<Services>,
    caller: Caller,
    Path((raw, index)): Path<(String, String)>,
    body: Result<Json<LineCorrection>, JsonRejection>,
) -> Result<Response, ApiError> {
    let id = visible_update(&s, &caller, &raw).await?.id;
    let index: i64 = index.parse().map_err(|_| ApiError::not_found("transcript line"))?;
    let Json(correction) = body?;
    let before = updates::segments(&s.db, &id).await?.into_iter().nth(usize::try_from(index).unwrap_or(usize::MAX));
    let segment = correct_line(&s, &caller.user, &id, index, &correction.text).await.map_err(|e| match e {
        CorrectionError::NotFound => ApiError::not_found("transcript line"),
        CorrectionError::NotAllowed => ApiError::new(StatusCode::FORBIDDEN, "not_allowed_to_correct", e.to_string()),
        CorrectionError::Invalid(e) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_text", e.to_string()),
        CorrectionError::Db(e) => ApiError::from(e),
    })?;
    // New names the correction brought in, to offer for the glossary.
    let terms = glossary::get(&s.db).await?;
    let old_text = before.map(|b| b.text).unwrap_or_default();
    let candidates = candidates_from_correction(&old_text, &segment.text, terms.terms());
    Ok(Json(json!({
        "index": index,
        "start_ms": segment.start_ms,
        "end_ms": segment.end_ms,
        "text": segment.text,
        "glossary_candidates": candidates,
    }))
    .into_response())
}

/// Transcribe the update again (its author or an admin), e.g. after the
/// glossary changed: through the queue, and the new transcript replaces the
/// old one (captions, reading view, chapters, search) only once it is complete.
/// Hand corrections stay where their line still exists, else become suggestions.
#[utoipa::path(post, path = "/api/updates/{id}/retranscribe", tag = "transcripts",
    params(("id" = String, Path, description = "update id")),
    responses(
        (status = 202, description = "queued: the update, its `transcribe` stage queued", body = UpdateView),
        (status = 403, description = "`not_allowed_to_retranscribe`: only the update's author and admins", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`still_processing`: it is being processed or transcribed already", body = ErrorBody),
    ))]
pub(super) async fn retranscribe(
    State(s): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<(StatusCode, Json<UpdateView>), ApiError> {
    let row = visible_update(&s, &caller, &raw).await?;
    if !may_edit(&caller.user, &row) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_allowed_to_retranscribe",
            "only the update's author and admins have it transcribed again",
        ));
    }
    if !jobs::run_again(&s.db, &row.id, JobKind::Transcribe, s.config.job_max_attempts).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "still_processing",
            "this update is being processed or transcribed already; try again once it is ready",
        ));
    }
    s.wake.jobs_enqueued().await;
    let mut views = views_for(&s, &caller, vec![row]).await?;
    Ok((StatusCode::ACCEPTED, Json(views.remove(0))))
}
