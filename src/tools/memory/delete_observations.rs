//! `delete_observations`: chosen facts of entities (the official memory server's tool).

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::Deleted;
use crate::memory::graph::ObservationDelete;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "delete remove observation fact outdated entity knowledge graph";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteObservationsArgs {
    /// For each entity (by name), the exact observations to remove.
    pub deletions: Vec<ObservationDelete>,
}

#[tool_router(router = delete_observations_router, vis = "pub(crate)")]
impl Switchboard {
    /// Delete specific observations from entities in the knowledge graph (exact text). Unknown entities and observations are ignored.
    #[tool(annotations(
        title = "Delete observations",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn delete_observations(
        &self,
        Parameters(args): Parameters<DeleteObservationsArgs>,
    ) -> Result<Json<Deleted>, ToolError> {
        let n = self
            .with_notes(move |m| Ok(m.delete_observations(&args.deletions)?))
            .await?;
        Ok(Json(Deleted::new(n, "observations")))
    }
}
