//! `db_execute`: one writing statement on a connection the config marks writable.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::resolve_for_write;
use crate::db::Rows;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "insert update delete alter drop create table write modify change records column set values ddl dml sql statement";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DbExecuteArgs {
    /// A writable connection's name (db_connections; `local` is the built-in scratch
    /// database), or a SQLite file inside the roots (created when absent).
    pub database: String,
    /// Exactly one statement (INSERT, UPDATE, DELETE, CREATE, ...); it commits on its own.
    pub sql: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DbExecuteOutput {
    /// Rows inserted, updated or deleted.
    pub affected_rows: u64,
    /// What the statement returned (RETURNING), capped like a query's page.
    pub result: Rows,
}

#[tool_router(router = db_execute_router, vis = "pub(crate)")]
impl Switchboard {
    /// Run one writing SQL statement (INSERT, UPDATE, DELETE, CREATE...) on a writable connection or a SQLite file inside the roots (created if absent) and commit it. Returns the affected row count.
    #[tool(annotations(
        title = "Execute SQL",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    pub async fn db_execute(
        &self,
        Parameters(args): Parameters<DbExecuteArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<DbExecuteOutput>, ToolError> {
        let scope = self.file_scope(&ctx).await;
        let source = resolve_for_write(self, &scope, &args.database)?;
        let (result, affected_rows) = self.databases().execute(&source, &args.sql).await?;
        Ok(Json(DbExecuteOutput {
            affected_rows,
            result,
        }))
    }
}
