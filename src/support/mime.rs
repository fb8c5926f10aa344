//! MIME types from file names, with a content check for the common image and audio formats so a
//! misnamed file is still served with the type it really has.

use std::path::Path;

/// The MIME type for a file, from its magic bytes when they are recognised, else its extension,
/// else `text/plain` or `application/octet-stream` depending on `is_text`.
pub fn detect(path: &Path, head: &[u8], is_text: bool) -> String {
    if let Some(m) = sniff(head) {
        return m.to_owned();
    }
    if let Some(m) = mime_guess::from_path(path).first_raw() {
        return m.to_owned();
    }
    if is_text {
        "text/plain".to_owned()
    } else {
        "application/octet-stream".to_owned()
    }
}

fn sniff(b: &[u8]) -> Option<&'static str> {
    let starts = |p: &[u8]| b.starts_with(p);
    Some(if starts(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if starts(b"\xff\xd8\xff") {
        "image/jpeg"
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "image/gif"
    } else if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        "image/webp"
    } else if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WAVE" {
        "audio/wav"
    } else if starts(b"OggS") {
        "audio/ogg"
    } else if starts(b"fLaC") {
        "audio/flac"
    } else if starts(b"ID3") || (b.len() >= 2 && b[0] == 0xff && (b[1] & 0xe0) == 0xe0) {
        "audio/mpeg"
    } else if starts(b"%PDF-") {
        "application/pdf"
    } else if starts(b"PK\x03\x04") {
        "application/zip"
    } else {
        return None;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_beats_extension() {
        assert_eq!(
            detect(Path::new("x.txt"), b"\x89PNG\r\n\x1a\nrest", false),
            "image/png"
        );
        assert_eq!(detect(Path::new("a.rs"), b"fn main", true), "text/x-rust");
        assert_eq!(detect(Path::new("noext"), b"hello", true), "text/plain");
        assert_eq!(
            detect(Path::new("noext"), b"\0\0", false),
            "application/octet-stream"
        );
    }
}
