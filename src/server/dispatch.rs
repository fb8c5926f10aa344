//! The one call path. Every tool call — from the host (`tools/call`, which is also how the CLI's
//! `call` arrives), from `call_tool`, from `ai_agent` — is resolved to a route here and run by
//! [`Switchboard::dispatch`]: the offered check (toolsets, read-only mode, the configuration),
//! the argument check against the tool's input schema, progress with a heartbeat, cancellation,
//! statistics and the request log, and the answer passed on as the tool gave it (a result, a
//! question for the user, a task). Path and network policy are applied by the services the
//! tools use; no route skips any of this.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{CallToolRequestParams, CallToolResponse, JsonObject, Tool};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};
use serde_json::Value;

use super::Switchboard;
use crate::mcp::failure;
use crate::mcp::progress::CallProgress;
use crate::policy::tools::{Category, DISCOVERY};

/// Who asked for a call. The path is the same for all; only the log line and two rules differ:
/// `ai_agent` never reaches child servers (their annotations are the child's word, and the
/// agent's read-only default rests on them), and an unknown name is a JSON-RPC error only for
/// the host (for the others it is a tool failure the model reads).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    Host,
    CallTool,
    Agent,
}

impl Caller {
    fn label(self) -> &'static str {
        match self {
            Caller::Host => "host",
            Caller::CallTool => "call_tool",
            Caller::Agent => "ai_agent",
        }
    }
}

/// Where a name leads.
enum Route {
    /// A built-in tool and its input schema, from the catalogue (built once per process).
    BuiltIn(&'static Value),
    Declared(Arc<crate::declared::DeclaredTool>),
    Child(Tool, Arc<crate::proxy::Hub>),
}

impl Route {
    /// The input schema the arguments are checked against.
    fn schema(&self) -> std::borrow::Cow<'_, Value> {
        use std::borrow::Cow;
        match self {
            Route::BuiltIn(schema) => Cow::Borrowed(*schema),
            Route::Declared(d) => Cow::Owned(Value::Object(d.tool.input_schema.as_ref().clone())),
            Route::Child(t, _) => Cow::Owned(Value::Object(t.input_schema.as_ref().clone())),
        }
    }
}

/// Why a name has no route.
enum NoRoute {
    /// No such tool here (or not offered): the text says why and what is close.
    Unknown(String),
    /// A child server that has the tool is still starting.
    Starting(String),
}

pub type Answer<'a> = Pin<Box<dyn Future<Output = Result<CallToolResponse, McpError>> + Send + 'a>>;

