//! `read_file`: a text file's lines, paged. Streams the file, so a large file costs only the
//! lines returned, and ends with the exact call that continues where it stopped.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};

use rmcp::handler::server::wrapper::Parameters;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::documents::Kind;
use crate::policy::FileScope;
use crate::server::Switchboard;
use crate::support::{mime, text};
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "cat print show display contents look at text source code lines head tail excerpt what is in";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadFileArgs {
    /// File path: absolute, or relative to the first root.
    pub path: String,
    /// First line to return, 1-based (default 1).
    pub offset: Option<u64>,
    /// Maximum number of lines to return (default: as many as fit the size cap).
    pub limit: Option<u64>,
    /// Byte inside the line at `offset` to start from (default 0), to read on in a line longer than one answer as its note says.
    pub column: Option<u64>,
    /// Return only the first N lines.
    pub head: Option<u64>,
    /// Return only the last N lines.
    pub tail: Option<u64>,
    /// Prefix each line with its line number.
    #[serde(default)]
    pub line_numbers: bool,
}

/// Which lines to read.
#[derive(Debug, Clone, Copy)]
pub enum Range {
    /// From line `start` (1-based), from byte `column` of that line.
    From {
        start: u64,
        column: u64,
        limit: Option<u64>,
    },
    Tail(u64),
}

impl ReadFileArgs {
    pub fn range(&self) -> Result<Range, ToolError> {
        let paging = self.offset.is_some() || self.limit.is_some() || self.column.is_some();
        match (self.head, self.tail) {
            (Some(_), Some(_)) => Err(ToolError::invalid("give head or tail, not both")),
            (Some(_), _) | (_, Some(_)) if paging => Err(ToolError::invalid(
                "head/tail cannot be combined with offset/limit",
            )),
            (Some(n), None) => Ok(Range::From {
                start: 1,
                column: 0,
                limit: Some(n),
            }),
            (None, Some(n)) => Ok(Range::Tail(n)),
            (None, None) => {
                if self.offset == Some(0) {
                    return Err(ToolError::invalid(
                        "offset is 1-based: the first line is offset 1",
                    ));
                }
                Ok(Range::From {
                    start: self.offset.unwrap_or(1),
                    column: self.column.unwrap_or(0),
                    limit: self.limit,
                })
            }
        }
    }
}

/// What a read found: the lines, or a document (PDF, Office, OpenDocument) to read as one.
pub enum TextRead {
    Text(String),
    Document(Kind),
}

pub fn read_file(scope: &FileScope, args: &ReadFileArgs) -> Result<TextRead, ToolError> {
    let range = args.range()?;
    read_text_or_document(
        scope,
        &args.path,
        range,
        args.line_numbers,
        scope.files.max_read_bytes as usize,
    )
}

/// Reads lines of a text file within `budget` bytes of output. Shared with `read_many`.
pub fn read_text(
    scope: &FileScope,
    input: &str,
    range: Range,
    numbers: bool,
    budget: usize,
) -> Result<String, ToolError> {
    match read_text_or_document(scope, input, range, numbers, budget)? {
        TextRead::Text(t) => Ok(t),
        TextRead::Document(kind) => Err(ToolError::invalid(format!(
            "`{input}` is a {}: read_document reads its text",
            kind.name()
        ))),
    }
}

fn read_text_or_document(
    scope: &FileScope,
    input: &str,
    range: Range,
    numbers: bool,
    budget: usize,
) -> Result<TextRead, ToolError> {
    let resolved = scope.existing(input)?;
    let file = scope.open_read(&resolved.path, input)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let head = reader.fill_buf().map_err(|e| ToolError::io(input, e))?;
    if text::looks_binary(head) {
        if let Some(kind) = Kind::detect(&resolved.path, head) {
            return Ok(TextRead::Document(kind));
        }
        let m = mime::detect(&resolved.path, head, false);
        let hint = match crate::documents::unsupported_advice(&resolved.path, head) {
            Some(advice) => format!("{advice}."),
            None => "Use read_media for images and audio, read_document for PDF, Office and OpenDocument files, or file_info for its details.".to_owned(),
        };
        return Err(ToolError::invalid(format!(
            "`{input}` is a binary file ({m}, {}). {hint}",
            text::human_bytes(size)
        )));
    }
    if size == 0 {
        return Ok(TextRead::Text("[empty file]".to_owned()));
    }
    read_lines(reader, input, range, numbers, budget).map(TextRead::Text)
}

/// Lines of `reader` in `range`, within `budget` bytes, with the note that says where to go
/// on. Shared with `read_document`, which pages a document's text the same way.
pub fn read_lines(
    mut reader: impl BufRead,
    input: &str,
    range: Range,
    numbers: bool,
    budget: usize,
) -> Result<String, ToolError> {
    let mut out = Lines {
        text: String::new(),
        numbers,
        budget,
        lossy: false,
        width: 1,
    };
    let note = match range {
        Range::From {
            start,
            column,
            limit,
        } => read_from(&mut reader, input, (start, column), limit, &mut out)?,
        Range::Tail(n) => read_tail(&mut reader, input, n, &mut out)?,
    };
    let mut text = out.text;
    if out.lossy {
        text.push_str("\n[note: the file is not valid UTF-8; invalid bytes are shown as \u{fffd}]");
    }
    if let Some(note) = note {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&note);
    }
    Ok(text)
}

