//! Channels: General from the start, Announcements where only leaders post,
//! joining, renaming and archiving, and updates posted to a channel by
//! multipart, tus and the command line.

use std::path::Path;

use crate::support::*;
use base64::Engine;
use serde_json::{json, Value};

/// POST `video` as an update to `channel` (or the default); (status, body).
async fn post_to(server: &TestServer, client: &reqwest::Client, channel: Option<&str>, video: &Path) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new().text("title", "Channel post");
    if let Some(channel) = channel {
        form = form.text("channel", channel.to_string());
    }
    let form = form.part("file", reqwest::multipart::Part::bytes(std::fs::read(video).unwrap()).file_name("v.mp4"));
    let response = client.post(server.url("/api/updates")).multipart(form).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn channels_of(page: &Value) -> Vec<String> {
    page["updates"].as_array().unwrap().iter().map(|u| u["channel"]["slug"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn leaders_post_in_announcements_and_everyone_in_general() {
    let server = TestServer::start();
    let admin = server.client();
    let added = server.command(&["user", "add", "bob", "--password-stdin"], "bob's long password\n");
    assert!(added.status.success());
    let bob = signed_in_client(&server.new_token("bob"));
    let dir = tempfile::tempdir().unwrap();
    let video = silent_video(dir.path(), "clip", 1.0, "160x120", 10);

    // General exists; a member cannot create channels.
    let (_, list) = send(&bob, reqwest::Method::GET, server.url("/api/channels"), Value::Null).await;
    assert_eq!(list["channels"][0]["slug"], "general", "{list}");
    assert_eq!(list["channels"][0]["can_post"], true);
    let (status, body) =
        send(&bob, reqwest::Method::POST, server.url("/api/channels"), json!({ "name": "Mine" })).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")));

    // Announcements: only its posters post.
    let (status, created) = send(
        &admin,
        reqwest::Method::POST,
        server.url("/api/channels"),
        json!({ "name": "Announcements", "posting": "listed" }),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!((created["slug"].as_str(), created["can_post"].as_bool()), (Some("announcements"), Some(true)));
    let (status, body) =
        send(&admin, reqwest::Method::POST, server.url("/api/channels"), json!({ "name": "ANNOUNCEMENTS" })).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("channel_exists")));

    let (status, body) = post_to(&server, &bob, Some("Announcements"), &video).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("not_allowed_to_post")), "{body}");
    let (status, body) = post_to(&server, &bob, Some("nowhere"), &video).await;
    assert_eq!(status, 404, "{body}");

    // A tus upload to it is refused at creation, before any byte.
    let metadata = format!(
        "title {},channel {}",
        base64::engine::general_purpose::STANDARD.encode("Leak"),
        base64::engine::general_purpose::STANDARD.encode("announcements")
    );
    let created_upload = bob
        .post(server.url("/api/uploads"))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "1000")
        .header("Upload-Metadata", metadata.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(created_upload.status(), 403);

    // Put on the post list, Bob posts there, by multipart and by tus.
    let (status, _) = send(
        &admin,
        reqwest::Method::PUT,
        server.url("/api/channels/announcements/members/bob"),
        json!({ "can_post": true }),
    )
    .await;
    assert_eq!(status, 204);
    let (status, posted) = post_to(&server, &bob, Some("#Announcements"), &video).await;
    assert_eq!(status, 202, "{posted}");
    assert_eq!(posted["channel"], json!({ "slug": "announcements", "name": "Announcements" }));
    let bytes = std::fs::read(&video).unwrap();
    let created_upload = bob
        .post(server.url("/api/uploads"))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", bytes.len().to_string())
        .header("Upload-Metadata", metadata)
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(created_upload.status(), 201);
    let by_tus = created_upload.headers()["bulletin-update-id"].to_str().unwrap().to_string();
    let (_, tus_update) = get_json(&server, &format!("/api/updates/{by_tus}")).await;
    assert_eq!(tus_update["channel"]["slug"], "announcements");

    // No channel named: General.
    let (status, general) = post_to(&server, &bob, None, &video).await;
    assert_eq!(status, 202);
    assert_eq!(general["channel"]["slug"], "general");

    // The feed of one channel, or all.
    let (_, page) = get_json(&server, "/api/updates?channel=announcements").await;
    assert_eq!(channels_of(&page), ["announcements", "announcements"]);
    let (_, page) = get_json(&server, "/api/updates?channel=general").await;
    assert_eq!(channels_of(&page), ["general"]);
    let (_, page) = get_json(&server, "/api/updates").await;
    assert_eq!(page["updates"].as_array().unwrap().len(), 3);
    assert_eq!(get_json(&server, "/api/updates?channel=nowhere").await.0, 404);

    // Members and places.
    let (_, members) =
        send(&bob, reqwest::Method::GET, server.url("/api/channels/announcements/members"), Value::Null).await;
    assert_eq!(
        members["members"],
        json!([{ "login": "bob", "display_name": "bob", "is_admin": false, "can_post": true }])
    );
    let (status, _) = send(
        &bob,
        reqwest::Method::PUT,
        server.url("/api/channels/announcements/members/admin"),
        json!({ "is_admin": true }),
    )
    .await;
    assert_eq!(status, 403, "a poster does not manage the channel");

    // Renamed (the slug follows), then archived: readable, closed to new posts.
    let (status, renamed) =
        send(&admin, reqwest::Method::PATCH, server.url("/api/channels/announcements"), json!({ "name": "News" }))
            .await;
    assert_eq!((status, renamed["slug"].as_str()), (200, Some("news")));
    let (_, page) = get_json(&server, "/api/updates?channel=news").await;
    assert_eq!(page["updates"][0]["channel"]["name"], "News");
    let (status, _) =
        send(&admin, reqwest::Method::PATCH, server.url("/api/channels/news"), json!({ "archived": true })).await;
    assert_eq!(status, 200);
    let (status, body) = post_to(&server, &admin, Some("news"), &video).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("channel_archived")));
    let (_, page) = get_json(&server, "/api/updates?channel=news").await;
    assert_eq!(page["updates"].as_array().unwrap().len(), 2, "archived updates stay readable");
    let (_, list) = send(&bob, reqwest::Method::GET, server.url("/api/channels"), Value::Null).await;
    let news = list["channels"].as_array().unwrap().iter().find(|c| c["slug"] == "news").unwrap().clone();
    assert_eq!((news["archived"].as_bool(), news["can_post"].as_bool()), (Some(true), Some(false)));

    // Joining General, and leaving it.
    let (status, joined) = send(&bob, reqwest::Method::POST, server.url("/api/channels/general/join"), json!({})).await;
    assert_eq!((status, joined["joined"].as_bool()), (200, Some(true)));
    let left = bob.delete(server.url("/api/channels/general/members/bob")).send().await.unwrap();
    assert_eq!(left.status(), 204);
}

