//! The workspace glossary, one row per term in the order they were given.

use sqlx::Row;

use super::{in_write_tx, on_pool, Db, DbError};
use crate::domain::glossary::GlossaryError;
use crate::domain::Glossary;

pub async fn get(db: &Db) -> Result<Glossary, DbError> {
    on_pool!(db, |pool| {
        let rows = sqlx::query("SELECT term FROM glossary_terms ORDER BY position").fetch_all(pool).await?;
        let terms = rows.iter().map(|r| r.try_get("term")).collect::<Result<Vec<String>, _>>()?;
        Ok(Glossary::from_trusted(terms))
    })
}

/// The terms an update of `channel` is transcribed with (the channel's own
/// first, then the workspace's, repeats dropped) and the glossary version
/// (raised by every change to either), read together.
pub async fn get_versioned(db: &Db, channel: i64) -> Result<(Glossary, i64), DbError> {
    on_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        let version: i64 = sqlx::query_scalar("SELECT version FROM glossary_version").fetch_one(&mut *tx).await?;
        let own: Vec<String> =
            sqlx::query_scalar("SELECT term FROM channel_glossary_terms WHERE channel_id = $1 ORDER BY position")
                .bind(channel)
                .fetch_all(&mut *tx)
                .await?;
        let workspace: Vec<String> =
            sqlx::query_scalar("SELECT term FROM glossary_terms ORDER BY position").fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let mut terms = own;
        for term in workspace {
            if !terms.iter().any(|t| t.to_lowercase() == term.to_lowercase()) {
                terms.push(term);
            }
        }
        Ok((Glossary::from_trusted(terms), version))
    })
}

/// A channel's own terms.
pub async fn channel_terms(db: &Db, channel: i64) -> Result<Glossary, DbError> {
    on_pool!(db, |pool| {
        let terms: Vec<String> =
            sqlx::query_scalar("SELECT term FROM channel_glossary_terms WHERE channel_id = $1 ORDER BY position")
                .bind(channel)
                .fetch_all(pool)
                .await?;
        Ok(Glossary::from_trusted(terms))
    })
}

/// Replace a channel's own terms in one transaction, raising the glossary version.
pub async fn replace_channel_terms(db: &Db, channel: i64, glossary: &Glossary) -> Result<(), DbError> {
    in_write_tx!(db, |tx| {
        sqlx::query("UPDATE glossary_version SET version = version + 1").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM channel_glossary_terms WHERE channel_id = $1").bind(channel).execute(&mut *tx).await?;
        for (position, term) in glossary.terms().iter().enumerate() {
            sqlx::query("INSERT INTO channel_glossary_terms (channel_id, position, term) VALUES ($1, $2, $3)")
                .bind(channel)
                .bind(position as i64)
                .bind(term)
                .execute(&mut *tx)
                .await?;
        }
    });
    Ok(())
}

/// Replace the whole glossary in one transaction, raising its version.
pub async fn replace(db: &Db, glossary: &Glossary) -> Result<(), DbError> {
    in_write_tx!(db, |tx| {
        sqlx::query("UPDATE glossary_version SET version = version + 1").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM glossary_terms").execute(&mut *tx).await?;
        for (position, term) in glossary.terms().iter().enumerate() {
            sqlx::query("INSERT INTO glossary_terms (position, term) VALUES ($1, $2)")
                .bind(position as i64)
                .bind(term)
                .execute(&mut *tx)
                .await?;
        }
    });
    Ok(())
}

/// A suggested glossary term and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuggestionRow {
    pub id: i64,
    pub term: String,
    pub suggested_by_login: String,
    pub suggested_by_name: String,
    pub created_at: i64,
    /// `Some(true)` added, `Some(false)` declined, `None` waiting for an admin.
    pub approved: Option<bool>,
}

const SUGGESTION_COLUMNS: &str = "s.id, s.term, u.login, u.display_name, s.created_at, s.approved \
                                  FROM glossary_suggestions s JOIN users u ON u.id = s.suggested_by";

