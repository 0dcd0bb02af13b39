//! Catching up: what each person watched of an update, where they resume, and
//! when it counts as seen (80 % of it actually watched, at any speed).

use std::time::Duration;

use crate::support::*;
use base64::Engine;
use serde_json::{json, Value};

async fn report(server: &TestServer, token: &str, id: &str, body: Value) -> (u16, Value) {
    let url = server.url(&format!("/api/updates/{id}/progress"));
    send(&signed_in_client(token), reqwest::Method::POST, url, body).await
}

async fn progress_of(server: &TestServer, token: &str, id: &str) -> Value {
    let url = server.url(&format!("/api/updates/{id}/progress"));
    let (status, body) = send(&signed_in_client(token), reqwest::Method::GET, url, Value::Null).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn watching_counts_once_jumps_do_not_and_resuming_survives_a_restart() {
    let server = TestServer::start();
    let added = server.command(&["user", "add", "bea", "--password-stdin"], "a long enough one\n");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let bea = server.new_token("bea");
    let dir = tempfile::tempdir().unwrap();
    let video = tone_video(dir.path(), "watched", 10.0, "160x120", 10);
    let (status, body) = post_update(&server, "Watched", &video).await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let duration = body["duration_ms"].as_u64().unwrap();
    let at = |fraction: f64| (duration as f64 * fraction) as u64;

    // Half of it, then the same half again at double speed: half.
    let (status, seen) = report(&server, &bea, &id, json!({ "watched": [[0, at(0.5)]], "position_ms": at(0.5) })).await;
    assert_eq!(status, 200, "{seen}");
    let (_, seen) =
        report(&server, &bea, &id, json!({ "watched": [[0, at(0.25)], [at(0.25), at(0.5)]], "position_ms": at(0.5) }))
            .await;
    assert_eq!(seen["watched_ms"], at(0.5), "{seen}");
    assert_eq!(seen["seen"], false, "{seen}");
    // On to 55 %, a jump over 30 %, the last 15 %: 70 % watched, the end reached, not seen.
    let (_, seen) = report(
        &server,
        &bea,
        &id,
        json!({ "watched": [[at(0.5), at(0.55)], [at(0.85), duration]], "position_ms": duration }),
    )
    .await;
    assert_eq!(seen["seen"], false, "{seen}");
    assert_eq!(seen["resume_ms"], 0, "at the end it starts over: {seen}");
    // The part jumped over: seen.
    let (_, seen) =
        report(&server, &bea, &id, json!({ "watched": [[at(0.55), at(0.85)]], "position_ms": at(0.85) })).await;
    assert_eq!(seen["seen"], true, "{seen}");
    assert_eq!(seen["watched_ms"], duration, "{seen}");
    assert!(seen["seen_at"].as_str().is_some(), "{seen}");

    // A bad report is refused and changes nothing.
    for bad in [
        json!({ "watched": [[at(0.3), at(0.2)]], "position_ms": 0 }),
        json!({ "watched": [], "position_ms": duration * 3 }),
    ] {
        let (status, body) = report(&server, &bea, &id, bad).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["code"], "invalid_progress", "{body}");
    }
    let (status, body) = report(&server, &bea, &id, json!({ "watched": "all of it" })).await;
    assert_eq!(status, 400, "{body}");

    // Where she is survives a restart; the admin's own progress is untouched.
    report(&server, &bea, &id, json!({ "watched": [], "position_ms": at(0.4) })).await;
    let server = server.kill_and_restart(&[], &[]);
    let mine = progress_of(&server, &bea, &id).await;
    assert_eq!(mine["resume_ms"], at(0.4), "{mine}");
    assert_eq!(mine["seen"], true, "seen stays seen: {mine}");
    let theirs = progress_of(&server, &server.token, &id).await;
    assert_eq!((theirs["watched_ms"].clone(), theirs["seen"].clone()), (json!(0), json!(false)), "{theirs}");
    wait_until_done(&server, &id, Duration::from_secs(120)).await;
}

/// Post `video` titled `title` to `channel`; its id.
async fn post_in(server: &TestServer, channel: &str, title: &str, video: &std::path::Path) -> String {
    let form = reqwest::multipart::Form::new()
        .text("title", title.to_string())
        .text("channel", channel.to_string())
        .part("file", reqwest::multipart::Part::bytes(std::fs::read(video).unwrap()).file_name("v.mp4"));
    let response = server.client().post(server.url("/api/updates")).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 202);
    response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

