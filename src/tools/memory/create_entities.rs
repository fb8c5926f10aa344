//! `create_entities`: new entities in the knowledge graph (the official memory server's tool).

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::check_graph_text;
use crate::memory::graph::Entity;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "create build entity entities node person organization company project knowledge graph add new";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEntitiesArgs {
    /// Entities to create: a unique name, a type (person, project, ...) and facts about it.
    pub entities: Vec<Entity>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CreateEntitiesOutput {
    /// The entities created; a name that already exists is skipped.
    pub entities: Vec<Entity>,
}

#[tool_router(router = create_entities_router, vis = "pub(crate)")]
impl Switchboard {
    /// Create entities in the knowledge graph (name, entityType, observations). Existing names are skipped; add facts to them with add_observations.
    #[tool(annotations(
        title = "Create entities",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    pub async fn create_entities(
        &self,
        Parameters(args): Parameters<CreateEntitiesArgs>,
    ) -> Result<Json<CreateEntitiesOutput>, ToolError> {
        let max = self.settings.memory.max_note_chars;
        for e in &args.entities {
            check_graph_text(
                max,
                [&e.name, &e.entity_type].into_iter().chain(&e.observations),
            )?;
        }
        let entities = self
            .with_notes(move |m| Ok(m.create_entities(&args.entities)?))
            .await?;
        Ok(Json(CreateEntitiesOutput { entities }))
    }
}
