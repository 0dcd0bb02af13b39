//! Search: query latency and indexing throughput of Bulletin's index over 10,000
//! generated updates (400,000 transcript segments), beside SQLite FTS5 on the same
//! corpus and the same queries.
//!
//! Bulletin indexes through [`SearchIndex::apply_blocking`], the step its feed
//! follower takes for each batch, and answers through [`SearchIndex::search`], what
//! `/api/search` calls: typo-tolerant prefix matching, grouping by update and
//! highlighted snippets. FTS5 (the SQLite that sqlx bundles) gets the same documents
//! (one row per segment and one per title, like Bulletin's index), the same queries
//! with every word a prefix and phrases quoted, `ORDER BY rank` (bm25) and a
//! highlighted `snippet()` on every row it returns. FTS5 has no typo tolerance, so
//! it does less work per query than Bulletin does.

mod corpus;

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::Context;
use bulletin::search::{Scope, SearchIndex, UpdateContent, UpdateDocs, MATCHES_PER_UPDATE};
use corpus::{Corpus, Query, QueryKind};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, QueryBuilder, Sqlite, SqliteConnection};

use crate::report::{Row, Target, Unit, Value};
use crate::support::{median, percentile, Bench};

const SECTION: &str = "search";
/// Updates shown per answer: `/api/search`'s default.
const LIMIT: usize = 20;
/// Rows FTS5 returns per query: as many segments as one Bulletin answer can hold.
const FTS5_ROWS: usize = LIMIT * MATCHES_PER_UPDATE;
/// Updates per commit, for both engines: Bulletin's follower applies the feed 500
/// changes at a time, so rebuilding from the feed commits every 500 updates.
const UPDATES_PER_COMMIT: usize = 500;
const PEER: &str = "SQLite FTS5";
/// Channels the corpus's updates are spread over, and how many of them the
/// scoped queries may see: a member of 50 channels, as the privacy issue puts it.
const CHANNELS: i64 = 200;
const VISIBLE_CHANNELS: i64 = 50;

/// What one run measured for one engine.
struct Measured {
    segments_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// p99 of the same queries limited to [`VISIBLE_CHANNELS`] channels (Bulletin only).
    scoped_p99_ms: f64,
    /// p99 of [`hostile_queries`] (Bulletin only).
    hostile_p99_ms: f64,
    /// p50 per [`QueryKind::ALL`], over the mix and the extra queries (NaN: not measured).
    kind_p50_ms: Vec<f64>,
}

pub async fn run(bench: &Bench) -> anyhow::Result<Vec<Row>> {
    let corpus = Corpus::generate();
    eprintln!(
        "search: {} updates, {} segments, {} queries",
        corpus.updates.len(),
        corpus.segments(),
        corpus.queries.len()
    );
    // FTS5 answers the extra queries it can answer with the same meaning.
    let peer_extras: Vec<Query> = corpus.extra_queries.iter().filter(|q| q.kind.has_peer()).cloned().collect();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for run in 0..bench.runs {
        let dir = bench.work.join(format!("search-{run}"));
        std::fs::create_dir_all(&dir)?;
        // Each engine goes first in every other run, so neither always gets the colder caches.
        let (ours_rate, theirs_rate, ours_ms, theirs_ms, scoped_ms, hostile_ms, ours_extra_ms, theirs_extra_ms);
        if run % 2 == 0 {
            let index;
            (index, ours_rate) = index_bulletin(&dir.join("index"), &corpus).await?;
            ours_ms = query_bulletin(&index, &corpus.queries, Scope::Everything).await?;
            ours_extra_ms = query_bulletin(&index, &corpus.extra_queries, Scope::Everything).await?;
            scoped_ms = query_bulletin(&index, &corpus.queries, member_of_fifty()).await?;
            hostile_ms = query_hostile(&index).await?;
            drop(index);
            let mut fts5;
            (fts5, theirs_rate) = index_fts5(&dir.join("fts5.db"), &corpus).await?;
            theirs_ms = query_fts5(&mut fts5, &corpus.queries).await?;
            theirs_extra_ms = query_fts5(&mut fts5, &peer_extras).await?;
            fts5.close().await?;
        } else {
            let mut fts5;
            (fts5, theirs_rate) = index_fts5(&dir.join("fts5.db"), &corpus).await?;
            theirs_ms = query_fts5(&mut fts5, &corpus.queries).await?;
            theirs_extra_ms = query_fts5(&mut fts5, &peer_extras).await?;
            fts5.close().await?;
            let index;
            (index, ours_rate) = index_bulletin(&dir.join("index"), &corpus).await?;
            ours_ms = query_bulletin(&index, &corpus.queries, Scope::Everything).await?;
            ours_extra_ms = query_bulletin(&index, &corpus.extra_queries, Scope::Everything).await?;
            scoped_ms = query_bulletin(&index, &corpus.queries, member_of_fifty()).await?;
            hostile_ms = query_hostile(&index).await?;
            drop(index);
        }
        std::fs::remove_dir_all(&dir)?;
        ours.push(Measured {
            scoped_p99_ms: percentile(&scoped_ms, 99.0),
            hostile_p99_ms: percentile(&hostile_ms, 99.0),
            kind_p50_ms: p50_by_kind(&[(&corpus.queries, &ours_ms), (&corpus.extra_queries, &ours_extra_ms)]),
            ..summary(ours_rate, &ours_ms)
        });
        theirs.push(Measured {
            kind_p50_ms: p50_by_kind(&[(&corpus.queries, &theirs_ms), (&peer_extras, &theirs_extra_ms)]),
            ..summary(theirs_rate, &theirs_ms)
        });
    }
    Ok(rows(&ours, &theirs, corpus.segments()))
}

