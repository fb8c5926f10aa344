//! The built binary over real stdio: the handshake, calls, hostile input, and prompt exit.

use std::time::Duration;

use serde_json::json;

use crate::harness::{Proc, Project};

#[test]
fn initialize_list_and_call_over_stdio() {
    let p = Project::new();
    p.write("hello.txt", "hi there\n");
    let mut proc = Proc::spawn(&["--root", p.root.to_str().unwrap()]);
    let init = proc.initialize();
    assert_eq!(init["result"]["serverInfo"]["name"], "switchboard");
    let caps = &init["result"]["capabilities"];
    assert_eq!(caps["tools"]["listChanged"], true);
    assert_eq!(caps["resources"]["subscribe"], true);
    assert!(
        caps.get("logging").is_some()
            && caps.get("completions").is_some()
            && caps.get("prompts").is_some()
    );
    assert!(
        init["result"]["instructions"]
            .as_str()
            .unwrap()
            .contains("list_roots")
    );
    // With no configuration the whole catalogue is over `auto`'s budget: the list is the
    // compact core, small enough for any host, and every tool still answers a direct call.
    let tools = proc.request(2, "tools/list", json!({}));
    let shown: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        shown,
        [
            "search_tools",
            "call_tool",
            "run_workflow",
            "list_roots",
            "read_file",
            "edit_file"
        ]
    );
    let cost = switchboard::support::tokens::count(&tools["result"].to_string());
    assert!(cost < 1800, "the default list costs {cost} tokens");
    let r = proc.request(
        3,
        "tools/call",
        json!({"name": "read_file", "arguments": {"path": "hello.txt"}}),
    );
    assert_eq!(r["result"]["content"][0]["text"], "hi there\n");
    let r = proc.request(4, "tools/list", json!({"cursor": "bogus"}));
    assert_eq!(r["error"]["code"], -32602, "a bad cursor is invalid params");
    proc.close_stdin();
    assert!(proc.wait_exit(Duration::from_secs(5)).success());
}

#[test]
fn malformed_input_gets_answers_and_the_server_goes_on() {
    let mut proc = Proc::spawn(&[]);
    proc.send("this is not json");
    assert_eq!(proc.recv()["error"]["code"], -32700);
    proc.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    proc.send(r#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#);
    let r = proc.recv();
    assert_eq!(
        (r["id"].as_i64(), r["error"]["code"].as_i64()),
        (Some(7), Some(-32600)),
        "before initialize: {r}"
    );
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("initialize")
    );
    proc.initialize();
    proc.send("{\"jsonrpc\": \"2.0\", \"id\": 8,");
    assert_eq!(proc.recv()["error"]["code"], -32700);
    proc.send("[{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"ping\"}]");
    assert_eq!(proc.recv()["error"]["code"], -32600, "batches are refused");
    proc.send("42");
    assert_eq!(proc.recv()["error"]["code"], -32600);
    proc.send_bytes(b"\xff\xfe\xfd\n");
    assert_eq!(proc.recv()["error"]["code"], -32700);
    let r = proc.request(10, "no/such/method", json!({}));
    assert_eq!(r["error"]["code"], -32601);
    let r = proc.request(11, "tools/call", json!({"name": 5}));
    assert_eq!(r["error"]["code"], -32602);
    let r = proc.request(
        12,
        "tools/call",
        json!({"name": "no_such_tool", "arguments": {}}),
    );
    assert_eq!(r["error"]["code"], -32602);
    let r = proc.request(
        13,
        "tools/call",
        json!({"name": "read_file", "arguments": {"path": 5}}),
    );
    assert_eq!(
        r["result"]["isError"], true,
        "bad arguments are a tool error the model can fix: {r}"
    );
    proc.send("");
    proc.send("   ");
    let r = proc.request(14, "ping", json!({}));
    assert!(r.get("result").is_some(), "still serving: {r}");
}

