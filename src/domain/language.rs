//! The spoken language an uploader declares for an update.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LanguageError {
    #[error("{0:?} is not a language code whisper knows (use ISO 639-1, such as `en` or `de`)")]
    Unknown(String),
    #[error("this server's speech model only understands English, so an update in {0:?} cannot be transcribed")]
    Unsupported(String),
}

impl LanguageError {
    pub fn code(&self) -> &'static str {
        match self {
            LanguageError::Unknown(_) => "unknown_language",
            LanguageError::Unsupported(_) => "language_unsupported",
        }
    }
}

/// The declared language, checked: `None` (empty or `auto`) lets whisper tell;
/// `known` says whether whisper knows a code; an English-only model takes English only.
pub fn parse_language(
    raw: &str,
    known: impl Fn(&str) -> bool,
    multilingual: bool,
) -> Result<Option<String>, LanguageError> {
    let code = raw.trim().to_ascii_lowercase();
    if code.is_empty() || code == "auto" {
        return Ok(None);
    }
    if !known(&code) {
        return Err(LanguageError::Unknown(raw.trim().chars().take(32).collect()));
    }
    if !multilingual && code != "en" {
        return Err(LanguageError::Unsupported(code));
    }
    Ok(Some(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: [&str; 3] = ["en", "de", "fr"];

    #[test]
    fn declared_languages_are_checked_against_the_model() {
        let known = |c: &str| KNOWN.contains(&c);
        assert_eq!(parse_language(" DE ", known, true), Ok(Some("de".into())));
        assert_eq!(parse_language("auto", known, false), Ok(None));
        assert_eq!(parse_language("", known, false), Ok(None));
        assert_eq!(parse_language("en", known, false), Ok(Some("en".into())));
        assert_eq!(parse_language("fr", known, false).unwrap_err().code(), "language_unsupported");
        assert_eq!(parse_language("klingon", known, true).unwrap_err().code(), "unknown_language");
    }
}
