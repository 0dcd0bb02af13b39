//! Transcoding alone: Bulletin's transcode step (the `bulletin media` child a worker runs:
//! the MP4, its poster and its storyboard) against the `ffmpeg` CLI doing the same conversion.

use std::path::Path;

use bulletin::media::{MediaRequest, TranscodeOutput};
use bulletin_workers::storyboard::StoryboardOptions;
use bulletin_workers::transcode::{TranscodeMode, TranscodeOptions};

use crate::peers::ffmpeg_transcode;
use crate::report::{Row, Unit, Value};
use crate::speech;
use crate::support::{media_step, median, secs, Bench};

const SECTION: &str = "transcode";

pub async fn run(bench: &Bench) -> anyhow::Result<Vec<Row>> {
    let update = speech::shared(bench)?;
    let mut rows = Vec::new();
    for (input, mode, label) in [
        (&update.large_mp4, TranscodeMode::Reencode, "re-encode 1080p → 720p"),
        (&update.fit_mp4, TranscodeMode::StreamCopy, "stream copy 720p"),
    ] {
        let (mut ours, mut cli) = (Vec::new(), Vec::new());
        for run in 1..=bench.runs {
            let ours_secs = bulletin_transcode(bench, input, mode)?;
            let out = bench.work.join("ffmpeg-cli.mp4");
            let cli_secs = secs(ffmpeg_transcode(input, &out, mode == TranscodeMode::StreamCopy)?);
            eprintln!("{label}, run {run}: Bulletin {ours_secs:.2} s, ffmpeg CLI {cli_secs:.2} s");
            ours.push(ours_secs);
            cli.push(cli_secs);
        }
        let time = |v| Value::new(v, Unit::Seconds);
        rows.push(
            Row::new(SECTION, format!("{label}, {:.0} s video", update.seconds), time(median(&ours)))
                .peer("ffmpeg CLI", time(median(&cli))),
        );
    }
    Ok(rows)
}

/// One transcode through `bulletin media`; checks it took the expected path.
fn bulletin_transcode(bench: &Bench, input: &Path, expected: TranscodeMode) -> anyhow::Result<f64> {
    let out_dir = bench.work.join("bulletin-transcode");
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir)?;
    let request = MediaRequest::Transcode {
        input: input.to_path_buf(),
        out_dir,
        options: TranscodeOptions::default(),
        poster_width: 1280,
        storyboard: StoryboardOptions::default(),
    };
    let (measured, output): (_, TranscodeOutput) = media_step(&request)?;
    anyhow::ensure!(output.report.mode == expected, "Bulletin took {:?}, expected {expected:?}", output.report.mode);
    Ok(secs(measured.wall))
}
