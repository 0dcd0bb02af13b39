//! Users and their API tokens.

use sqlx::Row;

use super::{on_pool, Db, DbError};
use crate::domain::account::{LoginName, Role};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: i64,
    pub login: LoginName,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub login: &'a LoginName,
    pub display_name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked: bool,
}

/// A token's last use is written at most this often, not on every request.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

pub(super) const USER_COLUMNS: &str = "id, login, display_name, role, disabled_at, created_at";

pub(super) fn user_from_row<R: Row>(row: &R) -> Result<UserRow, DbError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database>,
{
    let role: String = row.try_get("role")?;
    let disabled_at: Option<i64> = row.try_get("disabled_at")?;
    Ok(UserRow {
        id: row.try_get("id")?,
        login: LoginName::from_trusted(row.try_get("login")?),
        display_name: row.try_get("display_name")?,
        role: Role::parse(&role).ok_or_else(|| DbError::Corrupt(format!("role {role}")))?,
        disabled: disabled_at.is_some(),
        created_at: row.try_get("created_at")?,
    })
}

/// [`USER_COLUMNS`] of the users table under `alias`, for joins.
pub(super) fn user_columns_of(alias: &str) -> String {
    USER_COLUMNS.split(", ").map(|c| format!("{alias}.{c}")).collect::<Vec<_>>().join(", ")
}

/// Insert a user; `None` when the login name is taken.
pub async fn insert_user(db: &Db, new: &NewUser<'_>) -> Result<Option<i64>, DbError> {
    let sql = "INSERT INTO users (login, display_name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) \
               ON CONFLICT (login) DO NOTHING RETURNING id";
    on_pool!(db, |pool| Ok(sqlx::query_scalar(sql)
        .bind(new.login.as_str())
        .bind(new.display_name)
        .bind(new.role.as_str())
        .bind(new.password_hash)
        .bind(new.created_at)
        .fetch_optional(pool)
        .await?))
}

/// Everyone, by login name.
pub async fn all_users(db: &Db) -> Result<Vec<UserRow>, DbError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY login");
    on_pool!(db, |pool| {
        let rows = sqlx::query(&sql).fetch_all(pool).await?;
        rows.iter().map(user_from_row).collect()
    })
}

pub async fn count_users(db: &Db) -> Result<i64, DbError> {
    on_pool!(db, |pool| Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await?))
}

/// The user and their password hash, for signing in.
pub async fn user_by_login(db: &Db, login: &LoginName) -> Result<Option<(UserRow, String)>, DbError> {
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE login = $1");
    on_pool!(db, |pool| {
        let row = sqlx::query(&sql).bind(login.as_str()).fetch_optional(pool).await?;
        row.map(|r| Ok((user_from_row(&r)?, r.try_get("password_hash")?))).transpose()
    })
}

pub async fn user_by_id(db: &Db, id: i64) -> Result<Option<UserRow>, DbError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    on_pool!(db, |pool| {
        let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await?;
        row.as_ref().map(user_from_row).transpose()
    })
}

/// Disable (or enable again) an account; false when there is no such user.
pub async fn set_disabled(db: &Db, id: i64, disabled: bool, now: i64) -> Result<bool, DbError> {
    let sql = "UPDATE users SET disabled_at = $1 WHERE id = $2";
    let at = disabled.then_some(now);
    on_pool!(db, |pool| Ok(sqlx::query(sql).bind(at).bind(id).execute(pool).await?.rows_affected() == 1))
}

pub async fn set_password_hash(db: &Db, id: i64, password_hash: &str) -> Result<bool, DbError> {
    let sql = "UPDATE users SET password_hash = $1 WHERE id = $2";
    on_pool!(db, |pool| Ok(sqlx::query(sql).bind(password_hash).bind(id).execute(pool).await?.rows_affected() == 1))
}

/// Record a new token by the digest of its secret; returns its id.
pub async fn insert_token(db: &Db, user_id: i64, name: &str, secret_digest: &str, now: i64) -> Result<i64, DbError> {
    let sql = "INSERT INTO api_tokens (user_id, name, secret_digest, created_at) VALUES ($1, $2, $3, $4) RETURNING id";
    on_pool!(db, |pool| Ok(sqlx::query_scalar(sql)
        .bind(user_id)
        .bind(name)
        .bind(secret_digest)
        .bind(now)
        .fetch_one(pool)
        .await?))
}

/// The user a live token belongs to (not revoked, account not disabled), noting
/// its use. `None` for any token that does not let its bearer in.
pub async fn user_for_token(db: &Db, secret_digest: &str, now: i64) -> Result<Option<UserRow>, DbError> {
    let sql = format!(
        "SELECT t.id AS token_id, t.last_used_at, {} FROM api_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.secret_digest = $1 AND t.revoked_at IS NULL AND u.disabled_at IS NULL",
        user_columns_of("u")
    );
    let touch = "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2";
    on_pool!(db, |pool| {
        let Some(row) = sqlx::query(&sql).bind(secret_digest).fetch_optional(pool).await? else { return Ok(None) };
        let last_used: Option<i64> = row.try_get("last_used_at")?;
        if last_used.is_none_or(|at| now - at >= LAST_USED_RESOLUTION_MS) {
            let token_id: i64 = row.try_get("token_id")?;
            sqlx::query(touch).bind(now).bind(token_id).execute(pool).await?;
        }
        Ok(Some(user_from_row(&row)?))
    })
}

/// A user's tokens, newest first (revoked ones too, marked).
pub async fn tokens_of(db: &Db, user_id: i64) -> Result<Vec<TokenRow>, DbError> {
    let sql =
        "SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id DESC";
    on_pool!(db, |pool| {
        let rows = sqlx::query(sql).bind(user_id).fetch_all(pool).await?;
        rows.iter()
            .map(|r| {
                let revoked_at: Option<i64> = r.try_get("revoked_at")?;
                Ok(TokenRow {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                    revoked: revoked_at.is_some(),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(DbError::from)
    })
}

/// Revoke one of `user_id`'s tokens; false when they have no such live token.
pub async fn revoke_token(db: &Db, user_id: i64, token_id: i64, now: i64) -> Result<bool, DbError> {
    let sql = "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL";
    on_pool!(db, |pool| Ok(sqlx::query(sql)
        .bind(now)
        .bind(token_id)
        .bind(user_id)
        .execute(pool)
        .await?
        .rows_affected()
        == 1))
}
