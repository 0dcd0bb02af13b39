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
}
