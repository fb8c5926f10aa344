//! `directory_tree`: an indented outline of a folder, depth-limited, .gitignore-aware and
//! capped, for getting the lay of a project in one call.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::common::{overrides, walker};
use crate::policy::FileScope;
use crate::server::Switchboard;
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "tree structure layout hierarchy overview project repository structure recursive ls -R map outline nested folders";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectoryTreeArgs {
    /// Folder path: absolute, or relative to the first root (default: the first root).
    #[serde(default)]
    pub path: Option<String>,
    /// How many levels below the folder to show (default 3).
    pub max_depth: Option<usize>,
    /// Globs to leave out, e.g. ["target", "*.log"].
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Honour .gitignore and .ignore files (default true).
    pub gitignore: Option<bool>,
    /// Include entries whose names start with a dot.
    #[serde(default)]
    pub show_hidden: bool,
    /// At most this many entries (default and maximum: files.max_entries).
    pub max_entries: Option<usize>,
}

pub fn directory_tree(scope: &FileScope, args: &DirectoryTreeArgs) -> Result<String, ToolError> {
    let input = args.path.clone().unwrap_or_else(|| ".".to_owned());
    let resolved = scope.existing(&input)?;
    if !resolved.path.is_dir() {
        return Err(ToolError::invalid(format!(
            "`{input}` is a file, not a folder"
        )));
    }
    let depth = args.max_depth.unwrap_or(3).max(1);
    let cap = scope.files.max_entries;
    let max = args.max_entries.unwrap_or(cap).clamp(1, cap);
    let mut builder = walker(
        &resolved.path,
        args.gitignore.unwrap_or(true),
        args.show_hidden,
    );
    builder
        .max_depth(Some(depth))
        .sort_by_file_name(|a, b| a.cmp(b));
    if !args.exclude.is_empty() {
        builder.overrides(overrides(&resolved.path, &[], &args.exclude)?);
    }
    let mut out = format!("{}/\n", resolved.path.display());
    let mut shown = 0usize;
    let mut truncated = false;
    for entry in builder.build() {
        let Ok(entry) = entry else { continue };
        if entry.depth() == 0 {
            continue;
        }
        if shown == max {
            truncated = true;
            break;
        }
        let name = entry.file_name().to_string_lossy();
        let ft = entry.file_type();
        let suffix = match ft {
            Some(t) if t.is_dir() => "/",
            Some(t) if t.is_symlink() => " -> (symlink)",
            _ => "",
        };
        out.push_str(&"  ".repeat(entry.depth()));
        out.push_str(&name);
        out.push_str(suffix);
        out.push('\n');
        shown += 1;
    }
    if truncated {
        out.push_str(&format!(
            "[stopped at {max} entries (max_entries, capped by files.max_entries): use a smaller max_depth, exclude globs, or a deeper path]\n"
        ));
    }
    Ok(out)
}

#[tool_router(router = directory_tree_router, vis = "pub(crate)")]
impl Switchboard {
    /// Show a folder as an indented tree, depth-limited, skipping .gitignored and hidden entries by default: a project's layout at a glance.
    #[tool(annotations(
        title = "Folder tree",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn directory_tree(
        &self,
        Parameters(args): Parameters<DirectoryTreeArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<String, ToolError> {
        let scope = self.file_scope(&ctx).await;
        blocking(move || directory_tree(&scope, &args)).await
    }
}
