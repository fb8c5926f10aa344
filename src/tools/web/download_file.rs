//! `download_file`: a URL the network guard allows, streamed into a file inside the roots (the
//! path policy applies), under `web.max_download_bytes`, hashed on the way. The file appears
//! whole or not at all: the body goes to a temporary file beside it, renamed at the end.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::policy::FileScope;
use crate::policy::net::NetGuard;
use crate::server::Switchboard;
use crate::tools::files::common::{display, put_in_place, staged_file};
use crate::tools::{ToolError, blocking};

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str = "download wget save url to disk fetch file tarball zip archive pdf image dataset binary into folder";

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DownloadFileArgs {
    /// http or https URL.
    pub url: String,
    /// Where to save it: absolute, or relative to the first root.
    pub path: String,
    /// Replace an existing file (atomically).
    #[serde(default)]
    pub overwrite: bool,
    /// Create missing parent folders.
    #[serde(default)]
    pub create_parents: bool,
    /// Name of a credential from the config (web.credentials); added only for its hosts.
    #[serde(default)]
    pub credential: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Downloaded {
    pub path: String,
    pub bytes: u64,
    /// Hex SHA-256 of the saved bytes.
    pub sha256: String,
    /// From the response, else from the content and the file name.
    pub mime: String,
    /// The URL that answered, after redirects.
    pub url: String,
    /// True when the file did not exist before.
    pub created: bool,
}

pub async fn download_file(
    net: &NetGuard,
    scope: FileScope,
    credentials: &std::collections::BTreeMap<String, crate::config::Credential>,
    cap: u64,
    args: DownloadFileArgs,
) -> Result<Downloaded, ToolError> {
    // The destination first: a bad path fails before any request is sent.
    let (target, tmp) = {
        let (scope, input, overwrite, parents) = (
            scope.clone(),
            args.path.clone(),
            args.overwrite,
            args.create_parents,
        );
        blocking(move || staged_file(&scope, &input, overwrite, parents, ".download")).await?
    };
    let credential = crate::web::credential(credentials, args.credential.as_deref())?;
    let net_err = ToolError::from;
    let mut opened = net
        .open(
            reqwest::Method::GET,
            &args.url,
            reqwest::header::HeaderMap::new(),
            None,
            credential,
        )
        .await
        .map_err(net_err)?;
    if !(200..300).contains(&opened.status) {
        return Err(ToolError::invalid(format!(
            "`{}` answered HTTP {}; nothing was saved",
            opened.final_url, opened.status
        )));
    }
    let final_url = opened.final_url.to_string();
    let too_large = || {
        ToolError::invalid(format!(
            "`{final_url}` is larger than {cap} bytes (web.max_download_bytes); nothing was saved"
        ))
    };
    if opened.content_length().is_some_and(|n| n > cap) {
        return Err(too_large());
    }
    let file = tmp
        .file()
        .try_clone()
        .map_err(|e| ToolError::io(&args.path, e))?;
    let mut out = tokio::fs::File::from_std(file);
    let mut hasher = Sha256::new();
    let mut head: Vec<u8> = Vec::new();
    let mut bytes = 0u64;
    while let Some(chunk) = opened.chunk(net).await.map_err(net_err)? {
        bytes += chunk.len() as u64;
        if bytes > cap {
            return Err(too_large());
        }
        hasher.update(&chunk);
        if head.len() < 512 {
            head.extend_from_slice(&chunk[..chunk.len().min(512 - head.len())]);
        }
        out.write_all(&chunk)
            .await
            .map_err(|e| ToolError::io(&args.path, e))?;
    }
    out.flush()
        .await
        .map_err(|e| ToolError::io(&args.path, e))?;
    drop(out);
    let created = target.existing.is_none();
    let (to, input, overwrite) = (target.clone(), args.path.clone(), args.overwrite);
    blocking(move || put_in_place(tmp, &to, overwrite, &input)).await?;
    let mime = opened
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            crate::support::mime::detect(&target.path, &head, std::str::from_utf8(&head).is_ok())
        });
    Ok(Downloaded {
        path: display(&target.path),
        bytes,
        sha256: crate::support::text::hex(&hasher.finalize()),
        mime,
        url: opened.final_url.to_string(),
        created,
    })
}

#[tool_router(router = download_file_router, vis = "pub(crate)")]
impl Switchboard {
    /// Download a URL into a file inside the roots (whole or not at all); returns its size, SHA-256 and MIME type. Replaces a file only with overwrite; private addresses need config.
    #[tool(annotations(
        title = "Download file",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn download_file(
        &self,
        Parameters(args): Parameters<DownloadFileArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<Json<Downloaded>, ToolError> {
        let net = self.net()?;
        let scope = self.file_scope(&ctx).await;
        download_file(
            &net,
            scope,
            &self.settings.web.credentials,
            self.settings.web.max_download_bytes,
            args,
        )
        .await
        .map(Json)
    }
}
