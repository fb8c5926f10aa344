//! The one MCP `ServerHandler` and the session's state. Each responsibility has a module:
//! - [`catalog`]: the tools a session offers and what `tools/list` shows;
//! - [`dispatch`]: the one call path every tool call takes;
//! - [`prompts`], [`resource_reads`]: what the folders and switchboard itself serve;
//! - [`subscriptions`]: resource updates; [`reload`]: the folders watched while running;
//! - [`roots`]: the client's roots; [`notify`]: messages to the client.
//!
//! Tool logic lives in `tools/`; this module only routes and keeps per-session state.
// Roots, logging and resources/subscribe are deprecated by the 2026-07-28 revision, but every
// initialize-era host (most of them today) uses them, so this module supports them on purpose.
#![allow(deprecated)]

use std::collections::{BTreeMap, HashMap};
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult, CompletionInfo,
    GetPromptRequestParams, GetPromptResponse, GetPromptResult, Implementation, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, LoggingLevel,
    PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult,
    Reference, Resource, ResourceTemplate, ServerCapabilities, ServerConfig, SetLevelRequestParams,
    SubscribeRequestParams, SubscriptionFilter, Tool, UnsubscribeRequestParams,
};
use rmcp::service::{NotificationContext, RequestContext, SubscriptionContext};
use rmcp::{ErrorData as McpError, Peer, RoleServer, ServerHandler};
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::folders::Folders;
use crate::policy::Policy;
use crate::policy::tools::{Category, Exposure};
use crate::prompts::{Piece, PromptError, Suggest};
use crate::resources::{self, ResourceError};

mod catalog;
mod dispatch;
mod notify;
mod prompts;
mod reload;
mod resource_reads;
mod roots;
mod subscriptions;

use catalog::{Catalog, SearchIndex, catalog_for};
pub use dispatch::Caller;
use resource_reads::{DB_SCHEMA_PREFIX, no_cursor, resource_error, to_contents};

/// Cheap to clone: every clone shares one [`Inner`].
#[derive(Clone)]
pub struct Switchboard(Arc<Inner>);

/// What every session of one profile shares: its settings and policy, the catalogue and
/// folders, the child servers, the stores and clients, and the state 2026-07-28 requests
/// carry between them (workflows, questions, background processes). One per stdio process;
/// one per token for `serve --http`, whose sessions each get a [`Switchboard`] over it.
pub struct Shared {
    pub settings: Arc<Settings>,
    pub policy: Policy,
    /// How commands run (`policy::exec`), and the background processes started so far.
    pub exec: crate::policy::exec::ExecPolicy,
    pub processes: crate::exec::Processes,
    /// The tool, prompt and resource folders: read on a helper thread started with the server
    /// so reading them never delays `initialize`; anything that needs them first waits. A
    /// reload swaps in a new snapshot.
    folders: Arc<Mutex<Option<Arc<Folders>>>>,
    /// Told once the helper thread has read the folders.
    folders_loaded: Arc<tokio::sync::Notify>,
    /// This configuration's catalogue, once looked up.
    catalog: OnceLock<&'static Catalog>,
    /// Calls, errors and latencies per tool, for the `switchboard://stats` resource.
    pub stats: crate::support::stats::Stats,
    /// Whatever changed a list or a watched resource, for this session to deliver.
    pub changes: crate::mcp::changes::Changes,
    /// When this server was made: folder files changed since then are reloaded when the watch
    /// starts.
    created: std::time::SystemTime,
    /// The child servers, once [`Switchboard::start_proxy`] ran (`None` inside: no servers file).
    proxy: OnceLock<Option<Arc<crate::proxy::Hub>>>,
    /// The guarded HTTP client of the web tools, built on first use (TLS set-up stays off the
    /// start-up path) and shared by every call after.
    net: OnceLock<Result<Arc<crate::policy::net::NetGuard>, String>>,
    /// The profile's notes store, opened on first use.
    notes: LazyStore<Box<dyn crate::memory::Memory>>,
    /// Changes other processes made to a PostgreSQL memory (`LISTEN`), from the first
    /// subscription to a `memory://` resource; `None` inside for the SQLite store.
    memory_events: OnceLock<Option<tokio::sync::broadcast::Sender<String>>>,
    /// The database connections (`database`), set up on first use.
    databases: OnceLock<Arc<crate::db::Databases>>,
    /// The outbox and the confirmations awaiting the user's answer.
    pub(crate) comms: crate::comms::CommsState,
    /// The inference backends (`ai`), built on first use like the web client.
    ai: OnceLock<Result<Arc<crate::ai::Ai>, String>>,
    /// Pages `fetch_url` converted, kept briefly so paging does not fetch again.
    pub pages: crate::web::page::PageCache,
    /// Documents' text `read_document` extracted, kept briefly so paging does not read again.
    pub documents: crate::documents::TextCache,
    /// `search_tools`' index, with the folders' snapshot and the children's view it was built
    /// from: rebuilt only when either is replaced.
    search_index: Mutex<Option<SearchIndex>>,
    /// Tool vectors for search by meaning, by text, kept across catalogues.
    pub(crate) search_vectors: crate::discovery::meaning::VectorCache,
    /// Workflows waiting for the user's answer between two rounds (2026-07-28 sessions).
    pub(crate) workflows: crate::support::waiting::Waiting<Box<dyn std::any::Any + Send>>,
    /// One permit per workflow running (`workflow.max_runs`), held for the run's whole life.
    pub(crate) workflow_runs: Arc<tokio::sync::Semaphore>,
    /// Questions put to the user on 2026-07-28, by handle: the digest of what each asks about.
    pub(crate) questions: crate::support::waiting::Waiting<String>,
    /// Cancelled when the profile's last use ends, which stops its background tasks (the
    /// child servers among them).
    pub background: CancellationToken,
    /// Set once the tool, prompt and resource folders are watched: one watcher per profile,
    /// whichever session (or, over HTTP, the tenant itself) starts it.
    folders_watched: AtomicBool,
    /// The roots the last client to answer `roots/list` gave: what the profile's child servers
    /// are told (they serve every session; each session's own file operations use its own).
    pub(crate) latest_client_roots: std::sync::RwLock<crate::policy::ClientRoots>,
}

