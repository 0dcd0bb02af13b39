//! Updates and their transcripts.

use sqlx::Row;

use super::{in_write_tx, on_pool, Db, DbError};
use crate::domain::transcript::{retime_words, word_count, TimedWord, TranscriptSegment};
use crate::domain::{JobKind, JobState, UpdateId, UpdateStatus};

/// What the upload path knows about an accepted upload.
#[derive(Debug, Clone)]
pub struct NewUpdate {
    pub id: UpdateId,
    pub title: String,
    /// Plain text, possibly empty.
    pub description: String,
    pub duration_ms: i64,
    pub width: i64,
    pub height: i64,
    pub has_audio: bool,
    pub source_bytes: i64,
    pub media_info_json: String,
    /// Who posted it.
    pub author_id: Option<i64>,
    pub channel_id: i64,
    pub created_at: i64,
    /// People asked to acknowledge it, from the moment it exists.
    pub ask: Vec<i64>,
    /// The update it answers (a video reply), at a moment of it.
    pub reply_to: Option<UpdateId>,
    pub reply_at_ms: Option<i64>,
    /// The spoken language its uploader declared.
    pub declared_language: Option<String>,
    /// The content type browsers play the upload as, unchanged (`None`: transcode first).
    pub original_type: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct UpdateRow {
    pub id: UpdateId,
    pub title: String,
    pub description: String,
    pub status: UpdateStatus,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub width: i64,
    pub height: i64,
    pub has_audio: bool,
    pub source_bytes: i64,
    pub language: Option<String>,
    /// Words in the transcript (for reading time).
    pub word_count: i64,
    pub storyboard_json: Option<String>,
    /// The transcode attempt whose outputs are shown (see `storage::output_key`).
    pub media_attempt: Option<i64>,
    /// The update this one answers (a video reply; `None` once that is deleted), at a moment of it.
    pub reply_to: Option<UpdateId>,
    pub reply_at_ms: Option<i64>,
    /// The glossary version its transcript was made with.
    pub glossary_version: Option<i64>,
    /// The glossary terms whisper was given for it (those that fit its prompt window).
    pub prompt_terms: Vec<String>,
    /// The spoken language its uploader declared (else whisper tells).
    pub declared_language: Option<String>,
    /// The content type browsers play the original upload as (`None`: they wait for the MP4).
    pub original_type: Option<String>,
    pub created_at: i64,
    pub ready_at: Option<i64>,
    /// Who posted it; `None` for updates from before accounts.
    pub author: Option<Author>,
    /// Where it was posted.
    pub channel: Option<ChannelRef>,
    /// The job of each stage it has (see `JobKind::ALL`).
    pub stages: Vec<StageRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRef {
    pub id: i64,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub id: i64,
    pub login: String,
    pub display_name: String,
}

/// One processing stage of an update, as the API shows it.
#[derive(Debug, Clone)]
pub struct StageRow {
    pub kind: JobKind,
    pub state: JobState,
    pub attempt: i64,
    pub progress: i64,
    pub last_error: Option<String>,
}

/// Selected `FROM` [`FROM_UPDATES`]: the update, its author, its channel and the job of each stage.
const UPDATE_COLUMNS: &str =
    "updates.id, title, description, status, error, duration_ms, width, height, has_audio, source_bytes, \
                              language, word_count, storyboard, media_attempt, reply_to, reply_at_ms, glossary_version, prompt_terms, declared_language, original_type, updates.created_at, ready_at, author_id, \
                              users.login AS author_login, users.display_name AS author_name, \
                              updates.channel_id, channels.slug AS channel_slug, channels.name AS channel_name, \
                              transcode.state AS transcode_state, transcode.attempt AS transcode_attempt, \
                              transcode.progress AS transcode_progress, transcode.last_error AS transcode_error, \
                              transcribe.state AS transcribe_state, transcribe.attempt AS transcribe_attempt, \
                              transcribe.progress AS transcribe_progress, transcribe.last_error AS transcribe_error, \
                              stage_index.state AS index_state, stage_index.attempt AS index_attempt, \
                              stage_index.progress AS index_progress, stage_index.last_error AS index_error";
/// Each stage's job is joined in (one per kind and update: `UNIQUE (update_id, kind)`),
/// so a page of updates is one row each, and one query: the feed served 2,460
/// requests/s against 2,022-2,280 with a separate query for 60 job rows
/// (benches/speed api).
const FROM_UPDATES: &str = "updates LEFT JOIN users ON users.id = updates.author_id \
                            LEFT JOIN channels ON channels.id = updates.channel_id \
                            LEFT JOIN jobs transcode ON transcode.update_id = updates.id AND transcode.kind = 'transcode' \
                            LEFT JOIN jobs transcribe ON transcribe.update_id = updates.id AND transcribe.kind = 'transcribe' \
                            LEFT JOIN jobs stage_index ON stage_index.update_id = updates.id AND stage_index.kind = 'index'";
/// The columns [`UPDATE_COLUMNS`] names for each stage: state, attempt, progress, last error.
const STAGE_COLUMNS: [(JobKind, [&str; 4]); 3] = [
    (JobKind::Transcode, ["transcode_state", "transcode_attempt", "transcode_progress", "transcode_error"]),
    (JobKind::Transcribe, ["transcribe_state", "transcribe_attempt", "transcribe_progress", "transcribe_error"]),
    (JobKind::Index, ["index_state", "index_attempt", "index_progress", "index_error"]),
];

fn update_from_row<R: Row>(row: &R) -> Result<UpdateRow, DbError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let status: String = row.try_get("status")?;
    Ok(UpdateRow {
        id: UpdateId::from_trusted(row.try_get("id")?),
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        status: UpdateStatus::parse(&status).ok_or_else(|| DbError::Corrupt(format!("status {status}")))?,
        error: row.try_get("error")?,
        duration_ms: row.try_get("duration_ms")?,
        width: row.try_get("width")?,
        height: row.try_get("height")?,
        has_audio: row.try_get("has_audio")?,
        source_bytes: row.try_get("source_bytes")?,
        language: row.try_get("language")?,
        word_count: row.try_get("word_count")?,
        storyboard_json: row.try_get("storyboard")?,
        media_attempt: row.try_get("media_attempt")?,
        reply_to: row.try_get::<Option<String>, _>("reply_to")?.map(UpdateId::from_trusted),
        reply_at_ms: row.try_get("reply_at_ms")?,
        glossary_version: row.try_get("glossary_version")?,
        // Stored by the transcribe stage (JSON); absent before the first transcript.
        prompt_terms: row
            .try_get::<Option<String>, _>("prompt_terms")?
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default(),
        declared_language: row.try_get("declared_language")?,
        original_type: row.try_get("original_type")?,
        created_at: row.try_get("created_at")?,
        ready_at: row.try_get("ready_at")?,
        author: match (row.try_get("author_id")?, row.try_get("author_login")?, row.try_get("author_name")?) {
            (Some(id), Some(login), Some(display_name)) => Some(Author { id, login, display_name }),
            _ => None,
        },
        channel: match (row.try_get("channel_id")?, row.try_get("channel_slug")?, row.try_get("channel_name")?) {
            (Some(id), Some(slug), Some(name)) => Some(ChannelRef { id, slug, name }),
            _ => None,
        },
        stages: stages_from_row(row)?,
    })
}

/// The joined job of each stage that has one.
fn stages_from_row<R: Row>(row: &R) -> Result<Vec<StageRow>, DbError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let mut stages = Vec::with_capacity(STAGE_COLUMNS.len());
    for (kind, [state, attempt, progress, error]) in STAGE_COLUMNS {
        let Some(state) = row.try_get::<Option<String>, _>(state)? else { continue };
        stages.push(StageRow {
            kind,
            state: JobState::parse(&state).ok_or_else(|| DbError::Corrupt(format!("job state {state}")))?,
            attempt: row.try_get::<Option<i64>, _>(attempt)?.unwrap_or(0),
            progress: row.try_get::<Option<i64>, _>(progress)?.unwrap_or(0),
            last_error: row.try_get(error)?,
        });
    }
    Ok(stages)
}

