//! Other ways of writing what someone searched for, as whisper (or a person)
//! may have written it: spelling variants (`organise` / `organize`), numbers as
//! digits or words (`10` / `ten`, `2nd` / `second`, `21` / `twenty-one`), and
//! compounds joined or apart (`email` / `e-mail` / `e mail`, `followup` /
//! `follow-up`). Search adds them to a query word as alternatives, ranked below
//! the word as typed. Only the query is rewritten: the index keeps what was said.
//!
//! Every alternative is an exact term or an exact run of terms, so one that no
//! transcript contains costs a dictionary lookup and matches nothing.

/// Another way to write a query word: one word, or several in a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alternative {
    Word(String),
    Words(Vec<String>),
}

/// A word is split into two written apart (`email` → `e mail`, which also
/// finds `e-mail`) only up to this length: each split is one more phrase.
const MAX_SPLIT_CHARS: usize = 16;
/// Spelling rules apply to words at least this long (`four` is not `for`).
const MIN_VARIANT_CHARS: usize = 5;

/// Alternatives for one analysed query word (lower case, ASCII-folded).
pub fn of_word(word: &str) -> Vec<Alternative> {
    let mut out = Vec::new();
    for variant in spelling_variants(word) {
        push(&mut out, Alternative::Word(variant));
    }
    for form in number_forms(word) {
        push(&mut out, form);
    }
    for split in splits(word) {
        push(&mut out, split);
    }
    out
}

/// Alternatives for words typed as one compound: hyphenated (`e-mail`,
/// `twenty-one`) or side by side (`e mail`): the words joined, or their number.
pub fn of_compound(words: &[String]) -> Vec<Alternative> {
    let mut out = Vec::new();
    let joined: String = words.concat();
    if words.len() > 1 && joined.chars().count() <= 40 {
        push(&mut out, Alternative::Word(joined));
    }
    if let [tens, unit] = words {
        if let (Some(t), Some(u)) = (position(TENS, tens), position(&UNITS[1..10], unit)) {
            push(&mut out, Alternative::Word(((t + 2) * 10 + u + 1).to_string()));
        }
        if let (Some(t), Some(u)) = (position(TENS, tens), position(&ORDINALS[1..10], unit)) {
            let n = (t + 2) * 10 + u + 1;
            push(&mut out, Alternative::Word(format!("{n}{}", ordinal_suffix(n))));
        }
    }
    out
}

fn push(out: &mut Vec<Alternative>, alternative: Alternative) {
    if !out.contains(&alternative) {
        out.push(alternative);
    }
}

/// British and American endings, each pair matched both ways (the longest
/// ending that fits wins).
const SPELLINGS: &[(&str, &str)] = &[
    ("isations", "izations"),
    ("isation", "ization"),
    ("ising", "izing"),
    ("isers", "izers"),
    ("ised", "ized"),
    ("ises", "izes"),
    ("iser", "izer"),
    ("ise", "ize"),
    ("ysing", "yzing"),
    ("ysed", "yzed"),
    ("yses", "yzes"),
    ("yse", "yze"),
    ("ourites", "orites"),
    ("ourite", "orite"),
    ("ourable", "orable"),
    ("ourful", "orful"),
    ("ouring", "oring"),
    ("oured", "ored"),
    ("ours", "ors"),
    ("our", "or"),
    ("tres", "ters"),
    ("tred", "tered"),
    ("tre", "ter"),
    ("lling", "ling"),
    ("llers", "lers"),
    ("ller", "ler"),
    ("lled", "led"),
    ("ogues", "ogs"),
    ("ogue", "og"),
    ("ences", "enses"),
    ("ence", "ense"),
    ("grammes", "grams"),
    ("gramme", "gram"),
];

/// The word with its British ending made American, or the other way round.
fn spelling_variants(word: &str) -> Vec<String> {
    if word.chars().count() < MIN_VARIANT_CHARS || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for from_british in [true, false] {
        let best = SPELLINGS
            .iter()
            .map(|&(british, american)| if from_british { (british, american) } else { (american, british) })
            .filter(|(from, _)| word.len() >= from.len() + 2 && word.ends_with(from))
            .max_by_key(|(from, _)| from.len());
        if let Some((from, to)) = best {
            let variant = format!("{}{to}", &word[..word.len() - from.len()]);
            if variant != word && !out.contains(&variant) {
                out.push(variant);
            }
        }
    }
    out
}

