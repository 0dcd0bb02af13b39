//! Private channels: for someone outside one, its updates do not exist, on
//! every route that takes an update id (generated from the OpenAPI document,
//! so a route added later is checked too), in lists and in search, prefix
//! and typo matching included; its members see them; taken out, a member
//! loses them at once; an update moved in or out changes audience at once.

use std::time::Duration;

use crate::support::*;
use serde_json::{json, Value};

const SECRET_WORDS: &str = "The confidential reorganization starts on Monday.";
const OPEN_WORDS: &str = "The cafeteria menu changes on Monday.";

/// The longest word whisper heard in an update (the test searches for what
/// was transcribed, not for what espeak was asked to say).
async fn longest_word(server: &TestServer, id: &str) -> String {
    let (_, transcript) = get_json(server, &format!("/api/updates/{id}/transcript")).await;
    let text: String = transcript["segments"].as_array().unwrap().iter().map(|s| s["text"].as_str().unwrap()).collect();
    let words = text.split(|c: char| !c.is_alphabetic()).filter(|w| w.len() >= 6);
    words.max_by_key(|w| w.len()).expect("a long word in the transcript").to_lowercase()
}

async fn post_to(server: &TestServer, channel: &str, title: &str, words: &str, dir: &std::path::Path) -> String {
    let video = speech_video(dir, title, words, 0.3);
    let form = reqwest::multipart::Form::new()
        .text("title", title.to_string())
        .text("channel", channel.to_string())
        .part("file", reqwest::multipart::Part::bytes(std::fs::read(&video).unwrap()).file_name("v.mp4"));
    let response = server.client().post(server.url("/api/updates")).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 202);
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let done = wait_until_done(server, &id, Duration::from_secs(180)).await;
    assert_eq!(done["status"], "ready", "{done}");
    id
}

/// Ids of the updates a search finds.
async fn found(client: &reqwest::Client, server: &TestServer, query: &str) -> Vec<String> {
    let url = reqwest::Url::parse_with_params(&server.url("/api/search"), &[("q", query)]).unwrap();
    let body: Value = client.get(url).send().await.unwrap().json().await.unwrap();
    body["hits"].as_array().unwrap().iter().map(|h| h["update_id"].as_str().unwrap().to_string()).collect()
}

