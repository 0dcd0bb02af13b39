//! `/api/me/…`: a person's own sessions, API tokens and password.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, put};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};

use super::door::{too_many_attempts, Caller, ClientIp, Credential};
use super::error::ErrorBody;
use super::people::account_refusal;
use super::ApiError;
use crate::accounts;
use crate::clock::{now_ms, rfc3339};
use crate::db::accounts::{revoke_token, tokens_of};
use crate::db::sessions::{live_sessions_of, revoke_session};
use crate::pipeline::Services;

pub fn router() -> Router<Services> {
    Router::new()
        .route("/me/sessions", get(list_sessions))
        .route("/me/sessions/{id}", delete(end_session))
        .route("/me/tokens", get(list_tokens).post(create_token))
        .route("/me/tokens/{id}", delete(revoke))
        .route("/me/password", put(change_password))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SessionView {
    id: i64,
    /// The browser it was opened in.
    user_agent: String,
    created_at: String,
    last_seen_at: String,
    expires_at: String,
    /// The session this request came with.
    current: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SessionList {
    sessions: Vec<SessionView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct TokenView {
    id: i64,
    name: String,
    created_at: String,
    last_used_at: Option<String>,
    revoked: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct TokenList {
    tokens: Vec<TokenView>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct NewToken {
    /// What it is for, e.g. `laptop CLI`.
    name: String,
}

/// A new token: `token` is shown in this answer only.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct CreatedToken {
    id: i64,
    name: String,
    token: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct PasswordChange {
    current_password: String,
    new_password: String,
}

fn id_of(raw: &str, what: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found(what))
}

/// The browsers one is signed in on.
#[utoipa::path(get, path = "/api/me/sessions", tag = "accounts", responses((status = 200, body = SessionList)))]
pub(super) async fn list_sessions(State(s): State<Services>, caller: Caller) -> Result<Json<SessionList>, ApiError> {
    let idle_ms = i64::try_from(s.config.session_idle_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let rows = live_sessions_of(&s.db, caller.user.id, now_ms(), idle_ms).await?;
    let current = match caller.via {
        Credential::Session { id } => Some(id),
        Credential::Token => None,
    };
    let sessions = rows
        .into_iter()
        .map(|r| SessionView {
            current: Some(r.id) == current,
            id: r.id,
            user_agent: r.user_agent,
            created_at: rfc3339(r.created_at),
            last_seen_at: rfc3339(r.last_seen_at),
            expires_at: rfc3339(r.expires_at),
        })
        .collect();
    Ok(Json(SessionList { sessions }))
}

/// Sign one of one's browsers out.
#[utoipa::path(delete, path = "/api/me/sessions/{id}", tag = "accounts",
    params(("id" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub(super) async fn end_session(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if revoke_session(&s.db, caller.user.id, id_of(&id, "session")?, now_ms()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("session"))
    }
}

/// One's API tokens, newest first (revoked ones marked).
#[utoipa::path(get, path = "/api/me/tokens", tag = "accounts", responses((status = 200, body = TokenList)))]
pub(super) async fn list_tokens(State(s): State<Services>, caller: Caller) -> Result<Json<TokenList>, ApiError> {
    let tokens = tokens_of(&s.db, caller.user.id)
        .await?
        .into_iter()
        .map(|t| TokenView {
            id: t.id,
            name: t.name,
            created_at: rfc3339(t.created_at),
            last_used_at: t.last_used_at.map(rfc3339),
            revoked: t.revoked,
        })
        .collect();
    Ok(Json(TokenList { tokens }))
}

/// A new API token, shown once: only its SHA-256 is kept.
#[utoipa::path(post, path = "/api/me/tokens", tag = "accounts",
    request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 422, description = "`invalid_token_name`", body = ErrorBody)))]
pub(super) async fn create_token(
    State(s): State<Services>,
    caller: Caller,
    new: Result<Json<NewToken>, JsonRejection>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let Json(new) = new?;
    let (token, id) = accounts::create_token_for(&s.db, caller.user.id, &new.name).await.map_err(account_refusal)?;
    Ok((StatusCode::CREATED, Json(CreatedToken { id, name: new.name.trim().to_string(), token })))
}

/// Revoke one of one's tokens: it stops working at once.
#[utoipa::path(delete, path = "/api/me/tokens/{id}", tag = "accounts",
    params(("id" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub(super) async fn revoke(
    State(s): State<Services>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if revoke_token(&s.db, caller.user.id, id_of(&id, "token")?, now_ms()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("token"))
    }
}

/// Change one's password; one's other sessions end.
#[utoipa::path(put, path = "/api/me/password", tag = "accounts",
    request_body = PasswordChange,
    responses(
        (status = 204),
        (status = 403, description = "`wrong_password`", body = ErrorBody),
        (status = 422, description = "`invalid_account` (too short or too long)", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`", body = ErrorBody),
    ))]
pub(super) async fn change_password(
    State(s): State<Services>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    caller: Caller,
    change: Result<Json<PasswordChange>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(change) = change?;
    // Checking the current password is a sign-in attempt: a stolen session must not guess it fast.
    if let Err(wait) = s.throttle.sign_in_attempt(ip, caller.user.login.as_str()) {
        return Ok(too_many_attempts(wait));
    }
    let keep = match caller.via {
        Credential::Session { id } => Some(id),
        Credential::Token => None,
    };
    accounts::change_password(&s.db, &caller.user, &change.current_password, &change.new_password, keep)
        .await
        .map_err(account_refusal)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
