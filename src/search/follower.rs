//! Keeps one index current from the database's search change feed.

use std::time::{Duration, Instant};

use tantivy::doc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::schema::{update_key, KIND_SEGMENT, KIND_TITLE};
use super::{SearchError, SearchIndex};
use crate::db::{search_feed, updates, Db, DbError};
use crate::domain::transcript::TranscriptSegment;
use crate::domain::UpdateId;

/// How often the feed is polled when nobody wakes the follower.
const POLL: Duration = Duration::from_millis(500);
const BATCH: i64 = 500;
/// PostgreSQL hands out sequence numbers before commit, so a later number can
/// become visible first. A gap is waited for this long before it is taken to
/// be a rolled-back transaction and skipped.
const GAP_WAIT: Duration = Duration::from_secs(10);

/// What one update looks like in the index (`None`: it no longer exists).
pub type UpdateDocs = (UpdateId, Option<(String, Vec<TranscriptSegment>)>);

pub fn spawn_follower(index: SearchIndex, db: Db, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut gap_since: Option<(i64, Instant)> = None;
        loop {
            let applied = index.applied_seq();
            match step(&index, &db, applied, &mut gap_since).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "search index follower step failed; retrying"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = index.inner.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    })
}

#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Search(#[from] SearchError),
}

/// Apply one batch of the feed; true if there may be more right away.
async fn step(
    index: &SearchIndex,
    db: &Db,
    applied: i64,
    gap_since: &mut Option<(i64, Instant)>,
) -> Result<bool, StepError> {
    let changes = search_feed::changes_after(db, applied, BATCH).await?;
    let Some(first) = changes.first() else { return Ok(false) };
    let mut take = changes.iter().enumerate().take_while(|(i, c)| c.seq == applied + 1 + *i as i64).count();
    if take == 0 {
        match gap_since {
            Some((at, since)) if *at == applied && since.elapsed() >= GAP_WAIT => {
                tracing::warn!(after = applied, next = first.seq, "skipping a gap in the search feed");
                take = changes.iter().enumerate().take_while(|(i, c)| c.seq == first.seq + *i as i64).count();
            }
            Some((at, _)) if *at == applied => return Ok(false),
            _ => {
                *gap_since = Some((applied, Instant::now()));
                return Ok(false);
            }
        }
    }
    *gap_since = None;
    let batch = &changes[..take];
    let last_seq = batch[batch.len() - 1].seq;

    let mut ids: Vec<UpdateId> = Vec::new();
    for change in batch {
        if !ids.contains(&change.update_id) {
            ids.push(change.update_id.clone());
        }
    }
    let mut docs: Vec<UpdateDocs> = Vec::with_capacity(ids.len());
    for id in ids {
        let content = match updates::get(db, &id).await? {
            Some(row) => Some((row.title, updates::segments(db, &id).await?)),
            None => None,
        };
        docs.push((id, content));
    }
    let this = index.clone();
    tokio::task::spawn_blocking(move || apply(&this, docs, last_seq))
        .await
        .map_err(|e| SearchError::Task(e.to_string()))??;
    index.inner.applied.send_replace(last_seq);
    Ok(changes.len() as i64 == BATCH || take < changes.len())
}

/// Replace each update's documents, then commit with the feed position as payload.
pub(super) fn apply(index: &SearchIndex, docs: Vec<UpdateDocs>, last_seq: i64) -> Result<(), SearchError> {
    // Test-only fault switch (see `media::child`): stall before committing, so
    // a test can kill the server in the middle of indexing.
    if std::env::var("BULLETIN_FAULT").is_ok_and(|f| f == "hang:index") {
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
    let f = index.inner.fields;
    let mut writer = index.inner.writer.lock().map_err(|_| SearchError::Task("index writer poisoned".into()))?;
    for (id, content) in docs {
        writer.delete_term(index.index_id_term(&id));
        let Some((title, segments)) = content else { continue };
        let key = update_key(id.as_str());
        writer.add_document(doc!(
            f.update_id => id.as_str(), f.update_key => key, f.doc_kind => KIND_TITLE, f.title => title.as_str(),
            f.display_title => title.as_str(),
            f.start_ms => 0u64, f.end_ms => 0u64,
        ))?;
        for seg in segments {
            writer.add_document(doc!(
                f.update_id => id.as_str(), f.update_key => key, f.doc_kind => KIND_SEGMENT,
                f.display_title => title.as_str(),
                f.text => seg.text,
                f.start_ms => seg.start_ms.max(0) as u64, f.end_ms => seg.end_ms.max(0) as u64,
            ))?;
        }
    }
    let mut commit = writer.prepare_commit()?;
    commit.set_payload(&last_seq.to_string());
    commit.commit()?;
    drop(writer);
    index.inner.reader.reload()?;
    Ok(())
}
