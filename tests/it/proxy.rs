//! Child MCP servers through switchboard, with real children only: switchboard itself (another
//! profile), the npm `server-everything` (stdio and streamable HTTP), and a Python server
//! written to misbehave in every way the proxy must survive.
// Logging is deprecated by the 2026-07-28 revision; children of today still use it.
#![allow(deprecated)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParams, ClientRequest, GetPromptRequestParams, ReadResourceRequestParams,
    ResourceContents,
};
use serde_json::{Value, json};

use crate::harness::{Proc, Project, Session, TestClient, bin, eventually, session_with};
use switchboard::config::Settings;

fn child_script() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/children/child_server.py")
        .display()
        .to_string()
}

/// Settings whose servers file is `servers` (written into the project's base folder).
pub(crate) fn with_servers(p: &Project, servers: Value) -> Settings {
    let path = p.base.join("servers_config.json");
    std::fs::write(&path, serde_json::to_string_pretty(&servers).unwrap()).unwrap();
    let mut s = p.settings();
    s.proxy.servers_config = Some((path, "--servers"));
    s
}

/// A project with a `state` folder where the Python children write their pids and markers.
pub(crate) fn project_with_state() -> (Project, PathBuf) {
    let p = Project::new();
    let state = p.base.join("state");
    std::fs::create_dir_all(&state).unwrap();
    (p, state)
}

/// Writes a servers file for a spawned switchboard (`--servers`).
fn write_servers(p: &Project, servers: Value) -> PathBuf {
    let path = p.base.join("servers.json");
    std::fs::write(&path, servers.to_string()).unwrap();
    path
}

