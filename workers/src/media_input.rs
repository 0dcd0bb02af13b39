//! Opening an untrusted file and choosing its streams, the same way for every step.
//!
//! Every public function opens uploads through [`open`], not only `probe`: the
//! transcoder and the thumbnailers read the same untrusted bytes, so they get the same
//! demuxer and protocol whitelist (defence in depth if a caller skips the probe).
use std::path::Path;

use ffmpeg_next::codec::{self, decoder, threading};
use ffmpeg_next::format::{self, context::Input, stream::Disposition};
use ffmpeg_next::Stream;
use ffmpeg_next::{media, Dictionary, Rescale};

use crate::geometry::Rotation;

/// Demuxers of real video containers. Everything else (playlists such as `hls`,
/// `concat` which can read other files, image sequences, `tty`, raw `data`, `lavfi`,
/// device inputs…) is refused before it reads a byte beyond the probe.
/// The list is matched against each comma-separated alias of the demuxer's name.
const FORMAT_WHITELIST: &str = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts,flv,ogg,mpeg";

/// Decoders of what real recordings hold (phones, browsers, cameras, screen
/// recorders, editors' exports). Each decoder is C code parsing the upload's
/// bytes, so the others (lossless archival and image-sequence codecs, old game
/// and capture formats…) are not reachable: a stream needing one counts as
/// having no decoder. Matched against the decoder's name.
const DECODER_WHITELIST: &str = "h264,hevc,vp8,vp9,av1,libdav1d,libaom-av1,mpeg4,mpeg2video,mpeg1video,h263,flv,\
    msmpeg4v3,mjpeg,adpcm_swf,adpcm_ima_wav,adpcm_ms,\
    theora,prores,aac,aac_fixed,aac_latm,mp3,mp3float,mp2,mp2float,opus,libopus,vorbis,libvorbis,flac,alac,ac3,\
    ac3_fixed,eac3,amrnb,amrwb,pcm_s16le,pcm_s16be,pcm_s24le,pcm_s24be,pcm_s32le,pcm_f32le,pcm_u8,pcm_mulaw,pcm_alaw";

/// Local files only: no http, no pipe, no `subfile`/`concat` protocols smuggled in by
/// a nested demuxer.
const PROTOCOL_WHITELIST: &str = "file";

/// Why an input could not be opened.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// A path FFmpeg's C API cannot carry (not UTF-8 or with a NUL byte).
    BadPath,
    /// FFmpeg refused the file: unknown, not whitelisted, truncated header, …
    Refused(ffmpeg_next::Error),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::BadPath => f.write_str("unsupported file name"),
            OpenError::Refused(e) => write!(f, "{e}"),
        }
    }
}

/// The string FFmpeg gets for a local path. The `file:` prefix pins the protocol, so
/// a name containing `:` can never be read as `proto:…`; ffmpeg-next would panic on a
/// non-UTF-8 path or an interior NUL, so those are refused here.
pub(crate) fn ffmpeg_path(path: &Path) -> Result<String, OpenError> {
    let text = path.to_str().ok_or(OpenError::BadPath)?;
    if text.contains('\0') {
        return Err(OpenError::BadPath);
    }
    Ok(format!("file:{text}"))
}

/// Open `path` restricted to the whitelisted demuxers, decoders and the `file` protocol.
pub(crate) fn open(path: &Path) -> Result<Input, OpenError> {
    let url = ffmpeg_path(path)?;
    let mut options = Dictionary::new();
    options.set("format_whitelist", FORMAT_WHITELIST);
    options.set("protocol_whitelist", PROTOCOL_WHITELIST);
    // The decoders FFmpeg opens itself while it looks for stream parameters, too.
    options.set("codec_whitelist", DECODER_WHITELIST);
    // MP4 data references can point at other files; the mov demuxer ignores them by
    // default, and we say so explicitly so a default change cannot open them.
    options.set("enable_drefs", "0");
    format::input_with_dictionary(&url, options).map_err(OpenError::Refused)
}

/// The video stream to use: not cover art, and one we can decode. FFmpeg's "best"
/// choice wins when it qualifies (it weighs resolution and the default flag).
pub(crate) fn video_stream(input: &Input) -> Option<usize> {
    let usable = |s: &Stream| {
        s.parameters().medium() == media::Type::Video
            && !s.disposition().contains(Disposition::ATTACHED_PIC)
            && allowed_decoder(s.parameters().id()).is_some()
    };
    if let Some(best) = input.streams().best(media::Type::Video) {
        if usable(&best) {
            return Some(best.index());
        }
    }
    input.streams().find(|s| usable(s)).map(|s| s.index())
}

/// The audio stream to use, if any has a decoder.
pub(crate) fn audio_stream(input: &Input) -> Option<usize> {
    let usable = |s: &Stream| {
        s.parameters().medium() == media::Type::Audio
            && allowed_decoder(s.parameters().id()).is_some()
    };
    if let Some(best) = input.streams().best(media::Type::Audio) {
        if usable(&best) {
            return Some(best.index());
        }
    }
    input.streams().find(|s| usable(s)).map(|s| s.index())
}

