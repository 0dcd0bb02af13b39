//! Ingest: how fast the real server receives big uploads over loopback through the
//! multipart `POST /api/updates`, and how much its resident memory grows meanwhile.
//! The target: "Server RSS growth ≤ 64 MB during a 1 GiB upload".
//!
//! Each run starts a fresh server, so every measurement sees the same just-started
//! process (and its data folder, holding the accepted gigabytes, is deleted after).
//! Client and server share this machine's cores: the figures include the client's
//! cost of reading and sending, as any loopback figure does.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;

use crate::report::{Row, Target, Unit, Value};
use crate::support::{median, rss_mib, secs, Bench, Server};

/// The server's default upload cap (`max_upload_bytes`), which the big upload fills
/// without raising it: the server is measured as shipped.
const BIG_UPLOAD_CAP: u64 = 1 << 30;
const CONCURRENT_UPLOADS: usize = 10;
const CONCURRENT_UPLOAD_BYTES: u64 = 200_000_000;
const RSS_GROWTH_TARGET_MIB: f64 = 64.0;
const RSS_SAMPLE_EVERY: Duration = Duration::from_millis(20);

/// 720p Motion JPEG at the best quality: a decoder uploads may use (raw video is
/// refused since decoders are whitelisted), fast to make (~240 frames/s here), about
/// 70 kB a frame, so at 100 frames/s 1 GiB is ~150 s of video, under the 3-minute limit.
const WIDTH: u64 = 1280;
const HEIGHT: u64 = 720;
const FPS: u64 = 100;
/// Longer than any fixture needs: ffmpeg stops at the size asked for.
const MAX_SECONDS: u64 = 175;
/// Room under the cap for the last packet ffmpeg writes past its size limit and the
/// container's closing bytes.
const CONTAINER_ALLOWANCE: u64 = 8 << 20;

/// One timed upload scenario.
struct Received {
    bytes: u64,
    wall: Duration,
    /// Resident memory just before the uploads, and its peak while they arrived.
    rss_before_mib: f64,
    rss_peak_mib: f64,
}

impl Received {
    fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / secs(self.wall)
    }

    fn rss_growth_mib(&self) -> f64 {
        self.rss_peak_mib - self.rss_before_mib
    }

    fn describe(&self) -> String {
        format!(
            "{:.0} MB in {:.2} s = {:.0} MB/s, RSS {:.1} → {:.1} MiB",
            self.bytes as f64 / 1e6,
            secs(self.wall),
            self.mb_per_s(),
            self.rss_before_mib,
            self.rss_peak_mib
        )
    }
}

pub async fn run(bench: &Bench) -> anyhow::Result<Vec<Row>> {
    let big = make_video(bench, "ingest-big.mkv", BIG_UPLOAD_CAP - CONTAINER_ALLOWANCE)?;
    ensure!(file_len(&big)? <= BIG_UPLOAD_CAP, "the big clip came out larger than the upload cap");
    let medium = make_video(bench, "ingest-200mb.mkv", CONCURRENT_UPLOAD_BYTES)?;
    let mut single = Vec::new();
    let mut concurrent = Vec::new();
    for run in 1..=bench.runs {
        let one = receive(bench, std::slice::from_ref(&big)).await.context("the 1 GiB upload")?;
        eprintln!("  run {run}, 1 GiB: {}", one.describe());
        single.push(one);
        let many = receive(bench, &vec![medium.clone(); CONCURRENT_UPLOADS]).await.context("the 10 uploads")?;
        eprintln!("  run {run}, 10 × 200 MB: {}", many.describe());
        concurrent.push(many);
    }
    let _ = std::fs::remove_file(&big);
    let _ = std::fs::remove_file(&medium);
    Ok(rows(&single, "1 GiB upload", true)
        .into_iter()
        .chain(rows(&concurrent, "10 × 200 MB uploads at once", false))
        .collect())
}

/// Throughput is the median run; memory growth the worst run, since the target is a ceiling.
fn rows(runs: &[Received], what: &str, with_target: bool) -> Vec<Row> {
    let mb_per_s: Vec<f64> = runs.iter().map(Received::mb_per_s).collect();
    let growth = runs.iter().map(Received::rss_growth_mib).fold(f64::NEG_INFINITY, f64::max);
    let mut memory =
        Row::new("ingest", format!("{what}: server RSS growth (worst run)"), Value::new(growth, Unit::MiB));
    if with_target {
        memory = memory.target(Target::at_most(RSS_GROWTH_TARGET_MIB, growth, "≤ 64 MB growth"));
    }
    vec![Row::new("ingest", format!("{what}: received"), Value::new(median(&mb_per_s), Unit::MBps)), memory]
}

