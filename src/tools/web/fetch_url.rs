//! `fetch_url`: GET a page through the network guard and return it readable: HTML as Markdown
//! of its main content (`support::html`), JSON pretty-printed, text as is, images as image
//! content. Long pages come a window at a time (`start_index`, `max_length` in characters);
//! the converted page is cached briefly (LRU, TTL) so paging never fetches it again. Fetches
//! the model starts obey robots.txt (`web.respect_robots`); the `fetch` prompt, which the user
//! starts, does not.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::policy::net::NetGuard;
use crate::server::Switchboard;
use crate::tools::ToolError;
pub use crate::web::page::{Block, FetchOptions, PageCache, fetch_page, render, status_error};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "url link web page website article blog docs documentation read scrape browse open markdown html summarise content http https";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FetchUrlArgs {
    /// http or https URL.
    pub url: String,
    /// Most characters returned (default 8000, from web.fetch.max_length).
    #[serde(default)]
    pub max_length: Option<usize>,
    /// Character to start at, for reading on after a cut.
    #[serde(default)]
    pub start_index: usize,
    /// The original text (HTML source) instead of Markdown.
    #[serde(default)]
    pub raw: bool,
}

/// One whole fetch as a tool result.
pub async fn fetch_url(
    net: &NetGuard,
    cache: &PageCache,
    default_max: usize,
    options: FetchOptions,
    args: FetchUrlArgs,
) -> Result<CallToolResult, ToolError> {
    let max = args.max_length.unwrap_or(default_max).max(1);
    let (page, _) = fetch_page(net, cache, &args.url, args.raw, options).await?;
    if page.status >= 400 {
        return Err(status_error(&page));
    }
    let blocks = render(&page, &args.url, args.start_index, max)?;
    Ok(CallToolResult::success(
        blocks.into_iter().map(crate::mcp::page_content).collect(),
    ))
}

#[tool_router(router = fetch_url_router, vis = "pub(crate)")]
impl Switchboard {
    /// Fetch a web page and read it: HTML as Markdown of the main content, JSON and text as is, images as images. Long pages are cut with the start_index to read on. Obeys robots.txt; private addresses need config.
    #[tool(annotations(
        title = "Fetch URL",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    pub async fn fetch_url(
        &self,
        Parameters(args): Parameters<FetchUrlArgs>,
    ) -> Result<CallToolResult, ToolError> {
        let net = self.net()?;
        let web = &self.settings.web;
        let options = FetchOptions {
            robots: web.net.respect_robots,
            max_image_bytes: web.fetch_max_image_bytes,
        };
        fetch_url(&net, &self.pages, web.fetch_max_length, options, args).await
    }
}
