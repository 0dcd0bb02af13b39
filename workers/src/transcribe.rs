//! Local speech-to-text with whisper.cpp (whisper-rs).
//!
//! One [`Transcriber`] holds the loaded model and is shared by every job; each call gets
//! its own `WhisperState` (the decoder's scratch memory), so calls can run in parallel.
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperSegment,
};

use crate::model::read_ggml_header;
use crate::voice::VoiceActivity;

/// Whisper's input sample rate: `samples` are 16 kHz mono.
const SAMPLE_RATE: u64 = 16_000;
/// How often the caller's thread looks at whisper's progress while it runs.
const PROGRESS_POLL: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum TranscribeError {
    #[error("cannot load the whisper model: {0}")]
    Load(String),
    #[error("transcription failed: {0}")]
    Run(String),
}

/// Whether `code` is a language whisper knows (an ISO 639-1 code such as `en`, `de`).
pub fn is_known_language(code: &str) -> bool {
    // whisper-rs panics on NUL bytes; language codes are short ASCII words.
    code.len() <= 16
        && code.bytes().all(|b| b.is_ascii_lowercase())
        && whisper_rs::get_lang_id(code).is_some()
}

/// Every language whisper knows, as (ISO 639-1 code, English name in lower case).
pub fn known_languages() -> Vec<(&'static str, &'static str)> {
    (0..=whisper_rs::get_lang_max_id())
        .filter_map(|id| {
            Some((
                whisper_rs::get_lang_str(id)?,
                whisper_rs::get_lang_str_full(id)?,
            ))
        })
        .collect()
}

/// The language of a transcript nobody could tell (BCP 47 "undetermined"): no
/// speech, or no audio at all.
pub const UNDETERMINED_LANGUAGE: &str = "und";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TranscribeOptions {
    pub threads: usize,
    /// `None` uses English for `.en` models and auto-detection otherwise.
    pub language: Option<String>,
    /// The team's names and jargon, most important first. As many whole terms as
    /// fit whisper's prompt window become its initial prompt
    /// ([`Transcriber::fit_glossary`]); the transcript says which.
    #[serde(default)]
    pub glossary: Vec<String>,
}

impl Default for TranscribeOptions {
    fn default() -> Self {
        Self {
            threads: 2,
            language: None,
            glossary: Vec::new(),
        }
    }
}

/// How glossary terms read to whisper: a plain list, which the decoder takes as
/// speech said just before the audio, so it spells those words the same way.
/// `None` for no terms.
pub fn glossary_prompt(terms: &[String]) -> Option<String> {
    (!terms.is_empty()).then(|| format!("{}.", terms.join(", ")))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<Word>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub language: String,
    pub segments: Vec<Segment>,
    /// The glossary terms whisper was given, in order: all of them, or those
    /// that fit its prompt window.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prompt_terms: Vec<String>,
}

/// A loaded model, reusable across many transcriptions.
pub struct Transcriber {
    ctx: WhisperContext,
    multilingual: bool,
}

impl Transcriber {
    pub fn load(model_path: &Path) -> Result<Self, TranscribeError> {
        // Route whisper.cpp's and ggml's logging away from stderr (it prints every hparam).
        whisper_rs::install_logging_hooks();
        // Check the header first: whisper.cpp only says "failed to create context".
        read_ggml_header(model_path)
            .map_err(|e| TranscribeError::Load(format!("{}: {e}", model_path.display())))?;
        let mut params = WhisperContextParameters::default();
        // Flash attention stays off: on this CPU it measured 7–15% slower for tiny.en (f16 and
        // q8_0), and whisper.cpp disables DTW timestamps with it.
        params.flash_attn(false).use_gpu(false);
        let ctx = WhisperContext::new_with_params(model_path, params)
            .map_err(|e| TranscribeError::Load(format!("{}: {e}", model_path.display())))?;
        let multilingual = ctx.is_multilingual();
        Ok(Self { ctx, multilingual })
    }

    /// Whether the model can transcribe languages other than English.
    pub fn is_multilingual(&self) -> bool {
        self.multilingual
    }

