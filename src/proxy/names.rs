//! Names the host sees for child tools and prompts, and the URIs of child resources. A name is
//! `{alias}__{name}` when that fits model providers' rule (`^[A-Za-z0-9_-]{1,64}$`); otherwise
//! it is shortened deterministically with a short hash of the original, so the same child
//! always gets the same names. The proxy keeps the reverse map; nothing is parsed back out of
//! a name. URIs get a prefix that is stripped again exactly.

use sha2::{Digest, Sha256};

/// Longest name model providers accept.
pub const MAX_NAME: usize = 64;
/// Scheme of a wrapped child resource URI: `proxy://{alias}/{original uri}`.
pub const URI_PREFIX: &str = "proxy://";

/// The exposed name of child item `name` under `alias`.
pub fn exposed(alias: &str, name: &str) -> String {
    let full = format!("{alias}__{name}");
    if full.len() <= MAX_NAME && full.chars().all(allowed) {
        return full;
    }
    let hash = short_hash(&format!("{alias}\0{name}"));
    let clean = |s: &str, max: usize| -> String {
        s.chars()
            .map(|c| if allowed(c) { c } else { '_' })
            .take(max)
            .collect()
    };
    let alias_part = clean(alias, 24);
    // alias + "__" + tool + "_" + 8 hex digits.
    let room = MAX_NAME - alias_part.len() - 2 - 1 - hash.len();
    format!("{alias_part}__{}_{hash}", clean(name, room))
}

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Eight hex digits of SHA-256.
pub fn short_hash(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    crate::support::text::hex(&digest[..4])
}

/// `proxy://{alias}/{uri}`.
pub fn wrap_uri(alias: &str, uri: &str) -> String {
    format!("{URI_PREFIX}{alias}/{uri}")
}

/// The alias and original URI of a wrapped one.
pub fn unwrap_uri(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix(URI_PREFIX)?;
    let (alias, original) = rest.split_once('/')?;
    (!alias.is_empty()).then_some((alias, original))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_kept_and_long_ones_shortened_deterministically() {
        assert_eq!(exposed("fs", "read_file"), "fs__read_file");
        let long = "a_really_long_tool_name_that_goes_on_and_on_and_on_forever_and_ever";
        let a = exposed("github", long);
        assert_eq!(a, exposed("github", long));
        assert!(a.len() <= MAX_NAME, "{a}");
        assert!(a.starts_with("github__a_really"));
        assert_ne!(a, exposed("github", &format!("{long}2")));
        // Characters providers refuse are replaced, and the hash keeps `a.b` and `a_b` apart.
        let dotted = exposed("srv", "a.b");
        assert!(dotted.chars().all(allowed));
        assert_ne!(dotted, exposed("srv", "a_b"));
        let long_alias = "x".repeat(100);
        assert!(exposed(&long_alias, "t").len() <= MAX_NAME);
    }

    #[test]
    fn uris_round_trip() {
        let w = wrap_uri("everything", "test://static/resource/1");
        assert_eq!(w, "proxy://everything/test://static/resource/1");
        assert_eq!(
            unwrap_uri(&w),
            Some(("everything", "test://static/resource/1"))
        );
        assert_eq!(unwrap_uri("file:///x"), None);
    }
}
