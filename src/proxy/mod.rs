//! Child MCP servers from `servers_config.json`, multiplexed behind switchboard: their tools,
//! prompts and resources appear as switchboard's own under `{alias}__` names and `proxy://`
//! URIs, and calls, progress, cancellation, log messages, list changes and child→host requests
//! are forwarded both ways.
//!
//! Why it is built this way: one slow or broken child must never slow the others or the host.
//! Each child has its own task ([`child::Child::run`]) that starts, lists, watches and restarts
//! it; the [`Hub`] only reads what the children last listed, merges it into a [`View`] when
//! something changed, and tells the host once per burst of changes (debounced). Nothing here
//! waits on a child while holding a lock.

// Logging and subscriptions are deprecated by the 2026-07-28 revision, but children and hosts of
// the initialize era use them, so the proxy forwards them on purpose.
#![allow(deprecated)]

pub mod child;
pub mod frames;
pub mod inbound;
pub mod names;
pub mod pins;
pub mod servers;

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResponse, CancelledNotificationParam,
    ClientRequest, CompleteRequest, CompleteRequestParams, CompleteResult, GetPromptRequest,
    GetPromptRequestParams, GetPromptResponse, LoggingLevel, LoggingMessageNotificationParam,
    Prompt, ReadResourceRequest, ReadResourceRequestParams, ReadResourceResponse, Reference,
    Resource, ResourceContents, ResourceTemplate, ServerResult, SetLevelRequestParams,
    SubscribeRequestParams, Tool, UnsubscribeRequestParams,
};
use rmcp::service::{PeerRequestOptions, RequestContext, ServiceError};
use rmcp::{ErrorData as McpError, Peer, RoleClient, RoleServer};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::error::reason;
use crate::mcp::changes::Change;
use child::{Child, Phase};
use servers::ServersFile;

/// Quiet time that ends a burst of list changes before the host is told.
const DEBOUNCE: Duration = Duration::from_millis(200);
/// Switchboards nested deeper than this start no children.
pub const MAX_DEPTH: u32 = 3;
/// How often the servers file and the pins are checked for changes.
const WATCH_EVERY: Duration = Duration::from_secs(1);

use crate::support::lock;

/// Where a host-facing name leads.
#[derive(Clone)]
struct Route {
    child: Arc<Child>,
    name: String,
}

/// The merged catalogue of every child, as the host sees it.
#[derive(Default)]
pub struct View {
    pub tools: Vec<Tool>,
    tool_routes: HashMap<String, Route>,
    /// Exposed name → why the tool is held back.
    held: HashMap<String, String>,
    pub prompts: Vec<Prompt>,
    prompt_routes: HashMap<String, Route>,
    pub resources: Vec<Resource>,
    pub templates: Vec<ResourceTemplate>,
    /// Hashes of the tools, prompts and resources lists, to tell the host only about changes.
    hashes: [u64; 3],
}

impl View {
    /// The alias of the child server behind the exposed tool `name`.
    pub fn server_of(&self, name: &str) -> Option<&str> {
        self.tool_routes.get(name).map(|r| r.child.alias.as_str())
    }
}

fn hash_of<T: serde::Serialize>(items: &[T]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(items)
        .unwrap_or_default()
        .hash(&mut h);
    h.finish()
}

/// Shared state of the proxy (see the module docs). Held in an `Arc` by the server, the
/// children (weakly) and the background tasks.
pub struct Hub {
    pub settings: Arc<Settings>,
    roots: Box<dyn Fn() -> Vec<PathBuf> + Send + Sync>,
    host: Mutex<Option<Peer<RoleServer>>>,
    host_level: Mutex<LoggingLevel>,
    children: Mutex<BTreeMap<String, Arc<Child>>>,
    file: Mutex<Option<ServersFile>>,
    file_error: Mutex<Option<String>>,
    file_stamp: Mutex<Option<(u64, std::time::SystemTime)>>,
    pins: Mutex<pins::Pins>,
    view: Mutex<Arc<View>>,
    dirty: AtomicBool,
    notify: Notify,
    served: Mutex<[Option<u64>; 3]>,
    started: Instant,
    /// Where list changes and child resource updates go (the session delivers them).
    pub changes: crate::mcp::changes::Changes,
    shutdown: CancellationToken,
    /// bubblewrap for sandboxed children, probed once on first need: its path, or why not.
    pub sandbox: tokio::sync::OnceCell<Result<PathBuf, String>>,
}

