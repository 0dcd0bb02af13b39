//! Real databases for unit tests: a fresh SQLite file always, and a fresh
//! PostgreSQL schema too when `BULLETIN_TEST_POSTGRES_URL` names a server.

use super::{on_pool, Db};

/// Each with what keeps it alive (the SQLite file's folder).
pub async fn databases() -> Vec<(Db, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Db::connect(&format!("sqlite://{}", dir.path().join("q.db").display())).await.unwrap();
    sqlite.migrate().await.unwrap();
    let mut dbs = vec![(sqlite, Some(dir))];
    if let Ok(base) = std::env::var("BULLETIN_TEST_POSTGRES_URL") {
        // A schema per test keeps concurrent tests from claiming each other's jobs.
        let schema = format!("qt_{:016x}", rand::random::<u64>());
        let admin = Db::connect(&base).await.unwrap();
        on_pool!(&admin, |pool| sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(pool)
            .await
            .map(|_| ())
            .unwrap());
        let separator = if base.contains('?') { '&' } else { '?' };
        let pg = Db::connect(&format!("{base}{separator}options[search_path]={schema}")).await.unwrap();
        pg.migrate().await.unwrap();
        dbs.push((pg, None));
    }
    dbs
}
