//! An update's written description: plain text beside the video, e.g. a link
//! to the document it accompanies.

pub const MAX_DESCRIPTION_CHARS: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescriptionError {
    #[error("a description is at most {MAX_DESCRIPTION_CHARS} characters")]
    TooLong,
    #[error("a description has no control characters other than line breaks and tabs")]
    ControlCharacters,
}

/// Trimmed; line breaks kept (as `\n`); empty means none.
pub fn parse_description(raw: &str) -> Result<String, DescriptionError> {
    let text = raw.trim().replace("\r\n", "\n");
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(DescriptionError::TooLong);
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(DescriptionError::ControlCharacters);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_keep_lines_and_refuse_control_characters() {
        assert_eq!(
            parse_description("  Notes: https://docs.example/q3\r\nsecond line  ").unwrap(),
            "Notes: https://docs.example/q3\nsecond line"
        );
        assert_eq!(parse_description("   ").unwrap(), "");
        assert_eq!(parse_description("a\u{1b}[31m"), Err(DescriptionError::ControlCharacters));
        assert_eq!(parse_description(&"x".repeat(2001)), Err(DescriptionError::TooLong));
    }
}
