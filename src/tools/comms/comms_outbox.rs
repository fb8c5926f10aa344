//! `comms_outbox`: what was sent, when, to whom, and how it went.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::comms::outbox::Entry;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "sent history delivered was it sent outbox status recently sent emails messages webhooks";

/// Entries one call returns at most.
const MAX_LIMIT: usize = 100;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommsOutboxArgs {
    /// Only this tool's sends: send_email, send_webhook, send_push or notify_desktop.
    pub tool: Option<String>,
    /// Entries to skip, newest first (for paging).
    #[serde(default)]
    pub offset: usize,
    /// Entries to return (default 20, at most 100).
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CommsOutboxOutput {
    /// Newest first.
    pub entries: Vec<Entry>,
    pub total: usize,
    /// Pass as offset for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
    /// Whether bodies are kept (comms.keep_bodies).
    pub bodies_kept: bool,
}

#[tool_router(router = comms_outbox_router, vis = "pub(crate)")]
impl Switchboard {
    /// List recent sends (emails, webhooks, pushes, desktop notifications), newest first, with recipients, subject, status and Message-ID or error.
    #[tool(annotations(
        title = "Outbox",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn comms_outbox(
        &self,
        Parameters(args): Parameters<CommsOutboxArgs>,
    ) -> Result<Json<CommsOutboxOutput>, ToolError> {
        if let Some(t) = &args.tool
            && !crate::config::comms::SENDING_TOOLS.contains(&t.as_str())
        {
            return Err(ToolError::invalid(format!(
                "`{t}` is not a sending tool: use {}",
                crate::config::comms::SENDING_TOOLS.join(", ")
            )));
        }
        let limit = args.limit.unwrap_or(20).clamp(1, MAX_LIMIT);
        let (offset, tool) = (args.offset, args.tool);
        let (entries, total) = self
            .with_outbox(move |o| o.recent(tool.as_deref(), offset, limit))
            .await?;
        let next = offset + entries.len();
        Ok(Json(CommsOutboxOutput {
            entries,
            total,
            next_offset: (next < total).then_some(next),
            bodies_kept: self.settings.comms.keep_bodies,
        }))
    }
}
