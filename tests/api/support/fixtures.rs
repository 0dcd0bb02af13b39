//! Media fixtures, generated per test (nothing large is committed).

use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &mut Command) {
    let output = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(output.status.success(), "{cmd:?} failed:\n{}", String::from_utf8_lossy(&output.stderr));
}

fn ffmpeg() -> Command {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-loglevel", "error", "-y"]);
    cmd
}

/// Speak `text` with espeak-ng into a WAV; returns its path.
pub fn speech_wav(dir: &Path, name: &str, text: &str) -> PathBuf {
    let wav = dir.join(format!("{name}.wav"));
    run(Command::new("espeak-ng").args(["-s", "150", "-w"]).arg(&wav).arg(text));
    wav
}

/// An H.264/AAC MP4 (640×360 test pattern) whose audio is `text` spoken, with
/// `lead_in_s` seconds of silence first so timestamps are not all near zero.
pub fn speech_video(dir: &Path, name: &str, text: &str, lead_in_s: f64) -> PathBuf {
    let wav = speech_wav(dir, name, text);
    let out = dir.join(format!("{name}.mp4"));
    let delay_ms = (lead_in_s * 1000.0) as u64;
    run(ffmpeg()
        .args(["-f", "lavfi", "-i", "testsrc=size=640x360:rate=25"])
        .arg("-i")
        .arg(&wav)
        .args(["-filter_complex", &format!("[1:a]adelay={delay_ms}:all=1,apad=pad_dur=1[a]")])
        .args(["-map", "0:v", "-map", "[a]", "-shortest"])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-movflags",
            "+faststart",
        ])
        .arg(&out));
    out
}

/// A video of `seconds` with no audio track (tiny, fast to make).
pub fn silent_video(dir: &Path, name: &str, seconds: f64, size: &str, fps: u32) -> PathBuf {
    let out = dir.join(format!("{name}.mp4"));
    run(ffmpeg()
        .args(["-f", "lavfi", "-i", &format!("testsrc=size={size}:rate={fps}")])
        .args(["-t", &format!("{seconds}")])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
        .arg(&out));
    out
}

/// A small video with a tone, for tests that need audio but not speech.
pub fn tone_video(dir: &Path, name: &str, seconds: f64, size: &str, fps: u32) -> PathBuf {
    let out = dir.join(format!("{name}.mp4"));
    run(ffmpeg()
        .args(["-f", "lavfi", "-i", &format!("testsrc=size={size}:rate={fps}")])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
        .args(["-t", &format!("{seconds}")])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"])
        .arg(&out));
    out
}

/// A 2-second clip with a tone, in the container of `extension` with the codecs of
/// `codecs` (ffmpeg arguments), e.g. VP9/Opus WebM as browsers record it.
pub fn clip_as(dir: &Path, name: &str, extension: &str, codecs: &[&str]) -> PathBuf {
    let out = dir.join(format!("{name}.{extension}"));
    run(ffmpeg()
        .args(["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
        .args(["-t", "2"])
        .args(codecs)
        .arg(&out));
    out
}

/// A short video of several megabytes (noise does not compress), so a tus
/// upload of it takes more than one chunk.
pub fn noisy_video(dir: &Path, name: &str, seconds: f64) -> PathBuf {
    let out = dir.join(format!("{name}.mp4"));
    run(ffmpeg()
        .args(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-vf", "noise=alls=40:allf=t"])
        .args(["-t", &format!("{seconds}")])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
        .arg(&out));
    out
}

/// Four minutes of small video with its index (`moov`) first, as phones and
/// `-movflags +faststart` write it: the duration is known from the first kilobytes.
pub fn long_faststart_mp4(dir: &Path) -> PathBuf {
    let out = dir.join("long-faststart.mp4");
    run(ffmpeg()
        .args(["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10"])
        .args(["-t", "240", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
        .args(["-movflags", "+faststart"])
        .arg(&out));
    let size = std::fs::metadata(&out).unwrap().len();
    // Half of it must be well past the first look (64 KiB) for the test to mean anything.
    assert!(size > 400_000, "fixture too small to cut: {size} bytes");
    out
}
