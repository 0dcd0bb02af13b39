//! The media store's contract, on a real folder and on a real S3-compatible
//! server (an s3s-fs this test starts: `scripts/ensure-s3.sh install` puts it
//! in target/tools; without it these tests fail rather than skip). The one
//! test binary that links the service library: it drives `BlobStore` itself.

#[path = "../api/support/s3.rs"]
#[allow(dead_code)] // the black-box half of the S3 harness
mod s3;

use std::path::Path;
use std::time::Duration;

use bulletin::storage::{AccessKeys, BlobStore, S3Options, StorageError};
use futures_util::TryStreamExt;
use s3::{S3Target, S3sFs};

/// A store opened in this process on `target`, the way `bulletin` would from its settings.
fn options(target: &S3Target) -> S3Options {
    S3Options {
        endpoint: Some(target.endpoint.clone()),
        path_style: true,
        presign: None,
        region: Some("us-east-1".into()),
        keys: Some(AccessKeys { id: target.access_key.clone(), secret: target.secret_key.clone() }),
    }
}

const MIB: usize = 1024 * 1024;

/// Bytes that differ everywhere, so a misplaced range cannot pass by luck.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

async fn read_all(store: &BlobStore, key: &str, range: Option<std::ops::Range<u64>>) -> (u64, Vec<u8>) {
    let read = store.read(key, range).await.unwrap_or_else(|e| panic!("read {key}: {e}"));
    let chunks: Vec<bytes::Bytes> = read.body.try_collect().await.unwrap();
    (read.total_len, chunks.concat())
}

fn is_not_found<T: std::fmt::Debug>(result: Result<T, StorageError>) -> bool {
    matches!(result, Err(StorageError::NotFound(_)))
}

/// What every backend must do the same way.
async fn check_contract(store: &BlobStore) {
    let work = tempfile::tempdir().unwrap();
    store.check().await.expect("the store answers");

    // A file bigger than two multipart parts, back byte for byte.
    let big = pattern(20 * MIB + 12_345, 7);
    let local = write(work.path(), "big", &big);
    store.put_file("updates/abc/source", &local).await.unwrap();
    assert!(!local.exists(), "put_file consumes the local file");
    assert_eq!(store.stat("updates/abc/source").await.unwrap().len, big.len() as u64);
    let (total, whole) = read_all(store, "updates/abc/source", None).await;
    assert_eq!(total, big.len() as u64);
    assert!(whole == big, "the object reads back identical");

    // Ranges: near the start, across the first part boundary, the tail.
    let boundary = (8 * MIB) as u64;
    for range in [100..1_100, boundary - 10..boundary + 10, big.len() as u64 - 5..big.len() as u64] {
        let (total, bytes) = read_all(store, "updates/abc/source", Some(range.clone())).await;
        assert_eq!(total, big.len() as u64, "total length with a range");
        assert!(bytes == big[range.start as usize..range.end as usize], "range {range:?}");
    }

    // A local copy for media steps.
    let scratch = tempfile::tempdir().unwrap();
    let copy = store.local_copy("updates/abc/source", scratch.path()).await.unwrap();
    assert!(std::fs::read(&copy).unwrap() == big, "local copy is identical");

    // Missing objects are NotFound, not an I/O failure.
    assert!(is_not_found(store.stat("updates/none/source").await));
    assert!(is_not_found(store.read("updates/none/source", None).await.map(|r| r.total_len)));
    assert!(is_not_found(store.read("updates/none/source", Some(0..10)).await.map(|r| r.total_len)));
    assert!(is_not_found(store.local_copy("updates/none/source", scratch.path()).await));

    // Overwrite in place (a rerun stores its outputs again under the same key).
    let small = pattern(3_000, 9);
    store.put_file("updates/abc/poster.jpg", &write(work.path(), "p1", &pattern(5_000, 1))).await.unwrap();
    store.put_file("updates/abc/poster.jpg", &write(work.path(), "p2", &small)).await.unwrap();
    assert_eq!(read_all(store, "updates/abc/poster.jpg", None).await.1, small);
    // Its version names this write: a read reports the same one, a rewrite of the
    // same length gets another, so a resumed download can tell the files apart.
    let before = store.stat("updates/abc/poster.jpg").await.unwrap();
    assert!(!before.version.is_empty());
    assert_eq!(store.read("updates/abc/poster.jpg", Some(0..10)).await.unwrap().version, before.version);
    store.put_file("updates/abc/poster.jpg", &write(work.path(), "p3", &pattern(3_000, 11))).await.unwrap();
    let after = store.stat("updates/abc/poster.jpg").await.unwrap();
    assert_eq!(after.len, before.len);
    assert_ne!(after.version, before.version, "a rewrite is a new version");
    store.put_file("updates/abc/poster.jpg", &write(work.path(), "p4", &small)).await.unwrap();

    // delete_prefix removes one update's objects, and only those: `abcd` shares
    // the text `abc` but is another update.
    store.put_file("updates/abcd/source", &write(work.path(), "s2", &small)).await.unwrap();
    store.put_file("updates/xyz/video.mp4", &write(work.path(), "v3", &small)).await.unwrap();
    assert_eq!(
        store.list("updates/").await.unwrap(),
        ["updates/abc/poster.jpg", "updates/abc/source", "updates/abcd/source", "updates/xyz/video.mp4"]
    );
    store.delete_prefix("updates/abc/").await.unwrap();
    assert_eq!(store.list("").await.unwrap(), ["updates/abcd/source", "updates/xyz/video.mp4"]);
    assert!(is_not_found(store.stat("updates/abc/source").await));
    assert_eq!(store.stat("updates/abcd/source").await.unwrap().len, small.len() as u64);
    store.delete_prefix("updates/never/").await.expect("deleting nothing is fine");
}

