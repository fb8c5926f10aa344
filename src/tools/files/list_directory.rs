//! `list_directory`: one folder's entries with type, size and modification time, sorted and
//! paged. Reads the folder through the descriptor the policy checked.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{Entry, EntryKind, display};
use crate::policy::FileScope;
use crate::server::Switchboard;
use crate::tools::{ToolError, blocking};

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
    let (_dir, by) = scope.open_dir(&resolved.path, &input)?;
    let mut entries: Vec<Entry> = Vec::new();
    for item in std::fs::read_dir(&by).map_err(|e| ToolError::io(&input, e))? {
        let item = item.map_err(|e| ToolError::io(&input, e))?;
        let name = item.file_name().to_string_lossy().into_owned();
        if !args.show_hidden && name.starts_with('.') {
            continue;
        }
        match item.metadata() {
            Ok(md) => entries.push(Entry::new(name, &md)),
            Err(_) => entries.push(Entry {
                path: name,
                kind: EntryKind::Other,
                size: None,
                modified: None,
            }),
        }
    }
    match args.sort {
        SortBy::Name => entries.sort_by(|a, b| {
            (a.kind != EntryKind::Dir)
                .cmp(&(b.kind != EntryKind::Dir))
                .then_with(|| a.path.cmp(&b.path))
        }),
        SortBy::Size => entries.sort_by(|a, b| {
            b.size
                .unwrap_or(0)
                .cmp(&a.size.unwrap_or(0))
                .then_with(|| a.path.cmp(&b.path))
        }),
        SortBy::Modified => entries.sort_by(|a, b| {
            b.modified
                .cmp(&a.modified)
                .then_with(|| a.path.cmp(&b.path))
        }),
    }
    if args.reverse {
        entries.reverse();
    }
    let total = entries.len();
    let cap = scope.files.max_entries;
    let limit = args.limit.unwrap_or(cap).clamp(1, cap);
    let page: Vec<Entry> = entries.into_iter().skip(args.offset).take(limit).collect();
    let end = args.offset + page.len();
    Ok(ListDirectoryOutput {
        path: display(&resolved.path),
        entries: page,
        total,
        next_offset: (end < total).then_some(end),
    })
}

#[tool_router(router = list_directory_router, vis = "pub(crate)")]
impl Switchboard {
    /// List one folder: each entry's name, type, size and modification time. Sort by name, size or modified; page with offset/limit (next_offset says where to continue).
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
