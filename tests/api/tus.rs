//! Resumable uploads (tus 1.0 at `/api/uploads`): cut at any byte, resumed, and
//! finished into an update with an identical file; wrong offsets, bad checksums,
//! expiry and termination.

use std::time::Duration;

use crate::support::*;
use base64::Engine;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use sha1::Digest;
use tokio::io::AsyncWriteExt;

const TUS: (&str, &str) = ("Tus-Resumable", "1.0.0");

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Create an upload of `length` bytes titled `title`; returns its path (`/api/uploads/…`).
async fn create(server: &TestServer, length: usize, title: &str) -> String {
    let response = server
        .client()
        .post(server.url("/api/uploads"))
        .header(TUS.0, TUS.1)
        .header("Upload-Length", length.to_string())
        .header("Upload-Metadata", format!("title {},filename {}", b64(title.as_bytes()), b64(b"../../x.mp4")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers().contains_key("upload-expires"));
    response.headers()["location"].to_str().unwrap().to_string()
}

async fn head(server: &TestServer, upload: &str) -> (StatusCode, HeaderMap) {
    let response = server.client().head(server.url(upload)).header(TUS.0, TUS.1).send().await.unwrap();
    (response.status(), response.headers().clone())
}

async fn offset_of(server: &TestServer, upload: &str) -> usize {
    let (status, headers) = head(server, upload).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["cache-control"], "no-store");
    headers["upload-offset"].to_str().unwrap().parse().unwrap()
}

async fn patch(
    server: &TestServer,
    upload: &str,
    offset: usize,
    chunk: &[u8],
    checksum: Option<String>,
) -> reqwest::Response {
    let mut request = server
        .client()
        .patch(server.url(upload))
        .header(TUS.0, TUS.1)
        .header("Upload-Offset", offset.to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(chunk.to_vec());
    if let Some(checksum) = checksum {
        request = request.header("Upload-Checksum", checksum);
    }
    request.send().await.unwrap()
}

/// A PATCH whose connection dies after `sent` of the chunk's bytes, as on a flaky link.
async fn cut_patch(server: &TestServer, upload: &str, offset: usize, chunk: &[u8], sent: usize) {
    let address = server.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "PATCH {upload} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nTus-Resumable: 1.0.0\r\n\
         Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: {}\r\n\r\n",
        server.token,
        chunk.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&chunk[..sent]).await.unwrap();
    stream.flush().await.unwrap();
    // Let the bytes reach the server before the link drops.
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(stream);
}

/// Tiny deterministic generator, so a failing run can be replayed from its seed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

