//! The search change feed: an append-only list of updates whose searchable
//! content changed, ordered by a sequence number. Each server's index follower
//! applies the feed past the sequence number committed in its own index.

use sqlx::Row;

use super::{in_write_tx, on_pool, Db, DbError};
use crate::clock::now_ms;
use crate::domain::UpdateId;

#[derive(Debug, Clone)]
pub struct Change {
    pub seq: i64,
    pub update_id: UpdateId,
}

pub async fn changes_after(db: &Db, seq: i64, limit: i64) -> Result<Vec<Change>, DbError> {
    let sql = "SELECT seq, update_id FROM search_changes WHERE seq > $1 ORDER BY seq LIMIT $2";
    on_pool!(db, |pool| {
        let rows = sqlx::query(sql).bind(seq).bind(limit).fetch_all(pool).await?;
        rows.iter()
            .map(|r| Ok(Change { seq: r.try_get("seq")?, update_id: UpdateId::from_trusted(r.try_get("update_id")?) }))
            .collect()
    })
}

/// The newest sequence number (0 when the feed is empty).
pub async fn head(db: &Db) -> Result<i64, DbError> {
    let sql = "SELECT COALESCE(MAX(seq), 0) AS head FROM search_changes";
    on_pool!(db, |pool| Ok(sqlx::query(sql).fetch_one(pool).await?.try_get("head")?))
}

/// The newest change recorded for one update, if any.
pub async fn latest_for(db: &Db, id: &UpdateId) -> Result<Option<i64>, DbError> {
    let sql = "SELECT MAX(seq) AS seq FROM search_changes WHERE update_id = $1";
    on_pool!(db, |pool| Ok(sqlx::query(sql).bind(id.as_str()).fetch_one(pool).await?.try_get("seq")?))
}

/// Append a change for every update: every index re-applies everything.
pub async fn touch_all(db: &Db) -> Result<u64, DbError> {
    let now = now_ms();
    let added = in_write_tx!(db, |tx| {
        sqlx::query("INSERT INTO search_changes (update_id, created_at) SELECT id, $1 FROM updates ORDER BY id")
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
    });
    Ok(added)
}
