//! Invitations: single-use codes (kept as digests) that let someone create
//! their own account.

use sqlx::Row;

use super::accounts::NewUser;
use super::{in_write_tx, on_pool, Db, DbError};
use crate::domain::account::Role;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRow {
    pub id: i64,
    pub role: Role,
    /// Login of the admin who made it.
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What became of an attempt to use an invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// The new account's id; the invitation is used up.
    User(i64),
    /// Someone has that login name; the invitation is still good.
    LoginTaken,
    /// No live invitation has that code (unknown, used, revoked or expired).
    NotValid,
}

pub async fn insert_invitation(
    db: &Db,
    code_digest: &str,
    role: Role,
    created_by: i64,
    now: i64,
    expires_at: i64,
) -> Result<i64, DbError> {
    let sql = "INSERT INTO invitations (code_digest, role, created_by, created_at, expires_at) \
               VALUES ($1, $2, $3, $4, $5) RETURNING id";
    on_pool!(db, |pool| Ok(sqlx::query_scalar(sql)
        .bind(code_digest)
        .bind(role.as_str())
        .bind(created_by)
        .bind(now)
        .bind(expires_at)
        .fetch_one(pool)
        .await?))
}

const LIVE: &str = "i.used_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $1";

fn invitation_from_row<R: Row>(row: &R) -> Result<InvitationRow, DbError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let role: String = row.try_get("role")?;
    Ok(InvitationRow {
        id: row.try_get("id")?,
        role: Role::parse(&role).ok_or_else(|| DbError::Corrupt(format!("role {role}")))?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

/// The live invitation with this code, if there is one.
pub async fn live_invitation(db: &Db, code_digest: &str, now: i64) -> Result<Option<InvitationRow>, DbError> {
    let sql = format!(
        "SELECT i.id, i.role, u.login AS created_by, i.created_at, i.expires_at FROM invitations i \
         JOIN users u ON u.id = i.created_by WHERE {LIVE} AND i.code_digest = $2"
    );
    on_pool!(db, |pool| {
        let row = sqlx::query(&sql).bind(now).bind(code_digest).fetch_optional(pool).await?;
        row.as_ref().map(invitation_from_row).transpose()
    })
}

/// Invitations not yet used, revoked or expired, newest first.
pub async fn live_invitations(db: &Db, now: i64) -> Result<Vec<InvitationRow>, DbError> {
    let sql = format!(
        "SELECT i.id, i.role, u.login AS created_by, i.created_at, i.expires_at FROM invitations i \
         JOIN users u ON u.id = i.created_by WHERE {LIVE} ORDER BY i.id DESC"
    );
    on_pool!(db, |pool| {
        let rows = sqlx::query(&sql).bind(now).fetch_all(pool).await?;
        rows.iter().map(invitation_from_row).collect()
    })
}

/// Use the invitation with this code to add `user` (whose role is the
/// invitation's): both happen, or neither does.
pub async fn redeem(db: &Db, code_digest: &str, user: &NewUser<'_>, now: i64) -> Result<Redeemed, DbError> {
    let claim = "UPDATE invitations SET used_at = $1 WHERE code_digest = $2 AND used_at IS NULL \
                 AND revoked_at IS NULL AND expires_at > $1 RETURNING id, role";
    let insert = "INSERT INTO users (login, display_name, role, password_hash, created_at) \
                  VALUES ($1, $2, $3, $4, $5) ON CONFLICT (login) DO NOTHING RETURNING id";
    let used_by = "UPDATE invitations SET used_by = $1 WHERE id = $2";
    let outcome = in_write_tx!(db, |tx| {
        let Some(claimed) = sqlx::query(claim).bind(now).bind(code_digest).fetch_optional(&mut *tx).await? else {
            return Ok(Redeemed::NotValid);
        };
        let invitation_id: i64 = claimed.try_get("id")?;
        let role: String = claimed.try_get("role")?;
        let id: Option<i64> = sqlx::query_scalar(insert)
            .bind(user.login.as_str())
            .bind(user.display_name)
            .bind(&role)
            .bind(user.password_hash)
            .bind(user.created_at)
            .fetch_optional(&mut *tx)
            .await?;
        // Returning drops the transaction: the claim is rolled back with it.
        let Some(id) = id else { return Ok(Redeemed::LoginTaken) };
        sqlx::query(used_by).bind(id).bind(invitation_id).execute(&mut *tx).await?;
        Redeemed::User(id)
    });
    Ok(outcome)
}

/// Withdraw a live invitation; false when there is no such live one.
pub async fn revoke_invitation(db: &Db, id: i64, now: i64) -> Result<bool, DbError> {
    let sql = "UPDATE invitations SET revoked_at = $1 WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL";
    on_pool!(db, |pool| Ok(sqlx::query(sql).bind(now).bind(id).execute(pool).await?.rows_affected() == 1))
}
