//! Receiving upload bytes into a file, shared by the multipart and the resumable
//! (tus) paths: a byte cap, an idle timeout, and a look at the media while it is
//! still arriving so an upload that is already too long is refused before its
//! last byte.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use axum::http::StatusCode;
use bulletin_workers::probe::{ProbeError, ProbeLimits};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use super::ingest::probe_refusal;
use super::ApiError;
use crate::disk::DiskReserve;
use crate::media::{MediaRunner, StepError};

/// Bytes received before the first look at an upload: enough for the header of a
/// faststart MP4 or a WebM of a few minutes.
const FIRST_LOOK_AT: u64 = 64 * 1024;
/// Later looks come each time the upload grows by half (at least 1 MiB), so all
/// the looks together read the file about three times in total, however large.
const MIN_LOOK_STEP: u64 = 1 << 20;

/// The first size past `received` at which an upload is looked at. A pure function
/// of the size, so a resumed upload looks at the same points as an unbroken one.
pub fn next_look_at(received: u64) -> u64 {
    let mut at = FIRST_LOOK_AT;
    while at <= received {
        at = (at + at / 2).max(at + MIN_LOOK_STEP);
    }
    at
}

/// A look in progress: the media child's verdict on a prefix of the upload.
type Look = Pin<Box<dyn Future<Output = Result<Option<ProbeError>, StepError>> + Send>>;

/// Looks at the part of an upload received so far, in the sandboxed media child,
/// while receiving goes on: a look is a process start and a read of the prefix
/// (0.2 s for all of a 100 MB MP4 here), a 100 MB upload gets a dozen, and waited
/// for one by one they took most of the second from its first byte to its answer
/// (0.3 s with looks beside the receiving). One look runs at a time.
pub struct EarlyCheck {
    media: MediaRunner,
    limits: ProbeLimits,
    next_at: u64,
    running: Option<Look>,
}

impl EarlyCheck {
    pub fn new(media: MediaRunner, limits: ProbeLimits, received: u64) -> Self {
        Self { media, limits, next_at: next_look_at(received), running: None }
    }

    /// Whether a new look should start now.
    fn due(&self, received: u64) -> bool {
        self.running.is_none() && received >= self.next_at
    }

    fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// Start looking at the first `received` bytes of `path` (all flushed). The file
    /// may grow while the child reads it: it only ever sees a longer prefix.
    fn start(&mut self, path: &Path, received: u64) {
        self.next_at = next_look_at(received);
        let (media, limits, path) = (self.media.clone(), self.limits.clone(), path.to_path_buf());
        self.running = Some(Box::pin(async move { media.early_verdict(&path, &limits).await }));
    }

    /// The running look's verdict, once it is in (at once without one): refuse the
    /// upload if the bytes it saw already prove it must be. Cancel-safe: dropped
    /// before its end, the look goes on and is asked again.
    async fn verdict(&mut self) -> Result<(), ApiError> {
        let Some(look) = self.running.as_mut() else { return Ok(()) };
        let outcome = look.await;
        self.running = None;
        match outcome {
            Ok(Some(refusal)) => {
                tracing::info!(code = refusal.code(), "upload refused while still arriving");
                Err(probe_refusal(&refusal))
            }
            Ok(None) => Ok(()),
            // Every media slot is taken: skip this look; the full probe at the end decides.
            Err(StepError::Busy) => Ok(()),
            // No verdict: the full probe at the end still decides.
            Err(e) => {
                tracing::warn!(error = %e, "early look at an upload failed");
                Ok(())
            }
        }
    }
}

pub struct ReceiveLimits {
    /// Total size the file may reach.
    pub max_total: u64,
    pub idle_timeout: Duration,
    /// When this request must be done receiving, however steadily bytes arrive.
    pub deadline: tokio::time::Instant,
    /// The free space the data folder's disk must keep.
    pub disk: DiskReserve,
}

/// How often, in bytes received, the disk's free space is looked at again.
const DISK_CHECK_EVERY: u64 = 16 << 20;

/// Why receiving stopped early. `received` is how many bytes made it to the file.
pub struct ReceiveStop {
    pub received: u64,
    pub error: ApiError,
    /// The media itself is refused (too long, too large a frame): more bytes cannot help.
    pub refused: bool,
}

