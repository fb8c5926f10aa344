//! A guard between a child's stdout and the JSON-RPC reader. Lines that cannot be JSON-RPC (a
//! banner printed to stdout by mistake) are dropped here, so the protocol reader never sees
//! them; a sample goes to the child's stderr tail for diagnosis. A line longer than the frame
//! limit, or more than [`GARBAGE_LIMIT`] bytes of non-JSON in all, ends the stream with an
//! error: the child is cut off and restarted, and memory never grows with what it writes.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

/// Non-JSON bytes tolerated from one connection before it is cut off.
pub const GARBAGE_LIMIT: u64 = 1024 * 1024;
/// How much of each dropped line is kept as a sample.
const SAMPLE: usize = 200;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Line {
    /// Nothing but whitespace yet.
    Start,
    /// A JSON line: passed through.
    Pass,
    /// Not JSON: dropped up to its newline.
    Drop,
}

/// Why the guard ended a stream, and samples of what it dropped.
#[derive(Debug, Default)]
pub struct Report {
    pub cut_off: Option<String>,
    pub dropped_lines: u64,
    pub samples: Vec<String>,
}

pub struct FrameGuard<R> {
    inner: R,
    max_line: usize,
    line_len: usize,
    state: Line,
    garbage: u64,
    sample: Vec<u8>,
    report: Arc<Mutex<Report>>,
    failed: bool,
}

impl<R> FrameGuard<R> {
    pub fn new(inner: R, max_line: usize, report: Arc<Mutex<Report>>) -> Self {
        Self {
            inner,
            max_line,
            line_len: 0,
            state: Line::Start,
            garbage: 0,
            sample: Vec::new(),
            report,
            failed: false,
        }
    }

    fn fail(&mut self, why: String) -> io::Error {
        self.failed = true;
        self.report
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .cut_off = Some(why.clone());
        io::Error::new(io::ErrorKind::InvalidData, why)
    }

    fn end_dropped_line(&mut self) {
        let mut r = self.report.lock().unwrap_or_else(|e| e.into_inner());
        r.dropped_lines += 1;
        if r.samples.len() < 5 && !self.sample.is_empty() {
            r.samples
                .push(String::from_utf8_lossy(&self.sample).trim_end().to_owned());
        }
        self.sample.clear();
    }

    /// Filters `data` in place; returns the number of bytes kept at its front.
    fn filter(&mut self, data: &mut [u8]) -> io::Result<usize> {
        let mut kept = 0;
        for i in 0..data.len() {
            let b = data[i];
            if b == b'\n' {
                match self.state {
                    Line::Pass => {
                        data[kept] = b;
                        kept += 1;
                    }
                    Line::Drop => self.end_dropped_line(),
                    Line::Start => {}
                }
                self.state = Line::Start;
                self.line_len = 0;
                continue;
            }
            self.line_len += 1;
            if self.line_len > self.max_line {
                let max = self.max_line;
                return Err(self.fail(format!(
                    "it wrote a line longer than {max} bytes on stdout (proxy.max_frame_bytes)"
                )));
            }
            if self.state == Line::Start {
                if b.is_ascii_whitespace() {
                    continue;
                }
                self.state = if b == b'{' { Line::Pass } else { Line::Drop };
            }
            match self.state {
                Line::Pass => {
                    data[kept] = b;
                    kept += 1;
                }
                Line::Drop => {
                    self.garbage += 1;
                    if self.sample.len() < SAMPLE {
                        self.sample.push(b);
                    }
                    if self.garbage > GARBAGE_LIMIT {
                        return Err(self.fail(format!(
                            "it wrote more than {GARBAGE_LIMIT} bytes of non-JSON on stdout (its logs belong on stderr)"
                        )));
                    }
                }
                Line::Start => {}
            }
        }
        Ok(kept)
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for FrameGuard<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.failed {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the child was cut off",
            )));
        }
        loop {
            let before = buf.filled().len();
            let this = &mut *self;
            match Pin::new(&mut this.inner).poll_read(cx, buf) {
                Poll::Ready(Ok(())) => {
                    let after = buf.filled().len();
                    if after == before {
                        return Poll::Ready(Ok(())); // end of stream
                    }
                    let kept = {
                        let fresh = &mut buf.filled_mut()[before..after];
                        this.filter(fresh)
                    };
                    // On error nothing read this time is handed on.
                    buf.set_filled(before + *kept.as_ref().unwrap_or(&0));
                    let kept = kept?;
                    if kept > 0 {
                        return Poll::Ready(Ok(()));
                    }
                    // Everything read was dropped: read again rather than report end of stream.
                }
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    async fn through(input: &[u8], max: usize) -> (io::Result<String>, Arc<Mutex<Report>>) {
        let report = Arc::new(Mutex::new(Report::default()));
        let mut g = FrameGuard::new(input, max, report.clone());
        let mut out = String::new();
        let r = g.read_to_string(&mut out).await.map(|_| out);
        (r, report)
    }

    #[tokio::test]
    async fn json_lines_pass_and_banners_are_dropped() {
        let (out, report) = through(
            b"Server running on stdio\n  {\"a\":1}\n\n{\"b\":2}\nbye\n",
            100,
        )
        .await;
        assert_eq!(out.unwrap(), "{\"a\":1}\n{\"b\":2}\n");
        let r = report.lock().unwrap();
        assert_eq!(r.dropped_lines, 2);
        assert_eq!(r.samples[0], "Server running on stdio");
    }

    #[tokio::test]
    async fn long_lines_and_floods_cut_the_stream() {
        let long = format!("{{\"x\":\"{}\"}}\n", "a".repeat(200));
        let (out, report) = through(long.as_bytes(), 100).await;
        assert!(out.is_err());
        assert!(
            report
                .lock()
                .unwrap()
                .cut_off
                .as_ref()
                .unwrap()
                .contains("longer than 100")
        );
        let flood = "garbage\n".repeat(200_000);
        let (out, _) = through(flood.as_bytes(), 100).await;
        assert!(out.unwrap_err().to_string().contains("non-JSON"));
    }
}
