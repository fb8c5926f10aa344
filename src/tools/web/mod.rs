//! Web tools: HTTP through the one guarded client (`policy::net`), so every destination,
//! redirect, size and timeout is checked the same way. This file is the registry.

pub mod download_file;
pub mod fetch_url;
pub mod http_request;
pub mod web_search;

use rmcp::handler::server::router::tool::ToolRouter;

use crate::server::Switchboard;

pub fn router() -> ToolRouter<Switchboard> {
    Switchboard::fetch_url_router()
        + Switchboard::http_request_router()
        + Switchboard::download_file_router()
        + Switchboard::web_search_router()
}
