//! Replies in writing: comments at a moment or on the whole update, threads,
//! edits and deletions, `@mentions`, reactions and their counts, refusals that
//! store nothing, and comment text found by search at its moment.

use std::time::Duration;

use crate::support::*;
use serde_json::{json, Value};

fn comments_url(server: &TestServer, id: &str) -> String {
    server.url(&format!("/api/updates/{id}/comments"))
}

async fn thread(client: &reqwest::Client, server: &TestServer, id: &str) -> Value {
    let (status, thread) = send(client, reqwest::Method::GET, comments_url(server, id), Value::Null).await;
    assert_eq!(status, 200, "{thread}");
    thread
}

fn add_user(server: &TestServer, login: &str) -> reqwest::Client {
    let added = server.command(&["user", "add", login, "--password-stdin"], "a long enough one\n");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    signed_in_client(&server.new_token(login))
}

#[tokio::test]
async fn comments_at_a_moment_threads_edits_deletions_and_reactions() {
    let server = TestServer::start();
    let (bea, cal) = (add_user(&server, "bea"), add_user(&server, "cal"));
    let admin = server.client();
    let dir = tempfile::tempdir().unwrap();
    let video = tone_video(dir.path(), "thread", 4.0, "64x64", 5);
    let (status, created) = post_update(&server, "Launch plan", &video).await;
    assert_eq!(status, 202, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let duration = created["duration_ms"].as_u64().unwrap();
    let (_, other) = post_update(&server, "Another", &video).await;
    let other = other["id"].as_str().unwrap().to_string();
    let url = comments_url(&server, &id);

    // At a moment, mentioning someone who exists and someone who does not.
    let (status, question) = send(
        &bea,
        reqwest::Method::POST,
        url.clone(),
        json!({ "body": "  At 0:01 you said the launch moves: to when? @Cal @nobody  ", "at_ms": 1500 }),
    )
    .await;
    assert_eq!(status, 201, "{question}");
    assert_eq!(question["body"], "At 0:01 you said the launch moves: to when? @Cal @nobody");
    assert_eq!(question["at_ms"], 1500);
    assert_eq!(question["mentions"], json!([{ "login": "cal", "display_name": "cal" }]), "{question}");
    assert_eq!((question["can_edit"].clone(), question["author"]["login"].clone()), (json!(true), json!("bea")));
    let question_id = question["id"].as_i64().unwrap();

    // An answer is about what its comment is about.
    let (status, answer) =
        send(&admin, reqwest::Method::POST, url.clone(), json!({ "body": "To May.", "parent_id": question_id })).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!((answer["parent_id"].as_i64(), answer["at_ms"].as_i64()), (Some(question_id), Some(1500)));
    // On the whole update.
    let (status, whole) = send(&cal, reqwest::Method::POST, url.clone(), json!({ "body": "Thanks!" })).await;
    assert_eq!((status, whole["at_ms"].clone()), (201, Value::Null), "{whole}");

    // Refusals, each with its code, and nothing stored.
    let refusals = [
        (json!({ "body": " \n " }), "empty_comment"),
        (json!({ "body": "x".repeat(10_001) }), "comment_too_long"),
        (json!({ "body": "bell\u{7}" }), "invalid_comment"),
        (json!({ "body": "Later", "at_ms": duration + 1 }), "moment_outside_video"),
        (json!({ "body": "Lost", "parent_id": 999_999 }), "unknown_parent"),
    ];
    for (body, code) in refusals {
        let (status, refused) = send(&bea, reqwest::Method::POST, url.clone(), body).await;
        assert_eq!((status, refused["error"]["code"].clone()), (422, json!(code)), "{refused}");
    }
    // A comment of another update is no parent here.
    let (_, elsewhere) =
        send(&bea, reqwest::Method::POST, comments_url(&server, &other), json!({ "body": "Elsewhere" })).await;
    let (status, refused) =
        send(&bea, reqwest::Method::POST, url.clone(), json!({ "body": "Crossed", "parent_id": elsewhere["id"] }))
            .await;
    assert_eq!((status, refused["error"]["code"].clone()), (422, json!("unknown_parent")), "{refused}");
    let (status, _) = send(&bea, reqwest::Method::POST, url.clone(), json!({ "text": "wrong field" })).await;
    assert!((400..500).contains(&status), "{status}");
    assert_eq!(thread(&bea, &server, &id).await["comments"].as_array().unwrap().len(), 3);

    // Edit one's own; nobody else's.
    let mine = server.url(&format!("/api/updates/{id}/comments/{question_id}"));
    let (status, edited) =
        send(&bea, reqwest::Method::PATCH, mine.clone(), json!({ "body": "To when exactly?" })).await;
    assert_eq!(status, 200, "{edited}");
    assert!(edited["edited_at"].is_string(), "{edited}");
    let (status, refused) = send(&cal, reqwest::Method::PATCH, mine.clone(), json!({ "body": "Mine now" })).await;
    assert_eq!((status, refused["error"]["code"].clone()), (403, json!("not_your_comment")), "{refused}");
    let (status, refused) = send(&cal, reqwest::Method::DELETE, mine.clone(), Value::Null).await;
    assert_eq!((status, refused["error"]["code"].clone()), (403, json!("not_allowed_to_delete")), "{refused}");
    let (status, _) = send(&bea, reqwest::Method::PATCH, mine.clone(), json!({ "body": "" })).await;
    assert_eq!(status, 422);

    // Reactions: once per person, emoji and moment, counted.
    let reactions = server.url(&format!("/api/updates/{id}/reactions"));
    for (client, body) in [
        (&bea, json!({ "emoji": "👍", "at_ms": 1500 })),
        (&bea, json!({ "emoji": "👍", "at_ms": 1500 })),
        (&cal, json!({ "emoji": "👍", "at_ms": 1500 })),
        (&bea, json!({ "emoji": "🎉" })),
    ] {
        let (status, body) = send(client, reqwest::Method::POST, reactions.clone(), body).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, refused) = send(&bea, reqwest::Method::POST, reactions.clone(), json!({ "emoji": "💩" })).await;
    assert_eq!((status, refused["error"]["code"].clone()), (422, json!("unknown_reaction")), "{refused}");
    let (status, refused) =
        send(&bea, reqwest::Method::POST, reactions.clone(), json!({ "emoji": "👍", "at_ms": duration + 1 })).await;
    assert_eq!((status, refused["error"]["code"].clone()), (422, json!("moment_outside_video")), "{refused}");
    let counts = thread(&bea, &server, &id).await["reactions"].clone();
    assert_eq!(
        counts,
        json!([
            { "emoji": "🎉", "at_ms": null, "count": 1, "mine": true },
            { "emoji": "👍", "at_ms": 1500, "count": 2, "mine": true },
        ]),
        "the whole update's first, then by moment"
    );
    let take_back = reqwest::Url::parse_with_params(&reactions, &[("emoji", "👍"), ("at_ms", "1500")]).unwrap();
    let (status, counts) = send(&bea, reqwest::Method::DELETE, take_back.to_string(), Value::Null).await;
    assert_eq!(status, 200, "{counts}");
    assert_eq!(counts[1], json!({ "emoji": "👍", "at_ms": 1500, "count": 1, "mine": false }), "{counts}");

    // The count on the update; deleting a comment others answered keeps its place.
    assert_eq!(get_json(&server, &format!("/api/updates/{id}")).await.1["comment_count"], 3);
    let (status, _) = send(&bea, reqwest::Method::DELETE, mine.clone(), Value::Null).await;
    assert_eq!(status, 204);
    let comments = thread(&cal, &server, &id).await["comments"].clone();
    let gone = comments.as_array().unwrap().iter().find(|c| c["id"] == question_id).cloned().unwrap();
    assert_eq!((gone["deleted"].clone(), gone["body"].clone()), (json!(true), json!("")), "{gone}");
    assert_eq!(get_json(&server, &format!("/api/updates/{id}")).await.1["comment_count"], 2);
    let (status, _) = send(&bea, reqwest::Method::PATCH, mine, json!({ "body": "Back" })).await;
    assert_eq!(status, 404, "a deleted comment is not edited");
    // An admin deletes anyone's; one nobody answered is gone.
    let whole = server.url(&format!("/api/updates/{id}/comments/{}", whole["id"]));
    assert_eq!(send(&admin, reqwest::Method::DELETE, whole, Value::Null).await.0, 204);
    assert_eq!(thread(&cal, &server, &id).await["comments"].as_array().unwrap().len(), 2);

    // A disabled author's comments stay, with their name.
    let (status, _) = send(&cal, reqwest::Method::POST, url.clone(), json!({ "body": "Count me in" })).await;
    assert_eq!(status, 201);
    let (status, body) =
        send(&admin, reqwest::Method::PATCH, server.url("/api/users/cal"), json!({ "disabled": true })).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) =
        send(&admin, reqwest::Method::POST, url.clone(), json!({ "body": "Ask @cal", "parent_id": answer["id"] }))
            .await;
    assert_eq!(status, 201);
    let comments = thread(&bea, &server, &id).await["comments"].clone();
    let by_cal = comments.as_array().unwrap().iter().find(|c| c["body"] == "Count me in").cloned().unwrap();
    assert_eq!(by_cal["author"], json!({ "login": "cal", "display_name": "cal" }), "{by_cal}");
    let last = comments.as_array().unwrap().last().cloned().unwrap();
    assert_eq!(last["mentions"], json!([]), "a disabled person is no mention: {last}");
    wait_until_done(&server, &id, Duration::from_secs(120)).await;
}

