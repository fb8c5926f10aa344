//! `which`: where commands are on switchboard's PATH (the first match is the one that runs).

use std::ffi::OsStr;

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "which where installed command available path binary executable is installed command -v whereis";

/// Names one call may look up.
const MAX_NAMES: usize = 50;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WhichArgs {
    /// Command names, e.g. ["python3", "git"] (at most 50).
    pub names: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Found {
    pub name: String,
    /// The executable that runs for this name; absent when it is not on PATH.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Every match on PATH, in order (more than one means later ones are shadowed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub all: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WhichOutput {
    pub results: Vec<Found>,
}

pub fn which(args: &WhichArgs, path_var: &OsStr) -> Result<WhichOutput, ToolError> {
    if args.names.is_empty() || args.names.len() > MAX_NAMES {
        return Err(ToolError::invalid(format!(
            "give 1 to {MAX_NAMES} command names"
        )));
    }
    let dirs: Vec<std::path::PathBuf> = std::env::split_paths(path_var)
        .filter(|d| d.is_absolute())
        .collect();
    let mut results = Vec::with_capacity(args.names.len());
    for name in &args.names {
        if name.is_empty() || name.contains('/') || name.chars().any(char::is_control) {
            return Err(ToolError::invalid(format!(
                "`{name}` is not a command name; give a bare name such as `git`"
            )));
        }
        let all: Vec<String> = dirs
            .iter()
            .map(|d| d.join(name))
            .filter(|p| crate::support::process::is_executable(p))
            .map(|p| p.display().to_string())
            .collect();
        results.push(Found {
            name: name.clone(),
            path: all.first().cloned(),
            all,
        });
    }
    Ok(WhichOutput { results })
}

#[tool_router(router = which_router, vis = "pub(crate)")]
impl Switchboard {
    /// Find where commands are on PATH (like `which -a`).
    #[tool(annotations(
        title = "Locate commands",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn which(
        &self,
        Parameters(args): Parameters<WhichArgs>,
    ) -> Result<Json<WhichOutput>, ToolError> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        which(&args, &path).map(Json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_executables_in_path_order() {
        use std::os::unix::fs::PermissionsExt;
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        for d in [&a, &b] {
            let p = d.path().join("tool");
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::write(a.path().join("data"), "not executable").unwrap();
        let path = std::env::join_paths([a.path(), b.path()]).unwrap();
        let out = which(
            &WhichArgs {
                names: vec!["tool".into(), "data".into()],
            },
            &path,
        )
        .unwrap();
        assert_eq!(
            out.results[0].path.as_deref(),
            Some(a.path().join("tool").to_str().unwrap())
        );
        assert_eq!(out.results[0].all.len(), 2);
        assert!(out.results[1].path.is_none(), "not executable");
        assert!(
            which(
                &WhichArgs {
                    names: vec!["../x".into()]
                },
                &path
            )
            .is_err()
        );
    }
}
