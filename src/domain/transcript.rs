//! Timed transcript segments and their caption formats (WebVTT, SRT).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptSegment {
    pub start_ms: i64,
    pub end_ms: i64,
    pub text: String,
}

/// One word of a line and when it is said (the stored shape of whisper's word timings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedWord {
    pub start_ms: i64,
    pub end_ms: i64,
    pub text: String,
}

/// The words of `new_text` (a corrected line from `start_ms` to `end_ms`),
/// timed: a word that was already there keeps its timing (matched in order,
/// ignoring case and punctuation); new words share the time between the
/// kept words around them.
pub fn retime_words(old: &[TimedWord], new_text: &str, start_ms: i64, end_ms: i64) -> Vec<TimedWord> {
    let key = |w: &str| w.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>();
    let new: Vec<&str> = new_text.split_whitespace().collect();
    let (a, b): (Vec<String>, Vec<String>) =
        (old.iter().map(|w| key(&w.text)).collect(), new.iter().map(|w| key(w)).collect());
    // Longest common subsequence of the two word lists.
    let mut table = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            table[i][j] = if a[i] == b[j] && !a[i].is_empty() {
                table[i + 1][j + 1] + 1
            } else {
                table[i + 1][j].max(table[i][j + 1])
            };
        }
    }
    let mut kept: Vec<Option<usize>> = vec![None; b.len()];
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] && !a[i].is_empty() {
            kept[j] = Some(i);
            i += 1;
            j += 1;
        } else if table[i + 1][j] >= table[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    let mut words: Vec<TimedWord> = Vec::with_capacity(new.len());
    let mut j = 0;
    while j < new.len() {
        if let Some(i) = kept[j] {
            words.push(TimedWord { start_ms: old[i].start_ms, end_ms: old[i].end_ms, text: new[j].to_string() });
            j += 1;
            continue;
        }
        // A run of new words, between the kept words (or the line's ends) around it.
        let run_end = (j..new.len()).find(|&k| kept[k].is_some()).unwrap_or(new.len());
        let from = words.last().map_or(start_ms, |w| w.end_ms);
        let to = kept.get(run_end).copied().flatten().map_or(end_ms, |i| old[i].start_ms).max(from);
        let count = (run_end - j) as i64;
        for (n, text) in new[j..run_end].iter().enumerate() {
            let n = n as i64;
            let (s, e) = (from + (to - from) * n / count, from + (to - from) * (n + 1) / count);
            words.push(TimedWord { start_ms: s, end_ms: e, text: text.to_string() });
        }
        j = run_end;
    }
    words
}

/// WebVTT for the `<track>` element. Cue text is escaped: a transcript is
/// untrusted text that browsers would otherwise parse as cue markup.
pub fn to_webvtt(segments: &[TranscriptSegment]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for (i, seg) in segments.iter().enumerate() {
        out.push_str(&format!(
            "{}\n{} --> {}\n{}\n\n",
            i + 1,
            timestamp(seg.start_ms, '.'),
            timestamp(seg.end_ms.max(seg.start_ms), '.'),
            escape_cue_text(&seg.text)
        ));
    }
    out
}

pub fn to_srt(segments: &[TranscriptSegment]) -> String {
    let mut out = String::new();
    for (i, seg) in segments.iter().enumerate() {
        out.push_str(&format!(
            "{}\n{} --> {}\n{}\n\n",
            i + 1,
            timestamp(seg.start_ms, ','),
            timestamp(seg.end_ms.max(seg.start_ms), ','),
            single_line(&seg.text)
        ));
    }
    out
}

/// Longest corrected transcript line (whisper's own lines are under 100 characters).
pub const MAX_LINE_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("the line is empty")]
    Empty,
    #[error("the line is longer than {MAX_LINE_CHARS} characters")]
    TooLong,
    #[error("the line contains control characters")]
    ControlCharacters,
}

/// A hand-corrected transcript line: trimmed, one line, non-empty and short.
/// Control characters (line breaks included) are refused rather than fixed up,
/// so what is stored is exactly what the person saw when they saved it.
pub fn corrected_line(raw: &str) -> Result<String, LineError> {
    let line = raw.trim();
    if line.is_empty() {
        return Err(LineError::Empty);
    }
    if line.chars().count() > MAX_LINE_CHARS {
        return Err(LineError::TooLong);
    }
    if line.chars().any(char::is_control) {
        return Err(LineError::ControlCharacters);
    }
    Ok(line.to_string())
}

/// `HH:MM:SS.mmm` (WebVTT) or `HH:MM:SS,mmm` (SRT).
pub fn timestamp(ms: i64, separator: char) -> String {
    let ms = ms.max(0);
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, milli) = (rest / 1000, rest % 1000);
    format!("{h:02}:{m:02}:{s:02}{separator}{milli:03}")
}

/// Average silent-reading speed of English non-fiction.
pub const WORDS_PER_MINUTE: i64 = 238;

