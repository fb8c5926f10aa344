//! `open_nodes`: chosen entities by name (the official memory server's tool).

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::GRAPH_DATA;
use super::search_nodes::NodesOutput;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "open entity node details by name its relations";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenNodesArgs {
    /// Entity names (at most memory.max_results); unknown names are left out.
    pub names: Vec<String>,
}

#[tool_router(router = open_nodes_router, vis = "pub(crate)")]
impl Switchboard {
    /// Open entities of the knowledge graph by name: their types and observations, and the relations touching them.
    #[tool(annotations(
        title = "Open nodes",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn open_nodes(
        &self,
        Parameters(args): Parameters<OpenNodesArgs>,
    ) -> Result<Json<NodesOutput>, ToolError> {
        let max = self.settings.memory.max_results;
        if args.names.len() > max {
            return Err(ToolError::invalid(format!(
                "{} names, over the {max} limit (memory.max_results); open them in smaller groups",
                args.names.len()
            )));
        }
        let graph = self
            .with_notes(move |m| Ok(m.open_nodes(&args.names)?))
            .await?;
        Ok(Json(NodesOutput {
            notice: GRAPH_DATA,
            entities: graph.entities,
            relations: graph.relations,
            next_offset: None,
        }))
    }
}
