//! Receiving an upload: stream the multipart body to a temporary file (never
//! whole in memory), enforce the byte cap and an idle timeout, and make sure a
//! rejected upload leaves nothing behind.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::receive::{append_body, idle_timeout, too_large, EarlyCheck, ReceiveLimits};
use super::ApiError;
use axum::extract::multipart::{Field, Multipart, MultipartError};
use axum::http::StatusCode;

/// Longest title field accepted on the wire (the domain rule is stricter).
const MAX_TITLE_FIELD_BYTES: usize = 4096;

/// A file being received; deleted when dropped unless [`TempUpload::keep`] was called.
pub struct TempUpload {
    path: PathBuf,
    pub bytes: u64,
    keep: bool,
}

impl TempUpload {
    /// A new, empty upload file under our own random name: the client's filename is
    /// never used for anything on disk.
    fn create(dir: &Path) -> Result<TempUpload, ApiError> {
        let name = format!("upload-{:016x}{:016x}", rand::random::<u64>(), rand::random::<u64>());
        Ok(TempUpload { path: dir.join(name), bytes: 0, keep: false })
    }

    /// Take ownership of a finished file received some other way (a resumable upload).
    pub fn adopt(path: PathBuf, bytes: u64) -> TempUpload {
        TempUpload { path, bytes, keep: false }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Hand the file over to its new owner (the store moves it away).
    pub fn keep(mut self) -> PathBuf {
        self.keep = true;
        std::mem::take(&mut self.path)
    }
}

impl Drop for TempUpload {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

pub struct UploadForm {
    pub title: Option<String>,
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
    let mut form = UploadForm { title: None, file: None };
    loop {
        let field = match tokio::time::timeout(limits.idle_timeout, multipart.next_field()).await {
            Err(_) => return Err(idle_timeout()),
            Ok(Err(e)) => return Err(malformed(e)),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(field))) => field,
        };
        match field.name() {
            Some("title") => form.title = Some(read_text(field, limits).await?),
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

async fn read_text(mut field: Field<'_>, limits: &UploadLimits) -> Result<String, ApiError> {
    let mut buf = Vec::new();
    while let Some(chunk) = next_chunk(&mut field, limits).await? {
        if buf.len() + chunk.len() > MAX_TITLE_FIELD_BYTES {
            return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_title", "the title is far too long"));
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf)
        .map_err(|_| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_title", "the title is not valid UTF-8"))
}

async fn receive_file(
    field: Field<'_>,
    tmp_dir: &Path,
    limits: &UploadLimits,
    early: &mut EarlyCheck,
) -> Result<TempUpload, ApiError> {
    tokio::fs::create_dir_all(tmp_dir).await.map_err(ApiError::internal)?;
    let mut upload = TempUpload::create(tmp_dir)?;
    let mut file = tokio::fs::File::create(&upload.path).await.map_err(ApiError::internal)?;
    let receive = ReceiveLimits { max_total: limits.max_bytes, idle_timeout: limits.idle_timeout };
    upload.bytes = append_body(&mut file, &upload.path, 0, field, &receive, early, &mut |_| {})
        .await
        .map_err(|stop| stop.error)?;
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
