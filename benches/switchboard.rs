//! The benchmark program: spawns the release `switchboard` binary and measures what the
//! shared PERFORMANCE notes track, each against a floor measured in the same run: a minimal
//! rmcp stdio server with one echo tool (this binary re-run with `--floor-server`), and `rg`
//! for content search (with `--smart-case`, the same semantics as search_content's default). Prints a table and writes JSON to `target/bench/results.json`.
//!
//! Run with `scripts/bench.sh` (or `cargo bench --bench switchboard`). Figures are medians.
//! `BENCH_QUICK=1` for a fast smoke run; `BENCH_ONLY=discovery` for the tool-search rows alone;
//! `BENCH_ONLY=workflow` for the five workflow tasks done both ways (their own table, pasted into
//! the README between `workflow-bench` markers); `BENCH_ONLY=browser` for the browser rows;
//! `BENCH_ONLY=startup` for start-up and idle memory alone; `BENCH_ONLY=shared` for PostgreSQL
//! memory, HTTP against stdio and one shared server's memory
//! (their own table, between `shared-bench` markers);
//! `BENCH_SWITCHBOARD=PATH` measures another build (a baseline) with the same fixtures and floor;
//! `BENCH_ONLY=compare BENCH_BASELINE=PATH` measures the call-path and start-up rows of this build and
//! a baseline in alternating rounds of one run.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "switchboard/browser.rs"]
mod browser;
#[path = "switchboard/compare.rs"]
mod compare;
#[path = "switchboard/discovery.rs"]
mod discovery;
#[path = "switchboard/shared.rs"]
mod shared;
#[path = "switchboard/startup.rs"]
mod startup;
#[path = "switchboard/workflow.rs"]
mod workflow;

/// The binary measured: this build's, or another one named by `BENCH_SWITCHBOARD` (to compare a
/// change with its baseline in the same conditions).
fn switchboard_binary() -> PathBuf {
    std::env::var_os("BENCH_SWITCHBOARD")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_switchboard")))
}

