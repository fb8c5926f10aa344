//! One child server: its lifecycle (start, `initialize`, list, watch, restart with backoff,
//! stop), what it last listed, its stderr tail, and the [`Relay`] that answers its requests
//! and forwards its notifications to the host. The process runs under the supervisor, so its
//! whole tree (grandchildren from `npx`, detached helpers) gets SIGTERM and, 2 s later,
//! SIGKILL whenever the child stops or switchboard goes away.
// Roots, sampling and logging are deprecated by the 2026-07-28 revision, but today's servers
// use them; the proxy relays them on purpose.
#![allow(deprecated)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime};

use rmcp::model::{
    ClientCapabilities, ClientInfo, ClientResult, CreateMessageRequestParams, CreateMessageResult,
    ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationCapability, Implementation,
    ListRootsResult, LoggingMessageNotificationParam, PaginatedRequestParams,
    ProgressNotificationParam, ProgressToken, Prompt, Resource, ResourceTemplate,
    ResourceUpdatedNotificationParam, Root, RootsCapabilities, SamplingCapability,
    ServerCapabilities, ServerRequest, Tool,
};
use rmcp::service::{NotificationContext, RequestContext, RunningService};
use rmcp::{ClientHandler, ErrorData as McpError, Peer, RoleClient, RoleServer};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::inbound::Inbound;
use super::servers::{ServerSpec, Transport};
use super::{Hub, frames, pins};
use crate::support::process::capture::Ring;
use crate::support::process::{self, Control, Exit, Input, Spec};

/// SIGTERM to SIGKILL when a child's tree is stopped.
const TERM_GRACE: Duration = Duration::from_secs(2);
/// Longest wait between two restarts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Requests given up on that one child remembers at most.
const MAX_ABANDONED: usize = 256;
/// A connection that lived this long resets the restart count.
const STABLE: Duration = Duration::from_secs(60);
/// How much stderr goes into an error message.
const TAIL_IN_ERRORS: usize = 1500;
/// Variables a child inherits from switchboard (what the official SDK clients pass), plus the
/// locale; everything else comes from its `env` in the servers file.
const INHERITED: &[&str] = &[
    "HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "LANG", "TMPDIR",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Lazy and not needed yet (its tools come from the last session's listing).
    Idle,
    Starting,
    Ready,
    /// Waiting to start again after a crash.
    Restarting,
    /// Gave up after `restart.max_retries`; `proxy_restart` tries again.
    Failed,
    /// Not started: disabled in the file or its entry has a problem.
    Disabled,
    Stopped,
}

/// The child's state for status and error messages.
#[derive(Debug, Clone)]
pub struct Status {
    pub phase: Phase,
    pub pid: Option<u32>,
    pub since: Option<Instant>,
    pub started_at: Option<SystemTime>,
    /// How long the last start took (spawn to listed).
    pub start_ms: Option<u64>,
    pub restarts: u32,
    pub retry_at: Option<Instant>,
    pub last_error: Option<String>,
}

/// What the child offered at its last listing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Listing {
    pub tools: Vec<Tool>,
    pub prompts: Vec<Prompt>,
    pub resources: Vec<Resource>,
    pub templates: Vec<ResourceTemplate>,
    #[serde(default)]
    pub subscribe: bool,
    #[serde(default)]
    pub completions: bool,
    #[serde(default)]
    pub logging: bool,
    /// Some lists were cut at `proxy.max_list_items`.
    #[serde(default)]
    pub truncated: bool,
}

pub struct Child {
    pub name: String,
    pub alias: String,
    pub spec: Result<ServerSpec, String>,
    hub: Weak<Hub>,
    status: Mutex<Status>,
    peer: Mutex<Option<Peer<RoleClient>>>,
    listing: Mutex<Arc<Listing>>,
    /// Pin verdicts of the listed tools, by tool name (only held ones are stored).
    held: Mutex<HashMap<String, String>>,
    /// Set once the server's first listing of the session was checked against the pins (a
    /// listing of its own, or the cached one of a lazy server); tools unknown after it are new.
    listed: std::sync::atomic::AtomicBool,
    stderr: Mutex<Ring>,
    /// Child progress token → the host call's progress.
    progress: Mutex<HashMap<ProgressToken, Arc<crate::mcp::progress::CallProgress>>>,
    /// The hosts with a request to this child under way, oldest first (by a number of the
    /// request's own): the child's sampling and elicitation go to the latest of them, the host
    /// whose call is waiting on the child, not to whichever host of the profile spoke last.
    callers: Mutex<Vec<(u64, Peer<RoleServer>)>>,
    restart_now: Notify,
    /// Progress tokens of requests given up on (timed out or cancelled), with when the grace
    /// for them ends: progress on one after that means the child ignores cancellation.
    abandoned: Mutex<HashMap<ProgressToken, Instant>>,
    wake: Notify,
    /// One re-listing at a time, so the last one to finish is the newest.
    relisting: tokio::sync::Mutex<()>,
    pub stop: CancellationToken,
    /// Becomes true after the first start attempt ends (ready or not).
    settled: tokio::sync::watch::Sender<bool>,
    /// True while a connection is ready; every status change also notifies its receivers.
    ready: tokio::sync::watch::Sender<bool>,
}