/// One session: its own subscriptions, log level, client roots and browser, over the
/// profile's [`Shared`] part (reached through `Deref`).
pub struct Inner {
    pub shared: Arc<Shared>,
    /// The file watcher behind subscriptions to files and folders, made on first use.
    file_watch: Mutex<Option<crate::support::watch::PathWatch>>,
    /// What this session's client said its roots are (`roots/list`).
    client_roots: std::sync::RwLock<crate::policy::ClientRoots>,
    /// Set when the client's roots must be (re)fetched before the next file operation.
    roots_stale: AtomicBool,
    roots_fetch: tokio::sync::Mutex<()>,
    /// URI → its watch, shared by every subscription to it (see `subscriptions`). A std
    /// mutex: held only to look up, insert or remove.
    watches: Mutex<HashMap<String, subscriptions::Watch>>,
    /// The URIs an `initialize`-era client subscribed to with `resources/subscribe`.
    legacy_subscribed: Mutex<std::collections::HashSet<String>>,
    /// Set once [`Switchboard::start_session`] ran.
    session_started: AtomicBool,
    /// Cancelled when the session ends, which stops every background task of this server.
    pub shutdown: CancellationToken,
    /// The lowest level sent as `notifications/message` (`logging/setLevel`); warning until set.
    client_log_level: Mutex<LoggingLevel>,
    /// The session's browser (started by its first tool call) and the gate its local files
    /// pass, made on first use.
    browser: OnceLock<SessionBrowser>,
}

impl Deref for Inner {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.shared
    }
}

/// The session's browser and the roots its pages may read files from.
pub(crate) struct SessionBrowser {
    pub roots: Arc<crate::browser::gate::RootsGate>,
    pub session: crate::browser::session::BrowserSession,
}

