//! Regular expressions that come from outside (a model's search pattern or output filter, a
//! child server's schema, a declarative tool's parameter): compiled with a bounded program size
//! and a bounded lazy-DFA cache (`limits.max_regex_bytes`), so no pattern can take unbounded
//! memory or compile time. Matching stays linear in the input (the engines have no
//! backtracking); how long one search may run is the caller's limit.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `limits.max_regex_bytes` when no configuration set it.
pub const DEFAULT_LIMIT: usize = 2 * 1024 * 1024;

static LIMIT: AtomicUsize = AtomicUsize::new(DEFAULT_LIMIT);

/// Sets the process-wide limit (from `limits.max_regex_bytes`, once the settings are read).
pub fn set_limit(bytes: usize) {
    LIMIT.store(bytes.max(64 * 1024), Ordering::Relaxed);
}

/// The compiled-size and DFA-cache limit in force.
pub fn limit() -> usize {
    LIMIT.load(Ordering::Relaxed)
}

#[derive(Debug, thiserror::Error)]
pub enum RegexError {
    /// The pattern compiles to more than the limit.
    #[error(
        "the pattern compiles to more than {} (limits.max_regex_bytes); simplify it: fewer or smaller counted repetitions ({{1000}}), fewer alternatives, or search for a literal text",
        crate::support::text::human_bytes(*limit as u64)
    )]
    TooBig { limit: usize },
    #[error("{0}")]
    Invalid(String),
}

/// Compiles `pattern` under the limits.
pub fn compile(pattern: &str) -> Result<regex::Regex, RegexError> {
    let limit = limit();
    regex::RegexBuilder::new(pattern)
        .size_limit(limit)
        .dfa_size_limit(limit)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => RegexError::TooBig { limit },
            other => RegexError::Invalid(other.to_string()),
        })
}

/// The same limits for ripgrep's matcher (used by `search_content`).
pub fn limit_matcher(
    b: &mut grep_regex::RegexMatcherBuilder,
) -> &mut grep_regex::RegexMatcherBuilder {
    let limit = limit();
    b.size_limit(limit).dfa_size_limit(limit)
}

/// A matcher build error, with the size limit named when that is what failed (ripgrep's
/// matcher reports it only as text).
pub fn matcher_error(e: grep_regex::Error) -> RegexError {
    let text = e.to_string();
    if text.contains("size limit") {
        RegexError::TooBig { limit: limit() }
    } else {
        RegexError::Invalid(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_patterns_are_refused_quickly_and_say_which_limit() {
        // A counted repetition that would compile to hundreds of megabytes.
        let started = std::time::Instant::now();
        let e = compile(r"(\w{100}){1000}").unwrap_err();
        assert!(matches!(e, RegexError::TooBig { .. }), "{e}");
        assert!(e.to_string().contains("limits.max_regex_bytes"), "{e}");
        // A 64 KiB alternation of distinct words.
        let words: Vec<String> = (0..12000).map(|i| format!("w{i}x")).collect();
        let long = words.join("|");
        assert!(long.len() > 60_000);
        let _ = compile(&long);
        let mut b = grep_regex::RegexMatcherBuilder::new();
        let e = limit_matcher(&mut b)
            .build(r"(\w{100}){1000}")
            .map_err(matcher_error)
            .unwrap_err();
        assert!(matches!(e, RegexError::TooBig { .. }), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        assert!(compile("a+b").unwrap().is_match("aab"));
        assert!(matches!(compile("(").unwrap_err(), RegexError::Invalid(_)));
    }
}