use crate::support::lock;

impl Child {
    pub fn new(
        name: String,
        alias: String,
        spec: Result<ServerSpec, String>,
        hub: Weak<Hub>,
        stderr_bytes: usize,
        stop: CancellationToken,
    ) -> Arc<Self> {
        let phase = if spec.is_err() {
            Phase::Disabled
        } else {
            Phase::Starting
        };
        let last_error = spec.as_ref().err().cloned();
        Arc::new(Self {
            name,
            alias,
            spec,
            hub,
            status: Mutex::new(Status {
                phase,
                pid: None,
                since: None,
                started_at: None,
                start_ms: None,
                restarts: 0,
                retry_at: None,
                last_error,
            }),
            peer: Mutex::new(None),
            listing: Mutex::new(Arc::default()),
            held: Mutex::new(HashMap::new()),
            listed: std::sync::atomic::AtomicBool::new(false),
            stderr: Mutex::new(Ring::new(stderr_bytes)),
            progress: Mutex::new(HashMap::new()),
            callers: Mutex::new(Vec::new()),
            restart_now: Notify::new(),
            abandoned: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            relisting: tokio::sync::Mutex::new(()),
            stop,
            settled: tokio::sync::watch::channel(false).0,
            ready: tokio::sync::watch::channel(false).0,
        })
    }

    pub fn status(&self) -> Status {
        lock(&self.status).clone()
    }

    /// The connection if the child is ready right now (no waiting, no lazy start).
    pub fn peer_now(&self) -> Option<Peer<RoleClient>> {
        lock(&self.peer).clone()
    }

    pub fn listing(&self) -> Arc<Listing> {
        lock(&self.listing).clone()
    }

    /// Tool name → why it is held back (its definition changed since it was approved).
    pub fn held(&self) -> HashMap<String, String> {
        lock(&self.held).clone()
    }

    pub fn is_lazy(&self) -> bool {
        self.spec.as_ref().is_ok_and(|s| s.lazy)
    }

    pub fn settled(&self) -> bool {
        *self.settled.borrow()
    }

    pub fn stderr_tail(&self, max: usize) -> String {
        let ring = lock(&self.stderr);
        let total = ring.total();
        let (text, _, _) = ring.read(total.saturating_sub(max as u64), max);
        text
    }

    /// The connection, starting a lazy child or waiting for one that is starting, up to the
    /// server's timeout. Errors are written for the model.
    pub async fn connection(&self) -> Result<Peer<RoleClient>, String> {
        let timeout = self
            .spec
            .as_ref()
            .map(|s| s.timeout)
            .map_err(|e| self.unavailable_text(e))?;
        let mut ready = self.ready.subscribe();
        loop {
            if let Some(p) = lock(&self.peer).clone() {
                return Ok(p);
            }
            let st = self.status();
            match st.phase {
                Phase::Idle => self.wake.notify_one(),
                Phase::Starting => {}
                Phase::Restarting => {
                    let secs = st
                        .retry_at
                        .map(|t| t.saturating_duration_since(Instant::now()).as_secs() + 1)
                        .unwrap_or(1);
                    return Err(self.unavailable_text(&format!(
                        "server `{}` is restarting after a failure; retry in {secs} s",
                        self.name
                    )));
                }
                Phase::Failed | Phase::Disabled | Phase::Stopped => {
                    return Err(self.unavailable_text(&format!(
                        "server `{}` is not running ({})",
                        self.name,
                        phase_word(st.phase)
                    )));
                }
                Phase::Ready => {}
            }
            match tokio::time::timeout(timeout, ready.changed()).await {
                Ok(Ok(())) => continue,
                _ => {
                    return Err(self.unavailable_text(&format!(
                        "server `{}` did not become ready within {} s",
                        self.name,
                        timeout.as_secs()
                    )));
                }
            }
        }
    }

    /// An error text with the last error and the stderr tail, for calls that cannot be served.
    pub fn unavailable_text(&self, head: &str) -> String {
        let st = self.status();
        let mut s = head.to_owned();
        if let Some(e) = st.last_error.filter(|e| !head.contains(e.as_str())) {
            s.push_str(&format!(". Last error: {e}"));
        }
        let tail = self.stderr_tail(TAIL_IN_ERRORS);
        if !tail.trim().is_empty() {
            s.push_str(&format!(". Its stderr ends with:\n{}", tail.trim_end()));
        }
        if matches!(st.phase, Phase::Failed | Phase::Stopped) {
            s.push_str("\nCall proxy_restart to start it again once the cause is fixed.");
        }
        s
    }

