//! The durable job queue: claim with a lease, heartbeat, complete or fail,
//! every write fenced on the attempt number.
//!
//! A claim increments `attempt`; the worker then proves it still owns the job
//! by matching `(id, attempt, state = 'running')` on every later write. A
//! worker whose lease expired and whose job was reclaimed matches nothing, so
//! it can neither extend the new lease nor store its (stale) results.

use sqlx::Row;

use super::updates::retimed;
use super::{in_write_tx, on_pool, Db, DbError};
use crate::domain::job::{retry_delay_ms, update_error};
use crate::domain::transcript::{same_line, word_count, TranscriptSegment};
use crate::domain::{JobFailure, JobKind, JobState, UpdateId};

/// A job this worker holds a lease on.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: i64,
    pub update_id: UpdateId,
    pub kind: JobKind,
    pub attempt: i64,
    pub max_attempts: i64,
}

/// What storing a finished job writes besides marking it done, all in the
/// same transaction. The pipeline's stage graph decides what goes in it.
#[derive(Debug, Clone, Default)]
pub struct Completion {
    pub storyboard_json: Option<String>,
    /// The attempt whose transcode outputs the update shows from now on.
    pub media_attempt: Option<i64>,
    pub transcript: Option<StoredTranscript>,
    /// Jobs to start now (started afresh if the update had them already).
    pub next: Vec<JobKind>,
}

/// A transcript replacing the update's previous one.
#[derive(Debug, Clone)]
pub struct StoredTranscript {
    pub language: String,
    /// Each line, with its word timings as JSON when the model gave them.
    pub segments: Vec<(TranscriptSegment, Option<String>)>,
    pub glossary_version: i64,
    /// The glossary terms whisper was given (those that fit its prompt window).
    pub prompt_terms: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The lease was lost: another worker owns the job now.
    #[error("job {0} is no longer held by this worker")]
    Fenced(i64),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for QueueError {
    fn from(e: sqlx::Error) -> Self {
        QueueError::Db(DbError::Sqlx(e))
    }
}

/// A row of `bulletin jobs list`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct JobSummary {
    pub id: i64,
    pub update_id: String,
    pub kind: String,
    pub state: String,
    pub attempt: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub worker: Option<String>,
    pub last_error: Option<String>,
}

fn kinds_sql(kinds: &[JobKind]) -> String {
    // Safe to inline: these strings come from the closed JobKind enum.
    kinds.iter().map(|k| format!("'{}'", k.as_str())).collect::<Vec<_>>().join(", ")
}

/// Claim the next due job of the given kinds: a queued job whose time has
/// come, or a running one whose worker stopped renewing its lease.
pub async fn claim(db: &Db, kinds: &[JobKind], worker: &str, lease_ms: i64) -> Result<Option<ClaimedJob>, DbError> {
    let now = db.now_ms().await?;
    let candidates = format!(
        "SELECT id FROM jobs WHERE kind IN ({}) AND ((state = 'queued' AND run_at <= $3) \
         OR (state = 'running' AND lease_until < $3 AND attempt < max_attempts)) ORDER BY run_at, id LIMIT 1",
        kinds_sql(kinds)
    );
    let returning = "RETURNING id, update_id, kind, attempt, max_attempts";
    let set = "UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_until = $1, worker = $2, \
               progress = 0, updated_at = $3";
    type Claimed = (i64, String, String, i64, i64);
    let row: Option<Claimed> = match db {
        // One statement is atomic in SQLite; the writer lock serialises claims.
        Db::Sqlite(pool) => {
            let sql = format!("{set} WHERE id = ({candidates}) {returning}");
            sqlx::query_as(&sql).bind(now + lease_ms).bind(worker).bind(now).fetch_optional(pool).await?
        }
        // SKIP LOCKED lets concurrent workers each take a different row without waiting.
        Db::Postgres(pool) => {
            let sql = format!("{set} WHERE id = ({candidates} FOR UPDATE SKIP LOCKED) {returning}");
            sqlx::query_as(&sql).bind(now + lease_ms).bind(worker).bind(now).fetch_optional(pool).await?
        }
    };
    let Some((id, update_id, kind, attempt, max_attempts)) = row else { return Ok(None) };
    Ok(Some(ClaimedJob {
        id,
        update_id: UpdateId::from_trusted(update_id),
        kind: JobKind::parse(&kind).ok_or_else(|| DbError::Corrupt(format!("job kind {kind}")))?,
        attempt,
        max_attempts,
    }))
}

