//! whisper.cpp's legacy ggml file: magic, hyper-parameters, mel filters, vocabulary, tensors.
//! All integers are little-endian i32, as whisper.cpp reads them on the machines we target.
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::path::Path;

use super::f16::f32_to_f16;
use super::mel::MelFilters;
use super::quantize::quantize_q8_0;
use super::{GgmlHeader, ModelError};

/// "ggml" as a little-endian u32.
pub const MAGIC: u32 = 0x6767_6d6c;
/// whisper.cpp stores `ftype + QNT_VERSION * 1000` for quantized files and strips it on load.
const QNT_VERSION_FACTOR: i32 = 1000;
/// The quantization format version of ggml's block layouts (GGML_QNT_VERSION).
const QNT_VERSION: i32 = 2;

/// `ggml_ftype` values for the header: what most matrices are stored as.
pub const FTYPE_MOSTLY_F16: i32 = 1;
pub const FTYPE_MOSTLY_Q8_0: i32 = 7;

/// Per-tensor storage type (`ggml_type` ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorType {
    F32 = 0,
    F16 = 1,
    Q8_0 = 8,
}

/// The complete set of hyper-parameters whisper.cpp reads, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HParams {
    pub n_vocab: i32,
    pub n_audio_ctx: i32,
    pub n_audio_state: i32,
    pub n_audio_head: i32,
    pub n_audio_layer: i32,
    pub n_text_ctx: i32,
    pub n_text_state: i32,
    pub n_text_head: i32,
    pub n_text_layer: i32,
    pub n_mels: i32,
    /// `ggml_ftype` without the quantization version.
    pub ftype: i32,
}

impl HParams {
    fn stored_ftype(&self) -> i32 {
        if self.ftype == FTYPE_MOSTLY_F16 {
            self.ftype // f16 files carry no quantization version, like whisper.cpp's converter
        } else {
            self.ftype + QNT_VERSION * QNT_VERSION_FACTOR
        }
    }
}

/// Streams a ggml file section by section, in the order whisper.cpp reads it.
pub struct GgmlWriter<W: Write> {
    out: W,
    bytes: u64,
    tensors: usize,
}

impl<W: Write> GgmlWriter<W> {
    pub fn new(out: W, hparams: &HParams) -> Result<Self, ModelError> {
        let mut w = Self {
            out,
            bytes: 0,
            tensors: 0,
        };
        w.put(&MAGIC.to_le_bytes())?;
        for v in [
            hparams.n_vocab,
            hparams.n_audio_ctx,
            hparams.n_audio_state,
            hparams.n_audio_head,
            hparams.n_audio_layer,
            hparams.n_text_ctx,
            hparams.n_text_state,
            hparams.n_text_head,
            hparams.n_text_layer,
            hparams.n_mels,
            hparams.stored_ftype(),
        ] {
            w.put_i32(v)?;
        }
        Ok(w)
    }

    pub fn mel_filters(&mut self, filters: &MelFilters) -> Result<(), ModelError> {
        self.put_i32(to_i32(filters.n_mels)?)?;
        self.put_i32(to_i32(filters.n_freqs)?)?;
        let bytes: Vec<u8> = filters.data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.put(&bytes)
    }

    pub fn vocabulary(&mut self, tokens: &[Vec<u8>]) -> Result<(), ModelError> {
        self.put_i32(to_i32(tokens.len())?)?;
        for token in tokens {
            self.put_i32(to_i32(token.len())?)?;
            self.put(token)?;
        }
        Ok(())
    }

    /// One tensor. `dims` is row-major (outermost first, as PyTorch and CTranslate2 list it);
    /// ggml lists dimensions innermost first, so they are written reversed.
    pub fn tensor(
        &mut self,
        name: &str,
        dims: &[usize],
        values: &[f32],
        ty: TensorType,
    ) -> Result<(), ModelError> {
        let payload: Vec<u8> = match ty {
            TensorType::F32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            TensorType::F16 => values
                .iter()
                .flat_map(|&v| f32_to_f16(v).to_le_bytes())
                .collect(),
            TensorType::Q8_0 => {
                let row_len = dims.last().copied().unwrap_or(values.len());
                quantize_q8_0(values, row_len).map_err(|e| {
                    ModelError::BadCt2(format!("{name} cannot be stored as q8_0: {e}"))
                })?
            }
        };
        self.put_i32(to_i32(dims.len())?)?;
        self.put_i32(to_i32(name.len())?)?;
        self.put_i32(ty as i32)?;
        for &d in dims.iter().rev() {
            self.put_i32(to_i32(d)?)?;
        }
        self.put(name.as_bytes())?;
        self.put(&payload)?;
        self.tensors += 1;
        Ok(())
    }

    /// Flush and hand back the sink with the number of tensors and bytes written.
    pub fn finish(mut self) -> Result<(W, usize, u64), ModelError> {
        self.out.flush()?;
        Ok((self.out, self.tensors, self.bytes))
    }

    fn put_i32(&mut self, v: i32) -> Result<(), ModelError> {
        self.put(&v.to_le_bytes())
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), ModelError> {
        self.out.write_all(bytes)?;
        self.bytes += bytes.len() as u64;
        Ok(())
    }
}

fn to_i32(n: usize) -> Result<i32, ModelError> {
    i32::try_from(n)
        .map_err(|_| ModelError::BadCt2(format!("{n} does not fit the ggml format's i32 fields")))
}

/// Read the magic and hyper-parameters of a ggml whisper file.
pub fn read_header(path: &Path) -> Result<GgmlHeader, ModelError> {
    let mut raw = [0u8; 48];
    File::open(path)?
        .read_exact(&mut raw)
        .map_err(|e| match e.kind() {
            ErrorKind::UnexpectedEof => {
                ModelError::BadGgml("file is shorter than a ggml header".into())
            }
            _ => ModelError::Io(e),
        })?;
    let word = |i: usize| [raw[4 * i], raw[4 * i + 1], raw[4 * i + 2], raw[4 * i + 3]];
    let magic = u32::from_le_bytes(word(0));
    if magic != MAGIC {
        return Err(ModelError::BadGgml(format!("bad magic {magic:#010x}")));
    }
    let v: Vec<i32> = (1..12).map(|i| i32::from_le_bytes(word(i))).collect();
    let header = GgmlHeader {
        n_vocab: v[0],
        n_audio_state: v[2],
        n_audio_layer: v[4],
        n_text_state: v[6],
        n_text_layer: v[8],
        n_mels: v[9],
        ftype: v[10] % QNT_VERSION_FACTOR,
    };
    let sizes = [v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]];
    if sizes.iter().any(|&n| n <= 0) || header.ftype < 0 {
        return Err(ModelError::BadGgml(format!(
            "implausible hyper-parameters {v:?}"
        )));
    }
    Ok(header)
}
