//! Bounded output buffers. [`HeadTail`] keeps the first and last bytes of a stream that ran to
//! completion (the start says what ran, the end how it ended); [`Ring`] keeps the newest bytes
//! of a long-lived process with absolute offsets, so a reader can page and tail it. Both cut
//! text only on UTF-8 boundaries, so a multi-byte character is never split.

/// Keeps at most `cap` bytes of a stream: the first half and the last half.
#[derive(Debug)]
pub struct HeadTail {
    head_cap: usize,
    head: Vec<u8>,
    tail: Ring,
}

/// The kept text of a stream and how much was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    pub text: String,
    /// Every byte the stream produced.
    pub total_bytes: u64,
    /// Bytes left out of `text` (the middle of the stream).
    pub dropped_bytes: u64,
}

impl HeadTail {
    pub fn new(cap: usize) -> Self {
        let head_cap = cap / 2;
        Self {
            head_cap,
            head: Vec::new(),
            tail: Ring::new(cap - head_cap),
        }
    }

    pub fn push(&mut self, mut data: &[u8]) {
        if self.head.len() < self.head_cap {
            let n = data.len().min(self.head_cap - self.head.len());
            self.head.extend_from_slice(&data[..n]);
            data = &data[n..];
        }
        if !data.is_empty() {
            self.tail.push(data);
        }
    }

    pub fn total(&self) -> u64 {
        self.head.len() as u64 + self.tail.total()
    }

    /// The last complete line seen, for progress messages.
    pub fn last_line(&self) -> Option<String> {
        let bytes = if self.tail.total() > 0 {
            self.tail.bytes()
        } else {
            self.head.clone()
        };
        let text = String::from_utf8_lossy(&bytes);
        text.trim_end()
            .rsplit('\n')
            .next()
            .map(|l| l.chars().take(200).collect())
    }

    pub fn finish(self) -> Captured {
        let total = self.total();
        if self.tail.start() == 0 {
            let mut all = self.head;
            all.extend_from_slice(&self.tail.bytes());
            return Captured {
                text: String::from_utf8_lossy(&all).into_owned(),
                total_bytes: total,
                dropped_bytes: 0,
            };
        }
        let head = &self.head[..utf8_end(&self.head)];
        let tail_bytes = self.tail.bytes();
        let tail = &tail_bytes[utf8_start(&tail_bytes)..];
        let dropped = total - head.len() as u64 - tail.len() as u64;
        let text = format!(
            "{}\n[… {} omitted from the middle of this output …]\n{}",
            String::from_utf8_lossy(head),
            human_bytes(dropped),
            String::from_utf8_lossy(tail)
        );
        Captured {
            text,
            total_bytes: total,
            dropped_bytes: dropped,
        }
    }
}

/// The newest `cap` bytes of a stream, addressed by absolute offset from its start.
#[derive(Debug)]
pub struct Ring {
    buf: Vec<u8>,
    cap: usize,
    /// Where the next byte goes in `buf` once it is full.
    pos: usize,
    total: u64,
}

impl Ring {
    pub fn new(cap: usize) -> Self {
        Self {
            buf: Vec::new(),
            cap: cap.max(1),
            pos: 0,
            total: 0,
        }
    }

    pub fn push(&mut self, data: &[u8]) {
        self.total += data.len() as u64;
        let data = if data.len() > self.cap {
            &data[data.len() - self.cap..]
        } else {
            data
        };
        if self.buf.len() < self.cap {
            let room = self.cap - self.buf.len();
            let n = room.min(data.len());
            self.buf.extend_from_slice(&data[..n]);
            if n == data.len() {
                return;
            }
            self.pos = 0;
            self.write_wrapped(&data[n..]);
        } else {
            self.write_wrapped(data);
        }
    }

    fn write_wrapped(&mut self, data: &[u8]) {
        let first = data.len().min(self.cap - self.pos);
        self.buf[self.pos..self.pos + first].copy_from_slice(&data[..first]);
        let rest = &data[first..];
        self.buf[..rest.len()].copy_from_slice(rest);
        self.pos = (self.pos + data.len()) % self.cap;
    }

    /// Every byte ever pushed.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The offset of the oldest byte still kept.
    pub fn start(&self) -> u64 {
        self.total - self.buf.len() as u64
    }

