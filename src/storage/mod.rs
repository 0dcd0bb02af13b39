//! Where media bytes live, kept apart from metadata (the database).
//!
//! Keys are `updates/{id}/{name}`, built only by [`media_key`] from a parsed
//! [`UpdateId`] and a fixed name, so no client text ever becomes a path.

mod fs;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;

use crate::domain::UpdateId;
pub use fs::FsStore;

/// The fixed object names of an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaObject {
    Source,
    Video,
    Poster,
    Storyboard,
}

impl MediaObject {
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

pub fn media_key(id: &UpdateId, object: MediaObject) -> String {
    format!("updates/{id}/{}", object.file_name())
}

pub fn update_prefix(id: &UpdateId) -> String {
    format!("updates/{id}/")
}

pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// An object's bytes (or a range of them) and its total length.
pub struct ObjectRead {
    pub total_len: u64,
    pub body: ByteStream,
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object not found: {0}")]
    NotFound(String),
    #[error("storage i/o error on {key}: {source}")]
    Io { key: String, source: std::io::Error },
    #[error("unsupported storage location: {0}")]
    Unsupported(String),
}

/// The closed set of storage backends.
#[derive(Debug, Clone)]
pub enum BlobStore {
    Fs(FsStore),
}

impl BlobStore {
    /// Pick the backend from the configured location (a folder path).
    pub fn open(location: &str) -> Result<BlobStore, StorageError> {
        if location.contains("://") && !location.starts_with("file://") {
            return Err(StorageError::Unsupported(location.to_string()));
        }
        let path = location.strip_prefix("file://").unwrap_or(location);
        Ok(BlobStore::Fs(FsStore::open(Path::new(path))?))
    }

    /// Store a finished local file under `key`, durably; the local file is consumed.
    pub async fn put_file(&self, key: &str, local: &Path) -> Result<(), StorageError> {
        match self {
            BlobStore::Fs(fs) => fs.put_file(key, local).await,
        }
    }

    /// A local path holding the object, for media steps that need a file.
    /// For the folder store this is the object itself (no copy; do not modify it).
    pub async fn local_copy(&self, key: &str, _scratch: &Path) -> Result<PathBuf, StorageError> {
        match self {
            BlobStore::Fs(fs) => fs.existing_path(key).await,
        }
    }

    pub async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<ObjectRead, StorageError> {
        match self {
            BlobStore::Fs(fs) => fs.read(key, range).await,
        }
    }

    pub async fn len(&self, key: &str) -> Result<u64, StorageError> {
        match self {
            BlobStore::Fs(fs) => fs.len(key).await,
        }
    }

    pub async fn delete_prefix(&self, prefix: &str) -> Result<(), StorageError> {
        match self {
            BlobStore::Fs(fs) => fs.delete_prefix(prefix).await,
        }
    }

    /// Whether the store answers, for readiness checks.
    pub async fn check(&self) -> Result<(), StorageError> {
        match self {
            BlobStore::Fs(fs) => fs.check().await,
        }
    }
}
