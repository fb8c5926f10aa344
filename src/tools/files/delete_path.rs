//! `delete_path`: to the OS trash by default, for good with `permanent: true`. A folder needs
//! `recursive: true` unless empty; a root, a folder holding a root, and protected paths are
//! never deleted.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{EntryKind, display, protected_inside};
use crate::policy::{FileScope, PolicyError};
use crate::server::Switchboard;
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "delete remove rm rmdir trash erase get rid of clean up file folder directory";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeletePathArgs {
    /// What to delete: absolute, or relative to the first root. A symlink is deleted as a link.
    pub path: String,
    /// Required to delete a folder that is not empty.
    #[serde(default)]
    pub recursive: bool,
    /// Delete for good instead of moving to the trash (default: files.trash decides).
    pub permanent: Option<bool>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DeletePathOutput {
    pub path: String,
    #[serde(rename = "type")]
    pub kind: EntryKind,
    /// `trash` or `permanent`.
    pub method: String,
}

pub fn delete_path(
    scope: &FileScope,
    args: &DeletePathArgs,
) -> Result<DeletePathOutput, ToolError> {
    let input = &args.path;
    let target = scope.locate(input)?;
    let Some(ft) = target.existing else {
        return Err(PolicyError::NotFound {
            path: input.clone(),
        }
        .into());
    };
    if scope
        .roots()
        .iter()
        .any(|r| r.path.starts_with(&target.path))
    {
        return Err(ToolError::invalid(format!(
            "`{input}` is a root (or holds one); roots are never deleted"
        )));
    }
    let kind = EntryKind::of(ft);
    if kind == EntryKind::Dir {
        let empty = std::fs::read_dir(&target.path)
            .map_err(|e| ToolError::io(input, e))?
            .next()
            .is_none();
        if !empty && !args.recursive {
            return Err(ToolError::invalid(format!(
                "`{input}` is a folder that is not empty; pass recursive: true to delete it with everything inside"
            )));
        }
        protected_inside(scope, &target.path, input)?;
    }
    let permanent = args.permanent.unwrap_or(!scope.files.trash);
    // Both ways work on the entry's folder by descriptor: a folder swapped for a symlink
    // meanwhile cannot turn this into a delete outside the roots.
    let dir = scope.parent_dir(&target, false, input)?;
    if permanent {
        dir.remove_tree(target.name())
            .map_err(|e| ToolError::io(input, e))?;
    } else {
        crate::support::trash::trash(&dir, target.name(), &target.path).map_err(|e| {
            ToolError::invalid(format!("`{input}` could not be moved to the trash ({e}); pass permanent: true to delete it for good"))
        })?;
    }
    Ok(DeletePathOutput {
        path: display(&target.path),
        kind,
        method: if permanent { "permanent" } else { "trash" }.to_owned(),
    })
}

#[tool_router(router = delete_path_router, vis = "pub(crate)")]
impl Switchboard {
    /// Delete a file or folder (to the trash unless permanent). A non-empty folder needs recursive: true.
    #[tool(annotations(
        title = "Delete",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    pub async fn delete_path(
        &self,
        Parameters(args): Parameters<DeletePathArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<DeletePathOutput>, ToolError> {
        let scope = self.file_scope(&ctx).await;
        blocking(move || delete_path(&scope, &args).map(Json)).await
    }
}
