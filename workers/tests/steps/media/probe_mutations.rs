//! The probe against bytes nobody makes on purpose, in the normal suite: the seed kinds
//! of the `probe` fuzz target (`fuzz/seed-corpus.sh`), then thousands of mutated and
//! random buffers, each written to a file and probed with the default limits exactly
//! as the fuzz target does. Every input must give `Ok` within the caps or an `Err`;
//! a panic is caught, its input kept in the temp folder, and the test fails.
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use super::*;

/// Mutants made from each seed; with 14 seeds and the random buffers this is ~4,000
/// probes, a few seconds in a test build.
const MUTANTS_PER_SEED: usize = 200;
const RANDOM_BUFFERS: usize = 1_200;

/// The same kinds as `fuzz/seed-corpus.sh`: one tiny file per accepted container, an
/// audio-only file, truncated files and random bytes.
fn seed_corpus(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let video = "testsrc2=size=64x48:rate=10:duration=0.5";
    let tone = "sine=frequency=440:sample_rate=8000:duration=0.5";
    let x264 = "-c:v libx264 -preset ultrafast -pix_fmt yuv420p";
    let made: [(&str, String); 11] = [
        (
            "h264-aac.mp4",
            format!("-f lavfi -i {video} -f lavfi -i {tone} {x264} -c:a aac -b:a 16k"),
        ),
        (
            "h264-faststart.mp4",
            format!("-f lavfi -i {video} {x264} -movflags +faststart"),
        ),
        (
            "vp8.webm",
            format!("-f lavfi -i {video} -c:v libvpx -deadline realtime -b:v 50k"),
        ),
        (
            "h264-vorbis.mkv",
            format!("-f lavfi -i {video} -f lavfi -i {tone} {x264} -c:a libvorbis"),
        ),
        ("h264.ts", format!("-f lavfi -i {video} {x264} -f mpegts")),
        (
            "mpeg4.avi",
            format!("-f lavfi -i {video} -c:v mpeg4 -q:v 20"),
        ),
        ("flv1.flv", format!("-f lavfi -i {video} -c:v flv1 -q:v 20")),
        (
            "theora.ogv",
            format!("-f lavfi -i {video} -c:v libtheora -q:v 1"),
        ),
        (
            "mpeg2.mpg",
            format!("-f lavfi -i {video} -c:v mpeg2video -q:v 20 -f vob"),
        ),
        (
            "audio-only.m4a",
            format!("-f lavfi -i {tone} -c:a aac -b:a 16k"),
        ),
        ("h264-silent.mov", format!("-f lavfi -i {video} {x264}")),
    ];
    let mut seeds = Vec::new();
    for (name, args) in made {
        let path = dir.join(name);
        ffmpeg(&format!("{args} {}", path.display()));
        seeds.push((name.to_owned(), std::fs::read(&path).unwrap()));
    }
    // MediaRecorder-style: written to a pipe, so no duration and no cues.
    let webm = dir.join("vp9-opus.webm");
    ffmpeg_to_pipe(
        &format!(
            "-f lavfi -i {video} -f lavfi -i {tone} -c:v libvpx-vp9 -deadline realtime \
             -cpu-used 8 -b:v 50k -c:a libopus -b:a 16k -f webm"
        ),
        &webm,
    );
    let webm = std::fs::read(&webm).unwrap();
    let mp4 = seeds[0].1.clone();
    seeds.push(("truncated.mp4".into(), mp4[..mp4.len() / 2].to_vec()));
    seeds.push(("truncated.webm".into(), webm[..webm.len() / 3].to_vec()));
    seeds.push(("vp9-opus.webm".into(), webm));
    seeds
}

/// xorshift64: deterministic, so a failure reproduces with the same case number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// Values that tend to break length and count fields (box sizes, EBML lengths,
/// chunk sizes, timestamps).
const INTERESTING_U32: [u32; 9] = [
    0,
    1,
    7,
    8,
    0x7F,
    0xFFFF,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
];

/// One to four stacked edits of `seed`, the kinds libFuzzer's own mutator makes.
fn mutate(rng: &mut Rng, seed: &[u8], donor: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        if data.is_empty() {
            let len = 1 + rng.below(64);
            data = rng.bytes(len);
        }
        let at = rng.below(data.len());
        match rng.below(8) {
            0 => data[at] ^= 1 << rng.below(8),
            1 => data[at] = [0, 0xFF, 0x7F, 0x80, 1][rng.below(5)],
            2 if data.len() >= at + 4 => {
                let value = INTERESTING_U32[rng.below(INTERESTING_U32.len())];
                let bytes = if rng.below(2) == 0 {
                    value.to_be_bytes()
                } else {
                    value.to_le_bytes()
                };
                data[at..at + 4].copy_from_slice(&bytes);
            }
            3 => data.truncate(at),
            4 => {
                let end = (at + 1 + rng.below(256)).min(data.len());
                data.drain(at..end);
            }
            5 => {
                let end = (at + 1 + rng.below(256)).min(data.len());
                let chunk = data[at..end].to_vec();
                let to = rng.below(data.len());
                data.splice(to..to, chunk);
            }
            6 if !donor.is_empty() => {
                let from = rng.below(donor.len());
                let end = (from + 1 + rng.below(512)).min(donor.len());
                data.splice(at..at, donor[from..end].iter().copied());
            }
            _ => {
                let len = 1 + rng.below(32);
                let noise = rng.bytes(len);
                let end = (at + noise.len()).min(data.len());
                data.splice(at..end, noise);
            }
        }
    }
    data
}

