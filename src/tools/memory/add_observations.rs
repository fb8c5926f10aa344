//! `add_observations`: new facts about existing entities (the official memory server's tool).

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::check_graph_text;
use crate::memory::graph::{ObservationAdd, ObservationsAdded};
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "add attach fact observation detail note to entity existing node knowledge graph append";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddObservationsArgs {
    /// For each entity (by name), the facts to add.
    pub observations: Vec<ObservationAdd>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AddObservationsOutput {
    /// Per entity, the observations that were new.
    pub results: Vec<ObservationsAdded>,
}

#[tool_router(router = add_observations_router, vis = "pub(crate)")]
impl Switchboard {
    /// Add observations (facts) to existing entities in the knowledge graph; ones already there are skipped. An unknown entity fails the call and nothing is added.
    #[tool(annotations(
        title = "Add observations",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    pub async fn add_observations(
        &self,
        Parameters(args): Parameters<AddObservationsArgs>,
    ) -> Result<Json<AddObservationsOutput>, ToolError> {
        let max = self.settings.memory.max_note_chars;
        for o in &args.observations {
            check_graph_text(max, &o.contents)?;
        }
        let results = self
            .with_notes(move |m| Ok(m.add_observations(&args.observations)?))
            .await?;
        Ok(Json(AddObservationsOutput { results }))
    }
}