#[tokio::test]
async fn the_command_line_posts_to_a_channel_and_asks_for_acknowledgements() {
    let server = TestServer::start();
    let added = server.command(&["user", "add", "bea", "--password-stdin"], "a long enough one\n");
    assert!(added.status.success());
    let (status, _) =
        send(&server.client(), reqwest::Method::POST, server.url("/api/channels"), json!({ "name": "Team Berlin" }))
            .await;
    assert_eq!(status, 201);
    let dir = tempfile::tempdir().unwrap();
    let video = silent_video(dir.path(), "cli", 1.0, "160x120", 10);
    let post = tokio::process::Command::new(bulletin_exe())
        .args(["post", "--title", "From Berlin", "--channel", "Team Berlin", "--ask", "bea", "--no-wait"])
        .args(["--server", &server.base])
        .arg(&video)
        .env("BULLETIN_TOKEN", &server.token)
        .output()
        .await
        .unwrap();
    assert!(post.status.success(), "{}", String::from_utf8_lossy(&post.stderr));
    let (_, page) = get_json(&server, "/api/updates?channel=team-berlin").await;
    assert_eq!(page["updates"][0]["title"], "From Berlin", "{page}");
    let id = page["updates"][0]["id"].as_str().unwrap();
    let (_, audience) = get_json(&server, &format!("/api/updates/{id}/acknowledgements")).await;
    assert_eq!(
        (audience["asked"].clone(), audience["people"][0]["login"].clone()),
        (json!(1), json!("bea")),
        "{audience}"
    );
}

#[tokio::test]
async fn an_update_carries_a_description_searched_like_its_title() {
    let server = TestServer::start();
    let admin = server.client();
    let dir = tempfile::tempdir().unwrap();
    let video = silent_video(dir.path(), "described", 1.0, "160x120", 10);
    let form = reqwest::multipart::Form::new()
        .text("title", "Quarterly plan")
        .text("description", "  Read first: https://docs.example/q3-plan\r\nKeyword zanzibar.  ")
        .part("file", reqwest::multipart::Part::bytes(std::fs::read(&video).unwrap()).file_name("v.mp4"));
    let response = admin.post(server.url("/api/updates")).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 202);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["description"], "Read first: https://docs.example/q3-plan\nKeyword zanzibar.");
    let id = created["id"].as_str().unwrap().to_string();
    wait_until_done(&server, &id, std::time::Duration::from_secs(120)).await;

    let search = |q: &'static str| {
        let server = &server;
        async move { get_json(server, &format!("/api/search?q={q}")).await.1 }
    };
    let found = search("zanzibar").await;
    assert_eq!(found["hits"][0]["update_id"], json!(id), "{found}");
    assert_eq!(found["hits"][0]["description"], "Read first: https://docs.example/q3-plan\nKeyword zanzibar.");

    // Only its author or an admin edits it; the index follows.
    let added = server.command(&["user", "add", "bob", "--password-stdin"], "bob's long password\n");
    assert!(added.status.success());
    let bob = signed_in_client(&server.new_token("bob"));
    let url = server.url(&format!("/api/updates/{id}"));
    let (status, body) = send(&bob, reqwest::Method::PATCH, url.clone(), json!({ "description": "mine now" })).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("not_allowed_to_edit")), "{body}");
    let (status, body) =
        send(&admin, reqwest::Method::PATCH, url.clone(), json!({ "description": "bad \u{7} bell" })).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("invalid_description")), "{body}");
    let (status, edited) =
        send(&admin, reqwest::Method::PATCH, url, json!({ "description": "Now about quokkas." })).await;
    assert_eq!((status, edited["description"].as_str()), (200, Some("Now about quokkas.")));
    assert_eq!(search("quokkas").await["hits"][0]["update_id"], json!(id));
    assert_eq!(search("zanzibar").await["hits"], json!([]));

    // A tus upload carries one in its metadata, checked at creation.
    let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
    let bytes = std::fs::read(&video).unwrap();
    let tus = |description: &str| {
        admin
            .post(server.url("/api/uploads"))
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", bytes.len().to_string())
            .header("Upload-Metadata", format!("title {},description {}", b64("By tus"), b64(description)))
    };
    let refused = tus(&"x".repeat(2001)).send().await.unwrap();
    assert_eq!(refused.status(), 422);
    let created = tus("Sent by tus")
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let by_tus = created.headers()["bulletin-update-id"].to_str().unwrap().to_string();
    assert_eq!(get_json(&server, &format!("/api/updates/{by_tus}")).await.1["description"], "Sent by tus");
}
