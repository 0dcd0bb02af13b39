//! Objects in an S3-compatible bucket, through the AWS SDK.
//!
//! Large files go up as multipart uploads read from disk part by part (never
//! whole in memory); reads are ranged GETs streamed to the caller; an update's
//! objects are removed by listing its prefix.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_config::meta::region::RegionProviderChain;
use aws_config::BehaviorVersion;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier};
use aws_sdk_s3::Client;
use aws_smithy_http_client::tls;
use futures_util::{StreamExt, TryStreamExt};
use tokio::io::AsyncWriteExt;
use tokio_util::io::ReaderStream;

use super::{content_type_of, ObjectInfo, ObjectRead, StorageError};

/// Multipart part size: large enough for S3's 5 MiB minimum, small enough
/// that a retried part costs little.
const PART_SIZE: u64 = 8 * 1024 * 1024;
/// S3's limit on parts per upload; bigger files get bigger parts.
const MAX_PARTS: u64 = 10_000;
/// Parts in flight at once for one upload.
const PARTS_IN_FLIGHT: usize = 4;
/// DeleteObjects takes at most this many keys per call.
const DELETE_BATCH: usize = 1000;

/// How to reach the object store; credentials and region otherwise come from
/// the standard AWS chain (environment, profile, instance metadata).
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// Endpoint of an S3-compatible server; `None` uses AWS (or `AWS_ENDPOINT_URL`).
    pub endpoint: Option<String>,
    /// `http://host/bucket/key` instead of `http://bucket.host/key`.
    pub path_style: bool,
    /// Serve media by redirecting to a presigned URL valid this long; `None` proxies.
    pub presign: Option<Duration>,
    /// A fixed region instead of the AWS chain's (which falls back to `us-east-1`).
    pub region: Option<String>,
    /// Fixed keys instead of the AWS credential chain.
    pub keys: Option<AccessKeys>,
}

#[derive(Clone)]
pub struct AccessKeys {
    pub id: String,
    pub secret: String,
}

impl std::fmt::Debug for AccessKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKeys").field("id", &self.id).field("secret", &"***").finish()
    }
}

#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    /// Prepended to every key: empty, or ending in `/`.
    prefix: String,
    presign: Option<Duration>,
    /// `scheme://host[:port]` that presigned URLs point to, for the pages' CSP.
    read_origin: Option<String>,
}

impl S3Store {
    /// Open `s3://bucket[/prefix]`. Nothing is contacted yet: see [`S3Store::check`].
    pub async fn open(location: &str, options: &S3Options) -> Result<S3Store, StorageError> {
        let (bucket, prefix) = parse_location(location)?;
        let https = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(https);
        loader = match &options.region {
            Some(region) => loader.region(Region::new(region.clone())),
            None => loader.region(RegionProviderChain::default_provider().or_else(Region::new("us-east-1"))),
        };
        if let Some(keys) = &options.keys {
            loader = loader.credentials_provider(Credentials::new(&keys.id, &keys.secret, None, None, "bulletin"));
        }
        let shared = loader.load().await;
        let mut config = aws_sdk_s3::config::Builder::from(&shared).force_path_style(options.path_style);
        if let Some(endpoint) = &options.endpoint {
            config = config.endpoint_url(endpoint);
        }
        let mut store = S3Store {
            client: Client::from_conf(config.build()),
            bucket,
            prefix,
            presign: options.presign,
            read_origin: None,
        };
        // Signing is local: where presigned URLs lead is known before any request,
        // and a store that cannot sign is a configuration error, better found now.
        if let Some(url) = store.presigned_read("origin").await? {
            store.read_origin = Some(origin_of(&url).ok_or_else(|| remote("origin", format!("odd URL {url}")))?);
        }
        Ok(store)
    }

    pub fn read_origin(&self) -> Option<&str> {
        self.read_origin.as_deref()
    }

    fn full_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Upload a local file, then remove it (the caller hands it over).
    pub async fn put_file(&self, key: &str, local: &Path) -> Result<(), StorageError> {
        let io = |source| StorageError::Io { key: key.to_string(), source };
        let len = tokio::fs::metadata(local).await.map_err(io)?.len();
        if len <= PART_SIZE {
            // Read from the file as it is sent; the SDK reopens it if it retries.
            let body = ByteStream::from_path(local).await.map_err(|e| remote(key, e))?;
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(self.full_key(key))
                .content_type(content_type_of(key))
                .body(body)
                .send()
                .await
                .map_err(|e| sdk_error(key, e))?;
        } else {
            self.put_multipart(key, local, len).await?;
        }
        tokio::fs::remove_file(local).await.map_err(io)
    }

