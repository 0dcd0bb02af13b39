//! The messages between the service and a `bulletin media` child.

use std::path::PathBuf;

use bulletin_workers::probe::ProbeLimits;
use bulletin_workers::storyboard::{Storyboard, StoryboardOptions};
use bulletin_workers::transcode::{TranscodeOptions, TranscodeReport};
use bulletin_workers::transcribe::TranscribeOptions;
use serde::{Deserialize, Serialize};

/// One media step. Sent as JSON on the child's stdin.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaRequest {
    Probe {
        input: PathBuf,
        limits: ProbeLimits,
    },
    /// Judge the part of an upload received so far (see `probe::early_verdict`).
    EarlyVerdict {
        input: PathBuf,
        limits: ProbeLimits,
    },
    /// Writes [`MediaObject::TRANSCODED`](crate::storage::MediaObject::TRANSCODED) into `out_dir`, under their file names.
    Transcode {
        input: PathBuf,
        out_dir: PathBuf,
        options: TranscodeOptions,
        poster_width: u32,
        storyboard: StoryboardOptions,
    },
    Transcribe {
        input: PathBuf,
        model: PathBuf,
        options: TranscribeOptions,
    },
}

/// Sent back on stdout as the last line: `{"Ok": …}` or `{"Err": …}`.
pub type ChildResult<T, E> = Result<T, E>;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TranscodeOutput {
    pub report: TranscodeReport,
    pub storyboard: Storyboard,
}

/// Progress lines on stderr look like `progress 42`.
pub const PROGRESS_PREFIX: &str = "progress ";