/// Open a video decoder for `stream`. `threaded` turns on frame threading with one
/// thread per core: worth it when decoding a whole file; a single frame comes out
/// sooner from a single-threaded decoder (frame threads add a frame of delay each).
pub(crate) fn video_decoder(
    stream: &Stream,
    threaded: bool,
) -> Result<decoder::Video, ffmpeg_next::Error> {
    let mut context = codec::Context::from_parameters(stream.parameters())?;
    if threaded {
        context.set_threading(threading::Config {
            kind: threading::Type::Frame,
            count: 0,
            ..Default::default()
        });
    }
    let mut decoder = context.decoder();
    decoder.set_packet_time_base(stream.time_base());
    open_allowed(decoder, stream)?.video()
}

pub(crate) fn audio_decoder(stream: &Stream) -> Result<decoder::Audio, ffmpeg_next::Error> {
    let context = codec::Context::from_parameters(stream.parameters())?;
    let mut decoder = context.decoder();
    decoder.set_packet_time_base(stream.time_base());
    open_allowed(decoder, stream)?.audio()
}

/// The decoder FFmpeg would use for `id`, if it is one of [`DECODER_WHITELIST`].
fn allowed_decoder(id: codec::Id) -> Option<ffmpeg_next::Codec> {
    decoder::find(id).filter(|codec| {
        DECODER_WHITELIST
            .split(',')
            .any(|name| name == codec.name())
    })
}

/// Open `decoder` for `stream` with the whitelist also handed to FFmpeg, which
/// checks it itself when the decoder opens.
fn open_allowed(
    decoder: decoder::Decoder,
    stream: &Stream,
) -> Result<decoder::Opened, ffmpeg_next::Error> {
    let codec =
        allowed_decoder(stream.parameters().id()).ok_or(ffmpeg_next::Error::DecoderNotFound)?;
    let mut options = Dictionary::new();
    options.set("codec_whitelist", DECODER_WHITELIST);
    decoder.open_as_with(codec, options)
}

/// The quarter turn the container asks players to apply to this stream.
pub(crate) fn rotation(stream: &Stream) -> Rotation {
    stream
        .side_data()
        .find(|d| d.kind() == codec::packet::side_data::Type::DisplayMatrix)
        .map(|d| Rotation::from_display_matrix(d.data()))
        .unwrap_or(Rotation::None)
}

/// Where the presentation starts, in microseconds: the earliest `start_time` of the
/// given streams. Output timestamps are shifted by it so they begin at zero, like the
/// ffmpeg CLI does without `-copyts`.
pub(crate) fn start_offset_us(input: &Input, streams: &[usize]) -> i64 {
    streams
        .iter()
        .filter_map(|&i| input.stream(i))
        .filter(|s| s.start_time() != ffmpeg_next::ffi::AV_NOPTS_VALUE && valid_time_base(s))
        .map(|s| {
            s.start_time()
                .rescale(s.time_base(), ffmpeg_next::rescale::TIME_BASE)
        })
        .min()
        .unwrap_or(0)
}

/// Duration in ms from the container header or, failing that, the stream header.
/// Only a hint (progress, seek clamping): real checks measure packets.
pub(crate) fn header_duration_ms(input: &Input, stream: Option<usize>) -> Option<u64> {
    let from_format = input.duration();
    if from_format != ffmpeg_next::ffi::AV_NOPTS_VALUE && from_format > 0 {
        return Some((from_format / 1000) as u64);
    }
    let stream = input.stream(stream?)?;
    let duration = stream.duration();
    if duration == ffmpeg_next::ffi::AV_NOPTS_VALUE || duration <= 0 || !valid_time_base(&stream) {
        return None;
    }
    u64::try_from(duration.rescale(stream.time_base(), (1, 1000))).ok()
}

fn valid_time_base(stream: &Stream) -> bool {
    let tb = stream.time_base();
    tb.numerator() > 0 && tb.denominator() > 0
}

/// How many corrupt packets in a row the demuxer may report before we give up: it
/// usually resyncs after one, but a hostile file must not keep us spinning.
const MAX_CORRUPT_PACKETS_IN_A_ROW: u32 = 1_000;

/// The next packet, `None` at the end of the file. Unlike ffmpeg-next's packet
/// iterator, I/O errors are reported instead of looking like a clean end.
pub(crate) fn next_packet(
    input: &mut Input,
) -> Result<Option<ffmpeg_next::Packet>, ffmpeg_next::Error> {
    let mut corrupt = 0;
    loop {
        let mut packet = ffmpeg_next::Packet::empty();
        match packet.read(input) {
            Ok(()) => return Ok(Some(packet)),
            Err(ffmpeg_next::Error::Eof) => return Ok(None),
            Err(ffmpeg_next::Error::InvalidData) if corrupt < MAX_CORRUPT_PACKETS_IN_A_ROW => {
                corrupt += 1
            }
            Err(e) => return Err(e),
        }
    }
}

/// Whether a decoder error only concerns the packet just sent (skip it, as the ffmpeg
/// CLI does) rather than the decoder itself: corrupt or unsupported bitstream parts
/// are per packet; running out of memory or misusing the API is not.
pub(crate) fn is_packet_error(error: &ffmpeg_next::Error) -> bool {
    use ffmpeg_next::error::{EAGAIN, ENOMEM};
    match error {
        ffmpeg_next::Error::Eof | ffmpeg_next::Error::Bug | ffmpeg_next::Error::Bug2 => false,
        ffmpeg_next::Error::Other { errno } => *errno != EAGAIN && *errno != ENOMEM,
        _ => true,
    }
}
