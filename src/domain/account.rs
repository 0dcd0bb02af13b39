//! People: roles, login names, display names and the password policy.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages people (invites, disables, resets passwords) and everything members do.
    Admin,
    /// Posts, watches, searches.
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        [Role::Admin, Role::Member].into_iter().find(|r| r.as_str() == text)
    }
}

pub const MIN_LOGIN_CHARS: usize = 2;
pub const MAX_LOGIN_CHARS: usize = 32;
pub const MAX_DISPLAY_NAME_CHARS: usize = 80;
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Long enough for any passphrase, short enough that hashing it is no denial of service.
pub const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error(
        "a login name is {MIN_LOGIN_CHARS} to {MAX_LOGIN_CHARS} characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
    )]
    InvalidLogin,
    #[error("a display name is 1 to {MAX_DISPLAY_NAME_CHARS} characters, without control characters")]
    InvalidDisplayName,
    #[error("a password has at least {MIN_PASSWORD_CHARS} characters")]
    PasswordTooShort,
    #[error("a password has at most {MAX_PASSWORD_BYTES} bytes")]
    PasswordTooLong,
}

/// How a person signs in (`ada`, `j.smith`): lower-case so `Ada` and `ada`
/// are one account, and safe to show in URLs, logs and `@mentions`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct LoginName(String);

impl LoginName {
    /// Trimmed and lower-cased, then checked.
    pub fn parse(raw: &str) -> Result<LoginName, AccountError> {
        let login = raw.trim().to_lowercase();
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-');
        let starts_well = login.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let length = login.chars().count();
        if !starts_well || !login.chars().all(allowed) || !(MIN_LOGIN_CHARS..=MAX_LOGIN_CHARS).contains(&length) {
            return Err(AccountError::InvalidLogin);
        }
        Ok(LoginName(login))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For names read back from our own database.
    pub fn from_trusted(text: String) -> LoginName {
        LoginName(text)
    }
}

impl fmt::Display for LoginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a person is shown (`Ada Lovelace`).
pub fn display_name(raw: &str) -> Result<String, AccountError> {
    let name = raw.trim();
    let length = name.chars().count();
    if length == 0 || length > MAX_DISPLAY_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(AccountError::InvalidDisplayName);
    }
    Ok(name.to_string())
}

/// A password as typed: kept exactly (spaces count), only its length is checked.
pub fn check_password(password: &str) -> Result<(), AccountError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AccountError::PasswordTooLong);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooShort);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_names_are_lower_case_and_plain() {
        assert_eq!(LoginName::parse("  Ada ").unwrap().as_str(), "ada");
        assert_eq!(LoginName::parse("j.smith-2_b").unwrap().as_str(), "j.smith-2_b");
        for bad in ["", "a", "-ada", ".ada", "ada lovelace", "ada@example", "émile", &"a".repeat(33)] {
            assert_eq!(LoginName::parse(bad), Err(AccountError::InvalidLogin), "{bad:?}");
        }
    }

    #[test]
    fn display_names_and_passwords() {
        assert_eq!(display_name("  Ada Lovelace ").unwrap(), "Ada Lovelace");
        assert_eq!(display_name(" "), Err(AccountError::InvalidDisplayName));
        assert_eq!(display_name("a\u{7}b"), Err(AccountError::InvalidDisplayName));
        assert_eq!(check_password("short"), Err(AccountError::PasswordTooShort));
        assert_eq!(check_password(&"x".repeat(1025)), Err(AccountError::PasswordTooLong));
        assert!(check_password("correct horse").is_ok());
        assert_eq!(Role::parse("admin"), Some(Role::Admin));
        assert_eq!(Role::parse("root"), None);
    }
}
