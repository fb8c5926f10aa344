//! `browser_dialog`: answers the dialog the page waits on (alert, confirm, prompt, "leave
//! this page?"), then answers with the page.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "alert confirm prompt popup dialog accept dismiss ok cancel javascript message box";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserDialogArgs {
    /// true presses OK, false Cancel.
    pub accept: bool,
    /// The text typed into a prompt dialog.
    #[serde(default)]
    pub text: Option<String>,
}

#[tool_router(router = browser_dialog_router, vis = "pub(crate)")]
impl Switchboard {
    /// Answer the dialog the browser's page shows (alert, confirm, prompt): accept or dismiss, with text for a prompt; answers with the page after.
    #[tool(annotations(
        title = "Answer a browser dialog",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn browser_dialog(
        &self,
        Parameters(args): Parameters<BrowserDialogArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let timeout = self.browser_timeout();
        let mut running = self.browser_for(&ctx).await?;
        let page = running.page(timeout).await?;
        let Some(dialog) = page.dialog() else {
            return Err(ToolError::invalid(
                "no dialog is open on the current tab; a dialog shows in the answer of the call that opened it",
            ));
        };
        page.answer_dialog(args.accept, args.text.as_deref()).await?;
        super::settle(page, timeout).await;
        let done = format!(
            "{} the {} dialog \"{}\".",
            if args.accept { "Accepted" } else { "Dismissed" },
            dialog.kind,
            dialog.message
        );
        super::report(self, &mut running, &done, 0).await
    }
}
