//! swresample behind a small, hard-to-misuse interface.
//!
//! Pitfalls this module exists for (see FIELD-NOTES): swr reports "Output changed"
//! when flushed into an unconfigured frame, and it shrinks a reused output frame's
//! capacity to the samples it wrote. So every call gets a fresh output frame sized
//! for what can come out, and `finish` flushes until nothing is left. Decoders of
//! FFmpeg < 7 may leave the channel layout empty: the default layout for the channel
//! count stands in.
use ffmpeg_next::format::Sample;
use ffmpeg_next::software::resampling;
use ffmpeg_next::{frame, ChannelLayout};

/// Samples of headroom beyond the rate-converted input size: swr's filter delay is
/// tens of samples, so anything left over simply comes out on a later call.
const HEADROOM: usize = 256;
/// Output frame size when draining the delay at the end.
const FLUSH_CHUNK: usize = 4096;

pub(crate) struct Resampler {
    format: Sample,
    layout: ChannelLayout,
    rate: u32,
    context: Option<resampling::Context>,
}

impl Resampler {
    pub(crate) fn new(format: Sample, layout: ChannelLayout, rate: u32) -> Self {
        Self {
            format,
            layout,
            rate,
            context: None,
        }
    }

    /// Convert one decoded frame; `sink` receives every non-empty output frame.
    pub(crate) fn push(
        &mut self,
        input: &mut frame::Audio,
        sink: &mut dyn FnMut(&frame::Audio) -> Result<(), ffmpeg_next::Error>,
    ) -> Result<(), ffmpeg_next::Error> {
        if input.samples() == 0 || input.rate() == 0 || input.channels() == 0 {
            return Ok(());
        }
        if input.channel_layout().is_empty() {
            input.set_channel_layout(ChannelLayout::default(i32::from(input.channels())));
        }
        let definition = resampling::context::Definition {
            format: input.format(),
            channel_layout: input.channel_layout(),
            rate: input.rate(),
        };
        // A stream may change rate or layout midway: drain the old converter first.
        if self
            .context
            .as_ref()
            .is_some_and(|c| *c.input() != definition)
        {
            self.finish(sink)?;
        }
        if self.context.is_none() {
            self.context = Some(resampling::Context::get(
                definition.format,
                definition.channel_layout,
                definition.rate,
                self.format,
                self.layout,
                self.rate,
            )?);
        }
        let Some(context) = self.context.as_mut() else {
            return Err(ffmpeg_next::Error::Bug);
        };
        let capacity = input.samples() * self.rate as usize / input.rate() as usize + HEADROOM;
        let mut output = frame::Audio::new(self.format, capacity, self.layout);
        context.run(input, &mut output)?;
        if output.samples() > 0 {
            sink(&output)?;
        }
        Ok(())
    }

    /// Drain what the converter still holds. The resampler can be reused afterwards.
    pub(crate) fn finish(
        &mut self,
        sink: &mut dyn FnMut(&frame::Audio) -> Result<(), ffmpeg_next::Error>,
    ) -> Result<(), ffmpeg_next::Error> {
        let Some(mut context) = self.context.take() else {
            return Ok(());
        };
        // Bounded: the delay is a few thousand samples at most.
        for _ in 0..64 {
            let mut output = frame::Audio::new(self.format, FLUSH_CHUNK, self.layout);
            context.flush(&mut output)?;
            if output.samples() == 0 {
                break;
            }
            sink(&output)?;
        }
        Ok(())
    }
}