fn summary(segments_per_s: f64, latencies_ms: &[f64]) -> Measured {
    Measured {
        segments_per_s,
        p50_ms: percentile(latencies_ms, 50.0),
        p99_ms: percentile(latencies_ms, 99.0),
        scoped_p99_ms: f64::NAN,
        hostile_p99_ms: f64::NAN,
        kind_p50_ms: Vec::new(),
    }
}

/// The median latency of each [`QueryKind`] among `measured` (queries and their
/// latencies, in the same order); NaN for a kind with no query.
fn p50_by_kind(measured: &[(&[Query], &[f64])]) -> Vec<f64> {
    QueryKind::ALL
        .iter()
        .map(|&kind| {
            let latencies: Vec<f64> = measured
                .iter()
                .flat_map(|(queries, ms)| queries.iter().zip(ms.iter()))
                .filter(|(query, _)| query.kind == kind)
                .map(|(_, &ms)| ms)
                .collect();
            if latencies.is_empty() {
                f64::NAN
            } else {
                percentile(&latencies, 50.0)
            }
        })
        .collect()
}

/// A member of [`VISIBLE_CHANNELS`] of the corpus's channels (not an admin).
fn member_of_fifty() -> Scope {
    Scope::Channels((1..=VISIBLE_CHANNELS).collect())
}

fn rows(ours: &[Measured], theirs: &[Measured], segments: usize) -> Vec<Row> {
    let med = |runs: &[Measured], f: fn(&Measured) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
    let row = |measure: &str, f: fn(&Measured) -> f64, unit| {
        Row::new(SECTION, measure, Value::new(med(ours, f), unit)).peer(PEER, Value::new(med(theirs, f), unit))
    };
    let p99 = med(ours, |m| m.p99_ms);
    let scoped_p99 = med(ours, |m| m.scoped_p99_ms);
    let hostile_p99 = med(ours, |m| m.hostile_p99_ms);
    let peer_p99 = med(theirs, |m| m.p99_ms);
    let kind_p50 = |runs: &[Measured], k: usize| median(&runs.iter().map(|m| m.kind_p50_ms[k]).collect::<Vec<_>>());
    let by_kind = QueryKind::ALL.iter().enumerate().map(|(k, kind)| {
        let row =
            Row::new(SECTION, format!("query p50, {}", kind.label()), Value::new(kind_p50(ours, k), Unit::Millis));
        if kind.has_peer() {
            row.peer(PEER, Value::new(kind_p50(theirs, k), Unit::Millis))
        } else {
            row
        }
    });
    let mut rows = vec![
        row("query p50", |m| m.p50_ms, Unit::Millis),
        row("query p99", |m| m.p99_ms, Unit::Millis)
            .target(Target::at_most(10.0, p99, format!("p99 ≤ 10 ms over {segments} segments")))
            .target(Target::at_most(peer_p99, p99, "p99 ≤ SQLite FTS5's p99 on the same corpus")),
        Row::new(
            SECTION,
            format!("query p99, a member of {VISIBLE_CHANNELS} of {CHANNELS} channels"),
            Value::new(scoped_p99, Unit::Millis),
        )
        .target(Target::at_most(
            10.0,
            scoped_p99,
            format!("p99 ≤ 10 ms over {segments} segments, scoped to {VISIBLE_CHANNELS} channels"),
        )),
        Row::new(
            SECTION,
            "hostile query p99 (ten prefixes, typo words, repeats)",
            Value::new(hostile_p99, Unit::Millis),
        )
        .target(Target::at_most(50.0, hostile_p99, format!("p99 ≤ 50 ms over {segments} segments"))),
        row("indexing (segments/s)", |m| m.segments_per_s, Unit::PerSecond),
    ];
    rows.extend(by_kind);
    rows
}

