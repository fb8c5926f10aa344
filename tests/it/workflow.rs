//! `run_workflow` with the real engine and real tools: calls through the one dispatcher (policy
//! refusals come back as catchable errors, in read-only mode too), a child server's tool,
//! progress per call, typed declarations from `search_tools`, every limit ending a run while
//! the real binary keeps answering `ping`, cancellation killing a running command, and a send
//! inside a script asking the user in both protocol generations.

use std::time::Duration;

use serde_json::{Value, json};
use switchboard::comms::email::Allow;
use switchboard::config::comms::EmailAccount;

use crate::comms::Smtp;
use crate::exec::{cancel_and_see_gone, procs_matching, rand_digits};
use crate::harness::{
    Proc, Project, TestClient, eventually, session, session_modern, session_with, text,
};

fn script(s: &str) -> Value {
    json!({ "script": s })
}

#[tokio::test]
async fn a_script_chains_tools_and_policy_refusals_are_catchable() {
    let p = Project::new();
    p.write("src/a.rs", "// TODO one\nfn a() {}\n");
    p.write("src/b.rs", "// TODO one\n// TODO two\nfn b() {}\n");
    for modern in [false, true] {
        let s = if modern {
            session_modern(p.settings(), TestClient::default()).await
        } else {
            session(p.settings()).await
        };
        let out = s
            .ok(
                "run_workflow",
                script(
                    r#"
const found = await tools.find_files({patterns: ["*.rs"]});
const counts = await Promise.all(found.matches.map(async (m) => {
  const text = await tools.read_file({path: m.path});
  return [m.path.split("/").pop(), text.split("TODO").length - 1];
}));
const reasons = [];
for (const call of [
  () => tools.read_file({path: "/etc/hostname"}),
  () => tools.fetch_url({url: "http://127.0.0.1:9/"}),
  () => tools.no_such_tool({}),
  () => tools.read_file({nope: 1}),
]) {
  try { await call(); reasons.push("ran"); } catch (e) { reasons.push(e.reason); }
}
console.log("done");
return {counts: Object.fromEntries(counts), reasons};
"#,
                ),
            )
            .await;
        assert_eq!(
            out["result"]["counts"],
            json!({"a.rs": 1, "b.rs": 2}),
            "{out}"
        );
        assert_eq!(
            out["result"]["reasons"],
            json!([
                "path_outside_roots",
                "address_private",
                "tool_unavailable",
                "invalid_arguments"
            ]),
            "{out}"
        );
        assert_eq!(out["calls"], 7);
        assert_eq!(out["console"], json!(["done"]));
    }
    // Read-only mode: the script reaches only the tools that mode offers, declarative ones
    // (the shipped git tools) included.
    p.git_init();
    let mut ro = p.settings();
    ro.read_only = true;
    let s = session(ro).await;
    let status = s
        .ok("run_workflow", script("return await tools.git_status({});"))
        .await;
    assert!(
        status["result"].as_str().unwrap().starts_with("## "),
        "{status}"
    );
    let out = s
        .ok(
            "run_workflow",
            script(
                "try { await tools.write_file({path: 'x.txt', content: 'x'}); return 'written'; } catch (e) { return e.reason + ': ' + e.message; }",
            ),
        )
        .await;
    let said = out["result"].as_str().unwrap();
    assert!(said.starts_with("tool_unavailable: "), "{said}");
    assert!(said.contains("read-only"), "{said}");
    assert!(!p.root.join("x.txt").exists());
    // An uncaught failure names the script line and the tool's message.
    let r = s
        .call(
            "run_workflow",
            script("const a = 1;\nawait tools.read_file({path: '/etc/hostname'});"),
        )
        .await;
    assert_eq!(r.is_error, Some(true));
    let t = text(&r);
    assert!(t.contains("line 2: ToolError:"), "{t}");
    assert!(t.contains("outside the allowed roots"), "{t}");
    assert_eq!(r.meta.unwrap()["switchboard/reason"], "script_error");
    // Neither a script nor the agent starts a workflow.
    let out = s
        .ok(
            "run_workflow",
            script("try { await tools.run_workflow({script: 'return 1'}); } catch (e) { return e.message; }"),
        )
        .await;
    assert!(
        out["result"]
            .as_str()
            .unwrap()
            .contains("cannot start a workflow"),
        "{out}"
    );
}