/// Insert the update and enqueue its first jobs in one transaction: an
/// accepted upload is never without the work that will finish it.
pub async fn insert_with_jobs(db: &Db, new: &NewUpdate, first: &[JobKind], max_attempts: u32) -> Result<(), DbError> {
    // Due by the database's clock, which is what claims compare with.
    let due = db.now_ms().await?;
    in_write_tx!(db, |tx| {
        sqlx::query(
            "INSERT INTO updates (id, title, status, duration_ms, width, height, has_audio, source_bytes, media_info, \
             created_at, author_id, channel_id, description, reply_to, reply_at_ms, declared_language, original_type) \
             VALUES ($1, $2, 'processing', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(new.id.as_str())
        .bind(&new.title)
        .bind(new.duration_ms)
        .bind(new.width)
        .bind(new.height)
        .bind(new.has_audio)
        .bind(new.source_bytes)
        .bind(&new.media_info_json)
        .bind(new.created_at)
        .bind(new.author_id)
        .bind(new.channel_id)
        .bind(&new.description)
        .bind(new.reply_to.as_ref().map(|id| id.as_str().to_string()))
        .bind(new.reply_at_ms)
        .bind(&new.declared_language)
        .bind(new.original_type)
        .execute(&mut *tx)
        .await?;
        for kind in first {
            sqlx::query(
                "INSERT INTO jobs (update_id, kind, state, max_attempts, run_at, created_at, updated_at) \
                 VALUES ($1, $2, 'queued', $3, $4, $4, $4)",
            )
            .bind(new.id.as_str())
            .bind(kind.as_str())
            .bind(i64::from(max_attempts))
            .bind(due)
            .execute(&mut *tx)
            .await?;
        }
        for user_id in &new.ask {
            sqlx::query("INSERT INTO acknowledgements (update_id, user_id, requested_at) VALUES ($1, $2, $3)")
                .bind(new.id.as_str())
                .bind(user_id)
                .bind(new.created_at)
                .execute(&mut *tx)
                .await?;
        }
    });
    Ok(())
}

pub async fn get(db: &Db, id: &UpdateId) -> Result<Option<UpdateRow>, DbError> {
    let sql = format!("SELECT {UPDATE_COLUMNS} FROM {FROM_UPDATES} WHERE updates.id = $1");
    on_pool!(db, |pool| {
        let row = sqlx::query(&sql).bind(id.as_str()).fetch_optional(pool).await?;
        row.as_ref().map(update_from_row).transpose()
    })
}

/// Who lists updates: they see open channels, private ones they are in, or everything.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub user_id: i64,
    pub sees_everything: bool,
}