#[tokio::test]
async fn folder_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(&dir.path().join("media").display().to_string(), &S3Options::default()).await.unwrap();
    assert!(matches!(store, BlobStore::Fs(_)));
    check_contract(&store).await;
}

#[tokio::test]
async fn s3_store_keeps_the_contract() {
    let server = S3sFs::start();
    let s3 = &server.target;
    let bucket = s3.create_bucket().await;
    let store = BlobStore::open(&format!("s3://{bucket}/team/media/"), &options(s3)).await.unwrap();
    assert!(matches!(store, BlobStore::S3(_)));
    check_contract(&store).await;

    // Underneath: keys sit below the configured prefix, the big file went up
    // in three parts (a multipart ETag ends in `-<parts>`) and nothing else is
    // left in the bucket.
    let big = pattern(20 * MIB, 3);
    let work = tempfile::tempdir().unwrap();
    store.put_file("updates/big/source", &write(work.path(), "big", &big)).await.unwrap();
    let client = s3.client();
    let listed = client.list_objects_v2().bucket(&bucket).send().await.unwrap();
    let mut keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    keys.sort();
    assert_eq!(
        keys,
        ["team/media/updates/abcd/source", "team/media/updates/big/source", "team/media/updates/xyz/video.mp4"]
    );
    let head = client.head_object().bucket(&bucket).key("team/media/updates/big/source").send().await.unwrap();
    assert!(head.e_tag().unwrap_or_default().trim_matches('"').ends_with("-3"), "{:?}", head.e_tag());
    assert_eq!(head.content_type(), Some("application/octet-stream"));
    let video = client.head_object().bucket(&bucket).key("team/media/updates/xyz/video.mp4").send().await.unwrap();
    assert_eq!(video.content_type(), Some("video/mp4"));

    // A store is no better than its bucket: a missing one fails the check,
    // and is not mistaken for a missing object.
    let nowhere = BlobStore::open("s3://no-such-bucket", &options(s3)).await.unwrap();
    assert!(nowhere.check().await.is_err());
    // Wrong keys are refused by the server.
    let wrong =
        S3Options { keys: Some(AccessKeys { id: s3.access_key.clone(), secret: "wrong".into() }), ..options(s3) };
    let refused = BlobStore::open(&format!("s3://{bucket}/team/media"), &wrong).await.unwrap();
    assert!(refused.check().await.is_err());
    assert!(refused.stat("updates/abcd/source").await.is_err());
}

#[tokio::test]
async fn presigned_urls_read_the_object_directly() {
    let server = S3sFs::start();
    let s3 = &server.target;
    let bucket = s3.create_bucket().await;
    let presigning = S3Options { presign: Some(Duration::from_secs(60)), ..options(s3) };
    let store = BlobStore::open(&format!("s3://{bucket}/media"), &presigning).await.unwrap();
    let bytes = pattern(100_000, 5);
    let work = tempfile::tempdir().unwrap();
    store.put_file("updates/p/video.mp4", &write(work.path(), "v", &bytes)).await.unwrap();

    let url = store.presigned_read("updates/p/video.mp4").await.unwrap().expect("a presigned URL");
    assert!(url.starts_with(&s3.endpoint) && url.contains("X-Amz-Expires=60"), "{url}");
    let whole = reqwest::Client::new().get(&url).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "video/mp4");
    assert!(whole.bytes().await.unwrap() == bytes);
    let ranged = reqwest::Client::new().get(&url).header("range", "bytes=1000-1999").send().await.unwrap();
    assert_eq!(ranged.status(), 206);
    assert!(ranged.bytes().await.unwrap() == bytes[1000..2000]);
    // The signature covers the key: the same query on another key is refused.
    let forged = url.replace("updates/p/video.mp4", "updates/p/source");
    assert_eq!(reqwest::Client::new().get(&forged).send().await.unwrap().status(), 403);

    // Without presigning configured there is no URL, and the server proxies.
    let proxied = BlobStore::open(&format!("s3://{bucket}/media"), &options(s3)).await.unwrap();
    assert_eq!(proxied.presigned_read("updates/p/video.mp4").await.unwrap(), None);
}
