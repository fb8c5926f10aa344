//! `process_read`: the output of a background process: what is new since the last read, or
//! from an absolute offset (negative = that many bytes from the end), optionally waiting for
//! more and filtered to matching lines.

use std::sync::atomic::Ordering;
use std::time::Duration;

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::exec::exit_parts;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "output logs printed stdout stderr background process job watcher server tail follow read new output so far";

/// Longest wait one call may ask for.
pub const MAX_WAIT_MS: u64 = 60_000;
/// Default and largest page of output.
const DEFAULT_BYTES: usize = 64 * 1024;
const MAX_BYTES: usize = 1024 * 1024;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessReadArgs {
    /// The id from process_start.
    pub id: String,
    /// Byte offset to read from; negative counts back from the end (-2000 = the last 2000 bytes). Default: where the last read stopped.
    pub offset: Option<i64>,
    /// Wait up to this many ms for new output or exit (max 60000; default 0).
    #[serde(default)]
    pub wait_ms: u64,
    /// Keep only lines matching this regex.
    pub grep: Option<String>,
    /// Most bytes to return (default 65536).
    pub max_bytes: Option<usize>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProcessReadOutput {
    pub id: String,
    pub text: String,
    /// Offset of the first byte of `text`.
    pub offset: u64,
    /// Offset to continue from (also where the next read without an offset starts).
    pub next_offset: u64,
    /// All output so far, in bytes.
    pub total_bytes: u64,
    /// Output lost before `offset` because the ring buffer is full.
    pub missed_bytes: u64,
    pub running: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Reads a page from a process's ring; shared with `process_write`.
pub(crate) async fn read_page(
    entry: &crate::exec::Entry,
    offset: Option<i64>,
    wait_ms: u64,
    grep: Option<&str>,
    max_bytes: Option<usize>,
) -> Result<ProcessReadOutput, ToolError> {
    if wait_ms > MAX_WAIT_MS {
        return Err(ToolError::invalid(format!(
            "wait_ms is at most {MAX_WAIT_MS}; call again to keep waiting"
        )));
    }
    let filter = match grep {
        Some(g) => Some(
            crate::support::regex::compile(g)
                .map_err(|e| ToolError::invalid(format!("`grep` is not a usable regex: {e}")))?,
        ),
        None => None,
    };
    let max = max_bytes.unwrap_or(DEFAULT_BYTES).clamp(1, MAX_BYTES);
    let total_now = entry.process.state().output.total();
    let from = match offset {
        None => entry.cursor.load(Ordering::Acquire),
        Some(o) if o < 0 => total_now.saturating_sub(o.unsigned_abs()),
        Some(o) => o as u64,
    };
    if wait_ms > 0 {
        entry
            .process
            .wait_for_output(from, Duration::from_millis(wait_ms))
            .await;
    }
    let s = entry.process.state();
    let (mut text, begin, next) = s.output.read(from, max);
    let missed = s.output.start().saturating_sub(from);
    let total = s.output.total();
    let exit = s.exit;
    drop(s);
    if offset.is_none_or(|o| o >= 0) {
        entry.cursor.fetch_max(next, Ordering::AcqRel);
    }
    if let Some(re) = filter {
        text = text
            .split_inclusive('\n')
            .filter(|l| re.is_match(l))
            .collect();
    }
    let (exit_code, signal) = exit.map(exit_parts).unwrap_or((None, None));
    let note = if next < total {
        Some(format!(
            "{} more bytes are available; read again from offset {next}",
            total - next
        ))
    } else if missed > 0 {
        Some(format!(
            "{missed} bytes before offset {begin} were dropped from the ring buffer (exec.background.buffer_bytes)"
        ))
    } else {
        None
    };
    Ok(ProcessReadOutput {
        id: entry.id.clone(),
        text,
        offset: begin,
        next_offset: next,
        total_bytes: total,
        missed_bytes: missed,
        running: exit.is_none(),
        exit_code,
        signal,
        note,
    })
}

#[tool_router(router = process_read_router, vis = "pub(crate)")]
impl Switchboard {
    /// Read a background process's output: new output since the last read, or from an offset (negative: the tail). Can wait for output and filter lines by regex.
    #[tool(annotations(
        title = "Read process output",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    pub async fn process_read(
        &self,
        Parameters(args): Parameters<ProcessReadArgs>,
    ) -> Result<Json<ProcessReadOutput>, ToolError> {
        let entry = self.processes.get(&args.id)?;
        read_page(
            &entry,
            args.offset,
            args.wait_ms,
            args.grep.as_deref(),
            args.max_bytes,
        )
        .await
        .map(Json)
    }
}
