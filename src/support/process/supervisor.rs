//! The supervisor: switchboard re-executed with [`ARG`] to own one child's whole process tree.
//!
//! Why a separate process: a command can detach grandchildren (`sleep 600 & disown`,
//! `setsid`, double forks) that no process group reaches. The supervisor makes itself a
//! *child subreaper* (Linux), so every orphan of the tree is re-parented to it instead of
//! init; killing "everything below me" is then complete. It starts the command in a new
//! process group, tells switchboard the pid over the control socket (fd 3), and waits. When the
//! command exits, when switchboard writes `kill`, or when the socket closes (switchboard is
//! gone, however it died), it kills every descendant, reaps them, reports the exit status and
//! exits. It is plain blocking std code: no runtime, a few hundred kilobytes of memory.
//!
//! Control protocol (lines): supervisor → switchboard `pid N`, then `exit code N` or
//! `exit signal N`, or `error MESSAGE`; switchboard → supervisor `kill` or `signal N`.
//!
//! With a grace period (child MCP servers get 2 s), `kill` and the end of the socket first send
//! SIGTERM to the group and every descendant, and SIGKILL only what is left when it ends.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::FromRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Command;

/// The hidden first argument that turns the binary into a supervisor.
pub const ARG: &str = "__switchboard_supervise";
/// The control socket's descriptor in the supervisor.
pub const CONTROL_FD: i32 = 3;

/// Runs the supervisor when the process was started as one; `None` otherwise. Called first
/// thing in `main`, before any configuration or logging.
pub fn main_if_requested() -> Option<i32> {
    let mut args = std::env::args_os();
    args.next();
    if args.next()? != ARG {
        return None;
    }
    Some(run(args.collect()))
}

/// Limits and argv as passed on the command line: `cpu fsize nproc data grace_ms session --
/// program args…` (0 = leave the inherited limit; a grace of 0 kills at once; session 1 = a new
/// session). The process count also goes to a cgroup of the run's own where one can be made,
/// because `RLIMIT_NPROC` does not bind root.
fn run(args: Vec<OsString>) -> i32 {
    // SAFETY: fstat on a descriptor number only reads its status.
    let is_socket = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(CONTROL_FD, &mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFSOCK
    };
    if !is_socket {
        eprintln!("switchboard: the supervisor is started by switchboard itself, not by hand");
        return 2;
    }
    // SAFETY: fd 3 was checked to be an open socket that this process owns.
    let control = unsafe { UnixStream::from_raw_fd(CONTROL_FD) };
    // SAFETY: fcntl on our own descriptor; the command must not inherit the control socket.
    unsafe {
        libc::fcntl(CONTROL_FD, libc::F_SETFD, libc::FD_CLOEXEC);
    }
    let mut report = match control.try_clone() {
        Ok(c) => c,
        Err(_) => return 2,
    };
    let Some(split) = args.iter().position(|a| a == "--") else {
        let _ = writeln!(report, "error bad supervisor arguments");
        return 2;
    };
    let nums: Vec<u64> = args[..split]
        .iter()
        .map(|a| a.to_str().and_then(|s| s.parse().ok()).unwrap_or(0))
        .collect();
    let mut argv = args[split + 1..].to_vec();
    if argv.is_empty() || nums.len() != 6 {
        let _ = writeln!(report, "error bad supervisor arguments");
        return 2;
    }

    // A new session detaches commands from any controlling terminal. Child MCP servers stay in
    // switchboard's session: on Linux a session is also a scheduler autogroup, and waking a
    // process in another autogroup costs about 70 µs on every message (measured), which a
    // proxied call pays four times.
    // SAFETY: setsid and prctl change only this process's own attributes.
    unsafe {
        if nums[5] == 1 {
            libc::setsid();
        }
        #[cfg(target_os = "linux")]
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
    for (resource, value) in [
        (libc::RLIMIT_CPU, nums[0]),
        (libc::RLIMIT_FSIZE, nums[1]),
        (libc::RLIMIT_NPROC, nums[2]),
        (libc::RLIMIT_DATA, nums[3]),
    ] {
        if value > 0 {
            set_limit(resource, value);
        }
    }
    #[cfg(target_os = "linux")]
    let group = (nums[2] > 0)
        .then(|| super::cgroup::Group::enter(nums[2]))
        .flatten();

    // A sandboxed command's seccomp filter, handed to bubblewrap by descriptor.
    let _filter = match super::seccomp::attach(&mut argv) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = writeln!(report, "error the seccomp filter could not be made: {e}");
            return 127;
        }
    };
    let mut command = Command::new(&argv[0]);
    command.args(&argv[1..]).process_group(0);
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe; it runs in the forked child before exec.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            Ok(())
        });
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(report, "error {e}");
            return 127;
        }
    };
    let pid = child.id() as i32;
    let grace = std::time::Duration::from_millis(nums[4]);
    release_stdio();
    if writeln!(report, "pid {pid}").is_err() {
        kill_tree(pid);
    }

    // Commands from switchboard; the end of the socket means switchboard is gone.
    std::thread::spawn(move || {
        let mut lines = BufReader::new(control).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line == "kill" => stop_tree(pid, grace),
                Some(Ok(line)) => {
                    if let Some(sig) = line.strip_prefix("signal ").and_then(|n| n.parse().ok()) {
                        // SAFETY: signals the command's own process group.
                        unsafe {
                            libc::kill(-pid, sig);
                        }
                    }
                }
                _ => {
                    stop_tree(pid, grace);
                    return;
                }
            }
        }
    });

    let status = child.wait();
    // The command is done: nothing it started may outlive it.
    loop {
        kill_tree(pid);
        // SAFETY: waitpid on any child of this process, status not needed.
        let r = unsafe { libc::waitpid(-1, std::ptr::null_mut(), 0) };
        if r == -1 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            break; // ECHILD: no children left, so no descendants either.
        }
    }
    // Out of the run's cgroup, and the cgroup removed, before reporting.
    #[cfg(target_os = "linux")]
    drop(group);
    let line = match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(sig)) => format!("exit signal {sig}"),
            _ => "exit code -1".to_owned(),
        },
        Err(e) => format!("error waiting for the command: {e}"),
    };
    let _ = writeln!(report, "{line}");
    0
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
type Resource = libc::__rlimit_resource_t;
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
type Resource = libc::c_int;

