//! Storyboard: a sprite sheet of thumbnails at a fixed interval, for scrubbing previews.
//!
//! The video is decoded once, front to back, instead of seeking per tile: for inputs of
//! a few minutes a sequential pass (skipping B-frames) is cheaper than ~90 seeks that
//! each decode from the previous keyframe.
use std::path::Path;

use ffmpeg_next::format::Pixel;
use ffmpeg_next::frame;
use ffmpeg_next::software::scaling;
use serde::{Deserialize, Serialize};

use crate::geometry;
use crate::jpeg;
use crate::picture::{self, Shaper};
use crate::video_reader::VideoReader;
use crate::MediaError;

/// More tiles than this means the options are wrong for our ≤ 3 min inputs (3 min at
/// 2 s is 90); it also keeps the sprite far below JPEG's 65535-pixel side limit.
const MAX_TILES: usize = 1_000;
const MAX_TILE_WIDTH: u32 = 1_280;
/// Tiles of extremely tall videos are squashed to at most this many widths high, so a
/// 64×16384 upload cannot turn the sprite into a gigapixel allocation.
const MAX_TILE_ASPECT: u32 = 4;
/// JPEG cannot describe a side longer than this.
const MAX_SHEET_SIDE: u32 = 65_535;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoryboardOptions {
    pub interval_ms: u64,
    pub tile_width: u32,
    pub columns: u32,
}

impl Default for StoryboardOptions {
    fn default() -> Self {
        Self {
            interval_ms: 2_000,
            tile_width: 160,
            columns: 10,
        }
    }
}

/// One thumbnail inside the sprite, covering `[start_ms, end_ms)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoryboardTile {
    pub start_ms: u64,
    pub end_ms: u64,
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Storyboard {
    pub tiles: Vec<StoryboardTile>,
}

/// Write the sprite JPEG and return where each tile sits in it.
pub fn storyboard(
    input: &Path,
    output_jpg: &Path,
    options: &StoryboardOptions,
) -> Result<Storyboard, MediaError> {
    crate::init_ffmpeg();
    if options.interval_ms == 0
        || options.columns == 0
        || !(2..=MAX_TILE_WIDTH).contains(&options.tile_width)
    {
        return Err(MediaError::Encode(format!(
            "invalid storyboard options {options:?}"
        )));
    }
    let mut reader = VideoReader::open(input)?;
    reader.skip_non_reference_frames();

    let mut shaper: Option<Shaper> = None;
    let mut thumbnails: Vec<frame::Video> = Vec::new();
    let mut last: Option<(frame::Video, i64)> = None;
    while let Some((frame, ms)) = reader.next_frame()? {
        let shaper = shaper.get_or_insert_with(|| tile_shaper(&reader, &frame, options.tile_width));
        // Every tile whose start this frame reached takes it (several, across a gap).
        while ms >= 0 && tile_start(thumbnails.len(), options.interval_ms) <= ms as u64 {
            thumbnails.push(thumbnail(shaper, &frame)?);
            if thumbnails.len() > MAX_TILES {
                return Err(MediaError::Encode(format!(
                    "more than {MAX_TILES} storyboard tiles"
                )));
            }
        }
        last = Some((frame, ms));
    }
    let Some((last_frame, last_ms)) = last else {
        return Err(MediaError::Decode("no video frame could be decoded".into()));
    };
    let duration_ms = reader.end_ms().max(u64::try_from(last_ms).unwrap_or(0));
    // Intervals that start before the end but saw no frame of their own (the last
    // frame came earlier) show the last frame; a video always gets at least one tile.
    if let Some(shaper) = shaper.as_mut() {
        while thumbnails.is_empty()
            || tile_start(thumbnails.len(), options.interval_ms) < duration_ms
        {
            thumbnails.push(thumbnail(shaper, &last_frame)?);
            if thumbnails.len() > MAX_TILES {
                return Err(MediaError::Encode(format!(
                    "more than {MAX_TILES} storyboard tiles"
                )));
            }
        }
    }

    let (tile_w, tile_h) = thumbnails
        .first()
        .map(|t| (t.width(), t.height()))
        .unwrap_or((2, 2));
    let layout = layout(thumbnails.len(), options, tile_w, tile_h, duration_ms);
    let (sheet_w, sheet_h) = sheet_size(&layout);
    if sheet_w > MAX_SHEET_SIDE || sheet_h > MAX_SHEET_SIDE {
        return Err(MediaError::Encode(format!(
            "storyboard sheet {sheet_w}×{sheet_h} is too large for a JPEG"
        )));
    }
    let mut sheet = picture::black_canvas(Pixel::YUVJ420P, sheet_w, sheet_h);
    for (tile, thumb) in layout.iter().zip(&thumbnails) {
        picture::blit_420(thumb, &mut sheet, tile.x, tile.y);
    }
    jpeg::write_jpeg(&sheet, output_jpg)?;
    Ok(Storyboard { tiles: layout })
}

