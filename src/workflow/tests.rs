//! The engine with a host of plain Rust tools: what a script sees, and every limit ending a
//! run while the process goes on.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

use super::{CallFuture, Failure, Host, Limits, Outcome, Report, run};

/// `echo` answers its arguments, `text` a string, `fail` fails, `slow` waits `ms`; the most
/// calls running at once is kept.
#[derive(Default)]
struct Tools {
    running: AtomicUsize,
    most: AtomicUsize,
}

impl Host for Tools {
    fn call(self: Arc<Self>, _seq: u32, name: String, args: Map<String, Value>) -> CallFuture {
        let me = self;
        Box::pin(async move {
            let now = me.running.fetch_add(1, Ordering::SeqCst) + 1;
            me.most.fetch_max(now, Ordering::SeqCst);
            let out = match name.as_str() {
                "echo" => Outcome::Value(Value::Object(args)),
                "text" => Outcome::Value(Value::String("plain text".into())),
                "slow" => {
                    let ms = args.get("ms").and_then(Value::as_u64).unwrap_or(10);
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    Outcome::Value(json!({"slept": ms}))
                }
                _ => Outcome::Failed {
                    message: format!("there is no tool named `{name}`"),
                    reason: "tool_unavailable".into(),
                },
            };
            me.running.fetch_sub(1, Ordering::SeqCst);
            out
        })
    }
}

async fn go_with(script: &str, limits: Limits) -> (Report, Arc<Tools>) {
    let tools = Arc::new(Tools::default());
    let host: Arc<dyn Host> = tools.clone();
    let report = run(script.into(), limits, host, CancellationToken::new()).await;
    (report, tools)
}

async fn go(script: &str) -> Report {
    go_with(script, Limits::default()).await.0
}

