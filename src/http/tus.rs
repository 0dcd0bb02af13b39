//! `/api/uploads`: resumable uploads, tus 1.0.0 with the creation,
//! creation-with-upload, termination, expiration and checksum extensions.
//!
//! A finished upload goes through the same probe and acceptance as a multipart
//! post and becomes an update; its id is sent back in `Bulletin-Update-Id`
//! (on the last `PATCH`, and on every `HEAD` afterwards, so a client that lost
//! the last response still finds its update).

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::Engine;
use sha1::Digest;

use super::acknowledgements::{whom_to_ask, AskBody};
use super::channels::channel_refusal;
use super::error::ErrorBody;
use super::ingest::{self, NotPosted};
use super::receive::{append_body, disk_full, too_large, ReceiveLimits};
use super::reply_to::reply_target;
use super::updates::description_refusal;
use super::{header_value, ApiError, Caller};
use crate::channels::{self, ChannelError};
use crate::db::accounts;
use crate::domain::description::parse_description;
use crate::pipeline::ingest::{NewPost, TempUpload};
use crate::pipeline::Services;
use crate::resumable::{UploadKey, UploadLock, UploadRecord, UploadState};

const TUS_VERSION: &str = "1.0.0";
const TUS_EXTENSIONS: &str = "creation,creation-with-upload,termination,expiration,checksum";
const TUS_CHECKSUMS: &str = "sha1,sha256,md5";
const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";
const UPDATE_ID: HeaderName = HeaderName::from_static("bulletin-update-id");
/// Longest `Upload-Metadata` header accepted.
const MAX_METADATA_BYTES: usize = 8 * 1024;

pub fn router() -> Router<Services> {
    Router::new()
        .route("/uploads", post(create).options(options))
        .route("/uploads/{id}", axum::routing::head(head).patch(patch).delete(terminate).options(options))
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::map_response(|mut response: Response| async move {
            // Every response but OPTIONS' must say which protocol version it speaks.
            response.headers_mut().insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
            response
        }))
}

/// tus discovery: version, extensions, maximum size, checksum algorithms.
#[utoipa::path(options, path = "/api/uploads", tag = "resumable uploads",
    responses((status = 204, description = "`Tus-Version`, `Tus-Extension`, `Tus-Max-Size`, `Tus-Checksum-Algorithm`")))]
pub(super) async fn options(State(services): State<Services>) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    headers.insert("tus-extension", HeaderValue::from_static(TUS_EXTENSIONS));
    headers.insert("tus-checksum-algorithm", HeaderValue::from_static(TUS_CHECKSUMS));
    headers.insert("tus-max-size", HeaderValue::from(services.config.max_upload_bytes));
    (StatusCode::NO_CONTENT, headers).into_response()
}

/// tus creation (and creation-with-upload): `Upload-Length`, `Upload-Metadata` (`title`).
#[utoipa::path(post, path = "/api/uploads", tag = "resumable uploads",
    responses(
        (status = 201, description = "`Location` of the upload; `Upload-Expires`"),
        (status = 400, description = "`bad_length`, `bad_metadata`", body = ErrorBody),
        (status = 412, description = "`tus_version`", body = ErrorBody),
        (status = 413, description = "`too_large`", body = ErrorBody),
        (status = 422, description = "`invalid_title`, `unsupported_media`", body = ErrorBody),
        (status = 429, description = "`too_many_uploads` (unfinished uploads, yours or the server's)", body = ErrorBody),
        (status = 507, description = "`insufficient_storage`", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all)]
