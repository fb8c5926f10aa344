//! `browser_snapshot`: the current tab as text (its accessibility tree, with a ref on each
//! element the other tools act on), paged under `browser.max_snapshot_chars`.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "read page text content accessibility tree refs elements see what the page shows rendered javascript dom";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserSnapshotArgs {
    /// Line to start at, to read on after a cut.
    #[serde(default)]
    pub offset: usize,
}

#[tool_router(router = browser_snapshot_router, vis = "pub(crate)")]
impl Switchboard {
    /// Read the browser's current page as text: headings, text, links, buttons and fields, each element with a ref (e.g. e12) for the other browser tools. Long pages are paged with offset.
    #[tool(annotations(
        title = "Browser page snapshot",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn browser_snapshot(
        &self,
        Parameters(args): Parameters<BrowserSnapshotArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let mut running = self.browser_for(&ctx).await?;
        super::report(self, &mut running, "", args.offset).await
    }
}
