//! Faults: killed servers, crashing and hanging media steps. Nothing is lost,
//! nothing is duplicated, the server stays healthy.

use std::time::{Duration, Instant};

use crate::support::*;
use serde_json::Value;

const SCRIPT: &str = "The design review is on Wednesday. Bring the prototype and the usability notes.";

/// Wait until the update's `stage` is running (the fault switch then holds it there).
async fn wait_for_stage(server: &TestServer, id: &str, stage: &str) {
    let started = Instant::now();
    loop {
        let (_, update) = get_json(server, &format!("/api/updates/{id}")).await;
        if update["stages"][stage]["state"] == "running" {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{stage} never started: {update}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Post, kill -9 the server while `stage` is stuck, restart without the fault,
/// and check the update completes with exactly one copy of every output.
async fn survives_kill_during(stage: &str) {
    let lease = ["--job-lease-secs", "2"];
    let fault = format!("hang:{stage}");
    let first = TestServer::start_with(&lease, &[("BULLETIN_FAULT", &fault)]);
    let dir = tempfile::tempdir().unwrap();
    let video = speech_video(dir.path(), "fault", SCRIPT, 0.5);
    let (status, accepted) = post_update(&first, "Design review", &video).await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_str().unwrap().to_string();
    wait_for_stage(&first, &id, stage).await;
    let second = first.kill_and_restart(&lease, &[]);
    let update = wait_until_done(&second, &id, Duration::from_secs(180)).await;
    assert_eq!(update["status"], "ready", "{update}");
    assert!(
        update["stages"][stage]["attempts"].as_i64().unwrap() >= 2,
        "the killed attempt must have been retried: {update}"
    );
    assert_exactly_one_copy(&second, &id).await;
}

async fn assert_exactly_one_copy(server: &TestServer, id: &str) {
    // One transcript: segments are not duplicated.
    let (_, transcript) = get_json(server, &format!("/api/updates/{id}/transcript")).await;
    let texts: Vec<&str> =
        transcript["segments"].as_array().unwrap().iter().map(|s| s["text"].as_str().unwrap()).collect();
    assert!(!texts.is_empty());
    let wer = word_error_rate(SCRIPT, &texts.join(" "));
    assert!(wer <= 0.3, "transcript should be said once: {texts:?}");
    // One set of media objects, all under this update, and no partial copies: the
    // source, and the outputs of the one transcode attempt the update shows.
    let stored = server.stored_keys().await;
    let attempt = stored
        .iter()
        .find_map(|key| key.strip_prefix(&format!("updates/{id}/a"))?.split_once('/').map(|(n, _)| n.to_string()))
        .expect("a transcode attempt's folder");
    let mut expected = vec![format!("updates/{id}/source")];
    expected.extend(
        ["poster.jpg", "storyboard.jpg", "video.mp4"].iter().map(|name| format!("updates/{id}/a{attempt}/{name}")),
    );
    expected.sort();
    assert_eq!(stored, expected);
    // One hit in search, whose matches are distinct segments.
    let (_, found) = get_json(server, "/api/search?q=prototype").await;
    let hits = found["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{found}");
    let starts: Vec<&Value> = hits[0]["matches"].as_array().unwrap().iter().map(|m| &m["start_ms"]).collect();
    let mut unique = starts.clone();
    unique.dedup();
    assert_eq!(starts.len(), unique.len(), "duplicate index documents: {found}");
}

#[tokio::test]
async fn kill_during_transcode_then_restart() {
    survives_kill_during("transcode").await;
}

#[tokio::test]
async fn kill_during_transcription_then_restart() {
    survives_kill_during("transcribe").await;
}

#[tokio::test]
async fn kill_during_indexing_then_restart() {
    survives_kill_during("index").await;
}

#[tokio::test]
async fn crashing_media_step_fails_its_job_and_spares_the_server() {
    let server = TestServer::start_with(&["--job-max-attempts", "2"], &[("BULLETIN_FAULT", "crash:transcode")]);
    let dir = tempfile::tempdir().unwrap();
    let video = silent_video(dir.path(), "crash", 2.0, "160x120", 10);
    let (status, accepted) = post_update(&server, "Crash", &video).await;
    assert_eq!(status, 202, "{accepted}");
    // Retries back off from 2 s; two attempts finish well within the wait.
    let update = wait_until_done(&server, accepted["id"].as_str().unwrap(), Duration::from_secs(60)).await;
    assert_eq!(update["status"], "failed", "{update}");
    // A stable code and a sentence; the crash's details (signal, stderr) stay in the log.
    assert_eq!(update["error_code"], "media_crashed", "{update}");
    assert_eq!(update["error"], "Transcoding failed: the media process crashed.", "{update}");
    assert_eq!(update["stages"]["transcode"]["error_code"], "media_crashed", "{update}");
    assert_eq!(update["stages"]["transcode"]["error"], "The media process crashed", "{update}");
    assert_eq!(update["stages"]["transcode"]["attempts"], 2, "{update}");
    let (status, _) = get_json(&server, "/healthz").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn hanging_media_step_times_out() {
    let server = TestServer::start_with(
        &["--job-max-attempts", "1", "--job-timeout-secs", "2"],
        &[("BULLETIN_FAULT", "hang:transcribe")],
    );
    let dir = tempfile::tempdir().unwrap();
    let video = silent_video(dir.path(), "hang", 2.0, "160x120", 10);
    let (_, accepted) = post_update(&server, "Hang", &video).await;
    let update = wait_until_done(&server, accepted["id"].as_str().unwrap(), Duration::from_secs(60)).await;
    assert_eq!(update["status"], "failed", "{update}");
    assert_eq!(update["error_code"], "media_timed_out", "{update}");
    assert_eq!(update["stages"]["transcribe"]["error_code"], "media_timed_out", "{update}");
    // Which stage the update names is whichever failed first: on a busy machine the
    // transcode can also run past the 2 s this test allows.
    assert!(update["error"].as_str().unwrap().ends_with(" failed: the media process timed out."), "{update}");
}

#[tokio::test]
async fn accepted_update_survives_kill_right_after_202() {
    let first = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let video = silent_video(dir.path(), "durable", 2.0, "160x120", 10);
    let (status, accepted) = post_update(&first, "Durable", &video).await;
    assert_eq!(status, 202);
    let second = first.kill_and_restart(&["--job-lease-secs", "2"], &[]);
    let update = wait_until_done(&second, accepted["id"].as_str().unwrap(), Duration::from_secs(120)).await;
    assert_eq!(update["status"], "ready", "{update}");
}

/// Transcoding runs under the idle scheduling policy, so the transcription beside it (what
/// makes an update searchable) gets the cores first. The hung transcode is caught in the act.
#[tokio::test]
async fn transcode_runs_at_idle_cpu_priority() {
    let server = TestServer::start_with(&[], &[("BULLETIN_FAULT", "hang:transcode")]);
    let dir = tempfile::tempdir().unwrap();
    let video = speech_video(dir.path(), "priority", SCRIPT, 0.5);
    let (status, accepted) = post_update(&server, "Priority", &video).await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_str().unwrap();
    // Once transcription is done, the hung transcode is the server's only media child.
    let started = Instant::now();
    loop {
        let (_, update) = get_json(&server, &format!("/api/updates/{id}")).await;
        if update["stages"]["transcribe"]["state"] == "done" && update["stages"]["transcode"]["state"] == "running" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "never reached the transcode alone: {update}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let children = child_processes(server.pid());
    assert_eq!(children.len(), 1, "expected only the transcode child: {children:?}");
    assert_eq!(children[0].1, SCHED_IDLE, "the transcode child's scheduling policy");
}

/// Linux's `SCHED_IDLE` policy number.
const SCHED_IDLE: i64 = 5;

/// (pid, scheduling policy) of the processes whose parent is `parent`, from `/proc/PID/stat`.
fn child_processes(parent: u32) -> Vec<(u32, i64)> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // Fields after the command name (which may hold spaces) start at field 3 (state).
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
        if fields[1].parse::<u32>() == Ok(parent) {
            children.push((pid, fields[38].parse().unwrap())); // field 41: policy
        }
    }
    children
}