pub(super) async fn create(
    State(services): State<Services>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    require_tus(&headers)?;
    if headers.contains_key("upload-defer-length") {
        return Err(ApiError::bad_request("bad_length", "Upload-Defer-Length is not supported: send Upload-Length"));
    }
    let length = header_u64(&headers, "upload-length")
        .ok_or_else(|| ApiError::bad_request("bad_length", "Upload-Length must be the upload's size in bytes"))?;
    if length > services.config.max_upload_bytes {
        return Err(too_large(services.config.max_upload_bytes));
    }
    if length == 0 {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unsupported_media", "the file is empty"));
    }
    let raw_metadata = header_text(&headers, "upload-metadata")?;
    let metadata = parse_metadata(raw_metadata.as_deref().unwrap_or_default())?;
    let title = ingest::parse_title(&title_from(&metadata))?;
    // Refused before a byte is sent: an upload nobody may post gets no place to go.
    let field = |name: &str| metadata.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let description = parse_description(field("description").unwrap_or_default()).map_err(description_refusal)?;
    let reply = reply_target(&services, &caller, field("reply_to"), field("reply_at_ms")).await?;
    let channel = match &reply {
        Some(target) => target.channel.clone(),
        None => {
            channels::channel_to_post_in(&services.db, &caller.user, field("channel")).await.map_err(channel_refusal)?
        }
    };
    let ask = match field("acknowledge").and_then(AskBody::from_field) {
        Some(body) => whom_to_ask(&services, &body, Some((channel.id, &channel.name)), Some(caller.user.id)).await?,
        None => Vec::new(),
    };
    // Bounded: uploads nobody finishes hold disk for a day, so each person may
    // keep a few open, the server a few hundred, and all of them must fit.
    let config = &services.config;
    let open = services.uploads.open_uploads(caller.user.id).await.map_err(ApiError::internal)?;
    if open.mine >= config.max_open_uploads_per_person {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_uploads",
            format!("you have {} unfinished uploads; finish or cancel one before starting another", open.mine),
        ));
    }
    if open.total >= config.max_open_uploads {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_uploads",
            "the server holds as many unfinished uploads as it takes; try again later",
        )
        .retry_after(300));
    }
    if !config.disk_reserve().room_for(open.bytes_to_come.saturating_add(length)) {
        return Err(disk_full());
    }
    let record = UploadRecord {
        length,
        metadata: raw_metadata,
        title: title.as_str().to_string(),
        update_id: None,
        owner: Some(caller.user.id),
        channel: Some(channel.slug),
        description,
        ask,
        reply_to: reply.as_ref().map(|target| target.update.to_string()),
        reply_at_ms: reply.as_ref().and_then(|target| target.at_ms),
        language: ingest::declared_language(&services, field("language"))?,
    };
    let uploads = &services.uploads;
    let key = uploads.create(&record).await.map_err(ApiError::internal)?;
    tracing::info!(upload = %key, length, "resumable upload created");

    let mut response_headers = HeaderMap::new();
    response_headers.insert("location", header_value(&format!("/api/uploads/{key}")));
    if is_offset_stream(&headers) {
        // creation-with-upload: the first chunk rides along with the creation.
        let lock = uploads.lock(&key).ok_or_else(upload_busy)?;
        let state = uploads.state(&key).await.map_err(ApiError::internal)?.ok_or_else(gone)?;
        // No Upload-Offset here: the first chunk starts at 0.
        let (state, update) = receive(&services, &caller, &key, state, 0, &headers, body, lock).await?;
        add_progress_headers(&mut response_headers, &state, update.as_deref());
    } else {
        let state = uploads.state(&key).await.map_err(ApiError::internal)?.ok_or_else(gone)?;
        add_progress_headers(&mut response_headers, &state, None);
    }
    Ok((StatusCode::CREATED, response_headers).into_response())
}

/// Where the upload is: `Upload-Offset`, `Upload-Length`, and `Bulletin-Update-Id` once complete.
#[utoipa::path(head, path = "/api/uploads/{id}", tag = "resumable uploads",
    params(("id" = String, Path, description = "upload id")),
    responses((status = 200, description = "progress headers"), (status = 404, description = "unknown or expired")))]
pub(super) async fn head(
    State(services): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_tus(&headers)?;
    let key = UploadKey::parse(&raw).ok_or_else(gone)?;
    let state = owned_state(&services, &key, &caller).await?;
    let mut response_headers = HeaderMap::new();
    add_progress_headers(&mut response_headers, &state, state.record.update_id.as_deref());
    response_headers.insert("upload-length", HeaderValue::from(state.record.length));
    if let Some(metadata) = &state.record.metadata {
        response_headers.insert("upload-metadata", header_value(metadata));
    }
    response_headers.insert("cache-control", HeaderValue::from_static("no-store"));
    Ok((StatusCode::OK, response_headers).into_response())
}

/// Append bytes at `Upload-Offset` (`application/offset+octet-stream`, optional `Upload-Checksum`).
#[utoipa::path(patch, path = "/api/uploads/{id}", tag = "resumable uploads",
    params(("id" = String, Path, description = "upload id")),
    responses(
        (status = 204, description = "new `Upload-Offset`; `Bulletin-Update-Id` when this was the last byte"),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`offset_mismatch`", body = ErrorBody),
        (status = 415, description = "`bad_content_type`, `unsupported_media`", body = ErrorBody),
        (status = 422, description = "`too_long`, `too_large_dimensions`", body = ErrorBody),
        (status = 423, description = "`upload_busy`", body = ErrorBody),
        (status = 460, description = "`checksum_mismatch`", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(upload = %raw))]
