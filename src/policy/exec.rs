//! The execution policy: the one place that decides how a command may run. It turns a tool's
//! request (cwd, env additions, timeout) into a [`Plan`]: a cwd inside the allowed roots, an
//! environment cleared to an allowlist, a timeout under the hard maximum, rlimits, a per-call
//! scratch dir, and the bubblewrap sandbox when it is available (or required). Tools build
//! their argv and hand it to [`Plan::spec`]; none of them decides any of this on its own.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::config::{CreatedProtected, ExecSettings, FileSettings, Rlimits, SandboxMode};
use crate::policy::protected::Scan;
use crate::policy::{FileScope, PolicyError, Resolved};
use crate::support::process::sandbox::{self, SandboxPlan};
use crate::support::process::{Input, Spec, find_on_path, is_executable};

/// Variables passed through from switchboard's own environment; everything else (tokens,
/// keys, the host's settings) stays out of children.
const ALLOWED_ENV: &[&str] = &["PATH", "HOME", "LANG", "TERM", "USER"];

/// Credential stores below the home folder, hidden inside the sandbox.
const HIDDEN_IN_HOME: &[&str] = &[
    ".ssh",
    ".gnupg",
    ".aws",
    ".azure",
    ".config/gcloud",
    ".kube",
    ".docker",
    ".password-store",
    ".local/share/keyrings",
    ".config/gh",
    ".netrc",
    ".pgpass",
    ".git-credentials",
    ".cargo/credentials",
    ".cargo/credentials.toml",
    ".npmrc",
    ".pypirc",
    ".mozilla",
    ".config/google-chrome",
    ".config/chromium",
];

/// Sockets that would hand out more power than the sandbox allows (the session bus, Docker).
const HIDDEN_SYSTEM: &[&str] = &["/run/user", "/run/docker.sock", "/var/run/docker.sock"];

/// Whether bubblewrap can be used here: its path, or why not.
pub type SandboxAvailability = Result<PathBuf, String>;

pub struct ExecPolicy {
    pub settings: Arc<ExecSettings>,
    files: Arc<FileSettings>,
    /// The allowlisted part of switchboard's environment, read once at start-up.
    base_env: Vec<(OsString, OsString)>,
    /// Package-manager settings from switchboard's environment, for installs only.
    package_env: Vec<(OsString, OsString)>,
    /// switchboard's own binary, re-executed as the process supervisor.
    pub supervisor: PathBuf,
    /// Folders every sandbox shows read-only even below the fresh `/tmp` (the managed venv
    /// and npm prefix, which `run_code` uses).
    shared: Vec<PathBuf>,
    sandbox: tokio::sync::OnceCell<SandboxAvailability>,
    /// The login shell to ask for its PATH (`SHELL`), and the PATH commands get, made once.
    login_shell: Option<OsString>,
    path: tokio::sync::OnceCell<Option<OsString>>,
    /// The user's git identity as `GIT_AUTHOR_*`/`GIT_COMMITTER_*`, read once for sandboxed
    /// runs (whose private home hides the git config).
    git_identity: tokio::sync::OnceCell<Vec<(OsString, OsString)>>,
}

/// What a tool asks for.
#[derive(Debug, Clone, Default)]
pub struct ExecRequest {
    pub cwd: Option<String>,
    pub env: BTreeMap<String, String>,
    pub timeout_secs: Option<u64>,
    /// A process that keeps running (no timeout, no CPU-time limit).
    pub background: bool,
    /// Internal uses only (package installs): more writable folders and network access.
    pub extra_writable: Vec<PathBuf>,
    pub network: bool,
    /// A package manager's run: its settings (`PIP_*`, `npm_config_*`, proxies, `~/.npmrc`)
    /// pass through, since it needs them to reach its registry.
    pub package_manager: bool,
}

