//! Turning decoded pictures into the exact size, pixel format and orientation a step
//! needs: swscale for size/format, a plane copy for quarter turns, and a blit for
//! sprite sheets. All outputs are 8-bit 4:2:0 (`yuv420p` for H.264, `yuvj420p` for JPEG).
use std::ops::Deref;

use ffmpeg_next::format::Pixel;
use ffmpeg_next::frame;
use ffmpeg_next::software::scaling;

use crate::geometry::Rotation;

/// A shaped picture: the decoder's own frame when it already fits (no copy), else a new one.
pub(crate) enum Shaped<'a> {
    Same(&'a frame::Video),
    New(frame::Video),
}

impl Deref for Shaped<'_> {
    type Target = frame::Video;

    fn deref(&self) -> &frame::Video {
        match self {
            Shaped::Same(frame) => frame,
            Shaped::New(frame) => frame,
        }
    }
}

/// Scales, converts and rotates frames to one fixed output. The swscale context is
/// rebuilt whenever the input's size or format changes: browser recordings (WebM from
/// MediaRecorder) may switch resolution mid-stream.
pub(crate) struct Shaper {
    format: Pixel,
    width: u32,
    height: u32,
    rotation: Rotation,
    flags: scaling::Flags,
    scaler: Option<scaling::Context>,
}

impl Shaper {
    /// `width`×`height` is the final, displayed size (after rotation).
    pub(crate) fn new(
        format: Pixel,
        width: u32,
        height: u32,
        rotation: Rotation,
        flags: scaling::Flags,
    ) -> Self {
        Self {
            format,
            width,
            height,
            rotation,
            flags,
            scaler: None,
        }
    }

    pub(crate) fn shape<'a>(
        &mut self,
        input: &'a frame::Video,
    ) -> Result<Shaped<'a>, ffmpeg_next::Error> {
        let (width, height) = if self.rotation.swaps_sides() {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        };
        let fits =
            input.format() == self.format && input.width() == width && input.height() == height;
        if fits && self.rotation == Rotation::None {
            return Ok(Shaped::Same(input));
        }
        let mut upright = if fits {
            None
        } else {
            let scaler = self.scaler_for(input, width, height)?;
            // A fresh frame each time: the encoder may keep a reference to the previous
            // one, so writing into it again would be a use-after-send.
            let mut scaled = frame::Video::empty();
            scaler.run(input, &mut scaled)?;
            Some(scaled)
        };
        let mut output = match self.rotation {
            Rotation::None => upright.take().ok_or(ffmpeg_next::Error::Bug)?,
            rotation => {
                let source = upright.as_ref().unwrap_or(input);
                let mut rotated = frame::Video::new(self.format, self.width, self.height);
                rotate_420(source, &mut rotated, rotation);
                rotated
            }
        };
        output.set_pts(input.pts());
        Ok(Shaped::New(output))
    }

    fn scaler_for(
        &mut self,
        input: &frame::Video,
        width: u32,
        height: u32,
    ) -> Result<&mut scaling::Context, ffmpeg_next::Error> {
        let wanted = scaling::context::Definition {
            format: input.format(),
            width: input.width(),
            height: input.height(),
        };
        let stale = self.scaler.as_ref().is_none_or(|s| *s.input() != wanted);
        if stale {
            let scaler = scaling::Context::get(
                input.format(),
                input.width(),
                input.height(),
                self.format,
                width,
                height,
                self.flags,
            )?;
            self.scaler = Some(scaler);
        }
        self.scaler.as_mut().ok_or(ffmpeg_next::Error::Bug)
    }
}

/// Rotate a 4:2:0 8-bit frame (three planes, chroma halved both ways) into `dst`,
/// whose size must already be the rotated size.
fn rotate_420(src: &frame::Video, dst: &mut frame::Video, rotation: Rotation) {
    for plane in 0..3 {
        let (w, h) = (
            src.plane_width(plane) as usize,
            src.plane_height(plane) as usize,
        );
        let (src_stride, dst_stride) = (src.stride(plane), dst.stride(plane));
        let (dw, dh) = (
            dst.plane_width(plane) as usize,
            dst.plane_height(plane) as usize,
        );
        let source = src.data(plane);
        let target = dst.data_mut(plane);
        for y in 0..h {
            let row = &source[y * src_stride..y * src_stride + w];
            for (x, &value) in row.iter().enumerate() {
                let (tx, ty) = match rotation {
                    Rotation::Clockwise => (h - 1 - y, x),
                    Rotation::CounterClockwise => (y, w - 1 - x),
                    Rotation::Half => (w - 1 - x, h - 1 - y),
                    Rotation::None => (x, y),
                };
                // Odd luma sizes make chroma planes round differently; skip the sliver.
                if tx < dw && ty < dh {
                    target[ty * dst_stride + tx] = value;
                }
            }
        }
    }
}