fn quick() -> Limits {
    Limits {
        timeout: Duration::from_millis(500),
        max_memory: 16 * 1024 * 1024,
        ..Limits::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_calls_tools_and_returns_json() {
    let r = go(r#"
        const a = await tools.echo({x: 1});
        const t = await tools.text();
        console.log("got", a, t);
        return {x: a.x + 1, t};
    "#)
    .await;
    assert_eq!(r.outcome.unwrap(), json!({"x": 2, "t": "plain text"}));
    assert_eq!(r.console, [r#"got {"x":1} plain text"#]);
    assert_eq!(r.calls, 2);
    let r = go("return;").await;
    assert_eq!(r.outcome.unwrap(), Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_catchable_and_uncaught_ones_name_the_line() {
    let r = go(r#"
        try { await tools.nope({}); } catch (e) {
            return [e instanceof ToolError, e.tool, e.reason, e.message];
        }
    "#)
    .await;
    assert_eq!(
        r.outcome.unwrap(),
        json!([
            true,
            "nope",
            "tool_unavailable",
            "there is no tool named `nope`"
        ])
    );
    let r = go("const a = 1;\nawait tools.nope({});\n").await;
    assert_eq!(
        r.outcome.unwrap_err(),
        Failure::Script {
            name: "ToolError".into(),
            message: "there is no tool named `nope`".into(),
            line: Some(2)
        }
    );
    let r = go("let x = 1;\nnull.y;").await;
    match r.outcome.unwrap_err() {
        Failure::Script { name, line, .. } => {
            assert_eq!(name, "TypeError");
            assert_eq!(line, Some(2));
        }
        other => panic!("{other:?}"),
    }
    let r = go("let x = ;").await;
    match r.outcome.unwrap_err() {
        Failure::Script { name, line, .. } => {
            assert_eq!(name, "SyntaxError");
            assert_eq!(line, Some(1));
        }
        other => panic!("{other:?}"),
    }
    let r = go("return tools.echo('x');").await;
    assert!(
        matches!(&r.outcome, Err(Failure::Script { message, .. }) if message.contains("args must be an object")),
        "{:?}",
        r.outcome
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promise_all_runs_calls_in_parallel_up_to_the_limit() {
    let limits = Limits {
        max_parallel: 3,
        ..Limits::default()
    };
    let (r, tools) = go_with(
        "const all = await Promise.all([...Array(12).keys()].map(i => tools.slow({ms: 20})));\nreturn all.length;",
        limits,
    )
    .await;
    assert_eq!(r.outcome.unwrap(), json!(12));
    assert_eq!(r.calls, 12);
    assert_eq!(tools.most.load(Ordering::SeqCst), 3);
    let r = go("return tools.srv.thing({});").await;
    assert!(
        matches!(&r.outcome, Err(Failure::Script { message, .. }) if message.contains("`srv__thing`")),
        "{:?}",
        r.outcome
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_limit_ends_a_run() {
    let r = go_with("while (true) {}", quick()).await.0;
    assert_eq!(r.outcome.unwrap_err(), Failure::Timeout(quick().timeout));
    // A regular expression that backtracks for ever is interrupted too.
    let r = go_with("return /(a+)+$/.test('a'.repeat(40) + 'b');", quick())
        .await
        .0;
    assert_eq!(r.outcome.unwrap_err(), Failure::Timeout(quick().timeout));
    let r = go_with("try { while (true) {} } catch (e) {} return 1;", quick())
        .await
        .0;
    assert!(matches!(r.outcome, Err(Failure::Timeout(_))));
    let r = go_with(
        "const a = []; while (true) a.push('x'.repeat(1000) + a.length);",
        quick(),
    )
    .await
    .0;
    assert!(
        matches!(&r.outcome, Err(Failure::Limit(m)) if m.contains("workflow.max_memory_bytes")),
        "{:?}",
        r.outcome
    );
    let r = go_with(
        "function f(n) { return f(n + 1) + 1; } return f(0);",
        quick(),
    )
    .await
    .0;
    assert!(
        matches!(&r.outcome, Err(Failure::Limit(m)) if m.contains("workflow.max_stack_bytes")),
        "{:?}",
        r.outcome
    );
    let few = Limits {
        max_calls: 50,
        ..quick()
    };
    let r = go_with(
        "for (let i = 0; i < 1e9; i++) { try { await tools.text(); } catch (e) {} }",
        few.clone(),
    )
    .await
    .0;
    assert!(
        matches!(&r.outcome, Err(Failure::Limit(m)) if m.contains("workflow.max_calls")),
        "{:?}",
        r.outcome
    );
    assert_eq!(r.calls, 50);
    let small = Limits {
        max_output_bytes: 100,
        max_console_bytes: 20,
        ..quick()
    };
    let r = go_with(
        "for (let i = 0; i < 10; i++) console.log('line', i); return 'y'.repeat(200);",
        small,
    )
    .await
    .0;
    assert!(
        matches!(&r.outcome, Err(Failure::Limit(m)) if m.contains("workflow.max_output_bytes")),
        "{:?}",
        r.outcome
    );
    assert_eq!(r.console, ["line 0", "line 1"]);
    assert_eq!(r.console_dropped, 8);
    let r = go_with("return new Date().getTime();", quick()).await.0;
    assert!(
        matches!(&r.outcome, Err(Failure::Script { message, .. }) if message.contains("no clock")),
        "{:?}",
        r.outcome
    );
    let r = go_with("return new Date(0).toISOString();", quick())
        .await
        .0;
    assert_eq!(r.outcome.unwrap(), json!("1970-01-01T00:00:00.000Z"));
    let r = go_with("await new Promise(() => {});", quick()).await.0;
    assert!(
        matches!(&r.outcome, Err(Failure::Script { message, .. }) if message.contains("never comes")),
        "{:?}",
        r.outcome
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_stops_the_script_and_its_calls() {
    let tools = Arc::new(Tools::default());
    let host: Arc<dyn Host> = tools.clone();
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        stop.cancel();
    });
    let r = run(
        "await tools.slow({ms: 60000});".into(),
        Limits::default(),
        host,
        cancel.clone(),
    )
    .await;
    assert_eq!(r.outcome.unwrap_err(), Failure::Cancelled);
    assert!(r.elapsed < Duration::from_secs(10), "{:?}", r.elapsed);
    let cancel = CancellationToken::new();
    cancel.cancel();
    let host: Arc<dyn Host> = tools.clone();
    let r = run("while (true) {}".into(), Limits::default(), host, cancel).await;
    assert_eq!(r.outcome.unwrap_err(), Failure::Cancelled);
}
