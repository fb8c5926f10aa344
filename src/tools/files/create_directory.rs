//! `create_directory`: make a folder and any missing parents; succeeds if it already exists.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::display;
use crate::policy::FileScope;
use crate::server::Switchboard;
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "mkdir make folder new directory create folder nested path";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDirectoryArgs {
    /// Folder path: absolute, or relative to the first root. Missing parents are created.
    pub path: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CreateDirectoryOutput {
    pub path: String,
    /// False when the folder already existed.
    pub created: bool,
}

pub fn create_directory(
    scope: &FileScope,
    args: &CreateDirectoryArgs,
) -> Result<CreateDirectoryOutput, ToolError> {
    let input = &args.path;
    let target = scope.for_write(input)?;
    match target.existing {
        Some(t) if t.is_dir() => {
            return Ok(CreateDirectoryOutput {
                path: display(&target.path),
                created: false,
            });
        }
        Some(_) => {
            return Err(ToolError::invalid(format!(
                "`{input}` exists and is not a folder"
            )));
        }
        None => {}
    }
    scope.check_writable(&target.parent, input)?;
    // Each missing folder is made in the one above it, opened by descriptor without
    // following a symlink.
    let parent = scope.parent_dir(&target, true, input)?;
    match parent.mkdir(target.name(), 0o777) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(ToolError::io(input, e)),
    }
    // The new folder must really be where the policy said (no swapped parent on the way).
    let made = scope.existing(input)?;
    Ok(CreateDirectoryOutput {
        path: display(&made.path),
        created: true,
    })
}

#[tool_router(router = create_directory_router, vis = "pub(crate)")]
impl Switchboard {
    /// Create a folder, with any missing parent folders. Succeeds (created=false) when it already exists.
    #[tool(annotations(
        title = "Create folder",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn create_directory(
        &self,
        Parameters(args): Parameters<CreateDirectoryArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<CreateDirectoryOutput>, ToolError> {
        let scope = self.file_scope(&ctx).await;
        blocking(move || create_directory(&scope, &args).map(Json)).await
    }
}
