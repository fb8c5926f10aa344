//! `read_many`: several text files in one call, each with its own content or error, sharing
//! one output budget so a single call can never flood the context.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::read_file::{Range, read_text};
use crate::policy::FileScope;
use crate::server::Switchboard;
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "several multiple many files at once batch together bulk all files of a folder review compare";

/// Files one call may name.
pub const MAX_FILES: usize = 50;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadManyArgs {
    /// File paths (at most 50): absolute, or relative to the first root.
    pub paths: Vec<String>,
    /// Read at most this many lines of each file (default: all that fit).
    pub max_lines: Option<u64>,
    /// Prefix each line with its line number.
    #[serde(default)]
    pub line_numbers: bool,
}

pub fn read_many(scope: &FileScope, args: &ReadManyArgs) -> Result<CallToolResult, ToolError> {
    if args.paths.is_empty() || args.paths.len() > MAX_FILES {
        return Err(ToolError::invalid(format!(
            "give 1 to {MAX_FILES} paths (got {}); split larger sets into several calls",
            args.paths.len()
        )));
    }
    scope.require_roots()?;
    let mut budget = scope.files.max_read_bytes as usize;
    let mut blocks = Vec::with_capacity(args.paths.len());
    let mut failures = 0;
    for path in &args.paths {
        let body = if budget < 256 {
            "[skipped: this call's output cap (files.max_read_bytes) is used up; read it with read_file]".to_owned()
        } else {
            let range = Range::From {
                column: 0,
                start: 1,
                limit: args.max_lines,
            };
            match read_text(scope, path, range, args.line_numbers, budget) {
                Ok(t) => t,
                Err(e) => {
                    failures += 1;
                    format!("error: {e}")
                }
            }
        };
        budget = budget.saturating_sub(body.len());
        blocks.push(ContentBlock::text(format!("=== {path} ===\n{body}")));
    }
    let mut result = CallToolResult::success(blocks);
    if failures == args.paths.len() {
        result.is_error = Some(true);
    }
    Ok(result)
}

#[tool_router(router = read_many_router, vis = "pub(crate)")]
impl Switchboard {
    /// Read several text files in one call. Each file comes back in its own block, headed by its path, with its content or its own error; all files share one size cap.
    #[tool(annotations(
        title = "Read several files",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn read_many(
        &self,
        Parameters(args): Parameters<ReadManyArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let scope = self.file_scope(&ctx).await;
        blocking(move || read_many(&scope, &args)).await
    }
}
