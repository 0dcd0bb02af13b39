//! `/api/search?q=…`: hits grouped by update, best first, with timed snippets.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ErrorBody;
use super::{ApiError, Caller};
use crate::channels;
use crate::pipeline::Services;
use crate::search::Scope;

const MAX_QUERY_CHARS: usize = 256;

pub fn router() -> Router<Services> {
    Router::new().route("/search", get(search))
}

#[derive(Debug, Deserialize)]
pub(super) struct SearchParams {
    q: Option<String>,
    limit: Option<usize>,
}

/// Search every transcript and title; hits grouped by update, with timed snippets.
#[utoipa::path(get, path = "/api/search", tag = "search",
    params(
        ("q" = String, Query, description = "words, `\"phrases\"`, `prefix*`; typos tolerated"),
        ("limit" = Option<usize>, Query, description = "updates to return, 1–50, default 20"),
    ),
    responses(
        (status = 200, content_type = "application/json",
         description = "`query`, `hits` [{`update_id`, `title`, `title_snippet`, `score`, `matches` [{`start_ms`, `end_ms`, `snippet`}]}]"),
        (status = 400, description = "`bad_query`, `too_many_words` (over 10 different words or phrases)", body = ErrorBody),
        (status = 503, description = "`search_busy`, with `Retry-After`", body = ErrorBody),
    ))]
pub(super) async fn search(
    State(s): State<Services>,
    caller: Caller,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request("bad_query", e.body_text()))?;
    let q = params.q.unwrap_or_default();
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_request(
            "bad_query",
            format!("the query is longer than {MAX_QUERY_CHARS} characters"),
        ));
    }
    let search = s.search.as_ref().ok_or_else(|| ApiError::internal("this process has no search index"))?;
    // Only the channels this person sees, as part of the query itself.
    let scope = match channels::searchable_channels(&s.db, &caller.user).await? {
        None => Scope::Everything,
        Some(ids) => Scope::Channels(ids),
    };
    let hits = search.search(&q, params.limit.unwrap_or(20).clamp(1, 50), scope).await?;
    Ok(Json(json!({ "query": q, "hits": hits })))
}
