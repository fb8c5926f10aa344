//! The browser tools: time to the first snapshot of a realistic page with a cold browser (the
//! first browser call of a session starts Chromium) and a warm one, the snapshot's size in
//! cl100k tokens (against `fetch_url`'s Markdown of the same page, and Playwright MCP's snapshot
//! when it is installed: `scripts/bench.sh` installs it from npm when npm is there, and it
//! drives the same system Chromium), and what an unused browser toolset costs switchboard at
//! rest (nothing may start before the first browser call).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Row, Target, median, ms, switchboard_binary, timed};

/// A documentation page as sites make them: navigation, a sidebar, an article with sections,
/// a code block and a table, a search form, a footer.
fn realistic_page() -> String {
    let mut p = String::from(
        "<!doctype html><html><head><title>Configuring the build — Project docs</title></head><body>",
    );
    p.push_str("<header><nav>");
    for i in 0..12 {
        p.push_str(&format!("<a href=\"/section{i}\">Section {i}</a> "));
    }
    p.push_str("<form role=\"search\"><input type=\"search\" aria-label=\"Search docs\"><button>Search</button></form></nav></header>");
    p.push_str("<aside><ul>");
    for i in 0..40 {
        p.push_str(&format!("<li><a href=\"/page{i}\">Guide page {i}</a></li>"));
    }
    p.push_str("</ul></aside><main><article><h1>Configuring the build</h1>");
    for s in 0..8 {
        p.push_str(&format!("<h2>Step {s}: what to set</h2>"));
        for _ in 0..3 {
            p.push_str("<p>The build reads its settings from the project file. Each key has a default that suits most projects; change one when the <a href=\"/ref\">reference</a> says your case needs it, then run the build again to see the effect.</p>");
        }
    }
    p.push_str("<pre><code>[build]\ntarget = \"release\"\njobs = 4\n</code></pre><table><tr><th>Key</th><th>Default</th><th>Meaning</th></tr>");
    for r in 0..10 {
        p.push_str(&format!(
            "<tr><td>key_{r}</td><td>{r}</td><td>What key {r} changes in the build</td></tr>"
        ));
    }
    p.push_str("</table></article></main><footer>");
    for i in 0..15 {
        p.push_str(&format!("<a href=\"/about{i}\">Footer link {i}</a> "));
    }
    p.push_str("</footer></body></html>");
    p
}

/// A loopback HTTP server answering every request with `page` (robots.txt: none).
fn serve(page: String) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let page = std::sync::Arc::new(page);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let page = page.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut out = stream;
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                }
                let reply = if line.starts_with("GET /robots.txt") || line.contains("favicon") {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_owned()
                } else {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                        page.len()
                    )
                };
                let _ = out.write_all(reply.as_bytes());
            });
        }
    });
    port
}

/// The text of a tool result line.
fn text_of(line: &str) -> String {
    let v: Value = serde_json::from_str(line).unwrap();
    v["result"]["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn tokens(text: &str) -> usize {
    switchboard::support::tokens::count(text)
}

/// Playwright MCP's binary: `BENCH_PLAYWRIGHT_MCP`, or where scripts/bench.sh installs it.
fn playwright_mcp() -> Option<PathBuf> {
    let p = std::env::var_os("BENCH_PLAYWRIGHT_MCP")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/bench/playwright/node_modules/.bin/playwright-mcp")
        });
    p.is_file().then_some(p)
}

