//! The tokenizer vocabulary, from CTranslate2's `vocabulary.txt` to whisper.cpp's raw bytes.
//!
//! `vocabulary.txt` holds one token per line, id = line number, in GPT-2's byte-level form
//! (every byte mapped to a printable character, e.g. a leading space becomes `Ġ`), followed
//! by the special tokens (`<|endoftext|>`, `<|startoftranscript|>`, languages, timestamps).
//! whisper.cpp wants only the ordinary BPE tokens, as raw bytes, exactly like OpenAI's
//! tiktoken files list them (50256 for English-only models, 50257 for multilingual ones);
//! it recreates the special tokens itself from the model's `n_vocab`.
use std::collections::HashMap;

use super::ModelError;

/// The first special token: everything before it is an ordinary BPE token.
const END_OF_TEXT: &str = "<|endoftext|>";

#[derive(Debug, Clone)]
pub struct Vocabulary {
    /// All ids the model knows, special tokens included (the embedding's row count).
    pub n_vocab: usize,
    /// Raw bytes of the ordinary tokens, indexed by id.
    pub tokens: Vec<Vec<u8>>,
}

/// Parse `vocabulary.txt`.
pub fn parse_vocabulary(text: &str) -> Result<Vocabulary, ModelError> {
    let lines: Vec<&str> = text.lines().collect();
    let eot = lines
        .iter()
        .position(|line| *line == END_OF_TEXT)
        .ok_or_else(|| ModelError::BadCt2(format!("vocabulary.txt has no {END_OF_TEXT} token")))?;
    let decoder = byte_decoder();
    let tokens = lines[..eot]
        .iter()
        .enumerate()
        .map(|(id, token)| {
            token
                .chars()
                .map(|c| decoder.get(&c).copied())
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(|| {
                    ModelError::BadCt2(format!("token {id} ({token:?}) is not byte-level BPE"))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Vocabulary {
        n_vocab: lines.len(),
        tokens,
    })
}

/// GPT-2's byte ↔ character table, reversed: printable Latin-1 bytes stand for themselves,
/// the other 68 bytes (controls, space, ...) were moved to U+0100 onwards in byte order.
fn byte_decoder() -> HashMap<char, u8> {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    let mut table = HashMap::with_capacity(256);
    let mut next_shifted = 0x100u32;
    for byte in 0..=255u8 {
        let c = if printable(byte) {
            char::from(byte)
        } else {
            let shifted = char::from_u32(next_shifted).unwrap_or(char::REPLACEMENT_CHARACTER);
            next_shifted += 1;
            shifted
        };
        table.insert(c, byte);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_byte_level_tokens() {
        let text = "!\nĠthe\nĊ\nÃ©\n<|endoftext|>\n<|startoftranscript|>\n";
        let vocab = parse_vocabulary(text).expect("valid");
        assert_eq!(vocab.n_vocab, 6);
        assert_eq!(
            vocab.tokens,
            vec![
                b"!".to_vec(),
                b" the".to_vec(),
                b"\n".to_vec(),
                "é".as_bytes().to_vec()
            ]
        );
    }

    #[test]
    fn table_is_a_bijection() {
        let table = byte_decoder();
        assert_eq!(table.len(), 256);
        assert_eq!(table[&'Ġ'], b' ');
        assert_eq!(table[&'Ā'], 0);
    }

    #[test]
    fn rejects_vocabulary_without_special_tokens() {
        assert!(matches!(
            parse_vocabulary("a\nb\n"),
            Err(ModelError::BadCt2(_))
        ));
    }

    #[test]
    fn rejects_characters_outside_the_byte_table() {
        assert!(matches!(
            parse_vocabulary("€\n<|endoftext|>\n"),
            Err(ModelError::BadCt2(_))
        ));
    }
}
