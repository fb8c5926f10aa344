//! Workflows in code: a short JavaScript program that calls many tools and hands back only its
//! answer. This module owns the run (limits, the script's outcome, its console) and the typed
//! bindings shown to the model; the engine itself is in [`engine`]. It knows no MCP types:
//! every tool call leaves through a [`Host`], which the tool adapter points at the one
//! dispatcher, so a script's calls meet exactly the policy a direct call meets.

mod engine;
pub mod typescript;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

/// What one run may use; each has a `workflow.*` key, named in the message that stops a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `workflow.timeout_secs`: the whole run, tool calls and any question to the user included.
    pub timeout: Duration,
    /// `workflow.max_memory_bytes`: the engine's heap.
    pub max_memory: usize,
    /// `workflow.max_stack_bytes`: how deep the script may recurse.
    pub max_stack: usize,
    /// `workflow.max_calls`: tool calls one run makes.
    pub max_calls: u32,
    /// `workflow.max_parallel`: tool calls running at once (`Promise.all` beyond it queues).
    pub max_parallel: usize,
    /// `workflow.max_result_bytes`: bytes of tool results handed to the script, all together.
    pub max_result_bytes: u64,
    /// `workflow.max_output_bytes`: the return value, as JSON.
    pub max_output_bytes: usize,
    /// `workflow.max_console_bytes`: what `console.log` keeps.
    pub max_console_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(120),
            max_memory: 64 * 1024 * 1024,
            max_stack: 1024 * 1024,
            max_calls: 1000,
            max_parallel: 8,
            max_result_bytes: 64 * 1024 * 1024,
            max_output_bytes: 256 * 1024,
            max_console_bytes: 16 * 1024,
        }
    }
}

/// What one tool call gave the script.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The result: the structured object of a tool with an output schema, else its text.
    Value(Value),
    /// The call failed; the script sees a `ToolError` with this message and reason code.
    Failed { message: String, reason: String },
}

pub type CallFuture = Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// Where a script's tool calls go. The adapter implements it over the dispatcher.
pub trait Host: Send + Sync + 'static {
    /// Runs the tool `name`; `seq` counts the run's calls from 1.
    fn call(self: Arc<Self>, seq: u32, name: String, arguments: Map<String, Value>) -> CallFuture;
}

/// Why a run ended without a value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    /// The script threw and did not catch it, or does not parse.
    #[error("{}{name}: {message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
    Script {
        name: String,
        message: String,
        line: Option<u32>,
    },
    /// A limit stopped it; the text names the key.
    #[error("{0}")]
    Limit(String),
    #[error(
        "the workflow ran out of time after {} s (workflow.timeout_secs); do less per run or raise the key",
        .0.as_secs()
    )]
    Timeout(Duration),
    #[error("the workflow was cancelled")]
    Cancelled,
    /// The engine could not run at all.
    #[error("the script engine failed: {0}")]
    Engine(String),
}

/// How a run ended, with what it printed and how many calls it made.
#[derive(Debug)]
pub struct Report {
    pub outcome: Result<Value, Failure>,
    pub console: Vec<String>,
    /// Console lines left out past `workflow.max_console_bytes`.
    pub console_dropped: usize,
    pub calls: u32,
    pub elapsed: Duration,
}

/// Runs `script` (the body of an async function: `await` and `return` work at its top level)
/// on an engine thread of its own, its tool calls through `host`. Cancelling `cancel` stops
/// the script and every call it has in flight.
pub async fn run(
    script: String,
    limits: Limits,
    host: Arc<dyn Host>,
    cancel: CancellationToken,
) -> Report {
    let started = std::time::Instant::now();
    let handle = tokio::runtime::Handle::current();
    let (tx, rx) = tokio::sync::oneshot::channel();
    // QuickJS checks its own stack against the thread's: the thread has room beyond it.
    let stack = limits.max_stack.saturating_mul(2) + 2 * 1024 * 1024;
    let guard = cancel.clone();
    let spawned = std::thread::Builder::new()
        .name("workflow".into())
        .stack_size(stack)
        .spawn(move || {
            let report = engine::run(&script, &limits, host, &cancel, &handle);
            // Calls still in flight belong to a run that is over.
            cancel.cancel();
            let _ = tx.send(report);
        });
    let failed = |why: String| Report {
        outcome: Err(Failure::Engine(why)),
        console: Vec::new(),
        console_dropped: 0,
        calls: 0,
        elapsed: started.elapsed(),
    };
    if let Err(e) = spawned {
        return failed(format!("no thread for the engine: {e}"));
    }
    // Dropping this future (the request went away) stops the run too.
    let stop_on_drop = guard.drop_guard();
    let report = rx
        .await
        .unwrap_or_else(|_| failed("the engine thread ended without a report".into()));
    stop_on_drop.disarm();
    report
}

#[cfg(test)]
mod tests;