    /// Transcribe 16 kHz mono samples. Empty input gives an empty transcript.
    /// `on_progress` receives 0..=100.
    pub fn transcribe(
        &self,
        samples: &[f32],
        options: &TranscribeOptions,
        on_progress: &mut dyn FnMut(u8),
    ) -> Result<Transcript, TranscribeError> {
        let language = self.requested_language(options)?;
        let prompt_terms = self.fit_glossary(&options.glossary);
        let prompt = glossary_prompt(&prompt_terms);
        on_progress(0);
        if samples.is_empty() {
            on_progress(100);
            let language = language.unwrap_or_else(|| UNDETERMINED_LANGUAGE.to_string());
            return Ok(Transcript {
                language,
                segments: Vec::new(),
                prompt_terms,
            });
        }

        // Long audio is cut in pauses and its chunks transcribed side by side (`plan_chunks`).
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        // More threads than cores only adds spinning: ggml's workers busy-wait between ops.
        let threads = options.threads.clamp(1, cores);
        let voice = VoiceActivity::analyse(samples);
        let chunks = plan_chunks(samples.len(), threads, &voice);
        let threads_each = (threads / chunks.len()).max(1);

        // whisper.cpp reports progress from inside `whisper_full`, which blocks its thread, and
        // `on_progress` may not be `Send`. So whisper runs on scoped worker threads (one per
        // chunk) while this thread relays the progress they publish through atomics.
        let progress: Arc<Vec<AtomicI32>> =
            Arc::new(chunks.iter().map(|_| AtomicI32::new(0)).collect());
        let pieces = std::thread::scope(|scope| {
            let caller = std::thread::current();
            let workers: Vec<_> = chunks
                .iter()
                .enumerate()
                .map(|(slot, range)| {
                    let chunk = Chunk {
                        samples: &samples[range.clone()],
                        offset_ms: range.start as u64 * 1000 / SAMPLE_RATE,
                        threads: threads_each,
                        progress: Arc::clone(&progress),
                        slot,
                    };
                    let (caller, language, prompt) =
                        (caller.clone(), language.as_deref(), prompt.as_deref());
                    scope.spawn(move || {
                        let result = self.run_chunk(chunk, prompt, language);
                        caller.unpark(); // wake the relay loop now rather than at its next poll
                        result
                    })
                })
                .collect();
            let mut last = 0u8;
            while !workers.iter().all(|w| w.is_finished()) {
                std::thread::park_timeout(PROGRESS_POLL);
                let sum: i32 = progress
                    .iter()
                    .map(|p| p.load(Ordering::Relaxed).clamp(0, 100))
                    .sum();
                let now = (sum / progress.len() as i32).clamp(0, 99) as u8;
                if now > last {
                    last = now;
                    on_progress(now);
                }
            }
            workers
                .into_iter()
                .map(|w| {
                    w.join()
                        .map_err(|_| TranscribeError::Run("a whisper thread panicked".into()))?
                })
                .collect::<Result<Vec<_>, _>>()
        })?;
        on_progress(100);

        let language = language
            .or_else(|| pieces.first().map(|(detected, _)| detected.clone()))
            .unwrap_or_else(|| UNDETERMINED_LANGUAGE.to_string());
        let segments = pieces
            .into_iter()
            .flat_map(|(_, segments)| segments)
            .map(|mut segment| {
                // Move a start that whisper placed in silence to where the voice begins.
                let onset = voice.onset_ms(segment.start_ms, segment.end_ms);
                if onset > segment.start_ms {
                    segment.start_ms = onset;
                    // No word may start before its segment: that would unorder the words.
                    for word in &mut segment.words {
                        word.start_ms = word.start_ms.max(onset);
                        word.end_ms = word.end_ms.max(word.start_ms);
                    }
                }
                segment
            })
            .collect();
        Ok(Transcript {
            language,
            segments,
            prompt_terms,
        })
    }

    /// The glossary terms, in their order, that together fit whisper's prompt
    /// window: half the decoder's text context (224 tokens for every released
    /// model) less the token that opens it. whisper silently drops the *start*
    /// of a longer prompt, cutting terms in half; here a term that does not fit
    /// is left out whole and shorter ones after it may still go in. Tokens are
    /// counted with this model's own tokenizer.
    pub fn fit_glossary(&self, terms: &[String]) -> Vec<String> {
        let budget = usize::try_from(self.ctx.n_text_ctx() / 2 - 1).unwrap_or(0);
        let mut chosen: Vec<String> = Vec::new();
        for term in terms {
            // whisper-rs refuses text with NUL bytes; a term is one line of plain text.
            let term = term.replace('\0', "");
            if term.trim().is_empty() {
                continue;
            }
            chosen.push(term);
            let fits = glossary_prompt(&chosen)
                .and_then(|prompt| self.token_count(&prompt))
                .is_some_and(|tokens| tokens <= budget);
            if !fits {
                chosen.pop();
            }
        }
        chosen
    }

