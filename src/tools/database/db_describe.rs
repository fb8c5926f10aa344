//! `db_describe`: one table's columns, types, keys and indexes.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::resolve;
use crate::db::TableDesc;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "schema columns structure describe table fields types keys indexes";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DbDescribeArgs {
    /// A connection name (db_connections), or a SQLite file path inside the roots.
    pub database: String,
    /// The table or view (PostgreSQL: `name` or `schema.name`).
    pub table: String,
}

#[tool_router(router = db_describe_router, vis = "pub(crate)")]
impl Switchboard {
    /// Describe a table's columns, keys and indexes; use it before querying an unfamiliar table.
    #[tool(annotations(
        title = "Describe table",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn db_describe(
        &self,
        Parameters(args): Parameters<DbDescribeArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<TableDesc>, ToolError> {
        let scope = self.file_scope(&ctx).await;
        let source = resolve(self, &scope, &args.database)?;
        Ok(Json(self.databases().describe(&source, &args.table).await?))
    }
}