    pub fn request_restart(&self) {
        lock(&self.abandoned).clear();
        self.restart_now.notify_one();
        self.wake.notify_one();
    }

    /// Remembers a request given up on: progress for it after `grace` restarts the child.
    pub fn abandon(&self, token: ProgressToken, grace: Duration) {
        let mut a = lock(&self.abandoned);
        // Bounded: the oldest are forgotten first.
        if a.len() >= MAX_ABANDONED
            && let Some(oldest) = a.iter().min_by_key(|(_, at)| **at).map(|(t, _)| t.clone())
        {
            a.remove(&oldest);
        }
        a.insert(token, Instant::now() + grace);
    }

    /// Restarts the child when it still works on a request given up on past its grace.
    fn progress_after_abandon(&self, token: &ProgressToken) {
        let past = lock(&self.abandoned)
            .get(token)
            .is_some_and(|end| Instant::now() >= *end);
        if past {
            tracing::warn!(server = %self.name, "the server kept working on a request after it was cancelled and its grace ended; restarting it");
            self.set(|s| {
                s.last_error = Some(
                    "it kept working on a request after cancellation and the grace period (proxy.cancel_grace_secs); restarted"
                        .into(),
                );
            });
            self.request_restart();
        }
    }

    /// Changes the status and wakes whoever waits in [`Child::connection`].
    fn set(&self, f: impl FnOnce(&mut Status)) {
        f(&mut lock(&self.status));
        self.ready.send_modify(|_| {});
    }

    fn hub(&self) -> Option<Arc<Hub>> {
        self.hub.upgrade()
    }

    /// Registers a forwarded request's progress token (child side) with the host's.
    pub fn map_progress(
        &self,
        child: ProgressToken,
        host: Arc<crate::mcp::progress::CallProgress>,
    ) {
        lock(&self.progress).insert(child, host);
    }

    pub fn unmap_progress(&self, child: &ProgressToken) {
        lock(&self.progress).remove(child);
    }