/// Append `body` to `file` (already holding `start` bytes), feeding each chunk to
/// `on_chunk` (e.g. a checksum). Returns the new total; the file is flushed either way.
pub async fn append_body<S, E>(
    file: &mut tokio::fs::File,
    path: &Path,
    start: u64,
    mut body: S,
    limits: &ReceiveLimits,
    early: &mut EarlyCheck,
    on_chunk: &mut (dyn FnMut(&[u8]) + Send),
) -> Result<u64, ReceiveStop>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut received = start;
    let mut disk_checked_at = start;
    let stop = |received: u64, error: ApiError, refused: bool| ReceiveStop { received, error, refused };
    loop {
        if tokio::time::Instant::now() >= limits.deadline {
            return Err(stop(flushed(file, received).await?, too_slow(), false));
        }
        let wait = limits.idle_timeout.min(limits.deadline.saturating_duration_since(tokio::time::Instant::now()));
        let next = tokio::select! {
            // A refusal is answered at once, even while the client waits between bytes.
            verdict = early.verdict(), if early.is_running() => {
                if let Err(error) = verdict {
                    return Err(stop(flushed(file, received).await?, error, true));
                }
                continue;
            }
            next = tokio::time::timeout(wait, body.next()) => next,
        };
        let chunk = match next {
            Err(_) if tokio::time::Instant::now() >= limits.deadline => {
                return Err(stop(flushed(file, received).await?, too_slow(), false));
            }
            Err(_) => return Err(stop(flushed(file, received).await?, idle_timeout(), false)),
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                let error =
                    ApiError::bad_request("malformed_upload", format!("the upload body could not be read: {e}"));
                return Err(stop(flushed(file, received).await?, error, false));
            }
            Ok(Some(Ok(chunk))) => chunk,
        };
        if received + chunk.len() as u64 > limits.max_total {
            return Err(stop(flushed(file, received).await?, too_large(limits.max_total), false));
        }
        if received - disk_checked_at >= DISK_CHECK_EVERY {
            disk_checked_at = received;
            if !limits.disk.room_for(0) {
                return Err(stop(flushed(file, received).await?, disk_full(), false));
            }
        }
        file.write_all(&chunk).await.map_err(|e| stop(received, ApiError::internal(e), false))?;
        on_chunk(&chunk);
        received += chunk.len() as u64;
        if early.due(received) {
            flushed(file, received).await?;
            early.start(path, received);
        }
    }
    let received = flushed(file, received).await?;
    // The last look still counts: a resumable upload's request may end before it does.
    if let Err(error) = early.verdict().await {
        return Err(stop(received, error, true));
    }
    Ok(received)
}

async fn flushed(file: &mut tokio::fs::File, received: u64) -> Result<u64, ReceiveStop> {
    file.flush().await.map(|()| received).map_err(|e| ReceiveStop {
        received,
        error: ApiError::internal(e),
        refused: false,
    })
}

pub fn too_large(max_bytes: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the upload is larger than the {} MiB limit", max_bytes / (1 << 20)),
    )
}

/// The disk is down to its reserve: nothing more is taken until space frees up.
pub fn disk_full() -> ApiError {
    ApiError::new(
        StatusCode::INSUFFICIENT_STORAGE,
        "insufficient_storage",
        "the server is short of disk space for uploads; try again later",
    )
    .retry_after(300)
}

pub fn too_slow() -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "upload_too_slow",
        "the upload took longer than one request may; a resumable upload continues from what arrived",
    )
}

pub fn idle_timeout() -> ApiError {
    ApiError::new(StatusCode::REQUEST_TIMEOUT, "upload_timeout", "the upload stalled: no data arrived for too long")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_grow_geometrically_and_depend_only_on_size() {
        assert_eq!(next_look_at(0), FIRST_LOOK_AT);
        assert_eq!(next_look_at(FIRST_LOOK_AT), FIRST_LOOK_AT + MIN_LOOK_STEP);
        let mut at = 0;
        let mut looks = 0;
        while at < 1 << 30 {
            at = next_look_at(at);
            looks += 1;
        }
        // A 1 GiB upload is looked at a few dozen times, not once per chunk.
        assert!((10..40).contains(&looks), "{looks} looks");
        for size in [0, 1, 65_535, 65_536, 3_000_000, 50_000_000] {
            assert!(next_look_at(size) > size);
            assert!(next_look_at(size) <= next_look_at(size + 1_000_000));
        }
    }
}
