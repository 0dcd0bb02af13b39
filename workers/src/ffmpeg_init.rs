use std::sync::Once;

static INIT: Once = Once::new();

/// Initialise FFmpeg once per process and silence its own logging: errors reach
/// callers as typed values, and FFmpeg's stderr chatter (every hostile upload makes
/// a demuxer complain) would drown our logs. Only fatal messages remain.
pub fn init_ffmpeg() {
    INIT.call_once(|| {
        // Registration cannot fail on FFmpeg >= 4; the Result is kept by the API only.
        let _ = ffmpeg_next::init();
        ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Fatal);
    });
}
