//! `/api/glossary`: the workspace's names and jargon, which every later
//! transcription reads as whisper's initial prompt. Admins manage it; members
//! suggest terms, which admins approve (added) or decline.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::channels::channel_refusal;
use super::door::Admin;
use super::error::ErrorBody;
use super::views::AuthorView;
use super::{ApiError, Caller};
use crate::channels;
use crate::clock::{now_ms, rfc3339};
use crate::db::glossary::{self, Decision, SuggestionRow};
use crate::domain::account::Role;
use crate::domain::Glossary;
use crate::pipeline::Services;

pub fn router() -> Router<Services> {
    Router::new()
        .route("/glossary", get(get_glossary).put(put_glossary))
        .route("/glossary/suggestions", get(list_suggestions).post(suggest_term))
        .route("/glossary/suggestions/{suggestion}/approve", post(approve_suggestion))
        .route("/glossary/suggestions/{suggestion}/decline", post(decline_suggestion))
        .route("/channels/{slug}/glossary", get(get_channel_glossary).put(put_channel_glossary))
}

/// A channel's own terms, read before the workspace's for its updates.
#[utoipa::path(get, path = "/api/channels/{slug}/glossary", tag = "glossary",
    params(("slug" = String, Path)),
    responses((status = 200, body = GlossaryBody), (status = 404, body = ErrorBody)))]
pub(super) async fn get_channel_glossary(
    State(s): State<Services>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<Json<GlossaryBody>, ApiError> {
    let seen = channels::channel_for(&s.db, &caller.user, &slug).await.map_err(channel_refusal)?;
    let terms = glossary::channel_terms(&s.db, seen.channel.id).await?;
    Ok(Json(GlossaryBody { terms: terms.terms().to_vec() }))
}

/// Replace a channel's own terms (the channel's admins and workspace admins).
/// Its updates transcribed afterwards get them first, then the workspace's.
#[utoipa::path(put, path = "/api/channels/{slug}/glossary", tag = "glossary",
    params(("slug" = String, Path)),
    request_body = GlossaryBody,
    responses(
        (status = 200, description = "the stored terms (trimmed, repeats dropped)", body = GlossaryBody),
        (status = 400, description = "`malformed_body`", body = ErrorBody),
        (status = 403, description = "`forbidden`: the channel's admins only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "`invalid_glossary`", body = ErrorBody),
    ))]
pub(super) async fn put_channel_glossary(
    State(s): State<Services>,
    caller: Caller,
    Path(slug): Path<String>,
    body: Result<Json<GlossaryBody>, JsonRejection>,
) -> Result<Json<GlossaryBody>, ApiError> {
    let seen = channels::channel_for(&s.db, &caller.user, &slug).await.map_err(channel_refusal)?;
    if !seen.can_manage {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only this channel's admins change its glossary",
        ));
    }
    let Json(body) = body?;
    let glossary = Glossary::parse(&body.terms)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_glossary", e.to_string()))?;
    glossary::replace_channel_terms(&s.db, seen.channel.id, &glossary).await?;
    Ok(Json(GlossaryBody { terms: glossary.terms().to_vec() }))
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
        (status = 403, description = "`forbidden`: admins only (members suggest terms)", body = ErrorBody),
        (status = 422, description = "`invalid_glossary`", body = ErrorBody),
    ))]
pub(super) async fn put_glossary(
    State(s): State<Services>,
    _: Admin,
    body: Result<Json<GlossaryBody>, JsonRejection>,
) -> Result<Json<GlossaryBody>, ApiError> {
    let Json(body) = body?;
    let glossary = Glossary::parse(&body.terms)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_glossary", e.to_string()))?;
    glossary::replace(&s.db, &glossary).await?;
    Ok(Json(GlossaryBody { terms: glossary.terms().to_vec() }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SuggestionView {
    id: i64,
    term: String,
    suggested_by: AuthorView,
    created_at: String,
    /// `pending`, `approved` (in the glossary) or `declined`.
    state: &'static str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SuggestionList {
    suggestions: Vec<SuggestionView>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct NewSuggestion {
    term: String,
}

fn suggestion_view(row: SuggestionRow) -> SuggestionView {
    SuggestionView {
        id: row.id,
        term: row.term,
        suggested_by: AuthorView { login: row.suggested_by_login, display_name: row.suggested_by_name },
        created_at: rfc3339(row.created_at),
        state: match row.approved {
            None => "pending",
            Some(true) => "approved",
            Some(false) => "declined",
        },
    }
}

/// Suggested terms: for admins, those waiting for a decision; for members, their own.
#[utoipa::path(get, path = "/api/glossary/suggestions", tag = "glossary",
    responses((status = 200, body = SuggestionList)))]
pub(super) async fn list_suggestions(
    State(s): State<Services>,
    caller: Caller,
) -> Result<Json<SuggestionList>, ApiError> {
    let by = (caller.user.role != Role::Admin).then_some(caller.user.id);
    let rows = glossary::suggestions(&s.db, by).await?;
    Ok(Json(SuggestionList { suggestions: rows.into_iter().map(suggestion_view).collect() }))
}

/// Suggest a term for the glossary (anyone); an admin approves or declines it.
#[utoipa::path(post, path = "/api/glossary/suggestions", tag = "glossary",
    request_body = NewSuggestion,
    responses(
        (status = 201, body = SuggestionView),
        (status = 400, description = "`malformed_body`", body = ErrorBody),
        (status = 409, description = "`already_in_glossary`, `already_suggested`", body = ErrorBody),
        (status = 422, description = "`invalid_glossary`: an empty, over-long or control-character term", body = ErrorBody),
    ))]
