//! Running programs, without any protocol types: the argv of a command or a shell line under a
//! plan of the execution policy (`policy::exec`), the result of a run that ended, and the table
//! of background processes. The exec tools and declarative command tools are adapters over it;
//! processes themselves start through `support::process`.

pub mod interpreters;
pub mod review;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use crate::error::ToolError;
use crate::policy::exec::{Plan, Review};
use crate::support::process::capture::human_bytes;
use crate::support::process::{Background, Exit, ProcessError, RunOutcome, signal_name};

/// The result of a command that ran to the end (or was stopped).
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunOutput {
    /// Exit code, when the process exited by itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The signal that ended it (SIGKILL after a timeout or cancellation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    pub timed_out: bool,
    pub duration_ms: u64,
    pub stdout: String,
    pub stderr: String,
    /// Bytes each stream produced in all (more than the text when truncated).
    pub stdout_bytes: u64,
    pub stderr_bytes: u64,
    /// The middle of the stream was dropped to keep the head and tail.
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    /// Whether the OS sandbox (bubblewrap) confined the run.
    pub sandboxed: bool,
    pub cwd: String,
    /// What the model should know: why it was not sandboxed, how to see dropped output, …
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The argv for `program` (resolved as the child would) and its arguments; nothing is split.
pub fn program_argv(
    plan: &mut Plan,
    program: &str,
    args: impl IntoIterator<Item = String>,
) -> Result<Vec<OsString>, ToolError> {
    let resolved = plan.resolve_program(program)?;
    plan.show_program(&resolved)?;
    let mut argv = vec![resolved.into_os_string()];
    argv.extend(args.into_iter().map(OsString::from));
    Ok(argv)
}

/// The argv that runs one command line through the configured shell (`exec.shell_command`).
pub fn shell_argv(
    plan: &mut Plan,
    shell: &[String],
    line: String,
) -> Result<Vec<OsString>, ToolError> {
    let (program, flags) = shell
        .split_first()
        .ok_or_else(|| ToolError::invalid("exec.shell_command is empty"))?;
    program_argv(plan, program, flags.iter().cloned().chain([line]))
}

pub fn spawn_error(e: ProcessError) -> ToolError {
    let msg = e.to_string();
    if msg.contains("Resource temporarily unavailable") {
        return ToolError::invalid(format!(
            "the process could not start: {msg}. Your user has reached the process limit (exec.limits.processes counts all of your processes and threads)"
        ));
    }
    ToolError::invalid(format!("the process could not start: {msg}"))
}

/// The protected-path review of a run that ended (`review`), off the async threads; its
/// notes for the model. Nothing when the run was not reviewed.
pub async fn finish_review(review: Option<Review>) -> Vec<String> {
    let Some(r) = review else {
        return Vec::new();
    };
    tokio::task::spawn_blocking(move || review::finish(&r))
        .await
        .unwrap_or_else(|e| vec![format!("the protected-path review failed: {e}")])
}

/// The result of `o`; `review` are the notes of the protected-path review.
pub fn run_output(plan: &Plan, o: &RunOutcome, cap: usize, review: Vec<String>) -> RunOutput {
    let (exit_code, signal) = exit_parts(o.exit);
    let mut notes = Vec::new();
    if o.timed_out {
        notes.push(format!(
            "timed out after {} s; the whole process tree was killed. Pass a larger timeout_secs (up to the configured maximum), or use process_start for long-running programs",
            plan.timeout.as_secs()
        ));
    }
    if o.cancelled {
        notes.push("cancelled by the client; the whole process tree was killed".into());
    }
    for (name, c) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        if c.dropped_bytes > 0 {
            notes.push(format!(
                "{name} was {} and over the {} cap (exec.max_output_bytes): its first and last parts are shown. To see the rest, redirect it to a file inside the root and page it with read_file or search_content, or narrow the command (grep, head, tail)",
                human_bytes(c.total_bytes),
                human_bytes(cap as u64)
            ));
        }
    }
    if let Some(n) = &plan.sandbox_note {
        notes.push(n.clone());
    }
    // bubblewrap's own words when what was asked for cannot start inside.
    if plan.sandboxed()
        && exit_code == Some(1)
        && let Some(line) = o
            .stderr
            .text
            .lines()
            .find(|l| l.starts_with("bwrap: execvp"))
    {
        notes.push(format!(
            "the program could not start inside the sandbox ({}): a file it needs (its interpreter, a library) is in a folder the sandbox does not show. Add that folder to exec.readable in config.yaml, or set exec.sandbox: off (a restart applies either)",
            line.trim_start_matches("bwrap: ")
        ));
    }
    if o.exit == Exit::Unknown && !o.timed_out && !o.cancelled {
        notes.push("the process supervisor ended without reporting an exit status".into());
    }
    notes.extend(review);
    RunOutput {
        exit_code,
        signal,
        timed_out: o.timed_out,
        duration_ms: o.duration.as_millis() as u64,
        stdout_bytes: o.stdout.total_bytes,
        stderr_bytes: o.stderr.total_bytes,
        stdout_truncated: o.stdout.dropped_bytes > 0,
        stderr_truncated: o.stderr.dropped_bytes > 0,
        stdout: o.stdout.text.clone(),
        stderr: o.stderr.text.clone(),
        sandboxed: plan.sandboxed(),
        cwd: plan.cwd.display().to_string(),
        notes,
    }
}

