//! Re-encoding the video: decode → scale/convert/rotate (swscale) → libx264.
//!
//! Timestamps are carried through, never invented: the encoder works in the input
//! stream's own time base, so variable-frame-rate input (MediaRecorder WebM, phones)
//! keeps its real timing in the MP4.
use ffmpeg_next::codec::{self, encoder, threading};
use ffmpeg_next::format::context::Output;
use ffmpeg_next::format::Pixel;
use ffmpeg_next::software::scaling;
use ffmpeg_next::{color, decoder, frame, picture, Dictionary, Packet, Rational, Rescale, Stream};

use super::{global_header, Written};
use crate::geometry::Rotation;
use crate::media_input::is_packet_error;
use crate::picture::Shaper;
use crate::transcode::TranscodeOptions;
use crate::MediaError;

pub(super) struct VideoTrack {
    decoder: decoder::Video,
    encoder: encoder::video::Encoder,
    shaper: Shaper,
    /// The input stream's time base; also the encoder's.
    time_base: Rational,
    output_index: usize,
    output_time_base: Rational,
    /// Presentation start in `time_base`, subtracted from every frame.
    offset: i64,
    /// Expected frame spacing in `time_base`, for the rare frame without a timestamp.
    frame_step: i64,
    last_pts: Option<i64>,
}

impl VideoTrack {
    /// Open the encoder for `width`×`height` (displayed size, after `rotation`) and add
    /// its stream to `output`.
    pub(super) fn new(
        stream: &Stream,
        decoder: decoder::Video,
        output: &mut Output,
        (width, height): (u32, u32),
        rotation: Rotation,
        options: &TranscodeOptions,
        offset_us: i64,
    ) -> Result<Self, MediaError> {
        let fail = |e: ffmpeg_next::Error| MediaError::Encode(format!("libx264: {e}"));
        let x264 = encoder::find_by_name("libx264")
            .ok_or(MediaError::Encode("libx264 is not available".into()))?;
        let time_base = stream.time_base();
        let frame_rate = [stream.avg_frame_rate(), stream.rate()]
            .into_iter()
            .find(|r| r.numerator() > 0 && r.denominator() > 0);

        let mut context = codec::Context::new_with_codec(x264);
        context.set_threading(threading::Config {
            kind: threading::Type::Frame,
            count: options.threads,
            ..Default::default()
        });
        let mut settings = context.encoder().video().map_err(fail)?;
        settings.set_width(width);
        settings.set_height(height);
        settings.set_format(Pixel::YUV420P);
        settings.set_time_base(time_base);
        settings.set_frame_rate(frame_rate);
        settings.set_aspect_ratio(Rational::new(1, 1));
        // Same matrix and transfer as the source: scaling does not convert colours.
        settings.set_colorspace(decoder.color_space());
        settings.set_color_primaries(decoder.color_primaries());
        settings.set_color_transfer_characteristic(decoder.color_transfer_characteristic());
        settings.set_color_range(color::Range::MPEG);
        if global_header(output) {
            settings.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let mut x264_options = Dictionary::new();
        x264_options.set("preset", &options.preset);
        x264_options.set("crf", &options.crf.to_string());
        let encoder = settings.open_as_with(x264, x264_options).map_err(fail)?;

        let mut out = output.add_stream(x264).map_err(fail)?;
        out.set_parameters(&encoder);
        out.set_time_base(time_base);
        let output_index = out.index();

        let frame_step = frame_rate
            .map(|r| 1i64.rescale(r.invert(), time_base).max(1))
            .unwrap_or(1);
        Ok(Self {
            decoder,
            encoder,
            shaper: Shaper::new(
                Pixel::YUV420P,
                width,
                height,
                rotation,
                scaling::Flags::BICUBIC,
            ),
            time_base,
            output_index,
            output_time_base: time_base,
            offset: offset_us.rescale(ffmpeg_next::rescale::TIME_BASE, time_base),
            frame_step,
            last_pts: None,
        })
    }

    /// After the header is written: the muxer's chosen time base for our stream.
    pub(super) fn set_output_time_base(&mut self, time_base: Rational) {
        self.output_time_base = time_base;
    }

    pub(super) fn output_index(&self) -> usize {
        self.output_index
    }

    pub(super) fn time_base(&self) -> Rational {
        self.time_base
    }

    pub(super) fn send(
        &mut self,
        packet: &Packet,
        output: &mut Output,
        written: &mut Written,
    ) -> Result<(), MediaError> {
        match self.decoder.send_packet(packet) {
            Ok(()) => {}
            Err(e) if is_packet_error(&e) => return Ok(()),
            Err(e) => return Err(MediaError::Decode(format!("video: {e}"))),
        }
        self.encode_decoded(output, written)
    }

    pub(super) fn finish(
        &mut self,
        output: &mut Output,
        written: &mut Written,
    ) -> Result<(), MediaError> {
        self.decoder
            .send_eof()
            .map_err(|e| MediaError::Decode(format!("video: {e}")))?;
        self.encode_decoded(output, written)?;
        self.encoder
            .send_eof()
            .map_err(|e| MediaError::Encode(format!("libx264: {e}")))?;
        self.write_encoded(output, written)
    }

    fn encode_decoded(
        &mut self,
        output: &mut Output,
        written: &mut Written,
    ) -> Result<(), MediaError> {
        let mut decoded = frame::Video::empty();
        while self.decoder.receive_frame(&mut decoded).is_ok() {
            let pts = match decoded.timestamp() {
                Some(ts) => ts.saturating_sub(self.offset),
                None => self
                    .last_pts
                    .map_or(0, |p| p.saturating_add(self.frame_step)),
            };
            // x264 needs strictly increasing timestamps; a repeated or backwards one is
            // a duplicate (or corrupt) frame in the source and is dropped.
            if self.last_pts.is_some_and(|last| pts <= last) {
                continue;
            }
            self.last_pts = Some(pts);
            decoded.set_pts(Some(pts));
            // Let x264 place keyframes itself instead of copying the source's choice.
            decoded.set_kind(picture::Type::None);
            let shaped = self
                .shaper
                .shape(&decoded)
                .map_err(|e| MediaError::Encode(format!("scaling: {e}")))?;
            self.encoder
                .send_frame(&shaped)
                .map_err(|e| MediaError::Encode(format!("libx264: {e}")))?;
            drop(shaped);
            self.write_encoded(output, written)?;
        }
        Ok(())
    }

    fn write_encoded(
        &mut self,
        output: &mut Output,
        written: &mut Written,
    ) -> Result<(), MediaError> {
        let mut packet = Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            packet.set_stream(self.output_index);
            packet.rescale_ts(self.time_base, self.output_time_base);
            written.record(self.output_index, &packet, self.output_time_base);
            packet
                .write_interleaved(output)
                .map_err(|e| MediaError::Encode(format!("writing video: {e}")))?;
        }
        Ok(())
    }
}
