//! `db_export_csv`: a read-only query's whole result streamed into a CSV file inside the roots
//! (the path policy applies). Rows flow from the database to a writer on the blocking pool
//! through a bounded channel, so memory stays flat however big the result; the file appears
//! whole at the end, or not at all when the query fails.

use std::io::BufWriter;

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::resolve;
use crate::server::Switchboard;
use crate::tools::files::common::{display, put_in_place, staged_file};
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "export csv spreadsheet dump save results file";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DbExportCsvArgs {
    /// A connection name (db_connections), or a SQLite file path inside the roots.
    pub database: String,
    /// Exactly one read-only statement; every row it returns is written.
    pub sql: String,
    /// The CSV file to write: absolute, or relative to the first root.
    pub path: String,
    /// Replace an existing file (atomically).
    #[serde(default)]
    pub overwrite: bool,
    /// Create missing parent folders.
    #[serde(default)]
    pub create_parents: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DbExportCsvOutput {
    pub path: String,
    pub columns: Vec<String>,
    /// Data rows written (the header line not counted).
    pub rows: u64,
    pub bytes: u64,
    /// True when the file did not exist before.
    pub created: bool,
    /// Set when a cap ended the file early: which one, and how to get the rest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cut: Option<String>,
}

#[tool_router(router = db_export_csv_router, vis = "pub(crate)")]
impl Switchboard {
    /// Export the full result of one read-only SQL query to a CSV file inside the roots, without passing the rows through the conversation. Returns the row count.
    #[tool(annotations(
        title = "Export query to CSV",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn db_export_csv(
        &self,
        Parameters(args): Parameters<DbExportCsvArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<DbExportCsvOutput>, ToolError> {
        let scope = self.file_scope(&ctx).await;
        let source = resolve(self, &scope, &args.database)?;
        let (target, tmp) = {
            let (input, overwrite, parents) =
                (args.path.clone(), args.overwrite, args.create_parents);
            blocking(move || staged_file(&scope, &input, overwrite, parents, ".csv")).await?
        };
        let dbs = self.databases();
        let (max_rows, max_bytes) = (dbs.settings.max_export_rows, dbs.settings.max_export_bytes);
        let (tx, rx) = tokio::sync::mpsc::channel(256);
        let file = tmp
            .file()
            .try_clone()
            .map_err(|e| ToolError::io(&args.path, e))?;
        let writer = tokio::task::spawn_blocking(move || {
            crate::db::csv::write(&mut BufWriter::new(file), rx, max_rows, max_bytes)
        });
        let produced = dbs.stream(&source, &args.sql, tx).await;
        let written = writer
            .await
            .map_err(|e| ToolError::Internal(format!("the CSV writer failed: {e}")))?
            .map_err(|e| ToolError::io(&args.path, e))?;
        produced?;
        let created = target.existing.is_none();
        let (to, input, overwrite) = (target.clone(), args.path.clone(), args.overwrite);
        blocking(move || put_in_place(tmp, &to, overwrite, &input)).await?;
        Ok(Json(DbExportCsvOutput {
            path: display(&target.path),
            columns: written.columns,
            rows: written.rows,
            bytes: written.bytes,
            created,
            cut: written.cut.map(|c| {
                format!(
                    "the file stops at {c}; export the rest with a WHERE clause or ORDER BY ... OFFSET {}, or raise the limit",
                    written.rows
                )
            }),
        }))
    }
}
