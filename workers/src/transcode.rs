//! The playable MP4: H.264/AAC, faststart, at most 720p, stream copy when it already fits.
//!
//! [`transcode`] inspects the input, picks [`TranscodeMode`], and writes through a
//! temp file that is renamed into place only once the MP4 is complete. The work itself
//! lives in [`remux`] (stream copy) and [`video_track`] + [`audio_track`] (re-encode).
mod audio_track;
mod progress;
mod remux;
mod video_track;

use std::path::Path;

use ffmpeg_next::format::context::{Input, Output};
use ffmpeg_next::format::{self, Pixel};
use ffmpeg_next::{codec, Dictionary, Packet, Rational, Rescale};
use serde::{Deserialize, Serialize};

use crate::geometry::{self, Rotation};
use crate::media_input::{self, next_packet};
use crate::span::Span;
use crate::staged_file::StagedFile;
use crate::MediaError;
use audio_track::AudioTrack;
use progress::Progress;
use video_track::VideoTrack;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TranscodeOptions {
    /// Longest side ≤ `max_long_side` and shortest side ≤ `max_short_side` (1280×720 keeps "720p" for portrait too).
    pub max_long_side: u32,
    pub max_short_side: u32,
    pub crf: u8,
    pub preset: String,
    /// Encoder threads; 0 lets the encoder choose.
    pub threads: usize,
}

