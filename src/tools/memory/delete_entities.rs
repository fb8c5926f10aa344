//! `delete_entities`: entities and every relation from or to them (the official memory
//! server's tool).

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::Deleted;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "delete remove entity node knowledge graph drop";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeleteEntitiesArgs {
    /// Names of the entities to delete; unknown names are ignored.
    pub entity_names: Vec<String>,
}

#[tool_router(router = delete_entities_router, vis = "pub(crate)")]
impl Switchboard {
    /// Delete entities from the knowledge graph, with their observations and every relation from or to them. Unknown names are ignored.
    #[tool(annotations(
        title = "Delete entities",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn delete_entities(
        &self,
        Parameters(args): Parameters<DeleteEntitiesArgs>,
    ) -> Result<Json<Deleted>, ToolError> {
        let n = self
            .with_notes(move |m| Ok(m.delete_entities(&args.entity_names)?))
            .await?;
        Ok(Json(Deleted::new(n, "entities")))
    }
}
