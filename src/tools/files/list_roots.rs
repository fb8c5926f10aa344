//! `list_roots`: the folders file tools may use right now, and where each came from.

use rmcp::handler::server::wrapper::Json;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Serialize;

use crate::config::RootSource;
use crate::policy::FileScope;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "allowed roots folders access workspace permitted directories can see which paths";

#[derive(Debug, Serialize, JsonSchema)]
pub struct RootInfo {
    /// Absolute path of the root, symlinks resolved.
    pub path: String,
    /// `config` (files.roots), `command_line` (--root) or `client` (MCP roots from the host).
    pub source: RootSource,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListRootsOutput {
    pub roots: Vec<RootInfo>,
    /// Present when no root is in force: how to configure one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

pub fn list_roots(scope: &FileScope) -> ListRootsOutput {
    ListRootsOutput {
        roots: scope
            .roots()
            .iter()
            .map(|r| RootInfo {
                path: r.path.display().to_string(),
                source: r.source,
            })
            .collect(),
        note: scope.require_roots().err().map(|e| e.to_string()),
    }
}

#[tool_router(router = list_roots_router, vis = "pub(crate)")]
impl Switchboard {
    /// List the folders the file tools may use (the allowed roots) and where each came from. Call this first; relative paths start at the first root.
    #[tool(annotations(
        title = "List allowed roots",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn list_roots(
        &self,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<ListRootsOutput>, ToolError> {
        Ok(Json(list_roots(&self.file_scope(&ctx).await)))
    }
}
