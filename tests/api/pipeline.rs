//! Post, process, find: the whole pipeline through the HTTP API of the real binary.

use std::time::Duration;

use serde_json::Value;

use crate::support::*;

const SCRIPT: &str = "Good morning team. The quarterly roadmap review moves to Thursday afternoon. \
                      Please read the budget proposal before the meeting, and bring your questions about hiring.";

#[tokio::test]
async fn posted_update_becomes_playable_transcribed_and_searchable() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let video = speech_video(dir.path(), "update", SCRIPT, 2.0);

    let (status, accepted) = post_update(&server, "Monday update", &video).await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["status"], "processing");
    let id = accepted["id"].as_str().expect("id").to_string();

    let update = wait_until_done(&server, &id, Duration::from_secs(180)).await;
    assert_eq!(update["status"], "ready", "{update}");
    assert_eq!(update["title"], "Monday update");
    for stage in ["transcode", "transcribe", "index"] {
        assert_eq!(update["stages"][stage]["state"], "done", "{update}");
    }
    let duration_ms = update["duration_ms"].as_i64().unwrap();
    assert!((9_000..20_000).contains(&duration_ms), "duration {duration_ms}");

    // The transcript says what was spoken.
    let (status, transcript) = get_json(&server, &format!("/api/updates/{id}/transcript")).await;
    assert_eq!(status, 200);
    let segments = transcript["segments"].as_array().expect("segments");
    assert!(!segments.is_empty());
    let text: Vec<&str> = segments.iter().map(|s| s["text"].as_str().unwrap()).collect();
    let wer = word_error_rate(SCRIPT, &text.join(" "));
    assert!(wer <= 0.25, "word error rate {wer:.2} too high: {text:?}");
    // Speech starts after two seconds of silence.
    assert!(segments[0]["start_ms"].as_i64().unwrap() >= 1_000, "{}", segments[0]);

    // Search lands inside the segment where the word was said.
    let (status, found) = get_json(&server, "/api/search?q=roadmap").await;
    assert_eq!(status, 200);
    let hit = &found["hits"][0];
    assert_eq!(hit["update_id"], id.as_str(), "{found}");
    let m = &hit["matches"][0];
    assert!(m["snippet"].as_str().unwrap().to_lowercase().contains("<mark>roadmap</mark>"), "{m}");
    let said = segments
        .iter()
        .find(|s| s["text"].as_str().unwrap().to_lowercase().contains("roadmap"))
        .expect("a segment says roadmap");
    let start = m["start_ms"].as_i64().unwrap();
    assert!(start >= said["start_ms"].as_i64().unwrap() && start < said["end_ms"].as_i64().unwrap(), "{m} vs {said}");

    // Phrases, prefixes and typos.
    for query in ["\"budget proposal\"", "quarter", "roadmpa", "hirin"] {
        let (_, found) = get_json(&server, &format!("/api/search?q={}", urlencode(query))).await;
        assert_eq!(found["hits"][0]["update_id"], id.as_str(), "query {query}: {found}");
    }
    let (_, none) = get_json(&server, "/api/search?q=%22budget%20thursday%22").await;
    assert_eq!(none["hits"].as_array().unwrap().len(), 0, "words not adjacent: {none}");

    // Captions.
    let vtt = server.client().get(server.url(&format!("/api/updates/{id}/transcript.vtt"))).send().await.unwrap();
    assert_eq!(vtt.headers()["content-type"], "text/vtt; charset=utf-8");
    let vtt = vtt.text().await.unwrap();
    assert!(vtt.starts_with("WEBVTT\n\n1\n00:00:0"), "{vtt}");
    let srt = server
        .client()
        .get(server.url(&format!("/api/updates/{id}/transcript.srt")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(srt.starts_with("1\n00:00:0") && srt.contains(" --> "), "{srt}");

    // The playable video, whole and by range.
    let full = server.client().get(server.url(&format!("/api/updates/{id}/video"))).send().await.unwrap();
    assert_eq!(full.status(), 200);
    assert_eq!(full.headers()["content-type"], "video/mp4");
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    let full = full.bytes().await.unwrap();
    assert_eq!(&full[4..8], b"ftyp");
    let ranged = server
        .client()
        .get(server.url(&format!("/api/updates/{id}/video")))
        .header("range", "bytes=100-1099")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.headers()["content-range"], format!("bytes 100-1099/{}", full.len()).as_str());
    assert_eq!(ranged.bytes().await.unwrap(), full.slice(100..1100));
    let beyond = server
        .client()
        .get(server.url(&format!("/api/updates/{id}/video")))
        .header("range", format!("bytes={}-", full.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), 416);

    // Poster and storyboard are JPEGs; the storyboard track points into the sprite.
    for path in ["poster.jpg", "storyboard.jpg"] {
        let image = server.client().get(server.url(&format!("/api/updates/{id}/{path}"))).send().await.unwrap();
        assert_eq!(image.headers()["content-type"], "image/jpeg");
        assert_eq!(&image.bytes().await.unwrap()[..2], &[0xFF, 0xD8]);
    }
    let board = server
        .client()
        .get(server.url(&format!("/api/updates/{id}/storyboard.vtt")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(board.contains("storyboard.jpg#xywh=0,0,"), "{board}");

    // What the server measured along the way, for Prometheus.
    let metrics = server.client().get(server.url("/metrics")).send().await.unwrap();
    assert!(metrics.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let metrics = metrics.text().await.unwrap();
    let upload_route =
        r#"bulletin_http_request_duration_seconds_count{method="POST",route="/api/updates",status="202"} 1"#;
    assert!(metrics.contains(upload_route), "{metrics}");
    assert!(metrics.contains(r#"route="/api/updates/{id}/video",status="206""#), "{metrics}");
    for kind in ["transcode", "transcribe", "index"] {
        let done = format!(r#"bulletin_job_duration_seconds_count{{kind="{kind}",outcome="done"}} 1"#);
        assert!(metrics.contains(&done), "{kind}: {metrics}");
    }
    assert!(metrics.contains("bulletin_transcription_real_time_factor_count{} 1"), "{metrics}");
    assert!(metrics.contains("bulletin_search_index_lag_changes 0"), "{metrics}");
    assert!(!metrics.contains("bulletin_queue_jobs{"), "nothing is left in the queue: {metrics}");
}

/// A file browsers play as it is (H.264/AAC MP4, VP9/Opus WebM) plays from the
/// moment it is accepted, before its MP4 exists; any other waits for the MP4.
#[tokio::test]
async fn a_browser_playable_upload_plays_before_it_is_transcoded() {
    // No workers: nothing is transcoded until the restart below.
    let server = TestServer::start_with(&["--workers", "0"], &[]);
    let dir = tempfile::tempdir().unwrap();
    let mp4 = tone_video(dir.path(), "recorded", 2.0, "160x120", 10);
    let vp9 =
        ["-c:v", "libvpx-vp9", "-pix_fmt", "yuv420p", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus"];
    let webm = clip_as(dir.path(), "recorded", "webm", &vp9);
    let avi = clip_as(dir.path(), "camera", "avi", &["-c:v", "mpeg4", "-c:a", "pcm_s16le"]);
    let mut posted = Vec::new();
    for (file, plays_as) in [(&mp4, Some("video/mp4")), (&webm, Some("video/webm")), (&avi, None)] {
        let (status, accepted) = post_update(&server, "Early", file).await;
        assert_eq!(status, 202, "{accepted}");
        let id = accepted["id"].as_str().unwrap().to_string();
        let (_, update) = get_json(&server, &format!("/api/updates/{id}")).await;
        assert_eq!(update["status"], "processing", "{update}");
        assert_eq!(update["links"]["original"], format!("/api/updates/{id}/original"), "{update}");
        let get = |link: &str, range: &'static str| {
            server.client().get(server.url(&format!("/api/updates/{id}/{link}"))).header("range", range).send()
        };
        let video = get("video", "bytes=0-99").await.unwrap();
        assert_eq!(video.status(), 409, "no MP4 yet");
        let original = get("original", "bytes=0-99").await.unwrap();
        match plays_as {
            Some(content_type) => {
                assert_eq!(update["playable"], "original", "{update}");
                assert_eq!(original.status(), 206, "{}", file.display());
                assert_eq!(original.headers()["content-type"], content_type);
                let sent = std::fs::read(file).unwrap();
                assert_eq!(original.bytes().await.unwrap(), &sent[..100], "the upload's own first bytes");
            }
            None => {
                assert!(update.get("playable").is_none(), "{update}");
                let status = original.status();
                let body: Value = original.json().await.unwrap();
                assert_eq!((status.as_u16(), body["error"]["code"].as_str()), (409, Some("not_playable")), "{body}");
            }
        }
        posted.push(id);
    }

    // Transcoded, the MP4 is what plays; the original stays for those that had it.
    let server = server.kill_and_restart(&[], &[]);
    for id in &posted {
        let update = wait_until_done(&server, id, Duration::from_secs(120)).await;
        assert_eq!(
            (update["status"].as_str(), update["playable"].as_str()),
            (Some("ready"), Some("video")),
            "{update}"
        );
    }
    let original =
        server.client().get(server.url(&format!("/api/updates/{}/original", posted[0]))).send().await.unwrap();
    assert_eq!(original.status(), 200);
}

#[tokio::test]
async fn video_without_audio_is_ready_with_an_empty_transcript() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let video = silent_video(dir.path(), "silent", 3.0, "320x240", 15);
    let (status, accepted) = post_update(&server, "Screen only", &video).await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["has_audio"], false);
    let update = wait_until_done(&server, accepted["id"].as_str().unwrap(), Duration::from_secs(120)).await;
    assert_eq!(update["status"], "ready", "{update}");
    let (_, transcript) =
        get_json(&server, &format!("/api/updates/{}/transcript", update["id"].as_str().unwrap())).await;
    assert_eq!(transcript["segments"].as_array().unwrap().len(), 0);
    // Still findable by title.
    let (_, found) = get_json(&server, "/api/search?q=screen").await;
    assert_eq!(found["hits"][0]["update_id"], update["id"], "{found}");
}

#[tokio::test]
async fn list_is_newest_first_and_paginated() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let video = silent_video(dir.path(), "clip", 1.0, "160x120", 10);
    let mut ids = Vec::new();
    for title in ["first", "second", "third"] {
        let (status, body) = post_update(&server, title, &video).await;
        assert_eq!(status, 202, "{body}");
        ids.push(body["id"].as_str().unwrap().to_string());
    }
    let (_, page) = get_json(&server, "/api/updates?limit=2").await;
    let titles: Vec<&str> = page["updates"].as_array().unwrap().iter().map(|u| u["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["third", "second"]);
    let next = page["next"].as_str().expect("a next cursor");
    let (_, rest) = get_json(&server, &format!("/api/updates?limit=2&before={next}")).await;
    let titles: Vec<&str> = rest["updates"].as_array().unwrap().iter().map(|u| u["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["first"]);
    assert!(rest["next"].is_null());
}

#[tokio::test]
async fn cli_posts_waits_and_searches() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let video =
        speech_video(dir.path(), "cli", "The launch checklist is finished and the release ships on Friday.", 0.5);
    // Without a token the server refuses, and the command line says what to do.
    let refused = tokio::process::Command::new(bulletin_exe())
        .args(["post", "--title", "Release news", "--server", &server.base])
        .arg(&video)
        .env_remove("BULLETIN_TOKEN")
        .output()
        .await
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("BULLETIN_TOKEN"), "{refused:?}");

    let post = tokio::process::Command::new(bulletin_exe())
        .args(["post", "--title", "Release news", "--server", &server.base])
        .arg(&video)
        .env("BULLETIN_TOKEN", &server.token)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&post.stdout);
    assert!(post.status.success(), "post failed: {stdout} {}", String::from_utf8_lossy(&post.stderr));
    assert!(stdout.contains("ready:"), "{stdout}");
    let search = tokio::process::Command::new(bulletin_exe())
        .args(["search", "checklist", "--server", &server.base, "--token", &server.token])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&search.stdout);
    assert!(search.status.success());
    assert!(stdout.contains("Release news") && stdout.contains("?t="), "{stdout}");
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn readiness_reports_each_dependency() {
    let server = TestServer::start();
    let (status, body) = get_json(&server, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    for dependency in ["database", "storage", "model"] {
        assert_eq!(body[dependency], "ok", "{body}");
    }

    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-model.bin");
    let unready = TestServer::start_with(&["--whisper-model", missing.to_str().unwrap()], &[]);
    let (status, body) = get_json(&unready, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["database"], "ok", "{body}");
    // Said, not explained: the path and the reason are for the log, not for anyone who asks.
    assert_eq!(body["model"], "unavailable", "{body}");
    assert!(!body.to_string().contains("no-such-model"), "{body}");
    // Alive all the same: it still takes uploads, which wait for a model.
    assert_eq!(get_json(&unready, "/healthz").await.0, 200);
}

/// The OpenAPI document is generated from the handlers; every operation it lists
/// must be routed (not the API's 404 fallback, not 405), so it cannot describe
/// endpoints that do not exist.
#[tokio::test]
async fn the_openapi_document_lists_only_routed_operations() {
    let server = TestServer::start();
    let (status, spec) = get_json(&server, "/api/openapi.json").await;
    assert_eq!(status, 200);
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."), "{spec}");
    let paths = spec["paths"].as_object().unwrap();
    for required in
        ["/api/updates", "/api/updates/{id}", "/api/search", "/api/uploads", "/api/uploads/{id}", "/metrics"]
    {
        assert!(paths.contains_key(required), "{required} missing from the document");
    }
    assert!(spec["components"]["schemas"]["UpdateView"]["properties"]["stages"].is_object(), "{spec}");
    let mut checked = 0;
    for (path, operations) in paths {
        let url = server.url(&path.replace("{id}", "0000000000000000"));
        for method in operations.as_object().unwrap().keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = server.client().request(method.clone(), &url).send().await.unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            assert_ne!(status, 405, "{method} {path} is documented but not routed");
            assert!(!body.contains("no such API endpoint"), "{method} {path} is documented but not routed");
            checked += 1;
        }
    }
    assert!(checked >= 19, "only {checked} operations checked");
}
