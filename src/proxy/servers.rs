//! `servers_config.json`: the child servers, read in Claude Desktop's format unchanged (other
//! top-level keys are ignored), with switchboard's optional keys per server. `${VAR}` and
//! `${VAR:-default}` are substituted here, once; a server whose variable is missing is kept in
//! the list as disabled with the reason, so the others still run and `proxy_status` explains it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use serde_json::Value;

/// Default per-call timeout (`timeout_secs`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Deserialize)]
struct RawFile {
    #[serde(rename = "mcpServers", default)]
    mcp_servers: Option<BTreeMap<String, Value>>,
    /// VS Code's `mcp.json` keeps the same entries under `servers`.
    #[serde(default)]
    servers: Option<BTreeMap<String, Value>>,
    /// Claude Desktop keeps other settings in the same file; they are not ours.
    #[serde(flatten)]
    _other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawServer {
    command: Option<String>,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    cwd: Option<String>,
    disabled: bool,
    url: Option<String>,
    headers: BTreeMap<String, String>,
    /// Written by some hosts: `stdio`, `http`, `streamable-http`, `sse`.
    #[serde(rename = "type")]
    kind: Option<String>,
    tools: RawToolFilter,
    timeout_secs: Option<u64>,
    start: Option<String>,
    alias: Option<String>,
    restart: RawRestart,
    allow_sampling: bool,
    allow_elicitation: bool,
    /// What the child's `roots/list` answers: a list of folders, or `"session"` for the
    /// session's own roots. Absent: none.
    roots: Option<Value>,
    /// `true`, or `{read: [...], write: [...]}`: run the child in the exec sandbox.
    sandbox: Option<Value>,
    /// Keys we do not know: reported as warnings (other hosts add their own), never fatal.
    #[serde(flatten)]
    unknown: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawToolFilter {
    allow: Vec<String>,
    deny: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawRestart {
    max_retries: u32,
    backoff_secs: f64,
}

impl Default for RawRestart {
    fn default() -> Self {
        Self {
            max_retries: 5,
            backoff_secs: 1.0,
        }
    }
}

/// What a child sees when it asks for roots.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ChildRoots {
    /// None (the default: a child sees no folder it was not given).
    #[default]
    None,
    /// The session's own roots (`"roots": "session"`), as the host or the config set them.
    Session,
    /// These folders (`"roots": ["~/notes", "/srv/data"]`).
    Paths(Vec<PathBuf>),
}

/// A child run in the exec sandbox: with the network, its own folders and these, nothing
/// else of the host.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChildSandbox {
    /// Shown read-only.
    pub read: Vec<PathBuf>,
    /// Shown read-write.
    pub write: Vec<PathBuf>,
}

/// How switchboard reaches one child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    Stdio {
        command: String,
        args: Vec<String>,
        env: Vec<(String, String)>,
        cwd: Option<PathBuf>,
    },
    Http {
        url: String,
        headers: Vec<(String, String)>,
    },
}

/// One usable server entry.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    pub transport: Transport,
    pub allow: Option<GlobSet>,
    pub deny: Option<GlobSet>,
    /// The per-call timeout (reset by progress, never beyond `proxy.max_call_secs`); also the
    /// time allowed for start-up and `initialize`.
    pub timeout: Duration,
    pub lazy: bool,
    pub max_retries: u32,
    pub backoff: Duration,
    pub allow_sampling: bool,
    pub allow_elicitation: bool,
    /// What the child's `roots/list` answers.
    pub roots: ChildRoots,
    /// Run in the sandbox (stdio children only).
    pub sandbox: Option<ChildSandbox>,
    /// What the entry runs, hashed: the command, its arguments, the names of its environment
    /// variables, its cwd and sandbox, or the URL and the names of its headers. A person
    /// approves this (`proxy::pins`); values of variables and headers (secrets) stay out.
    pub identity: String,
    /// The entry as written (after substitution), to tell whether it changed on reload.
    pub fingerprint: String,
}

impl ServerSpec {
    /// Whether the child's tool `name` passes the entry's `tools.allow`/`tools.deny` globs.
    pub fn tool_allowed(&self, name: &str) -> bool {
        self.allow.as_ref().is_none_or(|g| g.is_match(name))
            && !self.deny.as_ref().is_some_and(|g| g.is_match(name))
    }
}

/// One entry of the file: its name, its alias (the tool name prefix) and either a spec or the
/// reason it does not run.
#[derive(Debug, Clone)]
pub struct ServerEntry {
    pub name: String,
    pub alias: String,
    pub spec: Result<ServerSpec, String>,
}

