//! The queue's claim, lease and fence rules, on a real SQLite database (and on
//! PostgreSQL too when `BULLETIN_TEST_POSTGRES_URL` names one).

use super::jobs::{self, QueueError};
use super::test_databases::databases;
use super::updates::{self, NewUpdate};
use super::{on_pool, Db};
use crate::clock::now_ms;
use crate::domain::{JobFailure, JobKind, JobState, UpdateId, UpdateStatus};
use crate::pipeline::stages::{completion, StageOutput, FIRST};

async fn new_update(db: &Db) -> UpdateId {
    let id = UpdateId::generate(now_ms());
    let new = NewUpdate {
        id: id.clone(),
        title: "t".into(),
        description: String::new(),
        duration_ms: 1000,
        width: 2,
        height: 2,
        has_audio: true,
        source_bytes: 1,
        media_info_json: "{}".into(),
        author_id: None,
        channel_id: 1,
        created_at: now_ms(),
        ask: Vec::new(),
        reply_to: None,
        reply_at_ms: None,
        declared_language: None,
        original_type: None,
    };
    updates::insert_with_jobs(db, &new, &FIRST, 2).await.unwrap();
    id
}

/// Make every running lease of this update look expired.
async fn expire_leases(db: &Db, id: &UpdateId) {
    on_pool!(db, |pool| sqlx::query("UPDATE jobs SET lease_until = 0 WHERE update_id = $1 AND state = 'running'")
        .bind(id.as_str())
        .execute(pool)
        .await
        .map(|_| ())
        .unwrap());
}

async fn make_due(db: &Db, id: &UpdateId) {
    on_pool!(db, |pool| sqlx::query("UPDATE jobs SET run_at = 0 WHERE update_id = $1")
        .bind(id.as_str())
        .execute(pool)
        .await
        .map(|_| ())
        .unwrap());
}

#[tokio::test]
async fn a_job_is_claimed_once_and_a_stale_worker_is_fenced_out() {
    for (db, _guard) in databases().await {
        let id = new_update(&db).await;
        let kinds = [JobKind::Transcribe];
        let first = loop {
            let job = jobs::claim(&db, &kinds, "w1", 60_000).await.unwrap().expect("a job");
            if job.update_id == id {
                break job;
            }
        };
        assert_eq!(first.attempt, 1);
        // Held: nobody else gets it.
        let other = jobs::claim(&db, &kinds, "w2", 60_000).await.unwrap();
        assert!(other.is_none_or(|j| j.update_id != id));

        // w1 goes silent; its lease runs out and w2 reclaims the job.
        expire_leases(&db, &id).await;
        let second = jobs::claim(&db, &kinds, "w2", 60_000).await.unwrap().expect("reclaimed");
        assert_eq!((second.id, second.attempt), (first.id, 2));

        // The old worker can neither heartbeat nor store results.
        assert!(matches!(jobs::heartbeat(&db, &first, 60_000, 50).await, Err(QueueError::Fenced(_))));
        let transcribed = || StageOutput::Transcribed {
            language: "en".into(),
            segments: vec![],
            glossary_version: 0,
            prompt_terms: vec![],
        };
        let stale = completion(JobKind::Transcribe, transcribed());
        assert!(matches!(jobs::complete(&db, &first, &stale).await, Err(QueueError::Fenced(_))));
        assert!(matches!(jobs::fail(&db, &first, JobFailure::MediaCrashed, true).await, Err(QueueError::Fenced(_))));

        // The new owner can.
        jobs::heartbeat(&db, &second, 60_000, 50).await.unwrap();
        jobs::complete(&db, &second, &completion(JobKind::Transcribe, transcribed())).await.unwrap();
        let stages = updates::get(&db, &id).await.unwrap().expect("the update").stages;
        let transcribe = stages.iter().find(|s| s.kind == JobKind::Transcribe).unwrap();
        assert_eq!(transcribe.state, JobState::Done);
        // A stored transcript enqueues indexing.
        assert!(stages.iter().any(|s| s.kind == JobKind::Index && s.state == JobState::Queued));
    }
}

