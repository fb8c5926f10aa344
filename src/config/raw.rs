//! The config file exactly as users write it. Every struct denies unknown keys, so a typo fails
//! start-up with its key path instead of being silently ignored. Defaults live here, next to the
//! keys, and the repository's `config.yaml` documents the same values.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    /// Profile used when neither `--profile` nor `SWITCHBOARD_PROFILE` is given.
    pub profile: Option<String>,
    /// Base folder for per-profile state; the platform's data dir when unset.
    pub data_dir: Option<PathBuf>,
    pub files: RawFiles,
    pub exec: RawExec,
    pub web: RawWeb,
    pub system: Reserved,
    pub database: RawDatabase,
    pub memory: RawMemory,
    pub http: RawHttp,
    pub ai: RawAi,
    pub comms: RawComms,
    pub tools: RawTools,
    pub prompts: RawFolders,
    pub resources: RawResources,
    pub proxy: RawProxy,
    pub workflow: RawWorkflow,
    pub browser: RawBrowser,
    pub limits: RawLimits,
    pub logging: RawLogging,
}

/// A section whose tools are not part of this release yet. It accepts only `{}`, so the names
/// are settled and nobody writes keys that would silently do nothing.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Reserved {}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawFiles {
    pub roots: Vec<String>,
    pub protected: Vec<String>,
    pub allow_protected: Vec<String>,
    pub max_read_bytes: u64,
    pub max_media_bytes: u64,
    pub max_write_bytes: u64,
    pub max_edits: usize,
    pub hard_link_writes: bool,
    pub search_timeout_secs: u64,
    pub max_search_line_bytes: usize,
    pub max_entries: usize,
    pub max_search_results: usize,
    pub max_search_matches: usize,
    pub max_walk_entries: usize,
    pub max_line_chars: usize,
    pub trash: bool,
    pub max_document_bytes: u64,
    pub max_document_text_bytes: u64,
    pub document_memory_mib: u64,
    pub document_timeout_secs: u64,
    pub max_sheet_columns: usize,
}

impl Default for RawFiles {
    fn default() -> Self {
        Self {
            roots: Vec::new(),
            protected: Vec::new(),
            allow_protected: Vec::new(),
            max_read_bytes: 256 * 1024,
            max_media_bytes: 10 * 1024 * 1024,
            max_write_bytes: 50 * 1024 * 1024,
            max_edits: 100,
            hard_link_writes: false,
            search_timeout_secs: 30,
            max_search_line_bytes: 16 * 1024 * 1024,
            max_entries: 1000,
            max_search_results: 100,
            max_search_matches: 20_000,
            max_walk_entries: 200_000,
            max_line_chars: 500,
            trash: true,
            max_document_bytes: 64 * 1024 * 1024,
            max_document_text_bytes: 32 * 1024 * 1024,
            document_memory_mib: 1024,
            document_timeout_secs: 60,
            max_sheet_columns: 40,
        }
    }
}

/// `exec`: how commands, code and background processes run (see `policy::exec`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawExec {
    pub shell: bool,
    pub shell_command: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub timeout_secs: u64,
    pub max_timeout_secs: u64,
    pub max_output_bytes: usize,
    pub sandbox: SandboxMode,
    pub network: bool,
    pub writable: Vec<PathBuf>,
    pub readable: Vec<PathBuf>,
    pub hidden: Vec<PathBuf>,
    pub kill_scope: KillScope,
    pub created_protected: CreatedProtected,
    pub review_entries: usize,
    /// Ask the user's login shell (`$SHELL -l`) for its PATH once, on the first command, and
    /// run commands with it: hosts start servers with a minimal PATH.
    pub login_shell_path: bool,
    /// Give sandboxed commands the user's git identity (`user.name`, `user.email` of the
    /// global git config, read once) as `GIT_AUTHOR_*`/`GIT_COMMITTER_*`: the sandbox's
    /// private home hides `~/.gitconfig`.
    pub git_identity: bool,
    pub limits: RawRlimits,
    pub background: RawBackground,
    pub packages: RawPackages,
}

