//! `BENCH_ONLY=shared`: the rows of sharing one switchboard: `memory_search` on PostgreSQL next
//! to SQLite (the same notes), a call over `serve --http` next to stdio, and the memory of one
//! shared server with three hosts next to three stdio servers with the same child.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use serde_json::{Value, json};

use super::{
    Row, Target, latencies, median, note_texts, pipelined, switchboard_binary, timed, word,
};

/// The throw-away PostgreSQL cluster of the tests (Debian's binaries); its admin URL.
struct Cluster {
    url: String,
    _helper: Child,
}

fn cluster() -> Option<Cluster> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/db/postgres.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take()?)
        .read_line(&mut line)
        .ok()?;
    let v: Value = serde_json::from_str(&line).ok()?;
    Some(Cluster {
        url: v["admin"].as_str()?.to_owned(),
        _helper: child,
    })
}

/// `switchboard serve --http` on a free port; its URL.
struct HttpServer {
    child: Child,
    url: String,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_http(args: &[String]) -> HttpServer {
    let mut child = Command::new(switchboard_binary())
        .args(args)
        .args(["serve", "--http", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let url = loop {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "serve --http exited");
        if let Some(u) = line.trim().strip_prefix("switchboard: serving MCP at ") {
            break u.to_owned();
        }
    };
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    HttpServer { child, url }
}

/// One `initialize` session over HTTP.
struct HttpSession {
    client: reqwest::Client,
    url: String,
    id: String,
}

impl HttpSession {
    async fn open(url: &str) -> Self {
        let client = reqwest::Client::new();
        let r = client
            .post(url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(
                json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "bench", "version": "1"}}})
                .to_string(),
            )
            .send()
            .await
            .unwrap();
        let id = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
        r.text().await.unwrap();
        let s = Self {
            client,
            url: url.to_owned(),
            id,
        };
        s.post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        s
    }

    async fn post(&self, body: Value) -> String {
        self.client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-session-id", &self.id)
            .header("mcp-protocol-version", "2025-06-18")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    async fn tool(&self, name: &str, args: Value) -> String {
        // Ids are unique among the requests in flight, as a host keeps them.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(10);
        let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let out = self
            .post(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                "params": {"name": name, "arguments": args}}))
            .await;
        assert!(out.contains("\"isError\":false"), "{name}: {out}");
        out
    }
}

