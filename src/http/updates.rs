//! `/api/updates`: post an update, read one, list them.

use std::collections::HashMap;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::acknowledgements::{whom_to_ask, AskBody};
use super::channels::channel_refusal;
use super::error::ErrorBody;
use super::ingest;
use super::receive::{disk_full, too_large};
use super::reply_to::reply_target;
use super::upload::{read_form, UploadLimits};
use super::views::{ReplyRef, UpdatePage, UpdateView, YouView};
use super::{ApiError, Caller};
use crate::channels;
use crate::db::updates::{self, UpdateRow};
use crate::db::{comments, progress};
use crate::domain::description::{parse_description, DescriptionError};
use crate::domain::UpdateId;
use crate::pipeline::deletion::{self, DeleteError};
use crate::pipeline::edits::{describe, EditError};
use crate::pipeline::ingest::NewPost;
use crate::pipeline::moves::{move_update, MoveError};
use crate::pipeline::Services;

/// Room for multipart boundaries and the title on top of the file itself.
const FORM_OVERHEAD_BYTES: u64 = 64 * 1024;

pub fn router() -> Router<Services> {
    Router::new()
        // The handler enforces its own, configurable cap while streaming.
        .route("/updates", get(list_updates).post(create_update).layer(DefaultBodyLimit::disable()))
        .route("/updates/{id}", get(get_update).patch(change_update).delete(delete_update))
}

pub fn description_refusal(e: DescriptionError) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_description", e.to_string())
}

pub fn parse_id(raw: &str) -> Result<UpdateId, ApiError> {
    UpdateId::parse(raw).ok_or_else(|| ApiError::not_found("update"))
}

/// The update `raw` names, if `caller` may see it. One that exists in a
/// channel they cannot see answers exactly like one that does not exist.
/// Every route that takes an update id starts here.
pub async fn visible_update(s: &Services, caller: &Caller, raw: &str) -> Result<UpdateRow, ApiError> {
    let id = parse_id(raw)?;
    let row = updates::get(&s.db, &id).await?.ok_or_else(|| ApiError::not_found("update"))?;
    let channel_id = row.channel.as_ref().map(|c| c.id);
    if !channels::may_see_channel(&s.db, &caller.user, channel_id).await? {
        return Err(ApiError::not_found("update"));
    }
    Ok(row)
}

/// Post an update: the video is streamed to disk, probed in a sandbox and queued.
#[utoipa::path(post, path = "/api/updates", tag = "updates",
    request_body(content_type = "multipart/form-data", description = "fields `title` (text), `channel` (a channel's name or slug; default `General`), `description`, `acknowledge` (`everyone` and/or logins), `reply_to` and `reply_at_ms` (a video reply: the update it answers and the moment; it goes to that update's channel) and `file` (the video)"),
    responses(
        (status = 202, description = "accepted: processing has started", body = UpdateView),
        (status = 400, description = "`missing_file`, `malformed_upload`", body = ErrorBody),
        (status = 403, description = "`not_allowed_to_post`: the channel's post list leaves you out", body = ErrorBody),
        (status = 404, description = "`not_found`: no such channel", body = ErrorBody),
        (status = 409, description = "`channel_archived`", body = ErrorBody),
        (status = 408, description = "`upload_timeout`: the client stalled", body = ErrorBody),
        (status = 413, description = "`too_large`", body = ErrorBody),
        (status = 415, description = "`bad_content_type`, `unsupported_media`", body = ErrorBody),
        (status = 422, description = "`too_long`, `too_large_dimensions`, `unsupported_media`, `invalid_title`, `cannot_see`, `unknown_person`, `unknown_reply_to`, `invalid_reply_at`, `moment_outside_video`", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub(super) async fn create_update(
    State(services): State<Services>,
    caller: Caller,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<UpdateView>), ApiError> {
    let config = &services.config;
    // Refuse before reading a byte when the client announces an oversized body.
    let announced = headers.get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|len| len > config.max_upload_bytes + FORM_OVERHEAD_BYTES) {
        return Err(too_large(config.max_upload_bytes));
    }
    let disk = config.disk_reserve();
    if !disk.room_for(announced.unwrap_or(0)) {
        return Err(disk_full());
    }
    let multipart = multipart.map_err(|_| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "bad_content_type",
            "send the update as multipart/form-data with a `title` and a `file` field",
        )
    })?;
    let limits = UploadLimits {
        max_bytes: config.max_upload_bytes,
        idle_timeout: std::time::Duration::from_secs(config.upload_idle_timeout_secs),
        deadline: tokio::time::Instant::now() + std::time::Duration::from_secs(config.upload_deadline_secs),
        disk,
    };
    let mut early = ingest::early_check(&services, 0);
    let form = read_form(multipart, &config.upload_tmp_dir(), &limits, &mut early).await?;
    let title = ingest::parse_title(form.title.as_deref().unwrap_or_default())?;
    let upload = form.file.ok_or_else(|| ApiError::bad_request("missing_file", "the form has no `file` field"))?;
    // A video reply goes where the update it answers is.
    let reply = reply_target(&services, &caller, form.reply_to.as_deref(), form.reply_at_ms.as_deref()).await?;
    let channel = match &reply {
        Some(target) => target.channel.clone(),
        None => channels::channel_to_post_in(&services.db, &caller.user, form.channel.as_deref())
            .await
            .map_err(channel_refusal)?,
    };
    let description =
        parse_description(form.description.as_deref().unwrap_or_default()).map_err(description_refusal)?;
    let ask = match form.acknowledge.as_deref().and_then(AskBody::from_field) {
        Some(body) => whom_to_ask(&services, &body, Some((channel.id, &channel.name)), Some(caller.user.id)).await?,
        None => Vec::new(),
    };
    let reply = reply.map(|target| (target.update, target.at_ms));
    let language = ingest::declared_language(&services, form.language.as_deref())?;
    let post = NewPost { author: caller.user.id, channel_id: channel.id, title, description, ask, reply, language };
    let view = ingest::accept(&services, &caller, &post, upload).await?;
    Ok((StatusCode::ACCEPTED, Json(view)))
}