fn main() {
    if std::env::args().any(|a| a == "--floor-server") {
        floor::serve();
        return;
    }
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` asks which benchmarks exist.
    }
    let quick = std::env::var_os("BENCH_QUICK").is_some();
    let work = tempfile::tempdir().unwrap();
    let base = std::fs::canonicalize(work.path()).unwrap();
    // BENCH_ONLY=discovery: the tool-search rows alone (a minute instead of the whole run).
    if std::env::var("BENCH_ONLY").as_deref() == Ok("discovery") {
        let mut rows = Vec::new();
        discovery::rows(&mut rows, &base, quick);
        print_table(&rows);
        return;
    }
    // BENCH_ONLY=workflow: the five workflow tasks both ways, and the workflow's own cost.
    if std::env::var("BENCH_ONLY").as_deref() == Ok("workflow") {
        let mut rows = Vec::new();
        workflow::rows(&mut rows, &base, quick);
        print_table(&rows);
        return;
    }
    // BENCH_ONLY=browser: the browser rows alone.
    if std::env::var("BENCH_ONLY").as_deref() == Ok("browser") {
        let mut rows = Vec::new();
        browser::rows(&mut rows, &base, quick);
        print_table(&rows);
        return;
    }
    // BENCH_ONLY=shared: PostgreSQL memory, HTTP against stdio, one shared server's memory.
    if std::env::var("BENCH_ONLY").as_deref() == Ok("shared") {
        let mut rows = Vec::new();
        shared::rows(&mut rows, &base, quick);
        print_table(&rows);
        return;
    }
    // BENCH_ONLY=compare BENCH_BASELINE=PATH: this build against a baseline, interleaved.
    if std::env::var("BENCH_ONLY").as_deref() == Ok("compare") {
        compare::rows(&base, switchboard_binary(), quick);
        return;
    }
    // BENCH_ONLY=startup: start-up and idle memory against the floor, half a minute.
    if std::env::var("BENCH_ONLY").as_deref() == Ok("startup") {
        startup::rows(&base, quick);
        return;
    }
    let fixtures = Fixtures::create(&base, quick);
    let sb = Target::switchboard(&fixtures);
    let fl = Target::floor();

    let runs = if quick { 5 } else { 30 };
    // Spawn → initialize, the first list, a whole session's CPU and idle RSS, interleaved with
    // the floor (the same rows as BENCH_ONLY=startup).
    let startup = startup::measure(&base, quick);
    let init_sb = startup.init;
    let mut rows: Vec<Row> = startup.rows;

    let mut s = sb.start();
    let payload = s.call_raw("tools/list", json!({})).len();
    let list_ms = median(
        &(0..200)
            .map(|_| timed(|| s.call_raw("tools/list", json!({}))))
            .collect::<Vec<_>>(),
    );
    rows.push(Row::info(
        "tools/list (warm)",
        list_ms,
        "ms",
        &format!("{payload} bytes payload"),
    ));
    // The default exposure: what a host sees with no exposure configured.
    let auto = Target::switchboard_default_exposure(&fixtures);
    let firsts_auto: Vec<f64> = (0..runs).map(|_| auto.to_first_list().1).collect();
    let mut a = auto.start();
    let payload_auto = a.call_raw("tools/list", json!({})).len();
    let list_auto = median(
        &(0..200)
            .map(|_| timed(|| a.call_raw("tools/list", json!({}))))
            .collect::<Vec<_>>(),
    );
    drop(a);
    rows.push(Row::abs(
        "spawn → initialize → first tools/list, default exposure (compact)",
        median(&firsts_auto),
        init_sb + 1.0,
        "ms",
        "≤ initialize + 1 ms",
    ));
    rows.push(Row::info(
        "tools/list (warm), default exposure (compact)",
        list_auto,
        "ms",
        &format!("{payload_auto} bytes payload"),
    ));
    let mut f = fl.start();
    let n = if quick { 300 } else { 3000 };
    let (p50_sb, p99_sb) = latencies(&mut s, n, "list_roots", json!({}));
    let (p50_fl, p99_fl) = latencies(&mut f, n, "echo", json!({"text": "hi"}));
    rows.push(Row::ratio(
        "p50 cheap tool call",
        p50_sb * 1000.0,
        p50_fl * 1000.0,
        "µs",
        1.15,
        "≤ 1.15x floor",
    ));
    rows.push(Row::ratio(
        "p99 cheap tool call",
        p99_sb * 1000.0,
        p99_fl * 1000.0,
        "µs",
        f64::INFINITY,
        "(reported)",
    ));

    let total = if quick { 2000 } else { 20000 };
    let tp_sb = pipelined(&mut s, total, "list_roots", json!({}));
    let tp_fl = pipelined(&mut f, total, "echo", json!({"text": "hi"}));
    rows.push(Row::ratio_min(
        "pipelined calls/s, 64 in flight",
        tp_sb,
        tp_fl,
        "calls/s",
        0.9,
        "≥ 0.9x floor",
    ));

    let read_ms = median(
        &(0..50)
            .map(|_| timed(|| s.tool("read_file", json!({"path": "big.txt"}))))
            .collect::<Vec<_>>(),
    );
    rows.push(Row::abs("read_file 1 MiB", read_ms, 10.0, "ms", "≤ 10 ms"));
    let list10k = median(
        &(0..20)
            .map(|_| timed(|| s.tool("list_directory", json!({"path": "many", "limit": 10000}))))
            .collect::<Vec<_>>(),
    );
    rows.push(Row::info(
        "list_directory 10k entries, size and time",
        list10k,
        "ms",
        "one fstatat per entry",
    ));
    let names10k = median(
        &(0..20)
            .map(|_| {
                timed(|| {
                    s.tool(
                        "list_directory",
                        json!({"path": "many", "limit": 10000, "details": false}),
                    )
                })
            })
            .collect::<Vec<_>>(),
    );
    rows.push(Row::abs(
        "list_directory 10k entries, names and types",
        names10k,
        8.0,
        "ms",
        "≤ 8 ms",
    ));
    // What a model gets by default: the first page of a 10k-entry folder (1,000 entries, the
    // default files.max_entries; this config raises the cap for the rows above), with size and
    // time; only the page is described.
    let page10k = median(
        &(0..20)
            .map(|_| timed(|| s.tool("list_directory", json!({"path": "many", "limit": 1000}))))
            .collect::<Vec<_>>(),
    );
    rows.push(Row::abs(
        "list_directory 10k entries, first page (default)",
        page10k,
        names10k * 1.5,
        "ms",
        "≤ 1.5x the names-only listing of all 10k",
    ));

    let pattern = r"fn\s+needle_[0-9]+";
    let search_runs = if quick { 3 } else { 7 };
    let out = s.tool(
        "search_content",
        json!({"path": "tree", "pattern": pattern, "max_results": 1}),
    );
    let hits = serde_json::from_str::<Value>(&out)
        .ok()
        .and_then(|v| v["result"]["structuredContent"]["total"].as_u64())
        .unwrap_or(0);
    let search_sb = median(
        &(0..search_runs)
            .map(|_| {
                timed(|| {
                    s.tool(
                        "search_content",
                        json!({"path": "tree", "pattern": pattern, "max_results": 1}),
                    )
                })
            })
            .collect::<Vec<_>>(),
    );
    match rg_time(&fixtures.root.join("tree"), pattern, search_runs) {
        Some(rg) => rows.push(Row::ratio(
            &format!(
                "search_content, {} files ({hits} hits) vs rg",
                fixtures.tree_files
            ),
            search_sb,
            rg,
            "ms",
            0.8,
            "≤ 0.8x rg",
        )),
        None => rows.push(Row::info(
            &format!(
                "search_content, {} files ({hits} hits)",
                fixtures.tree_files
            ),
            search_sb,
            "ms",
            "rg not installed: no ratio",
        )),
    }
    // Two words per query, each in about 1% of the notes.
    let queries: Vec<String> = (0..50)
        .map(|i| format!("{} {}", word(i * 37), word(i * 91 + 5)))
        .collect();
    s.tool("memory_search", json!({"query": queries[0]}));
    let memory_ms = median(
        &queries
            .iter()
            .map(|q| timed(|| s.tool("memory_search", json!({"query": q, "limit": 10}))))
            .collect::<Vec<_>>(),
    );
    rows.push(Row::abs(
        &format!("memory_search over {} notes (p50)", fixtures.notes),
        memory_ms,
        10.0,
        "ms",
        "≤ 10 ms",
    ));
    // Child servers: the floor server as a child of switchboard.
    let proxied = Target::switchboard_with_child(&fixtures, &base);
    // Interleaved with the floor, so both see the same moment of this VM.
    let (init_children, init_fl_now): (Vec<f64>, Vec<f64>) = (0..runs)
        .map(|_| (proxied.spawn_initialize().1, fl.spawn_initialize().1))
        .unzip();
    rows.push(Row::ratio(
        "spawn → initialize, children configured",
        median(&init_children),
        median(&init_fl_now),
        "ms",
        1.5,
        "≤ 1.5x floor",
    ));
    let mut c = proxied.start();
    // The first list waits for the child to be ready.
    let listed = c.call_raw("tools/list", json!({}));
    assert!(listed.contains("floor__echo"), "the child's tool is listed");
    let (p50_fwd, p99_fwd) = latencies(&mut c, n, "floor__echo", json!({"text": "hi"}));
    let (p50_direct, p99_direct) = latencies(&mut f, n, "echo", json!({"text": "hi"}));
    rows.push(Row::info(
        "forwarded call overhead (p50), processes on any core",
        (p50_fwd - p50_direct) * 1000.0,
        "µs",
        &format!(
            "forwarded {:.0} µs, direct {:.0} µs; mostly the VM's cross-core wake-ups",
            p50_fwd * 1000.0,
            p50_direct * 1000.0
        ),
    ));
    rows.push(Row::abs(
        "forwarded call overhead (p99), processes on any core",
        (p99_fwd - p99_direct) * 1000.0,
        100.0,
        "µs",
        &format!(
            "≤ 100 µs (forwarded {:.0} µs, direct {:.0} µs)",
            p99_fwd * 1000.0,
            p99_direct * 1000.0
        ),
    ));
    // The CPU each process spends per call while pipelined: with two cores shared by the
    // client, switchboard and the child, the forwarded rate can reach at most about the
    // child's rate times (the child's CPU per call ÷ switchboard's).
    let (sb_pid, direct_pid) = (c.child.id(), f.child.id());
    // The child runs under switchboard's supervisor process: everything below switchboard.
    let below = |pid: u32| descendants(pid).into_iter().map(cpu_ns).sum::<u64>();
    let before = (cpu_ns(sb_pid), below(sb_pid));
    let tp_fwd = pipelined(&mut c, total, "floor__echo", json!({"text": "hi"}));
    let after_fwd = (cpu_ns(sb_pid), below(sb_pid));
    let direct_before = cpu_ns(direct_pid);
    let tp_direct = pipelined(&mut f, total, "echo", json!({"text": "hi"}));
    let per_call = |from: u64, to: u64| (to.saturating_sub(from)) as f64 / total as f64 / 1000.0;
    let direct_cpu = per_call(direct_before, cpu_ns(direct_pid));
    {
        let (sb_cpu, child_cpu) = (
            per_call(before.0, after_fwd.0),
            per_call(before.1, after_fwd.1),
        );
        rows.push(Row::info(
            "switchboard CPU per forwarded call, pipelined",
            sb_cpu,
            "µs",
            &format!(
                "the child {child_cpu:.1} µs per forwarded call, {direct_cpu:.1} µs per direct call; \
                 ceiling of the pipelined ratio on this machine about {:.2}x",
                (direct_cpu / sb_cpu).min(1.0)
            ),
        ));
    }
    rows.push(Row::ratio_min(
        "pipelined forwarded calls/s, 64 in flight, vs direct",
        tp_fwd,
        tp_direct,
        "calls/s",
        0.85,
        "≥ 0.85x the child called directly",
    ));
    // The same on one core: a forwarded call wakes two more processes than a direct one, and
    // on a VM each wake-up on the other core costs tens of µs that are not switchboard's.
    let (p50_fwd1, p50_direct1) = on_one_core(|| {
        let mut c1 = proxied.start();
        c1.call_raw("tools/list", json!({}));
        let mut f1 = fl.start();
        let fwd = latencies(&mut c1, n, "floor__echo", json!({"text": "hi"})).0;
        let direct = latencies(&mut f1, n, "echo", json!({"text": "hi"})).0;
        (fwd, direct)
    });
    rows.push(Row::abs(
        "forwarded call overhead (p50), all on one core",
        (p50_fwd1 - p50_direct1) * 1000.0,
        20.0,
        "µs",
        &format!(
            "≤ 20 µs (forwarded {:.0} µs, direct {:.0} µs)",
            p50_fwd1 * 1000.0,
            p50_direct1 * 1000.0
        ),
    ));
    drop(c);
    drop(s);
    drop(f);
    // The first list with several children: what a host waits for before it sees any tool.
    for children in [2, 5] {
        let t = Target::switchboard_with_children(&fixtures, &base, children);
        let firsts: Vec<f64> = (0..runs.min(10)).map(|_| t.to_first_list().1).collect();
        rows.push(Row::abs(
            &format!("spawn → first tools/list, {children} child servers"),
            median(&firsts),
            50.0,
            "ms",
            "≤ 50 ms (the floor server as each child; the list waits for eager children, proxy.startup_wait_ms)",
        ));
    }

    web_rows(&mut rows, &fixtures, &base, n);
    discovery::rows(&mut rows, &base, quick);
    workflow::rows(&mut rows, &base, quick);
    browser::rows(&mut rows, &base, quick);
    shared::rows(&mut rows, &base, quick);

    print_table(&rows);
    let json = json!({
        "machine": {"cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)},
        "quick": quick,
        "results": rows.iter().map(Row::to_json).collect::<Vec<_>>(),
    });
    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&out_dir).unwrap();
    std::fs::write(
        out_dir.join("results.json"),
        serde_json::to_string_pretty(&json).unwrap(),
    )
    .unwrap();
    println!("\nJSON: {}", out_dir.join("results.json").display());
}

/// fetch_url against a keep-alive HTTP server on loopback: the first call (which builds the
/// one HTTP client and reads robots.txt), later calls (distinct URLs, so no cache hit) and how
/// many connections they opened, against the cost of building a fresh client per request in
/// this process (what a server that rebuilds its client on every call pays, before any
/// process start).
fn web_rows(rows: &mut Vec<Row>, fx: &Fixtures, base: &Path, n: usize) {
    let server = web::Server::start();
    let config = base.join("bench-web.yaml");
    let mut text = std::fs::read_to_string(&fx.config).unwrap();
    text.push_str(&format!("web:\n  allow: [\"127.0.0.1:{}\"]\n", server.port));
    std::fs::write(&config, text).unwrap();
    let target = Target {
        program: switchboard_binary(),
        args: vec!["--config".into(), config.display().to_string()],
        env: Vec::new(),
    };
    let url = |i: usize| format!("http://127.0.0.1:{}/article?i={i}", server.port);
    let firsts: Vec<f64> = (0..5)
        .map(|_| {
            let mut s = target.start();
            timed(|| s.tool("fetch_url", json!({"url": url(0)})))
        })
        .collect();
    let mut s = target.start();
    let before = server.connections();
    let mut times: Vec<f64> = (1..=n)
        .map(|i| timed(|| s.tool("fetch_url", json!({"url": url(i)}))))
        .collect();
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let connections = server.connections() - before;
    let fresh = web::fresh_client_request_ms(&url(0), 20);
    rows.push(Row::info(
        "fetch_url, first call of a process (builds the client)",
        median(&firsts),
        "ms",
        "includes reading robots.txt",
    ));
    rows.push(Row::abs(
        "fetch_url p50, later calls (4 KB page, not cached)",
        times[n / 2],
        fresh,
        "ms",
        &format!(
            "one client, {connections} connection(s) for {n} calls; < a fresh client per request ({fresh:.2} ms in-process)"
        ),
    ));
}

mod web {
    use std::io::{BufRead, BufReader, Write};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// An HTTP/1.1 keep-alive server on 127.0.0.1 serving one HTML page; counts connections.
    pub struct Server {
        pub port: u16,
        connections: Arc<AtomicUsize>,
    }

    impl Server {
        pub fn start() -> Self {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let connections = Arc::new(AtomicUsize::new(0));
            let counter = connections.clone();
            let paragraph = "<p>Switchboard reads this page through its guarded client, converting the HTML to Markdown, keeping links like <a href=\"/next\">this one</a>.</p>";
            let page: Arc<String> = Arc::new(format!(
                "<html><head><title>Bench</title></head><body><nav><a href=\"/\">Home</a></nav><main><h1>Bench page</h1>{}</main></body></html>",
                paragraph.repeat(28)
            ));
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { return };
                    counter.fetch_add(1, Ordering::SeqCst);
                    let page = page.clone();
                    std::thread::spawn(move || serve(stream, &page));
                }
            });
            Self { port, connections }
        }

        pub fn connections(&self) -> usize {
            self.connections.load(Ordering::SeqCst)
        }
    }

    fn serve(stream: std::net::TcpStream, page: &str) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut out = stream;
        loop {
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                return;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 {
                    return;
                }
                if h == "\r\n" {
                    break;
                }
            }
            let reply = if request_line.starts_with("GET /robots.txt") {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_owned()
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\r\n{page}",
                    page.len()
                )
            };
            if out.write_all(reply.as_bytes()).is_err() {
                return;
            }
        }
    }

    /// Median time to build a rustls HTTP client and make one GET with it, in this process.
    pub fn fresh_client_request_ms(url: &str, runs: usize) -> f64 {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut times: Vec<f64> = (0..runs)
            .map(|_| {
                super::timed(|| {
                    rt.block_on(async {
                        let client = reqwest::Client::builder().no_proxy().build().unwrap();
                        let body = client.get(url).send().await.unwrap().text().await.unwrap();
                        assert!(body.contains("Bench page"));
                    })
                })
            })
            .collect();
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        times[runs / 2]
    }
}

struct Fixtures {
    root: PathBuf,
    config: PathBuf,
    tree_files: usize,
    notes: u64,
}

impl Fixtures {
    fn create(base: &Path, quick: bool) -> Self {
        let root = base.join("root");
        std::fs::create_dir_all(root.join("many")).unwrap();
        let line = "The quick brown fox jumps over the lazy dog; lorem ipsum dolor sit amet.\n";
        let mut big = String::new();
        while big.len() < 1 << 20 {
            big.push_str(line);
        }
        big.truncate(1 << 20);
        std::fs::write(root.join("big.txt"), big).unwrap();
        for i in 0..10_000 {
            std::fs::write(root.join("many").join(format!("f{i:05}.txt")), "x").unwrap();
        }
        let (dirs, per) = if quick { (40, 50) } else { (200, 100) };
        let body: String = (0..40)
            .map(|i| format!("    let value_{i} = compute({i}); // some ordinary code line here\n"))
            .collect();
        for d in 0..dirs {
            let dir = root.join("tree").join(format!("mod{d:03}"));
            std::fs::create_dir_all(&dir).unwrap();
            for f in 0..per {
                let needle = if (d * per + f) % 500 == 0 {
                    format!("fn needle_{d}_{f}() {{}}\n")
                } else {
                    String::new()
                };
                std::fs::write(
                    dir.join(format!("file{f:03}.rs")),
                    format!("// file {d}/{f}\n{body}{needle}"),
                )
                .unwrap();
            }
        }
        let notes = if quick { 10_000 } else { 100_000 };
        fill_notes(&base.join("data/profiles/default/memory.db"), notes);
        let config = base.join("bench-config.yaml");
        std::fs::write(
            &config,
            format!(
                "data_dir: {}\nfiles:\n  roots: [{}]\n  max_read_bytes: 2097152\n  max_entries: 10000\nlogging:\n  file: false\n",
                base.join("data").display(),
                root.display()
            ),
        )
        .unwrap();
        Self {
            root,
            config,
            tree_files: dirs * per,
            notes,
        }
    }
}

/// A config with one empty root under `base` and no log file: what start-up and the call path
/// are measured with when no fixture matters.
fn plain_config(base: &Path) -> PathBuf {
    let root = base.join("root");
    std::fs::create_dir_all(&root).unwrap();
    let config = base.join("plain-config.yaml");
    std::fs::write(
        &config,
        format!(
            "data_dir: {}\nfiles:\n  roots: [{}]\nlogging:\n  file: false\n",
            base.join("data").display(),
            root.display()
        ),
    )
    .unwrap();
    config
}

/// A vocabulary for the notes: 2000 made-up words, so each word is in about 1% of notes.
fn word(i: u64) -> String {
    const SYL: [&str; 20] = [
        "ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "da", "zu", "fe", "go", "hi", "ja",
        "ku", "ma", "no", "pe", "qu",
    ];
    let i = i % 2000;
    format!(
        "{}{}{}",
        SYL[(i % 20) as usize],
        SYL[((i / 20) % 20) as usize],
        SYL[((i / 400) % 20) as usize]
    )
}

/// The texts of `n` notes of 20 words each (the same every run).
fn note_texts(n: u64) -> impl Iterator<Item = String> {
    let mut x: u64 = 42;
    (0..n).map(move |_| {
        let text: Vec<String> = (0..20)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                word(x >> 33)
            })
            .collect();
        text.join(" ")
    })
}

/// `n` notes in the profile's memory database, written in one transaction through the same
/// schema (and FTS triggers) switchboard uses.
fn fill_notes(db: &Path, n: u64) {
    drop(switchboard::memory::notes::SqliteStore::open(db).unwrap());
    let mut c = rusqlite::Connection::open(db).unwrap();
    let tx = c.transaction().unwrap();
    {
        let mut stmt = tx
            .prepare("INSERT INTO notes(text, tags, scope, created_at, updated_at) VALUES (?1, '', 'global', 0, 0)")
            .unwrap();
        for text in note_texts(n) {
            stmt.execute([text]).unwrap();
        }
    }
    tx.commit().unwrap();
}

struct Target {
    program: PathBuf,
    args: Vec<String>,
    /// Variables set for the server (the config's `env:` secrets).
    env: Vec<(String, String)>,
}

impl Target {
    fn switchboard(fx: &Fixtures) -> Self {
        Self {
            program: switchboard_binary(),
            // The full list, so the figures measure the whole catalogue (the default `auto`
            // shows the compact core; it has rows of its own).
            args: vec![
                "--config".into(),
                fx.config.display().to_string(),
                "--exposure".into(),
                "full".into(),
            ],
            env: Vec::new(),
        }
    }

    /// `program` on `config`, with the full list.
    fn full(program: PathBuf, config: &Path) -> Self {
        Self {
            program,
            args: vec![
                "--config".into(),
                config.display().to_string(),
                "--exposure".into(),
                "full".into(),
            ],
            env: Vec::new(),
        }
    }

    /// switchboard with the default exposure (`auto`: the compact core for this catalogue).
    fn switchboard_default_exposure(fx: &Fixtures) -> Self {
        Self {
            program: switchboard_binary(),
            args: vec!["--config".into(), fx.config.display().to_string()],
            env: Vec::new(),
        }
    }

    /// switchboard with `count` child servers, each the floor server (`floor1`, `floor2`, …).
    fn switchboard_with_children(fx: &Fixtures, base: &Path, count: usize) -> Self {
        let aliases: Vec<String> = (1..=count).map(|i| format!("floor{i}")).collect();
        Self::switchboard_with_floors(fx, &base.join(format!("servers_{count}.json")), &aliases)
    }

    /// switchboard with one child server: the floor server, aliased `floor`.
    fn switchboard_with_child(fx: &Fixtures, base: &Path) -> Self {
        Self::switchboard_with_floors(fx, &base.join("servers_config.json"), &["floor".into()])
    }

    /// switchboard whose servers file (`servers`) runs the floor server under each alias.
    fn switchboard_with_floors(fx: &Fixtures, servers: &Path, aliases: &[String]) -> Self {
        let exe = std::env::current_exe().unwrap();
        let entries: serde_json::Map<String, Value> = aliases
            .iter()
            .map(|a| {
                (
                    a.clone(),
                    json!({"command": exe, "args": ["--floor-server"]}),
                )
            })
            .collect();
        std::fs::write(servers, json!({"mcpServers": entries}).to_string()).unwrap();
        let mut t = Self::switchboard(fx);
        t.args.push("--servers".into());
        t.args.push(servers.display().to_string());
        t.approve_servers();
        t
    }

    /// Approves the servers file's entries as a person would on first use (`switchboard proxy
    /// approve --all`): new entries are held until then.
    fn approve_servers(&self) {
        let approved = Command::new(&self.program)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .args(["proxy", "approve", "--all"])
            .output()
            .unwrap();
        assert!(approved.status.success(), "{approved:?}");
    }

    fn floor() -> Self {
        Self {
            program: std::env::current_exe().unwrap(),
            args: vec!["--floor-server".into()],
            env: Vec::new(),
        }
    }

    fn spawn(&self) -> Session {
        use std::os::unix::process::CommandExt;
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        // The walks must work under a low open-file limit; measure them under one.
        unsafe {
            cmd.pre_exec(|| {
                let lim = libc::rlimit {
                    rlim_cur: 256,
                    rlim_max: 256,
                };
                libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
                Ok(())
            });
        }
        let mut child = cmd.spawn().expect("spawn server");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Session {
            child,
            stdin,
            stdout,
            next: 1,
        }
    }

    /// Spawns, initializes, and returns the session and the time to the initialize answer.
    fn spawn_initialize(&self) -> (Session, f64) {
        let t = Instant::now();
        let mut s = self.spawn();
        s.call_raw("initialize", json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}));
        let elapsed = ms(t.elapsed());
        (s, elapsed)
    }

    /// Spawns, initializes and asks for the first tools/list: the times from the spawn to the
    /// initialize answer and to the list, in ms.
    fn to_first_list(&self) -> (f64, f64) {
        let t = Instant::now();
        let (mut s, init) = self.spawn_initialize();
        s.notify("notifications/initialized");
        s.call_raw("tools/list", json!({}));
        (init, ms(t.elapsed()))
    }

    fn start(&self) -> Session {
        let (mut s, _) = self.spawn_initialize();
        s.notify("notifications/initialized");
        s
    }
}

