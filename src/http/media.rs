//! Media bytes: the playable video (with HTTP Range), the original upload when
//! browsers play it as it is, poster and storyboard, streamed through the server
//! or, with S3 presigning, redirected to the store.

use std::ops::Range;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bulletin_workers::storyboard::Storyboard;

use super::error::ErrorBody;
use super::updates::visible_update;
use super::{header_value, ApiError, Caller};
use crate::domain::transcript::timestamp;
use crate::pipeline::Services;
use crate::storage::{output_key, MediaObject};

pub fn router() -> Router<Services> {
    Router::new()
        .route("/updates/{id}/video", get(video))
        .route("/updates/{id}/original", get(original))
        .route("/updates/{id}/poster.jpg", get(poster))
        .route("/updates/{id}/storyboard.jpg", get(storyboard_image))
        .route("/updates/{id}/storyboard.vtt", get(storyboard_vtt))
}

/// The playable H.264/AAC MP4, with `Range` support.
#[utoipa::path(get, path = "/api/updates/{id}/video", tag = "media",
    params(("id" = String, Path, description = "update id")),
    responses(
        (status = 200, content_type = "video/mp4", description = "the whole video"),
        (status = 206, content_type = "video/mp4", description = "the requested range"),
        (status = 404, description = "`not_found` (unknown, or not transcoded yet)", body = ErrorBody),
        (status = 416, description = "range not satisfiable"),
    ))]
pub(super) async fn video(
    State(s): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve_object(&s, &caller, &raw, MediaObject::Video, &headers).await
}

/// The upload as it was sent, for a file browsers play as it is (H.264/AAC MP4,
/// VP8/VP9 WebM): it plays from the moment it is accepted, while the MP4 is made.
#[utoipa::path(get, path = "/api/updates/{id}/original", tag = "media",
    params(("id" = String, Path, description = "update id")),
    responses(
        (status = 200, content_type = "video/mp4", description = "the whole file (`video/mp4` or `video/webm`)"),
        (status = 206, content_type = "video/mp4", description = "the requested range"),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`not_playable`: browsers do not play this upload as it is; use `video` once ready", body = ErrorBody),
        (status = 416, description = "range not satisfiable"),
    ))]
pub(super) async fn original(
    State(s): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve_object(&s, &caller, &raw, MediaObject::Source, &headers).await
}

/// A poster frame.
#[utoipa::path(get, path = "/api/updates/{id}/poster.jpg", tag = "media",
    params(("id" = String, Path, description = "update id")),
    responses((status = 200, content_type = "image/jpeg"), (status = 404, body = ErrorBody)))]
pub(super) async fn poster(
    State(s): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve_object(&s, &caller, &raw, MediaObject::Poster, &headers).await
}

/// The storyboard sprite: thumbnails for scrubbing.
#[utoipa::path(get, path = "/api/updates/{id}/storyboard.jpg", tag = "media",
    params(("id" = String, Path, description = "update id")),
    responses((status = 200, content_type = "image/jpeg"), (status = 404, body = ErrorBody)))]
pub(super) async fn storyboard_image(
    State(s): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve_object(&s, &caller, &raw, MediaObject::Storyboard, &headers).await
}

/// A WebVTT "thumbnails" track: each cue points into the sprite with `#xywh=`.
/// The WebVTT thumbnails track pointing into the sprite.
#[utoipa::path(get, path = "/api/updates/{id}/storyboard.vtt", tag = "media",
    params(("id" = String, Path, description = "update id")),
    responses((status = 200, content_type = "text/vtt"), (status = 404, body = ErrorBody)))]
pub(super) async fn storyboard_vtt(
    State(s): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let row = visible_update(&s, &caller, &raw).await?;
    let id = row.id.clone();
    let json = row.storyboard_json.ok_or_else(not_ready)?;
    let board: Storyboard = serde_json::from_str(&json).map_err(ApiError::internal)?;
    let mut vtt = String::from("WEBVTT\n\n");
    for tile in &board.tiles {
        vtt.push_str(&format!(
            "{} --> {}\n/api/updates/{id}/storyboard.jpg#xywh={},{},{},{}\n\n",
            timestamp(tile.start_ms as i64, '.'),
            timestamp(tile.end_ms as i64, '.'),
            tile.x,
            tile.y,
            tile.width,
            tile.height
        ));
    }
    Ok(([(header::CONTENT_TYPE, "text/vtt; charset=utf-8")], vtt).into_response())
}

