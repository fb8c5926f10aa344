//! `run_shell`: one command line through the configured shell (`sh -c` by default), with every
//! limit of `run_command`. The only tool that uses a shell; `exec.shell: false` removes it.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::run_planned;
use crate::exec::{EnvArgs, shell_argv};
use crate::policy::exec::ExecRequest;
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "shell bash sh zsh pipe pipeline redirect glob wildcard && || one-liner command line subshell xargs sort uniq wc awk";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunShellArgs {
    /// The command line, e.g. `cargo test 2>&1 | tail -50`.
    pub command: String,
    /// Working directory inside the roots; default: the first root.
    pub cwd: Option<String>,
    /// Extra environment variables.
    #[serde(default)]
    pub env: EnvArgs,
    /// Text sent to stdin.
    pub stdin: Option<String>,
    /// Seconds before the process tree is killed (default 30).
    pub timeout_secs: Option<u64>,
}

#[tool_router(router = run_shell_router, vis = "pub(crate)")]
impl Switchboard {
    /// Run a shell command line (pipes, redirects, globs) and wait for it. Same limits and result as run_command; prefer run_command when no shell features are needed.
    #[tool(
        annotations(
            title = "Run shell command",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = true
        ),
        output_schema = super::run_output_schema()
    )]
    pub async fn run_shell(
        &self,
        Parameters(args): Parameters<RunShellArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let Some(shell) = self.exec.settings.shell.clone() else {
            return Err(ToolError::invalid(
                "the shell tool is disabled (exec.shell: false); use run_command",
            ));
        };
        if args.command.trim().is_empty() {
            return Err(ToolError::invalid("give a command line to run"));
        }
        let req = ExecRequest {
            cwd: args.cwd,
            env: args.env,
            timeout_secs: args.timeout_secs,
            ..ExecRequest::default()
        };
        let line = args.command;
        run_planned(self, &ctx, req, args.stdin, move |plan| {
            shell_argv(plan, &shell, line)
        })
        .await
    }
}
