//! Where speech starts: a frame-energy detector used to correct whisper's
//! segment starts, which snap to the beginning of its 30 s window after silence.

/// 20 ms frames at 16 kHz.
const FRAME: usize = 320;
/// Start a little before the first loud frame, so the first syllable is not clipped.
const LEAD_MS: u64 = 100;

/// Per-frame energy of 16 kHz mono audio and the level that counts as voice.
pub struct VoiceActivity {
    rms: Vec<f32>,
    threshold: f32,
}

impl VoiceActivity {
    pub fn analyse(samples: &[f32]) -> VoiceActivity {
        let rms: Vec<f32> = samples
            .chunks(FRAME)
            .map(|frame| (frame.iter().map(|s| s * s).sum::<f32>() / frame.len() as f32).sqrt())
            .collect();
        let mut sorted = rms.clone();
        sorted.sort_by(f32::total_cmp);
        // The quiet tenth of the recording estimates its noise floor; voice is well above it.
        let floor = sorted.get(sorted.len() / 10).copied().unwrap_or(0.0);
        let peak = sorted.last().copied().unwrap_or(0.0);
        let threshold = (floor * 4.0).max(peak * 0.05).max(0.003);
        VoiceActivity { rms, threshold }
    }

    /// The first moment in `[start_ms, end_ms)` that sounds like voice (minus a
    /// short lead), or `start_ms` if none does.
    pub fn onset_ms(&self, start_ms: u64, end_ms: u64) -> u64 {
        let first = (start_ms as usize * 16) / FRAME;
        let last = ((end_ms as usize * 16) / FRAME).min(self.rms.len());
        (first..last)
            .find(|&i| self.rms[i] >= self.threshold)
            .map(|i| {
                ((i * FRAME / 16) as u64)
                    .saturating_sub(LEAD_MS)
                    .max(start_ms)
            })
            .unwrap_or(start_ms)
    }

    /// The middle of the quietest 300 ms in `[from_ms, to_ms)`: where a cut is least
    /// likely to split a word. `from_ms` if the range holds less than that.
    pub fn quietest_ms(&self, from_ms: u64, to_ms: u64) -> u64 {
        const WINDOW: usize = 15; // frames: 300 ms
        let first = (from_ms as usize * 16) / FRAME;
        let last = ((to_ms as usize * 16) / FRAME).min(self.rms.len());
        if last < first + WINDOW {
            return from_ms;
        }
        let mut sum: f32 = self.rms[first..first + WINDOW].iter().sum();
        let (mut best, mut best_sum) = (first, sum);
        for start in first + 1..=last - WINDOW {
            sum += self.rms[start + WINDOW - 1] - self.rms[start - 1];
            if sum < best_sum {
                (best, best_sum) = (start, sum);
            }
        }
        ((best + WINDOW / 2) * FRAME / 16) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_onset_after_silence() {
        let mut samples = vec![0.0005f32; 16_000 * 2];
        samples.extend((0..16_000).map(|i| (i as f32 * 0.05).sin() * 0.3));
        let voice = VoiceActivity::analyse(&samples);
        assert_eq!(voice.onset_ms(0, 3000), 1900);
        assert_eq!(voice.onset_ms(2500, 3000), 2500);
        // Silence only: keep the given start.
        assert_eq!(voice.onset_ms(0, 1500), 0);
    }

    #[test]
    fn the_quietest_point_is_inside_the_pause() {
        let tone = |n: usize| (0..n).map(|i| (i as f32 * 0.05).sin() * 0.3);
        // Voice 0–3 s, a pause 3.0–3.5 s, voice 3.5–6 s.
        let mut samples: Vec<f32> = tone(48_000).collect();
        samples.extend(std::iter::repeat_n(0.0005, 8_000));
        samples.extend(tone(40_000));
        let voice = VoiceActivity::analyse(&samples);
        let cut = voice.quietest_ms(1_000, 5_000);
        assert!((3_100..=3_400).contains(&cut), "{cut}");
        assert_eq!(
            voice.quietest_ms(1_000, 1_100),
            1_000,
            "a range shorter than the window"
        );
    }
}
