//! Snippets: the segment text, HTML-escaped, with matched words in `<mark>`.

use super::query::WordMatcher;
use super::schema::words_with_offsets;

pub fn highlight(text: &str, matchers: &[WordMatcher]) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut cursor = 0;
    for (word, from, to) in words_with_offsets(text) {
        if matchers.iter().any(|m| m.matches(&word)) {
            out.push_str(&escape_html(&text[cursor..from]));
            out.push_str("<mark>");
            out.push_str(&escape_html(&text[from..to]));
            out.push_str("</mark>");
            cursor = to;
        }
    }
    out.push_str(&escape_html(&text[cursor..]));
    out
}

/// When the first matched word of `text` starts, from `word_starts` (ms of each
/// whitespace-separated word, comma separated); `None` when they do not line up.
pub fn first_match_start(text: &str, word_starts: &str, matchers: &[WordMatcher]) -> Option<u64> {
    let starts: Vec<u64> = word_starts.split(',').filter_map(|s| s.parse().ok()).collect();
    let chunks: Vec<&str> = text.split_whitespace().collect();
    if starts.is_empty() || starts.len() != chunks.len() {
        return None;
    }
    let first = chunks.iter().position(|chunk| {
        words_with_offsets(chunk).iter().any(|(word, _, _)| matchers.iter().any(|m| m.matches(word)))
    })?;
    starts.get(first).copied()
}

pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_matching_words_and_escapes_the_rest() {
        let m = vec![WordMatcher { text: "launch".into(), prefix: true, max_edits: 1 }];
        assert_eq!(
            highlight("We <b>Launched</b> & lunch", &m),
            "We &lt;b&gt;<mark>Launched</mark>&lt;/b&gt; &amp; <mark>lunch</mark>"
        );
        assert_eq!(highlight("nothing here", &m), "nothing here");
    }

    #[test]
    fn the_first_matched_word_gives_the_moment() {
        let m = vec![WordMatcher { text: "launch".into(), prefix: true, max_edits: 1 }];
        let text = "Next week we launch, finally.";
        assert_eq!(first_match_start(text, "900,1200,1500,1700,2300", &m), Some(1700));
        assert_eq!(first_match_start(text, "900,1200", &m), None, "timings that do not line up are not used");
        assert_eq!(first_match_start(text, "", &m), None);
    }
}
