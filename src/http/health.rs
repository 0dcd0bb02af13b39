//! Liveness and readiness.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::pipeline::Services;

pub fn router() -> Router<Services> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

/// The process is up and serving: migrations ran before the listener opened.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "alive")))]
pub(super) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Every dependency answers: database, media store, whisper model.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, content_type = "application/json", description = "`database`, `storage`, `model`: each `ok`"),
        (status = 503, content_type = "application/json", description = "the same, the failing dependency `unavailable` (details in the log)"),
    ))]
pub(super) async fn readyz(State(services): State<Services>) -> (StatusCode, Json<Value>) {
    let database = services.db.ping().await.map_err(|e| e.to_string());
    let storage = services.store.check().await.map_err(|e| e.to_string());
    let model_path = services.config.whisper_model.clone();
    let model = tokio::task::spawn_blocking(move || bulletin_workers::model::read_ggml_header(&model_path))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map(|_| ()).map_err(|e| e.to_string()));
    let ready = database.is_ok() && storage.is_ok() && model.is_ok();
    // Anyone may ask, and the errors can name paths, buckets and hosts: those go to the log.
    let show = |dependency: &str, r: &Result<(), String>| match r {
        Ok(()) => json!("ok"),
        Err(error) => {
            tracing::warn!(dependency, %error, "not ready");
            json!("unavailable")
        }
    };
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (
        status,
        Json(json!({
            "status": if ready { "ready" } else { "not_ready" },
            "database": show("database", &database),
            "storage": show("storage", &storage),
            "model": show("model", &model),
        })),
    )
}
