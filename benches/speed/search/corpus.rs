//! A deterministic, English-like corpus of updates and the query mix run on it.
//!
//! Words follow Zipf's law (the word of rank r is drawn with weight 1/r), as in
//! real speech: a few function words are in almost every segment, topic words are
//! common, and a long tail of generated words is rare. Queries are drawn from the
//! generated segments themselves, so every query has at least one true hit.

use std::collections::{HashMap, HashSet};

use bulletin::domain::transcript::TranscriptSegment;
use bulletin::domain::UpdateId;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub const UPDATES: usize = 10_000;
pub const SEGMENTS_PER_UPDATE: usize = 40;
const SEED: u64 = 0x5eed_b011e717;
/// Real words first, then generated ones up to this many.
const VOCABULARY: usize = 40_000;

/// The most frequent English words, most frequent first: never a query on their own.
const FUNCTION_WORDS: &str = "the to and a of we i that is in it for on this so be with are have will \
    you our just as was at but not they what all there can about from if one do like get now think \
    also some more out up then know going been which when because would them their really need other \
    an by into these those over only still next here very right make want well see back new good";

/// Words a team's updates are about: what people search for.
const TOPIC_WORDS: &str = "team release customer budget roadmap deploy meeting design review quarter \
    launch feature bug fix test users data server update plan week sprint goal metrics revenue sales \
    marketing support product engineering hiring onboarding demo feedback priority deadline progress \
    migration database latency dashboard report analysis contract partner pricing security incident \
    outage backlog estimate prototype interview candidate offer training documentation api mobile \
    browser performance memory storage network billing invoice subscription churn retention growth \
    campaign newsletter webinar conference travel office budget forecast hiring vendor legal compliance \
    audit policy handbook benefits payroll quarterly annual monthly weekly daily standup retro \
    planning milestone dependency blocker risk scope requirement specification wireframe mockup \
    research survey interview persona journey experiment analytics funnel conversion signup \
    checkout cart search notification email message chat video upload transcript caption thumbnail \
    playback streaming encoding queue worker cluster container kubernetes terraform pipeline build \
    staging production rollback hotfix patch version changelog announcement";

const ONSETS: [&str; 20] =
    ["b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "br", "st", "tr", "pl", "gr"];
const VOWELS: [&str; 7] = ["a", "e", "i", "o", "u", "ea", "io"];
const CODAS: [&str; 8] = ["", "", "", "n", "r", "l", "s", "nt"];

pub struct Update {
    pub id: UpdateId,
    pub title: String,
    pub segments: Vec<TranscriptSegment>,
}

/// One query, written for each engine: Bulletin's own syntax, and FTS5's with the
/// same meaning (every word a prefix, as Bulletin treats words; phrases quoted).
#[derive(Clone)]
pub struct Query {
    pub kind: QueryKind,
    pub bulletin: String,
    pub fts5: String,
}

/// What a query asks, so latency can be told apart by the work each kind takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// One frequent topic word (many hits to rank).
    CommonWord,
    /// The rarest word of a segment (few hits).
    RareWord,
    /// Two words of one segment, both required.
    TwoWords,
    /// Two consecutive words, quoted.
    Phrase,
    /// The first few letters of a word with `*`.
    Prefix,
    /// A rare word with one letter changed (FTS5 has no typo tolerance: Bulletin only).
    Typo,
}

impl QueryKind {
    pub const ALL: [QueryKind; 6] = [
        QueryKind::CommonWord,
        QueryKind::RareWord,
        QueryKind::TwoWords,
        QueryKind::Phrase,
        QueryKind::Prefix,
        QueryKind::Typo,
    ];

    pub fn label(self) -> &'static str {
        match self {
            QueryKind::CommonWord => "one common word",
            QueryKind::RareWord => "one rare word",
            QueryKind::TwoWords => "two words",
            QueryKind::Phrase => "a two-word phrase",
            QueryKind::Prefix => "a prefix (3 letters*)",
            QueryKind::Typo => "a rare word with a typo",
        }
    }

    /// Whether FTS5 can answer it with the same meaning.
    pub fn has_peer(self) -> bool {
        self != QueryKind::Typo
    }
}

