//! Keeps one index current from the database's search change feed.

use std::time::{Duration, Instant};

use tantivy::doc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::schema::{update_key, KIND_COMMENT, KIND_SEGMENT, KIND_TITLE};
use super::{SearchError, SearchIndex};
use crate::db::{comments, search_feed, updates, Db};
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
pub type UpdateDocs = (UpdateId, Option<UpdateContent>);

/// What an update puts in the index.
#[derive(Debug, Clone)]
pub struct UpdateContent {
    pub title: String,
    /// Plain text, searched like the title; may be empty.
    pub description: String,
    /// Its channel's id: searches are limited to the channels a person may see.
    pub channel_id: i64,
    pub segments: Vec<TranscriptSegment>,
    /// Each segment's word timings (JSON, as stored), where known.
    pub words: Vec<Option<String>>,
    /// Its comments' text and moments (`None`: the whole update).
    pub comments: Vec<(String, Option<i64>)>,
}

pub fn spawn_follower(index: SearchIndex, db: Db, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = index.catch_up(&db).await {
                tracing::error!(error = %e, "search index follower step failed; retrying");
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = index.inner.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    })
}

/// Where the follower stands in a gap of the feed: the position it waited at, since when.
#[derive(Debug, Default)]
pub(super) struct FeedCursor {
    gap_since: Option<(i64, Instant)>,
}

impl SearchIndex {
    /// Apply the feed up to its end (or to a gap not yet old enough to skip)
    /// and commit; returns the sequence number now applied. The follower calls
    /// this on every wake-up and poll; an index job calls it to make its update
    /// searchable at once. Whoever comes first applies a change; the other finds
    /// nothing left to do.
    pub async fn catch_up(&self, db: &Db) -> Result<i64, SearchError> {
        let mut cursor = self.inner.feed.lock().await;
        while step(self, db, self.applied_seq(), &mut cursor).await? {}
        Ok(self.applied_seq())
    }
}

/// Apply one batch of the feed; true if there may be more right away.
async fn step(index: &SearchIndex, db: &Db, applied: i64, cursor: &mut FeedCursor) -> Result<bool, SearchError> {
    let changes = search_feed::changes_after(db, applied, BATCH).await?;
    let Some(first) = changes.first() else { return Ok(false) };
    let mut take = changes.iter().enumerate().take_while(|(i, c)| c.seq == applied + 1 + *i as i64).count();
    if take == 0 {
        match cursor.gap_since {
            Some((at, since)) if at == applied && since.elapsed() >= GAP_WAIT => {
                tracing::warn!(after = applied, next = first.seq, "skipping a gap in the search feed");
                take = changes.iter().enumerate().take_while(|(i, c)| c.seq == first.seq + *i as i64).count();
            }
            Some((at, _)) if at == applied => return Ok(false),
            _ => {
                cursor.gap_since = Some((applied, Instant::now()));
                return Ok(false);
            }
        }
    }
    cursor.gap_since = None;
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
            Some(row) => Some(UpdateContent {
                channel_id: row.channel.as_ref().map_or(0, |c| c.id),
                description: row.description,
                title: row.title,
                segments: updates::segments(db, &id).await?,
                words: updates::segment_words(db, &id).await?,
                comments: comments::searchable(db, &id).await?,
            }),
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
    crate::faults::point("index");
    let f = index.inner.fields;
    let mut writer = index.inner.writer.lock().map_err(|_| SearchError::Task("index writer poisoned".into()))?;
    for (id, content) in docs {
        writer.delete_term(index.index_id_term(&id));
        let Some(UpdateContent { title, description, channel_id, segments, words, comments }) = content else {
            continue;
        };
        let key = update_key(id.as_str());
        let channel = u64::try_from(channel_id).unwrap_or(0);
        writer.add_document(doc!(
            f.update_id => id.as_str(), f.update_key => key, f.channel => channel, f.doc_kind => KIND_TITLE,
            f.title => title.as_str(), f.title => description.as_str(), f.description => description.as_str(),
            f.display_title => title.as_str(),
            f.start_ms => 0u64, f.end_ms => 0u64,
        ))?;
        for (i, seg) in segments.into_iter().enumerate() {
            let word_starts = words.get(i).and_then(|w| w.as_deref()).map(word_starts).unwrap_or_default();
            writer.add_document(doc!(
                f.update_id => id.as_str(), f.update_key => key, f.channel => channel, f.doc_kind => KIND_SEGMENT,
                f.display_title => title.as_str(), f.description => description.as_str(),
                f.text => seg.text, f.word_starts => word_starts,
                f.start_ms => seg.start_ms.max(0) as u64, f.end_ms => seg.end_ms.max(0) as u64,
            ))?;
        }
        for (text, at_ms) in comments {
            let at_ms = at_ms.unwrap_or(0).max(0) as u64;
            writer.add_document(doc!(
                f.update_id => id.as_str(), f.update_key => key, f.channel => channel, f.doc_kind => KIND_COMMENT,
                f.display_title => title.as_str(), f.description => description.as_str(),
                f.text => text,
                f.start_ms => at_ms, f.end_ms => at_ms,
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

/// The start (ms) of each word of a segment, from its stored word timings, as
/// the index keeps them: `900,1200,…` (empty when they cannot be read).
fn word_starts(words_json: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Timed {
        start_ms: u64,
    }
    match serde_json::from_str::<Vec<Timed>>(words_json) {
        Ok(words) => words.iter().map(|w| w.start_ms.to_string()).collect::<Vec<_>>().join(","),
        Err(_) => String::new(),
    }
}