/// How the reason of a held entry starts (its spec is that reason until approved).
pub const HELD: &str = "held";

/// What a transport runs, as a person reads it before approving.
pub fn describe(t: &servers::Transport) -> String {
    match t {
        servers::Transport::Stdio {
            command, args, env, ..
        } => {
            let mut s = std::iter::once(command.as_str())
                .chain(args.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" ");
            if !env.is_empty() {
                let names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
                s.push_str(&format!(" (environment: {})", names.join(", ")));
            }
            s
        }
        servers::Transport::Http { url, .. } => url.clone(),
    }
}

/// A child's state for `proxy_status` and `doctor`.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct ServerReport {
    pub name: String,
    /// The tool name prefix: tools are `{alias}__{tool}`.
    pub alias: String,
    /// idle, starting, ready, restarting, failed, disabled or stopped.
    pub state: String,
    /// `stdio: command args` or `http: url`.
    pub transport: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uptime_secs: Option<u64>,
    /// How long the last start took, spawn to listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<u64>,
    pub restarts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_in_secs: Option<u64>,
    /// Tools exposed to the host (after filters and pinning).
    pub tools: usize,
    /// Tools held back because their definition changed since approval.
    pub held_tools: Vec<String>,
    pub prompts: usize,
    pub resources: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stderr_tail: String,
}

impl Hub {
    /// Reads the servers file (when there is one) and starts every child in the background.
    /// Returns at once: nothing here waits for a child.
    pub fn start(
        settings: Arc<Settings>,
        roots: Box<dyn Fn() -> Vec<PathBuf> + Send + Sync>,
        changes: crate::mcp::changes::Changes,
        shutdown: CancellationToken,
    ) -> Option<Arc<Self>> {
        let (path, _) = settings.proxy.servers_config.clone()?;
        if settings.proxy.depth >= MAX_DEPTH {
            tracing::error!(
                "not starting child servers: this switchboard is already {} levels deep in a chain of switchboards (does the servers file start switchboard with itself?)",
                settings.proxy.depth
            );
            return None;
        }
        let pins = pins::Pins::load(pins::Pins::path_in(&settings.profile.data_dir));
        let hub = Arc::new(Self {
            settings,
            roots,
            host: Mutex::new(None),
            host_level: Mutex::new(LoggingLevel::Warning),
            children: Mutex::new(BTreeMap::new()),
            file: Mutex::new(None),
            file_error: Mutex::new(None),
            file_stamp: Mutex::new(None),
            pins: Mutex::new(pins),
            view: Mutex::new(Arc::default()),
            dirty: AtomicBool::new(true),
            notify: Notify::new(),
            served: Mutex::new([None; 3]),
            started: Instant::now(),
            changes,
            shutdown,
            sandbox: tokio::sync::OnceCell::new(),
        });
        hub.reload(&path);
        tokio::spawn(hub.clone().debounce());
        tokio::spawn(hub.clone().watch(path));
        Some(hub)
    }

