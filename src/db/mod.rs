//! SQL databases for the database tools (issue 7, in progress): the guarded SQLite layer first.
//! Nothing here knows MCP; the tools will be thin adapters over these functions. Read-only is
//! enforced by the engine itself (an authorizer and a read-only handle), never by reading the
//! SQL text, because the text can always hide a write (`SELECT 1; COMMIT; DROP TABLE t`).

pub mod split;
pub mod sqlite;

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

/// A refusal or failure, worded for the model.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The statement asks for something this connection may not do.
    #[error("{0}")]
    Refused(String),
    #[error(
        "the query ran longer than {ms} ms ({key}); narrow it (WHERE, LIMIT) or raise the limit"
    )]
    Timeout { ms: u64, key: &'static str },
    #[error("{0}")]
    Sql(String),
    #[error("`{path}` cannot be opened: {why}")]
    Open { path: String, why: String },
}

/// Caps on one query's result.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_rows: usize,
    pub max_bytes: usize,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Column {
    pub name: String,
    /// The declared type, when the column comes straight from a table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decl_type: Option<String>,
}

/// One page of a query's rows.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Rows {
    pub columns: Vec<Column>,
    /// Each row as JSON values; blobs are summarised as `"<blob: N bytes>"`.
    pub rows: Vec<Vec<Value>>,
    /// Set when more rows follow: pass it as `offset` to read on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
    /// Why the page ended early, with the limit's config key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cut: Option<String>,
    pub duration_ms: u64,
}
