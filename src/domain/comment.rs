//! Replies in writing: a comment's text, the moment it is about, the people it
//! mentions, and the reactions one may leave.

pub const MAX_COMMENT_CHARS: usize = 10_000;

/// The reactions on offer: a small fixed set, so counts stay readable.
pub const REACTIONS: [&str; 6] = ["👍", "❤️", "🎉", "😄", "🤔", "👀"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommentError {
    #[error("a comment cannot be empty")]
    Empty,
    #[error("a comment is at most {MAX_COMMENT_CHARS} characters")]
    TooLong,
    #[error("a comment has no control characters other than line breaks and tabs")]
    ControlCharacters,
    #[error("{at_ms} ms is not a moment of this update, which lasts {duration_ms} ms")]
    OutsideTheVideo { at_ms: u64, duration_ms: u64 },
    #[error("{0:?} is not one of the reactions on offer ({list})", list = REACTIONS.join(" "))]
    UnknownReaction(String),
}

impl CommentError {
    /// The machine-readable code of each refusal.
    pub fn code(&self) -> &'static str {
        match self {
            CommentError::Empty => "empty_comment",
            CommentError::TooLong => "comment_too_long",
            CommentError::ControlCharacters => "invalid_comment",
            CommentError::OutsideTheVideo { .. } => "moment_outside_video",
            CommentError::UnknownReaction(_) => "unknown_reaction",
        }
    }
}

/// Trimmed, line breaks kept (as `\n`); never empty.
pub fn parse_comment(raw: &str) -> Result<String, CommentError> {
    let text = raw.trim().replace("\r\n", "\n");
    if text.is_empty() {
        return Err(CommentError::Empty);
    }
    if text.chars().count() > MAX_COMMENT_CHARS {
        return Err(CommentError::TooLong);
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(CommentError::ControlCharacters);
    }
    Ok(text)
}

/// A moment of an update lasting `duration_ms` (its very end included).
pub fn parse_moment(at_ms: u64, duration_ms: u64) -> Result<u64, CommentError> {
    if at_ms > duration_ms {
        return Err(CommentError::OutsideTheVideo { at_ms, duration_ms });
    }
    Ok(at_ms)
}

/// One of [`REACTIONS`] (an emoji sent with or without its variation selector).
pub fn parse_reaction(raw: &str) -> Result<&'static str, CommentError> {
    let bare = |s: &str| s.trim().trim_end_matches('\u{fe0f}').to_string();
    REACTIONS.iter().copied().find(|r| bare(r) == bare(raw)).ok_or_else(|| CommentError::UnknownReaction(raw.into()))
}

/// The logins `@named` in `text`, lower-cased, each once, in order. A mention
/// ends at anything a login cannot hold; an `@` inside a word (an e-mail
/// address) is not one.
pub fn mentioned_logins(text: &str) -> Vec<String> {
    let mut logins: Vec<String> = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c != '@' || (i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '.')) {
            continue;
        }
        let login: String = chars[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            .collect::<String>()
            .trim_end_matches(['.', '-'])
            .to_ascii_lowercase();
        if !login.is_empty() && !logins.contains(&login) {
            logins.push(login);
        }
    }
    logins
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_trimmed_bounded_and_plain() {
        assert_eq!(parse_comment("  When?\r\nAnd where?  ").unwrap(), "When?\nAnd where?");
        assert_eq!(parse_comment(" \n "), Err(CommentError::Empty));
        assert_eq!(parse_comment(&"x".repeat(10_001)), Err(CommentError::TooLong));
        assert!(parse_comment(&"x".repeat(10_000)).is_ok());
        assert_eq!(parse_comment("a\u{7}b"), Err(CommentError::ControlCharacters));
    }

    #[test]
    fn moments_lie_within_the_video() {
        assert_eq!(parse_moment(0, 1000), Ok(0));
        assert_eq!(parse_moment(1000, 1000), Ok(1000));
        assert_eq!(parse_moment(1001, 1000).unwrap_err().code(), "moment_outside_video");
    }

    #[test]
    fn reactions_come_from_the_set() {
        assert_eq!(parse_reaction("👍"), Ok("👍"));
        assert_eq!(parse_reaction("❤"), Ok("❤️"), "without the variation selector");
        assert_eq!(parse_reaction("💩").unwrap_err().code(), "unknown_reaction");
    }

    #[test]
    fn mentions_are_logins_after_an_at() {
        assert_eq!(mentioned_logins("@Bea and @cal.d, see mail@example.com. @bea again"), ["bea", "cal.d"]);
        assert_eq!(mentioned_logins("@ nobody, @-"), Vec::<String>::new());
    }
}
