//! Workflows against direct calls: five multi-step tasks done both ways on the same fixtures,
//! with the answers compared. Direct: the calls a model makes one turn at a time (calls in one
//! turn run side by side, as hosts do), every result reaching its context. Workflow: one
//! `run_workflow` call whose script makes the same calls. Reported per task: tool calls, model
//! turns, bytes and cl100k tokens reaching the model (what the model writes, the arguments or
//! the script, and the text of every result), and wall time without inference. Then the
//! workflow's own cost per tool call against a direct call's.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Value, json};

use super::{Row, Session, Target, median, ms, timed};

/// What reached the model on one way of doing a task.
#[derive(Default)]
struct Way {
    calls: usize,
    turns: usize,
    bytes: usize,
    tokens: usize,
    ms: f64,
}

impl Way {
    /// One call: the arguments the model wrote and the text it read back.
    fn call(&mut self, s: &mut Session, tool: &str, args: Value) -> Value {
        let written = args.to_string();
        let t = Instant::now();
        let line = s.call_raw("tools/call", json!({"name": tool, "arguments": args}));
        self.ms += ms(t.elapsed());
        let v: Value = serde_json::from_str(&line).unwrap();
        let result = &v["result"];
        assert_ne!(result["isError"], true, "{tool}: {line}");
        let read: String = result["content"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n");
        self.calls += 1;
        self.bytes += written.len() + read.len();
        self.tokens += switchboard::support::tokens::count(&written)
            + switchboard::support::tokens::count(&read);
        result.clone()
    }

    /// A turn of calls the model makes side by side: their wall time is the slowest's (the
    /// bench client sends them one after another, so it sums; the row says so).
    fn turn(&mut self) {
        self.turns += 1;
    }
}

/// A result's structured content, or its text parsed as JSON, or its text.
fn data(result: &Value) -> Value {
    if let Some(s) = result.get("structuredContent") {
        return s.clone();
    }
    let text = result["content"][0]["text"].as_str().unwrap_or_default();
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

struct Fixture {
    config: PathBuf,
    servers: PathBuf,
    pages: u16,
}

fn fixture(base: &Path) -> Fixture {
    let root = base.join("wf-root");
    let src = root.join("src");
    std::fs::create_dir_all(&src).unwrap();
    for i in 0..40usize {
        let lines = 20 + (i * 37) % 120;
        let mut text = String::new();
        for l in 0..lines {
            if (l * 7 + i) % 23 == 0 {
                text.push_str(&format!("    // TODO: handle case {l} of module {i}\n"));
            } else {
                text.push_str(&format!(
                    "    let value_{l} = compute_{i}({l}, \"argument\");\n"
                ));
            }
        }
        std::fs::write(src.join(format!("module_{i:02}.rs")), text).unwrap();
    }
    let docs = root.join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    for i in 0..12usize {
        let mut text = format!(
            "# Guide {i}\n\nIntro paragraph for guide {i}. {}\n",
            "Words that explain the topic at length. ".repeat(12)
        );
        for h in 0..(3 + i % 4) {
            text.push_str(&format!(
                "\n## Section {i}.{h}\n\n{}\n",
                "Details, steps and caveats the reader needs. ".repeat(10)
            ));
        }
        std::fs::write(docs.join(format!("guide_{i:02}.md")), text).unwrap();
    }
    // Logs with one large file among many small ones, found by paging.
    let logs = root.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    for i in 0..600usize {
        let size = if i == LARGE_LOG { 995 } else { (i * 613) % 900 };
        std::fs::write(logs.join(format!("log_{i:03}.log")), vec![b'x'; size]).unwrap();
    }
    let db = root.join("sales.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TABLE sales(id INTEGER PRIMARY KEY, region TEXT, product TEXT, amount INTEGER);",
    )
    .unwrap();
    let regions = ["north", "south", "east", "west", "central"];
    let tx = conn.unchecked_transaction().unwrap();
    for i in 0..10_000i64 {
        tx.execute(
            "INSERT INTO sales(region, product, amount) VALUES (?1, ?2, ?3)",
            rusqlite::params![
                regions[(i % 5) as usize],
                format!("p{}", i % 17),
                (i * 7919) % 1000 + 1
            ],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    drop(conn);
    let pages = pages_server();
    let config = base.join("wf-config.yaml");
    std::fs::write(
        &config,
        format!(
            "data_dir: {data}\nfiles:\n  roots: [{root}]\nlogging:\n  file: false\nweb:\n  allow: [\"127.0.0.1:{pages}\"]\ndatabase:\n  max_result_bytes: 4194304\n  connections:\n    sales: {{url: \"sqlite://{db}\", max_rows: 10000}}\n",
            data = base.join("wf-data").display(),
            root = root.display(),
            db = db.display(),
        ),
    )
    .unwrap();
    let servers = base.join("wf-servers.json");
    std::fs::write(
        &servers,
        json!({"mcpServers": {"sb": {
            "command": super::switchboard_binary(),
            "args": ["--config", config.display().to_string(), "--exposure", "full"]
        }}})
        .to_string(),
    )
    .unwrap();
    Fixture {
        config,
        servers,
        pages,
    }
}

/// Three HTML pages on loopback, each with a title and a few links; returns the port.
fn pages_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                loop {
                    let mut first = String::new();
                    if reader.read_line(&mut first).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut line = String::new();
                    while reader.read_line(&mut line).unwrap_or(0) > 2 {
                        line.clear();
                    }
                    let target = first.split_whitespace().nth(1).unwrap_or("/");
                    let path = target.split('?').next().unwrap_or("/").to_owned();
                    let n: usize = path.trim_start_matches("/page").parse().unwrap_or(0);
                    let links: String = (0..3 + n)
                        .map(|k| format!("<li><a href=\"/doc/{n}/{k}\">Doc {n}.{k}</a></li>"))
                        .collect();
                    let filler =
                        "<p>Long body text the reader skims past before the links. </p>".repeat(40);
                    let body = format!(
                        "<html><head><title>Page {n} title</title></head><body><main><h1>Page {n}</h1>{filler}<ul>{links}</ul></main></body></html>"
                    );
                    // One write: a head and a body written apart wait on delayed ACKs.
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if stream.write_all(answer.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// The markdown links `[text](url)` of a page's text, in order.
fn links(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let (Some(close), true) = (after.find("]("), true) else {
            break;
        };
        let label = &after[..close];
        let target = &after[close + 2..];
        let Some(end) = target.find(')') else { break };
        if !label.contains('[') && label.starts_with("Doc") {
            out.push(json!([label, &target[..end]]));
        }
        rest = &target[end..];
    }
    out
}

/// The scripts, one per task: the same calls and the same answer as the direct way.
const T1: &str = r#"
const found = await tools.find_files({path: "src", patterns: ["*.rs"], limit: 1000});
const top = found.matches.sort((a, b) => b.size - a.size).slice(0, 5);
return await Promise.all(top.map(async (m) => {
  const text = await tools.read_file({path: m.path});
  return [m.path.split("/").pop(), text.split("TODO").length - 1];
}));
"#;

const T2: &str = r#"
const q = await tools.db_query({database: "sales", sql: "SELECT region, amount FROM sales"});
const by = {};
for (const [region, amount] of q.rows) (by[region] ||= []).push(amount);
const summary = Object.keys(by).sort().map((r) => {
  const a = by[r].sort((x, y) => x - y);
  const median = a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  return [r, a.length, a.reduce((s, x) => s + x, 0), median];
});
const csv = "region,count,total,median\n" + summary.map((r) => r.join(",")).join("\n") + "\n";
await tools.write_file({path: "summary-wf.csv", content: csv});
return summary;
"#;

fn t3(port: u16) -> String {
    format!(
        r#"
const pages = await Promise.all([1, 2, 3].map((n) => tools.fetch_url({{url: "http://127.0.0.1:{port}/page" + n + "?via=workflow"}})));
return pages.map((p) => {{
  const title = (p.match(/^Title: (.*)$/m) || p.match(/^# (.*)$/m))[1];
  const links = [...p.matchAll(/\[(Doc[^\]]*)\]\(([^)]+)\)/g)].map((m) => [m[1], m[2]]);
  return [title, links];
}});
"#
    )
}

const T4: &str = r##"
const found = await tools.find_files({path: "docs", patterns: ["*.md"]});
const files = found.matches.map((m) => m.path).sort();
const saved = await Promise.all(files.map(async (path) => {
  const text = await tools.read_file({path});
  const headings = text.split("\n").filter((l) => l.startsWith("#")).map((l) => l.replace(/^#+ /, ""));
  const name = path.split("/").pop();
  await tools.memory_save({text: name + ": " + headings.join("; "), tags: ["docs"]});
  return [name, headings.length];
}));
return saved;
"##;

/// The one log over 990 bytes (its index).
const LARGE_LOG: usize = 347;

const T5: &str = r#"
let offset = 0, pages = 0;
while (offset !== undefined) {
  const page = await tools.sb.list_directory({path: "logs", limit: 100, offset});
  pages++;
  const big = page.entries.find((e) => e.size >= 990);
  if (big) return [big.path, big.size, pages];
  offset = page.next_offset;
}
return null;
"#;

/// A task's answer the direct way, as the model would work it out from what it read.
fn direct(task: usize, s: &mut Session, fx: &Fixture, w: &mut Way) -> Value {
    match task {
        1 => {
            w.turn();
            let found = data(&w.call(
                s,
                "find_files",
                json!({"path": "src", "patterns": ["*.rs"], "limit": 1000}),
            ));
            let mut matches: Vec<Value> = found["matches"].as_array().unwrap().clone();
            matches.sort_by_key(|m| std::cmp::Reverse(m["size"].as_u64().unwrap()));
            w.turn();
            let out: Vec<Value> = matches[..5]
                .iter()
                .map(|m| {
                    let path = m["path"].as_str().unwrap();
                    let text = data(&w.call(s, "read_file", json!({"path": path})));
                    let name = path.rsplit('/').next().unwrap();
                    json!([name, text.as_str().unwrap().matches("TODO").count()])
                })
                .collect();
            Value::Array(out)
        }
        2 => {
            w.turn();
            let q = data(&w.call(
                s,
                "db_query",
                json!({"database": "sales", "sql": "SELECT region, amount FROM sales"}),
            ));
            let mut by: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
            for row in q["rows"].as_array().unwrap() {
                by.entry(row[0].as_str().unwrap().to_owned())
                    .or_default()
                    .push(row[1].as_i64().unwrap());
            }
            let summary: Vec<Value> = by
                .into_iter()
                .map(|(r, mut a)| {
                    a.sort();
                    let n = a.len();
                    let median = if n % 2 == 1 {
                        json!(a[(n - 1) / 2])
                    } else {
                        let m = (a[n / 2 - 1] + a[n / 2]) as f64 / 2.0;
                        if m.fract() == 0.0 {
                            json!(m as i64)
                        } else {
                            json!(m)
                        }
                    };
                    json!([r, n, a.iter().sum::<i64>(), median])
                })
                .collect();
            let csv = std::iter::once("region,count,total,median".to_owned())
                .chain(summary.iter().map(|r| {
                    r.as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(",")
                }))
                .collect::<Vec<_>>()
                .join("\n")
                + "\n";
            w.turn();
            w.call(
                s,
                "write_file",
                json!({"path": "summary-direct.csv", "content": csv}),
            );
            Value::Array(summary)
        }
        3 => {
            w.turn();
            let out: Vec<Value> = (1..=3)
                .map(|n| {
                    let url = format!("http://127.0.0.1:{}/page{n}", fx.pages);
                    let page = data(&w.call(s, "fetch_url", json!({"url": url})));
                    let text = page.as_str().unwrap();
                    let title = text
                        .lines()
                        .find_map(|l| l.strip_prefix("Title: ").or_else(|| l.strip_prefix("# ")))
                        .unwrap();
                    json!([title, links(text)])
                })
                .collect();
            Value::Array(out)
        }
        4 => {
            w.turn();
            let found = data(&w.call(
                s,
                "find_files",
                json!({"path": "docs", "patterns": ["*.md"]}),
            ));
            let mut files: Vec<String> = found["matches"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["path"].as_str().unwrap().to_owned())
                .collect();
            files.sort();
            w.turn();
            let texts: Vec<String> = files
                .iter()
                .map(|p| {
                    data(&w.call(s, "read_file", json!({"path": p})))
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect();
            w.turn();
            let out: Vec<Value> = files
                .iter()
                .zip(texts)
                .map(|(path, text)| {
                    let headings: Vec<String> = text
                        .lines()
                        .filter(|l| l.starts_with('#'))
                        .map(|l| l.trim_start_matches('#').trim_start().to_owned())
                        .collect();
                    let name = path.rsplit('/').next().unwrap();
                    w.call(
                        s,
                        "memory_save",
                        json!({"text": format!("{name}: {}", headings.join("; ")), "tags": ["docs"]}),
                    );
                    json!([name, headings.len()])
                })
                .collect();
            Value::Array(out)
        }
        _ => {
            let mut offset = Some(0u64);
            let mut pages = 0;
            while let Some(at) = offset {
                w.turn();
                let page = data(&w.call(
                    s,
                    "sb__list_directory",
                    json!({"path": "logs", "limit": 100, "offset": at}),
                ));
                pages += 1;
                let entries = page["entries"].as_array().unwrap();
                if let Some(big) = entries.iter().find(|e| e["size"].as_u64().unwrap() >= 990) {
                    return json!([big["path"], big["size"], pages]);
                }
                offset = page["next_offset"].as_u64();
            }
            Value::Null
        }
    }
}

const NAMES: [&str; 5] = [
    "five largest source files, TODOs in each",
    "10,000-row table: per-region count, total, median; CSV written",
    "three pages: titles and links",
    "12 Markdown files: a memory note of headings each",
    "a child server's tool paged until a condition holds",
];

/// The five tasks both ways, printed as their own table, and rows for the main one.
pub fn rows(rows: &mut Vec<Row>, base: &Path, quick: bool) {
    let fx = fixture(base);
    let target = Target {
        program: super::switchboard_binary(),
        args: vec![
            "--config".into(),
            fx.config.display().to_string(),
            "--servers".into(),
            fx.servers.display().to_string(),
            "--exposure".into(),
            "full".into(),
        ],
        env: Vec::new(),
    };
    target.approve_servers();
    let mut s = target.start();
    // The child is up, and the web client built (robots.txt read), before anything is timed;
    // the two ways fetch distinct URLs, so neither reads the other's cached page.
    s.call_raw("tools/list", json!({}));
    s.tool(
        "fetch_url",
        json!({"url": format!("http://127.0.0.1:{}/page0", fx.pages)}),
    );
    println!("\n<!-- workflow-bench:start -->");
    println!(
        "| task | tool calls | model turns, direct / workflow | tokens to the model, direct / workflow | saved | bytes, direct / workflow | wall ms, direct / workflow | same answer |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut total = (0usize, 0usize);
    for task in 1..=5 {
        let mut d = Way::default();
        let answer_direct = direct(task, &mut s, &fx, &mut d);
        let script = match task {
            1 => T1.to_owned(),
            2 => T2.to_owned(),
            3 => t3(fx.pages),
            4 => T4.to_owned(),
            _ => T5.to_owned(),
        };
        let mut wf = Way::default();
        wf.turn();
        let result = wf.call(&mut s, "run_workflow", json!({"script": script}));
        let out = data(&result);
        let answer_wf = out["result"].clone();
        let same = answer_wf == answer_direct;
        assert!(
            same,
            "task {task}: the workflow's answer differs:\n{answer_wf}\n{answer_direct}"
        );
        assert_eq!(
            out["calls"].as_u64().unwrap() as usize,
            d.calls,
            "task {task}"
        );
        let saved = 100.0 * (1.0 - wf.tokens as f64 / d.tokens as f64);
        total.0 += d.tokens;
        total.1 += wf.tokens;
        println!(
            "| {} | {} | {} / {} | {} / {} | {saved:.0} % | {} / {} | {:.1} / {:.1} | {} |",
            NAMES[task - 1],
            d.calls,
            d.turns,
            wf.turns,
            d.tokens,
            wf.tokens,
            d.bytes,
            wf.bytes,
            d.ms,
            wf.ms,
            if same { "yes" } else { "no" }
        );
        rows.push(Row::at_least(
            &format!("workflow task {task}: tokens saved"),
            saved,
            80.0,
            "%",
            "≥ 80 % fewer tokens, same answer",
        ));
    }
    let saved = 100.0 * (1.0 - total.1 as f64 / total.0 as f64);
    println!(
        "| all five | | | {} / {} | {saved:.0} % | | | |",
        total.0, total.1
    );
    println!("<!-- workflow-bench:end -->");
    // The workflow's own cost per call: sequential cheap calls inside one script against the
    // same calls made directly, one round trip each.
    let n = if quick { 100 } else { 1000 };
    for _ in 0..50 {
        s.tool("list_roots", json!({}));
    }
    let direct_each = median(
        &(0..n)
            .map(|_| timed(|| s.tool("list_roots", json!({}))))
            .collect::<Vec<_>>(),
    );
    let script =
        format!("for (let i = 0; i < {n}; i++) await tools.list_roots({{}});\nreturn {n};");
    let runs: Vec<f64> = (0..5)
        .map(|_| timed(|| s.tool("run_workflow", json!({"script": script}))) / n as f64)
        .collect();
    rows.push(Row::ratio(
        "workflow overhead: one call inside a script",
        median(&runs) * 1000.0,
        direct_each * 1000.0,
        "µs",
        2.0,
        "≤ 2x a direct call",
    ));
}