    /// How many tokens `text` is for this model, if it can tokenize it.
    fn token_count(&self, text: &str) -> Option<usize> {
        // Every token covers at least one byte, so the buffer always holds the
        // result: whisper-rs misreads the "too many tokens" answer of a smaller one.
        self.ctx
            .tokenize(text, text.len() + 1)
            .ok()
            .map(|tokens| tokens.len())
    }

    /// The language to force, or `None` to let whisper detect it.
    fn requested_language(
        &self,
        options: &TranscribeOptions,
    ) -> Result<Option<String>, TranscribeError> {
        if !self.multilingual {
            return Ok(Some("en".to_string())); // English-only models ignore any other choice
        }
        match options.language.as_deref().map(str::trim) {
            None | Some("") | Some("auto") => Ok(None),
            Some(code) => {
                // whisper-rs panics on NUL bytes; language codes are short ASCII words.
                let plausible = code.len() <= 16 && code.bytes().all(|b| b.is_ascii_alphabetic());
                let code = code.to_ascii_lowercase();
                if plausible && whisper_rs::get_lang_id(&code).is_some() {
                    Ok(Some(code))
                } else {
                    Err(TranscribeError::Run(format!("unknown language {code:?}")))
                }
            }
        }
    }

    /// Transcribe one chunk; returns the language whisper used or detected and the
    /// chunk's segments on the whole recording's clock.
    fn run_chunk(
        &self,
        chunk: Chunk<'_>,
        prompt: Option<&str>,
        language: Option<&str>,
    ) -> Result<(String, Vec<Segment>), TranscribeError> {
        let mut state = self
            .ctx
            .create_state()
            .map_err(|e| TranscribeError::Run(e.to_string()))?;
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(i32::try_from(chunk.threads).unwrap_or(1));
        params.set_translate(false);
        params.set_language(Some(language.unwrap_or("auto")));
        params.set_print_special(false);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_timestamps(false);
        params.set_no_timestamps(false);
        params.set_token_timestamps(true);
        // Caption-sized segments (about two subtitle lines), cut between words: shorter
        // segments make captions readable and let a search hit land on the sentence.
        params.set_max_len(MAX_SEGMENT_CHARS);
        params.set_split_on_word(true);
        // Like OpenAI's default: never emit "(music)"-style non-speech symbols.
        params.set_suppress_nst(true);
        if let Some(prompt) = prompt {
            params.set_initial_prompt(prompt);
        }
        // whisper-rs keeps this closure for the life of the process (it never frees the
        // boxed callback), so it holds only a small Arc rather than anything borrowed.
        let (progress, slot) = (chunk.progress, chunk.slot);
        params.set_progress_callback_safe(move |p: i32| progress[slot].store(p, Ordering::Relaxed));

        state
            .full(params, chunk.samples)
            .map_err(|e| TranscribeError::Run(e.to_string()))?;

        let language = match language {
            Some(code) => code.to_string(),
            None => whisper_rs::get_lang_str(state.full_lang_id_from_state())
                .unwrap_or(UNDETERMINED_LANGUAGE)
                .to_string(),
        };
        let clock = ChunkClock {
            offset_ms: chunk.offset_ms,
            duration_ms: chunk.samples.len() as u64 * 1000 / SAMPLE_RATE,
        };
        let eot = self.ctx.token_eot();
        let segments = state
            .as_iter()
            .filter_map(|segment| convert_segment(&segment, eot, clock))
            .collect();
        Ok((language, segments))
    }
}

/// One piece of the audio and what its whisper run needs.
struct Chunk<'a> {
    samples: &'a [f32],
    /// Where the chunk starts in the recording.
    offset_ms: u64,
    threads: usize,
    /// One progress slot per chunk; this chunk writes `progress[slot]`.
    progress: Arc<Vec<AtomicI32>>,
    slot: usize,
}

/// A chunk shorter than this is not worth cutting off: whisper's encoder always
/// processes a 30 s window, so two short chunks on one thread each cost more than
/// one chunk on both.
const MIN_CHUNK_MS: u64 = 60_000;
/// How far a cut may move from the even split to land in a pause.
const CUT_SLACK_MS: u64 = 10_000;

