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

/// Text from a model made safe to show a person outside a terminal-free, markup-free channel
/// (a notification, a confirmation question): terminal escape sequences (CSI, OSC and the
/// two-character ones) are removed whole, other control characters dropped (tab kept, and
/// line breaks when `lines`), and the bidirectional overrides and isolates that make text
/// read differently from what it is (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C)
/// removed.
pub fn display_safe(s: &str, lines: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                // CSI: parameters and intermediates up to a final byte 0x40–0x7E.
                Some('[') => {
                    for f in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&f) {
                            break;
                        }
                    }
                }
                // OSC, DCS, SOS, PM, APC: up to BEL or ST (ESC \\).
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    while let Some(f) = chars.next() {
                        if f == '\u{7}' {
                            break;
                        }
                        if f == '\u{1b}' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\n' if lines => out.push('\n'),
            '\r' if lines => {}
            '\t' => out.push('\t'),
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => {}
            '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{061c}' => {}
            c => out.push(c),
        }
    }
    out
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

    #[test]
    fn display_safe_removes_escapes_controls_and_direction_overrides() {
        let hostile = "Build \u{1b}[31mFAILED\u{1b}[0m\u{7}\u{1b}]8;;http://x\u{7}link\u{1b}]8;;\u{1b}\\ \u{202e}gpj.exe\u{202c}\u{0}\r\nnext\tcol";
        assert_eq!(
            display_safe(hostile, true),
            "Build FAILEDlink gpj.exe\nnext\tcol"
        );
        assert_eq!(display_safe("a\nb\u{2067}c", false), "a bc");
        assert_eq!(display_safe("naïve ☃ 日本", true), "naïve ☃ 日本");
    }
}
