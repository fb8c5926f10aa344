//! Paths the file tools may never change: switchboard's own config, its data folders, VCS hooks
//! and config, shell start-up files and MCP host configs. A prompt-injected model that could
//! write any of these would get code execution or rewrite its own permissions. Matching is
//! case-insensitive (macOS and Windows file systems are) and runs on resolved paths.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// Why a built-in path is protected, as the refusal says it.
const VCS: &str = "VCS hooks and config run code on the next commit or fetch";
const SHELL: &str = "shell and terminal start-up files run code in the next session";
const EDITOR: &str =
    "editor tasks, launch and workspace settings run code when the project is opened or built";
const TOOL: &str = "this tool config runs code when the tool runs (package managers, build tools, linters, debuggers, REPLs)";
const ENV: &str = "environment loaders run code when a shell enters the folder";
const REMOTE: &str = "remote-access and credential-helper config runs commands";
const HOST: &str = "MCP host configs decide which programs an agent starts";

/// Paths every installation protects: files that make another program run code (editors,
/// shells, git, package managers, linters, debuggers, REPLs, environment loaders) and the MCP
/// hosts' configs. Lower-cased component sequences: `Name` matches a path ending in those
/// components, `Tree` the folder itself and everything below it, `Ext` a file name ending so.
/// Plain component matching needs no regex compilation on the start-up path. Project build
/// files (`package.json`, `Makefile`, `build.rs`, `pyproject.toml`, `conftest.py`) run code too
/// but are the project's own source, which the model is there to edit: they stay writable.
const BUILT_IN: &[(Kind, &[&str], &str)] = &[
    // Git and commit-hook managers.
    (Kind::Name, &[".git", "config"], VCS),
    (Kind::Tree, &[".git", "hooks"], VCS),
    (Kind::Tree, &[".git", "modules"], VCS),
    (Kind::Name, &[".gitmodules"], VCS),
    (Kind::Name, &[".gitconfig"], VCS),
    (Kind::Name, &[".config", "git", "config"], VCS),
    (Kind::Tree, &[".husky"], VCS),
    (Kind::Name, &[".pre-commit-config.yaml"], VCS),
    (Kind::Name, &["lefthook.yml"], VCS),
    (Kind::Name, &[".lefthook.yml"], VCS),
    // Shells, terminals, desktop sessions.
    (Kind::Name, &[".bashrc"], SHELL),
    (Kind::Name, &[".bash_profile"], SHELL),
    (Kind::Name, &[".bash_login"], SHELL),
    (Kind::Name, &[".bash_logout"], SHELL),
    (Kind::Name, &[".bash_aliases"], SHELL),
    (Kind::Name, &[".profile"], SHELL),
    (Kind::Name, &[".zshrc"], SHELL),
    (Kind::Name, &[".zshenv"], SHELL),
    (Kind::Name, &[".zprofile"], SHELL),
    (Kind::Name, &[".zlogin"], SHELL),
    (Kind::Name, &[".zlogout"], SHELL),
    (Kind::Name, &[".kshrc"], SHELL),
    (Kind::Name, &[".cshrc"], SHELL),
    (Kind::Name, &[".tcshrc"], SHELL),
    (Kind::Name, &[".config", "fish", "config.fish"], SHELL),
    (Kind::Tree, &[".config", "fish", "conf.d"], SHELL),
    (Kind::Tree, &[".config", "fish", "functions"], SHELL),
    (Kind::Name, &[".tmux.conf"], SHELL),
    (Kind::Name, &[".screenrc"], SHELL),
    (Kind::Name, &[".xinitrc"], SHELL),
    (Kind::Name, &[".xprofile"], SHELL),
    (Kind::Name, &[".xsessionrc"], SHELL),
    (Kind::Tree, &[".config", "autostart"], SHELL),
    (Kind::Tree, &[".config", "systemd"], SHELL),
    // Editors.
    (Kind::Name, &[".vscode", "settings.json"], EDITOR),
    (Kind::Name, &[".vscode", "tasks.json"], EDITOR),
    (Kind::Name, &[".vscode", "launch.json"], EDITOR),
    (Kind::Ext, &[".code-workspace"], EDITOR),
    (Kind::Tree, &[".config", "code", "user"], EDITOR),
    (Kind::Tree, &[".config", "cursor", "user"], EDITOR),
    (Kind::Name, &[".zed", "settings.json"], EDITOR),
    (Kind::Name, &[".zed", "tasks.json"], EDITOR),
    (Kind::Name, &[".config", "zed", "settings.json"], EDITOR),
    (Kind::Name, &[".config", "zed", "tasks.json"], EDITOR),
    (Kind::Tree, &[".idea", "runconfigurations"], EDITOR),
    (Kind::Name, &[".idea", "workspace.xml"], EDITOR),
    (Kind::Tree, &[".run"], EDITOR),
    (Kind::Ext, &[".sublime-project"], EDITOR),
    (Kind::Name, &[".devcontainer.json"], EDITOR),
    (Kind::Tree, &[".devcontainer"], EDITOR),
    (Kind::Name, &[".exrc"], EDITOR),
    (Kind::Name, &[".nvimrc"], EDITOR),
    (Kind::Name, &[".nvim.lua"], EDITOR),
    (Kind::Name, &[".vimrc"], EDITOR),
    (Kind::Name, &[".gvimrc"], EDITOR),
    (Kind::Tree, &[".vim"], EDITOR),
    (Kind::Tree, &[".config", "nvim"], EDITOR),
    (Kind::Name, &[".emacs"], EDITOR),
    (Kind::Tree, &[".emacs.d"], EDITOR),
    (Kind::Name, &[".dir-locals.el"], EDITOR),
    // Package managers and build tools that read config from the project or home.
    (Kind::Name, &[".npmrc"], TOOL),
    (Kind::Name, &[".yarnrc"], TOOL),
    (Kind::Name, &[".yarnrc.yml"], TOOL),
    (Kind::Name, &[".pnpmfile.cjs"], TOOL),
    (Kind::Name, &["bunfig.toml"], TOOL),
    (Kind::Name, &[".cargo", "config"], TOOL),
    (Kind::Name, &[".cargo", "config.toml"], TOOL),
    (Kind::Name, &["pip.conf"], TOOL),
    (Kind::Name, &[".pydistutils.cfg"], TOOL),
    (Kind::Tree, &[".gradle", "init.d"], TOOL),
    (Kind::Name, &[".gradle", "init.gradle"], TOOL),
    (Kind::Name, &[".mvn", "jvm.config"], TOOL),
    (Kind::Name, &[".mvn", "maven.config"], TOOL),
    (Kind::Name, &["mise.toml"], TOOL),
    (Kind::Name, &[".mise.toml"], TOOL),
    (Kind::Name, &[".config", "mise", "config.toml"], TOOL),
    // Linters and formatters whose config is a program (editors run them on open or save).
    (Kind::Name, &["eslint.config.js"], TOOL),
    (Kind::Name, &["eslint.config.mjs"], TOOL),
    (Kind::Name, &["eslint.config.cjs"], TOOL),
    (Kind::Name, &["eslint.config.ts"], TOOL),
    (Kind::Name, &[".eslintrc.js"], TOOL),
    (Kind::Name, &[".eslintrc.cjs"], TOOL),
    (Kind::Name, &["prettier.config.js"], TOOL),
    (Kind::Name, &["prettier.config.mjs"], TOOL),
    (Kind::Name, &["prettier.config.cjs"], TOOL),
    (Kind::Name, &[".prettierrc.js"], TOOL),
    (Kind::Name, &[".prettierrc.cjs"], TOOL),
    (Kind::Name, &[".pylintrc"], TOOL),
    (Kind::Name, &["pylintrc"], TOOL),
    // Debuggers and REPLs that load a file from the folder they start in.
    (Kind::Name, &[".gdbinit"], TOOL),
    (Kind::Name, &[".lldbinit"], TOOL),
    (Kind::Name, &[".irbrc"], TOOL),
    (Kind::Name, &[".pryrc"], TOOL),
    (Kind::Name, &[".rprofile"], TOOL),
    (Kind::Name, &[".psqlrc"], TOOL),
    (Kind::Name, &[".sqliterc"], TOOL),
    (Kind::Name, &[".pythonrc"], TOOL),
    (Kind::Name, &[".pythonrc.py"], TOOL),
    // Environment loaders.
    (Kind::Name, &[".envrc"], ENV),
    (Kind::Name, &[".direnvrc"], ENV),
    (Kind::Tree, &[".config", "direnv"], ENV),
    // Remote access and credential helpers.
    (Kind::Tree, &[".ssh"], REMOTE),
    (Kind::Name, &[".kube", "config"], REMOTE),
    (Kind::Name, &[".aws", "config"], REMOTE),
    (Kind::Name, &[".docker", "config.json"], REMOTE),
    // MCP hosts and agents.
    (Kind::Name, &[".mcp.json"], HOST),
    (Kind::Name, &["mcp.json"], HOST),
    (Kind::Name, &["mcp_config.json"], HOST),
    (Kind::Name, &["servers_config.json"], HOST),
    (Kind::Name, &["claude_desktop_config.json"], HOST),
    (Kind::Name, &[".claude.json"], HOST),
    (Kind::Name, &[".claude", "settings.json"], HOST),
    (Kind::Name, &[".claude", "settings.local.json"], HOST),
    (Kind::Name, &[".gemini", "settings.json"], HOST),
    (Kind::Name, &[".codex", "config.toml"], HOST),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Name,
    Tree,
    Ext,
}