pub(super) async fn patch(
    State(services): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    require_tus(&headers)?;
    let key = UploadKey::parse(&raw).ok_or_else(gone)?;
    if !is_offset_stream(&headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "bad_content_type",
            format!("a PATCH body must be sent as {OFFSET_OCTET_STREAM}"),
        ));
    }
    let offset = header_u64(&headers, "upload-offset")
        .ok_or_else(|| ApiError::bad_request("bad_offset", "Upload-Offset must be a byte position"))?;
    // Someone else's upload is not found, even while its owner writes to it.
    owned_state(&services, &key, &caller).await?;
    let lock = services.uploads.lock(&key).ok_or_else(upload_busy)?;
    let state = owned_state(&services, &key, &caller).await?;
    let (state, update) = receive(&services, &caller, &key, state, offset, &headers, body, lock).await?;
    let mut response_headers = HeaderMap::new();
    add_progress_headers(&mut response_headers, &state, update.as_deref());
    Ok((StatusCode::NO_CONTENT, response_headers).into_response())
}

/// tus termination: delete a partial upload.
#[utoipa::path(delete, path = "/api/uploads/{id}", tag = "resumable uploads",
    params(("id" = String, Path, description = "upload id")),
    responses((status = 204, description = "deleted"), (status = 404, body = ErrorBody), (status = 423, body = ErrorBody)))]
pub(super) async fn terminate(
    State(services): State<Services>,
    caller: Caller,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    require_tus(&headers)?;
    let key = UploadKey::parse(&raw).ok_or_else(gone)?;
    owned_state(&services, &key, &caller).await?;
    let _lock = services.uploads.lock(&key).ok_or_else(upload_busy)?;
    owned_state(&services, &key, &caller).await?;
    services.uploads.remove(&key).await.map_err(ApiError::internal)?;
    tracing::info!(upload = %key, "resumable upload terminated");
    Ok(StatusCode::NO_CONTENT)
}

/// Append one request body at the client's `offset`, then accept the upload as an
/// update if that was its last byte (or, with an empty body at the end, try that
/// again after a transient failure). `lock` is the upload's, held until done.
#[allow(clippy::too_many_arguments)]
async fn receive(
    services: &Services,
    caller: &Caller,
    key: &UploadKey,
    mut state: UploadState,
    offset: u64,
    headers: &HeaderMap,
    body: Body,
    lock: UploadLock,
) -> Result<(UploadState, Option<String>), ApiError> {
    let mut checksum = Checksum::from_headers(headers)?;
    if offset != state.offset {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "offset_mismatch",
            format!("the upload is at byte {}, not {offset}: resume from there", state.offset),
        ));
    }
    if let Some(update) = state.record.update_id.clone() {
        // Complete already: a repeated last request is answered, not re-applied.
        return Ok((state, Some(update)));
    }

    let uploads = &services.uploads;
    let path = uploads.data_path(key);
    let mut file = uploads.open_for_append(key).await.map_err(ApiError::internal)?;
    let limits = ReceiveLimits {
        max_total: state.record.length,
        idle_timeout: std::time::Duration::from_secs(services.config.upload_idle_timeout_secs),
        deadline: tokio::time::Instant::now() + std::time::Duration::from_secs(services.config.upload_deadline_secs),
        disk: services.config.disk_reserve(),
    };
    let mut early = ingest::early_check(services, offset);
    let mut hash = |chunk: &[u8]| {
        if let Some(checksum) = checksum.as_mut() {
            checksum.update(chunk);
        }
    };
    let received = append_body(&mut file, &path, offset, body.into_data_stream(), &limits, &mut early, &mut hash).await;
    let received = match received {
        Ok(received) => received,
        Err(stop) if stop.refused => {
            // The media itself is refused: no later byte can change that.
            uploads.remove(key).await.map_err(ApiError::internal)?;
            return Err(stop.error);
        }
        Err(stop) => {
            // Bytes that arrived intact stay, so the client resumes after them; a chunk
            // that was to be checksummed is kept whole or not at all.
            let keep = if checksum.is_some() { offset } else { stop.received };
            uploads.truncate(key, keep).await.map_err(ApiError::internal)?;
            return Err(stop.error);
        }
    };
    if let Some(checksum) = checksum {
        if !checksum.matches() {
            uploads.truncate(key, offset).await.map_err(ApiError::internal)?;
            return Err(ApiError::new(
                StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST),
                "checksum_mismatch",
                "the chunk does not match its Upload-Checksum: it was discarded, send it again",
            ));
        }
    }
    file.sync_data().await.map_err(ApiError::internal)?;
    state.offset = received;
    if received < state.record.length {
        state.expires_at = std::time::SystemTime::now() + uploads.expiry();
        return Ok((state, None));
    }

    // From here on the client may go away (a probe takes a while): finishing runs
    // on its own, holding the lock, so a dropped connection cannot stop it half way.
    let finishing = tokio::spawn(finish(services.clone(), caller.clone(), key.clone(), state, lock));
    finishing.await.map_err(ApiError::internal)?
}