/// (exit code, signal name) of an exit.
pub fn exit_parts(exit: Exit) -> (Option<i32>, Option<String>) {
    match exit {
        Exit::Code(c) => (Some(c), None),
        Exit::Signal(s) => (None, Some(signal_name(s))),
        Exit::Unknown => (None, None),
    }
}

/// Per-call environment additions, as every run tool takes them.
pub type EnvArgs = BTreeMap<String, String>;

/// One background process as the tools see it.
pub struct Entry {
    pub id: String,
    pub command: String,
    pub cwd: String,
    pub sandboxed: bool,
    pub process: Background,
    /// Where the next `process_read` without an offset starts.
    pub cursor: AtomicU64,
    /// Notes of the protected-path review, once the process has ended and it ran.
    review: Mutex<Vec<String>>,
    /// True once the review is done (at once when there is none).
    reviewed: tokio::sync::watch::Receiver<bool>,
    /// Removed when the entry goes.
    _scratch: tempfile::TempDir,
}

/// The background processes of this server. They die with it (their control sockets close).
#[derive(Default)]
pub struct Processes {
    table: Mutex<ProcessTable>,
}

#[derive(Default)]
struct ProcessTable {
    next: u64,
    entries: BTreeMap<u64, Arc<Entry>>,
}

impl Processes {
    fn table(&self) -> std::sync::MutexGuard<'_, ProcessTable> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn running(&self) -> usize {
        self.table()
            .entries
            .values()
            .filter(|e| e.process.state().exit.is_none())
            .count()
    }

    /// Adds a started process; drops the oldest finished ones beyond `keep_exited`. When it
    /// ends, the plan's protected-path review runs and its notes join the entry's state.
    pub fn insert(
        &self,
        command: String,
        mut plan: Plan,
        process: Background,
        keep_exited: usize,
    ) -> Arc<Entry> {
        let review = plan.review.take();
        let (done, reviewed) = tokio::sync::watch::channel(review.is_none());
        let mut t = self.table();
        t.next += 1;
        let id = format!("p{}", t.next);
        let entry = Arc::new(Entry {
            id,
            command,
            cwd: plan.cwd.display().to_string(),
            sandboxed: plan.sandboxed(),
            process,
            cursor: AtomicU64::new(0),
            review: Mutex::new(Vec::new()),
            reviewed,
            _scratch: plan.scratch,
        });
        if let Some(review) = review {
            let ended = entry.clone();
            tokio::spawn(async move {
                while ended
                    .process
                    .wait_exit(Duration::from_secs(3600))
                    .await
                    .is_none()
                {}
                let notes = finish_review(Some(review)).await;
                *ended.review.lock().unwrap_or_else(|e| e.into_inner()) = notes;
                let _ = done.send(true);
            });
        }
        let n = t.next;
        t.entries.insert(n, entry.clone());
        let finished: Vec<u64> = t
            .entries
            .iter()
            .filter(|(_, e)| e.process.state().exit.is_some())
            .map(|(k, _)| *k)
            .collect();
        if finished.len() > keep_exited {
            for k in &finished[..finished.len() - keep_exited] {
                t.entries.remove(k);
            }
        }
        entry
    }

    pub fn get(&self, id: &str) -> Result<Arc<Entry>, ToolError> {
        let n = id
            .trim()
            .strip_prefix('p')
            .and_then(|n| n.parse::<u64>().ok());
        n.and_then(|n| self.table().entries.get(&n).cloned())
            .ok_or_else(|| {
                ToolError::invalid(format!(
                    "no background process `{id}`; process_list shows the ids (finished ones are kept only for a while)"
                ))
            })
    }

    pub fn all(&self) -> Vec<Arc<Entry>> {
        self.table().entries.values().cloned().collect()
    }
}

/// The state of a background process, as several tools report it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProcessInfo {
    pub id: String,
    pub pid: u32,
    pub command: String,
    pub cwd: String,
    pub running: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    pub runtime_ms: u64,
    /// Output bytes produced so far (stdout and stderr together).
    pub output_bytes: u64,
    pub sandboxed: bool,
    /// Notes once it ended.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// How long a waiter for a process's end also waits for its protected-path review.
const REVIEW_WAIT: Duration = Duration::from_secs(10);

impl Entry {
    /// Waits up to `wait` for the process to exit and then for its protected-path review, so
    /// the state that follows carries the review's notes.
    pub async fn wait_end(&self, wait: Duration) {
        if self.process.wait_exit(wait).await.is_none() {
            return;
        }
        let mut reviewed = self.reviewed.clone();
        let _ = tokio::time::timeout(REVIEW_WAIT, reviewed.wait_for(|done| *done)).await;
    }

    pub fn info(&self) -> ProcessInfo {
        let (exit, total) = {
            let s = self.process.state();
            (s.exit, s.output.total())
        };
        let (exit_code, signal) = exit.map(exit_parts).unwrap_or((None, None));
        ProcessInfo {
            id: self.id.clone(),
            pid: self.process.pid,
            command: self.command.clone(),
            cwd: self.cwd.clone(),
            running: exit.is_none(),
            exit_code,
            signal,
            runtime_ms: self.process.running_for().as_millis() as u64,
            output_bytes: total,
            sandboxed: self.sandboxed,
            notes: self
                .review
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}
