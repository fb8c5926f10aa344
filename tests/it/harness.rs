//! Fixtures shared by the tests: a project folder with a sibling that shares its name prefix,
//! an in-process MCP session, and a spawned `switchboard` process speaking raw JSON lines.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[allow(deprecated)]
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, ContentBlock,
    Implementation, ListRootsResult, LoggingMessageNotificationParam,
    ResourceUpdatedNotificationParam, Root,
};
use rmcp::service::{NotificationContext, RequestContext, RunningService};
use rmcp::{ClientHandler, ErrorData, RoleClient, ServiceExt};
use serde_json::{Value, json};
use switchboard::Switchboard;
use switchboard::config::Settings;

pub struct Project {
    _dir: tempfile::TempDir,
    pub base: PathBuf,
    pub root: PathBuf,
    /// A sibling named like the root plus a suffix: `…/project_evil` next to `…/project`.
    pub outside: PathBuf,
    pub data: PathBuf,
}

impl Project {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        let root = base.join("project");
        let outside = base.join("project_evil");
        let data = base.join("data");
        for d in [&root, &outside, &data] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(outside.join("secret.txt"), "TOP-SECRET\n").unwrap();
        Self {
            _dir: dir,
            base,
            root,
            outside,
            data,
        }
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        p
    }

    /// Makes the root a git repository with one commit of everything in it (for the git
    /// tools), with no user or system git config.
    pub fn git_init(&self) {
        let commit: &[&str] = &[
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "commit",
            "-qm",
            "first commit",
        ];
        for args in [&["init", "-q"][..], &["add", "-A"], commit] {
            let ok = std::process::Command::new("git")
                .args(args)
                .current_dir(&self.root)
                .env("HOME", &self.base)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .status()
                .expect("git is installed (scripts/test.sh installs it)")
                .success();
            assert!(ok, "git {args:?}");
        }
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).unwrap()
    }

    pub fn settings(&self) -> Settings {
        let mut s =
            Settings::defaults_for_tests(&self.data, std::slice::from_ref(&self.root)).unwrap();
        // Commands run under a supervisor, which is the switchboard binary re-executed.
        s.supervisor_exe = PathBuf::from(bin());
        // Most tests look at the tools themselves; the exposure tests choose their mode.
        s.tools.exposure = switchboard::policy::tools::Exposure::Full;
        s
    }

    /// Every file below the outside folder with its content, to prove nothing changed there.
    pub fn outside_snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        snapshot(&self.outside, &mut out);
        out.sort();
        out
    }
}

fn snapshot(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            snapshot(&p, out);
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap_or_default()));
        }
    }
}

/// One progress notification: its progress value and message.
pub type ProgressSeen = (f64, Option<String>);

/// A test client: optionally announces MCP roots (changeable while connected), and records
/// resource updates.
#[derive(Clone, Default)]
pub struct TestClient {
    pub roots: Option<Vec<String>>,
    pub changed_roots: Arc<Mutex<Option<Vec<String>>>>,
    pub updates: Arc<Mutex<Vec<String>>>,
    pub log: Arc<Mutex<Vec<String>>>,
    /// Progress notifications: (progress, message).
    pub progress: Arc<Mutex<Vec<ProgressSeen>>>,
    /// Declares sampling and answers every request with a fixed text.
    pub sampling: bool,
    /// Declares elicitation; `Some(true)` accepts with `{"approve": true}`, `Some(false)` declines.
    pub elicit: Option<bool>,
    /// `notifications/tools/list_changed` received.
    pub tools_changed: Arc<std::sync::atomic::AtomicUsize>,
    /// `notifications/prompts/list_changed` and `resources/list_changed` received.
    pub prompts_changed: Arc<std::sync::atomic::AtomicUsize>,
    pub resources_changed: Arc<std::sync::atomic::AtomicUsize>,
    /// Log messages as `logger: data`.
    pub loggers: Arc<Mutex<Vec<String>>>,
    /// The messages of the elicitation questions asked.
    pub asked: Arc<Mutex<Vec<String>>>,
}

#[allow(deprecated)]
impl ClientHandler for TestClient {
    fn get_info(&self) -> ClientConfig {
        let mut caps = if self.roots.is_some() {
            ClientCapabilities::builder().enable_roots().build()
        } else {
            ClientCapabilities::default()
        };
        if self.sampling {
            caps.sampling = Some(Default::default());
        }
        if self.elicit.is_some() {
            caps.elicitation = Some(Default::default());
        }
        ClientConfig::new(caps, Implementation::new("switchboard-tests", "1.0"))
    }

