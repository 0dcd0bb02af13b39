//! From what a person types to a tantivy query, and back to highlights.
//!
//! - `"exact phrase"` in quotes must appear as written;
//! - every other word must match exactly, as a prefix (`plan` finds
//!   "planning", from two letters; a trailing `*` is accepted), or with a typo
//!   (one edit from 4 letters, two from 8, the first letter as typed: see
//!   [`super::typo`]), with exact matches ranked first;
//! - repeated words count once, and a query holds at most [`MAX_CLAUSES`];
//! - at most [`MAX_EXPANDING_WORDS`] words (the longest) expand to prefixes and
//!   typos; the others match as written. That caps the work of one query without
//!   looking at the dictionary, which holds private updates' words too: a cap
//!   counted there would let what others posted change what you find;
//! - outside quotes, a word also matches its other spellings, its number in
//!   digits or words, and its compound joined or apart, with the word beside it
//!   too (`e mail` finds "email"), ranked below the word as typed ([`variants`]).

use std::sync::Arc;

use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::Term;

use super::schema::words_with_offsets;
use super::typo::{TypoAutomaton, TypoQuery};
use super::variants::{self, Alternative};

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
    /// Other ways of writing each clause, side by side with `clauses`.
    pub alternatives: Vec<Vec<Alternative>>,
}

