//! The conversion itself: CTranslate2 directory in, ggml file out (atomically).
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::ct2::Ct2Model;
use super::ggml::{GgmlWriter, HParams, TensorType, FTYPE_MOSTLY_F16, FTYPE_MOSTLY_Q8_0};
use super::layout::{whisper_tensors, Storage, TensorPlan};
use super::mel::mel_filters;
use super::vocab::parse_vocabulary;
use super::{ConvertOptions, ConvertReport, ModelError, WeightType};

/// Every Whisper size uses 64-dimensional attention heads; used when the file has no head count.
const HEAD_DIM: i64 = 64;

pub fn convert(
    ct2_dir: &Path,
    out: &Path,
    options: &ConvertOptions,
) -> Result<ConvertReport, ModelError> {
    let vocab_text = String::from_utf8(fs::read(required(ct2_dir, "vocabulary.txt")?)?)
        .map_err(|_| ModelError::BadCt2("vocabulary.txt is not UTF-8".into()))?;
    let vocab = parse_vocabulary(&vocab_text)?;
    let mut model = Ct2Model::open(&required(ct2_dir, "model.bin")?)?;
    if model.spec != "WhisperSpec" {
        return Err(ModelError::BadCt2(format!(
            "expected a WhisperSpec model, found {:?}",
            model.spec
        )));
    }
    let (matrix_type, ftype) = match options.weight_type {
        WeightType::F16 => (TensorType::F16, FTYPE_MOSTLY_F16),
        WeightType::Q8_0 => (TensorType::Q8_0, FTYPE_MOSTLY_Q8_0),
    };
    let hparams = derive_hparams(&mut model, vocab.n_vocab, ftype)?;
    tracing::info!(?hparams, weight_type = ?options.weight_type, "converting CTranslate2 model to ggml");

    let temp = TempFile::beside(out);
    let mut writer = GgmlWriter::new(BufWriter::new(File::create(&temp.path)?), &hparams)?;
    writer.mel_filters(&mel_filters(hparams.n_mels as usize))?;
    writer.vocabulary(&vocab.tokens)?;

    // Q, K and V (and cross K, V) come from the same fused variable in a row: keep the last
    // one read instead of reading it three times.
    let mut cached: Option<Loaded> = None;
    for plan in whisper_tensors(&hparams) {
        let source = match cached.take() {
            Some(hit) if hit.name == plan.source => hit,
            _ => {
                let (dims, values) = model.read_f32(&plan.source)?;
                Loaded {
                    name: plan.source.clone(),
                    dims,
                    values,
                }
            }
        };
        let (shape, data) = take_rows(&plan, &source.dims, &source.values)?;
        let ty = match plan.storage {
            Storage::Matrix => matrix_type,
            Storage::Conv => TensorType::F16,
            Storage::F32 => TensorType::F32,
        };
        writer.tensor(&plan.name, &shape, data, ty)?;
        cached = Some(source);
    }
    let (buffered, tensors, bytes) = writer.finish()?;
    let file = buffered
        .into_inner()
        .map_err(|e| ModelError::Io(e.into_error()))?;
    file.sync_all()?;
    drop(file);
    temp.persist(out)?;
    Ok(ConvertReport { tensors, bytes })
}

/// A CTranslate2 variable read into memory.
struct Loaded {
    name: String,
    dims: Vec<usize>,
    values: Vec<f32>,
}

fn required(dir: &Path, name: &str) -> Result<PathBuf, ModelError> {
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(ModelError::BadCt2(format!(
            "{} has no {name}",
            dir.display()
        )))
    }
}

/// Slice a fused tensor's row block and check the shape against what whisper.cpp will expect.
fn take_rows<'a>(
    plan: &TensorPlan,
    dims: &[usize],
    values: &'a [f32],
) -> Result<(Vec<usize>, &'a [f32]), ModelError> {
    let (mut shape, data) = match plan.rows {
        None => (dims.to_vec(), values),
        Some((part, parts)) => {
            let rows = dims.first().copied().unwrap_or(0);
            if rows == 0 || rows % parts != 0 {
                return Err(ModelError::BadCt2(format!(
                    "{} has {rows} rows, not {parts} equal blocks",
                    plan.source
                )));
            }
            let block = values.len() / parts;
            let mut shape = dims.to_vec();
            shape[0] = rows / parts;
            (shape, &values[part * block..(part + 1) * block])
        }
    };
    // Conv biases are stored as (channels, 1).
    if plan.shape.len() == 2 && plan.shape[1] == 1 && shape.len() == 1 {
        shape.push(1);
    }
    if shape != plan.shape {
        return Err(ModelError::BadCt2(format!(
            "{} has shape {shape:?}, expected {:?} for {}",
            plan.source, plan.shape, plan.name
        )));
    }
    Ok((shape, data))
}