fn suggestion_from(row: (i64, String, String, String, i64, Option<bool>)) -> SuggestionRow {
    let (id, term, suggested_by_login, suggested_by_name, created_at, approved) = row;
    SuggestionRow { id, term, suggested_by_login, suggested_by_name, created_at, approved }
}

/// Suggestions waiting for an admin (all of them), or, with `by`, those one person made.
pub async fn suggestions(db: &Db, by: Option<i64>) -> Result<Vec<SuggestionRow>, DbError> {
    let sql = format!(
        "SELECT {SUGGESTION_COLUMNS} WHERE ($1 IS NULL AND s.approved IS NULL) OR s.suggested_by = $1 ORDER BY s.id"
    );
    on_pool!(db, |pool| {
        let rows: Vec<(i64, String, String, String, i64, Option<bool>)> =
            sqlx::query_as(&sql).bind(by).fetch_all(pool).await?;
        Ok(rows.into_iter().map(suggestion_from).collect())
    })
}

pub async fn suggestion(db: &Db, id: i64) -> Result<Option<SuggestionRow>, DbError> {
    let sql = format!("SELECT {SUGGESTION_COLUMNS} WHERE s.id = $1");
    on_pool!(db, |pool| {
        let row: Option<(i64, String, String, String, i64, Option<bool>)> =
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?;
        Ok(row.map(suggestion_from))
    })
}

/// A pending suggestion of the same term (ignoring case), if there is one.
pub async fn pending_suggestion_of(db: &Db, term: &str) -> Result<Option<i64>, DbError> {
    let sql = "SELECT id FROM glossary_suggestions WHERE approved IS NULL AND LOWER(term) = LOWER($1) LIMIT 1";
    on_pool!(db, |pool| Ok(sqlx::query_scalar(sql).bind(term).fetch_optional(pool).await?))
}

pub async fn suggest(db: &Db, term: &str, by: i64, now: i64) -> Result<i64, DbError> {
    let id = in_write_tx!(db, |tx| {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO glossary_suggestions (term, suggested_by, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(term)
        .bind(by)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        id
    });
    Ok(id)
}

/// What deciding a suggestion did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Done,
    /// It was decided already (or does not exist).
    AlreadyDecided,
    /// Approving it would make the glossary invalid (too many terms, too long): nothing changed.
    DoesNotFit(GlossaryError),
}

/// Decide a pending suggestion; approved, its term joins the end of the
/// glossary (read and written in this transaction, so no change in between is lost).
pub async fn decide(db: &Db, id: i64, approved: bool, by: i64, now: i64) -> Result<Decision, DbError> {
    let decision = in_write_tx!(db, |tx| {
        let term: Option<String> =
            sqlx::query_scalar("SELECT term FROM glossary_suggestions WHERE id = $1 AND approved IS NULL")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(term) = term else { return Ok(Decision::AlreadyDecided) };
        if approved {
            let mut terms: Vec<String> =
                sqlx::query_scalar("SELECT term FROM glossary_terms ORDER BY position").fetch_all(&mut *tx).await?;
            terms.push(term);
            let glossary = match Glossary::parse(&terms) {
                Ok(glossary) => glossary,
                Err(e) => return Ok(Decision::DoesNotFit(e)),
            };
            sqlx::query("UPDATE glossary_version SET version = version + 1").execute(&mut *tx).await?;
            sqlx::query("DELETE FROM glossary_terms").execute(&mut *tx).await?;
            for (position, term) in glossary.terms().iter().enumerate() {
                sqlx::query("INSERT INTO glossary_terms (position, term) VALUES ($1, $2)")
                    .bind(position as i64)
                    .bind(term)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query("UPDATE glossary_suggestions SET approved = $1, decided_by = $2, decided_at = $3 WHERE id = $4")
            .bind(approved)
            .bind(by)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        Decision::Done
    });
    Ok(decision)
}
