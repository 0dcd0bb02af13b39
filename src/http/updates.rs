//! `/api/updates`: post an update, read one, list them.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::ingest;
use super::receive::too_large;
use super::upload::{read_form, UploadLimits};
use super::views::UpdateView;
use super::ApiError;
use crate::app::Services;
use crate::db::updates;
use crate::domain::UpdateId;

/// Room for multipart boundaries and the title on top of the file itself.
const FORM_OVERHEAD_BYTES: u64 = 64 * 1024;

pub fn router() -> Router<Services> {
    Router::new()
        // The handler enforces its own, configurable cap while streaming.
        .route("/updates", get(list_updates).post(create_update).layer(DefaultBodyLimit::disable()))
        .route("/updates/{id}", get(get_update))
}

pub fn parse_id(raw: &str) -> Result<UpdateId, ApiError> {
    UpdateId::parse(raw).ok_or_else(|| ApiError::not_found("update"))
}

#[tracing::instrument(skip_all)]
async fn create_update(
    State(services): State<Services>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<UpdateView>), ApiError> {
    let config = &services.config;
    // Refuse before reading a byte when the client announces an oversized body.
    let announced = headers.get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|len| len > config.max_upload_bytes + FORM_OVERHEAD_BYTES) {
        return Err(too_large(config.max_upload_bytes));
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
    };
    let mut early = ingest::early_check(&services, 0);
    let form = read_form(multipart, &config.upload_tmp_dir(), &limits, &mut early).await?;
    let title = ingest::parse_title(form.title.as_deref().unwrap_or_default())?;
    let upload = form.file.ok_or_else(|| ApiError::bad_request("missing_file", "the form has no `file` field"))?;
    let view = ingest::accept(&services, &title, upload).await?;
    Ok((StatusCode::ACCEPTED, Json(view)))
}

async fn get_update(State(services): State<Services>, Path(raw): Path<String>) -> Result<Json<UpdateView>, ApiError> {
    let id = parse_id(&raw)?;
    let row = updates::get(&services.db, &id).await?.ok_or_else(|| ApiError::not_found("update"))?;
    let stages = updates::stages(&services.db, std::slice::from_ref(&id)).await?;
    Ok(Json(UpdateView::build(row, &stages)))
}

#[derive(Debug, Deserialize)]
struct ListParams {
    limit: Option<i64>,
    before: Option<String>,
}

async fn list_updates(
    State(services): State<Services>,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let limit = params.limit.unwrap_or(20).clamp(1, 100);
    let before = match params.before.as_deref() {
        Some(raw) => Some(
            UpdateId::parse(raw).ok_or_else(|| ApiError::bad_request("bad_query", "`before` is not an update id"))?,
        ),
        None => None,
    };
    let rows = updates::list(&services.db, before.as_ref(), limit).await?;
    let ids: Vec<UpdateId> = rows.iter().map(|r| r.id.clone()).collect();
    let stages = updates::stages(&services.db, &ids).await?;
    let next = (rows.len() as i64 == limit).then(|| ids.last().map(|id| id.to_string())).flatten();
    let views: Vec<UpdateView> = rows.into_iter().map(|row| UpdateView::build(row, &stages)).collect();
    Ok(Json(json!({ "updates": views, "next": next })))
}
