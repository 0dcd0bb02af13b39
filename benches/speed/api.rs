//! API: requests per second and p99 latency of the read endpoints (the feed, one
//! update, search) of a real `bulletin serve`, beside its static health endpoint as the
//! ceiling of the HTTP stack, under a loopback load generator that
//! keeps 32 requests in flight for a fixed time.
//!
//! The server is seeded through its public API: silent clips (ready in seconds; search
//! finds them by their titles) and the run's spoken update, whose transcript gives
//! search real segments to find. The load generator shares the machine's cores with
//! the server, so the figures are what one machine does serving itself: a lower bound.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use reqwest::{Client, Url};
use serde_json::Value as Json;

use crate::report::{Row, Target, Unit, Value};
use crate::speech;
use crate::support::{median, percentile, Bench, Server};

const SECTION: &str = "api";
const CONNECTIONS: usize = 32;
const WARM_UP: Duration = Duration::from_secs(2);
const MEASURE: Duration = Duration::from_secs(10);
/// A request slower than this counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const READY_TIMEOUT: Duration = Duration::from_secs(600);
/// Silent clips posted: a full feed page (20) and then some.
const SILENT_UPDATES: usize = 40;
/// Titles of the silent clips, in turn.
const SUBJECTS: [&str; 6] =
    ["Quarterly roadmap review", "Budget proposal", "Hiring plan", "Release notes", "Incident retro", "Sprint demo"];
/// Searched in turn: title words, words and a phrase of the spoken update, and an AND query.
const QUERIES: [&str; 7] =
    ["roadmap", "budget", "hiring", "billing", "retention", "\"offline mode\"", "planning review"];

/// The targets for each read endpoint, on loopback (release build).
const MIN_RPS: f64 = 5000.0;
const MAX_P99_MS: f64 = 20.0;

/// One endpoint under load: the URLs its requests cycle through.
struct Endpoint {
    name: &'static str,
    urls: Vec<Url>,
    /// Measured as the stack's ceiling, not held to the targets.
    ceiling: bool,
}

/// What one timed load measured.
struct Load {
    ok_ms: Vec<f64>,
    errors: usize,
    first_error: Option<String>,
    elapsed: Duration,
}

pub async fn run(bench: &Bench) -> anyhow::Result<Vec<Row>> {
    let spoken = speech::shared(bench)?;
    let silent = silent_clip(&bench.work.join("api-fixtures"))?;
    let server = Server::start(bench, "api", &[], &[])?;
    let client = server.client(Client::builder().pool_max_idle_per_host(CONNECTIONS).timeout(REQUEST_TIMEOUT))?;
    let ids = seed(&client, &server, &silent, &spoken.fit_mp4).await?;
    check_queries_find_something(&client, &server).await?;
    let mut rows = Vec::new();
    for endpoint in endpoints(&server, &ids)? {
        load(&client, &endpoint.urls, WARM_UP).await;
        let (mut rps, mut p99) = (Vec::new(), Vec::new());
        for _ in 0..bench.runs {
            let measured = load(&client, &endpoint.urls, MEASURE).await;
            // Failed requests would leave the latency figures too low: a run with any is void.
            if let Some(e) = &measured.first_error {
                bail!("{}: {} failed requests, first: {e}", endpoint.name, measured.errors);
            }
            rps.push(measured.ok_ms.len() as f64 / measured.elapsed.as_secs_f64());
            p99.push(percentile(&measured.ok_ms, 99.0));
        }
        let (rps, p99) = (median(&rps), median(&p99));
        let mut throughput =
            Row::new(SECTION, format!("{} (requests/s)", endpoint.name), Value::new(rps, Unit::PerSecond));
        let mut latency = Row::new(SECTION, format!("{} p99", endpoint.name), Value::new(p99, Unit::Millis));
        if !endpoint.ceiling {
            throughput = throughput.target(Target::at_least(MIN_RPS, rps, "≥ 5000 requests/s"));
            latency = latency.target(Target::at_most(MAX_P99_MS, p99, "p99 ≤ 20 ms"));
        }
        rows.extend([throughput, latency]);
    }
    Ok(rows)
}

fn endpoints(server: &Server, ids: &[String]) -> anyhow::Result<Vec<Endpoint>> {
    let url = |path: &str| Url::parse(&server.url(path));
    let search = |q: &str| Url::parse_with_params(&server.url("/api/search"), [("q", q)]);
    Ok(vec![
        // The ceiling: a static answer through the same stack (router, door, logging).
        Endpoint { name: "GET /healthz (ceiling)", urls: vec![url("/healthz")?], ceiling: true },
        Endpoint { name: "GET /api/updates", urls: vec![url("/api/updates")?], ceiling: false },
        Endpoint {
            name: "GET /api/updates/{id}",
            urls: ids.iter().map(|id| url(&format!("/api/updates/{id}"))).collect::<Result<_, _>>()?,
            ceiling: false,
        },
        Endpoint {
            name: "GET /api/search",
            urls: QUERIES.iter().map(|q| search(q)).collect::<Result<_, _>>()?,
            ceiling: false,
        },
    ])
}

