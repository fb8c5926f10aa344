//! `process_start`: start a long-running program in the background (a dev server, a watcher,
//! a REPL) under the execution policy, and return its id at once. Its stdout and stderr go
//! into one capped ring buffer read with `process_read`; its stdin stays open for
//! `process_write`. It dies with switchboard.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::exec::{EnvArgs, ProcessInfo, program_argv, shell_argv, spawn_error};
use crate::policy::exec::ExecRequest;
use crate::server::Switchboard;
use crate::support::process::{self, Background, Input};
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "background start launch spawn long-running server daemon watcher dev server keep running detach nohup without waiting job";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessStartArgs {
    /// Program name or path, run with `args` (no shell). Give this or `command`.
    pub program: Option<String>,
    /// Arguments for `program`, one per element.
    #[serde(default)]
    pub args: Vec<String>,
    /// A shell command line instead of `program` (when the shell tool is enabled).
    pub command: Option<String>,
    /// Working directory inside the roots; default: the first root.
    pub cwd: Option<String>,
    /// Extra environment variables.
    #[serde(default)]
    pub env: EnvArgs,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProcessStartOutput {
    #[serde(flatten)]
    pub process: ProcessInfo,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[tool_router(router = process_start_router, vis = "pub(crate)")]
impl Switchboard {
    /// Start a long-running program (server, watcher, REPL) in the background and return its id at once. Then use process_read, process_write and process_kill. It stops when switchboard exits.
    #[tool(annotations(
        title = "Start background process",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn process_start(
        &self,
        Parameters(args): Parameters<ProcessStartArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<ProcessStartOutput>, ToolError> {
        let s = &self.exec.settings;
        if self.processes.running() >= s.max_background {
            return Err(ToolError::invalid(format!(
                "{} background processes are running, the limit (exec.background.max_processes); stop one with process_kill first",
                s.max_background
            )));
        }
        let shell_line = match (&args.program, &args.command) {
            (Some(_), None) => None,
            (None, Some(line)) if !line.trim().is_empty() => {
                if s.shell.is_none() {
                    return Err(ToolError::invalid(
                        "shell command lines are disabled (exec.shell: false); give `program` and `args`",
                    ));
                }
                Some(line.clone())
            }
            _ => {
                return Err(ToolError::invalid(
                    "give either `program` (with `args`) or `command` (a shell line), not both",
                ));
            }
        };
        let scope = self.file_scope(&ctx).await;
        let req = ExecRequest {
            cwd: args.cwd,
            env: args.env,
            background: true,
            ..ExecRequest::default()
        };
        let mut plan = self.exec.plan(&scope, req).await?;
        let (argv, shown) = match shell_line {
            Some(line) => {
                let shell = s.shell.as_deref().unwrap_or_default();
                (shell_argv(&mut plan, shell, line.clone())?, line)
            }
            None => {
                let program = args.program.unwrap_or_default();
                let shown = std::iter::once(program.as_str())
                    .chain(args.args.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(" ");
                (program_argv(&mut plan, &program, args.args)?, shown)
            }
        };
        let spec = plan.spec(argv, Input::Pipe, true);
        let started = process::start(spec, &self.exec.supervisor)
            .await
            .map_err(spawn_error)?;
        let notes: Vec<String> = plan.sandbox_note.iter().cloned().collect();
        let background = Background::new(started, s.background_buffer_bytes);
        let entry = self
            .processes
            .insert(shown, plan, background, s.keep_exited);
        Ok(Json(ProcessStartOutput {
            process: entry.info(),
            notes,
        }))
    }
}
