//! The web without protocol types: pages made readable ([`page`]) and HTTP requests shaped for
//! a model ([`request`]), both through the one guarded client (`policy::net`). The web tools,
//! declarative HTTP tools and the `fetch` prompt are adapters over it.

pub mod page;
pub mod request;

use std::collections::BTreeMap;

use crate::config::Credential;
use crate::error::ToolError;

/// The configured credential a call names, or an error listing the configured ones.
pub fn credential<'a>(
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
                    "none (add web.credentials in config.yaml, then restart switchboard or reconnect it in the host)".to_owned()
                } else {
                    known.join(", ")
                }
            )))
        }
    }
}
