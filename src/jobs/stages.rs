//! The work of each job kind. A stage reads its inputs from the store, runs
//! the media step in a child process, and returns what to store; the caller
//! stores it atomically with marking the job done.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bulletin_workers::storyboard::StoryboardOptions;
use bulletin_workers::transcode::TranscodeOptions;
use bulletin_workers::transcribe::TranscribeOptions;
use tokio::sync::watch;

use crate::app::Services;
use crate::db::jobs::{self, ClaimedJob, JobOutput};
use crate::db::{glossary, search_feed, updates, DbError};
use crate::domain::transcript::TranscriptSegment;
use crate::domain::JobKind;
use crate::media::{MediaRequest, StepError};
use crate::storage::{media_key, MediaObject, StorageError};

/// Longest an index job waits for this server's index to apply a transcript.
const INDEX_WAIT: Duration = Duration::from_secs(120);
const POSTER_WIDTH: u32 = 1280;

#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error(transparent)]
    Step(#[from] StepError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Internal(String),
}

impl StageError {
    pub fn retryable(&self) -> bool {
        match self {
            StageError::Step(step) => step.retryable(),
            _ => true,
        }
    }
}

pub async fn run(services: &Services, job: &ClaimedJob, progress: watch::Sender<u8>) -> Result<JobOutput, StageError> {
    let mut report = move |p: u8| {
        progress.send_replace(p.min(100));
    };
    match job.kind {
        JobKind::Transcode => transcode(services, job, &mut report).await,
        JobKind::Transcribe => transcribe(services, job, &mut report).await,
        JobKind::Index => index(services, job).await,
    }
}

async fn transcode(
    services: &Services,
    job: &ClaimedJob,
    report: &mut (dyn FnMut(u8) + Send),
) -> Result<JobOutput, StageError> {
    let work_dir =
        ScratchDir::create(services.config.job_tmp_dir().join(format!("{}-{}", job.id, job.attempt))).await?;
    let input = services.store.local_copy(&media_key(&job.update_id, MediaObject::Source), work_dir.path()).await?;
    let request = MediaRequest::Transcode {
        input,
        out_dir: work_dir.path().to_path_buf(),
        options: TranscodeOptions::default(),
        poster_width: POSTER_WIDTH,
        storyboard: StoryboardOptions::default(),
    };
    let output = services.media.transcode(request, report).await?;
    // Outputs go under fixed keys, so a rerun overwrites rather than duplicates;
    // a worker that lost its lease does not touch them at all.
    if !jobs::still_held(&services.db, job).await? {
        return Err(StageError::Internal("lease lost before storing outputs".into()));
    }
    for object in [MediaObject::Video, MediaObject::Poster, MediaObject::Storyboard] {
        let local = work_dir.path().join(object.file_name());
        services.store.put_file(&media_key(&job.update_id, object), &local).await?;
    }
    let storyboard_json = serde_json::to_string(&output.storyboard).map_err(|e| StageError::Internal(e.to_string()))?;
    Ok(JobOutput::Transcoded { storyboard_json })
}

async fn transcribe(
    services: &Services,
    job: &ClaimedJob,
    report: &mut (dyn FnMut(u8) + Send),
) -> Result<JobOutput, StageError> {
    let work_dir =
        ScratchDir::create(services.config.job_tmp_dir().join(format!("{}-{}", job.id, job.attempt))).await?;
    let input = services.store.local_copy(&media_key(&job.update_id, MediaObject::Source), work_dir.path()).await?;
    // Read per job: a glossary edit applies to the next transcription without a restart.
    let initial_prompt = glossary::get(&services.db).await?.prompt();
    let options =
        TranscribeOptions { threads: services.config.whisper_threads, initial_prompt, ..TranscribeOptions::default() };
    let started = std::time::Instant::now();
    let transcript = services.media.transcribe(&input, &services.config.whisper_model, &options, report).await?;
    if let Some(update) = updates::get(&services.db, &job.update_id).await? {
        let media = Duration::from_millis(update.duration_ms.max(0) as u64);
        services.metrics.observe_transcription(started.elapsed(), media);
    }
    let segments = transcript
        .segments
        .into_iter()
        .map(|s| {
            let words = (!s.words.is_empty()).then(|| serde_json::to_string(&s.words).unwrap_or_default());
            (TranscriptSegment { start_ms: s.start_ms as i64, end_ms: s.end_ms as i64, text: s.text }, words)
        })
        .collect();
    Ok(JobOutput::Transcribed { language: transcript.language, segments })
}

async fn index(services: &Services, job: &ClaimedJob) -> Result<JobOutput, StageError> {
    let search =
        services.search.as_ref().ok_or_else(|| StageError::Internal("this process has no search index".into()))?;
    let seq = search_feed::latest_for(&services.db, &job.update_id).await?.unwrap_or(0);
    // The index commits before this job is marked done: "indexed" always means searchable here.
    if !search.wait_applied(seq, INDEX_WAIT).await {
        return Err(StageError::Internal(format!("search index did not reach change {seq} in time")));
    }
    Ok(JobOutput::Indexed)
}

/// A per-attempt working folder, removed however the stage ends.
struct ScratchDir(PathBuf);

impl ScratchDir {
    async fn create(path: PathBuf) -> Result<ScratchDir, StageError> {
        // A previous attempt with the same number cannot exist, but a crash may leave one: start clean.
        let _ = tokio::fs::remove_dir_all(&path).await;
        tokio::fs::create_dir_all(&path).await.map_err(|e| StageError::Internal(format!("scratch folder: {e}")))?;
        Ok(ScratchDir(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
