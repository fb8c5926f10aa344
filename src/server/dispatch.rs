//! The one call path. Every tool call — from the host (`tools/call`, which is also how the CLI's
//! `call` arrives), from `call_tool`, from `ai_agent`, from a `run_workflow` script — is resolved to a route here and run by
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
use crate::error::reason;
use crate::mcp::failure;
use crate::mcp::progress::CallProgress;
use crate::policy::tools::{Category, DISCOVERY};

/// Who asked for a call. The path is the same for all; only the log line and three rules
/// differ: `ai_agent` never reaches child servers (their annotations are the child's word, and
/// the agent's read-only default rests on them), neither the agent nor a workflow starts a
/// workflow, and an unknown name is a JSON-RPC error only for the host (for the others it is
/// a tool failure the model reads).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    Host,
    CallTool,
    Agent,
    /// A `run_workflow` script's `tools.NAME()`.
    Workflow,
}

impl Caller {
    fn label(self) -> &'static str {
        match self {
            Caller::Host => "host",
            Caller::CallTool => "call_tool",
            Caller::Agent => "ai_agent",
            Caller::Workflow => "run_workflow",
        }
    }
}

/// Where a name leads.
enum Route {
    /// A built-in tool's name and input schema, from the catalogue (built once per process).
    BuiltIn(&'static str, &'static Value),
    Declared(Arc<crate::declared::DeclaredTool>),
    /// A child's tool (boxed: a tool definition is large, and every call's future holds the route).
    Child(Box<Tool>, Arc<crate::proxy::Hub>),
}

impl Route {
    /// The input schema the arguments are checked against.
    fn schema(&self) -> std::borrow::Cow<'_, Value> {
        use std::borrow::Cow;
        match self {
            Route::BuiltIn(_, schema) => Cow::Borrowed(*schema),
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
        mut request: CallToolRequestParams,
        mut ctx: RequestContext<RoleServer>,
        caller: Caller,
    ) -> Result<CallToolResponse, McpError> {
        if request.name.trim().len() != request.name.len() {
            request.name = request.name.trim().to_owned().into();
        }
        if request.name == "run_workflow" && matches!(caller, Caller::Agent | Caller::Workflow) {
            // A script runs only at the host's word: never one started by another script, or
            // by the agent (whose reach it would widen to the child servers).
            let why = format!(
                "{} cannot start a workflow; do the work in this script or call the tools directly",
                caller.label()
            );
            self.log_refused(&request.name, caller, &why);
            return Ok(failure(reason::INVALID, why));
        }
        if request.name == "call_tool" && caller != Caller::Agent {
            // Boxed: its state would otherwise make every call's future larger.
            return Box::pin(self.unwrap_call_tool(request, ctx)).await;
        }
        // Built-in and declarative tools resolve without waiting; children, a child that is
        // starting and unknown names take the boxed rare path (its state would otherwise make
        // every call's future larger).
        let found = match self.route_now(&request.name) {
            Some(route) => Ok(route),
            None => Box::pin(self.route_further(&request.name, &ctx, caller)).await,
        };
        let route = match found {
            Ok(r) => r,
            Err(NoRoute::Unknown(why)) if caller == Caller::Host => {
                return Err(McpError::invalid_params(
                    format!("unknown tool: {why}; call tools/list to see the tools"),
                    None,
                ));
            }
            Err(NoRoute::Unknown(why) | NoRoute::Starting(why)) => {
                self.log_refused(&request.name, caller, &why);
                return Ok(failure(reason::TOOL_UNAVAILABLE, why));
            }
        };
        // The name for the log and the statistics: the catalogue's own for a built-in tool (no
        // copy per call), the request's for the rest.
        let name: std::borrow::Cow<'static, str> = match &route {
            Route::BuiltIn(name, _) => std::borrow::Cow::Borrowed(name),
            _ => request.name.clone(),
        };
        let log = self.settings.logging.requests;
        if log {
            tracing::info!(tool = %name, via = caller.label(), arguments = ?request.arguments, "tool call");
        }
        let started = Instant::now();
        let given = request.arguments.take().unwrap_or_default();
        // Checked in a statement of its own: a temporary of the match's scrutinee would live on
        // through the call's await, in every call's future.
        let checked = arguments(&name, &route.schema(), given);
        let result = match checked {
            Err(e) => Ok(failure(reason::INVALID_ARGUMENTS, e.to_string())),
            Ok(arguments) => {
                request.arguments = Some(arguments);
                // Progress with its heartbeat when the client asked for it. (Run here rather
                // than in a helper: each layer of future would copy the request and context.)
                let progress = CallProgress::for_request(&ctx);
                let beat = progress.as_ref().map(|p| {
                    let stop = ctx.ct.child_token();
                    p.heartbeat(self.settings.limits.progress_interval, stop.clone());
                    ctx.extensions.insert(p.clone());
                    stop.drop_guard()
                });
                let result = match route {
                    Route::BuiltIn(..) => self.built_in(request, ctx).await,
                    // Boxed: a declarative tool's or a child's call future is many times the size of
                    // a built-in's, and every call's future would otherwise carry that size.
                    Route::Declared(tool) => Ok(CallToolResponse::Complete(
                        Box::pin(crate::tools::declared::call(
                            self,
                            &tool,
                            request.arguments,
                            &ctx,
                        ))
                        .await,
                    )),
                    Route::Child(_, hub) => match Box::pin(hub.call_tool(request, &ctx)).await {
                        Some(r) => r,
                        None => Ok(failure(
                            reason::TOOL_UNAVAILABLE,
                            format!(
                                "the child server behind `{name}` no longer offers it; search_tools shows what is offered now"
                            ),
                        )),
                    },
                };
                drop(beat);
                result
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

    /// A built-in tool's call through the router (also the size the future-size test measures
    /// the dispatcher's against).
    fn built_in(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<CallToolResponse, McpError>> + Send + '_ {
        self.catalog()
            .router
            .call(ToolCallContext::new(self, request, ctx))
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
                    .map(|(_, schema)| schema.clone())
                    .unwrap_or_default();
                let why = match arguments("call_tool", &schema, args) {
                    Err(e) => e.to_string(),
                    Ok(_) => "`name` must be a tool's name".to_owned(),
                };
                return Ok(failure(reason::INVALID_ARGUMENTS, why));
            }
        };
        if let Some(extra) = args.keys().find(|k| *k != "name" && *k != "arguments") {
            return Ok(failure(
                reason::INVALID_ARGUMENTS,
                format!(
                    "the arguments do not fit `call_tool`: `arguments.{}` is not a parameter of call_tool (it takes `name` and `arguments`)",
                    crate::support::text::quote(extra, 60)
                ),
            ));
        }
        if DISCOVERY.contains(&inner.as_str()) {
            return Ok(failure(
                reason::INVALID,
                format!("call `{inner}` directly, not through call_tool"),
            ));
        }
        let given = match args.get("arguments") {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => Some(o.clone()),
            Some(Value::String(s)) => match serde_json::from_str(s) {
                Ok(Value::Object(o)) => Some(o),
                _ => {
                    return Ok(failure(
                        reason::INVALID_ARGUMENTS,
                        format!(
                            "`arguments` must be a JSON object of `{inner}`'s parameters, not a string"
                        ),
                    ));
                }
            },
            Some(other) => {
                return Ok(failure(
                    reason::INVALID_ARGUMENTS,
                    format!(
                        "`arguments` must be a JSON object of `{inner}`'s parameters, not {}",
                        crate::support::text::quote(&other.to_string(), 60)
                    ),
                ));
            }
        };
        let mut inner_request = request;
        inner_request.name = inner.into();
        inner_request.arguments = Some(given.unwrap_or_default());
        self.dispatch(inner_request, ctx, Caller::CallTool).await
    }

