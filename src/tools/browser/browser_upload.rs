//! `browser_upload`: gives a file input of the page files from the roots. Each file is read
//! through the path policy (checked on its opened descriptor) and copied into the browser's
//! own profile folder, and the browser is given the copy: it never opens a path in the roots.

use std::path::PathBuf;

use crate::tools::blocking;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::server::Switchboard;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "upload attach file input choose file form send document image to website";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserUploadArgs {
    /// The file input's ref from the snapshot (or a button that opens one).
    #[serde(rename = "ref")]
    pub element: String,
    /// Files inside the roots: absolute, or relative to the first root.
    pub paths: Vec<String>,
}

#[tool_router(router = browser_upload_router, vis = "pub(crate)")]
impl Switchboard {
    /// Set files from the roots on a file input of the browser's page (by ref); answers with the page after.
    #[tool(annotations(
        title = "Upload files in the browser",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    pub async fn browser_upload(
        &self,
        Parameters(args): Parameters<BrowserUploadArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ToolError> {
        if args.paths.is_empty() {
            return Err(ToolError::invalid("paths is empty: give the files to upload"));
        }
        let scope = self.file_scope(&ctx).await;
        let cap = self.settings.files.max_media_bytes;
        let timeout = self.browser_timeout();
        let mut running = self.browser_for(&ctx).await?;
        // A folder per call, so a page that reads its files late still finds them.
        let staged = running.dir.join("uploads").join(format!(
            "{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
        ));
        let paths = args.paths.clone();
        let copies: Vec<PathBuf> = blocking(move || {
            std::fs::create_dir_all(&staged).map_err(|e| ToolError::io("the upload folder", e))?;
            let mut copies = Vec::new();
            for (i, input) in paths.iter().enumerate() {
                let resolved = scope.existing(input)?;
                let mut file = scope.open_read(&resolved.path, input)?;
                let size = file.metadata().map_err(|e| ToolError::io(input, e))?.len();
                if size > cap {
                    return Err(ToolError::invalid(format!(
                        "`{input}` is {size} bytes, over files.max_media_bytes ({cap})"
                    )));
                }
                let name = resolved.path.file_name().unwrap_or_default();
                let dir = staged.join(i.to_string());
                std::fs::create_dir_all(&dir).map_err(|e| ToolError::io(input, e))?;
                let copy = dir.join(name);
                let mut out = std::fs::File::create(&copy).map_err(|e| ToolError::io(input, e))?;
                std::io::copy(&mut std::io::Read::take(&mut file, cap), &mut out)
                    .map_err(|e| ToolError::io(input, e))?;
                copies.push(copy);
            }
            Ok(copies)
        })
        .await?;
        let page = running.ready(timeout).await?;
        page.upload(&args.element, &copies).await?;
        super::settle(page, timeout).await;
        let done = format!("Set {} file(s) on {}.", copies.len(), args.element);
        super::report(self, &mut running, &done, 0).await
    }
}
