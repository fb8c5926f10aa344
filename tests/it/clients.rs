//! Real third-party clients: the official Python SDK (default mode, which opens with
//! `server/discover`, and legacy `initialize` mode). `scripts/test.sh` installs it and sets
//! `SWITCHBOARD_TEST_PYTHON`; under `SWITCHBOARD_TEST_STRICT=1` (CI) a missing client fails.

use std::process::Command;

use crate::harness::Project;

/// The path a real client was installed at, from `var`. Missing: the test is skipped with a
/// note, except under `SWITCHBOARD_TEST_STRICT=1` (scripts/test.sh, CI), where it fails.
pub(crate) fn installed(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            assert!(
                std::env::var("SWITCHBOARD_TEST_STRICT").is_err(),
                "{var} is not set; run scripts/test.sh, which installs {what}"
            );
            eprintln!("skipped: set {var} (scripts/test.sh does) to run the {what} test");
            None
        }
    }
}

pub(crate) fn python() -> Option<String> {
    installed("SWITCHBOARD_TEST_PYTHON", "the Python MCP SDK")
}

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[test]
fn python_sdk_lists_and_calls_every_tool() {
    let Some(py) = python() else { return };
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/python_client.py"
    );
    // The AI tools talk to the test engine when there is one (and wait their turn on it).
    let ollama = crate::ai::engine().map(|e| e.ollama.clone());
    let _turn = ollama.as_ref().map(|_| crate::ai::TURN.blocking_lock());
    let mut env = vec![(
        "SWITCHBOARD_TEST_OLLAMA",
        ollama
            .clone()
            .unwrap_or_else(|| "http://127.0.0.1:9".into()),
    )];
    if ollama.is_some() {
        env.push(("SWITCHBOARD_TEST_AI_LIVE", "1".into()));
    }
    for mode in ["default", "legacy"] {
        // Each mode on a project of its own: the git calls commit and branch.
        let p = client_project();
        let stdout = run_python(&py, script, p.root.to_str().unwrap(), mode, &p.base, &env);
        assert!(stdout.contains("called 92 tools"), "{stdout}");
    }
}

