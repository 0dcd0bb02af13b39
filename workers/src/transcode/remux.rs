//! Stream copy: the input already holds browser-playable H.264 (+ AAC), so only the
//! container changes. Seconds instead of minutes, and no generation loss.
use ffmpeg_next::format::context::{Input, Output};
use ffmpeg_next::{codec, encoder, Rational, Rescale};

use super::progress::Progress;
use super::{write_header, Written};
use crate::media_input::next_packet;
use crate::MediaError;

struct Mapping {
    input_index: usize,
    input_time_base: Rational,
    output_index: usize,
    output_time_base: Rational,
    /// Presentation start, in the output time base, subtracted from every packet.
    offset: i64,
}

/// Copy `streams` (input indices, video first) into `output`, then leave it ready for
/// `write_trailer`.
pub(super) fn run(
    input: &mut Input,
    output: &mut Output,
    streams: &[usize],
    offset_us: i64,
    video_index: usize,
    progress: &mut Progress<'_>,
) -> Result<Written, MediaError> {
    let mut mappings = Vec::with_capacity(streams.len());
    for &input_index in streams {
        let stream = input
            .stream(input_index)
            .ok_or_else(|| MediaError::Decode("stream vanished".into()))?;
        let mut out = output
            .add_stream(encoder::find(codec::Id::None))
            .map_err(|e| MediaError::Encode(format!("adding a stream: {e}")))?;
        out.set_parameters(stream.parameters());
        clear_codec_tag(&mut out);
        out.set_time_base(stream.time_base());
        mappings.push(Mapping {
            input_index,
            input_time_base: stream.time_base(),
            output_index: out.index(),
            output_time_base: stream.time_base(),
            offset: 0,
        });
    }
    write_header(output)?;
    for mapping in &mut mappings {
        // The muxer picks its own time base during the header; read it back.
        let out = output
            .stream(mapping.output_index)
            .ok_or(MediaError::Encode("output stream vanished".into()))?;
        mapping.output_time_base = out.time_base();
        mapping.offset =
            offset_us.rescale(ffmpeg_next::rescale::TIME_BASE, mapping.output_time_base);
    }

    let mut written = Written::new(mappings.len());
    while let Some(mut packet) =
        next_packet(input).map_err(|e| MediaError::Decode(format!("demuxing: {e}")))?
    {
        let Some(mapping) = mappings.iter().find(|m| m.input_index == packet.stream()) else {
            continue;
        };
        if mapping.input_index == video_index {
            if let Some(pts) = packet.pts() {
                let ms = (pts.rescale(mapping.input_time_base, (1, 1000)))
                    .saturating_sub(offset_us / 1000);
                progress.update(ms, packet.position());
            }
        }
        packet.rescale_ts(mapping.input_time_base, mapping.output_time_base);
        packet.set_pts(packet.pts().map(|t| t.saturating_sub(mapping.offset)));
        packet.set_dts(packet.dts().map(|t| t.saturating_sub(mapping.offset)));
        packet.set_position(-1);
        packet.set_stream(mapping.output_index);
        written.record(mapping.output_index, &packet, mapping.output_time_base);
        packet
            .write_interleaved(output)
            .map_err(|e| MediaError::Encode(format!("writing a packet: {e}")))?;
    }
    Ok(written)
}

/// Forget the input's codec tag (fourcc). An AVI's `H264` or a TS stream-type tag is
/// not a valid MP4 sample entry and the muxer would refuse the header; with 0 it picks
/// the right one (`avc1`, `mp4a`) itself, as the ffmpeg CLI does for stream copy.
#[allow(unsafe_code)]
fn clear_codec_tag(stream: &mut ffmpeg_next::StreamMut<'_>) {
    let mut parameters = stream.parameters();
    // SAFETY: `parameters` wraps the stream's own AVCodecParameters, alive as long as
    // the output context we hold a mutable borrow of; `codec_tag` is a plain integer
    // field that ffmpeg-next has no setter for.
    unsafe {
        (*parameters.as_mut_ptr()).codec_tag = 0;
    }
}
