//! Channels: their names, the slugs that stand for them in URLs, and who may post.

use std::fmt;

pub const MAX_CHANNEL_NAME_CHARS: usize = 40;

/// The channel every workspace starts with, and the default for posting.
pub const GENERAL: &str = "general";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelNameError {
    #[error(
        "a channel name is 1 to {MAX_CHANNEL_NAME_CHARS} characters with at least one letter or digit, without control characters"
    )]
    Invalid,
}

/// A channel's name as people wrote it ("Team Berlin"), and its slug
/// ("team-berlin"): lower-case letters and digits, runs of anything else
/// become one `-`. Two names with one slug are one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelName {
    name: String,
    slug: String,
}

impl ChannelName {
    pub fn parse(raw: &str) -> Result<ChannelName, ChannelNameError> {
        let name = raw.trim().trim_start_matches('#').trim();
        if name.is_empty() || name.chars().count() > MAX_CHANNEL_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(ChannelNameError::Invalid);
        }
        let slug = slug_of(name);
        if slug.is_empty() {
            return Err(ChannelNameError::Invalid);
        }
        Ok(ChannelName { name: name.to_string(), slug })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn slug(&self) -> &str {
        &self.slug
    }
}

/// The slug a name or a typed reference (`General`, `#general`, `team-berlin`) stands for.
pub fn slug_of(name: &str) -> String {
    let mut slug = String::new();
    for c in name.trim().trim_start_matches('#').chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_string()
}

/// Who may post in a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posting {
    /// Everyone who can see the channel.
    Everyone,
    /// Its listed posters and admins only (e.g. leaders in Announcements).
    Listed,
}

impl Posting {
    pub fn as_str(self) -> &'static str {
        match self {
            Posting::Everyone => "everyone",
            Posting::Listed => "listed",
        }
    }

    pub fn parse(text: &str) -> Option<Posting> {
        [Posting::Everyone, Posting::Listed].into_iter().find(|p| p.as_str() == text)
    }
}

impl fmt::Display for Posting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_their_slugs() {
        let berlin = ChannelName::parse("  Team  Berlin! ").unwrap();
        assert_eq!((berlin.name(), berlin.slug()), ("Team  Berlin!", "team-berlin"));
        assert_eq!(ChannelName::parse("#General").unwrap().slug(), GENERAL);
        assert_eq!(slug_of("Équipe Zürich"), "équipe-zürich");
        assert_eq!(slug_of("#Q3 / planning"), "q3-planning");
        for bad in ["", "   ", "#", "---", "a\u{7}b", &"x".repeat(41)] {
            assert!(ChannelName::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Posting::parse("listed"), Some(Posting::Listed));
        assert_eq!(Posting::parse("leaders"), None);
    }
}