/// One update with the state of each processing stage.
#[utoipa::path(get, path = "/api/updates/{id}", tag = "updates",
    params(("id" = String, Path, description = "update id")),
    responses((status = 200, body = UpdateView), (status = 404, description = "`not_found`", body = ErrorBody)))]
pub(super) async fn get_update(
    State(services): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Json<UpdateView>, ApiError> {
    let row = visible_update(&services, &caller, &raw).await?;
    let mut views = views_for(&services, &caller, vec![row]).await?;
    Ok(Json(views.remove(0)))
}

/// The titles of the updates `rows` answer, those the caller sees.
async fn parents_of(
    services: &Services,
    caller: &Caller,
    rows: &[UpdateRow],
) -> Result<HashMap<UpdateId, String>, ApiError> {
    let mut titles = HashMap::new();
    for parent in rows.iter().filter_map(|r| r.reply_to.as_ref()) {
        if titles.contains_key(parent) {
            continue;
        }
        if let Some(row) = updates::get(&services.db, parent).await? {
            let channel_id = row.channel.as_ref().map(|c| c.id);
            if channels::may_see_channel(&services.db, &caller.user, channel_id).await? {
                titles.insert(parent.clone(), row.title);
            }
        }
    }
    Ok(titles)
}

/// Views of `rows` with their stages and where the caller stands with each.
pub(super) async fn views_for(
    services: &Services,
    caller: &Caller,
    rows: Vec<UpdateRow>,
) -> Result<Vec<UpdateView>, ApiError> {
    let ids: Vec<UpdateId> = rows.iter().map(|r| r.id.clone()).collect();
    let mut standings = progress::standings(&services.db, caller.user.id, &ids).await?;
    let comment_counts = comments::counts(&services.db, &ids).await?;
    let parents = parents_of(services, caller, &rows).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let author = row.author.as_ref().is_some_and(|a| a.id == caller.user.id);
            let standing = standings.remove(&row.id).unwrap_or_default();
            let comment_count = comment_counts.get(&row.id).copied().unwrap_or(0);
            let reply_to = row.reply_to.as_ref().and_then(|parent| parents.get(parent)).map(|title| ReplyRef {
                id: row.reply_to.as_ref().map(|p| p.to_string()).unwrap_or_default(),
                title: title.clone(),
                at_ms: row.reply_at_ms,
            });
            let mut view = UpdateView::build(row);
            view.you = Some(YouView::new(author, standing));
            view.comment_count = comment_count;
            view.reply_to = reply_to;
            view
        })
        .collect())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct UpdateChange {
    /// Replace the description (its author or an admin): plain text, up to
    /// 2,000 characters; links in it are shown clickable.
    description: Option<String>,
    /// Move the update to this channel (its name or slug): its author or an
    /// admin, who must be able to post there. Who sees it follows at once.
    channel: Option<String>,
}

