//! Pieces several file tools share: entry descriptions, atomic writes, walker set-up and path
//! completion. Every path here has already been resolved by the policy.

use std::ffi::OsStr;
use std::fs::{File, Metadata};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use schemars::JsonSchema;
use serde::Serialize;

use crate::policy::beneath::{Kind, Temp, stat_fd};
use crate::policy::{Dir, FileScope, WriteTarget};
use crate::support::time::rfc3339;
use crate::tools::ToolError;

#[derive(Debug, Clone, Copy, Default, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    #[default]
    File,
    Dir,
    Symlink,
    Other,
}

impl EntryKind {
    pub fn of(ft: std::fs::FileType) -> Self {
        if ft.is_symlink() {
            Self::Symlink
        } else if ft.is_dir() {
            Self::Dir
        } else if ft.is_file() {
            Self::File
        } else {
            Self::Other
        }
    }
}

/// One file or folder as the listing tools report it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Entry {
    /// Absolute path (for list_directory: the name inside the folder).
    pub path: String,
    #[serde(rename = "type")]
    pub kind: EntryKind,
    /// Size in bytes (files only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Last modification, RFC 3339 UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
}

impl Entry {
    pub fn named(mut self, path: String) -> Self {
        self.path = path;
        self
    }

    pub fn new(path: String, md: &Metadata) -> Self {
        let kind = EntryKind::of(md.file_type());
        Self {
            path,
            kind,
            size: (kind == EntryKind::File).then_some(md.len()),
            modified: md.modified().ok().map(rfc3339),
        }
    }
}

pub fn display(p: &Path) -> String {
    p.display().to_string()
}

/// Opens the folder a write lands in (see [`FileScope::parent_dir`]), creating the missing
/// folders on the way, each checked not to be protected.
pub fn open_parent(scope: &FileScope, target: &WriteTarget, input: &str) -> Result<Dir, ToolError> {
    if target.missing_parents {
        scope.check_writable(&target.parent, input)?;
    }
    Ok(scope.parent_dir(target, target.missing_parents, input)?)
}

/// A temporary file in `dir`, checked to be inside the roots, with the permissions of the file
/// it will replace (when there is one).
fn temp_in(
    scope: &FileScope,
    dir: Dir,
    name: &OsStr,
    suffix: &str,
    input: &str,
) -> Result<Temp, ToolError> {
    let io = |e: std::io::Error| ToolError::io(input, e);
    let replaced = dir.stat(name).map_err(io)?;
    let tmp = dir.temp(".switchboard-", suffix).map_err(io)?;
    scope.verify_fd(tmp.file(), input)?;
    if let Some(st) = replaced.filter(|st| st.kind == Kind::File) {
        tmp.file()
            .set_permissions(std::fs::Permissions::from_mode(st.mode))
            .map_err(io)?;
    }
    Ok(tmp)
}

