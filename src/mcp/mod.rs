//! MCP-level pieces the server and the proxy share, holding no state of either: progress for
//! one call (with its heartbeat), the change bus that carries list and resource changes to
//! sessions of both protocol generations, and the order of log levels.
// Logging is deprecated by the 2026-07-28 revision; initialize-era clients still use it.
#![allow(deprecated)]

pub mod changes;
pub mod progress;

use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock, LoggingLevel};

/// A tool failure the model reads (`isError: true`), as every route answers one.
pub fn failure(text: impl Into<String>) -> CallToolResponse {
    CallToolResponse::Complete(failure_result(text))
}

/// [`failure`] as the bare result (what a response frame carries).
pub fn failure_result(text: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(text.into())])
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
