//! Channels and who is in them.

use sqlx::Row;

use super::{on_pool, Db, DbError};
use crate::domain::channel::{ChannelName, Posting};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub posting: Posting,
    pub private: bool,
    pub archived: bool,
    pub created_at: i64,
}

/// One person's place in a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Membership {
    pub is_admin: bool,
    pub can_post: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub login: String,
    pub display_name: String,
    pub membership: Membership,
}

const CHANNEL_COLUMNS: &str = "c.id, c.slug, c.name, c.posting, c.private, c.archived_at, c.created_at";

fn channel_from_row<R: Row>(row: &R) -> Result<ChannelRow, DbError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let posting: String = row.try_get("posting")?;
    let archived_at: Option<i64> = row.try_get("archived_at")?;
    Ok(ChannelRow {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        posting: Posting::parse(&posting).ok_or_else(|| DbError::Corrupt(format!("posting {posting}")))?,
        private: row.try_get("private")?,
        archived: archived_at.is_some(),
        created_at: row.try_get("created_at")?,
    })
}

fn membership_from_row<R: Row>(row: &R) -> Result<Option<Membership>, DbError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> Option<bool>: sqlx::Decode<'a, R::Database>,
    for<'a> bool: sqlx::Type<R::Database>,
{
    let is_admin: Option<bool> = row.try_get("is_admin")?;
    let can_post: Option<bool> = row.try_get("can_post")?;
    Ok(is_admin.map(|is_admin| Membership { is_admin, can_post: can_post.unwrap_or(false) }))
}

/// Create a channel; `None` when its slug is taken.
pub async fn insert_channel(
    db: &Db,
    name: &ChannelName,
    posting: Posting,
    private: bool,
    now: i64,
) -> Result<Option<i64>, DbError> {
    let sql = "INSERT INTO channels (slug, name, posting, private, created_at) VALUES ($1, $2, $3, $4, $5) \
               ON CONFLICT (slug) DO NOTHING RETURNING id";
    on_pool!(db, |pool| Ok(sqlx::query_scalar(sql)
        .bind(name.slug())
        .bind(name.name())
        .bind(posting.as_str())
        .bind(private)
        .bind(now)
        .fetch_optional(pool)
        .await?))
}

/// Whether channel `id` is open, or private with `user_id` in it; `None`
/// when there is no such channel. (Workspace admins are the caller's concern.)
pub async fn open_to(db: &Db, id: i64, user_id: i64) -> Result<Option<bool>, DbError> {
    let sql = "SELECT (NOT c.private OR EXISTS (SELECT 1 FROM channel_members m \
               WHERE m.channel_id = c.id AND m.user_id = $2)) AS visible FROM channels c WHERE c.id = $1";
    on_pool!(db, |pool| Ok(sqlx::query_scalar(sql).bind(id).bind(user_id).fetch_optional(pool).await?))
}

/// The ids of the channels `user_id` sees when not an admin: every open one,
/// and the private ones they are in.
pub async fn visible_channel_ids(db: &Db, user_id: i64) -> Result<Vec<i64>, DbError> {
    let sql = "SELECT c.id FROM channels c WHERE NOT c.private OR EXISTS \
               (SELECT 1 FROM channel_members m WHERE m.channel_id = c.id AND m.user_id = $1) ORDER BY c.id";
    on_pool!(db, |pool| Ok(sqlx::query_scalar(sql).bind(user_id).fetch_all(pool).await?))
}

pub async fn channel_by_slug(db: &Db, slug: &str) -> Result<Option<ChannelRow>, DbError> {
    let sql = format!("SELECT {CHANNEL_COLUMNS} FROM channels c WHERE c.slug = $1");
    on_pool!(db, |pool| {
        let row = sqlx::query(&sql).bind(slug).fetch_optional(pool).await?;
        row.as_ref().map(channel_from_row).transpose()
    })
}

