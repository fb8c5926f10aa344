//! `browser_navigate`: opens a URL in the current tab (or goes back, forward, or reloads) and
//! answers with the page. The URL is checked before the browser sees it: web pages against
//! the network rules (the proxy checks every request after), local files against the roots,
//! the browser's own pages never.

use crate::browser::Destination;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "visit website web page browse web app back forward reload refresh url headless browser";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserNavigateArgs {
    /// http or https URL (or file:// inside the roots). Leave out with go.
    #[serde(default)]
    pub url: Option<String>,
    /// Instead of a URL: back, forward or reload.
    #[serde(default)]
    pub go: Option<Go>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Go {
    Back,
    Forward,
    Reload,
}

#[tool_router(router = browser_navigate_router, vis = "pub(crate)")]
impl Switchboard {
    /// Load a web page in a real browser (JavaScript runs) and read it as text with element refs for browser_click and browser_fill; or go back, forward, reload. Private addresses need config.
    #[tool(annotations(
        title = "Open a page in the browser",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn browser_navigate(
        &self,
        Parameters(args): Parameters<BrowserNavigateArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let url = match (&args.url, args.go) {
            (Some(url), None) => Some(self.checked_destination(url, &ctx).await?),
            (None, Some(_)) => None,
            _ => {
                return Err(ToolError::invalid(
                    "give either url (a page to open) or go (back, forward or reload)",
                ));
            }
        };
        let timeout = self.browser_timeout();
        let mut running = self.browser_for(&ctx).await?;
        let page = running.ready(timeout).await?;
        let went = match (url, args.go) {
            (Some(url), _) => page.navigate(&url).await,
            (None, Some(Go::Back)) => page.go(-1).await,
            (None, Some(Go::Forward)) => page.go(1).await,
            (None, _) => page.reload().await,
        };
        if let Err(e) = went {
            let mut why = ToolError::from(e).to_string();
            super::blocked(&running, &mut why);
            return Err(ToolError::invalid(why));
        }
        super::settle(page, timeout).await;
        super::report(self, &mut running, "", 0).await
    }

    /// The URL to give the browser for `url`, once the rules allow it.
    pub(crate) async fn checked_destination(
        &self,
        url: &str,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<String, ToolError> {
        match crate::browser::destination(url).map_err(|e| ToolError::invalid(e.to_string()))? {
            Destination::Web(u) => {
                self.settings.web.net.rules.check_url(&u)?;
                Ok(u.to_string())
            }
            Destination::File(path) => {
                let scope = self.file_scope(ctx).await;
                let input = path.display().to_string();
                let resolved = scope.existing(&input)?;
                drop(scope.open_read(&resolved.path, &input)?);
                Ok(url::Url::from_file_path(&resolved.path)
                    .map(String::from)
                    .unwrap_or_else(|()| url.to_owned()))
            }
            Destination::Blank => Ok("about:blank".into()),
        }
    }
}