struct Session {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next: u64,
}

impl Session {
    fn send(&mut self, method: &str, params: Value) -> u64 {
        let id = self.next;
        self.next += 1;
        let mut line = serde_json::to_vec(
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        )
        .unwrap();
        line.push(b'\n');
        self.stdin.write_all(&line).unwrap();
        id
    }

    fn notify(&mut self, method: &str) {
        writeln!(
            self.stdin,
            "{}",
            json!({"jsonrpc": "2.0", "method": method})
        )
        .unwrap();
    }

    fn read_line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "server closed its output");
        line
    }

    /// Sends a request and returns the raw response line (notifications skipped).
    fn call_raw(&mut self, method: &str, params: Value) -> String {
        self.send(method, params);
        loop {
            let line = self.read_line();
            if line.contains("\"id\"") {
                return line;
            }
        }
    }

    fn tool(&mut self, name: &str, arguments: Value) -> String {
        let out = self.call_raw("tools/call", json!({"name": name, "arguments": arguments}));
        assert!(
            !out.contains("\"isError\":true"),
            "{name} failed: {}",
            &out[..out.len().min(400)]
        );
        out
    }

    /// CPU time all the server's threads have used so far, in nanoseconds (the scheduler's
    /// per-thread counters).
    fn cpu_ns(&self) -> u64 {
        cpu_ns(self.child.id())
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `f` with this process (and the processes it starts) confined to CPU 0.
fn on_one_core<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: sched_{get,set}affinity on this thread with a properly sized cpu_set_t.
    unsafe {
        let mut old: libc::cpu_set_t = std::mem::zeroed();
        libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut old);
        let mut one: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(0, &mut one);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &one);
        let out = f();
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &old);
        out
    }
}

