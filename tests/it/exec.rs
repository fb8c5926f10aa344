//! Code execution with real processes: tree kill of detached grandchildren, output caps, cwd
//! and environment policy, the bubblewrap sandbox, cancellation, background processes and
//! package installs.

use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParams, ClientRequest, NumberOrString, ProgressToken, Request, RequestMetaObject,
};
use rmcp::service::PeerRequestOptions;
use serde_json::{Value, json};

use crate::harness::{Proc, Project, TestClient, eventually, session, session_with, text};
use switchboard::config::{SandboxMode, Settings};

/// Pids whose command line starts with `needle` (so the shell that started them, whose
/// command line mentions them too, is not counted).
pub(crate) fn procs_matching(needle: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.starts_with(needle) {
                out.push(pid);
            }
        }
    }
    out
}

/// Whether bubblewrap works here. CI installs it (scripts/test.sh), so there its absence
/// fails the run instead of skipping the sandbox tests.
fn sandbox_available() -> bool {
    let ok = std::process::Command::new("bwrap")
        .args([
            "--ro-bind",
            "/",
            "/",
            "--unshare-pid",
            "--unshare-net",
            "--dev",
            "/dev",
        ])
        .args(["--proc", "/proc", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var_os("SWITCHBOARD_TEST_STRICT").is_some() {
        panic!("bubblewrap must work in the full test run (scripts/test.sh installs it)");
    }
    if !ok {
        eprintln!("bubblewrap is not usable here: sandbox tests skipped");
    }
    ok
}

fn with_sandbox(p: &Project, mode: SandboxMode) -> Settings {
    let mut s = p.settings();
    s.exec.sandbox = mode;
    s
}

fn modes() -> Vec<SandboxMode> {
    let mut m = vec![SandboxMode::Off];
    if sandbox_available() {
        m.push(SandboxMode::Required);
    }
    m
}

#[tokio::test]
async fn timeout_kills_detached_grandchildren() {
    for mode in modes() {
        let p = Project::new();
        let s = session(with_sandbox(&p, mode)).await;
        let tag = format!("73{}", rand_digits());
        let script = format!(
            "sleep {tag}1 & disown; setsid sleep {tag}2 & (setsid sleep {tag}3 &); nohup sleep {tag}4 >/dev/null 2>&1 & echo started; sleep {tag}5"
        );
        let r = s
            .call(
                "run_command",
                json!({"program": "bash", "args": ["-c", script], "timeout_secs": 1}),
            )
            .await;
        assert_eq!(r.is_error, Some(true), "a timeout is an error result");
        let out = r.structured_content.clone().unwrap();
        assert_eq!(out["timed_out"], true, "{out}");
        assert_eq!(out["stdout"], "started\n", "{out}");
        assert!(text(&r).contains("timed out after 1 s"), "{}", text(&r));
        assert_eq!(out["sandboxed"], mode == SandboxMode::Required);
        // Nothing survives: every sleep, detached or not, is gone (checked by pid).
        let left = procs_matching(&format!("sleep {tag}"));
        assert!(left.is_empty(), "{mode:?}: survivors {left:?}");
    }
}

pub(crate) fn rand_digits() -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{:05}", (n / 7 + std::process::id()) % 100_000)
}

#[tokio::test]
async fn huge_output_keeps_head_and_tail_without_splitting_characters() {
    let p = Project::new();
    let s = session(p.settings()).await;
    // 8738133 lines of "é€\n" (6 bytes each): 50 MiB of multi-byte text.
    let out = s
        .ok(
            "run_shell",
            json!({"command": "yes 'é€' | head -n 8738133; echo done >&2", "timeout_secs": 120}),
        )
        .await;
    assert_eq!(out["stdout_bytes"], 8_738_133u64 * 6);
    assert_eq!(out["stdout_truncated"], true);
    let stdout = out["stdout"].as_str().unwrap();
    assert!(
        stdout.len() < 1024 * 1024 + 200,
        "capped at 1 MiB: {}",
        stdout.len()
    );
    assert!(stdout.starts_with("é€\né€\n"));
    assert!(stdout.ends_with("é€\né€\n"));
    assert!(!stdout.contains('\u{FFFD}'), "a character was split");
    assert!(stdout.contains("omitted from the middle"));
    assert_eq!(out["stderr"], "done\n");
    let notes = out["notes"].to_string();
    assert!(notes.contains("exec.max_output_bytes"), "{notes}");
}

#[tokio::test]
async fn cwd_stdin_and_errors() {
    let p = Project::new();
    let s = session(p.settings()).await;
    // cwd outside the roots is refused before anything runs.
    for cwd in ["/etc", p.outside.to_str().unwrap(), "../project_evil"] {
        let err = s
            .err("run_command", json!({"program": "pwd", "cwd": cwd}))
            .await;
        assert!(err.contains("outside the allowed roots"), "{cwd}: {err}");
    }
    // The default cwd is the first root; stdin input reaches the child.
    let out = s
        .ok(
            "run_command",
            json!({"program": "cat", "stdin": "hello\nworld"}),
        )
        .await;
    assert_eq!(out["stdout"], "hello\nworld");
    assert_eq!(out["exit_code"], 0);
    assert_eq!(out["cwd"], p.root.to_str().unwrap());
    // Without input, stdin is empty (a reader sees end-of-file at once).
    let out = s.ok("run_command", json!({"program": "cat"})).await;
    assert_eq!(out["stdout"], "");
    // A failing command is a result with its exit code, not a tool error.
    let out = s
        .ok("run_shell", json!({"command": "echo oops >&2; exit 7"}))
        .await;
    assert_eq!(
        (out["exit_code"].as_i64(), out["stderr"].as_str()),
        (Some(7), Some("oops\n"))
    );
    // Unknown programs and over-long timeouts are clear errors.
    let err = s
        .err("run_command", json!({"program": "no-such-program-xyz"}))
        .await;
    assert!(err.contains("PATH"), "{err}");
    let err = s
        .err(
            "run_command",
            json!({"program": "true", "timeout_secs": 100000}),
        )
        .await;
    assert!(err.contains("exec.max_timeout_secs"), "{err}");
    // rlimits from exec.limits: CPU seconds, processes, file size (bash counts 1024-byte blocks).
    let out = s
        .ok(
            "run_command",
            json!({"program": "bash", "args": ["-c", "ulimit -t; ulimit -u; ulimit -f"]}),
        )
        .await;
    assert_eq!(out["stdout"], "600\n4096\n4194304\n", "{out}");
    // Per-call env additions reach the child.
    let out = s
        .ok(
            "run_shell",
            json!({"command": "echo $GREETING", "env": {"GREETING": "hi there"}}),
        )
        .await;
    assert_eq!(out["stdout"], "hi there\n");
}

#[test]
fn secrets_in_switchboards_environment_never_reach_children() {
    let p = Project::new();
    let root = p.root.to_str().unwrap();
    let mut sb = Proc::spawn_env(
        &["--root", root],
        &[
            ("SWITCHBOARD_TEST_API_TOKEN", "hunter2-secret"),
            ("AWS_SECRET_ACCESS_KEY", "xyz"),
        ],
    );
    sb.initialize();
    let r = sb.request(
        2,
        "tools/call",
        json!({"name": "run_command", "arguments": {"program": "env"}}),
    );
    let out = &r["result"]["structuredContent"];
    let env = out["stdout"].as_str().unwrap();
    assert!(env.contains("PATH="), "{env}");
    assert!(!env.contains("hunter2"), "{env}");
    assert!(!env.contains("AWS_SECRET"), "{env}");
    assert!(!env.contains("SWITCHBOARD_TEST_API_TOKEN"), "{env}");
}

#[test]
fn background_processes_die_with_switchboard() {
    let p = Project::new();
    let mut sb = Proc::spawn(&["--root", p.root.to_str().unwrap()]);
    sb.initialize();
    let tag = format!("75{}", rand_digits());
    let r = sb.request(
        2,
        "tools/call",
        json!({"name": "process_start", "arguments": {"command": format!("sleep {tag}1 & setsid sleep {tag}2 & sleep {tag}3")}}),
    );
    assert_eq!(r["result"]["structuredContent"]["running"], true, "{r}");
    let started = Instant::now();
    while procs_matching(&format!("sleep {tag}")).len() < 3
        && started.elapsed() < Duration::from_secs(5)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(procs_matching(&format!("sleep {tag}")).len(), 3);
    sb.close_stdin();
    sb.wait_exit(Duration::from_secs(5));
    let started = Instant::now();
    while !procs_matching(&format!("sleep {tag}")).is_empty()
        && started.elapsed() < Duration::from_secs(3)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(procs_matching(&format!("sleep {tag}")).is_empty());
}

#[tokio::test]
async fn sandbox_confines_writes_and_network() {
    if !sandbox_available() {
        return;
    }
    let p = Project::new();
    std::fs::create_dir_all(p.root.join(".git/hooks")).unwrap();
    // Files that make other programs run code are read-only inside the sandbox too.
    std::fs::create_dir_all(p.root.join(".vscode")).unwrap();
    p.write(".vscode/tasks.json", "{}\n");
    p.write(".npmrc", "\n");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let outside = p.outside.join("escaped.txt");
    let connect = format!("echo hi > /dev/tcp/127.0.0.1/{port} && echo connected");

    let s = session(with_sandbox(&p, SandboxMode::Required)).await;
    let home_probe = std::path::PathBuf::from(std::env::var("HOME").unwrap())
        .join(format!(".switchboard-sandbox-probe-{}", rand_digits()));
    let script = format!(
        "echo in > inside.txt; echo out > {}; echo x > {}; echo hook > .git/hooks/pre-commit; echo task > .vscode/tasks.json; echo rc >> .npmrc; {connect}",
        outside.display(),
        home_probe.display()
    );
    let out = s
        .ok(
            "run_command",
            json!({"program": "bash", "args": ["-c", script]}),
        )
        .await;
    assert_eq!(out["sandboxed"], true);
    assert_eq!(p.read("inside.txt"), "in\n", "the cwd root is writable");
    assert!(!outside.exists(), "wrote outside the root: {out}");
    let wrote_home = home_probe.exists();
    let _ = std::fs::remove_file(&home_probe);
    assert!(
        !wrote_home,
        "the home folder is read-only in the sandbox: {out}"
    );
    assert!(
        !p.root.join(".git/hooks/pre-commit").exists(),
        "protected path written: {out}"
    );
    assert_eq!(p.read(".vscode/tasks.json"), "{}\n", "{out}");
    assert_eq!(p.read(".npmrc"), "\n", "{out}");
    let stdout = out["stdout"].as_str().unwrap();
    assert!(
        !stdout.contains("connected"),
        "network is off by default: {out}"
    );

    // Only an allowlist of the host is there: no other project, no file of the home folder.
    let home_secret = std::path::PathBuf::from(std::env::var("HOME").unwrap())
        .join(format!(".switchboard-sandbox-secret-{}", rand_digits()));
    std::fs::write(&home_secret, "TOP-SECRET\n").unwrap();
    let project_file = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let peek = format!(
        "cat {} {project_file} 2>&1; echo; ls -a \"$HOME\"; python3 -c 'print(6*7)'",
        home_secret.display()
    );
    let out = s
        .ok(
            "run_command",
            json!({"program": "bash", "args": ["-c", peek]}),
        )
        .await;
    let _ = std::fs::remove_file(&home_secret);
    let seen = out["stdout"].as_str().unwrap();
    assert!(
        !seen.contains("TOP-SECRET"),
        "a home file was readable: {out}"
    );
    assert!(
        !seen.contains("[package]"),
        "another project was readable: {out}"
    );
    assert!(seen.contains("42"), "system interpreters still run: {out}");

    // The seccomp filter: no new namespaces, no ptrace; threads and ordinary work still run.
    let probe = concat!(
        "import ctypes, os, threading\n",
        "libc = ctypes.CDLL(None, use_errno=True)\n",
        "for name, call in [('unshare', lambda: libc.unshare(0x10000000)),\n",
        "                   ('ptrace', lambda: libc.ptrace(16, os.getppid(), 0, 0))]:\n",
        "    r = call(); print(name, r, ctypes.get_errno())\n",
        "t = threading.Thread(target=lambda: print('thread ran')); t.start(); t.join()\n",
    );
    let out = s
        .ok(
            "run_command",
            json!({"program": "python3", "args": ["-c", probe]}),
        )
        .await;
    let seen = out["stdout"].as_str().unwrap();
    assert!(
        seen.contains(&format!("unshare -1 {}", libc::EPERM)),
        "{out}"
    );
    assert!(
        seen.contains(&format!("ptrace -1 {}", libc::EPERM)),
        "{out}"
    );
    assert!(seen.contains("thread ran"), "{out}");

    // exec.network: true lets it connect.
    let mut settings = with_sandbox(&p, SandboxMode::Required);
    settings.exec.network = true;
    let s = session(settings).await;
    let out = s
        .ok(
            "run_command",
            json!({"program": "bash", "args": ["-c", connect]}),
        )
        .await;
    assert_eq!(out["stdout"], "connected\n", "{out}");
}

#[tokio::test]
async fn cancellation_kills_the_tree_within_a_second() {
    let p = Project::new();
    let s = session(p.settings()).await;
    let tag = format!("76{}", rand_digits());
    let handle = s
        .start_call(
            "run_command",
            json!({"program": "sh", "args": ["-c", format!("sleep {tag}1 & sleep {tag}2")], "timeout_secs": 120}),
        )
        .await;
    assert!(
        eventually(|| async { procs_matching(&format!("sleep {tag}")).len() == 2 }).await,
        "the command started"
    );
    cancel_and_see_gone(handle, &format!("sleep {tag}"), Duration::from_secs(1)).await;
}

/// Cancels a call and waits for every process whose command line starts with `needle` to be
/// gone, failing after `within`.
pub(crate) async fn cancel_and_see_gone(
    handle: rmcp::service::RequestHandle<rmcp::RoleClient>,
    needle: &str,
    within: Duration,
) {
    handle.cancel(Some("test".into())).await.unwrap();
    let cancelled = Instant::now();
    while !procs_matching(needle).is_empty() {
        assert!(
            cancelled.elapsed() < within,
            "still running {within:?} after cancellation"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn progress_is_reported_while_a_command_runs() {
    let p = Project::new();
    let client = TestClient::default();
    let progress = client.progress.clone();
    let s = session_with(p.settings(), client).await;
    let params = CallToolRequestParams::new("run_shell").with_arguments(
        json!({"command": "for i in 1 2 3 4; do echo line $i; sleep 0.4; done"})
            .as_object()
            .unwrap()
            .clone(),
    );
    let mut meta = RequestMetaObject::default();
    meta.set_progress_token(ProgressToken(NumberOrString::Number(7)));
    let mut options = PeerRequestOptions::no_options();
    options.meta = Some(meta);
    let handle = s
        .client
        .peer()
        .send_cancellable_request(
            ClientRequest::CallToolRequest(Request::new(params)),
            options,
        )
        .await
        .unwrap();
    handle.await_response().await.unwrap();
    let seen = progress.lock().unwrap().clone();
    assert!(seen.len() >= 2, "{seen:?}");
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "progress increases: {seen:?}"
    );
    assert!(
        seen.iter()
            .any(|(_, m)| m.as_deref().is_some_and(|m| m.contains("last: line"))),
        "{seen:?}"
    );
}

#[tokio::test]
async fn background_process_conversation() {
    let p = Project::new();
    let s = session(p.settings()).await;
    let script = "import sys\nprint('ready', flush=True)\nfor line in sys.stdin:\n    print('got ' + line.strip().upper(), flush=True)\n";
    let started = s
        .ok(
            "process_start",
            json!({"program": "python3", "args": ["-u", "-c", script]}),
        )
        .await;
    let id = started["id"].as_str().unwrap().to_owned();
    assert_eq!(started["running"], true);
    let first = s
        .ok("process_read", json!({"id": id, "wait_ms": 5000}))
        .await;
    assert_eq!(first["text"], "ready\n", "{first}");
    let answer = s
        .ok(
            "process_write",
            json!({"id": id, "input": "ping", "wait_ms": 5000}),
        )
        .await;
    assert_eq!(answer["text"], "got PING\n", "{answer}");
    // Reading again from a negative offset gives the tail; grep filters lines.
    let tail = s.ok("process_read", json!({"id": id, "offset": -9})).await;
    assert_eq!(tail["text"], "got PING\n");
    let grep = s
        .ok(
            "process_read",
            json!({"id": id, "offset": 0, "grep": "^got"}),
        )
        .await;
    assert_eq!(grep["text"], "got PING\n");
    let listed = s.ok("process_list", json!({})).await;
    assert_eq!(listed["processes"][0]["id"], id.as_str());
    let killed = s.ok("process_kill", json!({"id": id})).await;
    assert_eq!(killed["running"], false, "{killed}");
    assert!(
        killed["signal"] == "SIGTERM" || killed["exit_code"].is_number(),
        "{killed}"
    );
    let err = s
        .err("process_write", json!({"id": id, "input": "again"}))
        .await;
    assert!(err.contains("has exited"), "{err}");
    let err = s.err("process_read", json!({"id": "p999"})).await;
    assert!(err.contains("process_list"), "{err}");
    // A program that ends by itself: process_wait reports its exit code.
    let quick = s
        .ok("process_start", json!({"command": "echo bye; exit 4"}))
        .await;
    let waited = s
        .ok(
            "process_wait",
            json!({"id": quick["id"], "timeout_secs": 10}),
        )
        .await;
    assert_eq!(
        (waited["running"].as_bool(), waited["exit_code"].as_i64()),
        (Some(false), Some(4))
    );
}

#[tokio::test]
async fn run_code_in_found_interpreters() {
    let p = Project::new();
    let s = session(p.settings()).await;
    let out = s
        .ok("run_code", json!({"language": "python", "code": "import sys\nprint(sum(range(10)), sys.argv[1:])", "args": ["a"]}))
        .await;
    assert_eq!(out["stdout"], "45 ['a']\n", "{out}");
    let out = s
        .ok(
            "run_code",
            json!({"language": "bash", "code": "echo $((6*7))"}),
        )
        .await;
    assert_eq!(out["stdout"], "42\n");
    let err = s
        .err("run_code", json!({"language": "cobol", "code": "x"}))
        .await;
    assert!(err.contains("\"cobol\" is not one of \"python\""), "{err}");
    // The schema lists exactly the interpreters found.
    let tools = s.client.list_all_tools().await.unwrap();
    let run_code = tools.iter().find(|t| t.name == "run_code").unwrap();
    let langs = &run_code.input_schema["properties"]["language"]["enum"];
    assert!(
        langs.as_array().unwrap().contains(&Value::from("python")),
        "{langs}"
    );
    assert!(
        langs.as_array().unwrap().contains(&Value::from("sh")),
        "{langs}"
    );
}

#[tokio::test]
async fn install_package_refuses_blocked_and_look_alike_names() {
    let p = Project::new();
    let s = session(p.settings()).await;
    let err = s
        .err(
            "install_package",
            json!({"manager": "npm", "packages": ["crossenv"]}),
        )
        .await;
    assert!(err.contains("malicious"), "{err}");
    let err = s
        .err(
            "install_package",
            json!({"manager": "pip", "packages": ["reqeusts"]}),
        )
        .await;
    assert!(
        err.contains("looks like the popular package `requests`"),
        "{err}"
    );
    let err = s
        .err(
            "install_package",
            json!({"manager": "pip", "packages": ["git+https://example.com/x.git"]}),
        )
        .await;
    assert!(err.contains("not a valid"), "{err}");
    assert!(
        !p.data.join("profiles/default/venv/bin").exists(),
        "nothing ran"
    );
}

#[tokio::test]
async fn install_package_into_the_managed_venv() {
    let p = Project::new();
    let s = session(p.settings()).await;
    let out = s
        .ok(
            "install_package",
            json!({"manager": "pip", "packages": ["iniconfig"]}),
        )
        .await;
    let installed = out["installed"].to_string();
    assert!(installed.contains("iniconfig"), "{out}");
    let out = s
        .ok(
            "run_code",
            json!({"language": "python", "code": "import iniconfig, sys\nprint(sys.prefix)"}),
        )
        .await;
    assert!(out["stdout"].as_str().unwrap().contains("venv"), "{out}");
}

#[tokio::test]
async fn config_switches_remove_the_shell_and_package_tools() {
    let p = Project::new();
    let mut settings = p.settings();
    settings.exec.shell = None;
    settings.exec.packages_enabled = false;
    let s = session(settings).await;
    let names = s.tool_names().await;
    assert!(names.contains(&"run_command".to_owned()));
    assert!(!names.contains(&"run_shell".to_owned()), "{names:?}");
    assert!(!names.contains(&"install_package".to_owned()), "{names:?}");
    let err = s.err("process_start", json!({"command": "sleep 1"})).await;
    assert!(err.contains("exec.shell"), "{err}");
}

#[test]
fn required_sandbox_refuses_to_run_without_bubblewrap() {
    let p = Project::new();
    let config = p.base.join("required.yaml");
    std::fs::write(&config, "exec:\n  sandbox: required\n").unwrap();
    let marker = p.root.join("ran.txt");
    // No bubblewrap on switchboard's PATH.
    let mut sb = Proc::spawn_env(
        &[
            "--config",
            config.to_str().unwrap(),
            "--root",
            p.root.to_str().unwrap(),
        ],
        &[("PATH", "/nonexistent")],
    );
    sb.initialize();
    let r = sb.request(
        2,
        "tools/call",
        json!({"name": "run_command", "arguments": {"program": "/bin/touch", "args": [marker]}}),
    );
    assert_eq!(r["result"]["isError"], true, "{r}");
    let msg = r["result"]["content"][0]["text"].as_str().unwrap();
    assert!(
        msg.contains("exec.sandbox is `required`") && msg.contains("bwrap"),
        "{msg}"
    );
    assert!(!marker.exists(), "nothing runs without the sandbox");
}

/// A silent long command still tells a client with a progress token that it is running: a
/// heartbeat with the elapsed time and the output so far, at `limits.progress_interval_ms`.
#[tokio::test]
async fn a_silent_command_sends_heartbeats() {
    let p = Project::new();
    let mut settings = p.settings();
    settings.limits.progress_interval = Duration::from_millis(300);
    let client = crate::harness::TestClient::default();
    let progress = client.progress.clone();
    let s = crate::harness::session_with(settings, client).await;
    let r = s
        .call_with_progress(
            "run_shell",
            json!({"command": "echo started; sleep 1.5; echo done"}),
            9,
        )
        .await;
    assert_eq!(r.structured_content.unwrap()["stdout"], "started\ndone\n");
    let seen = progress.lock().unwrap().clone();
    let beats: Vec<&str> = seen
        .iter()
        .filter_map(|(_, m)| m.as_deref())
        .filter(|m| m.starts_with("still running after"))
        .collect();
    assert!(beats.len() >= 2, "{seen:?}");
    assert!(
        beats
            .iter()
            .any(|m| m.contains("so far: 1 lines") && m.contains("last: started")),
        "the heartbeat repeats the output so far: {seen:?}"
    );
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "progress only increases: {seen:?}"
    );
}

/// The process and memory limits hold whoever runs switchboard, root included: a command that
/// forks without end stops at `exec.limits.processes`, and an allocation past
/// `exec.limits.memory_bytes` fails. No run leaves a cgroup behind.
#[tokio::test]
async fn process_and_memory_limits_hold_for_root_too() {
    let p = Project::new();
    let mut settings = p.settings();
    settings.exec.rlimits.processes = Some(25);
    settings.exec.rlimits.memory_bytes = Some(512 * 1024 * 1024);
    let s = session(settings).await;
    let out = s
        .ok(
            "run_command",
            json!({"program": "python3", "args": ["-c", crate::harness::FORK_AND_ALLOCATE]}),
        )
        .await;
    let seen = out["stdout"].as_str().unwrap();
    let forked: usize = seen
        .lines()
        .find_map(|l| l.strip_prefix("forked "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    assert!(forked < 25, "the process limit held (root: {root}): {out}");
    assert!(seen.contains(&format!("refused {}", libc::EAGAIN)), "{out}");
    assert!(seen.contains("allocation refused"), "{out}");
    let left: Vec<_> = std::fs::read_dir("/sys/fs/cgroup/pids")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid = name.strip_prefix("switchboard-run-")?.to_owned();
            // Another test's run may be in flight; only a group whose supervisor is gone is
            // debris.
            (!std::path::Path::new(&format!("/proc/{pid}")).exists()).then(|| e.path())
        })
        .collect();
    assert!(left.is_empty() || !root, "cgroups left behind: {left:?}");
}

/// The same protected list holds for sandboxed commands as for the file tools, through the
/// real binary: protected paths that exist (at any depth) are read-only in the sandbox, and
/// ones a command creates (where no mount can guard them) are moved to the trash when it
/// ends, foreground or background; what `git init` writes stays.
#[test]
fn a_sandboxed_command_cannot_plant_files_that_run_code() {
    if !sandbox_available() {
        return;
    }
    let p = Project::new();
    std::fs::create_dir_all(p.root.join("pkg/.vscode")).unwrap();
    p.write("pkg/.vscode/tasks.json", "{}\n");
    let cfg = p.base.join("config.yaml");
    std::fs::write(&cfg, "exec:\n  sandbox: required\n").unwrap();
    let mut proc = Proc::spawn(&[
        "--config",
        cfg.to_str().unwrap(),
        "--root",
        p.root.to_str().unwrap(),
    ]);
    proc.initialize();
    let script = "echo evil > pkg/.vscode/tasks.json; touch .envrc; mkdir -p .husky sub/.git/hooks; \
        echo x > .husky/pre-commit; echo x > sub/.git/hooks/pre-commit; echo x > pkg/.vscode/launch.json; \
        git init -q fresh; echo ok > plain.txt; echo done";
    let r = proc.request(
        2,
        "tools/call",
        json!({"name": "run_command", "arguments": {"program": "sh", "args": ["-c", script]}}),
    );
    let out = &r["result"]["structuredContent"];
    assert_eq!(out["sandboxed"], true, "{r}");
    assert_eq!(
        p.read("pkg/.vscode/tasks.json"),
        "{}\n",
        "a nested protected file is read-only: {r}"
    );
    for planted in [
        ".envrc",
        ".husky",
        "sub/.git/hooks",
        "pkg/.vscode/launch.json",
    ] {
        assert!(!p.root.join(planted).exists(), "{planted} stayed: {r}");
    }
    let notes = out["notes"].to_string();
    for planted in [".envrc", ".husky", "sub/.git/hooks", "launch.json", "trash"] {
        assert!(notes.contains(planted), "{planted} not reported: {notes}");
    }
    let trash = proc.home.path().join(".local/share/Trash/files");
    assert!(
        trash.join(".envrc").exists()
            || p.base
                .read_dir()
                .unwrap()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with(".Trash")),
        "what was removed can be restored"
    );
    assert_eq!(p.read("plain.txt"), "ok\n");
    assert!(
        p.root.join("fresh/.git/config").exists() && p.root.join("fresh/.git/HEAD").exists(),
        "what git init writes stays: {notes}"
    );
    assert!(!notes.contains("fresh"), "{notes}");

    // A background process is reviewed when it ends; process_wait reports it.
    let r = proc.request(
        3,
        "tools/call",
        json!({"name": "process_start", "arguments": {"command": "touch .npmrc"}}),
    );
    let id = r["result"]["structuredContent"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_owned();
    let r = proc.request(
        4,
        "tools/call",
        json!({"name": "process_wait", "arguments": {"id": id, "timeout_secs": 20}}),
    );
    let out = &r["result"]["structuredContent"];
    assert_eq!(out["running"], false, "{r}");
    assert!(out["notes"].to_string().contains(".npmrc"), "{r}");
    assert!(!p.root.join(".npmrc").exists(), "{r}");
}

/// Hosts start servers with a minimal PATH; commands get the login shell's PATH (asked once),
/// so a program the user's shell finds is found, and `exec.login_shell_path: false` turns it
/// off.
#[test]
fn commands_find_what_the_login_shell_finds() {
    use std::os::unix::fs::PermissionsExt;
    let p = Project::new();
    let tools = p.root.join("my-tools");
    std::fs::create_dir_all(&tools).unwrap();
    let exe = |path: &std::path::Path, text: String| {
        std::fs::write(path, text).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    exe(
        &tools.join("mytool"),
        "#!/bin/sh\necho found by the login PATH\n".into(),
    );
    // A login shell whose profile adds the tools folder, called as `shell -l -c COMMAND`.
    let shell = p.base.join("loginshell");
    exe(
        &shell,
        format!(
            "#!/bin/sh\n[ \"$1\" = -l ] || exit 9\nPATH=\"{}:$PATH\"; export PATH\nexec /bin/sh -c \"$3\"\n",
            tools.display()
        ),
    );
    let off = p.write("off.yaml", "exec:\n  login_shell_path: false\n");
    let root = p.root.to_str().unwrap();
    let call = json!({"name": "run_command", "arguments": {"program": "mytool"}});
    for (args, found) in [
        (vec!["--root", root], true),
        (
            vec!["--root", root, "--config", off.to_str().unwrap()],
            false,
        ),
    ] {
        let mut sb = Proc::spawn_env(
            &args,
            &[
                ("SHELL", shell.to_str().unwrap()),
                ("PATH", "/usr/bin:/bin"),
            ],
        );
        sb.initialize();
        let r = sb.request(2, "tools/call", call.clone());
        let said = r.to_string();
        if found {
            assert!(said.contains("found by the login PATH"), "{said}");
        } else {
            assert!(said.contains("no such program on PATH"), "{said}");
        }
    }
}

/// A program the sandbox does not show by itself runs all the same: one in a folder under
/// `/tmp` (which the sandbox replaces with a fresh one) given by its path, and a script in
/// the root whose `#!` interpreter lives there. One whose folder cannot be shown (the home
/// folder itself) is refused in words that name the config keys, never with bubblewrap's
/// `execvp` error.
#[test]
fn programs_outside_the_sandbox_view_are_shown_or_refused_in_words() {
    use std::os::unix::fs::PermissionsExt;
    if !sandbox_available() {
        return;
    }
    let p = Project::new();
    let tools = tempfile::Builder::new()
        .prefix("venv-like-")
        .tempdir_in(std::env::temp_dir())
        .unwrap();
    let bin = tools.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let copy = |from: &str, to: &std::path::Path| {
        std::fs::copy(from, to).unwrap();
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    copy("/bin/echo", &bin.join("myecho"));
    copy("/bin/sh", &bin.join("mysh"));
    let script = p.write(
        "hello.sh",
        format!("#!{}\necho from the script\n", bin.join("mysh").display()),
    );
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut sb = Proc::spawn(&["--root", p.root.to_str().unwrap()]);
    let in_home = sb.home.path().join("homeecho");
    copy("/bin/echo", &in_home);
    sb.initialize();
    let mut id = 1;
    let mut call = |program: String| {
        id += 1;
        sb.request(
            id,
            "tools/call",
            json!({"name": "run_command", "arguments": {"program": program, "args": ["hi"]}}),
        )
    };
    let r = call(bin.join("myecho").display().to_string());
    let out = &r["result"]["structuredContent"];
    assert_eq!(out["sandboxed"], true, "{r}");
    assert_eq!(out["stdout"], "hi\n", "{r}");
    let r = call(script.display().to_string());
    let out = &r["result"]["structuredContent"];
    assert_eq!(out["stdout"], "from the script\n", "{r}");
    let r = call(in_home.display().to_string());
    let said = r.to_string();
    assert_eq!(r["result"]["isError"], true, "{r}");
    assert!(
        said.contains("exec.readable")
            && said.contains("exec.sandbox: off")
            && !said.contains("execvp"),
        "{said}"
    );
}
