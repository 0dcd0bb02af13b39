//! Receiving an upload: stream the multipart body to a temporary file (never
//! whole in memory), enforce the byte cap and an idle timeout, and make sure a
//! rejected upload leaves nothing behind.

use std::path::Path;
use std::time::Duration;

use super::receive::{append_body, idle_timeout, EarlyCheck, ReceiveLimits};
use super::ApiError;
use crate::disk::DiskReserve;
use crate::pipeline::ingest::TempUpload;
use axum::extract::multipart::{Field, Multipart, MultipartError};
use axum::http::StatusCode;

/// Longest text field (title, channel) accepted on the wire (the domain rules are stricter).
const MAX_TEXT_FIELD_BYTES: usize = 16 * 1024;
/// Every field but the file, together (known ones and ignored ones).
const MAX_NON_FILE_BYTES: u64 = 64 * 1024;

pub struct UploadForm {
    pub title: Option<String>,
    /// The channel to post in (a name or slug); `General` when absent.
    pub channel: Option<String>,
    pub description: Option<String>,
    /// Whom to ask to acknowledge it: `everyone` and/or login names.
    pub acknowledge: Option<String>,
    /// A video reply: the update it answers, and the moment (ms) of it.
    pub reply_to: Option<String>,
    pub reply_at_ms: Option<String>,
    /// The spoken language (ISO 639-1), or `auto`.
    pub language: Option<String>,
    pub file: Option<TempUpload>,
}

pub struct UploadLimits {
    pub max_bytes: u64,
    pub idle_timeout: Duration,
    pub deadline: tokio::time::Instant,
    pub disk: DiskReserve,
}

/// Read every field. Unknown fields are drained and ignored.
pub async fn read_form(
    mut multipart: Multipart,
    tmp_dir: &Path,
    limits: &UploadLimits,
    early: &mut EarlyCheck,
) -> Result<UploadForm, ApiError> {
    let mut form = UploadForm {
        title: None,
        channel: None,
        description: None,
        acknowledge: None,
        reply_to: None,
        reply_at_ms: None,
        language: None,
        file: None,
    };
    // What the other fields may still take up: many small ones cost no more than one.
    let mut budget = MAX_NON_FILE_BYTES;
    loop {
        let field = match tokio::time::timeout(limits.idle_timeout, multipart.next_field()).await {
            Err(_) => return Err(idle_timeout()),
            Ok(Err(e)) => return Err(malformed(e)),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(field))) => field,
        };
        match field.name() {
            Some("title") => {
                form.title = Some(charged(read_text(field, limits, "invalid_title", "title").await?, &mut budget)?)
            }
            Some("channel") => {
                let text = read_text(field, limits, "invalid_channel", "channel").await?;
                form.channel = Some(charged(text, &mut budget)?)
            }
            Some("description") => {
                let text = read_text(field, limits, "invalid_description", "description").await?;
                form.description = Some(charged(text, &mut budget)?)
            }
            Some("acknowledge") => {
                let text = read_text(field, limits, "invalid_acknowledge", "acknowledge").await?;
                form.acknowledge = Some(charged(text, &mut budget)?)
            }
            Some("reply_to") => {
                let text = read_text(field, limits, "unknown_reply_to", "reply_to").await?;
                form.reply_to = Some(charged(text, &mut budget)?)
            }
            Some("reply_at_ms") => {
                let text = read_text(field, limits, "invalid_reply_at", "reply_at_ms").await?;
                form.reply_at_ms = Some(charged(text, &mut budget)?)
            }
            Some("language") => {
                let text = read_text(field, limits, "unknown_language", "language").await?;
                form.language = Some(charged(text, &mut budget)?)
            }
            Some("file") if form.file.is_none() => form.file = Some(receive_file(field, tmp_dir, limits, early).await?),
            // Ignored, but read (the file may come after it), and counted.
            _ => charge(drain(field, limits).await?, &mut budget)?,
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
    let receive = ReceiveLimits {
        max_total: limits.max_bytes,
        idle_timeout: limits.idle_timeout,
        deadline: limits.deadline,
        disk: limits.disk.clone(),
    };
    let path = upload.path().to_path_buf();
    upload.bytes =
        append_body(&mut file, &path, 0, field, &receive, early, &mut |_| {}).await.map_err(|stop| stop.error)?;
    Ok(upload)
}

/// Read an ignored field to its end; how many bytes it held. One over the
/// form's budget for other fields is already too many.
async fn drain(mut field: Field<'_>, limits: &UploadLimits) -> Result<usize, ApiError> {
    let mut seen = 0usize;
    while let Some(chunk) = next_chunk(&mut field, limits).await? {
        seen += chunk.len();
        if seen as u64 > MAX_NON_FILE_BYTES {
            return Err(form_too_large());
        }
    }
    Ok(seen)
}

fn charge(bytes: usize, budget: &mut u64) -> Result<(), ApiError> {
    *budget = budget.checked_sub(bytes as u64).ok_or_else(form_too_large)?;
    Ok(())
}

fn charged(text: String, budget: &mut u64) -> Result<String, ApiError> {
    charge(text.len(), budget).map(|()| text)
}

fn form_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "form_too_large",
        format!("the form's fields other than the file hold more than {} KiB", MAX_NON_FILE_BYTES / 1024),
    )
}

fn malformed(e: MultipartError) -> ApiError {
    ApiError::new(e.status(), "malformed_upload", format!("the multipart body could not be read: {}", e.body_text()))
}
