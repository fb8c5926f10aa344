//! Database tools: SQL on the configured connections (`crate::db`) and on SQLite files inside
//! the roots. This file is the registry, plus what the tools share: turning the `database`
//! argument into a connection or a policy-checked file.

pub mod db_connections;
pub mod db_describe;
pub mod db_execute;
pub mod db_export_csv;
pub mod db_query;
pub mod db_tables;

use rmcp::handler::server::router::tool::ToolRouter;

use crate::db::{DbError, Source};
use crate::policy::FileScope;
use crate::server::Switchboard;
use crate::tools::ToolError;

pub fn router() -> ToolRouter<Switchboard> {
    Switchboard::db_connections_router()
        + Switchboard::db_query_router()
        + Switchboard::db_execute_router()
        + Switchboard::db_tables_router()
        + Switchboard::db_describe_router()
        + Switchboard::db_export_csv_router()
}

impl From<DbError> for ToolError {
    fn from(e: DbError) -> Self {
        ToolError::Invalid(e.to_string())
    }
}

/// A connection by name, or else a SQLite file inside the roots (always read-only).
pub(crate) fn resolve(
    sb: &Switchboard,
    scope: &FileScope,
    database: &str,
) -> Result<Source, ToolError> {
    let settings = &sb.settings.database;
    if let Some(c) = settings.get(database) {
        return Ok(Source::Connection(c.clone()));
    }
    let looks_like_path = database.contains(['/', '\\', '.']);
    if !looks_like_path {
        let names: Vec<&str> = settings
            .connections
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        return Err(ToolError::invalid(format!(
            "no connection `{database}`; the connections are: {} (db_connections describes them), or give the path of a SQLite file inside the roots",
            names.join(", ")
        )));
    }
    let resolved = scope.existing(database)?;
    if !resolved.path.is_file() {
        return Err(ToolError::invalid(format!(
            "`{database}` is not a file; give a SQLite database file"
        )));
    }
    Ok(Source::File(resolved.path))
}