struct Lines {
    text: String,
    numbers: bool,
    budget: usize,
    lossy: bool,
    width: usize,
}

impl Lines {
    /// Appends one line: `raw` is the part of it that was kept, from byte `from` of a line of
    /// `whole` bytes. A line that does not fit is left out, unless it would be the first,
    /// which is then cut to fit (the answer says at which byte to go on).
    fn push(&mut self, n: u64, raw: &[u8], from: u64, whole: u64) -> Push {
        let kept_all = from + raw.len() as u64 == whole;
        let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let (line, lossy) = text::decode_lossy(raw);
        self.lossy |= lossy;
        let prefix = if self.numbers {
            format!("{n:>w$}\t", w = self.width.max(4))
        } else {
            String::new()
        };
        let need = prefix.len() + line.len() + 1;
        if self.text.len() + need > self.budget || !kept_all {
            if self.text.is_empty() {
                let room = self.budget.saturating_sub(prefix.len() + 96);
                let cut = text::floor_char_boundary(&line, room.min(line.len()));
                // The byte in the file where the shown part ends (lossy decoding can change
                // lengths, so count the raw bytes that were decoded).
                let next = from + raw_len_of(raw, cut) as u64;
                self.text.push_str(&prefix);
                self.text.push_str(&line[..cut]);
                self.text.push_str(&format!(
                    " [line {n}: bytes {from}-{next} of {whole}]\n"
                ));
                return Push::Cut(next);
            }
            return Push::Full;
        }
        self.text.push_str(&prefix);
        self.text.push_str(&line);
        self.text.push('\n');
        Push::Added
    }
}

#[derive(PartialEq)]
enum Push {
    Added,
    /// The line was cut; the byte of the line to go on from.
    Cut(u64),
    Full,
}

/// How many bytes of `raw` decode to the first `shown` bytes of its lossy decoding (a
/// character boundary of it). One pass: valid UTF-8 maps byte for byte, and each invalid
/// sequence decodes to one replacement character.
fn raw_len_of(raw: &[u8], shown: usize) -> usize {
    const REPLACEMENT: usize = '\u{fffd}'.len_utf8();
    let (mut decoded, mut consumed) = (0, 0);
    for chunk in raw.utf8_chunks() {
        let valid = chunk.valid().len();
        if decoded + valid >= shown {
            return consumed + (shown - decoded);
        }
        decoded += valid;
        consumed += valid;
        if !chunk.invalid().is_empty() {
            if decoded + REPLACEMENT > shown {
                return consumed;
            }
            decoded += REPLACEMENT;
            consumed += chunk.invalid().len();
        }
    }
    consumed
}

/// Reads one line, keeping at most `keep` bytes of it from byte `skip` on (the rest is read and
/// dropped, so a line of any length costs `keep` bytes of memory). Returns the line's whole
/// length with its newline; 0 at the end of the file.
fn read_line_capped(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    skip: u64,
    keep: usize,
) -> std::io::Result<u64> {
    let mut whole: u64 = 0;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(whole);
        }
        let (take, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let piece = &chunk[..take];
        // The part of this piece at or after `skip`, while there is room.
        let start = skip.saturating_sub(whole).min(take as u64) as usize;
        let room = keep.saturating_sub(buf.len());
        let end = (start + room).min(take);
        if start < end {
            buf.extend_from_slice(&piece[start..end]);
        }
        whole += take as u64;
        reader.consume(take);
        if done {
            return Ok(whole);
        }
    }
}

