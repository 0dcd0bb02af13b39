//! Whisper's mel filterbank, computed rather than shipped.
//!
//! whisper.cpp reads the filterbank from the model file and applies it as is, so it must
//! equal the one OpenAI trained with: `librosa.filters.mel(sr=16000, n_fft=400, n_mels=N)`
//! — the Slaney mel scale (linear below 1 kHz, logarithmic above) with Slaney area
//! normalisation, computed in f64 and stored as f32.

/// Whisper's audio sample rate.
pub const SAMPLE_RATE: u32 = 16_000;
/// Whisper's FFT window (25 ms at 16 kHz).
pub const N_FFT: usize = 400;

/// A row-major `n_mels × (N_FFT/2 + 1)` filterbank.
#[derive(Debug, Clone)]
pub struct MelFilters {
    pub n_mels: usize,
    pub n_freqs: usize,
    pub data: Vec<f32>,
}

impl MelFilters {
    pub fn row(&self, mel: usize) -> &[f32] {
        &self.data[mel * self.n_freqs..(mel + 1) * self.n_freqs]
    }
}

/// Slaney scale: linear at 200/3 Hz per mel up to 1 kHz, then 27 mels per factor 6.4.
const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

fn hz_to_mel(hz: f64) -> f64 {
    if hz >= MIN_LOG_HZ {
        MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / log_step()
    } else {
        hz / F_SP
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    if mel >= MIN_LOG_MEL {
        MIN_LOG_HZ * (log_step() * (mel - MIN_LOG_MEL)).exp()
    } else {
        mel * F_SP
    }
}

/// The filterbank for `n_mels` bands over 0 Hz..Nyquist.
pub fn mel_filters(n_mels: usize) -> MelFilters {
    let n_freqs = N_FFT / 2 + 1;
    let nyquist = f64::from(SAMPLE_RATE) / 2.0;
    let fft_freqs: Vec<f64> = (0..n_freqs)
        .map(|i| nyquist * i as f64 / (n_freqs - 1) as f64)
        .collect();

    // n_mels + 2 band edges, equally spaced in mel.
    let max_mel = hz_to_mel(nyquist);
    let edges: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(max_mel * i as f64 / (n_mels + 1) as f64))
        .collect();

    let mut data = Vec::with_capacity(n_mels * n_freqs);
    for m in 0..n_mels {
        let (lo, centre, hi) = (edges[m], edges[m + 1], edges[m + 2]);
        // Slaney normalisation: every triangle has unit area, so wide high bands are not louder.
        let norm = 2.0 / (hi - lo);
        for &f in &fft_freqs {
            let rising = (f - lo) / (centre - lo);
            let falling = (hi - f) / (hi - centre);
            // librosa stores the triangle in f32 before normalising; rounding twice the same
            // way keeps the result bit-identical to OpenAI's reference table.
            let triangle = rising.min(falling).max(0.0) as f32;
            data.push((f64::from(triangle) * norm) as f32);
        }
    }
    MelFilters {
        n_mels,
        n_freqs,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_is_continuous_at_one_kilohertz() {
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((mel_to_hz(hz_to_mel(3210.0)) - 3210.0).abs() < 1e-9);
        assert!((mel_to_hz(hz_to_mel(440.0)) - 440.0).abs() < 1e-9);
    }

    #[test]
    fn matches_openai_reference_values() {
        // Values from OpenAI's `whisper/assets/mel_filters.npz` (mel_80), i.e. librosa's output.
        let f = mel_filters(80);
        assert_eq!((f.n_mels, f.n_freqs), (80, 201));
        let close = |a: f32, b: f32| (a - b).abs() <= 1e-7;
        assert!(close(f.row(0)[1], 0.024_862_595));
        assert!(close(f.row(10)[10], 0.019_908_218));
        assert!(close(f.row(10)[11], 0.004_954_375));
        assert!(close(f.row(40)[43], 0.014_735_566));
        assert!(close(f.row(79)[186], 0.000_366_741_67));
        assert_eq!(f.row(0)[0], 0.0);
        assert_eq!(f.row(0)[2], 0.0);
    }
}
