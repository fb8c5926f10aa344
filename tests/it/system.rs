//! System and time tools through the protocol, with real processes.

use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::harness::{Proc, Project, session};

#[tokio::test]
async fn time_tools() {
    let p = Project::new();
    let s = session(p.settings()).await;
    let now = s.ok("current_time", json!({"timezone": "UTC"})).await;
    assert!(
        now["datetime"].as_str().unwrap().ends_with("+00:00"),
        "{now}"
    );
    assert_eq!(now["timezone"], "UTC");
    let local = s.ok("current_time", json!({})).await;
    assert!(local["unix_seconds"].as_i64().unwrap() > 1_700_000_000);
    let conv = s.ok("convert_time", json!({"time": "2024-01-15T14:30", "from_timezone": "UTC", "to_timezone": "Asia/Tokyo"})).await;
    assert_eq!(conv["target"]["datetime"], "2024-01-15T23:30:00+09:00");
    assert_eq!(conv["time_difference"], "+9h");
    let err = s
        .err("current_time", json!({"timezone": "Nowhere/Land"}))
        .await;
    assert!(err.contains("IANA"), "{err}");
}

#[tokio::test]
async fn system_info_describes_the_machine() {
    let p = Project::new();
    let s = session(p.settings()).await;
    let info = s.ok("system_info", json!({})).await;
    assert!(info["logical_cpus"].as_u64().unwrap() >= 1);
    assert!(info["memory_total_bytes"].as_u64().unwrap() > 0);
    assert!(!info["kernel"].as_str().unwrap().is_empty());
    assert!(
        info["disks"].as_array().is_some_and(|d| !d.is_empty()),
        "{info}"
    );
    assert_eq!(info["profile"], "default");
    assert_eq!(info["switchboard_version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn list_and_kill_a_real_process() {
    let p = Project::new();
    let s = session(p.settings()).await;
    // A process switchboard did not start: detached, so its parent is not this test (which
    // runs switchboard in-process).
    let out = Command::new("sh")
        .args(["-c", "sleep 313 >/dev/null 2>&1 & echo $!"])
        .output()
        .unwrap();
    let pid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    let _guard = Detached(pid);
    let listed = s
        .ok(
            "list_processes",
            json!({"name": "sleep 313", "sort": "pid"}),
        )
        .await;
    assert!(
        listed["processes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["pid"] == pid),
        "{listed}"
    );
    let by_memory = s
        .ok("list_processes", json!({"sort": "memory", "limit": 3}))
        .await;
    assert_eq!(by_memory["processes"].as_array().unwrap().len(), 3);

    // Not started by switchboard: refused by default, allowed by exec.kill_scope: user.
    let refused = s.err("kill_process", json!({"pid": pid})).await;
    assert!(refused.contains("exec.kill_scope"), "{refused}");
    assert!(alive(pid), "still running");
    let mut settings = p.settings();
    settings.exec.kill_scope = switchboard::config::KillScope::User;
    let s = session(settings).await;
    let out = s.ok("kill_process", json!({"pid": pid})).await;
    assert_eq!(
        (out["name"].as_str(), out["signal"].as_str()),
        (Some("sleep"), Some("TERM"))
    );
    let mut gone = false;
    for _ in 0..250 {
        if !alive(pid) {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "the signalled process ended");

    assert!(
        s.err("kill_process", json!({"pid": 1}))
            .await
            .contains("init")
    );
    assert!(
        s.err("kill_process", json!({"pid": std::process::id()}))
            .await
            .contains("switchboard itself")
    );
    // SAFETY: getppid has no preconditions.
    let parent = unsafe { libc::getppid() } as u32;
    assert!(
        s.err("kill_process", json!({"pid": parent}))
            .await
            .contains("ancestor")
    );
    // A process that has ended and been reaped.
    let mut ended = Command::new("true").spawn().unwrap();
    let ended_pid = ended.id();
    ended.wait().unwrap();
    assert!(
        s.err("kill_process", json!({"pid": ended_pid}))
            .await
            .contains("no process"),
        "it is gone"
    );
    assert!(
        s.err("kill_process", json!({"pid": 12, "signal": "BOOM"}))
            .await
            .contains("`arguments.signal`: \"BOOM\" is not one of")
    );
}

/// A detached helper process, killed when the test ends however it ends.
struct Detached(u32);

impl Drop for Detached {
    fn drop(&mut self) {
        // SAFETY: kill(2) on a pid this test started.
        unsafe { libc::kill(self.0 as i32, libc::SIGKILL) };
    }
}

/// True while `pid` runs (a zombie waiting for its parent counts as ended).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|r| !r.trim_start().starts_with('Z'))
    })
}

/// By default kill_process reaches what switchboard started, also a grandchild that detached
/// from its parent (the command's supervisor adopts it).
#[tokio::test]
async fn kill_process_reaches_what_switchboard_started() {
    let p = Project::new();
    let s = session(p.settings()).await;
    let started = s.ok("process_start", json!({"command": "sleep 317"})).await;
    let pid = started["pid"].as_u64().unwrap();
    let out = s.ok("kill_process", json!({"pid": pid})).await;
    assert_eq!(out["signal"], "TERM", "{out}");
    let waited = s
        .ok(
            "process_wait",
            json!({"id": started["id"], "timeout_secs": 10}),
        )
        .await;
    assert_eq!(waited["running"], false, "{waited}");
    // A grandchild, in a session of its own: found by name, signalled by pid.
    let started = s
        .ok(
            "process_start",
            json!({"command": "setsid sleep 318 & wait"}),
        )
        .await;
    let mut found = None;
    for _ in 0..100 {
        let listed = s.ok("list_processes", json!({"name": "sleep 318"})).await;
        found = listed["processes"]
            .as_array()
            .and_then(|a| a.iter().find(|p| p["name"] == "sleep"))
            .and_then(|p| p["pid"].as_u64());
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let grandchild = found.expect("the grandchild is listed");
    assert_ne!(grandchild, started["pid"].as_u64().unwrap());
    let out = s.ok("kill_process", json!({"pid": grandchild})).await;
    assert_eq!(out["name"], "sleep", "{out}");
    s.ok("process_kill", json!({"id": started["id"]})).await;
}

#[test]
fn environment_is_listed_with_secrets_redacted() {
    let mut proc = Proc::spawn_env(
        &[],
        &[
            ("SWITCHBOARD_TEST_API_KEY", "sk-very-secret"),
            ("SWITCHBOARD_TEST_PLAIN", "hello"),
        ],
    );
    proc.initialize();
    let r = proc.request(
        2,
        "tools/call",
        json!({"name": "get_environment", "arguments": {"filter": "switchboard_test"}}),
    );
    let text = r.to_string();
    assert!(!text.contains("sk-very-secret"), "{text}");
    let vars = r["result"]["structuredContent"]["variables"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(vars.len(), 2, "{text}");
    assert_eq!(vars[0]["value"], "[redacted: looks secret]");
    assert_eq!(vars[1]["value"], "hello");
    let r = proc.request(
        3,
        "tools/call",
        json!({"name": "which", "arguments": {"names": ["sh", "no-such-command-xyz"]}}),
    );
    let results = &r["result"]["structuredContent"]["results"];
    assert!(
        results[0]["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("/sh")),
        "{r}"
    );
    assert!(results[1].get("path").is_none());
    std::thread::sleep(Duration::from_millis(10));
}

/// Other processes' command lines come back with secret-looking values hidden, and the name
/// filter matches the redacted text (it cannot be used to probe for a secret).
#[tokio::test]
async fn command_lines_are_listed_with_secrets_redacted() {
    let p = Project::new();
    let s = session(p.settings()).await;
    let child = crate::harness::Reaped::spawn(Command::new("sh").args([
        "-c",
        "sleep 317; true",
        "sb-secret-probe",
        "--token=hunter2-sb",
        "--password",
        "swordfish-sb",
        "postgres://app:pw-sb@db/x",
    ]));
    let pid = child.0.id();
    let listed = s
        .ok("list_processes", json!({"name": "sb-secret-probe"}))
        .await;
    let me = listed["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == pid)
        .unwrap_or_else(|| panic!("{listed}"));
    let command = me["command"].as_str().unwrap();
    for secret in ["hunter2-sb", "swordfish-sb", "pw-sb"] {
        assert!(!command.contains(secret), "{command}");
    }
    assert!(
        command.contains("--token=") && command.contains("@db/x"),
        "{command}"
    );
    assert!(listed["redacted"].as_u64().unwrap() >= 3, "{listed}");
    let probe = s.ok("list_processes", json!({"name": "hunter2-sb"})).await;
    assert_eq!(probe["matched"], 0, "{probe}");
}
