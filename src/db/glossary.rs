//! The workspace glossary, one row per term in the order they were given.

use sqlx::Row;

use super::{in_write_tx, on_pool, Db, DbError};
use crate::domain::Glossary;

pub async fn get(db: &Db) -> Result<Glossary, DbError> {
    on_pool!(db, |pool| {
        let rows = sqlx::query("SELECT term FROM glossary_terms ORDER BY position").fetch_all(pool).await?;
        let terms = rows.iter().map(|r| r.try_get("term")).collect::<Result<Vec<String>, _>>()?;
        Ok(Glossary::from_trusted(terms))
    })
}

/// The glossary and its version (raised by every change), read together.
pub async fn get_versioned(db: &Db) -> Result<(Glossary, i64), DbError> {
    on_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        let version: i64 = sqlx::query_scalar("SELECT version FROM glossary_version").fetch_one(&mut *tx).await?;
        let rows = sqlx::query("SELECT term FROM glossary_terms ORDER BY position").fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let terms = rows.iter().map(|r| r.try_get("term")).collect::<Result<Vec<String>, _>>()?;
        Ok((Glossary::from_trusted(terms), version))
    })
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