/// A 4:2:0 8-bit canvas filled with black (full-range: Y 0, chroma neutral).
pub(crate) fn black_canvas(format: Pixel, width: u32, height: u32) -> frame::Video {
    let mut canvas = frame::Video::new(format, width, height);
    canvas.data_mut(0).fill(0);
    canvas.data_mut(1).fill(128);
    canvas.data_mut(2).fill(128);
    canvas
}

/// Copy a 4:2:0 8-bit `tile` into `canvas` with its top-left corner at (`x`, `y`),
/// both even. Pixels falling outside the canvas are clipped.
pub(crate) fn blit_420(tile: &frame::Video, canvas: &mut frame::Video, x: u32, y: u32) {
    for plane in 0..3 {
        let shift = u32::from(plane > 0);
        let (px, py) = ((x >> shift) as usize, (y >> shift) as usize);
        let (tw, th) = (
            tile.plane_width(plane) as usize,
            tile.plane_height(plane) as usize,
        );
        let (cw, ch) = (
            canvas.plane_width(plane) as usize,
            canvas.plane_height(plane) as usize,
        );
        let (ts, cs) = (tile.stride(plane), canvas.stride(plane));
        let width = tw.min(cw.saturating_sub(px));
        let source = tile.data(plane);
        let target = canvas.data_mut(plane);
        for row in 0..th.min(ch.saturating_sub(py)) {
            let from = row * ts;
            let to = (py + row) * cs + px;
            target[to..to + width].copy_from_slice(&source[from..from + width]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(width: u32, height: u32) -> frame::Video {
        let mut f = frame::Video::new(Pixel::YUV420P, width, height);
        for plane in 0..3 {
            let (w, h, s) = (
                f.plane_width(plane) as usize,
                f.plane_height(plane) as usize,
                f.stride(plane),
            );
            let data = f.data_mut(plane);
            for y in 0..h {
                for x in 0..w {
                    data[y * s + x] = (y * w + x) as u8;
                }
            }
        }
        f
    }

    fn at(f: &frame::Video, plane: usize, x: usize, y: usize) -> u8 {
        f.data(plane)[y * f.stride(plane) + x]
    }

    #[test]
    fn clockwise_moves_top_left_to_top_right() {
        crate::init_ffmpeg();
        let src = numbered(4, 2);
        let mut dst = frame::Video::new(Pixel::YUV420P, 2, 4);
        rotate_420(&src, &mut dst, Rotation::Clockwise);
        // Source row 0 = [0 1 2 3], row 1 = [4 5 6 7]; clockwise, the left column
        // of the result is the bottom row read upwards.
        assert_eq!(at(&dst, 0, 1, 0), 0);
        assert_eq!(at(&dst, 0, 0, 0), 4);
        assert_eq!(at(&dst, 0, 0, 3), 7);
        assert_eq!(at(&dst, 1, 0, 0), 0);
        assert_eq!(at(&dst, 1, 0, 1), 1);
    }

    #[test]
    fn counter_clockwise_and_half_turns() {
        crate::init_ffmpeg();
        let src = numbered(4, 2);
        let mut ccw = frame::Video::new(Pixel::YUV420P, 2, 4);
        rotate_420(&src, &mut ccw, Rotation::CounterClockwise);
        assert_eq!(at(&ccw, 0, 0, 3), 0);
        assert_eq!(at(&ccw, 0, 0, 0), 3);
        let mut half = frame::Video::new(Pixel::YUV420P, 4, 2);
        rotate_420(&src, &mut half, Rotation::Half);
        assert_eq!(at(&half, 0, 3, 1), 0);
        assert_eq!(at(&half, 0, 0, 0), 7);
    }

    #[test]
    fn blit_places_tile_and_clips() {
        crate::init_ffmpeg();
        let tile = numbered(4, 2);
        let mut canvas = black_canvas(Pixel::YUVJ420P, 6, 4);
        blit_420(&tile, &mut canvas, 4, 2);
        assert_eq!(at(&canvas, 0, 4, 2), 0);
        assert_eq!(at(&canvas, 0, 5, 3), 5);
        assert_eq!(at(&canvas, 0, 3, 2), 0);
        assert_eq!(at(&canvas, 1, 2, 1), 0);
        assert_eq!(at(&canvas, 1, 0, 0), 128);
    }
}
