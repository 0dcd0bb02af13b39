//! The parent side: spawn `bulletin media`, feed it a request, follow its
//! progress, enforce the timeout, and turn whatever happened into a typed result.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use bulletin_workers::probe::{MediaInfo, ProbeError, ProbeLimits};
use bulletin_workers::transcribe::{TranscribeOptions, Transcript};
use serde::de::DeserializeOwned;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use super::admission::{Admission, Wait};
use super::protocol::{ChildResult, MediaRequest, TranscodeOutput, PROGRESS_PREFIX};
use super::sandbox::{child_environment, ChildLimits};

/// How a media step can end badly.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StepError {
    /// The input itself is the problem (undecodable, unsupported): retrying will not help.
    #[error("{0}")]
    Media(String),
    /// The child died: a crash (signal) or an unexpected exit.
    #[error("media process crashed ({0})")]
    Crashed(String),
    #[error("media step timed out after {0} s")]
    TimedOut(u64),
    #[error("cannot run media process: {0}")]
    Spawn(String),
    /// No slot for another media process (see `admission`).
    #[error("too many media processes are running")]
    Busy,
}

impl StepError {
    /// Crashes and time-outs may be load or memory pressure: worth another attempt.
    pub fn retryable(&self) -> bool {
        !matches!(self, StepError::Media(_))
    }
}

/// How long an upload's probe waits for a media slot before the answer is "busy".
const PROBE_QUEUE_WAIT: Duration = Duration::from_secs(30);

/// Runs media steps in child processes of `exe` (normally this very binary).
#[derive(Debug, Clone)]
pub struct MediaRunner {
    exe: PathBuf,
    timeout: Duration,
    limits: ChildLimits,
    admission: Admission,
    /// util-linux's `chrt`, to start transcodes under `SCHED_IDLE` (see [`Self::command`]);
    /// without it they run at normal priority.
    chrt: Option<PathBuf>,
}

impl MediaRunner {
    pub fn new(exe: PathBuf, timeout: Duration, limits: ChildLimits, admission: Admission) -> Self {
        let chrt = find_in_path("chrt");
        if chrt.is_none() {
            tracing::warn!("`chrt` (util-linux) not found: transcodes run at normal CPU priority");
        }
        Self { exe, timeout, limits, admission, chrt }
    }

    pub fn admission(&self) -> &Admission {
        &self.admission
    }

    /// Probe an upload. `Ok(Err(_))` is a refusal to show the uploader.
    pub async fn probe(&self, input: &Path, limits: &ProbeLimits) -> Result<Result<MediaInfo, ProbeError>, StepError> {
        // Probing reads headers and packets only: a short leash.
        let timeout = self.timeout.min(Duration::from_secs(60));
        let request = MediaRequest::Probe { input: input.to_path_buf(), limits: limits.clone() };
        // Someone is waiting for the answer: a short wait for a slot, then "busy".
        let wait = Wait::Briefly(PROBE_QUEUE_WAIT);
        self.run::<ChildResult<MediaInfo, ProbeError>>(&request, wait, timeout, &mut |_| {}).await
    }

    /// Judge the bytes of an upload received so far: `Ok(Some(_))` is a refusal that
    /// the rest of the upload cannot change.
    pub async fn early_verdict(&self, input: &Path, limits: &ProbeLimits) -> Result<Option<ProbeError>, StepError> {
        let timeout = self.timeout.min(Duration::from_secs(30));
        let request = MediaRequest::EarlyVerdict { input: input.to_path_buf(), limits: limits.clone() };
        // Only a look ahead of the full probe: skipped when every slot is taken.
        self.run::<Option<ProbeError>>(&request, Wait::IfFree, timeout, &mut |_| {}).await
    }

    pub async fn transcode(
        &self,
        request: MediaRequest,
        on_progress: &mut (dyn FnMut(u8) + Send),
    ) -> Result<TranscodeOutput, StepError> {
        self.run::<ChildResult<TranscodeOutput, String>>(&request, Wait::Patient, self.timeout, on_progress)
            .await?
            .map_err(StepError::Media)
    }

    pub async fn transcribe(
        &self,
        input: &Path,
        model: &Path,
        options: &TranscribeOptions,
        on_progress: &mut (dyn FnMut(u8) + Send),
    ) -> Result<Transcript, StepError> {
        let request = MediaRequest::Transcribe {
            input: input.to_path_buf(),
            model: model.to_path_buf(),
            options: options.clone(),
        };
        self.run::<ChildResult<Transcript, String>>(&request, Wait::Patient, self.timeout, on_progress)
            .await?
            .map_err(StepError::Media)
    }

