//! The embedded default store: objects as files under one folder.

use std::io::SeekFrom;
use std::ops::Range;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::{ObjectInfo, ObjectRead, StorageError};

#[derive(Debug, Clone)]
pub struct FsStore {
    root: PathBuf,
}

impl FsStore {
    pub fn open(root: &Path) -> Result<FsStore, StorageError> {
        std::fs::create_dir_all(root).map_err(|source| StorageError::Io { key: root.display().to_string(), source })?;
        Ok(FsStore { root: root.to_path_buf() })
    }

    fn path(&self, key: &str) -> PathBuf {
        // Keys are built by `media_key` from validated parts; refuse anything else loudly.
        debug_assert!(!key.split('/').any(|part| part == ".." || part.is_empty() && !key.ends_with('/')));
        self.root.join(key)
    }

    pub async fn put_file(&self, key: &str, local: &Path) -> Result<(), StorageError> {
        let target = self.path(key);
        let io = |source| StorageError::Io { key: key.to_string(), source };
        let parent = target.parent().unwrap_or(&self.root).to_path_buf();
        // Folders this write creates (`updates/{id}/` for a new update): their own
        // entries must reach the disk too, or a power loss can drop the new folder
        // with the file in it while the database says the object exists.
        let mut created = Vec::new();
        let mut missing = parent.as_path();
        while missing.starts_with(&self.root) && missing != self.root && tokio::fs::metadata(missing).await.is_err() {
            created.push(missing.to_path_buf());
            missing = missing.parent().unwrap_or(&self.root);
        }
        tokio::fs::create_dir_all(&parent).await.map_err(io)?;
        // Make the bytes durable before the name, then the name durable.
        tokio::fs::File::open(local).await.map_err(io)?.sync_all().await.map_err(io)?;
        if tokio::fs::rename(local, &target).await.is_err() {
            // Different filesystem: copy to a temporary name, then rename into place.
            let tmp =
                parent.join(format!(".{}.partial", target.file_name().and_then(|n| n.to_str()).unwrap_or("object")));
            tokio::fs::copy(local, &tmp).await.map_err(io)?;
            tokio::fs::File::open(&tmp).await.map_err(io)?.sync_all().await.map_err(io)?;
            tokio::fs::rename(&tmp, &target).await.map_err(io)?;
            tokio::fs::remove_file(local).await.map_err(io)?;
        }
        sync_dir(&parent).await.map_err(io)?;
        for folder in &created {
            sync_dir(folder.parent().unwrap_or(&self.root)).await.map_err(io)?;
        }
        Ok(())
    }

    pub async fn existing_path(&self, key: &str) -> Result<PathBuf, StorageError> {
        let path = self.path(key);
        match tokio::fs::metadata(&path).await {
            Ok(_) => Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StorageError::NotFound(key.to_string())),
            Err(source) => Err(StorageError::Io { key: key.to_string(), source }),
        }
    }

    pub async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<ObjectRead, StorageError> {
        let path = self.existing_path(key).await?;
        let io = |source| StorageError::Io { key: key.to_string(), source };
        let mut file = tokio::fs::File::open(&path).await.map_err(io)?;
        let meta = file.metadata().await.map_err(io)?;
        let (total_len, version) = (meta.len(), version_of(&meta));
        let body = match range {
            Some(range) => {
                file.seek(SeekFrom::Start(range.start)).await.map_err(io)?;
                let limited = file.take(range.end.saturating_sub(range.start));
                Box::pin(ReaderStream::with_capacity(limited, 64 * 1024)) as super::ByteStream
            }
            None => Box::pin(ReaderStream::with_capacity(file, 64 * 1024)),
        };
        Ok(ObjectRead { total_len, version, body })
    }

    pub async fn stat(&self, key: &str) -> Result<ObjectInfo, StorageError> {
        let path = self.existing_path(key).await?;
        let meta =
            tokio::fs::metadata(&path).await.map_err(|source| StorageError::Io { key: key.to_string(), source })?;
        Ok(ObjectInfo { len: meta.len(), version: version_of(&meta) })
    }

    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        // Start from the deepest folder the prefix names, then filter by the full prefix.
        let folder = prefix.rfind('/').map_or("", |slash| &prefix[..slash]);
        let start = if folder.is_empty() { self.root.clone() } else { self.path(folder) };
        let (root, prefix) = (self.root.clone(), prefix.to_string());
        let walk = tokio::task::spawn_blocking(move || {
            let mut keys = Vec::new();
            let mut pending = vec![start];
            while let Some(dir) = pending.pop() {
                let entries = match std::fs::read_dir(&dir) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                for entry in entries {
                    let path = entry?.path();
                    if path.is_dir() {
                        pending.push(path);
                    } else if let Some(key) = path.strip_prefix(&root).ok().and_then(|p| p.to_str()) {
                        keys.push(key.to_string());
                    }
                }
            }
            Ok(keys.into_iter().filter(|key| key.starts_with(&prefix)).collect())
        });
        walk.await
            .map_err(|e| StorageError::Io { key: folder.to_string(), source: std::io::Error::other(e) })?
            .map_err(|source| StorageError::Io { key: folder.to_string(), source })
    }

    pub async fn delete_prefix(&self, prefix: &str) -> Result<(), StorageError> {
        let path = self.path(prefix.trim_end_matches('/'));
        let removed = match tokio::fs::remove_dir_all(&path).await {
            // A whole key is a prefix of itself: one object.
            Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => tokio::fs::remove_file(&path).await,
            other => other,
        };
        match removed {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StorageError::Io { key: prefix.to_string(), source }),
        }
    }

    pub async fn check(&self) -> Result<(), StorageError> {
        tokio::fs::metadata(&self.root)
            .await
            .map(|_| ())
            .map_err(|source| StorageError::Io { key: self.root.display().to_string(), source })
    }
}

async fn sync_dir(dir: &Path) -> std::io::Result<()> {
    tokio::fs::File::open(dir).await?.sync_all().await
}

/// Objects are written to a temporary file and renamed into place, so a rewrite
/// is a new inode with a new modification time.
fn version_of(meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    format!("{:x}.{:x}.{:x}.{:x}", meta.ino(), meta.mtime(), meta.mtime_nsec(), meta.len())
}