#[derive(Debug, Clone)]
pub struct ProtectedPaths {
    /// Exact files and whole folders (lower-cased), e.g. the active config file, `prompts/`.
    own: Vec<PathBuf>,
    /// The same, as spelled on disk (for bind mounts in the exec sandbox).
    own_real: Vec<PathBuf>,
    /// The user's `files.protected` globs; compiled only when there are any.
    extra: Globs,
    /// The user's `files.allow_protected` globs: built-in paths opened on purpose.
    allow: Globs,
}

/// User globs, compiled only when there are any, with their spelling for messages.
#[derive(Debug, Clone, Default)]
struct Globs {
    set: Option<GlobSet>,
    patterns: Vec<String>,
}

impl Globs {
    /// A relative pattern (`name`, `.vscode/tasks.json`, `secrets/**`) matches at any depth; one
    /// starting with `/` or `**` is taken as written.
    fn new(list: &[String], key: &'static str) -> Result<Self, (&'static str, String)> {
        if list.is_empty() {
            return Ok(Self::default());
        }
        let mut builder = GlobSetBuilder::new();
        let mut patterns = Vec::new();
        for p in list {
            let p = if p.starts_with('/') || p.starts_with("**") {
                p.clone()
            } else {
                format!("**/{p}")
            };
            let glob = GlobBuilder::new(&p)
                .case_insensitive(true)
                .literal_separator(true)
                .build()
                .map_err(|e| (key, format!("`{p}` is not a valid glob: {e}")))?;
            builder.add(glob);
            patterns.push(p);
        }
        Ok(Self {
            set: Some(builder.build().map_err(|e| (key, e.to_string()))?),
            patterns,
        })
    }

