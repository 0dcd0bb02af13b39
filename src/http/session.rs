//! Signing in and out: the JSON API (`/api/session`, `/api/me`) and the login
//! page's form posts (`/login`, `/logout`), which work without JavaScript.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Json, Router};
use axum_extra::extract::cookie::CookieJar;
use serde::{Deserialize, Serialize};

use super::door::{
    from_another_site, safe_next, too_many_attempts, with_session_cookies, without_session_cookies, Caller, ClientIp,
    Credential, SESSION_COOKIE,
};
use super::error::ErrorBody;
use super::{web, ApiError};
use crate::accounts::sessions::{close_session, open_session, sign_in};
use crate::accounts::SignInError;
use crate::db::accounts::UserRow;
use crate::pipeline::Services;

/// Under `/api`.
pub fn api_router() -> Router<Services> {
    Router::new().route("/session", post(create_session).delete(delete_session)).route("/me", get(me))
}

/// The login page and its form posts, at the site's root.
pub fn page_router() -> Router<Services> {
    Router::new().route("/login", get(login_page).post(login_form)).route("/logout", post(logout_form))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct Credentials {
    login: String,
    password: String,
}

/// A person as the API shows them to themselves.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct MeView {
    login: String,
    display_name: String,
    /// `admin` or `member`.
    role: String,
    /// How this request was signed in: `session` or `token`.
    signed_in_with: &'static str,
}

impl MeView {
    fn new(user: &UserRow, via: Credential) -> MeView {
        MeView {
            login: user.login.to_string(),
            display_name: user.display_name.clone(),
            role: user.role.as_str().to_string(),
            signed_in_with: match via {
                Credential::Token => "token",
                Credential::Session { .. } => "session",
            },
        }
    }
}

fn sign_in_refusal(e: SignInError) -> ApiError {
    match e {
        SignInError::WrongCredentials => ApiError::new(StatusCode::UNAUTHORIZED, "wrong_credentials", e.to_string()),
        SignInError::Disabled => ApiError::new(StatusCode::FORBIDDEN, "account_disabled", e.to_string()),
        SignInError::Db(e) => ApiError::internal(e),
    }
}

/// Signing in and out are not done on another site's behalf (login CSRF:
/// being signed in as the attacker; forced sign-outs).
fn refuse_other_sites(headers: &HeaderMap, s: &Services) -> Result<(), ApiError> {
    match from_another_site(headers, &s.config) {
        Some(why) => Err(ApiError::new(StatusCode::FORBIDDEN, "cross_site_request", why)),
        None => Ok(()),
    }
}

fn user_agent(headers: &HeaderMap) -> &str {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// Sign in with a login name and password; the answer sets the session cookie.
#[utoipa::path(post, path = "/api/session", tag = "accounts",
    request_body = Credentials,
    responses(
        (status = 200, description = "signed in; `Set-Cookie` carries the session", body = MeView),
        (status = 400, body = ErrorBody),
        (status = 401, description = "`wrong_credentials`", body = ErrorBody),
        (status = 403, description = "`account_disabled`, `cross_site_request`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`, with `Retry-After`", body = ErrorBody),
    ))]
pub(super) async fn create_session(
    State(s): State<Services>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    headers: HeaderMap,
    jar: CookieJar,
    body: Result<Json<Credentials>, JsonRejection>,
) -> Result<Response, ApiError> {
    refuse_other_sites(&headers, &s)?;
    let Json(credentials) = body.map_err(|e| ApiError::bad_request("invalid_body", e.body_text()))?;
    if let Err(wait) = s.throttle.sign_in_attempt(ip, &credentials.login) {
        return Ok(too_many_attempts(wait));
    }
    let user = sign_in(&s.db, &credentials.login, &credentials.password).await.map_err(sign_in_refusal)?;
    let secret = open_session(&s.db, &user, user_agent(&headers), s.config.session_policy()).await?;
    let view = MeView::new(&user, Credential::Session { id: 0 });
    Ok((with_session_cookies(jar, &s.config, secret), Json(view)).into_response())
}

/// Sign out: ends this browser's session and clears its cookie.
#[utoipa::path(delete, path = "/api/session", tag = "accounts",
    responses((status = 204, description = "signed out (also when there was no session)")))]
pub(super) async fn delete_session(
    State(s): State<Services>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<Response, ApiError> {
    refuse_other_sites(&headers, &s)?;
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        close_session(&s.db, cookie.value(), s.config.session_policy()).await?;
    }
    Ok((without_session_cookies(jar), StatusCode::NO_CONTENT).into_response())
}

/// Who is signed in.
#[utoipa::path(get, path = "/api/me", tag = "accounts",
    responses((status = 200, body = MeView), (status = 401, body = ErrorBody)))]
pub(super) async fn me(caller: Caller) -> Json<MeView> {
    Json(MeView::new(&caller.user, caller.via))
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

async fn login_page(Query(query): Query<LoginQuery>) -> Response {
    web::login_page(StatusCode::OK, None, "", &safe_next(query.next.as_deref()))
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    login: String,
    password: String,
    next: Option<String>,
}

/// The login form: on success back to where the person was going; otherwise
/// the page again, with the reason and the login name kept.
async fn login_form(
    State(s): State<Services>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    refuse_other_sites(&headers, &s)?;
    let next = safe_next(form.next.as_deref());
    if let Err(wait) = s.throttle.sign_in_attempt(ip, &form.login) {
        let message = format!("Too many attempts. Try again in {} seconds.", wait.seconds());
        let mut page = web::login_page(StatusCode::TOO_MANY_REQUESTS, Some(&message), &form.login, &next);
        page.headers_mut().insert(header::RETRY_AFTER, wait.seconds().into());
        return Ok(page);
    }
    match sign_in(&s.db, &form.login, &form.password).await {
        Ok(user) => {
            let secret = open_session(&s.db, &user, user_agent(&headers), s.config.session_policy()).await?;
            Ok((with_session_cookies(jar, &s.config, secret), Redirect::to(&next)).into_response())
        }
        Err(SignInError::Db(e)) => Err(ApiError::internal(e)),
        Err(refused) => {
            let status =
                if matches!(refused, SignInError::Disabled) { StatusCode::FORBIDDEN } else { StatusCode::UNAUTHORIZED };
            Ok(web::login_page(status, Some(&refused.to_string()), &form.login, &next))
        }
    }
}

async fn logout_form(State(s): State<Services>, headers: HeaderMap, jar: CookieJar) -> Result<Response, ApiError> {
    refuse_other_sites(&headers, &s)?;
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        close_session(&s.db, cookie.value(), s.config.session_policy()).await?;
    }
    Ok((without_session_cookies(jar), Redirect::to("/login")).into_response())
}
