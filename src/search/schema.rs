//! The index layout: one document per transcript segment, plus one per title.

use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer};
use tantivy::Index;

/// Words are split on non-alphanumerics, lower-cased and ASCII-folded
/// ("Café" finds "cafe"); no stemming, so prefix and typo matching and the
/// highlighter all see the words as spoken.
pub const ANALYZER: &str = "bulletin_words";

#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub update_id: Field,
    /// [`update_key`] of the update id, in a fast column: search tells most
    /// candidates apart by it without reading them from the document store.
    pub update_key: Field,
    /// The id of the update's channel, indexed: a search is limited to the
    /// channels its person may see inside the query, so limits, ranking and
    /// counts never reveal what they may not.
    pub channel: Field,
    /// `segment` or `title`.
    pub doc_kind: Field,
    /// Indexed on title documents only, so a title word does not match every
    /// segment. The description's words are indexed here too: it is searched
    /// like the title.
    pub title: Field,
    /// Stored on every document (like the title), to show with a hit.
    pub description: Field,
    /// Stored on every document, to show the hit's title.
    pub display_title: Field,
    pub text: Field,
    pub start_ms: Field,
    pub end_ms: Field,
    /// When each whitespace-separated word of `text` starts (ms, comma separated), where known.
    pub word_starts: Field,
}

pub const KIND_SEGMENT: &str = "segment";
/// A comment, at its moment (0 for one on the whole update).
pub const KIND_COMMENT: &str = "comment";
pub const KIND_TITLE: &str = "title";

pub fn build_schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let words = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let time = NumericOptions::default().set_stored().set_fast();
    let fields = Fields {
        update_id: builder.add_text_field("update_id", STRING | STORED),
        update_key: builder.add_u64_field("update_key", FAST),
        channel: builder.add_u64_field("channel", INDEXED | FAST),
        doc_kind: builder.add_text_field("kind", STRING | STORED),
        title: builder.add_text_field("title", words.clone()),
        display_title: builder.add_text_field("display_title", STORED),
        description: builder.add_text_field("description", STORED),
        text: builder.add_text_field("text", words),
        start_ms: builder.add_u64_field("start_ms", time.clone()),
        end_ms: builder.add_u64_field("end_ms", time),
        word_starts: builder.add_text_field("word_starts", STORED),
    };
    (builder.build(), fields)
}

/// A 64-bit FNV-1a hash of an update id. It is stored in the index, so it must
/// not change between builds (std's hashers may).
pub fn update_key(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

pub fn register_analyzer(index: &Index) {
    index.tokenizers().register(ANALYZER, analyzer());
}

/// The analysed words of `text` with their byte offsets in it.
pub fn words_with_offsets(text: &str) -> Vec<(String, usize, usize)> {
    let mut analyzer = analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut words = Vec::new();
    while stream.advance() {
        let token = stream.token();
        words.push((token.text.clone(), token.offset_from, token.offset_to));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_key_is_the_published_fnv1a() {
        // FNV-1a test vectors: keys already in an index must keep meaning the same ids.
        assert_eq!(update_key(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(update_key("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(update_key("foobar"), 0x8594_4171_f739_67e8);
    }
}
