//! ggml's `q8_0` block quantization: blocks of 32 values share one f16 scale.
//!
//! Each block is `d: f16` followed by 32 `i8` with `x ≈ d * q`, where `d = max|x| / 127`.
//! whisper.cpp multiplies q8_0 matrices with integer dot products, which is why a q8_0
//! model is both smaller and faster on CPU than f16.
use super::f16::f32_to_f16;

/// Values per block (ggml's QK8_0).
pub const BLOCK: usize = 32;
/// Bytes per block: the f16 scale and 32 quants.
pub const BLOCK_BYTES: usize = 2 + BLOCK;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QuantizeError {
    #[error("row length {0} is not a multiple of {BLOCK}")]
    RowLength(usize),
    #[error("{values} values do not form whole rows of {row_len}")]
    Ragged { values: usize, row_len: usize },
}

/// Quantize a row-major matrix whose rows have `row_len` values. Blocks never span rows,
/// because ggml quantizes (and dequantizes) row by row.
pub fn quantize_q8_0(values: &[f32], row_len: usize) -> Result<Vec<u8>, QuantizeError> {
    if row_len == 0 || row_len % BLOCK != 0 {
        return Err(QuantizeError::RowLength(row_len));
    }
    if values.len() % row_len != 0 {
        return Err(QuantizeError::Ragged {
            values: values.len(),
            row_len,
        });
    }
    let mut out = Vec::with_capacity(values.len() / BLOCK * BLOCK_BYTES);
    for block in values.chunks_exact(BLOCK) {
        let amax = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let inv = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f32_to_f16(d).to_le_bytes());
        // `as i8` saturates; |x * inv| <= 127 by construction anyway.
        out.extend(block.iter().map(|&x| (x * inv).round() as i8 as u8));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::f16::f16_to_f32;
    use super::*;

    fn dequantize(bytes: &[u8]) -> Vec<f32> {
        bytes
            .chunks_exact(BLOCK_BYTES)
            .flat_map(|b| {
                let d = f16_to_f32(u16::from_le_bytes([b[0], b[1]]));
                b[2..].iter().map(move |&q| f32::from(q as i8) * d)
            })
            .collect()
    }

    #[test]
    fn round_trip_error_is_within_half_a_step() {
        let values: Vec<f32> = (0..128)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 17.0)
            .collect();
        let bytes = quantize_q8_0(&values, 64).expect("whole blocks");
        assert_eq!(bytes.len(), 4 * BLOCK_BYTES);
        let back = dequantize(&bytes);
        for (block, restored) in values.chunks(BLOCK).zip(back.chunks(BLOCK)) {
            let amax = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let step = amax / 127.0;
            for (a, b) in block.iter().zip(restored) {
                assert!((a - b).abs() <= step * 0.5 + amax * 1e-3, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn largest_value_maps_to_127_and_zero_block_is_zero() {
        let mut values = vec![0.0f32; 64];
        values[3] = -2.54;
        values[7] = 1.0;
        let bytes = quantize_q8_0(&values, 32).expect("whole blocks");
        assert_eq!(bytes[2 + 3] as i8, -127);
        assert_eq!(bytes[2 + 7] as i8, 50); // 1.0 / (2.54 / 127)
        assert!(
            bytes[BLOCK_BYTES..].iter().all(|&b| b == 0),
            "an all-zero block has d = 0 and zero quants"
        );
    }

    #[test]
    fn rejects_rows_that_do_not_fill_blocks() {
        assert_eq!(
            quantize_q8_0(&[0.0; 48], 48),
            Err(QuantizeError::RowLength(48))
        );
        assert_eq!(
            quantize_q8_0(&[0.0; 48], 32),
            Err(QuantizeError::Ragged {
                values: 48,
                row_len: 32
            })
        );
    }
}
