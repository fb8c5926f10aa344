//! A process-count limit that holds for root: the supervisor moves itself into a cgroup of its
//! own with `pids.max` set before it starts the command, so the command's whole tree counts
//! against it. `RLIMIT_NPROC`, which the supervisor sets too, binds ordinary users only (the
//! kernel never applies it to root). Both cgroup layouts are handled: v1 (a `pids` hierarchy)
//! and v2 (the unified hierarchy, when `pids` is enabled for the supervisor's cgroup's
//! children). Where neither is writable (an ordinary user without delegation) nothing is
//! created, and the rlimit is what holds; `doctor` says which.

use std::path::{Path, PathBuf};

/// The cgroup the supervisor made and entered; dropping it takes it down.
#[derive(Debug)]
pub struct Group {
    dir: PathBuf,
    /// The `cgroup.procs` of the cgroup the supervisor came from.
    back: PathBuf,
}

/// Where a child cgroup with a pids controller can be made for this process, and the layout.
fn base() -> Option<(PathBuf, &'static str)> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        let rel = own.lines().find_map(|l| l.strip_prefix("0::"))?;
        let base = Path::new("/sys/fs/cgroup").join(rel.trim_start_matches('/'));
        let enabled = std::fs::read_to_string(base.join("cgroup.subtree_control")).ok()?;
        return enabled
            .split_whitespace()
            .any(|c| c == "pids")
            .then_some((base, "v2"));
    }
    let rel = own.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        controllers.split(',').any(|c| c == "pids").then_some(path)
    })?;
    let base = Path::new("/sys/fs/cgroup/pids").join(rel.trim_start_matches('/'));
    base.join("cgroup.procs").exists().then_some((base, "v1"))
}

impl Group {
    /// Makes a cgroup for this process with at most `pids` tasks and moves this process into
    /// it; `None` when no writable pids controller is there.
    pub fn enter(pids: u64) -> Option<Group> {
        let (base, _) = base()?;
        sweep(&base);
        let me = std::process::id();
        let dir = base.join(format!("switchboard-run-{me}"));
        std::fs::create_dir(&dir).ok()?;
        let group = Group {
            back: base.join("cgroup.procs"),
            dir,
        };
        let entered = std::fs::write(group.dir.join("pids.max"), pids.to_string())
            .and_then(|()| std::fs::write(group.dir.join("cgroup.procs"), me.to_string()));
        match entered {
            Ok(()) => Some(group),
            Err(_) => None,
        }
    }
}

/// Dropping the group moves this process back and removes the cgroup (empty once the
/// command's tree is gone), so every way out of the supervisor cleans up.
impl Drop for Group {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.back, std::process::id().to_string());
        // A switchboard run inside this one made its own groups in here, and its supervisors
        // may have been killed with the tree: the tree is gone now, so all of them are empty.
        remove_groups(&self.dir);
    }
}

/// Removes an empty cgroup and the empty cgroups below it, deepest first.
fn remove_groups(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_groups(&entry.path());
        }
    }
    let _ = std::fs::remove_dir(dir);
}

/// Removes the groups of supervisors that are gone (killed outright, so they could not clean
/// up), beside the one about to be made.
fn sweep(base: &Path) {
    for entry in std::fs::read_dir(base).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("switchboard-run-"))
        else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            remove_groups(&entry.path());
        }
    }
}

/// Which mechanism makes `exec.limits.processes` hold here, for `doctor`: the cgroup layout
/// when one can be made (tried for real), else `None`.
pub fn available() -> Option<&'static str> {
    let (base, layout) = base()?;
    let dir = base.join(format!("switchboard-probe-{}", std::process::id()));
    std::fs::create_dir(&dir).ok()?;
    let ok = std::fs::write(dir.join("pids.max"), "10").is_ok();
    let _ = std::fs::remove_dir(&dir);
    ok.then_some(layout)
}