    /// Records that `host` has a request to this child under way, until the guard drops.
    pub fn calling(&self, host: Peer<RoleServer>) -> Calling<'_> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        lock(&self.callers).push((n, host));
        Calling { child: self, n }
    }

    /// The host whose request to this child started last and is still under way (its
    /// connection open).
    pub fn caller(&self) -> Option<Peer<RoleServer>> {
        lock(&self.callers)
            .iter()
            .rev()
            .map(|(_, p)| p)
            .find(|p| !p.is_transport_closed())
            .cloned()
    }

    /// Re-checks the listed tools against the pins (after a listing, or an approval).
    pub fn check_pins(&self, hub: &Hub) {
        let listing = self.listing();
        let mut held = HashMap::new();
        if hub.settings.proxy.pinning != crate::config::Pinning::Off {
            let first_listing = !self.listed.load(std::sync::atomic::Ordering::SeqCst);
            let mut pins = lock(&hub.pins);
            let mut dirty = false;
            for t in &listing.tools {
                let hashes = (pins::tool_hash(t), pins::legacy_hash(t));
                let (verdict, d) =
                    pins.check(&self.name, &t.name, (&hashes.0, &hashes.1), first_listing);
                dirty |= d;
                let why = match verdict {
                    pins::Verdict::Trusted => continue,
                    pins::Verdict::Changed => {
                        "changed its definition (name, description, input schema or annotations) since it was approved"
                    }
                    pins::Verdict::New => {
                        "appeared after the server's first listing of this session and was never approved"
                    }
                };
                if hub.settings.proxy.pinning == crate::config::Pinning::Enforce {
                    held.insert(
                        t.name.to_string(),
                        format!(
                            "tool `{}` of server `{}` {why}, so it is held back. A person must approve it: `switchboard proxy approve {}:{}`, or the proxy_approve tool with the host's confirmation",
                            t.name, self.name, self.name, t.name
                        ),
                    );
                } else {
                    tracing::warn!(server = %self.name, tool = %t.name, "{why} (proxy.pinning = warn)");
                }
            }
            if dirty && let Err(e) = pins.save() {
                tracing::warn!(error = %e, "cannot save the tool pins");
            }
        }
        *lock(&self.held) = held;
    }

    /// Runs the child until `stop`: starts it, restarts it after failures with exponential
    /// backoff, and gives up after `restart.max_retries` until asked to restart.
    pub async fn run(self: Arc<Self>) {
        let Ok(spec) = self.spec.clone() else {
            self.settled.send_replace(true);
            return;
        };
        if spec.lazy
            && let Some(cached) = self.load_cache()
        {
            // Its tools are known from the last session: list them, start on first use.
            *lock(&self.listing) = Arc::new(cached);
            if let Some(hub) = self.hub() {
                self.check_pins(&hub);
                self.listed.store(true, std::sync::atomic::Ordering::SeqCst);
                hub.changed();
            }
            self.set(|s| s.phase = Phase::Idle);
            self.settled.send_replace(true);
            tokio::select! {
                _ = self.stop.cancelled() => return self.stopped(),
                _ = self.wake.notified() => {}
            }
        }
        let mut failures: u32 = 0;
        loop {
            self.set(|s| {
                s.phase = Phase::Starting;
                s.retry_at = None;
            });
            let began = Instant::now();
            let outcome = tokio::select! {
                _ = self.stop.cancelled() => return self.stopped(),
                r = self.clone().serve_once(&spec) => r,
            };
            let lived = began.elapsed();
            *lock(&self.peer) = None;
            self.ready.send_replace(false);
            self.set(|s| s.pid = None);
            match outcome {
                Ended::Stop => return self.stopped(),
                Ended::Restart => {
                    failures = 0;
                    continue;
                }
                Ended::Failed(why) => {
                    tracing::warn!(server = %self.name, "{why}");
                    self.set(|s| s.last_error = Some(why));
                }
            }
            self.settled.send_replace(true);
            if lived >= STABLE {
                failures = 0;
            }
            failures += 1;
            if failures > spec.max_retries {
                self.set(|s| s.phase = Phase::Failed);
                if let Some(hub) = self.hub() {
                    hub.changed();
                }
                tokio::select! {
                    _ = self.stop.cancelled() => return self.stopped(),
                    _ = self.restart_now.notified() => { failures = 0; continue; }
                }
            }
            let wait = spec
                .backoff
                .saturating_mul(1u32 << (failures - 1).min(16))
                .min(MAX_BACKOFF);
            self.set(|s| {
                s.phase = Phase::Restarting;
                s.retry_at = Some(Instant::now() + wait);
                s.restarts += 1;
            });
            tokio::select! {
                _ = self.stop.cancelled() => return self.stopped(),
                _ = self.restart_now.notified() => { failures = 0; }
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    fn stopped(&self) {
        *lock(&self.peer) = None;
        self.ready.send_replace(false);
        self.settled.send_replace(true);
        self.set(|s| {
            s.phase = Phase::Stopped;
            s.pid = None;
        });
    }

    /// One connection, from spawn to its end.
    async fn serve_once(self: Arc<Self>, spec: &ServerSpec) -> Ended {
        let Some(hub) = self.hub() else {
            return Ended::Stop;
        };
        let began = Instant::now();
        let relay = Relay {
            child: Arc::downgrade(&self),
            hub: Arc::downgrade(&hub),
            allow_sampling: spec.allow_sampling,
            allow_elicitation: spec.allow_elicitation,
        };
        let mut control: Option<Control> = None;
        let mut exit: Option<process::ExitWaiter> = None;
        let report = Arc::new(Mutex::new(frames::Report::default()));
        let connecting = async {
            match &spec.transport {
                Transport::Stdio {
                    command,
                    args,
                    env,
                    cwd,
                } => {
                    let (parts, waiter) = self
                        .spawn(
                            &hub,
                            command,
                            args,
                            env,
                            cwd.as_ref(),
                            spec.sandbox.as_ref(),
                        )
                        .await?;
                    control = Some(parts.control.clone());
                    exit = Some(waiter);
                    self.set(|s| s.pid = Some(parts.pid));
                    if let Some(stderr) = parts.stderr {
                        let me = Arc::downgrade(&self);
                        tokio::spawn(pump_stderr(stderr, me));
                    }
                    let stdin = parts
                        .stdin
                        .ok_or_else(|| "no stdin pipe to the server".to_owned())?;
                    let reader = frames::FrameGuard::new(
                        parts.stdout,
                        hub.settings.proxy.max_frame_bytes,
                        report.clone(),
                    );
                    let transport =
                        rmcp::transport::async_rw::AsyncRwTransport::<RoleClient, _, _>::new(
                            reader, stdin,
                        )
                        .with_max_line_length(hub.settings.proxy.max_frame_bytes + 1);
                    let transport = Inbound::new(transport, &self.name, hub.settings.proxy.inbound);
                    rmcp::serve_client(relay, transport)
                        .await
                        .map_err(|e| format!("initialize failed: {e}"))
                }
                Transport::Http { url, headers } => {
                    let mut map = HashMap::new();
                    for (k, v) in headers {
                        if let (Ok(k), Ok(v)) = (
                            http::HeaderName::from_bytes(k.as_bytes()),
                            http::HeaderValue::from_str(v),
                        ) {
                            map.insert(k, v);
                        }
                    }
                    let config = rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(url.as_str())
                        .custom_headers(map);
                    let transport =
                        rmcp::transport::StreamableHttpClientTransport::from_config(config);
                    let transport = Inbound::new(transport, &self.name, hub.settings.proxy.inbound);
                    rmcp::serve_client(relay, transport)
                        .await
                        .map_err(|e| format!("cannot connect to {url}: {e}"))
                }
            }
        };
        let running: Result<RunningService<RoleClient, Relay>, String> =
            match tokio::time::timeout(spec.timeout, connecting).await {
                Ok(r) => r,
                Err(_) => Err(format!(
                    "it did not answer initialize within {} s (timeout_secs)",
                    spec.timeout.as_secs()
                )),
            };
        let running = match running {
            Ok(r) => r,
            Err(e) => {
                let why = self.failure_text(&e, &report, control.as_ref(), exit).await;
                return Ended::Failed(why);
            }
        };
        let peer = running.peer().clone();
        let caps = peer
            .peer_info()
            .map(|i| i.capabilities.clone())
            .unwrap_or_default();
        let listing =
            match tokio::time::timeout(spec.timeout, list_everything(&peer, &caps, &hub)).await {
                Ok(Ok(l)) => l,
                Ok(Err(e)) => {
                    let why = self.failure_text(&e, &report, control.as_ref(), exit).await;
                    return Ended::Failed(why);
                }
                Err(_) => {
                    let why = format!(
                        "it did not list its tools within {} s (timeout_secs)",
                        spec.timeout.as_secs()
                    );
                    let why = self
                        .failure_text(&why, &report, control.as_ref(), exit)
                        .await;
                    return Ended::Failed(why);
                }
            };
        self.install_listing(listing, &hub);
        *lock(&self.peer) = Some(peer);
        let start_ms = began.elapsed().as_millis() as u64;
        self.set(|s| {
            s.phase = Phase::Ready;
            s.since = Some(Instant::now());
            s.started_at = Some(SystemTime::now());
            s.start_ms = Some(start_ms);
            s.last_error = None;
        });
        tracing::info!(server = %self.name, start_ms, "child server ready");
        self.ready.send_replace(true);
        self.settled.send_replace(true);
        hub.changed();

        let cancel = running.cancellation_token();
        let mut waiting = std::pin::pin!(running.waiting());
        let end = tokio::select! {
            _ = &mut waiting => None,
            _ = self.stop.cancelled() => Some(Ended::Stop),
            _ = self.restart_now.notified() => Some(Ended::Restart),
        };
        if end.is_some() {
            *lock(&self.peer) = None;
            self.ready.send_replace(false);
            cancel.cancel();
            if let Some(c) = &control {
                c.kill().await;
            }
            let _ = tokio::time::timeout(Duration::from_secs(1), &mut waiting).await;
        }
        match end {
            Some(e) => e,
            None => {
                let why = self
                    .failure_text("the connection closed", &report, control.as_ref(), exit)
                    .await;
                Ended::Failed(why)
            }
        }
    }

    /// Why a connection failed: the reason, the exit status, what the frame guard saw. Also
    /// makes sure the process tree is gone.
    async fn failure_text(
        &self,
        head: &str,
        report: &Mutex<frames::Report>,
        control: Option<&Control>,
        exit: Option<process::ExitWaiter>,
    ) -> String {
        let mut why = head.to_owned();
        if let Some(cut) = lock(report).cut_off.clone() {
            why = format!("cut off: {cut}");
        }
        if let Some(c) = control {
            c.kill().await;
        }
        if let Some(w) = exit {
            match tokio::time::timeout(TERM_GRACE + Duration::from_secs(1), w.wait()).await {
                Ok(Exit::Code(c)) => why.push_str(&format!(" (the process exited with code {c})")),
                Ok(Exit::Signal(s)) => why.push_str(&format!(
                    " (the process ended by {})",
                    process::signal_name(s)
                )),
                _ => {}
            }
        }
        let r = lock(report);
        if r.dropped_lines > 0 {
            why.push_str(&format!(
                "; {} non-JSON line(s) on stdout were dropped, e.g. {:?}",
                r.dropped_lines,
                r.samples.first().cloned().unwrap_or_default()
            ));
        }
        why
    }

    async fn spawn(
        &self,
        hub: &Hub,
        command: &str,
        args: &[String],
        env: &[(String, String)],
        cwd: Option<&PathBuf>,
        sandbox: Option<&super::servers::ChildSandbox>,
    ) -> Result<(process::Parts, process::ExitWaiter), String> {
        let mut vars: Vec<(std::ffi::OsString, std::ffi::OsString)> = std::env::vars_os()
            .filter(|(k, _)| {
                k.to_str()
                    .is_some_and(|k| INHERITED.contains(&k) || k.starts_with("LC_"))
            })
            .collect();
        for (k, v) in env {
            vars.retain(|(name, _)| name != k.as_str());
            vars.push((k.into(), v.into()));
        }
        vars.push((
            "SWITCHBOARD_PROXY_DEPTH".into(),
            (hub.settings.proxy.depth + 1).to_string().into(),
        ));
        let cwd = match cwd {
            Some(c) => c.clone(),
            None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
        };
        let mut argv: Vec<std::ffi::OsString> = vec![command.into()];
        argv.extend(args.iter().map(Into::into));
        if let Some(sandbox) = sandbox {
            argv = sandboxed(hub, &argv, &vars, &cwd, sandbox).await?;
        }
        let spec = Spec {
            argv,
            cwd,
            env: vars,
            input: Input::Pipe,
            merge_output: false,
            limits: Default::default(),
            term_grace: TERM_GRACE,
            new_session: false,
        };
        let started = process::start(spec, &hub.settings.supervisor_exe)
            .await
            .map_err(|e| format!("cannot start `{command}`: {e}; check `command` and that it is installed and on PATH"))?;
        Ok(started.split())
    }

    fn install_listing(&self, listing: Listing, hub: &Hub) {
        if self.is_lazy() {
            self.save_cache(&listing, hub);
        }
        *lock(&self.listing) = Arc::new(listing);
        self.check_pins(hub);
        self.listed.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Lists again after the child said a list changed (debounced by the hub).
    pub async fn relist(self: Arc<Self>) {
        let Some(hub) = self.hub() else { return };
        let _one_at_a_time = self.relisting.lock().await;
        let Some(peer) = lock(&self.peer).clone() else {
            return;
        };
        let caps = peer
            .peer_info()
            .map(|i| i.capabilities.clone())
            .unwrap_or_default();
        let timeout = self
            .spec
            .as_ref()
            .map(|s| s.timeout)
            .unwrap_or(super::servers::DEFAULT_TIMEOUT);
        match tokio::time::timeout(timeout, list_everything(&peer, &caps, &hub)).await {
            Ok(Ok(listing)) => {
                self.install_listing(listing, &hub);
                hub.changed();
            }
            Ok(Err(e)) => tracing::warn!(server = %self.name, "re-listing failed: {e}"),
            Err(_) => tracing::warn!(server = %self.name, "re-listing timed out"),
        }
    }

    fn cache_path(&self, hub: &Hub) -> PathBuf {
        hub.settings
            .profile
            .data_dir
            .join("proxy")
            .join("listings")
            .join(format!("{}.json", super::names::short_hash(&self.name)))
    }

    fn save_cache(&self, listing: &Listing, hub: &Hub) {
        let path = self.cache_path(hub);
        let write = || -> std::io::Result<()> {
            let dir = path.parent().unwrap_or(std::path::Path::new("."));
            std::fs::create_dir_all(dir)?;
            let tmp = tempfile::NamedTempFile::new_in(dir)?;
            serde_json::to_writer(tmp.as_file(), listing)?;
            tmp.persist(&path).map_err(|e| e.error)?;
            Ok(())
        };
        if let Err(e) = write() {
            tracing::debug!(server = %self.name, error = %e, "cannot cache the listing");
        }
    }

    fn load_cache(&self) -> Option<Listing> {
        let hub = self.hub()?;
        let bytes = std::fs::read(self.cache_path(&hub)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

enum Ended {
    Stop,
    Restart,
    Failed(String),
}

fn phase_word(p: Phase) -> &'static str {
    match p {
        Phase::Idle => "idle",
        Phase::Starting => "starting",
        Phase::Ready => "ready",
        Phase::Restarting => "restarting",
        Phase::Failed => "failed; it stopped retrying",
        Phase::Disabled => "disabled",
        Phase::Stopped => "stopped",
    }
}

async fn pump_stderr(mut stderr: tokio::net::unix::pipe::Receiver, child: Weak<Child>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match stderr.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let Some(c) = child.upgrade() else { return };
                lock(&c.stderr).push(&buf[..n]);
            }
        }
    }
}

/// Drains every list the child offers, page by page, up to `proxy.max_list_items` each.
async fn list_everything(
    peer: &Peer<RoleClient>,
    caps: &ServerCapabilities,
    hub: &Hub,
) -> Result<Listing, String> {
    let max = hub.settings.proxy.max_list_items;
    let mut l = Listing {
        subscribe: caps
            .resources
            .as_ref()
            .is_some_and(|r| r.subscribe == Some(true)),
        completions: caps.completions.is_some(),
        logging: caps.logging.is_some(),
        ..Listing::default()
    };
    macro_rules! drain {
        ($method:ident, $page:ident, $field:ident, $what:literal) => {{
            let mut cursor: Option<String> = None;
            loop {
                let params = cursor
                    .take()
                    .map(|c| PaginatedRequestParams::default().with_cursor(Some(c)));
                let page = peer
                    .$method(params)
                    .await
                    .map_err(|e| format!("{} failed: {e}", $what))?;
                l.$field.extend(page.$page);
                if l.$field.len() >= max {
                    l.$field.truncate(max);
                    l.truncated = true;
                    break;
                }
                match page.next_cursor {
                    Some(c) if !c.is_empty() => cursor = Some(c),
                    _ => break,
                }
            }
        }};
    }
    if caps.tools.is_some() {
        drain!(list_tools, tools, tools, "tools/list");
    }
    if caps.prompts.is_some() {
        drain!(list_prompts, prompts, prompts, "prompts/list");
    }
    if caps.resources.is_some() {
        drain!(list_resources, resources, resources, "resources/list");
        drain!(
            list_resource_templates,
            resource_templates,
            templates,
            "resources/templates/list"
        );
    }
    Ok(l)
}

/// switchboard as the child's client: answers `roots/list` with the effective roots, relays
/// sampling and elicitation to the host when both sides allow it, and forwards progress, log
/// messages, list changes and resource updates.
#[derive(Clone)]
pub struct Relay {
    child: Weak<Child>,
    hub: Weak<Hub>,
    allow_sampling: bool,
    allow_elicitation: bool,
}

impl Relay {
    /// Where the child's requests go: the host whose call to it is under way, else the host
    /// of the profile that spoke last.
    fn host(&self) -> Option<Peer<RoleServer>> {
        self.child
            .upgrade()
            .and_then(|c| c.caller())
            .or_else(|| self.hub.upgrade()?.host())
    }

    fn name(&self) -> String {
        self.child
            .upgrade()
            .map(|c| c.name.clone())
            .unwrap_or_default()
    }
}

/// A host's request to a child under way (see [`Child::calling`]).
pub struct Calling<'a> {
    child: &'a Child,
    n: u64,
}

impl Drop for Calling<'_> {
    fn drop(&mut self) {
        lock(&self.child.callers).retain(|(n, _)| *n != self.n);
    }
}

