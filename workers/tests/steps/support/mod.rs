//! Fixture generation for the media tests: everything is made on the fly with the
//! `ffmpeg` CLI and `espeak-ng` into a temp dir, nothing is committed.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Run `ffmpeg` quietly with the whitespace-separated `args` (temp paths and filter
/// graphs here contain no spaces), panicking with its stderr on failure.
pub fn ffmpeg(args: &str) {
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args.split_whitespace())
        .output()
        .expect("the ffmpeg CLI must be installed");
    assert!(
        output.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Run `ffmpeg` writing its output to stdout (`pipe:1`), captured into `path`:
/// a muxer writing to a pipe cannot seek back, so headers lack durations and indexes.
pub fn ffmpeg_to_pipe(args: &str, path: &Path) {
    let file = std::fs::File::create(path).unwrap();
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args.split_whitespace())
        .arg("pipe:1")
        .stdout(Stdio::from(file))
        .status()
        .expect("the ffmpeg CLI must be installed");
    assert!(status.success(), "ffmpeg {args:?} failed");
}

fn test_source(width: u32, height: u32, fps: u32, seconds: f64) -> String {
    format!("testsrc2=size={width}x{height}:rate={fps}:duration={seconds}")
}

fn tone(seconds: f64) -> String {
    format!("sine=frequency=440:sample_rate=48000:duration={seconds}")
}

/// H.264 (yuv420p) + AAC in MP4, `moov` at the end (no faststart), like a camera writes.
pub fn h264_aac(dir: &Path, name: &str, width: u32, height: u32, seconds: f64) -> PathBuf {
    let path = dir.join(name);
    let (video, audio) = (test_source(width, height, 30, seconds), tone(seconds));
    ffmpeg(&format!(
        "-f lavfi -i {video} -f lavfi -i {audio} -c:v libx264 -preset ultrafast -pix_fmt \
        yuv420p -c:a aac -b:a 96k {}",
        path.display()
    ));
    path
}

/// H.264 only, no audio track.
pub fn h264_silent(
    dir: &Path,
    name: &str,
    width: u32,
    height: u32,
    fps: u32,
    seconds: f64,
) -> PathBuf {
    let path = dir.join(name);
    let video = test_source(width, height, fps, seconds);
    ffmpeg(&format!(
        "-f lavfi -i {video} -c:v libx264 -preset ultrafast -pix_fmt yuv420p {}",
        path.display()
    ));
    path
}

/// VP9 + Opus WebM as a browser's MediaRecorder makes it: written to a pipe (no
/// duration, no cues), millisecond timestamps, and variable frame rate (3 of every
/// 10 frames dropped, leaving gaps).
pub fn vp9_opus_webm(dir: &Path, name: &str, width: u32, height: u32, seconds: f64) -> PathBuf {
    let path = dir.join(name);
    let (video, audio) = (test_source(width, height, 30, seconds), tone(seconds));
    ffmpeg_to_pipe(
        &format!(
            "-f lavfi -i {video} -f lavfi -i {audio} -vf select='lt(mod(n\\,10)\\,7)' \
            -fps_mode passthrough -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 300k \
            -c:a libopus -f webm"
        ),
        &path,
    );
    path
}

/// An AAC `.m4a` of an espeak-ng sentence; returns the path and the speech length in ms.
pub fn speech_m4a(dir: &Path) -> (PathBuf, u64) {
    let wav = dir.join("speech.wav");
    let status = Command::new("espeak-ng")
        .args([
            "-w",
            wav.to_str().unwrap(),
            "Bulletin turns short video updates into searchable text. \
                Everyone on the team can catch up in a minute.",
        ])
        .status()
        .expect("espeak-ng must be installed");
    assert!(status.success());
    let duration_ms = wav_duration_ms(&std::fs::read(&wav).unwrap());
    let m4a = dir.join("speech.m4a");
    ffmpeg(&format!(
        "-i {} -c:a aac -b:a 64k {}",
        wav.display(),
        m4a.display()
    ));
    (m4a, duration_ms)
}

/// Length of a PCM WAV from its `fmt ` and `data` chunks.
fn wav_duration_ms(bytes: &[u8]) -> u64 {
    let (mut pos, mut byte_rate, mut data_len) = (12, 0u64, 0u64);
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let len = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().unwrap()) as usize;
        if id == b"fmt " {
            byte_rate = u64::from(u32::from_le_bytes(
                bytes[pos + 16..pos + 20].try_into().unwrap(),
            ));
        } else if id == b"data" {
            // espeak-ng streams its WAV and may leave the size field at a placeholder.
            data_len = (len.min(bytes.len() - pos - 8)) as u64;
        }
        pos += 8 + len + (len & 1);
    }
    assert!(byte_rate > 0 && data_len > 0, "not a PCM wav");
    data_len * 1000 / byte_rate
}

