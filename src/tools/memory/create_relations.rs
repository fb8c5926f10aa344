//! `create_relations`: directed, typed relations between entities (the official memory
//! server's tool).

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::check_graph_text;
use crate::memory::graph::Relation;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "relation relationship link connect edge between works at depends on manages build knowledge graph";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRelationsArgs {
    /// Relations to create, in active voice: from `Ada`, relationType `works_at`, to `Acme`.
    pub relations: Vec<Relation>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CreateRelationsOutput {
    /// The relations created; one that already exists is skipped.
    pub relations: Vec<Relation>,
}

#[tool_router(router = create_relations_router, vis = "pub(crate)")]
impl Switchboard {
    /// Create relations between entities in the knowledge graph (from, relationType in active voice, to). Existing relations are skipped.
    #[tool(annotations(
        title = "Create relations",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    pub async fn create_relations(
        &self,
        Parameters(args): Parameters<CreateRelationsArgs>,
    ) -> Result<Json<CreateRelationsOutput>, ToolError> {
        let max = self.settings.memory.max_note_chars;
        for r in &args.relations {
            check_graph_text(max, [&r.from, &r.to, &r.relation_type])?;
        }
        let relations = self
            .with_notes(move |m| Ok(m.create_relations(&args.relations)?))
            .await?;
        Ok(Json(CreateRelationsOutput { relations }))
    }
}
