//! End to end: from the upload to *searchable* (the transcript is in the index) and to
//! *ready* (playable MP4, transcript and index) on a real `bulletin serve` with its default
//! settings, against the sequential baseline of the same work done by the `ffmpeg` CLI and
//! then faster-whisper, measured in the same run.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value as Json;

use crate::peers::{faster_whisper, ffmpeg_transcode};
use crate::report::{Row, Target, Unit, Value};
use crate::speech::{self, SpokenUpdate};
use crate::support::{median, secs, Bench, Server};

const SECTION: &str = "end to end";
const POLL: Duration = Duration::from_millis(20);
/// faster-whisper's default decoding (what its users get).
const PEER_BEAM: usize = 5;

struct Timings {
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
        let (mut ours, mut baseline, mut peer_transcribe) = (Vec::new(), Vec::new(), Vec::new());
        for run in 1..=bench.runs {
            let timings = post_and_wait(&client, &server, input, update).await?;
            let cli = secs(ffmpeg_transcode(input, &bench.work.join("baseline.mp4"), copy)?);
            let transcribing = secs(faster_whisper(bench, input, PEER_BEAM)?.transcribing);
            let stages: Vec<String> = timings.stages_done.iter().map(|(s, t)| format!("{s} {t:.2} s")).collect();
            eprintln!(
                "{label}, run {run}: searchable {:.2} s, ready {:.2} s (done: {}); baseline ffmpeg {cli:.2} s + faster-whisper {transcribing:.2} s",
                timings.searchable,
                timings.ready,
                stages.join(", ")
            );
            ours.push(timings);
            baseline.push(cli + transcribing);
            peer_transcribe.push(transcribing);
        }
        let searchable = median(&ours.iter().map(|t| t.searchable).collect::<Vec<_>>());
        let ready = median(&ours.iter().map(|t| t.ready).collect::<Vec<_>>());
        let (baseline, peer_transcribe) = (median(&baseline), median(&peer_transcribe));
        let time = |v| Value::new(v, Unit::Seconds);
        let mut searchable_row = Row::new(SECTION, format!("{label}: upload → searchable"), time(searchable))
            .peer("faster-whisper transcription alone", time(peer_transcribe));
        let mut ready_row = Row::new(SECTION, format!("{label}: upload → ready"), time(ready))
            .peer("ffmpeg CLI + faster-whisper", time(baseline));
        if copy {
            searchable_row = searchable_row
                .target(Target::at_most(peer_transcribe, searchable, "≤ 1.0× faster-whisper"))
                .target(Target::at_most(8.0, searchable, "≤ 8 s"));
            ready_row = ready_row.target(Target::at_most(1.1 * searchable, ready, "≤ 1.1× searchable"));
        } else {
            ready_row = ready_row.target(Target::at_most(0.75 * baseline, ready, "≤ 0.75× baseline"));
        }
        rows.extend([searchable_row, ready_row]);
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
    let mut searchable = None;
    let mut stages_done: Vec<(String, f64)> = Vec::new();
    loop {
        let view: Json = client.get(server.url(&format!("/api/updates/{id}"))).send().await?.json().await?;
        for (stage, state) in view["stages"].as_object().into_iter().flatten() {
            if state["state"] == "done" && !stages_done.iter().any(|(s, _)| s == stage) {
                stages_done.push((stage.clone(), secs(started.elapsed())));
            }
        }
        if searchable.is_none() && view["stages"]["index"]["state"] == "done" {
            searchable = Some(started.elapsed());
            ensure_found(client, server, &id, update).await?;
        }
        match view["status"].as_str() {
            Some("ready") => {
                let ready = started.elapsed();
                let searchable = searchable.context("ready before its index stage was seen done")?;
                return Ok(Timings { searchable: secs(searchable), ready: secs(ready), stages_done });
            }
            Some("processing") => tokio::time::sleep(POLL).await,
            other => bail!("update {id} ended {other:?}: {view}"),
        }
    }
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
