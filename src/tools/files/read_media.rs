//! `read_media`: images and audio as MCP image/audio content, anything else binary as an
//! embedded base64 resource, under `files.max_media_bytes`.

use std::io::Read;

use base64::Engine;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::policy::FileScope;
use crate::server::Switchboard;
use crate::support::uri::path_to_file_uri;
use crate::support::{mime, text};
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "image picture photo screenshot png jpg jpeg gif webp diagram audio sound recording mp3 wav listen view look binary base64";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadMediaArgs {
    /// File path: absolute, or relative to the first root.
    pub path: String,
}

pub fn read_media(scope: &FileScope, args: &ReadMediaArgs) -> Result<CallToolResult, ToolError> {
    let input = &args.path;
    let resolved = scope.existing(input)?;
    let file = scope.open_read(&resolved.path, input)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let limit = scope.files.max_media_bytes;
    if size > limit {
        return Err(ToolError::invalid(format!(
            "`{input}` is {}, over the {} limit for media (files.max_media_bytes). Use file_info to inspect it.",
            text::human_bytes(size),
            text::human_bytes(limit)
        )));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ToolError::io(input, e))?;
    let is_text = !text::looks_binary(&bytes) && std::str::from_utf8(&bytes).is_ok();
    let mime = mime::detect(&resolved.path, &bytes, is_text);
    let data = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let summary = ContentBlock::text(format!(
        "{} ({mime}, {})",
        resolved.path.display(),
        text::human_bytes(size)
    ));
    let block = if mime.starts_with("image/") {
        ContentBlock::image(data, mime)
    } else if mime.starts_with("audio/") {
        ContentBlock::audio(data, mime)
    } else {
        ContentBlock::resource(
            ResourceContents::blob(data, path_to_file_uri(&resolved.path)).with_mime_type(mime),
        )
    };
    Ok(CallToolResult::success(vec![summary, block]))
}

#[tool_router(router = read_media_router, vis = "pub(crate)")]
impl Switchboard {
    /// Read an image or audio file so you can see or hear it; other binary files come back as base64. Size-capped.
    #[tool(annotations(
        title = "Read image or audio",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn read_media(
        &self,
        Parameters(args): Parameters<ReadMediaArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        let scope = self.file_scope(&ctx).await;
        blocking(move || read_media(&scope, &args)).await
    }
}