#[tokio::test]
async fn an_upload_cut_at_random_bytes_resumes_even_across_a_restart_into_an_identical_file() {
    let mut server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let video = speech_video(dir.path(), "resumed", "The quarterly roadmap moves the launch to October.", 0.5);
    let bytes = std::fs::read(&video).unwrap();
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    eprintln!("cut points seed: {seed}");
    let mut random = Lcg(seed);

    let upload = create(&server, bytes.len(), "Roadmap, resumed").await;
    assert_eq!(offset_of(&server, &upload).await, 0);
    let mut cuts = 0;
    let mut update_id = None;
    while update_id.is_none() {
        let offset = offset_of(&server, &upload).await;
        let rest = &bytes[offset..];
        if cuts < 4 && rest.len() > 2 {
            // Cut the link somewhere inside the rest (at any byte, even the first).
            let sent = random.below(rest.len() - 1);
            cut_patch(&server, &upload, offset, rest, sent).await;
            cuts += 1;
            let resumed_at = wait_for_settled_offset(&server, &upload).await;
            assert!(resumed_at >= offset && resumed_at <= offset + sent, "{offset} + {sent} → {resumed_at}");
            if cuts == 2 {
                // Partial uploads survive the server itself dying.
                server = server.kill_and_restart(&[], &[]);
                assert_eq!(offset_of(&server, &upload).await, resumed_at);
            }
            continue;
        }
        let response = patch(&server, &upload, offset, rest, None).await;
        match response.status() {
            StatusCode::NO_CONTENT => {
                assert_eq!(response.headers()["upload-offset"], bytes.len().to_string().as_str());
                update_id = Some(response.headers()["bulletin-update-id"].to_str().unwrap().to_string());
            }
            // The server may still be finishing the cut request: ask again.
            StatusCode::LOCKED | StatusCode::CONFLICT => tokio::time::sleep(Duration::from_millis(100)).await,
            other => panic!("unexpected {other}: {}", response.text().await.unwrap_or_default()),
        }
    }
    let id = update_id.unwrap();
    // A client that lost the last response still finds its update.
    let (status, headers) = head(&server, &upload).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["bulletin-update-id"], id.as_str());

    let stored = server.stored_object(&format!("updates/{id}/source")).await;
    assert!(
        stored == bytes,
        "the resumed upload differs from the original ({} vs {} bytes)",
        stored.len(),
        bytes.len()
    );
    let update = wait_until_done(&server, &id, Duration::from_secs(120)).await;
    assert_eq!(update["status"], "ready", "{update}");
    assert_eq!(update["title"], "Roadmap, resumed");
    let (_, hits) = get_json(&server, "/api/search?q=roadmap").await;
    assert_eq!(hits["hits"][0]["update_id"], id.as_str(), "{hits}");
    let leftovers: Vec<_> = files_under(&server.data_dir.join("resumable"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    assert!(leftovers.is_empty(), "partial bytes left behind: {leftovers:?}");
}

/// The offset once the server has finished with a dropped request (two equal reads in a row).
async fn wait_for_settled_offset(server: &TestServer, upload: &str) -> usize {
    let mut last = offset_of(server, upload).await;
    loop {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let now = offset_of(server, upload).await;
        if now == last {
            return now;
        }
        last = now;
    }
}

#[tokio::test]
async fn wrong_offsets_bad_checksums_and_protocol_errors_are_refused() {
    let server = TestServer::start();
    let chunk = b"0123456789";
    let upload = create(&server, 1000, "Checks").await;

    // Wrong offset: 409, nothing written.
    let response = patch(&server, &upload, 5, chunk, None).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "offset_mismatch", "{body}");
    assert_eq!(offset_of(&server, &upload).await, 0);

    // Bad checksum: 460, the chunk is discarded.
    let wrong = format!("sha1 {}", b64(&sha1::Sha1::digest(b"something else")));
    let response = patch(&server, &upload, 0, chunk, Some(wrong)).await;
    assert_eq!(response.status().as_u16(), 460);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "checksum_mismatch", "{body}");
    assert_eq!(offset_of(&server, &upload).await, 0);

    // The right checksum (sha1 and sha256): accepted.
    let right = format!("sha1 {}", b64(&sha1::Sha1::digest(chunk)));
    let response = patch(&server, &upload, 0, chunk, Some(right)).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.headers()["upload-offset"], "10");
    let right = format!("sha256 {}", b64(&sha2::Sha256::digest(chunk)));
    let response = patch(&server, &upload, 10, chunk, Some(right)).await;
    assert_eq!(response.headers()["upload-offset"], "20");
    let response = patch(&server, &upload, 20, chunk, Some("crc32 AAAA".into())).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(offset_of(&server, &upload).await, 20);

    // More bytes than Upload-Length: refused.
    let response = patch(&server, &upload, 20, &vec![0u8; 2000], None).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Wrong content type, missing protocol header.
    let response = server
        .client()
        .patch(server.url(&upload))
        .header(TUS.0, TUS.1)
        .header("Upload-Offset", "20")
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let response = server.client().head(server.url(&upload)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(response.headers()["tus-resumable"], "1.0.0");

    // Discovery.
    let response = server.client().request(reqwest::Method::OPTIONS, server.url("/api/uploads")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let extensions = response.headers()["tus-extension"].to_str().unwrap().to_string();
    for extension in ["creation", "termination", "expiration", "checksum"] {
        assert!(extensions.split(',').any(|e| e == extension), "{extensions}");
    }
    assert!(response.headers()["tus-checksum-algorithm"].to_str().unwrap().contains("sha1"));

    // Creation refusals: over the cap, no length, a bad title.
    let too_big = server
        .client()
        .post(server.url("/api/uploads"))
        .header(TUS.0, TUS.1)
        .header("Upload-Length", (u64::MAX / 2).to_string())
        .header("Upload-Metadata", format!("title {}", b64(b"Huge")))
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let no_length = server.client().post(server.url("/api/uploads")).header(TUS.0, TUS.1).send().await.unwrap();
    assert_eq!(no_length.status(), StatusCode::BAD_REQUEST);
    let bad_title = server
        .client()
        .post(server.url("/api/uploads"))
        .header(TUS.0, TUS.1)
        .header("Upload-Length", "10")
        .header("Upload-Metadata", format!("title {}", b64(b"bell\x07")))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_title.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = get_json(&server, "/healthz").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn termination_deletes_a_partial_upload() {
    let server = TestServer::start();
    let upload = create(&server, 1000, "Never mind").await;
    assert_eq!(patch(&server, &upload, 0, &[7u8; 300], None).await.status(), StatusCode::NO_CONTENT);
    let delete = server.client().delete(server.url(&upload)).header(TUS.0, TUS.1).send().await.unwrap();
    assert_eq!(delete.status(), StatusCode::NO_CONTENT);
    assert_eq!(head(&server, &upload).await.0, StatusCode::NOT_FOUND);
    assert_eq!(patch(&server, &upload, 300, &[7u8; 10], None).await.status(), StatusCode::NOT_FOUND);
    let again = server.client().delete(server.url(&upload)).header(TUS.0, TUS.1).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert!(files_under(&server.data_dir.join("resumable")).is_empty());
}

#[tokio::test]
async fn abandoned_uploads_expire_and_are_cleaned_up() {
    let server = TestServer::start_with(&["--upload-expiry-secs", "2"], &[]);
    let upload = create(&server, 1000, "Abandoned").await;
    let response = patch(&server, &upload, 0, &[1u8; 100], None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let expires = httpdate::parse_http_date(response.headers()["upload-expires"].to_str().unwrap()).unwrap();
    assert!(expires > std::time::SystemTime::now());
    assert!(!files_under(&server.data_dir.join("resumable")).is_empty());
    // Nobody asks about it again: the server's own sweep removes it.
    let started = std::time::Instant::now();
    while !files_under(&server.data_dir.join("resumable")).is_empty() {
        assert!(started.elapsed() < Duration::from_secs(20), "expired upload never cleaned up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(head(&server, &upload).await.0, StatusCode::NOT_FOUND);
    assert_eq!(patch(&server, &upload, 100, &[1u8; 10], None).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_finished_upload_that_is_not_a_video_is_refused_and_removed() {
    let server = TestServer::start();
    let text = "meeting notes, not a video\n".repeat(100);
    let upload = create(&server, text.len(), "Notes").await;
    let response = patch(&server, &upload, 0, text.as_bytes(), None).await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unsupported_media", "{body}");
    assert_eq!(head(&server, &upload).await.0, StatusCode::NOT_FOUND);
    assert!(files_under(&server.data_dir.join("resumable")).is_empty());
    assert!(server.stored_keys().await.is_empty(), "media left in the store");
    let (_, list) = get_json(&server, "/api/updates").await;
    assert_eq!(list["updates"].as_array().unwrap().len(), 0, "{list}");
}

#[tokio::test]
async fn creation_with_upload_finishes_in_one_request() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let video = silent_video(dir.path(), "one-shot", 2.0, "160x120", 10);
    let bytes = std::fs::read(&video).unwrap();
    let response = server
        .client()
        .post(server.url("/api/uploads"))
        .header(TUS.0, TUS.1)
        .header("Upload-Length", bytes.len().to_string())
        .header("Upload-Metadata", format!("filename {}", b64(b"standup-monday.mp4")))
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["upload-offset"], bytes.len().to_string().as_str());
    let id = response.headers()["bulletin-update-id"].to_str().unwrap().to_string();
    let (status, update) = get_json(&server, &format!("/api/updates/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(update["title"], "standup-monday", "{update}");
}

#[tokio::test]
async fn a_too_long_faststart_mp4_is_refused_while_its_tus_upload_is_still_arriving() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let long = long_faststart_mp4(dir.path());
    let bytes = std::fs::read(&long).unwrap();
    let upload = create(&server, bytes.len(), "Four minutes").await;
    let half = bytes.len() / 2;
    let request_head = format!(
        "PATCH {upload} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nTus-Resumable: 1.0.0\r\n\
         Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: {}\r\n\r\n",
        server.token,
        bytes.len()
    );
    let reply = answer_before_the_last_byte(&server, &request_head, &bytes[..half]).await;
    assert!(reply.starts_with("HTTP/1.1 422"), "{reply}");
    assert!(reply.contains("too_long"), "{reply}");
    assert_eq!(head(&server, &upload).await.0, StatusCode::NOT_FOUND);
    assert!(files_under(&server.data_dir.join("resumable")).is_empty());
}

/// The final step fails for a reason that has nothing to do with the file (its
/// probe times out, as under load): the upload keeps every byte, even when the
/// client hangs up during that probe, and the same final PATCH completes it later.
#[tokio::test]
async fn a_transient_failure_at_the_end_keeps_every_byte_for_the_next_try() {
    let slow_probe = ["--job-timeout-secs", "2"];
    let server = TestServer::start_with(&slow_probe, &[("BULLETIN_FAULT", "hang:probe")]);
    let dir = tempfile::tempdir().unwrap();
    let video = tone_video(dir.path(), "kept", 2.0, "160x120", 10);
    let bytes = std::fs::read(&video).unwrap();
    let upload = create(&server, bytes.len(), "Kept through a timeout").await;

    // The client hangs up while the probe runs: the server still finishes (and keeps the bytes).
    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(500)).build().unwrap();
    let hung_up = impatient
        .patch(server.url(&upload))
        .bearer_auth(&server.token)
        .header(TUS.0, TUS.1)
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes.clone())
        .send()
        .await;
    assert!(hung_up.is_err(), "the client gave up first: {hung_up:?}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(offset_of(&server, &upload).await, bytes.len(), "every byte is still there");

    // Waiting this time: a 503 that says to try again, and still every byte.
    let response = patch(&server, &upload, bytes.len(), &[], None).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "try_again", "{body}");
    let (status, headers) = head(&server, &upload).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["upload-offset"], bytes.len().to_string().as_str());
    assert!(!headers.contains_key("bulletin-update-id"));
    let (_, listed) = get_json(&server, "/api/updates").await;
    assert_eq!(listed["updates"].as_array().map(Vec::len), Some(0), "{listed}");

    // Later (here: after a restart, without the fault) the same empty final PATCH completes it.
    let server = server.kill_and_restart(&[], &[]);
    let response = patch(&server, &upload, bytes.len(), &[], None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT, "{:?}", response.text().await);
    let (_, headers) = head(&server, &upload).await;
    let id = headers["bulletin-update-id"].to_str().unwrap().to_string();
    assert!(server.stored_object(&format!("updates/{id}/source")).await == bytes, "the stored source is the upload");
    let update = wait_until_done(&server, &id, Duration::from_secs(120)).await;
    assert_eq!(update["status"], "ready", "{update}");
}

async fn try_create(server: &TestServer, length: usize) -> (StatusCode, serde_json::Value) {
    let response = server
        .client()
        .post(server.url("/api/uploads"))
        .header(TUS.0, TUS.1)
        .header("Upload-Length", length.to_string())
        .header("Upload-Metadata", format!("title {}", b64(b"Bounded")))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or_default())
}

/// Unfinished uploads hold disk for a day: a person may keep a few, the server
/// a few hundred, and none starts when the disk is down to its reserve.
#[tokio::test]
async fn open_uploads_and_their_disk_are_bounded() {
    let server = TestServer::start_with(&["--max-open-uploads-per-person", "2", "--max-open-uploads", "3"], &[]);
    let first = create(&server, 1000, "One").await;
    create(&server, 1000, "Two").await;
    let (status, body) = try_create(&server, 1000).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "too_many_uploads");
    assert!(body["error"]["message"].as_str().unwrap().contains("you have 2 unfinished uploads"), "{body}");
    // Cancelling one makes room again.
    let response = server.client().delete(server.url(&first)).header(TUS.0, TUS.1).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    create(&server, 1000, "Three").await;
    // The server's own limit counts everyone's.
    let added = server.command(&["user", "add", "teammate", "--password-stdin"], "a long enough one\n");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let teammate = server.new_token("teammate");
    let teammate_creates = || async {
        let response = signed_in_client(&teammate)
            .post(server.url("/api/uploads"))
            .header(TUS.0, TUS.1)
            .header("Upload-Length", "1000")
            .header("Upload-Metadata", format!("title {}", b64(b"Theirs")))
            .send()
            .await
            .unwrap();
        (response.status(), response.json::<serde_json::Value>().await.unwrap_or_default())
    };
    let (status, body) = teammate_creates().await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The teammate has one of their two, but the server holds its three.
    let (status, body) = teammate_creates().await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("the server holds"), "{body}");

    // A disk that must keep more free than it has takes nothing: tus or multipart.
    let full = TestServer::start_with(&["--min-free-disk-mb", "1000000000"], &[]);
    let (status, body) = try_create(&full, 1000).await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    assert_eq!(body["error"]["code"], "insufficient_storage");
    let dir = tempfile::tempdir().unwrap();
    let video = silent_video(dir.path(), "full", 1.0, "64x64", 5);
    let (status, body) = post_update(&full, "No room", &video).await;
    assert_eq!(status, 507, "{body}");
    assert!(files_under(&full.data_dir.join("resumable")).is_empty());
}
