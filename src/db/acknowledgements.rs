//! Who was asked to acknowledge an update, and who did (`acknowledgements`),
//! beside who has seen or started it (`watch_progress`).

use sqlx::Row;

use super::{in_write_tx, on_pool, Db, DbError};
use crate::domain::UpdateId;

/// Ask `user_ids` to acknowledge `update`; asking again changes nothing.
pub async fn ask(db: &Db, update: &UpdateId, user_ids: &[i64], now: i64) -> Result<(), DbError> {
    in_write_tx!(db, |tx| {
        for user_id in user_ids {
            sqlx::query(
                "INSERT INTO acknowledgements (update_id, user_id, requested_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (update_id, user_id) DO NOTHING",
            )
            .bind(update.as_str())
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
    });
    Ok(())
}

/// Record that `user_id` acknowledged `update` (which also counts as seen);
/// `None` if they were not asked, else when they first acknowledged.
pub async fn acknowledge(db: &Db, update: &UpdateId, user_id: i64, now: i64) -> Result<Option<i64>, DbError> {
    let acknowledged = in_write_tx!(db, |tx| {
        let at: Option<Option<i64>> = sqlx::query_scalar(
            "UPDATE acknowledgements SET acknowledged_at = COALESCE(acknowledged_at, $1) \
             WHERE update_id = $2 AND user_id = $3 RETURNING acknowledged_at",
        )
        .bind(now)
        .bind(update.as_str())
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        if at.is_some() {
            sqlx::query(
                "INSERT INTO watch_progress (user_id, update_id, watched, position_ms, seen_at, updated_at) \
                 VALUES ($1, $2, '[]', 0, $3, $3) ON CONFLICT (user_id, update_id) \
                 DO UPDATE SET seen_at = COALESCE(watch_progress.seen_at, excluded.seen_at)",
            )
            .bind(user_id)
            .bind(update.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        at.flatten()
    });
    Ok(acknowledged)
}

/// One person's standing with an update, for its author's view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceRow {
    pub login: String,
    pub display_name: String,
    pub requested_at: Option<i64>,
    pub acknowledged_at: Option<i64>,
    pub seen_at: Option<i64>,
    /// Watched some of it or read some of it.
    pub started_at: Option<i64>,
}

/// Everyone asked to acknowledge `update` or who has started it, by login.
pub async fn audience(db: &Db, update: &UpdateId) -> Result<Vec<AudienceRow>, DbError> {
    let sql =
        "SELECT u.login, u.display_name, a.requested_at, a.acknowledged_at, p.seen_at, p.updated_at AS started_at \
               FROM users u \
               LEFT JOIN acknowledgements a ON a.user_id = u.id AND a.update_id = $1 \
               LEFT JOIN watch_progress p ON p.user_id = u.id AND p.update_id = $1 \
               WHERE a.user_id IS NOT NULL OR p.user_id IS NOT NULL ORDER BY u.login";
    on_pool!(db, |pool| {
        let rows = sqlx::query(sql).bind(update.as_str()).fetch_all(pool).await?;
        rows.iter()
            .map(|r| {
                Ok(AudienceRow {
                    login: r.try_get("login")?,
                    display_name: r.try_get("display_name")?,
                    requested_at: r.try_get("requested_at")?,
                    acknowledged_at: r.try_get("acknowledged_at")?,
                    seen_at: r.try_get("seen_at")?,
                    started_at: r.try_get("started_at")?,
                })
            })
            .collect()
    })
}

/// Whether `user_id` was asked to acknowledge `update`, and when they did.
pub async fn request_of(db: &Db, update: &UpdateId, user_id: i64) -> Result<Option<Option<i64>>, DbError> {
    let sql = "SELECT acknowledged_at FROM acknowledgements WHERE update_id = $1 AND user_id = $2";
    on_pool!(db, |pool| Ok(sqlx::query_scalar(sql).bind(update.as_str()).bind(user_id).fetch_optional(pool).await?))
}

/// The people (not disabled) who see channel `channel_id`: everyone for an open
/// channel, its members for a private one.
pub async fn people_who_see(db: &Db, channel_id: i64) -> Result<Vec<i64>, DbError> {
    let sql = "SELECT u.id FROM users u JOIN channels c ON c.id = $1 WHERE u.disabled_at IS NULL \
               AND (NOT c.private OR EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = c.id AND m.user_id = u.id)) \
               ORDER BY u.id";
    on_pool!(db, |pool| Ok(sqlx::query_scalar(sql).bind(channel_id).fetch_all(pool).await?))
}
