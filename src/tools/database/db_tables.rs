//! `db_tables`: the tables and views of a database.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::resolve;
use crate::db::{MAX_TABLES, Table};
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "tables views list show tables dt what is in database sqlite file schema overview";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DbTablesArgs {
    /// A connection name (db_connections), or a SQLite file path inside the roots.
    pub database: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DbTablesOutput {
    pub tables: Vec<Table>,
    /// Set when the list stopped at its cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cut: Option<String>,
}

#[tool_router(router = db_tables_router, vis = "pub(crate)")]
impl Switchboard {
    /// List the tables and views of a database (with their PostgreSQL schema). Then db_describe shows a table's columns and keys.
    #[tool(annotations(
        title = "List tables",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn db_tables(
        &self,
        Parameters(args): Parameters<DbTablesArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<DbTablesOutput>, ToolError> {
        let scope = self.file_scope(&ctx).await;
        let source = resolve(self, &scope, &args.database)?;
        let mut tables = self.databases().tables(&source).await?;
        let cut = (tables.len() > MAX_TABLES).then(|| {
            tables.truncate(MAX_TABLES);
            format!("the list stops at {MAX_TABLES} tables; query the catalogue with db_query to see the rest")
        });
        Ok(Json(DbTablesOutput { tables, cut }))
    }
}