fn latencies(s: &mut Session, n: usize, tool: &str, args: Value) -> (f64, f64) {
    for _ in 0..50 {
        s.tool(tool, args.clone());
    }
    let mut v: Vec<f64> = (0..n)
        .map(|_| timed(|| s.tool(tool, args.clone())))
        .collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (v[n / 2], v[n * 99 / 100])
}

/// Keeps 64 requests in flight until `total` have been answered; returns calls per second.
fn pipelined(s: &mut Session, total: usize, tool: &str, args: Value) -> f64 {
    let params = json!({"name": tool, "arguments": args});
    let t = Instant::now();
    let (mut sent, mut done) = (0, 0);
    while sent < 64.min(total) {
        s.send("tools/call", params.clone());
        sent += 1;
    }
    s.stdin.flush().unwrap();
    while done < total {
        let line = s.read_line();
        if !line.contains("\"id\"") {
            continue;
        }
        done += 1;
        if sent < total {
            s.send("tools/call", params.clone());
            sent += 1;
        }
    }
    total as f64 / t.elapsed().as_secs_f64()
}

/// The CPU time (ns, every thread) a live process has used, from the scheduler's own count.
fn cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// Every live process below `pid` (children, their children, ...), from each process's parent
/// in /proc.
fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        if let Some(pp) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|s| s.parse::<u32>().ok())
        {
            parents.push((p, pp));
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    tree.remove(0);
    tree
}

