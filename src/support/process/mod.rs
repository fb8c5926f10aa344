//! Running child processes so that limits hold: every command runs under a [`supervisor`]
//! (switchboard re-executed) that owns its whole process tree, with a cleared environment,
//! rlimits, optional bubblewrap [`sandbox`], and bounded [`capture`] of its output.
//!
//! Two ways to use a started process: [`run_to_end`] for a call that waits (timeout,
//! cancellation, progress, head-and-tail capture) and [`Background`] for a long-lived process
//! the model talks to (ring buffer, stdin, signals). Either way, dropping the handle closes the
//! control socket and the supervisor kills the tree; so does switchboard's exit, however it
//! happens. Nothing here knows about MCP.

pub mod capture;
#[cfg(target_os = "linux")]
pub mod cgroup;
pub mod sandbox;
pub mod seccomp;
pub mod supervisor;

use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::pipe;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio_util::sync::CancellationToken;

use crate::config::Rlimits;
use capture::{Captured, HeadTail, Ring};

/// How long a start may take before the supervisor is given up on.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// After a kill, how long to wait for the supervisor's report.
const KILL_GRACE: Duration = Duration::from_secs(5);
/// After the exit report, how long to wait for the pipes to drain.
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// Quiet time that ends a wait for a background process's output.
const SETTLE: Duration = Duration::from_millis(100);
/// Time between two progress reports (when there is new output).
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("{0}")]
    Spawn(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What the child reads on stdin.
#[derive(Debug, Clone)]
pub enum Input {
    /// `/dev/null`: a program that asks for input sees end-of-file at once.
    Null,
    /// These bytes, then end-of-file.
    Bytes(Vec<u8>),
    /// A pipe kept open for later writes (background processes).
    Pipe,
}

/// Everything needed to start one command.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The full argv: the resolved program (or bubblewrap wrapping it) and its arguments.
    pub argv: Vec<OsString>,
    pub cwd: PathBuf,
    /// The child's whole environment (nothing else is inherited).
    pub env: Vec<(OsString, OsString)>,
    pub input: Input,
    /// stdout and stderr into one pipe, in the order they were written.
    pub merge_output: bool,
    pub limits: Rlimits,
    /// Between SIGTERM and SIGKILL when the tree is stopped; zero kills at once.
    pub term_grace: Duration,
    /// Run in a new session (no controlling terminal). Commands do; child servers do not, so
    /// they share switchboard's scheduler autogroup and wake quickly.
    pub new_session: bool,
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    /// The supervisor went away without a report (it was killed from outside).
    Unknown,
}

/// The supervisor's end of the conversation: send `kill` or a signal.
#[derive(Debug, Clone)]
pub struct Control(Arc<tokio::sync::Mutex<OwnedWriteHalf>>);

impl Control {
    /// Kills the whole tree (idempotent).
    pub async fn kill(&self) {
        let _ = self.0.lock().await.write_all(b"kill\n").await;
    }

    /// Sends `sig` to the command's process group.
    pub async fn signal(&self, sig: i32) {
        let line = format!("signal {sig}\n");
        let _ = self.0.lock().await.write_all(line.as_bytes()).await;
    }
}

/// A started process.
pub struct Started {
    /// The command's pid (the sandbox's when sandboxed).
    pub pid: u32,
    pub control: Control,
    pub stdin: Option<pipe::Sender>,
    pub stdout: pipe::Receiver,
    pub stderr: Option<pipe::Receiver>,
    reports: Reports,
    pub started: Instant,
}

type Reports = tokio::io::Lines<BufReader<OwnedReadHalf>>;

/// Waits for the supervisor's exit report.
async fn read_exit(reports: &mut Reports) -> Exit {
    loop {
        match reports.next_line().await {
            Ok(Some(line)) => {
                if let Some(rest) = line.strip_prefix("exit ") {
                    return parse_exit(rest);
                }
            }
            _ => return Exit::Unknown,
        }
    }
}

fn parse_exit(rest: &str) -> Exit {
    let mut parts = rest.split(' ');
    match (parts.next(), parts.next().and_then(|n| n.parse().ok())) {
        (Some("code"), Some(n)) => Exit::Code(n),
        (Some("signal"), Some(n)) => Exit::Signal(n),
        _ => Exit::Unknown,
    }
}

