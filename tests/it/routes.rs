//! One call path: a table of calls driven through every route — the host's `tools/call`,
//! `call_tool`, `ai_agent`'s route into the dispatcher, and the CLI's `switchboard call` — gives
//! the same answer, the same statistics and the same log lines (only `via` names the route).

use std::sync::{Arc, Mutex};

use rmcp::model::{CallToolRequestParams, CallToolResponse, CallToolResult, NumberOrString};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServiceExt};
use serde_json::{Value, json};
use switchboard::{Caller, Switchboard};

use crate::harness::{Project, bin};

/// Log lines, captured from this test's thread (a current-thread runtime runs every task here).
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What a caller sees of a result.
fn seen(r: &CallToolResult) -> Value {
    json!({
        "error": r.is_error == Some(true),
        "text": crate::harness::text(r),
        "structured": r.structured_content,
    })
}

const ECHO: &str = "description: Echo the text.\nkind: command\nannotations: {read_only: true}\nparameters:\n  text: {type: string, required: true}\nprogram: printf\nargs: ['<%s>', '{text}']\n";

#[tokio::test]
async fn every_route_gives_the_same_answer_stats_and_log_line() {
    let p = Project::new();
    p.write("a.txt", "alpha\n");
    let tools = p.base.join("tools");
    std::fs::create_dir_all(&tools).unwrap();
    std::fs::write(tools.join("echo_text.yaml"), ECHO).unwrap();
    let mut settings = p.settings();
    settings.tools.dirs = vec![tools];
    settings.logging.requests = true;
    let settings = Arc::new(settings);

    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = Switchboard::new(settings.clone());
    // The host: a client on the other end of switchboard's own transport.
    let (client_io, server_io) = tokio::io::duplex(1 << 20);
    let (r, w) = tokio::io::split(server_io);
    tokio::spawn(switchboard::run(
        server.clone(),
        r,
        w,
        std::future::pending(),
    ));
    let host = ().serve(client_io).await.unwrap();
    // The agent's route needs a request context of the server's side: a second connection to
    // the same server.
    let (agent_client_io, agent_server_io) = tokio::io::duplex(1 << 20);
    let agent_server = rmcp::service::serve_server(server.clone(), agent_server_io);
    let (running, _agent_client) = tokio::join!(agent_server, ().serve(agent_client_io));
    let running = running.unwrap();

    let outside = p.outside.join("secret.txt");
    let table: Vec<(&str, Value)> = vec![
        ("read_file", json!({"path": "a.txt"})),
        ("read_file", json!({"path": outside})),
        ("run_command", json!({"program": "ls", "args": "-la"})),
        ("list_directory", json!({"path": "."})),
        ("echo_text", json!({"text": "hi there"})),
        ("echo_text", json!({"txt": "typo"})),
    ];
    let mut expected_calls = std::collections::BTreeMap::<&str, u64>::new();
    for (tool, args) in &table {
        let obj = args.as_object().unwrap().clone();
        let direct = host
            .call_tool(CallToolRequestParams::new(*tool).with_arguments(obj.clone()))
            .await
            .unwrap();
        let wrapped = host
            .call_tool(
                CallToolRequestParams::new("call_tool").with_arguments(
                    json!({"name": tool, "arguments": args})
                        .as_object()
                        .unwrap()
                        .clone(),
                ),
            )
            .await
            .unwrap();
        let ctx =
            RequestContext::<RoleServer>::new(NumberOrString::Number(1), running.peer().clone());
        let agent = match server
            .dispatch(
                CallToolRequestParams::new(*tool).with_arguments(obj),
                ctx,
                Caller::Agent,
            )
            .await
            .unwrap()
        {
            CallToolResponse::Complete(r) => r,
            other => panic!("{other:?}"),
        };
        assert_eq!(seen(&direct), seen(&wrapped), "{tool} {args}: call_tool");
        assert_eq!(seen(&direct), seen(&agent), "{tool} {args}: ai_agent");
        *expected_calls.entry(tool).or_default() += 3;

        // The CLI: its own process, the same dispatcher; the same answer and log line.
        let mut cli = std::process::Command::new(bin());
        cli.args(["--log-level", "info", "--root", p.root.to_str().unwrap()])
            .args(["--config", write_config(&p).to_str().unwrap()])
            .args(["call", tool, &args.to_string(), "--json"])
            .env("HOME", &p.base);
        let out = cli.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.success(),
            !seen(&direct)["error"].as_bool().unwrap(),
            "{tool}: {stdout}{stderr}"
        );
        match &direct.structured_content {
            Some(s) if direct.is_error != Some(true) => {
                let printed: Value = serde_json::from_str(&stdout).unwrap();
                assert_eq!(&printed, s, "{tool}: the CLI prints the same result");
            }
            _ => assert_eq!(
                stdout.trim_end(),
                crate::harness::text(&direct).trim_end(),
                "{tool}"
            ),
        }
        assert!(
            stderr.contains("tool call")
                && stderr.contains(&format!("tool={tool}"))
                && stderr.contains("via=\"host\""),
            "{tool}: the CLI's log line: {stderr}"
        );
    }

    // Statistics: every route counted once per call, on the tool itself.
    let stats = server.stats.snapshot();
    for (tool, n) in &expected_calls {
        assert_eq!(
            stats.tools[*tool].calls, *n,
            "{tool}: {:?}",
            stats.tools[*tool]
        );
    }
    assert!(
        !stats.tools.contains_key("call_tool"),
        "call_tool is a route, not a tool call"
    );

    // Log lines: one "tool call" and one "tool result" per call and route, naming the route.
    let log = String::from_utf8_lossy(&lines.0.lock().unwrap()).into_owned();
    for via in ["host", "call_tool", "ai_agent"] {
        let calls = log
            .lines()
            .filter(|l| l.contains("tool call") && l.contains(&format!("via=\"{via}\"")))
            .count();
        let results = log
            .lines()
            .filter(|l| l.contains("tool result") && l.contains(&format!("via=\"{via}\"")))
            .count();
        assert_eq!(
            (calls, results),
            (table.len(), table.len()),
            "{via}:\n{log}"
        );
    }
}

/// The CLI's config: the same tools folder and request logging as the in-process server.
fn write_config(p: &Project) -> std::path::PathBuf {
    let path = p.base.join("cli.yaml");
    let yaml = format!(
        "data_dir: {}\ntools:\n  dirs: [{}]\nlogging:\n  requests: true\n  file: false\n",
        p.data.display(),
        p.base.join("tools").display()
    );
    std::fs::write(&path, yaml).unwrap();
    path
}
