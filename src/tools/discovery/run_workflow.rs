//! `run_workflow`: runs a short JavaScript program (`crate::workflow`) whose `tools.NAME()`
//! calls go through the one dispatcher like any direct call, and returns only what the script
//! returns. Each call is reported as progress of this one. A call that asks the user (a send
//! to confirm) asks through this call: with `elicitation/create` in initialize-era sessions,
//! and on 2026-07-28 by answering `input_required` while the script waits, to go on when the
//! host calls again with the answer.

pub const KEYWORDS: &str = "script javascript code mode chain many tools loop parallel batch pipeline aggregate";

use std::sync::{Arc, Mutex};

use rmcp::handler::server::tool::{InputResponses, RequestState};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolRequestParams, CallToolResponse, CallToolResult, InputRequiredResult};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::error::reason;
use crate::mcp::progress::CallProgress;
use crate::server::{Caller, Switchboard};
use crate::tools::ToolError;
use crate::workflow::{CallFuture, Failure, Host, Outcome, Report};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunWorkflowArgs {
    /// JavaScript, the body of an async function: `await tools.NAME({...})` runs a tool (a child's `srv__x` as `tools.srv.x`), `return` gives the result.
    pub script: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RunWorkflowOutput {
    /// What the script returned.
    #[schemars(schema_with = "any_json")]
    pub result: Value,
    /// Tool calls it made.
    pub calls: u32,
    /// What it printed with console.log.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub console: Vec<String>,
    /// Console lines left out (workflow.max_console_bytes).
    #[serde(skip_serializing_if = "is_zero")]
    pub console_dropped: usize,
    pub elapsed_ms: u64,
}

/// Any JSON value, said as such (a schema with no keyword at all reads as a mistake).
fn any_json(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "anyOf": [
            {"type": "object"}, {"type": "array"}, {"type": "string"},
            {"type": "number"}, {"type": "boolean"}, {"type": "null"}
        ],
        "description": "What the script returned."
    })
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// What a running script tells the call waiting on it.
enum Event {
    /// A tool call of the script asks the user; the answer goes back on the sender.
    Ask(
        InputRequiredResult,
        oneshot::Sender<Option<rmcp::model::InputResponses>>,
    ),
    Done(Report),
}

/// A run, as one round of the call sees it. Dropping it stops the run.
struct Running {
    events: mpsc::Receiver<Event>,
    /// Where the script's calls report progress: the current round's.
    progress: Arc<Mutex<Option<Arc<CallProgress>>>>,
    _stop: DropGuard,
}

/// A run waiting for the user's answer between two rounds.
struct Suspended {
    running: Running,
    answer: oneshot::Sender<Option<rmcp::model::InputResponses>>,
    /// The script it runs: an answer is accepted only for the same script.
    digest: String,
}

/// The script's calls, through the dispatcher.
struct Calls {
    server: Switchboard,
    ctx: RequestContext<RoleServer>,
    cancel: CancellationToken,
    progress: Arc<Mutex<Option<Arc<CallProgress>>>>,
    events: mpsc::Sender<Event>,
}