#[tokio::test]
async fn each_call_is_progress_of_the_workflow_and_results_keep_their_shape() {
    let p = Project::new();
    p.write("notes.md", "# Title\n");
    let client = TestClient::default();
    let progress = client.progress.clone();
    let s = session_with(p.settings(), client).await;
    let r = s
        .call_with_progress(
            "run_workflow",
            script(
                "const t = await tools.current_time({});\nconst f = await tools.read_file({path: 'notes.md'});\nreturn [typeof t, typeof f];",
            ),
            5,
        )
        .await;
    assert_eq!(
        r.structured_content.unwrap()["result"],
        json!(["object", "string"])
    );
    let seen = progress.lock().unwrap().clone();
    let messages: Vec<String> = seen.iter().filter_map(|(_, m)| m.clone()).collect();
    assert!(
        messages.contains(&"call 1: current_time".to_owned()),
        "{seen:?}"
    );
    assert!(
        messages.contains(&"call 2: read_file".to_owned()),
        "{seen:?}"
    );
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "{seen:?}");
}

#[tokio::test]
async fn search_tools_gives_typescript_declarations_per_tool_and_per_toolset() {
    let p = Project::new();
    let s = session(p.settings()).await;
    let out = s
        .ok(
            "search_tools",
            json!({"query": "read_file", "typescript": true, "limit": 1}),
        )
        .await;
    let ts = out["tools"][0]["typescript"].as_str().unwrap();
    assert!(ts.contains("read_file(args: {\n"), "{ts}");
    assert!(ts.contains("  path: string;\n"), "{ts}");
    assert!(ts.ends_with("): Promise<string>;"), "{ts}");
    assert!(out["tools"][0].get("input_schema").is_none(), "{out}");
    let out = s
        .ok(
            "search_tools",
            json!({"query": "*", "toolset": "system", "typescript": true}),
        )
        .await;
    let names: Vec<&str> = out["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"current_time") && names.contains(&"which"),
        "{names:?}"
    );
    assert!(
        out["tools"][0].get("instead").is_none(),
        "a listing has no near tie: {out}"
    );
    assert!(names.iter().all(|n| switchboard::tools::category_of(n)
        == Some(switchboard::policy::tools::Category::System)));
    let time = out["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "current_time")
        .unwrap();
    // A tool with an output schema resolves to its object.
    assert!(
        time["typescript"]
            .as_str()
            .unwrap()
            .contains("): Promise<{"),
        "{time}"
    );
    let e = s
        .err("search_tools", json!({"query": "*", "toolset": "nothing"}))
        .await;
    assert!(e.contains("toolsets are files"), "{e}");
}

#[tokio::test]
async fn a_child_servers_tool_is_called_by_alias() {
    let (p, state) = crate::proxy::project_with_state();
    let settings = crate::proxy::with_servers(
        &p,
        json!({"mcpServers": {"g": crate::proxy::py("good", &state, json!({}))}}),
    );
    let s = session(settings).await;
    let out = s
        .ok(
            "run_workflow",
            script(
                r#"
const said = [];
for (const word of ["one", "two", "three"]) {
  const r = await tools.g.echo({text: word});
  if (r.includes("two")) said.push(r);
}
try { await tools.g.boom({}); } catch (e) { said.push(e.reason); }
return said;
"#,
            ),
        )
        .await;
    let said = out["result"].as_array().unwrap();
    assert_eq!(said.len(), 2, "{out}");
    assert!(said[0].as_str().unwrap().contains("two"), "{out}");
    assert_eq!(out["calls"], 4);
}

#[tokio::test]
async fn cancelling_a_workflow_kills_the_command_it_runs() {
    let p = Project::new();
    let s = session(p.settings()).await;
    let tag = format!("77{}", rand_digits());
    let handle = s
        .start_call(
            "run_workflow",
            script(&format!(
                "await tools.run_command({{program: 'sh', args: ['-c', 'sleep {tag}1 & sleep {tag}2'], timeout_secs: 120}});"
            )),
        )
        .await;
    assert!(
        eventually(|| async { procs_matching(&format!("sleep {tag}")).len() == 2 }).await,
        "the command started"
    );
    cancel_and_see_gone(handle, &format!("sleep {tag}"), Duration::from_secs(2)).await;
    // The session goes on.
    assert_eq!(
        s.ok("run_workflow", script("return 1 + 1;")).await["result"],
        2
    );
}

#[tokio::test]
async fn runs_beyond_max_runs_are_refused_until_one_ends() {
    let p = Project::new();
    let mut settings = p.settings();
    settings.workflow.max_runs = 1;
    let s = session(settings).await;
    let tag = format!("78{}", rand_digits());
    let first = s
        .start_call(
            "run_workflow",
            script(&format!(
                "await tools.run_command({{program: 'sh', args: ['-c', 'sleep {tag}'], timeout_secs: 120}});"
            )),
        )
        .await;
    assert!(
        eventually(|| async { procs_matching(&format!("sleep {tag}")).len() == 1 }).await,
        "the first run is running"
    );
    let r = s.call("run_workflow", script("return 1;")).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("workflow.max_runs"), "{}", text(&r));
    assert_eq!(r.meta.unwrap()["switchboard/reason"], "workflow_limit");
    cancel_and_see_gone(first, &format!("sleep {tag}"), Duration::from_secs(2)).await;
    assert!(
        eventually(|| async {
            s.call("run_workflow", script("return 1;")).await.is_error != Some(true)
        })
        .await,
        "a run is admitted once the first ended"
    );
}

