//! The upload gate under libFuzzer: any bytes, written to a file, through
//! `bulletin_workers::probe::probe` with the default limits (what `POST /api/updates`
//! applies). The probe must return `Ok` or `Err` for every input; a panic, abort or
//! sanitizer report is a finding.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use bulletin_workers::probe::{probe, ProbeLimits};
use libfuzzer_sys::fuzz_target;

/// The probe only takes paths (it opens files through FFmpeg's `file` protocol, the
/// only one allowed), so each input is written to one scratch file per process,
/// in RAM when `/dev/shm` exists. The pid keeps `-fork`/`-jobs` workers apart.
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let shm = PathBuf::from("/dev/shm");
        let dir = if shm.is_dir() { shm } else { std::env::temp_dir() };
        dir.join(format!("bulletin-fuzz-probe-{}.bin", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    std::fs::write(path, data).expect("write the scratch file");
    let limits = ProbeLimits::default();
    if let Ok(info) = probe(path, &limits) {
        // An accepted upload must honour the caps it was checked against.
        assert!(info.duration_ms <= limits.max_duration_ms, "{info:?}");
        assert!(info.video.width > 0 && info.video.height > 0, "{info:?}");
        assert!(u64::from(info.video.width) * u64::from(info.video.height) <= limits.max_pixels, "{info:?}");
        assert!(info.video.fps <= limits.max_fps, "{info:?}");
    }
});
