//! The HTTP surface: one router per resource, merged here.

mod acknowledgements;
mod channels;
mod comments;
mod door;
mod error;
mod glossary;
mod health;
mod ingest;

mod invite;
mod languages;
mod me;
mod media;
mod metrics;
mod openapi;
mod peer;
mod people;
mod progress;
mod receive;
mod reply_to;
mod search;
pub mod server;
mod session;
mod setup;
mod transcripts;
mod tus;
mod updates;
mod upload;
mod views;
mod web;

use axum::http::{header, HeaderName, HeaderValue, Request, StatusCode};
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::pipeline::Services;
pub use door::{Caller, Credential};
pub use error::ApiError;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(services: Services) -> Router {
    let api = Router::new()
        .merge(updates::router())
        .merge(tus::router())
        .merge(openapi::router())
        .merge(media::router())
        .merge(transcripts::router())
        .merge(progress::router())
        .merge(acknowledgements::router())
        .merge(comments::router())
        .merge(search::router())
        .merge(glossary::router())
        .merge(languages::router())
        .merge(session::api_router())
        .merge(me::router())
        .merge(people::router())
        .merge(channels::router())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such API endpoint") });
    Router::new()
        .nest("/api", api)
        .merge(health::router())
        .merge(metrics::router())
        .merge(web::router())
        .merge(setup::router())
        .merge(invite::router())
        .route_layer(axum::middleware::from_fn_with_state(services.metrics.clone(), metrics::measure))
        .layer(axum::middleware::from_fn_with_state(services.clone(), web::allow_store_origin))
        // Outside the routes, so unrouted paths are behind the door too.
        .layer(axum::middleware::from_fn_with_state(services.clone(), door::guard))
        .with_state(services)
        // Every answer (media, captions, JSON, errors) is what its Content-Type says,
        // never what a browser might guess from bytes a person uploaded.
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("http", method = %request.method(), path = %request.uri().path(), request_id = %id)
                })
                // One access-log line per request (status, latency), tagged with its request id.
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// A header value from text we made ourselves; empty if it cannot be one.
fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}