    /// (Re)reads the servers file and starts, stops or restarts children to match it.
    fn reload(self: &Arc<Self>, path: &std::path::Path) {
        *lock(&self.file_stamp) = crate::support::file_stamp(path);
        // `${VAR}` comes from switchboard's own environment (what the host's entry gives it).
        let file = match ServersFile::load(path, &|k| std::env::var(k).ok()) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!("{e}");
                *lock(&self.file_error) = Some(e.to_string());
                return;
            }
        };
        *lock(&self.file_error) = None;
        for w in &file.warnings {
            tracing::warn!("servers file: {w}");
        }
        let gated = self.gate_entries(&file);
        let mut children = lock(&self.children);
        let wanted: BTreeMap<String, &servers::ServerEntry> =
            gated.iter().map(|e| (e.name.clone(), e)).collect();
        children.retain(|name, child| {
            let keep = wanted.get(name).is_some_and(|e| same_entry(child, e));
            if !keep {
                tracing::info!(server = %name, "stopping child server (removed or changed)");
                child.stop.cancel();
            }
            keep
        });
        for (name, entry) in wanted {
            if children.contains_key(&name) {
                continue;
            }
            let child = Child::new(
                name.clone(),
                entry.alias.clone(),
                entry.spec.clone(),
                Arc::downgrade(self),
                self.settings.proxy.stderr_buffer_bytes,
                self.shutdown.child_token(),
            );
            tokio::spawn(child.clone().run());
            children.insert(name, child);
        }
        drop(children);
        *lock(&self.file) = Some(file);
        self.changed();
    }

    /// The entries as they may run. With `proxy.pinning: enforce`, one whose identity (what it
    /// runs) a person has not approved, the first run included, is held: its spec becomes the
    /// reason, so it is listed in `proxy_status` and never started. `warn` logs and runs it.
    fn gate_entries(&self, file: &ServersFile) -> Vec<servers::ServerEntry> {
        let mode = self.settings.proxy.pinning;
        let mut out = file.servers.clone();
        if mode == crate::config::Pinning::Off {
            return out;
        }
        let mut pins = lock(&self.pins);
        pins.refresh();
        let mut dirty = false;
        for e in &mut out {
            let Ok(spec) = &e.spec else { continue };
            let (verdict, d) = pins.check_entry(&e.name, &spec.identity);
            dirty |= d;
            let why = match verdict {
                pins::Verdict::Trusted => continue,
                pins::Verdict::New => "is new in the servers file and was never approved",
                pins::Verdict::Changed => {
                    "runs something else (command, arguments, environment names, cwd, sandbox or url) than when it was approved"
                }
            };
            if mode == crate::config::Pinning::Enforce {
                e.spec = Err(format!(
                    "{HELD}: this entry {why}, so it is not started until a person approves it: `switchboard proxy approve {}` (or `switchboard proxy approve --all`), or the proxy_approve tool with the host's confirmation",
                    e.name
                ));
            } else {
                tracing::warn!(server = %e.name, "the servers-file entry {why} (proxy.pinning = warn)");
            }
        }
        if dirty && let Err(e) = pins.save() {
            tracing::warn!(error = %e, "cannot save the server pins");
        }
        out
    }

    /// Polls the servers file and the pins; a change reloads and re-lists.
    async fn watch(self: Arc<Self>, path: PathBuf) {
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                _ = tokio::time::sleep(WATCH_EVERY) => {}
            }
            if crate::support::file_stamp(&path) != *lock(&self.file_stamp) {
                tracing::info!(file = %path.display(), "servers file changed; reloading");
                self.reload(&path);
            }
            let pins_changed = lock(&self.pins).refresh();
            if pins_changed {
                // An approved entry starts; an approved tool is listed.
                self.reload(&path);
                for c in self.children() {
                    c.check_pins(&self);
                }
                self.changed();
            }
        }
    }

    /// Something a host list shows may have changed: rebuild lazily and tell the host soon.
    pub fn changed(&self) {
        self.dirty.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    async fn debounce(self: Arc<Self>) {
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                _ = self.notify.notified() => {}
            }
            tokio::time::sleep(DEBOUNCE).await;
            let view = self.view();
            let stale: Vec<usize> = {
                let mut served = lock(&self.served);
                (0..3)
                    .filter(|&i| {
                        let old = served[i];
                        if old.is_some() && old != Some(view.hashes[i]) {
                            served[i] = Some(view.hashes[i]);
                            true
                        } else {
                            false
                        }
                    })
                    .collect()
            };
            for i in stale {
                self.changes.publish(match i {
                    0 => Change::Tools,
                    1 => Change::Prompts,
                    _ => Change::Resources,
                });
            }
        }
    }

    /// Records that the host saw a list (0 tools, 1 prompts, 2 resources) as it is now.
    pub fn served(&self, kind: usize) {
        let h = self.view().hashes[kind];
        lock(&self.served)[kind] = Some(h);
    }

    pub fn children(&self) -> Vec<Arc<Child>> {
        lock(&self.children).values().cloned().collect()
    }

    pub fn child(&self, name: &str) -> Option<Arc<Child>> {
        lock(&self.children).get(name).cloned()
    }

    fn child_by_alias(&self, alias: &str) -> Option<Arc<Child>> {
        lock(&self.children)
            .values()
            .find(|c| c.alias == alias)
            .cloned()
    }

    pub fn host(&self) -> Option<Peer<RoleServer>> {
        lock(&self.host)
            .clone()
            .filter(|p| !p.is_transport_closed())
    }

    /// The host that spoke last (over `serve --http`, several share the children): where the
    /// children's log messages go, and their requests outside any call. A session that has
    /// initialized replaces one that has not, and one whose connection closed is replaced.
    pub fn set_host(&self, peer: &Peer<RoleServer>) {
        let mut h = lock(&self.host);
        let replace = match h.as_ref() {
            None => true,
            Some(current) => current.is_transport_closed() || peer.peer_info().is_some(),
        };
        if replace {
            *h = Some(peer.clone());
        }
    }

    pub fn roots(&self) -> Vec<PathBuf> {
        (self.roots)()
    }

    /// The host's `logging/setLevel`, applied to forwarded messages and passed to children.
    pub async fn set_level(&self, level: LoggingLevel) {
        *lock(&self.host_level) = level;
        for c in self.children() {
            if c.listing().logging
                && let Some(peer) = c.peer_now()
            {
                let _ = peer.set_level(SetLevelRequestParams::new(level)).await;
            }
        }
    }

    async fn log_to_host(&self, param: LoggingMessageNotificationParam) {
        let wanted = *lock(&self.host_level);
        if crate::mcp::rank(param.level) < crate::mcp::rank(wanted) {
            return;
        }
        if let Some(host) = self.host() {
            let _ = host.notify_logging_message(param).await;
        }
    }

    /// The first list waits (from start-up, up to `proxy.startup_wait_ms`) for the eager
    /// children's first start attempt; later ones arrive with `list_changed`.
    pub async fn wait_startup(&self) {
        let deadline = self.started + self.settings.proxy.startup_wait;
        loop {
            let pending = self
                .children()
                .into_iter()
                .any(|c| c.spec.is_ok() && !c.is_lazy() && !c.settled());
            if !pending || Instant::now() >= deadline {
                return;
            }
            tokio::select! {
                _ = self.notify_settled() => {}
                _ = tokio::time::sleep_until(deadline.into()) => return,
            }
        }
    }

    async fn notify_settled(&self) {
        // Children report readiness through `changed`; a short poll covers failures too.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    /// The merged catalogue, rebuilt when something changed.
    pub fn view(&self) -> Arc<View> {
        if self.dirty.swap(false, Ordering::AcqRel) {
            let v = Arc::new(self.build_view());
            *lock(&self.view) = v.clone();
            return v;
        }
        lock(&self.view).clone()
    }

    fn build_view(&self) -> View {
        let mut children = self.children();
        children.sort_by(|a, b| a.alias.cmp(&b.alias));
        let mut v = View::default();
        let read_only = self.settings.read_only;
        for child in children {
            let Ok(spec) = &child.spec else { continue };
            let phase = child.status().phase;
            if matches!(phase, Phase::Failed | Phase::Stopped | Phase::Disabled) {
                continue;
            }
            let listing = child.listing();
            let held = child.held();
            let mut tools: Vec<Tool> = Vec::new();
            for t in &listing.tools {
                if !spec.tool_allowed(&t.name)
                    || (read_only && !crate::policy::tools::is_read_only(t))
                {
                    continue;
                }
                let exposed = names::exposed(&child.alias, &t.name);
                if let Some(why) = held.get(t.name.as_ref()) {
                    v.held.insert(exposed, why.clone());
                    continue;
                }
                let mut tool = t.clone();
                tool.name = exposed.clone().into();
                v.tool_routes.insert(
                    exposed,
                    Route {
                        child: child.clone(),
                        name: t.name.to_string(),
                    },
                );
                tools.push(tool);
            }
            tools.sort_by(|a, b| a.name.cmp(&b.name));
            v.tools.extend(tools);
            let mut prompts: Vec<Prompt> = Vec::new();
            for p in &listing.prompts {
                let exposed = names::exposed(&child.alias, &p.name);
                let mut prompt = p.clone();
                prompt.name = exposed.clone();
                v.prompt_routes.insert(
                    exposed,
                    Route {
                        child: child.clone(),
                        name: p.name.clone(),
                    },
                );
                prompts.push(prompt);
            }
            prompts.sort_by(|a, b| a.name.cmp(&b.name));
            v.prompts.extend(prompts);
            for r in &listing.resources {
                let mut res = r.clone();
                res.uri = names::wrap_uri(&child.alias, &r.uri);
                v.resources.push(res);
            }
            for t in &listing.templates {
                let mut tpl = t.clone();
                tpl.uri_template = names::wrap_uri(&child.alias, &t.uri_template);
                v.templates.push(tpl);
            }
        }
        v.hashes = [
            hash_of(&v.tools),
            hash_of(&v.prompts),
            hash_of(&v.resources) ^ hash_of(&v.templates).rotate_left(1),
        ];
        v
    }

    /// Every child's state.
    pub fn report(&self) -> Vec<ServerReport> {
        let view = self.view();
        self.children()
            .into_iter()
            .map(|c| {
                let st = c.status();
                let listing = c.listing();
                let transport = match &c.spec {
                    Ok(s) => match &s.transport {
                        servers::Transport::Stdio { command, args, .. } => {
                            format!("stdio: {command} {}", args.join(" "))
                                .trim_end()
                                .to_owned()
                        }
                        servers::Transport::Http { url, .. } => format!("http: {url}"),
                    },
                    Err(_) => "-".into(),
                };
                let tools = view
                    .tool_routes
                    .values()
                    .filter(|r| Arc::ptr_eq(&r.child, &c))
                    .count();
                let mut held: Vec<String> = c.held().into_keys().collect();
                held.sort();
                ServerReport {
                    name: c.name.clone(),
                    alias: c.alias.clone(),
                    state: if c.spec.as_ref().is_err_and(|e| e.starts_with(HELD)) {
                        "held".to_owned()
                    } else {
                        serde_json::to_value(st.phase)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default()
                    },
                    transport,
                    pid: st.pid,
                    uptime_secs: st
                        .since
                        .filter(|_| st.phase == Phase::Ready)
                        .map(|t| t.elapsed().as_secs()),
                    start_ms: st.start_ms,
                    restarts: st.restarts,
                    retry_in_secs: st
                        .retry_at
                        .filter(|_| st.phase == Phase::Restarting)
                        .map(|t| t.saturating_duration_since(Instant::now()).as_secs() + 1),
                    tools,
                    held_tools: held,
                    prompts: listing.prompts.len(),
                    resources: listing.resources.len() + listing.templates.len(),
                    last_error: st.last_error,
                    stderr_tail: c.stderr_tail(2000),
                }
            })
            .collect()
    }

    /// Problems with the servers file itself (not with one server).
    pub fn file_problems(&self) -> Vec<String> {
        let mut out: Vec<String> = lock(&self.file_error).iter().cloned().collect();
        if let Some(f) = &*lock(&self.file) {
            out.extend(f.warnings.iter().cloned());
        }
        out
    }

    /// What a held entry of `server` would run, when it is held (for the person who approves).
    pub fn held_entry(&self, server: &str) -> Option<String> {
        let child = lock(&self.children).get(server).cloned()?;
        if !child.spec.as_ref().is_err_and(|e| e.starts_with(HELD)) {
            return None;
        }
        let file = lock(&self.file);
        let entry = file.as_ref()?.servers.iter().find(|e| e.name == server)?;
        entry.spec.as_ref().ok().map(|s| describe(&s.transport))
    }

    /// Approves `server`: its held entry (when `tool` is none) and its held tools (one or all).
    /// Returns whether the entry was approved and the tools approved.
    pub fn approve(
        self: &Arc<Self>,
        server: &str,
        tool: Option<&str>,
    ) -> std::io::Result<(bool, Vec<String>)> {
        let identity = lock(&self.file).as_ref().and_then(|f| {
            f.servers
                .iter()
                .find(|e| e.name == server)
                .and_then(|e| e.spec.as_ref().ok().map(|s| s.identity.clone()))
        });
        let (entry, done) = {
            let mut pins = lock(&self.pins);
            pins.refresh();
            let entry = match (&identity, tool) {
                (Some(id), None) if self.held_entry(server).is_some() => {
                    pins.approve_entry(server, id)
                }
                _ => false,
            };
            let done = pins.approve(server, tool);
            if entry || !done.is_empty() {
                pins.save()?;
            }
            (entry, done)
        };
        if entry && let Some((path, _)) = self.settings.proxy.servers_config.clone() {
            self.reload(&path);
        }
        for c in self.children() {
            c.check_pins(self);
        }
        self.changed();
        Ok((entry, done))
    }

    // ---- forwarding ----

    /// `tools/call` for a child tool; `None` when the name is not one of theirs.
    pub async fn call_tool(
        &self,
        params: CallToolRequestParams,
        ctx: &RequestContext<RoleServer>,
    ) -> Option<Result<CallToolResponse, McpError>> {
        let view = self.view();
        if let Some(why) = view.held.get(params.name.as_ref()) {
            return Some(Ok(crate::mcp::failure(reason::TOOL_HELD, why.clone())));
        }
        let route = view.tool_routes.get(params.name.as_ref())?.clone();
        drop(view);
        let child = route.child;
        let peer = match child.connection().await {
            Ok(p) => p,
            Err(msg) => return Some(Ok(crate::mcp::failure(reason::TOOL_UNAVAILABLE, msg))),
        };
        let mut p = params;
        p.name = route.name.into();
        let req = ClientRequest::CallToolRequest(CallToolRequest::new(p));
        Some(match self.send(&child, peer, req, ctx).await {
            Ok(ServerResult::CallToolResult(r)) => Ok(CallToolResponse::Complete(r)),
            Ok(ServerResult::InputRequiredResult(r)) => Ok(CallToolResponse::InputRequired(r)),
            Ok(ServerResult::CreateTaskResult(r)) => Ok(CallToolResponse::Task(r)),
            Ok(_) => Ok(crate::mcp::failure(
                reason::CHILD_FAILED,
                format!(
                    "server `{}` answered tools/call with something that is not a tool result",
                    child.name
                ),
            )),
            Err(Failure::Rpc(e)) => Err(e),
            Err(f) => Ok(crate::mcp::failure(f.code(), f.text(&child))),
        })
    }

    /// Whether `name` is a child tool the host can see or one held back.
    pub fn has_tool(&self, name: &str) -> bool {
        let v = self.view();
        v.tool_routes.contains_key(name) || v.held.contains_key(name)
    }

    /// When `name` would be a tool of a child that is starting (or waiting to restart): the
    /// child's name and how long to wait before trying again.
    pub fn starting(&self, name: &str) -> Option<(String, Duration)> {
        let child = self.children().into_iter().find(|c| {
            name.strip_prefix(c.alias.as_str())
                .is_some_and(|rest| rest.starts_with("__"))
        })?;
        let status = child.status();
        let typical = status.start_ms.map(Duration::from_millis);
        match status.phase {
            Phase::Starting | Phase::Idle => {
                Some((child.name.clone(), retry_after(status.since, typical)))
            }
            Phase::Restarting => Some((
                child.name.clone(),
                status
                    .retry_at
                    .map(|at| at.saturating_duration_since(Instant::now()))
                    .unwrap_or_default()
                    + typical.unwrap_or(Duration::from_secs(2)),
            )),
            _ => None,
        }
    }

    pub fn tool(&self, name: &str) -> Option<Tool> {
        self.view().tools.iter().find(|t| t.name == name).cloned()
    }

    pub async fn get_prompt(
        &self,
        params: GetPromptRequestParams,
        ctx: &RequestContext<RoleServer>,
    ) -> Option<Result<GetPromptResponse, McpError>> {
        let route = self.view().prompt_routes.get(&params.name)?.clone();
        let child = route.child;
        let peer = match child.connection().await {
            Ok(p) => p,
            Err(msg) => return Some(Err(McpError::internal_error(msg, None))),
        };
        let mut p = params;
        p.name = route.name;
        let req = ClientRequest::GetPromptRequest(GetPromptRequest::new(p));
        Some(match self.send(&child, peer, req, ctx).await {
            Ok(ServerResult::GetPromptResult(r)) => Ok(GetPromptResponse::Complete(r)),
            Ok(ServerResult::InputRequiredResult(r)) => Ok(GetPromptResponse::InputRequired(r)),
            Ok(_) => Err(McpError::internal_error(
                format!(
                    "server `{}` answered prompts/get with something else",
                    child.name
                ),
                None,
            )),
            Err(f) => Err(f.into_mcp(&child)),
        })
    }

    /// `resources/read` of a `proxy://` URI; `None` when the URI is not a child's.
    pub async fn read_resource(
        &self,
        params: ReadResourceRequestParams,
        ctx: &RequestContext<RoleServer>,
    ) -> Option<Result<ReadResourceResponse, McpError>> {
        let (alias, original) = names::unwrap_uri(&params.uri)?;
        let (alias, original) = (alias.to_owned(), original.to_owned());
        let child = self.child_by_alias(&alias)?;
        let peer = match child.connection().await {
            Ok(p) => p,
            Err(msg) => return Some(Err(McpError::internal_error(msg, None))),
        };
        let mut p = params;
        p.uri = original;
        let req = ClientRequest::ReadResourceRequest(ReadResourceRequest::new(p));
        Some(match self.send(&child, peer, req, ctx).await {
            Ok(ServerResult::ReadResourceResult(mut r)) => {
                for c in &mut r.contents {
                    match c {
                        ResourceContents::TextResourceContents { uri, .. }
                        | ResourceContents::BlobResourceContents { uri, .. } => {
                            *uri = names::wrap_uri(&alias, uri);
                        }
                        _ => {}
                    }
                }
                Ok(ReadResourceResponse::Complete(r))
            }
            Ok(ServerResult::InputRequiredResult(r)) => Ok(ReadResourceResponse::InputRequired(r)),
            Ok(_) => Err(McpError::internal_error(
                format!(
                    "server `{}` answered resources/read with something else",
                    child.name
                ),
                None,
            )),
            Err(f) => Err(f.into_mcp(&child)),
        })
    }

    /// `resources/subscribe` of a child URI; `None` when it is not one.
    pub async fn subscribe(&self, uri: &str, on: bool) -> Option<Result<(), McpError>> {
        let (alias, original) = names::unwrap_uri(uri)?;
        let child = self.child_by_alias(alias)?;
        if !child.listing().subscribe {
            return Some(Err(McpError::invalid_params(
                format!(
                    "server `{}` does not support resource subscriptions",
                    child.name
                ),
                None,
            )));
        }
        let peer = match child.connection().await {
            Ok(p) => p,
            Err(msg) => return Some(Err(McpError::internal_error(msg, None))),
        };
        let r = if on {
            peer.subscribe(SubscribeRequestParams::new(original)).await
        } else {
            peer.unsubscribe(UnsubscribeRequestParams::new(original))
                .await
        };
        Some(r.map_err(|e| McpError::internal_error(format!("server `{}`: {e}", child.name), None)))
    }

    /// `completion/complete` for a child prompt or resource template; `None` otherwise.
    pub async fn complete(
        &self,
        params: CompleteRequestParams,
        ctx: &RequestContext<RoleServer>,
    ) -> Option<Result<CompleteResult, McpError>> {
        let mut p = params;
        let child = match &mut p.r#ref {
            Reference::Prompt(prompt) => {
                let route = self.view().prompt_routes.get(&prompt.name)?.clone();
                prompt.name = route.name;
                route.child
            }
            Reference::Resource(res) => {
                let (alias, original) = names::unwrap_uri(&res.uri)?;
                let (alias, original) = (alias.to_owned(), original.to_owned());
                res.uri = original;
                self.child_by_alias(&alias)?
            }
            _ => return None,
        };
        if !child.listing().completions {
            return Some(Ok(CompleteResult::default()));
        }
        let peer = match child.connection().await {
            Ok(p) => p,
            Err(msg) => return Some(Err(McpError::internal_error(msg, None))),
        };
        let req = ClientRequest::CompleteRequest(CompleteRequest::new(p));
        Some(match self.send(&child, peer, req, ctx).await {
            Ok(ServerResult::CompleteResult(r)) => Ok(r),
            Ok(_) => Ok(CompleteResult::default()),
            Err(f) => Err(f.into_mcp(&child)),
        })
    }

    /// Sends one request to a child on behalf of a host request: the child's timeout (reset by
    /// progress, never beyond `proxy.max_call_secs`), the host's progress token mapped to the
    /// child's, and a host cancel turned into a cancel of the child's request.
    async fn send(
        &self,
        child: &Child,
        peer: Peer<RoleClient>,
        req: ClientRequest,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<ServerResult, Failure> {
        let timeout = child
            .spec
            .as_ref()
            .map(|s| s.timeout)
            .unwrap_or(servers::DEFAULT_TIMEOUT);
        let max = self.settings.proxy.max_call;
        // A tool call's progress comes from the dispatcher; other requests get their own.
        let host_progress = crate::mcp::progress::CallProgress::of(ctx)
            .or_else(|| crate::mcp::progress::CallProgress::for_request(ctx));
        let mut options = PeerRequestOptions::with_timeout(timeout.min(max))
            .reset_timeout_on_progress()
            .with_max_total_timeout(max);
        if host_progress.is_some() {
            // The child gets a progress token only when the host asked for progress.
            let mut meta = rmcp::model::RequestMetaObject::new();
            meta.0.0.insert(
                inbound::KEEP_PROGRESS.to_owned(),
                serde_json::Value::Bool(true),
            );
            options = options.with_meta(meta);
        }
        let handle = peer
            .send_request_with_option(req, options)
            .await
            .map_err(|_| Failure::Closed)?;
        let token = handle.progress_token.clone();
        // While it runs, the child's own requests (sampling, elicitation) go to this host.
        let _calling = child.calling(ctx.peer.clone());
        if let Some(p) = host_progress.clone() {
            child.map_progress(token.clone(), p);
        }
        let id = handle.id.clone();
        let outcome = tokio::select! {
            r = handle.await_response() => Some(r),
            _ = ctx.ct.cancelled() => None,
        };
        if host_progress.is_some() {
            child.unmap_progress(&token);
        }
        let grace = self.settings.proxy.cancel_grace;
        match outcome {
            None => {
                let p =
                    CancelledNotificationParam::new(Some(id), Some("cancelled by the host".into()));
                let _ = peer.notify_cancelled(p).await;
                child.abandon(token, grace);
                Err(Failure::Cancelled)
            }
            Some(Ok(mut r)) => {
                mark_complete(&mut r);
                Ok(r)
            }
            Some(Err(ServiceError::McpError(e))) => Err(Failure::Rpc(e)),
            Some(Err(ServiceError::Timeout { timeout: t })) => {
                child.abandon(token, grace);
                Err(Failure::Timeout(t))
            }
            Some(Err(ServiceError::TransportSend(e))) => {
                // The child stopped reading (it closed its stdin): it can answer nothing more,
                // however alive it looks.
                tracing::warn!(server = %child.name, error = %e, "cannot write to the server; restarting it");
                child.request_restart();
                Err(Failure::Closed)
            }
            Some(Err(_)) => Err(Failure::Closed),
        }
    }
}

