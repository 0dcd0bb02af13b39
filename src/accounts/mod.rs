//! Who is asking: people, their passwords and their API tokens.
//!
//! Only hashes of secrets are stored ([`credentials`]). This module holds the
//! account use cases (add a person, create a token, recognise a bearer) that
//! the command line and, in the HTTP layer, the door call.

pub mod credentials;
pub mod invitations;
pub mod sessions;
pub mod setup;
pub mod throttle;

pub use sessions::{SessionPolicy, SignInError};

use crate::clock::now_ms;
use crate::db::accounts::{self, NewUser, UserRow};
use crate::db::{Db, DbError};
use crate::domain::account::{check_password, display_name, AccountError, LoginName, Role};

/// Longest name of an API token ("laptop CLI", "CI uploads").
pub const MAX_TOKEN_NAME_CHARS: usize = 80;

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error(transparent)]
    Invalid(#[from] AccountError),
    #[error("the login name {0} is taken")]
    LoginTaken(LoginName),
    #[error("there is no user {0}")]
    NoSuchUser(String),
    #[error("a token name is 1 to {MAX_TOKEN_NAME_CHARS} characters, without control characters")]
    InvalidTokenName,
    #[error("the current password is not right")]
    WrongPassword,
    #[error(transparent)]
    Hash(#[from] credentials::HashError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Add a person. `display` defaults to the login name.
pub async fn add_user(
    db: &Db,
    login: &str,
    display: Option<&str>,
    role: Role,
    password: &str,
) -> Result<UserRow, AccountsError> {
    let login = LoginName::parse(login)?;
    let display = display_name(display.unwrap_or(login.as_str()))?;
    check_password(password)?;
    let password_hash = credentials::hash_password_off_thread(password).await?;
    let new =
        NewUser { login: &login, display_name: &display, role, password_hash: &password_hash, created_at: now_ms() };
    let id = accounts::insert_user(db, &new).await?.ok_or_else(|| AccountsError::LoginTaken(login.clone()))?;
    accounts::user_by_id(db, id).await?.ok_or_else(|| AccountsError::NoSuchUser(login.to_string()))
}

/// The person with this login name.
pub async fn find_user(db: &Db, login: &str) -> Result<UserRow, AccountsError> {
    let parsed = LoginName::parse(login).map_err(|_| AccountsError::NoSuchUser(login.to_string()))?;
    let found = accounts::user_by_login(db, &parsed).await?;
    found.map(|(user, _)| user).ok_or_else(|| AccountsError::NoSuchUser(parsed.to_string()))
}

/// A new API token for `login`: the plaintext (shown once, never stored) and its id.
pub async fn create_token(db: &Db, login: &str, name: &str) -> Result<(String, i64), AccountsError> {
    let user = find_user(db, login).await?;
    create_token_for(db, user.id, name).await
}

/// A new API token of the person `user_id`, named `name` ("laptop CLI").
pub async fn create_token_for(db: &Db, user_id: i64, name: &str) -> Result<(String, i64), AccountsError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_TOKEN_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(AccountsError::InvalidTokenName);
    }
    let secret = credentials::new_api_token();
    let id = accounts::insert_token(db, user_id, name, &secret.digest, now_ms()).await?;
    Ok((secret.plaintext, id))
}

/// Disable (or enable again) `login`'s account. Disabled, their sessions and
/// tokens stop working at once; nothing of theirs is deleted.
pub async fn set_disabled(db: &Db, login: &str, disabled: bool) -> Result<UserRow, AccountsError> {
    let user = find_user(db, login).await?;
    accounts::set_disabled(db, user.id, disabled, now_ms()).await?;
    find_user(db, login).await
}

/// An admin resets `login`'s password to `new`, or to a generated one;
/// returns the password set (to hand over once). Their sessions end; their
/// API tokens stay, as they do not depend on the password.
pub async fn reset_password(db: &Db, login: &str, new: Option<&str>) -> Result<String, AccountsError> {
    let user = find_user(db, login).await?;
    let password = new.map_or_else(credentials::generate_password, str::to_string);
    check_password(&password)?;
    let hash = credentials::hash_password_off_thread(&password).await?;
    accounts::set_password_hash(db, user.id, &hash).await?;
    crate::db::sessions::revoke_sessions_of(db, user.id, now_ms()).await?;
    Ok(password)
}