/// Sends `method` with `params` (each time with a new id from `id`) until `done` holds for the
/// answer, within 15 s; returns that answer. `what` says what did not happen in time.
fn poll(
    proc: &mut Proc,
    id: &mut i64,
    method: &str,
    params: Value,
    done: impl Fn(&Value) -> bool,
    what: &str,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        *id += 1;
        let r = proc.request(*id, method, params.clone());
        if done(&r) {
            return r;
        }
        assert!(Instant::now() < deadline, "{what}: {r}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A server entry running the Python test child in `mode`.
pub(crate) fn py(mode: &str, state: &Path, extra: Value) -> Value {
    let mut v = json!({
        "command": "python3",
        "args": [child_script(), mode],
        "env": {"STATE_DIR": state.display().to_string()},
    });
    if let (Value::Object(o), Value::Object(e)) = (&mut v, extra) {
        o.extend(e);
    }
    v
}

async fn tool_names(s: &Session) -> Vec<String> {
    s.tool_names().await
}

async fn status(s: &Session, server: &str) -> Value {
    s.ok("proxy_status", json!({"server": server})).await["servers"][0].clone()
}

/// Waits until the server's last error mentions `needle`.
async fn last_error_says(s: &Session, server: &str, needle: &str) {
    let seen = eventually(|| async {
        status(s, server).await["last_error"]
            .as_str()
            .is_some_and(|e| e.contains(needle))
    })
    .await;
    assert!(seen, "{server}: {}", status(s, server).await);
}

fn alive(pid: i32) -> bool {
    // A zombie has finished; only a running process counts.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rfind(')').map(|i| !s[i + 2..].starts_with('Z')))
        .unwrap_or(false)
}

fn pid_in(state: &Path, file: &str) -> Option<i32> {
    std::fs::read_to_string(state.join(file))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Calls `tool` with a progress token and waits for the result.
async fn call_with_progress(
    s: &Session,
    tool: &str,
    args: Value,
    token: i64,
) -> rmcp::model::ServerResult {
    let handle = s.start_with_progress(tool, args, token).await;
    handle.await_response().await.unwrap()
}

#[tokio::test]
async fn switchboard_as_a_child_through_the_whole_chain() {
    let p = Project::new();
    p.write("notes.txt", "from the child\n");
    // The child switchboard: its own profile and config, with a prompt and a resource.
    let child_dir = p.base.join("child");
    std::fs::create_dir_all(child_dir.join("prompts")).unwrap();
    std::fs::create_dir_all(child_dir.join("resources")).unwrap();
    std::fs::write(
        child_dir.join("prompts/review.md"),
        "---\ndescription: Review a file\narguments:\n  - name: file\n    required: true\n---\nPlease review {{file}}.\n",
    )
    .unwrap();
    std::fs::write(child_dir.join("resources/guide.md"), "# Guide\n").unwrap();
    std::fs::write(
        child_dir.join("config.yaml"),
        format!("data_dir: {}\n", p.base.join("child-data").display()),
    )
    .unwrap();
    let root = p.root.display().to_string();
    let config = child_dir.join("config.yaml").display().to_string();
    let settings = with_servers(
        &p,
        json!({"mcpServers": {"inner": {"command": bin(), "args": ["--profile", "child", "--config", config, "--root", root, "--exposure", "full"]}}}),
    );
    let client = TestClient::default();
    let progress = client.progress.clone();
    let s = session_with(settings, client).await;

    // list: the child's tools under its alias, after switchboard's own.
    let names = tool_names(&s).await;
    assert!(names.contains(&"read_file".to_owned()));
    assert!(names.contains(&"inner__read_file".to_owned()), "{names:?}");
    assert!(names.contains(&"inner__run_shell".to_owned()));
    let own = names.iter().position(|n| n == "read_file").unwrap();
    let proxied = names.iter().position(|n| n == "inner__read_file").unwrap();
    assert!(own < proxied, "own tools first");

    // call
    let out = s
        .ok_text("inner__read_file", json!({"path": "notes.txt"}))
        .await;
    assert_eq!(out, "from the child\n");
    // A tool error of the child stays a tool error.
    let err = s
        .err("inner__read_file", json!({"path": "missing.txt"}))
        .await;
    assert!(err.contains("missing.txt"), "{err}");

    // prompts
    let prompts = s.client.list_all_prompts().await.unwrap();
    assert!(
        prompts.iter().any(|p| p.name == "inner__review"),
        "{prompts:?}"
    );
    let mut args = serde_json::Map::new();
    args.insert("file".into(), json!("main.rs"));
    let got = s
        .client
        .get_prompt(GetPromptRequestParams::new("inner__review").with_arguments(args))
        .await
        .unwrap();
    assert!(
        format!("{got:?}").contains("Please review main.rs"),
        "{got:?}"
    );

    // resources: URIs wrapped with the alias, read back through the wrapper.
    let resources = s.client.list_all_resources().await.unwrap();
    let guide = resources
        .iter()
        .find(|r| r.uri.starts_with("proxy://inner/") && r.uri.ends_with("guide.md"))
        .unwrap_or_else(|| panic!("{resources:?}"));
    let read = s
        .client
        .read_resource(ReadResourceRequestParams::new(guide.uri.clone()))
        .await
        .unwrap();
    match &read.contents[0] {
        ResourceContents::TextResourceContents { uri, text, .. } => {
            assert_eq!(uri, &guide.uri);
            assert_eq!(text, "# Guide\n");
        }
        other => panic!("{other:?}"),
    }
    let templates = s.client.list_all_resource_templates().await.unwrap();
    assert!(
        templates
            .iter()
            .any(|t| t.uri_template.starts_with("proxy://inner/file://")),
        "{templates:?}"
    );

    // progress: the child's progress reaches the host under the host's token.
    call_with_progress(
        &s,
        "inner__run_shell",
        json!({"command": "for i in 1 2 3 4; do echo line $i; sleep 0.4; done"}),
        41,
    )
    .await;
    let seen = progress.lock().unwrap().clone();
    assert!(seen.len() >= 2, "progress relayed: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "{seen:?}");

    // cancellation: a host cancel stops the child's command (and its whole tree).
    let tag = format!("83{}", std::process::id());
    let handle = s
        .start_call(
            "inner__run_command",
            json!({"program": "sh", "args": ["-c", format!("sleep {tag}1 & sleep {tag}2")], "timeout_secs": 120}),
        )
        .await;
    let running = || crate::exec::procs_matching(&format!("sleep {tag}")).len();
    assert!(eventually(|| async { running() == 2 }).await, "started");
    handle.cancel(Some("test".into())).await.unwrap();
    assert!(
        eventually(|| async { running() == 0 }).await,
        "the child's command stopped after the host's cancel"
    );

    // proxy_status
    let st = status(&s, "inner").await;
    assert_eq!(st["state"], "ready", "{st}");
    assert!(st["tools"].as_u64().unwrap() > 20, "{st}");
    assert!(st["pid"].as_u64().is_some());
}

fn everything_bin() -> Option<PathBuf> {
    crate::clients::installed(
        "SWITCHBOARD_TEST_EVERYTHING",
        "the reference MCP server (server-everything)",
    )
    .map(PathBuf::from)
}

/// The npm reference server. The test script installs it and sets SWITCHBOARD_TEST_EVERYTHING;
/// without it (plain `cargo test`) the test is skipped with a note, except under
/// SWITCHBOARD_TEST_STRICT=1 (the test script, CI), where it fails.
#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn server_everything_over_stdio_and_http() {
    let Some(everything) = everything_bin() else {
        return;
    };
    let node_bin = everything.parent().unwrap().display().to_string();
    let path = format!("{node_bin}:{}", std::env::var("PATH").unwrap_or_default());
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    // The HTTP flavour runs as a plain process beside the test.
    let mut http = crate::harness::Reaped::spawn(
        std::process::Command::new(&everything)
            .arg("streamableHttp")
            .env("PATH", &path)
            .env("PORT", port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
    );
    let url = format!("http://127.0.0.1:{port}/mcp");
    let ready =
        eventually(|| async { std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() }).await;
    assert!(ready, "the HTTP server listens");
    let p = Project::new();
    let settings = with_servers(
        &p,
        json!({"mcpServers": {
            "everything": {"command": everything.display().to_string(), "args": ["stdio"],
                           "env": {"PATH": path}, "allow_sampling": true, "allow_elicitation": true,
                           "timeout_secs": 30, "roots": "session"},
            "remote": {"url": url, "headers": {"X-Test": "${HOME}"}, "tools": {"allow": ["echo", "get-sum"]}},
        }}),
    );
    let client = TestClient {
        sampling: true,
        elicit: Some(false),
        ..TestClient::default()
    };
    let progress = client.progress.clone();
    let loggers = client.loggers.clone();
    let s = session_with(settings, client).await;

    // Tools of both, under their aliases; the remote one filtered by its allow list.
    let has_sampling = eventually(|| async {
        tool_names(&s)
            .await
            .contains(&"everything__trigger-sampling-request".to_owned())
    })
    .await;
    let names = tool_names(&s).await;
    assert!(
        has_sampling,
        "the sampling tool appears once the child knows we relay sampling: {names:?}"
    );
    assert!(names.contains(&"everything__echo".to_owned()), "{names:?}");
    let remote: Vec<&String> = names.iter().filter(|n| n.starts_with("remote__")).collect();
    assert_eq!(remote, ["remote__echo", "remote__get-sum"], "{names:?}");

    // echo, locally and remotely
    let out = s
        .ok_text("everything__echo", json!({"message": "hi"}))
        .await;
    assert!(out.contains("hi"), "{out}");
    let out = s.ok_text("remote__get-sum", json!({"a": 2, "b": 3})).await;
    assert!(out.contains('5'), "{out}");

    // long-running operation: progress relayed
    call_with_progress(
        &s,
        "everything__trigger-long-running-operation",
        json!({"duration": 2, "steps": 4}),
        5,
    )
    .await;
    let seen = progress.lock().unwrap().clone();
    assert!(seen.len() >= 3, "progress relayed: {seen:?}");

    // sampling: the child's request reaches the test client and its answer comes back
    let out = s
        .ok_text(
            "everything__trigger-sampling-request",
            json!({"prompt": "say hi", "maxTokens": 20}),
        )
        .await;
    assert!(out.contains("sampled by the test client"), "{out}");

    // elicitation: relayed to the test client, which declines
    let out = s
        .ok_text("everything__trigger-elicitation-request", json!({}))
        .await;
    assert!(out.contains("declined"), "{out}");

    // logging: messages arrive with the alias as logger
    s.client
        .set_level(rmcp::model::SetLevelRequestParams::new(
            rmcp::model::LoggingLevel::Debug,
        ))
        .await
        .unwrap();
    s.ok_text("everything__toggle-simulated-logging", json!({}))
        .await;
    assert!(
        eventually(|| async {
            loggers
                .lock()
                .unwrap()
                .iter()
                .any(|l| l.starts_with("everything: "))
        })
        .await,
        "log messages relayed"
    );

    // resources, templates, prompts and completion
    let resources = s.client.list_all_resources().await.unwrap();
    let doc = resources
        .iter()
        .find(|r| r.uri.starts_with("proxy://everything/demo://"))
        .unwrap_or_else(|| panic!("{resources:?}"));
    let read = s
        .client
        .read_resource(ReadResourceRequestParams::new(doc.uri.clone()))
        .await
        .unwrap();
    assert!(!read.contents.is_empty());
    let prompts = s.client.list_all_prompts().await.unwrap();
    assert!(
        prompts
            .iter()
            .any(|p| p.name == "everything__simple-prompt"),
        "{prompts:?}"
    );
    let got = s
        .client
        .get_prompt(GetPromptRequestParams::new("everything__simple-prompt"))
        .await
        .unwrap();
    assert!(!got.messages.is_empty());
    let completion = s
        .client
        .complete(rmcp::model::CompleteRequestParams::new(
            rmcp::model::Reference::for_prompt("everything__completable-prompt"),
            rmcp::model::ArgumentInfo::new("department", "Eng"),
        ))
        .await
        .unwrap();
    assert_eq!(
        completion.completion.values,
        ["Engineering"],
        "{completion:?}"
    );

    // roots/list from the child is answered with switchboard's roots (`"roots": "session"`)
    let out = s.ok_text("everything__get-roots-list", json!({})).await;
    assert!(out.contains(p.root.to_str().unwrap()), "{out}");

    // subscriptions: the child's resources/updated reaches the host under the wrapped URI
    s.client
        .subscribe(rmcp::model::SubscribeRequestParams::new(doc.uri.clone()))
        .await
        .unwrap();
    s.ok_text("everything__toggle-subscriber-updates", json!({}))
        .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while !s.updates.lock().unwrap().contains(&doc.uri) {
        assert!(
            Instant::now() < deadline,
            "no update for {}: {:?}",
            doc.uri,
            s.updates.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = http.0.kill();
}

/// A child's request carries a progress token only when the host's call did: no `_meta` the
/// host did not send (each token costs the child and switchboard work). A raw host, since
/// rmcp's client puts a token on every request.
#[test]
fn a_child_gets_a_progress_token_only_when_the_host_sent_one() {
    let (p, state) = project_with_state();
    let servers = write_servers(
        &p,
        json!({"mcpServers": {"g": py("good", &state, json!({}))}}),
    );
    let mut proc = Proc::spawn(&["--servers", servers.to_str().unwrap(), "--exposure", "full"]);
    proc.initialize();
    let r = proc.request(2, "tools/list", json!({}));
    assert!(r.to_string().contains("g__echo"), "{r}");
    let meta = || std::fs::read_to_string(state.join("good.echo_meta")).unwrap_or_default();
    let r = proc.request(
        3,
        "tools/call",
        json!({"name": "g__echo", "arguments": {"text": "plain"}}),
    );
    assert_eq!(r["result"]["content"][0]["text"], "echo: plain", "{r}");
    let plain = meta();
    assert!(!plain.contains("progressToken"), "{plain}");
    let r = proc.request(
        4,
        "tools/call",
        json!({"name": "g__echo", "arguments": {"text": "watched"}, "_meta": {"progressToken": "p-7"}}),
    );
    assert_eq!(r["result"]["content"][0]["text"], "echo: watched", "{r}");
    let watched = meta();
    assert!(watched.contains("progressToken"), "{watched}");
    assert!(
        !watched.contains("switchboard/"),
        "the marker stays inside: {watched}"
    );
}

/// Progress extends a call's timeout, but never past `proxy.max_call_secs`.
#[tokio::test]
async fn progress_extends_a_call_up_to_the_hard_limit() {
    let (p, state) = project_with_state();
    let mut settings = with_servers(
        &p,
        json!({"mcpServers": {"g": py("good", &state, json!({"timeout_secs": 1}))}}),
    );
    settings.proxy.max_call = Duration::from_secs(3);
    let s = session_with(settings, TestClient::default()).await;
    // 2 s with progress every 0.2 s: longer than the 1 s timeout, fine thanks to progress.
    let r = call_with_progress(&s, "g__slow", json!({"seconds": 2}), 1).await;
    assert!(format!("{r:?}").contains("slept 2"), "{r:?}");
    // 6 s: stopped at the 3 s hard limit although progress keeps coming.
    let started = Instant::now();
    let r = format!(
        "{:?}",
        call_with_progress(&s, "g__slow", json!({"seconds": 6}), 2).await
    );
    assert!(r.contains("did not answer within 3 s"), "{r}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The child was told to stop.
    assert!(
        eventually(|| async { state.join("good.cancelled").exists() }).await,
        "the child saw notifications/cancelled"
    );
}

/// A child that is slow to start is not waited for past `proxy.startup_wait_ms`: the first list
/// answers without it and `list_changed` announces it. `proxy_restart` starts it afresh.
#[tokio::test]
async fn late_children_arrive_with_list_changed() {
    let (p, state) = project_with_state();
    let mut settings = with_servers(
        &p,
        json!({"mcpServers": {"late": py("slow_start", &state, json!({}))}}),
    );
    settings.proxy.startup_wait = Duration::from_millis(300);
    let client = TestClient::default();
    let changed = client.tools_changed.clone();
    let s = session_with(settings, client).await;
    let started = Instant::now();
    let names = tool_names(&s).await;
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "the list did not wait for it"
    );
    assert!(!names.contains(&"late__echo".to_owned()), "{names:?}");
    assert!(
        eventually(|| async { changed.load(Ordering::SeqCst) > 0 }).await,
        "list_changed when it is ready"
    );
    assert!(tool_names(&s).await.contains(&"late__echo".to_owned()));

    let old_pid = pid_in(&state, "slow_start.pid").unwrap();
    let st = s.ok("proxy_restart", json!({"server": "late"})).await;
    assert_eq!(st["state"], "ready", "{st}");
    let new_pid = st["pid"].as_i64().unwrap() as i32;
    assert_ne!(new_pid, old_pid);
    assert!(
        eventually(|| async { !alive(old_pid) }).await,
        "the old process is gone"
    );
    assert_eq!(
        s.ok_text("late__echo", json!({"text": "r"})).await,
        "echo: r"
    );
    let e = s.err("proxy_restart", json!({"server": "nope"})).await;
    assert!(e.contains("no server `nope`") && e.contains("late"), "{e}");
}

/// A lazy server's tools come from its last listing; its process starts on first use.
#[tokio::test]
async fn lazy_servers_start_on_first_use() {
    let (p, state) = project_with_state();
    let settings = with_servers(
        &p,
        json!({"mcpServers": {"l": py("good", &state, json!({"start": "lazy"}))}}),
    );
    // First session: nothing cached yet, so it starts in the background and arrives later.
    let s = session_with(settings.clone(), TestClient::default()).await;
    assert!(eventually(|| async { tool_names(&s).await.contains(&"l__echo".to_owned()) }).await);
    drop(s);
    std::fs::remove_file(state.join("good.pid")).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Second session: listed from the cache at once, not started until called.
    let s = session_with(settings, TestClient::default()).await;
    assert!(tool_names(&s).await.contains(&"l__echo".to_owned()));
    assert_eq!(status(&s, "l").await["state"], "idle");
    assert!(!state.join("good.pid").exists(), "not started yet");
    assert_eq!(s.ok_text("l__echo", json!({"text": "w"})).await, "echo: w");
    assert!(state.join("good.pid").exists());
    assert_eq!(status(&s, "l").await["state"], "ready");
}

/// Every way a child can misbehave, at once: switchboard keeps answering pings quickly, the
/// good child keeps working, every failure is explained, and no process is left behind.
#[tokio::test]
async fn misbehaving_children_never_hurt_the_host() {
    let (p, state) = project_with_state();
    let quick = json!({"timeout_secs": 2, "restart": {"max_retries": 1, "backoff_secs": 0.2}});
    let mut settings = with_servers(
        &p,
        json!({"mcpServers": {
            "good": py("good", &state, json!({})),
            "crash_start": py("crash_start", &state, quick.clone()),
            "crash_call": py("crash_call", &state, json!({"restart": {"max_retries": 3, "backoff_secs": 1}})),
            "hang_init": py("hang_init", &state, quick.clone()),
            "hang_call": py("hang_call", &state, json!({"timeout_secs": 1})),
            "flood": py("flood", &state, quick.clone()),
            "huge": py("huge", &state, quick.clone()),
            "grandchild": py("grandchild", &state, json!({})),
        }}),
    );
    settings.proxy.startup_wait = Duration::from_secs(10);
    let s = session_with(settings, TestClient::default()).await;

    // A ping every 20 ms for the whole test; the slowest answer is checked at the end.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pinger = {
        let peer = s.client.peer().clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut worst = Duration::ZERO;
            let mut count = 0u32;
            while !stop.load(Ordering::SeqCst) {
                let t = Instant::now();
                peer.send_request(ClientRequest::PingRequest(Default::default()))
                    .await
                    .expect("ping answered");
                worst = worst.max(t.elapsed());
                count += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (worst, count)
        })
    };

    let names = tool_names(&s).await;
    // Pages drained: the good child lists its three tools over two pages.
    for t in ["good__echo", "good__slow", "good__boom", "grandchild__echo"] {
        assert!(names.contains(&t.to_owned()), "{t} in {names:?}");
    }
    assert!(!names.iter().any(|n| n.starts_with("crash_start__")));

    // crashes at start: retried, then given up, with its stderr in the status.
    assert!(
        eventually(|| async { status(&s, "crash_start").await["state"] == "failed" }).await,
        "{}",
        status(&s, "crash_start").await
    );
    let st = status(&s, "crash_start").await;
    assert!(
        st["stderr_tail"]
            .as_str()
            .unwrap()
            .contains("CHILD_API_KEY"),
        "{st}"
    );
    assert!(
        st["last_error"].as_str().unwrap().contains("code 3"),
        "{st}"
    );

    // hangs on initialize: timed out and retried, never blocking anyone.
    last_error_says(&s, "hang_init", "initialize within 2 s").await;

    // floods stdout with non-JSON: cut off and restarted.
    last_error_says(&s, "flood", "non-JSON").await;

    // writes a 100 MiB line: cut off at the frame limit.
    last_error_says(&s, "huge", "longer than").await;

    // hangs on a call: the call times out with an explanation.
    let err = s.err("hang_call__slow", json!({"seconds": 5})).await;
    assert!(err.contains("did not answer within 1 s"), "{err}");

    // crashes mid-call: an error result, then it comes back.
    let err = s.err("crash_call__boom", json!({})).await;
    assert!(err.contains("closed the connection"), "{err}");
    assert!(
        err.contains("crashing on purpose"),
        "stderr tail in the error: {err}"
    );
    // While it waits to restart, its tools say so.
    assert!(eventually(|| async { status(&s, "crash_call").await["state"] == "restarting" }).await);
    let again = s.err("crash_call__echo", json!({"text": "soon"})).await;
    assert!(
        again.contains("is restarting after a failure; retry in 1 s"),
        "{again}"
    );
    assert!(
        eventually(|| async {
            let st = status(&s, "crash_call").await;
            st["state"] == "ready" && st["restarts"].as_u64() >= Some(1)
        })
        .await,
        "restarted"
    );
    let out = s.ok_text("crash_call__echo", json!({"text": "back"})).await;
    assert_eq!(out, "echo: back");

    // The good child worked all along; its tool errors stay tool errors.
    assert_eq!(
        s.ok_text("good__echo", json!({"text": "x"})).await,
        "echo: x"
    );
    assert_eq!(s.err("good__boom", json!({})).await, "boom failed");
    // A banner on stdout is dropped, not fatal.
    assert_eq!(status(&s, "good").await["restarts"], 0);

    // Unknown names are protocol errors; a server's status names the others.
    let e = s
        .client
        .call_tool(CallToolRequestParams::new("nope__x"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("unknown tool"), "{e}");

    // Pids to check after the end.
    let grandchild = pid_in(&state, "grandchild.grandchild").expect("grandchild started");
    let mut pids = vec![grandchild];
    for m in ["good", "grandchild", "hang_call", "crash_call"] {
        pids.extend(pid_in(&state, &format!("{m}.pid")));
    }
    assert!(pids.iter().all(|&p| alive(p)), "running before the end");

    stop.store(true, Ordering::SeqCst);
    let (worst, count) = pinger.await.unwrap();
    assert!(count > 50, "{count} pings");
    // Responsiveness, not speed (the benchmark measures speed): a stalled host link shows as
    // seconds; a shared 2-core machine running the whole suite shows tens of milliseconds.
    assert!(
        worst < Duration::from_millis(500),
        "a ping took {worst:?} while children misbehaved"
    );
    drop(s);
    // SIGTERM, then SIGKILL 2 s later for what ignores it (the grandchild and its parent).
    let gone = eventually(|| async { pids.iter().all(|&p| !alive(p)) }).await;
    assert!(
        gone,
        "left behind: {:?}",
        pids.iter().filter(|&&p| alive(p)).collect::<Vec<_>>()
    );
}

/// A tool whose description changes mid-session is held back until a person approves it,
/// from the command line or through the host's confirmation.
#[tokio::test]
async fn changed_tools_are_held_until_approved() {
    let (p, state) = project_with_state();
    let settings = with_servers(
        &p,
        json!({"mcpServers": {"m": py("mutate", &state, json!({}))}}),
    );
    let data = settings.profile.data_dir.clone();
    let client = TestClient {
        elicit: Some(true),
        ..TestClient::default()
    };
    let changed = client.tools_changed.clone();
    let s = session_with(settings.clone(), client).await;
    assert!(tool_names(&s).await.contains(&"m__tricky".to_owned()));
    assert_eq!(s.ok_text("m__tricky", json!({})).await, "hello");

    // The child changed the description: the host is told, the tool disappears, calls explain.
    assert!(eventually(|| async { changed.load(Ordering::SeqCst) > 0 }).await);
    assert!(!tool_names(&s).await.contains(&"m__tricky".to_owned()));
    let err = s.err("m__tricky", json!({})).await;
    assert!(
        err.contains("held back") && err.contains("proxy approve m:tricky"),
        "{err}"
    );
    assert_eq!(status(&s, "m").await["held_tools"], json!(["tricky"]));

    // Approval through the host (elicitation answered "approve").
    let out = s.ok("proxy_approve", json!({"server": "m"})).await;
    assert_eq!(out["approved"], json!(["tricky"]));
    assert!(tool_names(&s).await.contains(&"m__tricky".to_owned()));
    drop(s);

    // A new session of the same profile trusts the approved definition, but the original
    // one (which the child shows first again) differs from the pin: held until the CLI approves.
    let s = session_with(settings, TestClient::default()).await;
    assert!(!tool_names(&s).await.contains(&"m__tricky".to_owned()));
    let err = s.err("proxy_approve", json!({"server": "m"})).await;
    assert!(
        err.contains("switchboard proxy approve m"),
        "no elicitation: {err}"
    );
    let cli = std::process::Command::new(bin())
        .args(["proxy", "approve", "m:tricky"])
        .env("SWITCHBOARD_CONFIG", write_data_config(&p, &data))
        .env("SWITCHBOARD_PROFILE", data.file_name().unwrap())
        .output()
        .unwrap();
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&cli.stdout).trim(),
        "approved m:tricky"
    );
    assert!(
        eventually(|| async { tool_names(&s).await.contains(&"m__tricky".to_owned()) }).await,
        "the running session sees the approval"
    );
}

/// On 2026-07-28 the approval travels as `input_required`: the host asks, calls again with the
/// answer, and the tool comes back; a host that declines leaves it held.
#[tokio::test]
async fn a_2026_session_approves_through_input_required() {
    for accept in [false, true] {
        let (p, state) = project_with_state();
        let settings = with_servers(
            &p,
            json!({"mcpServers": {"m": py("mutate", &state, json!({}))}}),
        );
        let client = TestClient {
            elicit: Some(accept),
            ..TestClient::default()
        };
        let asked = client.asked.clone();
        let s = crate::harness::session_modern(settings, client).await;
        assert!(tool_names(&s).await.contains(&"m__tricky".to_owned()));
        // Its first call is what makes the test child change the tool.
        assert_eq!(s.ok_text("m__tricky", json!({})).await, "hello");
        assert!(
            eventually(|| async { status(&s, "m").await["held_tools"] == json!(["tricky"]) }).await,
            "the changed tool is held"
        );
        if accept {
            let out = s.ok("proxy_approve", json!({"server": "m"})).await;
            assert_eq!(out["approved"], json!(["tricky"]));
            assert!(tool_names(&s).await.contains(&"m__tricky".to_owned()));
        } else {
            let err = s.err("proxy_approve", json!({"server": "m"})).await;
            assert!(err.contains("did not approve"), "{err}");
            assert!(!tool_names(&s).await.contains(&"m__tricky".to_owned()));
        }
        let asked = asked.lock().unwrap().clone();
        assert_eq!(asked.len(), 1, "{asked:?}");
        assert!(asked[0].contains("tricky"), "{asked:?}");
    }
}

/// A config file whose data_dir matches the test settings' profile data dir.
fn write_data_config(p: &Project, profile_data: &Path) -> PathBuf {
    // profile data = {data_dir}/profiles/{name}
    let base = profile_data.parent().unwrap().parent().unwrap();
    let path = p.base.join("cli-config.yaml");
    std::fs::write(&path, format!("data_dir: {}\n", base.display())).unwrap();
    path
}

/// Editing servers_config.json starts, stops and restarts children without a restart of
/// switchboard; the host hears one list_changed per burst.
#[tokio::test]
async fn servers_file_changes_apply_while_running() {
    let (p, state) = project_with_state();
    let settings = with_servers(
        &p,
        json!({"mcpServers": {"one": py("good", &state, json!({"tools": {"deny": ["boom"]}}))}}),
    );
    let path = settings.proxy.servers_config.clone().unwrap().0;
    let client = TestClient {
        elicit: Some(true),
        ..TestClient::default()
    };
    let changed = client.tools_changed.clone();
    let s = session_with(settings, client).await;
    let names = tool_names(&s).await;
    assert!(names.contains(&"one__echo".to_owned()));
    assert!(
        !names.contains(&"one__boom".to_owned()),
        "denied by the filter"
    );

    let before = changed.load(Ordering::SeqCst);
    std::fs::write(
        &path,
        serde_json::to_string(&json!({"mcpServers": {
            "two": py("good", &state, json!({"alias": "second.srv"})),
            "bad": {"command": "python3", "args": ["${SWITCHBOARD_TEST_UNSET_VAR}"]},
        }}))
        .unwrap(),
    )
    .unwrap();
    // The host hears about it without asking (it does not list in between).
    assert!(
        eventually(|| async { changed.load(Ordering::SeqCst) > before }).await,
        "list_changed sent"
    );
    // The removed server is gone at once; the added one is held until a person approves it.
    assert!(
        eventually(|| async { !tool_names(&s).await.iter().any(|t| t.starts_with("one__")) }).await
    );
    let st = status(&s, "two").await;
    assert_eq!(st["state"], "held", "{st}");
    assert!(
        st["last_error"]
            .as_str()
            .unwrap()
            .contains("switchboard proxy approve two"),
        "{st}"
    );
    assert!(
        !tool_names(&s)
            .await
            .contains(&"second_srv__echo".to_owned())
    );
    let out = s.ok("proxy_approve", json!({"server": "two"})).await;
    assert_eq!(out["entry"], true, "{out}");
    assert!(
        eventually(|| async {
            tool_names(&s)
                .await
                .contains(&"second_srv__echo".to_owned())
        })
        .await,
        "{:?}",
        tool_names(&s).await
    );
    let st = status(&s, "bad").await;
    assert_eq!(st["state"], "disabled");
    assert!(
        st["last_error"]
            .as_str()
            .unwrap()
            .contains("${SWITCHBOARD_TEST_UNSET_VAR}"),
        "{st}"
    );
}

/// When switchboard's own stdin closes, every child tree goes with it, including a detached
/// grandchild that ignores SIGTERM.
#[test]
fn closing_stdin_takes_every_child_tree_down() {
    let (p, state) = project_with_state();
    let servers = write_servers(
        &p,
        json!({"mcpServers": {"g": py("grandchild", &state, json!({}))}}),
    );
    let mut proc = Proc::spawn(&["--servers", servers.to_str().unwrap(), "--exposure", "full"]);
    proc.initialize();
    let r = proc.request(2, "tools/list", json!({}));
    assert!(r.to_string().contains("g__echo"), "{r}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while pid_in(&state, "grandchild.grandchild").is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let pids: Vec<i32> = ["grandchild.grandchild", "grandchild.pid"]
        .iter()
        .filter_map(|f| pid_in(&state, f))
        .collect();
    assert_eq!(pids.len(), 2);
    proc.close_stdin();
    proc.wait_exit(Duration::from_secs(5));
    let deadline = Instant::now() + Duration::from_secs(5);
    while pids.iter().any(|&p| alive(p)) {
        assert!(
            Instant::now() < deadline,
            "left behind after exit: {pids:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `config check` and `doctor` report the servers file and each server.
#[test]
fn config_check_and_doctor_report_servers() {
    let (p, state) = project_with_state();
    let servers = write_servers(
        &p,
        json!({"mcpServers": {
            "ok": py("good", &state, json!({})),
            "broken": {"command": "x", "args": ["${SWITCHBOARD_TEST_UNSET_VAR}"]},
        }}),
    );
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin())
            .args(args)
            .args(["--servers", servers.to_str().unwrap()])
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .env("XDG_DATA_HOME", home.path().join(".local/share"))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = run(&["config", "check"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("server `broken`") && out.contains("SWITCHBOARD_TEST_UNSET_VAR"),
        "{out}"
    );
    // Not approved yet: doctor says so and how.
    let (_, out) = run(&["doctor"]);
    assert!(
        out.contains("server ok: not started: held")
            && out.contains("switchboard proxy approve ok"),
        "{out}"
    );
    let (code, out) = run(&["proxy", "approve", "--all"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("approved ok (runs: python3"), "{out}");
    let (_, out) = run(&["doctor"]);
    assert!(out.contains("ok   server ok: ready, 3 tool(s)"), "{out}");
    assert!(out.contains("started in"), "{out}");
    assert!(out.contains("server broken: not started"), "{out}");
}

/// A child's tool called while the child starts is not an "unknown tool": the answer says the
/// server is starting and when to retry, on every route.
#[tokio::test]
async fn a_tool_of_a_child_that_is_starting_says_so() {
    let (p, state) = project_with_state();
    let mut settings = with_servers(
        &p,
        json!({"mcpServers": {"late": py("slow_start", &state, json!({}))}}),
    );
    // The first call waits this long for the children, not the 1.5 s the child takes.
    settings.proxy.startup_wait = Duration::from_millis(100);
    let s = session_with(settings, TestClient::default()).await;
    let e = s.err("late__echo", json!({"text": "x"})).await;
    assert!(
        e.contains("`late` is starting; retry in") && !e.contains("unknown"),
        "{e}"
    );
    let e = s
        .err(
            "call_tool",
            json!({"name": "late__echo", "arguments": {"text": "x"}}),
        )
        .await;
    assert!(e.contains("`late` is starting; retry in"), "{e}");
    // Once it is ready, the same call works.
    assert!(
        eventually(|| async {
            s.call("late__echo", json!({"text": "x"})).await.is_error != Some(true)
        })
        .await
    );
}

/// Through the real binary, a child that floods its host with log messages and `list_changed`
/// (20,000 each) is rationed at the mechanism every child shares: its logs reach the host at
/// `proxy.max_log_rate` with one summary of what was dropped, its `list_changed` become a few
/// re-lists instead of thousands, and the host's `ping` is answered throughout. An answer whose
/// id is the request's as a string is not taken for the answer.
#[test]
fn a_flooding_or_forging_child_is_rationed_at_the_mechanism() {
    let (p, state) = project_with_state();
    let servers = write_servers(
        &p,
        json!({"mcpServers": {
            "noisy": py("noisy", &state, json!({})),
            "forger": py("stringid", &state, json!({})),
        }}),
    );
    let mut proc = Proc::spawn(&["--servers", servers.to_str().unwrap(), "--exposure", "full"]);
    proc.initialize();
    let r = proc.request(2, "tools/list", json!({}));
    assert!(r.to_string().contains("noisy__flood"), "{r}");
    assert!(r.to_string().contains("forger__echo"), "{r}");

    let r = proc.request(
        3,
        "tools/call",
        json!({"name": "forger__echo", "arguments": {"text": "real"}}),
    );
    assert_eq!(
        r["result"]["content"][0]["text"], "echo: real",
        "a forged answer with a string id was taken: {r}"
    );

    proc.send(
        &json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "noisy__flood", "arguments": {}}})
            .to_string(),
    );
    let (mut logs, mut summary, mut answered) = (0usize, None, None);
    while answered.is_none() {
        let v = proc.recv();
        if v["method"] == "notifications/message" {
            if v.to_string().contains("dropped from server `noisy`") {
                summary = Some(v);
            } else if v["params"]["logger"] == "noisy" {
                logs += 1;
            }
        } else if v["id"] == 4 {
            answered = Some(v);
        }
    }
    let answered = answered.unwrap();
    assert_eq!(
        answered["result"]["content"][0]["text"], "flooded",
        "{answered}"
    );
    let pong = proc.request(5, "ping", json!({}));
    assert!(pong.get("result").is_some(), "{pong}");
    assert!(logs < 2_000, "{logs} of 20,000 log messages were passed on");
    let summary = summary.expect("one message says what was dropped");
    assert!(
        summary.to_string().contains("proxy.max_log_rate"),
        "{summary}"
    );
    // The re-lists the flood caused: a handful, not one per notification.
    let deadline = Instant::now() + Duration::from_secs(5);
    let lists = loop {
        let n: u64 = std::fs::read_to_string(state.join("noisy.lists"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        if n > 1 || Instant::now() > deadline {
            break n;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        (2..=30).contains(&lists),
        "{lists} tools/list requests for 20,000 list_changed"
    );
    let pong = proc.request(6, "ping", json!({}));
    assert!(pong.get("result").is_some(), "{pong}");
    // Nothing of the flood stays in memory (it once took switchboard to 2 GiB).
    let status = std::fs::read_to_string(format!("/proc/{}/status", proc.child.id())).unwrap();
    let rss_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    assert!(
        rss_kib < 200 * 1024,
        "{rss_kib} KiB resident after the flood"
    );
}

/// Through the real binary: a flipped annotation (`readOnlyHint` true → false) is a changed
/// definition, and a tool that appears after the server's first listing is held until approved.
#[test]
fn flipped_annotations_and_late_tools_are_held() {
    let (p, state) = project_with_state();
    let servers = write_servers(
        &p,
        json!({"mcpServers": {"s": py("shift", &state, json!({}))}}),
    );
    let mut proc = Proc::spawn(&["--servers", servers.to_str().unwrap(), "--exposure", "full"]);
    proc.initialize();
    let r = proc.request(2, "tools/list", json!({}));
    assert!(r.to_string().contains("s__plain"), "{r}");
    let r = proc.request(
        3,
        "tools/call",
        json!({"name": "s__plain", "arguments": {}}),
    );
    assert_eq!(r["result"]["content"][0]["text"], "plain ran", "{r}");
    let mut id = 10;
    let r = poll(
        &mut proc,
        &mut id,
        "tools/list",
        json!({}),
        |r| !r.to_string().contains("s__plain"),
        "the flipped tool stayed listed",
    );
    assert!(!r.to_string().contains("s__extra"), "{r}");
    for (tool, why) in [
        ("s__plain", "annotations"),
        ("s__extra", "appeared after the server's first listing"),
    ] {
        id += 1;
        let r = proc.request(id, "tools/call", json!({"name": tool, "arguments": {}}));
        assert_eq!(r["result"]["isError"], true, "{r}");
        assert_eq!(
            r["result"]["_meta"]["switchboard/reason"], "tool_held",
            "{r}"
        );
        assert!(r.to_string().contains(why), "{tool}: {r}");
    }
}

/// Through the real binary: a child that goes on with a request after the hard limit and
/// its grace (sending progress, ignoring cancellation) is restarted, and so is one that closed
/// its stdin while staying alive (it looked ready but could answer nothing).
#[test]
fn stubborn_and_deaf_children_are_restarted() {
    let (p, state) = project_with_state();
    let servers = write_servers(
        &p,
        json!({"mcpServers": {
            "stub": py("stubborn", &state, json!({"timeout_secs": 1})),
            "deaf": py("deaf", &state, json!({})),
        }}),
    );
    let cfg = p.base.join("config.yaml");
    std::fs::write(&cfg, "proxy:\n  max_call_secs: 2\n  cancel_grace_secs: 1\n").unwrap();
    let mut proc = Proc::spawn(&[
        "--config",
        cfg.to_str().unwrap(),
        "--servers",
        servers.to_str().unwrap(),
        "--exposure",
        "full",
    ]);
    proc.initialize();
    let r = proc.request(2, "tools/list", json!({}));
    assert!(
        r.to_string().contains("stub__slow") && r.to_string().contains("deaf__echo"),
        "{r}"
    );
    let first = pid_in(&state, "stubborn.pid").expect("the stubborn child wrote its pid");
    // The host asks for progress, so the child has a token to keep reporting on.
    let r = proc.request(
        3,
        "tools/call",
        json!({"name": "stub__slow", "arguments": {}, "_meta": {"progressToken": 3}}),
    );
    assert_eq!(r["result"]["isError"], true, "{r}");
    let deadline = Instant::now() + Duration::from_secs(15);
    while alive(first) || pid_in(&state, "stubborn.pid") == Some(first) {
        assert!(
            Instant::now() < deadline,
            "the stubborn child was not restarted"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let call = |proc: &mut Proc, id: i64| {
        proc.request(
            id,
            "tools/call",
            json!({"name": "deaf__echo", "arguments": {"text": "hi"}}),
        )
    };
    assert_eq!(
        call(&mut proc, 10)["result"]["content"][0]["text"],
        "echo: hi"
    );
    let deaf = pid_in(&state, "deaf.deaf").expect("the deaf child marked itself");
    let r = call(&mut proc, 11);
    assert_eq!(r["result"]["isError"], true, "{r}");
    let mut id = 12;
    poll(
        &mut proc,
        &mut id,
        "tools/call",
        json!({"name": "deaf__echo", "arguments": {"text": "hi"}}),
        |r| r["result"]["content"][0]["text"] == "echo: hi",
        "the deaf child was not restarted",
    );
    assert!(!alive(deaf), "the deaf child's old process is gone");
}

/// Through the real binary: what a child's `roots/list` answers is set per server — nothing by
/// default, the listed folders, or the session's roots when the entry says `"session"`.
#[test]
fn each_child_sees_only_the_roots_its_entry_gives() {
    let (p, state) = project_with_state();
    let shared = p.base.join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    let servers = write_servers(
        &p,
        json!({"mcpServers": {
            "none": py("rooty", &state, json!({})),
            "listed": py("rooty", &state, json!({"roots": [shared.display().to_string()]})),
            "session": py("rooty", &state, json!({"roots": "session"})),
        }}),
    );
    let mut proc = Proc::spawn(&[
        "--servers",
        servers.to_str().unwrap(),
        "--root",
        p.root.to_str().unwrap(),
        "--exposure",
        "full",
    ]);
    proc.initialize();
    let r = proc.request(2, "tools/list", json!({}));
    assert!(r.to_string().contains("session__roots"), "{r}");
    let mut seen = Vec::new();
    for (i, server) in ["none", "listed", "session"].iter().enumerate() {
        let r = proc.request(
            10 + i as i64,
            "tools/call",
            json!({"name": format!("{server}__roots"), "arguments": {}}),
        );
        let text = r["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let answer: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {r}"));
        let uris: Vec<String> = answer["result"]["roots"]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"))
            .iter()
            .map(|r| r["uri"].as_str().unwrap().to_owned())
            .collect();
        seen.push(uris);
    }
    let uri = |p: &Path| format!("file://{}", p.display());
    assert_eq!(seen[0], Vec::<String>::new());
    assert_eq!(seen[1], [uri(&shared)]);
    assert_eq!(seen[2], [uri(&p.root)]);
}

/// Through the real binary: a child with `sandbox` runs in the exec sandbox — its own script
/// and the folders its entry names are there, another project's secret is not — while the same
/// child without it reads the secret. (Skipped where bubblewrap cannot run; the full test run
/// requires it.)
#[test]
fn a_sandboxed_child_sees_only_its_own_folders() {
    let bwrap_works = std::process::Command::new("bwrap")
        .args(["--ro-bind", "/", "/", "--dev", "/dev", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !bwrap_works {
        assert!(
            std::env::var_os("SWITCHBOARD_TEST_STRICT").is_none(),
            "bubblewrap must work in the full test run"
        );
        eprintln!("bubblewrap is not usable here: the sandboxed child test is skipped");
        return;
    }
    let (p, state) = project_with_state();
    let servers = write_servers(
        &p,
        json!({"mcpServers": {
            "boxed": py("peek", &state, json!({"sandbox": {"write": [state.display().to_string()]}})),
            "open": py("peek", &state, json!({})),
        }}),
    );
    let mut proc = Proc::spawn(&["--servers", servers.to_str().unwrap(), "--exposure", "full"]);
    proc.initialize();
    let r = proc.request(2, "tools/list", json!({}));
    assert!(
        r.to_string().contains("boxed__cat") && r.to_string().contains("open__cat"),
        "{r}"
    );
    let secret = p.outside.join("secret.txt").display().to_string();
    let read = |proc: &mut Proc, id: i64, server: &str| {
        let r = proc.request(
            id,
            "tools/call",
            json!({"name": format!("{server}__cat"), "arguments": {"path": secret}}),
        );
        r["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(read(&mut proc, 3, "open"), "TOP-SECRET\n");
    let boxed = read(&mut proc, 4, "boxed");
    assert!(boxed.starts_with("cannot read"), "{boxed}");
}

/// Through the real binary, first run included: an entry of the servers file runs only after
/// a person approves it (`switchboard proxy approve`, seen by the running switchboard), and an
/// entry changed to run something else is held again.
#[test]
fn server_entries_run_only_once_approved() {
    let (p, state) = project_with_state();
    let servers = write_servers(
        &p,
        json!({"mcpServers": {"kid": py("good", &state, json!({}))}}),
    );
    // Named in the config, not with --servers, so the test harness approves nothing.
    let cfg = p.base.join("config.yaml");
    std::fs::write(
        &cfg,
        format!("proxy:\n  servers_config: {}\n", servers.display()),
    )
    .unwrap();
    let mut proc = Proc::spawn(&["--config", cfg.to_str().unwrap(), "--exposure", "full"]);
    proc.initialize();
    let r = proc.request(2, "tools/list", json!({}));
    assert!(
        !r.to_string().contains("kid__echo"),
        "ran before approval: {r}"
    );
    let st = proc.request(
        3,
        "tools/call",
        json!({"name": "proxy_status", "arguments": {"server": "kid"}}),
    );
    assert!(st.to_string().contains("held"), "{st}");
    assert!(
        pid_in(&state, "good.pid").is_none(),
        "the child was started"
    );
    crate::harness::approve_servers(&["--config", cfg.to_str().unwrap()], proc.home.path(), &[]);
    let mut id = 10;
    let listed = |r: &Value| r.to_string().contains("kid__echo");
    poll(
        &mut proc,
        &mut id,
        "tools/list",
        json!({}),
        listed,
        "not started after approval",
    );
    // The entry now runs something else: held again.
    std::fs::write(
        &servers,
        json!({"mcpServers": {"kid": py("good", &state, json!({"env": {"EXTRA": "1"}}))}})
            .to_string(),
    )
    .unwrap();
    poll(
        &mut proc,
        &mut id,
        "tools/list",
        json!({}),
        |r| !listed(r),
        "a changed entry kept running",
    );
}

/// VS Code's `mcp.json` (`{"servers": {...}}`, entries with `type`) starts its servers like
/// Claude Desktop's format; `config check` passes a file whose only findings are warnings, and
/// says so, and one with no servers object says it starts nothing.
#[tokio::test]
async fn a_vs_code_servers_file_starts_its_servers_and_warnings_do_not_fail_the_check() {
    let (p, state) = project_with_state();
    let mut entry = py("good", &state, json!({}));
    entry["type"] = json!("stdio");
    entry["fancy"] = json!(true);
    let settings = with_servers(&p, json!({"inputs": [], "servers": {"vs": entry}}));
    let path = settings.proxy.servers_config.clone().unwrap().0;
    let s = session_with(settings, TestClient::default()).await;
    assert!(
        eventually(|| async { tool_names(&s).await.iter().any(|n| n.starts_with("vs__")) }).await,
        "{:?}",
        tool_names(&s).await
    );
    let check = |file: &Path| {
        let out = std::process::Command::new(bin())
            .args(["--servers", file.to_str().unwrap(), "config", "check"])
            .env("HOME", &p.base)
            .env("XDG_CONFIG_HOME", p.base.join(".config"))
            .env("XDG_DATA_HOME", p.base.join(".local/share"))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = check(&path);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("warning:") && out.contains("servers.vs.fancy"),
        "{out}"
    );
    let empty = write_servers(&p, json!({"globalShortcut": "x"}));
    let (code, out) = check(&empty);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("no server is started"), "{out}");
}
