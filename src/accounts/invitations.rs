//! Invitations: an admin hands out a single-use link; whoever opens it
//! within seven days chooses a login name and password and is in.

use std::time::Duration;

use super::{credentials, AccountsError};
use crate::clock::now_ms;
use crate::db::accounts::{user_by_id, NewUser, UserRow};
use crate::db::invitations::{self, InvitationRow, Redeemed};
use crate::db::{Db, DbError};
use crate::domain::account::{check_password, display_name, LoginName, Role};

/// How long an invitation link works.
pub const INVITATION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Longest code accepted from a link (ours are 32 characters).
const MAX_CODE_CHARS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    #[error("this invitation link is not valid: it was used already, withdrawn, or it expired. Ask for a new one")]
    NotValid,
    #[error(transparent)]
    Account(#[from] AccountsError),
}

impl From<DbError> for InviteError {
    fn from(e: DbError) -> Self {
        InviteError::Account(AccountsError::Db(e))
    }
}

/// A new invitation: the code for the link (shown once) and what is stored of it.
pub async fn invite(db: &Db, by: &UserRow, role: Role) -> Result<(String, InvitationRow), DbError> {
    let code = credentials::random_text(24);
    let now = now_ms();
    let expires_at = now + i64::try_from(INVITATION_LIFETIME.as_millis()).unwrap_or(i64::MAX);
    let digest = credentials::secret_digest(&code);
    let id = invitations::insert_invitation(db, &digest, role, by.id, now, expires_at).await?;
    let row = InvitationRow { id, role, created_by: by.login.to_string(), created_at: now, expires_at };
    Ok((code, row))
}

/// The live invitation behind a link's code.
pub async fn live(db: &Db, code: &str) -> Result<Option<InvitationRow>, DbError> {
    if code.is_empty() || code.len() > MAX_CODE_CHARS {
        return Ok(None);
    }
    invitations::live_invitation(db, &credentials::secret_digest(code), now_ms()).await
}

/// Create the invited person's account; the invitation is used up by it. A
/// refused name or password leaves the invitation usable.
pub async fn accept(
    db: &Db,
    code: &str,
    login: &str,
    display: Option<&str>,
    password: &str,
) -> Result<UserRow, InviteError> {
    let Some(invitation) = live(db, code).await? else { return Err(InviteError::NotValid) };
    let login = LoginName::parse(login).map_err(AccountsError::from)?;
    let display = display_name(display.unwrap_or(login.as_str())).map_err(AccountsError::from)?;
    check_password(password).map_err(AccountsError::from)?;
    let password_hash = credentials::hash_password_off_thread(password).await.map_err(AccountsError::from)?;
    let new = NewUser {
        login: &login,
        display_name: &display,
        role: invitation.role,
        password_hash: &password_hash,
        created_at: now_ms(),
    };
    match invitations::redeem(db, &credentials::secret_digest(code), &new, now_ms()).await? {
        Redeemed::User(id) => user_by_id(db, id).await?.ok_or(InviteError::NotValid),
        Redeemed::LoginTaken => Err(AccountsError::LoginTaken(login).into()),
        Redeemed::NotValid => Err(InviteError::NotValid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::add_user;
    use crate::db::test_databases::databases;

    #[tokio::test]
    async fn an_invitation_makes_one_account() {
        for (db, _guard) in databases().await {
            let admin = add_user(&db, "ada", None, Role::Admin, "analytical engine").await.unwrap();
            let (code, row) = invite(&db, &admin, Role::Member).await.unwrap();
            assert_eq!((row.role, row.created_by.as_str()), (Role::Member, "ada"));
            assert_eq!(live(&db, &code).await.unwrap().map(|r| r.id), Some(row.id));
            assert_eq!(invitations::live_invitations(&db, now_ms()).await.unwrap().len(), 1);

            // A taken name or a short password leaves the invitation usable.
            let taken = accept(&db, &code, "ADA", None, "long enough password").await;
            assert!(matches!(taken, Err(InviteError::Account(AccountsError::LoginTaken(_)))), "{taken:?}");
            let short = accept(&db, &code, "bob", None, "short").await;
            assert!(matches!(short, Err(InviteError::Account(AccountsError::Invalid(_)))), "{short:?}");
            let bob = accept(&db, &code, "bob", Some("Bob"), "long enough password").await.unwrap();
            assert_eq!((bob.login.as_str(), bob.role), ("bob", Role::Member));

            // Used up; and a withdrawn one is dead too.
            let again = accept(&db, &code, "carol", None, "long enough password").await;
            assert!(matches!(again, Err(InviteError::NotValid)), "{again:?}");
            let (other, row) = invite(&db, &admin, Role::Admin).await.unwrap();
            assert!(invitations::revoke_invitation(&db, row.id, now_ms()).await.unwrap());
            assert!(live(&db, &other).await.unwrap().is_none());
            assert!(matches!(
                accept(&db, "guess", "eve", None, "long enough password").await,
                Err(InviteError::NotValid)
            ));
            assert!(invitations::live_invitations(&db, now_ms()).await.unwrap().is_empty());
        }
    }
}
