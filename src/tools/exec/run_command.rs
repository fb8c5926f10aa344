//! `run_command`: run one program with an argument array (never through a shell) and wait for
//! it, under the execution policy: cwd in the roots, cleared environment, timeout, output caps,
//! rlimits, sandbox, and the whole process tree killed on timeout or cancellation.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::run_planned;
use crate::exec::{EnvArgs, program_argv};
use crate::policy::exec::ExecRequest;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "run execute command program binary cli build compile test tests make cargo npm yarn go pytest lint linter format docker version check exit code stdout stderr fails failing error errors git push pull clone commit";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunCommandArgs {
    /// Program name (looked up on PATH) or path.
    pub program: String,
    /// Arguments, one per element; nothing is split or expanded.
    #[serde(default)]
    pub args: Vec<String>,
    /// Working directory inside the roots; default: the first root.
    pub cwd: Option<String>,
    /// Extra environment variables (the environment is otherwise a small allowlist).
    #[serde(default)]
    pub env: EnvArgs,
    /// Text sent to stdin (otherwise stdin is empty).
    pub stdin: Option<String>,
    /// Seconds before the process tree is killed (default 30).
    pub timeout_secs: Option<u64>,
}

#[tool_router(router = run_command_router, vis = "pub(crate)")]
impl Switchboard {
    /// Run a program with an argument list (no shell) and wait for it. Returns exit code, stdout and stderr (head and tail when long) and duration. Use process_start for servers and other long-running programs.
    #[tool(
        annotations(
            title = "Run command",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = true
        ),
        output_schema = super::run_output_schema()
    )]
    pub async fn run_command(
        &self,
        Parameters(args): Parameters<RunCommandArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let req = ExecRequest {
            cwd: args.cwd,
            env: args.env,
            timeout_secs: args.timeout_secs,
            ..ExecRequest::default()
        };
        let (program, argv) = (args.program, args.args);
        run_planned(self, &ctx, req, args.stdin, move |plan| {
            program_argv(plan, &program, argv)
        })
        .await
    }
}
