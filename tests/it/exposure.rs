//! Tool exposure through a real client: the full and compact lists, `auto`'s switch, and
//! `search_tools` with `call_tool` reaching every offered tool (a child server's included) in
//! two calls, with the same validation, policy, progress and cancellation as a direct call;
//! toolsets and deny globs hold on every route.

use std::path::PathBuf;
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, Tool};
use serde_json::json;
use switchboard::config::Settings;
use switchboard::policy::tools::{Category, Exposure, NameGlobs, Toolsets};

use crate::exec::{cancel_and_see_gone, procs_matching, rand_digits};
use crate::harness::{Project, Session, TestClient, eventually, session, session_with, text};

/// What a `tools/list` answer holding `tools` costs a model, in cl100k tokens.
fn tokens(tools: &[Tool]) -> usize {
    switchboard::support::tokens::count(&json!({ "tools": tools }).to_string())
}

fn in_mode(p: &Project, mode: Exposure) -> Settings {
    let mut s = p.settings();
    s.tools.exposure = mode;
    s
}

fn globs(patterns: &[&str]) -> NameGlobs {
    NameGlobs::new(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap()
}

/// A folder of 150 declared tools: a catalogue well past what hosts and providers take.
fn many_tools(p: &Project) -> PathBuf {
    let dir = p.base.join("tools");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..150 {
        std::fs::write(
            dir.join(format!("count_{i}.yaml")),
            format!(
                "description: Print the number {i} followed by the given suffix, for counting exercise {i}.\nkind: command\nannotations: {{read_only: true}}\nparameters:\n  suffix: {{type: string, required: true}}\nprogram: printf\nargs: [\"{i}%s\", \"{{suffix}}\"]\n"
            ),
        )
        .unwrap();
    }
    dir
}

/// `search_tools`' names for `query`, best first.
async fn search(s: &Session, query: &str) -> Vec<String> {
    let answer = s
        .ok("search_tools", json!({"query": query, "limit": 5}))
        .await;
    crate::harness::found(&answer, "name")
}

#[tokio::test]
async fn compact_lists_a_small_core_whatever_the_catalogue_and_full_lists_everything() {
    let p = Project::new();
    let dir = many_tools(&p);

    let mut full = in_mode(&p, Exposure::Full);
    full.tools.dirs = vec![dir.clone()];
    let s = session(full).await;
    let listed = s.client.list_all_tools().await.unwrap();
    let all: Vec<&str> = listed.iter().map(|t| t.name.as_ref()).collect();
    assert!(all.len() > 200, "{}", all.len());
    assert!(all.contains(&"count_149") && all.contains(&"read_file"));
    assert!(!all.contains(&"search_tools") && !all.contains(&"call_tool"));
    let full_tokens = tokens(&listed);
    drop(s);

    for mode in [Exposure::Compact, Exposure::Auto] {
        let mut settings = in_mode(&p, mode);
        settings.tools.dirs = vec![dir.clone()];
        let s = session(settings).await;
        let core = s.client.list_all_tools().await.unwrap();
        let shown: Vec<&str> = core.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(
            shown,
            [
                "search_tools",
                "call_tool",
                "run_workflow",
                "list_roots",
                "read_file",
                "edit_file"
            ],
            "{mode:?}"
        );
        let cost = tokens(&core);
        assert!(
            cost < 1800,
            "compact costs {cost} tokens (full: {full_tokens})"
        );
        // Every tool is still two calls away.
        assert_eq!(search(&s, "count_149").await[0], "count_149");
        let out = s
            .call(
                "call_tool",
                json!({"name": "count_149", "arguments": {"suffix": " sheep"}}),
            )
            .await;
        assert_eq!(text(&out), "149 sheep", "{mode:?}");
    }

    // `auto` stays full while the offered tools fit the budget.
    let mut small = in_mode(&p, Exposure::Auto);
    small.tools.toolsets = Toolsets::new(&[Category::System], globs(&[]), globs(&[]));
    let s = session(small).await;
    let shown = s.tool_names().await;
    assert!(shown.contains(&"current_time".to_owned()), "{shown:?}");
    assert!(!shown.contains(&"search_tools".to_owned()), "{shown:?}");
}

#[tokio::test]
async fn search_then_call_reaches_built_in_tools_with_the_same_checks_and_policy() {
    let p = Project::new();
    p.write("notes/plan.md", "step one\nstep two\n");
    let s = session(in_mode(&p, Exposure::Compact)).await;

    for (task, tool) in [
        ("read a text file", "read_file"),
        ("replace text in a file", "edit_file"),
        ("find files by name", "find_files"),
        ("run a program", "run_command"),
        ("current time in a timezone", "current_time"),
    ] {
        let found = search(&s, task).await;
        assert!(found[..3].contains(&tool.to_owned()), "{task}: {found:?}");
    }
    let found = s
        .ok("search_tools", json!({"query": "read a text file"}))
        .await;
    let read = &found["tools"][0];
    assert_eq!(read["name"], "read_file");
    assert_eq!(read["read_only"], true);
    assert!(read["input_schema"]["properties"]["path"].is_object());

    // The call itself, then one that is written wrong: every problem named, nothing run.
    let out = s
        .call(
            "call_tool",
            json!({"name": "read_file", "arguments": {"path": "notes/plan.md"}}),
        )
        .await;
    assert_eq!(out.is_error, Some(false));
    assert!(text(&out).contains("step two"));
    // Arguments sent as a JSON string holding an object (a common slip) are accepted; other
    // shapes are refused with what to send.
    let out = s
        .call(
            "call_tool",
            json!({"name": "read_file", "arguments": "{\"path\": \"notes/plan.md\"}"}),
        )
        .await;
    assert!(text(&out).contains("step two"), "{out:?}");
    let e = s
        .err("call_tool", json!({"name": "read_file", "arguments": [1]}))
        .await;
    assert!(e.contains("must be a JSON object"), "{e}");
    let e = s.err("call_tool", json!({"arguments": {}})).await;
    assert!(e.contains("missing required property `name`"), "{e}");
    let e = s
        .err("call_tool", json!({"name": "read_file", "argumnets": {}}))
        .await;
    assert!(
        e.contains("`arguments.argumnets` is not a parameter"),
        "{e}"
    );
    let e = s
        .err(
            "call_tool",
            json!({"name": "write_file", "arguments": {"path": 7, "contents": "x"}}),
        )
        .await;
    assert!(
        e.contains("`arguments.path`: expected string, got integer 7"),
        "{e}"
    );
    assert!(e.contains("`arguments.contents`: unknown property"), "{e}");
    assert!(e.contains("missing required property `content`"), "{e}");
    assert!(e.contains("Its input schema"), "{e}");
    // The same path policy as a direct call.
    let e = s
        .err(
            "call_tool",
            json!({"name": "read_file", "arguments": {"path": p.outside.join("secret.txt")}}),
        )
        .await;
    assert!(e.contains("outside the allowed roots"), "{e}");
    let e = s
        .err("call_tool", json!({"name": "raed_file", "arguments": {}}))
        .await;
    assert!(
        e.contains("no tool named `raed_file`") && e.contains("`read_file`"),
        "{e}"
    );
    let e = s
        .err("call_tool", json!({"name": "call_tool", "arguments": {}}))
        .await;
    assert!(e.contains("directly"), "{e}");
    // A tool the list does not show still answers a direct call.
    assert_eq!(
        s.ok("current_time", json!({"timezone": "UTC"})).await["timezone"],
        "UTC"
    );
}

#[tokio::test]
async fn call_tool_passes_progress_through_and_a_cancel_kills_the_command() {
    let p = Project::new();
    let client = TestClient::default();
    let progress = client.progress.clone();
    let s = session_with(in_mode(&p, Exposure::Compact), client).await;
    let out = s
        .call_with_progress(
            "call_tool",
            json!({"name": "run_shell", "arguments": {"command": "for i in 1 2 3; do echo line $i; sleep 0.4; done"}}),
            7,
        )
        .await;
    assert_eq!(out.is_error, Some(false), "{}", text(&out));
    assert!(
        !progress.lock().unwrap().is_empty(),
        "progress reached the client through call_tool"
    );

    let tag = format!("77{}", rand_digits());
    let handle = s
        .start_call(
            "call_tool",
            json!({"name": "run_command", "arguments": {"program": "sh", "args": ["-c", format!("sleep {tag}1; true")], "timeout_secs": 120}}),
        )
        .await;
    assert!(
        eventually(|| async { procs_matching(&format!("sleep {tag}")).len() == 1 }).await,
        "the command started"
    );
    cancel_and_see_gone(handle, &format!("sleep {tag}"), Duration::from_secs(2)).await;
}

#[tokio::test]
async fn toolsets_and_deny_globs_hold_on_every_route() {
    let p = Project::new();
    p.write("a.txt", "a\n");
    let mut settings = in_mode(&p, Exposure::Full);
    settings.tools.toolsets = Toolsets::new(
        &[Category::Files],
        globs(&["current_time", "ai_agent"]),
        globs(&["delete_*", "write_*"]),
    );
    let s = session(settings).await;
    let shown = s.tool_names().await;
    assert!(shown.contains(&"read_file".to_owned()));
    assert!(
        shown.contains(&"current_time".to_owned()),
        "allowed by name"
    );
    for gone in [
        "delete_path",
        "write_file",
        "web_search",
        "run_command",
        "git_status",
    ] {
        assert!(!shown.contains(&gone.to_owned()), "{gone} in {shown:?}");
    }
    // Not searchable, not callable through call_tool, not callable directly.
    assert!(
        !search(&s, "web search")
            .await
            .contains(&"web_search".to_owned())
    );
    let e = s
        .err(
            "call_tool",
            json!({"name": "delete_path", "arguments": {"path": "a.txt"}}),
        )
        .await;
    assert!(e.contains("tools.deny"), "{e}");
    let e = s
        .err(
            "call_tool",
            json!({"name": "web_search", "arguments": {"query": "x"}}),
        )
        .await;
    assert!(e.contains("`web` toolset"), "{e}");
    let direct = s
        .client
        .call_tool(
            CallToolRequestParams::new("delete_path")
                .with_arguments(json!({"path": "a.txt"}).as_object().unwrap().clone()),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(direct.contains("tools.deny"), "{direct}");
    assert!(p.root.join("a.txt").exists(), "nothing was deleted");
    // The local agent gets the same catalogue: it cannot be handed a denied tool.
    let e = s
        .err("ai_agent", json!({"task": "x", "tools": ["delete_path"]}))
        .await;
    assert!(e.contains("no tool `delete_path`"), "{e}");
}

#[tokio::test]
async fn read_only_mode_composes_with_compact_exposure() {
    let p = Project::new();
    let mut settings = in_mode(&p, Exposure::Compact);
    settings.read_only = true;
    let s = session(settings).await;
    let core = s.client.list_all_tools().await.unwrap();
    let call = core.iter().find(|t| t.name == "call_tool").unwrap();
    let hints = call.annotations.as_ref().unwrap();
    assert_eq!(
        hints.read_only_hint,
        Some(true),
        "it can reach only readers"
    );
    let e = s
        .err(
            "call_tool",
            json!({"name": "write_file", "arguments": {"path": "x.txt", "content": "x"}}),
        )
        .await;
    assert!(
        e.contains("not available") && e.contains("read-only mode"),
        "{e}"
    );
    assert!(!p.root.join("x.txt").exists());
    // A shipped declarative tool that is off in its file says so.
    let e = s
        .err("call_tool", json!({"name": "weather", "arguments": {}}))
        .await;
    assert!(
        e.contains("turned off in its file") && e.contains("weather.yaml"),
        "{e}"
    );
}

/// A child server's tools through the discovery tools: found, called (progress included), and
/// a denied one unreachable by any route.
#[tokio::test]
async fn a_child_servers_tools_are_found_and_called_unless_denied() {
    let p = Project::new();
    let child = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/children/child_server.py"
    );
    let servers = p.base.join("servers_config.json");
    let entry = json!({"command": "python3", "args": [child, "good"],
        "env": {"STATE_DIR": p.base.display().to_string()}});
    std::fs::write(&servers, json!({"mcpServers": {"kid": entry}}).to_string()).unwrap();
    let mut settings = in_mode(&p, Exposure::Compact);
    settings.proxy.servers_config = Some((servers, "--servers"));
    settings.tools.toolsets = Toolsets::new(&Category::ALL, globs(&[]), globs(&["kid__boom"]));
    let client = TestClient::default();
    let progress = client.progress.clone();
    let s = session_with(settings, client).await;

    assert_eq!(
        s.tool_names().await,
        [
            "search_tools",
            "call_tool",
            "run_workflow",
            "list_roots",
            "read_file",
            "edit_file"
        ]
    );
    assert_eq!(search(&s, "echo the text back").await[0], "kid__echo");
    let out = s
        .ok_text(
            "call_tool",
            json!({"name": "kid__echo", "arguments": {"text": "via call_tool"}}),
        )
        .await;
    assert_eq!(out, "echo: via call_tool");
    let out = s
        .call_with_progress(
            "call_tool",
            json!({"name": "kid__slow", "arguments": {"seconds": 1}}),
            9,
        )
        .await;
    assert_eq!(out.is_error, Some(false), "{}", text(&out));
    assert!(
        progress.lock().unwrap().len() >= 3,
        "the child's progress came through"
    );

    assert!(!search(&s, "boom").await.contains(&"kid__boom".to_owned()));
    let e = s
        .err("call_tool", json!({"name": "kid__boom", "arguments": {}}))
        .await;
    assert!(e.contains("tools.deny"), "{e}");
    let direct = s
        .client
        .call_tool(CallToolRequestParams::new("kid__boom"))
        .await
        .unwrap_err()
        .to_string();
    assert!(direct.contains("tools.deny"), "{direct}");
}
