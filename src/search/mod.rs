//! Full-text search over every transcript, landing on the moment a word was said.
//!
//! The index is derived state: each server process owns one tantivy index in
//! its data folder and keeps it current by following the database's search
//! change feed ([`follower`]). The last applied sequence number is stored in
//! the index's own commit payload, so "what is indexed" and "how far we got"
//! can never disagree, a restart resumes where it stopped, and a new or wiped
//! index catches up from zero.

mod follower;
pub(crate) mod highlight;
pub mod query;
mod schema;
mod typo;
mod variants;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::columnar::Column;
use tantivy::schema::Value;
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument};
use tokio::sync::{watch, Notify, Semaphore};

use crate::domain::UpdateId;
pub use follower::{spawn_follower, UpdateContent, UpdateDocs};
use query::{ParsedQuery, MAX_CLAUSES};
use schema::{build_schema, register_analyzer, Fields, KIND_COMMENT, KIND_TITLE};

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("cannot open index folder: {0}")]
    Io(#[from] std::io::Error),
    #[error("search task failed: {0}")]
    Task(String),
    #[error("cannot read the search feed: {0}")]
    Feed(#[from] crate::db::DbError),
    #[error("a search can hold at most {max} different words or phrases; this one has {found}")]
    TooManyWords { found: usize, max: usize },
    #[error("too many searches are running; try again in a moment")]
    Busy,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchMatch {
    /// `transcript` (what was said) or `comment` (what someone wrote about that moment).
    pub kind: &'static str,
    pub start_ms: u64,
    pub end_ms: u64,
    /// When the first matched word itself is said (the segment's start where
    /// word timings are unknown): where a link to the moment starts.
    pub word_ms: u64,
    /// Segment text, HTML-escaped, matched words wrapped in `<mark>`.
    pub snippet: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub update_id: String,
    pub title: String,
    /// The title, HTML-escaped, with matched words in `<mark>`.
    pub title_snippet: String,
    /// The update's description (plain text; empty when none).
    pub description: String,
    pub score: f32,
    pub matches: Vec<SearchMatch>,
}

/// Segments considered per query before grouping by update.
const CANDIDATES: usize = 500;
/// Public so the benchmark can ask its SQL peer for as many rows as one answer holds.
pub const MATCHES_PER_UPDATE: usize = 5;

/// Which updates a search looks among.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every update (workspace admins, the benchmark).
    Everything,
    /// The updates of these channels (ids), and no other.
    Channels(Vec<i64>),
}

#[derive(Clone)]
pub struct SearchIndex {
    inner: Arc<Inner>,
}

struct Inner {
    reader: IndexReader,
    fields: Fields,
    /// tantivy allows one writer; only [`SearchIndex::catch_up`] takes this lock.
    writer: Mutex<IndexWriter>,
    /// Held while the feed is applied (by the follower or an index job), so
    /// every change is applied once, in order.
    feed: tokio::sync::Mutex<follower::FeedCursor>,
    applied: watch::Sender<i64>,
    wake: Notify,
    /// Searches that may run at once (see [`SearchIndex::search`]).
    running: Arc<Semaphore>,
}

/// How long a search waits for a turn before the answer is "busy".
const SEARCH_QUEUE_WAIT: Duration = Duration::from_secs(2);

/// Searches at once: two per core, so a burst keeps every core busy without
/// piling unbounded work onto the blocking pool.
fn concurrent_searches() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
}

impl SearchIndex {
    /// Open the index in `dir`, creating it if needed. An index that cannot be
    /// opened is moved aside and rebuilt from the database.
    pub fn open(dir: &Path) -> Result<SearchIndex, SearchError> {
        std::fs::create_dir_all(dir)?;
        let (schema, fields) = build_schema();
        let index = if dir_is_empty(dir)? {
            Index::create_in_dir(dir, schema)?
        } else {
            match Index::open_in_dir(dir) {
                Ok(index) if index.schema() == schema => index,
                _ => {
                    let aside = dir.with_extension(format!("broken-{}", crate::clock::now_ms()));
                    tracing::warn!(
                        ?dir,
                        ?aside,
                        "search index unusable; moving it aside, rebuilding from the database"
                    );
                    std::fs::rename(dir, &aside)?;
                    std::fs::create_dir_all(dir)?;
                    Index::create_in_dir(dir, schema)?
                }
            }
        };
        register_analyzer(&index);
        let applied_seq = index.load_metas()?.payload.and_then(|p| p.parse::<i64>().ok()).unwrap_or(0);
        let writer = index.writer_with_num_threads(1, 50_000_000)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let (applied, _) = watch::channel(applied_seq);
        Ok(SearchIndex {
            inner: Arc::new(Inner {
                reader,
                fields,
                writer: Mutex::new(writer),
                feed: tokio::sync::Mutex::new(follower::FeedCursor::default()),
                applied,
                wake: Notify::new(),
                running: Arc::new(Semaphore::new(concurrent_searches())),
            }),
        })
    }

