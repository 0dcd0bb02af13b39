//! Deleting an update leaves nothing behind: no row or job, no media object,
//! no index document; also when it happens while the update is processing.

use std::time::{Duration, Instant};

use crate::support::*;
use serde_json::Value;

/// What is left of update `id`: its stored keys and its jobs (`bulletin jobs list`).
async fn remains(server: &TestServer, id: &str) -> (Vec<String>, Vec<String>) {
    let keys: Vec<String> = server.stored_keys().await.into_iter().filter(|k| k.contains(id)).collect();
    let listed = server.command(&["jobs", "list", "--limit", "1000"], "");
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let jobs = String::from_utf8_lossy(&listed.stdout).lines().filter(|l| l.contains(id)).map(str::to_string).collect();
    (keys, jobs)
}

async fn found(server: &TestServer, query: &str) -> Vec<String> {
    let (_, body) = get_json(server, &format!("/api/search?q={query}")).await;
    body["hits"].as_array().unwrap().iter().map(|h| h["update_id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_deleted_update_is_gone_everywhere() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let video = speech_video(dir.path(), "gone", "The launch checklist is finished and the release ships.", 0.3);
    let (status, created) = post_update(&server, "Checklist", &video).await;
    assert_eq!(status, 202);
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(wait_until_done(&server, &id, Duration::from_secs(180)).await["status"], "ready");
    assert!(found(&server, "checklist").await.contains(&id));
    let (keys, jobs) = remains(&server, &id).await;
    assert!(!keys.is_empty() && jobs.len() == 3, "{keys:?} {jobs:?}");

    // Someone else may not delete it.
    let added = server.command(&["user", "add", "bob", "--password-stdin"], "a long enough password\n");
    assert!(added.status.success());
    let bob = signed_in_client(&server.new_token("bob"));
    let refused = bob.delete(server.url(&format!("/api/updates/{id}"))).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(refused.json::<Value>().await.unwrap()["error"]["code"], "not_allowed_to_delete");

    let deleted = server.client().delete(server.url(&format!("/api/updates/{id}"))).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    for path in ["", "/video", "/poster.jpg", "/transcript", "/transcript.vtt", "/storyboard.vtt"] {
        let (status, _) = get_json(&server, &format!("/api/updates/{id}{path}")).await;
        assert_eq!(status, 404, "{path}");
    }
    assert!(!found(&server, "checklist").await.contains(&id), "the index still has it");
    let (_, page) = get_json(&server, "/api/updates").await;
    assert_eq!(page["updates"], serde_json::json!([]));
    assert_eq!(remains(&server, &id).await, (vec![], vec![]));
    let again = server.client().delete(server.url(&format!("/api/updates/{id}"))).send().await.unwrap();
    assert_eq!(again.status(), 404);
}

#[tokio::test]
async fn an_update_deleted_while_it_processes_leaves_nothing() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    // Long enough that transcoding and transcription are still running when it goes.
    let video = speech_video(
        dir.path(),
        "busy",
        "This update is long enough to still be processing when it is deleted. It goes on for a while, \
         about budgets, roadmaps, hiring plans and the office move, so every stage has work to do.",
        0.5,
    );
    let (status, created) = post_update(&server, "Busy", &video).await;
    assert_eq!(status, 202);
    let id = created["id"].as_str().unwrap().to_string();
    let started = Instant::now();
    loop {
        let (_, update) = get_json(&server, &format!("/api/updates/{id}")).await;
        let running = ["transcode", "transcribe"].iter().any(|k| update["stages"][k]["state"] == "running");
        if running {
            break;
        }
        assert_eq!(update["status"], "processing", "it finished before it could be deleted mid-way: {update}");
        assert!(started.elapsed() < Duration::from_secs(60), "no stage started: {update}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deleted = server.client().delete(server.url(&format!("/api/updates/{id}"))).send().await.unwrap();
    assert_eq!(deleted.status(), 204);

    // The jobs that were running find their update gone, write nothing back, and
    // remove anything they stored meanwhile.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (keys, jobs) = remains(&server, &id).await;
        if keys.is_empty() && jobs.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "left behind: {keys:?} {jobs:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(get_json(&server, &format!("/api/updates/{id}")).await.0, 404);
    // Settled: nothing reappears after the workers' next heartbeats (every 2 s
    // at most) have found their jobs gone.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(remains(&server, &id).await, (vec![], vec![]));
}
