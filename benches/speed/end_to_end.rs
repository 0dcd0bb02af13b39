//! End to end, on a real `bulletin serve` with its default settings: from the upload
//! to *playable* (the video link answers with video a browser plays), *transcribed*,
//! *searchable* (the transcript is in the index) and *ready* (everything done).
//! Measured in the same run beside it: the same transcribe step alone, the `ffmpeg`
//! CLI's transcode alone and faster-whisper's transcription alone.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value as Json;

use crate::peers::{faster_whisper, ffmpeg_transcode};
use crate::report::{Row, Target, Unit, Value};
use crate::speech::{self, SpokenUpdate};
use crate::support::{median, secs, Bench, Server};
use crate::transcription::transcribe_step;

const SECTION: &str = "end to end";
const POLL: Duration = Duration::from_millis(20);
/// faster-whisper's default decoding (what its users get).
const PEER_BEAM: usize = 5;

struct Timings {
    /// The video link first answers with bytes a browser can play.
    playable: f64,
    /// The transcribe stage first seen done.
    transcribed: f64,
    searchable: f64,
    ready: f64,
    /// When each stage was first seen done (for the log: where the time went).
    stages_done: Vec<(String, f64)>,
}

pub async fn run(bench: &Bench) -> anyhow::Result<Vec<Row>> {
    let update = speech::shared(bench)?;
    let server = Server::start(bench, "end-to-end", &[], &[])?;
    let client = server.client(reqwest::Client::builder())?;
    let mut rows = Vec::new();
    for (input, copy, label) in
        [(&update.fit_mp4, true, "stream-copy path"), (&update.large_mp4, false, "re-encode path")]
    {
        let (mut ours, mut cli_alone, mut alone, mut peer_transcribe) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for run in 1..=bench.runs {
            let timings = post_and_wait(&client, &server, input, update).await?;
            let cli = secs(ffmpeg_transcode(input, &bench.work.join("baseline.mp4"), copy)?);
            let transcribing = secs(faster_whisper(bench, input, PEER_BEAM)?.transcribing);
            // The same transcribe step outside the server, on the same file, in the same run.
            let step = secs(transcribe_step(bench, input)?.0.wall);
            let stages: Vec<String> = timings.stages_done.iter().map(|(s, t)| format!("{s} {t:.2} s")).collect();
            eprintln!(
                "{label}, run {run}: playable {:.2} s, searchable {:.2} s, ready {:.2} s (done: {}); \
                 transcribe step alone {step:.2} s; ffmpeg CLI {cli:.2} s; faster-whisper {transcribing:.2} s",
                timings.playable,
                timings.searchable,
                timings.ready,
                stages.join(", ")
            );
            ours.push(timings);
            cli_alone.push(cli);
            alone.push(step);
            peer_transcribe.push(transcribing);
        }
        let of = |pick: fn(&Timings) -> f64| median(&ours.iter().map(pick).collect::<Vec<_>>());
        let (playable, transcribed, searchable, ready) =
            (of(|t| t.playable), of(|t| t.transcribed), of(|t| t.searchable), of(|t| t.ready));
        let (cli, alone, peer_transcribe) = (median(&cli_alone), median(&alone), median(&peer_transcribe));
        let time = |v| Value::new(v, Unit::Seconds);
        let mut playable_row = Row::new(SECTION, format!("{label}: upload → playable"), time(playable));
        let transcribed_row = Row::new(SECTION, format!("{label}: upload → transcribed"), time(transcribed))
            .peer("the same transcribe step alone", time(alone))
            .target(Target::at_most(1.1 * alone, transcribed, "≤ 1.1× the step alone"));
        let mut searchable_row = Row::new(SECTION, format!("{label}: upload → searchable"), time(searchable))
            .peer("faster-whisper transcription alone", time(peer_transcribe));
        let mut ready_row = Row::new(SECTION, format!("{label}: upload → ready"), time(ready))
            .peer("ffmpeg CLI transcode alone", time(cli));
        if copy {
            playable_row = playable_row.target(Target::at_most(2.0, playable, "≤ 2 s"));
            searchable_row = searchable_row
                .target(Target::at_most(peer_transcribe, searchable, "≤ 1.0× faster-whisper"))
                .target(Target::at_most(6.0, searchable, "≤ 6 s"));
        } else {
            ready_row = ready_row.target(Target::at_most(cli, ready, "≤ 1.0× ffmpeg CLI"));
        }
        rows.extend([playable_row, transcribed_row, searchable_row, ready_row]);
    }
    Ok(rows)
}

