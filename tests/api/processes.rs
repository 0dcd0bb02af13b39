//! Separate processes: an API-only server and `bulletin worker` sharing one database and media store.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::*;

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
    let video = server.client().get(server.url(&format!("/api/updates/{id}/video"))).send().await.unwrap();
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

/// `--log-format json`: one JSON object per line, and each request's lines carry
/// its request id (the client's `X-Request-Id`, echoed back, or a new one).
#[tokio::test]
async fn json_logs_carry_the_request_id() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let mut cmd = Command::new(bulletin_exe());
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("BULLETIN_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap());
    if let Some(url) = fresh_database_url() {
        cmd.env("BULLETIN_DATABASE_URL", url);
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let base = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("bulletin listening on ").map(str::to_string))
        .expect("server address");

    // Refused at the door (this server has no accounts), and still traced.
    let response = anonymous_client()
        .get(format!("{base}/api/updates/nosuchupdate"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
    let generated = anonymous_client().get(format!("{base}/healthz")).send().await.unwrap();
    assert!(!generated.headers()["x-request-id"].is_empty(), "a request without an id gets one");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = child.kill();
    let _ = child.wait();

    let log = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(!lines.is_empty());
    let tagged = lines.iter().any(|line| line.to_string().contains("\"request_id\":\"trace-me-42\""));
    assert!(tagged, "no log line carries the request id:\n{log}");
}

/// A worker whose host clock runs ten minutes ahead must not take a job whose
/// lease, given by another worker, is still alive: leases run on the database's clock.
#[tokio::test]
async fn a_worker_with_a_fast_clock_does_not_steal_live_leases() {
    let server = TestServer::start_with(&["--workers", "0"], &[]);
    let start_worker = |fault: &str| {
        let dir = tempfile::tempdir().unwrap();
        let mut worker = Command::new(bulletin_exe());
        worker.arg("worker").arg("--data-dir").arg(dir.path()).args(["--job-lease-secs", "60"]);
        worker.env("BULLETIN_LOG", "warn").env("BULLETIN_FAULT", fault).envs(server.shared_envs());
        (worker.stdout(Stdio::null()).spawn().expect("start bulletin worker"), dir)
    };
    let dir = tempfile::tempdir().unwrap();
    let video = silent_video(dir.path(), "leased", 2.0, "160x120", 10);
    let (status, accepted) = post_update(&server, "Leased", &video).await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_str().unwrap().to_string();

    // The first worker takes the transcode and holds it (its step hangs), renewing its lease.
    let (mut holder, _holder_dir) = start_worker("hang:transcode");
    let started = std::time::Instant::now();
    loop {
        let (_, update) = get_json(&server, &format!("/api/updates/{id}")).await;
        if update["stages"]["transcode"]["state"] == "running" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the transcode never started: {update}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A second worker, ten minutes ahead, looks for work for a while.
    let (mut fast, _fast_dir) = start_worker("skew:600000");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (_, update) = get_json(&server, &format!("/api/updates/{id}")).await;
    for worker in [&mut holder, &mut fast] {
        let _ = worker.kill();
        let _ = worker.wait();
    }
    assert_eq!(update["stages"]["transcode"]["state"], "running", "{update}");
    assert_eq!(update["stages"]["transcode"]["attempts"], 1, "the fast clock took a live lease: {update}");
    // The work that was free got done.
    assert_eq!(update["stages"]["transcribe"]["state"], "done", "{update}");
}