const UNITS: &[&str] = &[
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
/// Indexed by the tens digit less two.
const TENS: &[&str] = &["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
const ORDINALS: &[&str] = &[
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
];
const TENS_ORDINALS: &[&str] =
    &["twentieth", "thirtieth", "fortieth", "fiftieth", "sixtieth", "seventieth", "eightieth", "ninetieth"];

fn position(list: &[&str], word: &str) -> Option<usize> {
    list.iter().position(|w| *w == word)
}

fn ordinal_suffix(n: usize) -> &'static str {
    match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

/// 0–99 as digits and as words, cardinal (`21`, `twenty one`) and ordinal
/// (`21st`, `twenty first`): the other form of `word`, if it is one.
fn number_forms(word: &str) -> Vec<Alternative> {
    let mut out = Vec::new();
    let digits_end = word.find(|c: char| !c.is_ascii_digit()).unwrap_or(word.len());
    let (digits, suffix) = word.split_at(digits_end);
    if let Ok(n) = digits.parse::<usize>() {
        if n >= 100 || (digits.len() > 1 && digits.starts_with('0')) {
            return out;
        }
        match suffix {
            "" => out.push(spelled(n, UNITS, TENS)),
            s if s == ordinal_suffix(n) => out.push(spelled(n, ORDINALS, TENS_ORDINALS)),
            _ => {}
        }
        return out;
    }
    if let Some(n) = position(UNITS, word) {
        out.push(Alternative::Word(n.to_string()));
    } else if let Some(t) = position(TENS, word) {
        out.push(Alternative::Word(((t + 2) * 10).to_string()));
    } else if let Some(n) = position(ORDINALS, word) {
        out.push(Alternative::Word(format!("{n}{}", ordinal_suffix(n))));
    } else if let Some(t) = position(TENS_ORDINALS, word) {
        out.push(Alternative::Word(format!("{}th", (t + 2) * 10)));
    }
    out
}

/// `n` (< 100) in words, with `small` for 0–19 and the last word and `tens` for a round ten.
fn spelled(n: usize, small: &[&str], tens: &[&str]) -> Alternative {
    match n {
        0..=19 => Alternative::Word(small[n].to_string()),
        _ if n % 10 == 0 => Alternative::Word(tens[n / 10 - 2].to_string()),
        _ => Alternative::Words(vec![TENS[n / 10 - 2].to_string(), small[n % 10].to_string()]),
    }
}

/// A word written as two: every place it could come apart (`email` →
/// `e mail`, `em ail`, …; the ones no transcript has match nothing).
fn splits(word: &str) -> Vec<Alternative> {
    let letters = word.chars().count();
    if !(4..=MAX_SPLIT_CHARS).contains(&letters) || !word.chars().all(|c| c.is_alphabetic()) {
        return Vec::new();
    }
    word.char_indices()
        .skip(1)
        .map(|(at, _)| Alternative::Words(vec![word[..at].to_string(), word[at..].to_string()]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(w: &str) -> Alternative {
        Alternative::Word(w.into())
    }

    fn words(ws: &[&str]) -> Alternative {
        Alternative::Words(ws.iter().map(|w| w.to_string()).collect())
    }

    fn strings(ws: &[&str]) -> Vec<String> {
        ws.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn british_and_american_spellings_both_ways() {
        for (british, american) in [
            ("organise", "organize"),
            ("organisation", "organization"),
            ("organised", "organized"),
            ("analyse", "analyze"),
            ("colour", "color"),
            ("favourite", "favorite"),
            ("centre", "center"),
            ("travelled", "traveled"),
            ("cancelling", "canceling"),
            ("catalogue", "catalog"),
            ("licence", "license"),
            ("programme", "program"),
        ] {
            assert!(of_word(british).contains(&word(american)), "{british} → {american}: {:?}", of_word(british));
            assert!(of_word(american).contains(&word(british)), "{american} → {british}: {:?}", of_word(american));
        }
        // Short words keep their meaning: "four" is not "for".
        assert!(!of_word("four").contains(&word("for")));
    }

    #[test]
    fn numbers_as_digits_and_words_both_ways() {
        assert!(of_word("10").contains(&word("ten")));
        assert!(of_word("ten").contains(&word("10")));
        assert!(of_word("2nd").contains(&word("second")));
        assert!(of_word("second").contains(&word("2nd")));
        assert!(of_word("40").contains(&word("forty")));
        assert!(of_word("21").contains(&words(&["twenty", "one"])));
        assert!(of_word("23rd").contains(&words(&["twenty", "third"])));
        assert_eq!(of_compound(&strings(&["twenty", "one"])), [word("twentyone"), word("21")]);
        assert_eq!(of_compound(&strings(&["twenty", "third"])), [word("twentythird"), word("23rd")]);
        assert!(of_word("11th").contains(&word("eleventh")));
        // Not numbers as written: a wrong suffix, a leading zero, past 99.
        assert!(of_word("2th").is_empty() && of_word("07").is_empty() && of_word("250").is_empty());
    }

    #[test]
    fn compounds_joined_and_apart() {
        assert!(of_word("email").contains(&words(&["e", "mail"])));
        assert!(of_word("followup").contains(&words(&["follow", "up"])));
        assert_eq!(of_compound(&strings(&["e", "mail"])), [word("email")]);
        assert_eq!(of_compound(&strings(&["follow", "up"])), [word("followup")]);
        assert_eq!(splits("email").len(), 4);
        // Not for short words, long ones or numbers.
        assert!(splits("cat").is_empty() && splits(&"a".repeat(17)).is_empty() && splits("2024").is_empty());
    }
}
