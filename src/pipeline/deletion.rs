//! Deleting an update: its rows, transcript, jobs, media objects and index
//! documents all go, also while it is still being processed.

use super::Services;
use crate::clock::now_ms;
use crate::db::accounts::UserRow;
use crate::db::updates::{self, UpdateRow};
use crate::db::DbError;
use crate::domain::UpdateId;
use crate::storage::{update_prefix, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    #[error("only its author or an admin can delete an update")]
    NotAllowed,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// `by` deletes `update` (which they can see). The row goes first, in one
/// transaction with its transcript and jobs and a search change: from then on
/// it answers 404 and no job can write for it (their fences fail). Then its
/// media objects; a job that was still writing them sweeps after itself
/// ([`sweep_if_deleted`]).
pub async fn delete_update(services: &Services, by: &UserRow, update: &UpdateRow) -> Result<(), DeleteError> {
    if !super::edits::may_edit(by, update) {
        return Err(DeleteError::NotAllowed);
    }
    let seq = updates::delete(&services.db, &update.id, now_ms()).await?;
    services.store.delete_prefix(&update_prefix(&update.id)).await?;
    tracing::info!(update = %update.id, by = %by.login, "update deleted");
    if let Some(seq) = seq {
        services.wait_searchable(seq, &update.id).await;
    }
    Ok(())
}

/// After a job lost its claim: if that is because its update was deleted,
/// remove whatever the job stored meanwhile.
pub async fn sweep_if_deleted(services: &Services, id: &UpdateId) {
    match updates::get(&services.db, id).await {
        Ok(None) => {
            if let Err(e) = services.store.delete_prefix(&update_prefix(id)).await {
                tracing::warn!(update = %id, error = %e, "cannot remove a deleted update's late media");
            }
        }
        Ok(Some(_)) => {}
        Err(e) => tracing::warn!(update = %id, error = %e, "cannot tell whether the update was deleted"),
    }
}