/// Upload `input`, then watch its stages until it is ready; checks that a word of the
/// script finds it once it counts as searchable.
async fn post_and_wait(
    client: &reqwest::Client,
    server: &Server,
    input: &Path,
    update: &SpokenUpdate,
) -> anyhow::Result<Timings> {
    let bytes = tokio::fs::read(input).await?;
    let form = reqwest::multipart::Form::new()
        .text("title", "Weekly update")
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name("update.mp4"));
    // The clock starts before the first byte is sent, so the figures include the
    // upload itself (a few milliseconds over loopback) and the acceptance probe.
    let started = Instant::now();
    let response = client.post(server.url("/api/updates")).multipart(form).send().await?;
    anyhow::ensure!(response.status().as_u16() == 202, "upload answered {}", response.status());
    let id = response.json::<Json>().await?["id"].as_str().context("update id")?.to_string();
    let (mut playable, mut searchable) = (None, None);
    let mut stages_done: Vec<(String, f64)> = Vec::new();
    loop {
        let view: Json = client.get(server.url(&format!("/api/updates/{id}"))).send().await?.json().await?;
        for (stage, state) in view["stages"].as_object().into_iter().flatten() {
            if state["state"] == "done" && !stages_done.iter().any(|(s, _)| s == stage) {
                stages_done.push((stage.clone(), secs(started.elapsed())));
            }
        }
        if playable.is_none() && plays(client, server, &view).await? {
            playable = Some(started.elapsed());
        }
        if searchable.is_none() && view["stages"]["index"]["state"] == "done" {
            searchable = Some(started.elapsed());
            ensure_found(client, server, &id, update).await?;
        }
        match view["status"].as_str() {
            Some("ready") => {
                let ready = started.elapsed();
                let searchable = searchable.context("ready before its index stage was seen done")?;
                let playable = match playable {
                    Some(at) => at,
                    None if plays(client, server, &view).await? => ready,
                    None => bail!("update {id} is ready but its video does not play"),
                };
                let transcribed = stages_done
                    .iter()
                    .find(|(stage, _)| stage == "transcribe")
                    .map(|(_, at)| *at)
                    .context("ready before its transcribe stage was seen done")?;
                return Ok(Timings {
                    playable: secs(playable),
                    transcribed,
                    searchable: secs(searchable),
                    ready: secs(ready),
                    stages_done,
                });
            }
            Some("processing") => tokio::time::sleep(POLL).await,
            other => bail!("update {id} ended {other:?}: {view}"),
        }
    }
}

/// Whether the update plays now: the link its view says a browser plays (the MP4, or
/// the original while the MP4 is made) answers with the first byte of a video.
async fn plays(client: &reqwest::Client, server: &Server, view: &Json) -> anyhow::Result<bool> {
    let Some(playable) = view["playable"].as_str() else { return Ok(false) };
    let link = view["links"][playable].as_str().with_context(|| format!("the {playable} link"))?;
    let response = client.get(server.url(link)).header(reqwest::header::RANGE, "bytes=0-0").send().await?;
    let is_video = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("video/"));
    Ok(response.status().is_success() && is_video)
}

/// The update's own words find it: "searchable" means what it says.
async fn ensure_found(
    client: &reqwest::Client,
    server: &Server,
    id: &str,
    update: &SpokenUpdate,
) -> anyhow::Result<()> {
    let word = "retention";
    anyhow::ensure!(update.script.contains(word), "the script no longer says {word:?}");
    let results: Json = client.get(server.url("/api/search")).query(&[("q", word)]).send().await?.json().await?;
    let hits = results["hits"].as_array().context("search hits")?;
    anyhow::ensure!(hits.iter().any(|h| h["update_id"] == id), "searching {word:?} did not find update {id}");
    Ok(())
}
