//! `/api/users` and `/api/invitations`: admins manage the team. Create an
//! account directly or hand out an invitation link; disable someone (their
//! sessions and tokens stop at once) or reset their password.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::door::Admin;
use super::error::ErrorBody;
use super::ApiError;
use crate::accounts::invitations::invite;
use crate::accounts::{self, credentials, AccountsError};
use crate::clock::{now_ms, rfc3339};
use crate::db::accounts::{all_users, UserRow};
use crate::db::invitations::{live_invitations, revoke_invitation, InvitationRow};
use crate::domain::account::Role;
use crate::pipeline::Services;

pub fn router() -> Router<Services> {
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route("/users/{login}", patch(update_user))
        .route("/users/{login}/password", post(reset_password))
        .route("/invitations", get(list_invitations).post(create_invitation))
        .route("/invitations/{id}", delete(withdraw_invitation))
}

/// A person, as admins see them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct UserView {
    login: String,
    display_name: String,
    /// `admin` or `member`.
    role: &'static str,
    disabled: bool,
    created_at: String,
}

impl From<UserRow> for UserView {
    fn from(user: UserRow) -> Self {
        UserView {
            login: user.login.to_string(),
            display_name: user.display_name,
            role: user.role.as_str(),
            disabled: user.disabled,
            created_at: rfc3339(user.created_at),
        }
    }
}

/// A new account, and its password when Bulletin chose it (shown this once).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct CreatedUser {
    user: UserView,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct NewUserBody {
    login: String,
    display_name: Option<String>,
    /// `member` (default) or `admin`.
    role: Option<String>,
    /// At least 10 characters; leave out to have one generated.
    password: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct UserChange {
    /// `true` disables the account (sessions and tokens stop at once); `false` enables it.
    disabled: Option<bool>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct PasswordReset {
    /// The new password; leave out to have one generated.
    password: Option<String>,
}

/// The password an admin reset, to hand over once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct NewPassword {
    password: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct NewInvitation {
    /// `member` (default) or `admin`: what the invited person becomes.
    role: Option<String>,
}

/// An invitation; `url` only in the answer that created it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct InvitationView {
    id: i64,
    role: &'static str,
    created_by: String,
    created_at: String,
    expires_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

impl InvitationView {
    fn new(row: InvitationRow, url: Option<String>) -> InvitationView {
        InvitationView {
            id: row.id,
            role: row.role.as_str(),
            created_by: row.created_by,
            created_at: rfc3339(row.created_at),
            expires_at: rfc3339(row.expires_at),
            url,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct UserList {
    users: Vec<UserView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct InvitationList {
    invitations: Vec<InvitationView>,
}

fn parse_role(role: Option<&str>) -> Result<Role, ApiError> {
    match role {
        None => Ok(Role::Member),
        Some(text) => Role::parse(text).ok_or_else(|| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_role", "role is `member` or `admin`")
        }),
    }
}

/// How an account refusal reads in the API.
pub(super) fn account_refusal(e: AccountsError) -> ApiError {
    let unprocessable = |code| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string());
    match &e {
        AccountsError::Invalid(_) => unprocessable("invalid_account"),
        AccountsError::InvalidTokenName => unprocessable("invalid_token_name"),
        AccountsError::WrongPassword => ApiError::new(StatusCode::FORBIDDEN, "wrong_password", e.to_string()),
        AccountsError::LoginTaken(_) => ApiError::new(StatusCode::CONFLICT, "login_taken", e.to_string()),
        AccountsError::NoSuchUser(_) => ApiError::not_found("user"),
        AccountsError::Hash(_) | AccountsError::Db(_) => ApiError::internal(e),
    }
}

/// Everyone with an account, disabled ones too (admins only).
#[utoipa::path(get, path = "/api/users", tag = "people",
    responses((status = 200, body = UserList), (status = 403, description = "`forbidden`", body = ErrorBody)))]
pub(super) async fn list_users(State(s): State<Services>, _: Admin) -> Result<Json<UserList>, ApiError> {
    let users = all_users(&s.db).await?.into_iter().map(UserView::from).collect();
    Ok(Json(UserList { users }))
}

/// Create an account directly (admins only).
#[utoipa::path(post, path = "/api/users", tag = "people",
    request_body = NewUserBody,
    responses(
        (status = 201, description = "created; `password` when it was generated", body = CreatedUser),
        (status = 409, description = "`login_taken`", body = ErrorBody),
        (status = 422, description = "`invalid_account`, `invalid_role`", body = ErrorBody),
    ))]
