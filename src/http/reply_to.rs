//! Video replies: an upload that answers another update at a moment. It is an
//! update of its own (its own transcript, captions and search hits) in the
//! channel of the update it answers, and shows in that update's thread.

use axum::http::StatusCode;

use super::channels::channel_refusal;
use super::updates::visible_update;
use super::{ApiError, Caller};
use crate::channels;
use crate::db::channels::ChannelRow;
use crate::domain::channel::GENERAL;
use crate::domain::comment::parse_moment;
use crate::domain::UpdateId;
use crate::pipeline::Services;

/// What a reply answers, checked.
pub(super) struct ReplyTarget {
    pub update: UpdateId,
    pub at_ms: Option<u64>,
    /// Where the reply goes: the channel of the update it answers.
    pub channel: ChannelRow,
}

/// The update `reply_to` names (one the caller sees) and the moment `at_ms` of
/// it (a number of milliseconds within it), from a form field or upload metadata.
pub(super) async fn reply_target(
    s: &Services,
    caller: &Caller,
    reply_to: Option<&str>,
    at_ms: Option<&str>,
) -> Result<Option<ReplyTarget>, ApiError> {
    let Some(reply_to) = reply_to.map(str::trim).filter(|r| !r.is_empty()) else {
        if at_ms.is_some_and(|a| !a.trim().is_empty()) {
            return Err(refused("reply_at_without_reply_to", "`reply_at_ms` needs `reply_to`".into()));
        }
        return Ok(None);
    };
    // Hidden and missing answer alike.
    let unknown = || refused("unknown_reply_to", format!("there is no update {reply_to} to reply to"));
    let parent = visible_update(s, caller, reply_to).await.map_err(|_| unknown())?;
    let at_ms = match at_ms.map(str::trim).filter(|a| !a.is_empty()) {
        Some(raw) => {
            let ms: u64 = raw.parse().map_err(|_| {
                refused("invalid_reply_at", format!("`reply_at_ms` must be milliseconds into the video, not {raw:?}"))
            })?;
            let duration = u64::try_from(parent.duration_ms).unwrap_or(0);
            Some(parse_moment(ms, duration).map_err(|e| refused(e.code(), e.to_string()))?)
        }
        None => None,
    };
    let slug = parent.channel.as_ref().map_or(GENERAL, |c| c.slug.as_str());
    let channel = channels::channel_to_reply_in(&s.db, &caller.user, slug).await.map_err(channel_refusal)?;
    Ok(Some(ReplyTarget { update: parent.id, at_ms, channel }))
}

fn refused(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}
