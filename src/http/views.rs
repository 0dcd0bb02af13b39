//! JSON shapes of the API, built from repository rows.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::clock::rfc3339;
use crate::db::progress::Standing;
use crate::db::updates::UpdateRow;
use crate::domain::job::parse_update_error;
use crate::domain::transcript::WORDS_PER_MINUTE;
use crate::domain::{JobFailure, JobKind, JobState, UpdateStatus};

/// An update and the state of its processing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UpdateView {
    pub id: String,
    pub title: String,
    /// Plain text beside the video; empty when there is none.
    pub description: String,
    /// `processing`, `ready` or `failed`.
    #[schema(value_type = String)]
    pub status: UpdateStatus,
    /// Why processing failed (`status` `failed`): a sentence to show.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The same as a stable code: `media_unreadable`, `media_crashed`, `media_timed_out`,
    /// `media_unavailable`, `storage_unavailable`, `disk_full`, `database_unavailable`,
    /// `index_unavailable`, `worker_lost` or `internal`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
    pub duration_ms: i64,
    pub width: i64,
    pub height: i64,
    pub has_audio: bool,
    pub size_bytes: i64,
    pub language: Option<String>,
    pub word_count: i64,
    /// Minutes to read the transcript instead of watching.
    pub reading_minutes: i64,
    pub created_at: String,
    pub ready_at: Option<String>,
    /// Who posted it (absent for updates posted before accounts existed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<AuthorView>,
    /// Where it was posted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelRefView>,
    /// Where a browser can play it now: `video` (the transcoded MP4, `links.video`),
    /// `original` (the upload as sent, `links.original`, while the MP4 is being made:
    /// browsers play that file as it is), or absent (not yet, or failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub playable: Option<&'static str>,
    /// `transcode`, `transcribe`, `index`: state and progress of each.
    #[schema(value_type = BTreeMap<String, StageView>)]
    pub stages: BTreeMap<&'static str, StageView>,
    pub links: Links,
    /// Comments on it (deleted ones not counted).
    pub comment_count: i64,
    /// The glossary version its transcript was made with (absent before it has one).
    pub glossary_version: Option<i64>,
    /// The glossary terms whisper was given for its transcript, in order: all of
    /// them, or as many whole terms as fit its prompt window (about 224 tokens).
    pub glossary_terms_used: Vec<String>,
    /// The update this video reply answers, if the caller sees it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<ReplyRef>,
    /// Where the caller stands with it (absent where no one asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub you: Option<YouView>,
}

/// What a video reply answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReplyRef {
    pub id: String,
    pub title: String,
    /// The moment it answers; absent: the whole update.
    pub at_ms: Option<i64>,
}

/// The caller and one update: what the feed marks as new or awaiting acknowledgement.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct YouView {
    /// They posted it.
    pub author: bool,
    /// They reported watching or reading some of it.
    pub started: bool,
    /// It counts as seen (watched or read, acknowledged, or marked as seen).
    pub seen: bool,
    /// The author asked them to acknowledge it.
    pub asked_to_acknowledge: bool,
    pub acknowledged: bool,
}

impl YouView {
    pub fn new(author: bool, standing: Standing) -> YouView {
        YouView {
            author,
            started: standing.started,
            seen: standing.seen,
            asked_to_acknowledge: standing.request.is_some(),
            acknowledged: matches!(standing.request, Some(Some(_))),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthorView {
    pub login: String,
    pub display_name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChannelRefView {
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StageView {
    /// `pending` (not enqueued yet), `queued`, `running`, `done` or `failed`.
    #[schema(value_type = String)]
    pub state: &'static str,
    pub progress: i64,
    pub attempts: i64,
    /// Why its last attempt failed, as a sentence and as a code (see `UpdateView`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Links {
    pub watch: String,
    pub video: String,
    /// The upload as sent, for files browsers play as they are (see `playable`).
    pub original: String,
    pub poster: String,
    pub storyboard: String,
    pub transcript: String,
    pub vtt: String,
    pub srt: String,
}

impl UpdateView {
    pub fn build(row: UpdateRow) -> UpdateView {
        let id = row.id.to_string();
        let mut views = BTreeMap::new();
        for kind in JobKind::ALL {
            let view = match row.stages.iter().find(|s| s.kind == kind) {
                Some(s) => {
                    let failure = s.last_error.as_deref().map(JobFailure::parse);
                    StageView {
                        state: s.state.as_str(),
                        progress: s.progress,
                        attempts: s.attempt,
                        error: failure.map(|f| capitalized(f.message())),
                        error_code: failure.map(JobFailure::code),
                    }
                }
                None => StageView { state: "pending", progress: 0, attempts: 0, error: None, error_code: None },
            };
            views.insert(kind.as_str(), view);
        }
        let api = format!("/api/updates/{id}");
        let failure = row.error.as_deref().map(parse_update_error);
        let transcoded = row.stages.iter().any(|s| s.kind == JobKind::Transcode && s.state == JobState::Done);
        let playable = match row.status {
            UpdateStatus::Failed => None,
            UpdateStatus::Ready => Some("video"),
            UpdateStatus::Processing if transcoded => Some("video"),
            _ => row.original_type.is_some().then_some("original"),
        };
        UpdateView {
            links: Links {
                watch: format!("/updates/{id}"),
                video: format!("{api}/video"),
                original: format!("{api}/original"),
                poster: format!("{api}/poster.jpg"),
                storyboard: format!("{api}/storyboard.vtt"),
                transcript: format!("{api}/transcript"),
                vtt: format!("{api}/transcript.vtt"),
                srt: format!("{api}/transcript.srt"),
            },
            id,
            title: row.title,
            description: row.description,
            status: row.status,
            error: failure.map(|(stage, failure)| match stage {
                Some(stage) => format!("{} failed: {}.", stage_name(stage), failure.message()),
                None => capitalized(failure.message()) + ".",
            }),
            error_code: failure.map(|(_, failure)| failure.code()),
            duration_ms: row.duration_ms,
            width: row.width,
            height: row.height,
            has_audio: row.has_audio,
            size_bytes: row.source_bytes,
            language: row.language,
            word_count: row.word_count,
            reading_minutes: (row.word_count + WORDS_PER_MINUTE - 1) / WORDS_PER_MINUTE,
            created_at: rfc3339(row.created_at),
            ready_at: row.ready_at.map(rfc3339),
            author: row.author.map(|a| AuthorView { login: a.login, display_name: a.display_name }),
            channel: row.channel.map(|c| ChannelRefView { slug: c.slug, name: c.name }),
            playable,
            stages: views,
            comment_count: 0,
            glossary_version: row.glossary_version,
            glossary_terms_used: row.prompt_terms,
            reply_to: None,
            you: None,
        }
    }
}

fn stage_name(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Transcode => "Transcoding",
        JobKind::Transcribe => "Transcription",
        JobKind::Index => "Indexing",
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A page of updates, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UpdatePage {
    pub updates: Vec<UpdateView>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next: Option<String>,
}