impl Default for RawExec {
    fn default() -> Self {
        Self {
            shell: true,
            shell_command: vec!["sh".into(), "-c".into()],
            env: BTreeMap::new(),
            timeout_secs: 30,
            max_timeout_secs: 600,
            max_output_bytes: 1024 * 1024,
            sandbox: SandboxMode::Auto,
            network: false,
            writable: Vec::new(),
            readable: Vec::new(),
            hidden: Vec::new(),
            kill_scope: KillScope::Started,
            created_protected: CreatedProtected::Trash,
            review_entries: 20_000,
            login_shell_path: true,
            git_identity: true,
            limits: RawRlimits::default(),
            background: RawBackground::default(),
            packages: RawPackages::default(),
        }
    }
}

/// `exec.sandbox`: `auto` uses bubblewrap when it works here, `required` refuses to run
/// without it, `off` never uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SandboxMode {
    Auto,
    Required,
    Off,
}

/// `exec.created_protected`: what happens to a protected path (`.envrc`, `.vscode/tasks.json`,
/// a hook…) that a sandboxed command created. `trash`: moved to the trash and reported;
/// `report`: left in place and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CreatedProtected {
    Trash,
    Report,
}

/// `exec.kill_scope`: which processes `kill_process` may signal. `started`: only those
/// switchboard started (and their descendants); `user`: any of the user's own processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KillScope {
    Started,
    User,
}

/// Resource limits set on every child (0 = not set).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawRlimits {
    pub cpu_secs: u64,
    pub file_size_bytes: u64,
    pub processes: u64,
    pub memory_bytes: u64,
}

