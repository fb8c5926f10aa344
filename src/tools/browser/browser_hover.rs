//! `browser_hover`: moves the mouse over an element the snapshot names (menus and
//! tooltips that open on hover), then answers with the page.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "mouse over hover menu tooltip reveal dropdown web page element";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserHoverArgs {
    /// The element's ref from the last snapshot, e.g. "e12".
    #[serde(rename = "ref")]
    pub element: String,
}

#[tool_router(router = browser_hover_router, vis = "pub(crate)")]
impl Switchboard {
    /// Move the mouse over an element of the browser's page by its ref (opens hover menus and tooltips); answers with the page after.
    #[tool(annotations(
        title = "Hover in the browser",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    pub async fn browser_hover(
        &self,
        Parameters(args): Parameters<BrowserHoverArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let timeout = self.browser_timeout();
        let mut running = self.browser_for(&ctx).await?;
        let page = running.ready(timeout).await?;
        page.hover(&args.element).await?;
        super::settle(page, timeout).await;
        let done = format!("The mouse is over {}.", args.element);
        super::report(self, &mut running, &done, 0).await
    }
}
