//! Transcoding to the playable MP4.
use super::*;

#[test]
fn h264_aac_720p_is_stream_copied_with_faststart() {
    let dir = tempfile::tempdir().unwrap();
    let input = h264_aac(dir.path(), "camera.mp4", 1280, 720, 5.0);
    assert_eq!(
        top_level_boxes(&std::fs::read(&input).unwrap())
            .last()
            .map(String::as_str),
        Some("moov")
    );

    let info = probe_ok(&input);
    assert_near(info.duration_ms, 5000, 150, "probed duration");
    assert!(info.format_name.contains("mp4"), "{}", info.format_name);
    assert_eq!(
        (
            info.video.codec.as_str(),
            info.video.width,
            info.video.height
        ),
        ("h264", 1280, 720)
    );
    assert_eq!(info.video.pix_fmt, "yuv420p");
    assert!(
        (info.video.fps - 30.0).abs() < 0.01,
        "fps {}",
        info.video.fps
    );
    let audio = info.audio.expect("audio");
    assert_eq!(
        (audio.codec.as_str(), audio.sample_rate, audio.channels),
        ("aac", 48_000, 1)
    );

    let output = dir.path().join("out.mp4");
    let report = transcode_ok(&input, &output);
    assert_eq!(report.mode, TranscodeMode::StreamCopy);
    assert_eq!(
        (report.width, report.height, report.has_audio),
        (1280, 720, true)
    );
    assert_near(report.duration_ms, 5000, 200, "reported duration");

    let out = probe_ok(&output);
    assert_eq!(out.video.codec, "h264");
    assert_eq!(out.audio.map(|a| a.codec), Some("aac".to_string()));
    assert_near(out.duration_ms, info.duration_ms, 200, "output duration");
    let boxes = top_level_boxes(&std::fs::read(&output).unwrap());
    let moov = boxes.iter().position(|b| b == "moov").expect("moov");
    let mdat = boxes.iter().position(|b| b == "mdat").expect("mdat");
    assert!(
        moov < mdat,
        "faststart: moov must precede mdat, got {boxes:?}"
    );
    assert_only_file(dir.path(), "out.mp4");
}

#[test]
fn vp9_opus_webm_from_a_browser_is_reencoded_with_real_timing() {
    let dir = tempfile::tempdir().unwrap();
    let input = vp9_opus_webm(dir.path(), "recording.webm", 640, 360, 5.0);
    let info = probe_ok(&input);
    assert_eq!(info.video.codec, "vp9");
    assert_eq!(info.audio.as_ref().map(|a| a.codec.as_str()), Some("opus"));
    assert_near(
        info.duration_ms,
        5000,
        150,
        "probed duration of a header-less webm",
    );

    let output = dir.path().join("out.mp4");
    let report = transcode_ok(&input, &output);
    assert_eq!(report.mode, TranscodeMode::Reencode);
    assert_eq!((report.width, report.height), (640, 360));

    let out = probe_ok(&output);
    assert_eq!(
        (out.video.codec.as_str(), out.video.width, out.video.height),
        ("h264", 640, 360)
    );
    assert_eq!(out.video.pix_fmt, "yuv420p");
    let audio = out.audio.expect("audio");
    assert_eq!((audio.codec.as_str(), audio.sample_rate), ("aac", 48_000));
    assert_near(out.duration_ms, info.duration_ms, 200, "output duration");
    assert_near(
        report.duration_ms,
        info.duration_ms,
        200,
        "reported duration",
    );
}

#[test]
fn full_hd_is_scaled_down_to_720p() {
    let dir = tempfile::tempdir().unwrap();
    let input = h264_aac(dir.path(), "fullhd.mp4", 1920, 1080, 3.0);
    let output = dir.path().join("out.mp4");
    let report = transcode_ok(&input, &output);
    assert_eq!(report.mode, TranscodeMode::Reencode);
    let out = probe_ok(&output);
    assert_eq!(
        (out.video.codec.as_str(), out.video.width, out.video.height),
        ("h264", 1280, 720)
    );
    assert_eq!(out.audio.map(|a| a.codec), Some("aac".to_string()));
    assert_near(out.duration_ms, 3000, 200, "output duration");
}

#[test]
fn portrait_rotation_is_baked_into_the_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("phone.mp4");
    // A white block in the top-left corner shows which way the picture was turned.
    ffmpeg(&format!(
        "-f lavfi -i \
        color=black:size=320x240:rate=10:duration=1,drawbox=x=0:y=0:w=80:h=60:color=white:t=fill \
        -c:v libx264 -preset ultrafast -pix_fmt yuv420p {}",
        input.display()
    ));
    patch_mp4_rotation_90(&input);

    let output = dir.path().join("out.mp4");
    let report = transcode_ok(&input, &output);
    assert_eq!(report.mode, TranscodeMode::Reencode);
    assert_eq!((report.width, report.height), (240, 320));
    // The ffmpeg CLI (like players) applies the display matrix: our pixels must match it.
    let expected = gray_frame(&input, 240, 320);
    let actual = gray_frame(&output, 240, 320);
    let bright = |pixels: &[u8], x: usize, y: usize| pixels[y * 240 + x] > 128;
    for (x, y) in [(20, 20), (220, 20), (20, 300), (220, 300), (120, 160)] {
        assert_eq!(
            bright(&actual, x, y),
            bright(&expected, x, y),
            "pixel at ({x},{y})"
        );
    }

    let jpg = dir.path().join("poster.jpg");
    poster(&input, &jpg, 0, 640).unwrap();
    assert_eq!(jpeg_size(&std::fs::read(&jpg).unwrap()), (240, 320));
}

#[test]
fn video_without_audio() {
    let dir = tempfile::tempdir().unwrap();
    let input = h264_silent(dir.path(), "silent.mp4", 320, 240, 25, 2.0);
    let info = probe_ok(&input);
    assert_eq!(info.audio, None);

    let output = dir.path().join("out.mp4");
    let report = transcode_ok(&input, &output);
    assert!(!report.has_audio);
    let out = probe_ok(&output);
    assert_eq!(out.audio, None);
    assert_near(out.duration_ms, 2000, 200, "output duration");
    assert_eq!(decode_audio_16k_mono(&input).unwrap(), Vec::<f32>::new());
}

#[test]
fn h264_aac_in_other_containers_is_stream_copied() {
    let dir = tempfile::tempdir().unwrap();
    let source = h264_aac(dir.path(), "source.mp4", 320, 240, 2.0);
    // MPEG-TS starts its clock at 1.4 s and carries ADTS AAC; Matroska and FLV have
    // their own codec tags. All must come out as a valid MP4 starting at zero.
    for (name, format) in [
        ("clip.ts", "mpegts"),
        ("clip.mkv", "matroska"),
        ("clip.flv", "flv"),
    ] {
        let input = dir.path().join(name);
        ffmpeg(&format!(
            "-i {} -c copy -f {} {}",
            source.display(),
            format,
            input.display()
        ));
        let output = dir.path().join(format!("{name}.mp4"));
        let report = transcode_ok(&input, &output);
        assert_eq!(report.mode, TranscodeMode::StreamCopy, "{name}");
        let out = probe_ok(&output);
        assert_eq!(
            out.audio.map(|a| a.codec),
            Some("aac".to_string()),
            "{name}"
        );
        assert_near(out.duration_ms, 2000, 200, name);
    }
}