impl ClientHandler for Relay {
    fn get_info(&self) -> ClientInfo {
        let mut caps = ClientCapabilities::default();
        caps.roots = Some(RootsCapabilities::default());
        if self.allow_sampling {
            caps.sampling = Some(SamplingCapability::default());
        }
        if self.allow_elicitation {
            caps.elicitation = Some(ElicitationCapability::default());
        }
        let mut info = Implementation::new("switchboard", env!("CARGO_PKG_VERSION"));
        info.title = Some("switchboard (proxy)".into());
        ClientInfo::new(caps, info)
    }

    async fn list_roots(
        &self,
        _context: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, McpError> {
        let configured = self
            .child
            .upgrade()
            .and_then(|c| c.spec.as_ref().ok().map(|s| s.roots.clone()))
            .unwrap_or_default();
        let paths = match configured {
            super::servers::ChildRoots::None => Vec::new(),
            super::servers::ChildRoots::Paths(p) => p,
            super::servers::ChildRoots::Session => {
                self.hub.upgrade().map(|h| h.roots()).unwrap_or_default()
            }
        };
        let roots = paths
            .into_iter()
            .map(|p| {
                let mut r = Root::new(crate::support::uri::path_to_file_uri(&p));
                r.name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                r
            })
            .collect();
        Ok(ListRootsResult::new(roots))
    }

    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, McpError> {
        let name = self.name();
        if !self.allow_sampling {
            return Err(McpError::invalid_request(
                format!(
                    "switchboard does not relay sampling for `{name}`: set \"allow_sampling\": true for it in servers_config.json"
                ),
                None,
            ));
        }
        let host = self
            .host()
            .filter(|h| {
                h.peer_info()
                    .is_some_and(|i| i.capabilities.sampling.is_some())
            })
            .ok_or_else(|| {
                McpError::invalid_request(
                    "the host did not declare sampling, so switchboard cannot relay this request",
                    None,
                )
            })?;
        host.create_message(params)
            .await
            .map_err(|e| McpError::internal_error(format!("the host's sampling failed: {e}"), None))
    }

    async fn create_elicitation(
        &self,
        params: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, McpError> {
        let name = self.name();
        if !self.allow_elicitation {
            return Err(McpError::invalid_request(
                format!(
                    "switchboard does not relay elicitation for `{name}`: set \"allow_elicitation\": true for it in servers_config.json"
                ),
                None,
            ));
        }
        let host = self
            .host()
            .filter(|h| h.peer_info().is_some_and(|i| i.capabilities.elicitation.is_some()))
            .ok_or_else(|| {
                McpError::invalid_request(
                    "the host did not declare elicitation, so switchboard cannot relay this request",
                    None,
                )
            })?;
        match host
            .send_request(ServerRequest::ElicitRequest(ElicitRequest::new(params)))
            .await
        {
            Ok(ClientResult::ElicitResult(r)) => Ok(r),
            Ok(_) => Err(McpError::internal_error(
                "the host answered elicitation with something else",
                None,
            )),
            Err(e) => Err(McpError::internal_error(
                format!("the host's elicitation failed: {e}"),
                None,
            )),
        }
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let Some(child) = self.child.upgrade() else {
            return;
        };
        let target = lock(&child.progress).get(&params.progress_token).cloned();
        match target {
            Some(host) => {
                host.report(params.progress, params.total, params.message)
                    .await;
            }
            None => child.progress_after_abandon(&params.progress_token),
        }
    }

    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let (Some(child), Some(hub)) = (self.child.upgrade(), self.hub.upgrade()) else {
            return;
        };
        let mut p = params;
        p.logger = Some(child.alias.clone());
        hub.log_to_host(p).await;
    }

    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let (Some(child), Some(hub)) = (self.child.upgrade(), self.hub.upgrade()) else {
            return;
        };
        let uri = super::names::wrap_uri(&child.alias, &params.uri);
        hub.changes
            .publish(crate::mcp::changes::Change::Updated(uri));
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.relist();
    }