/// The most expensive searches a person can send within the limits: ten
/// different two-letter prefixes (each expands to every completion in the
/// dictionary), ten long made-up words (two typos each), both mixed, and 85
/// copies of a one-letter prefix. Deterministic.
fn hostile_queries() -> Vec<String> {
    let letters: Vec<char> = "bcdfghklmnprstvw".chars().collect();
    let vowels: Vec<char> = "aeiou".chars().collect();
    let mut queries = vec!["t* ".repeat(85), "a* b* c* d* e* f* g* h* i* j*".to_string()];
    for round in 0..20 {
        let prefix =
            |k: usize| format!("{}{}*", letters[(round + k * 3) % letters.len()], vowels[(round + k) % vowels.len()]);
        let made_up = |k: usize| {
            (0..9)
                .map(|i| {
                    if i % 2 == 0 {
                        letters[(round * 7 + k * 5 + i) % letters.len()]
                    } else {
                        vowels[(round + k + i) % vowels.len()]
                    }
                })
                .collect::<String>()
        };
        queries.push((0..10).map(prefix).collect::<Vec<_>>().join(" "));
        queries.push((0..10).map(made_up).collect::<Vec<_>>().join(" "));
        queries.push((0..10).map(|k| if k % 2 == 0 { prefix(k) } else { made_up(k) }).collect::<Vec<_>>().join(" "));
    }
    queries
}

