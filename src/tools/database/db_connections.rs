//! `db_connections`: the configured connections, what they point at and what they allow.

use rmcp::handler::server::wrapper::Json;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Serialize;

use crate::config::DatabaseSettings;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "databases configured connections available which database connect";

#[derive(Debug, Serialize, JsonSchema)]
pub struct ConnectionInfo {
    pub name: String,
    /// `sqlite` or `postgres`.
    pub engine: &'static str,
    /// The SQLite file, or the PostgreSQL URL without password.
    pub location: String,
    /// Whether db_execute may change it.
    pub writable: bool,
    pub max_rows: usize,
    pub statement_timeout_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DbConnectionsOutput {
    pub connections: Vec<ConnectionInfo>,
    /// What else the tools accept.
    pub note: &'static str,
}

pub fn db_connections(settings: &DatabaseSettings) -> DbConnectionsOutput {
    DbConnectionsOutput {
        connections: settings
            .connections
            .iter()
            .map(|c| ConnectionInfo {
                name: c.name.clone(),
                engine: c.engine(),
                location: c.location(),
                writable: c.writable,
                max_rows: c.max_rows,
                statement_timeout_ms: c.statement_timeout.as_millis() as u64,
                description: c.description.clone(),
            })
            .collect(),
        note: "Pass a name as `database`, or the path of a SQLite file inside the roots (opened read-only).",
    }
}

#[tool_router(router = db_connections_router, vis = "pub(crate)")]
impl Switchboard {
    /// List the database connections (name, engine, writable). Call it first: the db_* tools take one of these names or a SQLite file path.
    #[tool(annotations(
        title = "Database connections",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn db_connections(&self) -> Result<Json<DbConnectionsOutput>, ToolError> {
        Ok(Json(db_connections(&self.databases().settings)))
    }
}