/// The project the client plans call every tool in: a git repository with a page for the
/// browser and an image, and a git identity in its home (for `git_commit`).
fn client_project() -> Project {
    let p = Project::new();
    p.write("README.md", "# demo\nhello\n");
    p.write("page.html", BROWSER_PAGE);
    p.write("img.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    p.write("table.csv", "name,qty\nbolts,7\n");
    p.git_init();
    std::fs::write(
        p.base.join(".gitconfig"),
        "[user]\n\tname = Client Test\n\temail = client@example.com\n",
    )
    .unwrap();
    p
}

/// Runs a Python client script (`SCRIPT BINARY ARG MODE`) and returns its output; it must exit 0.
fn run_python(
    py: &str,
    script: &str,
    arg: &str,
    mode: &str,
    home: &std::path::Path,
    env: &[(&str, String)],
) -> String {
    let out = Command::new(py)
        .args([script, crate::harness::bin(), arg, mode])
        .env("HOME", home)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "python client ({mode}) failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A servers file with one child, `name`, running the Python test server in "good" mode.
fn good_child_servers(p: &Project, name: &str) -> std::path::PathBuf {
    let child = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/children/child_server.py"
    );
    let servers = p.base.join("servers_config.json");
    let entry = serde_json::json!({"command": "python3", "args": [child, "good"],
        "env": {"STATE_DIR": p.base.display().to_string()}});
    std::fs::write(
        &servers,
        serde_json::json!({"mcpServers": {name: entry}}).to_string(),
    )
    .unwrap();
    // Approved as a person would on first use, in the home folder the clients give switchboard.
    crate::harness::approve_servers(&["--servers", servers.to_str().unwrap()], &p.base, &[]);
    servers
}

/// Child servers through switchboard, with the Python SDK in both protocol generations (the
/// default opens with `server/discover` and never sends `initialize`).
#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[test]
fn python_sdk_sees_child_tools_and_their_progress() {
    let Some(py) = python() else { return };
    let p = Project::new();
    let servers = good_child_servers(&p, "kid");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/python_proxy.py");
    for mode in ["default", "legacy"] {
        let stdout = run_python(&py, script, servers.to_str().unwrap(), mode, &p.base, &[]);
        assert!(stdout.contains("proxied ok"), "{stdout}");
    }
}

/// The MCP Inspector CLI (Node). `scripts/test.sh` installs it with Node 22 from npm and sets
/// `SWITCHBOARD_TEST_INSPECTOR` to its `mcp-inspector` command.
fn inspector() -> Option<String> {
    installed("SWITCHBOARD_TEST_INSPECTOR", "the MCP Inspector CLI")
}

fn inspect(
    cmd: &str,
    root: &std::path::Path,
    home: &std::path::Path,
    args: &[&str],
) -> (bool, String, String) {
    inspect_with(cmd, root, home, args, &["--exposure", "full"])
}

/// Like [`inspect`], with more arguments for switchboard (e.g. `--servers FILE`).
fn inspect_with(
    cmd: &str,
    root: &std::path::Path,
    home: &std::path::Path,
    args: &[&str],
    server_args: &[&str],
) -> (bool, String, String) {
    let bin_dir = std::path::Path::new(cmd)
        .parent()
        .unwrap()
        .display()
        .to_string();
    let path = format!("{bin_dir}:{}", std::env::var("PATH").unwrap_or_default());
    let out = Command::new(cmd)
        .arg("--cli")
        .args(args)
        .args([
            "--",
            crate::harness::bin(),
            "--root",
            root.to_str().unwrap(),
        ])
        .args(server_args)
        .env("PATH", path)
        .env("HOME", home)
        .env("OLLAMA_HOST", "127.0.0.1:9")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A page in the roots for the browser tools: a field, a button that greets, one that asks
/// for confirmation, and a file input.
const BROWSER_PAGE: &str = r#"<html><head><title>Client page</title></head><body>
<label>Name <input id="n"></label>
<button onclick="document.getElementById('out').textContent = 'Hello ' + document.getElementById('n').value">Greet</button>
<button onclick="document.getElementById('ans').textContent = 'answered ' + confirm('Sure?')">Ask</button>
<input type="file" aria-label="Attachment">
<p id="out"></p><p id="ans"></p>
</body></html>"#;

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[test]
fn inspector_cli_lists_strictly_and_calls_every_tool() {
    let Some(cmd) = inspector() else { return };
    let p = client_project();
    let (ok, out, err) = inspect(
        &cmd,
        &p.root,
        &p.base,
        &["--strict", "--method", "tools/list"],
    );
    assert!(ok, "{err}");
    assert!(
        !err.contains("Warning"),
        "--strict found portability problems:\n{err}"
    );
    // The compact core passes the same checks.
    let (ok, compact, err) = inspect_with(
        &cmd,
        &p.root,
        &p.base,
        &["--strict", "--method", "tools/list"],
        &["--exposure", "compact"],
    );
    assert!(ok && !err.contains("Warning"), "compact list: {err}");
    let compact: serde_json::Value = serde_json::from_str(&compact).unwrap();
    let core: Vec<&str> = compact["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        core,
        [
            "search_tools",
            "call_tool",
            "run_workflow",
            "list_roots",
            "read_file",
            "edit_file"
        ]
    );
    let tools: serde_json::Value = serde_json::from_str(&out).unwrap();
    let names: Vec<String> = tools["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    let page_url = format!("url=file://{}/page.html", p.root.display());
    let mut victim = crate::harness::Reaped::spawn(Command::new("sleep").arg("300"));
    let victim_arg = format!("pid={}", victim.0.id());
    let calls: &[(&str, &[&str])] = &[
        ("list_roots", &[]),
        ("read_file", &["path=README.md", "line_numbers=true"]),
        ("read_media", &["path=img.png"]),
        ("read_document", &["path=table.csv"]),
        ("read_many", &[r#"paths=["README.md"]"#]),
        (
            "write_file",
            &[
                "path=ins/new.txt",
                "content=hello inspector",
                "create_parents=true",
            ],
        ),
        (
            "edit_file",
            &["path=ins/new.txt", r#"edits=[{"old":"hello","new":"bye"}]"#],
        ),
        ("create_directory", &["path=ins/d"]),
        (
            "copy_path",
            &["source=ins/new.txt", "destination=ins/c.txt"],
        ),
        ("move_path", &["source=ins/c.txt", "destination=ins/m.txt"]),
        ("delete_path", &["path=ins/m.txt", "permanent=true"]),
        ("list_directory", &["path=ins"]),
        ("directory_tree", &[]),
        ("find_files", &[r#"patterns=["*.txt"]"#]),
        ("search_content", &["pattern=bye"]),
        ("file_info", &["path=ins/new.txt"]),
        ("git_reset", &[]),
        ("git_add", &[r#"paths=["ins"]"#]),
        ("git_commit", &["message=Add the inspector's files"]),
        ("git_create_branch", &["name=ins-branch"]),
        ("git_checkout", &["branch=ins-branch"]),
        ("current_time", &["timezone=UTC"]),
        (
            "convert_time",
            &["time=12:00", "from_timezone=UTC", "to_timezone=Asia/Tokyo"],
        ),
        ("system_info", &[]),
        ("list_processes", &["limit=5"]),
        ("kill_process", &[victim_arg.as_str()]),
        ("get_environment", &["filter=PATH"]),
        ("which", &[r#"names=["sh"]"#]),
        ("git_status", &[]),
        ("git_log", &["max_count=5"]),
        ("git_diff", &["stat_only=true"]),
        ("git_show", &["stat_only=true"]),
        ("git_branch", &[]),
        ("run_command", &["program=echo", r#"args=["hi"]"#]),
        ("run_shell", &["command=echo hi | tr a-z A-Z"]),
        ("run_code", &["language=python", "code=print(6 * 7)"]),
        ("process_start", &["program=cat"]),
        ("process_list", &[]),
        // Each Inspector call is a new switchboard process, so a process started by an earlier
        // call is gone (background processes die with switchboard): these answer "no such id".
        ("process_read", &["id=p1"]),
        ("process_write", &["id=p1", "input=x"]),
        ("process_wait", &["id=p1"]),
        ("process_kill", &["id=p1"]),
        // The real install runs in the exec and Python SDK tests; here, the look-alike check.
        (
            "install_package",
            &["manager=pip", r#"packages=["reqeusts"]"#],
        ),
        // The real requests run in tests/it/net.rs; here, the refusal of a local address.
        ("http_request", &["url=http://127.0.0.1:9/"]),
        ("fetch_url", &["url=http://127.0.0.1:9/"]),
        (
            "download_file",
            &["url=http://127.0.0.1:9/", "path=ins/d.bin"],
        ),
        // No search provider is configured here: the answer says how to add one.
        ("web_search", &["query=rust"]),
        // Each call is a new process; the notes persist in the profile under HOME.
        (
            "memory_save",
            &[
                "text=The build server is called hopper.",
                r#"tags=["infra"]"#,
            ],
        ),
        ("memory_search", &["query=build server"]),
        ("memory_get", &["id=1"]),
        ("memory_update", &["id=1", r#"tags=["infra","ci"]"#]),
        ("memory_list", &["tag=ci"]),
        ("memory_delete", &["id=1"]),
        (
            "create_entities",
            &[r#"entities=[{"name":"hopper","entityType":"server","observations":["builds CI"]}]"#],
        ),
        (
            "create_relations",
            &[r#"relations=[{"from":"hopper","to":"ci","relationType":"runs"}]"#],
        ),
        (
            "add_observations",
            &[r#"observations=[{"entityName":"hopper","contents":["in rack 3"]}]"#],
        ),
        ("search_nodes", &["query=rack"]),
        ("open_nodes", &[r#"names=["hopper"]"#]),
        ("read_graph", &[]),
        (
            "delete_observations",
            &[r#"deletions=[{"entityName":"hopper","observations":["in rack 3"]}]"#],
        ),
        (
            "delete_relations",
            &[r#"relations=[{"from":"hopper","to":"ci","relationType":"runs"}]"#],
        ),
        ("delete_entities", &[r#"entityNames=["hopper"]"#]),
        ("db_connections", &[]),
        (
            "db_execute",
            &[
                "database=local",
                "sql=CREATE TABLE IF NOT EXISTS ins(a INTEGER PRIMARY KEY, b TEXT)",
            ],
        ),
        (
            "db_query",
            &["database=local", "sql=SELECT 1 AS one, NULL AS none"],
        ),
        ("db_tables", &["database=local"]),
        ("db_describe", &["database=local", "table=ins"]),
        (
            "db_export_csv",
            &[
                "database=local",
                "sql=SELECT 1",
                "path=ins/out.csv",
                "create_parents=true",
            ],
        ),
        // Nothing listens at OLLAMA_HOST here (the AI tests use the real engine): each answer
        // says so, and ai_health reports it as data.
        ("ai_health", &[]),
        ("ai_list_models", &[]),
        ("ai_model_info", &["model=llama3.2"]),
        (
            "ai_chat",
            &[
                r#"messages=[{"role":"user","content":"hi"}]"#,
                "max_tokens=4",
            ],
        ),
        ("ai_generate", &["prompt=hi", "model=llama3.2"]),
        ("ai_embed", &[r#"texts=["hi"]"#, "model=all-minilm"]),
        ("ai_pull_model", &["model=llama3.2"]),
        (
            "ai_agent",
            &["task=list the roots", r#"tools=["list_roots"]"#],
        ),
        ("notify_desktop", &["title=Build done"]),
        ("comms_outbox", &["limit=5"]),
        (
            "run_workflow",
            &["script=return (await tools.list_roots({})).roots.length;"],
        ),
        // Each call is a new switchboard, so a new browser: refs of an earlier call's page
        // are not this one's, and the acting tools say to take a snapshot (the Python client
        // drives a whole page in one session).
        ("browser_navigate", &[page_url.as_str()]),
        ("browser_snapshot", &[]),
        ("browser_screenshot", &[]),
        ("browser_wait", &["idle=true"]),
        ("browser_press", &["key=Tab"]),
        ("browser_tabs", &[]),
        ("browser_logs", &[]),
        ("browser_pdf", &["path=ins/page.pdf"]),
        ("browser_click", &["ref=e1"]),
        ("browser_hover", &["ref=e1"]),
        ("browser_fill", &[r#"fields=[{"ref":"e1","value":"x"}]"#]),
        ("browser_upload", &["ref=e1", r#"paths=["README.md"]"#]),
        ("browser_dialog", &["accept=true"]),
    ];
    let expected_errors = [
        "browser_click",
        "browser_hover",
        "browser_fill",
        "browser_upload",
        "browser_dialog",
        "notify_desktop",
        "http_request",
        "fetch_url",
        "download_file",
        "web_search",
        "process_read",
        "process_write",
        "process_wait",
        "process_kill",
        "install_package",
        "ai_list_models",
        "ai_model_info",
        "ai_chat",
        "ai_generate",
        "ai_embed",
        "ai_pull_model",
        "ai_agent",
    ];
    assert_eq!(
        names.len(),
        calls.len(),
        "every listed tool has a call here: {names:?}"
    );
    for (tool, args) in calls {
        assert!(names.iter().any(|n| n == tool), "{tool} is listed");
        let mut argv = vec!["--method", "tools/call", "--tool-name", tool];
        for a in *args {
            argv.extend(["--tool-arg", a]);
        }
        // The sleeper was started by this test, not by switchboard: opening kill_process to
        // any of the user's processes is a config decision.
        let kill_config = p.base.join("kill-scope.yaml");
        std::fs::write(&kill_config, "exec:\n  kill_scope: user\n").unwrap();
        let server_args: &[&str] = if *tool == "kill_process" {
            &[
                "--exposure",
                "full",
                "--config",
                kill_config.to_str().unwrap(),
            ]
        } else {
            &["--exposure", "full"]
        };
        let (ok, out, err) = inspect_with(&cmd, &p.root, &p.base, &argv, server_args);
        // The Inspector exits non-zero on an error result; its output still shows the result.
        let good = if expected_errors.contains(tool) {
            out.contains("\"isError\": true")
        } else {
            ok && out.contains("\"isError\": false")
        };
        assert!(good, "{tool}: {out}\n{err}");
    }
    assert_eq!(
        std::fs::read_to_string(p.root.join("ins/new.txt")).unwrap(),
        "bye inspector"
    );
    use std::os::unix::process::ExitStatusExt;
    let status = victim.0.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(libc::SIGTERM),
        "kill_process reached the sleeper"
    );
}

/// One host entry for switchboard gives the Inspector every child's tools, correctly named
/// and callable (the acceptance of the proxy).
#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[test]
fn inspector_sees_and_calls_child_tools() {
    let Some(cmd) = inspector() else { return };
    let p = Project::new();
    let servers = good_child_servers(&p, "my tools");
    let extra = ["--servers", servers.to_str().unwrap(), "--exposure", "full"];
    let (ok, out, err) = inspect_with(
        &cmd,
        &p.root,
        &p.base,
        &["--strict", "--method", "tools/list"],
        &extra,
    );
    assert!(ok, "{err}");
    let tools: serde_json::Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = tools["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for n in [
        "read_file",
        "proxy_status",
        "my_tools__echo",
        "my_tools__slow",
        "my_tools__boom",
    ] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    let re = regex::Regex::new("^[A-Za-z0-9_-]{1,64}$").unwrap();
    assert!(names.iter().all(|n| re.is_match(n)), "{names:?}");
    let (ok, out, err) = inspect_with(
        &cmd,
        &p.root,
        &p.base,
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "my_tools__echo",
            "--tool-arg",
            "text=hi",
        ],
        &extra,
    );
    assert!(ok, "{err}");
    assert!(out.contains("echo: hi"), "{out}");
}

/// The sending tools are listed only when the config gives them somewhere to send; with one
/// of each configured they pass the Inspector's strict checks, and each dry run answers with
/// structured data.
#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[test]
fn inspector_lists_the_configured_sending_tools_strictly() {
    let Some(cmd) = inspector() else { return };
    let p = Project::new();
    let config = p.base.join("comms.yaml");
    std::fs::write(
        &config,
        "comms:\n  email:\n    allow: ['*@example.com']\n    accounts:\n      relay: {host: 127.0.0.1, port: 9, security: plain, from: 'Bot <bot@example.com>'}\n  webhooks:\n    team: {kind: slack, url: env:SB_TEST_HOOK}\n  ntfy: {server: 'http://127.0.0.1:9', topic: phone}\n",
    )
    .unwrap();
    let server_args = ["--config", config.to_str().unwrap(), "--exposure", "full"];
    let env = ["-e", "SB_TEST_HOOK=https://hooks.example.com/T1/x"];
    let mut args = env.to_vec();
    args.extend(["--strict", "--method", "tools/list"]);
    let (ok, out, err) = inspect_with(&cmd, &p.root, &p.base, &args, &server_args);
    assert!(ok, "{err}");
    assert!(!err.contains("Warning"), "--strict found problems:\n{err}");
    for tool in [
        "send_email",
        "send_webhook",
        "send_push",
        "notify_desktop",
        "comms_outbox",
    ] {
        assert!(
            out.contains(&format!("\"name\": \"{tool}\"")),
            "{tool} listed: {out}"
        );
    }
    for (tool, targs) in [
        (
            "send_email",
            vec![
                r#"to=["ann@example.com"]"#,
                "subject=Hi",
                "text=Hello",
                "dry_run=true",
            ],
        ),
        (
            "send_webhook",
            vec!["webhook=team", "text=Deployed", "dry_run=true"],
        ),
        (
            "send_push",
            vec!["message=Done", "priority=4", "dry_run=true"],
        ),
    ] {
        let mut args = env.to_vec();
        args.extend(["--method", "tools/call", "--tool-name", tool]);
        for a in &targs {
            args.extend(["--tool-arg", a]);
        }
        let (ok, out, err) = inspect_with(&cmd, &p.root, &p.base, &args, &server_args);
        assert!(ok, "{tool}: {err}");
        assert!(!out.contains("\"isError\": true"), "{tool}: {out}");
        assert!(out.contains("\"sent\": false"), "{tool}: {out}");
    }
}
