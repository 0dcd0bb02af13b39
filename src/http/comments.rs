//! Replies in writing: comments on an update, at a moment or on the whole of
//! it, threaded, with `@mentions`; and reactions from a small fixed set. Everyone
//! who can see the update can read and add them; a comment is edited by its
//! author and deleted by its author or an admin. To anyone else the update
//! does not exist (404), before any other check.

use std::collections::HashMap;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::error::ErrorBody;
use super::updates::{views_for, visible_update};
use super::views::{AuthorView, UpdateView};
use super::{ApiError, Caller};
use crate::channels;
use crate::clock::{now_ms, rfc3339};
use crate::db::accounts::{self, UserRow};
use crate::db::comments::{self, CommentRow, NewComment};
use crate::db::updates::{self, UpdateRow};
use crate::domain::account::{LoginName, Role};
use crate::domain::comment::{mentioned_logins, parse_comment, parse_moment, parse_reaction, CommentError, REACTIONS};
use crate::pipeline::Services;

pub fn router() -> Router<Services> {
    Router::new()
        .route("/updates/{id}/comments", post(add_comment).get(thread))
        .route("/updates/{id}/comments/{comment}", patch(edit_comment).delete(delete_comment))
        .route("/updates/{id}/reactions", post(add_reaction).delete(remove_reaction))
}

/// An update's comments and reactions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ThreadView {
    /// Oldest first; answers name the comment they answer (`parent_id`).
    comments: Vec<CommentView>,
    reactions: Vec<ReactionView>,
    /// Updates that answer this one on video (oldest first; `reply_to.at_ms` is their moment).
    video_replies: Vec<UpdateView>,
    /// The reactions on offer.
    #[schema(value_type = Vec<String>)]
    reaction_set: [&'static str; REACTIONS.len()],
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct CommentView {
    id: i64,
    parent_id: Option<i64>,
    author: AuthorView,
    /// The moment it is about; absent: the whole update.
    at_ms: Option<i64>,
    /// Plain text (empty once deleted).
    body: String,
    /// Deleted, kept in its place because others answered it.
    deleted: bool,
    /// The people `@named` in it who can see the update.
    mentions: Vec<AuthorView>,
    created_at: String,
    edited_at: Option<String>,
    /// The caller may edit it (their own) or delete it (their own, or as an admin).
    can_edit: bool,
    can_delete: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ReactionView {
    emoji: String,
    /// The moment; absent: the whole update.
    at_ms: Option<i64>,
    count: i64,
    /// The caller is one of them.
    mine: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct NewCommentBody {
    /// Plain text, 1–10,000 characters; `@login` mentions people who can see the update.
    body: String,
    /// Milliseconds into the video; absent: the whole update (an answer takes its comment's moment).
    at_ms: Option<u64>,
    /// The comment this one answers (of the same update).
    parent_id: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct CommentEdit {
    body: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
pub(super) struct ReactionBody {
    /// One of the reaction set (`GET …/comments` lists it).
    emoji: String,
    /// Milliseconds into the video; absent: the whole update.
    at_ms: Option<u64>,
}

fn refusal(e: CommentError) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string())
}

fn duration_of(update: &UpdateRow) -> u64 {
    u64::try_from(update.duration_ms).unwrap_or(0)
}

/// Resolves `@mentions` once per login for one answer.
struct Mentions<'a> {
    services: &'a Services,
    channel_id: Option<i64>,
    known: HashMap<String, Option<AuthorView>>,
}

impl Mentions<'_> {
    async fn of(&mut self, body: &str) -> Result<Vec<AuthorView>, ApiError> {
        let mut found = Vec::new();
        for login in mentioned_logins(body) {
            if !self.known.contains_key(&login) {
                let person = self.person(&login).await?;
                self.known.insert(login.clone(), person);
            }
            if let Some(Some(person)) = self.known.get(&login) {
                found.push(AuthorView { login: person.login.clone(), display_name: person.display_name.clone() });
            }
        }
        Ok(found)
    }

    /// `login`, if it names someone (not disabled) who can see the update.
    async fn person(&self, login: &str) -> Result<Option<AuthorView>, ApiError> {
        let Ok(login) = LoginName::parse(login) else { return Ok(None) };
        let Some((person, _)) = accounts::user_by_login(&self.services.db, &login).await? else { return Ok(None) };
        if person.disabled || !channels::may_see_channel(&self.services.db, &person, self.channel_id).await? {
            return Ok(None);
        }
        Ok(Some(AuthorView { login: person.login.as_str().to_string(), display_name: person.display_name }))
    }
}

fn may_delete(by: &UserRow, comment: &CommentRow) -> bool {
    comment.author_id == by.id || by.role == Role::Admin
}

async fn comment_view(mentions: &mut Mentions<'_>, caller: &Caller, row: CommentRow) -> Result<CommentView, ApiError> {
    let deleted = row.deleted_at.is_some();
    Ok(CommentView {
        mentions: if deleted { Vec::new() } else { mentions.of(&row.body).await? },
        can_edit: !deleted && row.author_id == caller.user.id,
        can_delete: !deleted && may_delete(&caller.user, &row),
        id: row.id,
        parent_id: row.parent_id,
        author: AuthorView { login: row.author_login, display_name: row.author_name },
        at_ms: row.at_ms,
        body: row.body,
        deleted,
        created_at: rfc3339(row.created_at),
        edited_at: row.edited_at.map(rfc3339),
    })
}

fn mentions_for<'a>(services: &'a Services, update: &UpdateRow) -> Mentions<'a> {
    Mentions { services, channel_id: update.channel.as_ref().map(|c| c.id), known: HashMap::new() }
}

