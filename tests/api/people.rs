//! The team: admins invite people or add them, disable them and reset their
//! passwords; everyone manages their own tokens, browsers and password; the
//! command line logs in once.

use std::os::unix::fs::PermissionsExt;

use crate::support::*;
use reqwest::header::LOCATION;
use serde_json::{json, Value};

/// `name=value` of the session cookie an answer sets.
fn session_cookie(response: &reqwest::Response) -> String {
    cookie_pair(response.headers(), "bulletin_session")
}

async fn sign_in(server: &TestServer, login: &str, password: &str) -> (u16, Option<String>) {
    let response = anonymous_client()
        .post(server.url("/api/session"))
        .json(&json!({ "login": login, "password": password }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, (status == 200).then(|| session_cookie(&response)))
}

async fn status_with_cookie(server: &TestServer, path: &str, cookie: &str) -> u16 {
    anonymous_client().get(server.url(path)).header("cookie", cookie).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn an_invited_teammate_joins_and_both_post_and_search() {
    let server = TestServer::start();
    let admin = server.client();
    let (status, invitation) = send(&admin, reqwest::Method::POST, server.url("/api/invitations"), json!({})).await;
    assert_eq!(status, 201, "{invitation}");
    assert_eq!(invitation["role"], "member");
    let url = invitation["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/invite?code=", server.base)), "{url}");
    let code = url.split("code=").nth(1).unwrap().to_string();
    let (_, listed) = send(&admin, reqwest::Method::GET, server.url("/api/invitations"), Value::Null).await;
    assert_eq!(listed["invitations"].as_array().unwrap().len(), 1);
    assert!(listed["invitations"][0].get("url").is_none(), "the link is shown once: {listed}");

    // The link opens without an account; a taken name keeps it usable.
    let page = anonymous_client().get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Join your team"));
    let form = |login: &str| {
        vec![
            ("code", code.clone()),
            ("login", login.to_string()),
            ("display_name", "Bob Builder".into()),
            ("password", "bob's long password".into()),
        ]
    };
    let taken = no_redirects().post(server.url("/invite")).form(&form(ADMIN_LOGIN)).send().await.unwrap();
    assert_eq!(taken.status(), 409);
    let joined = no_redirects().post(server.url("/invite")).form(&form("bob")).send().await.unwrap();
    assert_eq!((joined.status().as_u16(), joined.headers()[LOCATION].to_str().unwrap()), (303, "/"));
    let bob_cookie = session_cookie(&joined);
    let me: Value = anonymous_client()
        .get(server.url("/api/me"))
        .header("cookie", &bob_cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((me["login"].as_str(), me["role"].as_str()), (Some("bob"), Some("member")));

    // Used up.
    assert_eq!(anonymous_client().get(&url).send().await.unwrap().status(), 404);
    let again = no_redirects().post(server.url("/invite")).form(&form("carol")).send().await.unwrap();
    assert_eq!(again.status(), 404);
    let (_, listed) = send(&admin, reqwest::Method::GET, server.url("/api/invitations"), Value::Null).await;
    assert_eq!(listed["invitations"], json!([]));

    // Both post; each finds the other's words.
    let bob = signed_in_client(&server.new_token("bob"));
    let dir = tempfile::tempdir().unwrap();
    let mut ids = Vec::new();
    for (client, name, words) in
        [(&admin, "admin", "The launch checklist is finished."), (&bob, "bob", "The budget review is on Tuesday.")]
    {
        let video = speech_video(dir.path(), name, words, 0.3);
        let form = reqwest::multipart::Form::new()
            .text("title", format!("From {name}"))
            .part("file", reqwest::multipart::Part::bytes(std::fs::read(&video).unwrap()).file_name("v.mp4"));
        let response = client.post(server.url("/api/updates")).multipart(form).send().await.unwrap();
        assert_eq!(response.status(), 202);
        let created: Value = response.json().await.unwrap();
        assert_eq!(created["author"]["login"], name);
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        let done = wait_until_done(&server, id, std::time::Duration::from_secs(180)).await;
        assert_eq!(done["status"], "ready", "{done}");
    }
    let found: Value = bob.get(server.url("/api/search?q=checklist")).send().await.unwrap().json().await.unwrap();
    assert_eq!(found["hits"][0]["update_id"], json!(ids[0]), "{found}");
    let found: Value = admin.get(server.url("/api/search?q=budget")).send().await.unwrap().json().await.unwrap();
    assert_eq!(found["hits"][0]["update_id"], json!(ids[1]), "{found}");

    // A member does not manage people.
    for (method, path) in [("GET", "/api/users"), ("POST", "/api/invitations"), ("GET", "/api/invitations")] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let (status, body) = send(&bob, method, server.url(path), json!({})).await;
        assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{path}");
    }
}