impl Deref for Switchboard {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

pub(crate) use crate::support::LazyStore;

impl Switchboard {
    pub fn new(settings: Arc<Settings>) -> Self {
        crate::support::regex::set_limit(settings.limits.max_regex_bytes);
        let workflow_runs = Arc::new(tokio::sync::Semaphore::new(settings.workflow.max_runs));
        let created = std::time::SystemTime::now();
        let folders: Arc<Mutex<Option<Arc<Folders>>>> = Arc::default();
        let folders_loaded = Arc::new(tokio::sync::Notify::new());
        {
            // One helper thread builds the catalogue and loads the folders; the first
            // `tools/list` waits for both. Measured on two cores: a second helper (the folders
            // beside the catalogue) answered that list 0.5 ms sooner but `initialize` 0.9 ms
            // later, the three threads taking turns on two cores.
            let (folders, settings) = (folders.clone(), settings.clone());
            let loaded = folders_loaded.clone();
            let spawned = std::thread::Builder::new()
                .name("catalog".into())
                .spawn(move || {
                    let built = catalog_for(&settings);
                    {
                        let mut cell = crate::support::lock(&folders);
                        if cell.is_none() {
                            *cell = Some(Arc::new(Folders::load(
                                &settings,
                                None,
                                &crate::tools::is_built_in,
                            )));
                        }
                    }
                    loaded.notify_one();
                    // Serialise the list once, so a later first `tools/list` does not pay for
                    // faulting in that code on the protocol thread (after the notice: a list
                    // already waiting serialises it there anyway).
                    let _ = serde_json::to_writer(std::io::sink(), &built.tools);
                });
            if let Err(e) = spawned {
                tracing::debug!(error = %e, "no helper thread; the catalogue and folders are built on first use");
            }
        }
        let files = Policy::new(settings.files.clone());
        let exec = crate::policy::exec::ExecPolicy::new(
            Arc::new(settings.exec.clone()),
            files.files_shared(),
            std::env::vars_os(),
            settings.supervisor_exe.clone(),
            vec![
                crate::exec::interpreters::venv_dir(&settings.profile.data_dir),
                crate::exec::interpreters::npm_dir(&settings.profile.data_dir),
            ],
        );
        let pages = crate::support::cache::TtlCache::new(
            settings.web.fetch_cache_entries,
            settings.web.fetch_cache_bytes,
            settings.web.fetch_cache_ttl,
        );
        Self::session(Arc::new(Shared {
            policy: files,
            exec,
            processes: Default::default(),
            settings,
            folders,
            folders_loaded,
            catalog: OnceLock::new(),
            changes: Default::default(),
            created,
            stats: Default::default(),
            proxy: OnceLock::new(),
            net: OnceLock::new(),
            ai: OnceLock::new(),
            databases: OnceLock::new(),
            notes: OnceLock::new(),
            memory_events: OnceLock::new(),
            comms: Default::default(),
            pages,
            documents: crate::documents::TextCache::new(
                4,
                64 * 1024 * 1024,
                std::time::Duration::from_secs(600),
            ),
            search_index: Mutex::new(None),
            search_vectors: Default::default(),
            workflows: crate::support::waiting::Waiting::new(64),
            workflow_runs,
            questions: crate::support::waiting::Waiting::new(64),
            background: CancellationToken::new(),
            folders_watched: AtomicBool::new(false),
            latest_client_roots: Default::default(),
        }))
    }

    /// A new session over a profile's shared part (each `serve --http` session, and each
    /// 2026-07-28 request there). Cheap: nothing is loaded or started here.
    pub fn session(shared: Arc<Shared>) -> Self {
        let shutdown = shared.background.child_token();
        Self(Arc::new(Inner {
            shared,
            roots_stale: AtomicBool::new(true),
            client_roots: Default::default(),
            roots_fetch: tokio::sync::Mutex::new(()),
            watches: Mutex::new(HashMap::new()),
            legacy_subscribed: Mutex::default(),
            session_started: AtomicBool::new(false),
            file_watch: Mutex::new(None),
            shutdown,
            client_log_level: Mutex::new(LoggingLevel::Warning),
            browser: OnceLock::new(),
        }))
    }

    /// The profile's shared part, for more sessions over it.
    pub fn shared(&self) -> Arc<Shared> {
        self.0.shared.clone()
    }