async fn thread_view(s: &Services, caller: &Caller, update: &UpdateRow) -> Result<ThreadView, ApiError> {
    let mut mentions = mentions_for(s, update);
    let mut views = Vec::new();
    for row in comments::list(&s.db, &update.id).await? {
        views.push(comment_view(&mut mentions, caller, row).await?);
    }
    let replies = updates::replies_to(&s.db, &caller.viewer(), &update.id).await?;
    Ok(ThreadView {
        comments: views,
        reactions: reaction_views(s, caller, update).await?,
        video_replies: views_for(s, caller, replies).await?,
        reaction_set: REACTIONS,
    })
}

async fn reaction_views(s: &Services, caller: &Caller, update: &UpdateRow) -> Result<Vec<ReactionView>, ApiError> {
    Ok(comments::reactions(&s.db, &update.id, caller.user.id)
        .await?
        .into_iter()
        .map(|(emoji, at_ms, count, mine)| ReactionView { emoji, at_ms: (at_ms >= 0).then_some(at_ms), count, mine })
        .collect())
}

/// An update's comments (oldest first, with their answers) and reactions.
#[utoipa::path(get, path = "/api/updates/{id}/comments", tag = "replies",
    params(("id" = String, Path, description = "update id")),
    responses((status = 200, body = ThreadView), (status = 404, description = "`not_found`", body = ErrorBody)))]
pub(super) async fn thread(
    State(s): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<ThreadView>, ApiError> {
    let update = visible_update(&s, &caller, &raw).await?;
    Ok(Json(thread_view(&s, &caller, &update).await?))
}

/// Comment on the update, at a moment or on the whole of it, or answer a comment.
#[utoipa::path(post, path = "/api/updates/{id}/comments", tag = "replies",
    params(("id" = String, Path, description = "update id")),
    request_body = NewCommentBody,
    responses(
        (status = 201, body = CommentView),
        (status = 400, description = "`malformed_body`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`empty_comment`, `comment_too_long`, `invalid_comment`, `moment_outside_video`, `unknown_parent` (no such comment on this update)", body = ErrorBody),
    ))]
pub(super) async fn add_comment(
    State(s): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
    body: Result<Json<NewCommentBody>, JsonRejection>,
) -> Result<(StatusCode, Json<CommentView>), ApiError> {
    let update = visible_update(&s, &caller, &raw).await?;
    let Json(request) = body?;
    let text = parse_comment(&request.body).map_err(refusal)?;
    let mut at_ms = request.at_ms.map(|ms| parse_moment(ms, duration_of(&update))).transpose().map_err(refusal)?;
    if let Some(parent) = request.parent_id {
        let unknown = || {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_parent", "there is no such comment on this update")
        };
        let parent = comments::get(&s.db, &update.id, parent).await?.ok_or_else(unknown)?;
        if parent.deleted_at.is_some() {
            return Err(unknown());
        }
        // An answer is about what its comment is about.
        if at_ms.is_none() {
            at_ms = parent.at_ms.and_then(|ms| u64::try_from(ms).ok());
        }
    }
    let new = NewComment {
        update: &update.id,
        parent_id: request.parent_id,
        author_id: caller.user.id,
        at_ms,
        body: &text,
        now: now_ms(),
    };
    let id = comments::insert(&s.db, new).await?;
    let row = comments::get(&s.db, &update.id, id).await?.ok_or_else(|| ApiError::not_found("comment"))?;
    let view = comment_view(&mut mentions_for(&s, &update), &caller, row).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The comment, if it stands on `update`.
async fn standing_comment(s: &Services, update: &UpdateRow, id: i64) -> Result<CommentRow, ApiError> {
    match comments::get(&s.db, &update.id, id).await? {
        Some(row) if row.deleted_at.is_none() => Ok(row),
        _ => Err(ApiError::not_found("comment")),
    }
}

/// Replace the text of one's own comment.
#[utoipa::path(patch, path = "/api/updates/{id}/comments/{comment}", tag = "replies",
    params(("id" = String, Path, description = "update id"), ("comment" = i64, Path, description = "comment id")),
    request_body = CommentEdit,
    responses(
        (status = 200, body = CommentView),
        (status = 400, description = "`malformed_body`", body = ErrorBody),
        (status = 403, description = "`not_your_comment`: only its author edits a comment", body = ErrorBody),
        (status = 404, description = "`not_found`: no such update or comment", body = ErrorBody),
        (status = 422, description = "`empty_comment`, `comment_too_long`, `invalid_comment`", body = ErrorBody),
    ))]