/// Split the audio into one chunk per thread (at most one per `MIN_CHUNK_MS`), cut
/// in the quietest moment near each even split. Why: ggml's threads meet at a
/// barrier after every operation, so two threads on one whisper run wait for each
/// other hundreds of times per second, and any other process that takes a core
/// for a moment stalls both. Separate runs with one thread each share nothing.
fn plan_chunks(len: usize, threads: usize, voice: &VoiceActivity) -> Vec<Range<usize>> {
    let duration_ms = len as u64 * 1000 / SAMPLE_RATE;
    let count = (threads as u64).min(duration_ms / MIN_CHUNK_MS).max(1);
    let mut cuts = vec![0];
    for k in 1..count {
        let even_ms = duration_ms * k / count;
        let at_ms = voice.quietest_ms(even_ms - CUT_SLACK_MS, even_ms + CUT_SLACK_MS);
        cuts.push((at_ms * SAMPLE_RATE / 1000) as usize);
    }
    cuts.push(len);
    cuts.windows(2).map(|w| w[0]..w[1]).collect()
}

/// Where a chunk sits in the recording, to put whisper's chunk-relative times on
/// the recording's clock.
#[derive(Clone, Copy)]
struct ChunkClock {
    offset_ms: u64,
    duration_ms: u64,
}

impl ChunkClock {
    /// whisper.cpp times are in centiseconds; clamp into the chunk, which whisper can
    /// overshoot.
    fn to_ms(self, centis: i64) -> u64 {
        self.offset_ms + (u64::try_from(centis).unwrap_or(0) * 10).min(self.duration_ms)
    }
}

/// Longest segment text whisper emits before cutting at a word boundary.
const MAX_SEGMENT_CHARS: i32 = 84;

fn convert_segment(segment: &WhisperSegment<'_>, eot: i32, clock: ChunkClock) -> Option<Segment> {
    let text = String::from_utf8_lossy(segment.to_bytes().ok()?)
        .trim()
        .to_string();
    if !has_speech(&text) {
        return None;
    }
    let start_ms = clock.to_ms(segment.start_timestamp());
    let end_ms = clock.to_ms(segment.end_timestamp()).max(start_ms);
    let tokens = (0..segment.n_tokens()).filter_map(|i| {
        let token = segment.get_token(i)?;
        let data = token.token_data();
        // Ids from end-of-text upwards are control and timestamp tokens, not text.
        if data.id >= eot {
            return None;
        }
        let bytes = token.to_bytes().ok()?.to_vec();
        Some(TimedToken {
            bytes,
            t0: clock.to_ms(data.t0),
            t1: clock.to_ms(data.t1),
        })
    });
    let words = merge_words(tokens.collect::<Vec<_>>().into_iter());
    Some(Segment {
        start_ms,
        end_ms,
        text,
        words,
    })
}

/// One text token with its time span (ms).
#[derive(Debug, Clone, PartialEq)]
struct TimedToken {
    bytes: Vec<u8>,
    t0: u64,
    t1: u64,
}

/// Join BPE tokens into words: a token that starts with a space starts a new word. Bytes are
/// joined before decoding because one character can be split across tokens.
fn merge_words(tokens: impl Iterator<Item = TimedToken>) -> Vec<Word> {
    let mut words = Vec::new();
    let mut current: Option<TimedToken> = None;
    for token in tokens {
        match current.as_mut() {
            Some(word) if !token.bytes.starts_with(b" ") => {
                word.bytes.extend_from_slice(&token.bytes);
                word.t1 = word.t1.max(token.t1);
            }
            _ => {
                words.extend(current.take().and_then(finish_word));
                current = Some(token);
            }
        }
    }
    words.extend(current.and_then(finish_word));
    words
}

fn finish_word(token: TimedToken) -> Option<Word> {
    let text = String::from_utf8_lossy(&token.bytes).trim().to_string();
    (!text.is_empty()).then(|| Word {
        start_ms: token.t0,
        end_ms: token.t1.max(token.t0),
        text,
    })
}