    fn first_match(&self, low: &Path) -> Option<&str> {
        let i = *self.set.as_ref()?.matches(low).first()?;
        Some(&self.patterns[i])
    }
}

impl Kind {
    fn hit(self, comps: &[&str], seq: &[&str]) -> bool {
        match self {
            Kind::Name => comps.ends_with(seq),
            Kind::Tree => comps.windows(seq.len()).any(|w| w == seq),
            Kind::Ext => comps
                .last()
                .is_some_and(|l| l.len() > seq[0].len() && l.ends_with(seq[0])),
        }
    }

    fn pattern(self, seq: &[&str]) -> String {
        match self {
            Kind::Name => format!("**/{}", seq.join("/")),
            Kind::Tree => format!("**/{}/**", seq.join("/")),
            Kind::Ext => format!("**/*{}", seq[0]),
        }
    }
}

impl ProtectedPaths {
    /// `own` are switchboard's own files and folders; `extra` are the user's `files.protected`
    /// globs and `allow` the `files.allow_protected` ones (see [`Globs::new`]).
    /// A bad glob is refused with its config key.
    pub fn new(
        own: &[PathBuf],
        extra: &[String],
        allow: &[String],
    ) -> Result<Self, (&'static str, String)> {
        let own_real: Vec<PathBuf> = own
            .iter()
            .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
            .collect();
        let own = own_real.iter().map(|p| lower(p)).collect();
        Ok(Self {
            own,
            own_real,
            extra: Globs::new(extra, "files.protected")?,
            allow: Globs::new(allow, "files.allow_protected")?,
        })
    }

