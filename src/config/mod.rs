//! Configuration: finds `config.yaml`, resolves `env:VAR` secrets, and turns the raw serde structs
//! into validated [`Settings`] exactly once at start-up. Nothing else in switchboard reads
//! environment variables or files for configuration; tools receive what they need from here.

pub mod ai;
pub mod browser;
pub mod comms;
pub mod database;
pub mod http;
pub mod memory;
pub mod raw;
pub mod tools;
pub mod workflow;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::policy::protected::ProtectedPaths;
pub use ai::{AgentSettings, AiSettings, BackendKind, BackendSettings};
pub use comms::CommsSettings;
pub use database::{ConnectionSettings, DatabaseSettings, Target};
pub use memory::{MemorySettings, StoreTarget};
pub use raw::{CreatedProtected, KillScope, RawConfig, SandboxMode};
pub use tools::ToolSettings;

/// A start-up error in the configuration: which file, which key, and what was expected.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", file.as_ref().map(|f| format!("config {}: ", f.display())).unwrap_or_default(), if key.is_empty() { "config".to_owned() } else { format!("`{key}`") })]
pub struct ConfigError {
    pub file: Option<PathBuf>,
    pub key: String,
    pub message: String,
}

impl ConfigError {
    fn new(file: Option<&Path>, key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.map(Path::to_path_buf),
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Refuses a size, count or timeout of 0 (which would turn its feature off without a word):
/// the first such key is the error.
pub(crate) fn nonzero(file: Option<&Path>, limits: &[(&str, u64)]) -> Result<(), ConfigError> {
    match limits.iter().find(|(_, v)| *v == 0) {
        Some((key, _)) => Err(ConfigError::new(file, *key, "must be greater than 0")),
        None => Ok(()),
    }
}

/// What the command line contributes. Command-line values win over the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub roots: Vec<PathBuf>,
    pub profile: Option<String>,
    pub log_level: Option<String>,
    pub read_only: bool,
    /// `--servers PATH`: the child servers file.
    pub servers: Option<PathBuf>,
    /// `--toolsets files,web`: replaces `tools.enabled`.
    pub toolsets: Option<Vec<String>>,
    /// `--exposure MODE`: replaces `tools.exposure`.
    pub exposure: Option<String>,
}

/// How the config file was found, for `switchboard config path` and `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FoundBy {
    Flag,
    EnvVar,
    UserConfigDir,
    Defaults,
}

impl std::fmt::Display for FoundBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FoundBy::Flag => "--config",
            FoundBy::EnvVar => "$SWITCHBOARD_CONFIG",
            FoundBy::UserConfigDir => "user config dir",
            FoundBy::Defaults => "built-in defaults (no config file)",
        })
    }
}

/// Where a configured root came from, reported by `list_roots`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RootSource {
    Config,
    CommandLine,
    Client,
}

#[derive(Debug, Clone)]
pub struct ConfiguredRoot {
    /// Canonical path: symlinks resolved, so containment checks compare real components.
    pub path: PathBuf,
    pub source: RootSource,
}

#[derive(Debug, Clone)]
pub struct FileSettings {
    pub roots: Vec<ConfiguredRoot>,
    pub protected: ProtectedPaths,
    pub max_read_bytes: u64,
    pub max_media_bytes: u64,
    pub max_write_bytes: u64,
    /// Edits one `edit_file` call may make (`files.max_edits`).
    pub max_edits: usize,
    /// Whether a file with more than one hard link may be written in place (`files.hard_link_writes`).
    pub hard_link_writes: bool,
    /// How long one `search_content` call may search (`files.search_timeout_secs`).
    pub search_timeout: std::time::Duration,
    /// The longest line `search_content` holds in memory (`files.max_search_line_bytes`).
    pub max_search_line_bytes: usize,
    pub max_entries: usize,
    pub max_search_results: usize,
    pub max_search_matches: usize,
    pub max_walk_entries: usize,
    pub max_line_chars: usize,
    pub trash: bool,
    /// `files.max_document_bytes`: the largest document `read_document` opens.
    pub max_document_bytes: u64,
    /// `files.max_document_text_bytes`: the most text taken from one document, and the most
    /// any compressed part of it may expand to.
    pub max_document_text_bytes: u64,
    /// `files.document_memory_mib` and `files.document_timeout_secs`: the reader process's
    /// limits.
    pub document_memory_mib: u64,
    pub document_timeout: std::time::Duration,
    /// `files.max_sheet_columns`: most columns of a sheet shown at once.
    pub max_sheet_columns: usize,
}

#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub data_dir: PathBuf,
    pub log_dir: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_frame_bytes: usize,
    /// The largest frame switchboard writes to the host; a larger answer is replaced by one that
    /// says how to narrow the call (`limits.max_response_bytes`).
    pub max_response_bytes: usize,
    /// Compiled size and DFA cache of a regular expression from outside (`limits.max_regex_bytes`).
    pub max_regex_bytes: usize,
    pub max_in_flight: usize,
    pub blocking_threads: usize,
    /// How often a long call with a progress token reports that it is still running.
    pub progress_interval: std::time::Duration,
}

