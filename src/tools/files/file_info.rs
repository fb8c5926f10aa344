//! `file_info`: what a path is (type, size, times, permissions, MIME type, line count for
//! text) and, for a folder, its total size from a capped walk.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{EntryKind, display, walker};
use crate::policy::FileScope;
use crate::server::Switchboard;
use crate::support::{mime, text, time::rfc3339};
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "stat size how big modified time last changed created permissions mode owner mime type line count exists is it a directory metadata";

/// Text files larger than this get no line count (it would mean reading them whole).
const LINE_COUNT_MAX_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileInfoArgs {
    /// Path: absolute, or relative to the first root.
    pub path: String,
}

#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct FileInfoOutput {
    /// Resolved absolute path.
    pub path: String,
    #[serde(rename = "type")]
    pub kind: EntryKind,
    /// When the given path is a symlink: where it points (resolved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symlink_target: Option<String>,
    pub size: u64,
    pub size_human: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accessed: Option<String>,
    /// Unix permissions, octal (e.g. "644").
    pub permissions: String,
    pub readonly: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_text: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_count: Option<u64>,
    /// Folders: files, folders and bytes below it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folders: Option<u64>,
    /// Folders: true when the walk stopped at files.max_walk_entries (totals are then lower bounds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub walk_truncated: Option<bool>,
}

pub fn file_info(scope: &FileScope, args: &FileInfoArgs) -> Result<FileInfoOutput, ToolError> {
    let input = &args.path;
    let resolved = scope.existing(input)?;
    let given_is_link =
        std::fs::symlink_metadata(scope.absolute(input)?).is_ok_and(|m| m.file_type().is_symlink());
    let symlink_target = given_is_link.then(|| display(&resolved.path));
    let md = std::fs::metadata(&resolved.path).map_err(|e| ToolError::io(input, e))?;
    let mut out = FileInfoOutput {
        path: display(&resolved.path),
        kind: EntryKind::of(md.file_type()),
        symlink_target,
        size: md.len(),
        modified: md.modified().ok().map(rfc3339),
        created: md.created().ok().map(rfc3339),
        accessed: md.accessed().ok().map(rfc3339),
        permissions: format!("{:o}", md.permissions().mode() & 0o7777),
        readonly: md.permissions().readonly(),
        ..Default::default()
    };
    if md.is_file() {
        let file = scope.open_read(&resolved.path, input)?;
        let mut reader = BufReader::with_capacity(64 * 1024, file);
        let head = reader
            .fill_buf()
            .map_err(|e| ToolError::io(input, e))?
            .to_vec();
        let is_text = !text::looks_binary(&head);
        out.mime = Some(mime::detect(&resolved.path, &head, is_text));
        out.is_text = Some(is_text);
        if is_text && md.len() <= LINE_COUNT_MAX_BYTES {
            out.line_count = Some(count_lines(reader).map_err(|e| ToolError::io(input, e))?);
        }
    } else if md.is_dir() {
        let (mut files, mut folders, mut bytes) = (0u64, 0u64, 0u64);
        let cap = scope.files.max_walk_entries;
        let mut truncated = false;
        for (i, entry) in walker(&resolved.path, false, true).build().enumerate() {
            if i > cap {
                truncated = true;
                break;
            }
            let Ok(entry) = entry else { continue };
            if entry.depth() == 0 {
                continue;
            }
            match entry.file_type() {
                Some(t) if t.is_dir() => folders += 1,
                Some(t) if t.is_file() => {
                    files += 1;
                    bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
                }
                _ => {}
            }
        }
        out.size = bytes;
        out.files = Some(files);
        out.folders = Some(folders);
        out.walk_truncated = Some(truncated);
    }
    out.size_human = text::human_bytes(out.size);
    Ok(out)
}

fn count_lines(mut reader: impl Read) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    let (mut lines, mut last) = (0u64, b'\n');
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        last = buf[n - 1];
    }
    Ok(lines + u64::from(last != b'\n'))
}

#[tool_router(router = file_info_router, vis = "pub(crate)")]
impl Switchboard {
    /// Details of a file or folder: type, size, times, permissions, MIME type and line count; a folder's file count and total size.
    #[tool(annotations(
        title = "File details",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn file_info(
        &self,
        Parameters(args): Parameters<FileInfoArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<FileInfoOutput>, ToolError> {
        let scope = self.file_scope(&ctx).await;
        blocking(move || file_info(&scope, &args).map(Json)).await
    }
}