/// Starts `spec` under a supervisor (`supervisor_exe` is switchboard's own binary).
pub async fn start(spec: Spec, supervisor_exe: &Path) -> Result<Started, ProcessError> {
    let (ours, theirs) = std::os::unix::net::UnixStream::pair()?;
    let (out_read, out_write) = std::io::pipe()?;
    let (err_read, err_write) = if spec.merge_output {
        (None, out_write.try_clone()?)
    } else {
        let (r, w) = std::io::pipe()?;
        (Some(r), w)
    };
    let (stdin_write, stdin) = match spec.input {
        Input::Null => (None, Stdio::null()),
        Input::Bytes(_) | Input::Pipe => {
            let (r, w) = std::io::pipe()?;
            (Some(w), Stdio::from(r))
        }
    };
    let limit = |v: Option<u64>| v.unwrap_or(0).to_string();
    let mut command = tokio::process::Command::new(supervisor_exe);
    command
        .arg(supervisor::ARG)
        .arg(limit(spec.limits.cpu_secs))
        .arg(limit(spec.limits.file_size_bytes))
        .arg(limit(spec.limits.processes))
        .arg(limit(spec.limits.memory_bytes))
        .arg(spec.term_grace.as_millis().to_string())
        .arg(if spec.new_session { "1" } else { "0" })
        .arg("--")
        .args(&spec.argv)
        .current_dir(&spec.cwd)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(stdin)
        .stdout(Stdio::from(out_write))
        .stderr(Stdio::from(err_write))
        .kill_on_drop(false);
    let control_fd = theirs.as_raw_fd();
    // SAFETY: dup2 is async-signal-safe; it runs in the forked child before exec and gives the
    // supervisor the control socket at a known number (dup2 clears close-on-exec on the copy).
    unsafe {
        command.pre_exec(move || {
            if libc::dup2(control_fd, supervisor::CONTROL_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = command.spawn().map_err(|e| {
        ProcessError::Spawn(format!(
            "could not start the process supervisor ({}): {e}",
            supervisor_exe.display()
        ))
    })?;
    // Our copies of the child's ends must close, or the pipes never reach end-of-file.
    drop(command);
    drop(theirs);
    // The supervisor's own exit status says nothing; tokio reaps it in the background.
    drop(child);

    ours.set_nonblocking(true)?;
    let (read, write) = UnixStream::from_std(ours)?.into_split();
    let mut reports = BufReader::new(read).lines();
    let first = tokio::time::timeout(START_TIMEOUT, reports.next_line())
        .await
        .map_err(|_| ProcessError::Spawn("the process did not start within 10 s".into()))??;
    let pid = match first.as_deref().map(|l| l.split_once(' ')) {
        Some(Some(("pid", n))) => n.parse::<u32>().unwrap_or(0),
        Some(Some(("error", msg))) => return Err(ProcessError::Spawn(msg.to_owned())),
        _ => {
            return Err(ProcessError::Spawn(
                "the process supervisor ended before starting the command".into(),
            ));
        }
    };
    let mut stdin_sender = match stdin_write {
        Some(w) => Some(pipe::Sender::from_owned_fd(OwnedFd::from(w))?),
        None => None,
    };
    if let Input::Bytes(bytes) = spec.input
        && let Some(mut tx) = stdin_sender.take()
    {
        // Written in the background: a child that never reads must not block the call.
        tokio::spawn(async move {
            let _ = tx.write_all(&bytes).await;
        });
    }
    Ok(Started {
        pid,
        control: Control(Arc::new(tokio::sync::Mutex::new(write))),
        stdin: stdin_sender,
        stdout: pipe::Receiver::from_owned_fd(OwnedFd::from(out_read))?,
        stderr: match err_read {
            Some(r) => Some(pipe::Receiver::from_owned_fd(OwnedFd::from(r))?),
            None => None,
        },
        reports,
        started: Instant::now(),
    })
}

/// A started process taken apart, for a caller that drives the pipes itself (a child MCP
/// server): the parts, and the future of its exit report.
pub struct Parts {
    pub pid: u32,
    pub control: Control,
    pub stdin: Option<pipe::Sender>,
    pub stdout: pipe::Receiver,
    pub stderr: Option<pipe::Receiver>,
}

impl Started {
    /// Splits the process into its pipes and a waiter for its exit report.
    pub fn split(self) -> (Parts, ExitWaiter) {
        let parts = Parts {
            pid: self.pid,
            control: self.control,
            stdin: self.stdin,
            stdout: self.stdout,
            stderr: self.stderr,
        };
        (parts, ExitWaiter(self.reports))
    }
}

/// Resolves when the supervisor reports the exit (or goes away).
pub struct ExitWaiter(Reports);

impl ExitWaiter {
    pub async fn wait(mut self) -> Exit {
        read_exit(&mut self.0).await
    }
}

/// A progress report while a command runs.
#[derive(Debug, Clone)]
pub struct Progress {
    pub bytes: u64,
    pub lines: u64,
    pub last_line: Option<String>,
}

pub struct RunOptions {
    pub timeout: Duration,
    pub max_output_bytes: usize,
    pub cancel: CancellationToken,
    pub progress: Option<tokio::sync::mpsc::Sender<Progress>>,
}

/// How a waited-for run ended.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub exit: Exit,
    pub timed_out: bool,
    pub cancelled: bool,
    pub duration: Duration,
    pub stdout: Captured,
    pub stderr: Captured,
}

/// Reads both streams to the end, enforcing the timeout and cancellation (both kill the whole
/// tree), and sending progress while it runs.
pub async fn run_to_end(mut started: Started, opts: RunOptions) -> RunOutcome {
    let cap = opts.max_output_bytes;
    let mut out = HeadTail::new(cap);
    let mut err = HeadTail::new(cap);
    let mut out_buf = vec![0u8; 64 * 1024];
    let mut err_buf = vec![0u8; 64 * 1024];
    let mut out_open = true;
    let mut err_open = started.stderr.is_some();
    let mut exit: Option<Exit> = None;
    let (mut timed_out, mut cancelled) = (false, false);
    let deadline = tokio::time::Instant::now() + opts.timeout;
    let mut give_up: Option<tokio::time::Instant> = None;
    let mut lines = 0u64;
    let mut reported_bytes = 0u64;
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    let control = started.control.clone();
    let mut stderr = started.stderr.take();

    loop {
        if exit.is_some() && !out_open && !err_open {
            break;
        }
        if give_up.is_some_and(|g| tokio::time::Instant::now() >= g) {
            break;
        }
        let stop_at = give_up.unwrap_or(deadline);
        tokio::select! {
            r = started.stdout.read(&mut out_buf), if out_open => match r {
                Ok(0) | Err(_) => out_open = false,
                Ok(n) => {
                    lines += memchr_count(&out_buf[..n]);
                    out.push(&out_buf[..n]);
                }
            },
            r = read_opt(&mut stderr, &mut err_buf), if err_open => match r {
                Ok(0) | Err(_) => err_open = false,
                Ok(n) => {
                    lines += memchr_count(&err_buf[..n]);
                    err.push(&err_buf[..n]);
                }
            },
            e = read_exit(&mut started.reports), if exit.is_none() => {
                exit = Some(e);
                let drain = tokio::time::Instant::now() + DRAIN_GRACE;
                give_up = Some(give_up.map_or(drain, |g| g.min(drain)));
            },
            _ = tokio::time::sleep_until(stop_at) => {
                if give_up.is_none() {
                    timed_out = true;
                    control.kill().await;
                    give_up = Some(tokio::time::Instant::now() + KILL_GRACE);
                }
            },
            _ = opts.cancel.cancelled(), if !cancelled && give_up.is_none() => {
                cancelled = true;
                control.kill().await;
                give_up = Some(tokio::time::Instant::now() + KILL_GRACE);
            },
            _ = tick.tick(), if opts.progress.is_some() => {
                let bytes = out.total() + err.total();
                // The interval paces reports; only new output is worth one.
                if bytes != reported_bytes {
                    reported_bytes = bytes;
                    if let Some(tx) = &opts.progress {
                        let last_line = out.last_line();
                        let _ = tx.try_send(Progress { bytes, lines, last_line });
                    }
                }
            },
        }
    }
    if exit.is_none() {
        // Unreported: make sure the tree is gone before answering.
        control.kill().await;
    }
    RunOutcome {
        exit: exit.unwrap_or(Exit::Unknown),
        timed_out,
        cancelled,
        duration: started.started.elapsed(),
        stdout: out.finish(),
        stderr: err.finish(),
    }
}

async fn read_opt(r: &mut Option<pipe::Receiver>, buf: &mut [u8]) -> std::io::Result<usize> {
    match r {
        Some(r) => r.read(buf).await,
        None => Ok(0),
    }
}

fn memchr_count(b: &[u8]) -> u64 {
    b.iter().filter(|&&c| c == b'\n').count() as u64
}

/// A long-lived process: its merged output in a ring buffer, its stdin, its state.
pub struct Background {
    pub pid: u32,
    pub control: Control,
    pub started_at: std::time::SystemTime,
    started: Instant,
    stdin: tokio::sync::Mutex<Option<pipe::Sender>>,
    state: Arc<Mutex<BackgroundState>>,
    changes: tokio::sync::watch::Receiver<u64>,
}

#[derive(Debug)]
pub struct BackgroundState {
    pub output: Ring,
    pub exit: Option<Exit>,
    pub runtime: Option<Duration>,
}

impl Background {
    /// Takes over a started process (which must have been started with merged output and a
    /// stdin pipe) and pumps its output into a ring of `buffer_bytes`.
    pub fn new(mut started: Started, buffer_bytes: usize) -> Self {
        let state = Arc::new(Mutex::new(BackgroundState {
            output: Ring::new(buffer_bytes),
            exit: None,
            runtime: None,
        }));
        let (tx, rx) = tokio::sync::watch::channel(0u64);
        let stdin = started.stdin.take();
        let pump_state = state.clone();
        let begun = started.started;
        let (pid, control) = (started.pid, started.control.clone());
        tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            let mut open = true;
            let mut exit: Option<Exit> = None;
            let mut give_up: Option<tokio::time::Instant> = None;
            let far = tokio::time::Instant::now() + Duration::from_secs(86400 * 365);
            while open || exit.is_none() {
                tokio::select! {
                    r = started.stdout.read(&mut buf), if open => match r {
                        Ok(0) | Err(_) => open = false,
                        Ok(n) => {
                            lock(&pump_state).output.push(&buf[..n]);
                            tx.send_modify(|v| *v += 1);
                        }
                    },
                    e = read_exit(&mut started.reports), if exit.is_none() => {
                        exit = Some(e);
                        give_up = Some(tokio::time::Instant::now() + DRAIN_GRACE);
                    },
                    _ = tokio::time::sleep_until(give_up.unwrap_or(far)) => break,
                }
            }
            let mut s = lock(&pump_state);
            s.exit = Some(exit.unwrap_or(Exit::Unknown));
            s.runtime = Some(begun.elapsed());
            drop(s);
            tx.send_modify(|v| *v += 1);
        });
        Self {
            pid,
            control,
            started_at: std::time::SystemTime::now(),
            started: begun,
            stdin: tokio::sync::Mutex::new(stdin),
            state,
            changes: rx,
        }
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, BackgroundState> {
        lock(&self.state)
    }

    pub fn running_for(&self) -> Duration {
        self.state()
            .runtime
            .unwrap_or_else(|| self.started.elapsed())
    }

    /// Waits up to `wait` until the output grows past `offset` or the process exits; once
    /// output arrives, keeps collecting until it has been quiet for [`SETTLE`], so a reply
    /// written in pieces (a line, then its newline) comes back whole.
    pub async fn wait_for_output(&self, offset: u64, wait: Duration) {
        let mut changes = self.changes.clone();
        let deadline = tokio::time::Instant::now() + wait;
        let ready = |s: &BackgroundState| s.output.total() > offset || s.exit.is_some();
        let _ = tokio::time::timeout_at(deadline, async {
            loop {
                if ready(&self.state()) {
                    return;
                }
                if changes.changed().await.is_err() {
                    return;
                }
            }
        })
        .await;
        loop {
            if self.state().exit.is_some() {
                return;
            }
            let quiet = (tokio::time::Instant::now() + SETTLE).min(deadline);
            match tokio::time::timeout_at(quiet, changes.changed()).await {
                Ok(Ok(())) if tokio::time::Instant::now() < deadline => continue,
                _ => return,
            }
        }
    }

    /// Waits up to `wait` for the process to exit.
    pub async fn wait_exit(&self, wait: Duration) -> Option<Exit> {
        let mut changes = self.changes.clone();
        let _ = tokio::time::timeout(wait, async {
            loop {
                if self.state().exit.is_some() {
                    return;
                }
                if changes.changed().await.is_err() {
                    return;
                }
            }
        })
        .await;
        self.state().exit
    }

    /// Writes to the process's stdin; `close` sends end-of-file afterwards.
    pub async fn write(&self, data: &[u8], close: bool) -> Result<(), String> {
        let mut guard = self.stdin.lock().await;
        let Some(tx) = guard.as_mut() else {
            return Err("its stdin is already closed".into());
        };
        let written = tokio::time::timeout(Duration::from_secs(10), tx.write_all(data)).await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(format!("its stdin does not accept input ({e})")),
            Err(_) => return Err("it is not reading its stdin (10 s without progress)".into()),
        }
        if close {
            *guard = None;
        }
        Ok(())
    }
}

use super::lock;

/// The first executable called `name` in the `PATH` directories.
pub fn find_on_path(name: &str, path_var: &std::ffi::OsStr) -> Option<PathBuf> {
    std::env::split_paths(path_var)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

/// A regular file with an execute bit.
pub fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A signal's conventional name (`SIGKILL`).
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGUSR2 => "SIGUSR2",
        _ => return format!("signal {sig}"),
    };
    name.to_owned()
}