/// What a viewer may see, in SQL over `updates` joined to `channels`: the
/// parameter `everything` says they see everything, `user` is their id.
fn visible(everything: &str, user: &str) -> String {
    format!(
        "({everything} OR NOT channels.private OR EXISTS (SELECT 1 FROM channel_members m \
         WHERE m.channel_id = updates.channel_id AND m.user_id = {user}))"
    )
}

/// Not seen yet by person `user`: not theirs, not failed, and not counted as seen.
fn unseen(user: &str) -> String {
    format!(
        "(updates.author_id IS NULL OR updates.author_id <> {user}) AND updates.status <> 'failed' \
         AND NOT EXISTS (SELECT 1 FROM watch_progress p WHERE p.update_id = updates.id \
         AND p.user_id = {user} AND p.seen_at IS NOT NULL)"
    )
}

/// Newest first, of one channel or all, only what `viewer` may see (so pages
/// and cursors never count a hidden update), and with `unseen_only` only what
/// they have not seen; `before` is the id of the last update of the previous page.
pub async fn list(
    db: &Db,
    viewer: &Viewer,
    channel_id: Option<i64>,
    unseen_only: bool,
    before: Option<&UpdateId>,
    limit: i64,
) -> Result<Vec<UpdateRow>, DbError> {
    let sql = format!(
        "SELECT {UPDATE_COLUMNS} FROM {FROM_UPDATES} WHERE ($1 IS NULL OR updates.id < $1) \
         AND ($3 IS NULL OR updates.channel_id = $3) AND {} AND (NOT $6 OR ({})) \
         ORDER BY updates.id DESC LIMIT $2",
        visible("$4", "$5"),
        unseen("$5")
    );
    let before = before.map(|b| b.as_str().to_string());
    on_pool!(db, |pool| {
        let rows = sqlx::query(&sql)
            .bind(before)
            .bind(limit)
            .bind(channel_id)
            .bind(viewer.sees_everything)
            .bind(viewer.user_id)
            .bind(unseen_only)
            .fetch_all(pool)
            .await?;
        rows.iter().map(update_from_row).collect()
    })
}