/// The proportional set size of `pid` and every process below it, in MiB (shared pages
/// divided among the processes that share them, so sums are fair).
fn tree_pss_mib(pid: u32) -> f64 {
    let mut tree = vec![pid];
    tree.extend(super::descendants(pid));
    let kib: u64 = tree
        .iter()
        .map(|p| {
            std::fs::read_to_string(format!("/proc/{p}/smaps_rollup"))
                .unwrap_or_default()
                .lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum();
    kib as f64 / 1024.0
}

pub fn rows(rows: &mut Vec<Row>, base: &Path, quick: bool) {
    let root = base.join("shared-root");
    std::fs::create_dir_all(&root).unwrap();
    let data = base.join("shared-data");
    let config = |extra: &str| -> PathBuf {
        let path = base.join(format!("shared-{}.yaml", extra.len()));
        std::fs::write(
            &path,
            format!(
                "data_dir: {}\nfiles:\n  roots: [{}]\nlogging:\n  file: false\nhttp:\n  max_in_flight_per_token: 128\n{extra}",
                data.display(),
                root.display()
            ),
        )
        .unwrap();
        path
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    memory_rows(rows, &data, &config, quick);
    http_rows(rows, &config(""), &rt, quick);
    shared_memory_rows(rows, base, &config(""), &rt);
}

/// `memory_search` p50 over the same notes in SQLite and in PostgreSQL.
fn memory_rows(rows: &mut Vec<Row>, data: &Path, config: &dyn Fn(&str) -> PathBuf, quick: bool) {
    let notes = if quick { 10_000 } else { 100_000 };
    super::fill_notes(&data.join("profiles/default/memory.db"), notes);
    let queries: Vec<String> = (0..50)
        .map(|i| format!("{} {}", word(i * 37), word(i * 91 + 5)))
        .collect();
    let search_p50 = |t: &Target| {
        let mut s = t.start();
        s.tool("memory_search", json!({"query": queries[0]}));
        median(
            &queries
                .iter()
                .map(|q| timed(|| s.tool("memory_search", json!({"query": q, "limit": 10}))))
                .collect::<Vec<_>>(),
        )
    };
    let sqlite = search_p50(&Target::full(switchboard_binary(), &config("")));
    let Some(pg) = cluster() else {
        rows.push(Row::info(
            &format!("memory_search over {notes} notes (p50), SQLite"),
            sqlite,
            "ms",
            "PostgreSQL not installed: no comparison",
        ));
        return;
    };
    // The same notes, written in bulk into the profile's schema switchboard creates.
    drop(
        switchboard::memory::postgres::PgStore::open(
            &pg.url,
            "switchboard_default",
            std::time::Duration::from_secs(10),
        )
        .unwrap(),
    );
    let mut client = postgres::Client::connect(&pg.url, postgres::NoTls).unwrap();
    let texts: Vec<String> = note_texts(notes).collect();
    for chunk in texts.chunks(10_000) {
        client
            .execute(
                "INSERT INTO switchboard_default.notes(text, tags, scope, created_at, updated_at)
                 SELECT t, '', 'global', 0, 0 FROM unnest($1::text[]) AS t",
                &[&chunk],
            )
            .unwrap();
    }
    client
        .batch_execute("ANALYZE switchboard_default.notes")
        .unwrap();
    let mut on_pg = Target::full(
        switchboard_binary(),
        &config("memory:\n  store: env:SB_BENCH_MEMORY_URL\n"),
    );
    on_pg
        .env
        .push(("SB_BENCH_MEMORY_URL".into(), pg.url.clone()));
    let postgres = search_p50(&on_pg);
    rows.push(Row::ratio(
        &format!("memory_search over {notes} notes (p50), PostgreSQL vs SQLite"),
        postgres,
        sqlite,
        "ms",
        f64::INFINITY,
        "PostgreSQL 15 on loopback, no pgvector; reference: SQLite",
    ));
}

/// A cheap call over HTTP (one `initialize` session) next to the same call over stdio.
fn http_rows(rows: &mut Vec<Row>, config: &Path, rt: &tokio::runtime::Runtime, quick: bool) {
    let n = if quick { 300 } else { 2000 };
    let total = if quick { 2000 } else { 10_000 };
    let stdio = Target::full(switchboard_binary(), config);
    let mut s = stdio.start();
    let (p50_stdio, p99_stdio) = latencies(&mut s, n, "list_roots", json!({}));
    let tp_stdio = pipelined(&mut s, total, "list_roots", json!({}));
    drop(s);
    let server = serve_http(&stdio.args);
    let (p50, p99, tp) = rt.block_on(async {
        let session = HttpSession::open(&server.url).await;
        for _ in 0..50 {
            session.tool("list_roots", json!({})).await;
        }
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            session.tool("list_roots", json!({})).await;
            v.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let session = std::sync::Arc::new(session);
        let t = Instant::now();
        let workers: Vec<_> = (0..64)
            .map(|_| {
                let s = session.clone();
                tokio::spawn(async move {
                    for _ in 0..total / 64 {
                        s.tool("list_roots", json!({})).await;
                    }
                })
            })
            .collect();
        for w in workers {
            w.await.unwrap();
        }
        let tp = (total / 64 * 64) as f64 / t.elapsed().as_secs_f64();
        (v[n / 2], v[n * 99 / 100], tp)
    });
    // A command-only host (Claude Desktop) through `switchboard connect` to the same server.
    let bridge = Target {
        program: switchboard_binary(),
        args: vec!["connect".into(), server.url.clone()],
        env: Vec::new(),
    };
    let mut b = bridge.start();
    let (p50_bridge, p99_bridge) = latencies(&mut b, n, "list_roots", json!({}));
    let tp_bridge = pipelined(&mut b, total, "list_roots", json!({}));
    drop(b);
    rows.push(Row::ratio(
        "p50 cheap tool call, HTTP vs stdio",
        p50,
        p50_stdio,
        "ms",
        f64::INFINITY,
        "one session, HTTP/1.1 keep-alive; reference: stdio",
    ));
    rows.push(Row::ratio(
        "p99 cheap tool call, HTTP vs stdio",
        p99,
        p99_stdio,
        "ms",
        f64::INFINITY,
        "reference: stdio",
    ));
    rows.push(Row::ratio(
        "calls/s, 64 in flight, HTTP vs stdio",
        tp,
        tp_stdio,
        "calls/s",
        f64::INFINITY,
        "64 concurrent requests over HTTP; 64 pipelined lines over stdio",
    ));
    rows.push(Row::ratio(
        "p50 cheap tool call, stdio host through connect vs stdio",
        p50_bridge,
        p50_stdio,
        "ms",
        f64::INFINITY,
        "switchboard connect to serve --http; reference: stdio",
    ));
    rows.push(Row::ratio(
        "p99 cheap tool call, through connect vs stdio",
        p99_bridge,
        p99_stdio,
        "ms",
        f64::INFINITY,
        "reference: stdio",
    ));
    rows.push(Row::ratio(
        "pipelined calls/s, 64 in flight, through connect vs stdio",
        tp_bridge,
        tp_stdio,
        "calls/s",
        f64::INFINITY,
        "64 pipelined lines into connect; reference: stdio",
    ));
}

/// Three hosts on one shared server next to three stdio servers, each with the same child.
fn shared_memory_rows(
    rows: &mut Vec<Row>,
    base: &Path,
    config: &Path,
    rt: &tokio::runtime::Runtime,
) {
    let servers = base.join("shared-servers.json");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/children/child_server.py"
    );
    std::fs::write(
        &servers,
        json!({"mcpServers": {"kid": {"command": "python3", "args": [script, "good"],
            "env": {"STATE_DIR": base.display().to_string()}}}})
        .to_string(),
    )
    .unwrap();
    let mut t = Target::full(switchboard_binary(), config);
    t.args.push("--servers".into());
    t.args.push(servers.display().to_string());
    t.approve_servers();
    // Three stdio servers, each having answered a call of its child.
    let mut stdio: Vec<_> = (0..3).map(|_| t.start()).collect();
    for s in &mut stdio {
        wait_for_child_stdio(s);
    }
    let separate: f64 = stdio.iter().map(|s| tree_pss_mib(s.child.id())).sum();
    drop(stdio);
    let server = serve_http(&t.args);
    let shared = rt.block_on(async {
        let mut hosts = Vec::new();
        for _ in 0..3 {
            let h = HttpSession::open(&server.url).await;
            wait_for_child_http(&h).await;
            hosts.push(h);
        }
        let pss = tree_pss_mib(server.child.id());
        drop(hosts);
        pss
    });
    rows.push(Row::ratio(
        "memory, 3 hosts: one serve --http vs three stdio servers (PSS, with children)",
        shared,
        separate,
        "MiB",
        f64::INFINITY,
        "one Python child server each; reference: three stdio switchboards",
    ));
}

fn wait_for_child_stdio(s: &mut super::Session) {
    for _ in 0..300 {
        let out = s.call_raw(
            "tools/call",
            json!({"name": "kid__echo", "arguments": {"text": "x"}}),
        );
        if out.contains("echo: x") {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("the child server never answered");
}

async fn wait_for_child_http(h: &HttpSession) {
    for _ in 0..300 {
        let out = h
            .post(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                "params": {"name": "kid__echo", "arguments": {"text": "x"}}}))
            .await;
        if out.contains("echo: x") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the child server never answered over HTTP");
}