pub(super) async fn create_user(
    State(s): State<Services>,
    _: Admin,
    new: Result<Json<NewUserBody>, JsonRejection>,
) -> Result<(StatusCode, Json<CreatedUser>), ApiError> {
    let Json(new) = new?;
    let role = parse_role(new.role.as_deref())?;
    let generated = new.password.is_none().then(credentials::generate_password);
    let password = new.password.as_deref().or(generated.as_deref()).unwrap_or_default();
    let user = accounts::add_user(&s.db, &new.login, new.display_name.as_deref(), role, password)
        .await
        .map_err(account_refusal)?;
    tracing::info!(login = %user.login, role = role.as_str(), "account created by an admin");
    Ok((StatusCode::CREATED, Json(CreatedUser { user: user.into(), password: generated })))
}

/// Disable or enable an account (admins only; not one's own).
#[utoipa::path(patch, path = "/api/users/{login}", tag = "people",
    params(("login" = String, Path)),
    request_body = UserChange,
    responses(
        (status = 200, body = UserView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`cannot_disable_yourself`", body = ErrorBody),
    ))]
pub(super) async fn update_user(
    State(s): State<Services>,
    Admin(admin): Admin,
    Path(login): Path<String>,
    change: Result<Json<UserChange>, JsonRejection>,
) -> Result<Json<UserView>, ApiError> {
    let Json(change) = change?;
    let mut user = accounts::find_user(&s.db, &login).await.map_err(account_refusal)?;
    if let Some(disabled) = change.disabled {
        if disabled && user.id == admin.user.id {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "cannot_disable_yourself",
                "you cannot disable your own account: another admin can",
            ));
        }
        user = accounts::set_disabled(&s.db, &login, disabled).await.map_err(account_refusal)?;
        tracing::info!(login = %user.login, disabled, by = %admin.user.login, "account access changed");
    }
    Ok(Json(user.into()))
}

/// Reset someone's password (admins only): their sessions end.
#[utoipa::path(post, path = "/api/users/{login}/password", tag = "people",
    params(("login" = String, Path)),
    request_body = PasswordReset,
    responses(
        (status = 200, description = "the new password, to hand over", body = NewPassword),
        (status = 404, body = ErrorBody),
        (status = 422, description = "`invalid_account`", body = ErrorBody),
    ))]
pub(super) async fn reset_password(
    State(s): State<Services>,
    Admin(admin): Admin,
    Path(login): Path<String>,
    reset: Result<Json<PasswordReset>, JsonRejection>,
) -> Result<Json<NewPassword>, ApiError> {
    let Json(reset) = reset?;
    let password = accounts::reset_password(&s.db, &login, reset.password.as_deref()).await.map_err(account_refusal)?;
    tracing::info!(login = %login.trim().to_lowercase(), by = %admin.user.login, "password reset");
    Ok(Json(NewPassword { password }))
}

/// Invitations not yet used, withdrawn or expired (admins only).
#[utoipa::path(get, path = "/api/invitations", tag = "people", responses((status = 200, body = InvitationList)))]
pub(super) async fn list_invitations(State(s): State<Services>, _: Admin) -> Result<Json<InvitationList>, ApiError> {
    let rows = live_invitations(&s.db, now_ms()).await?;
    Ok(Json(InvitationList { invitations: rows.into_iter().map(|r| InvitationView::new(r, None)).collect() }))
}

/// A single-use invitation link, valid for 7 days (admins only). The link is
/// in this answer only.
#[utoipa::path(post, path = "/api/invitations", tag = "people",
    request_body = NewInvitation,
    responses((status = 201, body = InvitationView), (status = 422, description = "`invalid_role`", body = ErrorBody)))]
pub(super) async fn create_invitation(
    State(s): State<Services>,
    Admin(admin): Admin,
    headers: HeaderMap,
    new: Result<Json<NewInvitation>, JsonRejection>,
) -> Result<(StatusCode, Json<InvitationView>), ApiError> {
    let role = parse_role(new?.0.role.as_deref())?;
    let (code, row) = invite(&s.db, &admin.user, role).await?;
    let url = format!("{}/invite?code={code}", public_base(&s, &headers));
    Ok((StatusCode::CREATED, Json(InvitationView::new(row, Some(url)))))
}

/// Withdraw an invitation that has not been used (admins only).
#[utoipa::path(delete, path = "/api/invitations/{id}", tag = "people",
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub(super) async fn withdraw_invitation(
    State(s): State<Services>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found("invitation"))?;
    if revoke_invitation(&s.db, id, now_ms()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("invitation"))
    }
}

/// Where people reach this server: the configured public address, or the
/// host this request was sent to.
fn public_base(s: &Services, headers: &HeaderMap) -> String {
    if let Some(url) = &s.config.public_url {
        return url.trim().trim_end_matches('/').to_string();
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}