/// Resource limits for children; `None` leaves the inherited limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rlimits {
    pub cpu_secs: Option<u64>,
    pub file_size_bytes: Option<u64>,
    pub processes: Option<u64>,
    /// Private writable memory per process (`RLIMIT_DATA`, which binds root too).
    pub memory_bytes: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct ExecSettings {
    /// The shell command line prefix (`["sh", "-c"]`); `None` when `run_shell` is disabled.
    pub shell: Option<Vec<String>>,
    /// Variables added to every child's cleared environment (`exec.env`), secrets resolved.
    pub env: Vec<(String, String)>,
    pub timeout: std::time::Duration,
    pub max_timeout: std::time::Duration,
    pub max_output_bytes: usize,
    pub sandbox: SandboxMode,
    pub network: bool,
    /// Extra folders writable inside the sandbox (caches such as `~/.cargo`).
    pub writable: Vec<PathBuf>,
    /// Extra host folders shown read-only inside the sandbox (`exec.readable`).
    pub readable: Vec<PathBuf>,
    /// Extra paths hidden inside the sandbox, beside the built-in credential folders.
    pub hidden: Vec<PathBuf>,
    /// Which processes `kill_process` may signal (`exec.kill_scope`).
    pub kill_scope: KillScope,
    /// What happens to protected paths a sandboxed command created (`exec.created_protected`).
    pub created_protected: CreatedProtected,
    /// Entries the protected-path review walks in the command's root, before and after a
    /// sandboxed run (`exec.review_entries`; 0 turns the review off).
    pub review_entries: usize,
    /// `exec.login_shell_path`: commands get the login shell's PATH.
    pub login_shell_path: bool,
    /// `exec.git_identity`: sandboxed commands get the user's git name and email.
    pub git_identity: bool,
    pub home: Option<PathBuf>,
    pub rlimits: Rlimits,
    pub max_background: usize,
    pub background_buffer_bytes: usize,
    pub keep_exited: usize,
    pub packages_enabled: bool,
    pub packages_allow: Vec<String>,
    pub packages_deny: Vec<String>,
    pub packages_timeout: std::time::Duration,
}

pub use crate::policy::net::Credential;

/// One `web_search` provider.
#[derive(Debug, Clone)]
pub enum SearchProvider {
    /// A SearXNG instance (its JSON API at `/search?format=json`).
    Searxng { url: url::Url },
    /// The Brave Search API; the key is sent only to the endpoint's host.
    Brave { url: url::Url, key: Credential },
    /// DuckDuckGo's HTML results page (no key; its markup can change).
    DuckDuckGo { url: url::Url },
}

/// The web tools' client: the network guard's settings and the named credentials.
#[derive(Debug, Clone)]
pub struct WebSettings {
    pub net: crate::policy::net::NetSettings,
    /// Largest file `download_file` saves.
    pub max_download_bytes: u64,
    /// `web_search` providers, in the order they are tried.
    pub search: Vec<SearchProvider>,
    pub search_max_results: usize,
    pub credentials: BTreeMap<String, Credential>,
    /// Characters `fetch_url` returns per call by default.
    pub fetch_max_length: usize,
    pub fetch_cache_entries: usize,
    pub fetch_cache_bytes: usize,
    pub fetch_cache_ttl: std::time::Duration,
    pub fetch_max_image_bytes: u64,
}

/// Whether child tools are pinned to the definition first seen (`proxy.pinning`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pinning {
    Enforce,
    Warn,
    Off,
}

/// Child MCP servers: where their file is and the limits that apply to all of them.
#[derive(Debug, Clone)]
pub struct ProxySettings {
    /// The servers file, when one was given or found; with how it was found.
    pub servers_config: Option<(PathBuf, &'static str)>,
    pub startup_wait: std::time::Duration,
    pub pinning: Pinning,
    pub max_frame_bytes: usize,
    pub max_call: std::time::Duration,
    pub stderr_buffer_bytes: usize,
    pub max_list_items: usize,
    /// What one child may send (`proxy.max_log_rate`, `proxy.max_message_rate`,
    /// `proxy.list_changed_debounce_ms`).
    pub inbound: crate::proxy::inbound::Limits,
    /// `proxy.cancel_grace_secs`.
    pub cancel_grace: std::time::Duration,
    /// How many switchboards up the chain this one is (`SWITCHBOARD_PROXY_DEPTH`, set for
    /// children), so a servers file that names switchboard itself cannot recurse forever.
    pub depth: u32,
}

#[derive(Debug, Clone)]
pub struct LoggingSettings {
    pub level: String,
    pub requests: bool,
    pub file: bool,
}

/// The validated configuration, built once and shared read-only.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config_file: Option<PathBuf>,
    pub found_by: FoundBy,
    pub user_config_dir: Option<PathBuf>,
    pub profile: Profile,
    pub files: FileSettings,
    pub exec: ExecSettings,
    pub web: WebSettings,
    pub ai: AiSettings,
    pub memory: MemorySettings,
    /// `serve --http`: its tokens (tenants) and limits (`http`).
    pub http: http::HttpSettings,
    pub database: DatabaseSettings,
    pub comms: CommsSettings,
    pub proxy: ProxySettings,
    /// What one `run_workflow` script may use (`workflow`).
    pub workflow: workflow::WorkflowSettings,
    /// The browser tools' Chromium and limits (`browser`).
    pub browser: browser::BrowserSettings,
    /// Declarative tool folders, toolsets and exposure (`tools`).
    pub tools: ToolSettings,
    /// Resource subscriptions one session may hold (`resources.max_subscriptions`).
    pub max_subscriptions: usize,
    /// Folders below a subscribed folder, at most (`resources.max_watched_folders`).
    pub max_watched_folders: usize,
    pub prompt_dirs: Vec<PathBuf>,
    pub resource_dirs: Vec<PathBuf>,
    pub limits: Limits,
    pub logging: LoggingSettings,
    pub read_only: bool,
    /// The binary re-executed as the process supervisor: this program itself. A program
    /// embedding the library (a test) points it at the `switchboard` binary.
    pub supervisor_exe: PathBuf,
    /// The effective config as data (defaults and command line applied), every `env:` value
    /// replaced by a marker; printed by `switchboard config show`.
    pub effective: Value,
}

impl Settings {
    /// Settings with built-in defaults and no config file, for tests and the in-process CLI.
    pub fn defaults_for_tests(data_dir: &Path, roots: &[PathBuf]) -> Result<Self, ConfigError> {
        let raw = RawConfig {
            data_dir: Some(data_dir.to_path_buf()),
            ..RawConfig::default()
        };
        let overrides = Overrides {
            roots: roots.to_vec(),
            ..Overrides::default()
        };
        let env = |_: &str| None;
        build(
            raw,
            None,
            FoundBy::Defaults,
            None,
            &overrides,
            &env,
            Value::Null,
        )
    }
}

