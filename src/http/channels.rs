//! `/api/channels`: where updates are posted. Everyone lists and joins
//! channels; workspace admins create, rename and archive them; a channel's
//! admins manage its members and who posts.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::door::Caller;
use super::error::ErrorBody;
use super::people::account_refusal;
use super::ApiError;
use crate::accounts;
use crate::channels::{self, ChannelChange, ChannelError, ChannelFor};
use crate::db::channels::{members, Membership};
use crate::domain::channel::Posting;
use crate::pipeline::Services;

pub fn router() -> Router<Services> {
    Router::new()
        .route("/channels", get(list_channels).post(create_channel))
        .route("/channels/{slug}", get(get_channel).patch(change_channel))
        .route("/channels/{slug}/join", post(join_channel))
        .route("/channels/{slug}/members", get(list_members))
        .route("/channels/{slug}/members/{login}", put(set_member).delete(remove_member))
}

/// A channel, and what the person asking may do in it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ChannelView {
    slug: String,
    name: String,
    /// `everyone` or `listed` (its posters and admins only).
    posting: &'static str,
    /// Seen by its members only (and workspace admins).
    private: bool,
    archived: bool,
    /// Whether the person asking is in it.
    joined: bool,
    can_post: bool,
    /// Whether the person asking manages its members and posting.
    can_manage: bool,
}

impl From<ChannelFor> for ChannelView {
    fn from(seen: ChannelFor) -> Self {
        ChannelView {
            slug: seen.channel.slug,
            name: seen.channel.name,
            posting: seen.channel.posting.as_str(),
            private: seen.channel.private,
            archived: seen.channel.archived,
            joined: seen.membership.is_some(),
            can_post: seen.can_post,
            can_manage: seen.can_manage,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ChannelList {
    channels: Vec<ChannelView>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct NewChannel {
    name: String,
    /// `everyone` (default) or `listed`.
    posting: Option<String>,
    /// Seen by its members only; its creator starts as its admin and adds them.
    #[serde(default)]
    private: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct ChannelPatch {
    /// A new name (workspace admins); the slug follows.
    name: Option<String>,
    /// Archive or restore (workspace admins).
    archived: Option<bool>,
    /// `everyone` or `listed` (the channel's admins too).
    posting: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct MemberView {
    login: String,
    display_name: String,
    is_admin: bool,
    can_post: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct MemberList {
    members: Vec<MemberView>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub(super) struct MemberPlace {
    /// Manages the channel's members and posting.
    #[serde(default)]
    is_admin: bool,
    /// On the post list of a `listed` channel.
    #[serde(default)]
    can_post: bool,
}

/// How a channel refusal reads in the API.
pub(super) fn channel_refusal(e: ChannelError) -> ApiError {
    let message = e.to_string();
    match e {
        ChannelError::NotFound(_) => ApiError::not_found("channel"),
        ChannelError::InvalidName(_) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_channel", message),
        ChannelError::NameTaken(_) => ApiError::new(StatusCode::CONFLICT, "channel_exists", message),
        ChannelError::NotAllowedToPost(_) => ApiError::new(StatusCode::FORBIDDEN, "not_allowed_to_post", message),
        ChannelError::Archived(_) => ApiError::new(StatusCode::CONFLICT, "channel_archived", message),
        ChannelError::NotChannelAdmin(_) | ChannelError::NotWorkspaceAdmin => {
            ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
        }
        ChannelError::Db(e) => ApiError::internal(e),
    }
}

fn parse_posting(text: Option<&str>) -> Result<Option<Posting>, ApiError> {
    text.map(|t| {
        Posting::parse(t).ok_or_else(|| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_posting", "posting is `everyone` or `listed`")
        })
    })
    .transpose()
}

/// Every channel, archived ones last.
#[utoipa::path(get, path = "/api/channels", tag = "channels", responses((status = 200, body = ChannelList)))]
pub(super) async fn list_channels(State(s): State<Services>, caller: Caller) -> Result<Json<ChannelList>, ApiError> {
    let seen = channels::channels_for(&s.db, &caller.user).await?;
    Ok(Json(ChannelList { channels: seen.into_iter().map(ChannelView::from).collect() }))
}

/// Create a channel (workspace admins).
#[utoipa::path(post, path = "/api/channels", tag = "channels",
    request_body = NewChannel,
    responses(
        (status = 201, body = ChannelView),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 409, description = "`channel_exists`", body = ErrorBody),
        (status = 422, description = "`invalid_channel`, `invalid_posting`", body = ErrorBody),
    ))]
pub(super) async fn create_channel(
    State(s): State<Services>,
    caller: Caller,
    new: Result<Json<NewChannel>, JsonRejection>,
) -> Result<(StatusCode, Json<ChannelView>), ApiError> {
    let Json(new) = new?;
    let posting = parse_posting(new.posting.as_deref())?.unwrap_or(Posting::Everyone);
    let created =
        channels::create(&s.db, &caller.user, &new.name, posting, new.private).await.map_err(channel_refusal)?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// One channel.
#[utoipa::path(get, path = "/api/channels/{slug}", tag = "channels",
    params(("slug" = String, Path)), responses((status = 200, body = ChannelView), (status = 404, body = ErrorBody)))]
pub(super) async fn get_channel(
    State(s): State<Services>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<Json<ChannelView>, ApiError> {
    let seen = channels::channel_for(&s.db, &caller.user, &slug).await.map_err(channel_refusal)?;
    Ok(Json(seen.into()))
}

/// Rename, archive or restore (workspace admins), or change who posts (channel admins too).
#[utoipa::path(patch, path = "/api/channels/{slug}", tag = "channels",
    params(("slug" = String, Path)),
    request_body = ChannelPatch,
    responses(
        (status = 200, body = ChannelView),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`channel_exists`", body = ErrorBody),
    ))]
pub(super) async fn change_channel(
    State(s): State<Services>,
    caller: Caller,
    Path(slug): Path<String>,
    patch: Result<Json<ChannelPatch>, JsonRejection>,
) -> Result<Json<ChannelView>, ApiError> {
    let Json(patch) = patch?;
    let change =
        ChannelChange { name: patch.name, archived: patch.archived, posting: parse_posting(patch.posting.as_deref())? };
    let changed = channels::change(&s.db, &caller.user, &slug, &change).await.map_err(channel_refusal)?;
    Ok(Json(changed.into()))
}

/// Join a channel.
#[utoipa::path(post, path = "/api/channels/{slug}/join", tag = "channels",
    params(("slug" = String, Path)), responses((status = 200, body = ChannelView), (status = 404, body = ErrorBody)))]