/// The whole file.
#[derive(Debug, Clone, Default)]
pub struct ServersFile {
    pub path: PathBuf,
    pub servers: Vec<ServerEntry>,
    /// Things worth fixing that do not stop a server (unknown keys, renamed aliases).
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServersError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not valid JSON in Claude Desktop's format ({{\"mcpServers\": {{...}}}}) or VS Code's ({{\"servers\": {{...}}}}): {message}"
    )]
    Parse { path: PathBuf, message: String },
}

impl ServersFile {
    /// Reads and checks the file; `env` looks up variables for `${VAR}`.
    pub fn load(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ServersError> {
        let text = std::fs::read_to_string(path).map_err(|source| ServersError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path, env)
    }

    pub fn parse(
        text: &str,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ServersError> {
        let parse_error = |message: String| ServersError::Parse {
            path: path.to_path_buf(),
            message,
        };
        let raw: RawFile = serde_json::from_str(text).map_err(|e| parse_error(e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut out = Self {
            path: path.to_path_buf(),
            ..Self::default()
        };
        let mut aliases: BTreeMap<String, String> = BTreeMap::new();
        if raw.mcp_servers.is_none() && raw.servers.is_none() {
            out.warnings.push(
                "the file has no `mcpServers` (or VS Code's `servers`) object, so no server is started"
                    .into(),
            );
        }
        // Claude Desktop's key first, then VS Code's, each entry under the key it came from.
        let mut entries: Vec<(&str, String, Value)> = raw
            .mcp_servers
            .unwrap_or_default()
            .into_iter()
            .map(|(n, v)| ("mcpServers", n, v))
            .collect();
        for (name, value) in raw.servers.unwrap_or_default() {
            if entries.iter().any(|(_, n, _)| *n == name) {
                out.warnings.push(format!(
                    "`servers.{name}` and `mcpServers.{name}` name the same server; the `mcpServers` entry is used"
                ));
            } else {
                entries.push(("servers", name, value));
            }
        }
        for (key_of, name, value) in entries {
            let raw: RawServer = match serde_path_to_error::deserialize(value) {
                Ok(r) => r,
                Err(e) => {
                    let key = e.path().to_string();
                    let alias = sanitize_alias(&name);
                    out.servers.push(ServerEntry {
                        name: name.clone(),
                        alias,
                        spec: Err(format!("{key_of}.{name}.{key}: {}", e.into_inner())),
                    });
                    continue;
                }
            };
            for key in raw.unknown.keys() {
                out.warnings.push(format!(
                    "{key_of}.{name}.{key} is not a key switchboard knows; it is ignored"
                ));
            }
            let wanted = raw.alias.clone().unwrap_or_else(|| name.clone());
            let mut alias = sanitize_alias(&wanted);
            if alias != wanted && raw.alias.is_some() {
                out.warnings.push(format!(
                    "{key_of}.{name}.alias `{wanted}` becomes `{alias}` (only A-Z, a-z, 0-9, _ and - are kept)"
                ));
            }
            if let Some(other) = aliases.get(&alias) {
                let mut n = 2;
                while aliases.contains_key(&format!("{alias}_{n}")) {
                    n += 1;
                }
                let renamed = format!("{alias}_{n}");
                out.warnings.push(format!(
                    "servers `{other}` and `{name}` share the prefix `{alias}`; `{name}` uses `{renamed}` (set `alias` to choose)"
                ));
                alias = renamed;
            }
            aliases.insert(alias.clone(), name.clone());
            let spec = if raw.disabled {
                Err("disabled in the servers file (`\"disabled\": true`)".to_owned())
            } else {
                build_spec(&name, raw, base, env)
            };
            out.servers.push(ServerEntry { name, alias, spec });
        }
        Ok(out)
    }
}

fn build_spec(
    name: &str,
    raw: RawServer,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ServerSpec, String> {
    let sub = |s: &str, key: &str| -> Result<String, String> {
        substitute(s, env).map_err(|var| {
            format!(
                "disabled: ${{{var}}} in mcpServers.{name}.{key} is not set; set it in switchboard's environment (the `env` of its host config entry) or write ${{{var}:-default}}"
            )
        })
    };
    let kind = raw.kind.as_deref().map(str::to_ascii_lowercase);
    let transport = match (&raw.command, &raw.url) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "mcpServers.{name} has both `command` and `url`; keep one"
            ));
        }
        (None, None) => {
            return Err(format!(
                "mcpServers.{name} needs `command` (a local server) or `url` (a remote one)"
            ));
        }
        (Some(command), None) => {
            if kind.as_deref().is_some_and(|k| k != "stdio") {
                return Err(format!(
                    "mcpServers.{name}: type `{}` needs a `url`",
                    raw.kind.unwrap_or_default()
                ));
            }
            let command = sub(command, "command")?;
            if command.trim().is_empty() {
                return Err(format!("mcpServers.{name}.command is empty"));
            }
            let mut args = Vec::new();
            for (i, a) in raw.args.iter().enumerate() {
                args.push(sub(a, &format!("args[{i}]"))?);
            }
            let mut vars = Vec::new();
            for (k, v) in &raw.env {
                if !crate::config::is_env_name(k) {
                    return Err(format!(
                        "mcpServers.{name}.env: `{k}` is not a variable name"
                    ));
                }
                vars.push((k.clone(), sub(v, &format!("env.{k}"))?));
            }
            let cwd = match &raw.cwd {
                Some(c) => {
                    let c = PathBuf::from(sub(c, "cwd")?);
                    let c = if c.is_absolute() { c } else { base.join(c) };
                    if !c.is_dir() {
                        return Err(format!(
                            "mcpServers.{name}.cwd {} is not a directory",
                            c.display()
                        ));
                    }
                    Some(c)
                }
                None => None,
            };
            Transport::Stdio {
                command,
                args,
                env: vars,
                cwd,
            }
        }
        (None, Some(url)) => {
            match kind.as_deref() {
                None | Some("http") | Some("streamable-http") | Some("streamablehttp") => {}
                Some("sse") => {
                    return Err(format!(
                        "mcpServers.{name}: the old SSE transport is not supported; use the server's streamable HTTP endpoint (usually /mcp)"
                    ));
                }
                Some(other) => {
                    return Err(format!(
                        "mcpServers.{name}: type `{other}` is not supported with a url; use `http`"
                    ));
                }
            }
            let url = sub(url, "url")?;
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!(
                    "mcpServers.{name}.url must start with http:// or https://"
                ));
            }
            let mut headers = Vec::new();
            for (k, v) in &raw.headers {
                if http::HeaderName::from_bytes(k.as_bytes()).is_err() {
                    return Err(format!(
                        "mcpServers.{name}.headers: `{k}` is not a header name"
                    ));
                }
                let v = sub(v, &format!("headers.{k}"))?;
                if http::HeaderValue::from_str(&v).is_err() {
                    return Err(format!(
                        "mcpServers.{name}.headers.{k}: the value has characters a header cannot carry"
                    ));
                }
                headers.push((k.clone(), v));
            }
            Transport::Http { url, headers }
        }
    };
    let globs = |list: &[String], key: &str| -> Result<Option<GlobSet>, String> {
        if list.is_empty() {
            return Ok(None);
        }
        let mut b = GlobSetBuilder::new();
        for g in list {
            b.add(Glob::new(g).map_err(|e| format!("mcpServers.{name}.tools.{key}: {e}"))?);
        }
        b.build()
            .map(Some)
            .map_err(|e| format!("mcpServers.{name}.tools.{key}: {e}"))
    };
    let lazy = match raw.start.as_deref() {
        None | Some("eager") => false,
        Some("lazy") => true,
        Some(other) => {
            return Err(format!(
                "mcpServers.{name}.start: `{other}` is not `eager` or `lazy`"
            ));
        }
    };
    let timeout = match raw.timeout_secs {
        None => DEFAULT_TIMEOUT,
        Some(0) => return Err(format!("mcpServers.{name}.timeout_secs must be above 0")),
        Some(s) => Duration::from_secs(s),
    };
    if !(raw.restart.backoff_secs.is_finite() && raw.restart.backoff_secs > 0.0) {
        return Err(format!(
            "mcpServers.{name}.restart.backoff_secs must be above 0"
        ));
    }
    // A list of folders under `key`: `${VAR}` substituted, `~` expanded, relative to the file.
    let folders = |list: &Value, key: &str| -> Result<Vec<PathBuf>, String> {
        let Some(items) = list.as_array() else {
            return Err(format!("mcpServers.{name}.{key} must be a list of paths"));
        };
        let mut out = Vec::new();
        for (i, v) in items.iter().enumerate() {
            let text = v
                .as_str()
                .ok_or_else(|| format!("mcpServers.{name}.{key}[{i}] must be a path"))?;
            let text = sub(text, &format!("{key}[{i}]"))?;
            let p = crate::config::expand_home(Path::new(&text), env);
            out.push(if p.is_absolute() { p } else { base.join(p) });
        }
        Ok(out)
    };
    let roots = match &raw.roots {
        None => ChildRoots::None,
        Some(Value::String(s)) if s == "session" => ChildRoots::Session,
        Some(list @ Value::Array(_)) => {
            let paths = folders(list, "roots")?;
            if let Some(p) = paths.iter().find(|p| !p.is_dir()) {
                return Err(format!(
                    "mcpServers.{name}.roots: {} is not a directory",
                    p.display()
                ));
            }
            ChildRoots::Paths(paths)
        }
        Some(_) => {
            return Err(format!(
                "mcpServers.{name}.roots must be a list of folders or \"session\""
            ));
        }
    };
    let sandbox = match &raw.sandbox {
        None | Some(Value::Bool(false)) => None,
        Some(Value::Bool(true)) => Some(ChildSandbox::default()),
        Some(Value::Object(o)) => {
            if let Some(k) = o.keys().find(|k| *k != "read" && *k != "write") {
                return Err(format!(
                    "mcpServers.{name}.sandbox.{k} is not a sandbox key (read, write)"
                ));
            }
            let list = |key: &str| match o.get(key) {
                Some(v) => folders(v, &format!("sandbox.{key}")),
                None => Ok(Vec::new()),
            };
            Some(ChildSandbox {
                read: list("read")?,
                write: list("write")?,
            })
        }
        Some(_) => {
            return Err(format!(
                "mcpServers.{name}.sandbox must be true, false or {{read: [...], write: [...]}}"
            ));
        }
    };
    if sandbox.is_some() && matches!(transport, Transport::Http { .. }) {
        return Err(format!(
            "mcpServers.{name}.sandbox applies to local (command) servers only"
        ));
    }
    let fingerprint = format!(
        "{transport:?}|{:?}|{:?}|{timeout:?}|{lazy}|{}|{}|{}|{}|{roots:?}|{sandbox:?}",
        raw.tools.allow,
        raw.tools.deny,
        raw.restart.max_retries,
        raw.restart.backoff_secs,
        raw.allow_sampling,
        raw.allow_elicitation
    );
    let run = match &transport {
        Transport::Stdio {
            command,
            args,
            env,
            cwd,
        } => {
            let mut names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
            names.sort_unstable();
            serde_json::json!({"command": command, "args": args, "env": names, "cwd": cwd})
        }
        Transport::Http { url, headers } => {
            let mut names: Vec<String> = headers
                .iter()
                .map(|(k, _)| k.to_ascii_lowercase())
                .collect();
            names.sort_unstable();
            serde_json::json!({"url": url, "headers": names})
        }
    };
    let identity = super::pins::digest(&serde_json::json!({
        "run": run,
        "sandbox": sandbox.as_ref().map(|s| serde_json::json!({"read": s.read, "write": s.write})),
    }));
    Ok(ServerSpec {
        identity,
        allow: globs(&raw.tools.allow, "allow")?,
        deny: globs(&raw.tools.deny, "deny")?,
        transport,
        timeout,
        lazy,
        max_retries: raw.restart.max_retries,
        backoff: Duration::from_secs_f64(raw.restart.backoff_secs.min(60.0)),
        allow_sampling: raw.allow_sampling,
        allow_elicitation: raw.allow_elicitation,
        roots,
        sandbox,
        fingerprint,
    })
}

