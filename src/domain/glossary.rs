//! The workspace glossary: names and jargon (product names, acronyms, people)
//! that whisper should spell the way the team does. It reaches whisper as its
//! initial prompt, which the decoder reads as text said just before the audio.

/// Longest single term.
pub const MAX_TERM_CHARS: usize = 60;
/// Most terms in a glossary. whisper reads far fewer at a time (its prompt
/// window holds about 224 tokens): transcription gives it as many whole terms
/// as fit, in the glossary's order, and records which.
pub const MAX_TERMS: usize = 1000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Glossary(Vec<String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlossaryError {
    #[error("term {0} is empty")]
    EmptyTerm(usize),
    #[error("term {0} is longer than {MAX_TERM_CHARS} characters")]
    TermTooLong(usize),
    #[error("term {0} contains control characters")]
    ControlCharacters(usize),
    #[error("a glossary holds at most {MAX_TERMS} terms")]
    TooManyTerms,
}

impl Glossary {
    /// Trim each term; refuse empty, over-long or control-character terms
    /// (numbered from 1 in errors); drop repeats, ignoring case, keeping the first spelling.
    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Glossary, GlossaryError> {
        if raw.len() > MAX_TERMS {
            return Err(GlossaryError::TooManyTerms);
        }
        let mut terms: Vec<String> = Vec::with_capacity(raw.len());
        for (i, term) in raw.iter().enumerate() {
            let term = term.as_ref().trim();
            let number = i + 1;
            if term.is_empty() {
                return Err(GlossaryError::EmptyTerm(number));
            }
            if term.chars().count() > MAX_TERM_CHARS {
                return Err(GlossaryError::TermTooLong(number));
            }
            if term.chars().any(char::is_control) {
                return Err(GlossaryError::ControlCharacters(number));
            }
            if !terms.iter().any(|t| t.to_lowercase() == term.to_lowercase()) {
                terms.push(term.to_string());
            }
        }
        Ok(Glossary(terms))
    }

    /// Terms as stored earlier (already validated).
    pub fn from_trusted(terms: Vec<String>) -> Glossary {
        Glossary(terms)
    }

    pub fn terms(&self) -> &[String] {
        &self.0
    }
}

/// Words a correction brought into a line (`old` → `new`) that look like the
/// team's own names or jargon (a capital letter or a digit, three characters
/// or more) and are not in the glossary (`terms`): worth offering as terms.
pub fn candidates_from_correction(old: &str, new: &str, terms: &[String]) -> Vec<String> {
    let clean = |w: &str| w.trim_matches(|c: char| !c.is_alphanumeric()).to_string();
    let had: Vec<String> = old.split_whitespace().map(|w| clean(w).to_lowercase()).collect();
    let mut found: Vec<String> = Vec::new();
    for word in new.split_whitespace().map(clean) {
        let lower = word.to_lowercase();
        let looks_like_a_name =
            word.chars().count() >= 3 && word.chars().any(|c| c.is_uppercase() || c.is_ascii_digit());
        if looks_like_a_name
            && !had.contains(&lower)
            && !terms.iter().any(|t| t.to_lowercase() == lower)
            && !found.iter().any(|f| f.to_lowercase() == lower)
        {
            found.push(word);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_correction_offers_its_new_names_as_terms() {
        let terms = vec!["OKR".to_string()];
        let offered = candidates_from_correction(
            "we launch zorblacks today",
            "We launch Zorblax today, with OKR and K8s.",
            &terms,
        );
        assert_eq!(offered, ["Zorblax", "K8s"], "We was there already (any case), OKR is a term");
        assert!(candidates_from_correction("the plan", "the plan.", &terms).is_empty());
    }

    #[test]
    fn trims_and_drops_repeats_keeping_the_first_spelling() {
        let glossary = Glossary::parse(&[" Zorblax ", "OKR", "zorblax", "Kubernetes"]).unwrap();
        assert_eq!(glossary.terms(), ["Zorblax", "OKR", "Kubernetes"]);
        assert!(Glossary::parse::<&str>(&[]).unwrap().terms().is_empty());
    }

    #[test]
    fn refuses_what_whisper_could_not_use() {
        assert_eq!(Glossary::parse(&["ok", "  "]), Err(GlossaryError::EmptyTerm(2)));
        assert_eq!(Glossary::parse(&["x".repeat(61)]), Err(GlossaryError::TermTooLong(1)));
        assert_eq!(Glossary::parse(&["a\nb"]), Err(GlossaryError::ControlCharacters(1)));
        let many: Vec<String> = (0..=MAX_TERMS).map(|i| format!("t{i}")).collect();
        assert_eq!(Glossary::parse(&many), Err(GlossaryError::TooManyTerms));
        // Far more than whisper reads at once is fine: transcription picks from it.
        let long: Vec<String> = (0..MAX_TERMS).map(|i| format!("{i:04}{}", "y".repeat(56))).collect();
        assert_eq!(Glossary::parse(&long).map(|g| g.terms().len()), Ok(MAX_TERMS));
        assert!(Glossary::parse(&["é".repeat(60)]).is_ok());
    }
}