/// Change an update: its description, or its channel.
#[utoipa::path(patch, path = "/api/updates/{id}", tag = "updates",
    params(("id" = String, Path, description = "update id")),
    request_body = UpdateChange,
    responses(
        (status = 200, body = UpdateView),
        (status = 400, description = "`malformed_body`", body = ErrorBody),
        (status = 403, description = "`not_allowed_to_edit`, `not_allowed_to_move`, `not_allowed_to_post`", body = ErrorBody),
        (status = 422, description = "`invalid_description`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such update, or no such channel", body = ErrorBody),
        (status = 409, description = "`channel_archived`", body = ErrorBody),
    ))]
pub(super) async fn change_update(
    State(services): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
    change: Result<Json<UpdateChange>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<UpdateView>, ApiError> {
    let row = visible_update(&services, &caller, &raw).await?;
    let Json(change) = change?;
    if let Some(text) = change.description.as_deref() {
        describe(&services, &caller.user, &row, text).await.map_err(|e| match e {
            EditError::NotAllowed => ApiError::new(StatusCode::FORBIDDEN, "not_allowed_to_edit", e.to_string()),
            EditError::Invalid(e) => description_refusal(e),
            EditError::Gone => ApiError::not_found("update"),
            EditError::Db(e) => ApiError::from(e),
        })?;
    }
    if let Some(target) = change.channel.as_deref() {
        move_update(&services, &caller.user, &row, target).await.map_err(|e| match e {
            MoveError::NotAllowed => ApiError::new(StatusCode::FORBIDDEN, "not_allowed_to_move", e.to_string()),
            MoveError::Channel(e) => channel_refusal(e),
            MoveError::Gone => ApiError::not_found("update"),
            MoveError::Db(e) => ApiError::from(e),
        })?;
    }
    let row = visible_update(&services, &caller, &raw).await?;
    let mut views = views_for(&services, &caller, vec![row]).await?;
    Ok(Json(views.remove(0)))
}

/// Delete an update: its rows, transcript, media, index documents and pending
/// jobs all go, also while it is processing (its author or an admin).
#[utoipa::path(delete, path = "/api/updates/{id}", tag = "updates",
    params(("id" = String, Path, description = "update id")),
    responses(
        (status = 204, description = "deleted"),
        (status = 403, description = "`not_allowed_to_delete`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub(super) async fn delete_update(
    State(services): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let row = visible_update(&services, &caller, &raw).await?;
    deletion::delete_update(&services, &caller.user, &row).await.map_err(|e| match e {
        DeleteError::NotAllowed => ApiError::new(StatusCode::FORBIDDEN, "not_allowed_to_delete", e.to_string()),
        DeleteError::Db(e) => ApiError::from(e),
        DeleteError::Storage(e) => ApiError::internal(e),
    })?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub(super) struct ListParams {
    limit: Option<i64>,
    before: Option<String>,
    channel: Option<String>,
    /// Only what the caller has not seen (nor posted).
    unseen: Option<bool>,
}

/// Updates, newest first, a page at a time.
#[utoipa::path(get, path = "/api/updates", tag = "updates",
    params(
        ("limit" = Option<i64>, Query, description = "1–100, default 20"),
        ("before" = Option<String>, Query, description = "the `next` cursor of the previous page"),
        ("channel" = Option<String>, Query, description = "one channel's updates (its slug); default all"),
        ("unseen" = Option<bool>, Query, description = "`true`: only updates the caller has not seen yet (nor posted)"),
    ),
    responses(
        (status = 200, body = UpdatePage),
        (status = 400, description = "`bad_query`", body = ErrorBody),
        (status = 404, description = "no such channel", body = ErrorBody),
    ))]
pub(super) async fn list_updates(
    State(services): State<Services>,
    caller: Caller,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<UpdatePage>, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let limit = params.limit.unwrap_or(20).clamp(1, 100);
    let before = match params.before.as_deref() {
        Some(raw) => Some(
            UpdateId::parse(raw).ok_or_else(|| ApiError::bad_request("bad_query", "`before` is not an update id"))?,
        ),
        None => None,
    };
    let channel_id = match params.channel.as_deref() {
        Some(reference) => Some(
            channels::channel_for(&services.db, &caller.user, reference).await.map_err(channel_refusal)?.channel.id,
        ),
        None => None,
    };
    let viewer = caller.viewer();
    let unseen = params.unseen.unwrap_or(false);
    let rows = updates::list(&services.db, &viewer, channel_id, unseen, before.as_ref(), limit).await?;
    let next = (rows.len() as i64 == limit).then(|| rows.last().map(|row| row.id.to_string())).flatten();
    let views = views_for(&services, &caller, rows).await?;
    Ok(Json(UpdatePage { updates: views, next }))
}