/// Replaces (or creates) a file atomically: a temporary file in the same folder, filled by
/// `fill`, synced, then renamed over the target, every step relative to the folder's
/// descriptor. Readers see the old or the new content, never a mix; an existing file keeps its
/// permissions; a hard link is replaced, never written through; nothing is left behind on failure.
pub fn replace_atomic(
    scope: &FileScope,
    target: &WriteTarget,
    input: &str,
    fill: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<(), ToolError> {
    let io = |e: std::io::Error| ToolError::io(input, e);
    let dir = open_parent(scope, target, input)?;
    let mut tmp = temp_in(scope, dir, target.name(), ".tmp", input)?;
    fill(tmp.file_mut()).map_err(io)?;
    tmp.persist(target.name(), true).map_err(io)
}

/// [`replace_atomic`] with the new content in memory.
pub fn write_atomic(
    scope: &FileScope,
    target: &WriteTarget,
    bytes: &[u8],
    input: &str,
) -> Result<(), ToolError> {
    replace_atomic(scope, target, input, |f| f.write_all(bytes))
}

/// Checks a destination for a file produced in pieces (a download, an export) and creates the
/// temporary file beside it that the pieces go into: the destination must be a regular file
/// or absent, replaced only with `overwrite`, its folder created only with `parents`.
pub fn staged_file(
    scope: &FileScope,
    input: &str,
    overwrite: bool,
    parents: bool,
    suffix: &str,
) -> Result<(WriteTarget, Temp), ToolError> {
    let target = scope.for_write(input)?;
    match target.existing {
        Some(t) if !t.is_file() => {
            return Err(ToolError::invalid(format!(
                "`{input}` exists and is not a regular file; give a file path"
            )));
        }
        Some(_) if !overwrite => {
            return Err(ToolError::invalid(format!(
                "`{input}` already exists; pass overwrite: true to replace it"
            )));
        }
        _ => {}
    }
    if target.missing_parents && !parents {
        return Err(ToolError::invalid(format!(
            "the folder {} does not exist; pass create_parents: true",
            display(&target.parent)
        )));
    }
    let dir = open_parent(scope, &target, input)?;
    let tmp = temp_in(scope, dir, target.name(), suffix, input)?;
    Ok((target, tmp))
}

/// Syncs a [`staged_file`] and renames it onto its destination in the same folder (never over
/// a file that appeared meanwhile, unless `overwrite`).
pub fn put_in_place(
    tmp: Temp,
    target: &WriteTarget,
    overwrite: bool,
    input: &str,
) -> Result<(), ToolError> {
    tmp.persist(target.name(), overwrite)
        .map_err(|e| ToolError::io(input, e))
}

/// Creates a new file exclusively in the target's folder (fails if anything appeared there)
/// and writes `bytes`.
pub fn write_new(
    scope: &FileScope,
    dir: &Dir,
    target: &WriteTarget,
    bytes: &[u8],
    input: &str,
) -> Result<(), ToolError> {
    let io = |e: std::io::Error| ToolError::io(input, e);
    let mut f = dir
        .open_file(
            target.name(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL,
            0o666,
        )
        .map_err(|e| scope.open_error(e, input))?;
    scope.verify_fd(&f, input)?;
    f.write_all(bytes).map_err(io)
}

/// Opens an existing file in the target's folder for appending: a regular file, not a symlink,
/// and, unless `files.hard_link_writes` allows it, without other hard links (one could lead
/// outside the roots, and appending would write through it).
pub fn open_append(
    scope: &FileScope,
    dir: &Dir,
    target: &WriteTarget,
    input: &str,
) -> Result<File, ToolError> {
    let f = dir
        .open_file(
            target.name(),
            libc::O_WRONLY | libc::O_APPEND | libc::O_NONBLOCK,
            0,
        )
        .map_err(|e| scope.open_error(e, input))?;
    scope.verify_fd(&f, input)?;
    let st = stat_fd(&f).map_err(|e| ToolError::io(input, e))?;
    if st.kind != Kind::File {
        return Err(ToolError::invalid(format!(
            "`{input}` is not a regular file; refusing to write it"
        )));
    }
    if st.links > 1 && !scope.files.hard_link_writes {
        return Err(ToolError::invalid(format!(
            "`{input}` has {} hard links, and appending would change every one of them (a link can lead outside the roots). Use mode=write to replace the file with a new one, or set files.hard_link_writes: true",
            st.links
        )));
    }
    Ok(f)
}

/// Walker settings shared by the searching tools: never follows symlinks (so a walk cannot
/// leave the roots), honours .gitignore when asked, skips hidden entries unless asked.
pub fn walker(dir: &Path, gitignore: bool, hidden: bool) -> ignore::WalkBuilder {
    let mut b = ignore::WalkBuilder::new(dir);
    b.follow_links(false)
        .hidden(!hidden)
        .git_ignore(gitignore)
        .git_global(gitignore)
        .git_exclude(gitignore)
        .ignore(gitignore)
        .parents(gitignore)
        .require_git(false);
    b
}

/// Include and exclude globs as an `ignore` override set (`!` marks an exclusion).
pub fn overrides(
    dir: &Path,
    include: &[String],
    exclude: &[String],
) -> Result<ignore::overrides::Override, ToolError> {
    let mut b = ignore::overrides::OverrideBuilder::new(dir);
    for g in include {
        b.add(g)
            .map_err(|e| ToolError::invalid(format!("include glob `{g}` is not valid: {e}")))?;
    }
    for g in exclude {
        b.add(&format!("!{g}"))
            .map_err(|e| ToolError::invalid(format!("exclude glob `{g}` is not valid: {e}")))?;
    }
    b.build().map_err(|e| ToolError::invalid(e.to_string()))
}

/// The first protected path inside `dir`, if any. Moving or deleting a folder would change
/// everything in it, so a folder holding a protected path is refused as a whole.
pub fn protected_inside(scope: &FileScope, dir: &Path, input: &str) -> Result<(), ToolError> {
    let limit = scope.files.max_walk_entries;
    for (seen, entry) in walker(dir, false, true).build().enumerate() {
        if seen >= limit {
            return Err(ToolError::invalid(format!(
                "`{input}` holds more than {limit} entries (files.max_walk_entries); work on smaller parts of it"
            )));
        }
        let Ok(entry) = entry else { continue };
        scope.check_writable(entry.path(), input).map_err(|_| {
            ToolError::invalid(format!(
                "`{input}` contains {} which is protected (a file that makes another program run code, or switchboard's own); refusing to change the folder as a whole",
                entry.path().display()
            ))
        })?;
    }
    Ok(())
}
