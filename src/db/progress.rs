//! Each person's progress through each update (`watch_progress`).

use std::collections::HashMap;

use sqlx::Row;

use super::{in_write_tx, on_pool, Db, DbError};
use crate::domain::progress::{read_enough, Watched};
use crate::domain::UpdateId;

#[derive(Debug, Clone, PartialEq)]
pub struct ProgressRow {
    pub watched: Watched,
    pub position_ms: u64,
    /// When it first counted as seen; it stays seen.
    pub seen_at: Option<i64>,
    /// The largest share of the transcript's lines that was on screen.
    pub read_fraction: f64,
    /// How long the transcript was on screen in all.
    pub read_ms: u64,
}

/// One checked report from the player (see [`record`]).
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    pub watched: &'a [(u64, u64)],
    /// `None` keeps the stored position.
    pub position_ms: Option<u64>,
    pub reading: Reading,
}

/// What reading the transcript added since the last report.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Reading {
    pub fraction: f64,
    pub visible_ms: u64,
}

/// One person's row for one update ($1 the person, $2 the update), as [`from_row`] reads it.
const ONE_ROW: &str = "SELECT watched, position_ms, seen_at, read_fraction, read_ms FROM watch_progress \
                       WHERE user_id = $1 AND update_id = $2";

fn from_row<R: Row>(row: &R) -> Result<ProgressRow, DbError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database>,
    for<'a> f64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let watched: String = row.try_get("watched")?;
    Ok(ProgressRow {
        watched: serde_json::from_str(&watched).map_err(|e| DbError::Corrupt(format!("watched intervals: {e}")))?,
        position_ms: u64::try_from(row.try_get::<i64, _>("position_ms")?).unwrap_or(0),
        seen_at: row.try_get("seen_at")?,
        read_fraction: row.try_get("read_fraction")?,
        read_ms: u64::try_from(row.try_get::<i64, _>("read_ms")?).unwrap_or(0),
    })
}

pub async fn get(db: &Db, user_id: i64, update: &UpdateId) -> Result<Option<ProgressRow>, DbError> {
    on_pool!(db, |pool| {
        let row = sqlx::query(ONE_ROW).bind(user_id).bind(update.as_str()).fetch_optional(pool).await?;
        row.as_ref().map(from_row).transpose()
    })
}

/// Merge `report` (checked already: see [`Watched::add`]) into the person's
/// progress through an update of `duration_ms` with `words` in its transcript,
/// progress and store where they are. Two reports at once take turns: the row
/// is locked (created if new) before it is read.
pub async fn record(
    db: &Db,
    user_id: i64,
    update: &UpdateId,
    report: Report<'_>,
    duration_ms: u64,
    words: u64,
    now: i64,
) -> Result<ProgressRow, DbError> {
    let Report { watched: report, position_ms, reading } = report;
    let row = in_write_tx!(db, |tx| {
        sqlx::query(
            "INSERT INTO watch_progress (user_id, update_id, watched, position_ms, updated_at) \
             VALUES ($1, $2, '[]', 0, $3) \
             ON CONFLICT (user_id, update_id) DO UPDATE SET updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(update.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let current = sqlx::query(ONE_ROW).bind(user_id).bind(update.as_str()).fetch_one(&mut *tx).await?;
        let mut row = from_row(&current)?;
        row.watched.add(report, duration_ms).map_err(|e| DbError::Corrupt(e.to_string()))?;
        row.position_ms = position_ms.unwrap_or(row.position_ms);
        row.read_fraction = row.read_fraction.max(reading.fraction);
        row.read_ms = row.read_ms.saturating_add(reading.visible_ms);
        let read = read_enough(row.read_fraction, row.read_ms, words);
        if row.seen_at.is_none() && (row.watched.is_seen(duration_ms) || read) {
            row.seen_at = Some(now);
        }
        let watched = serde_json::to_string(&row.watched).map_err(|e| DbError::Corrupt(e.to_string()))?;
        sqlx::query(
            "UPDATE watch_progress SET watched = $1, position_ms = $2, seen_at = $3, updated_at = $4, \
             read_fraction = $7, read_ms = $8 WHERE user_id = $5 AND update_id = $6",
        )
        .bind(watched)
        .bind(i64::try_from(row.position_ms).unwrap_or(i64::MAX))
        .bind(row.seen_at)
        .bind(now)
        .bind(user_id)
        .bind(update.as_str())
        .bind(row.read_fraction)
        .bind(i64::try_from(row.read_ms).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        row
    });
    Ok(row)
}

/// Where one person stands with one update, as lists show it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Standing {
    /// They reported watching or reading some of it.
    pub started: bool,
    pub seen: bool,
    /// Asked to acknowledge it: `Some(when they did)`.
    pub request: Option<Option<i64>>,
}

/// Person `user_id`'s standing with each of `ids` (those without a row stand nowhere).
pub async fn standings(db: &Db, user_id: i64, ids: &[UpdateId]) -> Result<HashMap<UpdateId, Standing>, DbError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let placeholders: Vec<String> = (2..ids.len() + 2).map(|i| format!("${i}")).collect();
    let list = placeholders.join(", ");
    // Opening an update with nothing reported leaves no row; mark-all-seen leaves
    // one without anything watched, which is seen but not started.
    let sql = format!(
        "SELECT update_id, (watched <> '[]' OR read_ms > 0) AS started, seen_at IS NOT NULL AS seen, \
         NULL AS requested_at, NULL AS acknowledged_at FROM watch_progress WHERE user_id = $1 AND update_id IN ({list}) \
         UNION ALL SELECT update_id, FALSE, FALSE, requested_at, acknowledged_at FROM acknowledgements \
         WHERE user_id = $1 AND update_id IN ({list})"
    );
    on_pool!(db, |pool| {
        let mut query = sqlx::query(&sql).bind(user_id);
        for id in ids {
            query = query.bind(id.as_str());
        }
        let mut standings: HashMap<UpdateId, Standing> = HashMap::new();
        for row in query.fetch_all(pool).await? {
            let standing = standings.entry(UpdateId::from_trusted(row.try_get("update_id")?)).or_default();
            standing.started |= row.try_get::<bool, _>("started")?;
            standing.seen |= row.try_get::<bool, _>("seen")?;
            if row.try_get::<Option<i64>, _>("requested_at")?.is_some() {
                standing.request = Some(row.try_get("acknowledged_at")?);
            }
        }
        Ok(standings)
    })
}