    async fn on_prompt_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.relist();
    }

    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.relist();
    }
}

impl Relay {
    fn relist(&self) {
        if let Some(child) = self.child.upgrade() {
            tokio::spawn(child.relist());
        }
    }
}

/// The argv that runs a child in the exec sandbox: the system folders and the toolchains of its
/// `PATH` read-only, its own folders (the cwd, and the folder of each argument that is an
/// existing absolute path, such as its script) and the entry's `read` folders read-only, its
/// `write` folders read-write, a private home and `/tmp`, the network on. Without a working
/// bubblewrap the child is not started: never silently unsandboxed.
async fn sandboxed(
    hub: &Hub,
    argv: &[std::ffi::OsString],
    vars: &[(std::ffi::OsString, std::ffi::OsString)],
    cwd: &std::path::Path,
    sandbox: &super::servers::ChildSandbox,
) -> Result<Vec<std::ffi::OsString>, String> {
    use crate::support::process::sandbox::{self as sb, SandboxPlan};
    let path_var = vars
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone());
    let bwrap = hub
        .sandbox
        .get_or_init(|| async { sb::available(&std::env::var_os("PATH").unwrap_or_default()).await })
        .await
        .clone()
        .map_err(|why| {
            format!("the entry asks for `sandbox` but the sandbox cannot run here: {why}; nothing was started")
        })?;
    let home = hub.settings.exec.home.clone();
    let mut system: Vec<PathBuf> = sb::SYSTEM.iter().map(PathBuf::from).collect();
    system.extend(crate::policy::exec::toolchains(
        path_var.as_deref(),
        home.as_deref(),
    ));
    // `/`, the home folder and what holds it are never shown whole; a file there is shown
    // alone.
    let too_wide = |p: &std::path::Path| crate::policy::exec::too_wide(p, home.as_deref());
    let mut visible = Vec::new();
    let mut show = |p: &std::path::Path| {
        let dir = if p.is_dir() { Some(p) } else { p.parent() };
        match dir {
            Some(d) if !too_wide(d) => visible.push(d.to_path_buf()),
            _ if p.is_file() => visible.push(p.to_path_buf()),
            _ => {}
        }
    };
    for a in argv.iter().skip(1) {
        let p = std::path::Path::new(a);
        if p.is_absolute() && p.exists() {
            show(p);
        }
    }
    // The program itself, when it is a path outside the system folders.
    let program = std::path::Path::new(&argv[0]);
    let program = if program.is_absolute() {
        Some(program.to_path_buf())
    } else {
        path_var
            .as_deref()
            .and_then(|p| process::find_on_path(&program.to_string_lossy(), p))
    };
    if let Some(p) = &program {
        show(p);
    }
    let cwd = if too_wide(cwd) {
        std::path::PathBuf::from("/")
    } else {
        show(cwd);
        cwd.to_path_buf()
    };
    visible.extend(sandbox.read.iter().cloned());
    let plan = SandboxPlan {
        system,
        home,
        visible,
        writable: sandbox.write.clone(),
        read_only: Vec::new(),
        hidden: Vec::new(),
        network: true,
        cwd,
    };
    Ok(sb::bwrap_argv(&bwrap, &plan, argv))
}
