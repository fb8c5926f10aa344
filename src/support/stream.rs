//! Incremental decoders for the two streaming formats inference servers use: NDJSON (one JSON
//! value per line, Ollama) and server-sent events (`data:` lines ending in a blank line,
//! OpenAI-compatible servers). Bytes arrive in arbitrary chunks from the network; these
//! decoders return each complete item as soon as its last byte is in, hold the unfinished rest,
//! and cap it so a peer that never ends a line cannot grow memory without bound.

/// The line or event being assembled is longer than the cap.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a streamed item is longer than {cap} bytes without ending")]
pub struct TooLong {
    pub cap: usize,
}

/// Splits a byte stream into lines (`\n`, with an optional `\r` before it).
#[derive(Debug)]
pub struct Lines {
    pending: Vec<u8>,
    cap: usize,
}

impl Lines {
    pub fn new(cap: usize) -> Self {
        Self {
            pending: Vec::new(),
            cap,
        }
    }

    /// Adds a chunk; returns the lines it completed (invalid UTF-8 replaced).
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<String>, TooLong> {
        let mut out = Vec::new();
        let mut rest = chunk;
        while let Some(i) = rest.iter().position(|b| *b == b'\n') {
            self.pending.extend_from_slice(&rest[..i]);
            rest = &rest[i + 1..];
            if self.pending.last() == Some(&b'\r') {
                self.pending.pop();
            }
            out.push(String::from_utf8_lossy(&self.pending).into_owned());
            self.pending.clear();
        }
        self.pending.extend_from_slice(rest);
        if self.pending.len() > self.cap {
            self.pending.clear();
            return Err(TooLong { cap: self.cap });
        }
        Ok(out)
    }

    /// The last line when the stream ended without a newline.
    pub fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.pending);
        (!rest.is_empty()).then(|| String::from_utf8_lossy(&rest).into_owned())
    }
}

/// One server-sent event: its `event:` name (if any) and its `data:` lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub event: Option<String>,
    pub data: String,
}

/// Assembles server-sent events from a byte stream (the WHATWG event-stream rules that
/// matter here: `data:` lines accumulate, a blank line dispatches, `:` lines are comments,
/// one space after the colon is dropped).
#[derive(Debug)]
pub struct Events {
    lines: Lines,
    event: Option<String>,
    data: Vec<String>,
    cap: usize,
    size: usize,
}

impl Events {
    pub fn new(cap: usize) -> Self {
        Self {
            lines: Lines::new(cap),
            event: None,
            data: Vec::new(),
            cap,
            size: 0,
        }
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<Event>, TooLong> {
        let mut out = Vec::new();
        for line in self.lines.push(chunk)? {
            if line.is_empty() {
                if !self.data.is_empty() {
                    out.push(Event {
                        event: self.event.take(),
                        data: std::mem::take(&mut self.data).join("\n"),
                    });
                }
                self.event = None;
                self.size = 0;
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line.as_str(), ""),
            };
            match field {
                "data" => {
                    self.size += value.len();
                    if self.size > self.cap {
                        self.data.clear();
                        self.size = 0;
                        return Err(TooLong { cap: self.cap });
                    }
                    self.data.push(value.to_owned());
                }
                "event" => self.event = Some(value.to_owned()),
                _ => {}
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_across_chunks_with_crlf_and_a_cap() {
        let mut l = Lines::new(16);
        assert_eq!(l.push(b"{\"a\":").unwrap(), Vec::<String>::new());
        assert_eq!(l.push(b"1}\r\n{\"b\"").unwrap(), vec!["{\"a\":1}"]);
        assert_eq!(l.push(b":2}\n\n").unwrap(), vec!["{\"b\":2}", ""]);
        assert_eq!(l.push(b"tail").unwrap(), Vec::<String>::new());
        assert_eq!(l.finish().as_deref(), Some("tail"));
        assert_eq!(l.finish(), None);
        assert_eq!(l.push(&[b'x'; 17]), Err(TooLong { cap: 16 }));
        // After an overlong line the decoder starts clean.
        assert_eq!(l.push(b"ok\n").unwrap(), vec!["ok"]);
    }

    #[test]
    fn events_accumulate_data_and_dispatch_on_blank_lines() {
        let mut e = Events::new(64);
        let got = e
            .push(b": ping\n\ndata: {\"x\":1}\n\nevent: done\ndata: a\ndata:b\n")
            .unwrap();
        assert_eq!(
            got,
            vec![Event {
                event: None,
                data: "{\"x\":1}".into()
            }]
        );
        let got = e.push(b"\ndata: [DONE]\n\n").unwrap();
        assert_eq!(
            got,
            vec![
                Event {
                    event: Some("done".into()),
                    data: "a\nb".into()
                },
                Event {
                    event: None,
                    data: "[DONE]".into()
                }
            ]
        );
        let mut small = Events::new(8);
        assert!(small.push(b"data: 12345\ndata: 6789\n").is_err());
    }
}
