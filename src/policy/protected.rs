//! Paths the file tools may never change: switchboard's own config, its data folders, VCS hooks
//! and config, shell start-up files and MCP host configs. A prompt-injected model that could
//! write any of these would get code execution or rewrite its own permissions. Matching is
//! case-insensitive (macOS and Windows file systems are) and runs on resolved paths.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// Patterns every installation protects, matched against the whole lower-cased path.
const BUILT_IN: &[&str] = &[
    "**/.git/config",
    "**/.git/hooks",
    "**/.git/hooks/**",
    "**/.gitmodules",
    "**/.bashrc",
    "**/.bash_profile",
    "**/.bash_login",
    "**/.bash_logout",
    "**/.profile",
    "**/.zshrc",
    "**/.zshenv",
    "**/.zprofile",
    "**/.zlogin",
    "**/.zlogout",
    "**/.kshrc",
    "**/.cshrc",
    "**/.tcshrc",
    "**/.config/fish/config.fish",
    "**/.config/fish/conf.d/**",
    "**/.mcp.json",
    "**/mcp.json",
    "**/mcp_config.json",
    "**/servers_config.json",
    "**/claude_desktop_config.json",
    "**/.claude.json",
    "**/.claude/settings.json",
    "**/.claude/settings.local.json",
    "**/.vscode/settings.json",
    "**/.config/zed/settings.json",
    "**/.zed/settings.json",
    "**/.gemini/settings.json",
    "**/.codex/config.toml",
];

#[derive(Debug, Clone)]
pub struct ProtectedPaths {
    /// Exact files and whole folders (lower-cased), e.g. the active config file, `prompts/`.
    own: Vec<PathBuf>,
    globs: GlobSet,
    patterns: Vec<String>,
}

impl ProtectedPaths {
    /// `own` are switchboard's own files and folders; `extra` are the user's `files.protected`
    /// globs (a pattern without `/` matches that name anywhere).
    pub fn new(own: &[PathBuf], extra: &[String]) -> Result<Self, String> {
        let mut builder = GlobSetBuilder::new();
        let mut patterns = Vec::new();
        for p in BUILT_IN
            .iter()
            .map(|s| s.to_string())
            .chain(extra.iter().map(|p| {
                if p.contains('/') {
                    p.clone()
                } else {
                    format!("**/{p}")
                }
            }))
        {
            let glob = GlobBuilder::new(&p)
                .case_insensitive(true)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("`{p}` is not a valid glob: {e}"))?;
            builder.add(glob);
            patterns.push(p);
        }
        let globs = builder.build().map_err(|e| e.to_string())?;
        let own = own
            .iter()
            .map(|p| {
                let p = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
                lower(&p)
            })
            .collect();
        Ok(Self {
            own,
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
        if self.globs.is_match(&low) {
            let hits = self.globs.matches(&low);
            let pattern = hits
                .first()
                .map(|i| self.patterns[*i].as_str())
                .unwrap_or("?");
            return Some(format!(
                "it matches the protected pattern `{pattern}` (VCS hooks, shell start-up files and MCP host configs are never writable)"
            ));
        }
        None
    }

    pub fn patterns(&self) -> &[String] {
        &self.patterns
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
}
