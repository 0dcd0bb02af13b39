//! The peers Bulletin is measured against, run as their users would run them:
//! faster-whisper from a Python virtual environment and the `ffmpeg` CLI.

use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use crate::support::{measure, Bench};

const FASTER_WHISPER_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/speed/faster_whisper_peer.py");

pub struct PeerTranscript {
    pub text: String,
    /// Time inside the transcribe call (model already loaded).
    pub transcribing: Duration,
    pub peak_mib: f64,
}

/// faster-whisper, int8, on `bench.threads` threads with beam size `beam`.
pub fn faster_whisper(bench: &Bench, media: &Path, beam: usize) -> anyhow::Result<PeerTranscript> {
    let python = bench.python.as_ref().context("BULLETIN_BENCH_PYTHON is not set: run scripts/bench.sh")?;
    let model = bench.ct2_model.as_ref().context("BULLETIN_BENCH_CT2_MODEL is not set: run scripts/bench.sh")?;
    let threads = bench.threads.to_string();
    let beam = beam.to_string();
    let args: [&OsStr; 5] =
        [FASTER_WHISPER_SCRIPT.as_ref(), model.as_os_str(), media.as_os_str(), threads.as_ref(), beam.as_ref()];
    let run = measure(python, &args, None)?;
    let reply: serde_json::Value =
        serde_json::from_str(run.stdout.lines().last().unwrap_or_default()).context("faster-whisper's reply")?;
    Ok(PeerTranscript {
        text: reply["text"].as_str().unwrap_or_default().to_string(),
        transcribing: Duration::from_secs_f64(reply["seconds"].as_f64().context("seconds")?),
        peak_mib: run.peak_mib,
    })
}

/// The `ffmpeg` CLI doing Bulletin's conversion: H.264 with Bulletin's preset and CRF at
/// most 1280×720, AAC at 128 kb/s, faststart MP4 (or a plain stream copy). Returns the wall time.
pub fn ffmpeg_transcode(input: &Path, output: &Path, copy: bool) -> anyhow::Result<Duration> {
    let options = bulletin_workers::transcode::TranscodeOptions::default();
    let mut args: Vec<String> = ["-hide_banner", "-loglevel", "error", "-y", "-i"].map(String::from).to_vec();
    args.push(input.display().to_string());
    if copy {
        args.extend(["-c", "copy"].map(String::from));
    } else {
        let scale = format!(
            "scale=w={}:h={}:force_original_aspect_ratio=decrease:force_divisible_by=2",
            options.max_long_side, options.max_short_side
        );
        let (preset, crf) = (options.preset.clone(), options.crf.to_string());
        args.extend(["-vf".into(), scale, "-c:v".into(), "libx264".into(), "-preset".into(), preset]);
        args.extend(["-crf".into(), crf, "-pix_fmt".into(), "yuv420p".into()]);
        args.extend(["-c:a", "aac", "-b:a", "128k"].map(String::from));
    }
    args.extend(["-movflags", "+faststart"].map(String::from));
    args.push(output.display().to_string());
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    Ok(measure("ffmpeg", &args, None)?.wall)
}
