//! `switchboard serve --http` as a real process: who may connect (bearer tokens, Origin), what
//! each tenant sees, and one set of child servers per profile however many hosts connect,
//! driven by raw HTTP and by the official Python SDK over streamable HTTP in both protocol
//! generations.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Proc, approve_servers, bin};

const TOKEN_A: &str = "alice-0123456789abcdef0123456789abcdef";
const TOKEN_B: &str = "bob-0123456789abcdef0123456789abcdef01";

/// A running `serve --http` and what it needs; stopped (and its children with it) on drop.
struct HttpServer {
    child: Child,
    url: String,
    args: Vec<String>,
    _home: tempfile::TempDir,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl HttpServer {
    /// Stops the server (as a crash would: killed).
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again with the same arguments and home, on the same port.
    fn restart(&mut self) {
        self.kill();
        let port = self
            .url
            .rsplit(':')
            .next()
            .unwrap()
            .split('/')
            .next()
            .unwrap();
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let (child, url) = spawn_server(self._home.path(), &args, &format!("127.0.0.1:{port}"));
        assert_eq!(url, self.url, "the same address");
        self.child = child;
    }
}

fn env_for(home: &Path) -> Vec<(String, String)> {
    vec![
        ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
        ("HOME".into(), home.display().to_string()),
        (
            "XDG_CONFIG_HOME".into(),
            home.join(".config").display().to_string(),
        ),
        (
            "XDG_DATA_HOME".into(),
            home.join(".local/share").display().to_string(),
        ),
        ("SB_TOKEN_A".into(), TOKEN_A.into()),
        ("SB_TOKEN_B".into(), TOKEN_B.into()),
    ]
}

/// Starts `switchboard ARGS serve --http ADDR` with `home`'s environment.
fn launch(home: tempfile::TempDir, args: &[&str], addr: &str) -> HttpServer {
    let (child, url) = spawn_server(home.path(), args, addr);
    HttpServer {
        child,
        url,
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        _home: home,
    }
}

fn spawn_server(home: &Path, args: &[&str], addr: &str) -> (Child, String) {
    let env = env_for(home);
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .args(["serve", "--http", addr])
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    serving(cmd)
}

/// Spawns `cmd` (a `switchboard … serve --http …`) and waits for the address it announces on
/// stderr (the rest of stderr is drained so it never blocks).
pub(crate) fn serving(mut cmd: Command) -> (Child, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("switchboard starts");
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let url = loop {
        line.clear();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "the server exited before serving"
        );
        if let Some(u) = line.trim().strip_prefix("switchboard: serving MCP at ") {
            break u.to_owned();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    (child, url)
}

/// Starts the server with two tenants (alice: everything; bob: read-only memory and files)
/// and one child server, approved for both profiles.
fn start() -> HttpServer {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let cfg = home.path().join("config.yaml");
    let bob_root = home.path().join("bob-root");
    std::fs::create_dir_all(&bob_root).unwrap();
    for host in ["alice-one", "alice-two"] {
        std::fs::create_dir_all(home.path().join(host)).unwrap();
    }
    std::fs::write(
        &cfg,
        format!(
            "http:\n  tokens:\n    - {{token: env:SB_TOKEN_A, profile: alice}}\n    - {{token: env:SB_TOKEN_B, profile: bob, read_only: true, toolsets: [memory, files], roots: [{}]}}\n",
            bob_root.display()
        ),
    )
    .unwrap();
    let servers = home.path().join("servers_config.json");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/children/child_server.py");
    std::fs::write(
        &servers,
        json!({"mcpServers": {
            "kid": {"command": "python3", "args": [script, "good"], "env": {"STATE_DIR": state}},
            "asker": {"command": "python3", "args": [script, "sampler"],
                      "env": {"STATE_DIR": state}, "allow_sampling": true},
        }})
        .to_string(),
    )
    .unwrap();
    let env = env_for(home.path());
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    for profile in ["alice", "bob"] {
        approve_servers(
            &[
                "--config",
                cfg.to_str().unwrap(),
                "--servers",
                servers.to_str().unwrap(),
                "--profile",
                profile,
            ],
            home.path(),
            &env_refs,
        );
    }
    let args = [
        "--config",
        cfg.to_str().unwrap(),
        "--servers",
        servers.to_str().unwrap(),
        // Child tools listed by name (not only through search_tools), so clients call them.
        "--exposure",
        "full",
    ];
    launch(home, &args, "127.0.0.1:0")
}

fn initialize_body() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"}}})
}

async fn post(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(initialize_body().to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    // An accepted initialize answers on an event stream; its first event is enough.
    let text = tokio::time::timeout(Duration::from_secs(5), resp.text())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    (status, text)
}

/// The processes running `script` whose parent is `parent`.
fn children_running(parent: u32, script: &str) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter(|e| {
            let p: PathBuf = e.path();
            let cmd = std::fs::read(p.join("cmdline")).unwrap_or_default();
            let stat = std::fs::read_to_string(p.join("stat")).unwrap_or_default();
            // stat: pid (comm) state ppid ...
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|s| s.parse::<u32>().ok());
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            ppid == Some(parent) && cmd.contains(script)
        })
        .count()
}

