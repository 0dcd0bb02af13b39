//! Correcting a transcript line by hand: the stored transcript, its captions,
//! its word count and every search index follow.

use super::edits::may_edit;
use super::Services;
use crate::clock::now_ms;
use crate::db::accounts::UserRow;
use crate::db::{updates, DbError};
use crate::domain::transcript::{corrected_line, LineError, TranscriptSegment};
use crate::domain::UpdateId;

#[derive(Debug, thiserror::Error)]
pub enum CorrectionError {
    #[error("no such update or transcript line")]
    NotFound,
    #[error("only the update's author and admins correct its transcript")]
    NotAllowed,
    #[error(transparent)]
    Invalid(#[from] LineError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// `by` replaces the text of line `index` of update `id` with `raw` (trimmed);
/// the line keeps its timing. Returns the corrected line.
pub async fn correct_line(
    services: &Services,
    by: &UserRow,
    id: &UpdateId,
    index: i64,
    raw: &str,
) -> Result<TranscriptSegment, CorrectionError> {
    let update = updates::get(&services.db, id).await?.ok_or(CorrectionError::NotFound)?;
    if !may_edit(by, &update) {
        return Err(CorrectionError::NotAllowed);
    }
    if index < 0 {
        return Err(CorrectionError::NotFound);
    }
    let text = corrected_line(raw)?;
    let (segment, seq) = updates::edit_segment(&services.db, id, index, &text, by.id, now_ms())
        .await?
        .ok_or(CorrectionError::NotFound)?;
    services.wait_searchable(seq, id).await;
    Ok(segment)
}
