//! System and time tools through the protocol, with real processes.

use std::os::unix::process::ExitStatusExt;
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
    let mut child = crate::harness::Reaped::spawn(Command::new("sleep").arg("313"));
    let pid = child.0.id();
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

    let out = s.ok("kill_process", json!({"pid": pid})).await;
    assert_eq!(
        (out["name"].as_str(), out["signal"].as_str()),
        (Some("sleep"), Some("TERM"))
    );
    let status = child.0.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM));

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
    assert!(
        s.err("kill_process", json!({"pid": pid}))
            .await
            .contains("no process"),
        "it is gone now"
    );
    assert!(
        s.err("kill_process", json!({"pid": 12, "signal": "BOOM"}))
            .await
            .contains("`arguments.signal`: \"BOOM\" is not one of")
    );
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
