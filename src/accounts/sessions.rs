//! Signing in with a password, and the browser sessions that follow.

use std::time::Duration;

use super::credentials::{self, decoy_hash, verify_password};
use crate::clock::now_ms;
use crate::db::accounts::{user_by_login, UserRow};
use crate::db::sessions::{self, NewSession};
use crate::db::{Db, DbError};
use crate::domain::account::{LoginName, MAX_PASSWORD_BYTES};

/// How long a browser session lasts.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// Unused for this long, it ends.
    pub idle: Duration,
    /// This long after sign-in, it ends however active it is.
    pub max_age: Duration,
}

impl SessionPolicy {
    fn idle_ms(&self) -> i64 {
        i64::try_from(self.idle.as_millis()).unwrap_or(i64::MAX)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// No such login, or not its password: the two are not told apart.
    #[error("wrong login name or password")]
    WrongCredentials,
    /// Only said to someone who gave the right password.
    #[error("this account is disabled; ask an admin")]
    Disabled,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The person whose password this is. Costs one argon2 verification whether
/// or not the login exists, so timing does not reveal which names do.
pub async fn sign_in(db: &Db, login: &str, password: &str) -> Result<UserRow, SignInError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(SignInError::WrongCredentials);
    }
    let found = match LoginName::parse(login) {
        Ok(login) => user_by_login(db, &login).await?,
        Err(_) => None,
    };
    let hash = found.as_ref().map_or_else(|| decoy_hash().to_string(), |(_, hash)| hash.clone());
    let password = password.to_string();
    // Argon2 takes tens of milliseconds of CPU: off the async threads.
    let verified = tokio::task::spawn_blocking(move || verify_password(&hash, &password)).await.unwrap_or(false);
    match found {
        Some((user, _)) if verified && user.disabled => Err(SignInError::Disabled),
        Some((user, _)) if verified => Ok(user),
        _ => Err(SignInError::WrongCredentials),
    }
}

/// A new session for `user`: the cookie's secret (never stored) and how long the cookie should live.
pub async fn open_session(db: &Db, user: &UserRow, user_agent: &str, policy: SessionPolicy) -> Result<String, DbError> {
    let secret = credentials::new_session_secret();
    let now = now_ms();
    let max_age_ms = i64::try_from(policy.max_age.as_millis()).unwrap_or(i64::MAX);
    let user_agent: String = user_agent.chars().filter(|c| !c.is_control()).take(200).collect();
    let new = NewSession {
        user_id: user.id,
        secret_digest: &secret.digest,
        user_agent: &user_agent,
        now,
        expires_at: now.saturating_add(max_age_ms),
    };
    sessions::insert_session(db, &new).await?;
    Ok(secret.plaintext)
}

/// The live session (its id) and person behind a session cookie's value.
pub async fn session_user(db: &Db, secret: &str, policy: SessionPolicy) -> Result<Option<(i64, UserRow)>, DbError> {
    // Ours are 43 characters; anything much longer is not worth hashing.
    if secret.is_empty() || secret.len() > 64 {
        return Ok(None);
    }
    sessions::live_session(db, &credentials::secret_digest(secret), now_ms(), policy.idle_ms()).await
}

/// Sign out: end the session behind this cookie value (nothing if there is none).
pub async fn close_session(db: &Db, secret: &str, policy: SessionPolicy) -> Result<(), DbError> {
    if let Some((id, user)) = session_user(db, secret, policy).await? {
        sessions::revoke_session(db, user.id, id, now_ms()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::add_user;
    use crate::db::accounts::set_disabled;
    use crate::db::test_databases::databases;
    use crate::domain::account::Role;

    const POLICY: SessionPolicy = SessionPolicy { idle: Duration::from_secs(3600), max_age: Duration::from_secs(7200) };

    #[tokio::test]
    async fn sign_in_then_a_session_until_it_ends() {
        for (db, _guard) in databases().await {
            let ada = add_user(&db, "ada", None, Role::Member, "analytical engine").await.unwrap();
            for (login, password) in [("ada", "analytical engine "), ("nobody", "analytical engine"), ("", "")] {
                let refused = sign_in(&db, login, password).await;
                assert!(matches!(refused, Err(SignInError::WrongCredentials)), "{login}: {refused:?}");
            }
            assert_eq!(sign_in(&db, " ADA", "analytical engine").await.unwrap().id, ada.id);

            let secret = open_session(&db, &ada, "Firefox\u{7}", POLICY).await.unwrap();
            let (session_id, user) = session_user(&db, &secret, POLICY).await.unwrap().unwrap();
            assert_eq!(user.id, ada.id);
            assert_eq!(session_user(&db, &format!("{secret}x"), POLICY).await.unwrap(), None);
            let listed = sessions::live_sessions_of(&db, ada.id, now_ms(), POLICY.idle_ms()).await.unwrap();
            assert_eq!((listed.len(), listed[0].id, listed[0].user_agent.as_str()), (1, session_id, "Firefox"));

            // Only the digest of the secret is stored.
            let stored: Vec<String> =
                crate::db::on_pool!(&db, |pool| sqlx::query_scalar("SELECT secret_digest FROM sessions")
                    .fetch_all(pool)
                    .await
                    .unwrap());
            assert_eq!(stored, vec![credentials::secret_digest(&secret)]);

            // Disabling the account ends its sessions at once, and refuses its password with a reason.
            set_disabled(&db, ada.id, true, now_ms()).await.unwrap();
            assert_eq!(session_user(&db, &secret, POLICY).await.unwrap(), None);
            assert!(matches!(sign_in(&db, "ada", "analytical engine").await, Err(SignInError::Disabled)));
            set_disabled(&db, ada.id, false, now_ms()).await.unwrap();

            // Idle and absolute expiry.
            let quick = SessionPolicy { idle: Duration::from_millis(1), max_age: Duration::from_secs(60) };
            let idle = open_session(&db, &ada, "", quick).await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
            assert_eq!(session_user(&db, &idle, quick).await.unwrap(), None, "idle too long");
            let short = SessionPolicy { idle: Duration::from_secs(60), max_age: Duration::from_millis(1) };
            let old = open_session(&db, &ada, "", short).await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
            assert_eq!(session_user(&db, &old, short).await.unwrap(), None, "past its absolute expiry");

            // Signing out ends that session only.
            let other = open_session(&db, &ada, "", POLICY).await.unwrap();
            close_session(&db, &secret, POLICY).await.unwrap();
            assert_eq!(session_user(&db, &secret, POLICY).await.unwrap(), None);
            assert!(session_user(&db, &other, POLICY).await.unwrap().is_some());
            assert_eq!(
                sessions::delete_dead_sessions(&db, now_ms(), POLICY.idle_ms()).await.unwrap(),
                2,
                "the signed-out one and the expired one"
            );
        }
    }
}
