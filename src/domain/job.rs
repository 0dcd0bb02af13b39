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
    fn kinds_round_trip() {
        for kind in JobKind::ALL {
            assert_eq!(JobKind::parse(kind.as_str()), Some(kind));
        }
    }
}