/// A 2-second clip without sound: transcribing it is trivial, so it is ready fast.
fn silent_clip(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let out = dir.join("silent.mp4");
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=15"])
        .args(["-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
        .arg(&out)
        .output()
        .context("run ffmpeg")?;
    anyhow::ensure!(output.status.success(), "ffmpeg failed: {}", String::from_utf8_lossy(&output.stderr));
    Ok(out)
}

/// Post the silent clips and the spoken update, then wait until all are ready;
/// returns their ids.
async fn seed(client: &Client, server: &Server, silent: &Path, spoken: &Path) -> anyhow::Result<Vec<String>> {
    let mut ids = vec![post(client, server, "Weekly platform update", spoken).await?];
    for n in 0..SILENT_UPDATES {
        ids.push(post(client, server, &format!("{} {n}", SUBJECTS[n % SUBJECTS.len()]), silent).await?);
    }
    let started = Instant::now();
    loop {
        let page: Json = client.get(server.url("/api/updates?limit=100")).send().await?.json().await?;
        let updates = page["updates"].as_array().context("updates")?;
        if let Some(failed) = updates.iter().find(|u| u["status"] == "failed") {
            bail!("a seeded update failed: {failed}");
        }
        if updates.iter().filter(|u| u["status"] == "ready").count() == ids.len() {
            return Ok(ids);
        }
        anyhow::ensure!(started.elapsed() < READY_TIMEOUT, "seeded updates not ready after {READY_TIMEOUT:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn post(client: &Client, server: &Server, title: &str, file: &Path) -> anyhow::Result<String> {
    let bytes = tokio::fs::read(file).await.with_context(|| format!("read {}", file.display()))?;
    let form = reqwest::multipart::Form::new()
        .text("title", title.to_string())
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name("update.mp4"));
    let response = client.post(server.url("/api/updates")).multipart(form).send().await?;
    anyhow::ensure!(response.status().as_u16() == 202, "upload answered {}", response.status());
    Ok(response.json::<Json>().await?["id"].as_str().context("update id")?.to_string())
}

/// Every search under load must do real work: each query finds at least one update.
async fn check_queries_find_something(client: &Client, server: &Server) -> anyhow::Result<()> {
    for q in QUERIES {
        let found: Json = client.get(server.url("/api/search")).query(&[("q", q)]).send().await?.json().await?;
        let hits = found["hits"].as_array().map_or(0, Vec::len);
        anyhow::ensure!(hits > 0, "searching {q:?} finds nothing: {found}");
    }
    Ok(())
}

/// Keep `CONNECTIONS` requests in flight over `urls` (in turn) for `duration`;
/// only 2xx answers count as served.
async fn load(client: &Client, urls: &[Url], duration: Duration) -> Load {
    let urls: Arc<[Url]> = urls.into();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (client, urls, next) = (client.clone(), urls.clone(), next.clone());
            tokio::spawn(async move {
                let mut load = Load { ok_ms: Vec::new(), errors: 0, first_error: None, elapsed: Duration::ZERO };
                while Instant::now() < deadline {
                    let url = urls[next.fetch_add(1, Ordering::Relaxed) % urls.len()].clone();
                    let begun = Instant::now();
                    match request(&client, url).await {
                        Ok(()) => load.ok_ms.push(begun.elapsed().as_secs_f64() * 1000.0),
                        Err(e) => {
                            load.errors += 1;
                            load.first_error.get_or_insert(e);
                        }
                    }
                }
                load
            })
        })
        .collect();
    let mut total = Load { ok_ms: Vec::new(), errors: 0, first_error: None, elapsed: Duration::ZERO };
    for worker in workers {
        match worker.await {
            Ok(load) => {
                total.ok_ms.extend(load.ok_ms);
                total.errors += load.errors;
                total.first_error = total.first_error.or(load.first_error);
            }
            Err(e) => {
                total.errors += 1;
                total.first_error.get_or_insert(format!("load task: {e}"));
            }
        }
    }
    // Until the last answer: requests begun before the deadline finish after it.
    total.elapsed = started.elapsed();
    total
}

/// One request, its body read to the end; an error unless the status is 2xx.
async fn request(client: &Client, url: Url) -> Result<(), String> {
    let response = client.get(url).send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("{status}: {}", String::from_utf8_lossy(&body)))
    }
}
