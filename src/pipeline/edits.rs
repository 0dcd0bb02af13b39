//! Editing an update's description: the stored text, and every search index.

use super::Services;
use crate::clock::now_ms;
use crate::db::accounts::UserRow;
use crate::db::updates::{self, UpdateRow};
use crate::db::DbError;
use crate::domain::account::Role;
use crate::domain::description::{parse_description, DescriptionError};

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("only its author or an admin can edit an update")]
    NotAllowed,
    #[error(transparent)]
    Invalid(#[from] DescriptionError),
    #[error("the update is gone")]
    Gone,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Whether `by` may change `update`: its author, or an admin.
pub fn may_edit(by: &UserRow, update: &UpdateRow) -> bool {
    update.author.as_ref().is_some_and(|a| a.id == by.id) || by.role == Role::Admin
}

/// `by` replaces the description of `update` (which they can see) with `raw`.
pub async fn describe(services: &Services, by: &UserRow, update: &UpdateRow, raw: &str) -> Result<(), EditError> {
    if !may_edit(by, update) {
        return Err(EditError::NotAllowed);
    }
    let text = parse_description(raw)?;
    let seq = updates::set_description(&services.db, &update.id, &text, now_ms()).await?.ok_or(EditError::Gone)?;
    services.wait_searchable(seq, &update.id).await;
    Ok(())
}