    /// The command line for `request`. Transcoding runs under `SCHED_IDLE`: an update is
    /// searchable once its transcription is indexed, so the transcription beside a transcode
    /// gets the cores first and the transcode takes what is left. Niceness is not enough:
    /// ggml's threads wait for each other at every operation, so even a small share taken
    /// by a nice-10 x264 stalled them (3-minute update, 2 cores: searchable in 29.8 s at
    /// nice 10, 17.7 s under `SCHED_IDLE`; benches/speed end_to_end).
    fn command(&self, request: &MediaRequest) -> Command {
        match (request, &self.chrt) {
            (MediaRequest::Transcode { .. }, Some(chrt)) => {
                // `chrt` execs the binary: same pid, same parent, so kill and die-with-parent still hold.
                let mut command = Command::new(chrt);
                command.args(["--idle", "0"]).arg(&self.exe);
                command
            }
            _ => Command::new(&self.exe),
        }
    }

    async fn run<T: DeserializeOwned>(
        &self,
        request: &MediaRequest,
        wait: Wait,
        timeout: Duration,
        on_progress: &mut (dyn FnMut(u8) + Send),
    ) -> Result<T, StepError> {
        let body = serde_json::to_vec(request).map_err(|e| StepError::Spawn(e.to_string()))?;
        // Held until this function returns, by which time the child has exited or been killed.
        let _slot = self.admission.enter(wait).await.map_err(|_| StepError::Busy)?;
        let mut command = self.command(request);
        command.arg("media").args(self.limits.args());
        child_environment(&mut command, super::child::PARENT_PID_ENV);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| StepError::Spawn(format!("{}: {e}", self.exe.display())))?;

        let mut stdin = child.stdin.take().ok_or_else(|| StepError::Spawn("no stdin".into()))?;
        let mut stdout = child.stdout.take().ok_or_else(|| StepError::Spawn("no stdout".into()))?;
        let stderr = child.stderr.take().ok_or_else(|| StepError::Spawn("no stderr".into()))?;

        let work = async {
            stdin.write_all(&body).await.map_err(|e| StepError::Spawn(e.to_string()))?;
            drop(stdin);
            let mut out = Vec::new();
            let mut diagnostics = Vec::<String>::new();
            let mut lines = BufReader::new(stderr).lines();
            let read_out = stdout.read_to_end(&mut out);
            tokio::pin!(read_out);
            let mut out_done = false;
            loop {
                tokio::select! {
                    line = lines.next_line() => match line {
                        Ok(Some(line)) => match line.strip_prefix(PROGRESS_PREFIX).and_then(|p| p.trim().parse::<u8>().ok()) {
                            Some(p) => on_progress(p),
                            None => {
                                if diagnostics.len() == 20 { diagnostics.remove(0); }
                                diagnostics.push(line);
                            }
                        },
                        _ => break,
                    },
                    done = &mut read_out, if !out_done => {
                        done.map_err(|e| StepError::Spawn(e.to_string()))?;
                        out_done = true;
                    }
                }
            }
            if !out_done {
                read_out.await.map_err(|e| StepError::Spawn(e.to_string()))?;
            }
            let status = child.wait().await.map_err(|e| StepError::Spawn(e.to_string()))?;
            Ok::<_, StepError>((status, out, diagnostics))
        };

        let (status, out, diagnostics) = match tokio::time::timeout(timeout, work).await {
            Ok(result) => result?,
            Err(_) => {
                // Kill it and wait until it is gone: its media slot is free only then.
                let _ = child.kill().await;
                return Err(StepError::TimedOut(timeout.as_secs()));
            }
        };
        if !status.success() {
            let how = exit_description(&status);
            let detail = diagnostics.last().map(|d| format!(": {d}")).unwrap_or_default();
            return Err(StepError::Crashed(format!("{how}{detail}")));
        }
        let last_line = out.split(|b| *b == b'\n').rfind(|l| !l.is_empty()).unwrap_or_default();
        serde_json::from_slice(last_line).map_err(|e| StepError::Crashed(format!("unreadable reply: {e}")))
    }
}

fn find_in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| candidate.is_file())
}

fn exit_description(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (_, Some(signal)) => format!("killed by signal {signal}"),
        (Some(code), _) => format!("exit code {code}"),
        _ => "unknown exit".into(),
    }
}