/// Each limit ends its run with a message naming its key, and the real binary goes on
/// answering `ping` after every one.
#[test]
fn every_limit_ends_a_run_and_the_server_keeps_answering() {
    let p = Project::new();
    let cfg = p.write(
        "config.yaml",
        "workflow:\n  timeout_secs: 2\n  max_memory_bytes: 16777216\n  max_calls: 200\n  max_output_bytes: 1000\n",
    );
    let root = p.root.display().to_string();
    let mut proc = Proc::spawn(&["--config", cfg.to_str().unwrap(), "--root", &root]);
    proc.initialize();
    let cases = [
        ("while (true) {}", "timeout", "workflow.timeout_secs"),
        (
            "const a = []; while (true) a.push('x'.repeat(4096) + a.length);",
            "workflow_limit",
            "workflow.max_memory_bytes",
        ),
        (
            "for (let i = 0; i < 1e9; i++) await tools.current_time({});",
            "workflow_limit",
            "workflow.max_calls",
        ),
        (
            "function f(n) { return f(n + 1) + 1; }\nreturn f(0);",
            "workflow_limit",
            "workflow.max_stack_bytes",
        ),
        (
            "return 'y'.repeat(5000);",
            "workflow_limit",
            "workflow.max_output_bytes",
        ),
        ("return new Date();", "script_error", "tools.current_time()"),
    ];
    for (i, (code, reason, says)) in cases.iter().enumerate() {
        let id = 10 + 2 * i as i64;
        let r = proc.request(
            id,
            "tools/call",
            json!({"name": "run_workflow", "arguments": {"script": code}}),
        );
        let result = &r["result"];
        assert_eq!(result["isError"], true, "{code}: {r}");
        assert_eq!(
            result["_meta"]["switchboard/reason"], *reason,
            "{code}: {r}"
        );
        let t = result["content"][0]["text"].as_str().unwrap();
        assert!(t.contains(says), "{code}: {t}");
        let pong = proc.request(id + 1, "ping", json!({}));
        assert_eq!(pong["result"], json!({}), "{code}: {pong}");
    }
    let r = proc.request(
        99,
        "tools/call",
        json!({"name": "run_workflow", "arguments": {"script": "return (await tools.current_time({})) !== null;"}}),
    );
    assert_eq!(r["result"]["structuredContent"]["result"], true, "{r}");
}

fn with_email(p: &Project, smtp: &Smtp) -> switchboard::config::Settings {
    let mut s = p.settings();
    s.comms.allow = Allow::new(&["*@example.com".into()]);
    s.comms.accounts.push(EmailAccount {
        name: "relay".into(),
        account: smtp.account(),
    });
    s
}

const SEND: &str = r#"
try {
  const r = await tools.send_email({to: ["ann@example.com"], subject: "From a script", text: "Hello."});
  return {sent: r.sent};
} catch (e) {
  return {refused: e.message};
}
"#;

#[cfg_attr(not(test_deps), ignore = "needs what scripts/test.sh installs")]
#[tokio::test]
async fn a_send_inside_a_script_asks_the_user_in_both_generations() {
    let Some(smtp) = Smtp::start() else { return };
    let p = Project::new();
    for modern in [false, true] {
        for accept in [true, false] {
            let client = TestClient {
                elicit: Some(accept),
                ..TestClient::default()
            };
            let asked = client.asked.clone();
            let settings = with_email(&p, &smtp);
            let s = if modern {
                session_modern(settings, client).await
            } else {
                session_with(settings, client).await
            };
            let out = s.ok("run_workflow", script(SEND)).await;
            let question = asked.lock().unwrap().clone();
            assert_eq!(question.len(), 1, "modern {modern}: {question:?}");
            assert!(question[0].contains("From a script"), "{question:?}");
            if accept {
                assert_eq!(
                    out["result"],
                    json!({"sent": true}),
                    "modern {modern}: {out}"
                );
                assert_eq!(smtp.next()["headers"]["Subject"], "From a script");
            } else {
                let why = out["result"]["refused"].as_str().unwrap_or_default();
                assert!(why.contains("declined"), "modern {modern}: {out}");
            }
        }
    }
    smtp.nothing_more();
}
