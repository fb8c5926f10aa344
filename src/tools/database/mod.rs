//! Database tools: SQL on the configured connections (`crate::db`) and on SQLite files inside
//! the roots. This file is the registry, plus what the tools share: turning the `database`
//! argument into a connection or a policy-checked file.

crate::tools::registry! {
    Some(crate::policy::tools::Category::Database);
    db_connections => db_connections_router,
    db_describe => db_describe_router,
    db_execute => db_execute_router,
    db_export_csv => db_export_csv_router,
    db_query => db_query_router,
    db_tables => db_tables_router,
}

use crate::db::{DbError, Source};
use crate::policy::FileScope;
use crate::server::Switchboard;
use crate::tools::ToolError;

impl From<DbError> for ToolError {
    fn from(e: DbError) -> Self {
        ToolError::refused(e.code(), e.to_string())
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

/// [`resolve`] for `db_execute`: a path names a SQLite file inside the roots to write, created
/// when absent, wherever the path policy allows a write (never a protected path, never
/// through a final symlink).
pub(crate) fn resolve_for_write(
    sb: &Switchboard,
    scope: &FileScope,
    database: &str,
) -> Result<Source, ToolError> {
    if sb.settings.database.get(database).is_some() || !database.contains(['/', '\\', '.']) {
        return resolve(sb, scope, database);
    }
    let target = scope.for_write(database)?;
    match target.existing {
        Some(t) if !t.is_file() => Err(ToolError::invalid(format!(
            "`{database}` exists and is not a file; give a SQLite database file"
        ))),
        None if target.missing_parents => Err(ToolError::invalid(format!(
            "the folder of `{database}` does not exist; create it with create_directory first"
        ))),
        _ => Ok(Source::WritableFile(target.path)),
    }
}
