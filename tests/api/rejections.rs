//! Bad input gets a clear error and leaves nothing behind.

use crate::support::*;
use serde_json::Value;

/// The update list is empty and no media or temporary file exists.
async fn assert_nothing_stored(server: &TestServer) {
    let (_, list) = get_json(server, "/api/updates").await;
    assert_eq!(list["updates"].as_array().unwrap().len(), 0, "{list}");
    let stored = server.stored_keys().await;
    assert!(stored.is_empty(), "media objects left behind: {stored:?}");
    let leftovers: Vec<_> = files_under(&server.data_dir.join("media"))
        .into_iter()
        .chain(files_under(&server.data_dir.join("tmp")))
        .collect();
    assert!(leftovers.is_empty(), "files left behind: {leftovers:?}");
    let (status, _) = get_json(server, "/healthz").await;
    assert_eq!(status, 200, "server unhealthy after a rejection");
}

fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(!body["error"]["message"].as_str().unwrap_or_default().is_empty(), "{body}");
}

#[tokio::test]
async fn video_over_three_minutes_is_rejected_with_its_measured_duration() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let long = silent_video(dir.path(), "long", 185.0, "64x64", 5);
    let (status, body) = post_update(&server, "Too long", &long).await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "too_long");
    assert!(body["error"]["message"].as_str().unwrap().contains("3:05 long"), "{body}");
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn text_file_named_mp4_is_rejected() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("notes.mp4");
    std::fs::write(&fake, "These are my meeting notes, not a video.\n".repeat(50)).unwrap();
    let (status, body) = post_update(&server, "Fake", &fake).await;
    assert_eq!(status, 415, "{body}");
    assert_error(&body, "unsupported_media");
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn bad_forms_get_json_errors() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let video = silent_video(dir.path(), "ok", 1.0, "160x120", 10);

    // Empty title.
    let (status, body) = post_update(&server, "   ", &video).await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "invalid_title");

    // Not multipart at all.
    let response = server
        .client()
        .post(server.url("/api/updates"))
        .body("hello")
        .header("content-type", "text/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    assert_error(&response.json().await.unwrap(), "bad_content_type");

    // No file field.
    let form = reqwest::multipart::Form::new().text("title", "No file");
    let response = server.client().post(server.url("/api/updates")).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert_error(&response.json().await.unwrap(), "missing_file");

    // Unknown ids and endpoints.
    let (status, body) = get_json(&server, "/api/updates/0000000000000000").await;
    assert_eq!(status, 404);
    assert_error(&body, "not_found");
    let (status, body) = get_json(&server, "/api/updates/..%2F..%2Fetc").await;
    assert_eq!(status, 404);
    assert_error(&body, "not_found");
    let (status, body) = get_json(&server, "/api/nope").await;
    assert_eq!(status, 404);
    assert_error(&body, "not_found");

    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn upload_over_the_byte_cap_is_rejected() {
    let server = TestServer::start_with(&["--max-upload-bytes", "100000"], &[]);
    let dir = tempfile::tempdir().unwrap();
    let video = tone_video(dir.path(), "big", 6.0, "640x360", 25);
    assert!(std::fs::metadata(&video).unwrap().len() > 100_000);
    let (status, body) = post_update(&server, "Big", &video).await;
    assert_eq!(status, 413, "{body}");
    assert_error(&body, "too_large");
    assert_nothing_stored(&server).await;
}

/// Post raw bytes as the `file` field with a chosen client filename.
async fn post_bytes(server: &TestServer, file_name: &str, bytes: Vec<u8>) -> (u16, Value) {
    let form = reqwest::multipart::Form::new()
        .text("title", "Hostile")
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string()));
    let response = server.client().post(server.url("/api/updates")).multipart(form).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn hostile_files_are_refused_and_leave_nothing() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let good = tone_video(dir.path(), "good", 3.0, "320x240", 15);
    let good_bytes = std::fs::read(&good).unwrap();

    // Empty file.
    let (status, body) = post_bytes(&server, "empty.mp4", Vec::new()).await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "unsupported_media");

    // Random bytes.
    let noise: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let (status, body) = post_bytes(&server, "noise.mp4", noise).await;
    assert_eq!(status, 415, "{body}");
    assert_error(&body, "unsupported_media");

    // A truncated MP4 without its `moov` (not faststart: moov at the end, cut off).
    let slow_start = dir.path().join("moov-last.mp4");
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(&good)
        .args(["-c", "copy"])
        .arg(&slow_start)
        .status()
        .unwrap();
    assert!(status.success());
    let whole = std::fs::read(&slow_start).unwrap();
    let (status, body) = post_bytes(&server, "cut.mp4", whole[..whole.len() / 2].to_vec()).await;
    assert_eq!(status, 415, "{body}");
    assert_error(&body, "unsupported_media");

    // Audio only, in a container that can hold video (so the demuxer opens it).
    let wav = speech_wav(dir.path(), "voice", "Only my voice is here.");
    let m4a = dir.path().join("voice.m4a");
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(&wav)
        .args(["-c:a", "aac"])
        .arg(&m4a)
        .status()
        .unwrap();
    assert!(status.success());
    let (status, body) = post_bytes(&server, "voice.m4a", std::fs::read(&m4a).unwrap()).await;
    assert_eq!(status, 415, "{body}");
    assert_error(&body, "unsupported_media");
    assert!(body["error"]["message"].as_str().unwrap().contains("no video"), "{body}");

    // A playlist that points at a real local file and at a URL: only the upload itself may be read.
    let target = dir.path().join("segment.ts");
    std::fs::copy(&good, &target).unwrap();
    let playlist = format!(
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3.0,\n{}\n#EXTINF:3.0,\nhttp://127.0.0.1:9/x.ts\n#EXT-X-ENDLIST\n",
        target.display()
    );
    let (status, body) = post_bytes(&server, "list.m3u8", playlist.into_bytes()).await;
    assert_eq!(status, 415, "{body}");
    let concat = format!("ffconcat version 1.0\nfile '{}'\n", good.display());
    let (status, body) = post_bytes(&server, "list.ffconcat", concat.into_bytes()).await;
    assert_eq!(status, 415, "{body}");

    // A client filename that tries to escape: ignored, the upload is stored under our own name.
    let (status, body) = post_bytes(&server, "../../../../etc/evil.mp4", good_bytes).await;
    assert_eq!(status, 202, "{body}");
    assert!(!dir.path().join("etc").exists());
    let stored: Vec<_> =
        files_under(&server.data_dir).into_iter().filter(|p| p.to_string_lossy().contains("evil")).collect();
    assert!(stored.is_empty(), "client filename reached the disk: {stored:?}");
    let keys = server.stored_keys().await;
    assert!(
        keys.iter().all(|k| !k.contains("evil") && !k.contains("..")),
        "client filename reached the store: {keys:?}"
    );

    let (status, _) = get_json(&server, "/healthz").await;
    assert_eq!(status, 200);
    let leftovers = files_under(&server.data_dir.join("tmp").join("uploads"));
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn frames_over_the_pixel_cap_are_refused() {
    let server = TestServer::start_with(&["--max-pixels", "10000"], &[]);
    let dir = tempfile::tempdir().unwrap();
    let video = silent_video(dir.path(), "wide", 1.0, "320x240", 10);
    let (status, body) = post_update(&server, "Wide", &video).await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "too_large_dimensions");
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn a_header_that_lies_about_duration_does_not_get_through() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    // 200 s of tiny video, written to a pipe: the WebM header carries no duration at all.
    let out = dir.path().join("no-duration.webm");
    let file = std::fs::File::create(&out).unwrap();
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=5", "-t", "200"])
        .args(["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "20k", "-f", "webm", "pipe:1"])
        .stdout(file)
        .status()
        .unwrap();
    assert!(status.success());
    let (status, body) = post_update(&server, "Sneaky", &out).await;
    assert_eq!(status, 422, "{body}");
    assert_error(&body, "too_long");
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn a_stalled_upload_times_out_and_leaves_nothing() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start_with(&["--upload-idle-timeout-secs", "1"], &[]);
    let address = server.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/updates HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: 100000\r\n\r\n\
         --XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n\r\nabc",
        server.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // Then nothing: the server must give up on its own.
    let mut reply = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(20), stream.read_to_end(&mut reply)).await;
    assert!(read.is_ok(), "the server kept waiting for a stalled client");
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("upload_timeout"), "{reply}");
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn an_announced_oversized_body_is_refused_before_it_is_read() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start_with(&["--max-upload-bytes", "1000000"], &[]);
    let address = server.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/updates HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: 50000000000\r\n\r\n",
        server.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut reply = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut reply))
        .await
        .expect("prompt answer")
        .unwrap();
    let reply = String::from_utf8_lossy(&reply[..n]);
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(reply.contains("too_large"), "{reply}");
}

