//! With presigning configured, media requests are redirected to the S3 store itself.

use std::time::Duration;

use crate::support::*;

#[tokio::test]
async fn a_server_with_presigning_redirects_media_to_the_store() {
    let s3 = S3sFs::start();
    let server = TestServer::start_on(Some(s3.target.clone()), &[], &[("BULLETIN_S3_PRESIGN_SECS", "120")]);
    let dir = tempfile::tempdir().unwrap();
    let video = silent_video(dir.path(), "clip", 1.0, "160x120", 10);
    let (status, accepted) = post_update(&server, "Presigned", &video).await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_str().unwrap().to_string();
    let update = wait_until_done(&server, &id, Duration::from_secs(120)).await;
    assert_eq!(update["status"], "ready", "{update}");

    let mut auth = reqwest::header::HeaderMap::new();
    auth.insert("authorization", format!("Bearer {}", server.token).parse().unwrap());
    let no_redirects =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).default_headers(auth).build().unwrap();
    let response = no_redirects.get(server.url(&format!("/api/updates/{id}/video"))).send().await.unwrap();
    assert_eq!(response.status(), 307);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&s3.target.endpoint), "{location}");
    assert_eq!(response.headers()["cache-control"], "no-store");

    // A browser follows it, seeking with ranges against the store itself.
    let ranged = server
        .client()
        .get(server.url(&format!("/api/updates/{id}/video")))
        .header("range", "bytes=0-7")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(&ranged.bytes().await.unwrap()[4..8], b"ftyp");
    let poster = server.client().get(server.url(&format!("/api/updates/{id}/poster.jpg"))).send().await.unwrap();
    assert_eq!(poster.headers()["content-type"], "image/jpeg");
    assert_eq!(&poster.bytes().await.unwrap()[..2], &[0xFF, 0xD8]);
    // Pages let the browser follow those redirects: the store's origin is a media and image source.
    let page = anonymous_client().get(server.url("/login")).send().await.unwrap();
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    let origin = s3.target.endpoint.trim_end_matches('/');
    for directive in ["media-src", "img-src", "connect-src"] {
        let sources = policy.split(';').map(str::trim).find(|d| d.starts_with(directive)).unwrap_or_default();
        assert!(sources.split(' ').any(|source| source == origin), "{directive} lacks {origin}: {policy}");
    }
    assert!(policy.contains("script-src 'self';"), "scripts stay our own: {policy}");
    // Still a 404 for an update that does not exist, not a redirect.
    let missing = no_redirects.get(server.url("/api/updates/00000000000000000000000000/video")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}