/// Turn a complete upload into an update. A refusal of the media (or of the
/// post) ends the upload; a transient failure keeps every byte, so the same
/// final `PATCH` completes it later.
async fn finish(
    services: Services,
    caller: Caller,
    key: UploadKey,
    mut state: UploadState,
    _lock: UploadLock,
) -> Result<(UploadState, Option<String>), ApiError> {
    let uploads = &services.uploads;
    let title = ingest::parse_title(&state.record.title)?;
    // The channel may have been archived, or the poster taken off its list,
    // and the update a reply answers deleted, meanwhile.
    let reply_at = state.record.reply_at_ms.map(|ms| ms.to_string());
    let reply = match reply_target(&services, &caller, state.record.reply_to.as_deref(), reply_at.as_deref()).await {
        Ok(reply) => reply,
        Err(refusal) if refusal.status.is_client_error() => {
            uploads.remove(&key).await.map_err(ApiError::internal)?;
            return Err(refusal);
        }
        Err(error) => return Err(error),
    };
    let channel = match &reply {
        Some(target) => Ok(target.channel.clone()),
        None => channels::channel_to_post_in(&services.db, &caller.user, state.record.channel.as_deref()).await,
    };
    let channel = match channel {
        Ok(channel) => channel,
        Err(ChannelError::Db(e)) => return Err(ApiError::internal(e)),
        Err(refusal) => {
            // No later request can change that: the bytes have nowhere to go.
            uploads.remove(&key).await.map_err(ApiError::internal)?;
            return Err(channel_refusal(refusal));
        }
    };
    // Only those who still see the channel: someone may have left it meanwhile.
    let mut ask = Vec::with_capacity(state.record.ask.len());
    for &id in &state.record.ask {
        let person = accounts::user_by_id(&services.db, id).await.map_err(ApiError::internal)?;
        if let Some(person) = person.filter(|p| !p.disabled) {
            if channels::may_see_channel(&services.db, &person, Some(channel.id)).await.map_err(ApiError::internal)? {
                ask.push(id);
            }
        }
    }
    let upload = TempUpload::adopt(uploads.data_path(&key), state.offset);
    let post = NewPost {
        author: caller.user.id,
        channel_id: channel.id,
        title,
        description: state.record.description.clone(),
        ask,
        reply: reply.map(|target| (target.update, target.at_ms)),
        language: state.record.language.clone(),
    };
    match ingest::accept_id(&services, &post, upload).await {
        Ok(id) => {
            let id = id.to_string();
            state.record.update_id = Some(id.clone());
            uploads.mark_complete(&key, &state.record).await.map_err(ApiError::internal)?;
            state.expires_at = std::time::SystemTime::now() + uploads.expiry();
            tracing::info!(upload = %key, update = %id, "resumable upload complete");
            Ok((state, Some(id)))
        }
        Err(NotPosted { error, upload: Some(upload) }) => {
            // Transient: the bytes stay where they are, whole, for the next try.
            upload.keep();
            tracing::warn!(upload = %key, code = error.code, "finishing an upload failed; its bytes are kept");
            Err(error)
        }
        Err(NotPosted { error, upload: None }) => {
            uploads.remove(&key).await.map_err(ApiError::internal)?;
            Err(error)
        }
    }
}

fn add_progress_headers(headers: &mut HeaderMap, state: &UploadState, update: Option<&str>) {
    headers.insert("upload-offset", HeaderValue::from(state.offset));
    headers.insert("upload-expires", header_value(&httpdate::fmt_http_date(state.expires_at)));
    if let Some(update) = update {
        headers.insert(UPDATE_ID, header_value(update));
    }
}

/// The checksum extension: a digest of one request's body, checked before it counts.
enum Checksum {
    Sha1(sha1::Sha1, Vec<u8>),
    Sha256(sha2::Sha256, Vec<u8>),
    Md5(md5::Md5, Vec<u8>),
}