#[tokio::test]
async fn failures_retry_with_backoff_then_fail_the_update() {
    for (db, _guard) in databases().await {
        let id = new_update(&db).await;
        let kinds = [JobKind::Transcode];
        let claim_mine = || async {
            loop {
                match jobs::claim(&db, &kinds, "w", 60_000).await.unwrap() {
                    Some(job) if job.update_id == id => return Some(job),
                    Some(_) => continue,
                    None => return None,
                }
            }
        };
        let job = claim_mine().await.expect("job");
        assert_eq!(jobs::fail(&db, &job, JobFailure::MediaCrashed, true).await.unwrap(), JobState::Queued);
        // Backoff: not due yet.
        assert!(claim_mine().await.is_none());
        make_due(&db, &id).await;
        let job = claim_mine().await.expect("due again");
        assert_eq!(job.attempt, 2);
        // max_attempts is 2: this failure is final.
        assert_eq!(jobs::fail(&db, &job, JobFailure::MediaTimedOut, true).await.unwrap(), JobState::Failed);
        let update = updates::get(&db, &id).await.unwrap().unwrap();
        assert_eq!(update.status, UpdateStatus::Failed);
        assert_eq!(update.error.as_deref(), Some("transcode:media_timed_out"));

        // An operator retry gives it new attempts; the attempt number only grows, so
        // the worker of the failed attempt stays fenced out.
        assert!(jobs::retry(&db, job.id, 2).await.unwrap());
        assert_eq!(updates::get(&db, &id).await.unwrap().unwrap().status, UpdateStatus::Processing);
        let retried = claim_mine().await.expect("retried");
        assert_eq!((retried.attempt, retried.max_attempts), (3, 4));
        let stale =
            completion(JobKind::Transcode, StageOutput::Transcoded { storyboard_json: "{}".into(), attempt: 1 });
        assert!(matches!(jobs::complete(&db, &job, &stale).await, Err(QueueError::Fenced(_))));
    }
}

#[tokio::test]
async fn permanent_errors_fail_at_once_and_released_jobs_keep_their_attempts() {
    for (db, _guard) in databases().await {
        let id = new_update(&db).await;
        let claim = |kind| {
            let db = db.clone();
            let id = id.clone();
            async move {
                loop {
                    match jobs::claim(&db, &[kind], "w", 60_000).await.unwrap() {
                        Some(job) if job.update_id == id => return job,
                        Some(_) => continue,
                        None => panic!("no job"),
                    }
                }
            }
        };
        let job = claim(JobKind::Transcribe).await;
        jobs::release(&db, &job).await.unwrap();
        let again = claim(JobKind::Transcribe).await;
        assert_eq!(again.attempt, 2);
        assert_eq!(again.max_attempts, 3, "a released attempt is not charged");

        let transcode = claim(JobKind::Transcode).await;
        assert_eq!(jobs::fail(&db, &transcode, JobFailure::MediaUnreadable, false).await.unwrap(), JobState::Failed);
        assert_eq!(updates::get(&db, &id).await.unwrap().unwrap().status, UpdateStatus::Failed);
    }
}

#[tokio::test]
async fn update_is_ready_only_when_every_stage_is_done() {
    for (db, _guard) in databases().await {
        let id = new_update(&db).await;
        let mut done = Vec::new();
        for kind in [JobKind::Transcode, JobKind::Transcribe, JobKind::Index] {
            let job = loop {
                let job = jobs::claim(&db, &[kind], "w", 60_000).await.unwrap().expect("job");
                if job.update_id == id {
                    break job;
                }
            };
            assert_eq!(updates::get(&db, &id).await.unwrap().unwrap().status, UpdateStatus::Processing);
            let output = match kind {
                JobKind::Transcode => StageOutput::Transcoded { storyboard_json: "{\"tiles\":[]}".into(), attempt: 1 },
                JobKind::Transcribe => StageOutput::Transcribed {
                    language: "en".into(),
                    segments: vec![],
                    glossary_version: 0,
                    prompt_terms: vec![],
                },
                JobKind::Index => StageOutput::Indexed,
            };
            jobs::complete(&db, &job, &completion(kind, output)).await.unwrap();
            done.push(kind);
        }
        assert_eq!(updates::get(&db, &id).await.unwrap().unwrap().status, UpdateStatus::Ready);
    }
}