impl Host for Calls {
    fn call(self: Arc<Self>, seq: u32, name: String, arguments: Map<String, Value>) -> CallFuture {
        Box::pin(async move {
            let progress = crate::support::lock(&self.progress).clone();
            if let Some(p) = progress {
                p.report(f64::from(seq), None, Some(format!("call {seq}: {name}")))
                    .await;
            }
            let mut ctx = self.ctx.clone();
            ctx.ct = self.cancel.child_token();
            let mut request = CallToolRequestParams::new(name).with_arguments(arguments);
            loop {
                let answer = self
                    .server
                    .dispatch(request.clone(), ctx.clone(), Caller::Workflow)
                    .await;
                let asked = match answer {
                    Ok(CallToolResponse::Complete(r)) => return outcome(r),
                    Ok(CallToolResponse::InputRequired(asked)) => asked,
                    Ok(_) => {
                        return Outcome::Failed {
                            message: "the tool answered with a task, which a workflow cannot wait for; call it directly".into(),
                            reason: reason::INVALID.into(),
                        };
                    }
                    Err(e) => {
                        return Outcome::Failed {
                            message: e.message.to_string(),
                            reason: reason::INTERNAL.into(),
                        };
                    }
                };
                // Ask the user through the workflow's own call, and try again with the answer.
                let (tx, rx) = oneshot::channel();
                let state = asked.request_state.clone();
                if self.events.send(Event::Ask(asked, tx)).await.is_err() {
                    return cancelled();
                }
                let responses = tokio::select! {
                    r = rx => r.ok().flatten(),
                    _ = ctx.ct.cancelled() => return cancelled(),
                };
                let Some(responses) = responses else {
                    return Outcome::Failed {
                        message: "the user's answer did not come back; nothing was done".into(),
                        reason: reason::CANCELLED.into(),
                    };
                };
                request.input_responses = Some(responses);
                request.request_state = state;
            }
        })
    }
}

fn cancelled() -> Outcome {
    Outcome::Failed {
        message: "the workflow was stopped".into(),
        reason: reason::CANCELLED.into(),
    }
}

/// What the script receives of a tool's result: its structured object when it has one, else
/// its text; a failure becomes a `ToolError` with the tool's message and reason code.
fn outcome(r: CallToolResult) -> Outcome {
    if r.is_error == Some(true) {
        return Outcome::Failed {
            message: crate::mcp::result_text(&r),
            reason: crate::mcp::reason_of(&r)
                .unwrap_or(reason::INVALID)
                .to_owned(),
        };
    }
    match r.structured_content {
        Some(v) => Outcome::Value(v),
        None => Outcome::Value(Value::String(crate::mcp::result_text(&r))),
    }
}

impl Switchboard {
    /// Starts a run of `script` on the engine, its calls through the dispatcher; the run holds
    /// `permit` (its place under `workflow.max_runs`) until it ends.
    fn start_workflow(
        &self,
        script: String,
        ctx: &RequestContext<RoleServer>,
        permit: tokio::sync::OwnedSemaphorePermit,
    ) -> Running {
        let cancel = CancellationToken::new();
        let (tx, events) = mpsc::channel(4);
        let progress = Arc::new(Mutex::new(None));
        let mut inner = ctx.clone();
        // The script's calls report as this call (see `Calls`), not under its token.
        CallProgress::detach(&mut inner);
        let calls = Arc::new(Calls {
            server: self.clone(),
            ctx: inner,
            cancel: cancel.clone(),
            progress: progress.clone(),
            events: tx.clone(),
        });
        let limits = self.settings.workflow.limits.clone();
        let run = cancel.clone();
        tokio::spawn(async move {
            let report = crate::workflow::run(script, limits, calls, run).await;
            drop(permit);
            let _ = tx.send(Event::Done(report)).await;
        });
        Running {
            events,
            progress,
            _stop: cancel.drop_guard(),
        }
    }
}

/// The tool's answer for a finished run.
fn finished(report: Report) -> CallToolResponse {
    let calls = report.calls;
    match report.outcome {
        Ok(result) => {
            let out = RunWorkflowOutput {
                result,
                calls,
                console: report.console,
                console_dropped: report.console_dropped,
                elapsed_ms: report.elapsed.as_millis() as u64,
            };
            match serde_json::to_value(out) {
                Ok(v) => CallToolResponse::Complete(CallToolResult::structured(v)),
                Err(e) => crate::mcp::failure(reason::INTERNAL, e.to_string()),
            }
        }
        Err(failure) => {
            let code = match &failure {
                Failure::Script { .. } => reason::SCRIPT_ERROR,
                Failure::Limit(_) => reason::WORKFLOW_LIMIT,
                Failure::Timeout(_) => reason::TIMEOUT,
                Failure::Cancelled => reason::CANCELLED,
                Failure::Engine(_) => reason::INTERNAL,
            };
            let mut text = format!("the workflow failed: {failure}");
            if let Failure::Script { name, .. } = &failure
                && name == "ToolError"
            {
                text.push_str(" (a tool call failed; catch it with try/catch to handle it in the script)");
            }
            text.push_str(&format!("\nTool calls made: {calls}."));
            if !report.console.is_empty() {
                text.push_str("\nConsole:\n");
                text.push_str(&report.console.join("\n"));
            }
            crate::mcp::failure(code, text)
        }
    }
}

