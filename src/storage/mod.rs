//! Where media bytes live, kept apart from metadata (the database).
//!
//! Keys are `updates/{id}/{name}`, built only by [`media_key`] from a parsed
//! [`UpdateId`] and a fixed name, so no client text ever becomes a path.
//!
//! Media steps work on local files: a stage asks for a [`BlobStore::local_copy`]
//! of its input (the object itself in a folder store, a download into the
//! job's scratch folder from S3) and hands its outputs back with
//! [`BlobStore::put_file`]. So a worker needs nothing but the database and
//! the store, wherever it runs.

/// Objects as files under one folder (the default).
mod fs;
/// Objects in an S3-compatible bucket.
mod s3;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;

use crate::domain::UpdateId;
pub use fs::FsStore;
pub use s3::{AccessKeys, S3Options, S3Store};

/// The fixed object names of an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaObject {
    Source,
    Video,
    Poster,
    Storyboard,
}

impl MediaObject {
    /// What a transcode produces, written under [`MediaObject::file_name`] in
    /// its output folder and stored under the same names.
    pub const TRANSCODED: [MediaObject; 3] = [MediaObject::Video, MediaObject::Poster, MediaObject::Storyboard];

    pub fn file_name(self) -> &'static str {
        match self {
            MediaObject::Source => "source",
            MediaObject::Video => "video.mp4",
            MediaObject::Poster => "poster.jpg",
            MediaObject::Storyboard => "storyboard.jpg",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            MediaObject::Source => "application/octet-stream",
            MediaObject::Video => "video/mp4",
            MediaObject::Poster | MediaObject::Storyboard => "image/jpeg",
        }
    }
}

/// The `Content-Type` an object is stored and served with, from its key.
pub fn content_type_of(key: &str) -> &'static str {
    [MediaObject::Source, MediaObject::Video, MediaObject::Poster, MediaObject::Storyboard]
        .into_iter()
        .find(|object| key.rsplit('/').next() == Some(object.file_name()))
        .map_or("application/octet-stream", MediaObject::content_type)
}

pub fn media_key(id: &UpdateId, object: MediaObject) -> String {
    format!("updates/{id}/{}", object.file_name())
}

/// Where an object of `attempt`'s transcode lives: `updates/{id}/a{attempt}/…`
/// (the source has one place; `None` is the layout from before attempts had folders).
pub fn output_key(id: &UpdateId, object: MediaObject, attempt: Option<i64>) -> String {
    match (object, attempt) {
        (MediaObject::Source, _) | (_, None) => media_key(id, object),
        (_, Some(attempt)) => format!("{}{}", attempt_prefix(id, attempt), object.file_name()),
    }
}

/// The folder of one transcode attempt's outputs.
pub fn attempt_prefix(id: &UpdateId, attempt: i64) -> String {
    format!("updates/{id}/a{attempt}/")
}

pub fn update_prefix(id: &UpdateId) -> String {
    format!("updates/{id}/")
}

pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// An object's bytes (or a range of them), its total length and its version.
pub struct ObjectRead {
    pub total_len: u64,
    pub version: String,
    pub body: ByteStream,
}

/// What a stored object is, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub len: u64,
    /// Changes whenever the object is written again (a re-transcode), so a client
    /// resuming a download can tell its earlier bytes came from another file.
    /// Safe in an HTTP entity tag: ASCII letters, digits, `.` and `-`.
    pub version: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object not found: {0}")]
    NotFound(String),
    #[error("storage i/o error on {key}: {source}")]
    Io { key: String, source: std::io::Error },
    #[error("object store error on {key}: {message}")]
    Remote { key: String, message: String },
    #[error("unsupported storage location: {0} (use a folder or s3://bucket/prefix)")]
    Unsupported(String),
}

/// The closed set of storage backends.
#[derive(Debug, Clone)]
pub enum BlobStore {
    Fs(FsStore),
    S3(S3Store),
}

impl BlobStore {
    /// Pick the backend from the configured location: `s3://bucket/prefix`,
    /// or a folder path (optionally `file://`). `s3` only applies to S3.
    pub async fn open(location: &str, s3: &S3Options) -> Result<BlobStore, StorageError> {
        if location.starts_with("s3://") {
            return Ok(BlobStore::S3(S3Store::open(location, s3).await?));
        }
        if location.contains("://") && !location.starts_with("file://") {
            return Err(StorageError::Unsupported(location.to_string()));
        }
        let path = location.strip_prefix("file://").unwrap_or(location);
        Ok(BlobStore::Fs(FsStore::open(Path::new(path))?))
    }

    /// Store a finished local file under `key`, durably. The local file is
    /// consumed on success; on failure the caller still owns (and removes) it.
    pub async fn put_file(&self, key: &str, local: &Path) -> Result<(), StorageError> {
        match self {
            BlobStore::Fs(fs) => fs.put_file(key, local).await,
            BlobStore::S3(s3) => s3.put_file(key, local).await,
        }
    }

    /// A local path holding the object, for media steps that need a file.
    /// For the folder store this is the object itself (no copy; do not modify
    /// it); otherwise a download into `scratch`, which the caller cleans up.
    pub async fn local_copy(&self, key: &str, scratch: &Path) -> Result<PathBuf, StorageError> {
        match self {
            BlobStore::Fs(fs) => fs.existing_path(key).await,
            BlobStore::S3(s3) => s3.local_copy(key, scratch).await,
        }
    }

    pub async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<ObjectRead, StorageError> {
        match self {
            BlobStore::Fs(fs) => fs.read(key, range).await,
            BlobStore::S3(s3) => s3.read(key, range).await,
        }
    }

    pub async fn stat(&self, key: &str) -> Result<ObjectInfo, StorageError> {
        match self {
            BlobStore::Fs(fs) => fs.stat(key).await,
            BlobStore::S3(s3) => s3.stat(key).await,
        }
    }

    /// Where [`Self::presigned_read`] URLs lead (`scheme://host[:port]`), if anywhere.
    pub fn read_origin(&self) -> Option<&str> {
        match self {
            BlobStore::Fs(_) => None,
            BlobStore::S3(s3) => s3.read_origin(),
        }
    }

    /// A short-lived URL to send the client to instead of proxying the bytes;
    /// `None` when the backend has none or it is not configured.
    pub async fn presigned_read(&self, key: &str) -> Result<Option<String>, StorageError> {
        match self {
            BlobStore::Fs(_) => Ok(None),
            BlobStore::S3(s3) => s3.presigned_read(key).await,
        }
    }

    /// Every key under `prefix` (for cleanup and for tests that prove it).
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let mut keys = match self {
            BlobStore::Fs(fs) => fs.list(prefix).await?,
            BlobStore::S3(s3) => s3.list(prefix).await?,
        };
        keys.sort();
        Ok(keys)
    }

    /// Remove every object under `prefix` (e.g. [`update_prefix`]).
    pub async fn delete_prefix(&self, prefix: &str) -> Result<(), StorageError> {
        match self {
            BlobStore::Fs(fs) => fs.delete_prefix(prefix).await,
            BlobStore::S3(s3) => s3.delete_prefix(prefix).await,
        }
    }

    /// Whether the store answers, for readiness checks.
    pub async fn check(&self) -> Result<(), StorageError> {
        match self {
            BlobStore::Fs(fs) => fs.check().await,
            BlobStore::S3(s3) => s3.check().await,
        }
    }
}
