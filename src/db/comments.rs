//! Comments and reactions on updates (`comments`, `reactions`). A change to an
//! update's comments goes into the search feed (for a ready update), so the
//! index finds comment text like any other.

use sqlx::Row;

use super::{in_write_tx, on_pool, Db, DbError};
use crate::domain::UpdateId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentRow {
    pub id: i64,
    pub update_id: UpdateId,
    pub parent_id: Option<i64>,
    pub author_id: i64,
    pub author_login: String,
    pub author_name: String,
    /// The moment it is about; `None`: the whole update.
    pub at_ms: Option<i64>,
    /// Empty once deleted.
    pub body: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
}

/// A comment to store, checked (see `crate::domain::comment`).
#[derive(Debug, Clone)]
pub struct NewComment<'a> {
    pub update: &'a UpdateId,
    pub parent_id: Option<i64>,
    pub author_id: i64,
    pub at_ms: Option<u64>,
    pub body: &'a str,
    pub now: i64,
}

const COLUMNS: &str = "c.id, c.update_id, c.parent_id, c.author_id, u.login AS author_login, \
                       u.display_name AS author_name, c.at_ms, c.body, c.created_at, c.edited_at, c.deleted_at \
                       FROM comments c JOIN users u ON u.id = c.author_id";

/// Put `update` in the search feed, if its transcript is indexed already (a
/// processing update is indexed, comments and all, when it is ready).
const INTO_SEARCH_FEED: &str = "INSERT INTO search_changes (update_id, created_at) \
                                SELECT id, $2 FROM updates WHERE id = $1 AND status = 'ready'";

fn from_row<R: Row>(row: &R) -> Result<CommentRow, DbError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database>,
{
    Ok(CommentRow {
        id: row.try_get("id")?,
        update_id: UpdateId::from_trusted(row.try_get("update_id")?),
        parent_id: row.try_get("parent_id")?,
        author_id: row.try_get("author_id")?,
        author_login: row.try_get("author_login")?,
        author_name: row.try_get("author_name")?,
        at_ms: row.try_get("at_ms")?,
        body: row.try_get("body")?,
        created_at: row.try_get("created_at")?,
        edited_at: row.try_get("edited_at")?,
        deleted_at: row.try_get("deleted_at")?,
    })
}