fn read_from(
    reader: &mut impl BufRead,
    input: &str,
    (start, column): (u64, u64),
    limit: Option<u64>,
    out: &mut Lines,
) -> Result<Option<String>, ToolError> {
    let io = |e| ToolError::io(input, e);
    let mut buf = Vec::new();
    let mut n: u64 = 0;
    let mut last_shown: u64 = 0;
    let mut stopped_by_cap = false;
    out.width = (start + limit.unwrap_or(9999)).to_string().len();
    loop {
        buf.clear();
        let from = if n + 1 == start { column } else { 0 };
        // Lines before `start` are only counted; the rest keep what one answer can show.
        let keep = if n + 1 < start { 0 } else { out.budget + 4 };
        let whole = read_line_capped(reader, &mut buf, from, keep).map_err(io)?;
        if whole == 0 {
            break;
        }
        n += 1;
        if n < start {
            continue;
        }
        if n == start && column > 0 && column >= whole {
            return Err(ToolError::invalid(format!(
                "column {column} is past the end of line {n}, which has {whole} bytes"
            )));
        }
        if limit.is_some_and(|l| n - start >= l) {
            return Ok(Some(more_note(start, last_shown, "")));
        }
        match out.push(n, &buf, from, whole) {
            Push::Added => last_shown = n,
            Push::Cut(next) => {
                let why = format!(
                    " (output is capped at {} per call: files.max_read_bytes)",
                    text::human_bytes(out.budget as u64)
                );
                return Ok(Some(format!(
                    "[line {n} goes on{why}. Continue with offset={n}, column={next}]"
                )));
            }
            Push::Full => {
                stopped_by_cap = true;
                break;
            }
        }
    }
    if stopped_by_cap {
        let why = format!(
            " (output is capped at {} per call: files.max_read_bytes)",
            text::human_bytes(out.budget as u64)
        );
        return Ok(Some(more_note(start, last_shown, &why)));
    }
    let total = n;
    if start > total {
        return Err(ToolError::invalid(format!(
            "offset {start} is past the end: `{input}` has {total} lines"
        )));
    }
    Ok((start > 1).then(|| format!("[lines {start}-{total} of {total}]")))
}

fn more_note(start: u64, last: u64, why: &str) -> String {
    if last < start {
        return format!("[nothing shown{why}]");
    }
    format!(
        "[lines {start}-{last}; more follows{why}. Continue with offset={}]",
        last + 1
    )
}

fn read_tail(
    reader: &mut impl BufRead,
    input: &str,
    n: u64,
    out: &mut Lines,
) -> Result<Option<String>, ToolError> {
    let io = |e| ToolError::io(input, e);
    // Each line keeps at most one answer's worth of bytes (with its whole length), so a tail
    // of a file that is one giant line costs one answer of memory, not the file.
    let mut kept: VecDeque<(Vec<u8>, u64)> = VecDeque::new();
    let mut kept_bytes = 0usize;
    let mut total: u64 = 0;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let whole = read_line_capped(reader, &mut buf, 0, out.budget + 4).map_err(io)?;
        if whole == 0 {
            break;
        }
        total += 1;
        kept_bytes += buf.len();
        kept.push_back((std::mem::take(&mut buf), whole));
        while kept.len() as u64 > n || (kept_bytes > out.budget && kept.len() > 1) {
            kept_bytes -= kept.pop_front().map_or(0, |(l, _)| l.len());
        }
    }
    let first = total - kept.len() as u64 + 1;
    out.width = total.to_string().len();
    let mut shown = 0u64;
    for (i, (line, whole)) in kept.iter().enumerate() {
        match out.push(first + i as u64, line, 0, *whole) {
            Push::Added => shown += 1,
            // The first line was cut to fit; the answer says where it goes on.
            Push::Cut(_) => {
                shown += 1;
                break;
            }
            Push::Full => break,
        }
    }
    let last = first + shown.saturating_sub(1);
    if first > 1 || shown < kept.len() as u64 {
        let capped = if (kept.len() as u64) < n.min(total) {
            " (fewer than asked: output is capped by files.max_read_bytes)"
        } else {
            ""
        };
        return Ok(Some(format!("[lines {first}-{last} of {total}{capped}]")));
    }
    Ok(None)
}

#[tool_router(router = read_file_router, vis = "pub(crate)")]
impl Switchboard {
    /// Read a text file. Returns its lines, paged with offset/limit (1-based) or head/tail; the result says where to continue. PDF, Office and OpenDocument files are read as text (as read_document does); use read_media for images and audio.
    #[tool(annotations(
        title = "Read file",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn read_file(
        &self,
        Parameters(args): Parameters<ReadFileArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<String, ToolError> {
        let scope = self.file_scope(&ctx).await;
        let (path, offset, limit, head, tail) =
            (args.path.clone(), args.offset, args.limit, args.head, args.tail);
        match blocking(move || read_file(&scope, &args)).await? {
            TextRead::Text(t) => Ok(t),
            TextRead::Document(_) => {
                if tail.is_some() {
                    return Err(ToolError::invalid(
                        "tail does not apply to a document: read it with offset and limit",
                    ));
                }
                let args = super::read_document::ReadDocumentArgs {
                    path,
                    offset,
                    limit: limit.or(head),
                    sheet: None,
                    range: None,
                };
                super::read_document::read_document(self, &ctx, args).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::raw_len_of;

    #[test]
    fn a_cut_maps_back_to_the_bytes_it_came_from() {
        let raw = b"ab\xffcd\xe9";
        let shown = String::from_utf8_lossy(raw);
        for (cut, bytes) in [(0, 0), (2, 2), (5, 3), (6, 4), (7, 5), (10, 6)] {
            assert!(shown.is_char_boundary(cut));
            assert_eq!(raw_len_of(raw, cut), bytes, "cut {cut}");
        }
        assert_eq!(raw_len_of("héllo".as_bytes(), 3), 3);
    }
}
