//! Token counts as a model sees them (the cl100k encoding): what the tool catalogue costs a
//! model's context, for `switchboard tools --tokens` and the budget test. Building the encoder
//! takes tens of milliseconds and about 25 MB, so the server itself never builds it: `auto`
//! exposure uses [`estimate`].

use std::sync::OnceLock;

use tiktoken_rs::CoreBPE;

fn encoder() -> Option<&'static CoreBPE> {
    static ENCODER: OnceLock<Option<CoreBPE>> = OnceLock::new();
    ENCODER
        .get_or_init(|| match tiktoken_rs::cl100k_base() {
            Ok(bpe) => Some(bpe),
            Err(e) => {
                tracing::warn!(error = %e, "the token encoder could not be built; counting about four bytes a token");
                None
            }
        })
        .as_ref()
}

/// How many tokens `text` is (an estimate of a quarter of its bytes if the encoder failed).
pub fn count(text: &str) -> usize {
    match encoder() {
        Some(bpe) => bpe.encode_ordinary(text).len(),
        None => text.len().div_ceil(4),
    }
}

/// A quarter of the bytes: cl100k spends about 4.5 bytes a token on tool schemas, so this errs
/// a little high, towards the compact list.
pub fn estimate(text: &str) -> usize {
    estimate_bytes(text.len())
}

/// [`estimate`] for a text of `len` bytes.
pub fn estimate_bytes(len: usize) -> usize {
    len.div_ceil(4)
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_cl100k_tokens() {
        assert_eq!(super::count("hello world"), 2);
        assert_eq!(super::count(""), 0);
        let schema = r#"{"name":"read_file","description":"Read a text file, paged.","inputSchema":{"type":"object","properties":{"path":{"type":"string"}}}}"#;
        let exact = super::count(schema);
        assert!(exact > 20, "{exact}");
        assert!(super::estimate(schema) >= exact, "the estimate errs high");
    }
}