pub(super) async fn suggest_term(
    State(s): State<Services>,
    caller: Caller,
    body: Result<Json<NewSuggestion>, JsonRejection>,
) -> Result<(StatusCode, Json<SuggestionView>), ApiError> {
    let Json(body) = body?;
    let parsed = Glossary::parse(&[body.term.as_str()])
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_glossary", e.to_string()))?;
    let term = parsed.terms()[0].clone();
    let current = glossary::get(&s.db).await?;
    if current.terms().iter().any(|t| t.to_lowercase() == term.to_lowercase()) {
        return Err(ApiError::new(StatusCode::CONFLICT, "already_in_glossary", format!("{term} is in the glossary")));
    }
    if glossary::pending_suggestion_of(&s.db, &term).await?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_suggested",
            format!("{term} waits for an admin already"),
        ));
    }
    let id = glossary::suggest(&s.db, &term, caller.user.id, now_ms()).await?;
    let row = glossary::suggestion(&s.db, id).await?.ok_or_else(|| ApiError::not_found("suggestion"))?;
    Ok((StatusCode::CREATED, Json(suggestion_view(row))))
}

async fn decide(s: &Services, admin: &Caller, raw: &str, approved: bool) -> Result<Json<SuggestionView>, ApiError> {
    let id: i64 = raw.parse().map_err(|_| ApiError::not_found("suggestion"))?;
    match glossary::decide(&s.db, id, approved, admin.user.id, now_ms()).await? {
        Decision::Done => {}
        Decision::AlreadyDecided => {
            return Err(match glossary::suggestion(&s.db, id).await? {
                Some(_) => {
                    ApiError::new(StatusCode::CONFLICT, "already_decided", "this suggestion was decided already")
                }
                None => ApiError::not_found("suggestion"),
            })
        }
        Decision::DoesNotFit(e) => {
            return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_glossary", e.to_string()))
        }
    }
    let row = glossary::suggestion(&s.db, id).await?.ok_or_else(|| ApiError::not_found("suggestion"))?;
    Ok(Json(suggestion_view(row)))
}

/// Add a suggested term to the end of the glossary (admins).
#[utoipa::path(post, path = "/api/glossary/suggestions/{suggestion}/approve", tag = "glossary",
    params(("suggestion" = i64, Path, description = "suggestion id")),
    responses(
        (status = 200, body = SuggestionView),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`already_decided`", body = ErrorBody),
        (status = 422, description = "`invalid_glossary`: the glossary has no room for it", body = ErrorBody),
    ))]
pub(super) async fn approve_suggestion(
    State(s): State<Services>,
    Admin(admin): Admin,
    Path(raw): Path<String>,
) -> Result<Json<SuggestionView>, ApiError> {
    decide(&s, &admin, &raw, true).await
}

/// Decline a suggested term (admins).
#[utoipa::path(post, path = "/api/glossary/suggestions/{suggestion}/decline", tag = "glossary",
    params(("suggestion" = i64, Path, description = "suggestion id")),
    responses(
        (status = 200, body = SuggestionView),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`already_decided`", body = ErrorBody),
    ))]
pub(super) async fn decline_suggestion(
    State(s): State<Services>,
    Admin(admin): Admin,
    Path(raw): Path<String>,
) -> Result<Json<SuggestionView>, ApiError> {
    decide(&s, &admin, &raw, false).await
}