#[tokio::test]
async fn only_known_tokens_from_allowed_origins_get_in() {
    let server = start();
    let bearer = |t: &str| format!("Bearer {t}");
    let (status, _) = post(&server.url, &[]).await;
    assert_eq!(status, 401, "no token");
    let (status, body) = post(&server.url, &[("authorization", &bearer("not-a-token"))]).await;
    assert_eq!(status, 401, "a wrong token: {body}");
    assert!(body.contains("Authorization: Bearer"), "{body}");
    let (status, _) = post(
        &server.url,
        &[
            ("authorization", &bearer(TOKEN_A)),
            ("origin", "http://evil.example"),
        ],
    )
    .await;
    assert_eq!(status, 403, "a foreign Origin (DNS rebinding)");
    let rebound = server.url.replace("127.0.0.1", "localhost");
    let (status, body) = post(
        &rebound,
        &[
            ("authorization", &bearer(TOKEN_A)),
            ("origin", "http://localhost:3000"),
        ],
    )
    .await;
    assert_eq!(status, 200, "a loopback origin with a good token: {body}");
    assert!(body.contains("serverInfo"), "{body}");
    let (status, _) = post(
        &server.url,
        &[
            ("authorization", &bearer(TOKEN_A)),
            ("host", "evil.example"),
        ],
    )
    .await;
    assert_eq!(status, 403, "a foreign Host");
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[test]
fn tenants_are_isolated_and_hosts_of_one_profile_share_its_children() {
    use crate::clients::installed;
    let Some(py) = installed("SWITCHBOARD_TEST_PYTHON", "the Python MCP SDK") else {
        return;
    };
    let Some(node) = installed("SWITCHBOARD_TEST_NODE", "Node 22") else {
        return;
    };
    let Some(sdk) = installed("SWITCHBOARD_TEST_TS_SDK", "the TypeScript MCP SDK client") else {
        return;
    };
    let server = start();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/");
    // Each SDK in both generations: 2026-07-28 (stateless requests) and initialize (sessions).
    let runs = [
        (&py, "http_tenants.py", "default"),
        (&py, "http_tenants.py", "legacy"),
        (&node, "http_tenants.mjs", "auto"),
        (&node, "http_tenants.mjs", "legacy"),
    ];
    let home = std::fs::canonicalize(server._home.path()).unwrap();
    let (root_1, root_2) = (home.join("alice-one"), home.join("alice-two"));
    for (program, script, mode) in runs {
        let out = Command::new(program)
            .args([
                &format!("{dir}{script}"),
                &server.url,
                TOKEN_A,
                TOKEN_B,
                mode,
                root_1.to_str().unwrap(),
                root_2.to_str().unwrap(),
            ])
            .env("SWITCHBOARD_TEST_TS_SDK", &sdk)
            .env("SB_STATE", home.join("state"))
            .output()
            .unwrap();
        let what = format!("{script} ({mode})");
        assert!(
            out.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let v: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{what}: {e}: {stdout}"));
        assert_eq!(v["echo_host1"], "echo: one", "{what}: {v}");
        assert_eq!(v["echo_host2"], "echo: two", "{what}: {v}");
        assert_eq!(v["saved"], true, "{what}: {v}");
        assert_eq!(
            v["a2_finds"], true,
            "a second host of the profile sees it: {what}: {v}"
        );
        assert_eq!(
            v["b_finds"], false,
            "another tenant sees nothing: {what}: {v}"
        );
        assert_eq!(
            v["b_has_run_command"], false,
            "the token's toolsets: {what}: {v}"
        );
        assert!(
            v["b_roots"]
                .as_str()
                .is_some_and(|r| r.contains("bob-root")),
            "the token's roots: {what}: {v}"
        );
        assert_eq!(
            v["b_write_refused"], true,
            "the token's read-only mode: {what}: {v}"
        );
        assert!(v["tools_a"].as_u64() > v["tools_b"].as_u64(), "{what}: {v}");
        if (script, mode) == ("http_tenants.py", "legacy") {
            // A child's sampling request goes to the host whose call is waiting on it.
            assert_eq!(v["sampled_by_1"], "host one", "{v}");
            assert_eq!(v["sampled_by_2"], "host two", "{v}");
            // Two hosts of one profile, each with its own client roots: neither narrows the
            // other's files.
            let (one, two) = (v["a1_roots"].as_str(), v["a2_roots"].as_str());
            assert!(
                one.is_some_and(|r| r.contains("alice-one") && !r.contains("alice-two")),
                "host 1 keeps its roots: {v}"
            );
            assert!(
                two.is_some_and(|r| r.contains("alice-two") && !r.contains("alice-one")),
                "host 2 keeps its roots: {v}"
            );
        }
    }
    // Twelve clients of two SDKs in two generations, two profiles: one child server (its
    // supervisor) per profile.
    assert_eq!(
        children_running(server.child.id(), "child_server.py good"),
        2
    );
}

/// `switchboard connect URL`, the one-line entry of a host that takes only a command: its
/// stdio is the shared server's session, tools unprefixed, the token from the environment;
/// every request is answered while the server is away, and the session comes back by itself
/// when the server restarts.
#[test]
fn connect_bridges_a_command_only_host_to_the_shared_server() {
    let mut server = start();
    let call = |id: i64| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "list_roots", "arguments": {}}})
        .to_string()
    };

    // No token: the host's initialize is answered with what to do.
    let mut p = Proc::spawn(&["connect", &server.url]);
    let refused = p.initialize();
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("refused the token") && message.contains("SWITCHBOARD_TOKEN"),
        "{refused}"
    );
    drop(p);

    // Token B (another variable named by --token-env): bob's profile, as stdio would show it.
    let mut p = Proc::spawn_env(
        &["connect", &server.url, "--token-env", "BOB_TOKEN"],
        &[("BOB_TOKEN", TOKEN_B)],
    );
    let init = p.initialize();
    assert_eq!(
        init["result"]["serverInfo"]["name"], "switchboard",
        "{init}"
    );
    let tools = p.request(2, "tools/list", json!({}));
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"memory_search"), "{names:?}");
    assert!(
        !names.contains(&"run_command"),
        "the token's toolsets: {names:?}"
    );
    assert!(
        names.iter().all(|n| !n.starts_with("shared__")),
        "{names:?}"
    );
    p.send(&call(3));
    let roots = p.response(3);
    assert!(roots.to_string().contains("bob-root"), "{roots}");

    // The server stops: the next call is answered, failed, saying so.
    server.kill();
    p.send(&call(4));
    let down = p.response(4);
    assert_eq!(down["result"]["isError"], true, "{down}");
    assert_eq!(
        down["result"]["_meta"]["switchboard/reason"], "upstream_failed",
        "{down}"
    );
    assert!(
        down.to_string().contains("is running at that address"),
        "{down}"
    );
    // It starts again on the same address: the bridge opens a new session by itself.
    server.restart();
    p.send(&call(5));
    let back = p.response(5);
    assert_eq!(back["result"]["isError"], false, "{back}");
    assert!(back.to_string().contains("bob-root"), "{back}");
    // The host closes its input: the bridge ends.
    p.close_stdin();
    assert!(p.wait_exit(Duration::from_secs(10)).success());
}

