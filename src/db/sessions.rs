//! Browser sessions: one row per signed-in browser, found by the digest of
//! its cookie's secret.

use sqlx::Row;

use super::accounts::{user_columns_of, user_from_row, UserRow};
use super::{on_pool, Db, DbError};

#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub user_id: i64,
    pub secret_digest: &'a str,
    pub user_agent: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id: i64,
    pub user_agent: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

/// A session's last activity is written at most this often, not on every request.
const LAST_SEEN_RESOLUTION_MS: i64 = 60_000;

pub async fn insert_session(db: &Db, new: &NewSession<'_>) -> Result<i64, DbError> {
    let sql = "INSERT INTO sessions (user_id, secret_digest, user_agent, created_at, last_seen_at, expires_at) \
               VALUES ($1, $2, $3, $4, $4, $5) RETURNING id";
    on_pool!(db, |pool| Ok(sqlx::query_scalar(sql)
        .bind(new.user_id)
        .bind(new.secret_digest)
        .bind(new.user_agent)
        .bind(new.now)
        .bind(new.expires_at)
        .fetch_one(pool)
        .await?))
}

/// The session and person behind a cookie's digest, if the session is live:
/// not revoked, not past its absolute expiry, active within `idle_ms`, and
/// its account enabled. Notes the activity.
pub async fn live_session(
    db: &Db,
    secret_digest: &str,
    now: i64,
    idle_ms: i64,
) -> Result<Option<(i64, UserRow)>, DbError> {
    let sql = format!(
        "SELECT s.id AS session_id, s.last_seen_at, {} FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.secret_digest = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND s.last_seen_at > $3 \
         AND u.disabled_at IS NULL",
        user_columns_of("u")
    );
    let touch = "UPDATE sessions SET last_seen_at = $1 WHERE id = $2";
    on_pool!(db, |pool| {
        let row = sqlx::query(&sql).bind(secret_digest).bind(now).bind(now - idle_ms).fetch_optional(pool).await?;
        let Some(row) = row else { return Ok(None) };
        let session_id: i64 = row.try_get("session_id")?;
        let last_seen: i64 = row.try_get("last_seen_at")?;
        if now - last_seen >= LAST_SEEN_RESOLUTION_MS {
            sqlx::query(touch).bind(now).bind(session_id).execute(pool).await?;
        }
        Ok(Some((session_id, user_from_row(&row)?)))
    })
}

/// End one of `user_id`'s sessions; false when they have no such live session.
pub async fn revoke_session(db: &Db, user_id: i64, session_id: i64, now: i64) -> Result<bool, DbError> {
    let sql = "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL";
    on_pool!(db, |pool| Ok(sqlx::query(sql)
        .bind(now)
        .bind(session_id)
        .bind(user_id)
        .execute(pool)
        .await?
        .rows_affected()
        == 1))
}

/// End every session of `user_id` (after a password reset).
pub async fn revoke_sessions_of(db: &Db, user_id: i64, now: i64) -> Result<u64, DbError> {
    let sql = "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL";
    on_pool!(db, |pool| Ok(sqlx::query(sql).bind(now).bind(user_id).execute(pool).await?.rows_affected()))
}

/// A person's sessions that could still be used, most recently active first.
pub async fn live_sessions_of(db: &Db, user_id: i64, now: i64, idle_ms: i64) -> Result<Vec<SessionRow>, DbError> {
    let sql = "SELECT id, user_agent, created_at, last_seen_at, expires_at FROM sessions \
               WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND last_seen_at > $3 \
               ORDER BY last_seen_at DESC, id DESC";
    on_pool!(db, |pool| {
        let rows = sqlx::query(sql).bind(user_id).bind(now).bind(now - idle_ms).fetch_all(pool).await?;
        rows.iter()
            .map(|r| {
                Ok(SessionRow {
                    id: r.try_get("id")?,
                    user_agent: r.try_get("user_agent")?,
                    created_at: r.try_get("created_at")?,
                    last_seen_at: r.try_get("last_seen_at")?,
                    expires_at: r.try_get("expires_at")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(DbError::from)
    })
}

/// Delete sessions that can no longer be used; returns how many.
pub async fn delete_dead_sessions(db: &Db, now: i64, idle_ms: i64) -> Result<u64, DbError> {
    let sql = "DELETE FROM sessions WHERE revoked_at IS NOT NULL OR expires_at <= $1 OR last_seen_at <= $2";
    on_pool!(db, |pool| Ok(sqlx::query(sql).bind(now).bind(now - idle_ms).execute(pool).await?.rows_affected()))
}
