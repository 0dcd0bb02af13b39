//! Job kinds and states of the processing queue. Which kind follows which is
//! the stage graph's business (`pipeline::stages`).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Playable MP4, poster and storyboard.
    Transcode,
    /// Speech to timed transcript segments.
    Transcribe,
    /// Make the transcript searchable (run by processes that own a search index).
    Index,
}

impl JobKind {
    pub const ALL: [JobKind; 3] = [JobKind::Transcode, JobKind::Transcribe, JobKind::Index];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Transcode => "transcode",
            JobKind::Transcribe => "transcribe",
            JobKind::Index => "index",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        JobKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for `run_at`.
    Queued,
    /// Claimed by a worker holding a lease.
    Running,
    Done,
    /// Out of attempts, or failed for good; keeps the last error.
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [JobState::Queued, JobState::Running, JobState::Done, JobState::Failed].into_iter().find(|s| s.as_str() == text)
    }
}

/// Why a job failed, as people see it: a stable code and a sentence. What went
/// wrong underneath (a child's stderr, storage keys, SDK text) is logged with the
/// job's id and never shown: it can name secrets, paths and internals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobFailure {
    /// The media could not be decoded: retrying will not help.
    MediaUnreadable,
    MediaCrashed,
    MediaTimedOut,
    /// The media process could not be started.
    MediaUnavailable,
    StorageUnavailable,
    /// The data folder's disk is down to its reserve: tried again later.
    DiskFull,
    DatabaseUnavailable,
    IndexUnavailable,
    /// The worker stopped renewing its lease on the last attempt.
    WorkerLost,
    Internal,
}

impl JobFailure {
    pub const ALL: [JobFailure; 10] = [
        JobFailure::MediaUnreadable,
        JobFailure::MediaCrashed,
        JobFailure::MediaTimedOut,
        JobFailure::MediaUnavailable,
        JobFailure::StorageUnavailable,
        JobFailure::DiskFull,
        JobFailure::DatabaseUnavailable,
        JobFailure::IndexUnavailable,
        JobFailure::WorkerLost,
        JobFailure::Internal,
    ];

    pub fn code(self) -> &'static str {
        match self {
            JobFailure::MediaUnreadable => "media_unreadable",
            JobFailure::MediaCrashed => "media_crashed",
            JobFailure::MediaTimedOut => "media_timed_out",
            JobFailure::MediaUnavailable => "media_unavailable",
            JobFailure::StorageUnavailable => "storage_unavailable",
            JobFailure::DiskFull => "disk_full",
            JobFailure::DatabaseUnavailable => "database_unavailable",
            JobFailure::IndexUnavailable => "index_unavailable",
            JobFailure::WorkerLost => "worker_lost",
            JobFailure::Internal => "internal",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            JobFailure::MediaUnreadable => "the video could not be decoded",
            JobFailure::MediaCrashed => "the media process crashed",
            JobFailure::MediaTimedOut => "the media process timed out",
            JobFailure::MediaUnavailable => "the media process could not be started",
            JobFailure::StorageUnavailable => "the media store could not be reached",
            JobFailure::DiskFull => "the server's disk is short of space",
            JobFailure::DatabaseUnavailable => "the database could not be reached",
            JobFailure::IndexUnavailable => "the search index could not be updated",
            JobFailure::WorkerLost => "the worker stopped responding",
            JobFailure::Internal => "an internal error occurred",
        }
    }

    /// The failure a stored code names. Anything else (rows from before codes
    /// were stored held free text) is `Internal`, so old text is never shown.
    pub fn parse(stored: &str) -> JobFailure {
        JobFailure::ALL.into_iter().find(|f| f.code() == stored).unwrap_or(JobFailure::Internal)
    }
}

/// What `updates.error` holds for a failed update: the stage and its failure.
pub fn update_error(kind: JobKind, failure: JobFailure) -> String {
    format!("{}:{}", kind.as_str(), failure.code())
}

/// The stage and failure an `updates.error` value names (see [`update_error`]).
pub fn parse_update_error(stored: &str) -> (Option<JobKind>, JobFailure) {
    match stored.split_once(':') {
        Some((kind, code)) => (JobKind::parse(kind), JobFailure::parse(code)),
        None => (None, JobFailure::Internal),
    }
}

/// Delay before attempt `attempt + 1`: exponential from 2 s, capped at 5 min,
/// with "full jitter" in the upper half so retries of many jobs spread out.
pub fn retry_delay_ms(attempt: u32, jitter_unit: f64) -> i64 {
    let base = 2_000f64 * 2f64.powi(attempt.saturating_sub(1).min(16) as i32);
    let capped = base.min(300_000.0);
    (capped * (0.5 + 0.5 * jitter_unit.clamp(0.0, 1.0))) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(retry_delay_ms(1, 1.0), 2_000);
        assert_eq!(retry_delay_ms(2, 1.0), 4_000);
        assert_eq!(retry_delay_ms(3, 0.0), 4_000);
        assert_eq!(retry_delay_ms(30, 1.0), 300_000);
        assert!(retry_delay_ms(30, 0.0) >= 150_000);
    }

    #[test]
    fn failures_round_trip_and_old_text_stays_hidden() {
        for failure in JobFailure::ALL {
            assert_eq!(JobFailure::parse(failure.code()), failure);
            let stored = update_error(JobKind::Transcribe, failure);
            assert_eq!(parse_update_error(&stored), (Some(JobKind::Transcribe), failure));
        }
        let old = "transcode failed: cannot read s3://bucket/updates/x/source: AccessDenied";
        assert_eq!(parse_update_error(old), (None, JobFailure::Internal));
        assert_eq!(JobFailure::parse("media process crashed (signal 9)"), JobFailure::Internal);
    }

    #[test]
    fn kinds_round_trip() {
        for kind in JobKind::ALL {
            assert_eq!(JobKind::parse(kind.as_str()), Some(kind));
        }
    }
}
