//! Black-box tests of the FFmpeg-based steps on fixtures generated per test.
//! This file holds the shared helpers and the probe (upload gate) tests.

/// The probe over the fuzz target's seed kinds and thousands of mutated/random inputs.
#[path = "media/probe_mutations.rs"]
mod probe_mutation_cases;
/// Posters, storyboards, whisper audio, and the (ignored) 3-minute timing run.
#[path = "media/stills_and_audio.rs"]
mod stills_and_audio_cases;
/// Transcoding: stream copy, re-encode, rotation, audio-less input.
#[path = "media/transcode.rs"]
mod transcode_cases;

use std::path::Path;

use crate::support::*;
use bulletin_workers::audio::decode_audio_16k_mono;
use bulletin_workers::poster::poster;
use bulletin_workers::probe::{probe, MediaInfo, ProbeError, ProbeLimits};
use bulletin_workers::storyboard::{storyboard, StoryboardOptions};
use bulletin_workers::transcode::{transcode, TranscodeMode, TranscodeOptions, TranscodeReport};

fn probe_ok(path: &Path) -> MediaInfo {
    probe(path, &ProbeLimits::default()).unwrap_or_else(|e| panic!("probe {path:?}: {e}"))
}

fn assert_near(actual: u64, expected: u64, tolerance: u64, what: &str) {
    assert!(
        actual.abs_diff(expected) <= tolerance,
        "{what}: {actual} not within ±{tolerance} of {expected}"
    );
}

/// Transcode with default options, checking progress is monotonic and ends at 100.
fn transcode_ok(input: &Path, output: &Path) -> TranscodeReport {
    let mut seen = Vec::new();
    let report = transcode(input, output, &TranscodeOptions::default(), &mut |p| {
        seen.push(p)
    })
    .unwrap_or_else(|e| panic!("transcode {input:?}: {e}"));
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "progress not increasing: {seen:?}"
    );
    assert_eq!(seen.first(), Some(&0));
    assert_eq!(seen.last(), Some(&100));
    report
}

/// Only the final file is left: no temp files next to it.
fn assert_only_file(dir: &Path, name: &str) {
    let names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".part"))
        .collect();
    assert!(names.is_empty(), "temp files left beside {name}: {names:?}");
}

#[test]
fn non_video_inputs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let limits = ProbeLimits::default();

    let m4a = dir.path().join("voice.m4a");
    ffmpeg(&format!(
        "-f lavfi -i sine=duration=1 -c:a aac {}",
        m4a.display()
    ));
    assert_eq!(probe(&m4a, &limits), Err(ProbeError::NoVideo));
    // Cover art is a video stream to FFmpeg, but not a video.
    let with_cover = dir.path().join("song.m4a");
    ffmpeg(&format!(
        "-f lavfi -i sine=duration=1 -f lavfi -i color=red:size=64x64:duration=0.04 -map 0 -map 1 \
         -c:a aac -c:v mjpeg -disposition:v:0 attached_pic {}",
        with_cover.display()
    ));
    assert_eq!(probe(&with_cover, &limits), Err(ProbeError::NoVideo));
    let out = dir.path().join("out.mp4");
    assert!(matches!(
        transcode(&with_cover, &out, &TranscodeOptions::default(), &mut |_| {}),
        Err(bulletin_workers::MediaError::NoVideo)
    ));

    let text = dir.path().join("notes.mp4");
    std::fs::write(&text, "these are meeting notes, not a video\n".repeat(50)).unwrap();
    assert!(matches!(
        probe(&text, &limits),
        Err(ProbeError::NotMedia(_))
    ));

    let random = dir.path().join("random.mp4");
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let noise: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(&random, noise).unwrap();
    assert!(matches!(
        probe(&random, &limits),
        Err(ProbeError::NotMedia(_))
    ));

    let empty = dir.path().join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        probe(&empty, &limits),
        Err(ProbeError::NotMedia(_))
    ));

    let missing = dir.path().join("missing.mp4");
    assert!(matches!(probe(&missing, &limits), Err(ProbeError::Io(_))));
}

#[test]
fn truncated_mp4_is_an_error_everywhere_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let full = h264_aac(dir.path(), "full.mp4", 320, 240, 2.0);
    let bytes = std::fs::read(&full).unwrap();
    let truncated = dir.path().join("truncated.mp4");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();

    assert!(probe(&truncated, &ProbeLimits::default()).is_err());
    let out = dir.path().join("out.mp4");
    assert!(transcode(&truncated, &out, &TranscodeOptions::default(), &mut |_| {}).is_err());
    assert!(!out.exists());
    assert!(poster(&truncated, &dir.path().join("p.jpg"), 0, 320).is_err());
    assert!(storyboard(
        &truncated,
        &dir.path().join("s.jpg"),
        &StoryboardOptions::default()
    )
    .is_err());
    assert!(decode_audio_16k_mono(&truncated).is_err());
    assert_only_file(dir.path(), "out.mp4");
}

#[test]
fn corrupted_payloads_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let clean = h264_aac(dir.path(), "clean.mp4", 320, 240, 2.0);
    let bytes = std::fs::read(&clean).unwrap();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for round in 0..6 {
        let mut damaged = bytes.clone();
        // Garbage sprayed over the media data (the index at the end stays valid, so
        // the demuxer hands the corrupt packets to the decoders).
        for _ in 0..(50 << round) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = 64 + (state as usize) % (damaged.len() / 2);
            damaged[at] = (state >> 32) as u8;
        }
        let path = dir.path().join(format!("damaged{round}.mp4"));
        std::fs::write(&path, &damaged).unwrap();
        // Any outcome but a panic is acceptable.
        let _ = probe(&path, &ProbeLimits::default());
        let out = dir.path().join(format!("out{round}.mp4"));
        let _ = transcode(&path, &out, &TranscodeOptions::default(), &mut |_| {});
        let _ = poster(&path, &dir.path().join("p.jpg"), 1_000, 160);
        let _ = storyboard(
            &path,
            &dir.path().join("s.jpg"),
            &StoryboardOptions::default(),
        );
        let _ = decode_audio_16k_mono(&path);
    }
}

