//! `browser_press`: presses a key in whatever has the focus on the page (Enter to submit,
//! Tab to move on, Escape to close, arrows to move in a list), then answers with the page.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "keyboard key enter submit tab escape arrow down up keystroke web page";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserPressArgs {
    /// Enter, Tab, Escape, Backspace, ArrowDown, ArrowUp, ArrowLeft, ArrowRight, or one character.
    pub key: String,
    /// Focus this element (a ref from the snapshot) first.
    #[serde(default, rename = "ref")]
    pub element: Option<String>,
}

#[tool_router(router = browser_press_router, vis = "pub(crate)")]
impl Switchboard {
    /// Press a key in the browser's page (in the focused element, or the ref given): Enter submits, Escape closes; answers with the page after.
    #[tool(annotations(
        title = "Press a key in the browser",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn browser_press(
        &self,
        Parameters(args): Parameters<BrowserPressArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let timeout = self.browser_timeout();
        let mut running = self.browser_for(&ctx).await?;
        let page = running.ready(timeout).await?;
        if let Some(r) = &args.element {
            page.focus(r).await?;
        }
        page.press(&args.key).await?;
        super::settle(page, timeout).await;
        let done = format!("Pressed {}.", args.key);
        super::report(self, &mut running, &done, 0).await
    }
}
