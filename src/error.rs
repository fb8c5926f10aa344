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
    /// A refusal with its stable reason code (see [`reason`]).
    #[error("{message}")]
    Refused { code: &'static str, message: String },
}

/// Stable reason codes. Every failed tool result carries one in `_meta` under
/// [`reason::META_KEY`], so a client can match a refusal without parsing the sentence the model
/// reads. Codes are never renamed; new ones are added to [`reason::ALL`] (the README lists
/// them, and a test checks that it does).
pub mod reason {
    /// The `_meta` key of a failed tool result that holds its code.
    pub const META_KEY: &str = "switchboard/reason";

    pub const INVALID: &str = "invalid";
    pub const INVALID_ARGUMENTS: &str = "invalid_arguments";
    pub const TOOL_UNAVAILABLE: &str = "tool_unavailable";
    pub const TOOL_HELD: &str = "tool_held";
    pub const CHILD_FAILED: &str = "child_failed";
    pub const INTERNAL: &str = "internal_error";
    pub const IO: &str = "io_error";
    pub const NO_ROOTS: &str = "no_roots";
    pub const PATH_INVALID: &str = "path_invalid";
    pub const PATH_OUTSIDE_ROOTS: &str = "path_outside_roots";
    pub const PATH_PROTECTED: &str = "path_protected";
    pub const PATH_NOT_FOUND: &str = "path_not_found";
    pub const PATH_REFUSED: &str = "path_refused";
    pub const URL_INVALID: &str = "url_invalid";
    pub const URL_SCHEME: &str = "url_scheme";
    pub const ADDRESS_PRIVATE: &str = "address_private";
    pub const HOST_DENIED: &str = "host_denied";
    pub const PORT_NOT_ALLOWED: &str = "port_not_allowed";
    pub const DNS_FAILED: &str = "dns_failed";
    pub const CREDENTIAL_HOST: &str = "credential_host";
    pub const HEADER_REFUSED: &str = "header_refused";
    pub const REQUEST_TOO_LARGE: &str = "request_too_large";
    pub const RESPONSE_TOO_LARGE: &str = "response_too_large";
    pub const TOO_MANY_REDIRECTS: &str = "too_many_redirects";
    pub const ROBOTS_DISALLOWED: &str = "robots_disallowed";
    pub const TIMEOUT: &str = "timeout";
    pub const CANCELLED: &str = "cancelled";
    pub const COMMAND_FAILED: &str = "command_failed";
    pub const UPSTREAM_FAILED: &str = "upstream_failed";
    pub const SQL_REFUSED: &str = "sql_refused";
    pub const SQL_ERROR: &str = "sql_error";
    pub const DATABASE_UNAVAILABLE: &str = "database_unavailable";
    pub const TOO_MANY_RECIPIENTS: &str = "too_many_recipients";
    pub const RECIPIENT_NOT_ALLOWED: &str = "recipient_not_allowed";
    pub const MESSAGE_TOO_LARGE: &str = "message_too_large";
    pub const QUOTA_EXCEEDED: &str = "quota_exceeded";
    pub const MODEL_NAME_INVALID: &str = "model_name_invalid";
    pub const PROMPT_TOO_LARGE: &str = "prompt_too_large";