fn not_playable() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "not_playable",
        "browsers do not play this upload as it is; its video plays once it is ready",
    )
}

/// The stored content type of an original, as a static header value (only the
/// types ingest records are served).
fn browser_type(stored: &str) -> Option<&'static str> {
    ["video/mp4", "video/webm"].into_iter().find(|known| *known == stored)
}

fn not_ready() -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "not_ready", "this update is still processing")
}

async fn serve_object(
    s: &Services,
    caller: &Caller,
    raw: &str,
    object: MediaObject,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    // Checked before any byte or presigned URL: what one may not see does not exist.
    let row = visible_update(s, caller, raw).await?;
    let content_type = match object {
        MediaObject::Source => row.original_type.as_deref().and_then(browser_type).ok_or_else(not_playable)?,
        _ => object.content_type(),
    };
    let key = output_key(&row.id, object, row.media_attempt);
    let info = match s.store.stat(&key).await {
        Ok(info) => info,
        Err(crate::storage::StorageError::NotFound(_)) => return Err(not_ready()),
        Err(e) => return Err(e.into()),
    };
    // Presigned mode: the browser fetches (and seeks in) the object from the
    // store directly; the short-lived URL must not outlive its signature in a cache.
    if let Some(url) = s.store.presigned_read(&key).await? {
        let mut response = StatusCode::TEMPORARY_REDIRECT.into_response();
        response.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&url).map_err(ApiError::internal)?);
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return Ok(response);
    }
    let etag = entity_tag(&info.version);
    if header_text(headers, header::IF_NONE_MATCH).is_some_and(|tags| none_match_hits(tags, &etag)) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        response.headers_mut().insert(header::ETAG, header_value(&etag));
        return Ok(response);
    }
    let total = info.len;
    // A range only applies to the file it was asked of: after a re-transcode the
    // client gets the whole new file instead of a splice of two.
    let same_file = header_text(headers, header::IF_RANGE).is_none_or(|tag| tag.trim() == etag);
    let requested = header_text(headers, header::RANGE).filter(|_| same_file);
    let range = match requested.map(|r| parse_range(r, total)) {
        None | Some(RangeRequest::Ignored) => None,
        Some(RangeRequest::Satisfiable(range)) => Some(range),
        Some(RangeRequest::Unsatisfiable) => {
            let mut response = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "bad_range",
                "the requested range is outside the file",
            )
            .into_response();
            response.headers_mut().insert(header::CONTENT_RANGE, header_value(&format!("bytes */{total}")));
            return Ok(response);
        }
    };
    let read = s.store.read(&key, range.clone()).await?;
    if read.version != info.version {
        // Rewritten between the two looks: these bytes may not match the tag or the
        // range computed above. Rare (a re-transcode finishing this instant); ask again.
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "changed",
            "the file changed while it was read; try again",
        )
        .retry_after(1));
    }
    let mut response = Response::new(Body::from_stream(read.body));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=300"));
    h.insert(header::ETAG, header_value(&etag));
    match range {
        Some(range) => {
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_RANGE,
                header_value(&format!("bytes {}-{}/{}", range.start, range.end - 1, read.total_len)),
            );
            h.insert(header::CONTENT_LENGTH, header_value(&(range.end - range.start).to_string()));
        }
        None => {
            response.headers_mut().insert(header::CONTENT_LENGTH, header_value(&read.total_len.to_string()));
        }
    }
    Ok(response)
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A strong entity tag for a stored version.
fn entity_tag(version: &str) -> String {
    format!("\"{version}\"")
}

