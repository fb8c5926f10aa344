//! `find_files`: files and folders by glob, type, size and age, .gitignore-aware, sorted by
//! path and paged.

use std::time::SystemTime;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{Entry, EntryKind, display, walker};
use crate::policy::FileScope;
use crate::server::Switchboard;
use crate::support::time::parse_point;
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "find locate search files by name called named glob pattern extension where is the file which files modified recently larger bigger size newer older every all";

#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum KindFilter {
    File,
    Dir,
    #[default]
    Any,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindFilesArgs {
    /// Globs to match, e.g. ["*.rs", "src/**/test_*.py"]. A glob without `/` matches the name anywhere; with `/`, the path from the search folder. Default: everything.
    #[serde(default)]
    pub patterns: Vec<String>,
    /// Folder to search: absolute, or relative to the first root (default: the first root).
    #[serde(default)]
    pub path: Option<String>,
    /// `file`, `dir` or `any` (default).
    #[serde(default, rename = "type")]
    pub kind: KindFilter,
    /// Only files at least this many bytes.
    pub min_size: Option<u64>,
    /// Only files at most this many bytes.
    pub max_size: Option<u64>,
    /// Modified at or after: RFC 3339, a date (2024-05-01) or an age (30m, 2h, 7d).
    pub modified_after: Option<String>,
    /// Modified before: same forms as modified_after.
    pub modified_before: Option<String>,
    /// Honour .gitignore and .ignore files (default true).
    pub gitignore: Option<bool>,
    /// Include entries whose names start with a dot.
    #[serde(default)]
    pub hidden: bool,
    /// Skip this many results (for paging).
    #[serde(default)]
    pub offset: usize,
    /// At most this many results (default 100; at most files.max_entries).
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FindFilesOutput {
    pub matches: Vec<Entry>,
    /// All matches found (the page is `matches`).
    pub total: usize,
    /// Present when more results follow: pass it as `offset`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
    /// Present when the walk stopped early (files.max_walk_entries): narrow the path or patterns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn glob_set(patterns: &[String]) -> Result<(GlobSet, GlobSet), ToolError> {
    let mut names = GlobSetBuilder::new();
    let mut paths = GlobSetBuilder::new();
    for p in patterns {
        let glob = GlobBuilder::new(p.trim_start_matches("./"))
            .literal_separator(true)
            .build()
            .map_err(|e| ToolError::invalid(format!("pattern `{p}` is not a valid glob: {e}")))?;
        if p.contains('/') {
            paths.add(glob)
        } else {
            names.add(glob)
        };
    }
    let build = |b: GlobSetBuilder| b.build().map_err(|e| ToolError::invalid(e.to_string()));
    Ok((build(names)?, build(paths)?))
}

pub fn find_files(scope: &FileScope, args: &FindFilesArgs) -> Result<FindFilesOutput, ToolError> {
    let input = args.path.clone().unwrap_or_else(|| ".".to_owned());
    let resolved = scope.existing(&input)?;
    let (names, paths) = glob_set(&args.patterns)?;
    let now = SystemTime::now();
    let after = args
        .modified_after
        .as_deref()
        .map(|s| parse_point(s, now))
        .transpose()
        .map_err(ToolError::invalid)?;
    let before = args
        .modified_before
        .as_deref()
        .map(|s| parse_point(s, now))
        .transpose()
        .map_err(ToolError::invalid)?;
    let needs_metadata =
        args.min_size.is_some() || args.max_size.is_some() || after.is_some() || before.is_some();
    let walk_cap = scope.files.max_walk_entries;
    let mut found: Vec<Entry> = Vec::new();
    let mut walked = 0usize;
    let mut note = None;
    for entry in walker(&resolved.path, args.gitignore.unwrap_or(true), args.hidden).build() {
        let Ok(entry) = entry else { continue };
        if entry.depth() == 0 {
            continue;
        }
        walked += 1;
        if walked > walk_cap {
            note = Some(format!(
                "stopped after {walk_cap} entries (files.max_walk_entries); search a deeper folder or use narrower patterns"
            ));
            break;
        }
        let Some(ft) = entry.file_type() else {
            continue;
        };
        let kind = EntryKind::of(ft);
        match args.kind {
            KindFilter::File if kind != EntryKind::File => continue,
            KindFilter::Dir if kind != EntryKind::Dir => continue,
            _ => {}
        }
        if !args.patterns.is_empty() {
            let rel = entry
                .path()
                .strip_prefix(&resolved.path)
                .unwrap_or(entry.path());
            if !names.is_match(entry.file_name()) && !paths.is_match(rel) {
                continue;
            }
        }
        let md = match entry.metadata() {
            Ok(md) => md,
            Err(_) if !needs_metadata => {
                found.push(Entry {
                    path: display(entry.path()),
                    kind,
                    size: None,
                    modified: None,
                });
                continue;
            }
            Err(_) => continue,
        };
        if args.min_size.is_some_and(|m| md.len() < m)
            || args.max_size.is_some_and(|m| md.len() > m)
        {
            continue;
        }
        if after.is_some() || before.is_some() {
            let Ok(modified) = md.modified() else {
                continue;
            };
            if after.is_some_and(|a| modified < a) || before.is_some_and(|b| modified >= b) {
                continue;
            }
        }
        found.push(Entry::new(display(entry.path()), &md));
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    let total = found.len();
    let limit = args.limit.unwrap_or(100).clamp(1, scope.files.max_entries);
    let page: Vec<Entry> = found.into_iter().skip(args.offset).take(limit).collect();
    let end = args.offset + page.len();
    Ok(FindFilesOutput {
        matches: page,
        total,
        next_offset: (end < total).then_some(end),
        note,
    })
}

#[tool_router(router = find_files_router, vis = "pub(crate)")]
impl Switchboard {
    /// Find files and folders by name glob (e.g. "*.rs"), type, size and modification time. Skips .gitignored and hidden entries by default. Returns paths, paged.
    #[tool(annotations(
        title = "Find files",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn find_files(
        &self,
        Parameters(args): Parameters<FindFilesArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<FindFilesOutput>, ToolError> {
        let scope = self.file_scope(&ctx).await;
        blocking(move || find_files(&scope, &args).map(Json)).await
    }
}
