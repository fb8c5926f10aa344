//! `browser_screenshot`: a picture of the current tab (the viewport, the whole page or one
//! element) as image content, under `browser.max_screenshot_bytes`: a PNG too large is
//! taken again as JPEG at falling quality before the call gives up and says how to narrow it.

use base64::Engine;
use rmcp::model::ContentBlock as Content;

use crate::browser::page::Shot;
use crate::error::reason;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "capture png look at see page visually layout render web browser";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserScreenshotArgs {
    /// The whole page, not only what the window shows.
    #[serde(default)]
    pub full_page: bool,
    /// Only this element (a ref from the snapshot).
    #[serde(default, rename = "ref")]
    pub element: Option<String>,
}

/// JPEG qualities tried, in turn, when the PNG is over the cap.
const QUALITIES: [u8; 3] = [80, 55, 30];

#[tool_router(router = browser_screenshot_router, vis = "pub(crate)")]
impl Switchboard {
    /// Screenshot of the browser's page: the viewport, the full page, or one element by ref.
    #[tool(annotations(
        title = "Browser screenshot",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn browser_screenshot(
        &self,
        Parameters(args): Parameters<BrowserScreenshotArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let cap = self.settings.browser.max_screenshot_bytes;
        let timeout = self.browser_timeout();
        let mut running = self.browser_for(&ctx).await?;
        let page = running.page(timeout).await?;
        let mut shot = Shot {
            full_page: args.full_page,
            element: args.element.clone(),
            quality: None,
        };
        let mut bytes = page.capture(&shot).await?;
        let mut qualities = QUALITIES.iter();
        while bytes.len() as u64 > cap {
            let Some(q) = qualities.next() else {
                return Err(ToolError::refused(
                    reason::RESPONSE_TOO_LARGE,
                    format!(
                        "the screenshot is {} bytes even as a JPEG, over browser.max_screenshot_bytes ({cap}); take the viewport (full_page: false) or one element (ref)",
                        bytes.len()
                    ),
                ));
            };
            shot.quality = Some(*q);
            bytes = page.capture(&shot).await?;
        }
        let mime = if shot.quality.is_some() { "image/jpeg" } else { "image/png" };
        let (url, _) = page.info().await.unwrap_or_default();
        let what = match (&args.element, args.full_page) {
            (Some(r), _) => format!("element {r}"),
            (None, true) => "the whole page".into(),
            (None, false) => "the viewport".into(),
        };
        Ok(CallToolResult::success(vec![
            Content::image(base64::engine::general_purpose::STANDARD.encode(&bytes), mime),
            Content::text(format!("Screenshot of {what} of {url} ({mime}, {} bytes).", bytes.len())),
        ]))
    }
}
