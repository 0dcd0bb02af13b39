//! Worker loops: claim a job, keep its lease alive while its stage runs, then
//! hand the result to the pipeline or record the failure, all fenced on the attempt.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::db::jobs::{self, ClaimedJob, QueueError};
use crate::domain::JobKind;
use crate::metrics::JobOutcome;
use crate::pipeline::{deletion, stages, Services};

/// How often an idle worker looks for due jobs without being woken.
const IDLE_POLL: Duration = Duration::from_millis(500);
const REAP_EVERY: Duration = Duration::from_secs(10);

/// Start `count` loops that run jobs of `kinds` until `shutdown`.
pub fn spawn_workers(
    services: Services,
    kinds: Vec<JobKind>,
    count: usize,
    shutdown: CancellationToken,
) -> Vec<JoinHandle<()>> {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    (0..count)
        .map(|n| {
            let worker = format!("{host}:{}:{}:{n}", std::process::id(), names.join("+"));
            let (services, kinds, shutdown) = (services.clone(), kinds.clone(), shutdown.clone());
            tokio::spawn(async move { worker_loop(services, kinds, worker, n == 0, shutdown).await })
        })
        .collect()
}

async fn worker_loop(
    services: Services,
    kinds: Vec<JobKind>,
    worker: String,
    reaper: bool,
    shutdown: CancellationToken,
) {
    let lease_ms = (services.config.job_lease_secs * 1000) as i64;
    let mut last_reap = tokio::time::Instant::now() - REAP_EVERY;
    while !shutdown.is_cancelled() {
        if reaper && last_reap.elapsed() >= REAP_EVERY {
            last_reap = tokio::time::Instant::now();
            match jobs::reap_abandoned(&services.db).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(jobs = n, "failed jobs whose workers vanished on their last attempt"),
                Err(e) => tracing::error!(error = %e, "reaping abandoned jobs failed"),
            }
        }
        match jobs::claim(&services.db, &kinds, &worker, lease_ms).await {
            Ok(Some(job)) => run_job(&services, job, lease_ms, &shutdown).await,
            Ok(None) => {
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = services.wake.jobs_notified() => {}
                    _ = tokio::time::sleep(IDLE_POLL) => {}
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "claiming a job failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[tracing::instrument(skip_all, fields(job = job.id, kind = job.kind.as_str(), update = %job.update_id, attempt = job.attempt))]
async fn run_job(services: &Services, job: ClaimedJob, lease_ms: i64, shutdown: &CancellationToken) {
    let started = std::time::Instant::now();
    let (progress_tx, progress_rx) = watch::channel(0u8);
    let work = stages::run(services, &job, progress_tx);
    let heartbeat = keep_lease(services, &job, lease_ms, progress_rx);
    let outcome = tokio::select! {
        result = work => match result {
            Ok(output) => match stages::complete(services, &job, output).await {
                Ok(()) => {
                    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "job done");
                    JobOutcome::Done
                }
                Err(QueueError::Fenced(_)) => {
                    tracing::warn!("job was reclaimed, or its update deleted; result dropped");
                    deletion::sweep_if_deleted(services, &job.update_id).await;
                    JobOutcome::Abandoned
                }
                Err(e) => {
                    tracing::error!(error = %e, "storing the job result failed; the lease will expire and it reruns");
                    JobOutcome::Abandoned
                }
            },
            Err(error) => {
                let failure = error.failure();
                match jobs::fail(&services.db, &job, failure, error.retryable()).await {
                    Ok(state) => tracing::warn!(%error, code = failure.code(), next = state.as_str(), "job attempt failed"),
                    Err(QueueError::Fenced(_)) => tracing::warn!("job was reclaimed by another worker"),
                    Err(e) => tracing::error!(error = %e, "recording the job failure failed"),
                }
                JobOutcome::Failed
            }
        },
        lost = heartbeat => {
            tracing::warn!(reason = %lost, "lease lost; abandoning the job");
            deletion::sweep_if_deleted(services, &job.update_id).await;
            JobOutcome::Abandoned
        }
        _ = shutdown.cancelled() => {
            match jobs::release(&services.db, &job).await {
                Ok(()) => tracing::info!("shutting down: job released for another worker"),
                Err(e) => tracing::warn!(error = %e, "shutting down: could not release job; its lease will expire"),
            }
            JobOutcome::Abandoned
        }
    };
    services.metrics.observe_job(job.kind.as_str(), outcome, started.elapsed());
}

/// Renew the lease (and report progress) until it is lost; returns why.
async fn keep_lease(services: &Services, job: &ClaimedJob, lease_ms: i64, progress: watch::Receiver<u8>) -> QueueError {
    let interval = Duration::from_millis((lease_ms as u64 / 3).clamp(200, 2_000));
    loop {
        tokio::time::sleep(interval).await;
        let percent = i64::from(*progress.borrow());
        match jobs::heartbeat(&services.db, job, lease_ms, percent).await {
            Ok(()) => {}
            Err(QueueError::Fenced(id)) => return QueueError::Fenced(id),
            // A database hiccup is not a lost lease: keep trying until the lease runs out.
            Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
        }
    }
}
