//! The first admin, made in the browser: while nobody has an account,
//! `bulletin serve` prints a one-time setup link. The code in it is valid
//! until it is used or the process stops.

use std::sync::{Arc, Mutex};

use subtle::ConstantTimeEq;

use super::{add_user, credentials, AccountsError};
use crate::db::accounts::{count_users, UserRow};
use crate::db::{Db, DbError};
use crate::domain::account::Role;

/// This process's setup code, if it has one.
#[derive(Clone, Default)]
pub struct SetupLink(Arc<Mutex<Option<String>>>);

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("this setup link is not valid: it was used already, or the server restarted since it was printed")]
    InvalidLink,
    #[error("an admin exists already: sign in instead")]
    AlreadySetUp,
    #[error(transparent)]
    Account(#[from] AccountsError),
}

impl SetupLink {
    /// Make a code when nobody has an account yet; returns it to be printed.
    pub async fn open_if_nobody(&self, db: &Db) -> Result<Option<String>, DbError> {
        if count_users(db).await? > 0 {
            return Ok(None);
        }
        let code = credentials::random_text(24);
        *self.lock() = Some(code.clone());
        Ok(Some(code))
    }

    /// Whether `code` is this process's live setup code.
    pub fn accepts(&self, code: &str) -> bool {
        self.lock().as_deref().is_some_and(|live| bool::from(live.as_bytes().ct_eq(code.as_bytes())))
    }

    /// Create the first admin with `code`, which is used up by it. A refused
    /// name or password leaves the code usable for another try.
    pub async fn create_admin(
        &self,
        db: &Db,
        code: &str,
        login: &str,
        display: Option<&str>,
        password: &str,
    ) -> Result<UserRow, SetupError> {
        let taken = {
            let mut live = self.lock();
            if live.as_deref().is_some_and(|l| bool::from(l.as_bytes().ct_eq(code.as_bytes()))) {
                live.take()
            } else {
                None
            }
        };
        let Some(taken) = taken else { return Err(SetupError::InvalidLink) };
        let outcome = match count_users(db).await {
            Ok(0) => add_user(db, login, display, Role::Admin, password).await.map_err(SetupError::from),
            Ok(_) => return Err(SetupError::AlreadySetUp),
            Err(e) => Err(SetupError::Account(e.into())),
        };
        if outcome.is_err() {
            *self.lock() = Some(taken);
        }
        outcome
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::test_databases::databases;

    #[tokio::test]
    async fn one_code_one_admin() {
        for (db, _guard) in databases().await {
            let link = SetupLink::default();
            assert!(!link.accepts(""), "no code before one is made");
            let code = link.open_if_nobody(&db).await.unwrap().expect("nobody has an account");
            assert!(link.accepts(&code) && !link.accepts(&format!("{code}x")));
            let wrong = link.create_admin(&db, "guess", "ada", None, "analytical engine").await;
            assert!(matches!(wrong, Err(SetupError::InvalidLink)), "{wrong:?}");
            let short = link.create_admin(&db, &code, "ada", None, "short").await;
            assert!(matches!(short, Err(SetupError::Account(AccountsError::Invalid(_)))), "{short:?}");
            let ada = link.create_admin(&db, &code, "ada", Some("Ada"), "analytical engine").await.unwrap();
            assert_eq!(ada.role, Role::Admin);
            assert!(!link.accepts(&code), "used up");
            let again = link.create_admin(&db, &code, "eve", None, "analytical engine").await;
            assert!(matches!(again, Err(SetupError::InvalidLink)), "{again:?}");
            assert_eq!(link.open_if_nobody(&db).await.unwrap(), None, "someone has an account now");
        }
    }
}
