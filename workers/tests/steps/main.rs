//! The media steps on generated fixtures: probing hostile input, transcoding,
//! stills and audio, the model conversion and whisper transcription with the
//! real tiny.en model. One binary: `cargo test -p bulletin-workers --test steps -- transcribe::`
//! runs one area.

mod support;

mod media;
mod model_convert;
mod transcribe;