#[tokio::test]
async fn admins_add_disable_and_reset_people() {
    let server = TestServer::start();
    let admin = server.client();
    let users = server.url("/api/users");

    // Added directly, with a generated password shown once.
    let (status, created) =
        send(&admin, reqwest::Method::POST, users.clone(), json!({ "login": "Carol", "display_name": "Carol C" }))
            .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["user"]["login"], "carol");
    let password = created["password"].as_str().unwrap().to_string();
    assert_eq!(sign_in(&server, "carol", &password).await.0, 200);
    let (status, body) = send(&admin, reqwest::Method::POST, users.clone(), json!({ "login": "carol" })).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("login_taken")));
    let (status, body) =
        send(&admin, reqwest::Method::POST, users.clone(), json!({ "login": "dave", "password": "short" })).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("invalid_account")));
    let (status, body) =
        send(&admin, reqwest::Method::POST, users.clone(), json!({ "login": "dave", "role": "boss" })).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("invalid_role")));
    let (_, list) = send(&admin, reqwest::Method::GET, users.clone(), Value::Null).await;
    let logins: Vec<&str> = list["users"].as_array().unwrap().iter().map(|u| u["login"].as_str().unwrap()).collect();
    assert_eq!(logins, ["admin", "carol"]);

    // Disabled: her session and token stop at once; enabled, she is back.
    let (_, session) = sign_in(&server, "carol", &password).await;
    let session = session.unwrap();
    let carol = signed_in_client(&server.new_token("carol"));
    let carol_url = server.url("/api/users/carol");
    let (status, changed) = send(&admin, reqwest::Method::PATCH, carol_url.clone(), json!({ "disabled": true })).await;
    assert_eq!((status, changed["disabled"].as_bool()), (200, Some(true)));
    assert_eq!(carol.get(server.url("/api/me")).send().await.unwrap().status(), 401);
    assert_eq!(status_with_cookie(&server, "/api/me", &session).await, 401);
    send(&admin, reqwest::Method::PATCH, carol_url.clone(), json!({ "disabled": false })).await;
    assert_eq!(carol.get(server.url("/api/me")).send().await.unwrap().status(), 200);
    let (status, body) =
        send(&admin, reqwest::Method::PATCH, server.url("/api/users/admin"), json!({ "disabled": true })).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("cannot_disable_yourself")));

    // A reset password: the old one stops, her sessions end, her tokens stay.
    let (status, reset) = send(&admin, reqwest::Method::POST, server.url("/api/users/carol/password"), json!({})).await;
    assert_eq!(status, 200);
    let new_password = reset["password"].as_str().unwrap();
    assert_eq!(sign_in(&server, "carol", &password).await.0, 401);
    assert_eq!(sign_in(&server, "carol", new_password).await.0, 200);
    assert_eq!(status_with_cookie(&server, "/api/me", &session).await, 401);
    assert_eq!(carol.get(server.url("/api/me")).send().await.unwrap().status(), 200);
    let (status, _) = send(&admin, reqwest::Method::POST, server.url("/api/users/nobody/password"), json!({})).await;
    assert_eq!(status, 404);

    // A withdrawn invitation's link is dead.
    let (_, invitation) =
        send(&admin, reqwest::Method::POST, server.url("/api/invitations"), json!({ "role": "admin" })).await;
    assert_eq!(invitation["role"], "admin");
    let url = invitation["url"].as_str().unwrap().to_string();
    let id = invitation["id"].as_i64().unwrap();
    let withdrawn = admin.delete(server.url(&format!("/api/invitations/{id}"))).send().await.unwrap();
    assert_eq!(withdrawn.status(), 204);
    assert_eq!(anonymous_client().get(&url).send().await.unwrap().status(), 404);
    assert_eq!(admin.delete(server.url(&format!("/api/invitations/{id}"))).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn people_manage_their_own_tokens_browsers_and_password() {
    let server = TestServer::start();
    let admin = server.client();

    // A token from the API, shown once, listed with its use; revoked, it is dead.
    let (status, created) =
        send(&admin, reqwest::Method::POST, server.url("/api/me/tokens"), json!({ "name": "CI uploads" })).await;
    assert_eq!(status, 201, "{created}");
    let ci = signed_in_client(created["token"].as_str().unwrap());
    assert_eq!(ci.get(server.url("/api/me")).send().await.unwrap().status(), 200);
    let (_, tokens) = send(&admin, reqwest::Method::GET, server.url("/api/me/tokens"), Value::Null).await;
    let listed = &tokens["tokens"][0];
    assert_eq!((listed["name"].as_str(), listed["revoked"].as_bool()), (Some("CI uploads"), Some(false)));
    assert!(listed["last_used_at"].is_string(), "{tokens}");
    assert!(!tokens.to_string().contains(created["token"].as_str().unwrap()), "never shown again");
    let revoked = admin.delete(server.url(&format!("/api/me/tokens/{}", created["id"]))).send().await.unwrap();
    assert_eq!(revoked.status(), 204);
    assert_eq!(ci.get(server.url("/api/me")).send().await.unwrap().status(), 401, "a revoked token is dead");
    let (status, body) =
        send(&admin, reqwest::Method::POST, server.url("/api/me/tokens"), json!({ "name": " " })).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("invalid_token_name")));

    // Two browsers: each sees both, the current one marked; one signs the other out.
    let (_, laptop) = sign_in(&server, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let (_, phone) = sign_in(&server, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let (laptop, phone) = (laptop.unwrap(), phone.unwrap());
    let sessions: Value = anonymous_client()
        .get(server.url("/api/me/sessions"))
        .header("cookie", &laptop)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sessions = sessions["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let other = sessions.iter().find(|s| s["current"] == false).unwrap()["id"].as_i64().unwrap();
    let ended = admin.delete(server.url(&format!("/api/me/sessions/{other}"))).send().await.unwrap();
    assert_eq!(ended.status(), 204);
    let still =
        [status_with_cookie(&server, "/api/me", &laptop).await, status_with_cookie(&server, "/api/me", &phone).await];
    assert!(still.contains(&200) && still.contains(&401), "exactly one browser signed out: {still:?}");

    // Changing one's password needs the current one, and signs out the other browsers.
    let (_, second) = sign_in(&server, ADMIN_LOGIN, ADMIN_PASSWORD).await;
    let second = second.unwrap();
    let change = |current: &str| json!({ "current_password": current, "new_password": "a brand new password" });
    let (status, body) = send(&admin, reqwest::Method::PUT, server.url("/api/me/password"), change("wrong")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("wrong_password")));
    let response = admin.put(server.url("/api/me/password")).json(&change(ADMIN_PASSWORD)).send().await.unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(status_with_cookie(&server, "/api/me", &second).await, 401);
    assert_eq!(sign_in(&server, ADMIN_LOGIN, "a brand new password").await.0, 200);
    assert_eq!(admin.get(server.url("/api/me")).send().await.unwrap().status(), 200, "tokens stay");
}

#[tokio::test]
async fn the_command_line_logs_in_once() {
    let server = TestServer::start();
    let config = tempfile::tempdir().unwrap();
    let bulletin = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = std::process::Command::new(bulletin_exe())
            .args(args)
            .env("XDG_CONFIG_HOME", config.path())
            .env_remove("BULLETIN_TOKEN")
            .env_remove("BULLETIN_SERVER")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let refused = bulletin(&["login", &server.base, "--login", ADMIN_LOGIN, "--password-stdin"], "wrong password\n");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("wrong login name or password"), "{refused:?}");

    let logged_in =
        bulletin(&["login", &server.base, "--login", ADMIN_LOGIN, "--password-stdin"], &format!("{ADMIN_PASSWORD}\n"));
    assert!(logged_in.status.success(), "{}", String::from_utf8_lossy(&logged_in.stderr));
    let saved = config.path().join("bulletin/credentials.toml");
    let mode = std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the token file is readable by its owner only");
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(text.contains("bt_") && !text.contains(ADMIN_PASSWORD), "{text}");

    // Search needs no server or token any more.
    let search = bulletin(&["search", "anything"], "");
    assert!(search.status.success(), "{}", String::from_utf8_lossy(&search.stderr));
    assert_eq!(String::from_utf8_lossy(&search.stdout), "no matches\n");
    let (_, tokens) = get_json(&server, "/api/me/tokens").await;
    let names: Vec<&str> = tokens["tokens"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.iter().any(|n| n.starts_with("command line")), "{names:?}");
    let (_, sessions) = get_json(&server, "/api/me/sessions").await;
    assert_eq!(sessions["sessions"], json!([]), "the login's own session was ended");

    // Secrets stay out of `bulletin config`.
    let config_out = server.command(&["config"], "");
    let printed = String::from_utf8_lossy(&config_out.stdout).to_string();
    let with_secret = std::process::Command::new(bulletin_exe())
        .args(["config"])
        .env("BULLETIN_METRICS_TOKEN", "metrics-secret-1234")
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&with_secret.stdout);
    assert!(!shown.contains("metrics-secret-1234") && shown.contains("metrics_token"), "{shown}");
    assert!(!printed.contains(&server.token));
}

