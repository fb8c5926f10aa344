//! `call_tool`: runs any offered tool by name, for hosts that were shown only the compact
//! core. The arguments are checked against the tool's input schema first, then the call goes
//! through the same path as a direct `tools/call`: the same policy, toolsets, progress
//! notifications, cancellation, statistics and request log.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolRequestParams, CallToolResponse, CallToolResult, JsonObject, Tool};
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

/// The arguments for `tool`, checked against its input schema. A JSON object sent as a
/// string (a common slip) is accepted.
pub fn arguments(tool: &Tool, given: Option<Value>) -> Result<JsonObject, ToolError> {
    let name = &tool.name;
    let args = match given {
        None | Some(Value::Null) => JsonObject::new(),
        Some(Value::Object(o)) => o,
        Some(Value::String(s)) => match serde_json::from_str(&s) {
            Ok(Value::Object(o)) => o,
            _ => {
                return Err(ToolError::invalid(format!(
                    "`arguments` must be a JSON object of `{name}`'s parameters, not a string"
                )));
            }
        },
        Some(other) => {
            return Err(ToolError::invalid(format!(
                "`arguments` must be a JSON object of `{name}`'s parameters, not {other}"
            )));
        }
    };
    let schema = Value::Object(tool.input_schema.as_ref().clone());
    let problems =
        crate::support::schema::check(&schema, &Value::Object(args.clone()), "arguments");
    if problems.is_empty() {
        return Ok(args);
    }
    Err(ToolError::invalid(format!(
        "the arguments do not fit `{name}`:\n- {}\nIts input schema: {schema}",
        problems.join("\n- ")
    )))
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::arguments;
    use crate::policy::tools::Toolsets;
    use crate::tools::{Shape, router};

    #[test]
    fn arguments_are_checked_against_the_target_schema() {
        let r = router(Shape::everything(), &Toolsets::everything());
        let read = r.get("read_file").unwrap();
        let ok = arguments(read, Some(json!({"path": "a.txt"}))).unwrap();
        assert_eq!(ok["path"], "a.txt");
        let ok = arguments(read, Some(json!("{\"path\": \"b\"}"))).unwrap();
        assert_eq!(ok["path"], "b");
        let e = arguments(read, Some(json!({"path": 3, "paht": "x"})))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`arguments.path`: expected string, got integer 3"),
            "{e}"
        );
        assert!(e.contains("`arguments.paht`: unknown property"), "{e}");
        assert!(e.contains("Its input schema: {"), "{e}");
        let e = arguments(read, None).unwrap_err().to_string();
        assert!(e.contains("missing required property `path`"), "{e}");
        let e = arguments(read, Some(json!([1]))).unwrap_err().to_string();
        assert!(e.contains("must be a JSON object"), "{e}");
        let time = r.get("current_time").unwrap();
        assert!(arguments(time, None).unwrap().is_empty());
    }
}