    async fn put_multipart(&self, key: &str, local: &Path, len: u64) -> Result<(), StorageError> {
        let full_key = self.full_key(key);
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(&full_key)
            .content_type(content_type_of(key))
            .send()
            .await
            .map_err(|e| sdk_error(key, e))?;
        let upload_id = created.upload_id().ok_or_else(|| remote(key, "no upload id in the reply"))?.to_string();
        match self.upload_parts(key, &full_key, &upload_id, local, len).await {
            Ok(parts) => {
                let completed = self
                    .client
                    .complete_multipart_upload()
                    .bucket(&self.bucket)
                    .key(&full_key)
                    .upload_id(&upload_id)
                    .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
                    .send()
                    .await;
                if let Err(e) = completed {
                    self.abort(&full_key, &upload_id).await;
                    return Err(sdk_error(key, e));
                }
                Ok(())
            }
            Err(e) => {
                // Parts already stored cost money until the upload is aborted.
                self.abort(&full_key, &upload_id).await;
                Err(e)
            }
        }
    }

    async fn upload_parts(
        &self,
        key: &str,
        full_key: &str,
        upload_id: &str,
        local: &Path,
        len: u64,
    ) -> Result<Vec<CompletedPart>, StorageError> {
        let part_size = PART_SIZE.max(len.div_ceil(MAX_PARTS));
        let count = len.div_ceil(part_size);
        futures_util::stream::iter(0..count)
            .map(|index| async move {
                let offset = index * part_size;
                let size = part_size.min(len - offset);
                // Each part streams straight from its slice of the file.
                let body = ByteStream::read_from()
                    .path(local)
                    .offset(offset)
                    .length(Length::Exact(size))
                    .build()
                    .await
                    .map_err(|e| remote(key, e))?;
                let number = i32::try_from(index + 1).map_err(|_| remote(key, "too many parts"))?;
                let uploaded = self
                    .client
                    .upload_part()
                    .bucket(&self.bucket)
                    .key(full_key)
                    .upload_id(upload_id)
                    .part_number(number)
                    .content_length(size as i64)
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| sdk_error(key, e))?;
                // The upload was created without a checksum algorithm, so the
                // parts are named by number and ETag alone.
                Ok(CompletedPart::builder().part_number(number).set_e_tag(uploaded.e_tag().map(str::to_string)).build())
            })
            .buffered(PARTS_IN_FLIGHT)
            .try_collect()
            .await
    }

    async fn abort(&self, full_key: &str, upload_id: &str) {
        let aborted =
            self.client.abort_multipart_upload().bucket(&self.bucket).key(full_key).upload_id(upload_id).send().await;
        if let Err(e) = aborted {
            tracing::warn!(key = full_key, error = %DisplayErrorContext(&e), "cannot abort a failed multipart upload");
        }
    }

    /// Download the object into `scratch` for media steps that need a file.
    pub async fn local_copy(&self, key: &str, scratch: &Path) -> Result<PathBuf, StorageError> {
        let name = key.rsplit('/').next().unwrap_or("object");
        let target = scratch.join(format!("fetched-{name}"));
        let io = |source| StorageError::Io { key: key.to_string(), source };
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .send()
            .await
            .map_err(|e| sdk_error(key, e))?;
        let expected = object.content_length().and_then(|n| u64::try_from(n).ok());
        let mut body = object.body.into_async_read();
        let mut file = tokio::fs::File::create(&target).await.map_err(io)?;
        let copied = tokio::io::copy(&mut body, &mut file).await.map_err(io)?;
        file.flush().await.map_err(io)?;
        if expected.is_some_and(|expected| expected != copied) {
            return Err(remote(key, format!("download ended after {copied} of {expected:?} bytes")));
        }
        Ok(target)
    }

    pub async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<ObjectRead, StorageError> {
        let mut request = self.client.get_object().bucket(&self.bucket).key(self.full_key(key));
        if let Some(range) = &range {
            if range.is_empty() {
                return Err(remote(key, "empty range"));
            }
            request = request.range(format!("bytes={}-{}", range.start, range.end - 1));
        }
        let object = request.send().await.map_err(|e| sdk_error(key, e))?;
        let length = object.content_length().and_then(|n| u64::try_from(n).ok());
        // A ranged reply tells the whole length after the slash: `bytes 0-99/1234`.
        let total_len = match object.content_range().and_then(|r| r.rsplit('/').next()) {
            Some(total) => total.parse().map_err(|_| remote(key, format!("bad Content-Range {total}")))?,
            None => length.ok_or_else(|| remote(key, "no Content-Length"))?,
        };
        let version = etag_version(object.e_tag());
        let body = Box::pin(ReaderStream::with_capacity(object.body.into_async_read(), 64 * 1024));
        Ok(ObjectRead { total_len, version, body })
    }

    pub async fn stat(&self, key: &str) -> Result<ObjectInfo, StorageError> {
        let head = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .send()
            .await
            .map_err(|e| sdk_error(key, e))?;
        let len = head
            .content_length()
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| remote(key, "no Content-Length"))?;
        Ok(ObjectInfo { len, version: etag_version(head.e_tag()) })
    }

    /// A short-lived URL a browser may fetch the object from, when configured.
    pub async fn presigned_read(&self, key: &str) -> Result<Option<String>, StorageError> {
        let Some(valid_for) = self.presign else { return Ok(None) };
        let config = PresigningConfig::expires_in(valid_for).map_err(|e| remote(key, e))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .response_content_type(content_type_of(key))
            .presigned(config)
            .await
            .map_err(|e| sdk_error(key, e))?;
        Ok(Some(request.uri().to_string()))
    }

    /// Keys under `prefix`, relative to this store's own prefix.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let mut pages =
            self.client.list_objects_v2().bucket(&self.bucket).prefix(self.full_key(prefix)).into_paginator().send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error(prefix, e))?;
            for object in page.contents() {
                if let Some(key) = object.key().and_then(|k| k.strip_prefix(&self.prefix)) {
                    keys.push(key.to_string());
                }
            }
        }
        Ok(keys)
    }

    pub async fn delete_prefix(&self, prefix: &str) -> Result<(), StorageError> {
        // S3 has no folders: list what is there and delete it in batches.
        let keys = self.list(prefix).await?;
        for batch in keys.chunks(DELETE_BATCH) {
            let objects = batch
                .iter()
                .map(|key| ObjectIdentifier::builder().key(self.full_key(key)).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| remote(prefix, e))?;
            let delete =
                Delete::builder().set_objects(Some(objects)).quiet(true).build().map_err(|e| remote(prefix, e))?;
            let reply = self
                .client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| sdk_error(prefix, e))?;
            if let Some(failed) = reply.errors().first() {
                let what = failed.message().or(failed.code()).unwrap_or("unknown error");
                return Err(remote(failed.key().unwrap_or(prefix), format!("delete failed: {what}")));
            }
        }
        Ok(())
    }

    pub async fn check(&self) -> Result<(), StorageError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error(&format!("bucket {}", self.bucket), e))
    }
}