#[tokio::test]
async fn mentions_and_comments_stay_inside_a_private_channel() {
    let server = TestServer::start();
    let (bea, cal) = (add_user(&server, "bea"), add_user(&server, "cal"));
    let admin = server.client();
    let (status, _) =
        send(&admin, reqwest::Method::POST, server.url("/api/channels"), json!({ "name": "Leads", "private": true }))
            .await;
    assert_eq!(status, 201);
    assert_eq!(
        send(&admin, reqwest::Method::PUT, server.url("/api/channels/leads/members/bea"), json!({})).await.0,
        204
    );
    let dir = tempfile::tempdir().unwrap();
    let video = speech_video(dir.path(), "private", "The budget for the offsite is approved.", 0.3);
    let form = reqwest::multipart::Form::new()
        .text("title", "Offsite")
        .text("channel", "leads")
        .part("file", reqwest::multipart::Part::bytes(std::fs::read(&video).unwrap()).file_name("v.mp4"));
    let response = admin.post(server.url("/api/updates")).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 202);
    let id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    wait_until_done(&server, &id, Duration::from_secs(120)).await;

    let (status, comment) = send(
        &bea,
        reqwest::Method::POST,
        comments_url(&server, &id),
        json!({ "body": "Can @cal and @bea join the zanzibarian retreat?", "at_ms": 500 }),
    )
    .await;
    assert_eq!(status, 201, "{comment}");
    assert_eq!(comment["mentions"], json!([{ "login": "bea", "display_name": "bea" }]), "cal cannot see it: {comment}");

    // For cal the update and everything on it does not exist.
    let (status, _) = send(&cal, reqwest::Method::GET, comments_url(&server, &id), Value::Null).await;
    assert_eq!(status, 404);
    let (status, _) = send(&cal, reqwest::Method::POST, comments_url(&server, &id), json!({ "body": "Hi" })).await;
    assert_eq!(status, 404);
    let reactions = server.url(&format!("/api/updates/{id}/reactions"));
    assert_eq!(send(&cal, reqwest::Method::POST, reactions, json!({ "emoji": "👍" })).await.0, 404);

    // Search finds the comment's words at its moment, for those who see the update only.
    let search = |client: reqwest::Client| {
        let url = reqwest::Url::parse_with_params(&server.url("/api/search"), &[("q", "zanzibarian")]).unwrap();
        async move { client.get(url).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let started = std::time::Instant::now();
    let hit = loop {
        let found = search(bea.clone()).await;
        if let Some(hit) = found["hits"].as_array().and_then(|h| h.first()).cloned() {
            break hit;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the comment was never indexed: {found}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(hit["update_id"], json!(id), "{hit}");
    assert_eq!(
        (hit["matches"][0]["kind"].clone(), hit["matches"][0]["start_ms"].clone()),
        (json!("comment"), json!(500))
    );
    assert!(hit["matches"][0]["snippet"].as_str().unwrap().contains("<mark>zanzibarian</mark>"), "{hit}");
    assert_eq!(search(cal.clone()).await["hits"], json!([]));

    // Deleted, it is not found any more.
    let url = server.url(&format!("/api/updates/{id}/comments/{}", comment["id"]));
    assert_eq!(send(&bea, reqwest::Method::DELETE, url, Value::Null).await.0, 204);
    let started = std::time::Instant::now();
    while search(bea.clone()).await["hits"] != json!([]) {
        assert!(started.elapsed() < Duration::from_secs(30), "a deleted comment is still found");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Post `video` as a reply (multipart) by `client`; status and body.
async fn reply_with(
    client: &reqwest::Client,
    server: &TestServer,
    fields: &[(&str, String)],
    video: &std::path::Path,
) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        form = form.text(name.to_string(), value.clone());
    }
    let form = form.part("file", reqwest::multipart::Part::bytes(std::fs::read(video).unwrap()).file_name("r.mp4"));
    let response = client.post(server.url("/api/updates")).multipart(form).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_video_reply_is_an_update_of_its_own_in_its_parents_thread() {
    let server = TestServer::start();
    let bea = add_user(&server, "bea");
    let admin = server.client();
    // Only the admin posts updates in News; anyone who sees it replies.
    let (status, _) = send(
        &admin,
        reqwest::Method::POST,
        server.url("/api/channels"),
        json!({ "name": "News", "posting": "listed" }),
    )
    .await;
    assert_eq!(status, 201);
    let dir = tempfile::tempdir().unwrap();
    let announcement = tone_video(dir.path(), "news", 4.0, "64x64", 5);
    let (status, parent) =
        reply_with(&admin, &server, &[("title", "Big news".into()), ("channel", "news".into())], &announcement).await;
    assert_eq!(status, 202, "{parent}");
    let parent = parent["id"].as_str().unwrap().to_string();
    let duration = get_json(&server, &format!("/api/updates/{parent}")).await.1["duration_ms"].as_u64().unwrap();
    let reply_video = speech_video(dir.path(), "reply", "The quarterly numbers look solid to me.", 0.3);

    // Bea may not post an update in News, but she may answer one there.
    let (status, refused) =
        reply_with(&bea, &server, &[("title", "Mine".into()), ("channel", "news".into())], &reply_video).await;
    assert_eq!((status, refused["error"]["code"].clone()), (403, json!("not_allowed_to_post")), "{refused}");
    for (fields, code) in [
        (vec![("reply_to", "0000000000000000".to_string())], "unknown_reply_to"),
        (vec![("reply_to", parent.clone()), ("reply_at_ms", (duration + 1).to_string())], "moment_outside_video"),
        (vec![("reply_to", parent.clone()), ("reply_at_ms", "soon".into())], "invalid_reply_at"),
        (vec![("reply_at_ms", "1000".into())], "reply_at_without_reply_to"),
    ] {
        let mut fields = fields;
        fields.push(("title", "Re".into()));
        let (status, refused) = reply_with(&bea, &server, &fields, &reply_video).await;
        assert_eq!((status, refused["error"]["code"].clone()), (422, json!(code)), "{refused}");
    }
    let (_, page) = get_json(&server, "/api/updates").await;
    assert_eq!(page["updates"].as_array().unwrap().len(), 1, "refusals store nothing: {page}");

    let fields = [
        ("title", "Re: Big news".to_string()),
        ("channel", "general".into()),
        ("reply_to", parent.clone()),
        ("reply_at_ms", "1000".into()),
    ];
    let (status, reply) = reply_with(&bea, &server, &fields, &reply_video).await;
    assert_eq!(status, 202, "{reply}");
    assert_eq!(reply["channel"]["slug"], "news", "a reply goes where its update is: {reply}");
    assert_eq!(reply["reply_to"], json!({ "id": parent, "title": "Big news", "at_ms": 1000 }), "{reply}");
    let reply_id = reply["id"].as_str().unwrap().to_string();
    let done = wait_until_done(&server, &reply_id, Duration::from_secs(120)).await;
    assert_eq!(done["status"], "ready", "{done}");

    // In the parent's thread, and found by its own words, linking back.
    let thread = thread(&bea, &server, &parent).await;
    assert_eq!(thread["video_replies"][0]["id"], json!(reply_id), "{thread}");
    assert_eq!(thread["video_replies"][0]["reply_to"]["at_ms"], 1000);
    let transcript = get_json(&server, &format!("/api/updates/{reply_id}/transcript")).await.1;
    let text: String = transcript["segments"].as_array().unwrap().iter().map(|s| s["text"].as_str().unwrap()).collect();
    let word = text.split(|c: char| !c.is_alphabetic()).max_by_key(|w| w.len()).unwrap().to_lowercase();
    let url = reqwest::Url::parse_with_params(&server.url("/api/search"), &[("q", word.as_str())]).unwrap();
    let found: Value = bea.get(url).send().await.unwrap().json().await.unwrap();
    assert_eq!(found["hits"][0]["update_id"], json!(reply_id), "{found}");

    // Like any update, at most three minutes.
    let long = silent_video(dir.path(), "long", 185.0, "64x64", 5);
    let (status, refused) =
        reply_with(&bea, &server, &[("title", "Long".into()), ("reply_to", parent.clone())], &long).await;
    assert_eq!((status, refused["error"]["code"].clone()), (422, json!("too_long")), "{refused}");

    // By tus too.
    let b64 = |t: &str| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(t)
    };
    let bytes = std::fs::read(&announcement).unwrap();
    let created = bea
        .post(server.url("/api/uploads"))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", bytes.len().to_string())
        .header(
            "Upload-Metadata",
            format!("title {},reply_to {},reply_at_ms {}", b64("By tus"), b64(&parent), b64("0")),
        )
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let by_tus = created.headers()["bulletin-update-id"].to_str().unwrap().to_string();
    let (_, by_tus) = get_json(&server, &format!("/api/updates/{by_tus}")).await;
    assert_eq!((by_tus["reply_to"]["id"].clone(), by_tus["reply_to"]["at_ms"].clone()), (json!(parent), json!(0)));

    // The update answered is deleted: the reply stays, on its own.
    wait_until_done(&server, &parent, Duration::from_secs(120)).await;
    let (status, _) =
        send(&admin, reqwest::Method::DELETE, server.url(&format!("/api/updates/{parent}")), Value::Null).await;
    assert_eq!(status, 204);
    let (status, alone) = get_json(&server, &format!("/api/updates/{reply_id}")).await;
    assert_eq!((status, alone.get("reply_to").cloned()), (200, None), "{alone}");
}
