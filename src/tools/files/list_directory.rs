//! `list_directory`: one folder's entries with type, size and modification time, sorted and
//! paged. Reads the folder through the descriptor the policy checked.

use std::fs::File;
use std::os::fd::AsRawFd;

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{Entry, EntryKind, display};
use crate::policy::FileScope;
use crate::server::Switchboard;
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "ls list folder contents entries what files are in a directory inside sizes sorted";

#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    /// Folders first, then by name.
    #[default]
    Name,
    /// Largest first.
    Size,
    /// Newest first.
    Modified,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListDirectoryArgs {
    /// Folder path: absolute, or relative to the first root (default: the first root).
    #[serde(default)]
    pub path: Option<String>,
    /// `name` (default, folders first), `size` (largest first) or `modified` (newest first).
    #[serde(default)]
    pub sort: SortBy,
    /// Reverse the order.
    #[serde(default)]
    pub reverse: bool,
    /// Include entries whose names start with a dot.
    #[serde(default)]
    pub show_hidden: bool,
    /// Include size and modification time (default true). false lists names and types only,
    /// much faster for very large folders.
    pub details: Option<bool>,
    /// Skip this many entries (for paging).
    #[serde(default)]
    pub offset: usize,
    /// At most this many entries (default and maximum: files.max_entries).
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListDirectoryOutput {
    pub path: String,
    /// Entries; `path` is the name inside the folder.
    pub entries: Vec<Entry>,
    /// How many entries the folder has (after the hidden filter).
    pub total: usize,
    /// Present when more entries follow: pass it as `offset`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
}

pub fn list_directory(
    scope: &FileScope,
    args: &ListDirectoryArgs,
) -> Result<ListDirectoryOutput, ToolError> {
    let input = args.path.clone().unwrap_or_else(|| ".".to_owned());
    let resolved = scope.existing(&input)?;
    let (dir, by) = scope.open_dir(&resolved.path, &input)?;
    let cap = scope.files.max_entries;
    let limit = args.limit.unwrap_or(cap).clamp(1, cap);
    let mut names: Vec<(std::ffi::OsString, EntryKind)> = Vec::new();
    for item in std::fs::read_dir(&by).map_err(|e| ToolError::io(&input, e))? {
        let item = item.map_err(|e| ToolError::io(&input, e))?;
        let name = item.file_name();
        if args.show_hidden || !name.as_encoded_bytes().starts_with(b".") {
            // The type comes with the directory entry on most file systems: no extra call.
            let kind = item
                .file_type()
                .map(EntryKind::of)
                .unwrap_or(EntryKind::Other);
            names.push((name, kind));
        }
    }
    let mut entries = match args.sort {
        // Name order (the default) needs only the names and types the folder itself gives:
        // sorted and paged first, then only the page is described (one `fstatat` each).
        SortBy::Name => {
            let mut named: Vec<(std::ffi::OsString, Entry)> = names
                .into_iter()
                .map(|(raw, kind)| {
                    let entry = Entry {
                        path: raw.to_string_lossy().into_owned(),
                        kind,
                        size: None,
                        modified: None,
                    };
                    (raw, entry)
                })
                .collect();
            named.sort_by(|(_, a), (_, b)| {
                (a.kind != EntryKind::Dir)
                    .cmp(&(b.kind != EntryKind::Dir))
                    .then_with(|| a.path.cmp(&b.path))
            });
            if args.reverse {
                named.reverse();
            }
            let total = named.len();
            let page: Vec<(std::ffi::OsString, Entry)> =
                named.into_iter().skip(args.offset).take(limit).collect();
            let page = if args.details.unwrap_or(true) {
                describe_page(&dir, page)
            } else {
                page.into_iter().map(|(_, e)| e).collect()
            };
            return Ok(output(&resolved.path, page, args.offset, total));
        }
        // Size and time orders need every entry's metadata before sorting.
        SortBy::Size | SortBy::Modified => describe(&dir, names),
    };
    if matches!(args.sort, SortBy::Size) {
        entries.sort_by(|a, b| {
            b.size
                .unwrap_or(0)
                .cmp(&a.size.unwrap_or(0))
                .then_with(|| a.path.cmp(&b.path))
        });
    } else {
        entries.sort_by(|a, b| {
            b.modified
                .cmp(&a.modified)
                .then_with(|| a.path.cmp(&b.path))
        });
    }
    if args.reverse {
        entries.reverse();
    }
    let total = entries.len();
    let page: Vec<Entry> = entries.into_iter().skip(args.offset).take(limit).collect();
    Ok(output(&resolved.path, page, args.offset, total))
}

fn output(
    path: &std::path::Path,
    page: Vec<Entry>,
    offset: usize,
    total: usize,
) -> ListDirectoryOutput {
    let end = offset + page.len();
    ListDirectoryOutput {
        path: display(path),
        entries: page,
        total,
        next_offset: (end < total).then_some(end),
    }
}

/// The size and time of a page of entries already sorted by name (one `fstatat` each, by the
/// name as the folder gives it). The type the folder gave, which decided the order, is kept.
fn describe_page(dir: &File, page: Vec<(std::ffi::OsString, Entry)>) -> Vec<Entry> {
    let fd = dir.as_raw_fd();
    page.into_iter()
        .map(|(raw, e)| match stat_at(fd, &raw) {
            Some(st) => Entry {
                size: if e.kind == EntryKind::File {
                    st.size
                } else {
                    None
                },
                modified: st.modified,
                ..e
            },
            None => e,
        })
        .collect()
}

/// Reads each entry's metadata with `fstatat` on the folder's own descriptor (one call per
/// entry and no path lookups: the bulk of the work for a large folder), spread over the cores.
fn describe(dir: &File, names: Vec<(std::ffi::OsString, EntryKind)>) -> Vec<Entry> {
    let fd = dir.as_raw_fd();
    let one = |(name, kind): &(std::ffi::OsString, EntryKind)| {
        let shown = name.to_string_lossy().into_owned();
        stat_at(fd, name)
            .unwrap_or(Entry {
                path: String::new(),
                kind: *kind,
                size: None,
                modified: None,
            })
            .named(shown)
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    if names.len() < 4096 || workers < 2 {
        return names.iter().map(one).collect();
    }
    let chunk = names.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = names
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(one).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

fn stat_at(dirfd: std::os::fd::RawFd, name: &std::ffi::OsStr) -> Option<Entry> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(name.as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `c` is NUL-terminated and `st` is a valid out-pointer for one `stat`.
    let rc = unsafe {
        libc::fstatat(
            dirfd,
            c.as_ptr(),
            st.as_mut_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: fstatat returned 0, so it filled `st`.
    let st = unsafe { st.assume_init() };
    let kind = match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => EntryKind::Dir,
        libc::S_IFREG => EntryKind::File,
        libc::S_IFLNK => EntryKind::Symlink,
        _ => EntryKind::Other,
    };
    let modified = std::time::UNIX_EPOCH
        .checked_add(std::time::Duration::new(
            st.st_mtime.max(0) as u64,
            st.st_mtime_nsec.clamp(0, 999_999_999) as u32,
        ))
        .map(crate::support::time::rfc3339);
    Some(Entry {
        path: String::new(),
        kind,
        size: (kind == EntryKind::File).then_some(st.st_size as u64),
        modified,
    })
}

#[tool_router(router = list_directory_router, vis = "pub(crate)")]
impl Switchboard {
    /// List one folder's entries with type, size and modification time, sorted and paged.
    #[tool(annotations(
        title = "List folder",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn list_directory(
        &self,
        Parameters(args): Parameters<ListDirectoryArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<ListDirectoryOutput>, ToolError> {
        let scope = self.file_scope(&ctx).await;
        blocking(move || list_directory(&scope, &args).map(Json)).await
    }
}