/// Minutes a reader needs for the transcript; at least 1 if there is text.
pub fn reading_minutes(segments: &[TranscriptSegment]) -> u32 {
    let words = word_count(segments.iter().map(|s| s.text.as_str()));
    words.div_ceil(WORDS_PER_MINUTE as usize) as u32
}

/// Words in some transcript text: what the stored word count and reading times count.
pub fn word_count<'a>(texts: impl IntoIterator<Item = &'a str>) -> usize {
    texts.into_iter().map(|t| t.split_whitespace().count()).sum()
}

/// The text on one line, runs of whitespace (line breaks too) as one space.
pub fn single_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn escape_cue_text(text: &str) -> String {
    // "-->" would end a cue timing line; `<` and `&` start markup.
    single_line(text).replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The line of a new transcript (`lines`: start and end, ms) that is the same
/// line as `old` was: one sharing at least half of each one's time with it. A
/// hand correction moves there; a line split or merged differently has none.
pub fn same_line(old: (i64, i64), lines: &[(i64, i64)]) -> Option<usize> {
    let length = |(start, end): (i64, i64)| (end - start).max(1);
    lines
        .iter()
        .enumerate()
        .map(|(i, &line)| (i, old.1.min(line.1) - old.0.max(line.0), line))
        .filter(|&(_, shared, line)| shared * 2 >= length(old).max(length(line)))
        .max_by_key(|&(_, shared, _)| shared)
        .map(|(i, _, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(start_ms: i64, end_ms: i64, text: &str) -> TranscriptSegment {
        TranscriptSegment { start_ms, end_ms, text: text.into() }
    }

    #[test]
    fn renders_webvtt() {
        let vtt = to_webvtt(&[seg(0, 1500, "Hello team."), seg(3_723_004, 3_724_000, "a <b> & c --> d")]);
        assert_eq!(
            vtt,
            "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.500\nHello team.\n\n\
             2\n01:02:03.004 --> 01:02:04.000\na &lt;b&gt; &amp; c --&gt; d\n\n"
        );
    }

    #[test]
    fn renders_srt() {
        let srt = to_srt(&[seg(61_000, 62_250, "Line\none")]);
        assert_eq!(srt, "1\n00:01:01,000 --> 00:01:02,250\nLine one\n\n");
    }

    #[test]
    fn corrected_lines_are_single_trimmed_lines() {
        assert_eq!(corrected_line("  Ship Zorblax on Friday. ").as_deref(), Ok("Ship Zorblax on Friday."));
        assert_eq!(corrected_line(" \t "), Err(LineError::Empty));
        assert_eq!(corrected_line("two\nlines"), Err(LineError::ControlCharacters));
        assert_eq!(corrected_line(&"w".repeat(501)), Err(LineError::TooLong));
    }

    #[test]
    fn reading_time_rounds_up() {
        assert_eq!(reading_minutes(&[]), 0);
        assert_eq!(reading_minutes(&[seg(0, 1, "one two")]), 1);
        assert_eq!(reading_minutes(&[seg(0, 1, &"w ".repeat(239))]), 2);
    }

    #[test]
    fn a_line_is_the_same_line_where_most_of_its_time_is() {
        let lines = [(0, 2_000), (2_000, 5_000), (5_000, 9_000)];
        assert_eq!(same_line((0, 2_100), &lines), Some(0));
        assert_eq!(same_line((1_900, 5_200), &lines), Some(1), "most of it is in the second line");
        assert_eq!(same_line((4_000, 6_500), &lines), None, "split over two lines now");
        assert_eq!(same_line((9_500, 11_000), &lines), None, "its time is gone from the new transcript");
        assert_eq!(same_line((0, 9_000), &lines), None, "one long line is no longer any one line");
    }

    fn timed(words: &[(&str, i64, i64)]) -> Vec<TimedWord> {
        words.iter().map(|&(text, start_ms, end_ms)| TimedWord { start_ms, end_ms, text: text.into() }).collect()
    }

    #[test]
    fn a_correction_keeps_the_timings_of_the_words_it_does_not_change() {
        let old = timed(&[("We", 0, 200), ("launch", 200, 600), ("Zorblac's", 600, 1400), ("today.", 1400, 2000)]);
        let words = retime_words(&old, "We launch Zorblax today.", 0, 2000);
        assert_eq!(
            words,
            timed(&[("We", 0, 200), ("launch", 200, 600), ("Zorblax", 600, 1400), ("today.", 1400, 2000)])
        );
        // Two words for one: they share its time.
        let words = retime_words(&old, "We launch Zorb Lax today", 0, 2000);
        assert_eq!(words[2..4], timed(&[("Zorb", 600, 1000), ("Lax", 1000, 1400)]));
        assert_eq!(words[4], timed(&[("today", 1400, 2000)])[0], "punctuation aside, the same word");
        // New words at the end run to the line's end.
        let words = retime_words(&old, "We launch it", 0, 2000);
        assert_eq!(words[2], timed(&[("it", 600, 2000)])[0]);
        assert!(retime_words(&[], "", 0, 10).is_empty());
    }
}