pub struct Corpus {
    pub updates: Vec<Update>,
    /// The 200 queries every engine answers (no prefix or typo kinds: their mix is
    /// what the headline p50/p99 have always measured).
    pub queries: Vec<Query>,
    /// 50 prefix and 50 typo queries, measured per kind beside the mix.
    pub extra_queries: Vec<Query>,
}

impl Corpus {
    pub fn generate() -> Corpus {
        let mut rng = StdRng::seed_from_u64(SEED);
        let vocabulary = Vocabulary::new(&mut rng);
        let updates = (0..UPDATES).map(|n| vocabulary.update(&mut rng, n)).collect();
        let mut corpus = Corpus { updates, queries: Vec::new(), extra_queries: Vec::new() };
        corpus.queries = vocabulary.queries(&mut rng, &corpus.updates);
        corpus.extra_queries = vocabulary.extra_queries(&mut rng, &corpus.updates);
        corpus
    }

    pub fn segments(&self) -> usize {
        self.updates.iter().map(|u| u.segments.len()).sum()
    }
}

struct Vocabulary {
    /// Words by rank, most frequent first.
    words: Vec<String>,
    rank: HashMap<String, usize>,
    /// Running sum of the Zipf weights, for drawing a rank by binary search.
    cumulative: Vec<f64>,
    function_words: usize,
    topic_words: usize,
}

impl Vocabulary {
    fn new(rng: &mut StdRng) -> Vocabulary {
        let mut words: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        let mut push_all = |list: &str, words: &mut Vec<String>| {
            for word in list.split_whitespace() {
                if seen.insert(word.to_string()) {
                    words.push(word.to_string());
                }
            }
        };
        push_all(FUNCTION_WORDS, &mut words);
        let function_words = words.len();
        push_all(TOPIC_WORDS, &mut words);
        let topic_words = words.len() - function_words;
        while words.len() < VOCABULARY {
            // Rarer words tend to be longer, as in English.
            let syllables = 2 + usize::from(words.len() > 2_000) + usize::from(rng.random_bool(0.3));
            let word = made_up_word(rng, syllables);
            if seen.insert(word.clone()) {
                words.push(word);
            }
        }
        let mut total = 0.0;
        let cumulative = (1..=words.len())
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        let rank = words.iter().enumerate().map(|(i, w)| (w.clone(), i)).collect();
        Vocabulary { words, rank, cumulative, function_words, topic_words }
    }

    fn draw(&self, rng: &mut StdRng) -> &str {
        let x = rng.random_range(0.0..*self.cumulative.last().unwrap());
        &self.words[self.cumulative.partition_point(|&c| c < x)]
    }

    fn update(&self, rng: &mut StdRng, n: usize) -> Update {
        let mut at_ms = 0;
        let segments = (0..SEGMENTS_PER_UPDATE)
            .map(|_| {
                let words: Vec<&str> = (0..rng.random_range(10..=15)).map(|_| self.draw(rng)).collect();
                let duration_ms = words.len() as i64 * rng.random_range(230..330);
                let segment =
                    TranscriptSegment { start_ms: at_ms, end_ms: at_ms + duration_ms, text: sentence(&words) };
                at_ms += duration_ms + rng.random_range(0..400);
                segment
            })
            .collect();
        let title_words: Vec<&str> = (0..rng.random_range(3..=6)).map(|_| self.content_word(rng)).collect();
        // 16 characters of the id alphabet: deterministic ids, in posting order.
        let id = UpdateId::parse(&format!("{n:016}")).expect("digits are valid id characters");
        Update { id, title: sentence(&title_words).trim_end_matches('.').to_string(), segments }
    }

    /// A word past the function words, Zipf-distributed among the rest.
    fn content_word(&self, rng: &mut StdRng) -> &str {
        loop {
            let word = self.draw(rng);
            if self.rank[word] >= self.function_words {
                return word;
            }
        }
    }

