//! `browser_logs`: what the current tab logged since the last call: console messages and
//! uncaught errors, the requests it made and how each ended, and what the rules blocked.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "browser console messages javascript exceptions uncaught network requests xhr http status blocked devtools page";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserLogsArgs {
    /// Leave out the network requests (console only).
    #[serde(default)]
    pub console_only: bool,
}

/// Lines of each kind shown; the rest are counted.
const MAX_SHOWN: usize = 200;

#[tool_router(router = browser_logs_router, vis = "pub(crate)")]
impl Switchboard {
    /// Console messages, uncaught exceptions and network requests (status, failures, what the rules blocked) of the browser's current tab since the previous call.
    #[tool(annotations(
        title = "Browser console and network log",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    pub async fn browser_logs(
        &self,
        Parameters(args): Parameters<BrowserLogsArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let timeout = self.browser_timeout();
        let mut running = self.browser_for(&ctx).await?;
        let log = running.page(timeout).await?.take_log();
        let mut out = String::new();
        super::blocked(&running, &mut out);
        out.push_str(&format!("Console ({} messages):\n", log.console.len()));
        for line in log.console.iter().take(MAX_SHOWN) {
            out.push_str(&format!("  {}\n", crate::support::text::truncate_chars(line, 500)));
        }
        if !args.console_only {
            out.push_str(&format!("Requests ({}):\n", log.requests.len()));
            for r in log.requests.iter().take(MAX_SHOWN) {
                let end = match (&r.failed, r.status) {
                    (Some(why), Some(s)) => format!("{s}, then failed: {why}"),
                    (Some(why), None) => format!("failed: {why}"),
                    (None, Some(s)) => s.to_string(),
                    (None, None) => "pending".into(),
                };
                out.push_str(&format!(
                    "  {} {} → {end}\n",
                    r.method,
                    crate::support::text::truncate_chars(&r.url, 300)
                ));
            }
        }
        let hidden = log.console.len().saturating_sub(MAX_SHOWN)
            + if args.console_only { 0 } else { log.requests.len().saturating_sub(MAX_SHOWN) };
        if hidden + log.dropped > 0 {
            out.push_str(&format!(
                "[{} more entries not shown; call browser_logs more often to see them all]\n",
                hidden + log.dropped
            ));
        }
        if let Some(d) = log.dialog {
            out.push_str(&format!("A {} dialog waits for an answer: \"{}\" (browser_dialog).\n", d.kind, d.message));
        }
        Ok(CallToolResult::success(vec![rmcp::model::ContentBlock::text(out)]))
    }
}
