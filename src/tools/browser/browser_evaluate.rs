//! `browser_evaluate`: the value of a JavaScript expression in the current page (promises
//! awaited), as JSON. Registered only with `browser.allow_evaluate`: it runs code the model
//! writes, with the page's cookies and sessions.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "javascript js execute expression dom document queryselector page value eval browser tab";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserEvaluateArgs {
    /// A JavaScript expression, e.g. "document.querySelectorAll('tr').length"; a promise is awaited.
    pub expression: String,
}

#[tool_router(router = browser_evaluate_router, vis = "pub(crate)")]
impl Switchboard {
    /// Evaluate a JavaScript expression in the browser's current page and return its value as JSON (promises awaited).
    #[tool(annotations(
        title = "Evaluate JavaScript in the browser",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn browser_evaluate(
        &self,
        Parameters(args): Parameters<BrowserEvaluateArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let max = self.settings.browser.max_snapshot_chars;
        let timeout = self.browser_timeout();
        let mut running = self.browser_for(&ctx).await?;
        let page = running.ready(timeout).await?;
        let value = page.evaluate(&args.expression).await?;
        let text = serde_json::to_string_pretty(&value).unwrap_or_default();
        let text = if text.len() > max {
            let cut = crate::support::text::floor_char_boundary(&text, max);
            format!(
                "{}\n[cut at {max} characters (browser.max_snapshot_chars): return a smaller value, e.g. a slice or a count]",
                &text[..cut]
            )
        } else {
            text
        };
        Ok(CallToolResult::success(vec![rmcp::model::ContentBlock::text(text)]))
    }
}
