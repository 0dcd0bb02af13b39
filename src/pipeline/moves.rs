//! Moving an update to another channel: its audience changes at once, in
//! every list, route and search index.

use super::Services;
use crate::channels::{self, ChannelError};
use crate::clock::now_ms;
use crate::db::accounts::UserRow;
use crate::db::updates::{self, UpdateRow};
use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error("only its author or an admin can move an update")]
    NotAllowed,
    #[error(transparent)]
    Channel(#[from] ChannelError),
    #[error("the update is gone")]
    Gone,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// `by` moves `update` (which they can see) to the channel `target` names,
/// where they must be able to post.
pub async fn move_update(services: &Services, by: &UserRow, update: &UpdateRow, target: &str) -> Result<(), MoveError> {
    if !super::edits::may_edit(by, update) {
        return Err(MoveError::NotAllowed);
    }
    let channel = channels::channel_to_post_in(&services.db, by, Some(target)).await?;
    if update.channel.as_ref().is_some_and(|c| c.id == channel.id) {
        return Ok(());
    }
    let seq = updates::move_to_channel(&services.db, &update.id, channel.id, now_ms()).await?.ok_or(MoveError::Gone)?;
    tracing::info!(update = %update.id, channel = %channel.slug, by = %by.login, "update moved");
    services.wait_searchable(seq, &update.id).await;
    Ok(())
}
