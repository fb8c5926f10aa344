//! `memory_update`: changes a note's text or tags.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::check_text;
use crate::memory::notes::Note;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "update change edit correct note memory tags revise";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryUpdateArgs {
    pub id: i64,
    /// The new text (unchanged when absent).
    #[serde(default)]
    pub text: Option<String>,
    /// The new tags, replacing the old ones (unchanged when absent).
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

#[tool_router(router = memory_update_router, vis = "pub(crate)")]
impl Switchboard {
    /// Change a remembered note's text and/or tags; returns the note as it is now.
    #[tool(annotations(
        title = "Update a note",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn memory_update(
        &self,
        Parameters(args): Parameters<MemoryUpdateArgs>,
    ) -> Result<Json<Note>, ToolError> {
        if args.text.is_none() && args.tags.is_none() {
            return Err(ToolError::invalid(
                "nothing to change: give text, tags or both",
            ));
        }
        if let Some(t) = &args.text {
            check_text(t, self.settings.memory.max_note_chars)?;
        }
        self.with_notes(move |n| {
            Ok(n.update(args.id, args.text.as_deref(), args.tags.as_deref())?)
        })
        .await
        .map(Json)
    }
}