    /// The kept bytes, oldest first.
    pub fn bytes(&self) -> Vec<u8> {
        if self.buf.len() < self.cap {
            return self.buf.clone();
        }
        let mut out = Vec::with_capacity(self.cap);
        out.extend_from_slice(&self.buf[self.pos..]);
        out.extend_from_slice(&self.buf[..self.pos]);
        out
    }

    /// Up to `max` bytes from absolute offset `from` (moved up to the oldest kept byte), cut
    /// on character boundaries. Returns the text, the offset it really starts at and the
    /// offset to continue from. An incomplete character at the end waits for the next read.
    pub fn read(&self, from: u64, max: usize) -> (String, u64, u64) {
        let start = from.clamp(self.start(), self.total);
        let all = self.bytes();
        let skip = (start - self.start()) as usize;
        let avail = &all[skip..];
        let mut slice = &avail[..avail.len().min(max)];
        let lead = utf8_start(slice);
        slice = &slice[lead..];
        let end = utf8_end(slice);
        let text = String::from_utf8_lossy(&slice[..end]).into_owned();
        let begin = start + lead as u64;
        (text, begin, begin + end as u64)
    }
}

/// Length of `b` without an incomplete UTF-8 sequence at its end.
pub fn utf8_end(b: &[u8]) -> usize {
    // Look back at most 3 bytes for the lead byte of the last sequence.
    for back in 1..=b.len().min(4) {
        let i = b.len() - back;
        let byte = b[i];
        if byte & 0xC0 == 0x80 {
            continue; // continuation byte
        }
        let need = match byte {
            0x00..=0x7F => 1,
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        return if back >= need { b.len() } else { i };
    }
    b.len()
}

/// Offset of the first byte in `b` that is not a UTF-8 continuation byte (at most 3 skipped).
pub fn utf8_start(b: &[u8]) -> usize {
    b.iter().take(3).take_while(|&&x| x & 0xC0 == 0x80).count()
}

/// `1.5 MiB (1572864 bytes)`.
pub fn human_bytes(n: u64) -> String {
    let units = [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (name, size) in units {
        if n >= size {
            return format!("{:.1} {name} ({n} bytes)", n as f64 / size as f64);
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_output_is_kept_whole() {
        let mut c = HeadTail::new(100);
        c.push(b"hello ");
        c.push(b"world");
        let out = c.finish();
        assert_eq!(out.text, "hello world");
        assert_eq!((out.total_bytes, out.dropped_bytes), (11, 0));
    }

    #[test]
    fn large_output_keeps_head_and_tail_on_char_boundaries() {
        let mut c = HeadTail::new(1000);
        // "é" is two bytes, "€" three: no cut point falls on a boundary by luck.
        let chunk = "é€x".repeat(10_000);
        for piece in chunk.as_bytes().chunks(777) {
            c.push(piece);
        }
        let out = c.finish();
        assert_eq!(out.total_bytes, chunk.len() as u64);
        assert!(out.dropped_bytes > 0);
        assert!(!out.text.contains('\u{FFFD}'), "a character was split");
        assert!(out.text.starts_with("é€x"));
        assert!(out.text.ends_with("é€x"));
        assert!(out.text.contains("omitted from the middle"));
        let kept = out.total_bytes - out.dropped_bytes;
        assert!((994..=1000).contains(&kept), "kept {kept}");
    }

    #[test]
    fn ring_pages_by_absolute_offset() {
        let mut r = Ring::new(10);
        r.push(b"0123456789abc");
        assert_eq!((r.start(), r.total()), (3, 13));
        let (text, begin, next) = r.read(0, 100);
        assert_eq!((text.as_str(), begin, next), ("3456789abc", 3, 13));
        let (text, _, next) = r.read(5, 3);
        assert_eq!((text.as_str(), next), ("567", 8));
        r.push(b"de");
        assert_eq!(r.read(13, 100).0, "de");
    }

    #[test]
    fn ring_holds_back_an_incomplete_character() {
        let mut r = Ring::new(64);
        let euro = "€".as_bytes();
        r.push(b"a");
        r.push(&euro[..2]);
        let (text, _, next) = r.read(0, 64);
        assert_eq!((text.as_str(), next), ("a", 1));
        r.push(&euro[2..]);
        assert_eq!(r.read(next, 64).0, "€");
    }

    #[test]
    fn utf8_cut_points() {
        let s = "a€".as_bytes();
        assert_eq!(utf8_end(&s[..3]), 1);
        assert_eq!(utf8_end(s), 4);
        assert_eq!(utf8_start(&s[2..]), 2);
    }
}
