//! Documents are parsed in a process of their own: switchboard's binary run again with
//! [`ARG`], the file's bytes on stdin, the answer as JSON on stdout. The process has an
//! address-space limit, a CPU-time limit, no right to write files, a wall-clock timeout and a
//! cap on its answer, and dies with switchboard. Whatever a hostile or broken file does to a
//! parser (a zip bomb, a loop, a panic, a crash), it ends there, as an answer.

use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{DocError, Output, Request, extract};

/// The first argument that makes switchboard's binary a document reader.
pub const ARG: &str = "__read-document";

/// The limits of one reading.
#[derive(Debug, Clone)]
pub struct Limits {
    /// `files.document_memory_mib`, in bytes.
    pub memory: u64,
    /// `files.document_timeout_secs`: wall clock, and CPU time.
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum IsolateError {
    #[error(transparent)]
    Doc(#[from] DocError),
    #[error(
        "reading it needed more than {mib} MiB of memory (files.document_memory_mib), so it was stopped; raise the limit if the file is genuine"
    )]
    Memory { mib: u64 },
    #[error(
        "reading it took longer than {secs} s (files.document_timeout_secs), so it was stopped"
    )]
    Timeout { secs: u64 },
    #[error("its text is larger than {limit} bytes (files.max_document_text_bytes)")]
    Output { limit: u64 },
    #[error("the document reader failed: {0}")]
    Failed(String),
}

/// Runs the reader on `bytes`. `exe` is switchboard's own binary.
pub async fn read(
    exe: &Path,
    bytes: Vec<u8>,
    req: &Request,
    limits: &Limits,
) -> Result<Output, IsolateError> {
    let request = serde_json::to_string(req).map_err(|e| IsolateError::Failed(e.to_string()))?;
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg(ARG)
        .arg(request)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let (memory, cpu) = (limits.memory, limits.timeout.as_secs().max(1));
    // SAFETY: only async-signal-safe calls (setrlimit, prctl) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let set = |what, n: u64| {
                let lim = libc::rlimit {
                    rlim_cur: n,
                    rlim_max: n,
                };
                libc::setrlimit(what, &lim);
            };
            set(libc::RLIMIT_AS, memory);
            set(libc::RLIMIT_CPU, cpu);
            set(libc::RLIMIT_FSIZE, 0);
            set(libc::RLIMIT_CORE, 0);
            #[cfg(target_os = "linux")]
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| IsolateError::Failed(format!("cannot start {}: {e}", exe.display())))?;
    let mut stdin = child.stdin.take();
    let feed = tokio::spawn(async move {
        if let Some(stdin) = stdin.as_mut() {
            // A reader that stops early closes its end; that is not an error here.
            let _ = stdin.write_all(&bytes).await;
        }
    });
    // JSON can double a text's size (escapes); the answer carries one text.
    let cap = req.max_text_bytes.saturating_mul(2) + 64 * 1024;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let work = async {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut out_capped = (&mut stdout).take(cap + 1);
        let mut err_capped = (&mut stderr).take(16 * 1024);
        let (o, _) = tokio::join!(
            out_capped.read_to_end(&mut out),
            err_capped.read_to_end(&mut err)
        );
        o.map_err(|e| IsolateError::Failed(e.to_string()))?;
        if out.len() as u64 > cap {
            return Err(IsolateError::Output {
                limit: req.max_text_bytes,
            });
        }
        let status = child
            .wait()
            .await
            .map_err(|e| IsolateError::Failed(e.to_string()))?;
        Ok((status, out, err))
    };
    let result = tokio::time::timeout(limits.timeout, work).await;
    feed.abort();
    let (status, out, err) = match result {
        Ok(r) => r?,
        Err(_) => {
            return Err(IsolateError::Timeout {
                secs: limits.timeout.as_secs(),
            });
        }
    };
    if let Ok(answer) = serde_json::from_slice::<Result<Output, DocError>>(&out) {
        return answer.map_err(IsolateError::from);
    }
    use std::os::unix::process::ExitStatusExt;
    let err = String::from_utf8_lossy(&err);
    match status.signal() {
        Some(libc::SIGXCPU) | Some(libc::SIGKILL) => Err(IsolateError::Timeout {
            secs: limits.timeout.as_secs(),
        }),
        _ if err.contains("memory allocation") || err.contains("capacity overflow") => {
            Err(IsolateError::Memory {
                mib: limits.memory / (1024 * 1024),
            })
        }
        Some(sig) => Err(IsolateError::Failed(format!(
            "the reader died (signal {sig})"
        ))),
        None => Err(IsolateError::Failed(format!(
            "the reader ended without an answer ({status}): {}",
            err.lines().last().unwrap_or("").trim()
        ))),
    }
}

/// Runs the reader when the process was started as one; `None` otherwise. Called first thing
/// in `main`, before any configuration or logging.
pub fn main_if_requested() -> Option<i32> {
    let mut args = std::env::args_os();
    args.next();
    if args.next()? != ARG {
        return None;
    }
    Some(reader(args.next().and_then(|a| a.into_string().ok())))
}

fn reader(request: Option<String>) -> i32 {
    // stdout carries the answer only: anything a library prints goes to stderr instead.
    // SAFETY: dup/dup2 on this process's own standard descriptors.
    let answer_fd = unsafe {
        let fd = libc::dup(1);
        libc::dup2(2, 1);
        fd
    };
    if answer_fd < 0 {
        return 2;
    }
    // SAFETY: `answer_fd` was just made by dup and is owned here alone.
    let mut answer = unsafe { std::fs::File::from_raw_fd(answer_fd) };
    let Some(req) = request.and_then(|r| serde_json::from_str::<Request>(&r).ok()) else {
        eprintln!("switchboard: the document reader is started by switchboard itself");
        return 2;
    };
    let mut bytes = Vec::new();
    if std::io::stdin().read_to_end(&mut bytes).is_err() {
        return 2;
    }
    let kind = req.kind;
    let result = std::panic::catch_unwind(|| extract(&bytes, &req)).unwrap_or_else(|p| {
        let why = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a parser error".into());
        Err(DocError::unreadable(
            kind,
            format!("the reader failed ({why})"),
        ))
    });
    match serde_json::to_writer(&mut answer, &result) {
        Ok(()) => {
            let _ = answer.flush();
            0
        }
        Err(_) => 2,
    }
}
