//! MCP-level pieces the server and the proxy share, holding no state of either: progress for
//! one call (with its heartbeat), the change bus that carries list and resource changes to
//! sessions of both protocol generations, and the order of log levels.
// Logging is deprecated by the 2026-07-28 revision; initialize-era clients still use it.
#![allow(deprecated)]

pub mod changes;
pub mod progress;

use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock, LoggingLevel};

/// A tool failure the model reads (`isError: true`) with its stable reason code, as every
/// route answers one.
pub fn failure(code: &'static str, text: impl Into<String>) -> CallToolResponse {
    CallToolResponse::Complete(failure_result(code, text))
}

/// [`failure`] as the bare result (what a response frame carries): the sentence for the
/// model, and the code in `_meta` for the client.
pub fn failure_result(code: &'static str, text: impl Into<String>) -> CallToolResult {
    with_reason(
        CallToolResult::error(vec![ContentBlock::text(text.into())]),
        code,
    )
}

/// `r` (a failed result) with its reason code in `_meta`.
pub fn with_reason(mut r: CallToolResult, code: &'static str) -> CallToolResult {
    r.meta
        .get_or_insert_with(rmcp::model::MetaObject::new)
        .insert(
            crate::error::reason::META_KEY.to_owned(),
            serde_json::Value::String(code.to_owned()),
        );
    r
}

/// A result's content as text, for a reader inside switchboard (`ai_agent`'s model, a
/// workflow script): text blocks as they are, an image or other content as a short placeholder.
pub fn result_text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .map(|c| match c {
            ContentBlock::Text(t) => t.text.clone(),
            ContentBlock::Image(i) => format!("[image {}]", i.mime_type),
            _ => "[non-text content]".into(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The reason code a failed result carries (see [`with_reason`]).
pub fn reason_of(r: &CallToolResult) -> Option<&str> {
    r.meta
        .as_ref()?
        .get(crate::error::reason::META_KEY)?
        .as_str()
}

impl rmcp::handler::server::tool::IntoCallToolResult for crate::error::ToolError {
    fn into_call_tool_result(self) -> Result<CallToolResponse, rmcp::ErrorData> {
        Ok(failure(self.code(), self.to_string()))
    }
}

/// A piece of a rendered web page as protocol content.
pub fn page_content(b: crate::web::page::Block) -> ContentBlock {
    match b {
        crate::web::page::Block::Text(t) => ContentBlock::text(t),
        crate::web::page::Block::Image { mime, base64 } => ContentBlock::image(base64, mime),
    }
}

/// Severity order of the MCP log levels (RFC 5424), lowest first.
pub fn rank(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}
