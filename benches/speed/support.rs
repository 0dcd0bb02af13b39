//! What every section shares: the run settings, a real `bulletin serve` on a scratch
//! folder, peak-memory readings and order statistics.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// Settings of one `cargo bench --bench speed` run.
pub struct Bench {
    /// Repetitions of each timed measure; medians are reported.
    pub runs: usize,
    /// Scratch space for this run (fixtures, data folders), removed at the end.
    pub work: PathBuf,
    /// The whisper model both Bulletin and the peer use (ggml for Bulletin).
    pub model: PathBuf,
    /// The CTranslate2 copy of the same model, for faster-whisper.
    pub ct2_model: Option<PathBuf>,
    /// The Python of the virtual environment that has faster-whisper.
    pub python: Option<PathBuf>,
    /// Threads each side may use for transcription (the issue compares at 2).
    pub threads: usize,
}

pub fn bulletin_exe() -> &'static str {
    env!("CARGO_BIN_EXE_bulletin")
}

/// A `bulletin serve` (release build) on its own data folder, killed on drop.
pub struct Server {
    pub base: String,
    pub data_dir: PathBuf,
    /// An API token of the workspace admin the bench added, who may see and post everything.
    token: String,
    child: Child,
}

impl Server {
    pub fn start(bench: &Bench, name: &str, args: &[&str], envs: &[(&str, &str)]) -> anyhow::Result<Server> {
        let data_dir = bench.work.join(name);
        let _ = std::fs::remove_dir_all(&data_dir);
        std::fs::create_dir_all(&data_dir)?;
        let token = admin_token(&data_dir)?;
        let mut child = Command::new(bulletin_exe())
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data_dir)
            .arg("--whisper-model")
            .arg(&bench.model)
            .args(args)
            .env("BULLETIN_LOG", "warn")
            .envs(envs.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("start bulletin serve")?;
        let stdout = child.stdout.take().context("server stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("bulletin listening on ") {
                    let _ = tx.send(url.to_string());
                }
            }
        });
        let base = rx.recv_timeout(Duration::from_secs(60)).context("the server did not start listening")?;
        Ok(Server { base, data_dir, token, child })
    }

    /// A client whose every request is the bench admin's.
    pub fn client(&self, builder: reqwest::ClientBuilder) -> anyhow::Result<reqwest::Client> {
        let mut headers = reqwest::header::HeaderMap::new();
        let mut bearer = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", self.token))?;
        bearer.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, bearer);
        Ok(builder.default_headers(headers).build()?)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// Add a workspace admin to the data folder's database (as an operator would, with the
/// CLI) and return a new API token of theirs: every API route is behind the door.
fn admin_token(data_dir: &Path) -> anyhow::Result<String> {
    let cli = |args: &[&str]| -> anyhow::Result<String> {
        let output = Command::new(bulletin_exe())
            .args(args)
            .env("BULLETIN_DATA_DIR", data_dir)
            .env("BULLETIN_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("run bulletin {}", args.join(" ")))?;
        if !output.status.success() {
            bail!("bulletin {} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim());
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    cli(&["user", "add", "bench", "--admin"])?;
    let token = cli(&["token", "create", "bench", "--name", "bench"])?;
    Ok(token.trim().to_string())
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A process's resident memory now (`VmRSS`) and its peak so far (`VmHWM`), in MiB.
pub fn rss_mib(pid: u32) -> anyhow::Result<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> anyhow::Result<f64> {
        let line = status.lines().find(|l| l.starts_with(name)).with_context(|| format!("no {name}"))?;
        let kib: f64 = line.split_whitespace().nth(1).context("value")?.parse()?;
        Ok(kib / 1024.0)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// Wall time and peak resident memory (MiB) of a command, measured by GNU time
/// the same way for Bulletin and its peers. Fails if the command fails.
pub struct Measured {
    pub wall: Duration,
    pub peak_mib: f64,
    pub stdout: String,
}

pub fn measure(program: impl AsRef<Path>, args: &[&std::ffi::OsStr], stdin: Option<&str>) -> anyhow::Result<Measured> {
    let report = tempfile::NamedTempFile::new()?;
    let mut cmd = Command::new("/usr/bin/time");
    cmd.arg("-f").arg("%M").arg("-o").arg(report.path()).arg(program.as_ref()).args(args);
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().with_context(|| format!("run {}", program.as_ref().display()))?;
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().context("stdin")?.write_all(input.as_bytes())?;
    }
    let output = child.wait_with_output()?;
    let wall = started.elapsed();
    if !output.status.success() {
        bail!(
            "{} failed ({}): {}",
            program.as_ref().display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).lines().rev().take(5).collect::<Vec<_>>().join(" / ")
        );
    }
    let kib: f64 = std::fs::read_to_string(report.path())?
        .lines()
        .rev()
        .find_map(|l| l.trim().parse().ok())
        .context("GNU time wrote no peak memory")?;
    Ok(Measured { wall, peak_mib: kib / 1024.0, stdout: String::from_utf8_lossy(&output.stdout).into_owned() })
}

/// Run one step through `bulletin media`, exactly as a worker does, and read its reply
/// (`Ok` value or the step's own error). The wall time includes process start.
pub fn media_step<T: serde::de::DeserializeOwned>(
    request: &bulletin::media::MediaRequest,
) -> anyhow::Result<(Measured, T)> {
    let measured = measure(bulletin_exe(), &[std::ffi::OsStr::new("media")], Some(&serde_json::to_string(request)?))?;
    let reply: Result<T, String> =
        serde_json::from_str(measured.stdout.lines().last().unwrap_or_default()).context("the media child's reply")?;
    let value = reply.map_err(|e| anyhow::anyhow!("the media step failed: {e}"))?;
    Ok((measured, value))
}

pub fn median(values: &[f64]) -> f64 {
    percentile(values, 50.0)
}

/// Nearest-rank percentile (`p` in 0..=100) of unsorted values; NaN for none. The
/// median of an even count is the lower middle value (a measured value, not a mean).
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    // The epsilon keeps float error from rounding an exact rank up (99.9 % of 1000 is 999).
    let rank = (p * sorted.len() as f64 / 100.0 - 1e-9).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}
