//! `GET /metrics` (Prometheus text format) and the middleware that times every
//! routed request by its route template (`/api/updates/{id}`, not the raw path,
//! so the label set stays small).

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::ApiError;
use crate::db::{jobs, search_feed};
use crate::metrics::{Metrics, Snapshot};
use crate::pipeline::Services;

pub fn router() -> Router<Services> {
    Router::new().route("/metrics", get(metrics))
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, content_type = "text/plain")))]
pub(super) async fn metrics(State(services): State<Services>) -> Result<Response, ApiError> {
    let (queue_depth, oldest) = jobs::queue_stats(&services.db).await?;
    let mut snapshot = Snapshot {
        queue_depth,
        queue_oldest_age: oldest.into_iter().map(|(kind, ms)| (kind, Duration::from_millis(ms as u64))).collect(),
        media: services.media.admission().stats(),
        ..Snapshot::default()
    };
    if let Some(search) = &services.search {
        let head = search_feed::head(&services.db).await?;
        snapshot.index_lag = Some((head - search.applied_seq()).max(0));
        snapshot.index_documents = Some(search.num_docs());
    }
    let body = services.metrics.render(&snapshot);
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response())
}

/// Time a routed request and record it under its route template.
pub async fn measure(
    State(metrics): State<Metrics>,
    route: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let response = next.run(request).await;
    if let Some(route) = route {
        metrics.observe_http(method, route.as_str(), response.status().as_u16(), started.elapsed());
    }
    response
}

/// The method as a label. Any token is a valid HTTP method, so a client could
/// grow the label set without end; only the ones Bulletin serves get their own.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