/// Lowers a limit to `value` (soft and hard), never above the inherited hard limit.
fn set_limit(resource: Resource, value: u64) {
    // SAFETY: getrlimit/setrlimit with a valid resource and initialised structs.
    unsafe {
        let mut current: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(resource, &mut current) != 0 {
            return;
        }
        let v = (value as libc::rlim_t).min(current.rlim_max);
        let limit = libc::rlimit {
            rlim_cur: v,
            rlim_max: v,
        };
        libc::setrlimit(resource, &limit);
    }
}

/// Points fds 0-2 at /dev/null, so the pipes to switchboard are held by the command alone and
/// close when its tree is gone.
fn release_stdio() {
    // SAFETY: open and dup2 on descriptors this process owns.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            for fd in 0..3 {
                libc::dup2(null, fd);
            }
            if null > 2 {
                libc::close(null);
            }
        }
    }
}

/// SIGTERM to the group and every descendant, then (once they are gone or `grace` has passed)
/// SIGKILL to whatever is left. Without a grace period, SIGKILL at once.
fn stop_tree(pgid: i32, grace: std::time::Duration) {
    if !grace.is_zero() {
        // SAFETY: signals a process group and pids found below this process.
        unsafe {
            libc::kill(-pgid, libc::SIGTERM);
        }
        for pid in descendants(std::process::id() as i32) {
            // SAFETY: as above.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let until = std::time::Instant::now() + grace;
        while std::time::Instant::now() < until && !only_zombies_below() {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    kill_tree(pgid);
}

/// True when nothing below this process is still running (zombies wait to be reaped).
fn only_zombies_below() -> bool {
    descendants(std::process::id() as i32)
        .into_iter()
        .all(|pid| process_state(pid).is_none_or(|s| s == 'Z'))
}

/// The state letter from `/proc/PID/stat` (R, S, Z, …), `None` when the process is gone.
#[cfg(target_os = "linux")]
fn process_state(pid: i32) -> Option<char> {
    stat(pid).map(|(state, _)| state)
}

#[cfg(not(target_os = "linux"))]
fn process_state(_pid: i32) -> Option<char> {
    None
}

/// SIGKILL to the command's process group and to every descendant of this process.
fn kill_tree(pgid: i32) {
    // SAFETY: signals a process group and pids found below this process.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
    for pid in descendants(std::process::id() as i32) {
        // SAFETY: as above.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// Every process below `root`, found through the parent links in /proc.
#[cfg(target_os = "linux")]
pub(crate) fn descendants(root: i32) -> Vec<i32> {
    let mut parent_of: Vec<(i32, i32)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<i32>().ok())
            else {
                continue;
            };
            if let Some(ppid) = parent_pid(pid) {
                parent_of.push((pid, ppid));
            }
        }
    }
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for &(pid, ppid) in &parent_of {
            if ppid == p && !out.contains(&pid) {
                out.push(pid);
                frontier.push(pid);
            }
        }
    }
    out
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn descendants(_root: i32) -> Vec<i32> {
    Vec::new()
}

/// The parent pid from `/proc/PID/stat`.
#[cfg(target_os = "linux")]
fn parent_pid(pid: i32) -> Option<i32> {
    stat(pid).map(|(_, ppid)| ppid)
}

/// State letter and parent pid from `/proc/PID/stat` (fields 3 and 4, after the parenthesised
/// name, which may itself contain spaces and parentheses).
#[cfg(target_os = "linux")]
fn stat(pid: i32) -> Option<(char, i32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = text[text.rfind(')')? + 2..].split(' ');
    let state = fields.next()?.chars().next()?;
    Some((state, fields.next()?.parse().ok()?))
}