    /// The feed sequence number this index has committed.
    pub fn applied_seq(&self) -> i64 {
        *self.inner.applied.borrow()
    }

    /// Ask the follower to look at the feed now instead of at its next poll.
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Wait until the index has applied `seq`; false on timeout.
    pub async fn wait_applied(&self, seq: i64, timeout: Duration) -> bool {
        self.wake();
        let mut rx = self.inner.applied.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|applied| *applied >= seq)).await.is_ok_and(|r| r.is_ok())
    }

    /// The best `limit` updates for `text` among those in `scope`.
    pub async fn search(&self, text: &str, limit: usize, scope: Scope) -> Result<Vec<SearchHit>, SearchError> {
        let parsed = ParsedQuery::parse(text);
        if parsed.clauses.len() > MAX_CLAUSES {
            return Err(SearchError::TooManyWords { found: parsed.clauses.len(), max: MAX_CLAUSES });
        }
        if parsed.is_empty() || scope == Scope::Channels(Vec::new()) {
            return Ok(Vec::new());
        }
        // Searches run on blocking threads; past a few per core they only queue
        // up there, so beyond that, and a short wait, the answer is "busy".
        let permit = tokio::time::timeout(SEARCH_QUEUE_WAIT, self.inner.running.clone().acquire_owned())
            .await
            .map_err(|_| SearchError::Busy)?
            .map_err(|_| SearchError::Busy)?;
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            this.search_blocking(&parsed, limit, &scope)
        })
        .await
        .map_err(|e| SearchError::Task(e.to_string()))?
    }

    fn search_blocking(
        &self,
        parsed: &ParsedQuery,
        limit: usize,
        scope: &Scope,
    ) -> Result<Vec<SearchHit>, SearchError> {
        let f = self.inner.fields;
        let words = parsed.to_query(&[f.text, f.title]);
        // The scope is part of the query, not a filter on its results: what a
        // person may not see takes no place among the candidates.
        let query: Box<dyn tantivy::query::Query> = match scope {
            Scope::Everything => words,
            Scope::Channels(ids) => {
                let terms =
                    ids.iter().map(|id| tantivy::Term::from_field_u64(f.channel, u64::try_from(*id).unwrap_or(0)));
                let channels = tantivy::query::TermSetQuery::new(terms);
                Box::new(tantivy::query::BooleanQuery::new(vec![
                    (tantivy::query::Occur::Must, words),
                    (tantivy::query::Occur::Must, Box::new(channels)),
                ]))
            }
        };
        let matchers = parsed.matchers();
        let searcher = self.inner.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit(CANDIDATES))?;
        let update_keys = UpdateKeys::open(&searcher, f)?;
        let mut hits: Vec<SearchHit> = Vec::new();
        let mut hit_keys: Vec<u64> = Vec::new();
        for (score, address) in top {
            // Most candidates of a common word belong to updates that will not be shown,
            // and reading a document costs far more than reading its update key. Once
            // the page is full, a candidate whose key no unfinished hit has is skipped:
            // different keys mean different updates (equal keys are checked below).
            // A document without a key (none today) is always read.
            let key = update_keys.of(address);
            if hits.len() >= limit
                && key.is_some_and(|key| {
                    !hit_keys.iter().zip(&hits).any(|(k, h)| *k == key && h.matches.len() < MATCHES_PER_UPDATE)
                })
            {
                continue;
            }
            let doc: TantivyDocument = searcher.doc(address)?;
            let text_of = |field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            let update_id = text_of(f.update_id);
            let position = match hits.iter().position(|h| h.update_id == update_id) {
                Some(p) => p,
                None if hits.len() < limit => {
                    let title = text_of(f.display_title);
                    let title_snippet = highlight::highlight(&title, &matchers);
                    let description = text_of(f.description);
                    hits.push(SearchHit { update_id, title, title_snippet, description, score, matches: Vec::new() });
                    hit_keys.push(key.unwrap_or_default());
                    hits.len() - 1
                }
                None => continue,
            };
            let hit = &mut hits[position];
            if text_of(f.doc_kind) == KIND_TITLE || hit.matches.len() >= MATCHES_PER_UPDATE {
                continue;
            }
            let number_of = |field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0);
            let kind = if text_of(f.doc_kind) == KIND_COMMENT { "comment" } else { "transcript" };
            let text = text_of(f.text);
            let start_ms = number_of(f.start_ms);
            let word_ms = highlight::first_match_start(&text, &text_of(f.word_starts), &matchers).unwrap_or(start_ms);
            hit.matches.push(SearchMatch {
                kind,
                start_ms,
                end_ms: number_of(f.end_ms),
                word_ms,
                snippet: highlight::highlight(&text, &matchers),
            });
        }
        Ok(hits)
    }

    pub fn index_id_term(&self, id: &UpdateId) -> tantivy::Term {
        tantivy::Term::from_field_text(self.inner.fields.update_id, id.as_str())
    }

    /// Index a batch exactly as the follower applies one batch of the feed: replace
    /// each update's documents, commit with `seq` as the payload, reload the reader.
    /// Blocking. Public so `benches/speed` times the product's own indexing path
    /// without a database in front of it.
    pub fn apply_blocking(&self, docs: Vec<UpdateDocs>, seq: i64) -> Result<(), SearchError> {
        follower::apply(self, docs, seq)
    }

    /// Wait for tantivy's background segment merges to finish and release the index.
    /// Blocking. The benchmark counts merging as part of indexing with this; `Err` if
    /// another clone of this index is still alive.
    pub fn close_blocking(self) -> Result<(), SearchError> {
        let inner =
            Arc::try_unwrap(self.inner).map_err(|_| SearchError::Task("the index is still in use elsewhere".into()))?;
        let writer = inner.writer.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
        writer.wait_merging_threads()?;
        Ok(())
    }

    /// Number of segment and title documents, for diagnostics and tests.
    pub fn num_docs(&self) -> u64 {
        self.inner.reader.searcher().num_docs()
    }
}

