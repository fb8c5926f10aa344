//! `db_query`: one read-only SQL statement, a page of rows at a time.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::resolve;
use crate::db::Rows;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "sql select query count rows read records sqlite postgres postgresql database how many";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DbQueryArgs {
    /// A connection name (db_connections), or a SQLite file path inside the roots.
    pub database: String,
    /// Exactly one read-only statement (SELECT, WITH, EXPLAIN, schema PRAGMAs). Values go in
    /// the text; there are no placeholders.
    pub sql: String,
    /// Rows to skip: the `next_offset` of the previous page.
    #[serde(default)]
    pub offset: usize,
}

#[tool_router(router = db_query_router, vis = "pub(crate)")]
impl Switchboard {
    /// Run one read-only SQL query (SELECT) on SQLite or PostgreSQL; returns columns and rows as JSON, paged. Use db_execute to write.
    #[tool(annotations(
        title = "Query database",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn db_query(
        &self,
        Parameters(args): Parameters<DbQueryArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<Rows>, ToolError> {
        let scope = self.file_scope(&ctx).await;
        let source = resolve(self, &scope, &args.database)?;
        Ok(Json(
            self.databases()
                .query(&source, &args.sql, args.offset)
                .await?,
        ))
    }
}