/// `If-None-Match`: `*`, or a list of tags compared weakly (a `W/` prefix is ignored).
fn none_match_hits(tags: &str, etag: &str) -> bool {
    tags.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

#[derive(Debug, PartialEq)]
enum RangeRequest {
    Satisfiable(Range<u64>),
    Unsatisfiable,
    /// Malformed or multi-range: answer with the whole body, as RFC 9110 allows.
    Ignored,
}

/// Parse a single `bytes=` range against an object of `total` bytes.
fn parse_range(value: &str, total: u64) -> RangeRequest {
    let Some(spec) = value.trim().strip_prefix("bytes=") else { return RangeRequest::Ignored };
    if spec.contains(',') {
        return RangeRequest::Ignored;
    }
    let Some((start, end)) = spec.split_once('-') else { return RangeRequest::Ignored };
    let (start, end) = (start.trim(), end.trim());
    let range = if start.is_empty() {
        // Suffix: the last N bytes.
        match position(end) {
            Ok(0) => return RangeRequest::Unsatisfiable,
            Ok(n) => total.saturating_sub(n)..total,
            Err(_) => return RangeRequest::Ignored,
        }
    } else {
        let Ok(start) = position(start) else { return RangeRequest::Ignored };
        let end = if end.is_empty() {
            total
        } else {
            match position(end) {
                // The last position is inclusive; u64::MAX names the end of any object.
                Ok(e) if e >= start => e.saturating_add(1).min(total),
                _ => return RangeRequest::Ignored,
            }
        };
        start..end
    };
    if range.start >= total || range.is_empty() {
        RangeRequest::Unsatisfiable
    } else {
        RangeRequest::Satisfiable(range)
    }
}

/// A byte position: digits only (`u64::from_str` would also take a `+`).
fn position(text: &str) -> Result<u64, ()> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    text.parse().map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_edges_neither_overflow_nor_wrap() {
        let max = u64::MAX;
        assert_eq!(parse_range(&format!("bytes=0-{max}"), 1000), RangeRequest::Satisfiable(0..1000));
        assert_eq!(parse_range(&format!("bytes={max}-{max}"), 1000), RangeRequest::Unsatisfiable);
        assert_eq!(parse_range(&format!("bytes={max}-"), 1000), RangeRequest::Unsatisfiable);
        assert_eq!(parse_range(&format!("bytes=-{max}"), 1000), RangeRequest::Satisfiable(0..1000));
        assert_eq!(parse_range("bytes=0-18446744073709551616", 1000), RangeRequest::Ignored);
        assert_eq!(parse_range("bytes=+5-9", 1000), RangeRequest::Ignored);
        assert_eq!(parse_range("bytes=5-+9", 1000), RangeRequest::Ignored);
        assert_eq!(parse_range("bytes=999-999", 1000), RangeRequest::Satisfiable(999..1000));
        assert_eq!(parse_range("bytes=0-0", 0), RangeRequest::Unsatisfiable);
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let etag = entity_tag("1a.2b");
        assert_eq!(etag, "\"1a.2b\"");
        assert!(none_match_hits("\"1a.2b\"", &etag));
        assert!(none_match_hits("\"x\", W/\"1a.2b\"", &etag));
        assert!(none_match_hits("*", &etag));
        assert!(!none_match_hits("\"1a.2c\"", &etag));
        assert!(!none_match_hits("", &etag));
    }

    #[test]
    fn parses_ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), RangeRequest::Satisfiable(0..100));
        assert_eq!(parse_range("bytes=900-", 1000), RangeRequest::Satisfiable(900..1000));
        assert_eq!(parse_range("bytes=-100", 1000), RangeRequest::Satisfiable(900..1000));
        assert_eq!(parse_range("bytes=990-2000", 1000), RangeRequest::Satisfiable(990..1000));
        assert_eq!(parse_range("bytes=1000-", 1000), RangeRequest::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 1000), RangeRequest::Unsatisfiable);
        assert_eq!(parse_range("bytes=5-1", 1000), RangeRequest::Ignored);
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), RangeRequest::Ignored);
        assert_eq!(parse_range("items=0-1", 1000), RangeRequest::Ignored);
    }
}