/// How one command will run.
#[derive(Debug)]
pub struct Plan {
    pub cwd: PathBuf,
    pub root: PathBuf,
    pub env: Vec<(OsString, OsString)>,
    pub timeout: Duration,
    pub limits: Rlimits,
    /// bubblewrap and what the sandbox shows, when sandboxed.
    pub sandbox: Option<(PathBuf, SandboxPlan)>,
    /// Why the run is not sandboxed, when it is not.
    pub sandbox_note: Option<String>,
    /// A fresh folder for this call (TMPDIR), removed afterwards.
    pub scratch: tempfile::TempDir,
    /// The protected-path review to finish when the run ends (sandboxed runs only).
    pub review: Option<Review>,
}

/// Protected paths that exist in the root are mounted read-only in the sandbox, so a command
/// cannot change them; ones it creates are found by walking the root again when it ends
/// (`exec::review`). This is what the first walk saw.
#[derive(Debug)]
pub struct Review {
    pub root: PathBuf,
    pub before: Scan,
    /// When the first walk began (Unix seconds), less one for file systems with coarse
    /// clocks: a path whose status changed since then was changed during the run.
    pub since: i64,
    pub files: Arc<FileSettings>,
    pub budget: usize,
    pub action: CreatedProtected,
}

/// At most this many protected paths are re-mounted read-only (shallowest first); deeper ones
/// are left to the review after the run.
pub const MAX_PROTECTED_MOUNTS: usize = 512;

impl Plan {
    pub fn sandboxed(&self) -> bool {
        self.sandbox.is_some()
    }

    /// The spec that starts `command` (program path first) under this plan.
    pub fn spec(&self, command: Vec<OsString>, input: Input, merge_output: bool) -> Spec {
        let argv = match &self.sandbox {
            Some((bwrap, plan)) => sandbox::bwrap_argv(bwrap, plan, &command),
            None => command,
        };
        Spec {
            argv,
            cwd: self.cwd.clone(),
            env: self.env.clone(),
            input,
            merge_output,
            limits: self.limits,
            term_grace: Duration::ZERO,
            new_session: true,
        }
    }

