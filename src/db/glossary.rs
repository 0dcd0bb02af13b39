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

/// Replace the whole glossary in one transaction.
pub async fn replace(db: &Db, glossary: &Glossary) -> Result<(), DbError> {
    in_write_tx!(db, |tx| {
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