impl Default for TranscodeOptions {
    fn default() -> Self {
        Self {
            max_long_side: 1280,
            max_short_side: 720,
            crf: 23,
            preset: "veryfast".into(),
            threads: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TranscodeMode {
    StreamCopy,
    Reencode,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TranscodeReport {
    pub mode: TranscodeMode,
    pub width: u32,
    pub height: u32,
    pub duration_ms: u64,
    pub has_audio: bool,
}

/// Write `output` (an MP4 with `faststart`). `on_progress` receives 0..=100.
pub fn transcode(
    input: &Path,
    output: &Path,
    options: &TranscodeOptions,
    on_progress: &mut dyn FnMut(u8),
) -> Result<TranscodeReport, MediaError> {
    crate::init_ffmpeg();
    if options.max_long_side < 2 || options.max_short_side < 2 || options.crf > 51 {
        return Err(MediaError::Encode(format!(
            "invalid transcode options {options:?}"
        )));
    }
    let plan = Plan::inspect(input, options)?;
    let file_size = std::fs::metadata(input)?.len();
    let mut progress = Progress::new(plan.duration_ms, file_size, on_progress);

    let report = match plan.mode {
        TranscodeMode::StreamCopy => {
            match write_mp4(input, output, &plan, options, &mut progress) {
                Ok(report) => report,
                Err(e) => {
                    // Broken timestamps or an odd bitstream can defeat the muxer while the
                    // decoder copes: re-encoding is slower but repairs what copying cannot.
                    tracing::warn!(error = %e, "stream copy failed, re-encoding instead");
                    let plan = Plan {
                        mode: TranscodeMode::Reencode,
                        ..plan
                    };
                    write_mp4(input, output, &plan, options, &mut progress)?
                }
            }
        }
        TranscodeMode::Reencode => write_mp4(input, output, &plan, options, &mut progress)?,
    };
    progress.done();
    Ok(report)
}

/// What the input holds and what we will do with it.
#[derive(Debug, Clone)]
struct Plan {
    mode: TranscodeMode,
    video_index: usize,
    audio_index: Option<usize>,
    /// Output size when re-encoding: displayed orientation, fitted, even.
    encode_size: (u32, u32),
    /// Output size when copying: the coded size, untouched.
    copy_size: (u32, u32),
    rotation: Rotation,
    duration_ms: Option<u64>,
}

impl Plan {
    fn inspect(path: &Path, options: &TranscodeOptions) -> Result<Self, MediaError> {
        let input = media_input::open(path).map_err(|e| MediaError::Open(e.to_string()))?;
        let video_index = media_input::video_stream(&input).ok_or(MediaError::NoVideo)?;
        let audio_index = media_input::audio_stream(&input);
        let stream = input.stream(video_index).ok_or(MediaError::NoVideo)?;
        let decoder = media_input::video_decoder(&stream, false)
            .map_err(|e| MediaError::Decode(format!("video decoder: {e}")))?;
        let rotation = media_input::rotation(&stream);
        let sar = decoder.aspect_ratio();
        let (coded_w, coded_h) = (decoder.width(), decoder.height());
        let (display_w, display_h) = geometry::display_size(
            coded_w,
            coded_h,
            (sar.numerator(), sar.denominator()),
            rotation,
        );
        let encode_size = geometry::fit_within(
            display_w,
            display_h,
            options.max_long_side,
            options.max_short_side,
        );

        let fits = coded_w.max(coded_h) <= options.max_long_side
            && coded_w.min(coded_h) <= options.max_short_side;
        let video_ready =
            stream.parameters().id() == codec::Id::H264 && decoder.format() == Pixel::YUV420P;
        let audio_ready = audio_index
            .and_then(|i| input.stream(i))
            .is_none_or(|a| a.parameters().id() == codec::Id::AAC);
        // A rotated source is re-encoded so the rotation is baked into the pixels.
        let copy = fits && video_ready && audio_ready && rotation == Rotation::None;
        Ok(Self {
            mode: if copy {
                TranscodeMode::StreamCopy
            } else {
                TranscodeMode::Reencode
            },
            video_index,
            audio_index,
            encode_size,
            copy_size: (coded_w, coded_h),
            rotation,
            duration_ms: media_input::header_duration_ms(&input, Some(video_index)),
        })
    }
}

/// One attempt at the output: everything goes to a temp file, renamed at the end.
fn write_mp4(
    path: &Path,
    destination: &Path,
    plan: &Plan,
    options: &TranscodeOptions,
    progress: &mut Progress<'_>,
) -> Result<TranscodeReport, MediaError> {
    let mut input = media_input::open(path).map_err(|e| MediaError::Open(e.to_string()))?;
    let streams: Vec<usize> = std::iter::once(plan.video_index)
        .chain(plan.audio_index)
        .collect();
    let offset_us = media_input::start_offset_us(&input, &streams);

    let staged = StagedFile::new(destination);
    let url =
        media_input::ffmpeg_path(staged.path()).map_err(|e| MediaError::Encode(e.to_string()))?;
    let mut output = format::output_as(&url, "mp4")
        .map_err(|e| MediaError::Encode(format!("creating the mp4: {e}")))?;

    let written = match plan.mode {
        TranscodeMode::StreamCopy => remux::run(
            &mut input,
            &mut output,
            &streams,
            offset_us,
            plan.video_index,
            progress,
        )?,
        TranscodeMode::Reencode => {
            reencode(&mut input, &mut output, plan, options, offset_us, progress)?
        }
    };
    // With faststart the muxer rewrites the file here to move `moov` before `mdat`.
    output
        .write_trailer()
        .map_err(|e| MediaError::Encode(format!("finishing the mp4: {e}")))?;
    drop(output);
    staged.commit()?;
    let (width, height) = match plan.mode {
        TranscodeMode::StreamCopy => plan.copy_size,
        TranscodeMode::Reencode => plan.encode_size,
    };
    Ok(TranscodeReport {
        mode: plan.mode,
        width,
        height,
        duration_ms: written.duration_ms(),
        has_audio: plan.audio_index.is_some(),
    })
}

fn reencode(
    input: &mut Input,
    output: &mut Output,
    plan: &Plan,
    options: &TranscodeOptions,
    offset_us: i64,
    progress: &mut Progress<'_>,
) -> Result<Written, MediaError> {
    let mut video = {
        let stream = input.stream(plan.video_index).ok_or(MediaError::NoVideo)?;
        let decoder = media_input::video_decoder(&stream, true)
            .map_err(|e| MediaError::Decode(format!("video decoder: {e}")))?;
        VideoTrack::new(
            &stream,
            decoder,
            output,
            plan.encode_size,
            plan.rotation,
            options,
            offset_us,
        )?
    };
    let mut audio = match plan.audio_index.and_then(|i| input.stream(i)) {
        Some(stream) => Some(AudioTrack::new(&stream, output, offset_us)?),
        None => None,
    };
    write_header(output)?;
    video.set_output_time_base(output_time_base(output, video.output_index())?);
    if let Some(audio) = audio.as_mut() {
        audio.set_output_time_base(output_time_base(output, audio.output_index())?);
    }

    let mut written = Written::new(output.nb_streams() as usize);
    let offset_ms = offset_us / 1000;
    while let Some(packet) =
        next_packet(input).map_err(|e| MediaError::Decode(format!("demuxing: {e}")))?
    {
        if packet.stream() == plan.video_index {
            if let Some(pts) = packet.pts() {
                progress.update(
                    pts.rescale(video.time_base(), (1, 1000))
                        .saturating_sub(offset_ms),
                    packet.position(),
                );
            }
            video.send(&packet, output, &mut written)?;
        } else if Some(packet.stream()) == plan.audio_index {
            if let Some(audio) = audio.as_mut() {
                audio.send(&packet, output, &mut written)?;
            }
        }
    }
    video.finish(output, &mut written)?;
    if let Some(audio) = audio.as_mut() {
        audio.finish(output, &mut written)?;
    }
    Ok(written)
}

/// MP4 needs codec headers out of band (avcC, esds): encoders must put them in extradata.
fn global_header(output: &Output) -> bool {
    output
        .format()
        .flags()
        .contains(format::Flags::GLOBAL_HEADER)
}

fn write_header(output: &mut Output) -> Result<(), MediaError> {
    let mut options = Dictionary::new();
    // `moov` before `mdat`: browsers start playing before the whole file arrived.
    options.set("movflags", "+faststart");
    output
        .write_header_with(options)
        .map(|_| ())
        .map_err(|e| MediaError::Encode(format!("writing the mp4 header: {e}")))
}

fn output_time_base(output: &Output, index: usize) -> Result<Rational, MediaError> {
    output
        .stream(index)
        .map(|s| s.time_base())
        .ok_or(MediaError::Encode("output stream vanished".into()))
}

/// What went into the MP4, per output stream, to report the real duration.
struct Written {
    spans: Vec<(Span, Rational)>,
}

impl Written {
    fn new(streams: usize) -> Self {
        Self {
            spans: vec![(Span::default(), Rational::new(1, 1000)); streams],
        }
    }

    fn record(&mut self, index: usize, packet: &Packet, time_base: Rational) {
        if let Some((span, tb)) = self.spans.get_mut(index) {
            span.add(packet.pts(), packet.dts(), packet.duration());
            *tb = time_base;
        }
    }

    fn duration_ms(&self) -> u64 {
        self.spans
            .iter()
            .map(|(span, tb)| span.millis(*tb))
            .max()
            .unwrap_or(0)
    }
}
