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

    /// Defines each code with what it means, once: the constants the code uses and the list
    /// the README's table is made from cannot drift apart.
    macro_rules! reasons {
        ($($name:ident = $code:literal: $what:literal,)*) => {
            $(pub const $name: &str = $code;)*
            /// Every code with what it means, as the README's table shows them.
            pub const ALL: &[(&str, &str)] = &[$(($code, $what)),*];
        };
    }

    reasons! {
        INVALID = "invalid": "the call cannot be done as given; the message says what to change",
        INVALID_ARGUMENTS = "invalid_arguments": "the arguments do not fit the tool's input schema",
        TOOL_UNAVAILABLE = "tool_unavailable": "no such tool in this session, or its server is not ready",
        TOOL_HELD = "tool_held": "a child server's tool or entry is held until the user approves it",
        CHILD_FAILED = "child_failed": "a child server failed, timed out or answered out of protocol",
        INTERNAL = "internal_error": "a bug in switchboard",
        IO = "io_error": "the operating system refused a file operation",
        NO_ROOTS = "no_roots": "no folder is allowed yet",
        PATH_INVALID = "path_invalid": "the path cannot be used (empty, a NUL byte, a bad form)",
        PATH_OUTSIDE_ROOTS = "path_outside_roots": "the path is outside the allowed roots",
        PATH_PROTECTED = "path_protected": "the path is protected (switchboard's own files, files that make another program run code)",
        PATH_NOT_FOUND = "path_not_found": "the path does not exist",
        PATH_REFUSED = "path_refused": "the path policy refuses this use of the path (a symlink, a hard link, a root)",
        URL_INVALID = "url_invalid": "the URL cannot be parsed",
        URL_SCHEME = "url_scheme": "only http and https are fetched",
        ADDRESS_PRIVATE = "address_private": "the host is or resolves to a private, loopback or link-local address",
        HOST_DENIED = "host_denied": "the host is in web.deny",
        PORT_NOT_ALLOWED = "port_not_allowed": "web.allow opens that host on other ports only",
        DNS_FAILED = "dns_failed": "the host name could not be resolved",
        CREDENTIAL_HOST = "credential_host": "the named credential is not for that host",
        HEADER_REFUSED = "header_refused": "a request header the client must set itself (Host, Connection, Transfer-Encoding…)",
        REQUEST_TOO_LARGE = "request_too_large": "the request body is over web.max_request_bytes",
        RESPONSE_TOO_LARGE = "response_too_large": "a response, value or the memory an operation needs is over a size cap",
        TOO_MANY_REDIRECTS = "too_many_redirects": "a request was redirected more times than it follows (10)",
        ROBOTS_DISALLOWED = "robots_disallowed": "robots.txt disallows the page",
        TIMEOUT = "timeout": "the operation ran out of time",
        CANCELLED = "cancelled": "the client cancelled the request",
        COMMAND_FAILED = "command_failed": "the program behind a declarative tool exited with an error",
        UPSTREAM_FAILED = "upstream_failed": "the remote server or connection failed",
        SQL_REFUSED = "sql_refused": "the statement asks for what the connection may not do (a write on a read-only connection, ATTACH, an extension)",
        SQL_ERROR = "sql_error": "the database reported an error in the statement",
        DATABASE_UNAVAILABLE = "database_unavailable": "the database cannot be opened or reached",
        TOO_MANY_RECIPIENTS = "too_many_recipients": "a message names more recipients than comms.email.max_recipients",
        RECIPIENT_NOT_ALLOWED = "recipient_not_allowed": "a recipient is not in comms.email.allow",
        MESSAGE_TOO_LARGE = "message_too_large": "a message or notification is over its size cap",
        SCRIPT_ERROR = "script_error": "a workflow script threw an error it did not catch, or does not parse",
        WORKFLOW_LIMIT = "workflow_limit": "a workflow script reached one of its limits (workflow.*)",
        QUOTA_EXCEEDED = "quota_exceeded": "a memory quota of the profile is full",
        MODEL_NAME_INVALID = "model_name_invalid": "the model name is malformed or not offered by the backend",
        PROMPT_TOO_LARGE = "prompt_too_large": "the prompt is over ai.max_prompt_bytes",
        BROWSER_UNAVAILABLE = "browser_unavailable": "no Chromium or Chrome was found, or it could not start or exited",
        DOCUMENT_UNREADABLE = "document_unreadable": "a document could not be read: broken, encrypted, holding no text (a scan), or past a files.* document limit",
    }
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