    /// A built-in or declarative tool's route.
    fn route_now(&self, name: &str) -> Option<Route> {
        if let Some((name, schema)) = self.catalog().schema(name) {
            return Some(Route::BuiltIn(name, schema));
        }
        self.folders()
            .visible_tools(&self.settings)
            .find(|t| t.name == name)
            .map(|d| Route::Declared(Arc::new(d.clone())))
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
                return Ok(Route::Child(Box::new(tool), hub.clone()));
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

#[cfg(test)]
mod future_size {
    use std::future::Future;

    use rmcp::RoleServer;
    use rmcp::model::CallToolRequestParams;
    use rmcp::service::RequestContext;

    use super::Caller;
    use crate::server::Switchboard;

    /// The size of the future a call path returns, without making one.
    fn size<'a, F: Future>(
        _: impl FnOnce(&'a Switchboard, CallToolRequestParams, RequestContext<RoleServer>) -> F,
    ) -> usize {
        std::mem::size_of::<F>()
    }

    /// Every host call's task holds the dispatcher's future, so it stays small: the rare
    /// routes (children, declarative tools, `call_tool`, suggestions) are boxed. Inlining one of
    /// them once made it 19.5 KB, copied several times per call.
    #[test]
    fn the_call_path_future_stays_small() {
        let host = size(|s, r, c| s.dispatch_now(r, c, Caller::Host));
        let router = size(|s, r, c| s.built_in(r, c));
        assert!(
            host <= router + 1024,
            "the dispatcher's future is {host} bytes (a built-in call's own is {router})"
        );
    }
}
