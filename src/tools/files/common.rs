//! Pieces several file tools share: entry descriptions, atomic writes, walker set-up and path
//! completion. Every path here has already been resolved by the policy.

use std::fs::{File, Metadata};
use std::io::Write;
use std::path::Path;

use schemars::JsonSchema;
use serde::Serialize;

use crate::policy::{FileScope, WriteTarget};
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

/// Creates the missing folders above a write target, refusing protected ones.
pub fn create_parents(
    scope: &FileScope,
    target: &WriteTarget,
    input: &str,
) -> Result<(), ToolError> {
    if target.missing_parents {
        scope.check_writable(&target.parent, input)?;
        std::fs::create_dir_all(&target.parent).map_err(|e| ToolError::io(input, e))?;
    }
    Ok(())
}

/// Replaces (or creates) a file atomically: a temporary file in the same folder, checked to be
/// inside the roots, filled by `fill`, synced, then renamed over the target. Readers see the old
/// or the new content, never a mix; an existing file keeps its permissions.
pub fn replace_atomic(
    scope: &FileScope,
    target: &WriteTarget,
    input: &str,
    fill: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<(), ToolError> {
    let io = |e: std::io::Error| ToolError::io(input, e);
    let mut tmp = tempfile::Builder::new()
        .prefix(".switchboard-")
        .suffix(".tmp")
        .tempfile_in(&target.parent)
        .map_err(io)?;
    scope.verify_fd(tmp.as_file(), input)?;
    if let Ok(md) = std::fs::symlink_metadata(&target.path)
        && md.is_file()
    {
        tmp.as_file()
            .set_permissions(md.permissions())
            .map_err(io)?;
    }
    fill(tmp.as_file_mut()).map_err(io)?;
    tmp.as_file().sync_data().map_err(io)?;
    tmp.persist(&target.path).map_err(|e| io(e.error))?;
    Ok(())
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
) -> Result<(WriteTarget, tempfile::NamedTempFile), ToolError> {
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
    create_parents(scope, &target, input)?;
    let tmp = tempfile::Builder::new()
        .prefix(".switchboard-")
        .suffix(suffix)
        .tempfile_in(&target.parent)
        .map_err(|e| ToolError::io(input, e))?;
    scope.verify_fd(tmp.as_file(), input)?;
    Ok((target, tmp))
}

/// Syncs a [`staged_file`] and renames it onto its destination (never over a file that
/// appeared meanwhile, unless `overwrite`).
pub fn put_in_place(
    tmp: tempfile::NamedTempFile,
    path: &Path,
    overwrite: bool,
    input: &str,
) -> Result<(), ToolError> {
    tmp.as_file()
        .sync_data()
        .map_err(|e| ToolError::io(input, e))?;
    let saved = if overwrite {
        tmp.persist(path).map(|_| ())
    } else {
        tmp.persist_noclobber(path).map(|_| ())
    };
    saved.map_err(|e| ToolError::io(input, e.error))
}

/// Creates a new file exclusively (fails if anything appeared there) and writes `bytes`.
pub fn write_new(
    scope: &FileScope,
    path: &Path,
    bytes: &[u8],
    input: &str,
) -> Result<(), ToolError> {
    let mut f: File =
        crate::policy::paths::open_nofollow(path, crate::policy::paths::OpenMode::CreateNew)
            .map_err(|e| ToolError::io(input, e))?;
    scope.verify_fd(&f, input)?;
    f.write_all(bytes).map_err(|e| ToolError::io(input, e))?;
    Ok(())
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
                "`{input}` contains {} which is protected (VCS hooks and config, shell start-up files, MCP host configs, switchboard's own files); refusing to change the folder as a whole",
                entry.path().display()
            ))
        })?;
    }
    Ok(())
}

/// Renames without replacing anything at `to` (Linux: `renameat2(RENAME_NOREPLACE)`, so no
/// other process can slip a file in between check and rename).
pub fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let f = CString::new(from.as_os_str().as_bytes())?;
        let t = CString::new(to.as_os_str().as_bytes())?;
        // SAFETY: both pointers are valid NUL-terminated strings for the duration of the call.
        let rc = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                f.as_ptr(),
                libc::AT_FDCWD,
                t.as_ptr(),
                libc::RENAME_NOREPLACE,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if !matches!(err.raw_os_error(), Some(libc::ENOSYS) | Some(libc::EINVAL)) {
            return Err(err);
        }
    }
    if std::fs::symlink_metadata(to).is_ok() {
        return Err(std::io::Error::from(std::io::ErrorKind::AlreadyExists));
    }
    std::fs::rename(from, to)
}
