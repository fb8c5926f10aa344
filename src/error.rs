//! The error a tool call reports, worded for the model (what went wrong and how to change the
//! call), shared by the tool adapters and the domain code they call; and the helper that runs
//! blocking work off the protocol thread with that error. It comes back as an `isError: true`
//! result (see `tools`); protocol errors are reserved for unknown names and real bugs.

use crate::policy::PolicyError;

/// A tool failure, worded for the model: what went wrong and how to change the call.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("{0}")]
    Invalid(String),
    #[error("`{path}`: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl ToolError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::Invalid(msg.into())
    }

    pub fn io(path: impl std::fmt::Display, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_string(),
            source,
        }
    }
}

/// Runs blocking work (file system, CPU) off the single-threaded runtime, so pings and
/// cancellations keep flowing while it runs.
pub async fn blocking<T, F>(f: F) -> Result<T, ToolError>
where
    F: FnOnce() -> Result<T, ToolError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ToolError::Internal(format!("a worker task failed: {e}")))?
}