/// The video replies to `parent` that `viewer` may see, oldest first.
pub async fn replies_to(db: &Db, viewer: &Viewer, parent: &UpdateId) -> Result<Vec<UpdateRow>, DbError> {
    let sql = format!(
        "SELECT {UPDATE_COLUMNS} FROM {FROM_UPDATES} WHERE updates.reply_to = $1 AND {} ORDER BY updates.id",
        visible("$2", "$3")
    );
    on_pool!(db, |pool| {
        let rows = sqlx::query(&sql)
            .bind(parent.as_str())
            .bind(viewer.sees_everything)
            .bind(viewer.user_id)
            .fetch_all(pool)
            .await?;
        rows.iter().map(update_from_row).collect()
    })
}

/// Per channel `viewer` may see: (slug, name, updates they have not seen), channels with none left out.
pub async fn unseen_counts(db: &Db, viewer: &Viewer) -> Result<Vec<(String, String, i64)>, DbError> {
    let sql = format!(
        "SELECT channels.slug, channels.name, COUNT(*) AS unseen FROM updates \
         JOIN channels ON channels.id = updates.channel_id WHERE {} AND {} \
         GROUP BY channels.slug, channels.name ORDER BY channels.name",
        visible("$1", "$2"),
        unseen("$2")
    );
    on_pool!(db, |pool| {
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as(&sql).bind(viewer.sees_everything).bind(viewer.user_id).fetch_all(pool).await?;
        Ok(rows)
    })
}

