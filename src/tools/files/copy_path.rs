//! `copy_path`: copy a file or a whole folder inside the roots. New files are created
//! exclusively; symlinks are copied as links only when they point inside the roots; protected
//! destinations (e.g. `.git/hooks/…`) are skipped and reported.

use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{display, open_parent, replace_atomic, walker};
use crate::policy::{Dir, FileScope};
use crate::server::Switchboard;
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "copy cp duplicate backup clone file folder directory";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CopyPathArgs {
    /// What to copy: a file or folder, absolute or relative to the first root.
    pub source: String,
    /// The full path of the copy (not the folder to copy into).
    pub destination: String,
    /// Replace an existing file at the destination (folders are never merged).
    #[serde(default)]
    pub overwrite: bool,
    /// Create missing parent folders of the destination.
    #[serde(default)]
    pub create_parents: bool,
}

#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct CopyPathOutput {
    pub source: String,
    pub destination: String,
    pub files: u64,
    pub folders: u64,
    pub bytes: u64,
    /// Entries not copied, with the reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
}

pub fn copy_path(scope: &FileScope, args: &CopyPathArgs) -> Result<CopyPathOutput, ToolError> {
    let src = scope.existing(&args.source)?;
    let dst = scope.for_write(&args.destination)?;
    let src_is_dir = src.path.is_dir();
    if src_is_dir && dst.path.starts_with(&src.path) {
        return Err(ToolError::invalid(
            "the destination is inside the source; a folder cannot be copied into itself",
        ));
    }
    if dst.missing_parents && !args.create_parents {
        return Err(ToolError::invalid(format!(
            "the folder {} does not exist; pass create_parents: true",
            display(&dst.parent)
        )));
    }
    match dst.existing {
        Some(_) if !args.overwrite => {
            return Err(ToolError::invalid(format!(
                "`{}` already exists; pass overwrite: true to replace it, or choose another name (to copy into a folder, give folder/name)",
                args.destination
            )));
        }
        Some(t) if t.is_dir() || src_is_dir => {
            return Err(ToolError::invalid(format!(
                "`{}` exists and folders are never merged or replaced; delete it first or choose another name",
                args.destination
            )));
        }
        _ => {}
    }
    // The copy is made by descriptor: the destination's folder is opened without following a
    // symlink, and every folder of a copied tree is made and then opened the same way.
    let to_dir = open_parent(scope, &dst, &args.destination)?;
    let mut out = CopyPathOutput {
        source: display(&src.path),
        destination: display(&dst.path),
        ..Default::default()
    };
    if !src_is_dir {
        let mut from = scope.open_read(&src.path, &args.source)?;
        let perms = from
            .metadata()
            .map_err(|e| ToolError::io(&args.source, e))?
            .permissions();
        if dst.existing.is_some() {
            let mut copied = 0;
            replace_atomic(scope, &dst, &args.destination, |to| {
                copied = std::io::copy(&mut from, to)?;
                to.set_permissions(perms)
            })?;
            out.bytes = copied;
        } else {
            out.bytes = copy_file(scope, &mut from, &to_dir, dst.name(), &args.destination)?;
        }
        out.files = 1;
        return Ok(out);
    }

    // A folder: count first, so a copy that would exceed the walk limit never starts.
    let limit = scope.files.max_walk_entries;
    let entries: Vec<ignore::DirEntry> = walker(&src.path, false, true)
        .build()
        .filter_map(Result::ok)
        .take(limit + 1)
        .collect();
    if entries.len() > limit {
        return Err(ToolError::invalid(format!(
            "`{}` holds more than {limit} entries (files.max_walk_entries); copy smaller parts",
            args.source
        )));
    }
    let mut top: Option<Dir> = None;
    // The folder the previous entry went into: entries of one folder come together.
    let mut last: Option<(PathBuf, Dir)> = None;
    for entry in entries {
        let rel = entry
            .path()
            .strip_prefix(&src.path)
            .unwrap_or(Path::new(""));
        let to = dst.path.join(rel);
        let shown = to.display().to_string();
        let io = |e| ToolError::io(&shown, e);
        let Some(ft) = entry.file_type() else {
            continue;
        };
        let Some(top) = &top else {
            // The walk starts with the folder itself.
            to_dir.mkdir(dst.name(), 0o777).map_err(io)?;
            top = Some(to_dir.child(dst.name()).map_err(|e| scope.open_error(e, &shown))?);
            out.folders += 1;
            continue;
        };
        if let Some(why) = scope.files.protected.reason(&to) {
            out.skipped.push(format!("{shown}: protected ({why})"));
            continue;
        }
        let (Some(name), Some(parent)) = (rel.file_name(), rel.parent()) else {
            continue;
        };
        let dir = match &last {
            Some((p, d)) if p == parent => d,
            _ => {
                let d = top
                    .open_beneath(parent)
                    .map_err(|e| scope.open_error(e, &shown))?;
                &last.insert((parent.to_path_buf(), d)).1
            }
        };
        if ft.is_dir() {
            dir.mkdir(name, 0o777).map_err(io)?;
            out.folders += 1;
        } else if ft.is_symlink() {
            let inside = std::fs::canonicalize(entry.path())
                .ok()
                .is_some_and(|t| scope.roots().iter().any(|r| t.starts_with(&r.path)));
            match std::fs::read_link(entry.path()) {
                Ok(link) if inside => dir.symlink(&link, name).map_err(io)?,
                _ => out.skipped.push(format!(
                    "{shown}: symlink pointing outside the roots (or dangling)"
                )),
            }
        } else if ft.is_file() {
            let from_input = entry.path().display().to_string();
            let mut from = match scope.open_read(entry.path(), &from_input) {
                Ok(f) => f,
                Err(e) => {
                    out.skipped.push(format!("{shown}: {e}"));
                    continue;
                }
            };
            out.bytes += copy_file(scope, &mut from, dir, name, &shown)?;
            out.files += 1;
        } else {
            out.skipped.push(format!("{shown}: not a regular file"));
        }
    }
    Ok(out)
}

/// Copies an open file to a new file `name` in `dir` (created exclusively, never through a
/// symlink), with the source's permissions.
fn copy_file(
    scope: &FileScope,
    from: &mut File,
    dir: &Dir,
    name: &OsStr,
    input: &str,
) -> Result<u64, ToolError> {
    let io = |e| ToolError::io(input, e);
    let mut dest = dir
        .open_file(name, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, 0o600)
        .map_err(|e| scope.open_error(e, input))?;
    scope.verify_fd(&dest, input)?;
    let copied = std::io::copy(from, &mut dest).map_err(io)?;
    if let Ok(md) = from.metadata() {
        dest.set_permissions(md.permissions()).map_err(io)?;
    }
    Ok(copied)
}

#[tool_router(router = copy_path_router, vis = "pub(crate)")]
impl Switchboard {
    /// Copy a file or folder inside the roots to the full path `destination`. Replaces a file only with overwrite; folders are never merged.
    #[tool(annotations(
        title = "Copy",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    pub async fn copy_path(
        &self,
        Parameters(args): Parameters<CopyPathArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<CopyPathOutput>, ToolError> {
        let scope = self.file_scope(&ctx).await;
        blocking(move || copy_path(&scope, &args).map(Json)).await
    }
}