/// Random bytes, half of them behind a container's magic so the demuxer reads on.
fn random_buffer(rng: &mut Rng) -> Vec<u8> {
    const MAGIC: [&[u8]; 7] = [
        b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2",
        b"\x1A\x45\xDF\xA3",
        b"OggS\0\x02",
        b"FLV\x01\x05\0\0\0\x09",
        b"RIFF\xff\xff\0\0AVI LIST",
        b"\x47\x40\x00\x10",
        b"\0\0\x01\xBA",
    ];
    let mut data = Vec::new();
    if rng.below(2) == 0 {
        data.extend_from_slice(MAGIC[rng.below(MAGIC.len())]);
    }
    let len = rng.below(4096);
    data.extend(rng.bytes(len));
    data
}

/// Probe `bytes` as the fuzz target does; `Ok` must honour the caps. A panic is
/// reported with the input saved where it survives the test's temp folder.
fn probe_case(scratch: &Path, bytes: &[u8], case: &str, panics: &mut Vec<String>) -> &'static str {
    std::fs::write(scratch, bytes).unwrap();
    let limits = ProbeLimits::default();
    match catch_unwind(AssertUnwindSafe(|| probe(scratch, &limits))) {
        Ok(Ok(info)) => {
            assert!(
                info.duration_ms <= limits.max_duration_ms,
                "{case}: {info:?}"
            );
            assert!(
                info.video.width > 0 && info.video.height > 0,
                "{case}: {info:?}"
            );
            assert!(
                u64::from(info.video.width) * u64::from(info.video.height) <= limits.max_pixels,
                "{case}: {info:?}"
            );
            assert!(info.video.fps <= limits.max_fps, "{case}: {info:?}");
            "ok"
        }
        Ok(Err(e)) => match e {
            ProbeError::NotMedia(_) => "not_media",
            ProbeError::NoVideo => "no_video",
            ProbeError::Undecodable(_) => "undecodable",
            ProbeError::TooLong { .. } => "too_long",
            ProbeError::TooManyPixels { .. } | ProbeError::TooManyFps { .. } => {
                "too_large_dimensions"
            }
            ProbeError::Io(_) => panic!("{case}: i/o error on a readable file: {e}"),
        },
        Err(_) => {
            let kept = std::env::temp_dir().join(format!("bulletin-probe-panic-{case}.bin"));
            std::fs::write(&kept, bytes).unwrap();
            panics.push(kept.display().to_string());
            "panic"
        }
    }
}

#[test]
fn probe_survives_thousands_of_mutated_and_random_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let seeds = seed_corpus(dir.path());
    let scratch = dir.path().join("case.bin");
    let mut panics = Vec::new();
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();

    for (name, bytes) in &seeds {
        let outcome = probe_case(&scratch, bytes, name, &mut panics);
        let expected_ok = !(name.starts_with("truncated") || name.starts_with("audio-only"));
        if expected_ok {
            assert_eq!(outcome, "ok", "seed {name} should be accepted");
        }
        if name == "audio-only.m4a" || name == "truncated.mp4" {
            assert_ne!(outcome, "ok", "seed {name} should be refused");
        }
    }

    let mut rng = Rng(0x5EED_B011_E715_0001);
    let started = Instant::now();
    for (i, (name, seed)) in seeds.iter().enumerate() {
        let donor = &seeds[(i + 1) % seeds.len()].1;
        for n in 0..MUTANTS_PER_SEED {
            let mutant = mutate(&mut rng, seed, donor);
            *outcomes
                .entry(probe_case(
                    &scratch,
                    &mutant,
                    &format!("{name}-{n}"),
                    &mut panics,
                ))
                .or_default() += 1;
        }
    }
    for n in 0..RANDOM_BUFFERS {
        let buffer = random_buffer(&mut rng);
        *outcomes
            .entry(probe_case(
                &scratch,
                &buffer,
                &format!("random-{n}"),
                &mut panics,
            ))
            .or_default() += 1;
    }
    let total: usize = outcomes.values().sum();
    eprintln!(
        "probed {total} mutated/random inputs in {:.1?}: {outcomes:?}",
        started.elapsed()
    );
    assert!(
        panics.is_empty(),
        "the probe panicked on {} inputs, kept as {panics:?}",
        panics.len()
    );
    // The mutants must exercise the accepting path too, not only the first refusal.
    assert!(
        outcomes.get("ok").copied().unwrap_or(0) > 100,
        "{outcomes:?}"
    );
}