/// False for text that is empty or only non-speech tags such as `[BLANK_AUDIO]`, `(music)`
/// or `♪`: whisper emits those for silence and noise, and they are not a transcript.
fn has_speech(text: &str) -> bool {
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth = depth.saturating_sub(1),
            c if depth == 0 && c.is_alphanumeric() => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(text: &str, t0: u64, t1: u64) -> TimedToken {
        TimedToken {
            bytes: text.as_bytes().to_vec(),
            t0,
            t1,
        }
    }

    #[test]
    fn transcriber_can_be_shared_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Transcriber>();
    }

    #[test]
    fn tokens_merge_into_words_at_leading_spaces() {
        let words = merge_words(
            vec![
                tok(" Hel", 0, 10),
                tok("lo", 10, 30),
                tok(",", 30, 31),
                tok(" world", 40, 90),
            ]
            .into_iter(),
        );
        assert_eq!(
            words,
            vec![
                Word {
                    start_ms: 0,
                    end_ms: 31,
                    text: "Hello,".into()
                },
                Word {
                    start_ms: 40,
                    end_ms: 90,
                    text: "world".into()
                },
            ]
        );
    }

    #[test]
    fn split_utf8_characters_are_rejoined() {
        let e_acute = "é".as_bytes();
        let first = TimedToken {
            bytes: [b" caf".as_slice(), &e_acute[..1]].concat(),
            t0: 0,
            t1: 5,
        };
        let second = TimedToken {
            bytes: e_acute[1..].to_vec(),
            t0: 5,
            t1: 9,
        };
        let words = merge_words(vec![first, second].into_iter());
        assert_eq!(
            words,
            vec![Word {
                start_ms: 0,
                end_ms: 9,
                text: "café".into()
            }]
        );
    }

    #[test]
    fn non_speech_tags_are_not_speech() {
        for text in [
            "",
            "  ",
            "[BLANK_AUDIO]",
            "(music)",
            "[Music] (applause)",
            "♪ ♪",
            "...",
        ] {
            assert!(!has_speech(text), "{text:?}");
        }
        for text in ["Hello.", "(laughs) right", "42"] {
            assert!(has_speech(text), "{text:?}");
        }
    }

    #[test]
    fn timestamps_are_clamped_into_the_chunk_and_offset() {
        let first = ChunkClock {
            offset_ms: 0,
            duration_ms: 10_000,
        };
        assert_eq!(first.to_ms(150), 1500);
        assert_eq!(first.to_ms(-3), 0);
        assert_eq!(first.to_ms(3000), 10_000);
        let second = ChunkClock {
            offset_ms: 60_000,
            duration_ms: 10_000,
        };
        assert_eq!(second.to_ms(150), 61_500);
        assert_eq!(second.to_ms(3000), 70_000);
    }

    /// Audio of `seconds` with a tone everywhere except 400 ms pauses at `pauses_s`.
    fn tone_with_pauses(seconds: usize, pauses_s: &[f64]) -> Vec<f32> {
        (0..seconds * SAMPLE_RATE as usize)
            .map(|i| {
                let t = i as f64 / SAMPLE_RATE as f64;
                let paused = pauses_s.iter().any(|p| (*p..p + 0.4).contains(&t));
                if paused {
                    0.0
                } else {
                    (i as f32 * 0.05).sin() * 0.3
                }
            })
            .collect()
    }

    #[test]
    fn long_audio_is_cut_in_a_pause_near_the_middle() {
        let samples = tone_with_pauses(174, &[40.0, 92.0, 130.0]);
        let voice = VoiceActivity::analyse(&samples);
        let chunks = plan_chunks(samples.len(), 2, &voice);
        assert_eq!(chunks.len(), 2);
        assert_eq!((chunks[0].start, chunks[1].end), (0, samples.len()));
        assert_eq!(chunks[0].end, chunks[1].start);
        let cut_s = chunks[0].end as f64 / SAMPLE_RATE as f64;
        assert!((92.0..92.4).contains(&cut_s), "cut at {cut_s} s");
    }

    #[test]
    fn short_audio_or_one_thread_is_one_chunk() {
        let samples = tone_with_pauses(100, &[50.0]);
        let voice = VoiceActivity::analyse(&samples);
        assert_eq!(
            plan_chunks(samples.len(), 2, &voice),
            vec![0..samples.len()]
        );
        let long = tone_with_pauses(174, &[90.0]);
        let voice = VoiceActivity::analyse(&long);
        assert_eq!(plan_chunks(long.len(), 1, &voice), vec![0..long.len()]);
    }
}
