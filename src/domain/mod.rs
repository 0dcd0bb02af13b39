//! Bulletin's vocabulary: ids, statuses, titles, jobs and transcript formats.
//! Pure types and functions: no database, HTTP or FFmpeg in here.

pub mod account;
pub mod channel;
pub mod comment;
pub mod description;
pub mod glossary;
pub mod id;
pub mod job;
pub mod language;
pub mod progress;
pub mod skim;
pub mod title;
pub mod transcript;
pub mod update;

pub use glossary::Glossary;
pub use id::UpdateId;
pub use job::{JobFailure, JobKind, JobState};
pub use title::Title;
pub use update::UpdateStatus;
