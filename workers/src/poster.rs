//! A poster JPEG: one representative frame, scaled down.
use std::path::Path;

use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;

use crate::geometry;
use crate::jpeg;
use crate::picture::Shaper;
use crate::video_reader::VideoReader;
use crate::MediaError;

/// Videos shorter than this get their first frame: there is nothing better to pick.
const SHORT_VIDEO_MS: u64 = 1_000;
/// Keep the poster this far before the end: the last frames are often a fade or a
/// hand reaching for the stop button, and the very end may hold no frame at all.
const END_MARGIN_MS: u64 = 500;

/// Write a JPEG of the first frame at or after `at_ms` (clamped to the video), at most `max_width` wide.
pub fn poster(
    input: &Path,
    output_jpg: &Path,
    at_ms: u64,
    max_width: u32,
) -> Result<(), MediaError> {
    crate::init_ffmpeg();
    if max_width < 2 {
        return Err(MediaError::Encode(format!(
            "poster width {max_width} is too small"
        )));
    }
    let mut reader = VideoReader::open(input)?;
    let target_ms = poster_time(at_ms, reader.header_duration_ms());
    if target_ms > 0 {
        reader.seek_ms(target_ms);
    }

    // The latest frame so far stands in if the file ends before the target.
    let mut chosen = None;
    while let Some((frame, ms)) = reader.next_frame()? {
        let reached = ms >= i64::try_from(target_ms).unwrap_or(i64::MAX);
        chosen = Some(frame);
        if reached {
            break;
        }
    }
    let frame =
        chosen.ok_or_else(|| MediaError::Decode("no video frame could be decoded".into()))?;

    let (display_w, display_h) = reader.display_size(&frame);
    let (width, height) = geometry::fit_width(display_w, display_h, max_width);
    let mut shaper = Shaper::new(
        Pixel::YUVJ420P,
        width,
        height,
        reader.rotation(),
        scaling::Flags::AREA,
    );
    let picture = shaper
        .shape(&frame)
        .map_err(|e| MediaError::Encode(format!("scaling: {e}")))?;
    jpeg::write_jpeg(&picture, output_jpg)
}

/// When to take the poster: `at_ms` kept inside the video when its length is known.
fn poster_time(at_ms: u64, duration_ms: Option<u64>) -> u64 {
    match duration_ms {
        Some(duration) if duration < SHORT_VIDEO_MS => 0,
        Some(duration) => at_ms.min(duration - END_MARGIN_MS.min(duration / 2)),
        None => at_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::poster_time;

    #[test]
    fn poster_time_is_clamped_into_the_video() {
        assert_eq!(poster_time(1_000, Some(10_000)), 1_000);
        assert_eq!(poster_time(60_000, Some(10_000)), 9_500);
        assert_eq!(poster_time(5_000, Some(700)), 0);
        assert_eq!(poster_time(5_000, None), 5_000);
    }
}