impl Default for RawRlimits {
    fn default() -> Self {
        Self {
            cpu_secs: 600,
            file_size_bytes: 4 * 1024 * 1024 * 1024,
            processes: 4096,
            memory_bytes: 4 * 1024 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawBackground {
    pub max_processes: usize,
    pub buffer_bytes: usize,
    pub keep_exited: usize,
}

impl Default for RawBackground {
    fn default() -> Self {
        Self {
            max_processes: 8,
            buffer_bytes: 1024 * 1024,
            keep_exited: 16,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawPackages {
    pub enabled: bool,
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    pub timeout_secs: u64,
}

impl Default for RawPackages {
    fn default() -> Self {
        Self {
            enabled: true,
            allow: Vec::new(),
            deny: Vec::new(),
            timeout_secs: 300,
        }
    }
}

/// The guarded HTTP client of the web tools.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawWeb {
    /// `host` or `host:port` entries that may be private or local (a dev server).
    pub allow: Vec<String>,
    /// Hosts always refused.
    pub deny: Vec<String>,
    /// A proxy for every web request; environment proxies are never used.
    pub proxy: Option<String>,
    pub max_body_bytes: u64,
    /// Largest request body a call may send.
    pub max_request_bytes: u64,
    /// Largest file download_file saves.
    pub max_download_bytes: u64,
    pub connect_timeout_secs: u64,
    pub timeout_secs: u64,
    /// Named credentials a call may ask for; the secret never passes through the model.
    pub credentials: BTreeMap<String, RawCredential>,
    pub search: RawSearch,
    /// Whether fetch_url obeys robots.txt (fetches the user asks for through the fetch prompt
    /// do not).
    pub respect_robots: bool,
    pub fetch: RawFetch,
}

/// `fetch_url`'s page window and cache.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawFetch {
    /// Characters returned per call when the call does not say.
    pub max_length: usize,
    /// Pages kept for paging (least recently used go first); 0 turns the cache off.
    pub cache_entries: usize,
    /// Total size of the cached pages.
    pub cache_bytes: usize,
    /// How long a cached page is served.
    pub cache_ttl_secs: u64,
    /// Largest image returned inline as image content.
    pub max_image_bytes: u64,
}

impl Default for RawFetch {
    fn default() -> Self {
        Self {
            max_length: 8000,
            cache_entries: 32,
            cache_bytes: 32 * 1024 * 1024,
            cache_ttl_secs: 300,
            max_image_bytes: 5 * 1024 * 1024,
        }
    }
}

/// `web_search` providers, tried in order until one answers.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSearch {
    pub providers: Vec<RawSearchProvider>,
    pub max_results: usize,
}

impl Default for RawSearch {
    fn default() -> Self {
        Self {
            providers: Vec::new(),
            max_results: 10,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawSearchProvider {
    /// `searxng` (a self-hosted instance's JSON API), `brave` (Brave Search API) or
    /// `duckduckgo` (its HTML results page; no key).
    pub kind: String,
    /// The instance (SearXNG, required) or the endpoint (Brave and DuckDuckGo, optional).
    #[serde(default)]
    pub url: Option<String>,
    /// Brave's key, as env:VAR.
    #[serde(default)]
    pub api_key: Option<String>,
}

impl Default for RawWeb {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            deny: Vec::new(),
            proxy: None,
            max_body_bytes: 10 * 1024 * 1024,
            max_request_bytes: 2 * 1024 * 1024,
            max_download_bytes: 100 * 1024 * 1024,
            connect_timeout_secs: 10,
            timeout_secs: 30,
            credentials: BTreeMap::new(),
            search: RawSearch::default(),
            respect_robots: true,
            fetch: RawFetch::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCredential {
    /// The header it is sent in, e.g. `Authorization` or `X-Api-Key`.
    pub header: String,
    /// The header's value; must be written as `env:VAR`.
    pub value: String,
    /// The only hosts it is ever sent to.
    pub hosts: Vec<String>,
}

/// What one `run_workflow` script may use.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawWorkflow {
    /// The whole run, its tool calls and any question to the user included.
    pub timeout_secs: u64,
    /// The script engine's heap.
    pub max_memory_bytes: u64,
    /// How deep the script may recurse.
    pub max_stack_bytes: u64,
    /// Tool calls one run makes at most.
    pub max_calls: u32,
    /// Tool calls running at once.
    pub max_parallel: usize,
    /// Bytes of tool results handed to the script, all together.
    pub max_result_bytes: u64,
    /// The return value, as JSON.
    pub max_output_bytes: u64,
    /// What `console.log` keeps.
    pub max_console_bytes: u64,
    /// The longest script accepted.
    pub max_script_bytes: u64,
    /// Workflows running at once in a session (each engine may hold max_memory_bytes).
    pub max_runs: usize,
}

impl Default for RawWorkflow {
    /// The engine's own defaults (`crate::workflow::Limits`), so they are written once.
    fn default() -> Self {
        let l = crate::workflow::Limits::default();
        Self {
            timeout_secs: l.timeout.as_secs(),
            max_memory_bytes: l.max_memory as u64,
            max_stack_bytes: l.max_stack as u64,
            max_calls: l.max_calls,
            max_parallel: l.max_parallel,
            max_result_bytes: l.max_result_bytes,
            max_output_bytes: l.max_output_bytes as u64,
            max_console_bytes: l.max_console_bytes as u64,
            max_script_bytes: 100 * 1024,
            max_runs: 4,
        }
    }
}

/// The browser tools' Chromium (`browser`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawBrowser {
    /// A Chromium or Chrome binary (a path or a name on PATH); the first of chromium,
    /// chromium-browser, google-chrome, google-chrome-stable and chrome on PATH when unset.
    pub executable: Option<PathBuf>,
    /// Run without a window.
    pub headless: bool,
    /// `fresh` (a new profile per session, deleted after) or `persistent` (cookies and logins
    /// kept in the switchboard profile's data dir).
    pub profile: String,
    /// How long a page may take to load, and any one browser call.
    pub navigation_timeout_secs: u64,
    /// Tabs open at once.
    pub max_pages: usize,
    /// Characters of a page snapshot per answer; longer ones are paged.
    pub max_snapshot_chars: usize,
    /// Bytes of one screenshot (after trying JPEG for a PNG too large).
    pub max_screenshot_bytes: u64,
    /// Bytes of one PDF written by browser_pdf.
    pub max_pdf_bytes: u64,
    /// Offer browser_evaluate (runs JavaScript the model writes inside the page).
    pub allow_evaluate: bool,
    /// Where a page's downloads are saved: a folder relative to the first root, or an
    /// absolute one inside the roots.
    pub download_dir: String,
}

impl Default for RawBrowser {
    fn default() -> Self {
        Self {
            executable: None,
            headless: true,
            profile: "fresh".into(),
            navigation_timeout_secs: 30,
            max_pages: 8,
            max_snapshot_chars: 20_000,
            max_screenshot_bytes: 2 * 1024 * 1024,
            max_pdf_bytes: 32 * 1024 * 1024,
            allow_evaluate: false,
            download_dir: "downloads".into(),
        }
    }
}

/// SQL connections (`database.connections`) and the database tools' limits.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawDatabase {
    /// Connections by name. `local` (a writable SQLite file in the profile's data dir) is
    /// built in; a connection named `local` here replaces it.
    pub connections: BTreeMap<String, RawConnection>,
    /// Rows one `db_query` page returns at most, unless a connection says otherwise.
    pub max_rows: usize,
    /// JSON bytes of rows one page returns at most.
    pub max_result_bytes: usize,
    /// How long one statement may run, unless a connection says otherwise.
    pub statement_timeout_ms: u64,
    pub connect_timeout_secs: u64,
    /// Rows `db_export_csv` writes at most.
    pub max_export_rows: u64,
    /// Bytes of CSV `db_export_csv` writes at most.
    pub max_export_bytes: u64,
    /// The longest string, blob or row SQLite makes or reads (`SQLITE_LIMIT_LENGTH`).
    pub sqlite_max_length_bytes: u64,
    /// The memory all SQLite work of the process may hold at once (its hard heap limit).
    pub sqlite_max_heap_bytes: u64,
}

impl Default for RawDatabase {
    fn default() -> Self {
        Self {
            connections: BTreeMap::new(),
            max_rows: 200,
            max_result_bytes: 1024 * 1024,
            statement_timeout_ms: 10_000,
            connect_timeout_secs: 10,
            max_export_rows: 1_000_000,
            max_export_bytes: 256 * 1024 * 1024,
            sqlite_max_length_bytes: 64 * 1024 * 1024,
            sqlite_max_heap_bytes: 512 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawConnection {
    /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DB` (a password only as `env:VAR` for the
    /// whole URL).
    pub url: String,
    /// Whether `db_execute` may change it. Read-only unless set.
    #[serde(default)]
    pub writable: bool,
    pub statement_timeout_ms: Option<u64>,
    pub max_rows: Option<usize>,
    /// What the connection holds, shown to the model by `db_connections`.
    pub description: Option<String>,
}

/// Outgoing messages: email accounts, webhooks, ntfy, desktop notifications, and what guards
/// every send (confirmation, allowlist, rate limits).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawComms {
    /// `elicit`: ask the user to confirm each send (when the host cannot ask, nothing is
    /// sent); `never`: send without asking.
    pub confirm: String,
    /// How long a confirmation question waits for the user.
    pub confirm_timeout_secs: u64,
    /// Whether `comms_outbox` keeps message bodies, not only who, what and when.
    pub keep_bodies: bool,
    /// Sends the outbox remembers (older ones are dropped).
    pub outbox_keep: u64,
    /// Per tool (`send_email`, `send_webhook`, `send_push`, `notify_desktop`): at most `max`
    /// sends in any `per_secs` seconds. A tool not listed keeps its default.
    pub rate_limits: BTreeMap<String, RawRate>,
    pub email: RawEmail,
    /// Webhooks by name; the model names one, never a URL.
    pub webhooks: BTreeMap<String, RawWebhook>,
    /// Attempts per webhook post (the first included) on 429, 5xx or a failed connection.
    pub webhook_attempts: u32,
    /// The longest wait between attempts, also for a `Retry-After` the receiver asks for.
    pub webhook_max_wait_secs: u64,
    /// Where `send_push` publishes; no ntfy section, no `send_push`.
    pub ntfy: Option<RawNtfy>,
    /// The longest notification title (`notify_desktop`, `send_push`, webhook titles), in
    /// characters, the sender's prefix not counted.
    pub max_title_chars: usize,
    /// The longest notification body (`notify_desktop`, `send_push`), in bytes.
    pub max_notification_bytes: usize,
    /// How much of a message the confirmation question shows, in characters; beyond it the
    /// question says how much is not shown.
    pub confirm_max_chars: usize,
}

impl Default for RawComms {
    fn default() -> Self {
        Self {
            confirm: "elicit".into(),
            confirm_timeout_secs: 300,
            keep_bodies: false,
            outbox_keep: 1000,
            rate_limits: BTreeMap::new(),
            email: RawEmail::default(),
            webhooks: BTreeMap::new(),
            webhook_attempts: 4,
            webhook_max_wait_secs: 30,
            ntfy: None,
            max_title_chars: 120,
            max_notification_bytes: 4096,
            confirm_max_chars: 20_000,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawRate {
    pub max: u32,
    pub per_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawEmail {
    /// Who may receive mail: `*@example.com` or exact addresses. Empty: only each account's own
    /// address.
    pub allow: Vec<String>,
    /// Accounts by name; the first in name order is the default.
    pub accounts: BTreeMap<String, RawEmailAccount>,
    /// Bytes of attachments one message carries at most, all together.
    pub max_attachment_bytes: u64,
    /// How long talking to the mail server may take.
    pub timeout_secs: u64,
    /// Recipients (To, Cc and Bcc together) one message may have.
    pub max_recipients: usize,
}

impl Default for RawEmail {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            accounts: BTreeMap::new(),
            max_attachment_bytes: 10 * 1024 * 1024,
            timeout_secs: 30,
            max_recipients: 20,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawEmailAccount {
    pub host: String,
    /// 587 for starttls, 465 for tls, 25 for plain unless set.
    pub port: Option<u16>,
    /// `starttls`, `tls` or `plain` (plain only for a relay on this machine or a trusted LAN).
    #[serde(default = "starttls")]
    pub security: String,
    pub username: Option<String>,
    /// Must be written as `env:VAR`.
    pub password: Option<String>,
    /// `Name <address>` or a bare address.
    pub from: String,
    /// A PEM certificate to trust for this server besides the system's (a private CA).
    pub ca_file: Option<PathBuf>,
}

fn starttls() -> String {
    "starttls".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhook {
    /// `slack`, `discord`, `teams` or `generic`.
    pub kind: String,
    /// Must be written as `env:VAR`: a webhook URL is a secret.
    pub url: String,
    /// Signs generic webhooks; must be written as `env:VAR`.
    pub secret: Option<String>,
    /// What posting here does, shown to the model.
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawNtfy {
    /// The ntfy server's base URL, e.g. your own `https://ntfy.example.org`.
    pub server: String,
    /// The topic; on a public server its name is the only thing keeping it private.
    pub topic: String,
    /// An access token for a protected topic; must be written as `env:VAR`.
    pub token: Option<String>,
}

/// `serve --http`: who may connect (bearer tokens, each mapped to a profile) and the limits.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawHttp {
    /// Bearer tokens (`env:VAR` only), each a tenant: its profile, and optionally its own
    /// roots, toolsets and read-only mode.
    pub tokens: Vec<RawHttpToken>,
    /// Browser origins allowed besides loopback ones (`scheme://host:port`, `:*` for any port).
    pub allowed_origins: Vec<String>,
    /// Host names the server answers to besides loopback ones (needed for another address).
    pub allowed_hosts: Vec<String>,
    /// Sessions (initialize-era) one token may hold at once.
    pub max_sessions_per_token: usize,
    /// Requests one token may have running at once.
    pub max_in_flight_per_token: usize,
    /// A session unused this long is closed.
    pub session_idle_secs: u64,
}

impl Default for RawHttp {
    fn default() -> Self {
        Self {
            tokens: Vec::new(),
            allowed_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            max_sessions_per_token: 16,
            max_in_flight_per_token: 32,
            session_idle_secs: 1800,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttpToken {
    /// The token, as `env:VAR`.
    pub token: String,
    /// The profile this token's sessions use (memory, outbox, pins, data).
    pub profile: String,
    /// Roots for this token instead of `files.roots`.
    #[serde(default)]
    pub roots: Option<Vec<PathBuf>>,
    /// Toolsets for this token instead of `tools.enabled`.
    #[serde(default)]
    pub toolsets: Option<Vec<String>>,
    /// Read-only mode for this token.
    #[serde(default)]
    pub read_only: bool,
}

/// The agent's durable memory: notes and the knowledge graph.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawMemory {
    /// Where notes, the graph and their vectors live: `sqlite` (the profile's `memory.db`,
    /// the default) or a PostgreSQL URL, written as `env:VAR` when it holds a password.
    pub store: Option<String>,
    /// Longest note, in characters.
    pub max_note_chars: usize,
    /// Most notes one search or list call returns.
    pub max_results: usize,
    /// An embedding model (`model` or `backend/model` of `ai.backends`): when set,
    /// `memory_search` ranks by meaning as well as by words. Unset: words only.
    pub embed_model: Option<String>,
    /// Notes one search embeds at most (the rest on later searches).
    pub embed_per_search: usize,
    /// Notes the profile's memory holds at most.
    pub max_notes: u64,
    /// Graph entities, observations and relations it holds at most, together.
    pub max_graph_items: u64,
    /// Bytes of text (notes, tags, names, observations, relations) it holds at most.
    pub max_bytes: u64,
}

impl Default for RawMemory {
    fn default() -> Self {
        Self {
            store: None,
            max_note_chars: 20_000,
            max_results: 100,
            embed_model: None,
            embed_per_search: 256,
            max_notes: 100_000,
            max_graph_items: 200_000,
            max_bytes: 256 * 1024 * 1024,
        }
    }
}

/// Inference backends (`ai.backends`) and the AI tools' limits.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAi {
    /// Backends by name; empty means one `ollama` backend at `$OLLAMA_HOST` or
    /// `http://127.0.0.1:11434`.
    pub backends: BTreeMap<String, RawBackend>,
    /// The backend a bare model name (`llama3.2`, not `name/llama3.2`) goes to; needed only
    /// when there are several backends and none is called `ollama`.
    pub default_backend: Option<String>,
    pub connect_timeout_secs: u64,
    /// Largest answer read from a backend (a whole reply, a model list, a batch of vectors).
    pub max_response_bytes: u64,
    /// How long a health check's result is reused.
    pub health_ttl_secs: u64,
    /// Most texts one `ai_embed` call may send.
    pub max_embed_inputs: usize,
    /// Characters of a file the `summarize_with_local_model` prompt gives the model.
    pub summary_max_input_chars: usize,
    /// Most tokens of such a summary.
    pub summary_max_tokens: u32,
    /// The most text one request sends a backend (prompt, messages, texts to embed).
    pub max_prompt_bytes: usize,
    /// The most tokens one request may generate; a call that asks for more gets this many,
    /// and one that does not say gets this many at most.
    pub max_tokens: u32,
    /// The context window to assume for every model, in tokens; 0 asks the server (and gives
    /// a model Ollama has not loaded yet 4096, Ollama's own default).
    pub context_tokens: u64,
    pub agent: RawAgent,
}

impl Default for RawAi {
    fn default() -> Self {
        Self {
            backends: BTreeMap::new(),
            default_backend: None,
            connect_timeout_secs: 5,
            max_response_bytes: 32 * 1024 * 1024,
            health_ttl_secs: 30,
            max_embed_inputs: 256,
            summary_max_input_chars: 12_000,
            summary_max_tokens: 600,
            max_prompt_bytes: 1024 * 1024,
            max_tokens: 8192,
            context_tokens: 0,
            agent: RawAgent::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawBackend {
    /// `ollama` or `openai` (any OpenAI-compatible server: vLLM, LocalAI, llama.cpp's server,
    /// LM Studio, hosted APIs).
    #[serde(rename = "type")]
    pub kind: String,
    /// Required for `openai` (including the `/v1`); `ollama` defaults to `$OLLAMA_HOST` or
    /// `http://127.0.0.1:11434`.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Sent as `Authorization: Bearer ...`; must be written as `env:VAR`.
    #[serde(default)]
    pub api_key: Option<String>,
    /// The model used when a call names none.
    #[serde(default)]
    pub default_model: Option<String>,
    /// Longest a request may take (a whole generation); for pulls, longest without any data.
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// Extra headers on every request to this backend (values may be `env:VAR`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// `ai_agent`: which tools the local model may call and how long it may go on.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawAgent {
    /// Tools beyond the read-only ones the agent may be given (e.g. `write_file`).
    pub allow: Vec<String>,
    /// Steps when the call does not say; the last step must answer.
    pub max_steps: usize,
    /// Highest `max_steps` a call may ask for.
    pub max_steps_limit: usize,
    /// Characters of each tool result shown to the model (the rest is cut, with a note).
    pub max_tool_result_chars: usize,
    /// Tokens the model may write per step.
    pub max_tokens_per_step: u32,
}

impl Default for RawAgent {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            max_steps: 8,
            max_steps_limit: 32,
            max_tool_result_chars: 4000,
            max_tokens_per_step: 1024,
        }
    }
}

/// Child MCP servers (`servers_config.json`) and how switchboard treats them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawProxy {
    /// The servers file; default: `servers_config.json` in the user config dir.
    pub servers_config: Option<PathBuf>,
    /// How long the first `tools/list` waits for eager children (from start-up).
    pub startup_wait_ms: u64,
    /// `enforce` (hold back changed tools), `warn` (log and list them) or `off`.
    pub pinning: String,
    /// Longest line a child may write on stdout; a longer one stops and restarts it.
    pub max_frame_bytes: usize,
    /// Hard limit on one forwarded call, even while progress keeps arriving.
    pub max_call_secs: u64,
    /// Tail of each child's stderr kept for status and errors.
    pub stderr_buffer_bytes: usize,
    /// Most tools, prompts or resources read from one child (its pages are drained up to this).
    pub max_list_items: usize,
    /// Log messages a child may send per second (twice that in a burst); the rest are
    /// dropped and counted.
    pub max_log_rate: u32,
    /// Other notifications and requests a child may send per second (twice that in a burst).
    pub max_message_rate: u32,
    /// A child's `list_changed` notifications within this window become one.
    pub list_changed_debounce_ms: u64,
    /// How long a child may go on with a request after it timed out or was cancelled; progress
    /// for it after that restarts the child.
    pub cancel_grace_secs: u64,
}

impl Default for RawProxy {
    fn default() -> Self {
        Self {
            servers_config: None,
            startup_wait_ms: 3000,
            pinning: "enforce".into(),
            max_frame_bytes: 16 * 1024 * 1024,
            max_call_secs: 600,
            stderr_buffer_bytes: 64 * 1024,
            max_list_items: 10_000,
            max_log_rate: 50,
            max_message_rate: 500,
            list_changed_debounce_ms: 500,
            cancel_grace_secs: 10,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawFolders {
    pub dirs: Vec<PathBuf>,
}

/// Declarative tool folders, which tools are offered (toolsets, allow and deny globs) and how
/// `tools/list` shows them (exposure).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawTools {
    pub dirs: Vec<PathBuf>,
    pub max_output_bytes: usize,
    /// Categories offered; every one when unset.
    pub enabled: Option<Vec<String>>,
    /// Tool-name globs offered even when their category is not enabled.
    pub allow: Vec<String>,
    /// Tool-name globs never offered, by any route.
    pub deny: Vec<String>,
    /// `full`, `compact` or `auto`.
    pub exposure: String,
    /// Tools listed beside `search_tools` and `call_tool` in compact mode.
    pub always: Vec<String>,
    /// `auto` turns compact when the full list costs more tokens than this ...
    pub auto_budget_tokens: usize,
    /// ... or has more tools than this.
    pub auto_max_tools: usize,
    /// Tools `search_tools` returns when the call does not say.
    pub search_results: usize,
    /// Most tools one `search_tools` call returns.
    pub max_search_results: usize,
    /// How many of a search's results carry their input schema and an example call; the
    /// rest come back brief.
    pub search_detailed: usize,
    /// Longest `search_tools` query, in characters.
    pub max_search_query_chars: usize,
    /// An embedding model (`backend/model` or a model of the default backend): `search_tools`
    /// then ranks by meaning as well as by words. None: words only.
    pub search_embed_model: Option<String>,
    /// How much the meaning ranking counts beside the word ranking (0 to 1).
    pub search_embed_weight: f64,
    /// Longest wait for a query's embedding before a search goes on with words only.
    pub search_embed_timeout_ms: u64,
}

impl Default for RawTools {
    fn default() -> Self {
        Self {
            dirs: Vec::new(),
            max_output_bytes: 100_000,
            enabled: None,
            allow: Vec::new(),
            deny: Vec::new(),
            exposure: "auto".into(),
            always: vec!["list_roots".into(), "read_file".into(), "edit_file".into()],
            auto_budget_tokens: 8000,
            auto_max_tools: 100,
            search_results: 5,
            max_search_results: 20,
            search_detailed: 3,
            max_search_query_chars: 1000,
            search_embed_model: None,
            search_embed_weight: 0.3,
            search_embed_timeout_ms: 1500,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawResources {
    pub dirs: Vec<PathBuf>,
    pub max_subscriptions: usize,
    pub max_watched_folders: usize,
}

impl Default for RawResources {
    fn default() -> Self {
        Self {
            dirs: Vec::new(),
            max_subscriptions: 64,
            max_watched_folders: 1000,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawLimits {
    pub max_frame_bytes: usize,
    pub max_response_bytes: usize,
    pub max_regex_bytes: usize,
    pub max_in_flight: usize,
    pub blocking_threads: usize,
    pub progress_interval_ms: u64,
}

impl Default for RawLimits {
    fn default() -> Self {
        Self {
            max_frame_bytes: 16 * 1024 * 1024,
            max_response_bytes: 16 * 1024 * 1024,
            max_regex_bytes: crate::support::regex::DEFAULT_LIMIT,
            max_in_flight: 512,
            blocking_threads: 8,
            progress_interval_ms: 1000,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawLogging {
    pub level: String,
    pub requests: bool,
    pub file: bool,
}

impl Default for RawLogging {
    fn default() -> Self {
        Self {
            level: "warn".into(),
            requests: false,
            file: true,
        }
    }
}
