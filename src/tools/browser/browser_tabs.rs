//! `browser_tabs`: lists the browser's tabs, opens a new one (optionally on a URL), makes one
//! current, or closes one; under `browser.max_pages`.

use serde::Serialize;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "tabs windows list open new tab switch select close popup pages browser";

#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TabAction {
    List,
    Open,
    Select,
    Close,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserTabsArgs {
    /// list (the default), open, select or close.
    #[serde(default)]
    pub action: Option<TabAction>,
    /// The tab to select or close (from the list; default: the current one for close).
    #[serde(default)]
    pub index: Option<usize>,
    /// For open: a page to load in the new tab.
    #[serde(default)]
    pub url: Option<String>,
}

#[tool_router(router = browser_tabs_router, vis = "pub(crate)")]
impl Switchboard {
    /// List the browser's tabs, or open a new one (with a url), select one or close one by index.
    #[tool(annotations(
        title = "Browser tabs",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn browser_tabs(
        &self,
        Parameters(args): Parameters<BrowserTabsArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let action = args.action.unwrap_or(TabAction::List);
        let url = match (&args.url, action) {
            (Some(u), TabAction::Open) => Some(self.checked_destination(u, &ctx).await?),
            (Some(_), _) => {
                return Err(ToolError::invalid(
                    "url goes with action open; to load a page in the current tab use browser_navigate",
                ));
            }
            (None, _) => None,
        };
        let b = &self.settings.browser;
        let (timeout, max) = (b.navigation_timeout, b.max_pages);
        let mut running = self.browser_for(&ctx).await?;
        running.adopt(max, timeout).await?;
        let done = match action {
            TabAction::List => String::new(),
            TabAction::Open => {
                let page = running.open(max, timeout).await?;
                if let Some(u) = &url {
                    page.navigate(u).await?;
                }
                format!("Opened tab {}.", running.current())
            }
            TabAction::Select => {
                let Some(i) = args.index else {
                    return Err(ToolError::invalid("select needs the index of a tab (from the list)"));
                };
                running.select(i).await?;
                format!("Tab {i} is current.")
            }
            TabAction::Close => {
                let i = args.index.unwrap_or(running.current());
                running.close(i).await?;
                format!("Closed tab {i}.")
            }
        };
        let tabs = running.tabs().await;
        let mut out = done;
        if !out.is_empty() {
            out.push('\n');
        }
        if tabs.is_empty() {
            out.push_str("No tab is open; browser_navigate opens one.\n");
        }
        for t in &tabs {
            out.push_str(&format!(
                "{} {}: {} — {}\n",
                if t.current { "*" } else { " " },
                t.index,
                if t.title.is_empty() { "(no title)" } else { &t.title },
                t.url
            ));
        }
        if action == TabAction::Open || action == TabAction::Select {
            out.push_str("Read the current tab with browser_snapshot.\n");
        }
        Ok(CallToolResult::success(vec![rmcp::model::ContentBlock::text(out)]))
    }
}
