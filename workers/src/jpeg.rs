//! Still images: one `yuvj420p` frame in, a baseline JPEG (FFmpeg's `mjpeg` encoder) out.
use std::io::Write;
use std::path::Path;

use ffmpeg_next::codec::{self, encoder};
use ffmpeg_next::format::Pixel;
use ffmpeg_next::{frame, Packet};

use crate::staged_file::StagedFile;
use crate::MediaError;

/// JPEG quantiser scale (`-q:v`): 2 is near-lossless, 31 worst. 4 keeps thumbnails
/// small without visible blocking.
const QSCALE: i32 = 4;
/// FFmpeg's lambda per quantiser step (`FF_QP2LAMBDA`).
const QP2LAMBDA: i32 = 118;

/// Encode `picture` (must be `yuvj420p`) and write it to `output` atomically.
pub(crate) fn write_jpeg(picture: &frame::Video, output: &Path) -> Result<(), MediaError> {
    let bytes = encode(picture).map_err(|e| MediaError::Encode(format!("jpeg: {e}")))?;
    let staged = StagedFile::new(output);
    let mut file = std::fs::File::create(staged.path())?;
    file.write_all(&bytes)?;
    file.sync_all()?;
    drop(file);
    staged.commit()?;
    Ok(())
}

fn encode(picture: &frame::Video) -> Result<Vec<u8>, ffmpeg_next::Error> {
    let codec = encoder::find(codec::Id::MJPEG).ok_or(ffmpeg_next::Error::EncoderNotFound)?;
    let mut jpeg = codec::Context::new_with_codec(codec).encoder().video()?;
    jpeg.set_width(picture.width());
    jpeg.set_height(picture.height());
    jpeg.set_format(Pixel::YUVJ420P);
    jpeg.set_time_base((1, 25));
    // Fixed quantiser: with QSCALE the encoder takes lambda from each frame's
    // `quality` (which ffmpeg-next cannot set); pinning qmin = qmax makes whatever it
    // derives from that land on QSCALE.
    jpeg.set_flags(codec::Flags::QSCALE);
    jpeg.set_global_quality(QSCALE * QP2LAMBDA);
    jpeg.set_qmin(QSCALE);
    jpeg.set_qmax(QSCALE);
    let mut jpeg = jpeg.open_as(codec)?;

    jpeg.send_frame(picture)?;
    jpeg.send_eof()?;

    let mut bytes = Vec::new();
    let mut packet = Packet::empty();
    while jpeg.receive_packet(&mut packet).is_ok() {
        bytes.extend_from_slice(packet.data().unwrap_or_default());
    }
    if bytes.len() < 4 {
        return Err(ffmpeg_next::Error::InvalidData);
    }
    Ok(bytes)
}