#[tokio::test]
async fn a_too_long_faststart_mp4_is_refused_while_its_multipart_upload_is_still_arriving() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let long = long_faststart_mp4(dir.path());
    let bytes = std::fs::read(&long).unwrap();
    assert_refused_before_the_last_byte(&server, &bytes, bytes.len() / 2).await;
}

#[tokio::test]
async fn a_streamed_webm_is_refused_once_the_part_received_runs_past_the_limit() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    // Ten minutes written to a pipe, as a live recorder does: no duration in the
    // header, so only the packets received so far can tell.
    let out = dir.path().join("live.webm");
    let file = std::fs::File::create(&out).unwrap();
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=96x64:rate=5,noise=alls=80:allf=t",
        ])
        .args(["-t", "600", "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "80k"])
        .args(["-f", "webm", "pipe:1"])
        .stdout(file)
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.len() > 3_000_000, "fixture too small: {} bytes", bytes.len());
    // 60 % of ten minutes is six: well past three, and far from the last byte.
    assert_refused_before_the_last_byte(&server, &bytes, bytes.len() * 6 / 10).await;
}

/// Post `bytes` as a multipart update but send only `sent` of them; the refusal must
/// come anyway, and leave nothing behind.
async fn assert_refused_before_the_last_byte(server: &TestServer, bytes: &[u8], sent: usize) {
    let preamble = "--XX\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nFour minutes\r\n\
                    --XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"long.mp4\"\r\n\r\n";
    let request_head = format!(
        "POST /api/updates HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: {}\r\n\r\n{preamble}",
        server.token,
        preamble.len() + bytes.len() + "\r\n--XX--\r\n".len()
    );
    let reply = answer_before_the_last_byte(server, &request_head, &bytes[..sent]).await;
    assert!(reply.starts_with("HTTP/1.1 422"), "{reply}");
    assert!(reply.contains("too_long"), "{reply}");
    assert_nothing_stored(server).await;
}

