//! Code execution: commands, shell lines, code in any interpreter found at start-up, package
//! installs, and long-lived background processes. Every tool here plans its run through the
//! one execution policy (`policy::exec`) and starts it through `support::process`, so cwd,
//! environment, timeouts, output caps, rlimits, the sandbox and tree kill hold for all of
//! them. This file is the registry plus what the tools share: the run result and the table of
//! background processes.

crate::tools::registry! {
    Some(crate::policy::tools::Category::Exec);
    install_package => install_package_router,
    process_kill => process_kill_router,
    process_list => process_list_router,
    process_read => process_read_router,
    process_start => process_start_router,
    process_wait => process_wait_router,
    process_write => process_write_router,
    run_code => run_code_router,
    run_command => run_command_router,
    run_shell => run_shell_router,
}

use std::ffi::OsString;
use std::sync::Arc;

use rmcp::model::CallToolResult;

use crate::mcp::progress::CallProgress;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, handler::server::common::schema_for_output};

use crate::exec::{RunOutput, finish_review, run_output, spawn_error};
use crate::policy::exec::{ExecRequest, Plan};
use crate::server::Switchboard;
use crate::support::process::{self, Input, RunOptions, RunOutcome};
use crate::tools::ToolError;

pub(crate) fn run_output_schema() -> Arc<rmcp::model::JsonObject> {
    schema_for_output::<RunOutput>()
}

/// Plans `req`, builds the argv with `build` (which may write into the scratch dir), runs it to
/// the end with progress and cancellation, and shapes the result.
pub(crate) async fn run_planned(
    sb: &Switchboard,
    ctx: &RequestContext<RoleServer>,
    req: ExecRequest,
    stdin: Option<String>,
    build: impl FnOnce(&mut Plan) -> Result<Vec<OsString>, ToolError>,
) -> Result<CallToolResult, ToolError> {
    let scope = sb.file_scope(ctx).await;
    let mut plan = sb.exec.plan(&scope, req).await?;
    let argv = build(&mut plan)?;
    let (outcome, review) = run_plan(sb, ctx, &mut plan, argv, stdin).await?;
    let output = run_output(&plan, &outcome, sb.exec.settings.max_output_bytes, review);
    let value = serde_json::to_value(&output)
        .map_err(|e| ToolError::Internal(format!("result not serialisable: {e}")))?;
    Ok(if outcome.timed_out {
        crate::mcp::with_reason(
            CallToolResult::structured_error(value),
            crate::error::reason::TIMEOUT,
        )
    } else {
        CallToolResult::structured(value)
    })
}

/// Runs `argv` under `plan`, waiting for the end, then finishes the protected-path review;
/// the outcome and the review's notes for the model.
pub(crate) async fn run_plan(
    sb: &Switchboard,
    ctx: &RequestContext<RoleServer>,
    plan: &mut Plan,
    argv: Vec<OsString>,
    stdin: Option<String>,
) -> Result<(RunOutcome, Vec<String>), ToolError> {
    let input = stdin.map_or(Input::Null, |s| Input::Bytes(s.into_bytes()));
    let spec = plan.spec(argv, input, false);
    let started = process::start(spec, &sb.exec.supervisor)
        .await
        .map_err(spawn_error)?;
    let progress = CallProgress::of(ctx).map(|reporter| {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<process::Progress>(4);
        tokio::spawn(async move {
            while let Some(p) = rx.recv().await {
                let message = match p.last_line {
                    Some(l) => format!("{} lines, {} bytes; last: {l}", p.lines, p.bytes),
                    None => format!("{} lines, {} bytes", p.lines, p.bytes),
                };
                if !reporter.report(p.bytes as f64, None, Some(message)).await {
                    break;
                }
            }
        });
        tx
    });
    let outcome = process::run_to_end(
        started,
        RunOptions {
            timeout: plan.timeout,
            max_output_bytes: sb.exec.settings.max_output_bytes,
            cancel: ctx.ct.clone(),
            progress,
        },
    )
    .await;
    Ok((outcome, finish_review(plan.review.take()).await))
}