pub(super) async fn join_channel(
    State(s): State<Services>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<Json<ChannelView>, ApiError> {
    Ok(Json(channels::join(&s.db, &caller.user, &slug).await.map_err(channel_refusal)?.into()))
}

/// A channel's members.
#[utoipa::path(get, path = "/api/channels/{slug}/members", tag = "channels",
    params(("slug" = String, Path)), responses((status = 200, body = MemberList), (status = 404, body = ErrorBody)))]
pub(super) async fn list_members(
    State(s): State<Services>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<Json<MemberList>, ApiError> {
    let seen = channels::channel_for(&s.db, &caller.user, &slug).await.map_err(channel_refusal)?;
    let rows = members(&s.db, seen.channel.id).await?;
    let members = rows
        .into_iter()
        .map(|m| MemberView {
            login: m.login,
            display_name: m.display_name,
            is_admin: m.membership.is_admin,
            can_post: m.membership.can_post,
        })
        .collect();
    Ok(Json(MemberList { members }))
}

/// Put someone in the channel, or change their place (the channel's admins).
#[utoipa::path(put, path = "/api/channels/{slug}/members/{login}", tag = "channels",
    params(("slug" = String, Path), ("login" = String, Path)),
    request_body = MemberPlace,
    responses((status = 204), (status = 403, description = "`forbidden`", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn set_member(
    State(s): State<Services>,
    caller: Caller,
    Path((slug, login)): Path<(String, String)>,
    place: Result<Json<MemberPlace>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(place) = place?;
    let member = accounts::find_user(&s.db, &login).await.map_err(account_refusal)?;
    let membership = Membership { is_admin: place.is_admin, can_post: place.can_post };
    channels::set_member(&s.db, &caller.user, &slug, &member, membership).await.map_err(channel_refusal)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take someone out of the channel (its admins), or leave it (oneself).
#[utoipa::path(delete, path = "/api/channels/{slug}/members/{login}", tag = "channels",
    params(("slug" = String, Path), ("login" = String, Path)),
    responses((status = 204), (status = 403, description = "`forbidden`", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn remove_member(
    State(s): State<Services>,
    caller: Caller,
    Path((slug, login)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let member = accounts::find_user(&s.db, &login).await.map_err(account_refusal)?;
    if channels::remove_member(&s.db, &caller.user, &slug, &member).await.map_err(channel_refusal)? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("member"))
    }
}
