//! The one MCP `ServerHandler`: capabilities, the tool catalogue (built once, off the start-up
//! path), prompts and resources, client roots, resource subscriptions and log messages to the
//! client. Tool logic lives in `tools/`; this file only routes and keeps per-session state.
// Roots, logging and resources/subscribe are deprecated by the 2026-07-28 revision, but every
// initialize-era host (most of them today) uses them, so this module supports them on purpose.
#![allow(deprecated)]

use std::collections::{BTreeMap, HashMap};
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult, CompletionInfo,
    GetPromptRequestParams, GetPromptResponse, GetPromptResult, Implementation, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, LoggingLevel,
    LoggingMessageNotificationParam, PaginatedRequestParams, Prompt, PromptArgument, PromptMessage,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Reference, Resource,
    ResourceContents, ResourceTemplate, ResourceUpdatedNotificationParam, Role, ServerCapabilities,
    ServerConfig, SetLevelRequestParams, SubscribeRequestParams, Tool, UnsubscribeRequestParams,
};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::{ErrorData as McpError, Peer, RoleServer, ServerHandler};
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::folders::Folders;
use crate::policy::tools::{Category, DISCOVERY, Exposure, Toolsets};
use crate::policy::{FileScope, Policy};
use crate::prompts::{Piece, PromptError, Speaker, Suggest};
use crate::resources::{self, Body, ResourceError};
use crate::tools::Shape;

/// How often a subscribed resource that is not a file (the memory, a note) is checked.
const SUBSCRIPTION_POLL: Duration = Duration::from_millis(500);
/// A burst of folder changes ends after this long without another.
const RELOAD_QUIET: Duration = Duration::from_millis(150);
/// How long a tool call waits for the client's `roots/list` answer before going on without it.
const ROOTS_TIMEOUT: Duration = Duration::from_secs(5);

/// Cheap to clone: every clone shares one [`Inner`].
#[derive(Clone)]
pub struct Switchboard(Arc<Inner>);

pub struct Inner {
    pub settings: Arc<Settings>,
    pub policy: Policy,
    /// How commands run (`policy::exec`), and the background processes started so far.
    pub exec: crate::policy::exec::ExecPolicy,
    pub processes: crate::tools::exec::Processes,
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
    /// The file watcher behind subscriptions to files and folders, made on first use.
    file_watch: Mutex<Option<crate::support::watch::PathWatch>>,
    /// Set when the client's roots must be (re)fetched before the next file operation.
    roots_stale: AtomicBool,
    roots_fetch: tokio::sync::Mutex<()>,
    /// URI → the token that stops its watcher. A std mutex: held only to insert or remove.
    subscriptions: Mutex<HashMap<String, CancellationToken>>,
    /// Cancelled when the session ends, which stops every background task of this server.
    pub shutdown: CancellationToken,
    /// The child servers, once [`Switchboard::start_proxy`] ran (`None` inside: no servers file).
    proxy: OnceLock<Option<Arc<crate::proxy::Hub>>>,
    /// The guarded HTTP client of the web tools, built on first use (TLS set-up stays off the
    /// start-up path) and shared by every call after.
    net: OnceLock<Result<Arc<crate::policy::net::NetGuard>, String>>,
    /// The profile's notes store, opened on first use.
    notes: LazyStore<crate::memory::notes::Notes>,
    /// The database connections (`database`), set up on first use.
    databases: OnceLock<Arc<crate::db::Databases>>,
    /// The outbox and the confirmations awaiting the user's answer.
    pub(crate) comms: crate::tools::comms::CommsState,
    /// The inference backends (`ai`), built on first use like the web client.
    ai: OnceLock<Result<Arc<crate::ai::Ai>, String>>,
    /// Pages `fetch_url` converted, kept briefly so paging does not fetch again.
    pub pages: crate::tools::web::fetch_url::PageCache,
    /// The lowest level sent as `notifications/message` (`logging/setLevel`); warning until set.
    client_log_level: Mutex<LoggingLevel>,
    /// `search_tools`' index, with the folders' snapshot and the children's view it was built
    /// from: rebuilt only when either is replaced.
    search_index: Mutex<Option<SearchIndex>>,
    /// Tool vectors for search by meaning, by text, kept across catalogues.
    pub(crate) search_vectors: crate::discovery::meaning::VectorCache,
}

/// An index of the offered tools and what it was built from.
struct SearchIndex {
    folders: Arc<Folders>,
    view: Option<Arc<crate::proxy::View>>,
    searchable: Arc<crate::tools::discovery::search_tools::Searchable>,
}