enum Failure {
    Rpc(McpError),
    Timeout(Duration),
    Closed,
    Cancelled,
}

impl Failure {
    fn code(&self) -> &'static str {
        match self {
            Failure::Timeout(_) => reason::TIMEOUT,
            Failure::Cancelled => reason::CANCELLED,
            Failure::Rpc(_) | Failure::Closed => reason::CHILD_FAILED,
        }
    }

    fn text(&self, child: &Child) -> String {
        let name = &child.name;
        match self {
            Failure::Rpc(e) => format!("server `{name}`: {}", e.message),
            Failure::Timeout(t) => format!(
                "server `{name}` did not answer within {} s, so the request was cancelled. If it is just slow, raise its `timeout_secs` in servers_config.json (progress notifications extend the wait up to proxy.max_call_secs)",
                t.as_secs()
            ),
            Failure::Closed => child.unavailable_text(&format!(
                "server `{name}` closed the connection during the request (it crashed or was cut off); switchboard restarts it, see proxy_status"
            )),
            Failure::Cancelled => "cancelled by the host".into(),
        }
    }

    fn into_mcp(self, child: &Child) -> McpError {
        match self {
            Failure::Rpc(e) => e,
            other => McpError::internal_error(other.text(child), None),
        }
    }
}

/// A child on an older protocol leaves out `resultType`; hosts on 2026-07-28 require it, and
/// rmcp strips it again for older hosts. Absent means complete, so that is what it becomes.
fn mark_complete(r: &mut ServerResult) {
    let t = match r {
        ServerResult::CallToolResult(r) => &mut r.result_type,
        ServerResult::GetPromptResult(r) => &mut r.result_type,
        ServerResult::ReadResourceResult(r) => &mut r.result_type,
        ServerResult::CompleteResult(r) => &mut r.result_type,
        _ => return,
    };
    if t.is_none() {
        *t = Some(rmcp::model::ResultType::COMPLETE);
    }
}

fn same_entry(child: &Child, entry: &servers::ServerEntry) -> bool {
    child.alias == entry.alias
        && match (&child.spec, &entry.spec) {
            (Ok(a), Ok(b)) => a.fingerprint == b.fingerprint,
            (Err(a), Err(b)) => a == b,
            _ => false,
        }
}

/// How long to suggest waiting for a child that started `started` ago and usually takes
/// `typical` to be ready.
fn retry_after(started: Option<Instant>, typical: Option<Duration>) -> Duration {
    let typical = typical.unwrap_or(Duration::from_secs(2));
    match started {
        Some(s) => typical
            .saturating_sub(s.elapsed())
            .max(Duration::from_secs(1)),
        None => typical,
    }
}
