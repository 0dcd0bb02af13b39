//! The door: every request is someone's, or it is refused.
//!
//! One middleware in front of every route. It lets the few public paths
//! through, finds the person behind a bearer token or a session cookie, and
//! puts them in the request as a [`Caller`]; anyone else gets 401 from the
//! API or is sent to the login page. Routes are guarded by default: a route
//! added later is behind the door without doing anything.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use subtle::ConstantTimeEq;

use super::peer::client_ip;
use super::ApiError;
use crate::accounts::credentials::csrf_token;
use crate::accounts::throttle::RetryAfter;
use crate::accounts::{self, sessions::session_user};
use crate::config::Config;
use crate::db::accounts::UserRow;
use crate::db::updates::Viewer;
use crate::domain::account::Role;
use crate::pipeline::Services;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "bulletin_session";
/// The cookie the pages read their CSRF token from (not HttpOnly, on purpose).
pub const CSRF_COOKIE: &str = "bulletin_csrf";
/// The header a page sends its CSRF token in.
const CSRF_HEADER: &str = "x-csrf-token";

/// Who is asking, and with what.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: UserRow,
    pub via: Credential,
}

impl Caller {
    /// Who lists updates: everything for a workspace admin, else what their channels show.
    pub fn viewer(&self) -> Viewer {
        Viewer { user_id: self.user.id, sees_everything: self.user.role == Role::Admin }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer bt_…`.
    Token,
    /// The session cookie of a signed-in browser.
    Session { id: i64 },
}

/// What a path needs before it is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Health checks, the login page and the sign-in API, static assets.
    Public,
    /// `/metrics`: from loopback, or with the configured metrics token.
    Metrics,
    /// Someone signed in; refused with 401 and a JSON error.
    Api,
    /// Someone signed in; others are sent to the login page.
    Page,
}

fn access(path: &str) -> Access {
    match path {
        "/healthz" | "/readyz" | "/login" | "/logout" | "/setup" | "/invite" | "/api/session" => Access::Public,
        "/metrics" => Access::Metrics,
        _ if path.starts_with("/assets/") => Access::Public,
        _ if path == "/api" || path.starts_with("/api/") => Access::Api,
        _ => Access::Page,
    }
}

/// The client's address (see [`super::peer`]), in every request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub std::net::IpAddr);

pub async fn guard(State(services): State<Services>, mut request: Request, next: Next) -> Response {
    let ip = client_ip(request.extensions(), request.headers(), &services.config.trusted_proxies);
    request.extensions_mut().insert(ClientIp(ip));
    let path = request.uri().path();
    let access = access(path);
    match access {
        Access::Public => return next.run(request).await,
        Access::Metrics => {
            return if metrics_allowed(&services, &request) {
                next.run(request).await
            } else {
                unauthenticated("metrics are served to loopback, or with the metrics token")
            };
        }
        Access::Api | Access::Page => {}
    }
    match identify(&services, request.headers()).await {
        Ok(Some((caller, session_secret))) => {
            if let Some(secret) = session_secret {
                if let Some(why) = cross_site_refusal(request.method(), request.headers(), &services.config, &secret) {
                    return ApiError::new(StatusCode::FORBIDDEN, "cross_site_request", why).into_response();
                }
            }
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Ok(None) if request.headers().contains_key(header::AUTHORIZATION) => match services.throttle.bad_token(ip) {
            Err(wait) => too_many_attempts(wait),
            Ok(()) => unauthenticated("the API token is not valid: it may have been revoked, or its account disabled"),
        },
        Ok(None) if access == Access::Api => {
            unauthenticated("sign in, or send an API token as `Authorization: Bearer …`")
        }
        Ok(None) => {
            let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
            Redirect::to(&login_url(target)).into_response()
        }
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// The person behind the request's credentials, and the session secret if it
/// came with a cookie. A request with an `Authorization` header is judged by
/// it alone: a bad token is not rescued by a cookie.
async fn identify(
    services: &Services,
    headers: &HeaderMap,
) -> Result<Option<(Caller, Option<String>)>, crate::db::DbError> {
    if let Some(authorization) = headers.get(header::AUTHORIZATION) {
        let Ok(authorization) = authorization.to_str() else { return Ok(None) };
        let user = accounts::user_for_bearer(&services.db, authorization).await?;
        return Ok(user.map(|user| (Caller { user, via: Credential::Token }, None)));
    }
    let jar = CookieJar::from_headers(headers);
    let Some(secret) = jar.get(SESSION_COOKIE) else { return Ok(None) };
    let found = session_user(&services.db, secret.value(), services.config.session_policy()).await?;
    Ok(found.map(|(id, user)| (Caller { user, via: Credential::Session { id } }, Some(secret.value().to_string()))))
}

/// Why a cookie-authenticated request must not change anything, if it must
/// not: it comes from another site (`Sec-Fetch-Site`, `Origin`), or lacks the
/// session's CSRF token. Reading is always allowed; bearer tokens are never
/// sent by a browser on its own, so they need none of this.
fn cross_site_refusal(method: &Method, headers: &HeaderMap, config: &Config, secret: &str) -> Option<&'static str> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    if let Some(why) = from_another_site(headers, config) {
        return Some(why);
    }
    let given = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !constant_time_eq(given.as_bytes(), csrf_token(secret).as_bytes()) {
        return Some("the request lacks this session's CSRF token (X-CSRF-Token): reload the page and try again");
    }
    None
}

/// Why the browser says this request was made by another site, if it does
/// (`Sec-Fetch-Site`, else `Origin`). Requests without either (scripts,
/// older browsers) are not judged here.
pub fn from_another_site(headers: &HeaderMap, config: &Config) -> Option<&'static str> {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        if !matches!(site, "same-origin" | "none") {
            return Some("the request came from another site");
        }
    }
    if let Some(origin) = text(header::ORIGIN) {
        if !is_own_origin(origin, text(header::HOST), config) {
            return Some("the request came from another origin");
        }
    }
    None
}

/// Whether `origin` (`scheme://host[:port]`) is this server: the configured
/// public address, or else the host the request was sent to.
fn is_own_origin(origin: &str, host: Option<&str>, config: &Config) -> bool {
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    match &config.public_url {
        Some(public) => {
            let public = public.trim().to_ascii_lowercase();
            let scheme_end = public.find("://").map_or(0, |i| i + 3);
            let authority_end = public[scheme_end..].find('/').map_or(public.len(), |i| scheme_end + i);
            origin == public[..authority_end]
        }
        None => {
            let authority = origin.split_once("://").map(|(_, rest)| rest);
            authority.is_some() && authority == host.map(str::to_ascii_lowercase).as_deref()
        }
    }
}

fn metrics_allowed(services: &Services, request: &Request) -> bool {
    let from_loopback =
        request.extensions().get::<ConnectInfo<SocketAddr>>().is_some_and(|ConnectInfo(peer)| peer.ip().is_loopback());
    let bearer = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let with_token = match (&services.config.metrics_token, bearer.and_then(|b| b.strip_prefix("Bearer "))) {
        (Some(expected), Some(given)) => constant_time_eq(expected.as_bytes(), given.trim().as_bytes()),
        _ => false,
    };
    from_loopback || with_token
}

/// Equal bytes, compared in time that does not depend on where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    bool::from(a.ct_eq(b))
}

/// 429 with `Retry-After`.
pub fn too_many_attempts(wait: RetryAfter) -> Response {
    let seconds = wait.seconds();
    let message = format!("too many attempts: try again in {seconds} s");
    let mut response = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", message).into_response();
    response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
    response
}

fn unauthenticated(message: &str) -> Response {
    let mut response = ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message).into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    response
}