impl Switchboard {
    /// Runs one tool call on the one path (see the module docs).
    /// Boxed with an explicit `Send`: the path is re-entered (`call_tool`, `ai_agent`), which an
    /// inferred future type could not describe.
    pub fn dispatch(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
        caller: Caller,
    ) -> Answer<'_> {
        Box::pin(self.dispatch_now(request, ctx, caller))
    }

    /// [`Self::dispatch`] without the box, for the host's calls (the common case).
    pub(crate) async fn dispatch_now(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
        caller: Caller,
    ) -> Result<CallToolResponse, McpError> {
        let mut request = request;
        if request.name.trim().len() != request.name.len() {
            request.name = request.name.trim().to_owned().into();
        }
        let name = request.name.to_string();
        if name == "call_tool" && caller != Caller::Agent {
            return self.unwrap_call_tool(request, ctx).await;
        }
        let route = match self.route(&name, &ctx, caller).await {
            Ok(r) => r,
            Err(NoRoute::Unknown(why)) if caller == Caller::Host => {
                return Err(McpError::invalid_params(
                    format!("unknown tool: {why}; call tools/list to see the tools"),
                    None,
                ));
            }
            Err(NoRoute::Unknown(why) | NoRoute::Starting(why)) => {
                self.log_refused(&name, caller, &why);
                return Ok(failure(why));
            }
        };
        let log = self.settings.logging.requests;
        if log {
            tracing::info!(tool = %name, via = caller.label(), arguments = ?request.arguments, "tool call");
        }
        let started = Instant::now();
        let given = request.arguments.take().unwrap_or_default();
        let result = match arguments(&name, &route.schema(), given) {
            Err(e) => Ok(failure(e.to_string())),
            Ok(arguments) => {
                request.arguments = Some(arguments);
                self.run_route(route, request, ctx).await
            }
        };
        let elapsed = started.elapsed();
        let failed = match &result {
            Ok(CallToolResponse::Complete(r)) => r.is_error == Some(true),
            Ok(_) => false,
            Err(_) => true,
        };
        self.stats.record(&name, elapsed, failed);
        if log {
            let elapsed_us = elapsed.as_micros() as u64;
            tracing::info!(tool = %name, via = caller.label(), elapsed_us, result = ?result, "tool result");
        }
        result
    }

    /// Runs a resolved call, with progress and its heartbeat when the client asked for progress.
    async fn run_route(
        &self,
        route: Route,
        request: CallToolRequestParams,
        mut ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let progress = CallProgress::for_request(&ctx);
        let beat = progress.as_ref().map(|p| {
            let stop = ctx.ct.child_token();
            p.heartbeat(self.settings.limits.progress_interval, stop.clone());
            ctx.extensions.insert(p.clone());
            stop.drop_guard()
        });
        let result = match route {
            Route::BuiltIn(_) => {
                self.catalog()
                    .router
                    .call(ToolCallContext::new(self, request, ctx))
                    .await
            }
            Route::Declared(tool) => Ok(CallToolResponse::Complete(
                crate::tools::declared::call(self, &tool, request.arguments, &ctx).await,
            )),
            Route::Child(_, hub) => {
                let name = request.name.to_string();
                match hub.call_tool(request, &ctx).await {
                    Some(r) => r,
                    None => Ok(failure(format!(
                        "the child server behind `{name}` no longer offers it; search_tools shows what is offered now"
                    ))),
                }
            }
        };
        drop(beat);
        result
    }

    /// `call_tool`: the named tool runs on this same path, and its answer (a question for the
    /// user included) is passed on unchanged.
    async fn unwrap_call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let args = request.arguments.clone().unwrap_or_default();
        let inner = match args.get("name") {
            Some(Value::String(n)) => n.trim().to_owned(),
            _ => {
                // No usable name: the schema check says what is wrong, as for any tool.
                let schema = self
                    .catalog()
                    .schema("call_tool")
                    .cloned()
                    .unwrap_or_default();
                let why = match arguments("call_tool", &schema, args) {
                    Err(e) => e.to_string(),
                    Ok(_) => "`name` must be a tool's name".to_owned(),
                };
                return Ok(failure(why));
            }
        };
        if let Some(extra) = args.keys().find(|k| *k != "name" && *k != "arguments") {
            return Ok(failure(format!(
                "the arguments do not fit `call_tool`: `arguments.{}` is not a parameter of call_tool (it takes `name` and `arguments`)",
                crate::support::text::quote(extra, 60)
            )));
        }
        if DISCOVERY.contains(&inner.as_str()) {
            return Ok(failure(format!(
                "call `{inner}` directly, not through call_tool"
            )));
        }
        let given = match args.get("arguments") {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => Some(o.clone()),
            Some(Value::String(s)) => match serde_json::from_str(s) {
                Ok(Value::Object(o)) => Some(o),
                _ => {
                    return Ok(failure(format!(
                        "`arguments` must be a JSON object of `{inner}`'s parameters, not a string"
                    )));
                }
            },
            Some(other) => {
                return Ok(failure(format!(
                    "`arguments` must be a JSON object of `{inner}`'s parameters, not {}",
                    crate::support::text::quote(&other.to_string(), 60)
                )));
            }
        };
        let mut inner_request = request;
        inner_request.name = inner.into();
        inner_request.arguments = Some(given.unwrap_or_default());
        self.dispatch(inner_request, ctx, Caller::CallTool).await
    }

    /// Resolves `name` to a route: a built-in tool, a declarative one, or a child's (waiting,
    /// on a first call, for the children's start-up like the first `tools/list` does).
    async fn route(
        &self,
        name: &str,
        ctx: &RequestContext<RoleServer>,
        caller: Caller,
    ) -> Result<Route, NoRoute> {
        if let Some(schema) = self.catalog().schema(name) {
            return Ok(Route::BuiltIn(schema));
        }
        if let Some(d) = self
            .folders()
            .visible_tools(&self.settings)
            .find(|t| t.name == name)
        {
            return Ok(Route::Declared(Arc::new(d.clone())));
        }
        // Boxed: waiting for children and ranking suggestions are the rare paths, and their
        // state would otherwise make every call's future larger.
        Box::pin(self.route_further(name, ctx, caller)).await
    }

    /// A child's tool, a child that is starting, or no such tool.
    async fn route_further(
        &self,
        name: &str,
        ctx: &RequestContext<RoleServer>,
        caller: Caller,
    ) -> Result<Route, NoRoute> {
        let hub = self.start_proxy();
        if caller != Caller::Agent
            && let Some(hub) = &hub
            && self.settings.tools.toolsets.admits(name, Category::Proxy)
        {
            hub.set_host(&ctx.peer);
            if !hub.has_tool(name) {
                hub.wait_startup().await;
            }
            if hub.has_tool(name) {
                let tool = hub.tool(name).unwrap_or_else(|| held_tool(name));
                return Ok(Route::Child(tool, hub.clone()));
            }
            if let Some((server, wait)) = hub.starting(name) {
                let secs = wait.as_secs().max(1);
                return Err(NoRoute::Starting(format!(
                    "`{server}` is starting; retry in {secs} s (its tools appear in tools/list and search_tools once it is ready)"
                )));
            }
        }
        if caller == Caller::Agent && hub.as_ref().is_some_and(|h| h.has_tool(name)) {
            return Err(NoRoute::Unknown(format!(
                "`{name}` belongs to a child server, and ai_agent only uses switchboard's own tools"
            )));
        }
        // Suggestions rank every offered tool: off the protocol thread, so pings and other
        // calls never wait behind a mistyped name.
        let (me, name) = (self.clone(), name.to_owned());
        let why = tokio::task::spawn_blocking(move || {
            let view = me.hub().map(|h| h.view());
            let offered = me.offered(&me.folders(), view.as_deref());
            me.not_offered(&name, &offered)
        })
        .await
        .unwrap_or_else(|e| format!("the tool name could not be checked: {e}"));
        Err(NoRoute::Unknown(why))
    }

    fn log_refused(&self, name: &str, caller: Caller, why: &str) {
        if self.settings.logging.requests {
            tracing::info!(
                tool = %crate::support::text::quote(name, 200),
                via = caller.label(),
                why,
                "tool call refused"
            );
        }
    }
}

