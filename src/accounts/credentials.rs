//! Secrets and what is kept of them: argon2id hashes of passwords, SHA-256
//! digests of the random secrets behind API tokens and session cookies.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Every API token starts with this, so secret scanners can recognise one.
pub const TOKEN_PREFIX: &str = "bt_";

#[derive(Debug, thiserror::Error)]
#[error("cannot hash the password: {0}")]
pub struct HashError(String);

/// An argon2id PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) with the
/// crate's default cost (19 MiB, 2 passes, OWASP's baseline). The parameters
/// travel in the string, so raising them later leaves old hashes verifiable.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// [`hash_password`] on a blocking thread: it takes tens of milliseconds of
/// CPU, which must not stall the async workers serving other requests.
pub async fn hash_password_off_thread(password: &str) -> Result<String, HashError> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .unwrap_or_else(|e| Err(HashError(e.to_string())))
}

/// Whether `candidate` is the password behind `phc`; false for a malformed hash.
/// The comparison inside is constant-time.
pub fn verify_password(phc: &str, candidate: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| Argon2::default().verify_password(candidate.as_bytes(), &parsed).is_ok())
}

/// A PHC string for a password nobody knows. Verifying against it when a login
/// name does not exist costs what a real check costs, so timing does not tell
/// which names exist.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_text(32)).unwrap_or_default())
}

/// A new secret, shown once, and the digest that is stored instead of it.
pub struct NewSecret {
    pub plaintext: String,
    pub digest: String,
}

/// An API token: `bt_` and 256 random bits in URL-safe base64.
pub fn new_api_token() -> NewSecret {
    let plaintext = format!("{TOKEN_PREFIX}{}", random_text(32));
    NewSecret { digest: secret_digest(&plaintext), plaintext }
}

/// A session cookie's value: 256 random bits in URL-safe base64.
pub fn new_session_secret() -> NewSecret {
    let plaintext = random_text(32);
    NewSecret { digest: secret_digest(&plaintext), plaintext }
}

/// What the database keeps of a token or session secret: its SHA-256, in hex.
/// A fast hash is enough here: these secrets are 256 random bits, not words a
/// person chose, and the digest is looked up, never compared byte by byte.
pub fn secret_digest(plaintext: &str) -> String {
    Sha256::digest(plaintext.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The CSRF token of the session whose cookie holds `session_secret`: pages
/// send it back in `X-CSRF-Token`. Derived, so nothing more is stored; another
/// site can make a browser send the session cookie but cannot read or compute this.
pub fn csrf_token(session_secret: &str) -> String {
    let digest = Sha256::new().chain_update(b"bulletin csrf\0").chain_update(session_secret.as_bytes()).finalize();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// A password for a new account when none was given: 20 characters from an
/// alphabet without look-alikes (about 110 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    // Bytes past the last whole multiple of the alphabet are drawn again, so
    // every character is equally likely.
    let limit = 256 - 256 % ALPHABET.len();
    let mut out = String::with_capacity(20);
    while out.len() < 20 {
        let mut byte = [0u8; 1];
        OsRng.fill_bytes(&mut byte);
        if usize::from(byte[0]) < limit {
            out.push(ALPHABET[usize::from(byte[0]) % ALPHABET.len()] as char);
        }
    }
    out
}

/// `bytes` random bytes in URL-safe base64.
pub fn random_text(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    OsRng.fill_bytes(&mut raw);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_argon2id_phc_strings_that_verify() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m="), "{phc}");
        assert!(verify_password(&phc, "correct horse battery"));
        assert!(!verify_password(&phc, "correct horse battery "));
        assert!(!verify_password("not a hash", "correct horse battery"));
        assert_ne!(phc, hash_password("correct horse battery").unwrap(), "salted");
        assert!(!verify_password(decoy_hash(), ""));
    }

    #[test]
    fn tokens_are_prefixed_random_and_stored_as_digests() {
        let a = new_api_token();
        let b = new_api_token();
        assert!(a.plaintext.starts_with("bt_") && a.plaintext.len() == 3 + 43, "{}", a.plaintext);
        assert_ne!(a.plaintext, b.plaintext);
        assert_eq!(a.digest, secret_digest(&a.plaintext));
        assert_eq!(a.digest.len(), 64);
        assert!(!a.digest.contains(&a.plaintext[3..]));
        let session = new_session_secret();
        assert_eq!(session.plaintext.len(), 43);
        assert_eq!(csrf_token(&session.plaintext), csrf_token(&session.plaintext));
        assert_ne!(csrf_token(&session.plaintext), csrf_token(&new_session_secret().plaintext));
        assert!(!csrf_token(&session.plaintext).contains(&session.plaintext));
        let password = generate_password();
        assert_eq!(password.chars().count(), 20);
        assert!(password.chars().all(|c| c.is_ascii_alphanumeric() && !"0O1lI".contains(c)), "{password}");
    }
}
