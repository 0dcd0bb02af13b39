//! Resumable uploads at rest: each one is a data file that only ever grows, plus
//! a small JSON record of what the client declared.
//!
//! The data file's length *is* the upload's offset, so there is no second copy
//! of the offset to fall out of step after a crash. Both files live in the data
//! folder (not `tmp/`) so an upload survives a restart of the server; an upload
//! untouched for the configured expiry is deleted by [`ResumableUploads::sweep`].
//! With several servers, a client must keep talking to the server it started
//! on (the bytes are on that server's disk).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// What the client declared when it created the upload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadRecord {
    /// Total size in bytes.
    pub length: u64,
    /// The raw `Upload-Metadata` header, echoed back on `HEAD`.
    pub metadata: Option<String>,
    pub title: String,
    /// The update this upload became, once complete.
    pub update_id: Option<String>,
    /// The id of the person who created it: only they may continue it.
    #[serde(default)]
    pub owner: Option<i64>,
    /// The slug of the channel it is posted to (checked again when it completes).
    #[serde(default)]
    pub channel: Option<String>,
    /// Its description, checked when the upload was created.
    #[serde(default)]
    pub description: String,
    /// The ids of the people to ask to acknowledge it, checked when it was created.
    #[serde(default)]
    pub ask: Vec<i64>,
    /// A video reply: the id of the update it answers, and the moment.
    #[serde(default)]
    pub reply_to: Option<String>,
    #[serde(default)]
    pub reply_at_ms: Option<u64>,
    /// The declared spoken language, checked when it was created.
    #[serde(default)]
    pub language: Option<String>,
}

/// See [`ResumableUploads::open_uploads`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenUploads {
    pub total: usize,
    pub mine: usize,
    pub bytes_to_come: u64,
}

#[derive(Debug, Clone)]
pub struct UploadState {
    pub record: UploadRecord,
    /// Bytes received so far.
    pub offset: u64,
    pub expires_at: SystemTime,
}

/// What [`ResumableUploads::look_up`] found.
enum Lookup {
    Live(Box<UploadState>),
    /// Expired, or its bytes are gone: to be removed.
    Dead,
    Missing,
}

/// A validated upload id: 32 lowercase hex digits, random, so the URL cannot be guessed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UploadKey(String);

impl UploadKey {
    fn generate() -> UploadKey {
        UploadKey(format!("{:016x}{:016x}", rand::random::<u64>(), rand::random::<u64>()))
    }