fn rg_time(dir: &Path, pattern: &str, runs: usize) -> Option<f64> {
    Command::new("rg").arg("--version").output().ok()?;
    let v: Vec<f64> = (0..runs)
        .map(|_| {
            timed(|| {
                Command::new("rg")
                    .args(["-n", "--smart-case", pattern])
                    .arg(dir)
                    .stdout(Stdio::null())
                    .status()
                    .unwrap()
            })
        })
        .collect();
    Some(median(&v))
}

fn timed<T>(f: impl FnOnce() -> T) -> f64 {
    let t = Instant::now();
    let _ = f();
    ms(t.elapsed())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

struct Row {
    name: String,
    value: f64,
    unit: String,
    reference: Option<f64>,
    target: String,
    met: Option<bool>,
}

impl Row {
    fn ratio(name: &str, value: f64, floor: f64, unit: &str, max_ratio: f64, target: &str) -> Self {
        let r = value / floor;
        Self {
            name: name.into(),
            value,
            unit: unit.into(),
            reference: Some(floor),
            target: target.into(),
            met: max_ratio.is_finite().then_some(r <= max_ratio),
        }
    }
    fn ratio_min(
        name: &str,
        value: f64,
        floor: f64,
        unit: &str,
        min_ratio: f64,
        target: &str,
    ) -> Self {
        Self {
            name: name.into(),
            value,
            unit: unit.into(),
            reference: Some(floor),
            target: target.into(),
            met: Some(value / floor >= min_ratio),
        }
    }
    fn at_least(name: &str, value: f64, min: f64, unit: &str, target: &str) -> Self {
        Self {
            name: name.into(),
            value,
            unit: unit.into(),
            reference: None,
            target: target.into(),
            met: Some(value >= min),
        }
    }
    fn abs(name: &str, value: f64, max: f64, unit: &str, target: &str) -> Self {
        Self {
            name: name.into(),
            value,
            unit: unit.into(),
            reference: None,
            target: target.into(),
            met: Some(value <= max),
        }
    }
    fn info(name: &str, value: f64, unit: &str, note: &str) -> Self {
        Self {
            name: name.into(),
            value,
            unit: unit.into(),
            reference: None,
            target: note.into(),
            met: None,
        }
    }
    fn to_json(&self) -> Value {
        json!({"name": self.name, "value": self.value, "unit": self.unit, "reference": self.reference,
               "ratio": self.reference.map(|r| self.value / r), "target": self.target, "met": self.met})
    }
}

fn print_table(rows: &[Row]) {
    println!("| metric | switchboard | floor / reference | ratio | target | met |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for r in rows {
        let fmt = |v: f64| {
            if v >= 100.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.2}")
            }
        };
        println!(
            "| {} | {} {} | {} | {} | {} | {} |",
            r.name,
            fmt(r.value),
            r.unit,
            r.reference
                .map(|v| format!("{} {}", fmt(v), r.unit))
                .unwrap_or_else(|| "-".into()),
            r.reference
                .map(|v| format!("{:.2}x", r.value / v))
                .unwrap_or_else(|| "-".into()),
            r.target,
            match r.met {
                Some(true) => "yes",
                Some(false) => "no",
                None => "-",
            }
        );
    }
}

