//! Skimming aids derived locally from a transcript: readable paragraphs and chapters.
//!
//! Both are pure and deterministic (same segments in, same result out), cheap
//! enough to compute on every request, and need no model: paragraphs follow the
//! speaker's pauses and sentence ends; chapters start where the speaker paused
//! longest and the vocabulary changed most (a small TextTiling).

use std::collections::HashMap;

use serde::Serialize;

use super::transcript::{single_line, word_count, TranscriptSegment};

/// A pause at least this long between two segments starts a new paragraph.
pub const PARAGRAPH_PAUSE_MS: i64 = 1200;
/// After this many words a paragraph ends at the next sentence end.
pub const PARAGRAPH_SOFT_WORDS: usize = 60;
/// A paragraph with no sentence end is cut here anyway, to stay readable.
const PARAGRAPH_HARD_WORDS: usize = 120;
/// Chapters start at least this far apart (and there is at most one per span).
pub const CHAPTER_SPACING_MS: i64 = 30_000;
/// Words either side of a boundary compared for a topic shift.
const TOPIC_WINDOW_WORDS: usize = 40;
/// A chapter title keeps at most this many words.
const TITLE_WORDS: usize = 6;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paragraph {
    pub start_ms: i64,
    pub end_ms: i64,
    pub text: String,
    /// Indices into the segments this paragraph was made from, in order.
    pub segment_indices: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chapter {
    pub start_ms: i64,
    pub title: String,
}

/// Group segments into paragraphs: a new one after a pause of
/// [`PARAGRAPH_PAUSE_MS`], or at a sentence end once it has
/// [`PARAGRAPH_SOFT_WORDS`] words. Segments with no text are skipped.
pub fn paragraphs(segments: &[TranscriptSegment]) -> Vec<Paragraph> {
    let mut out: Vec<Paragraph> = Vec::new();
    let mut words = 0usize;
    let mut prev: Option<&TranscriptSegment> = None;
    for (i, seg) in segments.iter().enumerate() {
        let text = single_line(&seg.text);
        if text.is_empty() {
            continue;
        }
        let start_new = match (out.last(), prev) {
            (Some(_), Some(p)) => {
                seg.start_ms - p.end_ms >= PARAGRAPH_PAUSE_MS
                    || (words >= PARAGRAPH_SOFT_WORDS && ends_sentence(&p.text))
                    || words >= PARAGRAPH_HARD_WORDS
            }
            _ => true,
        };
        if start_new {
            out.push(Paragraph {
                start_ms: seg.start_ms,
                end_ms: seg.end_ms,
                text: String::new(),
                segment_indices: Vec::new(),
            });
            words = 0;
        }
        let para = out.last_mut().expect("a paragraph was just pushed");
        if !para.text.is_empty() {
            para.text.push(' ');
        }
        para.text.push_str(&text);
        para.end_ms = para.end_ms.max(seg.end_ms);
        para.segment_indices.push(i);
        words += word_count([text.as_str()]);
        prev = Some(seg);
    }
    out
}

/// Chapters over a recording of `duration_ms`: the first starts at 0; others
/// start at the segment boundaries that score highest (long pause, sentence
/// end, change of vocabulary), at least [`CHAPTER_SPACING_MS`] apart and at
/// most one per [`CHAPTER_SPACING_MS`] of recording. Empty without text.
pub fn chapters(segments: &[TranscriptSegment], duration_ms: i64) -> Vec<Chapter> {
    let spoken: Vec<&TranscriptSegment> = segments.iter().filter(|s| !single_line(&s.text).is_empty()).collect();
    if spoken.is_empty() {
        return Vec::new();
    }
    let duration_ms = duration_ms.max(spoken.last().map_or(0, |s| s.end_ms));
    let max_chapters = (duration_ms / CHAPTER_SPACING_MS).max(1) as usize;

    // Candidate boundaries: before segment `i` (i ≥ 1), leaving room for a
    // chapter of reasonable length on both sides.
    let terms: Vec<Vec<String>> = spoken.iter().map(|s| content_terms(&s.text)).collect();
    let mut candidates: Vec<(f64, usize)> = (1..spoken.len())
        .filter(|&i| {
            spoken[i].start_ms >= CHAPTER_SPACING_MS / 2 && duration_ms - spoken[i].start_ms >= CHAPTER_SPACING_MS / 2
        })
        .map(|i| (boundary_score(&spoken, &terms, i), i))
        .collect();
    // Best first; ties go to the earlier boundary so the result is deterministic.
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));

    let mut starts: Vec<usize> = vec![0];
    for (_, i) in candidates {
        if starts.len() >= max_chapters {
            break;
        }
        let at = spoken[i].start_ms;
        if starts.iter().all(|&s| (chapter_start(&spoken, s) - at).abs() >= CHAPTER_SPACING_MS) {
            starts.push(i);
        }
    }
    starts.sort_unstable();

    starts
        .iter()
        .enumerate()
        .map(|(n, &first)| {
            let end = starts.get(n + 1).copied().unwrap_or(spoken.len());
            let texts: Vec<&str> = spoken[first..end].iter().map(|s| s.text.as_str()).collect();
            let title = chapter_title(&texts.join(" ")).unwrap_or_else(|| format!("Part {}", n + 1));
            Chapter { start_ms: chapter_start(&spoken, first), title }
        })
        .collect()
}

