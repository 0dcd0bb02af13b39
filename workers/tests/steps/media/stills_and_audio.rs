//! Still images and audio for whisper.
use super::*;

#[test]
fn speech_is_decoded_to_16k_mono() {
    let dir = tempfile::tempdir().unwrap();
    let (m4a, duration_ms) = speech_m4a(dir.path());
    let samples = decode_audio_16k_mono(&m4a).unwrap();
    let expected = duration_ms as f64 * 16.0;
    let deviation = (samples.len() as f64 - expected).abs() / expected;
    assert!(
        deviation < 0.02,
        "{} samples for {duration_ms} ms ({:.1}% off)",
        samples.len(),
        deviation * 100.0
    );
    let rms =
        (samples.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / samples.len() as f64).sqrt();
    assert!(rms > 0.02, "speech too quiet: rms {rms}");
    assert!(samples.iter().all(|s| s.is_finite() && s.abs() <= 1.5));
}

#[test]
fn audio_of_a_video_upload_is_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let input = vp9_opus_webm(dir.path(), "recording.webm", 160, 120, 3.0);
    let samples = decode_audio_16k_mono(&input).unwrap();
    assert_near(samples.len() as u64, 48_000, 960, "samples in 3 s of opus");
    let rms = (samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32).sqrt();
    // A full-scale-ish sine from lavfi's `sine` source (amplitude 1/8).
    assert!(rms > 0.05, "rms {rms}");
}

#[test]
fn poster_is_a_jpeg_within_the_width() {
    let dir = tempfile::tempdir().unwrap();
    let input = h264_aac(dir.path(), "clip.mp4", 1280, 720, 3.0);
    let jpg = dir.path().join("poster.jpg");
    poster(&input, &jpg, 1_000, 640).unwrap();
    let bytes = std::fs::read(&jpg).unwrap();
    assert_eq!(&bytes[..2], &[0xFF, 0xD8]);
    assert_eq!(jpeg_size(&bytes), (640, 360));

    // Past the end: clamped into the video, still a frame.
    poster(&input, &jpg, 3_600_000, 320).unwrap();
    assert_eq!(jpeg_size(&std::fs::read(&jpg).unwrap()), (320, 180));
    // Narrower than asked for never upscales.
    poster(&input, &jpg, 0, 4_000).unwrap();
    assert_eq!(jpeg_size(&std::fs::read(&jpg).unwrap()), (1280, 720));
    assert_only_file(dir.path(), "poster.jpg");

    let silent = h264_silent(dir.path(), "tiny.mp4", 160, 120, 10, 0.3);
    poster(&silent, &jpg, 5_000, 640).unwrap();
    assert_eq!(jpeg_size(&std::fs::read(&jpg).unwrap()), (160, 120));
}

#[test]
fn storyboard_of_ten_seconds_at_two_has_five_tiles() {
    let dir = tempfile::tempdir().unwrap();
    let input = h264_silent(dir.path(), "clip.mp4", 1280, 720, 25, 10.0);
    let jpg = dir.path().join("storyboard.jpg");
    let options = StoryboardOptions {
        interval_ms: 2_000,
        tile_width: 160,
        columns: 3,
    };
    let board = storyboard(&input, &jpg, &options).unwrap();

    assert_eq!(board.tiles.len(), 5);
    for (i, tile) in board.tiles.iter().enumerate() {
        let i = i as u32;
        assert_eq!((tile.width, tile.height), (160, 90));
        assert_eq!((tile.x, tile.y), ((i % 3) * 160, (i / 3) * 90));
        assert_eq!(tile.start_ms, u64::from(i) * 2_000);
    }
    assert_eq!(board.tiles[3].end_ms, 8_000);
    assert_near(board.tiles[4].end_ms, 10_000, 100, "last tile end");
    let bytes = std::fs::read(&jpg).unwrap();
    assert_eq!(jpeg_size(&bytes), (3 * 160, 2 * 90));
}

/// Timings on a 3-minute 720p upload (VP9/Opus WebM from a pipe, like a browser
/// recording). Slow: `cargo test -p bulletin-workers --test steps -- --ignored --nocapture timings`.
/// Set `BULLETIN_BENCH_INPUT` to time an existing file instead of generating one.
#[test]
#[ignore = "a timing run, not a check: it asserts nothing about speed and takes minutes"]
fn timings_of_a_three_minute_720p_upload() {
    use std::time::Instant;
    let dir = tempfile::tempdir().unwrap();
    let input = match std::env::var_os("BULLETIN_BENCH_INPUT") {
        Some(path) => std::path::PathBuf::from(path),
        None => {
            let path = dir.path().join("upload.webm");
            ffmpeg_to_pipe(
                "-f lavfi -i testsrc2=size=1280x720:rate=30:duration=179 -f lavfi -i \
                    sine=frequency=300:duration=179 -c:v libvpx-vp9 -deadline realtime -cpu-used 8 \
                    -row-mt 1 -b:v 2M -c:a libopus -f webm",
                &path,
            );
            path
        }
    };
    let t = Instant::now();
    let info = probe(&input, &ProbeLimits::default());
    println!(
        "probe: {:?} ({:?})",
        t.elapsed(),
        info.map(|i| i.duration_ms)
    );
    let mp4 = dir.path().join("out.mp4");
    let t = Instant::now();
    let report = transcode(&input, &mp4, &TranscodeOptions::default(), &mut |_| {}).unwrap();
    println!("transcode: {:?} ({report:?})", t.elapsed());
    let t = Instant::now();
    let again = transcode(
        &mp4,
        &dir.path().join("copy.mp4"),
        &TranscodeOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    println!(
        "transcode of the result: {:?} ({:?})",
        t.elapsed(),
        again.mode
    );
    let t = Instant::now();
    poster(&mp4, &dir.path().join("poster.jpg"), 60_000, 1280).unwrap();
    println!("poster at 60 s: {:?}", t.elapsed());
    let t = Instant::now();
    let board = storyboard(
        &mp4,
        &dir.path().join("board.jpg"),
        &StoryboardOptions::default(),
    )
    .unwrap();
    println!(
        "storyboard: {:?} ({} tiles)",
        t.elapsed(),
        board.tiles.len()
    );
    let t = Instant::now();
    let samples = decode_audio_16k_mono(&mp4).unwrap();
    println!(
        "audio 16 kHz: {:?} ({} samples)",
        t.elapsed(),
        samples.len()
    );
}
