//! The error shared by the FFmpeg-based steps (transcode, poster, storyboard, audio).

/// Why a media step failed. The message is safe to show to the uploader: it
/// names the problem, never a path on the server.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("cannot open media: {0}")]
    Open(String),
    #[error("the file has no video stream")]
    NoVideo,
    #[error("cannot decode: {0}")]
    Decode(String),
    #[error("cannot encode: {0}")]
    Encode(String),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}
