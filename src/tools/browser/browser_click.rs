//! `browser_click`: clicks an element the snapshot names, as a mouse does (scrolled into
//! view, pressed and released at its centre), then answers with the page.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "press button follow link tick checkbox submit form web page element mouse open menu";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserClickArgs {
    /// The element's ref from the last snapshot, e.g. "e12".
    #[serde(rename = "ref")]
    pub element: String,
}

#[tool_router(router = browser_click_router, vis = "pub(crate)")]
impl Switchboard {
    /// Click an element of the browser's page by its ref from the snapshot (link, button, checkbox); answers with the page after.
    #[tool(annotations(
        title = "Click in the browser",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn browser_click(
        &self,
        Parameters(args): Parameters<BrowserClickArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let timeout = self.browser_timeout();
        let mut running = self.browser_for(&ctx).await?;
        let page = running.ready(timeout).await?;
        page.click(&args.element).await?;
        super::settle(page, timeout).await;
        let done = format!("Clicked {}.", args.element);
        super::report(self, &mut running, &done, 0).await
    }
}
