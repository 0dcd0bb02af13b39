//! The child side: `bulletin media` runs one step and exits.

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use bulletin_workers::audio::decode_audio_16k_mono;
use bulletin_workers::poster::poster;
use bulletin_workers::probe::{early_verdict, probe};
use bulletin_workers::storyboard::storyboard;
use bulletin_workers::transcode::transcode;
use bulletin_workers::transcribe::Transcriber;

use super::protocol::{MediaRequest, TranscodeOutput, PROGRESS_PREFIX};
use super::sandbox::{self, ChildLimits};
use crate::storage::MediaObject;

/// The pid of the process that spawned this child, so it can tell when it is orphaned.
pub const PARENT_PID_ENV: &str = "BULLETIN_MEDIA_PARENT";

/// Entry point of `bulletin media --memory-mb N --file-size-mb M`.
pub fn run_media_child(limits: ChildLimits) -> ExitCode {
    if !die_with_parent() {
        return ExitCode::from(4);
    }
    // Applied to ourselves before touching the input: a decoder that tries to
    // allocate beyond the limit gets a failed allocation, not the machine's memory.
    if let Err(e) = limits.apply() {
        eprintln!("{e}");
        return ExitCode::from(5);
    }
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("cannot read request: {e}");
        return ExitCode::from(2);
    }
    let request: MediaRequest = match serde_json::from_str(&input) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bad request: {e}");
            return ExitCode::from(2);
        }
    };
    // Only now are its paths known: from here on it reads its input (and model),
    // writes in its output folder, and has no network.
    let (readable, writable): (Vec<&Path>, Vec<&Path>) = match &request {
        MediaRequest::Probe { input, .. } | MediaRequest::EarlyVerdict { input, .. } => (vec![input], vec![]),
        MediaRequest::Transcode { input, out_dir, .. } => (vec![input], vec![out_dir]),
        MediaRequest::Transcribe { input, model, .. } => (vec![input, model], vec![]),
    };
    match sandbox::confine(&readable, &writable) {
        Ok(confinement) if limits.require_sandbox && !(confinement.landlock_fully && confinement.network_namespace) => {
            eprintln!("the sandbox is required but this kernel enforces only part of it: {confinement:?}");
            return ExitCode::from(5);
        }
        Ok(_) => {}
        Err(e) if limits.require_sandbox => {
            eprintln!("{e}");
            return ExitCode::from(5);
        }
        Err(e) => eprintln!("{e}; going on unconfined"),
    }
    crate::faults::point(match &request {
        MediaRequest::Probe { .. } => "probe",
        MediaRequest::EarlyVerdict { .. } => "early",
        MediaRequest::Transcode { .. } => "transcode",
        MediaRequest::Transcribe { .. } => "transcribe",
    });
    bulletin_workers::init_ffmpeg();
    let reply = match request {
        MediaRequest::Probe { input, limits } => serde_json::to_string(&probe(&input, &limits)),
        MediaRequest::EarlyVerdict { input, limits } => serde_json::to_string(&early_verdict(&input, &limits)),
        MediaRequest::Transcode { input, out_dir, options, poster_width, storyboard: sb_options } => {
            let result = (|| {
                let report = transcode(&input, &out_dir.join(MediaObject::Video.file_name()), &options, &mut |p| {
                    report_progress(p as u32 * 90 / 100)
                })?;
                // Stills come from the normalised MP4: smaller and always decodable.
                let video = out_dir.join(MediaObject::Video.file_name());
                let at_ms = (report.duration_ms / 4).min(2_000);
                poster(&video, &out_dir.join(MediaObject::Poster.file_name()), at_ms, poster_width)?;
                report_progress(93);
                let board = storyboard(&video, &out_dir.join(MediaObject::Storyboard.file_name()), &sb_options)?;
                Ok::<_, bulletin_workers::MediaError>(TranscodeOutput { report, storyboard: board })
            })();
            serde_json::to_string(&result.map_err(|e| e.to_string()))
        }
        MediaRequest::Transcribe { input, model, options } => {
            let result = (|| {
                let samples = decode_audio_16k_mono(&input).map_err(|e| e.to_string())?;
                report_progress(5);
                if samples.is_empty() {
                    return Ok(bulletin_workers::transcribe::Transcript {
                        language: bulletin_workers::transcribe::UNDETERMINED_LANGUAGE.into(),
                        segments: Vec::new(),
                        prompt_terms: Vec::new(), // no audio: whisper never ran
                    });
                }
                let transcriber = Transcriber::load(&model).map_err(|e| e.to_string())?;
                transcriber
                    .transcribe(&samples, &options, &mut |p| report_progress(5 + p as u32 * 95 / 100))
                    .map_err(|e| e.to_string())
            })();
            serde_json::to_string(&result)
        }
    };
    match reply {
        Ok(line) => {
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{line}");
            let _ = stdout.flush();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot encode reply: {e}");
            ExitCode::from(3)
        }
    }
}

/// Ask the kernel to kill us if the worker that spawned us dies (e.g. `kill -9`):
/// an orphaned transcode would otherwise burn CPU for nobody. False if the
/// parent is already gone.
fn die_with_parent() -> bool {
    use nix::sys::signal::Signal;
    if let Err(e) = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL) {
        eprintln!("cannot tie this process to its parent: {e}");
    }
    match std::env::var(PARENT_PID_ENV).ok().and_then(|p| p.parse::<i32>().ok()) {
        // The parent may have died before the death signal was armed.
        Some(parent) => nix::unistd::getppid().as_raw() == parent,
        None => true,
    }
}

fn report_progress(percent: u32) {
    eprintln!("{PROGRESS_PREFIX}{}", percent.min(100));
}