/// The `update_key` fast column of each segment of one searcher (`None` for a
/// segment without one).
struct UpdateKeys(Vec<Option<Column<u64>>>);

impl UpdateKeys {
    fn open(searcher: &Searcher, f: Fields) -> Result<UpdateKeys, SearchError> {
        let name = searcher.schema().get_field_name(f.update_key);
        let columns = searcher.segment_readers().iter().map(|r| r.fast_fields().column_opt::<u64>(name));
        Ok(UpdateKeys(columns.collect::<Result<_, _>>()?))
    }

    fn of(&self, address: DocAddress) -> Option<u64> {
        self.0[address.segment_ord as usize].as_ref()?.first(address.doc_id)
    }
}

fn dir_is_empty(dir: &Path) -> std::io::Result<bool> {
    Ok(std::fs::read_dir(dir)?.next().is_none())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::transcript::TranscriptSegment;

    /// More matching updates than a page holds, each with more matches than a hit
    /// keeps, spread over two index segments, with lengths that make candidates of
    /// different updates interleave in score order: the page is full, every update
    /// on it once, each with the capped number of its own matches.
    #[tokio::test]
    async fn a_full_page_groups_matches_by_update() {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(dir.path()).unwrap();
        let update = |n: usize| {
            let id = UpdateId::parse(&format!("{n:016}")).unwrap();
            let segments = (0..10)
                .map(|s| {
                    // Segments 0–6 match; filler of varying length varies their scores.
                    let filler = vec!["plan"; (n * 7 + s * 3) % 11].join(" ");
                    let text = if s < 7 { format!("the roadmap {filler}") } else { format!("lunch {filler}") };
                    TranscriptSegment { start_ms: s as i64 * 1000, end_ms: s as i64 * 1000 + 900, text }
                })
                .collect();
            let description = String::new();
            (
                id,
                Some(UpdateContent {
                    title: format!("Update {n}"),
                    description,
                    channel_id: (n % 3) as i64,
                    segments,
                    words: Vec::new(),
                    comments: Vec::new(),
                }),
            )
        };
        index.apply_blocking((0..15).map(update).collect(), 1).unwrap();
        index.apply_blocking((15..30).map(update).collect(), 2).unwrap();
        let hits = index.search("roadmap", 20, Scope::Everything).await.unwrap();
        assert_eq!(hits.len(), 20);
        let mut ids: Vec<&str> = hits.iter().map(|h| h.update_id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 20, "an update appears twice");
        for hit in &hits {
            assert_eq!(hit.matches.len(), MATCHES_PER_UPDATE, "{hit:?}");
            assert!(hit.matches.iter().all(|m| m.snippet.starts_with("the <mark>roadmap</mark>") && m.start_ms < 7000));
        }
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score), "hits are in score order");

        // Limited to one channel inside the query: a full page of that channel's
        // updates only, as many as it holds, none of the others.
        let scoped = index.search("roadmap", 20, Scope::Channels(vec![1])).await.unwrap();
        let expected: Vec<String> = (0..30).filter(|n| n % 3 == 1).map(|n| format!("{n:016}")).collect();
        let mut found: Vec<String> = scoped.iter().map(|h| h.update_id.clone()).collect();
        found.sort();
        assert_eq!(found, expected);
        let two = index.search("roadmap", 5, Scope::Channels(vec![0, 2])).await.unwrap();
        assert_eq!(two.len(), 5);
        assert!(two.iter().all(|h| h.update_id.parse::<usize>().unwrap() % 3 != 1), "{two:?}");
        assert!(index.search("roadmap", 20, Scope::Channels(vec![])).await.unwrap().is_empty());
    }
}