#[test]
fn an_oversized_line_is_refused_without_buffering_it() {
    let p = Project::new();
    let cfg = p.write("config.yaml", "limits:\n  max_frame_bytes: 65536\n");
    let mut proc = Proc::spawn(&["--config", cfg.to_str().unwrap()]);
    proc.initialize();
    let big = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\",\"params\":{{\"pad\":\"{}\"}}}}",
        "x".repeat(2 << 20)
    );
    proc.send(&big);
    let r = proc.recv();
    assert_eq!(r["error"]["code"], -32600);
    assert_eq!(
        r["id"], 2,
        "the id at the frame's start is answered on: {r}"
    );
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limits.max_frame_bytes")
    );
    let r = proc.request(3, "ping", json!({}));
    assert!(
        r.get("result").is_some(),
        "the stream recovers at the next line"
    );
    // A string id is recovered too; one that only follows the cut cannot be, and is null.
    for (frame, id) in [
        (
            format!(
                "{{\"id\":\"req-7\",\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"params\":{{\"pad\":\"{}\"}}}}",
                "x".repeat(2 << 20)
            ),
            json!("req-7"),
        ),
        (
            format!(
                "{{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"params\":{{\"pad\":\"{}\"}},\"id\":8}}",
                "x".repeat(2 << 20)
            ),
            serde_json::Value::Null,
        ),
    ] {
        proc.send(&frame);
        let r = proc.recv();
        assert_eq!(r["error"]["code"], -32600, "{r}");
        assert_eq!(r["id"], id, "{r}");
    }

    // 64 MiB with no newline at all: discarded as it streams, so the peak memory stays small
    // (45-49 MiB for a debug build, most of it code pages; buffering the line would pass
    // 110 MiB).
    let chunk = vec![b'y'; 1 << 20];
    for _ in 0..64 {
        proc.send_bytes(&chunk);
    }
    proc.send_bytes(b"\n");
    assert_eq!(proc.recv()["error"]["code"], -32600);
    let r = proc.request(4, "ping", json!({}));
    assert!(r.get("result").is_some());
    let status = std::fs::read_to_string(format!("/proc/{}/status", proc.child.id())).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        peak_kib < 64 * 1024,
        "peak RSS {peak_kib} KiB: the oversized frame was buffered"
    );
}

#[test]
fn discover_is_answered_before_initialize() {
    let mut proc = Proc::spawn(&[]);
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    let r = proc.request(1, "server/discover", json!({"_meta": meta}));
    assert!(
        r["result"]["supportedVersions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "2025-06-18"),
        "{r}"
    );
    // A legacy client that falls back to initialize still works afterwards.
    let r = proc.request(2, "initialize", json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}));
    assert_eq!(r["result"]["protocolVersion"], "2025-06-18");
}

#[test]
fn exits_promptly_on_stdin_eof_even_with_a_call_running() {
    let p = Project::new();
    let mut proc = Proc::spawn(&["--root", p.root.to_str().unwrap()]);
    proc.initialize();
    proc.send(&json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"search_content","arguments":{"pattern":"x"}}}).to_string());
    proc.close_stdin();
    let status = proc.wait_exit(Duration::from_secs(3));
    assert!(status.success(), "{status:?}");
}

#[test]
fn exits_on_sigterm_and_sigint() {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let mut proc = Proc::spawn(&[]);
        proc.initialize();
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(proc.child.id() as i32, signal) };
        let status = proc.wait_exit(Duration::from_secs(3));
        assert!(
            status.success(),
            "a shutdown by signal {signal} is orderly and exits 0: {status:?}"
        );
    }
}

#[test]
fn delete_goes_to_the_trash_by_default() {
    let p = Project::new();
    p.write("old.txt", "bye\n");
    let mut proc = Proc::spawn(&["--root", p.root.to_str().unwrap()]);
    proc.initialize();
    let r = proc.request(
        2,
        "tools/call",
        json!({"name": "delete_path", "arguments": {"path": "old.txt"}}),
    );
    assert_eq!(r["result"]["structuredContent"]["method"], "trash", "{r}");
    assert!(!p.root.join("old.txt").exists());
    // The file is in the trash of this process's HOME (or the volume's own trash folder).
    let home_trash = proc.home.path().join(".local/share/Trash/files/old.txt");
    let volume_trash = std::fs::read_dir(&p.base)
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with(".Trash"));
    assert!(
        home_trash.exists() || volume_trash,
        "the deleted file is recoverable"
    );
}

