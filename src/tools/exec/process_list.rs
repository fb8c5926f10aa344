//! `process_list`: the background processes of this session, running and recently finished.

use rmcp::handler::server::wrapper::Json;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Serialize;

use crate::exec::ProcessInfo;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "background jobs processes started launched list running jobs";

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProcessListOutput {
    pub processes: Vec<ProcessInfo>,
    /// How many may run at once (exec.background.max_processes).
    pub max_running: usize,
}

#[tool_router(router = process_list_router, vis = "pub(crate)")]
impl Switchboard {
    /// List background processes started with process_start: id, pid, command, running or exit status, runtime and output size.
    #[tool(annotations(
        title = "List background processes",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn process_list(&self) -> Result<Json<ProcessListOutput>, ToolError> {
        Ok(Json(ProcessListOutput {
            processes: self.processes.all().iter().map(|e| e.info()).collect(),
            max_running: self.exec.settings.max_background,
        }))
    }
}