#[tool_router(router = run_workflow_router, vis = "pub(crate)")]
impl Switchboard {
    /// Run a JavaScript workflow: many tool calls in one step; only the return value comes back. For loops, conditions and parallel calls (Promise.all); search_tools with typescript: true gives the declarations. Calls meet the same checks as direct ones; a failed call throws a ToolError.
    #[tool(
        annotations(
            title = "Run a workflow script",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = true
        ),
        output_schema = rmcp::handler::server::tool::schema_for_output::<RunWorkflowOutput>()
    )]
    pub async fn run_workflow(
        &self,
        Parameters(args): Parameters<RunWorkflowArgs>,
        RequestState(state): RequestState,
        InputResponses(responses): InputResponses,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ToolError> {
        let w = &self.settings.workflow;
        let ttl = w.limits.timeout;
        // An answer between rounds is accepted only for the script that asked.
        let digest = crate::tools::ask::digest("run_workflow", &args.script, &[]);
        let mut running = match state {
            Some(handle) => {
                let waiting = self
                    .workflows
                    .take(&handle, ttl)
                    .and_then(|b| b.downcast::<Suspended>().ok());
                let Some(waiting) = waiting else {
                    return Err(ToolError::invalid(
                        "this workflow is no longer waiting for an answer (it was answered, it ran out of time, or it belongs to another session); run the script again",
                    ));
                };
                if waiting.digest != digest {
                    return Err(ToolError::invalid(
                        "the answer was sent with a different script than the one that asked; run the script again",
                    ));
                }
                let _ = waiting.answer.send(responses);
                waiting.running
            }
            None => {
                if args.script.len() > w.max_script_bytes {
                    return Err(ToolError::refused(
                        reason::WORKFLOW_LIMIT,
                        format!(
                            "the script is {} bytes, over workflow.max_script_bytes ({}); keep the script short and let the tools do the work",
                            args.script.len(),
                            w.max_script_bytes
                        ),
                    ));
                }
                if args.script.trim().is_empty() {
                    return Err(ToolError::invalid(
                        "`script` is empty: write JavaScript that awaits tools.NAME({...}) calls and returns the result",
                    ));
                }
                let Ok(permit) = self.workflow_runs.clone().try_acquire_owned() else {
                    return Err(ToolError::refused(
                        reason::WORKFLOW_LIMIT,
                        format!(
                            "{} workflows are running already (workflow.max_runs); wait for one to finish, or do this with direct calls",
                            w.max_runs
                        ),
                    ));
                };
                self.start_workflow(args.script, &ctx, permit)
            }
        };
        *crate::support::lock(&running.progress) = CallProgress::of(&ctx);
        let event = tokio::select! {
            e = running.events.recv() => e,
            // Dropping `running` stops the script and its calls.
            _ = ctx.ct.cancelled() => return Ok(crate::mcp::failure(reason::CANCELLED, "the workflow was cancelled")),
        };
        match event {
            Some(Event::Done(report)) => Ok(finished(report)),
            Some(Event::Ask(asked, answer)) => {
                *crate::support::lock(&running.progress) = None;
                let handle = self.workflows.put(
                    Box::new(Suspended {
                        running,
                        answer,
                        digest,
                    }),
                    ttl,
                );
                Ok(CallToolResponse::InputRequired(InputRequiredResult::new(
                    asked.input_requests,
                    Some(handle),
                )))
            }
            None => Err(ToolError::Internal(
                "the workflow ended without a report".into(),
            )),
        }
    }
}
