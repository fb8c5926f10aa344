//! `process_wait`: wait for a background process to exit, up to a timeout, and report how it
//! ended.

use std::time::Duration;

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::exec::ProcessInfo;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "wait until finish exit complete done block join exit code background job";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessWaitArgs {
    /// The id from process_start.
    pub id: String,
    /// Seconds to wait at most (default 30, at most the configured exec maximum).
    pub timeout_secs: Option<u64>,
}

#[tool_router(router = process_wait_router, vis = "pub(crate)")]
impl Switchboard {
    /// Wait for a background process to exit (up to timeout_secs) and return its state: running, exit code or signal, runtime, output size.
    #[tool(annotations(
        title = "Wait for process",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn process_wait(
        &self,
        Parameters(args): Parameters<ProcessWaitArgs>,
    ) -> Result<Json<ProcessInfo>, ToolError> {
        let entry = self.processes.get(&args.id)?;
        let max = self.exec.settings.max_timeout;
        let wait = Duration::from_secs(args.timeout_secs.unwrap_or(30));
        if wait > max {
            return Err(ToolError::invalid(format!(
                "timeout_secs is at most {} (exec.max_timeout_secs)",
                max.as_secs()
            )));
        }
        entry.wait_end(wait).await;
        Ok(Json(entry.info()))
    }
}
