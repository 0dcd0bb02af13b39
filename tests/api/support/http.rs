//! Small HTTP helpers the black-box tests share: a client that shows
//! redirects instead of following them, a JSON round trip, the cookies an
//! answer sets.

use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::Value;

/// A client that sends no credentials and does not follow redirects.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().expect("client")
}

/// Send `body` as JSON with `method` to `url`; (status, JSON answer or null).
pub async fn send(client: &reqwest::Client, method: reqwest::Method, url: String, body: Value) -> (u16, Value) {
    let response = client.request(method, url).json(&body).send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The whole `Set-Cookie` header an answer sets for cookie `name`; panics if it sets none.
pub fn set_cookie(headers: &HeaderMap, name: &str) -> String {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("a text header").to_string())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {headers:?}"))
}

/// `name=value` of cookie `name` an answer sets, as a `Cookie` header sends it back.
pub fn cookie_pair(headers: &HeaderMap, name: &str) -> String {
    set_cookie(headers, name).split(';').next().unwrap_or_default().to_string()
}