/// The first chapter covers the lead-in too, so a chapter list always starts at 0.
fn chapter_start(spoken: &[&TranscriptSegment], i: usize) -> i64 {
    if i == 0 {
        0
    } else {
        spoken[i].start_ms
    }
}

/// How good a chapter start the boundary before segment `i` is.
fn boundary_score(spoken: &[&TranscriptSegment], terms: &[Vec<String>], i: usize) -> f64 {
    let pause_s = ((spoken[i].start_ms - spoken[i - 1].end_ms).max(0) as f64 / 1000.0).min(4.0);
    let sentence = if ends_sentence(&spoken[i - 1].text) { 0.5 } else { 0.0 };
    let before: Vec<&String> = terms[..i].iter().rev().flatten().take(TOPIC_WINDOW_WORDS).collect();
    let after: Vec<&String> = terms[i..].iter().flatten().take(TOPIC_WINDOW_WORDS).collect();
    let shift = 1.0 - cosine(&before, &after);
    pause_s + sentence + 2.0 * shift
}

fn cosine(a: &[&String], b: &[&String]) -> f64 {
    let count = |words: &[&String]| {
        let mut m: HashMap<String, f64> = HashMap::new();
        for w in words {
            *m.entry(stem(w)).or_default() += 1.0;
        }
        m
    };
    let (ca, cb) = (count(a), count(b));
    let dot: f64 = ca.iter().map(|(w, x)| x * cb.get(w).copied().unwrap_or(0.0)).sum();
    let norm = |m: &HashMap<String, f64>| m.values().map(|x| x * x).sum::<f64>().sqrt();
    let denominator = norm(&ca) * norm(&cb);
    if denominator == 0.0 {
        0.0
    } else {
        dot / denominator
    }
}

/// Crude plural folding, enough to match "update" with "updates" between windows.
fn stem(word: &str) -> String {
    let w = word.strip_suffix("'s").unwrap_or(word);
    match w.strip_suffix('s') {
        Some(base) if base.len() >= 3 && !base.ends_with('s') => base.to_string(),
        _ => w.to_string(),
    }
}

/// The chapter's first sentence, shortened to its first meaningful words; or,
/// when that says little ("So, um, yeah."), its most frequent content words.
fn chapter_title(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().filter(|w| !is_noise(w)).collect();
    let mut start = 0;
    while start < words.len() && FILLERS.contains(&normalize(words[start]).as_str()) {
        start += 1;
    }
    let mut picked: Vec<&str> = Vec::new();
    for w in &words[start..] {
        picked.push(w);
        if picked.len() == TITLE_WORDS || ends_sentence(w) {
            break;
        }
    }
    while picked.last().is_some_and(|w| {
        let w = normalize(w);
        STOPWORDS.contains(&w.as_str()) || FILLERS.contains(&w.as_str())
    }) {
        picked.pop();
    }
    let meaningful = picked.iter().filter(|w| is_content(&normalize(w))).count();
    if meaningful >= 2 || (meaningful == 1 && picked.len() >= 2) {
        let title = picked.join(" ");
        let title = title.trim_matches(|c: char| !c.is_alphanumeric());
        return Some(capitalize(title));
    }
    frequent_terms(text).map(|t| capitalize(&t))
}