    async fn list_roots(
        &self,
        _ctx: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, ErrorData> {
        let current = self
            .changed_roots
            .lock()
            .unwrap()
            .clone()
            .or_else(|| self.roots.clone());
        let roots = current
            .unwrap_or_default()
            .into_iter()
            .map(Root::new)
            .collect();
        Ok(ListRootsResult::new(roots))
    }

    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _ctx: NotificationContext<RoleClient>,
    ) {
        self.log.lock().unwrap().push(params.data.to_string());
        self.loggers.lock().unwrap().push(format!(
            "{}: {}",
            params.logger.unwrap_or_default(),
            params.data
        ));
    }

    async fn on_tool_list_changed(&self, _ctx: NotificationContext<RoleClient>) {
        self.tools_changed
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    async fn on_prompt_list_changed(&self, _ctx: NotificationContext<RoleClient>) {
        self.prompts_changed
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    async fn on_resource_list_changed(&self, _ctx: NotificationContext<RoleClient>) {
        self.resources_changed
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    async fn create_message(
        &self,
        _params: rmcp::model::CreateMessageRequestParams,
        _ctx: RequestContext<RoleClient>,
    ) -> Result<rmcp::model::CreateMessageResult, ErrorData> {
        if !self.sampling {
            return Err(ErrorData::invalid_request("no sampling", None));
        }
        Ok(rmcp::model::CreateMessageResult::new(
            rmcp::model::SamplingMessage::assistant_text("sampled by the test client"),
            "test-model".into(),
        ))
    }

    async fn create_elicitation(
        &self,
        params: rmcp::model::ElicitRequestParams,
        _ctx: RequestContext<RoleClient>,
    ) -> Result<rmcp::model::ElicitResult, ErrorData> {
        if let rmcp::model::ElicitRequestParams::FormElicitationParams { message, .. } = &params {
            self.asked.lock().unwrap().push(message.clone());
        }
        let answer = if self.elicit == Some(true) {
            serde_json::json!({"action": "accept", "content": {"approve": true}})
        } else {
            serde_json::json!({"action": "decline"})
        };
        Ok(serde_json::from_value(answer).unwrap())
    }

    async fn on_progress(
        &self,
        params: rmcp::model::ProgressNotificationParam,
        _ctx: NotificationContext<RoleClient>,
    ) {
        self.progress
            .lock()
            .unwrap()
            .push((params.progress, params.message));
    }

    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _ctx: NotificationContext<RoleClient>,
    ) {
        self.updates.lock().unwrap().push(params.uri);
    }
}

pub struct Session {
    pub client: RunningService<RoleClient, TestClient>,
    pub updates: Arc<Mutex<Vec<String>>>,
    pub _server: Switchboard,
}

pub async fn session(settings: Settings) -> Session {
    session_with(settings, TestClient::default()).await
}

pub async fn session_with(settings: Settings, client: TestClient) -> Session {
    session_on(settings, client, None).await
}

/// A session on protocol 2026-07-28 (`server/discover`, no `initialize`), where the server
/// may not send requests and asks through `input_required` results instead.
pub async fn session_modern(settings: Settings, client: TestClient) -> Session {
    let lifecycle = rmcp::service::ClientLifecycleMode::Discover {
        preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
    };
    session_on(settings, client, Some(lifecycle)).await
}

/// The server on one end of an in-memory pipe and the client on the other, opening with
/// `initialize` or, given a lifecycle, with it.
async fn session_on(
    settings: Settings,
    client: TestClient,
    lifecycle: Option<rmcp::service::ClientLifecycleMode>,
) -> Session {
    use rmcp::service::ClientServiceExt;
    let settings = Arc::new(settings);
    // The servers file's entries are approved as a person would on first use (`switchboard
    // proxy approve --all`); tests of holding entries use a fresh one.
    if settings.proxy.servers_config.is_some() {
        switchboard::cli::commands::proxy_approve(settings.clone(), None, true).unwrap();
    }
    let server = Switchboard::new(settings);
    let (client_io, server_io) = tokio::io::duplex(4 << 20);
    let (r, w) = tokio::io::split(server_io);
    tokio::spawn(switchboard::run(
        server.clone(),
        r,
        w,
        std::future::pending(),
    ));
    let updates = client.updates.clone();
    let client = match lifecycle {
        None => client.serve(client_io).await,
        Some(l) => client.serve_with_lifecycle(client_io, l).await,
    }
    .expect("client opens the session");
    Session {
        client,
        updates,
        _server: server,
    }
}

impl Session {
    /// The names in `tools/list`.
    pub async fn tool_names(&self) -> Vec<String> {
        self.client
            .list_all_tools()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name.to_string())
            .collect()
    }

    pub async fn prompt_names(&self) -> Vec<String> {
        let prompts = self.client.list_all_prompts().await.unwrap();
        prompts.into_iter().map(|p| p.name).collect()
    }

    pub async fn resource_uris(&self) -> Vec<String> {
        let resources = self.client.list_all_resources().await.unwrap();
        resources.into_iter().map(|r| r.uri.clone()).collect()
    }

    pub async fn call(&self, tool: &str, args: Value) -> CallToolResult {
        let Value::Object(args) = args else {
            panic!("arguments must be an object")
        };
        self.client
            .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
            .await
            .unwrap_or_else(|e| panic!("{tool}: protocol error {e}"))
    }

    /// Starts a call and returns its handle at once (to cancel it, or await it later).
    pub async fn start_call(
        &self,
        tool: &str,
        args: Value,
    ) -> rmcp::service::RequestHandle<RoleClient> {
        let Value::Object(args) = args else {
            panic!("arguments must be an object")
        };
        let params = CallToolRequestParams::new(tool.to_owned()).with_arguments(args);
        self.client
            .peer()
            .send_cancellable_request(
                rmcp::model::ClientRequest::CallToolRequest(rmcp::model::Request::new(params)),
                rmcp::service::PeerRequestOptions::no_options(),
            )
            .await
            .unwrap()
    }

    /// Starts a call that carries progress token `token` and returns its handle.
    pub async fn start_with_progress(
        &self,
        tool: &str,
        args: Value,
        token: i64,
    ) -> rmcp::service::RequestHandle<RoleClient> {
        let params = CallToolRequestParams::new(tool.to_owned())
            .with_arguments(args.as_object().expect("arguments are an object").clone());
        let mut meta = rmcp::model::RequestMetaObject::default();
        meta.set_progress_token(rmcp::model::ProgressToken(
            rmcp::model::NumberOrString::Number(token),
        ));
        let mut options = rmcp::service::PeerRequestOptions::no_options();
        options.meta = Some(meta);
        self.client
            .peer()
            .send_cancellable_request(
                rmcp::model::ClientRequest::CallToolRequest(rmcp::model::Request::new(params)),
                options,
            )
            .await
            .unwrap()
    }

    /// A call with a progress token, awaited: its tool result.
    pub async fn call_with_progress(&self, tool: &str, args: Value, token: i64) -> CallToolResult {
        let handle = self.start_with_progress(tool, args, token).await;
        match handle.await_response().await.unwrap() {
            rmcp::model::ServerResult::CallToolResult(r) => r,
            other => panic!("{tool}: not a tool result: {other:?}"),
        }
    }

    /// A successful call's structured content, or its text as a JSON string.
    pub async fn ok(&self, tool: &str, args: Value) -> Value {
        let r = self.call(tool, args.clone()).await;
        assert_ne!(r.is_error, Some(true), "{tool} {args} failed: {}", text(&r));
        r.structured_content
            .clone()
            .unwrap_or_else(|| Value::String(text(&r)))
    }

    pub async fn ok_text(&self, tool: &str, args: Value) -> String {
        let r = self.call(tool, args.clone()).await;
        assert_ne!(r.is_error, Some(true), "{tool} {args} failed: {}", text(&r));
        text(&r)
    }

    /// A failing call's message (the call must fail as a tool error, not a protocol error).
    pub async fn err(&self, tool: &str, args: Value) -> String {
        let r = self.call(tool, args.clone()).await;
        assert_eq!(
            r.is_error,
            Some(true),
            "{tool} {args} should fail but gave: {}",
            text(&r)
        );
        text(&r)
    }
}

/// The values of `field` (`name`, `server`) of the tools in a `search_tools` answer, best
/// first.
pub fn found(answer: &Value, field: &str) -> Vec<String> {
    answer["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("a search_tools answer: {answer}"))
        .iter()
        .map(|t| t[field].as_str().unwrap().to_owned())
        .collect()
}

pub fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| match c {
            ContentBlock::Text(t) => Some(t.text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_switchboard")
}

/// A `switchboard` process spoken to in raw JSON lines, with its own HOME and XDG folders.
pub struct Proc {
    pub child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    pub home: tempfile::TempDir,
}

impl Proc {
    pub fn spawn(args: &[&str]) -> Self {
        Self::spawn_env(args, &[])
    }

    /// Spawns with the open-file limit (`RLIMIT_NOFILE`) set to `max_files`.
    pub fn spawn_limited(args: &[&str], max_files: u64) -> Self {
        Self::spawn_with(args, &[], Some(max_files))
    }

    pub fn spawn_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::spawn_with(args, env, None)
    }

    /// Spawns as another user (`uid`, `gid`; the tests must run as root), from a copy of the
    /// binary in a folder that user can reach, with a home folder it can write.
    pub fn spawn_as(args: &[&str], uid: u32, gid: u32) -> Self {
        Self::spawn_full(args, &[], None, Some((uid, gid)))
    }

    fn spawn_with(args: &[&str], env: &[(&str, &str)], max_files: Option<u64>) -> Self {
        Self::spawn_full(args, env, max_files, None)
    }

    fn spawn_full(
        args: &[&str],
        env: &[(&str, &str)],
        max_files: Option<u64>,
        user: Option<(u32, u32)>,
    ) -> Self {
        let home = tempfile::tempdir().unwrap();
        let mut cmd = match user {
            None => Command::new(bin()),
            Some((uid, gid)) => {
                use std::os::unix::fs::PermissionsExt;
                use std::os::unix::process::CommandExt;
                std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o777))
                    .unwrap();
                let copy = home.path().join("switchboard");
                std::fs::copy(bin(), &copy).unwrap();
                let mut cmd = Command::new(copy);
                cmd.uid(uid).gid(gid);
                cmd
            }
        };
        if let Some(n) = max_files {
            use std::os::unix::process::CommandExt;
            // SAFETY: setrlimit is async-signal-safe and touches only the child.
            unsafe {
                cmd.pre_exec(move || {
                    let lim = libc::rlimit {
                        rlim_cur: n,
                        rlim_max: n,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .env("XDG_DATA_HOME", home.path().join(".local/share"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        if args.contains(&"--servers") {
            // The servers file's entries are approved first, as a person would on first use.
            approve_servers(args, home.path(), env);
        }
        let mut child = cmd.spawn().expect("spawn switchboard");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            stdin,
            lines: rx,
            home,
        }
    }

    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    pub fn send_bytes(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    /// The next line on stdout, parsed; every line must be JSON (stdout is protocol only).
    pub fn recv(&mut self) -> Value {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(20))
            .expect("a reply within 20 s");
        serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("stdout carried a non-JSON line ({e}): {line}"))
    }

    /// The next line on stdout as written (for byte-exact checks).
    pub fn recv_raw(&mut self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(20))
            .expect("a reply within 20 s")
    }

    /// Waits for the response with this id, skipping notifications.
    pub fn response(&mut self, id: i64) -> Value {
        loop {
            let v = self.recv();
            if v.get("id") == Some(&json!(id)) {
                return v;
            }
        }
    }

    pub fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send(
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string(),
        );
        self.response(id)
    }

    pub fn initialize(&mut self) -> Value {
        let r = self.request(
            1,
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}),
        );
        self.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        r
    }

    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Waits up to `limit` for the process to exit; kills it and fails when it does not.
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                panic!("switchboard did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 50 ms for up to 5 s; true as soon as it holds.
pub async fn eventually<F: Future<Output = bool>>(mut check: impl FnMut() -> F) -> bool {
    for _ in 0..100 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// A child process that is killed and reaped when the test ends, pass or fail.
pub struct Reaped(pub std::process::Child);

impl Reaped {
    pub fn spawn(cmd: &mut Command) -> Self {
        Self(cmd.spawn().expect("spawn a helper process"))
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A Python program that prints its uid, forks up to 80 sleepers (printing `refused ERRNO` when a fork fails,
/// then `forked N`), kills them, and tries to allocate 1 GiB (`allocated` or `allocation
/// refused`): what the process and memory limit tests run.
pub const FORK_AND_ALLOCATE: &str = concat!(
    "import os, time\n",
    "print('uid', os.getuid())\n",
    "kids = []\n",
    "try:\n",
    "    for i in range(80):\n",
    "        pid = os.fork()\n",
    "        if pid == 0:\n",
    "            time.sleep(5); os._exit(0)\n",
    "        kids.append(pid)\n",
    "except OSError as e:\n",
    "    print('refused', e.errno)\n",
    "print('forked', len(kids))\n",
    "for k in kids: os.kill(k, 9)\n",
    "try:\n",
    "    b = bytearray(1024 * 1024 * 1024); print('allocated')\n",
    "except MemoryError:\n",
    "    print('allocation refused')\n",
);

/// Every file and folder below `dir` (symlinks not followed).
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let path = e.path();
        if e.file_type().unwrap().is_dir() {
            out.extend(files_below(&path));
        }
        out.push(path);
    }
    out
}

/// Runs `switchboard ARGS proxy approve --all` with the home folder a spawned switchboard gets,
/// so the children of its servers file start (they are held until approved).
pub fn approve_servers(args: &[&str], home: &Path, env: &[(&str, &str)]) {
    let out = Command::new(bin())
        .args(args)
        .args(["proxy", "approve", "--all"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .envs(env.iter().copied())
        .output()
        .expect("run switchboard proxy approve");
    assert!(
        out.status.success(),
        "approving the servers file failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One HTTP/1.1 request read from `sock`: its head (request line and headers) and its body,
/// by Content-Length. `None` when the connection ends first.
pub async fn read_http_request(sock: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match sock.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let split = head.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let mut body = head.split_off(split);
    let head = String::from_utf8_lossy(&head).into_owned();
    let wanted: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while body.len() < wanted {
        match sock.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    Some((head, body))
}
