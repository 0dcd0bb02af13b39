//! Decoded frames of an input's video stream, with their times in milliseconds from
//! the start of the presentation. Used by the still-image steps (poster, storyboard).
use std::path::Path;

use ffmpeg_next::format::context::Input;
use ffmpeg_next::{decoder, frame, Discard, Rational};

use crate::geometry::{self, Rotation};
use crate::media_input::{self, is_packet_error, next_packet};
use crate::span::ticks_to_millis;
use crate::MediaError;

pub(crate) struct VideoReader {
    input: Input,
    index: usize,
    decoder: decoder::Video,
    time_base: Rational,
    /// Start of the presentation in the stream's time base.
    start_ticks: i64,
    rotation: Rotation,
    /// End of the latest-ending packet seen so far, in ms from the start.
    end_ms: u64,
    draining: bool,
}

impl VideoReader {
    pub(crate) fn open(path: &Path) -> Result<Self, MediaError> {
        let input = media_input::open(path).map_err(|e| MediaError::Open(e.to_string()))?;
        let index = media_input::video_stream(&input).ok_or(MediaError::NoVideo)?;
        let (decoder, time_base, rotation) = {
            let stream = input.stream(index).ok_or(MediaError::NoVideo)?;
            let decoder = media_input::video_decoder(&stream, true)
                .map_err(|e| MediaError::Decode(format!("video decoder: {e}")))?;
            (decoder, stream.time_base(), media_input::rotation(&stream))
        };
        let start_us = media_input::start_offset_us(&input, &[index]);
        let start_ticks =
            ffmpeg_next::Rescale::rescale(&start_us, ffmpeg_next::rescale::TIME_BASE, time_base);
        Ok(Self {
            input,
            index,
            decoder,
            time_base,
            start_ticks,
            rotation,
            end_ms: 0,
            draining: false,
        })
    }

    /// Let the decoder drop frames nothing refers to (B-frames): a thumbnail a frame
    /// later is just as good, and they are a large share of the decoding work.
    pub(crate) fn skip_non_reference_frames(&mut self) {
        self.decoder.skip_frame(Discard::NonReference);
    }

    pub(crate) fn header_duration_ms(&self) -> Option<u64> {
        media_input::header_duration_ms(&self.input, Some(self.index))
    }

    /// End of the video as far as read, in ms: the latest packet end (pts + duration).
    pub(crate) fn end_ms(&self) -> u64 {
        self.end_ms
    }

    /// Jump to the keyframe at or before `ms`. Best effort: on failure, reading simply
    /// continues from where it was (the caller skips frames before its target anyway).
    pub(crate) fn seek_ms(&mut self, ms: u64) {
        let start_us = ffmpeg_next::Rescale::rescale(
            &self.start_ticks,
            self.time_base,
            ffmpeg_next::rescale::TIME_BASE,
        );
        let target =
            start_us.saturating_add(i64::try_from(ms).unwrap_or(i64::MAX).saturating_mul(1000));
        if self.input.seek(target, ..target).is_ok() {
            self.decoder.flush();
        }
    }

    /// The next decoded frame and its time in ms from the start (negative for pre-roll).
    pub(crate) fn next_frame(&mut self) -> Result<Option<(frame::Video, i64)>, MediaError> {
        let mut decoded = frame::Video::empty();
        loop {
            if self.decoder.receive_frame(&mut decoded).is_ok() {
                let ticks = decoded.timestamp().unwrap_or(self.start_ticks);
                return Ok(Some((decoded, self.relative_ms(ticks))));
            }
            if self.draining {
                return Ok(None);
            }
            let packet = next_packet(&mut self.input)
                .map_err(|e| MediaError::Decode(format!("demuxing: {e}")))?;
            let Some(packet) = packet else {
                self.draining = true;
                self.decoder
                    .send_eof()
                    .map_err(|e| MediaError::Decode(e.to_string()))?;
                continue;
            };
            if packet.stream() != self.index {
                continue;
            }
            if let Some(pts) = packet.pts().or(packet.dts()) {
                let end = self.relative_ms(pts.saturating_add(packet.duration().max(0)));
                self.end_ms = self.end_ms.max(u64::try_from(end).unwrap_or(0));
            }
            match self.decoder.send_packet(&packet) {
                Ok(()) => {}
                Err(e) if is_packet_error(&e) => {}
                Err(e) => return Err(MediaError::Decode(e.to_string())),
            }
        }
    }

    /// Displayed size of `frame`: sample aspect ratio and rotation applied.
    pub(crate) fn display_size(&self, frame: &frame::Video) -> (u32, u32) {
        let sar = frame.aspect_ratio();
        geometry::display_size(
            frame.width(),
            frame.height(),
            (sar.numerator(), sar.denominator()),
            self.rotation,
        )
    }

    pub(crate) fn rotation(&self) -> Rotation {
        self.rotation
    }

    fn relative_ms(&self, ticks: i64) -> i64 {
        let delta = i128::from(ticks) - i128::from(self.start_ticks);
        let ms = ticks_to_millis(delta.abs(), self.time_base);
        let ms = i64::try_from(ms).unwrap_or(i64::MAX);
        if delta < 0 {
            -ms
        } else {
            ms
        }
    }
}
