//! Re-encoding the audio: decode → resample to 48 kHz planar float → FFmpeg's native
//! `aac` encoder at 128 kb/s, fed exactly `frame_size` samples per frame.
use ffmpeg_next::codec::{self, encoder};
use ffmpeg_next::format::context::Output;
use ffmpeg_next::format::{sample::Type as SampleType, Sample};
use ffmpeg_next::{decoder, frame, ChannelLayout, Packet, Rational, Rescale, Stream};

use super::{global_header, Written};
use crate::media_input::is_packet_error;
use crate::resample::Resampler;
use crate::MediaError;

const RATE: u32 = 48_000;
const BIT_RATE: usize = 128_000;
const FORMAT: Sample = Sample::F32(SampleType::Planar);

pub(super) struct AudioTrack {
    decoder: decoder::Audio,
    encoder: encoder::audio::Encoder,
    resampler: Resampler,
    layout: ChannelLayout,
    /// Resampled samples waiting for a full encoder frame, one vector per channel.
    pending: Vec<Vec<f32>>,
    frame_size: usize,
    input_time_base: Rational,
    output_index: usize,
    output_time_base: Rational,
    /// Presentation start, in samples at 48 kHz.
    offset: i64,
    /// Timestamp (1/48000) of the next sample handed to the encoder; set by the first
    /// decoded frame so audio keeps its place relative to the video.
    next_pts: Option<i64>,
}

impl AudioTrack {
    pub(super) fn new(
        stream: &Stream,
        output: &mut Output,
        offset_us: i64,
    ) -> Result<Self, MediaError> {
        let decoder = crate::media_input::audio_decoder(stream)
            .map_err(|e| MediaError::Decode(format!("audio decoder: {e}")))?;
        let fail = |e: ffmpeg_next::Error| MediaError::Encode(format!("aac: {e}"));
        let aac = encoder::find_by_name("aac").ok_or(MediaError::Encode(
            "the aac encoder is not available".into(),
        ))?;
        let layout = if decoder.channels() == 1 {
            ChannelLayout::MONO
        } else {
            ChannelLayout::STEREO
        };

        let mut settings = codec::Context::new_with_codec(aac)
            .encoder()
            .audio()
            .map_err(fail)?;
        settings.set_rate(RATE as i32);
        settings.set_channel_layout(layout);
        settings.set_channels(layout.channels());
        settings.set_format(FORMAT);
        settings.set_bit_rate(BIT_RATE);
        settings.set_time_base((1, RATE as i32));
        if global_header(output) {
            settings.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let encoder = settings.open_as(aac).map_err(fail)?;
        // 1024 for AAC-LC; every frame but the last must hold exactly this many.
        let frame_size = (encoder.frame_size() as usize).max(1);

        let mut out = output.add_stream(aac).map_err(fail)?;
        out.set_parameters(&encoder);
        out.set_time_base((1, RATE as i32));
        let output_index = out.index();

        Ok(Self {
            decoder,
            encoder,
            resampler: Resampler::new(FORMAT, layout, RATE),
            layout,
            pending: vec![Vec::with_capacity(frame_size * 4); layout.channels() as usize],
            frame_size,
            input_time_base: stream.time_base(),
            output_index,
            output_time_base: Rational::new(1, RATE as i32),
            offset: offset_us.rescale(ffmpeg_next::rescale::TIME_BASE, (1, RATE as i32)),
            next_pts: None,
        })
    }

    pub(super) fn set_output_time_base(&mut self, time_base: Rational) {
        self.output_time_base = time_base;
    }

    pub(super) fn output_index(&self) -> usize {
        self.output_index
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
            Err(e) => return Err(MediaError::Decode(format!("audio: {e}"))),
        }
        self.resample_decoded()?;
        self.encode_pending(false, output, written)
    }

    pub(super) fn finish(
        &mut self,
        output: &mut Output,
        written: &mut Written,
    ) -> Result<(), MediaError> {
        self.decoder
            .send_eof()
            .map_err(|e| MediaError::Decode(format!("audio: {e}")))?;
        self.resample_decoded()?;
        let pending = &mut self.pending;
        self.resampler
            .finish(&mut |out| {
                append_planes(pending, out);
                Ok(())
            })
            .map_err(|e| MediaError::Decode(format!("resampling: {e}")))?;
        self.encode_pending(true, output, written)?;
        self.encoder
            .send_eof()
            .map_err(|e| MediaError::Encode(format!("aac: {e}")))?;
        self.write_encoded(output, written)
    }

    fn resample_decoded(&mut self) -> Result<(), MediaError> {
        let mut decoded = frame::Audio::empty();
        while self.decoder.receive_frame(&mut decoded).is_ok() {
            if self.next_pts.is_none() {
                let start = decoded
                    .timestamp()
                    .map_or(0, |ts| ts.rescale(self.input_time_base, (1, RATE as i32)));
                self.next_pts = Some(start.saturating_sub(self.offset));
            }
            let pending = &mut self.pending;
            self.resampler
                .push(&mut decoded, &mut |out| {
                    append_planes(pending, out);
                    Ok(())
                })
                .map_err(|e| MediaError::Decode(format!("resampling: {e}")))?;
        }
        Ok(())
    }

    /// Encode every full frame waiting; with `last`, also the final partial one.
    fn encode_pending(
        &mut self,
        last: bool,
        output: &mut Output,
        written: &mut Written,
    ) -> Result<(), MediaError> {
        loop {
            let available = self.pending.first().map_or(0, Vec::len);
            let take = if available >= self.frame_size {
                self.frame_size
            } else if last {
                available
            } else {
                0
            };
            if take == 0 {
                return Ok(());
            }
            let mut chunk = frame::Audio::new(FORMAT, take, self.layout);
            chunk.set_rate(RATE);
            for (channel, samples) in self.pending.iter_mut().enumerate() {
                chunk.plane_mut::<f32>(channel)[..take].copy_from_slice(&samples[..take]);
                samples.drain(..take);
            }
            let pts = self.next_pts.unwrap_or(0);
            chunk.set_pts(Some(pts));
            self.next_pts = Some(pts + take as i64);
            self.encoder
                .send_frame(&chunk)
                .map_err(|e| MediaError::Encode(format!("aac: {e}")))?;
            self.write_encoded(output, written)?;
        }
    }

    fn write_encoded(
        &mut self,
        output: &mut Output,
        written: &mut Written,
    ) -> Result<(), MediaError> {
        let mut packet = Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            packet.set_stream(self.output_index);
            packet.rescale_ts((1, RATE as i32), self.output_time_base);
            written.record(self.output_index, &packet, self.output_time_base);
            packet
                .write_interleaved(output)
                .map_err(|e| MediaError::Encode(format!("writing audio: {e}")))?;
        }
        Ok(())
    }
}

/// Append a resampled planar frame to the per-channel queues.
fn append_planes(pending: &mut [Vec<f32>], frame: &frame::Audio) {
    for (channel, queue) in pending.iter_mut().enumerate() {
        queue.extend_from_slice(&frame.plane::<f32>(channel)[..frame.samples()]);
    }
}
