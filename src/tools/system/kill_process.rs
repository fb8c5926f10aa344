//! `kill_process`: send a signal to a process switchboard started (or, with
//! `exec.kill_scope: user`, to any of the user's own). Never pid 0 or 1, never switchboard
//! itself, and never one of its ancestors (that would take down the host).

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config::KillScope;
use crate::server::Switchboard;
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "kill pid process id signal sigterm sigkill kill -9 force terminate process hung stuck";

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Signal {
    /// Ask the process to stop (the default).
    #[default]
    Term,
    /// Stop it at once; it cannot clean up.
    Kill,
    Int,
    Hup,
    Quit,
    Usr1,
    Usr2,
}

impl Signal {
    pub(crate) fn number(self) -> i32 {
        match self {
            Signal::Term => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
            Signal::Int => libc::SIGINT,
            Signal::Hup => libc::SIGHUP,
            Signal::Quit => libc::SIGQUIT,
            Signal::Usr1 => libc::SIGUSR1,
            Signal::Usr2 => libc::SIGUSR2,
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KillProcessArgs {
    /// Process id (from list_processes).
    pub pid: u32,
    /// TERM (default), KILL, INT, HUP, QUIT, USR1 or USR2.
    #[serde(default)]
    pub signal: Signal,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct KillProcessOutput {
    pub pid: u32,
    pub name: String,
    pub signal: Signal,
}

/// Sends the signal after the safety checks. `me` is switchboard's own pid.
pub fn kill_process(
    args: &KillProcessArgs,
    me: u32,
    scope: KillScope,
) -> Result<KillProcessOutput, ToolError> {
    use sysinfo::Pid;
    let pid = args.pid;
    if pid <= 1 {
        return Err(ToolError::invalid(format!(
            "pid {pid} is the system's init process; it is never signalled"
        )));
    }
    if pid == me {
        return Err(ToolError::invalid(
            "that is switchboard itself; it is never signalled from a tool",
        ));
    }
    let sys = super::process_table(false)?;
    // Walk up from switchboard: the host and everything above it are off limits.
    let mut up = sys.process(Pid::from_u32(me)).and_then(|p| p.parent());
    let mut hops = 0;
    while let Some(ancestor) = up {
        if ancestor.as_u32() == pid {
            return Err(ToolError::invalid(format!(
                "pid {pid} is an ancestor of switchboard (the host that runs it, or above); killing it would end this session"
            )));
        }
        up = sys.process(ancestor).and_then(|p| p.parent());
        hops += 1;
        if hops > 64 {
            break;
        }
    }
    let Some(process) = sys.process(Pid::from_u32(pid)) else {
        return Err(ToolError::invalid(format!(
            "no process with pid {pid}; list_processes shows the running ones"
        )));
    };
    // SAFETY: getuid has no preconditions.
    let my_uid = unsafe { libc::getuid() };
    let owner = process.user_id().map(|u| **u);
    if owner != Some(my_uid) {
        return Err(ToolError::invalid(format!(
            "pid {pid} belongs to another user; only your own processes can be signalled"
        )));
    }
    if scope == KillScope::Started && !descends_from(&sys, pid, me) {
        return Err(ToolError::invalid(format!(
            "pid {pid} was not started by switchboard; kill_process signals only processes started through run_command, run_shell, process_start and the like (and their children). Use process_kill for background processes; the user can set exec.kill_scope: user to allow any of their own processes"
        )));
    }
    let name = process.name().to_string_lossy().into_owned();
    // SAFETY: kill(2) with a checked pid and a valid signal number.
    let rc = unsafe { libc::kill(pid as i32, args.signal.number()) };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        return Err(ToolError::invalid(format!(
            "could not signal pid {pid} ({name}): {e}"
        )));
    }
    Ok(KillProcessOutput {
        pid,
        name,
        signal: args.signal,
    })
}

/// True when `me` is among `pid`'s ancestors. A command's supervisor is a subreaper, so a
/// process that detached from its parent is still below the supervisor, hence below `me`.
fn descends_from(sys: &sysinfo::System, pid: u32, me: u32) -> bool {
    let mut up = sys
        .process(sysinfo::Pid::from_u32(pid))
        .and_then(|p| p.parent());
    for _ in 0..256 {
        match up {
            Some(p) if p.as_u32() == me => return true,
            Some(p) if p.as_u32() > 1 => up = sys.process(p).and_then(|p| p.parent()),
            _ => return false,
        }
    }
    false
}

#[tool_router(router = kill_process_router, vis = "pub(crate)")]
impl Switchboard {
    /// Send a signal (TERM by default) by pid to a process switchboard started; never switchboard or its host.
    #[tool(annotations(
        title = "Kill process",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    pub async fn kill_process(
        &self,
        Parameters(args): Parameters<KillProcessArgs>,
    ) -> Result<Json<KillProcessOutput>, ToolError> {
        let scope = self.settings.exec.kill_scope;
        blocking(move || kill_process(&args, std::process::id(), scope).map(Json)).await
    }
}
