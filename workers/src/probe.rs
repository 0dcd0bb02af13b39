//! Probe an untrusted upload: local demuxers only, real duration from packets.
//!
//! Order of checks, cheapest first: open (whitelisted demuxers) → a decodable video
//! stream → pixel and frame-rate caps from the headers → one pass over the packets that
//! measures the duration (stopping as soon as it is too long) and decodes the first
//! video frame on the way.
use std::path::Path;

use ffmpeg_next::format::context::Input;
use ffmpeg_next::format::stream::Disposition;
use ffmpeg_next::{media, Rational};
use serde::{Deserialize, Serialize};

use crate::media_input::{self, is_packet_error, next_packet};
use crate::span::Span;

/// Caps an upload must stay within. Defaults: 180 s, 4096×2304 pixels, 120 fps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeLimits {
    pub max_duration_ms: u64,
    pub max_pixels: u64,
    pub max_fps: f64,
}

impl Default for ProbeLimits {
    fn default() -> Self {
        Self {
            max_duration_ms: 180_000,
            max_pixels: 4096 * 2304,
            max_fps: 120.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaInfo {
    /// The demuxer that recognised the file (e.g. `mov,mp4,m4a,3gp,3g2,mj2`).
    pub format_name: String,
    /// Duration measured from the packets themselves.
    pub duration_ms: u64,
    /// What the container header claims, kept only for diagnostics.
    pub header_duration_ms: Option<u64>,
    pub video: VideoInfo,
    pub audio: Option<AudioInfo>,
}

impl MediaInfo {
    /// The content type browsers play this file as, unchanged, or `None` when it must be
    /// transcoded first: H.264 (8-bit 4:2:0) with AAC or no sound in MP4/MOV, or VP8/VP9
    /// with Opus/Vorbis or no sound in WebM/Matroska (what browsers record). A browser
    /// that turns one down anyway waits for the transcoded MP4, as for any other file.
    pub fn browser_content_type(&self) -> Option<&'static str> {
        let formats: Vec<&str> = self.format_name.split(',').collect();
        let audio = self.audio.as_ref().map(|a| a.codec.as_str());
        let mp4 = formats.contains(&"mp4")
            && self.video.codec == "h264"
            && self.video.pix_fmt == "yuv420p"
            && matches!(audio, None | Some("aac"));
        let webm = formats.contains(&"webm")
            && matches!(self.video.codec.as_str(), "vp8" | "vp9")
            && matches!(self.video.pix_fmt.as_str(), "yuv420p" | "yuva420p")
            && matches!(audio, None | Some("opus" | "vorbis"));
        if mp4 {
            Some("video/mp4")
        } else if webm {
            Some("video/webm")
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoInfo {
    pub codec: String,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub pix_fmt: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioInfo {
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u16,
}

/// A duration as people read it: `4:00`, `2:59.5` (tenths only when they matter).
fn clock(ms: u64) -> String {
    let tenths = (ms % 1000) / 100;
    let seconds = ms / 1000;
    let whole = format!("{}:{:02}", seconds / 60, seconds % 60);
    if tenths == 0 {
        whole
    } else {
        format!("{whole}.{tenths}")
    }
}

/// Why an upload was refused. Serializable so a sandboxed child can report it.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum ProbeError {
    #[error("not a recognised video file: {0}")]
    NotMedia(String),
    #[error("the file has no video stream")]
    NoVideo,
    #[error("the video stream cannot be decoded: {0}")]
    Undecodable(String),
    #[error("the video is {} long; an update can be at most {}", clock(*duration_ms), clock(*max_ms))]
    TooLong { duration_ms: u64, max_ms: u64 },
    #[error("the video is {width}×{height}, over the {max_pixels}-pixel limit")]
    TooManyPixels {
        width: u32,
        height: u32,
        max_pixels: u64,
    },
    #[error("the video runs at {fps} fps, over the {max_fps} fps limit")]
    TooManyFps { fps: f64, max_fps: f64 },
    #[error("i/o error while probing: {0}")]
    Io(String),
}

impl ProbeError {
    /// The stable machine-readable code the API reports.
    pub fn code(&self) -> &'static str {
        match self {
            ProbeError::TooLong { .. } => "too_long",
            ProbeError::TooManyPixels { .. } | ProbeError::TooManyFps { .. } => {
                "too_large_dimensions"
            }
            ProbeError::Io(_) => "internal",
            ProbeError::NotMedia(_) | ProbeError::NoVideo | ProbeError::Undecodable(_) => {
                "unsupported_media"
            }
        }
    }
}

/// Video packets we feed the decoder before calling the stream undecodable. A stream
/// cut mid-GOP (e.g. MPEG-TS) only yields a frame at the next keyframe, often 250
/// frames apart.
const MAX_PACKETS_BEFORE_FIRST_FRAME: u64 = 600;

/// The measured packet rate may exceed the header's frame rate (field-coded video sends
/// two packets per frame); only a gross excess means the header lied.
const MEASURED_FPS_SLACK: f64 = 2.0;

/// How far past the duration cap we keep reading timestamps to report the real length.
const OVERRUN_MEASURED_UP_TO: u64 = 2;

/// Vet an untrusted upload and describe it. Never panics on hostile input: every
/// FFmpeg failure becomes a [`ProbeError`].
pub fn probe(path: &Path, limits: &ProbeLimits) -> Result<MediaInfo, ProbeError> {
    crate::init_ffmpeg();
    // Tell "we cannot read the file" (our fault, 5xx) from "FFmpeg cannot parse it".
    std::fs::File::open(path).map_err(|e| ProbeError::Io(e.kind().to_string()))?;
    let mut input = media_input::open(path).map_err(|e| ProbeError::NotMedia(e.to_string()))?;
    let format_name = input.format().name().to_owned();
    let header_duration_ms = media_input::header_duration_ms(&input, None);

    let video_index = media_input::video_stream(&input).ok_or(ProbeError::NoVideo)?;
    let mut video = VideoProbe::open(&input, video_index)?;
    video.check_header(limits)?;
    let audio = audio_info(&input);

    let (duration_ms, video_span) = scan(&mut input, &mut video, limits)?;
    let (width, height, pix_fmt) = video
        .first_frame
        .ok_or_else(|| ProbeError::Undecodable("no video frame could be decoded".into()))?;
    check_pixels(width, height, limits)?;
    if video_span.millis(video.time_base) >= 1000 {
        let measured =
            video_span.packets() as f64 * 1000.0 / video_span.millis(video.time_base) as f64;
        if measured > limits.max_fps * MEASURED_FPS_SLACK {
            return Err(ProbeError::TooManyFps {
                fps: measured,
                max_fps: limits.max_fps,
            });
        }
    }

    Ok(MediaInfo {
        format_name,
        duration_ms,
        header_duration_ms,
        video: VideoInfo {
            codec: video.codec,
            width,
            height,
            fps: video.fps,
            pix_fmt,
        },
        audio,
    })
}

/// Judge a file that is still arriving: `Some(refusal)` once the bytes received so far
/// already prove the upload must be refused, `None` while they do not (yet).
///
/// Verdicts that more bytes cannot overturn: a faststart MP4 whose header (the sample
/// tables, which FFmpeg reads before any media data) declares more than the duration
/// cap, packets received so far that already span more than the cap (any container
/// that interleaves as it goes, such as WebM), or a frame size or rate over the caps.
/// Other containers' header durations are not trusted here: FFmpeg may have estimated
/// them from the bit rate. A prefix FFmpeg cannot open yet gives no verdict.
pub fn early_verdict(path: &Path, limits: &ProbeLimits) -> Option<ProbeError> {
    crate::init_ffmpeg();
    let mut input = media_input::open(path).ok()?;
    let too_long = |duration_ms: u64| {
        (duration_ms > limits.max_duration_ms).then_some(ProbeError::TooLong {
            duration_ms,
            max_ms: limits.max_duration_ms,
        })
    };
    if input.format().name().starts_with("mov,mp4") {
        if let Some(refusal) = media_input::header_duration_ms(&input, None).and_then(too_long) {
            return Some(refusal);
        }
    }
    let video_index = media_input::video_stream(&input)?;
    if let Err(refusal) = VideoProbe::open(&input, video_index).and_then(|v| v.check_header(limits))
    {
        return matches!(
            refusal,
            ProbeError::TooManyPixels { .. } | ProbeError::TooManyFps { .. }
        )
        .then_some(refusal);
    }
    let measured = measured_time_bases(&input);
    let mut spans = vec![Span::default(); measured.len()];
    // A truncated tail ends the scan like the end of the file does: it is only where the
    // bytes stop for now.
    while let Ok(Some(packet)) = next_packet(&mut input) {
        let index = packet.stream();
        if let (Some(Some(time_base)), Some(span)) = (measured.get(index), spans.get_mut(index)) {
            span.add(packet.pts(), packet.dts(), packet.duration());
            if let Some(refusal) = too_long(span.millis(*time_base)) {
                return Some(refusal);
            }
        }
    }
    None
}

/// What we know about the chosen video stream, and its decoder until a frame came out.
struct VideoProbe {
    index: usize,
    time_base: Rational,
    codec: String,
    fps: f64,
    width: u32,
    height: u32,
    decoder: Option<ffmpeg_next::decoder::Video>,
    packets_sent: u64,
    /// Size and pixel format of the first decoded frame.
    first_frame: Option<(u32, u32, String)>,
}

impl VideoProbe {
    fn open(input: &Input, index: usize) -> Result<Self, ProbeError> {
        let stream = input.stream(index).ok_or(ProbeError::NoVideo)?;
        // One frame is all we decode: a single-threaded decoder has the least delay.
        let decoder = media_input::video_decoder(&stream, false)
            .map_err(|e| ProbeError::Undecodable(format!("cannot open the video decoder: {e}")))?;
        Ok(Self {
            index,
            time_base: stream.time_base(),
            codec: stream.parameters().id().name().to_owned(),
            fps: frame_rate(stream.avg_frame_rate())
                .or_else(|| frame_rate(stream.rate()))
                .unwrap_or(0.0),
            width: decoder.width(),
            height: decoder.height(),
            decoder: Some(decoder),
            packets_sent: 0,
            first_frame: None,
        })
    }

    /// The caps that can be checked before decoding anything. A header without a size
    /// (0×0) is checked on the first decoded frame instead.
    fn check_header(&self, limits: &ProbeLimits) -> Result<(), ProbeError> {
        check_pixels(self.width, self.height, limits)?;
        if self.fps > limits.max_fps {
            return Err(ProbeError::TooManyFps {
                fps: self.fps,
                max_fps: limits.max_fps,
            });
        }
        Ok(())
    }

    /// Feed one packet to the decoder while we still wait for the first frame.
    fn feed(&mut self, packet: &ffmpeg_next::Packet) -> Result<(), ProbeError> {
        let Some(decoder) = self.decoder.as_mut() else {
            return Ok(());
        };
        match decoder.send_packet(packet) {
            Ok(()) => {}
            Err(e) if is_packet_error(&e) => {}
            Err(e) => return Err(ProbeError::Undecodable(e.to_string())),
        }
        self.take_frame();
        self.packets_sent += 1;
        if self.first_frame.is_none() && self.packets_sent > MAX_PACKETS_BEFORE_FIRST_FRAME {
            return Err(ProbeError::Undecodable(format!(
                "no frame after {MAX_PACKETS_BEFORE_FIRST_FRAME} packets"
            )));
        }
        Ok(())
    }

    /// At the end of the file: flush the decoder's delay (B-frames, one-frame files).
    fn drain(&mut self) {
        if let Some(decoder) = self.decoder.as_mut() {
            if decoder.send_eof().is_ok() {
                self.take_frame();
            }
        }
        self.decoder = None;
    }

    fn take_frame(&mut self) {
        let Some(decoder) = self.decoder.as_mut() else {
            return;
        };
        let mut frame = ffmpeg_next::frame::Video::empty();
        if decoder.receive_frame(&mut frame).is_ok() && frame.width() > 0 && frame.height() > 0 {
            let pix_fmt = frame
                .format()
                .descriptor()
                .map_or("unknown", |d| d.name())
                .to_owned();
            self.first_frame = Some((frame.width(), frame.height(), pix_fmt));
            // Done with decoding: the rest of the scan only reads timestamps.
            self.decoder = None;
        }
    }
}

/// Read every packet once: measure each audio/video stream's span and decode the first
/// video frame on the way. Returns the longest span (ms) and the video stream's span.
///
/// Once a span exceeds the cap the verdict is `TooLong`; decoding stops, and timestamps
/// are read on only until the span reaches [`OVERRUN_MEASURED_UP_TO`] × the cap, so the
/// error can say by how much a slightly long video overruns ("185 s") while a
/// ten-hour file costs no more than reading a few minutes of it.
fn scan(
    input: &mut Input,
    video: &mut VideoProbe,
    limits: &ProbeLimits,
) -> Result<(u64, Span), ProbeError> {
    let measured = measured_time_bases(input);
    let mut spans = vec![Span::default(); measured.len()];
    let mut longest = 0;
    let too_long = |ms: u64| ms > limits.max_duration_ms;
    let measured_enough = limits
        .max_duration_ms
        .saturating_mul(OVERRUN_MEASURED_UP_TO);

    loop {
        let packet = match next_packet(input) {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // Past the cap the verdict stands; a damaged tail only ends the measurement.
            Err(_) if too_long(longest) => break,
            Err(e) => return Err(ProbeError::Undecodable(format!("demuxing failed: {e}"))),
        };
        let index = packet.stream();
        if let (Some(Some(time_base)), Some(span)) = (measured.get(index), spans.get_mut(index)) {
            span.add(packet.pts(), packet.dts(), packet.duration());
            longest = longest.max(span.millis(*time_base));
            if longest > measured_enough {
                break;
            }
        }
        if index == video.index && !too_long(longest) {
            video.feed(&packet)?;
        }
    }
    if too_long(longest) {
        return Err(ProbeError::TooLong {
            duration_ms: longest,
            max_ms: limits.max_duration_ms,
        });
    }
    video.drain();
    Ok((longest, spans.get(video.index).copied().unwrap_or_default()))
}

/// The time base of each stream whose span counts as the media's duration (audio and
/// video, not cover art, subtitles or data); `None` for the others.
fn measured_time_bases(input: &Input) -> Vec<Option<Rational>> {
    input
        .streams()
        .map(|s| {
            let medium = s.parameters().medium();
            let counted = (medium == media::Type::Video
                && !s.disposition().contains(Disposition::ATTACHED_PIC))
                || medium == media::Type::Audio;
            counted.then(|| s.time_base())
        })
        .collect()
}

fn check_pixels(width: u32, height: u32, limits: &ProbeLimits) -> Result<(), ProbeError> {
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(ProbeError::TooManyPixels {
            width,
            height,
            max_pixels: limits.max_pixels,
        });
    }
    Ok(())
}

fn audio_info(input: &Input) -> Option<AudioInfo> {
    let stream = input.stream(media_input::audio_stream(input)?)?;
    match media_input::audio_decoder(&stream) {
        Ok(decoder) => Some(AudioInfo {
            codec: stream.parameters().id().name().to_owned(),
            sample_rate: decoder.rate(),
            channels: decoder.channels(),
        }),
        Err(e) => {
            // Transcoding would drop such a track too; the video is still usable.
            tracing::warn!(error = %e, "audio track has no working decoder, ignoring it");
            None
        }
    }
}

fn frame_rate(rate: Rational) -> Option<f64> {
    (rate.numerator() > 0 && rate.denominator() > 0)
        .then(|| f64::from(rate.numerator()) / f64::from(rate.denominator()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(format: &str, video: &str, pix_fmt: &str, audio: Option<&str>) -> MediaInfo {
        MediaInfo {
            format_name: format.into(),
            duration_ms: 1000,
            header_duration_ms: None,
            video: VideoInfo {
                codec: video.into(),
                width: 640,
                height: 360,
                fps: 30.0,
                pix_fmt: pix_fmt.into(),
            },
            audio: audio.map(|codec| AudioInfo {
                codec: codec.into(),
                sample_rate: 48_000,
                channels: 2,
            }),
        }
    }

    #[test]
    fn browsers_play_h264_mp4_and_vp9_webm_as_they_are() {
        let mov = "mov,mp4,m4a,3gp,3g2,mj2";
        let mkv = "matroska,webm";
        let playable = [
            (info(mov, "h264", "yuv420p", Some("aac")), "video/mp4"),
            (info(mov, "h264", "yuv420p", None), "video/mp4"),
            (info(mkv, "vp9", "yuv420p", Some("opus")), "video/webm"),
            (info(mkv, "vp8", "yuv420p", Some("vorbis")), "video/webm"),
        ];
        for (media, expected) in playable {
            assert_eq!(media.browser_content_type(), Some(expected), "{media:?}");
        }
        let transcoded_first = [
            info(mov, "hevc", "yuv420p", Some("aac")),
            info(mov, "h264", "yuv420p10le", Some("aac")),
            info(mov, "h264", "yuv422p", None),
            info(mov, "h264", "yuv420p", Some("pcm_s16le")),
            info(mkv, "h264", "yuv420p", Some("aac")),
            info(mkv, "vp9", "yuv420p", Some("aac")),
            info("avi", "h264", "yuv420p", Some("aac")),
            info("mpegts", "h264", "yuv420p", Some("aac")),
        ];
        for media in transcoded_first {
            assert_eq!(media.browser_content_type(), None, "{media:?}");
        }
    }

    #[test]
    fn a_too_long_video_is_explained_in_minutes() {
        let refusal = ProbeError::TooLong {
            duration_ms: 240_000,
            max_ms: 180_000,
        };
        assert_eq!(
            refusal.to_string(),
            "the video is 4:00 long; an update can be at most 3:00"
        );
        assert_eq!(clock(180_500), "3:00.5");
        assert_eq!(clock(59_999), "0:59.9");
    }
}