    /// Every code with what it means, as the README's table shows them.
    pub const ALL: &[(&str, &str)] = &[
        (
            INVALID,
            "the call cannot be done as given; the message says what to change",
        ),
        (
            INVALID_ARGUMENTS,
            "the arguments do not fit the tool's input schema",
        ),
        (
            TOOL_UNAVAILABLE,
            "no such tool in this session, or its server is not ready",
        ),
        (
            TOOL_HELD,
            "a child server's tool or entry is held until the user approves it",
        ),
        (
            CHILD_FAILED,
            "a child server failed, timed out or answered out of protocol",
        ),
        (INTERNAL, "a bug in switchboard"),
        (IO, "the operating system refused a file operation"),
        (NO_ROOTS, "no folder is allowed yet"),
        (
            PATH_INVALID,
            "the path cannot be used (empty, a NUL byte, a bad form)",
        ),
        (PATH_OUTSIDE_ROOTS, "the path is outside the allowed roots"),
        (
            PATH_PROTECTED,
            "the path is protected (switchboard's own files, files that make another program run code)",
        ),
        (PATH_NOT_FOUND, "the path does not exist"),
        (
            PATH_REFUSED,
            "the path policy refuses this use of the path (a symlink, a hard link, a root)",
        ),
        (URL_INVALID, "the URL cannot be parsed"),
        (URL_SCHEME, "only http and https are fetched"),
        (
            ADDRESS_PRIVATE,
            "the host is or resolves to a private, loopback or link-local address",
        ),
        (HOST_DENIED, "the host is in web.deny"),
        (
            PORT_NOT_ALLOWED,
            "web.allow opens that host on other ports only",
        ),
        (DNS_FAILED, "the host name could not be resolved"),
        (CREDENTIAL_HOST, "the named credential is not for that host"),
        (
            HEADER_REFUSED,
            "a request header the client must set itself (Host, Connection, Transfer-Encoding…)",
        ),
        (
            REQUEST_TOO_LARGE,
            "the request body is over web.max_request_bytes",
        ),
        (
            RESPONSE_TOO_LARGE,
            "a response, value or the memory an operation needs is over a size cap",
        ),
        (
            TOO_MANY_REDIRECTS,
            "more redirects than web.max_redirects allows",
        ),
        (ROBOTS_DISALLOWED, "robots.txt disallows the page"),
        (TIMEOUT, "the operation ran out of time"),
        (CANCELLED, "the client cancelled the request"),
        (
            COMMAND_FAILED,
            "the program behind a declarative tool exited with an error",
        ),
        (UPSTREAM_FAILED, "the remote server or connection failed"),
        (
            SQL_REFUSED,
            "the statement asks for what the connection may not do (a write on a read-only connection, ATTACH, an extension)",
        ),
        (SQL_ERROR, "the database reported an error in the statement"),
        (
            DATABASE_UNAVAILABLE,
            "the database cannot be opened or reached",
        ),
        (
            TOO_MANY_RECIPIENTS,
            "a message names more recipients than comms.max_recipients",
        ),
        (
            MESSAGE_TOO_LARGE,
            "a message or notification is over its size cap",
        ),
        (QUOTA_EXCEEDED, "a memory quota of the profile is full"),
        (
            MODEL_NAME_INVALID,
            "the model name is malformed or not offered by the backend",
        ),
        (PROMPT_TOO_LARGE, "the prompt is over ai.max_prompt_bytes"),
    ];
}

impl ToolError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::Invalid(msg.into())
    }

    /// A refusal with a stable reason code from [`reason`].
    pub fn refused(code: &'static str, message: impl Into<String>) -> Self {
        Self::Refused {
            code,
            message: message.into(),
        }
    }

    /// The stable reason code of this failure.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Policy(p) => p.code(),
            Self::Invalid(_) => reason::INVALID,
            Self::Io { .. } => reason::IO,
            Self::Internal(_) => reason::INTERNAL,
            Self::Refused { code, .. } => code,
        }
    }

    pub fn io(path: impl std::fmt::Display, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_string(),
            source,
        }
    }
}

impl From<crate::policy::net::NetError> for ToolError {
    fn from(e: crate::policy::net::NetError) -> Self {
        Self::refused(e.code(), e.to_string())
    }
}

impl From<crate::policy::net::NetRefusal> for ToolError {
    fn from(e: crate::policy::net::NetRefusal) -> Self {
        Self::refused(e.code(), e.to_string())
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

#[cfg(test)]
mod tests {
    use super::reason;

    /// The README's table of reason codes, as [`reason::ALL`] gives it.
    fn table() -> String {
        let mut t = String::from("| code | meaning |\n| --- | --- |\n");
        for (code, meaning) in reason::ALL {
            t.push_str(&format!("| `{code}` | {meaning} |\n"));
        }
        t
    }

    /// The README lists every code (`UPDATE_GOLDEN=1` rewrites its table); codes are unique.
    #[test]
    fn the_readme_lists_every_reason_code() {
        let mut codes: Vec<&str> = reason::ALL.iter().map(|(c, _)| *c).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), reason::ALL.len(), "a code is listed twice");
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).unwrap();
        let (start, end) = ("<!-- reasons:start -->\n", "<!-- reasons:end -->");
        let (a, b) = (
            readme.find(start).expect("README has the reasons markers") + start.len(),
            readme.find(end).expect("README has the reasons markers"),
        );
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            let updated = format!("{}{}{}", &readme[..a], table(), &readme[b..]);
            std::fs::write(path, updated).unwrap();
            return;
        }
        assert_eq!(
            readme[a..b],
            table(),
            "the README's reason codes are out of date: run UPDATE_GOLDEN=1 cargo test --lib the_readme_lists_every_reason_code"
        );
    }
}