    pub fn parse(raw: &str) -> Option<UploadKey> {
        (raw.len() == 32 && raw.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
            .then(|| UploadKey(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UploadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone)]
pub struct ResumableUploads {
    dir: PathBuf,
    expiry: Duration,
    /// Uploads a request is writing to right now; one writer per upload.
    busy: Arc<Mutex<HashSet<UploadKey>>>,
}

/// Held while a request writes to an upload; released on drop.
pub struct UploadLock {
    busy: Arc<Mutex<HashSet<UploadKey>>>,
    key: UploadKey,
}

impl Drop for UploadLock {
    fn drop(&mut self) {
        self.busy.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.key);
    }
}

impl ResumableUploads {
    pub fn new(dir: PathBuf, expiry: Duration) -> ResumableUploads {
        ResumableUploads { dir, expiry, busy: Arc::default() }
    }

    pub fn expiry(&self) -> Duration {
        self.expiry
    }

    pub fn data_path(&self, key: &UploadKey) -> PathBuf {
        self.dir.join(format!("{key}.bin"))
    }

    fn record_path(&self, key: &UploadKey) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// Start an empty upload; both files are durable before the id is handed out.
    pub async fn create(&self, record: &UploadRecord) -> std::io::Result<UploadKey> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let key = UploadKey::generate();
        tokio::fs::File::create(self.data_path(&key)).await?.sync_all().await?;
        self.write_record(&key, record).await?;
        Ok(key)
    }

    /// The upload's state, or `None` if it does not exist or has expired.
    pub async fn state(&self, key: &UploadKey) -> std::io::Result<Option<UploadState>> {
        match self.look_up(key).await? {
            Lookup::Live(state) => Ok(Some(*state)),
            Lookup::Missing => Ok(None),
            Lookup::Dead => {
                self.remove(key).await?;
                Ok(None)
            }
        }
    }

    /// What is on disk for `key`, changing nothing.
    async fn look_up(&self, key: &UploadKey) -> std::io::Result<Lookup> {
        let record = match tokio::fs::read(self.record_path(key)).await {
            Ok(bytes) => match serde_json::from_slice::<UploadRecord>(&bytes) {
                Ok(record) => record,
                Err(e) => return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lookup::Missing),
            Err(e) => return Err(e),
        };
        let record_meta = tokio::fs::metadata(self.record_path(key)).await?;
        let (offset, last_touched) = match record.update_id {
            // Complete: the bytes moved into the media store.
            Some(_) => (record.length, record_meta.modified()?),
            None => match tokio::fs::metadata(self.data_path(key)).await {
                Ok(data) => (data.len(), data.modified()?.max(record_meta.modified()?)),
                // The bytes are gone (a crash while the upload was being accepted): the
                // upload cannot be resumed, so it does not exist any more.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lookup::Dead),
                Err(e) => return Err(e),
            },
        };
        let expires_at = last_touched + self.expiry;
        if expires_at <= SystemTime::now() {
            return Ok(Lookup::Dead);
        }
        Ok(Lookup::Live(Box::new(UploadState { record, offset, expires_at })))
    }

    /// Claim the right to write to `key`; `None` while another request holds it.
    pub fn lock(&self, key: &UploadKey) -> Option<UploadLock> {
        let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        busy.insert(key.clone()).then(|| UploadLock { busy: self.busy.clone(), key: key.clone() })
    }

    /// The data file, positioned at its end for appending.
    pub async fn open_for_append(&self, key: &UploadKey) -> std::io::Result<tokio::fs::File> {
        tokio::fs::OpenOptions::new().append(true).open(self.data_path(key)).await
    }

    /// Drop bytes past `len` (a chunk that failed its checksum) and make the rest durable.
    pub async fn truncate(&self, key: &UploadKey, len: u64) -> std::io::Result<()> {
        let file = tokio::fs::OpenOptions::new().write(true).open(self.data_path(key)).await?;
        file.set_len(len).await?;
        file.sync_all().await
    }

    /// Remember which update the finished upload became (its bytes are gone by now).
    pub async fn mark_complete(&self, key: &UploadKey, record: &UploadRecord) -> std::io::Result<()> {
        self.write_record(key, record).await
    }

    /// Delete the upload; deleting one that does not exist is not an error.
    pub async fn remove(&self, key: &UploadKey) -> std::io::Result<()> {
        for path in [self.data_path(key), self.record_path(key)] {
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Unfinished uploads: in all, those of `owner`, and the bytes all of them may
    /// still write (what they declared, less what has arrived).
    pub async fn open_uploads(&self, owner: i64) -> std::io::Result<OpenUploads> {
        let mut open = OpenUploads::default();
        let mut entries = match tokio::fs::read_dir(&self.dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(open),
            Err(e) => return Err(e),
        };
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name();
            let Some(key) = name.to_str().and_then(|n| n.strip_suffix(".json")).and_then(UploadKey::parse) else {
                continue;
            };
            let Ok(bytes) = tokio::fs::read(self.record_path(&key)).await else { continue };
            let Ok(record) = serde_json::from_slice::<UploadRecord>(&bytes) else { continue };
            if record.update_id.is_some() {
                continue;
            }
            let arrived = tokio::fs::metadata(self.data_path(&key)).await.map_or(0, |m| m.len());
            open.total += 1;
            open.mine += usize::from(record.owner == Some(owner));
            open.bytes_to_come += record.length.saturating_sub(arrived);
        }
        Ok(open)
    }

    /// Delete every expired upload that no request is writing to. Returns how many went.
    pub async fn sweep(&self) -> std::io::Result<usize> {
        let mut entries = match tokio::fs::read_dir(&self.dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut removed = 0;
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name();
            let Some(key) = name.to_str().and_then(|n| n.strip_suffix(".json")).and_then(UploadKey::parse) else {
                continue;
            };
            // Only an upload that looks dead is locked (then looked at again, and
            // removed): a live one's requests never find the sweep holding its lock.
            // One that cannot be read or removed is logged and left for the next
            // sweep, not the end of this one.
            match self.look_up(&key).await {
                Ok(Lookup::Dead) => {}
                Ok(Lookup::Live(_) | Lookup::Missing) => continue,
                Err(e) => {
                    tracing::warn!(upload = %key, error = %e, "cannot sweep a resumable upload");
                    continue;
                }
            }
            let Some(_lock) = self.lock(&key) else { continue };
            match self.state(&key).await {
                Ok(None) => removed += 1,
                Ok(Some(_)) => {}
                Err(e) => tracing::warn!(upload = %key, error = %e, "cannot sweep a resumable upload"),
            }
        }
        Ok(removed)
    }

    async fn write_record(&self, key: &UploadKey, record: &UploadRecord) -> std::io::Result<()> {
        let path = self.record_path(key);
        let tmp = path.with_extension("json.tmp");
        let json = serde_json::to_vec(record).map_err(std::io::Error::other)?;
        let mut file = tokio::fs::File::create(&tmp).await?;
        tokio::io::AsyncWriteExt::write_all(&mut file, &json).await?;
        file.sync_all().await?;
        tokio::fs::rename(&tmp, &path).await?;
        sync_dir(&self.dir).await
    }
}

async fn sync_dir(dir: &Path) -> std::io::Result<()> {
    tokio::fs::File::open(dir).await?.sync_all().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(length: u64) -> UploadRecord {
        UploadRecord {
            length,
            metadata: None,
            title: "t".into(),
            update_id: None,
            owner: Some(1),
            channel: None,
            description: String::new(),
            ask: Vec::new(),
            reply_to: None,
            reply_at_ms: None,
            language: None,
        }
    }

    #[tokio::test]
    async fn offset_is_the_data_length_and_expired_uploads_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let uploads = ResumableUploads::new(dir.path().join("r"), Duration::from_secs(60));
        let key = uploads.create(&record(10)).await.unwrap();
        let mut file = uploads.open_for_append(&key).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut file, b"abcd").await.unwrap();
        assert_eq!(uploads.state(&key).await.unwrap().unwrap().offset, 4);
        uploads.truncate(&key, 2).await.unwrap();
        assert_eq!(uploads.state(&key).await.unwrap().unwrap().offset, 2);
        {
            let _held = uploads.lock(&key).unwrap();
            assert!(uploads.lock(&key).is_none(), "one writer at a time");
        }
        assert!(uploads.lock(&key).is_some());

        let expired = ResumableUploads::new(dir.path().join("r"), Duration::ZERO);
        assert_eq!(expired.sweep().await.unwrap(), 1);
        assert!(uploads.state(&key).await.unwrap().is_none());
        assert_eq!(std::fs::read_dir(dir.path().join("r")).unwrap().count(), 0, "no file left behind");
    }

