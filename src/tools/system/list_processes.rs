//! `list_processes`: running processes, filtered by name or user, sorted by CPU or memory.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::server::Switchboard;
use crate::support::text::truncate_chars;
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "ps top htop running processes cpu memory usage pid what is running port hog program";

/// The most processes one call returns.
const MAX_LIMIT: usize = 500;

#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    /// Highest CPU use first (measured over 200 ms).
    #[default]
    Cpu,
    /// Largest resident memory first.
    Memory,
    Pid,
    Name,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListProcessesArgs {
    /// Only processes whose name or command line contains this text (case-insensitive).
    pub name: Option<String>,
    /// Only processes of this user name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `cpu` (default), `memory`, `pid` or `name`.
    #[serde(default)]
    pub sort: SortBy,
    /// At most this many processes (default 50, at most 500).
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProcessInfo {
    pub pid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_pid: Option<u32>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Percent of one core over the sampling window.
    pub cpu_percent: f32,
    pub memory_bytes: u64,
    pub status: String,
    /// Seconds since 1970-01-01 UTC.
    pub started_unix: u64,
    /// Command line, cut to 300 characters, with secret-looking values (`--password=…`,
    /// `--token …`, `API_KEY=…`, passwords in URLs, authorization headers) redacted.
    pub command: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListProcessesOutput {
    pub processes: Vec<ProcessInfo>,
    /// How many processes matched the filters (the list is the first `limit`).
    pub matched: usize,
    /// How many secret-looking values were redacted from the command lines shown.
    pub redacted: usize,
}

pub fn list_processes(args: &ListProcessesArgs) -> Result<ListProcessesOutput, ToolError> {
    let sys = super::process_table(matches!(args.sort, SortBy::Cpu))?;
    let users = sysinfo::Users::new_with_refreshed_list().ok();
    let needle = args.name.as_ref().map(|n| n.to_lowercase());
    let mut found: Vec<(usize, ProcessInfo)> = sys
        .processes()
        .values()
        .filter_map(|p| {
            let name = p.name().to_string_lossy().into_owned();
            let argv: Vec<String> = p
                .cmd()
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            // Redacted before the name filter too, so a filter cannot probe for a secret.
            let (command, hidden) = crate::support::secrets::redact_command(&argv);
            if let Some(n) = &needle
                && !name.to_lowercase().contains(n)
                && !command.to_lowercase().contains(n)
            {
                return None;
            }
            let user = p
                .user_id()
                .and_then(|uid| users.as_ref()?.get_user_by_id(uid))
                .map(|u| u.name().to_owned());
            if let Some(wanted) = &args.user
                && user.as_deref() != Some(wanted.as_str())
            {
                return None;
            }
            Some((hidden, ProcessInfo {
                pid: p.pid().as_u32(),
                parent_pid: p.parent().map(|pp| pp.as_u32()),
                name,
                user,
                cpu_percent: p.cpu_usage(),
                memory_bytes: p.memory(),
                status: p.status().to_string(),
                started_unix: p.start_time(),
                command: truncate_chars(&command, 300),
            }))
        })
        .collect();
    match args.sort {
        SortBy::Cpu => found.sort_by(|(_, a), (_, b)| {
            b.cpu_percent
                .total_cmp(&a.cpu_percent)
                .then(a.pid.cmp(&b.pid))
        }),
        SortBy::Memory => found.sort_by(|(_, a), (_, b)| {
            b.memory_bytes
                .cmp(&a.memory_bytes)
                .then(a.pid.cmp(&b.pid))
        }),
        SortBy::Pid => found.sort_by_key(|(_, p)| p.pid),
        SortBy::Name => {
            found.sort_by(|(_, a), (_, b)| a.name.cmp(&b.name).then(a.pid.cmp(&b.pid)))
        }
    }
    let matched = found.len();
    found.truncate(args.limit.unwrap_or(50).clamp(1, MAX_LIMIT));
    Ok(ListProcessesOutput {
        redacted: found.iter().map(|(hidden, _)| hidden).sum(),
        processes: found.into_iter().map(|(_, p)| p).collect(),
        matched,
    })
}

#[tool_router(router = list_processes_router, vis = "pub(crate)")]
impl Switchboard {
    /// List running processes with pid, user, CPU, memory and command line; filter and sort them.
    #[tool(annotations(
        title = "List processes",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    pub async fn list_processes(
        &self,
        Parameters(args): Parameters<ListProcessesArgs>,
    ) -> Result<Json<ListProcessesOutput>, ToolError> {
        blocking(move || list_processes(&args).map(Json)).await
    }
}