/// The floor: the smallest sensible rmcp stdio server (single-thread runtime, `stdio_pipes`,
/// router built once, one echo tool), as in the shared PERFORMANCE notes.
mod floor {
    use rmcp::handler::server::router::tool::ToolRouter;
    use rmcp::handler::server::wrapper::Parameters;
    use rmcp::{ServerHandler, ServiceExt, tool, tool_handler, tool_router};

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    pub struct EchoArgs {
        text: String,
    }

    #[derive(Clone)]
    pub struct Floor {
        tool_router: ToolRouter<Floor>,
    }

    #[tool_router]
    impl Floor {
        /// Echo the text back.
        #[tool]
        async fn echo(&self, Parameters(a): Parameters<EchoArgs>) -> String {
            a.text
        }
    }

    #[tool_handler(router = self.tool_router)]
    impl ServerHandler for Floor {
        fn get_info(&self) -> rmcp::model::ServerConfig {
            rmcp::model::ServerConfig::new(
                rmcp::model::ServerCapabilities::builder()
                    .enable_tools()
                    .build(),
            )
        }
    }

    pub fn serve() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let server = Floor {
                tool_router: Floor::tool_router(),
            };
            if let Ok(running) = server.serve(rmcp::transport::io::stdio_pipes()).await {
                let _ = running.waiting().await;
            }
        });
    }
}