    /// The built-in pattern `path` (lower-cased) falls under and why, unless the user opened it.
    fn built_in(&self, low: &Path) -> Option<(String, &'static str)> {
        let comps: Vec<&str> = low.iter().filter_map(|c| c.to_str()).collect();
        let (kind, seq, why) = BUILT_IN.iter().find(|(k, seq, _)| k.hit(&comps, seq))?;
        if self.allow.first_match(low).is_some() {
            return None;
        }
        Some((kind.pattern(seq), why))
    }

    /// Why `path` (already resolved) may not be written, or `None` when it may.
    pub fn reason(&self, path: &Path) -> Option<String> {
        let low = lower(path);
        if let Some(own) = self.own.iter().find(|o| low.starts_with(o)) {
            return Some(format!(
                "it belongs to switchboard's own configuration or state ({})",
                own.display()
            ));
        }
        if let Some((pattern, why)) = self.built_in(&low) {
            return Some(format!(
                "{why}, and it matches the built-in protected pattern `{pattern}`. It stays readable; if the user wants it writable, they list it under files.allow_protected in switchboard's config"
            ));
        }
        self.extra
            .first_match(&low)
            .map(|p| format!("it matches the protected pattern `{p}` from files.protected"))
    }

    /// The protected paths at fixed places inside `dir` that exist: switchboard's own files
    /// below it and the built-in names at its top (files ending in a protected extension
    /// included). The exec sandbox re-mounts them read-only. Globs from `files.protected`, and
    /// built-in names deeper down (a nested repository's `.git/hooks`), cannot be listed
    /// without walking the tree and are not covered there.
    pub fn fixed_inside(&self, dir: &Path) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self
            .own_real
            .iter()
            .filter(|o| o.starts_with(dir) && o.exists())
            .cloned()
            .collect();
        let mut add = |p: PathBuf| {
            if std::fs::symlink_metadata(&p).is_ok()
                && self.built_in(&lower(&p)).is_some()
                && !out.contains(&p)
            {
                out.push(p);
            }
        };
        for (kind, seq, _) in BUILT_IN {
            if *kind != Kind::Ext {
                add(seq.iter().fold(dir.to_path_buf(), |p, c| p.join(c)));
            }
        }
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().to_lowercase();
            if BUILT_IN
                .iter()
                .any(|(k, seq, _)| *k == Kind::Ext && k.hit(&[name.as_str()], seq))
            {
                add(entry.path());
            }
        }
        out
    }
}

