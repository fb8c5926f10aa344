//! `browser_wait`: waits until the page shows (or stops showing) a text, has (or loses) an
//! element matching a CSS selector, or its network goes quiet; then answers with the page.

use std::time::Duration;

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "wait until text appears loaded element visible spinner gone network idle ajax slow page";

/// The longest wait one call may ask for.
const MAX_WAIT_SECS: u64 = 300;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserWaitArgs {
    /// Wait for this text on the page.
    #[serde(default)]
    pub text: Option<String>,
    /// Wait for an element matching this CSS selector.
    #[serde(default)]
    pub selector: Option<String>,
    /// Wait until text or selector is gone instead.
    #[serde(default)]
    pub gone: bool,
    /// Wait until no request has been in flight for half a second.
    #[serde(default)]
    pub idle: bool,
    /// Most seconds to wait (default browser.navigation_timeout_secs, at most 300).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
}

#[tool_router(router = browser_wait_router, vis = "pub(crate)")]
impl Switchboard {
    /// Wait until the browser's page shows a text (or it is gone), an element matches a CSS selector, or the network is idle; answers with the page after.
    #[tool(annotations(
        title = "Wait in the browser",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn browser_wait(
        &self,
        Parameters(args): Parameters<BrowserWaitArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let asked = [args.text.is_some(), args.selector.is_some(), args.idle];
        if asked.iter().filter(|a| **a).count() != 1 {
            return Err(ToolError::invalid(
                "give exactly one of text, selector or idle: true",
            ));
        }
        let timeout = self.browser_timeout();
        let within = args
            .timeout_secs
            .map_or(timeout, |s| Duration::from_secs(s.clamp(1, MAX_WAIT_SECS)));
        let mut running = self.browser_for(&ctx).await?;
        let page = running.ready(timeout).await?;
        let done = if let Some(text) = &args.text {
            page.wait_for_text(text, args.gone, within).await?;
            format!("The page {} `{text}`.", if args.gone { "no longer shows" } else { "shows" })
        } else if let Some(sel) = &args.selector {
            page.wait_for_selector(sel, args.gone, within).await?;
            format!("An element matching `{sel}` is {}.", if args.gone { "gone" } else { "there" })
        } else {
            page.wait_for_idle(Duration::from_millis(500), within).await?;
            "The network is idle.".to_owned()
        };
        super::report(self, &mut running, &done, 0).await
    }
}
