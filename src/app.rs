//! Wiring: open the engines named by the configuration and run the server or
//! the workers until asked to stop.

use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::domain::JobKind;
use crate::jobs::spawn_workers;
use crate::pipeline::janitor::{Janitor, Swept};
use crate::pipeline::stages::needs_search_index;
use crate::pipeline::Services;
use crate::resumable::ResumableUploads;
use crate::search::spawn_follower;

/// `bulletin serve`: the API, the web app, the index follower and in-process workers.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    remove_stale_temp_files(&config);
    check_model(&config);
    let services = Services::open(config, true).await?;
    let shutdown = shutdown_signal();
    let search = services.search.clone().context("serve always has a search index")?;
    let follower = spawn_follower(search, services.db.clone(), shutdown.clone());
    let listeners = services.wake.spawn_listeners(&shutdown);
    let sweeper = spawn_upload_sweeper(services.uploads.clone(), shutdown.clone());
    let janitor = spawn_janitor(services.clone(), shutdown.clone());
    let (indexing, media): (Vec<JobKind>, Vec<JobKind>) =
        JobKind::ALL.into_iter().partition(|k| needs_search_index(*k));
    let mut workers = spawn_workers(services.clone(), media, services.config.workers, shutdown.clone());
    // Index jobs need this process's index; they are light, so one loop is enough.
    workers.extend(spawn_workers(services.clone(), indexing, 1, shutdown.clone()));

    let listener = tokio::net::TcpListener::bind(services.config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", services.config.listen))?;
    let address = listener.local_addr()?;
    // Tests and scripts read this line to learn the port when listening on :0.
    announce(&format!("bulletin listening on http://{address}"));
    if let Some(code) = services.setup.open_if_nobody(&services.db).await? {
        let base = match &services.config.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None if address.ip().is_unspecified() => format!("http://localhost:{}", address.port()),
            None => format!("http://{address}"),
        };
        // On standard output, beside the address: the person who ran the start command sees it.
        announce(&format!("no accounts yet: create the first admin at {base}/setup?code={code}"));
        tracing::warn!(
            "no accounts yet: open the setup link printed on standard output, or run `bulletin user add NAME --admin`"
        );
    }
    tracing::info!(%address, database = services.db.engine(), workers = services.config.workers, "serving");
    let app = crate::http::router(services.clone());
    let header_read_timeout = Duration::from_secs(services.config.header_read_timeout_secs);
    crate::http::server::serve(listener, app, header_read_timeout, shutdown.clone()).await;
    for worker in workers {
        let _ = worker.await;
    }
    let _ = follower.await;
    let _ = sweeper.await;
    let _ = janitor.await;
    for listener in listeners {
        let _ = listener.await;
    }
    services.db.close().await;
    Ok(())
}

/// A line on standard output for whoever started the server. Nobody may be
/// reading any more (a script that took the address and closed the pipe):
/// that must not stop the server, as `println!` would by panicking.
fn announce(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// `bulletin worker`: media jobs only, against the same database and store.
pub async fn work(config: Config, kinds: Vec<JobKind>) -> anyhow::Result<()> {
    check_model(&config);
    let count = config.workers.max(1);
    let services = Services::open(config, false).await?;
    let kinds =
        if kinds.is_empty() { JobKind::ALL.into_iter().filter(|k| !needs_search_index(*k)).collect() } else { kinds };
    if let Some(kind) = kinds.iter().find(|k| needs_search_index(**k)) {
        anyhow::bail!("{} jobs run in `bulletin serve`, which owns a search index", kind.as_str());
    }
    let shutdown = shutdown_signal();
    tracing::info!(?kinds, workers = count, "worker started");
    let listeners = services.wake.spawn_listeners(&shutdown);
    for worker in spawn_workers(services.clone(), kinds, count, shutdown) {
        let _ = worker.await;
    }
    for listener in listeners {
        let _ = listener.await;
    }
    services.db.close().await;
    Ok(())
}

/// Delete resumable uploads nobody touched within the expiry, checking a few
/// times per expiry period (at most once a minute, at least once a second).
fn spawn_upload_sweeper(uploads: ResumableUploads, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
    let every = (uploads.expiry() / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
    tokio::spawn(async move {
        loop {
            match uploads.sweep().await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "expired resumable uploads deleted"),
                Err(e) => tracing::warn!(error = %e, "cannot sweep expired resumable uploads"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    })
}

/// Remove what nothing owns (see `pipeline::janitor`), one pass per interval.
fn spawn_janitor(services: Services, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
    let every = Duration::from_secs(services.config.janitor_interval_secs);
    tokio::spawn(async move {
        let mut janitor = Janitor::default();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            let swept = janitor.sweep(&services).await;
            if swept != Swept::default() {
                tracing::info!(?swept, "janitor pass");
            }
        }
    })
}

/// Cancelled on Ctrl-C or SIGTERM: stop taking work, release claimed jobs, drain connections.
fn shutdown_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch SIGTERM");
                let _ = ctrl_c.await;
                trigger.cancel();
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
        tracing::info!("shutting down");
        trigger.cancel();
    });
    token
}

/// Uploads in flight die with the server that received them. Job scratch
/// folders may belong to a live `bulletin worker` sharing this data folder, so
/// only those older than any job may run are removed.
fn remove_stale_temp_files(config: &Config) {
    let uploads = config.upload_tmp_dir();
    if let Err(e) = std::fs::remove_dir_all(&uploads) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(dir = %uploads.display(), error = %e, "cannot clear upload folder");
        }
    }
    let max_age = Duration::from_secs(config.job_timeout_secs.saturating_mul(2));
    let Ok(entries) = std::fs::read_dir(config.job_tmp_dir()) else { return };
    for entry in entries.flatten() {
        let age = entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
        if age.is_some_and(|age| age > max_age) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn check_model(config: &Config) {
    if let Err(e) = bulletin_workers::model::read_ggml_header(&config.whisper_model) {
        tracing::warn!(
            model = %config.whisper_model.display(),
            error = %e,
            "whisper model unusable: transcription will fail until `bulletin model install` runs or --whisper-model points at a ggml model"
        );
    }
}