/// Extend the lease and record progress. `Fenced` means stop: the job moved on.
pub async fn heartbeat(db: &Db, job: &ClaimedJob, lease_ms: i64, progress: i64) -> Result<(), QueueError> {
    let now = db.now_ms().await?;
    let sql = "UPDATE jobs SET lease_until = $1, progress = $2, updated_at = $3 \
               WHERE id = $4 AND attempt = $5 AND state = 'running'";
    let affected = on_pool!(db, |pool| sqlx::query(sql)
        .bind(now + lease_ms)
        .bind(progress)
        .bind(now)
        .bind(job.id)
        .bind(job.attempt)
        .execute(pool)
        .await?
        .rows_affected());
    if affected == 0 {
        return Err(QueueError::Fenced(job.id));
    }
    Ok(())
}

/// Whether this worker still holds the job (checked before moving outputs into place).
pub async fn still_held(db: &Db, job: &ClaimedJob) -> Result<bool, DbError> {
    let sql = "SELECT 1 AS held FROM jobs WHERE id = $1 AND attempt = $2 AND state = 'running'";
    on_pool!(db, |pool| Ok(sqlx::query(sql).bind(job.id).bind(job.attempt).fetch_optional(pool).await?.is_some()))
}

/// Mark the job done and store what `completion` says, atomically; the update
/// is ready when this was its last outstanding job. A new transcript goes into
/// the search change feed in the same transaction, so every index learns of it.
pub async fn complete(db: &Db, job: &ClaimedJob, completion: &Completion) -> Result<(), QueueError> {
    let now = db.now_ms().await?;
    let id = job.update_id.as_str();
    in_write_tx!(db, |tx| {
        // Lock the update's row first (a write that changes nothing; on SQLite it takes
        // the write lock). Two stages of one update finishing at once then take turns,
        // so the second sees the first done and marks the update ready: under
        // PostgreSQL's READ COMMITTED, without it, each saw the other still running.
        sqlx::query("UPDATE updates SET status = status WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let fenced = sqlx::query(
            "UPDATE jobs SET state = 'done', progress = 100, lease_until = NULL, updated_at = $1 \
             WHERE id = $2 AND attempt = $3 AND state = 'running'",
        )
        .bind(now)
        .bind(job.id)
        .bind(job.attempt)
        .execute(&mut *tx)
        .await?;
        if fenced.rows_affected() == 0 {
            return Err(QueueError::Fenced(job.id));
        }
        if let Some(storyboard_json) = &completion.storyboard_json {
            // Switching to this attempt's outputs is part of the fenced commit: a
            // worker that lost the job stored its own under another attempt's folder.
            sqlx::query("UPDATE updates SET storyboard = $1, media_attempt = $2 WHERE id = $3")
                .bind(storyboard_json)
                .bind(completion.media_attempt)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(StoredTranscript { language, segments, glossary_version, prompt_terms }) = &completion.transcript {
            // Hand corrections outlive a new transcript where their line still exists.
            let corrected: Vec<(i64, i64, String, Option<i64>, i64)> = sqlx::query_as(
                "SELECT start_ms, end_ms, text, edited_by, edited_at FROM segments \
                 WHERE update_id = $1 AND edited_at IS NOT NULL ORDER BY idx",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            // Replace, never append: a rerun of this stage leaves exactly one transcript.
            sqlx::query("DELETE FROM segments WHERE update_id = $1").bind(id).execute(&mut *tx).await?;
            for (idx, (seg, words)) in segments.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO segments (update_id, idx, start_ms, end_ms, text, words) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(idx as i64)
                .bind(seg.start_ms)
                .bind(seg.end_ms)
                .bind(&seg.text)
                .bind(words)
                .execute(&mut *tx)
                .await?;
            }
            let lines: Vec<(i64, i64)> = segments.iter().map(|(s, _)| (s.start_ms, s.end_ms)).collect();
            let mut texts: Vec<&str> = segments.iter().map(|(s, _)| s.text.as_str()).collect();
            for (start_ms, end_ms, text, by, at) in &corrected {
                match same_line((*start_ms, *end_ms), &lines) {
                    Some(idx) => {
                        let (line, new_words) = &segments[idx];
                        let words = retimed(new_words.as_deref(), text, line.start_ms, line.end_ms);
                        sqlx::query(
                            "UPDATE segments SET original_text = text, text = $1, words = $6, edited_by = $2, \
                             edited_at = $3 WHERE update_id = $4 AND idx = $5",
                        )
                        .bind(text)
                        .bind(by)
                        .bind(at)
                        .bind(id)
                        .bind(idx as i64)
                        .bind(words)
                        .execute(&mut *tx)
                        .await?;
                        texts[idx] = text;
                    }
                    None => {
                        sqlx::query(
                            "INSERT INTO correction_suggestions (update_id, start_ms, end_ms, text, suggested_by, \
                             suggested_at) VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                        .bind(id)
                        .bind(start_ms)
                        .bind(end_ms)
                        .bind(text)
                        .bind(by)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
            }
            let words = word_count(texts);
            let prompt_terms = serde_json::to_string(prompt_terms).map_err(|e| DbError::Corrupt(e.to_string()))?;
            sqlx::query(
                "UPDATE updates SET language = $1, word_count = $2, glossary_version = $3, prompt_terms = $5 \
                 WHERE id = $4",
            )
            .bind(language)
            .bind(words as i64)
            .bind(glossary_version)
            .bind(id)
            .bind(prompt_terms)
            .execute(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO search_changes (update_id, created_at) VALUES ($1, $2)")
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        for kind in &completion.next {
            sqlx::query(
                "INSERT INTO jobs (update_id, kind, state, max_attempts, run_at, created_at, updated_at) \
                 VALUES ($1, $2, 'queued', $3, $4, $4, $4) \
                 ON CONFLICT (update_id, kind) DO UPDATE SET state = 'queued', run_at = $4, \
                 max_attempts = jobs.attempt + excluded.max_attempts, \
                 lease_until = NULL, worker = NULL, progress = 0, last_error = NULL, updated_at = $4",
            )
            .bind(id)
            .bind(kind.as_str())
            .bind(job.max_attempts)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE updates SET status = 'ready', ready_at = $1 WHERE id = $2 AND status = 'processing' \
             AND NOT EXISTS (SELECT 1 FROM jobs WHERE update_id = $2 AND state <> 'done')",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    });
    Ok(())
}

/// Record a failed attempt: retry later with backoff, or fail the job and its
/// update for good when `retryable` is false or the attempts are used up.
pub async fn fail(db: &Db, job: &ClaimedJob, failure: JobFailure, retryable: bool) -> Result<JobState, QueueError> {
    let now = db.now_ms().await?;
    let retry = retryable && job.attempt < job.max_attempts;
    in_write_tx!(db, |tx| {
        let (state, run_at) = if retry {
            (JobState::Queued, now + retry_delay_ms(job.attempt as u32, rand::random::<f64>()))
        } else {
            (JobState::Failed, now)
        };
        let fenced = sqlx::query(
            "UPDATE jobs SET state = $1, run_at = $2, lease_until = NULL, worker = NULL, last_error = $3, updated_at = $4 \
             WHERE id = $5 AND attempt = $6 AND state = 'running'",
        )
        .bind(state.as_str())
        .bind(run_at)
        .bind(failure.code())
        .bind(now)
        .bind(job.id)
        .bind(job.attempt)
        .execute(&mut *tx)
        .await?;
        if fenced.rows_affected() == 0 {
            return Err(QueueError::Fenced(job.id));
        }
        if !retry {
            sqlx::query("UPDATE updates SET status = 'failed', error = $1 WHERE id = $2")
                .bind(update_error(job.kind, failure))
                .bind(job.update_id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        Ok::<JobState, QueueError>(state)
    })
}

/// Fail jobs whose last allowed attempt lost its worker (lease expired), so
/// they do not sit "running" forever. Returns how many were failed.
pub async fn reap_abandoned(db: &Db) -> Result<u64, DbError> {
    let now = db.now_ms().await?;
    let lost = JobFailure::WorkerLost;
    let reaped = in_write_tx!(db, |tx| {
        let rows = sqlx::query(
            "UPDATE jobs SET state = 'failed', last_error = $1, lease_until = NULL, updated_at = $2 \
             WHERE state = 'running' AND lease_until < $2 AND attempt >= max_attempts RETURNING update_id, kind",
        )
        .bind(lost.code())
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        for row in &rows {
            let update_id: String = row.try_get("update_id")?;
            let kind: String = row.try_get("kind")?;
            let kind = JobKind::parse(&kind).ok_or_else(|| DbError::Corrupt(format!("job kind {kind}")))?;
            sqlx::query("UPDATE updates SET status = 'failed', error = $1 WHERE id = $2")
                .bind(update_error(kind, lost))
                .bind(update_id)
                .execute(&mut *tx)
                .await?;
        }
        rows.len() as u64
    });
    Ok(reaped)
}

/// Jobs for the admin CLI, newest first, optionally only one state.
pub async fn list(db: &Db, state: Option<JobState>, limit: i64) -> Result<Vec<JobSummary>, DbError> {
    let sql = "SELECT id, update_id, kind, state, attempt, max_attempts, run_at, worker, last_error FROM jobs \
               WHERE ($1 IS NULL OR state = $1) ORDER BY id DESC LIMIT $2";
    let state = state.map(|s| s.as_str().to_string());
    on_pool!(db, |pool| {
        let rows = sqlx::query(sql).bind(state).bind(limit).fetch_all(pool).await?;
        rows.iter()
            .map(|r| {
                Ok(JobSummary {
                    id: r.try_get("id")?,
                    update_id: r.try_get("update_id")?,
                    kind: r.try_get("kind")?,
                    state: r.try_get("state")?,
                    attempt: r.try_get("attempt")?,
                    max_attempts: r.try_get("max_attempts")?,
                    run_at: r.try_get("run_at")?,
                    worker: r.try_get("worker")?,
                    last_error: r.try_get("last_error")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(DbError::from)
    })
}

/// Give a failed job `fresh_attempts` more attempts and put its update back to
/// processing. The attempt number keeps growing (it is what fences a worker that
/// lost the job); the allowance grows instead. Returns false when there is no
/// failed job with that id.
pub async fn retry(db: &Db, job_id: i64, fresh_attempts: i64) -> Result<bool, DbError> {
    let now = db.now_ms().await?;
    let retried = in_write_tx!(db, |tx| {
        let row = sqlx::query(
            "UPDATE jobs SET state = 'queued', max_attempts = attempt + $3, run_at = $1, updated_at = $1, \
             worker = NULL, lease_until = NULL WHERE id = $2 AND state = 'failed' RETURNING update_id",
        )
        .bind(now)
        .bind(job_id)
        .bind(fresh_attempts.max(1))
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = &row {
            let update_id: String = row.try_get("update_id")?;
            sqlx::query("UPDATE updates SET status = 'processing', error = NULL WHERE id = $1")
                .bind(update_id)
                .execute(&mut *tx)
                .await?;
        }
        row.is_some()
    });
    Ok(retried)
}

/// Give a claimed job back (graceful shutdown): queued again at once, and the
/// attempt it was on does not count. The attempt number itself stays (it only
/// ever grows, which is what fences stale workers); the allowance grows instead.
pub async fn release(db: &Db, job: &ClaimedJob) -> Result<(), QueueError> {
    let now = db.now_ms().await?;
    let sql = "UPDATE jobs SET state = 'queued', max_attempts = max_attempts + 1, run_at = $1, lease_until = NULL, worker = NULL, \
               updated_at = $1 WHERE id = $2 AND attempt = $3 AND state = 'running'";
    let affected = on_pool!(db, |pool| sqlx::query(sql)
        .bind(now)
        .bind(job.id)
        .bind(job.attempt)
        .execute(pool)
        .await?
        .rows_affected());
    if affected == 0 {
        return Err(QueueError::Fenced(job.id));
    }
    Ok(())
}

/// Queue gauges for metrics: jobs waiting or running per (kind, state), and per
/// kind the age in milliseconds of the oldest job that is due but unclaimed.
pub async fn queue_stats(db: &Db) -> Result<(Vec<(String, String, i64)>, Vec<(String, i64)>), DbError> {
    let now = db.now_ms().await?;
    let depth_sql = "SELECT kind, state, COUNT(*) FROM jobs WHERE state IN ('queued', 'running') \
                     GROUP BY kind, state ORDER BY kind, state";
    let age_sql = "SELECT kind, MIN(run_at) FROM jobs WHERE state = 'queued' AND run_at <= $1 \
                   GROUP BY kind ORDER BY kind";
    on_pool!(db, |pool| {
        let depth: Vec<(String, String, i64)> = sqlx::query_as(depth_sql).fetch_all(pool).await?;
        let oldest: Vec<(String, i64)> = sqlx::query_as(age_sql).bind(now).fetch_all(pool).await?;
        Ok((depth, oldest.into_iter().map(|(kind, due)| (kind, (now - due).max(0))).collect()))
    })
}

/// Queue stage `kind` of update `id` again (a re-transcription), unless it is
/// queued or running already, or the update is still processing: `false` then.
/// Its attempts go on counting; it gets `max_attempts` more.
pub async fn run_again(db: &Db, id: &UpdateId, kind: JobKind, max_attempts: u32) -> Result<bool, DbError> {
    let now = db.now_ms().await?;
    let requeued = in_write_tx!(db, |tx| {
        sqlx::query(
            "UPDATE jobs SET state = 'queued', run_at = $1, max_attempts = attempt + $2, lease_until = NULL, \
             worker = NULL, progress = 0, last_error = NULL, updated_at = $1 \
             WHERE update_id = $3 AND kind = $4 AND state IN ('done', 'failed') \
             AND EXISTS (SELECT 1 FROM updates WHERE id = $3 AND status = 'ready')",
        )
        .bind(now)
        .bind(i64::from(max_attempts))
        .bind(id.as_str())
        .bind(kind.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected()
    });
    Ok(requeued == 1)
}
