//! The tool catalogue. Each category folder holds one file per tool (file name = tool name) and
//! a `mod.rs` that is its registry. A tool file has a plain function holding the logic, which
//! unit tests call directly, and a short `#[tool]` adapter on [`Switchboard`].
//!
//! Errors a model can act on are [`ToolError`]s and come back as `isError: true` results;
//! protocol errors are reserved for unknown tools and real bugs.

pub mod files;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{ContentBlock, IntoContents, Tool};

use crate::policy::PolicyError;
use crate::server::Switchboard;

/// A tool failure, worded for the model: what went wrong and how to change the call.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("{0}")]
    Invalid(String),
    #[error("`{path}`: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("internal error: {0}")]
    Internal(String),
}

impl ToolError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::Invalid(msg.into())
    }

    pub fn io(path: impl std::fmt::Display, source: std::io::Error) -> Self {
        Self::Io { path: path.to_string(), source }
    }
}

impl IntoContents for ToolError {
    fn into_contents(self) -> Vec<ContentBlock> {
        vec![ContentBlock::text(self.to_string())]
    }
}

/// Runs blocking work (file system, CPU) off the single-threaded runtime, so pings and
/// cancellations keep flowing while it runs.
pub async fn blocking<T, F>(f: F) -> Result<T, ToolError>
where
    F: FnOnce() -> Result<T, ToolError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f).await.map_err(|e| ToolError::Internal(format!("a worker task failed: {e}")))?
}

/// Every built-in tool, by category. With `read_only`, only tools whose `readOnlyHint` is true.
pub fn router(read_only: bool) -> ToolRouter<Switchboard> {
    let mut router = files::router();
    if read_only {
        let writers: Vec<String> = router
            .list_all()
            .into_iter()
            .filter(|t| !is_read_only(t))
            .map(|t| t.name.to_string())
            .collect();
        for name in writers {
            router.remove_route(&name);
        }
    }
    router
}

pub fn is_read_only(tool: &Tool) -> bool {
    tool.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true)
}