pub async fn insert(db: &Db, new: NewComment<'_>) -> Result<i64, DbError> {
    let at_ms = new.at_ms.map(|ms| i64::try_from(ms).unwrap_or(i64::MAX));
    let id = in_write_tx!(db, |tx| {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO comments (update_id, parent_id, author_id, at_ms, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(new.update.as_str())
        .bind(new.parent_id)
        .bind(new.author_id)
        .bind(at_ms)
        .bind(new.body)
        .bind(new.now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(INTO_SEARCH_FEED).bind(new.update.as_str()).bind(new.now).execute(&mut *tx).await?;
        id
    });
    Ok(id)
}

/// Comment `id` of `update`, deleted or not.
pub async fn get(db: &Db, update: &UpdateId, id: i64) -> Result<Option<CommentRow>, DbError> {
    let sql = format!("SELECT {COLUMNS} WHERE c.id = $1 AND c.update_id = $2");
    on_pool!(db, |pool| {
        let row = sqlx::query(&sql).bind(id).bind(update.as_str()).fetch_optional(pool).await?;
        row.as_ref().map(from_row).transpose()
    })
}

/// Every comment of `update`, oldest first (deleted ones that still have answers included).
pub async fn list(db: &Db, update: &UpdateId) -> Result<Vec<CommentRow>, DbError> {
    let sql = format!("SELECT {COLUMNS} WHERE c.update_id = $1 ORDER BY c.id");
    on_pool!(db, |pool| {
        let rows = sqlx::query(&sql).bind(update.as_str()).fetch_all(pool).await?;
        rows.iter().map(from_row).collect()
    })
}

/// The text of every comment of `update` that stands, with its moment, for the search index.
pub async fn searchable(db: &Db, update: &UpdateId) -> Result<Vec<(String, Option<i64>)>, DbError> {
    let sql = "SELECT body, at_ms FROM comments WHERE update_id = $1 AND deleted_at IS NULL ORDER BY id";
    on_pool!(db, |pool| Ok(sqlx::query_as(sql).bind(update.as_str()).fetch_all(pool).await?))
}

pub async fn edit(db: &Db, update: &UpdateId, id: i64, body: &str, now: i64) -> Result<(), DbError> {
    in_write_tx!(db, |tx| {
        sqlx::query("UPDATE comments SET body = $1, edited_at = $2 WHERE id = $3 AND update_id = $4")
            .bind(body)
            .bind(now)
            .bind(id)
            .bind(update.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(INTO_SEARCH_FEED).bind(update.as_str()).bind(now).execute(&mut *tx).await?;
    });
    Ok(())
}

/// Delete comment `id`: gone, unless it has answers; then its place in the
/// thread stays, without its text.
pub async fn delete(db: &Db, update: &UpdateId, id: i64, now: i64) -> Result<(), DbError> {
    in_write_tx!(db, |tx| {
        let answered: Option<i64> =
            sqlx::query_scalar("SELECT id FROM comments WHERE parent_id = $1 AND deleted_at IS NULL LIMIT 1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if answered.is_some() {
            sqlx::query("UPDATE comments SET body = '', deleted_at = $1 WHERE id = $2 AND update_id = $3")
                .bind(now)
                .bind(id)
                .bind(update.as_str())
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("DELETE FROM comments WHERE id = $1 AND update_id = $2")
                .bind(id)
                .bind(update.as_str())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(INTO_SEARCH_FEED).bind(update.as_str()).bind(now).execute(&mut *tx).await?;
    });
    Ok(())
}

/// Comments that stand (not deleted) on each of `ids`.
pub async fn counts(db: &Db, ids: &[UpdateId]) -> Result<std::collections::HashMap<UpdateId, i64>, DbError> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT update_id, COUNT(*) AS n FROM comments WHERE deleted_at IS NULL AND update_id IN ({}) GROUP BY update_id",
        placeholders.join(", ")
    );
    on_pool!(db, |pool| {
        let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
        for id in ids {
            query = query.bind(id.as_str());
        }
        let rows = query.fetch_all(pool).await?;
        Ok(rows.into_iter().map(|(id, n)| (UpdateId::from_trusted(id), n)).collect())
    })
}

/// Reactions of `update`: (emoji, moment or -1 for the whole update, how many, whether `user_id` is one).
pub async fn reactions(db: &Db, update: &UpdateId, user_id: i64) -> Result<Vec<(String, i64, i64, bool)>, DbError> {
    let sql = "SELECT emoji, at_ms, COUNT(*) AS n, MAX(CASE WHEN user_id = $2 THEN 1 ELSE 0 END) AS mine \
               FROM reactions WHERE update_id = $1 GROUP BY emoji, at_ms ORDER BY at_ms, emoji";
    on_pool!(db, |pool| {
        let rows = sqlx::query(sql).bind(update.as_str()).bind(user_id).fetch_all(pool).await?;
        rows.iter()
            .map(|r| {
                let mine: i32 = r.try_get("mine")?;
                Ok((r.try_get("emoji")?, r.try_get("at_ms")?, r.try_get("n")?, mine == 1))
            })
            .collect()
    })
}

/// Add (`on`) or take back a reaction; doing either twice changes nothing.
pub async fn react(
    db: &Db,
    update: &UpdateId,
    user_id: i64,
    emoji: &str,
    at_ms: i64,
    on: bool,
    now: i64,
) -> Result<(), DbError> {
    in_write_tx!(db, |tx| {
        if on {
            sqlx::query(
                "INSERT INTO reactions (update_id, user_id, emoji, at_ms, created_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (update_id, user_id, emoji, at_ms) DO NOTHING",
            )
            .bind(update.as_str())
            .bind(user_id)
            .bind(emoji)
            .bind(at_ms)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query("DELETE FROM reactions WHERE update_id = $1 AND user_id = $2 AND emoji = $3 AND at_ms = $4")
                .bind(update.as_str())
                .bind(user_id)
                .bind(emoji)
                .bind(at_ms)
                .execute(&mut *tx)
                .await?;
        }
    });
    Ok(())
}
