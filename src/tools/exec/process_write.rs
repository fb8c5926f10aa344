//! `process_write`: send input to a background process's stdin (a REPL, a prompt, a server's
//! console) and, optionally, wait briefly for its answer.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::process_read::{ProcessReadOutput, read_page};
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "stdin input type send write answer prompt interactive repl keystrokes feed";

fn yes() -> bool {
    true
}

fn default_wait() -> u64 {
    500
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessWriteArgs {
    /// The id from process_start.
    pub id: String,
    /// Text to send.
    pub input: String,
    /// Append a newline (default true), like pressing Enter.
    #[serde(default = "yes")]
    pub newline: bool,
    /// Close stdin afterwards (end-of-file), for programs that read until EOF.
    #[serde(default)]
    pub close_stdin: bool,
    /// Then wait up to this many ms for new output (default 500, max 60000).
    #[serde(default = "default_wait")]
    pub wait_ms: u64,
}

#[tool_router(router = process_write_router, vis = "pub(crate)")]
impl Switchboard {
    /// Send input to a background process's stdin (newline added by default), then return the output it produced since the last read, waiting up to wait_ms for it.
    #[tool(annotations(
        title = "Write to process",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn process_write(
        &self,
        Parameters(args): Parameters<ProcessWriteArgs>,
    ) -> Result<Json<ProcessReadOutput>, ToolError> {
        let entry = self.processes.get(&args.id)?;
        if entry.process.state().exit.is_some() {
            return Err(ToolError::invalid(format!(
                "process {} has exited; process_read shows its last output",
                entry.id
            )));
        }
        let mut data = args.input.into_bytes();
        if args.newline {
            data.push(b'\n');
        }
        entry
            .process
            .write(&data, args.close_stdin)
            .await
            .map_err(|e| ToolError::invalid(format!("cannot write to {}: {e}", entry.id)))?;
        read_page(&entry, None, args.wait_ms, None, None)
            .await
            .map(Json)
    }
}
