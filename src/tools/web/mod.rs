//! Web tools: HTTP through the one guarded client (`policy::net`), so every destination,
//! redirect, size and timeout is checked the same way. This file is the registry.

pub mod download_file;
pub mod fetch_url;
pub mod http_request;
pub mod web_search;

use rmcp::handler::server::router::tool::ToolRouter;

use std::collections::BTreeMap;

use crate::config::Credential;
use crate::server::Switchboard;
use crate::tools::ToolError;

pub fn router() -> ToolRouter<Switchboard> {
    Switchboard::fetch_url_router()
        + Switchboard::http_request_router()
        + Switchboard::download_file_router()
        + Switchboard::web_search_router()
}

/// The configured credential a call names, or an error listing the configured ones.
pub(crate) fn credential<'a>(
    credentials: &'a BTreeMap<String, Credential>,
    name: Option<&'a str>,
) -> Result<Option<(&'a str, &'a Credential)>, ToolError> {
    let Some(name) = name else { return Ok(None) };
    match credentials.get(name) {
        Some(c) => Ok(Some((name, c))),
        None => {
            let known: Vec<&str> = credentials.keys().map(String::as_str).collect();
            Err(ToolError::invalid(format!(
                "no credential `{name}`; configured: {}",
                if known.is_empty() {
                    "none (add web.credentials in config.yaml)".to_owned()
                } else {
                    known.join(", ")
                }
            )))
        }
    }
}