/// A protected path that [`ProtectedPaths::scan`] found, with what tells its versions apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    pub dev: u64,
    pub ino: u64,
    /// Last status change (seconds, nanoseconds): a rewrite, rename or chmod moves it.
    pub ctime: (i64, i64),
    pub dir: bool,
    pub link: bool,
}

/// The protected paths inside a folder, as one walk saw them.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// Shallowest first.
    pub found: Vec<Found>,
    /// Entries looked at.
    pub entries: usize,
    /// False when the walk stopped at its entry budget.
    pub complete: bool,
}

/// Whether an entry called `name` could be a protected path: the last component of a
/// built-in pattern, or a name with a protected ending.
fn candidate(name: &str) -> bool {
    static LAST: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    let last = LAST.get_or_init(|| {
        BUILT_IN
            .iter()
            .filter(|(k, _, _)| *k != Kind::Ext)
            .filter_map(|(_, seq, _)| seq.last().copied())
            .collect()
    });
    last.contains(name)
        || BUILT_IN
            .iter()
            .any(|(k, seq, _)| *k == Kind::Ext && k.hit(&[name], seq))
}

/// Folders no program reads project config from are skipped by [`ProtectedPaths::scan`]:
/// git's object store (a repository's config, hooks and modules are looked at; they are
/// protected themselves) and installed packages (`node_modules`).
fn skipped(parent: &Path, name: &str) -> bool {
    let parent_is_git = parent
        .file_name()
        .is_some_and(|n| n.eq_ignore_ascii_case(".git"));
    if parent_is_git {
        return !matches!(name, "config" | "hooks" | "modules");
    }
    name == "node_modules"
}

/// Files that mark a folder as generated (a cache, a virtualenv). Such a folder is skipped
/// only when the marker is older than the run, so a command cannot hide what it plants by
/// writing one.
const GENERATED_MARKERS: &[&str] = &["cachedir.tag", "pyvenv.cfg"];

impl ProtectedPaths {
    /// Walks `dir` breadth-first (so the top levels, where programs look for their config,
    /// come first), without following symlinks or leaving its file system, and lists the
    /// protected paths in it; a protected folder is listed and not entered. Skips what
    /// [`skipped`] names and folders marked generated before `since` (Unix seconds), and stops
    /// after `budget` entries.
    pub fn scan(&self, dir: &Path, budget: usize, since: i64) -> Scan {
        use std::os::unix::fs::MetadataExt;
        let mut scan = Scan {
            complete: true,
            ..Scan::default()
        };
        let Ok(top) = std::fs::symlink_metadata(dir) else {
            return scan;
        };
        let found = |path: PathBuf, m: &std::fs::Metadata| Found {
            path,
            dev: m.dev(),
            ino: m.ino(),
            ctime: (m.ctime(), m.ctime_nsec()),
            dir: m.is_dir(),
            link: m.file_type().is_symlink(),
        };
        // A folder inside a protected tree is protected whole.
        if self.reason(&dir.join("a")).is_some() {
            scan.found.push(found(dir.to_path_buf(), &top));
            return scan;
        }
        // Only a name some protected pattern ends in can start a protected path (the walk
        // meets a protected folder before anything below it), so most entries are passed over
        // without building their path. User globs can match anything: with them, every
        // entry is checked.
        let every = self.extra.set.is_some();
        let dir_low = lower(dir);
        let own_names: std::collections::HashSet<String> = self
            .own
            .iter()
            .filter(|o| o.starts_with(&dir_low))
            .filter_map(|o| o.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        // By the status-change time, which (unlike the modification time) no command can
        // set back.
        let old = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.ctime() < since);
        let mut queue = std::collections::VecDeque::from([dir.to_path_buf()]);
        while let Some(folder) = queue.pop_front() {
            let Ok(list) = std::fs::read_dir(&folder) else {
                continue;
            };
            let entries: Vec<std::fs::DirEntry> = list.flatten().collect();
            let names: Vec<String> = entries
                .iter()
                .map(|e| e.file_name().to_string_lossy().to_lowercase())
                .collect();
            let generated = folder != dir
                && names
                    .iter()
                    .zip(&entries)
                    .any(|(n, e)| GENERATED_MARKERS.contains(&n.as_str()) && old(&e.path()));
            if generated {
                continue;
            }
            for (entry, name) in entries.iter().zip(&names) {
                if scan.entries >= budget {
                    scan.complete = false;
                    return scan;
                }
                scan.entries += 1;
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if every || candidate(name) || own_names.contains(name) {
                    let path = entry.path();
                    if self.reason(&path).is_some() {
                        if let Ok(m) = std::fs::symlink_metadata(&path) {
                            scan.found.push(found(path, &m));
                        }
                        continue;
                    }
                }
                if kind.is_dir()
                    && !skipped(&folder, name)
                    && entry.metadata().is_ok_and(|m| m.dev() == top.dev())
                {
                    queue.push_back(entry.path());
                }
            }
        }
        scan
    }
}