/// Replaces `${VAR}` and `${VAR:-default}`; `Err(VAR)` names the first missing variable. A `$`
/// not followed by `{` is kept as is.
pub fn substitute(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[i..]);
            return Ok(out);
        };
        let inner = &after[..end];
        let (var, default) = match inner.split_once(":-") {
            Some((v, d)) => (v, Some(d)),
            None => (inner, None),
        };
        match (
            env(var).filter(|v| !v.is_empty() || default.is_none()),
            default,
        ) {
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => return Err(var.to_owned()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The alias with every character outside `[A-Za-z0-9_-]` replaced by `_`.
pub fn sanitize_alias(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() { "server".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(k: &str) -> Option<String> {
        match k {
            "TOKEN" => Some("s3cret".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn substitution_with_defaults_and_missing_variables() {
        assert_eq!(substitute("a ${TOKEN} b", &env).unwrap(), "a s3cret b");
        assert_eq!(substitute("${NOPE:-x y}", &env).unwrap(), "x y");
        assert_eq!(substitute("${EMPTY:-d}", &env).unwrap(), "d");
        assert_eq!(substitute("${EMPTY}", &env).unwrap(), "");
        assert_eq!(substitute("$HOME ${", &env).unwrap(), "$HOME ${");
        assert_eq!(substitute("${NOPE}", &env).unwrap_err(), "NOPE");
    }

    #[test]
    fn claude_desktop_file_with_our_keys() {
        let text = r#"{
            "globalShortcut": "Ctrl+Space",
            "mcpServers": {
                "b.srv": {"command": "node", "args": ["x.js", "--key=${TOKEN}"], "env": {"K": "${TOKEN}"},
                          "tools": {"deny": ["delete_*"]}, "timeout_secs": 5, "start": "lazy", "extra": 1},
                "a": {"command": "uvx", "args": ["${MISSING}"]},
                "remote": {"url": "https://example.test/mcp", "headers": {"Authorization": "Bearer ${TOKEN}"}},
                "off": {"command": "x", "disabled": true},
                "b_srv": {"command": "y"}
            }
        }"#;
        let f = ServersFile::parse(text, Path::new("/tmp/s.json"), &env).unwrap();
        let names: Vec<_> = f.servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b.srv", "b_srv", "off", "remote"]);
        assert!(
            f.servers[0]
                .spec
                .as_ref()
                .unwrap_err()
                .contains("${MISSING}")
        );
        let b = f.servers[1].spec.as_ref().unwrap();
        assert_eq!(f.servers[1].alias, "b_srv");
        assert_eq!(f.servers[2].alias, "b_srv_2");
        assert!(b.lazy && b.timeout == Duration::from_secs(5));
        assert!(b.tool_allowed("read") && !b.tool_allowed("delete_all"));
        match &b.transport {
            Transport::Stdio { args, env, .. } => {
                assert_eq!(args[1], "--key=s3cret");
                assert_eq!(env[0], ("K".into(), "s3cret".into()));
            }
            other => panic!("{other:?}"),
        }
        assert!(f.servers[3].spec.is_err());
        assert!(matches!(
            &f.servers[4].spec.as_ref().unwrap().transport,
            Transport::Http { headers, .. } if headers[0].1 == "Bearer s3cret"
        ));
        assert!(f.warnings.iter().any(|w| w.contains("extra")));
        assert!(f.warnings.iter().any(|w| w.contains("b_srv_2")));
    }

    #[test]
    fn vs_code_files_are_read_and_a_file_with_no_servers_says_so() {
        let text = r#"{
            "inputs": [],
            "servers": {
                "fs": {"type": "stdio", "command": "npx", "args": ["-y", "server-filesystem"]},
                "web": {"type": "http", "url": "https://example.test/mcp"},
                "both": {"command": "b"}
            },
            "mcpServers": {"both": {"command": "a"}}
        }"#;
        let f = ServersFile::parse(text, Path::new("mcp.json"), &env).unwrap();
        let names: Vec<_> = f.servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["both", "fs", "web"]);
        match &f.servers[0].spec.as_ref().unwrap().transport {
            Transport::Stdio { command, .. } => assert_eq!(command, "a"),
            other => panic!("{other:?}"),
        }
        assert!(f.servers[1].spec.is_ok() && f.servers[2].spec.is_ok());
        assert!(
            f.warnings.iter().any(|w| w.contains("servers.both")),
            "{:?}",
            f.warnings
        );
        let empty =
            ServersFile::parse(r#"{"globalShortcut": "x"}"#, Path::new("s.json"), &env).unwrap();
        assert!(empty.servers.is_empty());
        assert!(
            empty.warnings[0].contains("no server is started"),
            "{:?}",
            empty.warnings
        );
    }

    #[test]
    fn bad_entries_are_explained() {
        let text = r#"{"mcpServers": {"x": {"command": "a", "url": "http://b"}, "y": {"args": 3}, "z": {}}}"#;
        let f = ServersFile::parse(text, Path::new("s.json"), &env).unwrap();
        assert!(f.servers[0].spec.as_ref().unwrap_err().contains("both"));
        assert!(f.servers[1].spec.as_ref().unwrap_err().contains("args"));
        assert!(
            f.servers[2]
                .spec
                .as_ref()
                .unwrap_err()
                .contains("needs `command`")
        );
        assert!(ServersFile::parse("{", Path::new("s.json"), &env).is_err());
    }
}
