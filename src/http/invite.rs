//! `/invite?code=…`: the page an invitation link opens. The invited person
//! chooses a login name, their name and a password, and is signed in. The
//! code travels in the query, which the access log leaves out.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use super::door::{from_another_site, with_session_cookies};
use super::web::{self, JoinPage};
use super::ApiError;
use crate::accounts::invitations::{self, InviteError};
use crate::accounts::sessions::open_session;
use crate::accounts::AccountsError;
use crate::pipeline::Services;

const INVITED: JoinPage = JoinPage {
    heading: "Join your team on Bulletin",
    lede: "You were invited. Choose how you sign in; your name is what teammates see on your updates.",
    action: "/invite",
    button: "Join",
};

pub fn router() -> Router<Services> {
    Router::new().route("/invite", get(invitation_page).post(accept_form))
}

fn not_valid() -> Response {
    web::login_page(StatusCode::NOT_FOUND, Some(&InviteError::NotValid.to_string()), "", "/")
}

#[derive(Debug, Deserialize)]
struct InvitationQuery {
    #[serde(default)]
    code: String,
}

async fn invitation_page(
    State(s): State<Services>,
    Query(query): Query<InvitationQuery>,
) -> Result<Response, ApiError> {
    if invitations::live(&s.db, &query.code).await?.is_none() {
        return Ok(not_valid());
    }
    Ok(web::join_page(StatusCode::OK, &INVITED, None, &query.code, "", ""))
}

#[derive(Debug, Deserialize)]
struct JoinForm {
    code: String,
    login: String,
    #[serde(default)]
    display_name: String,
    password: String,
}

async fn accept_form(
    State(s): State<Services>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<JoinForm>,
) -> Result<Response, ApiError> {
    if let Some(why) = from_another_site(&headers, &s.config) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "cross_site_request", why));
    }
    let display = Some(form.display_name.trim()).filter(|d| !d.is_empty());
    match invitations::accept(&s.db, &form.code, &form.login, display, &form.password).await {
        Ok(user) => {
            tracing::info!(login = %user.login, role = user.role.as_str(), "invitation accepted");
            let user_agent = headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default();
            let secret = open_session(&s.db, &user, user_agent, s.config.session_policy()).await?;
            Ok((with_session_cookies(jar, &s.config, secret), Redirect::to("/")).into_response())
        }
        Err(InviteError::NotValid) => Ok(not_valid()),
        Err(InviteError::Account(AccountsError::Db(e))) => Err(ApiError::internal(e)),
        Err(InviteError::Account(AccountsError::Hash(e))) => Err(ApiError::internal(e)),
        Err(InviteError::Account(refused)) => {
            let status = match refused {
                AccountsError::LoginTaken(_) => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let message = refused.to_string();
            Ok(web::join_page(status, &INVITED, Some(&message), &form.code, &form.login, &form.display_name))
        }
    }
}
