//! Update ids: 16 lowercase base32 characters, time-ordered, so "newest first"
//! is "largest id first" and the id itself is a stable pagination cursor.

use std::fmt;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz"; // Crockford, lowercase
const TIME_CHARS: usize = 9; // 45 bits of milliseconds: good until the year 3084
const RANDOM_CHARS: usize = 7; // 35 random bits per millisecond
pub const ID_LEN: usize = TIME_CHARS + RANDOM_CHARS;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct UpdateId(String);

impl UpdateId {
    pub fn generate(now_ms: i64) -> Self {
        let random: u64 = rand::random();
        let mut id = String::with_capacity(ID_LEN);
        push_base32(&mut id, now_ms.max(0) as u64, TIME_CHARS);
        push_base32(&mut id, random, RANDOM_CHARS);
        UpdateId(id)
    }

    /// Accept only well-formed ids, so a path segment never reaches storage
    /// keys or SQL as anything but 16 known characters.
    pub fn parse(text: &str) -> Option<Self> {
        let ok = text.len() == ID_LEN && text.bytes().all(|b| ALPHABET.contains(&b));
        ok.then(|| UpdateId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For ids read back from our own database.
    pub fn from_trusted(text: String) -> Self {
        UpdateId(text)
    }
}

impl fmt::Display for UpdateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn push_base32(out: &mut String, value: u64, chars: usize) {
    for i in (0..chars).rev() {
        let digit = (value >> (i * 5)) & 31;
        out.push(ALPHABET[digit as usize] as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time() {
        let a = UpdateId::generate(1_700_000_000_000);
        let b = UpdateId::generate(1_700_000_000_001);
        assert!(a < b);
        assert_eq!(a.as_str().len(), ID_LEN);
    }

    #[test]
    fn parse_accepts_only_generated_shapes() {
        let id = UpdateId::generate(42);
        assert_eq!(UpdateId::parse(id.as_str()), Some(id));
        assert_eq!(UpdateId::parse("../../etc/passwd"), None);
        assert_eq!(UpdateId::parse("ABCDEFGHJKMNPQRS"), None);
        assert_eq!(UpdateId::parse("0123456789abcdeu"), None);
        assert_eq!(UpdateId::parse(""), None);
    }
}
