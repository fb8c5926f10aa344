//! `write_file`: create, replace (atomically) or append to a text file.

use std::io::Write;

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{display, open_append, open_parent, write_atomic, write_new};
use crate::policy::FileScope;
use crate::server::Switchboard;
use crate::support::text::human_bytes;
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "create new file save write put store output overwrite whole file append touch dump text into a file generate";

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WriteMode {
    /// Create the file, or replace it atomically if it exists.
    #[default]
    Write,
    /// Create the file; fail if it exists.
    Create,
    /// Add to the end of the file (created if missing).
    Append,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteFileArgs {
    /// File path: absolute, or relative to the first root.
    pub path: String,
    /// The text to write.
    pub content: String,
    /// `write` (default: create or replace), `create` (fail if it exists) or `append`.
    #[serde(default)]
    pub mode: WriteMode,
    /// Create missing parent folders.
    #[serde(default)]
    pub create_parents: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WriteFileOutput {
    pub path: String,
    pub bytes_written: u64,
    /// True when the file did not exist before.
    pub created: bool,
    pub mode: WriteMode,
}

pub fn write_file(scope: &FileScope, args: &WriteFileArgs) -> Result<WriteFileOutput, ToolError> {
    let input = &args.path;
    let cap = scope.files.max_write_bytes;
    if args.content.len() as u64 > cap {
        return Err(ToolError::invalid(format!(
            "content is {}, over the {} limit (files.max_write_bytes); write it in parts with mode=append",
            human_bytes(args.content.len() as u64),
            human_bytes(cap)
        )));
    }
    let target = scope.for_write(input)?;
    if target.missing_parents && !args.create_parents {
        return Err(ToolError::invalid(format!(
            "the folder {} does not exist; pass create_parents: true, or call create_directory first",
            display(&target.parent)
        )));
    }
    match target.existing {
        Some(t) if t.is_dir() => {
            return Err(ToolError::invalid(format!(
                "`{input}` is a folder; give a file path"
            )));
        }
        Some(t) if !t.is_file() => {
            return Err(ToolError::invalid(format!(
                "`{input}` is not a regular file; refusing to write it"
            )));
        }
        Some(_) if args.mode == WriteMode::Create => {
            return Err(ToolError::invalid(format!(
                "`{input}` already exists; use mode=write to replace it or mode=append to add to it"
            )));
        }
        _ => {}
    }
    let bytes = args.content.as_bytes();
    let created = target.existing.is_none();
    match (args.mode, created) {
        (_, true) => write_new(scope, &open_parent(scope, &target, input)?, &target, bytes, input)?,
        (WriteMode::Append, false) => {
            let dir = open_parent(scope, &target, input)?;
            let mut f = open_append(scope, &dir, &target, input)?;
            f.write_all(bytes).map_err(|e| ToolError::io(input, e))?;
        }
        _ => write_atomic(scope, &target, bytes, input)?,
    }
    Ok(WriteFileOutput {
        path: display(&target.path),
        bytes_written: bytes.len() as u64,
        created,
        mode: args.mode,
    })
}

#[tool_router(router = write_file_router, vis = "pub(crate)")]
impl Switchboard {
    /// Write a text file: create or replace it atomically, create only if new, or append. Prefer edit_file to change part of a file.
    #[tool(annotations(
        title = "Write file",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    pub async fn write_file(
        &self,
        Parameters(args): Parameters<WriteFileArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<WriteFileOutput>, ToolError> {
        let scope = self.file_scope(&ctx).await;
        blocking(move || write_file(&scope, &args).map(Json)).await
    }
}
