//! `proxy_status`: every child server's state, so the model can tell why a child's tool fails
//! and when it will be back.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::proxy::ServerReport;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "status list child mcp servers running failed to start startup error other servers";

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProxyStatusArgs {
    /// Only this server (its name or alias); all when omitted.
    #[serde(default)]
    pub server: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProxyStatus {
    pub servers: Vec<ServerReport>,
    /// Problems with the servers file itself.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

#[tool_router(router = proxy_status_router, vis = "pub(crate)")]
impl Switchboard {
    /// State of the child MCP servers (tools named `{alias}__{tool}`): ready, starting or failed, pid, restarts, tools, held-back tools, last error and stderr tail. Use it when a child's tool fails.
    #[tool(annotations(
        title = "Child server status",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn proxy_status(
        &self,
        Parameters(args): Parameters<ProxyStatusArgs>,
    ) -> Result<Json<ProxyStatus>, ToolError> {
        let hub = super::hub(self)?;
        let mut servers = hub.report();
        if let Some(name) = &args.server {
            let c = super::child(hub, name)?;
            servers.retain(|s| s.name == c.name);
        }
        Ok(Json(ProxyStatus {
            servers,
            problems: hub.file_problems(),
        }))
    }
}
