//! Text handling shared by the file tools: binary sniffing, lossy decoding and cuts that never
//! split a UTF-8 character.

/// How many leading bytes are inspected to tell text from binary.
pub const SNIFF_BYTES: usize = 8192;

/// True when `bytes` look like binary data: a NUL byte in the sniffed prefix, the same rule git
/// and ripgrep use. UTF-16 text with a BOM is treated as binary too, since we serve UTF-8.
pub fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
    head.contains(&0)
}

/// Decodes bytes as UTF-8, replacing invalid sequences. The flag says whether any replacement
/// happened, so the caller can tell the model the text is not exact.
pub fn decode_lossy(bytes: &[u8]) -> (String, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), false),
        Err(_) => (String::from_utf8_lossy(bytes).into_owned(), true),
    }
}

/// The largest index `<= max` that lies on a character boundary of `s`.
pub fn floor_char_boundary(s: &str, max: usize) -> usize {
    if max >= s.len() {
        return s.len();
    }
    let mut i = max;
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Shortens `s` to at most `max` bytes on a character boundary, appending `…` when cut.
pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let cut = floor_char_boundary(s, max);
    format!("{}…", &s[..cut])
}

/// At most `max` characters of `s`, for quoting input back in a message: a longer text is cut
/// and says how much was left out (an error never echoes a huge name or method in full).
pub fn quote(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((cut, _)) => format!(
            "{}…({} more characters)",
            &s[..cut],
            s[cut..].chars().count()
        ),
    }
}

/// Human-readable byte count (`1.5 MiB`), for messages written to the model.
/// Bytes as lowercase hex, two digits each (digests, signatures, ids).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_are_cut_with_a_count() {
        assert_eq!(super::quote("short", 10), "short");
        assert_eq!(super::quote("ééééé", 2), "éé…(3 more characters)");
    }

    use super::*;

    #[test]
    fn binary_is_detected_by_nul() {
        assert!(looks_binary(b"abc\0def"));
        assert!(!looks_binary("héllo\n".as_bytes()));
    }

    #[test]
    fn cuts_respect_char_boundaries() {
        let s = "aé€😀";
        for max in 0..=s.len() {
            let cut = floor_char_boundary(s, max);
            assert!(s.is_char_boundary(cut));
            assert!(cut <= max);
        }
        assert_eq!(truncate_chars("héllo", 2), "h…");
        assert_eq!(truncate_chars("hi", 5), "hi");
    }

    #[test]
    fn lossy_decoding_reports_replacement() {
        assert_eq!(decode_lossy(b"ok"), ("ok".to_owned(), false));
        let (text, lossy) = decode_lossy(b"a\xffb");
        assert!(lossy);
        assert_eq!(text, "a\u{fffd}b");
    }

    #[test]
    fn bytes_are_humanised() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