/// `/login?next=…`, coming back to `target` after signing in.
pub fn login_url(target: &str) -> String {
    if target == "/" {
        return "/login".to_string();
    }
    let mut url = reqwest::Url::parse("http://bulletin/login").expect("a valid URL");
    url.query_pairs_mut().append_pair("next", target);
    format!("/login?{}", url.query().unwrap_or_default())
}

/// Where to go after signing in: a path on this site, never another site
/// (`//evil.example`, `/\evil.example` and absolute URLs become `/`).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") && !n.contains(['\r', '\n']) => {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

/// The cookies of a new session: the session's secret (HttpOnly,
/// SameSite=Lax) and its CSRF token for the pages' scripts (readable,
/// SameSite=Strict). Secure when the public address is https; gone when the
/// session would expire anyway.
pub fn with_session_cookies(jar: CookieJar, config: &Config, secret: String) -> CookieJar {
    let max_age = time::Duration::seconds(i64::try_from(config.session_max_age_secs).unwrap_or(i64::MAX));
    let csrf = csrf_token(&secret);
    let session = Cookie::build((SESSION_COOKIE, secret))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(config.public_url_is_https())
        .max_age(max_age);
    let csrf = Cookie::build((CSRF_COOKIE, csrf))
        .path("/")
        .same_site(SameSite::Strict)
        .secure(config.public_url_is_https())
        .max_age(max_age);
    jar.add(session).add(csrf)
}

