//! Paths the file tools may never change: switchboard's own config, its data folders, VCS hooks
//! and config, shell start-up files and MCP host configs. A prompt-injected model that could
//! write any of these would get code execution or rewrite its own permissions. Matching is
//! case-insensitive (macOS and Windows file systems are) and runs on resolved paths.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// Paths every installation protects, as lower-cased component sequences: `Name` matches a
/// path ending in those components, `Tree` the folder itself and everything below it. Plain
/// component matching needs no regex compilation on the start-up path.
const BUILT_IN: &[(Kind, &[&str])] = &[
    (Kind::Name, &[".git", "config"]),
    (Kind::Tree, &[".git", "hooks"]),
    (Kind::Name, &[".gitmodules"]),
    (Kind::Name, &[".bashrc"]),
    (Kind::Name, &[".bash_profile"]),
    (Kind::Name, &[".bash_login"]),
    (Kind::Name, &[".bash_logout"]),
    (Kind::Name, &[".profile"]),
    (Kind::Name, &[".zshrc"]),
    (Kind::Name, &[".zshenv"]),
    (Kind::Name, &[".zprofile"]),
    (Kind::Name, &[".zlogin"]),
    (Kind::Name, &[".zlogout"]),
    (Kind::Name, &[".kshrc"]),
    (Kind::Name, &[".cshrc"]),
    (Kind::Name, &[".tcshrc"]),
    (Kind::Name, &[".config", "fish", "config.fish"]),
    (Kind::Tree, &[".config", "fish", "conf.d"]),
    (Kind::Name, &[".mcp.json"]),
    (Kind::Name, &["mcp.json"]),
    (Kind::Name, &["mcp_config.json"]),
    (Kind::Name, &["servers_config.json"]),
    (Kind::Name, &["claude_desktop_config.json"]),
    (Kind::Name, &[".claude.json"]),
    (Kind::Name, &[".claude", "settings.json"]),
    (Kind::Name, &[".claude", "settings.local.json"]),
    (Kind::Name, &[".vscode", "settings.json"]),
    (Kind::Name, &[".config", "zed", "settings.json"]),
    (Kind::Name, &[".zed", "settings.json"]),
    (Kind::Name, &[".gemini", "settings.json"]),
    (Kind::Name, &[".codex", "config.toml"]),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Name,
    Tree,
}

#[derive(Debug, Clone)]
pub struct ProtectedPaths {
    /// Exact files and whole folders (lower-cased), e.g. the active config file, `prompts/`.
    own: Vec<PathBuf>,
    /// The same, as spelled on disk (for bind mounts in the exec sandbox).
    own_real: Vec<PathBuf>,
    /// The user's `files.protected` globs; compiled only when there are any.
    globs: Option<GlobSet>,
    patterns: Vec<String>,
}

impl ProtectedPaths {
    /// `own` are switchboard's own files and folders; `extra` are the user's `files.protected`
    /// globs (a pattern without `/` matches that name anywhere).
    pub fn new(own: &[PathBuf], extra: &[String]) -> Result<Self, String> {
        let mut patterns = Vec::new();
        let globs = if extra.is_empty() {
            None
        } else {
            let mut builder = GlobSetBuilder::new();
            for p in extra {
                let p = if p.contains('/') {
                    p.clone()
                } else {
                    format!("**/{p}")
                };
                let glob = GlobBuilder::new(&p)
                    .case_insensitive(true)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| format!("`{p}` is not a valid glob: {e}"))?;
                builder.add(glob);
                patterns.push(p);
            }
            Some(builder.build().map_err(|e| e.to_string())?)
        };
        let own_real: Vec<PathBuf> = own
            .iter()
            .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
            .collect();
        let own = own_real.iter().map(|p| lower(p)).collect();
        Ok(Self {
            own,
            own_real,
            globs,
            patterns,
        })
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
        let comps: Vec<&str> = low.iter().filter_map(|c| c.to_str()).collect();
        for (kind, seq) in BUILT_IN {
            let hit = match kind {
                Kind::Name => comps.ends_with(seq),
                Kind::Tree => comps.windows(seq.len()).any(|w| w == *seq),
            };
            if hit {
                return Some(format!(
                    "it matches the protected pattern `**/{}{}` (VCS hooks and config, shell start-up files and MCP host configs are never writable)",
                    seq.join("/"),
                    if *kind == Kind::Tree { "/**" } else { "" }
                ));
            }
        }
        if let Some(globs) = &self.globs
            && let Some(i) = globs.matches(&low).first()
        {
            return Some(format!(
                "it matches the protected pattern `{}` from files.protected",
                self.patterns[*i]
            ));
        }
        None
    }
}

impl ProtectedPaths {
    /// The protected paths at fixed places inside `dir` that exist: switchboard's own files
    /// below it and the built-in names at its top. The exec sandbox re-mounts them read-only.
    /// Globs from `files.protected`, and built-in names deeper down (a nested repository's
    /// `.git/hooks`), cannot be listed without walking the tree and are not covered there.
    pub fn fixed_inside(&self, dir: &Path) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self
            .own_real
            .iter()
            .filter(|o| o.starts_with(dir) && o.exists())
            .cloned()
            .collect();
        for (_, seq) in BUILT_IN {
            let p = seq.iter().fold(dir.to_path_buf(), |p, c| p.join(c));
            if std::fs::symlink_metadata(&p).is_ok() && !out.contains(&p) {
                out.push(p);
            }
        }
        out
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
        let p = ProtectedPaths::new(&[], &[]).unwrap();
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
    fn own_folders_and_user_globs() {
        let p = ProtectedPaths::new(
            &[PathBuf::from("/etc/sb/prompts")],
            &["*.pem".into(), "secrets/**".into()],
        )
        .unwrap();
        assert!(p.reason(Path::new("/etc/sb/prompts/x.md")).is_some());
        assert!(p.reason(Path::new("/etc/SB/Prompts")).is_some());
        assert!(
            p.reason(Path::new("/etc/sb/promptsx")).is_none(),
            "component-wise, not string prefix"
        );
        assert!(p.reason(Path::new("/a/key.PEM")).is_some());
        assert!(ProtectedPaths::new(&[], &["[".into()]).is_err());
    }

    #[test]
    fn fixed_inside_lists_what_exists() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(root.join(".git/hooks")).unwrap();
        std::fs::write(root.join(".git/config"), "").unwrap();
        std::fs::create_dir(root.join("prompts")).unwrap();
        let p = ProtectedPaths::new(&[root.join("prompts")], &[]).unwrap();
        let mut got = p.fixed_inside(&root);
        got.sort();
        assert_eq!(
            got,
            vec![
                root.join(".git/config"),
                root.join(".git/hooks"),
                root.join("prompts")
            ]
        );
    }
}
