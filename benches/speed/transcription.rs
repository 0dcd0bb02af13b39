//! Transcription alone: Bulletin's transcribe step (the same `bulletin media` child a
//! worker runs: decode, load the model, whisper.cpp) against faster-whisper on the
//! same audio and model, with greedy decoding (Bulletin's) and faster-whisper's default beam of 5.

use std::path::Path;

use bulletin::media::MediaRequest;
use bulletin_workers::transcribe::{TranscribeOptions, Transcript};

use crate::peers::faster_whisper;
use crate::report::{Row, Target, Unit, Value};
use crate::speech;
use crate::support::{media_step, median, secs, Bench, Measured};
use crate::wer::word_error_rate;

const SECTION: &str = "transcription";

pub async fn run(bench: &Bench) -> anyhow::Result<Vec<Row>> {
    let update = speech::shared(bench)?;
    let media = &update.fit_mp4;
    let (mut ours, mut greedy, mut beam) = (Vec::new(), Vec::new(), Vec::new());
    for run in 1..=bench.runs {
        let (measured, text) = transcribe_step(bench, media)?;
        let peer_greedy = faster_whisper(bench, media, 1)?;
        let peer_beam = faster_whisper(bench, media, 5)?;
        eprintln!(
            "run {run}: Bulletin {:.2} s, faster-whisper greedy {:.2} s, beam 5 {:.2} s",
            secs(measured.wall),
            secs(peer_greedy.transcribing),
            secs(peer_beam.transcribing)
        );
        ours.push((measured, text));
        greedy.push(peer_greedy);
        beam.push(peer_beam);
    }
    let seconds = update.seconds;
    let ours_time = median(&ours.iter().map(|(m, _)| secs(m.wall)).collect::<Vec<_>>());
    let greedy_time = median(&greedy.iter().map(|p| secs(p.transcribing)).collect::<Vec<_>>());
    let beam_time = median(&beam.iter().map(|p| secs(p.transcribing)).collect::<Vec<_>>());
    let ours_peak = median(&ours.iter().map(|(m, _)| m.peak_mib).collect::<Vec<_>>());
    let greedy_peak = median(&greedy.iter().map(|p| p.peak_mib).collect::<Vec<_>>());
    // Decoding is deterministic on both sides: the first run's text stands for all.
    let ours_wer = word_error_rate(&update.script, &ours[0].1);
    let greedy_wer = word_error_rate(&update.script, &greedy[0].text);
    let beam_wer = word_error_rate(&update.script, &beam[0].text);

    let time = |v| Value::new(v, Unit::Seconds);
    let measure = format!("time for {seconds:.0} s of speech");
    Ok(vec![
        Row::new(SECTION, format!("{measure} (vs greedy)"), time(ours_time))
            .peer("faster-whisper int8 greedy", time(greedy_time))
            .target(Target::at_most(greedy_time, ours_time, "≤ 1.0× faster-whisper greedy")),
        Row::new(SECTION, format!("{measure} (vs beam 5)"), time(ours_time))
            .peer("faster-whisper int8 beam 5", time(beam_time)),
        Row::new(SECTION, "real-time factor", Value::new(ours_time / seconds, Unit::Factor))
            .peer("faster-whisper greedy", Value::new(greedy_time / seconds, Unit::Factor)),
        Row::new(SECTION, "peak memory", Value::new(ours_peak, Unit::MiB))
            .peer("faster-whisper greedy", Value::new(greedy_peak, Unit::MiB)),
        Row::new(SECTION, "word error rate (vs greedy)", Value::new(ours_wer, Unit::Rate))
            .peer("faster-whisper greedy", Value::new(greedy_wer, Unit::Rate)),
        Row::new(SECTION, "word error rate (vs beam 5)", Value::new(ours_wer, Unit::Rate))
            .peer("faster-whisper beam 5", Value::new(beam_wer, Unit::Rate))
            .target(Target::at_most(beam_wer, ours_wer, "≤ faster-whisper beam 5")),
    ])
}

/// One transcription through `bulletin media`, timed from process start to its reply
/// (so it includes decoding the audio and loading the model).
pub fn transcribe_step(bench: &Bench, media: &Path) -> anyhow::Result<(Measured, String)> {
    let options = TranscribeOptions { threads: bench.threads, ..TranscribeOptions::default() };
    let request = MediaRequest::Transcribe { input: media.to_path_buf(), model: bench.model.clone(), options };
    let (measured, transcript): (_, Transcript) = media_step(&request)?;
    let text = transcript.segments.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ");
    Ok((measured, text))
}