/// Count every update `viewer` may see (of `channel_id`, or all) as seen by them now.
pub async fn mark_all_seen(db: &Db, viewer: &Viewer, channel_id: Option<i64>, now: i64) -> Result<u64, DbError> {
    let sql = format!(
        "INSERT INTO watch_progress (user_id, update_id, watched, position_ms, seen_at, updated_at) \
         SELECT $4, updates.id, '[]', 0, $1, $1 FROM updates JOIN channels ON channels.id = updates.channel_id \
         WHERE ($2 IS NULL OR updates.channel_id = $2) AND {} AND {} \
         ON CONFLICT (user_id, update_id) DO UPDATE SET seen_at = excluded.seen_at, updated_at = excluded.updated_at",
        visible("$3", "$4"),
        unseen("$4")
    );
    let marked = in_write_tx!(db, |tx| {
        sqlx::query(&sql)
            .bind(now)
            .bind(channel_id)
            .bind(viewer.sees_everything)
            .bind(viewer.user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
    });
    Ok(marked)
}

pub async fn segments(db: &Db, id: &UpdateId) -> Result<Vec<TranscriptSegment>, DbError> {
    let sql = "SELECT start_ms, end_ms, text FROM segments WHERE update_id = $1 ORDER BY idx";
    on_pool!(db, |pool| {
        let rows = sqlx::query(sql).bind(id.as_str()).fetch_all(pool).await?;
        rows.iter()
            .map(|r| {
                Ok(TranscriptSegment {
                    start_ms: r.try_get("start_ms")?,
                    end_ms: r.try_get("end_ms")?,
                    text: r.try_get("text")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(DbError::from)
    })
}

/// Each line's word timings, as whisper gave them (JSON `[{start_ms, end_ms, text}]`;
/// `None` for a line corrected by hand, whose words no longer match).
pub async fn segment_words(db: &Db, id: &UpdateId) -> Result<Vec<Option<String>>, DbError> {
    let sql = "SELECT words FROM segments WHERE update_id = $1 ORDER BY idx";
    on_pool!(db, |pool| Ok(sqlx::query_scalar(sql).bind(id.as_str()).fetch_all(pool).await?))
}

/// Word timings (stored JSON) for `text` replacing a line that had `words`:
/// those of unchanged words kept (see [`retime_words`]); `None` without any to start from.
pub(crate) fn retimed(words: Option<&str>, text: &str, start_ms: i64, end_ms: i64) -> Option<String> {
    let old: Vec<TimedWord> = serde_json::from_str(words?).ok()?;
    serde_json::to_string(&retime_words(&old, text, start_ms, end_ms)).ok()
}

/// A hand correction of one transcript line: its new text replaces the old,
/// its word timings (which no longer match) are dropped, the update's word
/// count follows, and the search feed gets a change so every index re-reads
/// the transcript. Returns the corrected segment and the feed's sequence
/// number, or `None` when the update has no line `idx`.
pub async fn edit_segment(
    db: &Db,
    id: &UpdateId,
    idx: i64,
    text: &str,
    by: i64,
    now: i64,
) -> Result<Option<(TranscriptSegment, i64)>, DbError> {
    let edited = in_write_tx!(db, |tx| {
        let line: Option<(i64, i64, Option<String>)> =
            sqlx::query_as("SELECT start_ms, end_ms, words FROM segments WHERE update_id = $1 AND idx = $2")
                .bind(id.as_str())
                .bind(idx)
                .fetch_optional(&mut *tx)
                .await?;
        let words = line.map(|(start_ms, end_ms, words)| retimed(words.as_deref(), text, start_ms, end_ms));
        // The right-hand sides see the row as it was: whisper's text is kept once.
        let row = sqlx::query(
            "UPDATE segments SET text = $1, words = $6, edited_at = $2, edited_by = $5, \
             original_text = COALESCE(original_text, text) WHERE update_id = $3 AND idx = $4 \
             RETURNING start_ms, end_ms",
        )
        .bind(text)
        .bind(now)
        .bind(id.as_str())
        .bind(idx)
        .bind(by)
        .bind(words.flatten())
        .fetch_optional(&mut *tx)
        .await?;
        match row {
            None => None,
            Some(row) => {
                let segment = TranscriptSegment {
                    start_ms: row.try_get("start_ms")?,
                    end_ms: row.try_get("end_ms")?,
                    text: text.to_string(),
                };
                let texts: Vec<String> = sqlx::query_scalar("SELECT text FROM segments WHERE update_id = $1")
                    .bind(id.as_str())
                    .fetch_all(&mut *tx)
                    .await?;
                let words = word_count(texts.iter().map(String::as_str));
                sqlx::query("UPDATE updates SET word_count = $1 WHERE id = $2")
                    .bind(words as i64)
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await?;
                let seq: i64 = sqlx::query_scalar(
                    "INSERT INTO search_changes (update_id, created_at) VALUES ($1, $2) RETURNING seq",
                )
                .bind(id.as_str())
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                Some((segment, seq))
            }
        }
    });
    Ok(edited)
}

/// A line corrected by hand: its index, who corrected it last (login, display name) and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    pub idx: i64,
    pub login: String,
    pub display_name: String,
    pub at: i64,
}

/// A hand correction whose line a re-transcription no longer has: (start, end, text, by whom, when).
pub async fn correction_suggestions(db: &Db, id: &UpdateId) -> Result<Vec<(i64, i64, String, String, i64)>, DbError> {
    let sql = "SELECT c.start_ms, c.end_ms, c.text, COALESCE(u.display_name, '') AS by_name, c.suggested_at \
               FROM correction_suggestions c LEFT JOIN users u ON u.id = c.suggested_by \
               WHERE c.update_id = $1 ORDER BY c.start_ms";
    on_pool!(db, |pool| Ok(sqlx::query_as(sql).bind(id.as_str()).fetch_all(pool).await?))
}

/// The corrected lines of update `id`.
pub async fn corrections(db: &Db, id: &UpdateId) -> Result<Vec<Correction>, DbError> {
    let sql = "SELECT s.idx, u.login, u.display_name, s.edited_at FROM segments s JOIN users u ON u.id = s.edited_by \
               WHERE s.update_id = $1 AND s.edited_at IS NOT NULL ORDER BY s.idx";
    on_pool!(db, |pool| {
        let rows = sqlx::query(sql).bind(id.as_str()).fetch_all(pool).await?;
        rows.iter()
            .map(|r| {
                Ok(Correction {
                    idx: r.try_get("idx")?,
                    login: r.try_get("login")?,
                    display_name: r.try_get("display_name")?,
                    at: r.try_get("edited_at")?,
                })
            })
            .collect()
    })
}

/// Every update with the transcode attempt whose outputs it shows (the janitor's view).
pub async fn media_attempts(db: &Db) -> Result<Vec<(UpdateId, Option<i64>)>, DbError> {
    on_pool!(db, |pool| {
        let rows = sqlx::query("SELECT id, media_attempt FROM updates").fetch_all(pool).await?;
        rows.iter().map(|r| Ok((UpdateId::from_trusted(r.try_get("id")?), r.try_get("media_attempt")?))).collect()
    })
}

/// Every update id, for a full reindex.
pub async fn all_ids(db: &Db) -> Result<Vec<UpdateId>, DbError> {
    on_pool!(db, |pool| {
        let rows = sqlx::query("SELECT id FROM updates ORDER BY id").fetch_all(pool).await?;
        rows.iter().map(|r| Ok(UpdateId::from_trusted(r.try_get("id")?))).collect()
    })
}

/// Append a change for update `$id` to the search feed inside transaction
/// `$tx`; its sequence number.
macro_rules! search_change {
    ($tx:ident, $id:expr, $now:expr) => {{
        let seq: i64 =
            sqlx::query_scalar("INSERT INTO search_changes (update_id, created_at) VALUES ($1, $2) RETURNING seq")
                .bind($id.as_str())
                .bind($now)
                .fetch_one(&mut *$tx)
                .await?;
        seq
    }};
}

/// Move an update to another channel, and tell every search index (its
/// documents carry their channel); returns the search change's sequence number.
pub async fn move_to_channel(db: &Db, id: &UpdateId, channel_id: i64, now: i64) -> Result<Option<i64>, DbError> {
    let seq = in_write_tx!(db, |tx| {
        let moved = sqlx::query("UPDATE updates SET channel_id = $1 WHERE id = $2")
            .bind(channel_id)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if moved == 0 {
            return Ok(None);
        }
        let seq = search_change!(tx, id, now);
        Some(seq)
    });
    Ok(seq)
}

/// Delete an update with its transcript and jobs (they cascade), and tell
/// every search index; the search change's sequence number, `None` when it
/// was not there.
pub async fn delete(db: &Db, id: &UpdateId, now: i64) -> Result<Option<i64>, DbError> {
    let seq = in_write_tx!(db, |tx| {
        let deleted =
            sqlx::query("DELETE FROM updates WHERE id = $1").bind(id.as_str()).execute(&mut *tx).await?.rows_affected();
        if deleted == 0 {
            return Ok(None);
        }
        let seq = search_change!(tx, id, now);
        Some(seq)
    });
    Ok(seq)
}

/// Replace an update's description, and tell every search index (it is
/// searchable); the search change's sequence number, `None` when it is gone.
pub async fn set_description(db: &Db, id: &UpdateId, text: &str, now: i64) -> Result<Option<i64>, DbError> {
    let seq = in_write_tx!(db, |tx| {
        let changed = sqlx::query("UPDATE updates SET description = $1 WHERE id = $2")
            .bind(text)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Ok(None);
        }
        let seq = search_change!(tx, id, now);
        Some(seq)
    });
    Ok(seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_is_joined_in() {
        let kinds: Vec<JobKind> = STAGE_COLUMNS.iter().map(|(kind, _)| *kind).collect();
        assert_eq!(kinds, JobKind::ALL, "a new stage needs its join in FROM_UPDATES and its columns");
        for (kind, columns) in STAGE_COLUMNS {
            for column in columns {
                assert!(UPDATE_COLUMNS.contains(&format!(" AS {column}")), "{column} is selected");
            }
            let alias = if kind == JobKind::Index { "stage_index" } else { kind.as_str() };
            let join = format!(
                "LEFT JOIN jobs {alias} ON {alias}.update_id = updates.id AND {alias}.kind = '{}'",
                kind.as_str()
            );
            assert!(FROM_UPDATES.contains(&join), "{join}");
        }
    }
}
