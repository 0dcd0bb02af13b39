//! Channels: where updates are posted, and who may do what in them.
//!
//! Workspace admins create, rename and archive channels and manage any of
//! them; a channel's own admins manage its members and who posts. Anyone
//! joins an open channel; posting follows the channel's `posting` rule.

use crate::clock::now_ms;
use crate::db::accounts::UserRow;
use crate::db::channels::{self, ChannelRow, Membership};
use crate::db::{Db, DbError};
use crate::domain::account::Role;
use crate::domain::channel::{slug_of, ChannelName, ChannelNameError, Posting, GENERAL};

#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("there is no channel {0}")]
    NotFound(String),
    #[error(transparent)]
    InvalidName(#[from] ChannelNameError),
    #[error("a channel called {0} exists already")]
    NameTaken(String),
    #[error("only the channel's posters can post in {0}")]
    NotAllowedToPost(String),
    #[error("{0} is archived: nothing new is posted there")]
    Archived(String),
    #[error("only an admin of {0} can do this")]
    NotChannelAdmin(String),
    #[error("only a workspace admin can do this")]
    NotWorkspaceAdmin,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A channel as one person sees it.
#[derive(Debug, Clone)]
pub struct ChannelFor {
    pub channel: ChannelRow,
    pub membership: Option<Membership>,
    pub can_post: bool,
    pub can_manage: bool,
}

fn is_workspace_admin(user: &UserRow) -> bool {
    user.role == Role::Admin
}

/// Whether `user` sees a channel: workspace admins see every one; an open
/// channel is seen by everyone; a private one by its members only.
fn may_see(user: &UserRow, channel: &ChannelRow, membership: Option<Membership>) -> bool {
    is_workspace_admin(user) || !channel.private || membership.is_some()
}

/// Whether `user` sees the channel with this id (an update's). `None` (an
/// update from before channels had ids) is General's case: open.
pub async fn may_see_channel(db: &Db, user: &UserRow, channel_id: Option<i64>) -> Result<bool, DbError> {
    let Some(id) = channel_id else { return Ok(true) };
    if is_workspace_admin(user) {
        return Ok(true);
    }
    // One query: every request for an update's media comes through here.
    Ok(channels::open_to(db, id, user.id).await?.unwrap_or(false))
}

/// The channels whose updates `user` may find: `None` for all of them
/// (workspace admins), else the ids of the ones they see.
pub async fn searchable_channels(db: &Db, user: &UserRow) -> Result<Option<Vec<i64>>, DbError> {
    if is_workspace_admin(user) {
        return Ok(None);
    }
    Ok(Some(channels::visible_channel_ids(db, user.id).await?))
}

fn see(user: &UserRow, channel: ChannelRow, membership: Option<Membership>) -> ChannelFor {
    let admin = is_workspace_admin(user);
    let channel_admin = membership.is_some_and(|m| m.is_admin);
    let listed = membership.is_some_and(|m| m.can_post);
    let can_post = !channel.archived && (admin || channel_admin || listed || channel.posting == Posting::Everyone);
    ChannelFor { can_manage: admin || channel_admin, can_post, channel, membership }
}

/// Every channel `user` sees, with what they may do in it.
pub async fn channels_for(db: &Db, user: &UserRow) -> Result<Vec<ChannelFor>, DbError> {
    let rows = channels::channels_with_membership(db, user.id).await?;
    Ok(rows
        .into_iter()
        .filter(|(channel, membership)| may_see(user, channel, *membership))
        .map(|(channel, membership)| see(user, channel, membership))
        .collect())
}

/// The channel a reference (`General`, `#team-berlin`) names, as `user` sees
/// it. A private channel they are not in is not found, like one that does not exist.
pub async fn channel_for(db: &Db, user: &UserRow, reference: &str) -> Result<ChannelFor, ChannelError> {
    let slug = slug_of(reference);
    let not_found = || ChannelError::NotFound(slug.clone());
    let channel = channels::channel_by_slug(db, &slug).await?.ok_or_else(not_found)?;
    let membership = channels::membership(db, channel.id, user.id).await?;
    if !may_see(user, &channel, membership) {
        return Err(not_found());
    }
    Ok(see(user, channel, membership))
}

/// The channel `user` posts a new update to (`General` when none is named),
/// if they may post there.
pub async fn channel_to_post_in(db: &Db, user: &UserRow, reference: Option<&str>) -> Result<ChannelRow, ChannelError> {
    let reference = reference.map(str::trim).filter(|r| !r.is_empty()).unwrap_or(GENERAL);
    let seen = channel_for(db, user, reference).await?;
    if seen.channel.archived {
        return Err(ChannelError::Archived(seen.channel.name));
    }
    if !seen.can_post {
        return Err(ChannelError::NotAllowedToPost(seen.channel.name));
    }
    Ok(seen.channel)
}

/// The channel a video reply to an update of channel `slug` goes to: that one,
/// for anyone who sees it, even where only listed people post updates (a reply
/// is discussion, like a comment); not once it is archived.
pub async fn channel_to_reply_in(db: &Db, user: &UserRow, slug: &str) -> Result<ChannelRow, ChannelError> {
    let seen = channel_for(db, user, slug).await?;
    if seen.channel.archived {
        return Err(ChannelError::Archived(seen.channel.name));
    }
    Ok(seen.channel)
}

/// A new channel (workspace admins). A private one starts with its creator
/// as its admin, who then adds the people it is for.
pub async fn create(
    db: &Db,
    by: &UserRow,
    name: &str,
    posting: Posting,
    private: bool,
) -> Result<ChannelFor, ChannelError> {
    if !is_workspace_admin(by) {
        return Err(ChannelError::NotWorkspaceAdmin);
    }
    let name = ChannelName::parse(name)?;
    let id = channels::insert_channel(db, &name, posting, private, now_ms())
        .await?
        .ok_or_else(|| ChannelError::NameTaken(name.name().to_string()))?;
    if private {
        let admin = Membership { is_admin: true, can_post: true };
        channels::upsert_member(db, id, by.id, admin, now_ms()).await?;
    }
    channel_for(db, by, name.slug()).await
}

/// What may change about a channel, and who may change it.
#[derive(Debug, Default, Clone)]
pub struct ChannelChange {
    /// Workspace admins.
    pub name: Option<String>,
    /// Workspace admins.
    pub archived: Option<bool>,
    /// The channel's admins too.
    pub posting: Option<Posting>,
}

pub async fn change(
    db: &Db,
    by: &UserRow,
    reference: &str,
    change: &ChannelChange,
) -> Result<ChannelFor, ChannelError> {
    let seen = channel_for(db, by, reference).await?;
    if (change.name.is_some() || change.archived.is_some()) && !is_workspace_admin(by) {
        return Err(ChannelError::NotWorkspaceAdmin);
    }
    if change.posting.is_some() && !seen.can_manage {
        return Err(ChannelError::NotChannelAdmin(seen.channel.name));
    }
    let id = seen.channel.id;
    let mut slug = seen.channel.slug.clone();
    if let Some(name) = &change.name {
        let name = ChannelName::parse(name)?;
        if !channels::rename(db, id, &name).await? {
            return Err(ChannelError::NameTaken(name.name().to_string()));
        }
        slug = name.slug().to_string();
    }
    if let Some(archived) = change.archived {
        channels::set_archived(db, id, archived, now_ms()).await?;
    }
    if let Some(posting) = change.posting {
        channels::set_posting(db, id, posting).await?;
    }
    channel_for(db, by, &slug).await
}

/// `by` joins an open channel themselves (a no-op for a member).
pub async fn join(db: &Db, by: &UserRow, reference: &str) -> Result<ChannelFor, ChannelError> {
    let seen = channel_for(db, by, reference).await?;
    if seen.membership.is_none() {
        let plain = Membership { is_admin: false, can_post: false };
        channels::upsert_member(db, seen.channel.id, by.id, plain, now_ms()).await?;
    }
    channel_for(db, by, &seen.channel.slug).await
}

/// A channel admin (or workspace admin) puts `member` in the channel with this place.
pub async fn set_member(
    db: &Db,
    by: &UserRow,
    reference: &str,
    member: &UserRow,
    place: Membership,
) -> Result<(), ChannelError> {
    let seen = channel_for(db, by, reference).await?;
    if !seen.can_manage {
        return Err(ChannelError::NotChannelAdmin(seen.channel.name));
    }
    channels::upsert_member(db, seen.channel.id, member.id, place, now_ms()).await?;
    Ok(())
}

/// Take `member` out of a channel: a channel admin does it, or they leave themselves.
/// False when they were not in it.
pub async fn remove_member(db: &Db, by: &UserRow, reference: &str, member: &UserRow) -> Result<bool, ChannelError> {
    let seen = channel_for(db, by, reference).await?;
    if member.id != by.id && !seen.can_manage {
        return Err(ChannelError::NotChannelAdmin(seen.channel.name));
    }
    Ok(channels::remove_member(db, seen.channel.id, member.id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::add_user;
    use crate::db::test_databases::databases;

    #[tokio::test]
    async fn who_posts_where() {
        for (db, _guard) in databases().await {
            let ada = add_user(&db, "ada", None, Role::Admin, "analytical engine").await.unwrap();
            let bob = add_user(&db, "bob", None, Role::Member, "a long enough one").await.unwrap();
            let carol = add_user(&db, "carol", None, Role::Member, "a long enough one").await.unwrap();

            // General exists from the start and everyone posts there.
            assert_eq!(channel_to_post_in(&db, &bob, None).await.unwrap().slug, GENERAL);
            assert!(matches!(
                create(&db, &bob, "Mine", Posting::Everyone, false).await,
                Err(ChannelError::NotWorkspaceAdmin)
            ));

            // Announcements: only listed posters (and admins).
            let news = create(&db, &ada, "Announcements", Posting::Listed, false).await.unwrap();
            assert_eq!(news.channel.slug, "announcements");
            assert!(matches!(
                create(&db, &ada, " announcements ", Posting::Everyone, false).await,
                Err(ChannelError::NameTaken(_))
            ));
            let refused = channel_to_post_in(&db, &bob, Some("#Announcements")).await;
            assert!(matches!(refused, Err(ChannelError::NotAllowedToPost(_))), "{refused:?}");
            assert!(channel_to_post_in(&db, &ada, Some("announcements")).await.is_ok());
            let leader = Membership { is_admin: false, can_post: true };
            assert!(matches!(
                set_member(&db, &bob, "announcements", &carol, leader).await,
                Err(ChannelError::NotChannelAdmin(_))
            ));
            set_member(&db, &ada, "announcements", &bob, leader).await.unwrap();
            assert!(channel_to_post_in(&db, &bob, Some("announcements")).await.is_ok());
            assert!(channel_to_post_in(&db, &carol, Some("announcements")).await.is_err());

            // A channel admin manages posting but not the name.
            let boss = Membership { is_admin: true, can_post: false };
            set_member(&db, &ada, "announcements", &carol, boss).await.unwrap();
            let open = ChannelChange { posting: Some(Posting::Everyone), ..Default::default() };
            assert!(change(&db, &carol, "announcements", &open).await.unwrap().can_post);
            let renamed = ChannelChange { name: Some("News".into()), ..Default::default() };
            assert!(matches!(
                change(&db, &carol, "announcements", &renamed).await,
                Err(ChannelError::NotWorkspaceAdmin)
            ));
            assert_eq!(change(&db, &ada, "announcements", &renamed).await.unwrap().channel.slug, "news");
            let clash = ChannelChange { name: Some("general".into()), ..Default::default() };
            assert!(matches!(change(&db, &ada, "news", &clash).await, Err(ChannelError::NameTaken(_))));

            // Archived: readable, nothing new.
            let archive = ChannelChange { archived: Some(true), ..Default::default() };
            change(&db, &ada, "news", &archive).await.unwrap();
            assert!(matches!(channel_to_post_in(&db, &ada, Some("news")).await, Err(ChannelError::Archived(_))));
            assert!(matches!(channel_to_post_in(&db, &bob, Some("nowhere")).await, Err(ChannelError::NotFound(_))));

            // Joining and leaving.
            let joined = join(&db, &carol, "general").await.unwrap();
            assert!(joined.membership.is_some());
            assert!(remove_member(&db, &carol, "general", &carol).await.unwrap());
            assert!(matches!(remove_member(&db, &carol, "general", &bob).await, Err(ChannelError::NotChannelAdmin(_))));
            let seen = channels_for(&db, &carol).await.unwrap();
            let slugs: Vec<&str> = seen.iter().map(|c| c.channel.slug.as_str()).collect();
            assert_eq!(slugs, ["general", "news"], "archived last");
        }
    }

    #[tokio::test]
    async fn a_private_channel_is_seen_by_its_members_only() {
        for (db, _guard) in databases().await {
            let ada = add_user(&db, "ada", None, Role::Admin, "analytical engine").await.unwrap();
            let bob = add_user(&db, "bob", None, Role::Member, "a long enough one").await.unwrap();
            let reorg = create(&db, &ada, "Reorg", Posting::Everyone, true).await.unwrap();
            let id = reorg.channel.id;
            assert!(reorg.membership.is_some_and(|m| m.is_admin), "its creator manages it");

            let hidden = |seen: Vec<ChannelFor>| !seen.iter().any(|c| c.channel.id == id);
            assert!(hidden(channels_for(&db, &bob).await.unwrap()));
            assert!(matches!(channel_for(&db, &bob, "reorg").await, Err(ChannelError::NotFound(_))));
            assert!(matches!(join(&db, &bob, "reorg").await, Err(ChannelError::NotFound(_))), "not joined uninvited");
            assert!(matches!(channel_to_post_in(&db, &bob, Some("reorg")).await, Err(ChannelError::NotFound(_))));
            assert!(!may_see_channel(&db, &bob, Some(id)).await.unwrap());
            let bob_finds = searchable_channels(&db, &bob).await.unwrap().unwrap();
            assert!(!bob_finds.contains(&id) && bob_finds.contains(&1), "{bob_finds:?}");
            assert_eq!(searchable_channels(&db, &ada).await.unwrap(), None, "an admin finds everything");

            // Added, Bob sees it and posts there; removed, it is gone for him at once.
            set_member(&db, &ada, "reorg", &bob, Membership { is_admin: false, can_post: false }).await.unwrap();
            assert!(may_see_channel(&db, &bob, Some(id)).await.unwrap());
            assert!(channel_to_post_in(&db, &bob, Some("reorg")).await.is_ok());
            assert!(searchable_channels(&db, &bob).await.unwrap().unwrap().contains(&id));
            assert!(remove_member(&db, &ada, "reorg", &bob).await.unwrap());
            assert!(!may_see_channel(&db, &bob, Some(id)).await.unwrap());
            assert!(hidden(channels_for(&db, &bob).await.unwrap()));
        }
    }
}
