//! `call_tool`: runs any offered tool by name, for hosts that were shown only the compact
//! core. The arguments are checked against the tool's input schema first, then the call goes
//! through the same path as a direct `tools/call`: the same policy, toolsets, progress
//! notifications, cancellation, statistics and request log.

/// None: the discovery tools are not in the index they search.
pub const KEYWORDS: &str = "";

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolRequestParams, CallToolResponse, CallToolResult, JsonObject};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use crate::server::{Caller, Switchboard};
use crate::tools::ToolError;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallToolArgs {
    /// The tool's exact name, as search_tools returned it.
    pub name: String,
    /// The tool's arguments: an object matching its input_schema.
    // Declared an object; a JSON object sent as a string is still accepted.
    #[schemars(with = "Option<JsonObject>")]
    pub arguments: Option<Value>,
}

#[tool_router(router = call_tool_router, vis = "pub(crate)")]
impl Switchboard {
    /// Run any tool this server offers by name, with arguments matching its input schema (find tools and schemas with search_tools). The result is that tool's own result.
    #[tool(annotations(
        title = "Call a tool",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn call_tool(
        &self,
        Parameters(args): Parameters<CallToolArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        // The dispatcher runs call_tool itself (so a question for the user passes through);
        // this body serves callers that reach the router directly.
        let name = args.name.trim().to_owned();
        let mut arguments = JsonObject::new();
        arguments.insert("name".into(), Value::String(name.clone()));
        if let Some(a) = args.arguments {
            arguments.insert("arguments".into(), a);
        }
        let request = CallToolRequestParams::new("call_tool").with_arguments(arguments);
        match self.dispatch(request, ctx, Caller::Host).await {
            Ok(CallToolResponse::Complete(result)) => Ok(result),
            Ok(_) => Err(ToolError::invalid(format!(
                "`{name}` answered with a task or a question for the user; call it through tools/call"
            ))),
            Err(e) => Err(ToolError::invalid(format!(
                "`{name}` failed: {}",
                e.message
            ))),
        }
    }
}