async fn listed(client: &reqwest::Client, server: &TestServer) -> Vec<String> {
    let body: Value = client.get(server.url("/api/updates?limit=100")).send().await.unwrap().json().await.unwrap();
    body["updates"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_private_update_does_not_exist_for_anyone_outside_its_channel() {
    let server = TestServer::start();
    let admin = server.client();
    for login in ["bob", "carol"] {
        let added = server.command(&["user", "add", login, "--password-stdin"], "a long enough password\n");
        assert!(added.status.success());
    }
    let (bob, carol) = (signed_in_client(&server.new_token("bob")), signed_in_client(&server.new_token("carol")));
    let (status, reorg) =
        send(&admin, reqwest::Method::POST, server.url("/api/channels"), json!({ "name": "Reorg", "private": true }))
            .await;
    assert_eq!((status, reorg["private"].as_bool()), (201, Some(true)), "{reorg}");
    let (status, _) =
        send(&admin, reqwest::Method::PUT, server.url("/api/channels/reorg/members/carol"), json!({})).await;
    assert_eq!(status, 204);

    let dir = tempfile::tempdir().unwrap();
    // Both titles share a word; the transcripts are searched by a word only the secret one holds.
    let secret = post_to(&server, "reorg", "Budget: reorg plan", SECRET_WORDS, dir.path()).await;
    let open = post_to(&server, "general", "Budget: cafeteria", OPEN_WORDS, dir.path()).await;
    let word = longest_word(&server, &secret).await;

    // Every operation on an update, as listed by the API's own document; one
    // on a comment names the admin's comment on the secret update.
    let (status, comment) = send(
        &admin,
        reqwest::Method::POST,
        server.url(&format!("/api/updates/{secret}/comments")),
        json!({ "body": "Keep this quiet" }),
    )
    .await;
    assert_eq!(status, 201, "{comment}");
    let comment = comment["id"].to_string();
    let (_, spec) = get_json(&server, "/api/openapi.json").await;
    let mut checked = 0;
    for (path, operations) in spec["paths"].as_object().unwrap() {
        if !path.starts_with("/api/updates/{id}") {
            continue;
        }
        for method in operations.as_object().unwrap().keys() {
            let verb = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            // A correction that is refused (empty) changes nothing, wherever it lands.
            let body = if method == "patch" { json!({ "text": "" }) } else { Value::Null };
            let url_of =
                |id: &str| server.url(&path.replace("{id}", id).replace("{index}", "0").replace("{comment}", &comment));
            let request = |client: &reqwest::Client, id: &str| {
                let request = client.request(verb.clone(), url_of(id));
                if body.is_null() {
                    request
                } else {
                    request.json(&body)
                }
            };
            let hidden = request(&bob, &secret).send().await.unwrap();
            let nothing = request(&bob, "0000000000000000").send().await.unwrap();
            assert_eq!(hidden.status(), 404, "{method} {path} shows a private update to an outsider");
            assert_eq!(nothing.status(), 404, "{method} {path}");
            let (hidden, nothing) = (hidden.text().await.unwrap(), nothing.text().await.unwrap());
            assert_eq!(hidden, nothing, "{method} {path}: a hidden update answers like a missing one");
            let member = request(&carol, &secret).send().await.unwrap();
            assert_ne!(member.status(), 404, "{method} {path} hides a private update from its member");
            assert!(member.status().as_u16() < 500, "{method} {path}: {}", member.status());
            let anonymous = request(&anonymous_client(), &secret).send().await.unwrap();
            assert_eq!(anonymous.status(), 401, "{method} {path}");
            checked += 1;
        }
    }
    assert!(checked >= 9, "only {checked} operations on an update checked");

    // Lists and channel pages.
    assert_eq!(listed(&bob, &server).await, vec![open.clone()]);
    assert_eq!(listed(&carol, &server).await, [open.clone(), secret.clone()]);
    assert_eq!(get_json(&server, "/api/updates?channel=reorg").await.0, 200, "the admin sees it");
    let as_bob = bob.get(server.url("/api/updates?channel=reorg")).send().await.unwrap();
    assert_eq!(as_bob.status(), 404);
    let (_, channels) = send(&bob, reqwest::Method::GET, server.url("/api/channels"), Value::Null).await;
    assert!(!channels.to_string().contains("reorg"), "{channels}");

    // Search: not by its words, nor by prefix, typo or in company of words that do match.
    let prefix = format!("{}*", &word[..4]);
    let mut typo: Vec<char> = word.chars().collect();
    typo.swap(2, 3);
    let typo: String = typo.into_iter().collect();
    for query in [word.clone(), prefix, typo, format!("budget {word}"), "reorg".into(), "\"reorg plan\"".into()] {
        assert!(
            !found(&bob, &server, &query).await.contains(&secret),
            "{query} finds a private update for an outsider"
        );
    }
    assert_eq!(found(&bob, &server, "budget").await, vec![open.clone()], "only the open update, a page as if alone");
    assert_eq!(found(&carol, &server, &word).await, vec![secret.clone()], "its member finds it by {word}");
    let mut both = found(&carol, &server, "budget").await;
    both.sort();
    let mut expected = vec![open.clone(), secret.clone()];
    expected.sort();
    assert_eq!(both, expected);

    // Taken out of the channel, Carol loses it at once, everywhere.
    let removed = admin.delete(server.url("/api/channels/reorg/members/carol")).send().await.unwrap();
    assert_eq!(removed.status(), 204);
    assert_eq!(carol.get(server.url(&format!("/api/updates/{secret}"))).send().await.unwrap().status(), 404);
    assert_eq!(carol.get(server.url(&format!("/api/updates/{secret}/video"))).send().await.unwrap().status(), 404);
    assert!(found(&carol, &server, &word).await.is_empty());
    assert_eq!(listed(&carol, &server).await, vec![open.clone()]);

    // Moved out of the private channel, it is visible at once, in search too;
    // moved back in, it is gone again.
    let move_to = |channel: &str| json!({ "channel": channel });
    let update_url = server.url(&format!("/api/updates/{secret}"));
    let (status, moved) = send(&admin, reqwest::Method::PATCH, update_url.clone(), move_to("General")).await;
    assert_eq!((status, moved["channel"]["slug"].as_str()), (200, Some("general")), "{moved}");
    assert_eq!(bob.get(&update_url).send().await.unwrap().status(), 200);
    assert_eq!(found(&bob, &server, &word).await, vec![secret.clone()]);
    let (status, _) = send(&admin, reqwest::Method::PATCH, update_url.clone(), move_to("reorg")).await;
    assert_eq!(status, 200);
    assert_eq!(bob.get(&update_url).send().await.unwrap().status(), 404);
    assert!(found(&bob, &server, &word).await.is_empty());
    assert_eq!(listed(&bob, &server).await, vec![open.clone()]);

    // Only its author or an admin moves an update, and only to a channel they may post in.
    let open_url = server.url(&format!("/api/updates/{open}"));
    let (status, body) = send(&bob, reqwest::Method::PATCH, open_url.clone(), move_to("general")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("not_allowed_to_move")), "{body}");
    let (status, _) = send(&admin, reqwest::Method::PATCH, open_url, move_to("nowhere")).await;
    assert_eq!(status, 404);
}