/// Run with every log on (debug), then look for any password, token, session
/// secret or invitation code in what the server wrote.
#[tokio::test]
async fn no_secret_reaches_the_log() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let data = dir.path().join("data");
    let mut cmd = std::process::Command::new(bulletin_exe());
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--workers", "0", "--data-dir"])
        .arg(&data)
        .env("BULLETIN_LOG", "debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap());
    if let Some(url) = fresh_database_url() {
        cmd.env("BULLETIN_DATABASE_URL", url);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok);
    let base = lines.find_map(|l| l.strip_prefix("bulletin listening on ").map(str::to_string)).unwrap();
    let setup_link = lines.next().unwrap();
    let setup_code = setup_link.split("code=").nth(1).unwrap().to_string();
    let url = |path: &str| format!("{base}{path}");

    let admin_password = "first admin's password";
    let created = no_redirects()
        .post(url("/setup"))
        .form(&[("code", setup_code.as_str()), ("login", "root"), ("password", admin_password)])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 303);
    let session = session_cookie(&created);
    let csrf = cookie_pair(created.headers(), "bulletin_csrf");
    let cookies = format!("{session}; {csrf}");
    let csrf_token = csrf.trim_start_matches("bulletin_csrf=").to_string();
    let with_session =
        |request: reqwest::RequestBuilder| request.header("cookie", &cookies).header("x-csrf-token", &csrf_token);
    let token: Value = with_session(anonymous_client().post(url("/api/me/tokens")))
        .json(&json!({ "name": "logs" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_string();
    let invitation: Value = with_session(anonymous_client().post(url("/api/invitations")))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let invitation_code = invitation["url"].as_str().unwrap().split("code=").nth(1).unwrap().to_string();
    let invited_password = "invited person's password";
    let page = anonymous_client().get(invitation["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let joined = no_redirects()
        .post(url("/invite"))
        .form(&[("code", invitation_code.as_str()), ("login", "joiner"), ("password", invited_password)])
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), 303);
    // Wrong ones are not logged either.
    let wrong_password = "a wrong password guess";
    let refused = anonymous_client()
        .post(url("/api/session"))
        .json(&json!({ "login": "root", "password": wrong_password }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let forged_token = "bt_forgedforgedforgedforgedforgedforgedforge";
    let forged = signed_in_client(forged_token).get(url("/api/me")).send().await.unwrap();
    assert_eq!(forged.status(), 401);
    assert_eq!(signed_in_client(&token).get(url("/api/me")).send().await.unwrap().status(), 200);

    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.lines().count() > 10, "debug logging is on: {log}");
    let session_secret = session.trim_start_matches("bulletin_session=");
    for (what, secret) in [
        ("the admin's password", admin_password),
        ("an invited person's password", invited_password),
        ("a wrong password", wrong_password),
        ("an API token", token.as_str()),
        ("a forged token", forged_token),
        ("a session secret", session_secret),
        ("a CSRF token", csrf_token.as_str()),
        ("an invitation code", invitation_code.as_str()),
    ] {
        assert!(!log.contains(secret), "{what} is in the log");
    }
}