#[tokio::test]
async fn a_form_stuffed_with_other_fields_is_refused() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let video = silent_video(dir.path(), "ok", 1.0, "64x64", 5);
    let mut form = reqwest::multipart::Form::new().text("title", "Stuffed");
    for n in 0..100 {
        form = form.text(format!("extra{n}"), "x".repeat(1024));
    }
    form = form.part("file", reqwest::multipart::Part::bytes(std::fs::read(&video).unwrap()).file_name("ok.mp4"));
    let response = server.client().post(server.url("/api/updates")).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 413);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_error(&body, "form_too_large");
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn a_trickled_upload_ends_at_its_deadline_and_leaves_nothing() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start_with(&["--upload-deadline-secs", "2", "--upload-idle-timeout-secs", "5"], &[]);
    let address = server.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/updates HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: 10000000\r\n\r\n\
         --XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n\r\n",
        server.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // A byte every 100 ms: never idle, never done.
    let started = std::time::Instant::now();
    let mut reply = vec![0u8; 4096];
    let n = loop {
        assert!(started.elapsed() < std::time::Duration::from_secs(15), "the server took the trickle for ever");
        if stream.write_all(b"x").await.is_err() {
            break stream.read(&mut reply).await.unwrap_or(0);
        }
        if let Ok(read) = tokio::time::timeout(std::time::Duration::from_millis(100), stream.read(&mut reply)).await {
            break read.unwrap();
        }
    };
    let reply = String::from_utf8_lossy(&reply[..n]);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(reply.contains("upload_too_slow"), "{reply}");
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn headers_sent_too_slowly_lose_the_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start_with(&["--header-read-timeout-secs", "1"], &[]);
    let address = server.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    // Half a request line, then nothing, as a Slowloris client does.
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut reply = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut reply)).await;
    assert!(read.is_ok(), "the server kept the half-sent request open");
    // Complete requests are served as ever.
    let (status, _) = get_json(&server, "/healthz").await;
    assert_eq!(status, 200);
}

/// A real container holding a codec no camera, phone or browser records (FFV1,
/// an archival lossless codec): its decoder is never reached, so it is refused
/// like a file without video. Refused before the transcoder, not by it.
#[tokio::test]
async fn video_in_a_codec_outside_the_decoder_list_is_refused() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let archival = dir.path().join("archival.mkv");
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=5"])
        .args(["-t", "1", "-c:v", "ffv1"])
        .arg(&archival)
        .status()
        .unwrap();
    assert!(status.success());
    let (status, body) = post_update(&server, "Archival", &archival).await;
    assert_eq!(status, 415, "{body}");
    assert_error(&body, "unsupported_media");
    assert_nothing_stored(&server).await;
}