    /// 200 queries: common topic words, rare words, two-word AND queries and phrases.
    fn queries(&self, rng: &mut StdRng, updates: &[Update]) -> Vec<Query> {
        let mut queries = Vec::new();
        for _ in 0..60 {
            let word = &self.words[self.function_words + rng.random_range(0..self.topic_words)];
            queries.push(words_query(QueryKind::CommonWord, &[word]));
        }
        for _ in 0..60 {
            let words = self.random_segment_words(rng, updates);
            let rarest = words.iter().max_by_key(|w| self.rank[w.as_str()]).unwrap();
            queries.push(words_query(QueryKind::RareWord, &[rarest]));
        }
        for _ in 0..50 {
            let words = self.random_segment_words(rng, updates);
            let mut content: Vec<&String> =
                words.iter().filter(|w| self.rank[w.as_str()] >= self.function_words).collect();
            content.dedup();
            if content.len() >= 2 {
                let first = rng.random_range(0..content.len() - 1);
                queries.push(words_query(QueryKind::TwoWords, &[content[first], content[first + 1]]));
            }
        }
        while queries.len() < 200 {
            // Two consecutive words, at least one of them not a function word ("the roadmap").
            let words = self.random_segment_words(rng, updates);
            let at = rng.random_range(0..words.len() - 1);
            if words[at..=at + 1].iter().any(|w| self.rank[w.as_str()] >= self.function_words) {
                queries.push(phrase_query(&words[at], &words[at + 1]));
            }
        }
        queries
    }

    /// 50 prefixes (three letters of a content word, `*`) and 50 rare words with
    /// one inner letter changed (still within one edit, so Bulletin should find them).
    fn extra_queries(&self, rng: &mut StdRng, updates: &[Update]) -> Vec<Query> {
        let mut queries = Vec::new();
        while queries.len() < 50 {
            let words = self.random_segment_words(rng, updates);
            let word = &words[rng.random_range(0..words.len())];
            if self.rank[word.as_str()] >= self.function_words && word.chars().count() >= 4 {
                let prefix: String = word.chars().take(3).collect();
                queries.push(Query {
                    kind: QueryKind::Prefix,
                    bulletin: format!("{prefix}*"),
                    fts5: format!("\"{prefix}\"*"),
                });
            }
        }
        while queries.len() < 100 {
            let words = self.random_segment_words(rng, updates);
            let rarest = words.iter().max_by_key(|w| self.rank[w.as_str()]).unwrap();
            let mut letters: Vec<char> = rarest.chars().collect();
            if letters.len() < 6 {
                continue;
            }
            let at = rng.random_range(1..letters.len() - 1);
            letters[at] = if letters[at] == 'x' { 'q' } else { 'x' };
            let typo: String = letters.into_iter().collect();
            queries.push(Query { kind: QueryKind::Typo, fts5: format!("\"{typo}\""), bulletin: typo });
        }
        queries
    }

    /// The words of a segment drawn at random, lower-case, without punctuation.
    fn random_segment_words(&self, rng: &mut StdRng, updates: &[Update]) -> Vec<String> {
        let update = &updates[rng.random_range(0..updates.len())];
        let segment = &update.segments[rng.random_range(0..update.segments.len())];
        segment.text.trim_end_matches('.').split_whitespace().map(str::to_lowercase).collect()
    }
}

fn made_up_word(rng: &mut StdRng, syllables: usize) -> String {
    let mut word = String::new();
    for _ in 0..syllables {
        word.push_str(ONSETS[rng.random_range(0..ONSETS.len())]);
        word.push_str(VOWELS[rng.random_range(0..VOWELS.len())]);
        word.push_str(CODAS[rng.random_range(0..CODAS.len())]);
    }
    word
}

/// Words as a spoken sentence: capitalised, with a full stop.
fn sentence(words: &[&str]) -> String {
    let mut text = words.join(" ");
    if let Some(first) = text.get(..1) {
        text.replace_range(..1, &first.to_uppercase());
    }
    text.push('.');
    text
}

fn words_query(kind: QueryKind, words: &[&String]) -> Query {
    let bulletin = words.iter().map(|w| w.as_str()).collect::<Vec<_>>().join(" ");
    // Bulletin treats a word of two or more characters as a prefix (`search::query`).
    let fts5 = words
        .iter()
        .map(|w| if w.chars().count() >= 2 { format!("\"{w}\"*") } else { format!("\"{w}\"") })
        .collect::<Vec<_>>()
        .join(" ");
    Query { kind, bulletin, fts5 }
}

fn phrase_query(first: &str, second: &str) -> Query {
    let phrase = format!("\"{first} {second}\"");
    Query { kind: QueryKind::Phrase, bulletin: phrase.clone(), fts5: phrase }
}