/// Up to three most frequent content words, most frequent first (ties: first seen).
fn frequent_terms(text: &str) -> Option<String> {
    let terms = content_terms(text);
    let mut counts: Vec<(String, usize, usize)> = Vec::new();
    for (pos, t) in terms.iter().enumerate() {
        match counts.iter_mut().find(|(w, _, _)| w == t) {
            Some(entry) => entry.1 += 1,
            None => counts.push((t.clone(), 1, pos)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    let top: Vec<String> = counts.into_iter().take(3).map(|(w, _, _)| w).collect();
    (!top.is_empty()).then(|| top.join(", "))
}

fn content_terms(text: &str) -> Vec<String> {
    text.split_whitespace().filter(|w| !is_noise(w)).map(normalize).filter(|w| is_content(w)).collect()
}

fn is_content(word: &str) -> bool {
    word.chars().count() >= 3
        && !STOPWORDS.contains(&word)
        && !FILLERS.contains(&word)
        && word.chars().any(char::is_alphabetic)
}

/// Whisper's non-speech markers such as `[BLANK_AUDIO]` or `(music)`.
fn is_noise(word: &str) -> bool {
    word.starts_with('[')
        || word.starts_with('(')
        || word.ends_with(']')
        || word.ends_with(')')
        || word.starts_with('♪')
}

fn normalize(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'').to_lowercase()
}

fn ends_sentence(text: &str) -> bool {
    text.trim_end().trim_end_matches(['"', '\'', ')', '”', '’']).ends_with(['.', '!', '?', '…'])
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Words that open spoken sentences without saying anything.
const FILLERS: &[&str] = &[
    "so",
    "um",
    "uh",
    "er",
    "ah",
    "okay",
    "ok",
    "well",
    "and",
    "but",
    "now",
    "right",
    "alright",
    "yeah",
    "like",
    "oh",
    "hmm",
    "hey",
    "hi",
    "hello",
    "then",
    "also",
    "finally",
    "firstly",
    "secondly",
    "lastly",
    "anyway",
    "basically",
    "actually",
];

const STOPWORDS: &[&str] = &[
    "a", "about", "after", "all", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before",
    "being", "but", "by", "can", "could", "did", "do", "does", "doing", "for", "from", "get", "got", "had", "has",
    "have", "having", "he", "her", "here", "him", "his", "how", "i", "i'm", "if", "in", "into", "is", "it", "it's",
    "its", "just", "let's", "me", "more", "most", "my", "no", "not", "of", "on", "one", "or", "our", "out", "over",
    "really", "she", "so", "some", "that", "that's", "the", "their", "them", "then", "there", "these", "they", "this",
    "those", "to", "too", "up", "us", "very", "was", "we", "we're", "we've", "were", "what", "when", "where", "which",
    "while", "who", "will", "with", "would", "you", "your", "going", "gonna", "want", "thing", "things", "also",
    "which", "than",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(start_ms: i64, end_ms: i64, text: &str) -> TranscriptSegment {
        TranscriptSegment { start_ms, end_ms, text: text.into() }
    }

    #[test]
    fn paragraphs_break_on_long_pauses() {
        let segs = [
            seg(0, 2000, " Hello team."),
            seg(2100, 4000, "Quick update today."),
            seg(5300, 7000, "First, the launch."),
            seg(7500, 9000, "It went well."),
        ];
        let p = paragraphs(&segs);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].text, "Hello team. Quick update today.");
        assert_eq!((p[0].start_ms, p[0].end_ms), (0, 4000));
        assert_eq!(p[0].segment_indices, vec![0, 1]);
        assert_eq!(p[1].text, "First, the launch. It went well.");
        assert_eq!((p[1].start_ms, p[1].end_ms, p[1].segment_indices.clone()), (5300, 9000, vec![2, 3]));
    }

    #[test]
    fn paragraphs_break_at_a_sentence_end_after_sixty_words() {
        let long = "word ".repeat(35);
        let segs = [
            seg(0, 10_000, &format!("{long}and more")),
            seg(10_100, 20_000, &format!("{long}done.")),
            seg(20_100, 21_000, "Next thought"),
            seg(21_100, 22_000, "continues here."),
        ];
        let p = paragraphs(&segs);
        assert_eq!(p.iter().map(|p| p.segment_indices.clone()).collect::<Vec<_>>(), vec![vec![0, 1], vec![2, 3]]);
        // No sentence end before 60 words: no break.
        let p = paragraphs(&[seg(0, 1000, "One."), seg(1100, 2000, "Two.")]);
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn paragraphs_skip_empty_segments_and_handle_nothing() {
        assert!(paragraphs(&[]).is_empty());
        let p = paragraphs(&[seg(0, 500, "  "), seg(600, 900, "Hi  there")]);
        assert_eq!(
            p,
            vec![Paragraph { start_ms: 600, end_ms: 900, text: "Hi there".into(), segment_indices: vec![1] }]
        );
    }

    #[test]
    fn short_recordings_have_one_chapter_from_zero() {
        let segs = [seg(1500, 4000, "So, the quarterly roadmap review is done."), seg(6000, 9000, "Budget next.")];
        assert_eq!(
            chapters(&segs, 12_000),
            vec![Chapter { start_ms: 0, title: "The quarterly roadmap review is done".into() }]
        );
        assert!(chapters(&[], 12_000).is_empty());
        assert!(chapters(&[seg(0, 100, " ")], 12_000).is_empty());
    }

    /// Two minutes on three topics, separated by long pauses: three chapters at the pauses.
    #[test]
    fn chapters_start_at_long_pauses_and_topic_shifts() {
        let mut segs = Vec::new();
        let topics = [
            (
                0,
                "The hiring plan needs two engineers this quarter.",
                "Hiring engineers takes time, so the hiring plan starts now.",
            ),
            (
                42_000,
                "Um, the database migration finished last night.",
                "The migration moved every table to the new database.",
            ),
            (
                84_000,
                "Finally, customer feedback on the mobile app.",
                "Customers like the mobile app but want offline feedback.",
            ),
        ];
        for (base, a, b) in topics {
            for k in 0..4 {
                let t = base + k * 9000;
                // Short pauses inside a topic; the long gap comes before the next topic.
                segs.push(seg(t, t + 4000, a));
                segs.push(seg(t + 4300, t + 8500, b));
            }
        }
        let c = chapters(&segs, 120_000);
        assert_eq!(c.iter().map(|c| c.start_ms).collect::<Vec<_>>(), vec![0, 42_000, 84_000]);
        assert_eq!(c[0].title, "The hiring plan needs two engineers");
        assert_eq!(c[1].title, "The database migration finished last night");
        assert_eq!(c[2].title, "Customer feedback on the mobile app");
        // Deterministic.
        assert_eq!(chapters(&segs, 120_000), c);
    }

    #[test]
    fn chapters_are_at_most_one_per_thirty_seconds() {
        // A pause every 5 s for 90 s: no more than 3 chapters, 30 s apart.
        let segs: Vec<_> =
            (0..18).map(|i| seg(i * 5000, i * 5000 + 3000, &format!("Topic number {i} here."))).collect();
        let c = chapters(&segs, 90_000);
        assert!(c.len() <= 3, "{c:?}");
        for pair in c.windows(2) {
            assert!(pair[1].start_ms - pair[0].start_ms >= CHAPTER_SPACING_MS, "{c:?}");
        }
    }

    #[test]
    fn titles_fall_back_to_frequent_terms() {
        assert_eq!(
            chapter_title("Um, yeah, so it is what it is. Deploys, deploys, pipeline.").as_deref(),
            Some("Deploys, pipeline")
        );
        assert_eq!(
            chapter_title("[BLANK_AUDIO] Shipping the new search today, finally.").as_deref(),
            Some("Shipping the new search today")
        );
        assert_eq!(chapter_title("[BLANK_AUDIO]"), None);
        let c = chapters(&[seg(0, 1000, "[BLANK_AUDIO]")], 5000);
        assert_eq!(c, vec![Chapter { start_ms: 0, title: "Part 1".into() }]);
    }
}
