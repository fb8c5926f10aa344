//! `memory_save`: remembers a note (text, tags, global or for the current project).

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Scope, check_text, scope_value};
use crate::memory::notes::Note;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "remember note down keep in mind memorize save store fact prefer preference decision later next session";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemorySaveArgs {
    /// What to remember, in plain words.
    pub text: String,
    /// Words to find it by later (lowercased).
    #[serde(default)]
    pub tags: Vec<String>,
    /// `global` (default) or `project` (the current project, the first root).
    #[serde(default)]
    pub scope: Scope,
}

#[tool_router(router = memory_save_router, vis = "pub(crate)")]
impl Switchboard {
    /// Remember a note across sessions (facts, decisions, preferences). Returns its id.
    #[tool(annotations(
        title = "Save a note",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    pub async fn memory_save(
        &self,
        Parameters(args): Parameters<MemorySaveArgs>,
    ) -> Result<Json<Note>, ToolError> {
        check_text(&args.text, self.settings.memory.max_note_chars)?;
        let scope = scope_value(self, args.scope)?;
        self.with_notes(move |n| Ok(n.save(&args.text, &args.tags, &scope)?))
            .await
            .map(Json)
    }
}
