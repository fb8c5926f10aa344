//! The bubblewrap (`bwrap`) command line for one sandboxed run, and the start-up probe that
//! tells whether bubblewrap works on this machine at all (it is installed but refused where
//! unprivileged user namespaces are disabled).
//!
//! The view inside is an allowlist, nothing else of the host: the system folders read-only
//! (`/usr`, `/etc`, the library folders…), the toolchains the command can be found in, a
//! fresh `/dev`, `/proc` and `/tmp`, an empty private home, the other roots read-only, the
//! writable folders read-write with the protected paths inside them read-only again, no network
//! unless asked, its own pid, IPC and UTS namespaces, no capabilities, and death with its
//! parent (the supervisor).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The host's system folders every sandbox shows read-only.
pub const SYSTEM: &[&str] = &[
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc",
    "/sys",
    // Where /etc/resolv.conf points on systemd machines.
    "/run/systemd/resolve",
    "/nix/store",
];

/// What one sandboxed run may see and change.
#[derive(Debug, Clone, Default)]
pub struct SandboxPlan {
    /// The host folders shown read-only: system folders and toolchains (a symlink such as
    /// `/bin` → `usr/bin` is recreated as a symlink).
    pub system: Vec<PathBuf>,
    /// The home folder, replaced by an empty private one (toolchains in it are bound back).
    pub home: Option<PathBuf>,
    /// Bound read-only first: the other roots (they may sit under the fresh `/tmp`).
    pub visible: Vec<PathBuf>,
    /// Bound read-write: the cwd's root, the scratch dir, configured extras.
    pub writable: Vec<PathBuf>,
    /// Bound read-only on top of the writable ones (protected paths inside them).
    pub read_only: Vec<PathBuf>,
    /// Hidden after the writable binds: folders replaced by an empty tmpfs, files by an empty
    /// file. One that contains a writable folder is skipped (the user chose that folder).
    pub hidden: Vec<PathBuf>,
    pub network: bool,
    pub cwd: PathBuf,
}

impl SandboxPlan {
    /// Whether a host path is visible inside: under a folder shown, bound or writable, and not
    /// under a hidden one. The fresh `/tmp`, `/dev`, `/proc` and the private home show nothing
    /// of the host's.
    pub fn shows(&self, p: &Path) -> bool {
        let under = |dirs: &[PathBuf]| dirs.iter().any(|d| p.starts_with(d));
        (under(&self.system) || under(&self.visible) || under(&self.writable)) && !self.hides(p)
    }

    /// Whether `p` is under a folder hidden inside.
    pub fn hides(&self, p: &Path) -> bool {
        self.hidden.iter().any(|h| p.starts_with(h))
    }
}

/// The argv that runs `command` inside the sandbox.
pub fn bwrap_argv(bwrap: &Path, plan: &SandboxPlan, command: &[OsString]) -> Vec<OsString> {
    let mut a: Vec<OsString> = vec![bwrap.into()];
    let mut push = |items: &[&str]| a.extend(items.iter().map(OsString::from));
    push(&[
        "--die-with-parent",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--cap-drop",
        "ALL",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
    ]);
    if !plan.network {
        push(&["--unshare-net"]);
    }
    if super::seccomp::AVAILABLE {
        push(&["--seccomp", super::seccomp::FD_PLACEHOLDER]);
    }
    if let Some(home) = &plan.home {
        a.extend(["--tmpfs".into(), home.into()]);
    }
    for s in &plan.system {
        match std::fs::symlink_metadata(s) {
            Ok(m) if m.is_symlink() => {
                if let Ok(target) = std::fs::read_link(s) {
                    a.extend(["--symlink".into(), target.into(), s.into()]);
                }
            }
            Ok(_) => a.extend(["--ro-bind".into(), s.into(), s.into()]),
            Err(_) => {}
        }
    }
    for v in plan.visible.iter().filter(|v| v.exists()) {
        a.extend(["--ro-bind".into(), v.into(), v.into()]);
    }
    for w in plan.writable.iter().filter(|w| w.exists()) {
        a.extend(["--bind".into(), w.into(), w.into()]);
    }
    for h in &plan.hidden {
        if plan.writable.iter().any(|w| w.starts_with(h)) {
            continue;
        }
        // Only what exists can be masked; a missing one has nothing to hide.
        match std::fs::metadata(h) {
            Ok(m) if m.is_dir() => {
                a.push("--tmpfs".into());
                a.push(h.into());
            }
            Ok(_) => {
                a.push("--ro-bind".into());
                a.push("/dev/null".into());
                a.push(h.into());
            }
            Err(_) => {}
        }
    }
    for r in &plan.read_only {
        if std::fs::symlink_metadata(r).is_ok() {
            a.extend(["--ro-bind".into(), r.into(), r.into()]);
        }
    }
    a.push("--chdir".into());
    a.push(plan.cwd.clone().into());
    a.push("--".into());
    a.extend(command.iter().cloned());
    a
}

/// bubblewrap found on `path` and probed (off the async threads): its path, or why the sandbox
/// cannot run here.
pub async fn available(path: &std::ffi::OsStr) -> Result<PathBuf, String> {
    if !cfg!(target_os = "linux") {
        return Err(
            "this platform has no OS sandbox in switchboard yet (bubblewrap is Linux only)"
                .to_owned(),
        );
    }
    let Some(bwrap) = super::find_on_path("bwrap", path) else {
        return Err(
            "bubblewrap (bwrap) is not installed; install the bubblewrap package".to_owned(),
        );
    };
    let probe_at = bwrap.clone();
    match tokio::task::spawn_blocking(move || probe(&probe_at)).await {
        Ok(Ok(())) => Ok(bwrap),
        Ok(Err(e)) => Err(e),
        Err(e) => Err(format!("the sandbox probe failed: {e}")),
    }
}

/// Runs a trivial command in the same kind of sandbox; `Err` says why bubblewrap cannot be
/// used here.
pub fn probe(bwrap: &Path) -> Result<(), String> {
    let plan = SandboxPlan {
        system: SYSTEM.iter().map(PathBuf::from).collect(),
        cwd: PathBuf::from("/"),
        ..SandboxPlan::default()
    };
    let mut argv = bwrap_argv(bwrap, &plan, &["true".into()]);
    let _filter = super::seccomp::attach(&mut argv)
        .map_err(|e| format!("the seccomp filter could not be made: {e}"))?;
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("{} could not start: {e}", bwrap.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} does not work here ({}); user namespaces may be disabled",
            bwrap.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_binds_writable_then_protected_and_ends_with_the_command() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        std::fs::create_dir_all(root.join(".git/hooks")).unwrap();
        let plan = SandboxPlan {
            system: vec![],
            home: None,
            visible: vec![],
            writable: vec![root.clone()],
            read_only: vec![root.join(".git/hooks"), root.join("missing")],
            hidden: vec![],
            network: false,
            cwd: root.clone(),
        };
        let argv = bwrap_argv(Path::new("/usr/bin/bwrap"), &plan, &["ls".into()]);
        let text: Vec<String> = argv
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let pos = |s: &str| text.iter().position(|a| a == s).unwrap();
        assert!(text.contains(&"--unshare-net".to_owned()));
        let hooks = root.join(".git/hooks").display().to_string();
        assert!(pos("--bind") < text.iter().rposition(|a| *a == hooks).unwrap());
        assert!(!text.iter().any(|a| a.ends_with("missing")));
        assert_eq!(&text[text.len() - 2..], ["--", "ls"]);
    }
}