/// Platform folders for switchboard (`~/.config/switchboard`, `~/.local/share/switchboard`).
fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "switchboard")
}

/// Loads and validates the configuration. `env` looks up environment variables, so tests can
/// pass their own.
pub fn load(
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, ConfigError> {
    let user_config_dir = project_dirs().map(|d| d.config_dir().to_path_buf());
    let (path, found_by) = if let Some(p) = &overrides.config {
        (Some(p.clone()), FoundBy::Flag)
    } else if let Some(p) = env("SWITCHBOARD_CONFIG").filter(|s| !s.is_empty()) {
        (Some(PathBuf::from(p)), FoundBy::EnvVar)
    } else if let Some(p) = user_config_dir
        .as_ref()
        .map(|d| d.join("config.yaml"))
        .filter(|p| p.is_file())
    {
        (Some(p), FoundBy::UserConfigDir)
    } else {
        (None, FoundBy::Defaults)
    };

    let (raw, redacted) = match &path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| {
                ConfigError::new(
                    Some(p),
                    "",
                    format!("cannot read the file: {e} (found by {found_by})"),
                )
            })?;
            parse(&text, Some(p), env)?
        }
        None => (
            RawConfig::default(),
            serde_json::to_value(RawConfig::default()).unwrap_or(Value::Null),
        ),
    };
    let path = path.map(|p| std::fs::canonicalize(&p).unwrap_or(p));
    build(
        raw,
        path,
        found_by,
        user_config_dir,
        overrides,
        env,
        redacted,
    )
}

/// Parses YAML text into the raw config, resolving `env:VAR` strings first. Returns the raw
/// config and a redacted copy of the data for `config show`.
pub fn parse(
    text: &str,
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(RawConfig, Value), ConfigError> {
    let mut value: Value = if text.trim().is_empty() {
        Value::Object(Default::default())
    } else {
        serde_norway::from_str(text).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!(" (line {}, column {})", l.line(), l.column()))
                .unwrap_or_default();
            ConfigError::new(file, "", format!("not valid YAML{at}: {e}"))
        })?
    };
    if value.is_null() {
        value = Value::Object(Default::default());
    }
    let mut redacted = value.clone();
    resolve_env(&mut value, &mut redacted, &mut String::new(), file, env)?;
    let raw: RawConfig = serde_path_to_error::deserialize(value).map_err(|e| {
        let key = e.path().to_string();
        ConfigError::new(
            file,
            if key == "." { String::new() } else { key },
            e.into_inner().to_string(),
        )
    })?;
    Ok((raw, redacted))
}

/// Replaces every string of the form `env:VAR` with the variable's value. Secrets are never
/// written literally in the file; a missing variable is an error that names it and the key.
fn resolve_env(
    value: &mut Value,
    redacted: &mut Value,
    key: &mut String,
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    match value {
        Value::String(s) => {
            if let Some(var) = s.strip_prefix("env:") {
                let var = var.trim();
                match env(var) {
                    Some(v) => {
                        *redacted = Value::String(format!("env:{var} (set, redacted)"));
                        *s = v;
                    }
                    None => {
                        return Err(ConfigError::new(
                            file,
                            key.trim_start_matches('.'),
                            format!(
                                "environment variable `{var}` is not set; export it or pass it in the host config's `env`"
                            ),
                        ));
                    }
                }
            }
        }
        Value::Array(items) => {
            let Value::Array(red) = redacted else {
                return Ok(());
            };
            for (i, (item, r)) in items.iter_mut().zip(red.iter_mut()).enumerate() {
                let len = key.len();
                key.push_str(&format!("[{i}]"));
                resolve_env(item, r, key, file, env)?;
                key.truncate(len);
            }
        }
        Value::Object(map) => {
            let Value::Object(red) = redacted else {
                return Ok(());
            };
            for (k, item) in map.iter_mut() {
                let Some(r) = red.get_mut(k) else { continue };
                let len = key.len();
                key.push('.');
                key.push_str(k);
                resolve_env(item, r, key, file, env)?;
                key.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Profile names become folder names, so they are restricted to a safe alphabet.
pub fn validate_profile_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "profile `{name}` is not valid: use 1 to 32 characters from a-z, 0-9, `_` and `-`"
        ))
    }
}