/// Latencies of [`hostile_queries`] over the whole index (no hits needed: most match nothing).
async fn query_hostile(index: &SearchIndex) -> anyhow::Result<Vec<f64>> {
    let queries = hostile_queries();
    let mut latencies = Vec::with_capacity(queries.len());
    for timed in [false, true] {
        for query in &queries {
            let started = Instant::now();
            index.search(query, LIMIT, Scope::Everything).await?;
            if timed {
                latencies.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
    }
    Ok(latencies)
}

/// Build Bulletin's index batch by batch, as its follower would from the feed, and
/// wait for tantivy's background merges (part of the indexing work, and they would
/// otherwise run on into the peer's measurements); returns the reopened index and
/// segments indexed per second.
async fn index_bulletin(dir: &Path, corpus: &Corpus) -> anyhow::Result<(SearchIndex, f64)> {
    let index = SearchIndex::open(dir)?;
    // The follower reads each batch from the database first; that copy is not timed.
    let batches: Vec<Vec<UpdateDocs>> = corpus
        .updates
        .chunks(UPDATES_PER_COMMIT)
        .map(|chunk| {
            chunk
                .iter()
                .enumerate()
                .map(|(n, u)| {
                    let content = UpdateContent {
                        title: u.title.clone(),
                        description: String::new(),
                        // Spread evenly, so a scope of 50 channels holds a quarter of the corpus.
                        channel_id: (n as i64 % CHANNELS) + 1,
                        segments: u.segments.clone(),
                        words: Vec::new(),
                        comments: Vec::new(),
                    };
                    (u.id.clone(), Some(content))
                })
                .collect()
        })
        .collect();
    let elapsed = tokio::task::spawn_blocking(move || -> anyhow::Result<Duration> {
        let started = Instant::now();
        for (seq, batch) in batches.into_iter().enumerate() {
            index.apply_blocking(batch, seq as i64 + 1)?;
        }
        index.close_blocking()?;
        Ok(started.elapsed())
    })
    .await??;
    let index = SearchIndex::open(dir)?;
    anyhow::ensure!(index.num_docs() as usize == corpus.segments() + corpus.updates.len(), "index is incomplete");
    Ok((index, corpus.segments() as f64 / elapsed.as_secs_f64()))
}

/// Fill an FTS5 table with the same documents and the same commits, on the
/// settings Bulletin's own SQLite uses (WAL, synchronous = FULL).
async fn index_fts5(path: &Path, corpus: &Corpus) -> anyhow::Result<(SqliteConnection, f64)> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let mut conn = SqliteConnection::connect_with(&options).await?;
    // unicode61 with diacritics removed: lower-cased, ASCII-folded words, as Bulletin's analyzer.
    sqlx::query(
        "CREATE VIRTUAL TABLE docs USING fts5(title, text, update_id UNINDEXED, start_ms UNINDEXED, \
         end_ms UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')",
    )
    .execute(&mut conn)
    .await
    .context("create the FTS5 table (is FTS5 compiled into the bundled SQLite?)")?;
    let started = Instant::now();
    for chunk in corpus.updates.chunks(UPDATES_PER_COMMIT) {
        let mut tx = conn.begin().await?;
        for update in chunk {
            // One statement per update (its title row and its segment rows).
            let mut insert: QueryBuilder<Sqlite> =
                QueryBuilder::new("INSERT INTO docs (title, text, update_id, start_ms, end_ms) ");
            let title_row = (update.title.as_str(), "", 0, 0);
            let segment_rows = update.segments.iter().map(|s| ("", s.text.as_str(), s.start_ms, s.end_ms));
            insert.push_values(std::iter::once(title_row).chain(segment_rows), |mut row, (title, text, start, end)| {
                row.push_bind(title).push_bind(text).push_bind(update.id.as_str()).push_bind(start).push_bind(end);
            });
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    let elapsed = started.elapsed();
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM docs").fetch_one(&mut conn).await?;
    anyhow::ensure!(rows as usize == corpus.segments() + corpus.updates.len(), "the FTS5 table is incomplete");
    Ok((conn, corpus.segments() as f64 / elapsed.as_secs_f64()))
}

/// Latency of each query in milliseconds, after one untimed pass to warm caches.
async fn query_bulletin(index: &SearchIndex, queries: &[Query], scope: Scope) -> anyhow::Result<Vec<f64>> {
    let mut latencies = Vec::with_capacity(queries.len());
    let mut found = 0;
    for timed in [false, true] {
        for query in queries {
            let started = Instant::now();
            let hits = index.search(&query.bulletin, LIMIT, scope.clone()).await?;
            if timed {
                latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                found += usize::from(!hits.is_empty());
            }
        }
    }
    // Every query is drawn from the corpus: an engine that finds nothing is broken,
    // not fast. Scoped to a quarter of it, most queries still find something.
    let needed = if scope == Scope::Everything { queries.len() } else { queries.len() / 2 };
    anyhow::ensure!(found >= needed, "Bulletin found hits for only {found} of {} queries", queries.len());
    Ok(latencies)
}

async fn query_fts5(conn: &mut SqliteConnection, queries: &[Query]) -> anyhow::Result<Vec<f64>> {
    let sql = "SELECT update_id, start_ms, end_ms, snippet(docs, -1, '<mark>', '</mark>', '…', 64) AS snippet \
               FROM docs WHERE docs MATCH ?1 ORDER BY rank LIMIT ?2";
    let mut latencies = Vec::with_capacity(queries.len());
    let mut found = 0;
    for timed in [false, true] {
        for query in queries {
            let started = Instant::now();
            let rows = sqlx::query(sql).bind(&query.fts5).bind(FTS5_ROWS as i64).fetch_all(&mut *conn).await?;
            if timed {
                latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                found += usize::from(!rows.is_empty());
            }
        }
    }
    anyhow::ensure!(found == queries.len(), "FTS5 found hits for only {found} of {} queries", queries.len());
    Ok(latencies)
}