    /// The sweep runs every few seconds (and when the server starts) beside the
    /// requests: it must never be why a request finds a live upload busy.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sweep_never_holds_a_live_upload_s_lock() {
        let dir = tempfile::tempdir().unwrap();
        let uploads = ResumableUploads::new(dir.path().join("r"), Duration::from_secs(3600));
        let key = uploads.create(&record(10)).await.unwrap();
        for _ in 0..50 {
            uploads.create(&record(10)).await.unwrap();
        }
        let sweeping = uploads.clone();
        let sweeper = tokio::spawn(async move {
            for _ in 0..100 {
                assert_eq!(sweeping.sweep().await.unwrap(), 0);
            }
        });
        let mut tries = 0;
        while !sweeper.is_finished() {
            assert!(uploads.lock(&key).is_some(), "the sweep held a live upload's lock (try {tries})");
            tries += 1;
            tokio::task::yield_now().await;
        }
        sweeper.await.unwrap();
        assert!(tries > 100, "the sweep and the requests overlapped ({tries} tries)");
    }

    #[test]
    fn keys_are_strict() {
        assert!(UploadKey::parse("0123456789abcdef0123456789abcdef").is_some());
        assert!(UploadKey::parse("../../etc/passwd").is_none());
        assert!(UploadKey::parse("0123456789ABCDEF0123456789abcdef").is_none());
    }
}