pub fn rows(rows: &mut Vec<Row>, base: &Path, quick: bool) {
    let Ok(chromium) =
        switchboard::browser::find(None, &std::env::var_os("PATH").unwrap_or_default())
    else {
        println!("browser rows skipped: no Chromium on PATH (apt install chromium)");
        return;
    };
    let port = serve(realistic_page());
    let url = format!("http://127.0.0.1:{port}/docs/build");
    let config = base.join("bench-browser.yaml");
    let root = base.join("browser-root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        &config,
        format!(
            "files:\n  roots: [\"{}\"]\nweb:\n  allow: [\"127.0.0.1:{port}\"]\n  respect_robots: false\n",
            root.display()
        ),
    )
    .unwrap();
    let target = Target::full(switchboard_binary(), &config);
    let cold_runs = if quick { 2 } else { 5 };
    let colds: Vec<f64> = (0..cold_runs)
        .map(|_| {
            let mut s = target.start();
            timed(|| s.tool("browser_navigate", json!({"url": url})))
        })
        .collect();
    rows.push(Row::info(
        "browser: first snapshot, cold (Chromium started by the call)",
        median(&colds),
        "ms",
        &format!(
            "browser_navigate to a loopback page; {}",
            chromium.display()
        ),
    ));
    let mut s = target.start();
    let first = s.tool("browser_navigate", json!({"url": url}));
    let warm_runs = if quick { 5 } else { 20 };
    let warm: Vec<f64> = (0..warm_runs)
        .map(|_| timed(|| s.tool("browser_navigate", json!({"url": url}))))
        .collect();
    rows.push(Row::info(
        "browser: navigate and snapshot, warm",
        median(&warm),
        "ms",
        "the same page again in the running browser",
    ));
    let snaps: Vec<f64> = (0..warm_runs)
        .map(|_| timed(|| s.tool("browser_snapshot", json!({}))))
        .collect();
    rows.push(Row::info(
        "browser_snapshot alone, warm",
        median(&snaps),
        "ms",
        "the accessibility tree read and rendered",
    ));
    let ours = tokens(&text_of(&s.tool("browser_snapshot", json!({}))));
    let fetched = tokens(&text_of(
        &s.tool("fetch_url", json!({"url": url, "max_length": 100000})),
    ));
    let page_tokens = tokens(&realistic_page());
    let mut note = format!(
        "every element with a ref; the page's HTML is {page_tokens}, fetch_url's Markdown of it {fetched}"
    );
    if let Some(pw) = playwright_mcp() {
        match playwright(&pw, &chromium, &url) {
            Some((cold, pw_tokens)) => {
                note.push_str(&format!("; Playwright MCP's snapshot {pw_tokens}"));
                rows.push(Row::info(
                    "Playwright MCP: first snapshot, cold",
                    cold,
                    "ms",
                    "the same page and Chromium (--executable-path, --isolated)",
                ));
            }
            None => println!("Playwright MCP did not answer; its rows are skipped"),
        }
    } else {
        println!(
            "Playwright MCP rows skipped: not installed (scripts/bench.sh installs it when npm is there)"
        );
    }
    rows.push(Row::info(
        "browser snapshot of a documentation page",
        ours as f64,
        "tokens",
        &note,
    ));
    drop(first);
    drop(s);
    // At rest, the browser toolset costs nothing: the same RSS with it offered or left out.
    let rss = |args: &[&str]| {
        let mut t = Target {
            program: switchboard_binary(),
            args: vec!["--config".into(), config.display().to_string()],
            env: Vec::new(),
        };
        t.args.extend(args.iter().map(|a| a.to_string()));
        let runs: Vec<f64> = (0..if quick { 2 } else { 5 })
            .map(|_| {
                let mut s = t.start();
                s.call_raw("tools/list", json!({}));
                std::thread::sleep(Duration::from_millis(300));
                s.rss_kib() as f64 / 1024.0
            })
            .collect();
        median(&runs)
    };
    let with = rss(&[]);
    let without = rss(&[
        "--toolsets",
        "files,exec,web,system,database,memory,ai,comms,declarative,proxy",
    ]);
    rows.push(Row::abs(
        "idle RSS with the browser toolset offered, unused",
        with,
        without + 0.5,
        "MiB",
        &format!("≤ without it + 0.5 MiB ({without:.1} MiB): nothing starts before the first browser call"),
    ));
}

/// Playwright MCP on the same page: the time from its spawn to the first snapshot, and the
/// snapshot's tokens.
fn playwright(bin: &Path, chromium: &Path, url: &str) -> Option<(f64, usize)> {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().ok()?;
    let t = Instant::now();
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--isolated",
            "--no-sandbox",
            "--executable-path",
        ])
        .arg(chromium)
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let mut out = BufReader::new(child.stdout.take()?);
    let mut ask = |id: u64, method: &str, params: Value| -> Option<String> {
        writeln!(
            stdin,
            "{}",
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
        )
        .ok()?;
        loop {
            let mut line = String::new();
            if out.read_line(&mut line).ok()? == 0 {
                return None;
            }
            if line.contains(&format!("\"id\":{id}")) {
                return Some(line);
            }
        }
    };
    ask(
        1,
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}),
    )?;
    ask(
        2,
        "tools/call",
        json!({"name": "browser_navigate", "arguments": {"url": url}}),
    )?;
    let snap = ask(
        3,
        "tools/call",
        json!({"name": "browser_snapshot", "arguments": {}}),
    )?;
    let cold = ms(t.elapsed());
    let _ = child.kill();
    let _ = child.wait();
    Some((cold, tokens(&text_of(&snap))))
}
