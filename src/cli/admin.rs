//! Admin subcommands that work on the database directly.

use anyhow::Context;
use futures_util::TryStreamExt;
use tokio::io::AsyncWriteExt;

use crate::accounts::{self, credentials};
use crate::config::Config;
use crate::db::{jobs, search_feed, Db};
use crate::domain::account::Role;
use crate::domain::JobState;
use crate::storage::BlobStore;

async fn open_db(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database_url).await.context("cannot open the database")?;
    db.migrate().await.context("cannot apply migrations")?;
    Ok(db)
}

pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    println!("migrations applied ({})", db.engine());
    Ok(())
}

/// Every server re-applies every update from the change feed; with
/// `from_scratch` this data folder's index is deleted first and rebuilt on start.
pub async fn reindex(config: &Config, from_scratch: bool) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    if from_scratch {
        match std::fs::remove_dir_all(config.index_dir()) {
            Ok(()) => println!("deleted {}", config.index_dir().display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).context("cannot delete the index folder"),
        }
    }
    let touched = search_feed::touch_all(&db).await?;
    println!("queued {touched} updates for reindexing; running servers apply them within a second");
    Ok(())
}

pub async fn jobs_list(config: &Config, state: Option<&str>, limit: i64) -> anyhow::Result<()> {
    let state = match state {
        Some(s) => Some(JobState::parse(s).with_context(|| format!("unknown state {s}"))?),
        None => None,
    };
    let db = open_db(config).await?;
    let rows = jobs::list(&db, state, limit).await?;
    println!(
        "{:>6}  {:<16}  {:<10}  {:<8}  {:>7}  {:<32}  error",
        "id", "update", "kind", "state", "attempt", "worker"
    );
    for job in rows {
        println!(
            "{:>6}  {:<16}  {:<10}  {:<8}  {:>3}/{:<3}  {:<32}  {}",
            job.id,
            job.update_id,
            job.kind,
            job.state,
            job.attempt,
            job.max_attempts,
            // host:pid:kinds:loop of the worker that last claimed it.
            job.worker.unwrap_or_else(|| "-".into()),
            job.last_error.unwrap_or_default()
        );
    }
    Ok(())
}

pub async fn jobs_retry(config: &Config, id: i64) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    anyhow::ensure!(jobs::retry(&db, id, i64::from(config.job_max_attempts)).await?, "no failed job with id {id}");
    println!("job {id} queued again");
    Ok(())
}

async fn open_store(config: &Config) -> anyhow::Result<BlobStore> {
    BlobStore::open(&config.storage, &config.s3_options()).await.context("cannot open media storage")
}

pub async fn store_list(config: &Config, prefix: &str) -> anyhow::Result<()> {
    for key in open_store(config).await?.list(prefix).await? {
        println!("{key}");
    }
    Ok(())
}

pub async fn store_cat(config: &Config, key: &str) -> anyhow::Result<()> {
    let mut body = open_store(config).await?.read(key, None).await?.body;
    let mut out = tokio::io::stdout();
    while let Some(chunk) = body.try_next().await.with_context(|| format!("cannot read {key}"))? {
        out.write_all(&chunk).await?;
    }
    out.flush().await?;
    Ok(())
}

pub async fn user_add(
    config: &Config,
    login: &str,
    name: Option<&str>,
    admin: bool,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    let (password, generated) = if password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).context("cannot read the password from standard input")?;
        (line.trim_end_matches(['\r', '\n']).to_string(), false)
    } else {
        (credentials::generate_password(), true)
    };
    let role = if admin { Role::Admin } else { Role::Member };
    let user = accounts::add_user(&db, login, name, role, &password).await?;
    println!("added {} {} ({})", user.role.as_str(), user.login, user.display_name);
    if generated {
        // Shown once: only its argon2id hash is stored.
        println!("password: {password}");
    }
    Ok(())
}

/// `bulletin user disable|enable LOGIN`.
pub async fn user_set_disabled(config: &Config, login: &str, disabled: bool) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    accounts::set_disabled(&db, login, disabled).await?;
    println!("{} {}", if disabled { "disabled" } else { "enabled" }, login.trim().to_lowercase());
    Ok(())
}

pub async fn token_create(config: &Config, login: &str, name: &str) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    let (token, _) = accounts::create_token(&db, login, name).await?;
    // Shown once: only its SHA-256 is stored. The line is the token alone, for scripts.
    println!("{token}");
    Ok(())
}