fn build(
    raw: RawConfig,
    config_file: Option<PathBuf>,
    found_by: FoundBy,
    user_config_dir: Option<PathBuf>,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
    redacted: Value,
) -> Result<Settings, ConfigError> {
    let file = config_file.as_deref();

    // Profile: flag, then environment, then file, then `default`.
    let (profile_name, profile_key) = if let Some(p) = &overrides.profile {
        (p.clone(), "--profile")
    } else if let Some(p) = env("SWITCHBOARD_PROFILE").filter(|s| !s.is_empty()) {
        (p, "$SWITCHBOARD_PROFILE")
    } else if let Some(p) = &raw.profile {
        (p.clone(), "profile")
    } else {
        ("default".to_owned(), "profile")
    };
    validate_profile_name(&profile_name).map_err(|m| ConfigError::new(file, profile_key, m))?;
    let base = match &raw.data_dir {
        Some(d) => absolutize(d, file),
        None => project_dirs()
            .map(|d| d.data_dir().to_path_buf())
            .ok_or_else(|| {
                ConfigError::new(file, "data_dir", "no home directory found; set data_dir")
            })?,
    };
    let data_dir = base.join("profiles").join(&profile_name);
    let profile = Profile {
        log_dir: data_dir.join("logs"),
        data_dir,
        name: profile_name,
    };

    // Roots: the file's, then the command line's; each must be an existing directory.
    let mut roots: Vec<ConfiguredRoot> = Vec::new();
    let mut add_root = |p: &Path, source: RootSource, key: String| -> Result<(), ConfigError> {
        let p = expand_home(p, env);
        let p = absolutize(
            &p,
            if source == RootSource::Config {
                file
            } else {
                None
            },
        );
        let canonical = std::fs::canonicalize(&p).map_err(|e| {
            ConfigError::new(
                file.filter(|_| source == RootSource::Config),
                key.clone(),
                format!("root {} cannot be used: {e}", p.display()),
            )
        })?;
        if !canonical.is_dir() {
            return Err(ConfigError::new(
                file,
                key,
                format!("root {} is not a directory", p.display()),
            ));
        }
        if !roots.iter().any(|r| r.path == canonical) {
            roots.push(ConfiguredRoot {
                path: canonical,
                source,
            });
        }
        Ok(())
    };
    for (i, r) in raw.files.roots.iter().enumerate() {
        add_root(
            Path::new(r),
            RootSource::Config,
            format!("files.roots[{i}]"),
        )?;
    }
    for r in &overrides.roots {
        add_root(r, RootSource::CommandLine, "--root".to_owned())?;
    }

    let f = &raw.files;
    nonzero(
        file,
        &[
            ("files.max_read_bytes", f.max_read_bytes),
            ("files.max_media_bytes", f.max_media_bytes),
            ("files.max_document_bytes", f.max_document_bytes),
            ("files.max_document_text_bytes", f.max_document_text_bytes),
            ("files.document_memory_mib", f.document_memory_mib),
            ("files.document_timeout_secs", f.document_timeout_secs),
            ("files.max_sheet_columns", f.max_sheet_columns as u64),
            ("files.max_write_bytes", f.max_write_bytes),
            ("files.max_edits", f.max_edits as u64),
            ("files.search_timeout_secs", f.search_timeout_secs),
            (
                "files.max_search_line_bytes",
                f.max_search_line_bytes as u64,
            ),
            ("files.max_entries", f.max_entries as u64),
            ("files.max_search_results", f.max_search_results as u64),
            ("files.max_search_matches", f.max_search_matches as u64),
            ("files.max_walk_entries", f.max_walk_entries as u64),
            ("files.max_line_chars", f.max_line_chars as u64),
            ("limits.max_frame_bytes", raw.limits.max_frame_bytes as u64),
            (
                "limits.max_response_bytes",
                raw.limits.max_response_bytes as u64,
            ),
            ("limits.max_regex_bytes", raw.limits.max_regex_bytes as u64),
            ("tools.max_output_bytes", raw.tools.max_output_bytes as u64),
            (
                "resources.max_subscriptions",
                raw.resources.max_subscriptions as u64,
            ),
            (
                "resources.max_watched_folders",
                raw.resources.max_watched_folders as u64,
            ),
            ("memory.max_note_chars", raw.memory.max_note_chars as u64),
            ("memory.max_notes", raw.memory.max_notes),
            ("memory.max_graph_items", raw.memory.max_graph_items),
            ("memory.max_bytes", raw.memory.max_bytes),
            ("memory.max_results", raw.memory.max_results as u64),
            (
                "memory.embed_per_search",
                raw.memory.embed_per_search as u64,
            ),
            ("limits.max_in_flight", raw.limits.max_in_flight as u64),
            (
                "limits.progress_interval_ms",
                raw.limits.progress_interval_ms,
            ),
            (
                "limits.blocking_threads",
                raw.limits.blocking_threads as u64,
            ),
        ],
    )?;
    if raw.limits.max_frame_bytes < 4096 {
        return Err(ConfigError::new(
            file,
            "limits.max_frame_bytes",
            "must be at least 4096 bytes",
        ));
    }
    if raw.limits.max_response_bytes < 4096 {
        return Err(ConfigError::new(
            file,
            "limits.max_response_bytes",
            "must be at least 4096 bytes",
        ));
    }

    // Folders for prompts and resources: beside the config file, the user config dir, then the
    // configured ones. The same folders are protected from the file tools.
    let beside = config_file
        .as_ref()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    let folder_list = |name: &str, extra: &[PathBuf]| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = Vec::new();
        for base in beside.iter().chain(user_config_dir.iter()) {
            v.push(base.join(name));
        }
        for d in extra {
            v.push(absolutize(&expand_home(d, env), file));
        }
        let mut seen = BTreeSet::new();
        v.retain(|p| seen.insert(p.clone()));
        v
    };
    let prompt_dirs = folder_list("prompts", &raw.prompts.dirs);
    let resource_dirs = folder_list("resources", &raw.resources.dirs);
    let tool_dirs = folder_list("tools", &raw.tools.dirs);

    let proxy = proxy_settings(&raw.proxy, file, overrides, user_config_dir.as_deref(), env)?;
    let mut own_paths: Vec<PathBuf> = Vec::new();
    own_paths.extend(config_file.iter().cloned());
    own_paths.extend(proxy.servers_config.iter().map(|(p, _)| p.clone()));
    for base in beside.iter().chain(user_config_dir.iter()) {
        own_paths.push(base.join("config.yaml"));
        own_paths.push(base.join("servers_config.json"));
    }
    own_paths.extend(prompt_dirs.iter().cloned());
    own_paths.extend(resource_dirs.iter().cloned());
    own_paths.extend(tool_dirs.iter().cloned());
    own_paths.push(profile.data_dir.clone());
    let protected = ProtectedPaths::new(&own_paths, &f.protected, &f.allow_protected)
        .map_err(|(key, m)| ConfigError::new(file, key, m))?;

    let level = overrides
        .log_level
        .clone()
        .unwrap_or_else(|| raw.logging.level.clone());
    if !matches!(
        level.as_str(),
        "error" | "warn" | "info" | "debug" | "trace" | "off"
    ) {
        let key = if overrides.log_level.is_some() {
            "--log-level"
        } else {
            "logging.level"
        };
        return Err(ConfigError::new(
            file,
            key,
            format!("`{level}` is not a level: use error, warn, info, debug, trace or off"),
        ));
    }

    let exec = exec_settings(&raw.exec, file, env)?;
    let memory = memory::memory_settings(&raw.memory, &redacted, &profile, file)?;
    let web = web_settings(&raw.web, &redacted, file)?;
    let ai = ai::ai_settings(&raw.ai, &redacted, file, env)?;
    let database = database::database_settings(
        &raw.database,
        &redacted,
        &profile.data_dir,
        overrides.read_only,
        file,
        env,
    )?;
    let tools = tools::tool_settings(
        &raw.tools,
        tool_dirs,
        overrides.toolsets.as_deref(),
        overrides.exposure.as_deref(),
        file,
    )?;
    let comms = comms::comms_settings(&raw.comms, &redacted, &profile.data_dir, file, env)?;
    let workflow = workflow::workflow_settings(&raw.workflow, file)?;
    let http = http::http_settings(&raw.http, &redacted, file)?;
    let browser = browser::browser_settings(&raw.browser, &profile.data_dir, file)?;

    let mut effective = serde_json::to_value(&raw).unwrap_or(Value::Null);
    overlay_redactions(&redacted, &mut effective);
    effective["profile"] = Value::String(profile.name.clone());
    effective["data_dir"] = Value::String(base.display().to_string());
    effective["files"]["roots"] = Value::Array(
        roots
            .iter()
            .map(|r| Value::String(r.path.display().to_string()))
            .collect(),
    );
    effective["logging"]["level"] = Value::String(level.clone());
    effective["tools"]["exposure"] = Value::String(tools.exposure.name().into());
    effective["tools"]["enabled"] = tools
        .toolsets
        .enabled()
        .map(|c| Value::String(c.name().into()))
        .collect();
    // The backend used when none is configured, and where bare model names go.
    if raw.ai.backends.is_empty()
        && let Some(b) = ai.backends.first()
    {
        effective["ai"]["backends"] =
            serde_json::json!({ b.name.clone(): {"type": "ollama", "base_url": b.base_url} });
    }
    effective["ai"]["default_backend"] = Value::String(ai.default_backend.clone());

    Ok(Settings {
        config_file,
        found_by,
        user_config_dir,
        profile,
        files: FileSettings {
            roots,
            protected,
            max_read_bytes: f.max_read_bytes,
            max_media_bytes: f.max_media_bytes,
            max_write_bytes: f.max_write_bytes,
            max_edits: f.max_edits,
            hard_link_writes: f.hard_link_writes,
            search_timeout: std::time::Duration::from_secs(f.search_timeout_secs),
            max_search_line_bytes: f.max_search_line_bytes,
            max_entries: f.max_entries,
            max_search_results: f.max_search_results,
            max_search_matches: f.max_search_matches,
            max_walk_entries: f.max_walk_entries,
            max_line_chars: f.max_line_chars,
            trash: f.trash,
            max_document_bytes: f.max_document_bytes,
            max_document_text_bytes: f.max_document_text_bytes,
            document_memory_mib: f.document_memory_mib,
            document_timeout: std::time::Duration::from_secs(f.document_timeout_secs),
            max_sheet_columns: f.max_sheet_columns,
        },
        exec,
        web,
        ai,
        memory,
        database,
        comms,
        proxy,
        workflow,
        http,
        browser,
        prompt_dirs,
        tools,
        max_subscriptions: raw.resources.max_subscriptions,
        max_watched_folders: raw.resources.max_watched_folders,
        resource_dirs,
        limits: Limits {
            max_frame_bytes: raw.limits.max_frame_bytes,
            max_response_bytes: raw.limits.max_response_bytes,
            max_regex_bytes: raw.limits.max_regex_bytes,
            max_in_flight: raw.limits.max_in_flight,
            blocking_threads: raw.limits.blocking_threads,
            progress_interval: std::time::Duration::from_millis(raw.limits.progress_interval_ms),
        },
        logging: LoggingSettings {
            level,
            requests: raw.logging.requests,
            file: raw.logging.file,
        },
        read_only: overrides.read_only,
        supervisor_exe: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("switchboard")),
        effective,
    })
}