#[test]
fn playlists_and_concat_lists_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let segment = dir.path().join("segment.ts");
    ffmpeg(&format!(
        "-f lavfi -i testsrc2=size=160x120:rate=10:duration=2 -c:v libx264 -preset \
        ultrafast -pix_fmt yuv420p -f mpegts {}",
        segment.display()
    ));
    // The segment itself is an acceptable upload: only the indirection is refused.
    assert_eq!(probe_ok(&segment).video.codec, "h264");

    let playlist = dir.path().join("playlist.m3u8");
    std::fs::write(
        &playlist,
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nsegment.ts\n#EXT-X-ENDLIST\n",
    )
    .unwrap();
    assert!(matches!(
        probe(&playlist, &ProbeLimits::default()),
        Err(ProbeError::NotMedia(_))
    ));
    // Same bytes under a video name: the content, not the extension, decides.
    let disguised = dir.path().join("playlist.mp4");
    std::fs::copy(&playlist, &disguised).unwrap();
    assert!(matches!(
        probe(&disguised, &ProbeLimits::default()),
        Err(ProbeError::NotMedia(_))
    ));

    let concat = dir.path().join("list.ffconcat");
    std::fs::write(
        &concat,
        "ffconcat version 1.0\nfile 'segment.ts'\nfile '/etc/hostname'\n",
    )
    .unwrap();
    assert!(matches!(
        probe(&concat, &ProbeLimits::default()),
        Err(ProbeError::NotMedia(_))
    ));
    let out = dir.path().join("out.mp4");
    assert!(transcode(&concat, &out, &TranscodeOptions::default(), &mut |_| {}).is_err());
    assert!(decode_audio_16k_mono(&playlist).is_err());
}

#[test]
fn pixel_and_frame_rate_caps() {
    let dir = tempfile::tempdir().unwrap();
    let input = h264_silent(dir.path(), "clip.mp4", 1280, 720, 30, 1.0);
    let small = ProbeLimits {
        max_pixels: 640 * 360,
        ..ProbeLimits::default()
    };
    assert_eq!(
        probe(&input, &small),
        Err(ProbeError::TooManyPixels {
            width: 1280,
            height: 720,
            max_pixels: 640 * 360
        })
    );
    let slow = ProbeLimits {
        max_fps: 24.0,
        ..ProbeLimits::default()
    };
    match probe(&input, &slow) {
        Err(ProbeError::TooManyFps { fps, max_fps }) => {
            assert_eq!((fps.round(), max_fps), (30.0, 24.0))
        }
        other => panic!("expected TooManyFps, got {other:?}"),
    }
    assert_eq!(
        probe(&input, &slow).unwrap_err().code(),
        "too_large_dimensions"
    );
}

#[test]
fn three_minutes_five_seconds_is_too_long() {
    let dir = tempfile::tempdir().unwrap();
    let input = h264_silent(dir.path(), "long.mp4", 64, 64, 5, 185.0);
    match probe(&input, &ProbeLimits::default()) {
        Err(ProbeError::TooLong {
            duration_ms,
            max_ms,
        }) => {
            assert!(duration_ms >= 184_000, "measured {duration_ms}");
            assert_eq!(max_ms, 180_000);
        }
        other => panic!("expected TooLong, got {other:?}"),
    }
}

#[test]
fn a_header_without_duration_does_not_hide_the_length() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("long.webm");
    ffmpeg_to_pipe(
        "-f lavfi -i testsrc2=size=64x64:rate=5:duration=200 -c:v libvpx -deadline \
            realtime -cpu-used 8 -b:v 50k -f webm",
        &input,
    );
    match probe(&input, &ProbeLimits::default()) {
        Err(ProbeError::TooLong { duration_ms, .. }) => {
            assert!(duration_ms > 180_000, "measured {duration_ms}")
        }
        other => panic!("expected TooLong, got {other:?}"),
    }
}

#[test]
fn a_header_that_lies_about_the_duration_does_not_hide_the_length() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("liar.mp4");
    ffmpeg(&format!(
        "-f lavfi -i testsrc2=size=64x64:rate=5:duration=200 -c:v libx264 -preset \
        ultrafast -pix_fmt yuv420p -use_editlist 0 {}",
        input.display()
    ));
    // Every header now claims 10 s; the 1000 samples still span 200 s.
    patch_mp4_header_durations(&input, 0.05);
    let generous = ProbeLimits {
        max_duration_ms: 3_600_000,
        ..ProbeLimits::default()
    };
    let info = probe(&input, &generous).unwrap();
    assert_near(
        info.header_duration_ms.expect("header duration"),
        10_000,
        500,
        "header duration",
    );
    assert_near(info.duration_ms, 200_000, 300, "measured duration");
    match probe(&input, &ProbeLimits::default()) {
        Err(ProbeError::TooLong { duration_ms, .. }) => {
            assert!(duration_ms > 180_000, "measured {duration_ms}")
        }
        other => panic!("expected TooLong, got {other:?}"),
    }
}