fn ids(page: &Value) -> Vec<String> {
    page["updates"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn what_each_person_has_not_seen_yet_per_channel() {
    let server = TestServer::start();
    let added = server.command(&["user", "add", "bea", "--password-stdin"], "a long enough one\n");
    assert!(added.status.success());
    let bea_token = server.new_token("bea");
    let bea = signed_in_client(&bea_token);
    let (status, _) = send(
        &server.client(),
        reqwest::Method::POST,
        server.url("/api/channels"),
        json!({ "name": "Reorg", "private": true }),
    )
    .await;
    assert_eq!(status, 201);
    let dir = tempfile::tempdir().unwrap();
    let video = tone_video(dir.path(), "clip", 2.0, "64x64", 5);
    let first = post_in(&server, "general", "First", &video).await;
    let second = post_in(&server, "general", "Second", &video).await;
    let private = post_in(&server, "reorg", "Private", &video).await;

    // Bea has seen nothing; the private update is in no count or list of hers.
    let (_, unseen) = send(&bea, reqwest::Method::GET, server.url("/api/unseen"), Value::Null).await;
    assert_eq!(unseen, json!({ "total": 2, "channels": [{ "slug": "general", "name": "General", "unseen": 2 }] }));
    let (_, page) = send(&bea, reqwest::Method::GET, server.url("/api/updates?unseen=true"), Value::Null).await;
    assert_eq!(ids(&page), [second.clone(), first.clone()]);
    // The admin posted all three: none is new to her.
    let (_, mine) = get_json(&server, "/api/unseen").await;
    assert_eq!(mine["total"], 0, "{mine}");

    // Watching one to the end takes it off the list.
    let url = server.url(&format!("/api/updates/{first}/progress"));
    let (status, seen) =
        send(&bea, reqwest::Method::POST, url, json!({ "watched": [[0, 2000]], "position_ms": 2000 })).await;
    assert_eq!((status, seen["seen"].clone()), (200, json!(true)), "{seen}");
    let (_, page) = send(&bea, reqwest::Method::GET, server.url("/api/updates?unseen=true"), Value::Null).await;
    assert_eq!(ids(&page), [second.as_str()]);

    // Mark all as seen: nothing left, and the admin's count of the private one is hers alone.
    let (status, left) =
        send(&bea, reqwest::Method::POST, server.url("/api/unseen/mark-seen"), json!({ "channel": "general" })).await;
    assert_eq!(status, 200, "{left}");
    assert_eq!(left, json!({ "total": 0, "channels": [] }));
    let (status, _) =
        send(&bea, reqwest::Method::POST, server.url("/api/unseen/mark-seen"), json!({ "channel": "reorg" })).await;
    assert_eq!(status, 404, "a private channel she is not in does not exist for her");
    let progress = progress_of(&server, &bea_token, &second).await;
    assert_eq!(progress["seen"], true, "{progress}");
    let (status, _) =
        send(&bea, reqwest::Method::GET, server.url(&format!("/api/updates/{private}/progress")), Value::Null).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_author_asks_people_to_acknowledge_and_sees_who_is_outstanding() {
    let server = TestServer::start();
    for login in ["bea", "cal", "dee"] {
        let added = server.command(&["user", "add", login, "--password-stdin"], "a long enough one\n");
        assert!(added.status.success());
    }
    let (bea, cal) = (signed_in_client(&server.new_token("bea")), signed_in_client(&server.new_token("cal")));
    let admin = server.client();
    // A private channel with the admin, bea and cal in it; dee is not.
    let (status, _) =
        send(&admin, reqwest::Method::POST, server.url("/api/channels"), json!({ "name": "Leads", "private": true }))
            .await;
    assert_eq!(status, 201);
    for login in ["bea", "cal"] {
        let url = server.url(&format!("/api/channels/leads/members/{login}"));
        assert_eq!(send(&admin, reqwest::Method::PUT, url, json!({})).await.0, 204);
    }
    let dir = tempfile::tempdir().unwrap();
    let video = tone_video(dir.path(), "ack", 2.0, "64x64", 5);
    let id = post_in(&server, "leads", "Please read", &video).await;
    let asks = server.url(&format!("/api/updates/{id}/acknowledgements"));

    // Dee cannot see the channel: a clear refusal, and nobody is asked.
    let (status, body) = send(&admin, reqwest::Method::POST, asks.clone(), json!({ "people": ["bea", "dee"] })).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "cannot_see", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("dee cannot see Leads"), "{body}");
    let (status, body) = send(&admin, reqwest::Method::POST, asks.clone(), json!({ "people": ["nobody"] })).await;
    assert_eq!((status, body["error"]["code"].clone()), (422, json!("unknown_person")), "{body}");
    // Only the author (or an admin) asks, and only they see who watched.
    let (status, body) = send(&bea, reqwest::Method::POST, asks.clone(), json!({ "people": ["cal"] })).await;
    assert_eq!((status, body["error"]["code"].clone()), (403, json!("not_allowed_to_ask")), "{body}");

    let (status, audience) =
        send(&admin, reqwest::Method::POST, asks.clone(), json!({ "people": ["bea", "cal"] })).await;
    assert_eq!(status, 200, "{audience}");
    assert_eq!((audience["asked"].clone(), audience["outstanding"].clone()), (json!(2), json!(2)), "{audience}");

    // Bea is asked and acknowledges; it also counts as seen.
    let progress = server.url(&format!("/api/updates/{id}/progress"));
    let (_, mine) = send(&bea, reqwest::Method::GET, progress.clone(), Value::Null).await;
    assert_eq!(mine["asked_to_acknowledge"], true, "{mine}");
    let acknowledge = server.url(&format!("/api/updates/{id}/acknowledge"));
    let (status, body) = send(&bea, reqwest::Method::POST, acknowledge.clone(), Value::Null).await;
    assert_eq!(status, 200, "{body}");
    let (_, mine) = send(&bea, reqwest::Method::GET, progress, Value::Null).await;
    assert_eq!((mine["seen"].clone(), mine["acknowledged_at"].is_string()), (json!(true), true), "{mine}");
    // The admin was not asked (she posted it).
    let (status, body) = send(&admin, reqwest::Method::POST, acknowledge.clone(), Value::Null).await;
    assert_eq!((status, body["error"]["code"].clone()), (409, json!("not_asked")), "{body}");

    // The author sees bea acknowledged and cal outstanding; cal may not look.
    let (status, audience) = send(&admin, reqwest::Method::GET, asks.clone(), Value::Null).await;
    assert_eq!(status, 200, "{audience}");
    let who =
        |login: &str| audience["people"].as_array().unwrap().iter().find(|p| p["login"] == login).cloned().unwrap();
    assert!(who("bea")["acknowledged_at"].is_string() && who("bea")["seen_at"].is_string(), "{audience}");
    assert_eq!(who("bea")["outstanding"], false);
    assert_eq!((who("cal")["outstanding"].clone(), who("cal")["acknowledged_at"].clone()), (json!(true), Value::Null));
    assert_eq!((audience["acknowledged"].clone(), audience["outstanding"].clone()), (json!(1), json!(1)), "{audience}");
    let (status, body) = send(&cal, reqwest::Method::GET, asks, Value::Null).await;
    assert_eq!((status, body["error"]["code"].clone()), (403, json!("not_allowed_to_see_audience")), "{body}");
}

#[tokio::test]
async fn reading_the_transcript_through_counts_as_seen() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let words = "The office moves next month. Pack your desk by Friday. The new address is on the wiki.";
    let video = speech_video(dir.path(), "read", words, 0.5);
    let (status, body) = post_update(&server, "Read me", &video).await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let update = wait_until_done(&server, &id, Duration::from_secs(120)).await;
    let count = update["word_count"].as_u64().unwrap();
    assert!(count > 5, "{update}");
    // Reading takes count / 238 minutes; 40 % of that on screen is enough.
    let enough_ms = (count as f64 / 238.0 * 60_000.0 * 0.4).ceil() as u64;
    let token = server.token.clone();

    // Most lines on screen, but far too briefly: not yet.
    let (_, seen) =
        report(&server, &token, &id, json!({ "position_ms": 0, "read": { "fraction": 0.9, "visible_ms": 100 } })).await;
    assert_eq!((seen["seen"].clone(), seen["read_fraction"].clone()), (json!(false), json!(0.9)), "{seen}");
    // Long enough in all, but only half the lines: not yet.
    let (_, seen) =
        report(&server, &token, &id, json!({ "position_ms": 0, "read": { "fraction": 0.5, "visible_ms": enough_ms } }))
            .await;
    assert_eq!(seen["seen"], true, "the largest share so far (0.9) counts with the time added up: {seen}");
    assert_eq!(seen["watched_ms"], 0, "{seen}");
    let (status, body) =
        report(&server, &token, &id, json!({ "position_ms": 0, "read": { "fraction": 1.5, "visible_ms": 0 } })).await;
    assert_eq!((status, body["error"]["code"].clone()), (422, json!("invalid_progress")), "{body}");
}

#[tokio::test]
async fn asking_when_posting_and_where_each_person_stands_in_lists() {
    let server = TestServer::start();
    for login in ["bea", "dee"] {
        let added = server.command(&["user", "add", login, "--password-stdin"], "a long enough one\n");
        assert!(added.status.success());
    }
    let bea = signed_in_client(&server.new_token("bea"));
    let admin = server.client();
    let (status, _) =
        send(&admin, reqwest::Method::POST, server.url("/api/channels"), json!({ "name": "Leads", "private": true }))
            .await;
    assert_eq!(status, 201);
    let url = server.url("/api/channels/leads/members/bea");
    assert_eq!(send(&admin, reqwest::Method::PUT, url, json!({})).await.0, 204);
    let dir = tempfile::tempdir().unwrap();
    let video = tone_video(dir.path(), "ask", 2.0, "64x64", 5);
    let bytes = std::fs::read(&video).unwrap();
    let form = |acknowledge: &str| {
        reqwest::multipart::Form::new()
            .text("title", "Asked")
            .text("channel", "leads")
            .text("acknowledge", acknowledge.to_string())
            .part("file", reqwest::multipart::Part::bytes(bytes.clone()).file_name("v.mp4"))
    };

    // Dee cannot see Leads: the post is refused and leaves nothing behind.
    let response = admin.post(server.url("/api/updates")).multipart(form("bea, dee")).send().await.unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "cannot_see", "{body}");
    assert_eq!(get_json(&server, "/api/updates").await.1["updates"], json!([]));

    // Everyone in the channel, from the moment it exists.
    let response = admin.post(server.url("/api/updates")).multipart(form("everyone")).send().await.unwrap();
    assert_eq!(response.status(), 202);
    let id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let (_, page) = send(&bea, reqwest::Method::GET, server.url("/api/updates"), Value::Null).await;
    let you = &page["updates"][0]["you"];
    assert_eq!(
        *you,
        json!({ "author": false, "started": false, "seen": false, "asked_to_acknowledge": true, "acknowledged": false }),
        "{page}"
    );
    let (_, mine) = get_json(&server, &format!("/api/updates/{id}")).await;
    assert_eq!(
        (mine["you"]["author"].clone(), mine["you"]["asked_to_acknowledge"].clone()),
        (json!(true), json!(false))
    );

    // Reading a little is starting; acknowledging is seeing.
    let progress = server.url(&format!("/api/updates/{id}/progress"));
    let (status, body) =
        send(&bea, reqwest::Method::POST, progress, json!({ "read": { "fraction": 0.2, "visible_ms": 900 } })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["position_ms"], 0, "a report without a position keeps the last one: {body}");
    let acknowledge = server.url(&format!("/api/updates/{id}/acknowledge"));
    assert_eq!(send(&bea, reqwest::Method::POST, acknowledge, Value::Null).await.0, 200);
    let (_, bea_view) = send(&bea, reqwest::Method::GET, server.url(&format!("/api/updates/{id}")), Value::Null).await;
    assert_eq!(
        bea_view["you"],
        json!({ "author": false, "started": true, "seen": true, "asked_to_acknowledge": true, "acknowledged": true })
    );

    // A tus upload names them in its metadata, checked when it is created.
    let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
    let tus = |acknowledge: &str| {
        admin
            .post(server.url("/api/uploads"))
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", bytes.len().to_string())
            .header(
                "Upload-Metadata",
                format!("title {},channel {},acknowledge {}", b64("By tus"), b64("leads"), b64(acknowledge)),
            )
    };
    let refused = tus("nobody").send().await.unwrap();
    assert_eq!(refused.status(), 422);
    let created =
        tus("bea").header("Content-Type", "application/offset+octet-stream").body(bytes.clone()).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let by_tus = created.headers()["bulletin-update-id"].to_str().unwrap().to_string();
    let (_, audience) = get_json(&server, &format!("/api/updates/{by_tus}/acknowledgements")).await;
    assert_eq!(
        (audience["asked"].clone(), audience["people"][0]["login"].clone()),
        (json!(1), json!("bea")),
        "{audience}"
    );
}
