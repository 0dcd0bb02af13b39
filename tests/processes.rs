//! Separate processes: an API-only server and `bulletin worker` sharing one database and media store.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use support::*;

#[tokio::test]
async fn a_separate_worker_process_does_the_media_work() {
    let server = TestServer::start_with(&["--workers", "0"], &[]);
    // The worker shares only the database and the media store: a data folder
    // of its own stands for another machine.
    let worker_dir = tempfile::tempdir().unwrap();
    let mut worker = Command::new(bulletin_exe());
    worker.arg("worker").arg("--data-dir").arg(worker_dir.path()).env("BULLETIN_LOG", "warn");
    worker.envs(server.shared_envs());
    let dir = tempfile::tempdir().unwrap();
    let video = speech_video(dir.path(), "remote", "Our office moves to the fourth floor next month.", 0.5);

    // With no worker running, the API-only server accepts but does not process.
    let (status, accepted) = post_update(&server, "Office move", &video).await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, waiting) = get_json(&server, &format!("/api/updates/{id}")).await;
    assert_eq!(waiting["stages"]["transcode"]["state"], "queued", "{waiting}");

    let mut worker = worker.stdout(Stdio::null()).spawn().expect("start bulletin worker");
    let update = wait_until_done(&server, &id, Duration::from_secs(120)).await;
    let _ = worker.kill();
    let _ = worker.wait();
    assert_eq!(update["status"], "ready", "{update}");
    // The worker's outputs reached the server through the store.
    let video = client().get(server.url(&format!("/api/updates/{id}/video"))).send().await.unwrap();
    assert_eq!(video.status(), 200);
    assert!(video.bytes().await.unwrap().len() > 1000);
    let (_, found) = get_json(&server, "/api/search?q=floor").await;
    assert_eq!(found["hits"][0]["update_id"], id.as_str(), "{found}");
}

#[tokio::test]
async fn a_lost_search_index_is_rebuilt_from_the_database() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let video = speech_video(dir.path(), "lost", "The vendor contract renews in September.", 0.5);
    let (_, accepted) = post_update(&server, "Contracts", &video).await;
    let id = accepted["id"].as_str().unwrap().to_string();
    assert_eq!(wait_until_done(&server, &id, Duration::from_secs(120)).await["status"], "ready");

    // Stop, delete the index with the CLI, start again: the new index catches up from the feed.
    let mut reindex = Command::new(bulletin_exe());
    reindex.args(["reindex", "--from-scratch", "--data-dir"]).arg(&server.data_dir);
    if let Some(url) = &server.database_url {
        reindex.env("BULLETIN_DATABASE_URL", url);
    }
    let mut server = server;
    server.kill();
    let output = reindex.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!server.data_dir.join("index").exists(), "the index folder should be gone");
    let server = server.kill_and_restart(&[], &[]);
    let started = std::time::Instant::now();
    loop {
        let (_, found) = get_json(&server, "/api/search?q=contract").await;
        if found["hits"][0]["update_id"] == id.as_str() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "index never caught up: {found}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[test]
fn config_prints_the_effective_settings_with_secrets_redacted() {
    let output = Command::new(bulletin_exe())
        .args(["config", "--workers", "3"])
        .env("BULLETIN_DATABASE_URL", "postgres://app:hunter2@db.internal/bulletin")
        .env("BULLETIN_MAX_FPS", "60")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("workers = 3"), "{text}");
    assert!(text.contains("max_fps = 60.0"), "{text}");
    assert!(text.contains("postgres://app:***@db.internal/bulletin"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}
