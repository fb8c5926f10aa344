//! `file://` URIs and paths: one decoder for every place a URI may stand for a path (tool
//! arguments, resources, subscriptions, client roots), so percent escapes mean the same
//! everywhere and are decoded before any check looks at the path.

/// Turns a `file://` URI into a path, decoding percent escapes. `None` when it is not one.
pub fn file_uri_to_path(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Percent-encodes everything but the unreserved characters (RFC 3986), so a value stays one
/// path segment or one query value whatever it contains.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A path as a `file://` URI (spaces and `%` escaped).
pub fn path_to_file_uri(path: &std::path::Path) -> String {
    let s = path.to_string_lossy();
    let mut out = String::from("file://");
    for c in s.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '%' => out.push_str("%25"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_percent_encoded() {
        assert_eq!(percent_encode("a b/?#&=é"), "a%20b%2F%3F%23%26%3D%C3%A9");
    }

    #[test]
    fn file_uris_round_trip() {
        assert_eq!(
            file_uri_to_path("file:///a%20b/c.txt").as_deref(),
            Some("/a b/c.txt")
        );
        assert_eq!(
            file_uri_to_path("file://localhost/x").as_deref(),
            Some("/x")
        );
        assert_eq!(file_uri_to_path("http://x"), None);
        let p = std::path::Path::new("/a b/50%.txt");
        assert_eq!(
            file_uri_to_path(&path_to_file_uri(p)).as_deref(),
            Some("/a b/50%.txt")
        );
    }
}
