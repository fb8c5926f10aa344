//! `memory_delete`: forgets a note.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "forget delete note memory erase remove remembered";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryDeleteArgs {
    pub id: i64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MemoryDeleteOutput {
    pub deleted: i64,
}

#[tool_router(router = memory_delete_router, vis = "pub(crate)")]
impl Switchboard {
    /// Forget a remembered note for good (it cannot be brought back). Ids come from memory_search and memory_list.
    #[tool(annotations(
        title = "Delete a note",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    pub async fn memory_delete(
        &self,
        Parameters(args): Parameters<MemoryDeleteArgs>,
    ) -> Result<Json<MemoryDeleteOutput>, ToolError> {
        let id = args.id;
        self.with_notes(move |n| Ok(n.delete(id)?)).await?;
        Ok(Json(MemoryDeleteOutput { deleted: id }))
    }
}
