//! Receiving an upload: stream the multipart body to a temporary file (never
//! whole in memory), enforce the byte cap and an idle timeout, and make sure a
//! rejected upload leaves nothing behind.

use std::path::Path;
use std::time::Duration;

use super::receive::{append_body, idle_timeout, too_large, EarlyCheck, ReceiveLimits};
use super::ApiError;
use crate::pipeline::ingest::TempUpload;
use axum::extract::multipart::{Field, Multipart, MultipartError};
use axum::http::StatusCode;

/// Longest text field (title, channel) accepted on the wire (the domain rules are stricter).
const MAX_TEXT_FIELD_BYTES: usize = 16 * 1024;

pub struct UploadForm {
    pub title: Option<String>,
    /// The channel to post in (a name or slug); `General` when absent.
    pub channel: Option<String>,
    pub description: Option<String>,
    pub file: Option<TempUpload>,
}

pub struct UploadLimits {
    pub max_bytes: u64,
    pub idle_timeout: Duration,
}

/// Read every field. Unknown fields are drained and ignored.
pub async fn read_form(
    mut multipart: Multipart,
    tmp_dir: &Path,
    limits: &UploadLimits,
    early: &mut EarlyCheck,
) -> Result<UploadForm, ApiError> {
    let mut form = UploadForm { title: None, channel: None, description: None, file: None };
    loop {
        let field = match tokio::time::timeout(limits.idle_timeout, multipart.next_field()).await {
            Err(_) => return Err(idle_timeout()),
            Ok(Err(e)) => return Err(malformed(e)),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(field))) => field,
        };
        match field.name() {
            Some("title") => form.title = Some(read_text(field, limits, "invalid_title", "title").await?),
            Some("channel") => form.channel = Some(read_text(field, limits, "invalid_channel", "channel").await?),
            Some("description") => {
                form.description = Some(read_text(field, limits, "invalid_description", "description").await?)
            }
            Some("file") if form.file.is_none() => form.file = Some(receive_file(field, tmp_dir, limits, early).await?),
            _ => drain(field, limits).await?,
        }
    }
    Ok(form)
}

async fn next_chunk(field: &mut Field<'_>, limits: &UploadLimits) -> Result<Option<bytes::Bytes>, ApiError> {
    match tokio::time::timeout(limits.idle_timeout, field.chunk()).await {
        Err(_) => Err(idle_timeout()),
        Ok(Err(e)) => Err(malformed(e)),
        Ok(Ok(chunk)) => Ok(chunk),
    }
}

/// A small text field; refusals carry `code` and name the field as `what`.
async fn read_text(
    mut field: Field<'_>,
    limits: &UploadLimits,
    code: &'static str,
    what: &str,
) -> Result<String, ApiError> {
    let mut buf = Vec::new();
    while let Some(chunk) = next_chunk(&mut field, limits).await? {
        if buf.len() + chunk.len() > MAX_TEXT_FIELD_BYTES {
            return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, format!("the {what} is far too long")));
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf)
        .map_err(|_| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, format!("the {what} is not valid UTF-8")))
}

async fn receive_file(
    field: Field<'_>,
    tmp_dir: &Path,
    limits: &UploadLimits,
    early: &mut EarlyCheck,
) -> Result<TempUpload, ApiError> {
    tokio::fs::create_dir_all(tmp_dir).await.map_err(ApiError::internal)?;
    let mut upload = TempUpload::new_in(tmp_dir);
    let mut file = tokio::fs::File::create(upload.path()).await.map_err(ApiError::internal)?;
    let receive = ReceiveLimits { max_total: limits.max_bytes, idle_timeout: limits.idle_timeout };
    let path = upload.path().to_path_buf();
    upload.bytes =
        append_body(&mut file, &path, 0, field, &receive, early, &mut |_| {}).await.map_err(|stop| stop.error)?;
    Ok(upload)
}

async fn drain(mut field: Field<'_>, limits: &UploadLimits) -> Result<(), ApiError> {
    let mut seen = 0u64;
    while let Some(chunk) = next_chunk(&mut field, limits).await? {
        seen += chunk.len() as u64;
        if seen > limits.max_bytes {
            return Err(too_large(limits.max_bytes));
        }
    }
    Ok(())
}

fn malformed(e: MultipartError) -> ApiError {
    ApiError::new(e.status(), "malformed_upload", format!("the multipart body could not be read: {}", e.body_text()))
}