/// Read the model's dimensions from its tensors, so every Whisper size converts.
fn derive_hparams(model: &mut Ct2Model, n_vocab: usize, ftype: i32) -> Result<HParams, ModelError> {
    let dims2 = |model: &Ct2Model, name: &str| -> Result<(i32, i32), ModelError> {
        match model.require(name)?.dims.as_slice() {
            &[a, b] => Ok((to_i32(a)?, to_i32(b)?)),
            other => Err(ModelError::BadCt2(format!(
                "{name} should be 2-D, has shape {other:?}"
            ))),
        }
    };
    let (n_audio_ctx, n_audio_state) = dims2(model, "encoder/position_encodings/encodings")?;
    let (n_text_ctx, n_text_state) = dims2(model, "decoder/position_encodings/encodings")?;
    let (embedding_rows, _) = dims2(model, "decoder/embeddings/weight")?;
    let n_mels = match model.require("encoder/conv1/weight")?.dims.as_slice() {
        &[_, mels, 3] => to_i32(mels)?,
        other => {
            return Err(ModelError::BadCt2(format!(
                "encoder/conv1/weight has shape {other:?}"
            )))
        }
    };
    if n_audio_state != n_text_state {
        return Err(ModelError::BadCt2(
            "encoder and decoder widths differ".into(),
        ));
    }
    if usize::try_from(embedding_rows).ok() != Some(n_vocab) {
        return Err(ModelError::BadCt2(format!(
            "vocabulary.txt has {n_vocab} tokens but the embedding has {embedding_rows} rows"
        )));
    }
    Ok(HParams {
        n_vocab: to_i32(n_vocab)?,
        n_audio_ctx,
        n_audio_state,
        n_audio_head: heads(model, "encoder", n_audio_state)?,
        n_audio_layer: layer_count(model, "encoder")?,
        n_text_ctx,
        n_text_state,
        n_text_head: heads(model, "decoder", n_text_state)?,
        n_text_layer: layer_count(model, "decoder")?,
        n_mels,
        ftype,
    })
}

fn heads(model: &mut Ct2Model, side: &str, width: i32) -> Result<i32, ModelError> {
    let stored = model.read_scalar_int(&format!("{side}/num_heads"))?;
    let heads = stored.unwrap_or(i64::from(width) / HEAD_DIM);
    if heads <= 0 || i64::from(width) % heads != 0 {
        return Err(ModelError::BadCt2(format!(
            "{side}: {heads} heads do not divide width {width}"
        )));
    }
    i32::try_from(heads).map_err(|_| ModelError::BadCt2(format!("{side}: {heads} heads")))
}

/// Number of `side/layer_N/` blocks; they must be numbered 0..N without gaps.
fn layer_count(model: &Ct2Model, side: &str) -> Result<i32, ModelError> {
    let prefix = format!("{side}/layer_");
    let mut indices: Vec<usize> = model
        .names()
        .filter_map(|n| n.strip_prefix(&prefix)?.split('/').next()?.parse().ok())
        .collect();
    indices.sort_unstable();
    indices.dedup();
    if indices.is_empty() || indices.iter().enumerate().any(|(i, &n)| i != n) {
        return Err(ModelError::BadCt2(format!(
            "{side} layers are missing or not numbered 0..N: {indices:?}"
        )));
    }
    to_i32(indices.len())
}

fn to_i32(n: usize) -> Result<i32, ModelError> {
    i32::try_from(n).map_err(|_| ModelError::BadCt2(format!("dimension {n} is too large")))
}

/// A file written next to its destination and renamed over it when complete, so readers
/// never see a half-written model; removed if the conversion fails.
struct TempFile {
    path: PathBuf,
    persisted: bool,
}

impl TempFile {
    fn beside(target: &Path) -> Self {
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = target
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("model");
        // Unique per process and per call, so concurrent conversions never share a temp file.
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".{name}.{}-{n}.partial", std::process::id()));
        Self {
            path,
            persisted: false,
        }
    }

    fn persist(mut self, target: &Path) -> Result<(), ModelError> {
        fs::rename(&self.path, target)?;
        self.persisted = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.persisted {
            let _ = fs::remove_file(&self.path);
        }
    }
}
