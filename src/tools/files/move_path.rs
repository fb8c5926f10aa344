//! `move_path`: move or rename a file, folder or symlink inside the roots. Never replaces
//! anything unless asked; falls back to copy-and-delete across file systems.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{display, open_parent, protected_inside};
use crate::policy::FileScope;
use crate::server::Switchboard;
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "move mv rename relocate file folder directory";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MovePathArgs {
    /// What to move: absolute, or relative to the first root. A symlink is moved as a link.
    pub source: String,
    /// The new full path (not the folder to move into).
    pub destination: String,
    /// Replace an existing file at the destination.
    #[serde(default)]
    pub overwrite: bool,
    /// Create missing parent folders of the destination.
    #[serde(default)]
    pub create_parents: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MovePathOutput {
    pub source: String,
    pub destination: String,
    /// True when an existing file was replaced.
    pub replaced: bool,
}

pub fn move_path(scope: &FileScope, args: &MovePathArgs) -> Result<MovePathOutput, ToolError> {
    let src = scope.locate(&args.source)?;
    let Some(kind) = src.existing else {
        return Err(crate::policy::PolicyError::NotFound {
            path: args.source.clone(),
        }
        .into());
    };
    if scope.roots().iter().any(|r| r.path.starts_with(&src.path)) {
        return Err(ToolError::invalid(format!(
            "`{}` is a root (or holds one); roots cannot be moved",
            args.source
        )));
    }
    if kind.is_dir() {
        protected_inside(scope, &src.path, &args.source)?;
    }
    let dst = scope.for_write(&args.destination)?;
    if dst.path.starts_with(&src.path) {
        return Err(ToolError::invalid(
            "the destination is inside the source; a folder cannot be moved into itself",
        ));
    }
    if dst.missing_parents && !args.create_parents {
        return Err(ToolError::invalid(format!(
            "the folder {} does not exist; pass create_parents: true",
            display(&dst.parent)
        )));
    }
    let replaced = match dst.existing {
        Some(_) if !args.overwrite => {
            return Err(ToolError::invalid(format!(
                "`{}` already exists; pass overwrite: true to replace it, or choose another name (to move into a folder, give folder/name)",
                args.destination
            )));
        }
        Some(t) if t.is_dir() => {
            return Err(ToolError::invalid(format!(
                "`{}` is an existing folder; folders are never replaced, delete it first",
                args.destination
            )));
        }
        Some(_) if kind.is_dir() => {
            return Err(ToolError::invalid(format!(
                "`{}` is a file; a folder cannot replace a file",
                args.destination
            )));
        }
        Some(_) => true,
        None => false,
    };
    let io = |e| ToolError::io(&args.source, e);
    // Both folders by descriptor, so the rename happens exactly where the checks looked.
    let from = scope.parent_dir(&src, false, &args.source)?;
    let to = open_parent(scope, &dst, &args.destination)?;
    let result = from.rename(src.name(), &to, dst.name(), replaced);
    match result {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
            // Another file system: copy, then remove the original.
            let copy = super::copy_path::CopyPathArgs {
                source: args.source.clone(),
                destination: args.destination.clone(),
                overwrite: args.overwrite,
                create_parents: args.create_parents,
            };
            super::copy_path::copy_path(scope, &copy)?;
            from.remove_tree(src.name()).map_err(io)?;
        }
        Err(e) => return Err(io(e)),
    }
    Ok(MovePathOutput {
        source: display(&src.path),
        destination: display(&dst.path),
        replaced,
    })
}

#[tool_router(router = move_path_router, vis = "pub(crate)")]
impl Switchboard {
    /// Move or rename a file or folder inside the roots to the full path `destination`. Replaces a file only with overwrite, never a folder.
    #[tool(annotations(
        title = "Move or rename",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    pub async fn move_path(
        &self,
        Parameters(args): Parameters<MovePathArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<MovePathOutput>, ToolError> {
        let scope = self.file_scope(&ctx).await;
        blocking(move || move_path(&scope, &args).map(Json)).await
    }
}