fn web_settings(
    w: &raw::RawWeb,
    redacted: &Value,
    file: Option<&Path>,
) -> Result<WebSettings, ConfigError> {
    use crate::policy::net::{AllowEntry, NetRules, NetSettings};
    use std::time::Duration;
    let err = |key: String, msg: String| ConfigError::new(file, key, msg);
    nonzero(
        file,
        &[
            ("web.max_body_bytes", w.max_body_bytes),
            ("web.max_request_bytes", w.max_request_bytes),
            ("web.max_download_bytes", w.max_download_bytes),
            ("web.connect_timeout_secs", w.connect_timeout_secs),
            ("web.timeout_secs", w.timeout_secs),
        ],
    )?;
    let mut allow = Vec::new();
    for (i, a) in w.allow.iter().enumerate() {
        allow.push(AllowEntry::parse(a).map_err(|m| err(format!("web.allow[{i}]"), m))?);
    }
    let mut credentials = BTreeMap::new();
    for (name, c) in &w.credentials {
        let key = |k: &str| format!("web.credentials.{name}.{k}");
        if !written_as_env(redacted, &["web", "credentials", name, "value"]) {
            return Err(err(
                key("value"),
                "write the secret as env:VAR (the variable holding it), never literally".into(),
            ));
        }
        let header =
            reqwest::header::HeaderName::from_bytes(c.header.as_bytes()).map_err(|_| {
                err(
                    key("header"),
                    format!("`{}` is not a header name", c.header),
                )
            })?;
        let mut value = reqwest::header::HeaderValue::from_str(&c.value).map_err(|_| {
            err(
                key("value"),
                "the variable's value has characters a header cannot carry".into(),
            )
        })?;
        value.set_sensitive(true);
        if c.hosts.is_empty() {
            return Err(err(
                key("hosts"),
                "list the hosts this credential may be sent to".into(),
            ));
        }
        credentials.insert(
            name.clone(),
            Credential {
                header,
                value,
                hosts: c
                    .hosts
                    .iter()
                    .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
                    .collect(),
            },
        );
    }
    let mut search = Vec::new();
    for (i, p) in w.search.providers.iter().enumerate() {
        let key = |k: &str| format!("web.search.providers[{i}].{k}");
        let parse_url = |u: &str| {
            url::Url::parse(u)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
                .ok_or_else(|| err(key("url"), format!("`{u}` is not an http(s) URL")))
        };
        search.push(match p.kind.as_str() {
            "searxng" => {
                let u = p.url.as_deref().ok_or_else(|| {
                    err(
                        key("url"),
                        "a SearXNG provider needs the instance's URL".into(),
                    )
                })?;
                SearchProvider::Searxng { url: parse_url(u)? }
            }
            "brave" => {
                let url = parse_url(
                    p.url
                        .as_deref()
                        .unwrap_or("https://api.search.brave.com/res/v1/web/search"),
                )?;
                let index = i.to_string();
                let written = ["web", "search", "providers", index.as_str(), "api_key"];
                let secret = p
                    .api_key
                    .as_deref()
                    .filter(|_| written_as_env(redacted, &written));
                let Some(secret) = secret else {
                    return Err(err(
                        key("api_key"),
                        "the Brave provider needs api_key: env:VAR (never the key itself)".into(),
                    ));
                };
                let mut value = reqwest::header::HeaderValue::from_str(secret).map_err(|_| {
                    err(
                        key("api_key"),
                        "the key has characters a header cannot carry".into(),
                    )
                })?;
                value.set_sensitive(true);
                let host = url.host_str().unwrap_or("").to_ascii_lowercase();
                SearchProvider::Brave {
                    key: Credential {
                        header: reqwest::header::HeaderName::from_static("x-subscription-token"),
                        value,
                        hosts: vec![host],
                    },
                    url,
                }
            }
            "duckduckgo" => SearchProvider::DuckDuckGo {
                url: parse_url(
                    p.url
                        .as_deref()
                        .unwrap_or("https://html.duckduckgo.com/html/"),
                )?,
            },
            other => {
                return Err(err(
                    key("kind"),
                    format!("`{other}` is not a search provider: use searxng, brave or duckduckgo"),
                ));
            }
        });
    }
    if w.fetch.max_length == 0 {
        return Err(err(
            "web.fetch.max_length".into(),
            "must be greater than 0".into(),
        ));
    }
    if w.search.max_results == 0 {
        return Err(err(
            "web.search.max_results".into(),
            "must be greater than 0".into(),
        ));
    }
    Ok(WebSettings {
        search,
        search_max_results: w.search.max_results,
        net: NetSettings {
            rules: NetRules {
                allow,
                deny: w
                    .deny
                    .iter()
                    .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
                    .collect(),
            },
            max_body_bytes: w.max_body_bytes,
            max_request_bytes: w.max_request_bytes,
            connect_timeout: Duration::from_secs(w.connect_timeout_secs),
            timeout: Duration::from_secs(w.timeout_secs),
            max_redirects: 10,
            proxy: w.proxy.clone(),
            respect_robots: w.respect_robots,
        },
        fetch_max_length: w.fetch.max_length,
        fetch_cache_entries: w.fetch.cache_entries,
        fetch_cache_bytes: w.fetch.cache_bytes,
        fetch_cache_ttl: Duration::from_secs(w.fetch.cache_ttl_secs),
        fetch_max_image_bytes: w.fetch.max_image_bytes,
        max_download_bytes: w.max_download_bytes,
        credentials,
    })
}