/// A child tool held back (pinning) has no definition to show; the hub answers its calls with
/// the reason, so any arguments pass.
fn held_tool(name: &str) -> Tool {
    Tool::new(
        name.to_owned(),
        String::new(),
        Arc::new(serde_json::Map::from_iter([(
            "type".to_owned(),
            Value::String("object".into()),
        )])),
    )
}

/// The arguments for `tool`, checked against its input schema: every problem named by its
/// path (`arguments.args: expected array, got string`), with the schema to fix the call by.
pub fn arguments(
    name: &str,
    schema: &Value,
    args: JsonObject,
) -> Result<JsonObject, crate::error::ToolError> {
    let value = Value::Object(args);
    let problems = crate::support::schema::check(schema, &value, "arguments");
    if problems.is_empty() {
        let Value::Object(args) = value else {
            unreachable!("built from an object just above")
        };
        return Ok(args);
    }
    Err(crate::error::ToolError::invalid(format!(
        "the arguments do not fit `{name}`:\n- {}\nIts input schema: {schema}",
        problems.join("\n- ")
    )))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::arguments;
    use crate::policy::tools::Toolsets;
    use crate::tools::{Shape, router};

    fn obj(v: serde_json::Value) -> rmcp::model::JsonObject {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn arguments_are_checked_against_the_target_schema() {
        let r = router(Shape::everything(), &Toolsets::everything());
        let schema = |name: &str| {
            serde_json::Value::Object(r.get(name).unwrap().input_schema.as_ref().clone())
        };
        let read = &schema("read_file");
        let ok = arguments("read_file", read, obj(json!({"path": "a.txt"}))).unwrap();
        assert_eq!(ok["path"], "a.txt");
        let e = arguments("read_file", read, obj(json!({"path": 3, "paht": "x"})))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`arguments.path`: expected string, got integer 3"),
            "{e}"
        );
        assert!(e.contains("`arguments.paht`: unknown property"), "{e}");
        assert!(e.contains("Its input schema: {"), "{e}");
        let e = arguments("read_file", read, obj(json!({})))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing required property `path`"), "{e}");
        let time = schema("current_time");
        assert!(
            arguments("current_time", &time, obj(json!({})))
                .unwrap()
                .is_empty()
        );
    }
}