/// The open (token-less) server: only on loopback; every answer it streams is capped at
/// `limits.max_response_bytes` as on stdio; requests in flight are limited.
#[tokio::test]
async fn the_open_server_is_loopback_only_and_its_answers_and_requests_are_capped() {
    let home = tempfile::tempdir().unwrap();
    let root = home.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("big.txt"), "0123456789abcdef\n".repeat(8000)).unwrap();
    let cfg = home.path().join("config.yaml");
    std::fs::write(
        &cfg,
        "limits:\n  max_response_bytes: 60000\nfiles:\n  max_read_bytes: 1000000\nhttp:\n  max_in_flight_per_token: 2\n",
    )
    .unwrap();
    let env = env_for(home.path());
    let run = |addr: &str| {
        Command::new(bin())
            .args([
                "--config",
                cfg.to_str().unwrap(),
                "--root",
                root.to_str().unwrap(),
            ])
            .args(["serve", "--http", addr])
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let refused = run("0.0.0.0:0").wait_with_output().unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("needs authentication"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    let args = [
        "--config",
        cfg.to_str().unwrap(),
        "--root",
        root.to_str().unwrap(),
    ];
    // A port alone: loopback.
    let server = launch(home, &args, "0");
    assert!(
        server.url.starts_with("http://127.0.0.1:"),
        "{}",
        server.url
    );
    // A 2026-07-28 request needs no session: the version travels with it.
    let call = |name: &str, args: Value| {
        let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
            "name": name, "arguments": args,
            "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                      "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
                      "io.modelcontextprotocol/clientCapabilities": {}}}});
        reqwest::Client::new()
            .post(&server.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", name)
            .body(body.to_string())
            .send()
    };
    let big = call("read_file", json!({"path": "big.txt"})).await.unwrap();
    assert_eq!(big.status(), 200);
    let text = big.text().await.unwrap();
    assert!(
        text.len() < 60000,
        "the answer was capped: {} bytes",
        text.len()
    );
    assert!(text.contains("response_too_large"), "{text}");
    assert!(text.contains("limits.max_response_bytes"), "{text}");
    // Two requests in flight at most: of four slow calls sent together, the first two to
    // arrive run for a second and the others are refused in words meanwhile.
    let slow = || call("run_command", json!({"program": "sleep", "args": ["1"]}));
    let (a, b, c, d) = tokio::join!(slow(), slow(), slow(), slow());
    let mut ran = 0;
    let mut refused = Vec::new();
    for r in [a, b, c, d] {
        let r = r.unwrap();
        match r.status().as_u16() {
            200 => {
                // Read to its end, which frees its slot.
                r.text().await.unwrap();
                ran += 1;
            }
            429 => refused.push(r.text().await.unwrap()),
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(ran, 2, "{refused:?}");
    assert_eq!(refused.len(), 2);
    assert!(
        refused[0].contains("http.max_in_flight_per_token"),
        "{refused:?}"
    );
    let after = call("list_roots", json!({})).await.unwrap();
    assert_eq!(
        after.status(),
        200,
        "the slot is free again once the answer ended"
    );

    // In one session, a request whose id is still running is answered at once, as on stdio
    // (not left waiting for ever), and the first goes on to its own answer.
    let client = reqwest::Client::new();
    let opened = client
        .post(&server.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(initialize_body().to_string())
        .send()
        .await
        .unwrap();
    let session = opened.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    opened.text().await.unwrap();
    let post = |body: Value| {
        client
            .post(&server.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-session-id", &session)
            .header("mcp-protocol-version", "2025-06-18")
            .body(body.to_string())
            .send()
    };
    post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await
        .unwrap();
    let call5 = |name: &str, args: Value| {
        post(json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
            "params": {"name": name, "arguments": args}}))
    };
    let first = tokio::spawn(call5(
        "run_command",
        json!({"program": "sleep", "args": ["1"]}),
    ));
    let mut dup = None;
    for _ in 0..50 {
        let r = call5("list_roots", json!({}))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if r.contains("still in use") {
            dup = Some(r);
            break;
        }
    }
    // Whichever of the two arrived second was refused (under load the list_roots call may
    // reach the server first); the other got its own answer.
    let first = first.await.unwrap().unwrap().text().await.unwrap();
    match dup {
        Some(dup) => {
            assert!(dup.contains("-32600") && dup.contains("\"id\":5"), "{dup}");
            assert!(first.contains("\"isError\":false"), "{first}");
        }
        None => assert!(
            first.contains("-32600") && first.contains("still in use"),
            "neither request with id 5 was refused: {first}"
        ),
    }
}

/// The scenarios of the official conformance suite about the protocol itself (as opposed to
/// those that call the suite's own fixture tools, resources and prompts, which only its
/// reference server has).
const PROTOCOL_SCENARIOS: &[&str] = &[
    "server-initialize",
    "logging-set-level",
    "ping",
    "completion-complete",
    "tools-list",
    "server-sse-multiple-streams",
    "resources-list",
    "prompts-list",
    "dns-rebinding-protection",
];

/// The official MCP conformance suite against `serve --http` directly (no bridge): every
/// protocol scenario passes, and every scenario that fails does so only because it calls a
/// fixture of the suite's reference server (`test_…` tools and prompts, `test://` resources).
#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[test]
fn the_official_conformance_suite_passes_its_protocol_scenarios() {
    use crate::clients::installed;
    let Some(node) = installed("SWITCHBOARD_TEST_NODE", "Node 22") else {
        return;
    };
    let Some(suite) = installed("SWITCHBOARD_TEST_CONFORMANCE", "the MCP conformance suite") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let cfg = home.path().join("config.yaml");
    // The suite opens a session per scenario and leaves them to expire.
    std::fs::write(&cfg, "http:\n  max_sessions_per_token: 1000\n").unwrap();
    let root = home.path().to_str().unwrap().to_owned();
    let args = ["--config", cfg.to_str().unwrap(), "--root", &root];
    let server = launch(home, &args, "127.0.0.1:0");
    let results = tempfile::tempdir().unwrap();
    let out = Command::new(&node)
        .args([suite.as_str(), "server", "--url", &server.url, "-o"])
        .arg(results.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary = stdout.split("=== SUMMARY ===").nth(1).unwrap_or_default();
    let total = summary
        .lines()
        .find(|l| l.starts_with("Total:"))
        .unwrap_or_default();
    eprintln!("conformance: {total}");
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    for l in summary.lines() {
        let (list, rest) = match (l.strip_prefix('✓'), l.strip_prefix('✗')) {
            (Some(rest), _) => (&mut passed, rest),
            (_, Some(rest)) => (&mut failed, rest),
            _ => continue,
        };
        if let Some((name, _)) = rest.trim().split_once(':') {
            list.push(name.to_owned());
        }
    }
    for s in PROTOCOL_SCENARIOS {
        assert!(passed.iter().any(|p| p == s), "{s} did not pass:\n{stdout}");
    }
    // Each failure names a fixture of the suite's reference server.
    let mut explained = 0;
    for entry in std::fs::read_dir(results.path())
        .unwrap()
        .filter_map(Result::ok)
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(scenario) = failed
            .iter()
            .find(|f| name.starts_with(&format!("server-{f}-")))
        else {
            continue;
        };
        let mut messages = String::new();
        for f in std::fs::read_dir(entry.path())
            .unwrap()
            .filter_map(Result::ok)
        {
            let text = std::fs::read_to_string(f.path()).unwrap_or_default();
            let Ok(Value::Array(checks)) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            for c in checks.iter().filter(|c| c["status"] == "FAILURE") {
                messages.push_str(c["errorMessage"].as_str().unwrap_or_default());
                messages.push('\n');
            }
        }
        assert!(
            !messages.is_empty()
                && messages
                    .lines()
                    .all(|m| m.contains("`test_") || m.contains("test://") || m.contains("test_")),
            "{scenario} failed for another reason:\n{messages}"
        );
        explained += 1;
    }
    assert_eq!(
        explained,
        failed.len(),
        "every failed scenario has its results: {failed:?}"
    );
}