pub(super) async fn edit_comment(
    State(s): State<Services>,
    caller: Caller,
    Path((raw, id)): Path<(String, String)>,
    body: Result<Json<CommentEdit>, JsonRejection>,
) -> Result<Json<CommentView>, ApiError> {
    let update = visible_update(&s, &caller, &raw).await?;
    let comment = standing_comment(&s, &update, parse_comment_id(&id)?).await?;
    let Json(edit) = body?;
    if comment.author_id != caller.user.id {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "not_your_comment", "only its author edits a comment"));
    }
    let text = parse_comment(&edit.body).map_err(refusal)?;
    comments::edit(&s.db, &update.id, comment.id, &text, now_ms()).await?;
    let row = standing_comment(&s, &update, comment.id).await?;
    Ok(Json(comment_view(&mut mentions_for(&s, &update), &caller, row).await?))
}

/// Delete a comment (its author, or an admin). One that others answered keeps its place, without its text.
#[utoipa::path(delete, path = "/api/updates/{id}/comments/{comment}", tag = "replies",
    params(("id" = String, Path, description = "update id"), ("comment" = i64, Path, description = "comment id")),
    responses(
        (status = 204, description = "deleted"),
        (status = 403, description = "`not_allowed_to_delete`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such update or comment", body = ErrorBody),
    ))]
pub(super) async fn delete_comment(
    State(s): State<Services>,
    caller: Caller,
    Path((raw, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let update = visible_update(&s, &caller, &raw).await?;
    let comment = standing_comment(&s, &update, parse_comment_id(&id)?).await?;
    if !may_delete(&caller.user, &comment) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_allowed_to_delete",
            "only its author or an admin deletes a comment",
        ));
    }
    comments::delete(&s.db, &update.id, comment.id, now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A comment id from the path: anything else is no comment (404, like a missing one).
fn parse_comment_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("comment"))
}

/// The emoji and moment of a reaction, checked against the update.
fn reaction_of(update: &UpdateRow, request: &ReactionBody) -> Result<(&'static str, i64), ApiError> {
    let emoji = parse_reaction(&request.emoji).map_err(refusal)?;
    let at_ms = match request.at_ms {
        Some(ms) => i64::try_from(parse_moment(ms, duration_of(update)).map_err(refusal)?).unwrap_or(i64::MAX),
        None => -1,
    };
    Ok((emoji, at_ms))
}

/// React to the update, at a moment or as a whole (once per person, emoji and moment).
#[utoipa::path(post, path = "/api/updates/{id}/reactions", tag = "replies",
    params(("id" = String, Path, description = "update id")),
    request_body = ReactionBody,
    responses(
        (status = 200, body = Vec<ReactionView>, description = "every reaction to the update"),
        (status = 400, description = "`malformed_body`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`unknown_reaction`, `moment_outside_video`", body = ErrorBody),
    ))]
pub(super) async fn add_reaction(
    State(s): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
    body: Result<Json<ReactionBody>, JsonRejection>,
) -> Result<Json<Vec<ReactionView>>, ApiError> {
    let update = visible_update(&s, &caller, &raw).await?;
    let Json(request) = body?;
    let (emoji, at_ms) = reaction_of(&update, &request)?;
    comments::react(&s.db, &update.id, caller.user.id, emoji, at_ms, true, now_ms()).await?;
    Ok(Json(reaction_views(&s, &caller, &update).await?))
}

/// Take back one's reaction (`?emoji=…&at_ms=…`).
#[utoipa::path(delete, path = "/api/updates/{id}/reactions", tag = "replies",
    params(("id" = String, Path, description = "update id"), ReactionBody),
    responses(
        (status = 200, body = Vec<ReactionView>, description = "every reaction to the update"),
        (status = 400, description = "`bad_query`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`unknown_reaction`, `moment_outside_video`", body = ErrorBody),
    ))]
pub(super) async fn remove_reaction(
    State(s): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
    query: Result<Query<ReactionBody>, QueryRejection>,
) -> Result<Json<Vec<ReactionView>>, ApiError> {
    let update = visible_update(&s, &caller, &raw).await?;
    let Query(request) = query.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let (emoji, at_ms) = reaction_of(&update, &request)?;
    comments::react(&s.db, &update.id, caller.user.id, emoji, at_ms, false, now_ms()).await?;
    Ok(Json(reaction_views(&s, &caller, &update).await?))
}
