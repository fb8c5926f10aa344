//! `browser_pdf`: prints the current tab to a PDF file inside the roots (the path policy
//! applies; the file appears whole or not at all), under `browser.max_pdf_bytes`.

use std::io::Write;

use crate::error::reason;
use crate::tools::blocking;
use crate::tools::files::common::{display, put_in_place, staged_file};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "save page as pdf print export document web page to file archive";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserPdfArgs {
    /// Where to save it: absolute, or relative to the first root.
    pub path: String,
    /// Replace an existing file.
    #[serde(default)]
    pub overwrite: bool,
    /// Create missing parent folders.
    #[serde(default)]
    pub create_parents: bool,
}

#[tool_router(router = browser_pdf_router, vis = "pub(crate)")]
impl Switchboard {
    /// Save the browser's current page as a PDF file inside the roots (headless browser only).
    #[tool(annotations(
        title = "Save the browser page as PDF",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn browser_pdf(
        &self,
        Parameters(args): Parameters<BrowserPdfArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        if !self.settings.browser.headless {
            return Err(ToolError::invalid(
                "the browser prints PDFs only when it runs headless (browser.headless: true); take a screenshot instead",
            ));
        }
        let cap = self.settings.browser.max_pdf_bytes;
        let scope = self.file_scope(&ctx).await;
        // The destination first: a bad path fails before the page is printed.
        let (target, tmp) = {
            let (scope, input) = (scope.clone(), args.path.clone());
            let (overwrite, parents) = (args.overwrite, args.create_parents);
            blocking(move || staged_file(&scope, &input, overwrite, parents, ".pdf")).await?
        };
        let timeout = self.browser_timeout();
        let bytes = {
            let mut running = self.browser_for(&ctx).await?;
            running.ready(timeout).await?.pdf().await?
        };
        if bytes.len() as u64 > cap {
            return Err(ToolError::refused(
                reason::RESPONSE_TOO_LARGE,
                format!(
                    "the PDF is {} bytes, over browser.max_pdf_bytes ({cap}); nothing was saved",
                    bytes.len()
                ),
            ));
        }
        let (input, overwrite, n) = (args.path.clone(), args.overwrite, bytes.len());
        let created = target.existing.is_none();
        let path = display(&target.path);
        blocking(move || {
            let mut f = tmp.file();
            f.write_all(&bytes).map_err(|e| ToolError::io(&input, e))?;
            put_in_place(tmp, &target, overwrite, &input)
        })
        .await?;
        Ok(CallToolResult::success(vec![rmcp::model::ContentBlock::text(format!(
            "Saved the page as a PDF: {path} ({n} bytes{}).",
            if created { ", new file" } else { ", replaced" }
        ))]))
    }
}
