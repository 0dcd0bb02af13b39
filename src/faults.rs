//! Test-only fault switches, all in one place: `BULLETIN_FAULT=crash:STEP` or
//! `hang:STEP` makes the named step abort or hang where it calls [`point`],
//! so tests can prove a crashing or hanging step costs that step only. Steps:
//! `probe` (the full probe of a received upload), `early` (the looks while it
//! arrives), `transcode`, `transcribe` (all in the media child) and `index`
//! (before the index commits). Unset, as in production, a point does nothing.

/// `BULLETIN_FAULT=skew:MS`: this process's clock runs MS milliseconds ahead
/// (negative: behind), as a host with a wrong clock would.
pub fn clock_skew_ms() -> i64 {
    static SKEW: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *SKEW.get_or_init(|| {
        std::env::var("BULLETIN_FAULT")
            .ok()
            .and_then(|fault| fault.strip_prefix("skew:").and_then(|ms| ms.parse().ok()))
            .unwrap_or(0)
    })
}

pub fn point(step: &str) {
    let Ok(fault) = std::env::var("BULLETIN_FAULT") else { return };
    match fault.split_once(':') {
        Some(("crash", s)) if s == step => std::process::abort(),
        Some(("hang", s)) if s == step => loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        },
        _ => {}
    }
}
