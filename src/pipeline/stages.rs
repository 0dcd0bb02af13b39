//! The stage graph and the work of each stage.
//!
//! An accepted upload starts [`FIRST`]: `transcode` and `transcribe` side by
//! side. A stored transcript starts `index`. The update is ready once every
//! one of its jobs is done. A stage reads its inputs from the store, runs its
//! media step in a child process, and returns what to store; [`complete`]
//! stores that atomically with marking the job done, together with the jobs
//! the graph starts next. Adding a stage is a `JobKind`, a line in [`after`]
//! and an arm in [`run`] and [`completion`], all here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bulletin_workers::storyboard::StoryboardOptions;
use bulletin_workers::transcode::TranscodeOptions;
use bulletin_workers::transcribe::TranscribeOptions;
use tokio::sync::watch;

use super::Services;
use crate::db::jobs::{self, ClaimedJob, Completion, QueueError, StoredTranscript};
use crate::db::{glossary, search_feed, updates, DbError};
use crate::domain::transcript::TranscriptSegment;
use crate::domain::{JobFailure, JobKind, UpdateId};
use crate::media::{MediaRequest, StepError};
use crate::search::SearchError;
use crate::storage::{attempt_prefix, media_key, output_key, update_prefix, MediaObject, StorageError};

/// The stages an accepted upload starts with.
pub const FIRST: [JobKind; 2] = [JobKind::Transcode, JobKind::Transcribe];

/// The stages a finished `kind` starts.
pub fn after(kind: JobKind) -> &'static [JobKind] {
    match kind {
        JobKind::Transcode => &[],
        JobKind::Transcribe => &[JobKind::Index],
        JobKind::Index => &[],
    }
}

/// Whether `kind` runs in a process that owns a search index (`serve`)
/// rather than in any media worker.
pub fn needs_search_index(kind: JobKind) -> bool {
    matches!(kind, JobKind::Index)
}

const POSTER_WIDTH: u32 = 1280;

#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error(transparent)]
    Step(#[from] StepError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error("the data folder's disk is down to its reserve")]
    DiskFull,
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

    /// What people are told; the error itself goes to the log.
    pub fn failure(&self) -> JobFailure {
        match self {
            StageError::Step(StepError::Media(_)) => JobFailure::MediaUnreadable,
            StageError::Step(StepError::Crashed(_)) => JobFailure::MediaCrashed,
            StageError::Step(StepError::TimedOut(_)) => JobFailure::MediaTimedOut,
            StageError::Step(StepError::Spawn(_) | StepError::Busy) => JobFailure::MediaUnavailable,
            StageError::Storage(_) => JobFailure::StorageUnavailable,
            StageError::Db(_) => JobFailure::DatabaseUnavailable,
            StageError::Search(_) => JobFailure::IndexUnavailable,
            StageError::DiskFull => JobFailure::DiskFull,
            StageError::Internal(_) => JobFailure::Internal,
        }
    }
}

/// What a stage produced, to be stored when its job completes.
#[derive(Debug, Clone)]
pub enum StageOutput {
    /// Outputs stored under `attempt`'s folder (see `storage::output_key`).
    Transcoded {
        storyboard_json: String,
        attempt: i64,
    },
    Transcribed {
        language: String,
        segments: Vec<(TranscriptSegment, Option<String>)>,
        /// The glossary version whose terms went to whisper.
        glossary_version: i64,
        /// Those of its terms that fit whisper's prompt window.
        prompt_terms: Vec<String>,
    },
    Indexed,
}

/// Do the work of `job`, reporting progress (0–100) as it goes.
pub async fn run(
    services: &Services,
    job: &ClaimedJob,
    progress: watch::Sender<u8>,
) -> Result<StageOutput, StageError> {
    let mut report = move |p: u8| {
        progress.send_replace(p.min(100));
    };
    match job.kind {
        JobKind::Transcode => transcode(services, job, &mut report).await,
        JobKind::Transcribe => transcribe(services, job, &mut report).await,
        JobKind::Index => index(services, job).await,
    }
}

/// Store `output` and mark `job` done, starting what the graph says comes next
/// and making the update ready when nothing is left; then wake whoever that concerns.
pub async fn complete(services: &Services, job: &ClaimedJob, output: StageOutput) -> Result<(), QueueError> {
    let completion = completion(job.kind, output);
    jobs::complete(&services.db, job, &completion).await?;
    if let Some(attempt) = completion.media_attempt {
        remove_other_outputs(services, &job.update_id, attempt).await;
    }
    if !completion.next.is_empty() {
        services.wake.jobs_enqueued().await;
    }
    if completion.transcript.is_some() {
        services.wake.search_changed().await;
    }
    Ok(())
}

/// Once the update shows `current`'s outputs, those of other attempts (and of the
/// layout from before attempts had folders) are no longer served: remove them.
/// What fails here is left to the janitor.
async fn remove_other_outputs(services: &Services, id: &UpdateId, current: i64) {
    let keys = match services.store.list(&update_prefix(id)).await {
        Ok(keys) => keys,
        Err(e) => {
            tracing::warn!(update = %id, error = %e, "cannot list earlier outputs");
            return;
        }
    };
    let (keep, source) = (attempt_prefix(id, current), media_key(id, MediaObject::Source));
    for key in keys.iter().filter(|key| **key != source && !key.starts_with(&keep)) {
        if let Err(e) = services.store.delete_prefix(key).await {
            tracing::warn!(update = %id, %key, error = %e, "cannot remove an earlier output");
        }
    }
}

