//! Where each whisper.cpp tensor comes from in a CTranslate2 Whisper model, and how it is stored.
//!
//! The names, order of rows and storage types are those of whisper.cpp's own PyTorch
//! converter; its loader checks every name, shape and byte size, so they must be exact.
use super::ggml::HParams;

/// How a tensor is stored in the ggml file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// Matrix multiplied in the transformer: f16, or quantized when asked.
    Matrix,
    /// Convolution kernel: always f16 (whisper.cpp's im2col needs it).
    Conv,
    /// Norms, biases and positional embeddings: f32, as whisper.cpp adds them in f32.
    F32,
}

/// One tensor of the output file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorPlan {
    pub name: String,
    /// CTranslate2 variable holding the data.
    pub source: String,
    /// `(part, parts)`: take the `part`-th of `parts` equal row blocks of a fused tensor.
    pub rows: Option<(usize, usize)>,
    /// Row-major shape the tensor must have once sliced (checked before writing).
    pub shape: Vec<usize>,
    pub storage: Storage,
}

fn plan(name: String, source: String, shape: Vec<usize>, storage: Storage) -> TensorPlan {
    TensorPlan {
        name,
        source,
        rows: None,
        shape,
        storage,
    }
}

/// Weight + bias of a linear layer, optionally a row block of a fused one.
fn linear(
    out: &mut Vec<TensorPlan>,
    name: &str,
    src: &str,
    rows: Option<(usize, usize)>,
    shape: [usize; 2],
    bias: bool,
) {
    out.push(TensorPlan {
        rows,
        ..plan(
            format!("{name}.weight"),
            format!("{src}/weight"),
            shape.to_vec(),
            Storage::Matrix,
        )
    });
    if bias {
        out.push(TensorPlan {
            rows,
            ..plan(
                format!("{name}.bias"),
                format!("{src}/bias"),
                vec![shape[0]],
                Storage::F32,
            )
        });
    }
}

fn layer_norm(out: &mut Vec<TensorPlan>, name: &str, src: &str, n: usize) {
    out.push(plan(
        format!("{name}.weight"),
        format!("{src}/gamma"),
        vec![n],
        Storage::F32,
    ));
    out.push(plan(
        format!("{name}.bias"),
        format!("{src}/beta"),
        vec![n],
        Storage::F32,
    ));
}

/// Self-attention from CTranslate2's fused QKV projection. The key projection has no bias in
/// Whisper (its slice of the fused bias is zero); whisper.cpp has no tensor for it. Dropping
/// it is exact in any case: a key bias adds the same term to every score of a query, which
/// softmax cancels.
fn self_attention(out: &mut Vec<TensorPlan>, name: &str, src: &str, n: usize) {
    let fused = format!("{src}/linear_0");
    linear(
        out,
        &format!("{name}.query"),
        &fused,
        Some((0, 3)),
        [n, n],
        true,
    );
    linear(
        out,
        &format!("{name}.key"),
        &fused,
        Some((1, 3)),
        [n, n],
        false,
    );
    linear(
        out,
        &format!("{name}.value"),
        &fused,
        Some((2, 3)),
        [n, n],
        true,
    );
    linear(
        out,
        &format!("{name}.out"),
        &format!("{src}/linear_1"),
        None,
        [n, n],
        true,
    );
}

/// Cross-attention: a separate query projection and fused key/value over the audio features.
fn cross_attention(out: &mut Vec<TensorPlan>, name: &str, src: &str, n: usize) {
    let fused = format!("{src}/linear_1");
    linear(
        out,
        &format!("{name}.query"),
        &format!("{src}/linear_0"),
        None,
        [n, n],
        true,
    );
    linear(
        out,
        &format!("{name}.key"),
        &fused,
        Some((0, 2)),
        [n, n],
        false,
    );
    linear(
        out,
        &format!("{name}.value"),
        &fused,
        Some((1, 2)),
        [n, n],
        true,
    );
    linear(
        out,
        &format!("{name}.out"),
        &format!("{src}/linear_2"),
        None,
        [n, n],
        true,
    );
}

fn mlp(out: &mut Vec<TensorPlan>, name: &str, src: &str, n: usize) {
    layer_norm(
        out,
        &format!("{name}.mlp_ln"),
        &format!("{src}/ffn/layer_norm"),
        n,
    );
    linear(
        out,
        &format!("{name}.mlp.0"),
        &format!("{src}/ffn/linear_0"),
        None,
        [4 * n, n],
        true,
    );
    linear(
        out,
        &format!("{name}.mlp.2"),
        &format!("{src}/ffn/linear_1"),
        None,
        [n, 4 * n],
        true,
    );
}