/// The order of an MP4's top-level boxes (`ftyp`, `moov`, `mdat`, …).
pub fn top_level_boxes(bytes: &[u8]) -> Vec<String> {
    let mut boxes = Vec::new();
    let mut pos = 0usize;
    while pos + 8 <= bytes.len() {
        let size32 = u32::from_be_bytes(bytes[pos..pos + 4].try_into().unwrap()) as u64;
        let kind = String::from_utf8_lossy(&bytes[pos + 4..pos + 8]).into_owned();
        let size = match size32 {
            0 => (bytes.len() - pos) as u64,
            1 => u64::from_be_bytes(bytes[pos + 8..pos + 16].try_into().unwrap()),
            n => n,
        };
        boxes.push(kind);
        if size < 8 {
            break;
        }
        pos += size as usize;
    }
    boxes
}

/// Width and height from a JPEG's start-of-frame marker.
pub fn jpeg_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..2], &[0xFF, 0xD8], "not a JPEG");
    let mut pos = 2;
    while pos + 9 < bytes.len() {
        assert_eq!(bytes[pos], 0xFF, "lost JPEG marker sync");
        let marker = bytes[pos + 1];
        let len = u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]) as usize;
        if matches!(marker, 0xC0..=0xC2) {
            let height = u16::from_be_bytes([bytes[pos + 5], bytes[pos + 6]]);
            let width = u16::from_be_bytes([bytes[pos + 7], bytes[pos + 8]]);
            return (u32::from(width), u32::from(height));
        }
        pos += 2 + len;
    }
    panic!("no SOF marker in JPEG");
}

/// Overwrite the duration fields of every `mvhd`, `tkhd` and `mdhd` box (version 0)
/// with `ticks`: the header then claims a length the samples do not have.
pub fn patch_mp4_header_durations(path: &Path, fraction: f64) {
    let mut bytes = std::fs::read(path).unwrap();
    let mut patched = 0;
    for kind in [b"mvhd", b"tkhd", b"mdhd"] {
        let mut from = 0;
        while let Some(at) = find(&bytes[from..], kind).map(|i| i + from) {
            let body = at + 4;
            assert_eq!(bytes[body], 0, "version-0 box expected");
            // mvhd/mdhd: ver+flags, ctime, mtime, timescale, duration; tkhd: ver+flags,
            // ctime, mtime, track id, reserved, duration.
            let field = if kind == b"tkhd" {
                body + 20
            } else {
                body + 16
            };
            let old = u32::from_be_bytes(bytes[field..field + 4].try_into().unwrap());
            let new = (f64::from(old) * fraction) as u32;
            bytes[field..field + 4].copy_from_slice(&new.to_be_bytes());
            patched += 1;
            from = at + 4;
        }
    }
    assert!(patched >= 3, "expected mvhd, tkhd and mdhd boxes");
    std::fs::write(path, bytes).unwrap();
}

/// Replace the first track's `tkhd` matrix with a 90° one (a = 0, b = 1, c = −1, d = 0):
/// what a phone writes for a portrait recording.
pub fn patch_mp4_rotation_90(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = find(&bytes, b"tkhd").expect("tkhd box");
    // ver+flags 4, ctime 4, mtime 4, track 4, reserved 4, duration 4, reserved 8,
    // layer 2, group 2, volume 2, reserved 2 → matrix at +40 from the body.
    let matrix = at + 4 + 40;
    let values: [i32; 9] = [0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x4000_0000];
    for (i, v) in values.iter().enumerate() {
        bytes[matrix + 4 * i..matrix + 4 * i + 4].copy_from_slice(&v.to_be_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Decode the first video frame of `path` as 8-bit gray with the ffmpeg CLI (which
/// applies the display matrix, like players do): (width, height, pixels).
pub fn gray_frame(path: &Path, width: u32, height: u32) -> Vec<u8> {
    let output = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-i",
            path.to_str().unwrap(),
        ])
        .args([
            "-frames:v",
            "1",
            "-vf",
            &format!("scale={width}:{height}"),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "pipe:1",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(output.stdout.len(), (width * height) as usize);
    output.stdout
}
