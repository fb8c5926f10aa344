//! `proxy_restart`: stop one child server's process tree and start it again, also after it gave
//! up retrying. Its tools come back with a `list_changed` once it is ready.

use std::time::Duration;

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::proxy::ServerReport;
use crate::proxy::child::Phase;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "restart reboot child mcp server crashed stuck reload";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProxyRestartArgs {
    /// The server's name in servers_config.json (or its alias).
    pub server: String,
}

#[tool_router(router = proxy_restart_router, vis = "pub(crate)")]
impl Switchboard {
    /// Restart one child MCP server and wait for it to be ready, e.g. after fixing why it failed. Returns its new state.
    #[tool(annotations(
        title = "Restart child server",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    pub async fn proxy_restart(
        &self,
        Parameters(args): Parameters<ProxyRestartArgs>,
    ) -> Result<Json<ServerReport>, ToolError> {
        let hub = super::hub(self)?;
        let child = super::child(hub, &args.server)?;
        if let Err(why) = &child.spec {
            return Err(ToolError::invalid(format!(
                "server `{}` cannot start: {why}",
                child.name
            )));
        }
        let restarts_before = child.status().restarts;
        let was = child.status().phase;
        child.request_restart();
        // Wait for the old connection to end, then for the new one.
        if was == Phase::Ready {
            let until = tokio::time::Instant::now() + Duration::from_secs(5);
            while child.status().phase == Phase::Ready
                && child.status().restarts == restarts_before
                && tokio::time::Instant::now() < until
                && child.peer_now().is_some()
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        let ready = child.connection().await;
        let report = hub
            .report()
            .into_iter()
            .find(|r| r.name == child.name)
            .ok_or_else(|| ToolError::Internal("the server disappeared".into()))?;
        match ready {
            Ok(_) => Ok(Json(report)),
            Err(why) => Err(ToolError::invalid(why)),
        }
    }
}
