//! `proxy_approve`: start a held servers-file entry, or let a changed child tool through again.
//! The person confirms through the host (elicitation), shown what the entry runs or what the
//! tools now say; the model alone cannot approve. Without elicitation the answer says how to
//! approve from a terminal.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{
    ClientResult, ElicitRequest, ElicitRequestParams, ElicitationAction, ServerRequest,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::server::Switchboard;
use crate::tools::ToolError;

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
    #[tool(annotations(
        title = "Approve changed child tools",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn proxy_approve(
        &self,
        Parameters(args): Parameters<ProxyApproveArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<Approved>, ToolError> {
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
        let can_ask = ctx
            .client_capabilities()
            .is_some_and(|c| c.elicitation.is_some());
        if !can_ask {
            return Err(ToolError::invalid(format!(
                "this host cannot ask the user to confirm (no elicitation support), so approval must come from a person in a terminal: `{terminal}`"
            )));
        }
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
        let answer = ctx
            .peer
            .send_request(ServerRequest::ElicitRequest(ElicitRequest::new(params)))
            .await
            .map_err(|e| {
                ToolError::invalid(format!(
                    "the host did not confirm ({e}); approve from a terminal instead: `{terminal}`"
                ))
            })?;
        let accepted = match answer {
            ClientResult::ElicitResult(r) => {
                r.action == ElicitationAction::Accept
                    && r.content
                        .as_ref()
                        .and_then(|c| c.get("approve"))
                        .and_then(|v| v.as_bool())
                        == Some(true)
            }
            _ => false,
        };
        if !accepted {
            return Err(ToolError::invalid(
                "the user did not approve; the tools stay held back",
            ));
        }
        let (entry, approved) = hub
            .approve(&child.name, args.tool.as_deref())
            .map_err(|e| ToolError::Internal(format!("cannot save the approval: {e}")))?;
        Ok(Json(Approved {
            server: child.name.clone(),
            entry,
            approved,
        }))
    }
}