/// `s3://bucket/some/prefix` → (`bucket`, `some/prefix/`).
fn parse_location(location: &str) -> Result<(String, String), StorageError> {
    let unsupported = || StorageError::Unsupported(location.to_string());
    let rest = location.strip_prefix("s3://").ok_or_else(unsupported)?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() || bucket.contains(['@', ':', '?', '#']) {
        return Err(unsupported());
    }
    let prefix = prefix.trim_matches('/');
    let prefix = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
    Ok((bucket.to_string(), prefix))
}

fn remote(key: &str, message: impl std::fmt::Display) -> StorageError {
    StorageError::Remote { key: key.to_string(), message: message.to_string() }
}

/// 404s (NoSuchKey, or NotFound from a HEAD) become `NotFound`; the rest
/// keep the SDK's whole explanation. A missing bucket is a setup error, not a
/// missing object.
/// `scheme://host[:port]` of an absolute URL, if it is one a CSP source can name.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    let fine = |text: &str, extra: &[char]| {
        !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
    };
    (fine(scheme, &['+', '-', '.']) && fine(host, &['-', '.', ':', '[', ']'])).then(|| format!("{scheme}://{host}"))
}

/// The store's ETag without its quotes, kept to the characters an entity tag may hold.
fn etag_version(etag: Option<&str>) -> String {
    etag.unwrap_or_default().chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')).collect()
}

fn sdk_error<E>(key: &str, error: SdkError<E, HttpResponse>) -> StorageError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = error.raw_response().map(|r| r.status().as_u16());
    let code = error.as_service_error().and_then(ProvideErrorMetadata::code);
    if code != Some("NoSuchBucket") && (status == Some(404) || matches!(code, Some("NoSuchKey" | "NotFound"))) {
        return StorageError::NotFound(key.to_string());
    }
    remote(key, DisplayErrorContext(&error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_of_presigned_urls() {
        assert_eq!(origin_of("http://127.0.0.1:9000/b/k?X-Amz-Signature=1").as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(
            origin_of("https://b.s3.eu-west-1.amazonaws.com/k").as_deref(),
            Some("https://b.s3.eu-west-1.amazonaws.com")
        );
        assert_eq!(origin_of("https://h;script-src *").as_deref(), None);
        assert_eq!(origin_of("/relative"), None);
    }

    #[test]
    fn parses_locations() {
        assert_eq!(parse_location("s3://media").unwrap(), ("media".into(), "".into()));
        assert_eq!(parse_location("s3://media/").unwrap(), ("media".into(), "".into()));
        assert_eq!(parse_location("s3://media/bulletin/prod/").unwrap(), ("media".into(), "bulletin/prod/".into()));
        assert!(parse_location("s3:///x").is_err());
        assert!(parse_location("s3://key:secret@media").is_err());
        assert!(parse_location("gs://media").is_err());
    }
}