fn proxy_settings(
    p: &raw::RawProxy,
    file: Option<&Path>,
    overrides: &Overrides,
    user_config_dir: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ProxySettings, ConfigError> {
    use std::time::Duration;
    let servers_config = if let Some(p) = &overrides.servers {
        Some((absolutize(&expand_home(p, env), None), "--servers"))
    } else if let Some(p) = &p.servers_config {
        Some((
            absolutize(&expand_home(p, env), file),
            "proxy.servers_config",
        ))
    } else {
        user_config_dir
            .map(|d| d.join("servers_config.json"))
            .filter(|p| p.is_file())
            .map(|p| (p, "the user config dir"))
    };
    let pinning = match p.pinning.as_str() {
        "enforce" => Pinning::Enforce,
        "warn" => Pinning::Warn,
        "off" => Pinning::Off,
        other => {
            return Err(ConfigError::new(
                file,
                "proxy.pinning",
                format!("`{other}` is not a pinning mode: use enforce, warn or off"),
            ));
        }
    };
    for (key, value) in [
        ("proxy.max_frame_bytes", p.max_frame_bytes as u64),
        ("proxy.max_call_secs", p.max_call_secs),
        ("proxy.stderr_buffer_bytes", p.stderr_buffer_bytes as u64),
        ("proxy.max_list_items", p.max_list_items as u64),
        ("proxy.max_log_rate", u64::from(p.max_log_rate)),
        ("proxy.max_message_rate", u64::from(p.max_message_rate)),
    ] {
        if value == 0 {
            return Err(ConfigError::new(file, key, "must be greater than 0"));
        }
    }
    Ok(ProxySettings {
        servers_config,
        startup_wait: Duration::from_millis(p.startup_wait_ms),
        pinning,
        max_frame_bytes: p.max_frame_bytes,
        max_call: Duration::from_secs(p.max_call_secs),
        stderr_buffer_bytes: p.stderr_buffer_bytes,
        max_list_items: p.max_list_items,
        inbound: crate::proxy::inbound::Limits {
            log_rate: p.max_log_rate,
            message_rate: p.max_message_rate,
            debounce: Duration::from_millis(p.list_changed_debounce_ms),
        },
        cancel_grace: Duration::from_secs(p.cancel_grace_secs),
        depth: env("SWITCHBOARD_PROXY_DEPTH")
            .and_then(|d| d.parse().ok())
            .unwrap_or(0),
    })
}

fn exec_settings(
    e: &raw::RawExec,
    file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ExecSettings, ConfigError> {
    use std::time::Duration;
    let err = |key: &str, msg: String| ConfigError::new(file, key, msg);
    nonzero(
        file,
        &[
            ("exec.timeout_secs", e.timeout_secs),
            ("exec.max_timeout_secs", e.max_timeout_secs),
            (
                "exec.background.max_processes",
                e.background.max_processes as u64,
            ),
            ("exec.packages.timeout_secs", e.packages.timeout_secs),
        ],
    )?;
    if e.timeout_secs > e.max_timeout_secs {
        return Err(err(
            "exec.timeout_secs",
            format!(
                "the default timeout ({} s) is above exec.max_timeout_secs ({} s)",
                e.timeout_secs, e.max_timeout_secs
            ),
        ));
    }
    if e.max_output_bytes < 1024 {
        return Err(err("exec.max_output_bytes", "must be at least 1024".into()));
    }
    if e.background.buffer_bytes < 4096 {
        return Err(err(
            "exec.background.buffer_bytes",
            "must be at least 4096".into(),
        ));
    }
    if e.shell && e.shell_command.first().is_none_or(|p| p.trim().is_empty()) {
        return Err(err(
            "exec.shell_command",
            "needs the shell program and its flags, e.g. [\"sh\", \"-c\"]".into(),
        ));
    }
    for name in e.env.keys() {
        if !is_env_name(name) {
            return Err(err(
                &format!("exec.env.{name}"),
                "is not a variable name: use letters, digits and `_`, not starting with a digit"
                    .into(),
            ));
        }
    }
    let home = env("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
    let paths = |list: &[PathBuf]| -> Vec<PathBuf> {
        list.iter()
            .map(|p| absolutize(&expand_home(p, env), file))
            .collect()
    };
    let limit = |v: u64| (v > 0).then_some(v);
    Ok(ExecSettings {
        shell: e.shell.then(|| e.shell_command.clone()),
        env: e.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        timeout: Duration::from_secs(e.timeout_secs),
        max_timeout: Duration::from_secs(e.max_timeout_secs),
        max_output_bytes: e.max_output_bytes,
        sandbox: e.sandbox,
        network: e.network,
        writable: paths(&e.writable),
        readable: paths(&e.readable),
        hidden: paths(&e.hidden),
        home,
        rlimits: Rlimits {
            cpu_secs: limit(e.limits.cpu_secs),
            file_size_bytes: limit(e.limits.file_size_bytes),
            processes: limit(e.limits.processes),
            memory_bytes: limit(e.limits.memory_bytes),
        },
        max_background: e.background.max_processes,
        background_buffer_bytes: e.background.buffer_bytes,
        kill_scope: e.kill_scope,
        created_protected: e.created_protected,
        review_entries: e.review_entries,
        login_shell_path: e.login_shell_path,
        git_identity: e.git_identity,
        keep_exited: e.background.keep_exited,
        packages_enabled: e.packages.enabled,
        packages_allow: e.packages.allow.clone(),
        packages_deny: e.packages.deny.clone(),
        packages_timeout: Duration::from_secs(e.packages.timeout_secs),
    })
}

/// Whether the value at `path` (keys, or array indices as digits) was written as `env:VAR` in
/// the config file. Secrets must be, so none sits in the file; `redacted` is the config as
/// written, with each `env:` value still showing its variable.
pub(crate) fn written_as_env(redacted: &Value, path: &[&str]) -> bool {
    let pointer: String = path
        .iter()
        .map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1")))
        .collect();
    redacted
        .pointer(&pointer)
        .and_then(Value::as_str)
        .is_some_and(|w| w.starts_with("env:"))
}

/// A name the config gives a connection, account or webhook: letters, digits, `_` and `-`.
pub(crate) fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
}

/// A portable environment variable name.
pub fn is_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Copies the redaction markers of `redacted` (the file as written) onto `effective`.
fn overlay_redactions(redacted: &Value, effective: &mut Value) {
    match (redacted, effective) {
        (Value::String(s), e) if s.ends_with("(set, redacted)") => *e = Value::String(s.clone()),
        (Value::Object(r), Value::Object(e)) => {
            for (k, v) in r {
                if let Some(ev) = e.get_mut(k) {
                    overlay_redactions(v, ev);
                }
            }
        }
        (Value::Array(r), Value::Array(e)) => {
            for (v, ev) in r.iter().zip(e.iter_mut()) {
                overlay_redactions(v, ev);
            }
        }
        _ => {}
    }
}

/// `~/x` becomes `$HOME/x`; everything else is returned unchanged.
pub(crate) fn expand_home(p: &Path, env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Ok(rest) = p.strip_prefix("~")
        && let Some(home) = env("HOME")
            .or_else(|| directories::BaseDirs::new().map(|b| b.home_dir().display().to_string()))
    {
        return PathBuf::from(home).join(rest);
    }
    p.to_path_buf()
}

/// Relative paths in the config file are relative to the file's folder; on the command line,
/// to the current directory.
fn absolutize(p: &Path, relative_to_file: Option<&Path>) -> PathBuf {
    if p.is_absolute() {
        return p.to_path_buf();
    }
    match relative_to_file.and_then(Path::parent) {
        Some(dir) => dir.join(p),
        None => std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn unknown_key_names_its_path() {
        let err = parse(
            "files:\n  rootz: []\n",
            Some(Path::new("/x/config.yaml")),
            &no_env,
        )
        .unwrap_err();
        assert_eq!(err.key, "files.rootz");
        assert!(
            err.message.contains("unknown field `rootz`"),
            "{}",
            err.message
        );
        assert!(err.to_string().contains("/x/config.yaml"));
    }

    #[test]
    fn wrong_type_names_its_path() {
        let err = parse("files:\n  max_entries: lots\n", None, &no_env).unwrap_err();
        assert_eq!(err.key, "files.max_entries");
    }

    #[test]
    fn reserved_sections_accept_only_empty_maps() {
        assert!(parse("comms: {}\nproxy: {}\n", None, &no_env).is_ok());
        let err = parse("comms:\n  model: x\n", None, &no_env).unwrap_err();
        assert_eq!(err.key, "comms.model");
        let err = parse("comms:\n  email:\n    acounts: {}\n", None, &no_env).unwrap_err();
        assert_eq!(err.key, "comms.email.acounts");
        let err = parse("memory:\n  model: x\n", None, &no_env).unwrap_err();
        assert_eq!(err.key, "memory.model");
        let err = parse("ai:\n  model: x\n", None, &no_env).unwrap_err();
        assert_eq!(err.key, "ai.model");
    }

    #[test]
    fn web_credentials_must_come_from_the_environment() {
        let env = |k: &str| (k == "KEY").then(|| "s3cret".to_owned());
        let literal = "web:\n  credentials:\n    api: {header: X-Api-Key, value: s3cret, hosts: [a.example]}\n";
        let (raw, redacted) = parse(literal, None, &env).unwrap();
        let err = web_settings(&raw.web, &redacted, None).unwrap_err();
        assert_eq!(err.key, "web.credentials.api.value");
        let good = "web:\n  allow: [\"localhost:3000\"]\n  credentials:\n    api: {header: X-Api-Key, value: env:KEY, hosts: [A.example.]}\n";
        let (raw, redacted) = parse(good, None, &env).unwrap();
        let web = web_settings(&raw.web, &redacted, None).unwrap();
        let c = &web.credentials["api"];
        assert_eq!(c.hosts, ["a.example"]);
        assert_eq!(c.value.to_str().unwrap(), "s3cret");
        assert!(format!("{c:?}").contains("redacted"));
        assert_eq!(web.net.rules.allow[0].port, Some(3000));
        for (text, key) in [
            (
                "web:\n  search:\n    providers: [{kind: brave, api_key: literal}]\n",
                "web.search.providers[0].api_key",
            ),
            (
                "web:\n  search:\n    providers: [{kind: searxng}]\n",
                "web.search.providers[0].url",
            ),
            (
                "web:\n  search:\n    providers: [{kind: bing}]\n",
                "web.search.providers[0].kind",
            ),
        ] {
            let (raw, redacted) = parse(text, None, &env).unwrap();
            assert_eq!(
                web_settings(&raw.web, &redacted, None).unwrap_err().key,
                key
            );
        }
        let (raw, redacted) = parse(
            "web:\n  search:\n    providers: [{kind: brave, api_key: env:KEY}, {kind: searxng, url: http://localhost:8888}]\n",
            None,
            &env,
        )
        .unwrap();
        let web = web_settings(&raw.web, &redacted, None).unwrap();
        assert!(
            matches!(&web.search[0], SearchProvider::Brave { key, .. } if key.hosts == ["api.search.brave.com"])
        );
        assert!(matches!(web.search[1], SearchProvider::Searxng { .. }));
        let bad = "web:\n  allow: [\"http://x y\"]\n";
        let (raw, redacted) = parse(bad, None, &env).unwrap();
        assert_eq!(
            web_settings(&raw.web, &redacted, None).unwrap_err().key,
            "web.allow[0]"
        );
    }

    #[test]
    fn exec_limits_are_checked() {
        for (text, key) in [
            ("exec:\n  timeout_secs: 900\n", "exec.timeout_secs"),
            ("exec:\n  env:\n    1BAD: x\n", "exec.env.1BAD"),
            ("exec:\n  shell_command: []\n", "exec.shell_command"),
            ("exec:\n  sandbox: maybe\n", "exec.sandbox"),
        ] {
            assert_eq!(build_error(text).key, key, "{text}");
        }
    }

    #[test]
    fn env_values_are_resolved_and_redacted() {
        let env = |k: &str| (k == "MY_ROOT").then(|| "/tmp".to_owned());
        let (raw, redacted) = parse("files:\n  roots: [\"env:MY_ROOT\"]\n", None, &env).unwrap();
        assert_eq!(raw.files.roots, vec!["/tmp".to_owned()]);
        assert_eq!(redacted["files"]["roots"][0], "env:MY_ROOT (set, redacted)");
    }

    #[test]
    fn missing_env_var_is_named() {
        let err = parse("files:\n  roots: [\"env:NOPE_X\"]\n", None, &no_env).unwrap_err();
        assert_eq!(err.key, "files.roots[0]");
        assert!(err.message.contains("`NOPE_X`"));
    }

    #[test]
    fn profile_names_are_checked() {
        assert!(validate_profile_name("work-2").is_ok());
        assert!(validate_profile_name("Work").is_err());
        assert!(validate_profile_name("../x").is_err());
        assert!(validate_profile_name("").is_err());
        assert!(validate_profile_name(&"a".repeat(33)).is_err());
    }

    #[test]
    fn missing_root_fails_fast() {
        let dir = tempfile::tempdir().unwrap();
        let err =
            Settings::defaults_for_tests(dir.path(), &[dir.path().join("missing")]).unwrap_err();
        assert_eq!(err.key, "--root");
    }

    #[test]
    fn zero_limits_are_refused() {
        assert_eq!(
            build_error("files:\n  max_entries: 0\n").key,
            "files.max_entries"
        );
    }

    /// The error from parsing and validating `text`, which must be refused.
    fn build_error(text: &str) -> ConfigError {
        parse(text, None, &no_env)
            .and_then(|(raw, red)| {
                let o = Overrides::default();
                build(raw, None, FoundBy::Defaults, None, &o, &no_env, red)
            })
            .unwrap_err()
    }

    #[test]
    fn repository_config_loads_as_is() {
        let text = include_str!("../../config.yaml");
        parse(text, None, &no_env).expect("config.yaml must load");
    }
}