    /// Makes `program` (resolved) runnable in the sandbox when the sandbox does not show it
    /// yet: an interpreter in a virtualenv under `/tmp`, a tool in `/srv/tools/bin`. Its folder's
    /// prefix is shown read-only, and so is the prefix of the file its symlinks lead to (a
    /// virtualenv's `python` → the base interpreter). A program whose folder cannot be shown
    /// (the home folder itself, a hidden credential folder) is refused in words.
    pub fn show_program(&mut self, program: &Path) -> Result<(), PolicyError> {
        let Some((_, sb)) = &mut self.sandbox else {
            return Ok(());
        };
        let home = sb.home.clone();
        let mut wanted = vec![program.to_path_buf()];
        if let Ok(real) = std::fs::canonicalize(program)
            && real != program
        {
            wanted.push(real);
        }
        // A script's interpreter (`#!/tmp/venv/bin/python`) must be there too.
        if let Some(interpreter) = shebang(program) {
            if let Ok(real) = std::fs::canonicalize(&interpreter)
                && real != interpreter
            {
                wanted.push(real);
            }
            wanted.push(interpreter);
        }
        for p in wanted {
            if sb.shows(&p) {
                continue;
            }
            let shown = p
                .parent()
                .and_then(|dir| shown_for(dir, home.as_deref()))
                .filter(|s| !sb.hides(s));
            match shown {
                Some(dir) => sb.system.push(dir),
                None => {
                    return Err(PolicyError::Refused {
                        path: program.display().to_string(),
                        why: format!(
                            "the sandbox cannot show {} (it shows the system folders, the programs on PATH with their prefixes, and the roots; not the home folder itself or the credential folders): add its folder to exec.readable in config.yaml, or set exec.sandbox: off (a restart applies either)",
                            p.display()
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// The value of `name` in the child's environment.
    pub fn env_var(&self, name: &str) -> Option<&OsStr> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_os_str())
    }

    /// Finds `program` the way the child would: a path (relative to the cwd) or a name on the
    /// child's PATH.
    pub fn resolve_program(&self, program: &str) -> Result<PathBuf, PolicyError> {
        let bad = |why: String| PolicyError::Refused {
            path: program.to_owned(),
            why,
        };
        if program.trim().is_empty() || program.contains('\0') {
            return Err(bad("give a program name such as `git`, or a path".into()));
        }
        if program.contains('/') {
            let p = self.cwd.join(program);
            return if is_executable(&p) {
                Ok(p)
            } else {
                Err(bad(format!(
                    "{} is not an executable file (relative paths start at the cwd {})",
                    p.display(),
                    self.cwd.display()
                )))
            };
        }
        let path = self.env_var("PATH").unwrap_or_default();
        find_on_path(program, path).ok_or_else(|| {
            bad(
                "no such program on PATH; check the name with `which`, or give its full path"
                    .into(),
            )
        })
    }
}

impl ExecPolicy {
    /// `env` is switchboard's environment (passed in, so tests can choose it).
    pub fn new(
        settings: Arc<ExecSettings>,
        files: Arc<FileSettings>,
        env: impl Iterator<Item = (OsString, OsString)>,
        supervisor: PathBuf,
        shared: Vec<PathBuf>,
    ) -> Self {
        let (mut base_env, mut package_env) = (Vec::new(), Vec::new());
        let mut login_shell = None;
        for (k, v) in env {
            if k == "SHELL" && !v.is_empty() {
                login_shell = Some(v.clone());
            }
            let name = k.to_string_lossy();
            let lower = name.to_ascii_lowercase();
            if ALLOWED_ENV.contains(&name.as_ref()) || name.starts_with("LC_") {
                base_env.push((k, v));
            } else if name.starts_with("PIP_")
                || lower.starts_with("npm_config_")
                || matches!(lower.as_str(), "http_proxy" | "https_proxy" | "no_proxy")
            {
                package_env.push((k, v));
            }
        }
        Self {
            settings,
            files,
            base_env,
            package_env,
            supervisor,
            shared,
            sandbox: tokio::sync::OnceCell::new(),
            login_shell,
            path: tokio::sync::OnceCell::new(),
            git_identity: tokio::sync::OnceCell::new(),
        }
    }

    /// The PATH commands run with, made on the first command: the login shell's entries first
    /// (when `exec.login_shell_path` is on), then switchboard's own that it lacks.
    async fn path(&self) -> Option<OsString> {
        self.path.get_or_init(|| self.merged_path()).await.clone()
    }

    async fn merged_path(&self) -> Option<OsString> {
        let own = self
            .base_env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.clone());
        let login = match (&self.login_shell, self.settings.login_shell_path) {
            (Some(shell), true) => login_shell_path(shell.clone()).await,
            _ => None,
        };
        match (login, own) {
            (Some(login), Some(own)) => {
                let mut entries: Vec<PathBuf> = std::env::split_paths(&login).collect();
                for e in std::env::split_paths(&own) {
                    if !entries.contains(&e) {
                        entries.push(e);
                    }
                }
                std::env::join_paths(entries).ok()
            }
            (login, own) => login.or(own),
        }
    }

    /// The user's `user.name` and `user.email` from the global git config, as the variables
    /// git reads instead, asked of git once (outside the sandbox, at most 3 s). Only the two
    /// values leave the home folder, never the config file (it can hold tokens).
    async fn git_identity(&self, env: &[(OsString, OsString)]) -> Vec<(OsString, OsString)> {
        let get = |name: &'static str| {
            let env = env.to_vec();
            async move {
                let path = env
                    .iter()
                    .find(|(k, _)| k == "PATH")
                    .map(|(_, v)| v.clone())?;
                let git = find_on_path("git", &path)?;
                let run = tokio::process::Command::new(git)
                    .args(["config", "--global", "--includes", "--get", name])
                    .env_clear()
                    .envs(
                        env.iter()
                            .filter(|(k, _)| k == "HOME" || k == "PATH")
                            .cloned(),
                    )
                    .stdin(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .kill_on_drop(true)
                    .output();
                let out = tokio::time::timeout(Duration::from_secs(3), run)
                    .await
                    .ok()?
                    .ok()?;
                let value = String::from_utf8(out.stdout).ok()?.trim().to_owned();
                (out.status.success() && !value.is_empty()).then_some(value)
            }
        };
        self.git_identity
            .get_or_init(|| async {
                let (name, email) = tokio::join!(get("user.name"), get("user.email"));
                let mut vars = Vec::new();
                for (value, who) in [(name, "NAME"), (email, "EMAIL")] {
                    if let Some(v) = value {
                        for role in ["AUTHOR", "COMMITTER"] {
                            vars.push((format!("GIT_{role}_{who}").into(), v.clone().into()));
                        }
                    }
                }
                tracing::info!(
                    found = vars.len() / 2,
                    "git identity for sandboxed commands"
                );
                vars
            })
            .await
            .clone()
    }

    /// Probes bubblewrap once per process (a few milliseconds) and remembers the answer.
    pub async fn sandbox_availability(&self) -> &SandboxAvailability {
        self.sandbox
            .get_or_init(|| async {
                let path = self
                    .base_env
                    .iter()
                    .find(|(k, _)| k == "PATH")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                sandbox::available(&path).await
            })
            .await
    }

    /// Checks a request against the policy and plans the run.
    pub async fn plan(&self, scope: &FileScope, req: ExecRequest) -> Result<Plan, PolicyError> {
        let s = &self.settings;
        let cwd_input = req.cwd.as_deref().unwrap_or(".");
        let resolved = scope.existing(cwd_input)?;
        if !resolved.path.is_dir() {
            return Err(PolicyError::Refused {
                path: cwd_input.to_owned(),
                why: "the working directory must be a folder".into(),
            });
        }
        let timeout = match req.timeout_secs {
            None => s.timeout,
            Some(0) => {
                return Err(refused("timeout_secs", "must be at least 1".into()));
            }
            Some(t) if Duration::from_secs(t) > s.max_timeout => {
                return Err(refused(
                    "timeout_secs",
                    format!(
                        "{t} s is above the maximum of {} s (exec.max_timeout_secs); use a smaller value, or process_start for programs that run longer",
                        s.max_timeout.as_secs()
                    ),
                ));
            }
            Some(t) => Duration::from_secs(t),
        };
        for name in req.env.keys() {
            if !crate::config::is_env_name(name) {
                return Err(refused(
                    "env",
                    format!("`{name}` is not a variable name (letters, digits and `_`)"),
                ));
            }
        }
        let scratch = tempfile::Builder::new()
            .prefix("switchboard-run-")
            .tempdir()
            .map_err(|e| PolicyError::Io {
                path: std::env::temp_dir().display().to_string(),
                source: e,
            })?;

        let mut env = self.base_env.clone();
        if let Some(path) = self.path().await {
            match env.iter_mut().find(|(k, _)| k == "PATH") {
                Some((_, v)) => *v = path,
                None => env.push(("PATH".into(), path)),
            }
        }
        if req.package_manager {
            env.extend(self.package_env.iter().cloned());
        }
        for (k, v) in s.env.iter().map(|(k, v)| (k, v)).chain(req.env.iter()) {
            env.retain(|(ek, _)| ek != k.as_str());
            env.push((k.into(), v.into()));
        }
        env.retain(|(k, _)| k != "TMPDIR");
        env.push(("TMPDIR".into(), scratch.path().into()));

        let mut limits = s.rlimits;
        if req.background {
            limits.cpu_secs = None;
        }

        let mut review = None;
        let (sandbox, sandbox_note) = match s.sandbox {
            SandboxMode::Off => (
                None,
                Some("not sandboxed: exec.sandbox is off in the config".to_owned()),
            ),
            mode => match self.sandbox_availability().await {
                Ok(bwrap) => {
                    review = self.review_before(&resolved.root).await;
                    let path = env
                        .iter()
                        .find(|(k, _)| k == "PATH")
                        .map(|(_, v)| v.as_os_str());
                    let plan = self.sandbox_plan(
                        scope,
                        &resolved,
                        &scratch,
                        &req,
                        path,
                        review.as_ref().map(|r| &r.before),
                    );
                    if s.git_identity {
                        for (k, v) in self.git_identity(&env).await {
                            if !env.iter().any(|(ek, _)| *ek == k) {
                                env.push((k, v));
                            }
                        }
                    }
                    (Some((bwrap.clone(), plan)), None)
                }
                Err(why) if mode == SandboxMode::Required => {
                    return Err(refused(
                        "sandbox",
                        format!(
                            "exec.sandbox is `required` but the sandbox cannot run: {why}. Nothing was run."
                        ),
                    ));
                }
                Err(why) => (None, Some(format!("not sandboxed: {why}"))),
            },
        };

        Ok(Plan {
            cwd: resolved.path,
            root: resolved.root,
            env,
            timeout,
            limits,
            sandbox,
            sandbox_note,
            scratch,
            review,
        })
    }

    /// Walks `root` for the protected paths in it (off the async threads), unless the review
    /// is off (`exec.review_entries: 0`).
    async fn review_before(&self, root: &Path) -> Option<Review> {
        let budget = self.settings.review_entries;
        if budget == 0 {
            return None;
        }
        let since = crate::support::time::unix_secs(std::time::SystemTime::now()) - 1;
        let (files, dir) = (self.files.clone(), root.to_path_buf());
        let before = tokio::task::spawn_blocking(move || files.protected.scan(&dir, budget, since))
            .await
            .ok()?;
        Some(Review {
            root: root.to_path_buf(),
            before,
            since,
            files: self.files.clone(),
            budget,
            action: self.settings.created_protected,
        })
    }

    fn sandbox_plan(
        &self,
        scope: &FileScope,
        resolved: &Resolved,
        scratch: &tempfile::TempDir,
        req: &ExecRequest,
        path: Option<&OsStr>,
        before: Option<&Scan>,
    ) -> SandboxPlan {
        let (root, cwd) = (&resolved.root, &resolved.path);
        let s = &self.settings;
        let mut system: Vec<PathBuf> = sandbox::SYSTEM.iter().map(PathBuf::from).collect();
        system.extend(toolchains(path, s.home.as_deref()));
        system.extend(s.readable.iter().cloned());
        let mut writable = vec![root.to_path_buf(), scratch.path().to_path_buf()];
        writable.extend(s.writable.iter().cloned());
        writable.extend(req.extra_writable.iter().cloned());
        // In the root, what the review's walk found (or, with the review off, the names at its
        // top); in the other writable folders, the names at their top.
        let in_root = match before {
            Some(scan) => scan
                .found
                .iter()
                .filter(|f| !f.link)
                .take(MAX_PROTECTED_MOUNTS)
                .map(|f| f.path.clone())
                .collect(),
            None => self.files.protected.fixed_inside(root),
        };
        let read_only = writable
            .iter()
            .filter(|w| *w != scratch.path() && *w != root)
            .flat_map(|w| self.files.protected.fixed_inside(w))
            .chain(in_root)
            .collect();
        let mut hidden: Vec<PathBuf> = HIDDEN_SYSTEM.iter().map(PathBuf::from).collect();
        if let Some(home) = &s.home {
            let registry_config = [".npmrc", ".pypirc"];
            hidden.extend(
                HIDDEN_IN_HOME
                    .iter()
                    .filter(|h| !(req.package_manager && registry_config.contains(h)))
                    .map(|h| home.join(h)),
            );
        }
        hidden.extend(s.hidden.iter().cloned());
        SandboxPlan {
            system,
            home: s.home.clone(),
            visible: scope
                .roots()
                .iter()
                .map(|r| r.path.clone())
                .filter(|p| p != root)
                .chain(self.shared.iter().cloned())
                .collect(),
            writable,
            read_only,
            hidden,
            network: s.network || req.network,
            cwd: cwd.to_path_buf(),
        }
    }
}

/// Toolchain folders in the home folder that a command found on `PATH` may need beside its own
/// (rustup's proxies in `~/.cargo/bin` read `~/.rustup`, pyenv's shims read `~/.pyenv`…).
const HOME_TOOLCHAINS: &[&str] = &[
    ".cargo",
    ".rustup",
    ".pyenv",
    ".nvm",
    ".volta",
    ".bun",
    ".deno",
    ".local/bin",
    ".local/lib",
    ".local/share/pnpm",
    ".npm-global",
    ".sdkman",
    "go",
];

/// Whether showing `p` whole in a sandbox would show too much: `/`, the home folder, or a
/// folder that holds it.
pub(crate) fn too_wide(p: &Path, home: Option<&Path>) -> bool {
    p == Path::new("/") || home.is_some_and(|h| h.starts_with(p))
}

/// The absolute interpreter path of a `#!` script.
fn shebang(program: &Path) -> Option<PathBuf> {
    use std::io::Read;
    let mut head = [0u8; 256];
    let n = std::fs::File::open(program).ok()?.read(&mut head).ok()?;
    let line = head[..n].strip_prefix(b"#!")?;
    let line = &line[..line.iter().position(|b| *b == b'\n').unwrap_or(line.len())];
    let first = std::str::from_utf8(line).ok()?.split_whitespace().next()?;
    let p = PathBuf::from(first);
    p.is_absolute().then_some(p)
}

/// What the sandbox shows for a folder holding programs: its prefix (`/opt/node/bin` →
/// `/opt/node`, so the interpreter finds its libraries), or the folder alone when the prefix is
/// too wide or is the user's data; `None` when even the folder is too wide (`/`, the home).
fn shown_for(dir: &Path, home: Option<&Path>) -> Option<PathBuf> {
    let prefix = match dir.parent() {
        Some(up) if dir.ends_with("bin") => up.to_path_buf(),
        _ => dir.to_path_buf(),
    };
    // Inside the home folder a prefix is shown only within a known toolchain
    // (`~/.cargo/bin` → `~/.cargo`); `~/.local/bin` never opens `~/.local`, which holds the
    // user's data (`share/`, the trash).
    let in_home_data = home.is_some_and(|h| {
        prefix.starts_with(h)
            && !HOME_TOOLCHAINS
                .iter()
                .any(|t| prefix.starts_with(h.join(t)))
    });
    let shown = if too_wide(&prefix, home) || in_home_data {
        dir.to_path_buf()
    } else {
        prefix
    };
    (!too_wide(&shown, home)).then_some(shown)
}

/// The folders a command may be found in, shown read-only: each `PATH` entry outside the
/// system folders with its prefix (`/opt/node/bin` → `/opt/node`, so the interpreter finds its
/// libraries), and the toolchains in the home folder that exist. A prefix that is the home
/// folder, `/`, or above them is never shown whole; the entry alone is.
pub(crate) fn toolchains(path: Option<&OsStr>, home: Option<&Path>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let system = |p: &Path| sandbox::SYSTEM.iter().any(|s| p.starts_with(s));
    for dir in path.map(std::env::split_paths).into_iter().flatten() {
        if !dir.is_absolute() || system(&dir) {
            continue;
        }
        if let Some(shown) = shown_for(&dir, home)
            && !out.iter().any(|o| shown.starts_with(o))
        {
            out.retain(|o| !o.starts_with(&shown));
            out.push(shown);
        }
    }
    if let Some(home) = home {
        for t in HOME_TOOLCHAINS {
            let p = home.join(t);
            if p.exists() && !out.iter().any(|o| p.starts_with(o)) {
                out.push(p);
            }
        }
    }
    out
}

fn refused(what: &str, why: String) -> PolicyError {
    PolicyError::Refused {
        path: what.to_owned(),
        why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::policy::Policy;

    fn policy(dir: &Path, mode: SandboxMode) -> (ExecPolicy, FileScope) {
        let mut settings = Settings::defaults_for_tests(dir, &[dir.to_path_buf()]).unwrap();
        settings.exec.sandbox = mode;
        settings.exec.env = vec![("EXTRA".into(), "1".into())];
        let env = [
            ("PATH", "/usr/bin:/bin"),
            ("LC_ALL", "C"),
            ("OPENAI_API_KEY", "sk-secret"),
            ("PIP_INDEX_URL", "https://mirror.example/simple"),
            ("TMPDIR", "/somewhere"),
        ]
        .map(|(k, v)| (OsString::from(k), OsString::from(v)));
        let exec = ExecPolicy::new(
            Arc::new(settings.exec.clone()),
            Arc::new(settings.files.clone()),
            env.into_iter(),
            PathBuf::from("switchboard"),
            vec![],
        );
        (
            exec,
            Policy::new(settings.files).scope(&crate::policy::ClientRoots::Unknown),
        )
    }

    #[tokio::test]
    async fn environment_is_an_allowlist() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let (exec, scope) = policy(&root, SandboxMode::Off);
        let plan = exec.plan(&scope, ExecRequest::default()).await.unwrap();
        let names: Vec<String> = plan
            .env
            .iter()
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["PATH", "LC_ALL", "EXTRA", "TMPDIR"]);
        assert_eq!(
            plan.env_var("TMPDIR"),
            Some(plan.scratch.path().as_os_str())
        );
        assert_eq!(plan.cwd, root);
        assert!(
            plan.sandbox_note
                .as_deref()
                .unwrap()
                .contains("exec.sandbox is off")
        );
        // A package manager also gets its registry settings, still no secrets.
        let req = ExecRequest {
            package_manager: true,
            ..ExecRequest::default()
        };
        let plan = exec.plan(&scope, req).await.unwrap();
        assert!(plan.env_var("PIP_INDEX_URL").is_some());
        assert!(plan.env_var("OPENAI_API_KEY").is_none());
    }

    #[tokio::test]
    async fn timeouts_and_names_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let (exec, scope) = policy(&root, SandboxMode::Off);
        for (timeout, env) in [
            (Some(0), "A"),
            (Some(601), "A"),
            (None, "1X"),
            (None, "A=B"),
        ] {
            let req = ExecRequest {
                timeout_secs: timeout,
                env: BTreeMap::from([(env.to_owned(), "v".to_owned())]),
                ..ExecRequest::default()
            };
            assert!(exec.plan(&scope, req).await.is_err(), "{timeout:?} {env}");
        }
        let req = ExecRequest {
            timeout_secs: Some(600),
            ..ExecRequest::default()
        };
        assert_eq!(exec.plan(&scope, req).await.unwrap().timeout.as_secs(), 600);
    }
}

#[cfg(test)]
mod toolchain_tests {
    use super::*;

    #[test]
    fn path_entries_show_their_prefix_but_never_the_home_folder_whole() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".rustup")).unwrap();
        let path = std::env::join_paths([
            "/usr/bin",
            "/opt/node/bin",
            "/opt/node/lib/tools",
            home.join("bin").to_str().unwrap(),
            home.join(".local/bin").to_str().unwrap(),
            home.join(".nvm/versions/node/v20/bin").to_str().unwrap(),
            "/bin",
            "relative/bin",
        ])
        .unwrap();
        let got = toolchains(Some(&path), Some(&home));
        assert_eq!(
            got,
            vec![
                PathBuf::from("/opt/node"),
                home.join("bin"),
                home.join(".local/bin"),
                home.join(".nvm/versions/node/v20"),
                home.join(".rustup")
            ]
        );
        // `/` and the folders above home are never shown whole.
        let wide = std::env::join_paths(["/", "/home/bin"]).unwrap();
        assert_eq!(
            toolchains(Some(&wide), Some(Path::new("/home/u"))),
            vec![PathBuf::from("/home/bin")]
        );
    }
}

/// Asks the login shell `shell` for its PATH (`shell -l -c`, at most 3 s, nothing on stdin),
/// as editors do; `None` when it fails, takes too long or prints none.
async fn login_shell_path(shell: OsString) -> Option<OsString> {
    const MARK: &str = "__switchboard_path__";
    let run = tokio::process::Command::new(&shell)
        .args(["-l", "-c", &format!("printf '\\n{MARK}%s{MARK}' \"$PATH\"")])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = match tokio::time::timeout(Duration::from_secs(3), run).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => {
            tracing::info!(shell = %shell.to_string_lossy(), error = %e, "login shell PATH: the shell did not run");
            return None;
        }
        Err(_) => {
            tracing::info!(shell = %shell.to_string_lossy(), "login shell PATH: no answer in 3 s");
            return None;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let path = text.split(MARK).nth(1)?.trim();
    tracing::info!(path, "login shell PATH");
    (!path.is_empty()).then(|| path.into())
}