/// A ranking below the word as typed, above its prefixes.
const ALTERNATIVE_BOOST: f32 = 2.0;

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
        let mut clauses: Vec<(Clause, Vec<Alternative>)> = Vec::new();
        for (i, part) in input.split('"').enumerate() {
            // Odd parts sit between quotes (an unclosed quote runs to the end): as written.
            if i % 2 == 1 {
                let words: Vec<String> = words_with_offsets(part).into_iter().map(|w| w.0).collect();
                match words.len() {
                    0 => {}
                    1 => clauses.push((Clause::Word { text: words[0].clone(), prefix: false, max_edits: 0 }, vec![])),
                    _ => clauses.push((Clause::Phrase(words), vec![])),
                }
                continue;
            }
            // The clause of the word just before, while it was a single word.
            let mut previous: Option<usize> = None;
            for raw in part.split_whitespace() {
                // A trailing `*` asks for what any word of two letters or more gets anyway.
                let words: Vec<String> =
                    words_with_offsets(raw.trim_end_matches('*')).into_iter().map(|w| w.0).collect();
                match words.len() {
                    0 => previous = None,
                    1 => {
                        let text = words[0].clone();
                        let prefix = text.chars().count() >= MIN_PREFIX_LEN;
                        let max_edits = max_edits(&text);
                        let alternatives = variants::of_word(&text);
                        clauses.push((Clause::Word { text: text.clone(), prefix, max_edits }, alternatives));
                        let here = clauses.len() - 1;
                        // `e mail` may be written "email": either word is there if the two joined are.
                        if let Some(before) = previous {
                            if let Clause::Word { text: first, .. } = &clauses[before].0 {
                                for joined in variants::of_compound(&[first.clone(), text]) {
                                    add(&mut clauses[before].1, joined.clone());
                                    add(&mut clauses[here].1, joined);
                                }
                            }
                        }
                        previous = Some(here);
                    }
                    // "e-mail" is two words that must stay together (or be "email").
                    _ => {
                        let alternatives = variants::of_compound(&words);
                        clauses.push((Clause::Phrase(words), alternatives));
                        previous = None;
                    }
                }
            }
        }
        // `t* t* t*` asks the same thing once: repeats cost work and change nothing.
        let mut unique: Vec<(Clause, Vec<Alternative>)> = Vec::with_capacity(clauses.len());
        for (clause, alternatives) in clauses {
            match unique.iter_mut().find(|(seen, _)| *seen == clause) {
                Some((_, seen)) => alternatives.into_iter().for_each(|a| add(seen, a)),
                None => unique.push((clause, alternatives)),
            }
        }
        let (mut clauses, alternatives): (Vec<Clause>, Vec<Vec<Alternative>>) = unique.into_iter().unzip();
        limit_expansion(&mut clauses);
        ParsedQuery { clauses, alternatives }
    }

    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// Every clause must match in one of `fields`.
    pub fn to_query(&self, fields: &[Field]) -> Box<dyn Query> {
        let must: Vec<(Occur, Box<dyn Query>)> = self
            .clauses
            .iter()
            .zip(&self.alternatives)
            .map(|(clause, alternatives)| (Occur::Must, clause_query(clause, alternatives, fields)))
            .collect();
        Box::new(BooleanQuery::new(must))
    }

    /// Highlight rules matching the query's words.
    pub fn matchers(&self) -> Vec<WordMatcher> {
        let exact = |w: &String| WordMatcher { text: w.clone(), prefix: false, max_edits: 0 };
        let mut matchers = Vec::new();
        for (clause, alternatives) in self.clauses.iter().zip(&self.alternatives) {
            let typed = match clause {
                Clause::Word { text, prefix, max_edits } => {
                    matchers.push(WordMatcher { text: text.clone(), prefix: *prefix, max_edits: *max_edits });
                    text.clone()
                }
                Clause::Phrase(words) => {
                    matchers.extend(words.iter().map(exact));
                    words.concat()
                }
            };
            for alternative in alternatives {
                match alternative {
                    Alternative::Word(word) => matchers.push(exact(word)),
                    // Not the halves of the typed word itself ("e" and "mail" of
                    // "email"): marking every "e" would mislead.
                    Alternative::Words(words) if words.concat() != typed => matchers.extend(words.iter().map(exact)),
                    Alternative::Words(_) => {}
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

fn add(alternatives: &mut Vec<Alternative>, alternative: Alternative) {
    if !alternatives.contains(&alternative) {
        alternatives.push(alternative);
    }
}

fn clause_query(clause: &Clause, alternatives: &[Alternative], fields: &[Field]) -> Box<dyn Query> {
    let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    // One automaton for every field: building it is a good part of its cost.
    let typos = match clause {
        Clause::Word { text, max_edits, .. } => TypoAutomaton::new(text, *max_edits).map(Arc::new),
        Clause::Phrase(_) => None,
    };
    for &field in fields {
        for alternative in alternatives {
            let query: Box<dyn Query> = match alternative {
                Alternative::Word(word) => {
                    Box::new(TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::WithFreqs))
                }
                Alternative::Words(words) => {
                    Box::new(PhraseQuery::new(words.iter().map(|w| Term::from_field_text(field, w)).collect()))
                }
            };
            should.push((Occur::Should, Box::new(BoostQuery::new(query, ALTERNATIVE_BOOST))));
        }
        match clause {
            Clause::Word { text, prefix, .. } => {
                let term = Term::from_field_text(field, text);
                should.push((Occur::Should, boosted(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs), 4.0)));
                if *prefix {
                    should.push((Occur::Should, boosted(FuzzyTermQuery::new_prefix(term.clone(), 0, true), 1.5)));
                }
                if let Some(automaton) = &typos {
                    should.push((Occur::Should, boosted(TypoQuery::new(field, automaton.clone()), 1.0)));
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
            || (self.max_edits > 0
                && word.chars().next() == self.text.chars().next()
                && edit_distance_within(word, &self.text, self.max_edits as usize))
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
    fn words_outside_quotes_carry_their_other_spellings() {
        let q = ParsedQuery::parse(r#"organise e mail follow-up 10 "colour""#);
        let of = |i: usize| q.alternatives[i].clone();
        assert!(of(0).contains(&Alternative::Word("organize".into())), "{:?}", of(0));
        // Side by side, either word is also there when the two are written as one.
        assert!(
            of(1).contains(&Alternative::Word("email".into())) && of(2).contains(&Alternative::Word("email".into()))
        );
        assert!(of(3).contains(&Alternative::Word("followup".into())), "{:?}", of(3));
        assert!(of(4).contains(&Alternative::Word("ten".into())), "{:?}", of(4));
        assert_eq!(of(5), [], "a quoted word is matched as written");
        let matchers = q.matchers();
        assert!(matchers.iter().any(|m| m.matches("organize")) && matchers.iter().any(|m| m.matches("ten")));
        // The halves of a split word are not marked on their own.
        let email = ParsedQuery::parse("email");
        assert!(email.alternatives[0].contains(&Alternative::Words(vec!["e".into(), "mail".into()])));
        assert!(!email.matchers().iter().any(|m| m.matches("e")));
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
        assert!(!m.matches("toadmap"), "the first letter is as typed, as in the index");
    }

    #[test]
    fn edit_distance() {
        assert!(edit_distance_within("kitten", "sitten", 1));
        assert!(!edit_distance_within("kitten", "sitting", 2) || edit_distance_within("kitten", "sitting", 3));
        assert!(!edit_distance_within("kitten", "sitting", 2));
        assert!(edit_distance_within("ab", "ba", 1));
    }
}
