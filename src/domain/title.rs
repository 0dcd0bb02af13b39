//! A validated update title.

pub const MAX_TITLE_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TitleError {
    #[error("the title is empty")]
    Empty,
    #[error("the title is longer than {MAX_TITLE_CHARS} characters")]
    TooLong,
    #[error("the title contains control characters")]
    ControlCharacters,
}

impl Title {
    /// Trim surrounding whitespace; refuse empty, over-long or control-character titles
    /// (they would break captions, logs and terminal output).
    pub fn parse(raw: &str) -> Result<Title, TitleError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(TitleError::Empty);
        }
        if trimmed.chars().count() > MAX_TITLE_CHARS {
            return Err(TitleError::TooLong);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(TitleError::ControlCharacters);
        }
        Ok(Title(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_titles() {
        assert_eq!(Title::parse("  Q3 plan  ").unwrap().as_str(), "Q3 plan");
        assert_eq!(Title::parse("   "), Err(TitleError::Empty));
        assert_eq!(Title::parse(&"x".repeat(201)), Err(TitleError::TooLong));
        assert!(Title::parse(&"é".repeat(200)).is_ok());
        assert_eq!(Title::parse("a\u{0}b"), Err(TitleError::ControlCharacters));
        assert_eq!(Title::parse("a\nb"), Err(TitleError::ControlCharacters));
    }
}