fn lower(p: &Path) -> PathBuf {
    PathBuf::from(p.to_string_lossy().to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_match_case_insensitively() {
        let p = ProtectedPaths::new(&[], &[], &[]).unwrap();
        assert!(p.reason(Path::new("/home/u/proj/.git/config")).is_some());
        assert!(
            p.reason(Path::new("/home/u/proj/.GIT/Hooks/pre-commit"))
                .is_some()
        );
        assert!(p.reason(Path::new("/home/u/.BashRC")).is_some());
        assert!(p.reason(Path::new("/home/u/proj/.mcp.json")).is_some());
        assert!(p.reason(Path::new("/home/u/proj/src/main.rs")).is_none());
        assert!(
            p.reason(Path::new("/home/u/proj/.git/config.bak"))
                .is_none()
        );
    }

    #[test]
    fn files_that_make_another_program_run_code_are_protected() {
        let p = ProtectedPaths::new(&[], &[], &[]).unwrap();
        for path in [
            "/p/.vscode/tasks.json",
            "/p/.vscode/launch.json",
            "/p/App.code-workspace",
            "/p/.idea/runConfigurations/Run.xml",
            "/p/.devcontainer/devcontainer.json",
            "/p/.envrc",
            "/p/.npmrc",
            "/p/.yarnrc.yml",
            "/p/.cargo/config.toml",
            "/p/eslint.config.js",
            "/p/.pylintrc",
            "/p/.gdbinit",
            "/p/.husky/pre-commit",
            "/p/.pre-commit-config.yaml",
            "/p/.git/modules/sub/hooks/post-checkout",
            "/home/u/.ssh/authorized_keys",
            "/home/u/.kube/config",
            "/home/u/.gitconfig",
            "/home/u/.config/nvim/init.lua",
        ] {
            let why = p.reason(Path::new(path));
            assert!(why.is_some(), "{path}");
            assert!(why.unwrap().contains("files.allow_protected"), "{path}");
        }
        for path in [
            "/p/package.json",
            "/p/Makefile",
            "/p/.env",
            "/p/.code-workspace.md",
            "/p/src/ssh.rs",
            "/p/.vscode/extensions.json",
        ] {
            assert!(p.reason(Path::new(path)).is_none(), "{path}");
        }
    }

    #[test]
    fn a_built_in_path_can_be_opened_on_purpose_but_not_switchboards_own() {
        let p = ProtectedPaths::new(
            &[PathBuf::from("/etc/sb/config.yaml")],
            &[],
            &[".vscode/tasks.json".into(), "/etc/sb/*".into()],
        )
        .unwrap();
        assert!(p.reason(Path::new("/p/.vscode/tasks.json")).is_none());
        assert!(p.reason(Path::new("/p/.vscode/launch.json")).is_some());
        assert!(p.reason(Path::new("/etc/sb/config.yaml")).is_some());
        let err = ProtectedPaths::new(&[], &[], &["[".into()]).unwrap_err();
        assert_eq!(err.0, "files.allow_protected");
    }

    #[test]
    fn own_folders_and_user_globs() {
        let p = ProtectedPaths::new(
            &[PathBuf::from("/etc/sb/prompts")],
            &["*.pem".into(), "secrets/**".into()],
            &[],
        )
        .unwrap();
        assert!(p.reason(Path::new("/etc/sb/prompts/x.md")).is_some());
        assert!(p.reason(Path::new("/etc/SB/Prompts")).is_some());
        assert!(
            p.reason(Path::new("/etc/sb/promptsx")).is_none(),
            "component-wise, not string prefix"
        );
        assert!(p.reason(Path::new("/a/key.PEM")).is_some());
        assert!(p.reason(Path::new("/a/secrets/x")).is_some());
        assert!(p.reason(Path::new("/a/notsecrets/x")).is_none());
        assert!(ProtectedPaths::new(&[], &["[".into()], &[]).is_err());
    }

    #[test]
    fn fixed_inside_lists_what_exists() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(root.join(".git/hooks")).unwrap();
        std::fs::write(root.join(".git/config"), "").unwrap();
        std::fs::create_dir(root.join("prompts")).unwrap();
        std::fs::create_dir(root.join(".vscode")).unwrap();
        std::fs::write(root.join(".vscode/tasks.json"), "").unwrap();
        std::fs::write(root.join("App.Code-Workspace"), "").unwrap();
        std::fs::write(root.join(".envrc"), "").unwrap();
        let p = ProtectedPaths::new(&[root.join("prompts")], &[], &[".envrc".into()]).unwrap();
        let mut got = p.fixed_inside(&root);
        got.sort();
        assert_eq!(
            got,
            vec![
                root.join(".git/config"),
                root.join(".git/hooks"),
                root.join(".vscode/tasks.json"),
                root.join("App.Code-Workspace"),
                root.join("prompts")
            ]
        );
    }

    #[test]
    fn scan_finds_protected_paths_at_any_depth_and_skips_generated_folders() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let mk = |rel: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        };
        mk("a/b/.git/hooks/pre-commit");
        mk("a/b/.git/objects/ab/.envrc");
        mk("pkg/.vscode/tasks.json");
        mk("pkg/.vscode/extensions.json");
        mk("node_modules/x/.eslintrc.js");
        mk("target/CACHEDIR.TAG");
        mk("target/.envrc");
        mk("src/main.rs");
        let p = ProtectedPaths::new(&[], &[], &[]).unwrap();
        let now = crate::support::time::unix_secs(std::time::SystemTime::now());
        let later = now + 5;
        let paths = |scan: &Scan| {
            let mut v: Vec<PathBuf> = scan.found.iter().map(|f| f.path.clone()).collect();
            v.sort();
            v
        };
        let scan = p.scan(&root, 1000, later);
        assert!(scan.complete);
        assert_eq!(
            paths(&scan),
            vec![
                root.join("a/b/.git/hooks"),
                root.join("pkg/.vscode/tasks.json")
            ]
        );
        // A marker written during the run hides nothing.
        let earlier = now - 60;
        assert!(paths(&p.scan(&root, 1000, earlier)).contains(&root.join("target/.envrc")));
        // The budget stops the walk, shallow levels first.
        let short = p.scan(&root, 3, later);
        assert!(!short.complete);
        assert_eq!(short.entries, 3);
        // With user globs every entry is checked; a root inside a protected tree is whole.
        let globs = ProtectedPaths::new(&[], &["*.rs".into()], &[]).unwrap();
        assert!(paths(&globs.scan(&root, 1000, later)).contains(&root.join("src/main.rs")));
        assert_eq!(
            paths(&p.scan(&root.join("a/b/.git/hooks"), 1000, later)).len(),
            1
        );
    }
}
