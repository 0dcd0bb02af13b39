//! Typo matching with the first letter as typed.
//!
//! tantivy's `FuzzyTermQuery` walks every branch of the term dictionary that
//! stays within the allowed edits, first letter included, and builds its
//! Levenshtein automaton again for each field. Keeping the first letter (what
//! Lucene calls a prefix length of 1, and what people rarely get wrong) confines
//! the walk to the words under that letter; one automaton serves every field.
//! Per query kind in the search bench, typo matching was most of a single rare
//! word's time.

use std::sync::{Arc, OnceLock};

use levenshtein_automata::{Distance, LevenshteinAutomatonBuilder, DFA, SINK_STATE};
use tantivy::query::{AutomatonWeight, EnableScoring, Query, Weight};
use tantivy::schema::Field;
use tantivy_fst::Automaton;

/// Words within `max_edits` of a word, counting a swap of two letters as one
/// edit, whose first letter is the word's own.
pub struct TypoAutomaton {
    /// The UTF-8 bytes of the first letter.
    first: Box<[u8]>,
    /// The rest of the word, within the edits.
    rest: DFA,
}

impl TypoAutomaton {
    /// `None` for a word too short to have anything after its first letter, or
    /// more edits than the two matching allows.
    pub fn new(word: &str, max_edits: u8) -> Option<TypoAutomaton> {
        let first = word.chars().next()?;
        let rest = &word[first.len_utf8()..];
        if rest.is_empty() {
            return None;
        }
        let builder = builder(max_edits)?;
        let mut bytes = [0; 4];
        Some(TypoAutomaton { first: first.encode_utf8(&mut bytes).as_bytes().into(), rest: builder.build_dfa(rest) })
    }
}

/// Building one of these takes a while (and is the same every time): once per distance.
fn builder(max_edits: u8) -> Option<&'static LevenshteinAutomatonBuilder> {
    static BUILDERS: [OnceLock<LevenshteinAutomatonBuilder>; 2] = [OnceLock::new(), OnceLock::new()];
    let cell = BUILDERS.get(usize::from(max_edits).checked_sub(1)?)?;
    Some(cell.get_or_init(|| LevenshteinAutomatonBuilder::new(max_edits, true)))
}

/// Where the automaton is: inside the first letter (bytes matched so far), in
/// the rest of the word, or off every matching path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypoState {
    First(usize),
    Rest(u32),
    Dead,
}

impl Automaton for TypoAutomaton {
    type State = TypoState;

    fn start(&self) -> TypoState {
        TypoState::First(0)
    }

    fn is_match(&self, state: &TypoState) -> bool {
        match *state {
            TypoState::Rest(at) => matches!(self.rest.distance(at), Distance::Exact(_)),
            _ => false,
        }
    }

    fn can_match(&self, state: &TypoState) -> bool {
        match *state {
            TypoState::First(_) => true,
            TypoState::Rest(at) => at != SINK_STATE,
            TypoState::Dead => false,
        }
    }

    fn accept(&self, state: &TypoState, byte: u8) -> TypoState {
        match *state {
            TypoState::First(i) if self.first[i] == byte => match i + 1 == self.first.len() {
                true => TypoState::Rest(self.rest.initial_state()),
                false => TypoState::First(i + 1),
            },
            TypoState::First(_) | TypoState::Dead => TypoState::Dead,
            TypoState::Rest(at) => TypoState::Rest(self.rest.transition(at, byte)),
        }
    }
}

/// The words of `field` that [`TypoAutomaton`] accepts, all scored alike (as
/// tantivy's fuzzy query scores them).
#[derive(Clone)]
pub struct TypoQuery {
    field: Field,
    automaton: Arc<TypoAutomaton>,
}

impl TypoQuery {
    pub fn new(field: Field, automaton: Arc<TypoAutomaton>) -> TypoQuery {
        TypoQuery { field, automaton }
    }
}

impl std::fmt::Debug for TypoQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypoQuery").field("field", &self.field).finish_non_exhaustive()
    }
}

impl Query for TypoQuery {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(AutomatonWeight::<TypoAutomaton>::new(self.field, self.automaton.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(automaton: &TypoAutomaton, word: &str) -> bool {
        let mut state = automaton.start();
        for &byte in word.as_bytes() {
            state = automaton.accept(&state, byte);
            if !automaton.can_match(&state) {
                return false;
            }
        }
        automaton.is_match(&state)
    }

    #[test]
    fn typos_after_the_first_letter_match() {
        let one = TypoAutomaton::new("roadmap", 1).unwrap();
        for word in ["roadmap", "roadmop", "raodmap", "roadmaps", "roadma", "rxoadmap"] {
            assert!(accepts(&one, word), "{word}");
        }
        for word in ["toadmap", "oadmap", "roadmxpx", "budget", "r", ""] {
            assert!(!accepts(&one, word), "{word}");
        }
        let two = TypoAutomaton::new("quarterly", 2).unwrap();
        assert!(accepts(&two, "qaurterly") && accepts(&two, "quartrely") && accepts(&two, "quartely"));
        assert!(!accepts(&two, "quarrelsome"));
    }

    #[test]
    fn a_first_letter_of_several_bytes_is_kept_whole() {
        let automaton = TypoAutomaton::new("été", 1).unwrap();
        assert!(accepts(&automaton, "été") && accepts(&automaton, "étè") && accepts(&automaton, "étés"));
        assert!(!accepts(&automaton, "ete") && !accepts(&automaton, "ûté"));
    }

    #[test]
    fn nothing_to_build_for_one_letter_or_too_many_edits() {
        assert!(TypoAutomaton::new("a", 1).is_none());
        assert!(TypoAutomaton::new("", 1).is_none());
        assert!(TypoAutomaton::new("roadmap", 0).is_none());
        assert!(TypoAutomaton::new("roadmap", 3).is_none());
    }
}