impl Checksum {
    fn from_headers(headers: &HeaderMap) -> Result<Option<Checksum>, ApiError> {
        let Some(raw) = header_text(headers, "upload-checksum")? else { return Ok(None) };
        let bad = |message: &str| ApiError::bad_request("bad_checksum", message.to_string());
        let (algorithm, digest) =
            raw.split_once(' ').ok_or_else(|| bad("Upload-Checksum must be `ALGORITHM BASE64DIGEST`"))?;
        let expected = base64::engine::general_purpose::STANDARD
            .decode(digest.trim())
            .map_err(|_| bad("the Upload-Checksum digest is not base64"))?;
        Ok(Some(match algorithm {
            "sha1" => Checksum::Sha1(sha1::Sha1::new(), expected),
            "sha256" => Checksum::Sha256(sha2::Sha256::new(), expected),
            "md5" => Checksum::Md5(md5::Md5::new(), expected),
            _ => return Err(bad(&format!("unsupported checksum algorithm; use one of {TUS_CHECKSUMS}"))),
        }))
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Checksum::Sha1(hasher, _) => hasher.update(bytes),
            Checksum::Sha256(hasher, _) => hasher.update(bytes),
            Checksum::Md5(hasher, _) => hasher.update(bytes),
        }
    }

    fn matches(self) -> bool {
        match self {
            Checksum::Sha1(hasher, expected) => hasher.finalize().as_slice() == expected,
            Checksum::Sha256(hasher, expected) => hasher.finalize().as_slice() == expected,
            Checksum::Md5(hasher, expected) => hasher.finalize().as_slice() == expected,
        }
    }
}

/// `Upload-Metadata`: comma-separated `key base64value` pairs (the value may be absent).
fn parse_metadata(raw: &str) -> Result<Vec<(String, String)>, ApiError> {
    let bad = || ApiError::bad_request("bad_metadata", "Upload-Metadata must be `key base64value` pairs");
    if raw.len() > MAX_METADATA_BYTES {
        return Err(bad());
    }
    let mut pairs = Vec::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
        let decoded = base64::engine::general_purpose::STANDARD.decode(value.trim()).map_err(|_| bad())?;
        pairs.push((key.to_string(), String::from_utf8(decoded).map_err(|_| bad())?));
    }
    Ok(pairs)
}

/// The update's title: `title`, else the file name without its extension (what
/// generic tus clients such as Uppy send). Validated like any title.
fn title_from(metadata: &[(String, String)]) -> String {
    let get = |name: &str| metadata.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if let Some(title) = get("title") {
        return title.to_string();
    }
    let file_name = get("filename").or_else(|| get("name")).unwrap_or_default();
    // Only the last path component, and never as a path: it is display text.
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or_default();
    match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_string(),
        _ => base.to_string(),
    }
}

fn require_tus(headers: &HeaderMap) -> Result<(), ApiError> {
    if headers.get("tus-resumable").and_then(|v| v.to_str().ok()) == Some(TUS_VERSION) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::PRECONDITION_FAILED,
        "tus_version",
        format!("send `Tus-Resumable: {TUS_VERSION}`: this server speaks tus {TUS_VERSION}"),
    ))
}

fn is_offset_stream(headers: &HeaderMap) -> bool {
    headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| v.trim() == OFFSET_OCTET_STREAM)
}

fn header_text(headers: &HeaderMap, name: &str) -> Result<Option<String>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map(|v| Some(v.to_string()))
            .map_err(|_| ApiError::bad_request("bad_header", format!("the {name} header is not plain text"))),
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// The upload's state, if it exists and `caller` created it; 404 otherwise.
async fn owned_state(services: &Services, key: &UploadKey, caller: &Caller) -> Result<UploadState, ApiError> {
    let state = services.uploads.state(key).await.map_err(ApiError::internal)?.ok_or_else(gone)?;
    if state.record.owner != Some(caller.user.id) {
        return Err(gone());
    }
    Ok(state)
}

fn gone() -> ApiError {
    ApiError::not_found("upload")
}

fn upload_busy() -> ApiError {
    ApiError::new(StatusCode::LOCKED, "upload_busy", "another request is writing to this upload; retry shortly")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_and_titles() {
        let raw = "filename Li4vLi4vd2Vla2x5Lm1wNA==,is_confidential";
        let pairs = parse_metadata(raw).unwrap();
        assert_eq!(pairs[0], ("filename".into(), "../../weekly.mp4".into()));
        assert_eq!(pairs[1], ("is_confidential".into(), String::new()));
        assert_eq!(title_from(&pairs), "weekly");
        assert_eq!(title_from(&parse_metadata("title VGVhbQ==,filename YS5tcDQ=").unwrap()), "Team");
        assert!(parse_metadata("title %%%").is_err());
    }
}
