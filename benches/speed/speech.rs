//! The spoken update every media measure uses: a known script read by espeak-ng,
//! wrapped by the ffmpeg CLI in two videos — one Bulletin can stream-copy
//! (720p30 H.264/AAC) and one it must re-encode (1080p30 H.264/AAC, scaled down to 720p).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

/// A leader's weekly update, without digits (espeak-ng and whisper spell numbers differently).
const SCRIPT: &[&str] = &[
    "Good morning everyone, this is the weekly update from the platform team.",
    "We finished moving the billing service to the new cluster on Tuesday, and nobody noticed, which is exactly what we wanted.",
    "Latency at the ninety ninth percentile dropped by more than half after we removed the old caching layer.",
    "The mobile team shipped offline mode to everyone on Thursday afternoon.",
    "Early feedback is good, although a few people reported that drafts sometimes disappear after a restart.",
    "We are treating that as our top priority, and a fix should reach the beta channel before Friday.",
    "On the hiring side, two engineers join us at the beginning of next month, one in design and one in infrastructure.",
    "Please make them feel welcome and invite them to your planning sessions.",
    "Next week we start the search project, so send me your questions about the roadmap before Wednesday.",
    "The customer advisory board meets in the spring, and we need volunteers to present the new reporting features.",
    "Security reminders: rotate your access keys, and never paste credentials into a chat channel.",
    "The quarterly planning review moves to Thursday afternoon, because the office will be closed on Monday.",
    "Our support queue is shorter than it has been all year, thanks to the new help center articles.",
    "Sales closed three large contracts in the healthcare sector, which means more compliance work for us.",
    "I would like each team to review its backlog and close anything older than six months.",
    "The design system now has dark mode, accessible color tokens and a new set of icons.",
    "If you build a new screen, please use the shared components instead of copying old styles.",
    "Finance asked us to tag every cloud resource with its owner, so that costs can be traced.",
    "The data team published a dashboard that shows weekly active teams and their retention.",
    "Retention improved again this quarter, especially for teams that record short video updates.",
    "Thank you to everyone who helped during the outage last weekend; the incident report is in the wiki.",
    "The root cause was an expired certificate on an internal proxy, and we now monitor every certificate.",
    "Our next company offsite will be in the mountains, with hiking, workshops and plenty of quiet time.",
    "Remember to book your travel early and tell the organizers about any dietary needs.",
    "Finally, a big thank you to the documentation team for rewriting the onboarding guide.",
    "That is all for this week, see you in the comments, and have a great weekend.",
    "One more thing: the internal newsletter is looking for stories about customers who love the product.",
    "If you have one, write a short paragraph and send it to the communications team.",
];

/// Longest speech kept: the update must stay under Bulletin's three-minute limit.
const MAX_SPEECH_SECS: f64 = 176.0;

pub struct SpokenUpdate {
    /// The words actually spoken (the reference for word error rates).
    pub script: String,
    pub seconds: f64,
    /// 720p30 H.264 + AAC, faststart: Bulletin stream-copies it.
    pub fit_mp4: PathBuf,
    /// 1080p30 H.264 + AAC: Bulletin re-encodes it to 720p.
    pub large_mp4: PathBuf,
}

impl SpokenUpdate {
    /// Generate the update in `dir` (≈ 1 minute of ffmpeg work, done once per run).
    pub fn generate(dir: &Path) -> anyhow::Result<SpokenUpdate> {
        std::fs::create_dir_all(dir)?;
        let wav = dir.join("speech.wav");
        let (script, seconds) = speak_longest_fitting(&wav)?;
        let fit_mp4 = dir.join("update-720p.mp4");
        let large_mp4 = dir.join("update-1080p.mp4");
        wrap_in_video(&wav, "1280x720", &fit_mp4)?;
        wrap_in_video(&wav, "1920x1080", &large_mp4)?;
        Ok(SpokenUpdate { script, seconds, fit_mp4, large_mp4 })
    }
}

/// Speak as many whole sentences of the script as fit under the limit.
fn speak_longest_fitting(wav: &Path) -> anyhow::Result<(String, f64)> {
    let mut count = SCRIPT.len();
    while count > 0 {
        let text = SCRIPT[..count].join(" ");
        run(Command::new("espeak-ng").args(["-s", "150", "-w"]).arg(wav).arg(&text))?;
        let seconds = wav_seconds(wav)?;
        if seconds <= MAX_SPEECH_SECS {
            return Ok((text, seconds));
        }
        count -= 1;
    }
    bail!("no sentence of the script fits in {MAX_SPEECH_SECS} s")
}

/// Duration of a PCM WAV from its header fields (espeak-ng writes plain 16-bit mono).
fn wav_seconds(wav: &Path) -> anyhow::Result<f64> {
    let bytes = std::fs::read(wav)?;
    anyhow::ensure!(bytes.len() > 44 && &bytes[..4] == b"RIFF", "not a WAV file");
    let byte_rate = u32::from_le_bytes(bytes[28..32].try_into()?) as f64;
    Ok((bytes.len() - 44) as f64 / byte_rate)
}

fn wrap_in_video(wav: &Path, size: &str, out: &Path) -> anyhow::Result<()> {
    run(Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size={size}:rate=30"))
        .arg("-i")
        .arg(wav)
        .args(["-map", "0:v", "-map", "1:a", "-shortest"])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-crf", "23", "-pix_fmt", "yuv420p"])
        .args(["-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart"])
        .arg(out))
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let output = cmd.output().with_context(|| format!("run {:?}", cmd.get_program()))?;
    if !output.status.success() {
        bail!("{:?} failed: {}", cmd.get_program(), String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}

static SHARED: std::sync::OnceLock<SpokenUpdate> = std::sync::OnceLock::new();

/// The run's spoken update, generated by the first section that needs it.
pub fn shared(bench: &crate::support::Bench) -> anyhow::Result<&'static SpokenUpdate> {
    if let Some(update) = SHARED.get() {
        return Ok(update);
    }
    eprintln!("generating the spoken update (espeak-ng + ffmpeg)…");
    let update = SpokenUpdate::generate(&bench.work.join("speech"))?;
    Ok(SHARED.get_or_init(|| update))
}