/// Every tensor whisper.cpp loads, for a model with these hyper-parameters.
pub fn whisper_tensors(hp: &HParams) -> Vec<TensorPlan> {
    let dim = |v: i32| usize::try_from(v).unwrap_or(0);
    let (s, t) = (dim(hp.n_audio_state), dim(hp.n_text_state));
    let mut out = Vec::new();

    out.push(plan(
        "encoder.positional_embedding".into(),
        "encoder/position_encodings/encodings".into(),
        vec![dim(hp.n_audio_ctx), s],
        Storage::F32,
    ));
    for (i, in_channels) in [(1, dim(hp.n_mels)), (2, s)] {
        let (name, src) = (format!("encoder.conv{i}"), format!("encoder/conv{i}"));
        out.push(plan(
            format!("{name}.weight"),
            format!("{src}/weight"),
            vec![s, in_channels, 3],
            Storage::Conv,
        ));
        // whisper.cpp adds the bias to a [time, channels] result, so it is stored as (channels, 1).
        out.push(plan(
            format!("{name}.bias"),
            format!("{src}/bias"),
            vec![s, 1],
            Storage::F32,
        ));
    }
    for i in 0..dim(hp.n_audio_layer) {
        let (name, src) = (format!("encoder.blocks.{i}"), format!("encoder/layer_{i}"));
        layer_norm(
            &mut out,
            &format!("{name}.attn_ln"),
            &format!("{src}/self_attention/layer_norm"),
            s,
        );
        self_attention(
            &mut out,
            &format!("{name}.attn"),
            &format!("{src}/self_attention"),
            s,
        );
        mlp(&mut out, &name, &src, s);
    }
    layer_norm(&mut out, "encoder.ln_post", "encoder/layer_norm", s);

    out.push(plan(
        "decoder.positional_embedding".into(),
        "decoder/position_encodings/encodings".into(),
        vec![dim(hp.n_text_ctx), t],
        Storage::F32,
    ));
    out.push(plan(
        "decoder.token_embedding.weight".into(),
        "decoder/embeddings/weight".into(),
        vec![dim(hp.n_vocab), t],
        Storage::Matrix,
    ));
    for i in 0..dim(hp.n_text_layer) {
        let (name, src) = (format!("decoder.blocks.{i}"), format!("decoder/layer_{i}"));
        layer_norm(
            &mut out,
            &format!("{name}.attn_ln"),
            &format!("{src}/self_attention/layer_norm"),
            t,
        );
        self_attention(
            &mut out,
            &format!("{name}.attn"),
            &format!("{src}/self_attention"),
            t,
        );
        layer_norm(
            &mut out,
            &format!("{name}.cross_attn_ln"),
            &format!("{src}/attention/layer_norm"),
            t,
        );
        cross_attention(
            &mut out,
            &format!("{name}.cross_attn"),
            &format!("{src}/attention"),
            t,
        );
        mlp(&mut out, &name, &src, t);
    }
    layer_norm(&mut out, "decoder.ln", "decoder/layer_norm", t);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> HParams {
        HParams {
            n_vocab: 51864,
            n_audio_ctx: 1500,
            n_audio_state: 384,
            n_audio_head: 6,
            n_audio_layer: 4,
            n_text_ctx: 448,
            n_text_state: 384,
            n_text_head: 6,
            n_text_layer: 4,
            n_mels: 80,
            ftype: 1,
        }
    }

    #[test]
    fn tensor_count_matches_whisper_cpp_loader() {
        // whisper.cpp: 7 encoder globals + 15 per encoder block, 4 decoder globals + 24 per decoder block.
        let hp = HParams {
            n_audio_layer: 6,
            n_text_layer: 5,
            ..tiny()
        };
        assert_eq!(whisper_tensors(&hp).len(), 7 + 15 * 6 + 4 + 24 * 5);
        let names: std::collections::HashSet<_> =
            whisper_tensors(&hp).into_iter().map(|p| p.name).collect();
        assert_eq!(names.len(), 7 + 15 * 6 + 4 + 24 * 5, "names are unique");
    }

    #[test]
    fn fused_projections_are_split_in_order() {
        let plans = whisper_tensors(&tiny());
        let find = |n: &str| plans.iter().find(|p| p.name == n).expect(n).clone();
        assert_eq!(find("encoder.blocks.0.attn.key.weight").rows, Some((1, 3)));
        assert_eq!(
            find("decoder.blocks.3.cross_attn.value.bias").rows,
            Some((1, 2))
        );
        assert_eq!(
            find("decoder.blocks.3.cross_attn.value.bias").source,
            "decoder/layer_3/attention/linear_1/bias"
        );
        assert!(!plans.iter().any(|p| p.name.ends_with("key.bias")));
        assert_eq!(find("encoder.conv1.weight").shape, vec![384, 80, 3]);
        assert_eq!(find("encoder.conv1.weight").storage, Storage::Conv);
        assert_eq!(find("decoder.positional_embedding").storage, Storage::F32);
        assert_eq!(
            find("decoder.token_embedding.weight").storage,
            Storage::Matrix
        );
        assert_eq!(find("decoder.blocks.0.mlp.2.weight").shape, vec![384, 1536]);
    }
}
