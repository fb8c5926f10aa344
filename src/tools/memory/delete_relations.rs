//! `delete_relations`: chosen relations (the official memory server's tool).

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::Deleted;
use crate::memory::graph::Relation;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "delete remove relation relationship link edge unlink disconnect knowledge graph";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteRelationsArgs {
    /// The relations to delete (from, to, relationType exactly).
    pub relations: Vec<Relation>,
}

#[tool_router(router = delete_relations_router, vis = "pub(crate)")]
impl Switchboard {
    /// Delete relations from the knowledge graph, matched exactly on from, to and relationType. Unknown ones are ignored.
    #[tool(annotations(
        title = "Delete relations",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn delete_relations(
        &self,
        Parameters(args): Parameters<DeleteRelationsArgs>,
    ) -> Result<Json<Deleted>, ToolError> {
        let n = self
            .with_notes(move |m| Ok(m.delete_relations(&args.relations)?))
            .await?;
        Ok(Json(Deleted::new(n, "relations")))
    }
}