/// A real video of about `bytes` (moving test pattern, Motion JPEG) in Matroska.
fn make_video(bench: &Bench, name: &str, bytes: u64) -> anyhow::Result<PathBuf> {
    let path = bench.work.join(name);
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}"))
        .args(["-t", &MAX_SECONDS.to_string(), "-fs", &bytes.to_string()])
        .args(["-c:v", "mjpeg", "-q:v", "1", "-pix_fmt", "yuvj420p"])
        .arg(&path)
        .status()
        .context("run ffmpeg")?;
    ensure!(status.success(), "ffmpeg could not make {name}");
    let made = file_len(&path)?;
    ensure!(made >= bytes * 9 / 10, "{name} came out at {made} bytes, short of {bytes}");
    Ok(path)
}

fn file_len(path: &Path) -> anyhow::Result<u64> {
    Ok(std::fs::metadata(path).with_context(|| format!("stat {}", path.display()))?.len())
}

/// Upload every file at once to a fresh server and time it from the first byte sent
/// to the last 202. `--workers 0`: the transcode each accepted update queues would
/// otherwise start at once and take the cores and memory being measured.
async fn receive(bench: &Bench, files: &[PathBuf]) -> anyhow::Result<Received> {
    let server = Server::start(bench, "ingest", &["--workers", "0"], &[])?;
    let client = server.client(reqwest::Client::builder())?;
    let url = server.url("/api/updates");
    let (rss_before, _) = rss_mib(server.pid())?;
    let watch = RssWatch::start(server.pid());
    let started = Instant::now();
    let uploads = files.iter().map(|file| upload(&client, &url, file));
    let sent = futures_util::future::try_join_all(uploads).await;
    let wall = started.elapsed();
    let peak = watch.stop()?;
    let data_dir = server.data_dir.clone();
    drop(server);
    let _ = std::fs::remove_dir_all(data_dir);
    Ok(Received { bytes: sent?.iter().sum(), wall, rss_before_mib: rss_before, rss_peak_mib: peak })
}

/// POST one file as an update, streamed from disk (never whole in this process);
/// returns its size once the server answered 202.
async fn upload(client: &reqwest::Client, url: &str, path: &Path) -> anyhow::Result<u64> {
    let file = tokio::fs::File::open(path).await?;
    let bytes = file.metadata().await?.len();
    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024));
    // With its length known the form is sent with a Content-Length, as browsers do.
    let part = Part::stream_with_length(body, bytes).file_name("clip.mkv").mime_str("video/x-matroska")?;
    let form = Form::new().text("title", "Ingest benchmark").part("file", part);
    let response = client.post(url).multipart(form).send().await.context("POST /api/updates")?;
    let status = response.status();
    ensure!(
        status == StatusCode::ACCEPTED,
        "the server answered {status}: {}",
        response.text().await.unwrap_or_default()
    );
    Ok(bytes)
}

/// Samples a process's VmRSS on its own thread (not the runtime the uploads share)
/// until stopped, and reports the peak. VmHWM alone cannot do it: it is the peak of
/// the process's whole life, start-up included.
struct RssWatch {
    pid: u32,
    hwm_before: f64,
    stop: Arc<AtomicBool>,
    sampler: std::thread::JoinHandle<anyhow::Result<f64>>,
}

impl RssWatch {
    fn start(pid: u32) -> RssWatch {
        let hwm_before = rss_mib(pid).map(|(_, hwm)| hwm).unwrap_or(f64::INFINITY);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let sampler = std::thread::spawn(move || {
            let mut peak: f64 = 0.0;
            while !flag.load(Ordering::Relaxed) {
                peak = peak.max(rss_mib(pid)?.0);
                std::thread::sleep(RSS_SAMPLE_EVERY);
            }
            Ok(peak)
        });
        RssWatch { pid, hwm_before, stop, sampler }
    }

    /// The peak VmRSS seen. If the lifetime peak (VmHWM) rose meanwhile, the new
    /// VmHWM is this window's exact peak, which sampling might have missed.
    fn stop(self) -> anyhow::Result<f64> {
        self.stop.store(true, Ordering::Relaxed);
        let sampled = self.sampler.join().map_err(|_| anyhow::anyhow!("the RSS sampler panicked"))??;
        let (rss_now, hwm_after) = rss_mib(self.pid)?;
        let exact = if hwm_after > self.hwm_before { hwm_after } else { 0.0 };
        Ok(sampled.max(rss_now).max(exact))
    }
}
