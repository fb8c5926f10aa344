//! `process_kill`: stop a background process. The signal goes to its process group; when the
//! program has not exited after the grace period, its whole tree is killed.

use std::time::Duration;

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::exec::ProcessInfo;
use crate::server::Switchboard;
use crate::tools::ToolError;
use crate::tools::system::kill_process::Signal;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "stop kill terminate shut down background job server started earlier";

fn default_grace() -> u64 {
    3000
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessKillArgs {
    /// The id from process_start.
    pub id: String,
    /// TERM (default), KILL, INT (like Ctrl-C), HUP, QUIT, USR1 or USR2.
    #[serde(default)]
    pub signal: Signal,
    /// Ms to wait for a clean exit before the whole tree is killed (default 3000; 0 = kill now).
    #[serde(default = "default_grace")]
    pub grace_ms: u64,
}

#[tool_router(router = process_kill_router, vis = "pub(crate)")]
impl Switchboard {
    /// Stop a background process (TERM, then its whole tree after grace_ms). Returns its final state.
    #[tool(annotations(
        title = "Stop background process",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn process_kill(
        &self,
        Parameters(args): Parameters<ProcessKillArgs>,
    ) -> Result<Json<ProcessInfo>, ToolError> {
        let entry = self.processes.get(&args.id)?;
        if entry.process.state().exit.is_none() {
            let control = &entry.process.control;
            if matches!(args.signal, Signal::Kill) || args.grace_ms == 0 {
                control.kill().await;
            } else {
                control.signal(args.signal.number()).await;
                let grace = Duration::from_millis(args.grace_ms.min(60_000));
                if entry.process.wait_exit(grace).await.is_none() {
                    control.kill().await;
                }
            }
            entry.wait_end(Duration::from_secs(5)).await;
        }
        Ok(Json(entry.info()))
    }
}
