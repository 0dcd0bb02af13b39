//! `/setup?code=…`: the first-run page that creates the first admin, from
//! the one-time link `bulletin serve` prints while nobody has an account.

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
use crate::accounts::sessions::open_session;
use crate::accounts::setup::SetupError;
use crate::pipeline::Services;

const SETUP: JoinPage = JoinPage {
    heading: "Welcome to Bulletin",
    lede: "Create the first account. It is an admin: it can invite the rest of the team.",
    action: "/setup",
    button: "Create admin account",
};

pub fn router() -> Router<Services> {
    Router::new().route("/setup", get(setup_page).post(setup_form))
}

#[derive(Debug, Deserialize)]
struct SetupQuery {
    #[serde(default)]
    code: String,
}

async fn setup_page(State(s): State<Services>, Query(query): Query<SetupQuery>) -> Response {
    if !s.setup.accepts(&query.code) {
        let refusal = SetupError::InvalidLink.to_string();
        return web::login_page(StatusCode::NOT_FOUND, Some(&refusal), "", "/");
    }
    web::join_page(StatusCode::OK, &SETUP, None, &query.code, "", "")
}

#[derive(Debug, Deserialize)]
struct SetupForm {
    code: String,
    login: String,
    #[serde(default)]
    display_name: String,
    password: String,
}

/// Create the admin, sign them in, and open the feed.
async fn setup_form(
    State(s): State<Services>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<SetupForm>,
) -> Result<Response, ApiError> {
    if let Some(why) = from_another_site(&headers, &s.config) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "cross_site_request", why));
    }
    let display = Some(form.display_name.trim()).filter(|d| !d.is_empty());
    match s.setup.create_admin(&s.db, &form.code, &form.login, display, &form.password).await {
        Ok(admin) => {
            tracing::info!(login = %admin.login, "first admin created through the setup link");
            let user_agent = headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default();
            let secret = open_session(&s.db, &admin, user_agent, s.config.session_policy()).await?;
            Ok((with_session_cookies(jar, &s.config, secret), Redirect::to("/")).into_response())
        }
        Err(refused @ (SetupError::InvalidLink | SetupError::AlreadySetUp)) => {
            Ok(web::login_page(StatusCode::NOT_FOUND, Some(&refused.to_string()), "", "/"))
        }
        Err(SetupError::Account(crate::accounts::AccountsError::Db(e))) => Err(ApiError::internal(e)),
        Err(SetupError::Account(crate::accounts::AccountsError::Hash(e))) => Err(ApiError::internal(e)),
        Err(SetupError::Account(refused)) => Ok(web::join_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SETUP,
            Some(&refused.to_string()),
            &form.code,
            &form.login,
            &form.display_name,
        )),
    }
}