    /// Starts the child servers of `servers_config.json` in the background (once; needs the
    /// runtime). `run` calls it, so serving never waits for a child.
    pub fn start_proxy(&self) -> Option<Arc<crate::proxy::Hub>> {
        self.proxy
            .get_or_init(|| {
                let weak = Arc::downgrade(&self.0.shared);
                let roots = Box::new(move || {
                    weak.upgrade()
                        .map(|shared| {
                            let latest = shared
                                .latest_client_roots
                                .read()
                                .unwrap_or_else(|e| e.into_inner())
                                .clone();
                            shared
                                .policy
                                .effective_roots(&latest)
                                .into_iter()
                                .map(|r| r.path)
                                .collect()
                        })
                        .unwrap_or_default()
                });
                crate::proxy::Hub::start(
                    self.settings.clone(),
                    roots,
                    self.changes.clone(),
                    self.background.clone(),
                )
            })
            .clone()
    }

    /// The web tools' guarded client (built once per process, on first use).
    pub fn net(&self) -> Result<Arc<crate::policy::net::NetGuard>, crate::error::ToolError> {
        self.net
            .get_or_init(|| {
                crate::policy::net::NetGuard::new(self.settings.web.net.clone())
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(crate::error::ToolError::Invalid)
    }

    /// The session's browser, made (not started) on first use.
    pub(crate) fn browser(&self) -> &SessionBrowser {
        self.browser.get_or_init(|| {
            let b = &self.settings.browser;
            let roots = Arc::new(crate::browser::gate::RootsGate::new(
                self.settings.files.max_media_bytes,
            ));
            let options = crate::browser::session::Options {
                executable: b.executable.clone(),
                // A host may start switchboard with no PATH at all: the usual places then.
                path: std::env::var_os("PATH")
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin:/snap/bin".into()),
                headless: b.headless,
                persistent: (b.profile == crate::config::browser::BrowserProfile::Persistent)
                    .then(|| b.persistent_dir.clone()),
                timeout: b.navigation_timeout,
                max_pages: b.max_pages,
                rules: Arc::new(self.settings.web.net.rules.clone()),
                files: roots.clone(),
                max_download_bytes: self.settings.web.max_download_bytes,
                supervisor: self.settings.supervisor_exe.clone(),
            };
            SessionBrowser {
                roots,
                session: crate::browser::session::BrowserSession::new(options),
            }
        })
    }

    /// Closes the session's browser, if one was started, and waits (briefly) for it to end.
    pub async fn close_browser(&self) {
        if let Some(b) = self.browser.get() {
            let _ =
                tokio::time::timeout(std::time::Duration::from_secs(5), b.session.close()).await;
        }
    }

    /// Runs `f` on a store of the profile's (a SQLite file: the notes, the outbox) on the
    /// blocking pool, so its work never holds up the protocol. The store is opened on first use
    /// and shared after; a failed open is kept, so every call reports the same reason.
    pub(crate) async fn with_store<S, T, F>(
        &self,
        cell: fn(&Inner) -> &LazyStore<S>,
        open: fn(&Settings) -> Result<S, String>,
        f: F,
    ) -> Result<T, crate::error::ToolError>
    where
        S: Send + 'static,
        F: FnOnce(&mut S) -> Result<T, crate::error::ToolError> + Send + 'static,
        T: Send + 'static,
    {
        let me = self.clone();
        crate::error::blocking(move || {
            let store = cell(&me)
                .get_or_init(|| open(&me.settings).map(|s| Arc::new(Mutex::new(s))))
                .clone()
                .map_err(crate::error::ToolError::Invalid)?;
            let mut s = crate::support::lock(&store);
            f(&mut s)
        })
        .await
    }

    /// Runs `f` on the profile's notes store (see [`Self::with_store`]).
    pub async fn with_notes<T, F>(&self, f: F) -> Result<T, crate::error::ToolError>
    where
        F: FnOnce(&mut dyn crate::memory::Memory) -> Result<T, crate::error::ToolError>
            + Send
            + 'static,
        T: Send + 'static,
    {
        self.with_store(
            |inner| &inner.notes,
            |s| crate::memory::open(&s.memory).map_err(|e| e.to_string()),
            move |m| f(m.as_mut()),
        )
        .await
    }

    /// The database connections (set up once per session, on first use).
    pub fn databases(&self) -> Arc<crate::db::Databases> {
        self.databases
            .get_or_init(|| {
                let mut settings = self.settings.database.clone();
                if self.settings.read_only {
                    // Read-only mode holds even for connections the config made writable.
                    settings
                        .connections
                        .iter_mut()
                        .for_each(|c| c.writable = false);
                }
                Arc::new(crate::db::Databases::new(settings))
            })
            .clone()
    }

    /// The inference backends (built once per session, on first use).
    pub fn ai(&self) -> Result<Arc<crate::ai::Ai>, crate::error::ToolError> {
        self.ai
            .get_or_init(|| {
                crate::ai::Ai::new(&self.settings.ai)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(crate::error::ToolError::Invalid)
    }

    /// The running proxy, if there is one.
    pub fn hub(&self) -> Option<&Arc<crate::proxy::Hub>> {
        self.proxy.get().and_then(Option::as_ref)
    }

    pub(crate) fn catalog(&self) -> &'static Catalog {
        self.catalog.get_or_init(|| catalog_for(&self.settings))
    }

    /// The folders' current snapshot (loaded now if the helper thread has not yet).
    pub fn folders(&self) -> Arc<Folders> {
        let mut cell = crate::support::lock(&self.folders);
        cell.get_or_insert_with(|| {
            Arc::new(Folders::load(
                &self.settings,
                None,
                &crate::tools::is_built_in,
            ))
        })
        .clone()
    }

    /// Resolves once the helper thread has read the folders (never, if it could not start:
    /// they are then read on first use).
    pub async fn folders_read(&self) {
        self.folders_loaded.notified().await;
    }

    fn instructions(&self) -> String {
        let roots = self.effective_roots();
        let roots_line = if roots.is_empty() {
            "No file roots are configured yet; if the client shares its roots they are used."
                .to_owned()
        } else {
            format!(
                "Allowed roots: {}.",
                roots
                    .iter()
                    .map(|r| r.path.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let discovery = if self.settings.tools.exposure == Exposure::Full {
            ""
        } else {
            " When tools/list shows search_tools and call_tool, more tools exist: find them with \
             search_tools (describe the task) and run them with call_tool."
        };
        format!(
            "switchboard: file tools confined to allowed roots (call list_roots first; relative paths start at the first root). \
             {roots_line} Client roots only narrow the configured ones. Reads page with offset/limit and say how to continue; \
             writes are atomic; delete_path moves to the trash unless permanent. Commands (run_command, run_shell, run_code) run \
             in a cwd inside the roots with a cleared environment, a timeout and output caps, sandboxed when bubblewrap works; \
             use process_start for servers and REPLs. http_request reaches public URLs (private and local addresses are \
             refused unless the config allows them). Prompts and resources: see prompts/list and \
             resources/list; any file in the roots is a resource at file:///{{path}}. For many calls (loops, conditions, \
             parallel calls, large intermediate results) write one run_workflow script: its tools.NAME() calls run here under \
             the same checks and only its return value comes back (search_tools with typescript: true gives the \
             declarations).{discovery}"
        )
    }
}

impl ServerHandler for Switchboard {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_logging()
            .enable_completions()
            .enable_prompts()
            .enable_prompts_list_changed()
            .enable_resources()
            .enable_resources_subscribe()
            .enable_resources_list_changed()
            .enable_tools()
            .enable_tool_list_changed()
            .build();
        let mut implementation = Implementation::new("switchboard", env!("CARGO_PKG_VERSION"));
        implementation.title = Some("switchboard".into());
        ServerConfig::new(capabilities)
            .with_server_info(implementation)
            .with_instructions(self.instructions())
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        no_cursor(&request)?;
        let offered = self.offered_tools(&ctx).await;
        if let Some(hub) = self.hub() {
            hub.served(0);
        }
        Ok(ListToolsResult::with_all_items(self.shown_tools(offered)))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.catalog()
            .router
            .get(name)
            .cloned()
            .or_else(|| {
                self.folders()
                    .visible_tools(&self.settings)
                    .find(|t| t.name == name)
                    .map(|t| t.tool.clone())
            })
            .or_else(|| {
                self.hub()?
                    .tool(name)
                    .filter(|_| self.settings.tools.toolsets.admits(name, Category::Proxy))
            })
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        self.dispatch_now(request, ctx, dispatch::Caller::Host)
            .await
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        no_cursor(&request)?;
        let mut prompts = Self::prompt_list(&self.folders());
        if let Some(hub) = self.start_proxy() {
            hub.set_host(&ctx.peer);
            hub.wait_startup().await;
            prompts.extend(hub.view().prompts.iter().cloned());
            hub.served(1);
        }
        Ok(ListPromptsResult::with_all_items(prompts))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        if let Some(hub) = self.hub()
            && let Some(result) = hub.get_prompt(request.clone(), &ctx).await
        {
            return result;
        }
        let args: BTreeMap<String, String> = request
            .arguments
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    v.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string()),
                )
            })
            .collect();
        let folders = self.folders();
        match folders.prompts.render(&request.name, &args) {
            Ok((def, rendered)) => {
                // Two built-in prompts do work before answering; a user's file of the same
                // name replaces them (its source is its path) and is plain text like any other.
                let first_text = || match rendered.first().map(|(_, p)| p.as_slice()) {
                    Some([Piece::Text(t), ..]) => t.clone(),
                    _ => String::new(),
                };
                let messages = match def.source.as_str() {
                    "built-in:fetch.md" => self.fetch_prompt(first_text(), &args).await,
                    "built-in:summarize_with_local_model.md" => {
                        self.summarize_prompt(first_text(), &args, &ctx).await
                    }
                    _ => self.prompt_messages(rendered, &ctx).await?,
                };
                let mut result = GetPromptResult::new(messages);
                if let Some(d) = &def.description {
                    result = result.with_description(d);
                }
                Ok(result.into())
            }
            Err(PromptError::Unknown(name)) => Err(McpError::invalid_params(
                format!("unknown prompt `{name}`; call prompts/list to see the prompts"),
                None,
            )),
            Err(e) => Err(McpError::invalid_params(e.to_string(), None)),
        }
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        no_cursor(&request)?;
        let mut list = self.resource_list(&self.folders());
        list.push(
            Resource::new(crate::memory::resources::GRAPH_URI, "memory-graph")
                .with_title("Knowledge graph")
                .with_description(
                    "The memory knowledge graph's size and first entities (read_graph pages through it)",
                )
                .with_mime_type("application/json"),
        );
        for c in &self.databases().settings.connections {
            list.push(
                Resource::new(
                    format!("{DB_SCHEMA_PREFIX}{}/schema", c.name),
                    format!("db-{}-schema", c.name),
                )
                .with_title(format!("Schema of the `{}` database", c.name))
                .with_description(format!(
                    "Tables, columns, keys and indexes of the {} connection `{}`, as JSON",
                    c.engine(),
                    c.name
                ))
                .with_mime_type("application/json"),
            );
        }
        if let Some(hub) = self.start_proxy() {
            hub.set_host(&ctx.peer);
            hub.wait_startup().await;
            list.extend(hub.view().resources.iter().cloned());
            hub.served(2);
        }
        Ok(ListResourcesResult::with_all_items(list))
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        no_cursor(&request)?;
        let template = ResourceTemplate::new(resources::FILE_TEMPLATE, "file")
            .with_title("Files inside the allowed roots")
            .with_description("Any file inside the allowed roots, by absolute path: file:///home/me/project/README.md");
        let note = ResourceTemplate::new(crate::memory::resources::NOTE_TEMPLATE, "memory-note")
            .with_title("A remembered note")
            .with_description(
                "One note of the memory by id (ids come from memory_search and memory_list)",
            )
            .with_mime_type("application/json");
        let mut templates = vec![template, note];
        if let Some(hub) = self.start_proxy() {
            hub.wait_startup().await;
            templates.extend(hub.view().templates.iter().cloned());
        }
        Ok(ListResourceTemplatesResult::with_all_items(templates))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        if request.uri.starts_with(crate::proxy::names::URI_PREFIX)
            && let Some(hub) = self.hub()
        {
            return match hub.read_resource(request.clone(), &ctx).await {
                Some(result) => result,
                None => Err(resource_error(ResourceError::NotFound(request.uri))),
            };
        }
        let uri = request.uri;
        let (mime, body) = self.read_own(&uri, &ctx).await?;
        Ok(ReadResourceResult::new(vec![to_contents(&uri, mime, body)]).into())
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.subscribe_legacy(request.uri, &ctx).await
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.unsubscribe_legacy(&request.uri);
        Ok(())
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        Some(self.grant(requested))
    }

    async fn listen(&self, subscription: SubscriptionContext) -> Result<(), McpError> {
        self.serve_listen(subscription).await
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        *self
            .client_log_level
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = request.level;
        if let Some(hub) = self.hub() {
            hub.set_level(request.level).await;
        }
        Ok(())
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        if let Some(hub) = self.hub()
            && let Some(result) = hub.complete(request.clone(), &ctx).await
        {
            return result;
        }
        let prefix = request.argument.value.clone();
        let wants_path = match &request.r#ref {
            Reference::Resource(r) => {
                r.uri == resources::FILE_TEMPLATE && request.argument.name == "path"
            }
            Reference::Prompt(p) => {
                let folders = self.folders();
                match folders
                    .prompts
                    .complete(&p.name, &request.argument.name, &prefix)
                {
                    Some(Suggest::Values(values)) => return completion(values),
                    Some(Suggest::Paths) => true,
                    None => false,
                }
            }
            _ => false,
        };
        let values = if wants_path {
            let scope = self.file_scope(&ctx).await;
            tokio::task::spawn_blocking(move || crate::resources::complete_path(&scope, &prefix))
                .await
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        completion(values)
    }

    async fn on_initialized(&self, ctx: NotificationContext<RoleServer>) {
        // `initialize` is answered: now the child servers may start.
        if let Some(hub) = self.start_proxy() {
            hub.set_host(&ctx.peer);
        }
        // Change delivery and the folder watch (`run` starts them for stdio; an HTTP session
        // starts them here).
        self.start_session(ctx.peer.clone());
        // The roots can be asked for now that the client has initialized.
        let me = self.clone();
        tokio::spawn(async move { me.refresh_client_roots(&ctx.peer).await });
    }

    async fn on_roots_list_changed(&self, ctx: NotificationContext<RoleServer>) {
        self.roots_stale.store(true, Ordering::Release);
        let me = self.clone();
        tokio::spawn(async move { me.refresh_client_roots(&ctx.peer).await });
    }
}

/// A completion answer: at most the protocol's 100 values, saying how many there were.
fn completion(values: Vec<String>) -> Result<CompleteResult, McpError> {
    let total = values.len();
    let mut values = values;
    values.truncate(CompletionInfo::MAX_VALUES);
    let info = CompletionInfo::with_pagination(
        values,
        Some(total as u32),
        total > CompletionInfo::MAX_VALUES,
    )
    .map_err(|e| McpError::internal_error(e, None))?;
    Ok(CompleteResult::new(info))
}

/// How long after a session's first message its folder watcher starts.
const SESSION_SETTLE: std::time::Duration = std::time::Duration::from_millis(50);

impl Switchboard {
    /// Starts what every session has from its first message on, whatever its protocol
    /// generation: the folders watched and reloaded, the change bus delivered to an
    /// `initialize`-era client, and load problems reported. (An `initialize`-era client's
    /// roots are fetched once it has initialized.)
    pub fn start_session(&self, peer: Peer<RoleServer>) {
        if self.session_started.swap(true, Ordering::AcqRel) {
            return;
        }
        tokio::spawn(self.clone().forward_changes(peer.clone()));
        self.watch_profile_folders(Some(peer));
    }

    /// Watches the profile's tool, prompt and resource folders, once per profile: the first
    /// session to start does it (its client hears of files that fail to load), or the
    /// `serve --http` tenant at start-up (`None`: the log alone), so hot reload reaches every
    /// session of the profile in both generations. Runs until the profile's background ends.
    pub fn watch_profile_folders(&self, peer: Option<Peer<RoleServer>>) {
        if self.folders_watched.swap(true, Ordering::AcqRel) {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            // The folder watcher starts a thread of its own: a moment later, so it does not
            // compete with the answer to the first request and the client's first list.
            tokio::time::sleep(SESSION_SETTLE).await;
            for p in me.folders().problems() {
                me.tell(
                    peer.as_ref(),
                    LoggingLevel::Warning,
                    format!("skipped: {p}"),
                )
                .await;
            }
            me.watch_folders(peer).await;
        });
    }
}