/// What storing `output` of a finished `kind` writes, with the stages it starts.
pub(crate) fn completion(kind: JobKind, output: StageOutput) -> Completion {
    let next = after(kind).to_vec();
    match output {
        StageOutput::Transcoded { storyboard_json, attempt } => {
            Completion { storyboard_json: Some(storyboard_json), media_attempt: Some(attempt), transcript: None, next }
        }
        StageOutput::Transcribed { language, segments, glossary_version, prompt_terms } => {
            let transcript = StoredTranscript { language, segments, glossary_version, prompt_terms };
            Completion { storyboard_json: None, media_attempt: None, transcript: Some(transcript), next }
        }
        StageOutput::Indexed => Completion { storyboard_json: None, media_attempt: None, transcript: None, next },
    }
}

async fn transcode(
    services: &Services,
    job: &ClaimedJob,
    report: &mut (dyn FnMut(u8) + Send),
) -> Result<StageOutput, StageError> {
    let (work_dir, input) = ScratchDir::with_source(services, job).await?;
    let request = MediaRequest::Transcode {
        input,
        out_dir: work_dir.path().to_path_buf(),
        options: TranscodeOptions::default(),
        poster_width: POSTER_WIDTH,
        storyboard: StoryboardOptions::default(),
    };
    let output = services.media.transcode(request, report).await?;
    // Each attempt stores under its own folder and the fenced commit switches the
    // update to it, so a worker that loses its lease, even between this check and
    // its last byte, never overwrites what is served. (The check only saves work.)
    if !jobs::still_held(&services.db, job).await? {
        return Err(StageError::Internal("lease lost before storing outputs".into()));
    }
    for object in MediaObject::TRANSCODED {
        let local = work_dir.path().join(object.file_name());
        services.store.put_file(&output_key(&job.update_id, object, Some(job.attempt)), &local).await?;
    }
    let storyboard_json = serde_json::to_string(&output.storyboard).map_err(|e| StageError::Internal(e.to_string()))?;
    Ok(StageOutput::Transcoded { storyboard_json, attempt: job.attempt })
}

async fn transcribe(
    services: &Services,
    job: &ClaimedJob,
    report: &mut (dyn FnMut(u8) + Send),
) -> Result<StageOutput, StageError> {
    let (_scratch, input) = ScratchDir::with_source(services, job).await?;
    let update = updates::get(&services.db, &job.update_id).await?;
    // Read per job: a glossary edit applies to the next transcription without a restart.
    let channel = update.as_ref().and_then(|u| u.channel.as_ref()).map_or(0, |c| c.id);
    let (glossary, glossary_version) = glossary::get_versioned(&services.db, channel).await?;
    // What the uploader declared; otherwise whisper tells (or, English-only, assumes English).
    let language = update.as_ref().and_then(|u| u.declared_language.clone());
    let options =
        TranscribeOptions { threads: services.config.whisper_threads, glossary: glossary.terms().to_vec(), language };
    let started = std::time::Instant::now();
    let transcript = services.media.transcribe(&input, &services.config.whisper_model, &options, report).await?;
    if let Some(update) = &update {
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
    let prompt_terms = transcript.prompt_terms;
    Ok(StageOutput::Transcribed { language: transcript.language, segments, glossary_version, prompt_terms })
}

/// Bring this process's index up to the feed, which holds the transcript,
/// and commit it: "indexed" always means searchable on the server that ran it.
/// The index's own follower applies the same feed, under the same lock, so
/// every change is applied once whichever of them comes first.
async fn index(services: &Services, job: &ClaimedJob) -> Result<StageOutput, StageError> {
    let search =
        services.search.as_ref().ok_or_else(|| StageError::Internal("this process has no search index".into()))?;
    let wanted = search_feed::latest_for(&services.db, &job.update_id).await?.unwrap_or(0);
    let applied = search.catch_up(&services.db).await?;
    if applied < wanted {
        // A change before ours is not visible yet (PostgreSQL hands out sequence
        // numbers before commit): try again shortly, as the follower does.
        return Err(StageError::Internal(format!("the search feed has a gap before change {wanted}")));
    }
    Ok(StageOutput::Indexed)
}

/// A per-attempt working folder, removed however the stage ends.
struct ScratchDir(PathBuf);

impl ScratchDir {
    /// The folder for this attempt of `job`, and the update's source as a local
    /// file (in it, unless the store is a local folder).
    async fn with_source(services: &Services, job: &ClaimedJob) -> Result<(ScratchDir, PathBuf), StageError> {
        let path = services.config.job_tmp_dir().join(format!("{}-{}", job.id, job.attempt));
        // A previous attempt with the same number cannot exist, but a crash may leave one: start clean.
        let _ = tokio::fs::remove_dir_all(&path).await;
        tokio::fs::create_dir_all(&path).await.map_err(|e| StageError::Internal(format!("scratch folder: {e}")))?;
        let dir = ScratchDir(path);
        // Outputs (and, from S3, a copy of the source) go to the data folder's disk:
        // a stage that could fill it waits for space, as uploads do.
        let source_key = media_key(&job.update_id, MediaObject::Source);
        let needed = services.store.stat(&source_key).await?.len.saturating_mul(3);
        if !services.config.disk_reserve().room_for(needed) {
            return Err(StageError::DiskFull);
        }
        let source = services.store.local_copy(&source_key, dir.path()).await?;
        Ok((dir, source))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_is_reachable_and_the_graph_ends() {
        let mut seen: Vec<JobKind> = FIRST.to_vec();
        let mut frontier = FIRST.to_vec();
        for _ in 0..JobKind::ALL.len() {
            frontier = frontier.iter().flat_map(|k| after(*k).iter().copied()).collect();
            seen.extend(frontier.iter().copied());
        }
        assert!(frontier.is_empty(), "the stage graph has a cycle");
        for kind in JobKind::ALL {
            assert!(seen.contains(&kind), "{kind:?} is never started");
        }
    }
}
