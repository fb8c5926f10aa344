//! `proxy_approve`: start a held servers-file entry, or let a changed child tool through again.
//! The person confirms through the host (`crate::tools::ask`: elicitation, or `input_required`
//! on 2026-07-28), shown what the entry runs or what the tools now say, and the answer counts
//! only for what was shown; the model alone cannot approve. A host that cannot ask gets the
//! terminal command instead.

use rmcp::handler::server::tool::{InputResponses, RequestState};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResponse, ElicitRequestParams, ElicitationAction};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::server::Switchboard;
use crate::tools::ToolError;
use crate::tools::ask::{AskError, Asked, Round, digest, respond};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "approve trust accept changed updated tool definitions held back child server";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProxyApproveArgs {
    /// The server's name in servers_config.json (or its alias).
    pub server: String,
    /// One held-back tool (its name on the server); all of the server's when omitted.
    #[serde(default)]
    pub tool: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Approved {
    pub server: String,
    /// The held entry was approved.
    pub entry: bool,
    /// Tools whose new definition is now trusted and listed again.
    pub approved: Vec<String>,
}

#[tool_router(router = proxy_approve_router, vis = "pub(crate)")]
impl Switchboard {
    /// Approve child tools held back because their definition changed (held_tools in proxy_status). The user confirms in the host.
    #[tool(
        annotations(
            title = "Approve changed child tools",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        ),
        output_schema = rmcp::handler::server::tool::schema_for_output::<Approved>()
    )]
    pub async fn proxy_approve(
        &self,
        Parameters(args): Parameters<ProxyApproveArgs>,
        state: RequestState,
        responses: InputResponses,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ToolError> {
        let hub = super::hub(self)?;
        let child = super::child(hub, &args.server)?;
        let entry = args
            .tool
            .is_none()
            .then(|| hub.held_entry(&child.name))
            .flatten();
        let mut held: Vec<String> = child.held().into_keys().collect();
        held.sort();
        if let Some(t) = &args.tool {
            held.retain(|h| h == t);
        }
        if held.is_empty() && entry.is_none() {
            return Err(ToolError::invalid(format!(
                "server `{}` has no held entry or held-back tool{}; proxy_status lists held servers and held_tools",
                child.name,
                args.tool
                    .as_ref()
                    .map(|t| format!(" named `{t}`"))
                    .unwrap_or_default()
            )));
        }
        let terminal = format!(
            "switchboard proxy approve {}{}",
            child.name,
            args.tool
                .as_ref()
                .map(|t| format!(":{t}"))
                .unwrap_or_default()
        );
        let listing = child.listing();
        let mut lines = Vec::new();
        for name in &held {
            if let Some(t) = listing.tools.iter().find(|t| t.name == name.as_str()) {
                let d: String = t
                    .description
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .take(300)
                    .collect();
                lines.push(format!("- {name}: {d}"));
            }
        }
        let message = match &entry {
            Some(runs) => format!(
                "Server `{}` is new or changed in the servers file. Start it? It runs:\n{}",
                child.name,
                crate::support::text::display_safe(runs, false)
            ),
            None => format!(
                "Server `{}` changed these tools since you approved them. Trust the new definitions?\n{}",
                child.name,
                lines.join("\n")
            ),
        };
        let schema = serde_json::json!({
            "type": "object",
            "properties": {"approve": {"type": "boolean", "title": "Approve the new definitions"}},
            "required": ["approve"],
        });
        let params: ElicitRequestParams = serde_json::from_value(serde_json::json!({
            "mode": "form",
            "message": message,
            "requestedSchema": schema,
        }))
        .map_err(|e| ToolError::Internal(e.to_string()))?;
        // The answer approves exactly what the question showed.
        let bound = digest(
            "proxy_approve",
            &(&child.name, &args.tool),
            &[message.as_bytes()],
        );
        let timeout = self.settings.comms.confirm_timeout;
        let answer = match self
            .ask_user(&ctx, params, bound, Round::new(state, responses), timeout)
            .await
        {
            Ok(Asked::Answer(r)) => r,
            Ok(Asked::Ask(question)) => return respond::<Approved>(Ok(Err(question))),
            Err(AskError::CannotAsk) => {
                return Err(ToolError::invalid(format!(
                    "this host cannot ask the user to confirm (no elicitation support), so approval must come from a person in a terminal: `{terminal}`"
                )));
            }
            Err(e) => {
                return Err(ToolError::invalid(format!(
                    "{e}; approve from a terminal instead: `{terminal}`"
                )));
            }
        };
        let accepted = answer.action == ElicitationAction::Accept
            && answer
                .content
                .as_ref()
                .and_then(|c| c.get("approve"))
                .and_then(|v| v.as_bool())
                == Some(true);
        if !accepted {
            return Err(ToolError::invalid(
                "the user did not approve; the tools stay held back",
            ));
        }
        let (entry, approved) = hub
            .approve(&child.name, args.tool.as_deref())
            .map_err(|e| ToolError::Internal(format!("cannot save the approval: {e}")))?;
        respond(Ok(Ok(Approved {
            server: child.name.clone(),
            entry,
            approved,
        })))
    }
}