impl Deref for Switchboard {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// A store opened on first use and shared after, or why it could not be opened.
pub(crate) type LazyStore<S> = OnceLock<Result<Arc<Mutex<S>>, String>>;

/// The tool router and the built-in tools a full `tools/list` shows (sorted by name; the
/// discovery tools are left out).
struct Catalog {
    router: ToolRouter<Switchboard>,
    tools: Vec<Tool>,
}

impl Catalog {
    fn build(shape: Shape, toolsets: &Toolsets) -> Self {
        let router = crate::tools::router(shape, toolsets);
        let mut tools = router.list_all();
        tools.retain(|t| !DISCOVERY.contains(&t.name.as_ref()));
        Self { router, tools }
    }
}

/// One catalogue per process and configuration ([`Shape`] and toolsets), so every session in
/// the process shares it. Generating the schemas is most of the cost of a first `tools/list`.
static CATALOGS: Mutex<Vec<(usize, Toolsets, &'static Catalog)>> = Mutex::new(Vec::new());

fn catalog_for(settings: &Settings) -> &'static Catalog {
    let shape = Shape::of(settings);
    let toolsets = &settings.tools.toolsets;
    let mut all = crate::support::lock(&CATALOGS);
    if let Some((_, _, c)) = all
        .iter()
        .find(|(i, t, _)| *i == shape.index() && t == toolsets)
    {
        return c;
    }
    // Leaked on purpose: a process has one configuration (a test process a few), and every
    // session of it keeps using the catalogue until exit.
    let built: &'static Catalog = Box::leak(Box::new(Catalog::build(shape, toolsets)));
    all.push((shape.index(), toolsets.clone(), built));
    built
}

impl Switchboard {
    pub fn new(settings: Arc<Settings>) -> Self {
        let folders: Arc<Mutex<Option<Arc<Folders>>>> = Arc::default();
        let folders_loaded = Arc::new(tokio::sync::Notify::new());
        {
            // One helper thread, so start-up has one more thread faulting in pages, not two
            // (measured: a second helper slowed `initialize` by about 1 ms on two cores).
            let (folders, settings) = (folders.clone(), settings.clone());
            let loaded = folders_loaded.clone();
            let spawned = std::thread::Builder::new()
                .name("catalog".into())
                .spawn(move || {
                    let built = catalog_for(&settings);
                    // Serialise the list once here, so the first `tools/list` does not pay for
                    // faulting in that code on the protocol thread.
                    let _ = serde_json::to_writer(std::io::sink(), &built.tools);
                    {
                        let mut cell = crate::support::lock(&folders);
                        if cell.is_none() {
                            *cell = Some(Arc::new(Folders::load(&settings, None)));
                        }
                    }
                    loaded.notify_one();
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
                crate::tools::exec::run_code::venv_dir(&settings.profile.data_dir),
                crate::tools::exec::run_code::npm_dir(&settings.profile.data_dir),
            ],
        );
        let pages = crate::support::cache::TtlCache::new(
            settings.web.fetch_cache_entries,
            settings.web.fetch_cache_bytes,
            settings.web.fetch_cache_ttl,
        );
        Self(Arc::new(Inner {
            policy: files,
            exec,
            processes: Default::default(),
            settings,
            folders,
            folders_loaded,
            catalog: OnceLock::new(),
            roots_stale: AtomicBool::new(true),
            roots_fetch: tokio::sync::Mutex::new(()),
            subscriptions: Mutex::new(HashMap::new()),
            stats: Default::default(),
            file_watch: Mutex::new(None),
            shutdown: CancellationToken::new(),
            proxy: OnceLock::new(),
            net: OnceLock::new(),
            ai: OnceLock::new(),
            databases: OnceLock::new(),
            notes: OnceLock::new(),
            comms: Default::default(),
            pages,
            client_log_level: Mutex::new(LoggingLevel::Warning),
            search_index: Mutex::new(None),
            search_vectors: Default::default(),
        }))
    }

    /// Starts the child servers of `servers_config.json` in the background (once; needs the
    /// runtime). `run` calls it, so serving never waits for a child.
    pub fn start_proxy(&self) -> Option<Arc<crate::proxy::Hub>> {
        self.proxy
            .get_or_init(|| {
                let weak = Arc::downgrade(&self.0);
                let roots = Box::new(move || {
                    weak.upgrade()
                        .map(|inner| {
                            inner
                                .policy
                                .effective_roots()
                                .into_iter()
                                .map(|r| r.path)
                                .collect()
                        })
                        .unwrap_or_default()
                });
                crate::proxy::Hub::start(self.settings.clone(), roots, self.shutdown.clone())
            })
            .clone()
    }

    /// The web tools' guarded client (built once per process, on first use).
    pub fn net(&self) -> Result<Arc<crate::policy::net::NetGuard>, crate::tools::ToolError> {
        self.net
            .get_or_init(|| {
                crate::policy::net::NetGuard::new(self.settings.web.net.clone())
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(crate::tools::ToolError::Invalid)
    }

    /// Runs `f` on a store of the profile's (a SQLite file: the notes, the outbox) on the
    /// blocking pool, so its work never holds up the protocol. The store is opened on first use
    /// and shared after; a failed open is kept, so every call reports the same reason.
    pub(crate) async fn with_store<S, T, F>(
        &self,
        cell: fn(&Inner) -> &LazyStore<S>,
        open: fn(&Settings) -> Result<S, String>,
        f: F,
    ) -> Result<T, crate::tools::ToolError>
    where
        S: Send + 'static,
        F: FnOnce(&mut S) -> Result<T, crate::tools::ToolError> + Send + 'static,
        T: Send + 'static,
    {
        let me = self.clone();
        crate::tools::blocking(move || {
            let store = cell(&me)
                .get_or_init(|| open(&me.settings).map(|s| Arc::new(Mutex::new(s))))
                .clone()
                .map_err(crate::tools::ToolError::Invalid)?;
            let mut s = crate::support::lock(&store);
            f(&mut s)
        })
        .await
    }

    /// Runs `f` on the profile's notes store (see [`Self::with_store`]).
    pub async fn with_notes<T, F>(&self, f: F) -> Result<T, crate::tools::ToolError>
    where
        F: FnOnce(&mut crate::memory::notes::Notes) -> Result<T, crate::tools::ToolError>
            + Send
            + 'static,
        T: Send + 'static,
    {
        self.with_store(
            |inner| &inner.notes,
            |s| crate::memory::notes::Notes::open(&s.memory.db).map_err(|e| e.to_string()),
            f,
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
    pub fn ai(&self) -> Result<Arc<crate::ai::Ai>, crate::tools::ToolError> {
        self.ai
            .get_or_init(|| {
                crate::ai::Ai::new(&self.settings.ai)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(crate::tools::ToolError::Invalid)
    }

    /// The built-in `fetch` prompt's messages: the prompt's text, then the page (or why it
    /// could not be fetched). The user asked for it, so robots.txt is not consulted.
    async fn fetch_prompt(
        &self,
        intro: String,
        args: &BTreeMap<String, String>,
    ) -> Vec<PromptMessage> {
        use crate::tools::web::fetch_url;
        let url = args.get("url").map(|u| u.trim()).unwrap_or_default();
        let web = &self.settings.web;
        let max = args
            .get("max_length")
            .and_then(|m| m.trim().parse::<usize>().ok())
            .unwrap_or(web.fetch_max_length)
            .max(1);
        let options = fetch_url::FetchOptions {
            robots: false,
            max_image_bytes: web.fetch_max_image_bytes,
        };
        let fetched = async {
            let net = self.net()?;
            let (page, _) = fetch_url::fetch_page(&net, &self.pages, url, false, options).await?;
            fetch_url::render(&page, url, 0, max)
        }
        .await;
        let mut messages = vec![PromptMessage::new_text(Role::User, intro)];
        match fetched {
            Ok(blocks) => messages.extend(
                blocks
                    .into_iter()
                    .map(|b| PromptMessage::new(Role::User, b)),
            ),
            Err(e) => messages.push(PromptMessage::new_text(
                Role::User,
                format!("Fetching {url} failed: {e}"),
            )),
        }
        messages
    }

    /// Calls one of switchboard's own tools, built-in or declarative, the way `tools/call` does
    /// (same router, same policy, same request log): how `ai_agent` runs the calls its model
    /// asks for. Child servers' tools are left out: their annotations are the child's word, and
    /// the agent's read-only default rests on them.
    pub async fn call_own_tool(
        &self,
        name: &str,
        arguments: rmcp::model::JsonObject,
        ctx: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::CallToolResult, McpError> {
        let router = &self.catalog().router;
        if !router.has_route(name) {
            if self.settings.logging.requests {
                tracing::info!(tool = %name, arguments = ?arguments, "tool call (by ai_agent)");
            }
            return self
                .call_declared(name, Some(arguments), &ctx)
                .await
                .ok_or_else(|| McpError::invalid_params(format!("unknown tool `{name}`"), None));
        }
        let request = CallToolRequestParams::new(name.to_owned()).with_arguments(arguments);
        if self.settings.logging.requests {
            tracing::info!(tool = %name, arguments = ?request.arguments, "tool call (by ai_agent)");
        }
        match router
            .call(ToolCallContext::new(self, request, ctx))
            .await?
        {
            CallToolResponse::Complete(r) => Ok(r),
            _ => Err(McpError::internal_error(
                format!("`{name}` did not return a plain result"),
                None,
            )),
        }
    }

    /// Runs the declarative tool `name` when this configuration offers it, recording its
    /// statistics; `None` when it offers no such tool.
    async fn call_declared(
        &self,
        name: &str,
        arguments: Option<rmcp::model::JsonObject>,
        ctx: &RequestContext<RoleServer>,
    ) -> Option<rmcp::model::CallToolResult> {
        let tool = self
            .folders()
            .visible_tools(&self.settings)
            .find(|t| t.name == name)
            .cloned()?;
        let started = Instant::now();
        let result = crate::declared::run::call(self, &tool, arguments, ctx).await;
        self.stats
            .record(&tool.name, started.elapsed(), result.is_error == Some(true));
        Some(result)
    }

    /// The built-in `summarize_with_local_model` prompt's messages: the prompt's text, then the
    /// local model's summary of the file (or why there is none).
    async fn summarize_prompt(
        &self,
        intro: String,
        args: &BTreeMap<String, String>,
        ctx: &RequestContext<RoleServer>,
    ) -> Vec<PromptMessage> {
        let path = args
            .get("path")
            .map(|p| p.trim().to_owned())
            .unwrap_or_default();
        let arg = |k: &str| args.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let summary = async {
            let ai = self.ai().map_err(|e| e.to_string())?;
            let scope = self.file_scope(ctx).await;
            let max = ai.settings.summary_max_input_chars;
            let p = path.clone();
            let (content, cut) = tokio::task::spawn_blocking(move || {
                crate::ai::summarize::read_text(&scope, &p, max)
            })
            .await
            .map_err(|e| e.to_string())??;
            crate::ai::summarize::summarize(&ai, &path, &content, cut, arg("model"), arg("focus"))
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        vec![
            PromptMessage::new_text(Role::User, intro),
            PromptMessage::new_text(
                Role::User,
                match summary {
                    Ok(s) => s,
                    Err(e) => format!("The local model could not summarize {path}: {e}"),
                },
            ),
        ]
    }

    /// The running proxy, if there is one.
    pub fn hub(&self) -> Option<&Arc<crate::proxy::Hub>> {
        self.proxy.get().and_then(Option::as_ref)
    }

    fn catalog(&self) -> &'static Catalog {
        self.catalog.get_or_init(|| catalog_for(&self.settings))
    }

    /// The folders' current snapshot (loaded now if the helper thread has not yet).
    pub fn folders(&self) -> Arc<Folders> {
        let mut cell = crate::support::lock(&self.folders);
        cell.get_or_insert_with(|| Arc::new(Folders::load(&self.settings, None)))
            .clone()
    }

    /// Resolves once the helper thread has read the folders (never, if it could not start:
    /// they are then read on first use).
    pub async fn folders_read(&self) {
        self.folders_loaded.notified().await;
    }

    /// The built-in tools' definitions, without the discovery tools (the declarative ones come
    /// from [`Self::folders`]).
    pub fn tools(&self) -> &[Tool] {
        &self.catalog().tools
    }

    /// `search_tools` and `call_tool`, as compact mode lists them.
    pub fn discovery_tools(&self) -> Vec<Tool> {
        DISCOVERY
            .iter()
            .filter_map(|n| self.catalog().router.get(n).cloned())
            .collect()
    }

    /// Every tool of switchboard's own this configuration offers: built-in and declarative,
    /// sorted by name (the discovery tools are not among them).
    pub fn all_tools(&self) -> Vec<Tool> {
        self.offered(&self.folders(), None)
    }

    /// Every tool this configuration offers, the child servers' included (waiting, on first
    /// use, for the children's start-up like `tools/list`): what a full list shows and what the
    /// discovery tools search and call.
    pub async fn offered_tools(&self, ctx: &RequestContext<RoleServer>) -> Vec<Tool> {
        let view = self.children_view(ctx).await;
        self.offered(&self.folders(), view.as_deref())
    }

    /// The children's current view, once their start-up is over (`None`: no servers file).
    async fn children_view(
        &self,
        ctx: &RequestContext<RoleServer>,
    ) -> Option<Arc<crate::proxy::View>> {
        let hub = self.start_proxy()?;
        hub.set_host(&ctx.peer);
        hub.wait_startup().await;
        Some(hub.view())
    }

    /// The offered tools of a folders' snapshot and a children's view.
    fn offered(&self, folders: &Folders, view: Option<&crate::proxy::View>) -> Vec<Tool> {
        let mut tools = self.tools().to_vec();
        tools.extend(
            folders
                .visible_tools(&self.settings)
                .map(|t| t.tool.clone()),
        );
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        if let Some(view) = view {
            let toolsets = &self.settings.tools.toolsets;
            tools.extend(
                view.tools
                    .iter()
                    .filter(|t| toolsets.admits(&t.name, Category::Proxy))
                    .cloned(),
            );
        }
        tools
    }

    /// The offered tools with their search index, built once per folders' snapshot and
    /// children's view.
    pub async fn searchable_tools(
        &self,
        ctx: &RequestContext<RoleServer>,
    ) -> Arc<crate::tools::discovery::search_tools::Searchable> {
        let view = self.children_view(ctx).await;
        let folders = self.folders();
        let same_view = |cached: &Option<Arc<crate::proxy::View>>| match (cached, &view) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if let Some(c) = crate::support::lock(&self.search_index).as_ref()
            && Arc::ptr_eq(&c.folders, &folders)
            && same_view(&c.view)
        {
            return c.searchable.clone();
        }
        let tools = self.offered(&folders, view.as_deref());
        let searchable = Arc::new(crate::tools::discovery::search_tools::Searchable::new(
            tools,
            Some(&folders),
            view.as_deref(),
        ));
        *crate::support::lock(&self.search_index) = Some(SearchIndex {
            folders,
            view,
            searchable: searchable.clone(),
        });
        searchable
    }

    /// What `tools/list` shows: every offered tool, or the compact core.
    fn shown_tools(&self, offered: Vec<Tool>) -> Vec<Tool> {
        if !self.is_compact(&offered) {
            return offered;
        }
        let mut core = self.discovery_tools();
        for name in &self.settings.tools.always {
            if let Some(t) = offered.iter().find(|t| t.name == name.as_str()) {
                core.push(t.clone());
            }
        }
        core
    }

    /// Whether `tools/list` shows the compact core instead of `offered`.
    pub fn is_compact(&self, offered: &[Tool]) -> bool {
        let t = &self.settings.tools;
        match t.exposure {
            Exposure::Full => false,
            Exposure::Compact => true,
            Exposure::Auto if offered.len() > t.auto_max_tools => true,
            Exposure::Auto => {
                let tokens = crate::tools::discovery::list_tokens_estimate(offered);
                tokens > t.auto_budget_tokens
            }
        }
    }

    /// Why `name` cannot be called, worded for the model: turned off by the configuration, or
    /// no such tool (with the closest offered names).
    pub fn not_offered(&self, name: &str, offered: &[Tool]) -> String {
        let toolsets = &self.settings.tools.toolsets;
        let folders = self.folders();
        let declared = folders.tools.get(name);
        let category = crate::tools::category_of(name)
            .or_else(|| declared.map(|_| Category::Declarative))
            .or_else(|| {
                self.hub()
                    .filter(|h| h.has_tool(name))
                    .map(|_| Category::Proxy)
            });
        match category {
            Some(c) if !toolsets.admits(name, c) => toolsets.why_not(name, c),
            Some(_) if declared.is_some_and(|d| !d.enabled) => format!(
                "the tool `{name}` is turned off in its file ({}: enabled: false)",
                declared.map_or("", |d| d.source.as_str())
            ),
            Some(_) if self.settings.read_only => format!(
                "the tool `{name}` is not available: switchboard runs in read-only mode, which offers only tools that never change anything"
            ),
            Some(_) => format!(
                "the tool `{name}` is not available until it is configured (exec.shell for run_shell, exec.packages for install_package, comms for the sending tools, a servers file for proxy_*)"
            ),
            // No tool name is longer (SEP-986): nothing is close, and a huge name is not worth
            // comparing.
            None if name.len() > 128 => format!(
                "there is no tool named `{}…` (tool names have at most 128 characters); search_tools finds tools by what they do",
                name.chars().take(60).collect::<String>()
            ),
            None => {
                // Names a letter or two away first (a typo), then tools that do what the
                // name says.
                let names: Vec<&str> = offered.iter().map(|t| t.name.as_ref()).collect();
                let mut close: Vec<String> = crate::discovery::spelling::close_names(&names, name)
                    .into_iter()
                    .map(|i| names[i].to_owned())
                    .collect();
                let searchable = crate::tools::discovery::search_tools::Searchable::new(
                    offered.to_vec(),
                    Some(&folders),
                    self.hub().map(|h| h.view()).as_deref(),
                );
                if let Ok(found) =
                    crate::tools::discovery::search_tools::search(&searchable, name, 3, 0)
                {
                    close.extend(found.tools.into_iter().map(|t| t.name));
                }
                let mut seen = std::collections::HashSet::new();
                close.retain(|n| seen.insert(n.clone()));
                let close: Vec<String> = close
                    .into_iter()
                    .take(3)
                    .map(|n| format!("`{n}`"))
                    .collect();
                if close.is_empty() {
                    format!(
                        "there is no tool named `{name}`; search_tools finds tools by what they do"
                    )
                } else {
                    format!(
                        "there is no tool named `{name}`; similar: {}. search_tools finds tools by what they do",
                        close.join(", ")
                    )
                }
            }
        }
    }

    /// The prompts as `prompts/list` shows them (without the child servers').
    fn prompt_list(folders: &Folders) -> Vec<Prompt> {
        folders
            .prompts
            .list()
            .map(|p| {
                let args = p
                    .arguments
                    .iter()
                    .map(|a| {
                        let mut arg = PromptArgument::new(&a.name).with_required(a.required);
                        let mut d = a.description.clone().unwrap_or_default();
                        if !a.choices.is_empty() {
                            if !d.is_empty() {
                                d.push(' ');
                            }
                            d.push_str(&format!("(one of: {})", a.choices.join(", ")));
                        }
                        if !d.is_empty() {
                            arg = arg.with_description(d);
                        }
                        arg
                    })
                    .collect::<Vec<_>>();
                let mut prompt = Prompt::new(&p.name, p.description.clone(), Some(args));
                if let Some(t) = &p.title {
                    prompt = prompt.with_title(t);
                }
                prompt
            })
            .collect()
    }

    /// The resources as `resources/list` shows them (without the child servers').
    fn resource_list(&self, folders: &Folders) -> Vec<Resource> {
        let mut list: Vec<Resource> = folders
            .resources
            .list()
            .map(|r| {
                let mut res = Resource::new(&r.uri, &r.name).with_mime_type(&r.mime);
                if let Some(t) = &r.title {
                    res = res.with_title(t);
                }
                if let Some(d) = &r.description {
                    res = res.with_description(d);
                }
                if let Some(s) = r.size {
                    res = res.with_size(s);
                }
                res
            })
            .collect();
        for d in crate::resources::DYNAMIC {
            list.push(
                Resource::new(d.uri, d.name)
                    .with_title(d.title)
                    .with_description(d.description)
                    .with_mime_type(d.mime),
            );
        }
        list
    }

    /// The policy snapshot for one file operation, after refreshing the client's roots when the
    /// client announced a change (or has not been asked yet).
    pub async fn file_scope(&self, ctx: &RequestContext<RoleServer>) -> FileScope {
        self.refresh_client_roots(&ctx.peer).await;
        self.policy.scope()
    }

    async fn refresh_client_roots(&self, peer: &Peer<RoleServer>) {
        if !self.roots_stale.load(Ordering::Acquire) {
            return;
        }
        let supports_roots = peer
            .peer_info()
            .is_some_and(|info| info.capabilities.roots.is_some());
        if !supports_roots {
            // Nothing to fetch, now or later (a roots change notification sets this again).
            self.roots_stale.store(false, Ordering::Release);
            return;
        }
        let _one_at_a_time = self.roots_fetch.lock().await;
        if !self.roots_stale.load(Ordering::Acquire) {
            return;
        }
        match tokio::time::timeout(ROOTS_TIMEOUT, peer.list_roots()).await {
            Ok(Ok(result)) => {
                let paths: Vec<PathBuf> = result
                    .roots
                    .iter()
                    .filter_map(|r| crate::support::uri::file_uri_to_path(&r.uri))
                    .map(PathBuf::from)
                    .collect();
                tracing::info!(count = paths.len(), "client roots received");
                self.policy.set_client_roots(paths);
            }
            Ok(Err(e)) => {
                let msg = format!(
                    "the client did not answer roots/list ({e}); the configured roots apply"
                );
                self.tell_client(peer, LoggingLevel::Warning, msg).await;
            }
            Err(_) => {
                let msg = format!(
                    "roots/list got no answer within {ROOTS_TIMEOUT:?}; the configured roots apply"
                );
                self.tell_client(peer, LoggingLevel::Warning, msg).await;
            }
        }
        self.roots_stale.store(false, Ordering::Release);
    }

    /// Tells the client's user about something worth seeing in the host's log, when the client
    /// asked for that level. Also logged locally.
    async fn tell_client(&self, peer: &Peer<RoleServer>, level: LoggingLevel, message: String) {
        tracing::warn!("{message}");
        let wanted = *self
            .client_log_level
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if rank(level) < rank(wanted) || peer.peer_info().is_none() {
            return;
        }
        let mut param =
            LoggingMessageNotificationParam::new(level, serde_json::Value::String(message));
        param.logger = Some("switchboard".into());
        let _ = peer.notify_logging_message(param).await;
    }

    fn instructions(&self) -> String {
        let roots = self.policy.effective_roots();
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
             resources/list; any file in the roots is a resource at file:///{{path}}.{discovery}"
        )
    }

    /// The resources that are data of switchboard's own, as JSON: the memory graph, a note,
    /// a database's schema. `None` when `uri` is none of them.
    async fn data_resource(&self, uri: &str) -> Option<Result<serde_json::Value, McpError>> {
        use crate::memory::resources as mem;
        let not_found = || resource_error(ResourceError::NotFound(uri.to_owned()));
        let failed = |e: crate::tools::ToolError| McpError::internal_error(e.to_string(), None);
        if uri == mem::GRAPH_URI {
            return Some(
                self.with_notes(|m| Ok(mem::graph_summary(m)?))
                    .await
                    .map_err(failed),
            );
        }
        if let Some(id) = mem::note_id(uri) {
            let found = self
                .with_notes(move |m| match mem::note(m, id) {
                    Err(crate::memory::notes::NotesError::NotFound(_)) => Ok(None),
                    other => Ok(Some(other?)),
                })
                .await;
            return Some(found.map_err(failed).and_then(|v| v.ok_or_else(not_found)));
        }
        let name = schema_connection(uri)?;
        let dbs = self.databases();
        let Some(conn) = dbs.settings.get(name) else {
            return Some(Err(not_found()));
        };
        let source = crate::db::Source::Connection(conn.clone());
        Some(
            dbs.schema(&source)
                .await
                .map_err(|e| McpError::invalid_params(format!("`{uri}`: {e}"), None)),
        )
    }

    /// Reads one of switchboard's own resources (not a child server's).
    async fn read_own(
        &self,
        uri: &str,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<(String, Body), McpError> {
        if let Some(d) = resources::DYNAMIC.iter().find(|d| d.uri == uri) {
            return self.dynamic_resource(d).await;
        }
        if let Some(data) = self.data_resource(uri).await {
            let text = serde_json::to_string_pretty(&data?).unwrap_or_default();
            return Ok(("application/json".to_owned(), Body::Text(text)));
        }
        if uri.starts_with(resources::STATIC_PREFIX) {
            return self.folders().resources.read(uri).map_err(resource_error);
        }
        if uri.starts_with("file://") {
            let scope = self.file_scope(ctx).await;
            let u = uri.to_owned();
            return tokio::task::spawn_blocking(move || resources::read_file_uri(&scope, &u))
                .await
                .map_err(|e| McpError::internal_error(e.to_string(), None))?
                .map_err(resource_error);
        }
        Err(resource_error(ResourceError::NotFound(uri.to_owned())))
    }

    async fn dynamic_resource(&self, d: &resources::Dynamic) -> Result<(String, Body), McpError> {
        let failed = |e: String| McpError::internal_error(e, None);
        let text = match d.uri {
            resources::SYSTEM_URI => {
                let profile = self.settings.profile.clone();
                let info = crate::tools::blocking(move || {
                    crate::tools::system::system_info::system_info(&profile.name, &profile.data_dir)
                })
                .await
                .map_err(|e| failed(e.to_string()))?;
                serde_json::to_string_pretty(&info).map_err(|e| failed(e.to_string()))?
            }
            resources::CONFIG_URI => serde_norway::to_string(&self.settings.effective)
                .map_err(|e| failed(e.to_string()))?,
            _ => serde_json::to_string_pretty(&self.stats.snapshot())
                .map_err(|e| failed(e.to_string()))?,
        };
        Ok((d.mime.to_owned(), Body::Text(text)))
    }

    /// A rendered prompt as messages: each piece of text one message, each
    /// `{{resource:URI}}` one embedded resource (a URI without a scheme is a path in the roots).
    async fn prompt_messages(
        &self,
        rendered: Vec<crate::prompts::Message>,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<Vec<PromptMessage>, McpError> {
        let mut out = Vec::new();
        for (who, pieces) in rendered {
            let role = match who {
                Speaker::User => Role::User,
                Speaker::Assistant => Role::Assistant,
            };
            for piece in pieces {
                match piece {
                    Piece::Text(t) => out.push(PromptMessage::new_text(role.clone(), t)),
                    Piece::Resource(uri) => {
                        let uri = if uri.contains("://") {
                            uri
                        } else {
                            let scope = self.file_scope(ctx).await;
                            let path = uri.clone();
                            let (resolved, size) = tokio::task::spawn_blocking(move || {
                                let r = scope.existing(&path)?;
                                let size = std::fs::metadata(&r.path).map(|m| m.len()).unwrap_or(0);
                                Ok::<_, crate::policy::PolicyError>((r, size))
                            })
                            .await
                            .map_err(|e| McpError::internal_error(e.to_string(), None))?
                            .map_err(|e| McpError::invalid_params(e.to_string(), None))?;
                            let limit = self.settings.files.max_media_bytes;
                            if size > limit {
                                out.push(PromptMessage::new_text(
                                    role.clone(),
                                    format!(
                                        "(`{uri}` is {size} bytes, too large to attach (files.max_media_bytes is {limit}); read it in parts with read_file)"
                                    ),
                                ));
                                continue;
                            }
                            crate::support::uri::path_to_file_uri(&resolved.path)
                        };
                        let (mime, body) = self.read_own(&uri, ctx).await.map_err(|e| {
                            McpError::invalid_params(
                                format!(
                                    "the prompt embeds `{uri}`, which cannot be read: {}",
                                    e.message
                                ),
                                None,
                            )
                        })?;
                        out.push(PromptMessage::new(
                            role.clone(),
                            rmcp::model::ContentBlock::resource(to_contents(&uri, mime, body)),
                        ));
                    }
                }
            }
        }
        Ok(out)
    }

    /// Reloads the folders whenever they change and tells the host which lists changed, until
    /// the session ends. A file that breaks keeps its previous version (see `folders`).
    async fn watch_folders(self, peer: Peer<RoleServer>) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let s = &self.settings;
        let dirs: Vec<(PathBuf, bool)> = s
            .tools
            .dirs
            .iter()
            .chain(s.prompt_dirs.iter())
            .map(|d| (d.clone(), false))
            .chain(s.resource_dirs.iter().map(|d| (d.clone(), true)))
            .collect();
        // A few inotify calls: quick enough for the protocol thread.
        let watch = match crate::folders::FolderWatch::new(dirs, tx) {
            Ok(w) => Arc::new(Mutex::new(w)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch the tool, prompt and resource folders; changes apply at the next start");
                return;
            }
        };
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                got = rx.recv() => if got.is_none() { return },
            }
            // One reload per burst of changes.
            loop {
                match tokio::time::timeout(RELOAD_QUIET, rx.recv()).await {
                    Ok(Some(())) => continue,
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            let me = self.clone();
            let w = watch.clone();
            let swapped = tokio::task::spawn_blocking(move || {
                let before = me.folders();
                let after = Arc::new(Folders::load(&me.settings, Some(&before)));
                *crate::support::lock(&me.folders) = Some(after.clone());
                crate::support::lock(&w).sync();
                (before, after)
            })
            .await;
            let Ok((before, after)) = swapped else {
                continue;
            };
            let tools = |f: &Folders| {
                serde_json::to_string(
                    &f.visible_tools(&self.settings)
                        .map(|t| &t.tool)
                        .collect::<Vec<_>>(),
                )
                .unwrap_or_default()
            };
            if tools(&before) != tools(&after) {
                tracing::info!("declarative tools changed; telling the host");
                let _ = peer.notify_tool_list_changed().await;
            }
            let prompts =
                |f: &Folders| serde_json::to_string(&Self::prompt_list(f)).unwrap_or_default();
            if prompts(&before) != prompts(&after) {
                tracing::info!("prompts changed; telling the host");
                let _ = peer.notify_prompt_list_changed().await;
            }
            let res =
                |f: &Folders| serde_json::to_string(&self.resource_list(f)).unwrap_or_default();
            if res(&before) != res(&after) {
                tracing::info!("resources changed; telling the host");
                let _ = peer.notify_resource_list_changed().await;
            }
            let old: std::collections::HashSet<String> = before.problems().into_iter().collect();
            for p in after.problems().into_iter().filter(|p| !old.contains(p)) {
                self.tell_client(&peer, LoggingLevel::Error, format!("skipped: {p}"))
                    .await;
            }
        }
    }

    fn room_for_one_more(&self, held: usize) -> Result<(), McpError> {
        let max = self.settings.max_subscriptions;
        if held >= max {
            return Err(McpError::invalid_params(
                format!(
                    "too many subscriptions (at most {max}, resources.max_subscriptions); unsubscribe from some first"
                ),
                None,
            ));
        }
        Ok(())
    }

    /// Subscribes to a file or folder: the shared watcher reports its changes.
    fn subscribe_path(
        &self,
        uri: String,
        path: PathBuf,
        peer: &Peer<RoleServer>,
    ) -> Result<(), McpError> {
        let mut subs = crate::support::lock(&self.subscriptions);
        if subs.contains_key(&uri) {
            return Ok(());
        }
        self.room_for_one_more(subs.len())?;
        self.watch_path(&uri, path, peer)?;
        subs.insert(uri, CancellationToken::new());
        Ok(())
    }

    /// Starts watching a file or folder for a subscription (one watcher per session).
    fn watch_path(
        &self,
        uri: &str,
        path: PathBuf,
        peer: &Peer<RoleServer>,
    ) -> Result<(), McpError> {
        let is_dir = path.is_dir();
        if is_dir {
            let limit = self.settings.max_watched_folders;
            let count = walkdir_count(&path, limit + 1);
            if count > limit {
                return Err(McpError::invalid_params(
                    format!(
                        "`{uri}` has more than {limit} folders below it (resources.max_watched_folders); subscribe to a smaller folder or to single files"
                    ),
                    None,
                ));
            }
        }
        let mut slot = crate::support::lock(&self.file_watch);
        if slot.is_none() {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            let w = crate::support::watch::PathWatch::new(tx)
                .map_err(|e| McpError::internal_error(format!("cannot watch files: {e}"), None))?;
            tokio::spawn(forward_updates(rx, peer.clone(), self.shutdown.clone()));
            *slot = Some(w);
        }
        let Some(w) = slot.as_mut() else {
            return Err(McpError::internal_error("no file watcher", None));
        };
        w.add(uri, path, is_dir)
            .map_err(|e| McpError::invalid_params(format!("`{uri}` cannot be watched: {e}"), None))
    }

    fn watch(&self, uri: String, target: WatchTarget, peer: Peer<RoleServer>) -> CancellationToken {
        let token = self.shutdown.child_token();
        let stop = token.clone();
        let me = self.clone();
        tokio::spawn(async move {
            let mut last = target.stamp(&me).await;
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(SUBSCRIPTION_POLL) => {}
                }
                let now = target.stamp(&me).await;
                if now != last {
                    last = now;
                    let param = ResourceUpdatedNotificationParam::new(uri.clone());
                    if peer.notify_resource_updated(param).await.is_err() {
                        break;
                    }
                }
            }
        });
        token
    }
}

/// Counts the folders at and below `dir`, stopping at `stop`.
fn walkdir_count(dir: &std::path::Path, stop: usize) -> usize {
    let mut count = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        count += 1;
        if count >= stop {
            break;
        }
        if let Ok(entries) = std::fs::read_dir(&d) {
            for e in entries.filter_map(Result::ok) {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(e.path());
                }
            }
        }
    }
    count
}

/// Sends `notifications/resources/updated` for the URIs the file watcher reports, once per
/// URI per short burst.
async fn forward_updates(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<String>,
    peer: Peer<RoleServer>,
    stop: CancellationToken,
) {
    loop {
        let first = tokio::select! {
            _ = stop.cancelled() => return,
            got = rx.recv() => match got { Some(u) => u, None => return },
        };
        let mut uris = vec![first];
        while let Ok(Some(u)) = tokio::time::timeout(Duration::from_millis(50), rx.recv()).await {
            if !uris.contains(&u) {
                uris.push(u);
            }
        }
        for uri in uris {
            let param = ResourceUpdatedNotificationParam::new(uri);
            if peer.notify_resource_updated(param).await.is_err() {
                return;
            }
        }
    }
}

/// Severity order of the MCP log levels (RFC 5424), lowest first.
pub(crate) fn rank(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

/// What a subscription watches: files' sizes and modification times (or their absence), the
/// knowledge graph's change counter, or one note.
enum WatchTarget {
    Files(Vec<PathBuf>),
    Graph,
    Note(i64),
}

impl WatchTarget {
    async fn stamp(&self, sb: &Switchboard) -> String {
        use crate::memory::resources::{graph_stamp, note_stamp};
        match self {
            WatchTarget::Files(paths) => {
                let stamps: Vec<Option<(u64, SystemTime)>> = paths
                    .iter()
                    .map(|p| crate::support::file_stamp(p))
                    .collect();
                format!("{stamps:?}")
            }
            WatchTarget::Graph => sb
                .with_notes(|m| Ok(graph_stamp(m)))
                .await
                .unwrap_or_default(),
            WatchTarget::Note(id) => {
                let id = *id;
                sb.with_notes(move |m| Ok(note_stamp(m, id)))
                    .await
                    .unwrap_or_default()
            }
        }
    }
}

/// The connection a `db://NAME/schema` URI names.
fn schema_connection(uri: &str) -> Option<&str> {
    uri.strip_prefix(DB_SCHEMA_PREFIX)?.strip_suffix("/schema")
}

/// Where a database schema resource lives.
const DB_SCHEMA_PREFIX: &str = "db://";

fn no_cursor(request: &Option<PaginatedRequestParams>) -> Result<(), McpError> {
    match request.as_ref().and_then(|r| r.cursor.as_ref()) {
        Some(c) => Err(McpError::invalid_params(
            format!("invalid cursor `{c}`: this list has a single page"),
            None,
        )),
        None => Ok(()),
    }
}

fn resource_error(e: ResourceError) -> McpError {
    match e {
        ResourceError::NotFound(uri) => McpError::resource_not_found(
            format!("no resource `{uri}`; see resources/list and resources/templates/list"),
            None,
        ),
        other => McpError::invalid_params(other.to_string(), None),
    }
}

fn to_contents(uri: &str, mime: String, body: Body) -> ResourceContents {
    use base64::Engine;
    match body {
        Body::Text(t) => ResourceContents::text(t, uri).with_mime_type(mime),
        Body::Binary(b) => {
            ResourceContents::blob(base64::engine::general_purpose::STANDARD.encode(b), uri)
                .with_mime_type(mime)
        }
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
        let router = &self.catalog().router;
        if !router.has_route(&request.name) {
            if let Some(result) = self
                .call_declared(&request.name, request.arguments.clone(), &ctx)
                .await
            {
                return Ok(result.into());
            }
            let name = &request.name;
            if let Some(hub) = self.start_proxy() {
                hub.set_host(&ctx.peer);
                // A call that arrives before the first list may name a child still starting.
                if !hub.has_tool(name) {
                    hub.wait_startup().await;
                }
                let toolsets = &self.settings.tools.toolsets;
                if toolsets.admits(name, Category::Proxy)
                    && let Some(result) = hub.call_tool(request.clone(), &ctx).await
                {
                    return result;
                }
            }
            return Err(McpError::invalid_params(
                format!(
                    "unknown tool: {}; call tools/list to see the tools",
                    self.not_offered(name, &[])
                ),
                None,
            ));
        }
        let name = request.name.clone();
        let log = self.settings.logging.requests;
        if log {
            tracing::info!(tool = %name, arguments = ?request.arguments, "tool call");
        }
        let started = Instant::now();
        let result = router.call(ToolCallContext::new(self, request, ctx)).await;
        let elapsed = started.elapsed();
        let failed = match &result {
            Ok(CallToolResponse::Complete(r)) => r.is_error == Some(true),
            Ok(_) => false,
            Err(_) => true,
        };
        self.stats.record(&name, elapsed, failed);
        if log {
            let elapsed_us = elapsed.as_micros() as u64;
            tracing::info!(tool = %name, elapsed_us, result = ?result, "tool result");
        }
        result
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
        let uri = request.uri;
        if uri.starts_with(crate::proxy::names::URI_PREFIX) {
            return match self.hub() {
                Some(hub) => hub
                    .subscribe(&uri, true)
                    .await
                    .unwrap_or_else(|| Err(resource_error(ResourceError::NotFound(uri)))),
                None => Err(resource_error(ResourceError::NotFound(uri))),
            };
        }
        let target = if uri == crate::memory::resources::GRAPH_URI {
            WatchTarget::Graph
        } else if let Some(id) = crate::memory::resources::note_id(&uri) {
            WatchTarget::Note(id)
        } else if let Some(p) = crate::support::uri::file_uri_to_path(&uri) {
            let scope = self.file_scope(&ctx).await;
            let path = scope
                .existing(&p)
                .map_err(|e| McpError::invalid_params(e.to_string(), None))?
                .path;
            return self.subscribe_path(uri, path, &ctx.peer);
        } else if resources::DYNAMIC.iter().any(|d| d.uri == uri) {
            return Err(McpError::invalid_params(
                format!(
                    "`{uri}` is computed when read and sends no updates; read it again when you need it"
                ),
                None,
            ));
        } else if let Some(name) = schema_connection(&uri) {
            match self.databases().settings.get(name).map(|c| &c.target) {
                // A WAL database changes its -wal file first.
                Some(crate::config::Target::Sqlite(p)) => {
                    let wal = PathBuf::from(format!("{}-wal", p.display()));
                    WatchTarget::Files(vec![p.clone(), wal])
                }
                Some(crate::config::Target::Postgres(_)) => {
                    return Err(McpError::invalid_params(
                        format!(
                            "`{uri}`: change notifications work for SQLite connections only; read the resource again to see a PostgreSQL schema's changes"
                        ),
                        None,
                    ));
                }
                None => return Err(resource_error(ResourceError::NotFound(uri))),
            }
        } else if let Some(source) = self.folders().resources.source_file(&uri) {
            match source {
                Some(p) => return self.subscribe_path(uri, p, &ctx.peer),
                // Built-in resources never change; the subscription is accepted and stays quiet.
                None => return Ok(()),
            }
        } else {
            return Err(resource_error(ResourceError::NotFound(uri)));
        };
        let mut subs = crate::support::lock(&self.subscriptions);
        if subs.contains_key(&uri) {
            return Ok(());
        }
        self.room_for_one_more(subs.len())?;
        let token = self.watch(uri.clone(), target, ctx.peer.clone());
        subs.insert(uri, token);
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        if request.uri.starts_with(crate::proxy::names::URI_PREFIX)
            && let Some(hub) = self.hub()
        {
            return hub.subscribe(&request.uri, false).await.unwrap_or(Ok(()));
        }
        if let Some(token) = crate::support::lock(&self.subscriptions).remove(&request.uri) {
            token.cancel();
        }
        if let Some(w) = crate::support::lock(&self.file_watch).as_mut() {
            w.remove(&request.uri);
        }
        Ok(())
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
            tokio::task::spawn_blocking(move || crate::tools::files::complete_path(&scope, &prefix))
                .await
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        completion(values)
    }

    async fn on_initialized(&self, ctx: NotificationContext<RoleServer>) {
        self.initialized(ctx).await
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

impl Switchboard {
    async fn initialized(&self, ctx: NotificationContext<RoleServer>) {
        // In the background: fetch the client's roots, so the first file call rarely waits;
        // report folder files that could not be loaded; then watch the folders.
        // `initialize` is answered: now the child servers may start.
        if let Some(hub) = self.start_proxy() {
            hub.set_host(&ctx.peer);
        }
        let me = self.clone();
        tokio::spawn(async move {
            me.refresh_client_roots(&ctx.peer).await;
            for p in me.folders().problems() {
                me.tell_client(&ctx.peer, LoggingLevel::Warning, format!("skipped: {p}"))
                    .await;
            }
            me.watch_folders(ctx.peer).await;
        });
    }
}
