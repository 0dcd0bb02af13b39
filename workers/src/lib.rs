//! # bulletin-workers: the media work, as plain functions over files
//!
//! Nothing here knows about databases, HTTP or queues: every function takes
//! paths (or samples) and returns values, so each step can be tested alone and
//! run inside a sandboxed child process by the service.
//!
//! ## Layout
//! - [`probe`]: open an untrusted upload with local-only demuxers, measure its
//!   real duration from packet timestamps, check it holds decodable video.
//! - [`transcode`]: produce the playable H.264/AAC MP4 (stream copy when the
//!   input already fits); [`poster`] and [`storyboard`] make still images.
//! - [`audio`]: decode any audio track to 16 kHz mono f32 for whisper.
//! - [`transcribe`]: whisper.cpp (through whisper-rs) over those samples.
//! - [`model`]: convert the CTranslate2 Whisper model to whisper.cpp's ggml format.
//! - [`error`]: the error type shared by the FFmpeg-based steps.

pub mod audio;
pub mod error;
pub mod model;
pub mod poster;
pub mod probe;
pub mod storyboard;
pub mod transcode;
pub mod transcribe;

mod ffmpeg_init;
/// Size and orientation arithmetic (no FFmpeg types).
mod geometry;
/// JPEG encoding of still frames.
mod jpeg;
/// Opening untrusted inputs with whitelists; picking streams.
mod media_input;
/// Scaling, pixel-format conversion, rotation and blitting of frames.
mod picture;
/// swresample wrapper that avoids the known pitfalls.
mod resample;
/// Stream durations measured from packet timestamps.
mod span;
/// Temp-name-then-rename output files.
mod staged_file;
/// Decoded video frames with their times, for the still-image steps.
mod video_reader;
/// Speech onset from frame energy, to correct segment starts.
mod voice;

pub use error::MediaError;
pub use ffmpeg_init::init_ffmpeg;