/// Both session cookies removed from the browser.
pub fn without_session_cookies(jar: CookieJar) -> CookieJar {
    let gone = |name: &'static str| Cookie::build((name, "")).path("/").max_age(time::Duration::ZERO);
    jar.add(gone(SESSION_COOKIE)).add(gone(CSRF_COOKIE))
}

/// A caller who is an admin; anyone else gets 403 `forbidden`.
#[derive(Debug, Clone)]
pub struct Admin(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if caller.user.role != crate::domain::account::Role::Admin {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "only an admin can do this").into_response());
        }
        Ok(Admin(caller))
    }
}

/// Handlers behind the door take the caller as an argument.
impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| unauthenticated("sign in first"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_listed_paths_are_public() {
        for public in ["/healthz", "/readyz", "/login", "/setup", "/invite", "/assets/v123/app.css", "/api/session"] {
            assert_eq!(access(public), Access::Public, "{public}");
        }
        for api in ["/api/updates", "/api/uploads/x", "/api/openapi.json", "/api", "/api/sessions"] {
            assert_eq!(access(api), Access::Api, "{api}");
        }
        for page in ["/", "/updates/abc", "/search", "/record", "/anything-added-later", "/assets"] {
            assert_eq!(access(page), Access::Page, "{page}");
        }
        assert_eq!(access("/metrics"), Access::Metrics);
    }

    #[test]
    fn the_way_back_after_signing_in_stays_on_this_site() {
        assert_eq!(login_url("/"), "/login");
        assert_eq!(login_url("/search?q=a b&x=1"), "/login?next=%2Fsearch%3Fq%3Da+b%26x%3D1");
        assert_eq!(safe_next(Some("/search?q=a")), "/search?q=a");
        for hostile in [None, Some("https://evil.example/"), Some("//evil.example"), Some("/\\evil.example"), Some("")]
        {
            assert_eq!(safe_next(hostile), "/", "{hostile:?}");
        }
        assert!(constant_time_eq(b"abc", b"abc"));
    }

    #[test]
    fn cookie_requests_that_change_things_must_come_from_this_site_with_the_token() {
        let mut config = crate::config::Config::resolve(Default::default(), Default::default());
        let secret = "session secret";
        let token = csrf_token(secret);
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut map = HeaderMap::new();
            map.insert(header::HOST, "bulletin.test:8080".parse().unwrap());
            for (name, value) in pairs {
                map.insert(*name, value.parse().unwrap());
            }
            map
        };
        let refused = |method: Method, pairs: &[(&'static str, &str)], config: &Config| {
            cross_site_refusal(&method, &headers(pairs), config, secret)
        };
        // Reading needs nothing; changing needs the token.
        assert_eq!(refused(Method::GET, &[("sec-fetch-site", "cross-site")], &config), None);
        assert!(refused(Method::POST, &[], &config).is_some());
        assert!(refused(Method::POST, &[(CSRF_HEADER, "forged")], &config).is_some());
        let ok: &[(&'static str, &str)] =
            &[(CSRF_HEADER, &token), ("sec-fetch-site", "same-origin"), ("origin", "http://bulletin.test:8080")];
        assert_eq!(refused(Method::PATCH, ok, &config), None);
        // The token does not help a request from elsewhere.
        for (name, value) in [
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-site", "same-site"),
            ("origin", "http://evil.test"),
            ("origin", "null"),
        ] {
            let pairs: &[(&'static str, &str)] = &[(CSRF_HEADER, &token), (name, value)];
            assert!(refused(Method::POST, pairs, &config).is_some(), "{name}: {value}");
        }
        // Behind a proxy, the configured public address is the origin.
        config.public_url = Some("https://updates.example.com/".into());
        let proxied: &[(&'static str, &str)] = &[(CSRF_HEADER, &token), ("origin", "https://updates.example.com")];
        assert_eq!(refused(Method::DELETE, proxied, &config), None);
        let plain: &[(&'static str, &str)] = &[(CSRF_HEADER, &token), ("origin", "http://updates.example.com")];
        assert!(refused(Method::DELETE, plain, &config).is_some());
        assert!(!constant_time_eq(b"abc", b"abd") && !constant_time_eq(b"abc", b"ab"));
    }
}
