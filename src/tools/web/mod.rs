//! Web tools: HTTP through the one guarded client (`policy::net`), so every destination,
//! redirect, size and timeout is checked the same way. This file is the registry.

pub mod http_request;

use rmcp::handler::server::router::tool::ToolRouter;

use crate::server::Switchboard;

pub fn router() -> ToolRouter<Switchboard> {
    Switchboard::http_request_router()
}