/// The last two stages of an update finish at the same moment, 200 times: the
/// update ends `ready` every time (under PostgreSQL's READ COMMITTED each used to
/// see the other still running, and neither marked it ready).
#[tokio::test]
async fn stages_finishing_together_always_leave_the_update_ready() {
    for (db, _guard) in databases().await {
        let mut ids = Vec::new();
        for _ in 0..200 {
            ids.push(new_update(&db).await);
        }
        // Run every update to the point where transcode and index are both running.
        let mut pairs = std::collections::HashMap::new();
        let all = [JobKind::Transcode, JobKind::Transcribe];
        while let Some(job) = jobs::claim(&db, &all, "w", 60_000).await.unwrap() {
            if job.kind == JobKind::Transcribe {
                let transcribed = StageOutput::Transcribed {
                    language: "en".into(),
                    segments: vec![],
                    glossary_version: 0,
                    prompt_terms: vec![],
                };
                jobs::complete(&db, &job, &completion(JobKind::Transcribe, transcribed)).await.unwrap();
            } else {
                let id = job.update_id.clone();
                pairs.entry(id).or_insert((None, None)).0 = Some(job);
            }
        }
        while let Some(job) = jobs::claim(&db, &[JobKind::Index], "w", 60_000).await.unwrap() {
            let id = job.update_id.clone();
            pairs.entry(id).or_insert((None, None)).1 = Some(job);
        }
        assert_eq!(pairs.len(), ids.len());
        for (id, (transcode, index)) in pairs {
            let (transcode, index) = (transcode.expect("transcode"), index.expect("index"));
            let transcoded =
                completion(JobKind::Transcode, StageOutput::Transcoded { storyboard_json: "{}".into(), attempt: 1 });
            let indexed = completion(JobKind::Index, StageOutput::Indexed);
            let (a, b) =
                tokio::join!(jobs::complete(&db, &transcode, &transcoded), jobs::complete(&db, &index, &indexed));
            a.unwrap();
            b.unwrap();
            let update = updates::get(&db, &id).await.unwrap().unwrap();
            assert_eq!(update.status, UpdateStatus::Ready, "{id}");
        }
    }
}

/// Each transcode attempt stores its outputs in its own folder; the fenced commit
/// switches the update to the attempt that completes. A worker that lost the job
/// (even after its last check) cannot make the update show its outputs.
#[tokio::test]
async fn only_the_completing_attempt_s_outputs_are_shown() {
    for (db, _guard) in databases().await {
        let id = new_update(&db).await;
        let claim = || async {
            loop {
                let job = jobs::claim(&db, &[JobKind::Transcode], "w", 60_000).await.unwrap().expect("a job");
                if job.update_id == id {
                    return job;
                }
            }
        };
        let first = claim().await;
        expire_leases(&db, &id).await;
        let second = claim().await;
        assert_eq!((first.attempt, second.attempt), (1, 2));
        let output =
            |attempt| completion(JobKind::Transcode, StageOutput::Transcoded { storyboard_json: "{}".into(), attempt });
        jobs::complete(&db, &second, &output(2)).await.unwrap();
        assert!(matches!(jobs::complete(&db, &first, &output(1)).await, Err(QueueError::Fenced(_))));
        assert_eq!(updates::get(&db, &id).await.unwrap().unwrap().media_attempt, Some(2));
    }
}
