//! The door: nothing but health checks, the login page and assets without an
//! account; signing in and out with a password; sessions that end; tokens;
//! someone else's resumable upload is not found.

use std::time::Duration;

use crate::support::*;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE, WWW_AUTHENTICATE};
use serde_json::{json, Value};

/// Operations anyone may call: liveness, readiness, signing in and out, and
/// metrics (this test runs on loopback, which may read them).
const PUBLIC_OPERATIONS: [(&str, &str); 5] = [
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("post", "/api/session"),
    ("delete", "/api/session"),
    ("get", "/metrics"),
];

/// `name=value` of the session cookie an answer sets, and the whole header.
fn session_cookie(headers: &HeaderMap) -> (String, String) {
    (cookie_pair(headers, "bulletin_session"), set_cookie(headers, "bulletin_session"))
}

async fn sign_in(server: &TestServer, login: &str, password: &str) -> (u16, Value, HeaderMap) {
    let response = anonymous_client()
        .post(server.url("/api/session"))
        .json(&json!({ "login": login, "password": password }))
        .send()
        .await
        .unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, response.json().await.unwrap_or(Value::Null), headers)
}

async fn me_with_cookie(server: &TestServer, cookie: &str) -> u16 {
    anonymous_client().get(server.url("/api/me")).header("cookie", cookie).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn every_documented_operation_and_every_page_is_behind_the_door() {
    let server = TestServer::start();
    let (status, spec) = get_json(&server, "/api/openapi.json").await;
    assert_eq!(status, 200);
    let mut guarded = 0;
    for (path, operations) in spec["paths"].as_object().unwrap() {
        let url =
            server.url(&path.replace("{id}", "0000000000000000").replace("{index}", "0").replace("{comment}", "1"));
        for method in operations.as_object().unwrap().keys() {
            if PUBLIC_OPERATIONS.contains(&(method.as_str(), path.as_str())) {
                continue;
            }
            let verb = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = no_redirects().request(verb, &url).send().await.unwrap();
            assert_eq!(response.status(), 401, "{method} {path} answers without credentials");
            assert_eq!(response.headers()[WWW_AUTHENTICATE], "Bearer", "{method} {path}");
            if method != "head" {
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["error"]["code"], "unauthenticated", "{method} {path}: {body}");
            }
            guarded += 1;
        }
    }
    assert!(guarded >= 20, "only {guarded} operations checked");

    // A wrong or revoked-looking token is no better than none, and a bad token
    // is not rescued by anything else.
    for authorization in ["Bearer bt_not-a-real-token", "Bearer ", "Basic YWRtaW46eA==", "bt_raw"] {
        let response = anonymous_client()
            .get(server.url("/api/updates"))
            .header("authorization", authorization)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{authorization}");
    }

    // Pages send the person to the login page, and back afterwards.
    for (page, next) in [
        ("/", "/login"),
        ("/search?q=launch%20plan", "/login?next=%2Fsearch%3Fq%3Dlaunch%2520plan"),
        ("/record", "/login?next=%2Frecord"),
        ("/updates/0000000000000000", "/login?next=%2Fupdates%2F0000000000000000"),
        ("/a/page/added/later", "/login?next=%2Fa%2Fpage%2Fadded%2Flater"),
    ] {
        let response = no_redirects().get(server.url(page)).send().await.unwrap();
        assert_eq!(response.status(), 303, "{page}");
        assert_eq!(response.headers()[LOCATION], next, "{page}");
    }

    // What stays open: health, the login page, assets, and metrics on loopback.
    for open in ["/healthz", "/login", "/login?next=%2Fsearch", "/metrics"] {
        let response = anonymous_client().get(server.url(open)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{open}");
    }
    let login = anonymous_client().get(server.url("/login")).send().await.unwrap().text().await.unwrap();
    let stylesheet = login.split("href=\"").find(|s| s.contains("app.css")).unwrap().split('"').next().unwrap();
    let css = anonymous_client().get(server.url(stylesheet)).send().await.unwrap();
    assert_eq!(css.status(), 200, "{stylesheet}");
}

#[tokio::test]
async fn signing_in_and_out_with_a_password() {
    let server = TestServer::start_with(&["--session-idle-secs", "2"], &[]);

    // Wrong passwords and unknown people are told apart by nothing.
    for (login, password) in [(ADMIN_LOGIN, "wrong password"), ("nobody", ADMIN_PASSWORD), ("", "")] {
        let (status, body, headers) = sign_in(&server, login, password).await;
        assert_eq!(status, 401, "{login}: {body}");
        assert_eq!(body["error"]["code"], "wrong_credentials");
        assert!(headers.get(SET_COOKIE).is_none());
    }
    let garbage = anonymous_client().post(server.url("/api/session")).body("login=admin").send().await.unwrap();
    assert_eq!(garbage.status(), 400);

    // The right one opens a session: an HttpOnly, SameSite=Lax cookie (not
    // Secure: this server's public address is plain http).
    let (status, me, headers) = sign_in(&server, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!((me["login"].as_str(), me["role"].as_str()), (Some(ADMIN_LOGIN), Some("admin")));
    let (cookie, header) = session_cookie(&headers);
    assert!(header.contains("HttpOnly") && header.contains("SameSite=Lax") && header.contains("Path=/"), "{header}");
    assert!(!header.contains("Secure"), "{header}");
    let response = anonymous_client().get(server.url("/api/me")).header("cookie", &cookie).send().await.unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!((body["login"].as_str(), body["signed_in_with"].as_str()), (Some(ADMIN_LOGIN), Some("session")));
    let (_, by_token) = get_json(&server, "/api/me").await;
    assert_eq!(by_token["signed_in_with"], "token");

    // Signing out ends the session on the server, not just in the browser.
    let out = anonymous_client().delete(server.url("/api/session")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(out.status(), 204);
    assert!(session_cookie(out.headers()).1.contains("Max-Age=0"));
    assert_eq!(me_with_cookie(&server, &cookie).await, 401, "a signed-out session is dead");

    // Unused for longer than the idle timeout (2 s here), a session ends.
    let (_, _, headers) = sign_in(&server, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let (idle, _) = session_cookie(&headers);
    assert_eq!(me_with_cookie(&server, &idle).await, 200);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(me_with_cookie(&server, &idle).await, 401, "an idle session is dead");

    // A disabled person's sessions and tokens stop at once, and their password no longer signs in.
    let (_, _, headers) = sign_in(&server, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let (live, _) = session_cookie(&headers);
    let disabled = server.command(&["user", "disable", ADMIN_LOGIN], "");
    assert!(disabled.status.success(), "{}", String::from_utf8_lossy(&disabled.stderr));
    assert_eq!(me_with_cookie(&server, &live).await, 401);
    assert_eq!(get_json(&server, "/api/me").await.0, 401);
    let (status, body, _) = sign_in(&server, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("account_disabled")), "{body}");
    assert!(server.command(&["user", "enable", ADMIN_LOGIN], "").status.success());
    assert_eq!(get_json(&server, "/api/me").await.0, 200, "enabled again, the same token works");
}

#[tokio::test]
async fn the_login_form_works_without_javascript() {
    let server = TestServer::start();
    let form = |password: &str| {
        vec![("login", ADMIN_LOGIN.to_string()), ("password", password.to_string()), ("next", "/search?q=x".into())]
    };
    let refused = no_redirects().post(server.url("/login")).form(&form("wrong password")).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().get(SET_COOKIE).is_none());
    let page = refused.text().await.unwrap();
    assert!(page.contains("wrong login name or password"), "{page}");
    assert!(page.contains("value=\"admin\"") && page.contains("value=\"/search?q=x\""), "what was typed is kept");

    let accepted = no_redirects().post(server.url("/login")).form(&form(ADMIN_PASSWORD)).send().await.unwrap();
    assert_eq!(accepted.status(), 303);
    assert_eq!(accepted.headers()[LOCATION], "/search?q=x");
    let (cookie, _) = session_cookie(accepted.headers());
    let page = no_redirects().get(server.url("/search?q=x")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(page.status(), 200);

    // `next` never leads off the site.
    let mut offsite = form(ADMIN_PASSWORD);
    offsite[2].1 = "//evil.example/".into();
    let response = no_redirects().post(server.url("/login")).form(&offsite).send().await.unwrap();
    assert_eq!(response.headers()[LOCATION], "/");

    let out = no_redirects().post(server.url("/logout")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!((out.status().as_u16(), out.headers()[LOCATION].to_str().unwrap()), (303, "/login"));
    assert_eq!(me_with_cookie(&server, &cookie).await, 401);
}

#[tokio::test]
async fn updates_record_their_author_and_uploads_belong_to_theirs() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let video = silent_video(dir.path(), "authored", 1.0, "160x120", 10);
    let (status, created) = post_update(&server, "Authored", &video).await;
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["author"], json!({ "login": ADMIN_LOGIN, "display_name": ADMIN_LOGIN }));

    // Bob, another member, cannot see, continue or delete the admin's upload in progress.
    let added = server.command(&["user", "add", "bob", "--password-stdin"], "bob's long password\n");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let bob = signed_in_client(&server.new_token("bob"));
    let bytes = std::fs::read(&video).unwrap();
    let created = server
        .client()
        .post(server.url("/api/uploads"))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", bytes.len().to_string())
        .header("Upload-Metadata", "title QWRtaW4ncyB1cGxvYWQ=")
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let upload = server.url(created.headers()[LOCATION].to_str().unwrap());
    let tus = |request: reqwest::RequestBuilder| request.header("Tus-Resumable", "1.0.0");
    let patch = |client: &reqwest::Client| {
        tus(client.patch(&upload))
            .header("Upload-Offset", "0")
            .header("Content-Type", "application/offset+octet-stream")
            .body(bytes.clone())
    };
    assert_eq!(tus(bob.head(&upload)).send().await.unwrap().status(), 404);
    let refused = patch(&bob).send().await.unwrap();
    assert_eq!(refused.status(), 404);
    assert_eq!(refused.json::<Value>().await.unwrap()["error"]["code"], "not_found");
    assert_eq!(tus(bob.delete(&upload)).send().await.unwrap().status(), 404);

    // Its owner finishes it, untouched by Bob's attempts.
    let done = patch(&server.client()).send().await.unwrap();
    assert_eq!(done.status(), 204);
    let id = done.headers()["bulletin-update-id"].to_str().unwrap().to_string();
    let (_, update) = get_json(&server, &format!("/api/updates/{id}")).await;
    assert_eq!(update["author"]["login"], ADMIN_LOGIN);
    assert_eq!(update["title"], "Admin's upload");
}

#[tokio::test]
async fn cookie_requests_from_other_sites_change_nothing() {
    let server = TestServer::start();
    let (_, _, headers) = sign_in(&server, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let (session, _) = session_cookie(&headers);
    let csrf_header = set_cookie(&headers, "bulletin_csrf");
    assert!(csrf_header.contains("SameSite=Strict") && !csrf_header.contains("HttpOnly"), "{csrf_header}");
    let csrf_cookie = csrf_header.split(';').next().unwrap().to_string();
    let token = csrf_cookie.trim_start_matches("bulletin_csrf=").to_string();
    let cookies = format!("{session}; {csrf_cookie}");
    let own_origin = server.base.clone();
    let glossary = |terms: &str| {
        anonymous_client()
            .put(server.url("/api/glossary"))
            .header("cookie", &cookies)
            .json(&json!({ "terms": [terms] }))
    };

    // A cross-site form post and a cross-site fetch carry the cookie, and are refused,
    // even if the attacker somehow had the token.
    let form = reqwest::multipart::Form::new().text("title", "Forged").text("file", "not a video");
    let forged_post = anonymous_client()
        .post(server.url("/api/updates"))
        .header("cookie", &cookies)
        .header("origin", "http://evil.example")
        .header("sec-fetch-site", "cross-site")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(forged_post.status(), 403);
    assert_eq!(forged_post.json::<Value>().await.unwrap()["error"]["code"], "cross_site_request");
    for (origin, site) in
        [("http://evil.example", "cross-site"), ("null", "cross-site"), ("http://evil.example", "same-site")]
    {
        let forged = glossary("Forged")
            .header("origin", origin)
            .header("sec-fetch-site", site)
            .header("x-csrf-token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403, "{origin} {site}");
    }
    // From the app's own page but without the token (a script of another
    // origin cannot read it), also refused.
    let tokenless =
        glossary("Forged").header("origin", &own_origin).header("sec-fetch-site", "same-origin").send().await.unwrap();
    assert_eq!(tokenless.status(), 403);
    let (_, stored) = get_json(&server, "/api/glossary").await;
    assert_eq!(stored["terms"], json!([]), "nothing forged was stored");

    // The same request from the app's own page, with the token, goes through.
    let own = glossary("Quokka")
        .header("origin", &own_origin)
        .header("sec-fetch-site", "same-origin")
        .header("x-csrf-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    let (_, stored) = get_json(&server, "/api/glossary").await;
    assert_eq!(stored["terms"], json!(["Quokka"]));
    // Reading with the cookie needs no token; a bearer token needs no CSRF token.
    let read = anonymous_client().get(server.url("/api/glossary")).header("cookie", &cookies).send().await.unwrap();
    assert_eq!(read.status(), 200);
    let put = server.client().put(server.url("/api/glossary")).json(&json!({ "terms": [] })).send().await.unwrap();
    assert_eq!(put.status(), 200);

    // Signing in from another site's form is refused too (login CSRF).
    let cross_login = anonymous_client()
        .post(server.url("/login"))
        .header("origin", "http://evil.example")
        .form(&[("login", ADMIN_LOGIN), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_login.status(), 403);
    assert!(cross_login.headers().get(SET_COOKIE).is_none());
}

#[tokio::test]
async fn the_first_admin_comes_from_the_one_time_setup_link() {
    let (server, link) = TestServer::start_without_accounts();
    let code = link.split("code=").nth(1).expect("a code in the link").to_string();
    assert!(link.starts_with(&format!("{}/setup?code=", server.base)), "{link}");
    assert!(code.len() >= 32, "{code}");

    // Only the printed code opens the page.
    for wrong in ["/setup", "/setup?code=guess"] {
        let page = anonymous_client().get(server.url(wrong)).send().await.unwrap();
        assert_eq!(page.status(), 404, "{wrong}");
    }
    let page = anonymous_client().get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Create admin account"));

    // A refused password keeps the link usable; the right form creates the admin and signs them in.
    let form = |password: &str| {
        vec![
            ("code", code.clone()),
            ("login", "Grace".into()),
            ("display_name", "Grace Hopper".into()),
            ("password", password.into()),
        ]
    };
    let short = no_redirects().post(server.url("/setup")).form(&form("short")).send().await.unwrap();
    assert_eq!(short.status(), 422);
    assert!(short.text().await.unwrap().contains("at least 10 characters"));
    let created = no_redirects().post(server.url("/setup")).form(&form("compiler pioneer")).send().await.unwrap();
    assert_eq!(created.status(), 303);
    assert_eq!(created.headers()[LOCATION], "/");
    let (cookie, _) = session_cookie(created.headers());
    let me: Value = anonymous_client()
        .get(server.url("/api/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        me,
        json!({ "login": "grace", "display_name": "Grace Hopper", "role": "admin", "signed_in_with": "session" })
    );

    // The link is used up.
    let again = no_redirects().post(server.url("/setup")).form(&form("another password")).send().await.unwrap();
    assert_eq!(again.status(), 404);
    assert_eq!(anonymous_client().get(&link).send().await.unwrap().status(), 404);
    let (status, _, _) = sign_in(&server, "grace", "compiler pioneer").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn guessing_passwords_is_slowed_down_per_address() {
    let server = TestServer::start();
    for attempt in 1..=10 {
        let (status, body, _) = sign_in(&server, ADMIN_LOGIN, &format!("guess number {attempt}")).await;
        assert_eq!(status, 401, "attempt {attempt}: {body}");
    }
    // The eleventh within the minute waits, even with the right password.
    let response = anonymous_client()
        .post(server.url("/api/session"))
        .json(&json!({ "login": ADMIN_LOGIN, "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert!(response.headers().get(SET_COOKIE).is_none());
    assert_eq!(response.json::<Value>().await.unwrap()["error"]["code"], "too_many_attempts");

    // The person at another address signs in at once.
    let elsewhere = reqwest::Client::builder().local_address(std::net::IpAddr::from([127, 0, 0, 2])).build().unwrap();
    let response = elsewhere
        .post(server.url("/api/session"))
        .json(&json!({ "login": ADMIN_LOGIN, "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // Made-up tokens from one address are limited the same way; a real one still works.
    let mut statuses = Vec::new();
    for n in 0..11 {
        let forged = signed_in_client(&format!("bt_forged{n}"));
        statuses.push(forged.get(server.url("/api/me")).send().await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [vec![401; 10], vec![429]].concat());
    assert_eq!(get_json(&server, "/api/me").await.0, 200);
}
