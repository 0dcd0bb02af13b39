//! Test harness: the real `bulletin` binary on port 0 with a temporary data
//! folder (and its own bucket when the suite runs on S3), and media fixtures
//! generated with espeak-ng and the ffmpeg CLI.
#![allow(dead_code)] // helpers kept for the areas that use them, and for `tests/storage`

pub mod browser;
pub mod fixtures;
pub mod http;
pub mod s3;
pub mod server;

pub use fixtures::*;
pub use http::*;
pub use s3::*;
pub use server::*;

/// Word error rate of `hypothesis` against `reference`: word-level edit
/// distance over the reference length, after lower-casing and dropping punctuation.
pub fn word_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let words = |s: &str| -> Vec<String> {
        s.split_whitespace()
            .map(|w| w.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase())
            .filter(|w| !w.is_empty())
            .collect()
    };
    let (r, h) = (words(reference), words(hypothesis));
    if r.is_empty() {
        return if h.is_empty() { 0.0 } else { 1.0 };
    }
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for i in 1..=r.len() {
        let mut row = vec![i; h.len() + 1];
        for j in 1..=h.len() {
            let cost = usize::from(r[i - 1] != h[j - 1]);
            row[j] = (prev[j] + 1).min(row[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = row;
    }
    prev[h.len()] as f64 / r.len() as f64
}

#[test]
fn word_error_rate_counts_edits() {
    assert_eq!(word_error_rate("Hello, team!", "hello team"), 0.0);
    assert_eq!(word_error_rate("a b c d", "a x c"), 0.5);
}
