//! From what a person types to a tantivy query, and back to highlights.
//!
//! - `"exact phrase"` in quotes must appear as written;
//! - every other word must match exactly, as a prefix (`plan` finds
//!   "planning", from two letters; a trailing `*` is accepted), or with a typo
//!   (one edit from 4 letters, two from 8), with exact matches ranked first;
//! - repeated words count once, and a query holds at most [`MAX_CLAUSES`];
//! - at most [`MAX_EXPANDING_WORDS`] words (the longest) expand to prefixes and
//!   typos; the others match as written. That caps the work of one query without
//!   looking at the dictionary, which holds private updates' words too: a cap
//!   counted there would let what others posted change what you find.

use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::Term;

use super::schema::words_with_offsets;

#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    /// `prefix`: also as the start of longer words; `max_edits`: typos allowed.
    Word {
        text: String,
        prefix: bool,
        max_edits: u8,
    },
    Phrase(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedQuery {
    pub clauses: Vec<Clause>,
}

/// A word matches as a prefix from this many letters, even with a `*`: one
/// letter would expand to a good part of the dictionary.
const MIN_PREFIX_LEN: usize = 2;
/// Words and phrases one query may hold (after merging repeats). Each is a must-
/// match over two fields with prefix and typo expansion; more is only cost.
pub const MAX_CLAUSES: usize = 10;
/// Words of one query that expand to prefixes and typos; the longest ones,
/// which expand to the fewest words.
pub const MAX_EXPANDING_WORDS: usize = 3;

impl ParsedQuery {
    pub fn parse(input: &str) -> ParsedQuery {
        let mut clauses = Vec::new();
        for (i, part) in input.split('"').enumerate() {
            // Odd parts sit between quotes (an unclosed quote runs to the end).
            if i % 2 == 1 {
                let words: Vec<String> = words_with_offsets(part).into_iter().map(|w| w.0).collect();
                match words.len() {
                    0 => {}
                    1 => clauses.push(Clause::Word { text: words[0].clone(), prefix: false, max_edits: 0 }),
                    _ => clauses.push(Clause::Phrase(words)),
                }
                continue;
            }
            for raw in part.split_whitespace() {
                // A trailing `*` asks for what any word of two letters or more gets anyway.
                let words: Vec<String> =
                    words_with_offsets(raw.trim_end_matches('*')).into_iter().map(|w| w.0).collect();
                match words.len() {
                    0 => {}
                    1 => {
                        let prefix = words[0].chars().count() >= MIN_PREFIX_LEN;
                        let max_edits = max_edits(&words[0]);
                        clauses.push(Clause::Word { text: words[0].clone(), prefix, max_edits });
                    }
                    // "e-mail" is two words that must stay together.
                    _ => clauses.push(Clause::Phrase(words)),
                }
            }
        }
        // `t* t* t*` asks the same thing once: repeats cost work and change nothing.
        let mut unique: Vec<Clause> = Vec::with_capacity(clauses.len());
        for clause in clauses {
            if !unique.contains(&clause) {
                unique.push(clause);
            }
        }
        limit_expansion(&mut unique);
        ParsedQuery { clauses: unique }
    }

    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// Every clause must match in one of `fields`.
    pub fn to_query(&self, fields: &[Field]) -> Box<dyn Query> {
        let must: Vec<(Occur, Box<dyn Query>)> =
            self.clauses.iter().map(|clause| (Occur::Must, clause_query(clause, fields))).collect();
        Box::new(BooleanQuery::new(must))
    }

    /// Highlight rules matching the query's words.
    pub fn matchers(&self) -> Vec<WordMatcher> {
        let mut matchers = Vec::new();
        for clause in &self.clauses {
            match clause {
                Clause::Word { text, prefix, max_edits } => {
                    matchers.push(WordMatcher { text: text.clone(), prefix: *prefix, max_edits: *max_edits })
                }
                Clause::Phrase(words) => {
                    matchers.extend(words.iter().map(|w| WordMatcher { text: w.clone(), prefix: false, max_edits: 0 }))
                }
            }
        }
        matchers
    }
}

/// Only the longest [`MAX_EXPANDING_WORDS`] expanding words keep expanding (on a tie, the later one: it is being typed).
fn limit_expansion(clauses: &mut [Clause]) {
    let mut expanding: Vec<(usize, usize)> = clauses
        .iter()
        .enumerate()
        .filter_map(|(i, clause)| match clause {
            Clause::Word { text, prefix, max_edits } if *prefix || *max_edits > 0 => Some((text.chars().count(), i)),
            _ => None,
        })
        .collect();
    expanding.sort_unstable_by(|a, b| b.cmp(a));
    for &(_, i) in expanding.iter().skip(MAX_EXPANDING_WORDS) {
        if let Clause::Word { prefix, max_edits, .. } = &mut clauses[i] {
            *prefix = false;
            *max_edits = 0;
        }
    }
}

fn max_edits(word: &str) -> u8 {
    match word.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

fn clause_query(clause: &Clause, fields: &[Field]) -> Box<dyn Query> {
    let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for &field in fields {
        match clause {
            Clause::Word { text, prefix, max_edits } => {
                let term = Term::from_field_text(field, text);
                should.push((Occur::Should, boosted(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs), 4.0)));
                if *prefix {
                    should.push((Occur::Should, boosted(FuzzyTermQuery::new_prefix(term.clone(), 0, true), 1.5)));
                }
                if *max_edits > 0 {
                    should.push((Occur::Should, boosted(FuzzyTermQuery::new(term, *max_edits, true), 1.0)));
                }
            }
            Clause::Phrase(words) => {
                let terms = words.iter().map(|w| Term::from_field_text(field, w)).collect();
                should.push((Occur::Should, boosted(PhraseQuery::new(terms), 4.0)));
            }
        }
    }
    Box::new(BooleanQuery::new(should))
}

fn boosted(query: impl Query + 'static, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(Box::new(query), boost))
}

/// Decides whether an analysed word of a document matches a query word.
#[derive(Debug, Clone, PartialEq)]
pub struct WordMatcher {
    pub text: String,
    pub prefix: bool,
    pub max_edits: u8,
}

impl WordMatcher {
    pub fn matches(&self, word: &str) -> bool {
        word == self.text
            || (self.prefix && word.starts_with(&self.text))
            || (self.max_edits > 0 && edit_distance_within(word, &self.text, self.max_edits as usize))
    }
}

/// Optimal-string-alignment distance ≤ `max` (transpositions count as one edit, as in the index).
fn edit_distance_within(a: &str, b: &str, max: usize) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return false;
    }
    let width = b.len() + 1;
    let mut prev2 = vec![0usize; width];
    let mut prev: Vec<usize> = (0..width).collect();
    let mut row = vec![0usize; width];
    for i in 1..=a.len() {
        row[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (prev[j] + 1).min(row[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(prev2[j - 2] + 1);
            }
            row[j] = best;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut row);
    }
    prev[b.len()] <= max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_words_phrases_and_prefixes() {
        let q = ParsedQuery::parse(r#"Budget "next quarter" plan* a"#);
        assert_eq!(
            q.clauses,
            vec![
                Clause::Word { text: "budget".into(), prefix: true, max_edits: 1 },
                Clause::Phrase(vec!["next".into(), "quarter".into()]),
                Clause::Word { text: "plan".into(), prefix: true, max_edits: 1 },
                Clause::Word { text: "a".into(), prefix: false, max_edits: 0 },
            ]
        );
        assert!(ParsedQuery::parse("  \"\" ,,, ").is_empty());
    }

    #[test]
    fn repeats_merge_and_one_letter_never_expands() {
        let hostile = "t* ".repeat(85);
        assert_eq!(
            ParsedQuery::parse(&hostile).clauses,
            vec![Clause::Word { text: "t".into(), prefix: false, max_edits: 0 }]
        );
        let q = ParsedQuery::parse(r#"plan Plan "next step" "Next  step" a* plan*"#);
        assert_eq!(
            q.clauses,
            vec![
                Clause::Word { text: "plan".into(), prefix: true, max_edits: 1 },
                Clause::Phrase(vec!["next".into(), "step".into()]),
                Clause::Word { text: "a".into(), prefix: false, max_edits: 0 },
            ]
        );
    }

    #[test]
    fn only_the_longest_words_expand() {
        let q = ParsedQuery::parse("ab cd roadmap ef budget gh");
        let expanding: Vec<&str> = q
            .clauses
            .iter()
            .filter_map(|c| match c {
                Clause::Word { text, prefix: true, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        // The two long ones, then the last of the two-letter words.
        assert_eq!(expanding, ["roadmap", "budget", "gh"]);
        let exact = q.clauses.iter().filter(|c| matches!(c, Clause::Word { prefix: false, max_edits: 0, .. })).count();
        assert_eq!(exact, 3);
        assert_eq!(q.matchers().iter().filter(|m| m.prefix || m.max_edits > 0).count(), MAX_EXPANDING_WORDS);
    }

    #[test]
    fn hyphenated_words_become_phrases() {
        let q = ParsedQuery::parse("e-mail");
        assert_eq!(q.clauses, vec![Clause::Phrase(vec!["e".into(), "mail".into()])]);
    }

    #[test]
    fn matcher_accepts_prefix_and_typos() {
        let m = WordMatcher { text: "roadmap".into(), prefix: true, max_edits: 1 };
        assert!(m.matches("roadmap"));
        assert!(m.matches("roadmaps"));
        assert!(m.matches("raodmap"));
        assert!(m.matches("roadmop"));
        assert!(!m.matches("road"));
        assert!(!m.matches("budget"));
    }

    #[test]
    fn edit_distance() {
        assert!(edit_distance_within("kitten", "sitten", 1));
        assert!(!edit_distance_within("kitten", "sitting", 2) || edit_distance_within("kitten", "sitting", 3));
        assert!(!edit_distance_within("kitten", "sitting", 2));
        assert!(edit_distance_within("ab", "ba", 1));
    }
}