fn tile_shaper(reader: &VideoReader, first: &frame::Video, tile_width: u32) -> Shaper {
    let (display_w, display_h) = reader.display_size(first);
    let (width, height) = geometry::scale_to_width(display_w, display_h, tile_width);
    let height = height.min(width * MAX_TILE_ASPECT);
    // AREA averages every source pixel: the best filter for large reductions.
    Shaper::new(
        Pixel::YUVJ420P,
        width,
        height,
        reader.rotation(),
        scaling::Flags::AREA,
    )
}

fn thumbnail(shaper: &mut Shaper, frame: &frame::Video) -> Result<frame::Video, MediaError> {
    let shaped = shaper
        .shape(frame)
        .map_err(|e| MediaError::Encode(format!("scaling: {e}")))?;
    match shaped {
        picture::Shaped::New(owned) => Ok(owned),
        // Already tile-sized yuvj420p: copy it rather than pin decoder buffers all pass.
        picture::Shaped::Same(same) => Ok(same.clone()),
    }
}

fn tile_start(index: usize, interval_ms: u64) -> u64 {
    (index as u64).saturating_mul(interval_ms)
}

/// Rectangles and time ranges for `count` tiles in rows of `columns`.
fn layout(
    count: usize,
    options: &StoryboardOptions,
    width: u32,
    height: u32,
    duration_ms: u64,
) -> Vec<StoryboardTile> {
    let columns = options.columns as usize;
    (0..count)
        .map(|i| {
            let start_ms = tile_start(i, options.interval_ms);
            let end_ms = if i + 1 == count {
                duration_ms.max(start_ms)
            } else {
                tile_start(i + 1, options.interval_ms)
            };
            StoryboardTile {
                start_ms,
                end_ms,
                x: ((i % columns) as u32).saturating_mul(width),
                y: ((i / columns) as u32).saturating_mul(height),
                width,
                height,
            }
        })
        .collect()
}

/// The sheet is as wide as its widest row and as tall as its rows.
fn sheet_size(tiles: &[StoryboardTile]) -> (u32, u32) {
    let width = tiles
        .iter()
        .map(|t| t.x.saturating_add(t.width))
        .max()
        .unwrap_or(2);
    let height = tiles
        .iter()
        .map(|t| t.y.saturating_add(t.height))
        .max()
        .unwrap_or(2);
    (width, height)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_wraps_rows_and_ends_at_duration() {
        let options = StoryboardOptions {
            interval_ms: 2_000,
            tile_width: 160,
            columns: 4,
        };
        let tiles = layout(5, &options, 160, 90, 9_200);
        assert_eq!(
            tiles[3],
            StoryboardTile {
                start_ms: 6_000,
                end_ms: 8_000,
                x: 480,
                y: 0,
                width: 160,
                height: 90
            }
        );
        assert_eq!(
            tiles[4],
            StoryboardTile {
                start_ms: 8_000,
                end_ms: 9_200,
                x: 0,
                y: 90,
                width: 160,
                height: 90
            }
        );
        assert_eq!(sheet_size(&tiles), (640, 180));
    }

    #[test]
    fn three_minutes_at_two_seconds_is_ninety_tiles_in_nine_rows() {
        let options = StoryboardOptions::default();
        let tiles = layout(90, &options, 160, 90, 180_000);
        assert_eq!(sheet_size(&tiles), (1600, 810));
        assert_eq!(
            tiles.last().map(|t| (t.start_ms, t.end_ms)),
            Some((178_000, 180_000))
        );
    }
}
