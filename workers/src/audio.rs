//! Audio for whisper: the first audio track decoded to 16 kHz mono f32.
use std::path::Path;

use ffmpeg_next::format::{sample::Type as SampleType, Sample};
use ffmpeg_next::{frame, ChannelLayout};

use crate::media_input::{self, is_packet_error, next_packet};
use crate::resample::Resampler;
use crate::MediaError;

/// Whisper's input rate.
const RATE: u32 = 16_000;
/// Pre-allocation cap (samples): the header duration is untrusted, 200 s is our longest input.
const MAX_PREALLOCATED: usize = 200 * RATE as usize;

/// Decode and resample the best audio stream. A file without audio gives an empty vector.
pub fn decode_audio_16k_mono(input: &Path) -> Result<Vec<f32>, MediaError> {
    crate::init_ffmpeg();
    let mut ictx = media_input::open(input).map_err(|e| MediaError::Open(e.to_string()))?;
    let Some(index) = media_input::audio_stream(&ictx) else {
        return Ok(Vec::new());
    };
    let mut decoder = {
        let stream = ictx
            .stream(index)
            .ok_or(MediaError::Decode("audio stream vanished".into()))?;
        media_input::audio_decoder(&stream)
            .map_err(|e| MediaError::Decode(format!("audio decoder: {e}")))?
    };
    let expected = media_input::header_duration_ms(&ictx, Some(index)).unwrap_or(0) as usize
        * (RATE as usize / 1000);
    let mut samples: Vec<f32> = Vec::with_capacity(expected.min(MAX_PREALLOCATED));

    let mut resampler = Resampler::new(Sample::F32(SampleType::Packed), ChannelLayout::MONO, RATE);
    let mut sink = |out: &frame::Audio| {
        samples.extend_from_slice(out.plane::<f32>(0));
        Ok(())
    };
    let mut decoded = frame::Audio::empty();
    let decode_error = |e: ffmpeg_next::Error| MediaError::Decode(format!("audio: {e}"));

    while let Some(packet) = next_packet(&mut ictx).map_err(decode_error)? {
        if packet.stream() != index {
            continue;
        }
        match decoder.send_packet(&packet) {
            Ok(()) => {}
            Err(e) if is_packet_error(&e) => continue,
            Err(e) => return Err(decode_error(e)),
        }
        while decoder.receive_frame(&mut decoded).is_ok() {
            resampler
                .push(&mut decoded, &mut sink)
                .map_err(decode_error)?;
        }
    }
    decoder.send_eof().map_err(decode_error)?;
    while decoder.receive_frame(&mut decoded).is_ok() {
        resampler
            .push(&mut decoded, &mut sink)
            .map_err(decode_error)?;
    }
    resampler.finish(&mut sink).map_err(decode_error)?;
    Ok(samples)
}