/// A person changes their own password, proving they know the current one.
/// Their other sessions end; `keep_session` (the one asking) stays.
pub async fn change_password(
    db: &Db,
    user: &UserRow,
    current: &str,
    new: &str,
    keep_session: Option<i64>,
) -> Result<(), AccountsError> {
    sessions::sign_in(db, user.login.as_str(), current).await.map_err(|e| match e {
        SignInError::Db(e) => AccountsError::Db(e),
        _ => AccountsError::WrongPassword,
    })?;
    check_password(new)?;
    let hash = credentials::hash_password_off_thread(new).await?;
    accounts::set_password_hash(db, user.id, &hash).await?;
    let now = now_ms();
    for session in crate::db::sessions::live_sessions_of(db, user.id, now, i64::MAX).await? {
        if Some(session.id) != keep_session {
            crate::db::sessions::revoke_session(db, user.id, session.id, now).await?;
        }
    }
    Ok(())
}

/// The person an `Authorization` header's bearer token belongs to, if it lets
/// them in (well formed, live, account enabled).
pub async fn user_for_bearer(db: &Db, authorization: &str) -> Result<Option<UserRow>, DbError> {
    let Some(token) = authorization.strip_prefix("Bearer ").map(str::trim) else { return Ok(None) };
    if !token.starts_with(credentials::TOKEN_PREFIX) {
        return Ok(None);
    }
    accounts::user_for_token(db, &credentials::secret_digest(token), now_ms()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::test_databases::databases;

    #[tokio::test]
    async fn people_tokens_and_what_is_stored_of_them() {
        for (db, _guard) in databases().await {
            let ada = add_user(&db, " Ada ", Some("Ada Lovelace"), Role::Admin, "analytical engine").await.unwrap();
            assert_eq!((ada.login.as_str(), ada.display_name.as_str(), ada.role), ("ada", "Ada Lovelace", Role::Admin));
            let taken = add_user(&db, "ADA", None, Role::Member, "another password").await;
            assert!(matches!(taken, Err(AccountsError::LoginTaken(_))), "{taken:?}");
            assert!(matches!(add_user(&db, "bob", None, Role::Member, "short").await, Err(AccountsError::Invalid(_))));
            let bob = add_user(&db, "bob", None, Role::Member, "a long enough one").await.unwrap();
            assert_eq!(bob.display_name, "bob");
            assert_eq!(accounts::count_users(&db).await.unwrap(), 2);

            // The password is stored as an argon2id PHC string that verifies.
            let (_, stored) = accounts::user_by_login(&db, &ada.login).await.unwrap().unwrap();
            assert!(stored.starts_with("$argon2id$"), "{stored}");
            assert!(credentials::verify_password(&stored, "analytical engine"));

            // A token lets its bearer in as its owner; only its digest is stored.
            let (token, token_id) = create_token(&db, "ada", "laptop").await.unwrap();
            let header = format!("Bearer {token}");
            assert_eq!(user_for_bearer(&db, &header).await.unwrap().map(|u| u.id), Some(ada.id));
            let stored: Vec<String> =
                crate::db::on_pool!(&db, |pool| sqlx::query_scalar("SELECT secret_digest FROM api_tokens")
                    .fetch_all(pool)
                    .await
                    .unwrap());
            assert_eq!(stored, vec![credentials::secret_digest(&token)]);
            assert!(!stored[0].contains(&token[3..]));
            let listed = accounts::tokens_of(&db, ada.id).await.unwrap();
            assert_eq!(listed.len(), 1);
            assert_eq!((listed[0].name.as_str(), listed[0].revoked), ("laptop", false));
            assert!(listed[0].last_used_at.is_some(), "use is recorded");

            // Anything else is nobody.
            for header in ["", "Bearer ", "Basic abc", &format!("Bearer {}x", token), "Bearer bt_nothing"] {
                assert_eq!(user_for_bearer(&db, header).await.unwrap(), None, "{header:?}");
            }
            assert!(matches!(create_token(&db, "nobody", "x").await, Err(AccountsError::NoSuchUser(_))));
            assert!(matches!(create_token(&db, "ada", " ").await, Err(AccountsError::InvalidTokenName)));

            // A disabled account's tokens stop working at once, and work again when enabled.
            assert!(accounts::set_disabled(&db, ada.id, true, now_ms()).await.unwrap());
            assert_eq!(user_for_bearer(&db, &header).await.unwrap(), None);
            assert!(accounts::set_disabled(&db, ada.id, false, now_ms()).await.unwrap());
            assert!(user_for_bearer(&db, &header).await.unwrap().is_some());

            // A revoked token is dead; only its owner can revoke it.
            assert!(!accounts::revoke_token(&db, bob.id, token_id, now_ms()).await.unwrap());
            assert!(accounts::revoke_token(&db, ada.id, token_id, now_ms()).await.unwrap());
            assert_eq!(user_for_bearer(&db, &header).await.unwrap(), None);
            assert!(accounts::tokens_of(&db, ada.id).await.unwrap()[0].revoked);
        }
    }
}