#[test]
fn a_bad_config_fails_fast_with_the_key() {
    let p = Project::new();
    let cfg = p.write("config.yaml", "files:\n  max_entries: many\n");
    let out = std::process::Command::new(crate::harness::bin())
        .args(["--config", cfg.to_str().unwrap(), "config", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("files.max_entries") && err.contains(cfg.to_str().unwrap()),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "errors never go to stdout");
    let cfg = p.write(
        "config2.yaml",
        "ai:\n  api_key: env:SWITCHBOARD_TEST_UNSET_VAR\n",
    );
    let out = std::process::Command::new(crate::harness::bin())
        .args(["--config", cfg.to_str().unwrap(), "doctor"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("SWITCHBOARD_TEST_UNSET_VAR") && err.contains("ai.api_key"),
        "{err}"
    );
}

/// Walks keep one folder and one file open per worker, so they work under a low open-file
/// limit (a peer server fails at 1024 on large trees).
#[test]
fn walks_work_under_a_256_open_file_limit() {
    let p = Project::new();
    for d in 0..40 {
        for f in 0..30 {
            p.write(
                &format!("tree/d{d:02}/sub/f{f:02}.txt"),
                if f == 7 { "needle\n" } else { "hay\n" },
            );
        }
    }
    for i in 0..1200 {
        p.write(&format!("wide/f{i:04}.txt"), "x");
    }
    let mut proc = Proc::spawn_limited(&["--root", p.root.to_str().unwrap()], 256);
    proc.initialize();
    let r = proc.request(
        2,
        "tools/call",
        json!({"name": "search_content", "arguments": {"pattern": "needle", "max_results": 1}}),
    );
    assert_eq!(r["result"]["structuredContent"]["total"], 40, "{r}");
    let r = proc.request(
        3,
        "tools/call",
        json!({"name": "find_files", "arguments": {"patterns": ["f07.txt"]}}),
    );
    assert_eq!(r["result"]["structuredContent"]["total"], 40, "{r}");
    let r = proc.request(
        4,
        "tools/call",
        json!({"name": "list_directory", "arguments": {"path": "wide", "limit": 1000}}),
    );
    assert_eq!(r["result"]["structuredContent"]["total"], 1200, "{r}");
    let r = proc.request(
        5,
        "tools/call",
        json!({"name": "file_info", "arguments": {"path": "tree"}}),
    );
    assert_eq!(r["result"]["structuredContent"]["files"], 1200, "{r}");
    let r = proc.request(
        6,
        "tools/call",
        json!({"name": "copy_path", "arguments": {"source": "tree", "destination": "tree2"}}),
    );
    assert_eq!(r["result"]["structuredContent"]["files"], 1200, "{r}");
}

/// Seeded random hostile input: garbage bytes, random methods and params, deep nesting, odd
/// ids. The server must answer a ping afterwards and still be running.
#[test]
fn random_hostile_input_never_breaks_the_server() {
    let p = Project::new();
    p.write("a.txt", "a\n");
    let mut proc = Proc::spawn(&["--root", p.root.to_str().unwrap()]);
    proc.initialize();
    let mut seed: u64 = 0x5eed_1234_abcd_0042;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let methods = [
        "tools/call",
        "tools/list",
        "prompts/get",
        "resources/read",
        "completion/complete",
        "ping",
        "initialize",
        "x/y",
        "",
        "notifications/cancelled",
        "resources/subscribe",
        "logging/setLevel",
    ];
    let values = [
        json!(null),
        json!(1),
        json!(-1),
        json!(1e308),
        json!("s"),
        json!([]),
        json!({}),
        json!({"name": "read_file", "arguments": {"path": "a.txt"}}),
        json!({"name": "read_file", "arguments": {"path": [1]}}),
        json!({"uri": "file:///etc/passwd"}),
        json!({"name": "code_review", "arguments": {"path": 7}}),
    ];
    for i in 0..1500 {
        let r = next();
        let line = match r % 6 {
            0 => (0..(r % 200)).map(|k| (((r >> (k % 48)) as u8) % 254 + 1) as char).collect::<String>().replace('\n', " "),
            1 => format!("{}{}", "[".repeat((r % 5000) as usize), "]".repeat((r % 7) as usize)),
            2 => json!({"jsonrpc": "2.0", "id": values[(r % 11) as usize], "method": methods[(r % 12) as usize], "params": values[((r >> 8) % 11) as usize]}).to_string(),
            3 => json!({"jsonrpc": "2.0", "method": methods[(r % 12) as usize], "params": values[((r >> 8) % 11) as usize]}).to_string(),
            4 => json!({"jsonrpc": "1.0", "id": i, "result": values[(r % 11) as usize]}).to_string(),
            _ => json!({"jsonrpc": "2.0", "id": 100_000 + i, "method": "tools/call", "params": {"name": "read_file", "arguments": {"path": "a.txt", "offset": values[(r % 11) as usize]}}}).to_string(),
        };
        proc.send(&line);
    }
    let r = proc.request(999_999, "ping", json!({}));
    assert!(r.get("result").is_some(), "{r}");
    assert!(proc.child.try_wait().unwrap().is_none(), "still running");
}

/// JSON-RPC 2.0 at the edges: every request with an id is answered, ids come back exactly as
/// sent, an id in use and a second `initialize` are refused, errors quote little of the input,
/// and `ping` is answered however busy the server is.
#[test]
fn json_rpc_edges_are_answered_as_the_spec_says() {
    let p = Project::new();
    let cfg = p.write("edges.yaml", "limits:\n  max_in_flight: 2\n");
    let mut proc = Proc::spawn(&[
        "--root",
        p.root.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
    ]);
    proc.initialize();
    // Not a request, not a notification: an Invalid Request error with a null id.
    proc.send("{}");
    let r = proc.recv();
    assert_eq!(
        (r["id"].clone(), r["error"]["code"].clone()),
        (json!(null), json!(-32600)),
        "{r}"
    );
    // An id and a method that is not a string: answered, with the id.
    proc.send(r#"{"jsonrpc":"2.0","id":43,"method":5}"#);
    let r = proc.recv();
    assert_eq!(
        (r["id"].clone(), r["error"]["code"].clone()),
        (json!(43), json!(-32600)),
        "{r}"
    );
    // Ids that rmcp could not keep travel back byte for byte.
    for id in [
        "18446744073709551616",
        "9223372036854775808",
        "1.0",
        "-0",
        r#""a\u0041""#,
        "7",
    ] {
        proc.send(&format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/list"}}"#
        ));
        let raw = proc.recv_raw();
        assert!(
            raw.starts_with(&format!(r#"{{"jsonrpc":"2.0","id":{id},"result""#)),
            "{id}: {raw}"
        );
    }
    // An id reused while its request runs: the second is refused, the first still answered.
    proc.send(r#"{"jsonrpc":"2.0","id":"dup","method":"tools/call","params":{"name":"run_shell","arguments":{"command":"sleep 1; echo first"}}}"#);
    proc.send(r#"{"jsonrpc":"2.0","id":"dup","method":"tools/list"}"#);
    let refused = proc.recv();
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already used"),
        "{refused}"
    );
    // The in-flight cap is 2: with two calls running, ping is still answered, other work is busy.
    proc.send(r#"{"jsonrpc":"2.0","id":"slow2","method":"tools/call","params":{"name":"run_shell","arguments":{"command":"sleep 1"}}}"#);
    proc.send(r#"{"jsonrpc":"2.0","id":"busy","method":"tools/list"}"#);
    proc.send(r#"{"jsonrpc":"2.0","id":"alive","method":"ping"}"#);
    let mut seen = std::collections::HashMap::new();
    while seen.len() < 4 {
        let v = proc.recv();
        if let Some(id) = v["id"].as_str() {
            seen.insert(id.to_owned(), v);
        }
    }
    assert_eq!(seen["busy"]["error"]["code"], -32000, "{:?}", seen["busy"]);
    assert_eq!(seen["alive"]["result"], json!({}));
    assert!(
        seen["dup"]["result"]["structuredContent"]["stdout"] == "first\n",
        "{:?}",
        seen["dup"]
    );
    // A second initialize does not renegotiate.
    let again = proc.request(
        9,
        "initialize",
        json!({"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}),
    );
    assert_eq!(again["error"]["code"], -32600, "{again}");
    // A huge method or tool name is not echoed back.
    let huge = "m".repeat(3 << 20);
    proc.send(&format!(r#"{{"jsonrpc":"2.0","id":10,"method":"{huge}"}}"#));
    let r = proc.response(10);
    assert!(
        r["error"]["message"].as_str().unwrap().len() < 2100,
        "{}",
        r.to_string().len()
    );
    let r = proc.request(11, "tools/call", json!({"name": huge, "arguments": {}}));
    assert!(
        r["error"]["message"].as_str().unwrap().len() < 600,
        "{}",
        r.to_string().len()
    );
    // Batches are not part of 2025-06-18.
    proc.send(r#"[{"jsonrpc":"2.0","id":12,"method":"ping"}]"#);
    let r = proc.recv();
    assert_eq!(r["error"]["code"], -32600, "{r}");
}

/// A 2025-03-26 session has JSON-RPC batches: one array of answers comes back.
#[test]
fn batches_work_in_a_2025_03_26_session() {
    let mut proc = Proc::spawn(&[]);
    let r = proc.request(
        1,
        "initialize",
        json!({"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "old", "version": "1"}}),
    );
    assert_eq!(r["result"]["protocolVersion"], "2025-03-26", "{r}");
    proc.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    proc.send(concat!(
        r#"[{"jsonrpc":"2.0","id":2,"method":"ping"},"#,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"current_time","arguments":{"timezone":"UTC"}}},"#,
        r#"{"jsonrpc":"2.0","method":"notifications/roots/list_changed"},"#,
        r#"{"jsonrpc":"2.0","id":4,"method":"nope/nope"},"#,
        r#"{}]"#
    ));
    let answer = proc.recv();
    let items = answer
        .as_array()
        .unwrap_or_else(|| panic!("one array: {answer}"));
    let mut ids: Vec<String> = items.iter().map(|i| i["id"].to_string()).collect();
    ids.sort();
    assert_eq!(ids, ["2", "3", "4", "null"], "{answer}");
    let by_id = |id: i64| items.iter().find(|i| i["id"] == id).unwrap();
    assert_eq!(by_id(2)["result"], json!({}));
    assert!(
        by_id(3)["result"]["structuredContent"]["timezone"] == "UTC",
        "{answer}"
    );
    assert_eq!(by_id(4)["error"]["code"], -32601, "{answer}");
    // A batch of notifications only gets no answer; the next request still does.
    proc.send(r#"[{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}]"#);
    let r = proc.request(5, "ping", json!({}));
    assert_eq!(r["result"], json!({}));
}

/// A 2026-07-28 session (no initialize) answers ping before and after other requests.
#[test]
fn ping_is_answered_in_a_stateless_session() {
    let mut proc = Proc::spawn(&[]);
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "e2e", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    assert_eq!(proc.request(1, "ping", json!({}))["result"], json!({}));
    let r = proc.request(2, "server/discover", json!({"_meta": meta}));
    assert!(r.get("result").is_some(), "{r}");
    let r = proc.request(3, "tools/list", json!({"_meta": meta}));
    assert!(r["result"]["tools"].is_array(), "{r}");
    assert_eq!(
        proc.request(4, "ping", json!({"_meta": meta}))["result"],
        json!({})
    );
}

#[test]
fn answers_over_the_response_cap_say_how_to_narrow_the_call() {
    let p = Project::new();
    p.write("big.txt", "line of text\n".repeat(20_000));
    let mut proc = started_with(
        &p,
        "  max_read_bytes: 1048576\nlimits:\n  max_response_bytes: 16384\n",
    );
    // A tool result over the cap: a tool failure the model can act on, never a huge frame.
    let raw = {
        proc.send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"big.txt"}}}"#);
        proc.recv_raw()
    };
    assert!(raw.len() < 16384, "capped frame: {} bytes", raw.len());
    let r: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(r["id"], 2);
    assert_eq!(r["result"]["isError"], true, "{r}");
    let text = r["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("limits.max_response_bytes"), "{text}");
    assert!(text.contains("offset and limit"), "{text}");
    // The same file in a part that fits comes back whole.
    let r = proc.request(
        3,
        "tools/call",
        json!({"name": "read_file", "arguments": {"path": "big.txt", "limit": 100}}),
    );
    assert_eq!(r["result"]["isError"], false, "{r}");
    // Another answer over the cap (the full tool list) is an error that says the same.
    let r = proc.request(4, "tools/list", json!({}));
    assert_eq!(r["error"]["code"], -32000, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limits.max_response_bytes")
    );
    assert!(proc.request(5, "ping", json!({})).get("result").is_some());
}

/// Hostile sizes end at a named limit: a regex that compiles huge, a line longer than the
/// search holds, a fan of edits and a replacement count that would grow a file past the
/// write limit.
#[test]
fn hostile_sizes_end_at_named_limits() {
    let p = Project::new();
    p.write("one-line.txt", "ab".repeat(300_000));
    p.write("small.txt", "needle here\n");
    p.write("grow.txt", "x\n".repeat(5_000));
    let mut proc = started_with(
        &p,
        "  max_search_line_bytes: 65536\n  max_write_bytes: 1048576\n  max_edits: 3\n",
    );
    let call = |proc: &mut Proc, id: i64, name: &str, args: serde_json::Value| {
        let r = proc.request(id, "tools/call", json!({"name": name, "arguments": args}));
        let text = r["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        (r["result"]["isError"] == true, text)
    };
    let (failed, text) = call(
        &mut proc,
        2,
        "search_content",
        json!({"pattern": r"(\w{100}){1000}"}),
    );
    assert!(failed && text.contains("limits.max_regex_bytes"), "{text}");
    let (failed, text) = call(
        &mut proc,
        3,
        "search_content",
        json!({"pattern": "needle|ba"}),
    );
    assert!(!failed, "{text}");
    assert!(text.contains("small.txt"), "{text}");
    assert!(text.contains("files.max_search_line_bytes"), "{text}");
    let edits: Vec<_> = (0..4)
        .map(|i| json!({"old": format!("a{i}"), "new": "b"}))
        .collect();
    let (failed, text) = call(
        &mut proc,
        4,
        "edit_file",
        json!({"path": "grow.txt", "edits": edits}),
    );
    assert!(failed && text.contains("files.max_edits"), "{text}");
    let big = "y".repeat(1000);
    let (failed, text) = call(
        &mut proc,
        5,
        "edit_file",
        json!({"path": "grow.txt", "edits": [{"old": "x", "new": big, "expected_count": 5000}]}),
    );
    assert!(failed && text.contains("files.max_write_bytes"), "{text}");
    assert_eq!(p.read("grow.txt"), "x\n".repeat(5_000), "nothing changed");
}

/// A line longer than one answer is read on in parts (offset and column), and the parts put
/// together are the line; memory stays bounded by the answer, not the line.
#[test]
fn a_line_longer_than_one_answer_is_paged_within() {
    let p = Project::new();
    let line: String = (0..150_000).map(|i| format!("{}é", i % 10)).collect();
    p.write("long.txt", format!("first\n{line}\nlast\n"));
    let mut proc = started_with(&p, "  max_read_bytes: 65536\n");
    let mut got = String::new();
    let mut args = json!({"path": "long.txt", "offset": 2});
    for id in 2..100 {
        let r = proc.request(
            id,
            "tools/call",
            json!({"name": "read_file", "arguments": args}),
        );
        assert_eq!(r["result"]["isError"], false, "{r}");
        let text = r["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .to_owned();
        let Some(at) = text.find(" [line 2: bytes ") else {
            // The rest of the line fits: it ends the part, then the next line follows.
            got.push_str(text.split('\n').next().unwrap());
            break;
        };
        got.push_str(&text[..at]);
        let column: u64 = text
            .rsplit("column=")
            .next()
            .unwrap()
            .trim_end_matches(']')
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{e}: {text}"));
        args = json!({"path": "long.txt", "offset": 2, "column": column});
    }
    assert_eq!(got.len(), line.len());
    assert!(got == line, "the parts put together are the line");
}

/// switchboard with the project's root and `more` config after `files.roots` (YAML lines inside
/// `files:`, then other sections), every tool listed, initialized.
fn started_with(p: &Project, more: &str) -> Proc {
    let cfg = p.write(
        "config.yaml",
        format!("files:\n  roots: [{}]\n{more}", p.root.display()),
    );
    let mut proc = Proc::spawn(&["--config", cfg.to_str().unwrap(), "--exposure", "full"]);
    proc.initialize();
    proc
}

/// The limits on commands as an ordinary user: run as root, the tests also start switchboard
/// as `nobody`, where no cgroup can be made and `RLIMIT_NPROC` is what holds the process count
/// (for root the cgroup does: `exec::process_and_memory_limits_hold_for_root_too`).
#[test]
fn limits_hold_when_switchboard_runs_as_an_ordinary_user() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: the tests already run as an ordinary user; this case is for root");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let p = Project::new();
    for dir in [&p.base, &p.root] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let cfg = p.write(
        "config.yaml",
        format!(
            "files:\n  roots: [{}]\nexec:\n  limits:\n    processes: 25\n    memory_bytes: 536870912\n",
            p.root.display()
        ),
    );
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut proc = Proc::spawn_as(
        &["--config", cfg.to_str().unwrap(), "--exposure", "full"],
        65534,
        65534,
    );
    proc.initialize();
    let r = proc.request(
        2,
        "tools/call",
        json!({"name": "run_command", "arguments": {"program": "python3", "args": ["-c", crate::harness::FORK_AND_ALLOCATE]}}),
    );
    let out = &r["result"]["structuredContent"];
    let seen = out["stdout"].as_str().unwrap_or_else(|| panic!("{r}"));
    assert!(seen.contains("uid 65534"), "{r}");
    // An ordinary user's sandbox rests on unprivileged user namespaces; the full run needs it.
    if std::env::var_os("SWITCHBOARD_TEST_STRICT").is_some() {
        assert_eq!(out["sandboxed"], true, "{r}");
    }
    let forked: usize = seen
        .lines()
        .find_map(|l| l.strip_prefix("forked "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{r}"));
    assert!(forked < 25, "the process limit held: {r}");
    assert!(seen.contains("allocation refused"), "{r}");
}

/// The descriptor-based writes through the real binary: a thread swaps a folder for a symlink
/// to the outside while writes, appends, folder creations, copies, moves and deletes go into
/// it. Nothing outside changes, and no temporary file is left.
#[test]
fn writes_into_a_folder_swapped_for_a_symlink_stay_inside() {
    use std::os::unix::fs::symlink;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let p = Project::new();
    p.write("seed.txt", "seed\n");
    for name in ["log.txt", "victim.txt", "secret.txt"] {
        p.write(&format!("dir/{name}"), "inside\n");
        std::fs::write(p.outside.join(name), "TOP-SECRET\n").unwrap();
    }
    let before = p.outside_snapshot();
    let mut proc = started_with(&p, "");
    let stop = Arc::new(AtomicBool::new(false));
    let flips = Arc::new(AtomicU64::new(0));
    let swapper = {
        let (stop, flips) = (stop.clone(), flips.clone());
        let (dir, away, outside) = (
            p.root.join("dir"),
            p.root.join("dir.away"),
            p.outside.clone(),
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let _ = std::fs::rename(&dir, &away);
                let _ = symlink(&outside, &dir);
                std::thread::yield_now();
                let _ = std::fs::remove_file(&dir);
                let _ = std::fs::rename(&away, &dir);
                flips.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let mut id = 1;
    let mut ok = 0;
    for i in 0..300 {
        for (tool, args) in [
            (
                "write_file",
                json!({"path": "dir/secret.txt", "content": format!("{i}\n")}),
            ),
            (
                "write_file",
                json!({"path": "dir/log.txt", "content": "x\n", "mode": "append"}),
            ),
            (
                "create_directory",
                json!({"path": format!("dir/made{i}/inner")}),
            ),
            (
                "copy_path",
                json!({"source": "seed.txt", "destination": format!("dir/c{i}.txt")}),
            ),
            (
                "move_path",
                json!({"source": format!("dir/c{i}.txt"), "destination": format!("dir/m{i}.txt")}),
            ),
            (
                "write_file",
                json!({"path": "dir/victim.txt", "content": "inside\n"}),
            ),
            (
                "delete_path",
                json!({"path": "dir/victim.txt", "permanent": true}),
            ),
        ] {
            id += 1;
            let r = proc.request(id, "tools/call", json!({"name": tool, "arguments": args}));
            assert!(r.get("result").is_some(), "{tool}: {r}");
            if r["result"]["isError"] == false {
                ok += 1;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    let flips = flips.load(Ordering::Relaxed);
    assert!(
        flips > 10 && ok > 0,
        "the race ran: {flips} flips, {ok} calls went through"
    );
    assert_eq!(
        before,
        p.outside_snapshot(),
        "something outside the roots changed"
    );
    let debris: Vec<_> = crate::harness::files_below(&p.root)
        .into_iter()
        .filter(|e| e.to_string_lossy().contains(".switchboard-"))
        .collect();
    assert!(debris.is_empty(), "temporary files left: {debris:?}");
}