/// Every channel with `user_id`'s membership in it, open ones first by name, archived last.
pub async fn channels_with_membership(db: &Db, user_id: i64) -> Result<Vec<(ChannelRow, Option<Membership>)>, DbError> {
    let sql = format!(
        "SELECT {CHANNEL_COLUMNS}, m.is_admin, m.can_post FROM channels c \
         LEFT JOIN channel_members m ON m.channel_id = c.id AND m.user_id = $1 \
         ORDER BY c.archived_at IS NOT NULL, c.slug"
    );
    on_pool!(db, |pool| {
        let rows = sqlx::query(&sql).bind(user_id).fetch_all(pool).await?;
        rows.iter().map(|r| Ok((channel_from_row(r)?, membership_from_row(r)?))).collect()
    })
}

pub async fn membership(db: &Db, channel_id: i64, user_id: i64) -> Result<Option<Membership>, DbError> {
    let sql = "SELECT is_admin, can_post FROM channel_members WHERE channel_id = $1 AND user_id = $2";
    on_pool!(db, |pool| {
        let row = sqlx::query(sql).bind(channel_id).bind(user_id).fetch_optional(pool).await?;
        Ok(row.as_ref().map(membership_from_row).transpose()?.flatten())
    })
}

/// Rename a channel (its slug follows); false when another channel has that slug.
pub async fn rename(db: &Db, id: i64, name: &ChannelName) -> Result<bool, DbError> {
    let taken = "SELECT COUNT(*) FROM channels WHERE slug = $1 AND id <> $2";
    let sql = "UPDATE channels SET slug = $1, name = $2 WHERE id = $3";
    on_pool!(db, |pool| {
        let others: i64 = sqlx::query_scalar(taken).bind(name.slug()).bind(id).fetch_one(pool).await?;
        if others > 0 {
            return Ok(false);
        }
        // The UNIQUE index still settles a race with another rename.
        match sqlx::query(sql).bind(name.slug()).bind(name.name()).bind(id).execute(pool).await {
            Ok(_) => Ok(true),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
            Err(e) => Err(e.into()),
        }
    })
}

pub async fn set_archived(db: &Db, id: i64, archived: bool, now: i64) -> Result<(), DbError> {
    let sql = "UPDATE channels SET archived_at = $1 WHERE id = $2";
    on_pool!(db, |pool| sqlx::query(sql).bind(archived.then_some(now)).bind(id).execute(pool).await.map(|_| ()))?;
    Ok(())
}

pub async fn set_posting(db: &Db, id: i64, posting: Posting) -> Result<(), DbError> {
    let sql = "UPDATE channels SET posting = $1 WHERE id = $2";
    on_pool!(db, |pool| sqlx::query(sql).bind(posting.as_str()).bind(id).execute(pool).await.map(|_| ()))?;
    Ok(())
}

/// Add a person to a channel, or change their place in it.
pub async fn upsert_member(db: &Db, channel_id: i64, user_id: i64, m: Membership, now: i64) -> Result<(), DbError> {
    let sql = "INSERT INTO channel_members (channel_id, user_id, is_admin, can_post, joined_at) \
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel_id, user_id) \
               DO UPDATE SET is_admin = excluded.is_admin, can_post = excluded.can_post";
    on_pool!(db, |pool| sqlx::query(sql)
        .bind(channel_id)
        .bind(user_id)
        .bind(m.is_admin)
        .bind(m.can_post)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Remove a person from a channel; false when they were not in it.
pub async fn remove_member(db: &Db, channel_id: i64, user_id: i64) -> Result<bool, DbError> {
    let sql = "DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2";
    on_pool!(db, |pool| Ok(sqlx::query(sql).bind(channel_id).bind(user_id).execute(pool).await?.rows_affected() == 1))
}

/// A channel's members, by login name.
pub async fn members(db: &Db, channel_id: i64) -> Result<Vec<MemberRow>, DbError> {
    let sql = "SELECT u.login, u.display_name, m.is_admin, m.can_post FROM channel_members m \
               JOIN users u ON u.id = m.user_id WHERE m.channel_id = $1 ORDER BY u.login";
    on_pool!(db, |pool| {
        let rows = sqlx::query(sql).bind(channel_id).fetch_all(pool).await?;
        rows.iter()
            .map(|r| {
                Ok(MemberRow {
                    login: r.try_get("login")?,
                    display_name: r.try_get("display_name")?,
                    membership: Membership { is_admin: r.try_get("is_admin")?, can_post: r.try_get("can_post")? },
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(DbError::from)
    })
}
