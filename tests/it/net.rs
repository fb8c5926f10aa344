//! The network guard against real HTTP servers on loopback that count every request they get:
//! the SSRF battery (refused before any byte is sent), redirects checked hop by hop, timeouts,
//! body caps and credentials that never follow a redirect to another host.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use switchboard::policy::net::{AllowEntry, NetError, NetGuard, NetRefusal, NetRules, NetSettings};
use tokio::io::AsyncWriteExt;

/// A tiny HTTP/1.1 server on 127.0.0.1 that counts requests. Paths: `/` (hello),
/// `/redirect?to=URL`, `/chain/N` (N redirects), `/slow` (3 s), `/big` (2 MiB with a length),
/// `/stream` (2 MiB without one), `/headers` (echoes the request head), `/echo` (head and body),
/// `/json` (a JSON 404), `/bytes` (binary), `/bomb` (4 MiB gzipped to a few KiB), and the pages
/// of the fetch_url tests (`/guide`, `/robots.txt`, `/private/…`, `/image.png`, …).
pub(crate) struct Server {
    pub(crate) port: u16,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    pub(crate) async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let counter = counter.clone();
                tokio::spawn(async move {
                    // The body is what `/echo` sends back.
                    let Some((head, body)) = crate::harness::read_http_request(&mut sock).await
                    else {
                        return;
                    };
                    counter.fetch_add(1, Ordering::SeqCst);
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    let reply = |status: &str, extra: &str, body: &[u8]| {
                        let mut r = format!(
                            "HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: {}\r\n{extra}\r\n",
                            body.len()
                        )
                        .into_bytes();
                        r.extend_from_slice(body);
                        r
                    };
                    let out = if let Some(to) = path.strip_prefix("/redirect?to=") {
                        let to = percent_decode(to);
                        reply("302 Found", &format!("Location: {to}\r\n"), b"")
                    } else if let Some(n) = path.strip_prefix("/chain/") {
                        let n: u32 = n.parse().unwrap_or(0);
                        if n == 0 {
                            reply("200 OK", "", b"end of chain")
                        } else {
                            reply("302 Found", &format!("Location: /chain/{}\r\n", n - 1), b"")
                        }
                    } else if path == "/slow" {
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        reply("200 OK", "", b"late")
                    } else if path == "/big" {
                        reply("200 OK", "", &vec![b'x'; 2 << 20])
                    } else if path == "/stream" {
                        let _ = sock
                            .write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
                            .await;
                        for _ in 0..32 {
                            if sock.write_all(&[b'y'; 64 * 1024]).await.is_err() {
                                return;
                            }
                        }
                        return;
                    } else if path == "/headers" {
                        reply("200 OK", "", head.to_ascii_lowercase().as_bytes())
                    } else if path.starts_with("/echo") {
                        let mut all = head.to_ascii_lowercase().into_bytes();
                        all.extend_from_slice(&body);
                        reply("200 OK", "", &all)
                    } else if path.starts_with("/search?") {
                        // SearXNG's JSON API.
                        let body = format!(
                            r#"{{"query":"{}","results":[{{"title":"<strong>Rust</strong> &amp; tokio","url":"https://tokio.rs/","content":"An async runtime"}},{{"title":"Second","url":"https://example.org/2","content":"two"}},{{"title":"no url"}}]}}"#,
                            path.contains("q=rust")
                        );
                        reply(
                            "200 OK",
                            "Content-Type: application/json\r\n",
                            body.as_bytes(),
                        )
                    } else if path.starts_with("/broken/") {
                        reply("500 Internal Server Error", "", b"down")
                    } else if path.starts_with("/res/v1/web/search?") {
                        // The Brave Search API, which wants its key.
                        if head
                            .to_ascii_lowercase()
                            .contains("x-subscription-token: brave-key")
                        {
                            reply(
                                "200 OK",
                                "Content-Type: application/json\r\n",
                                br#"{"type":"search","web":{"results":[{"title":"Brave hit","url":"https://brave.example/1","description":"from <strong>brave</strong>"}]}}"#,
                            )
                        } else {
                            reply("401 Unauthorized", "", b"no key")
                        }
                    } else if path == "/json" {
                        reply(
                            "404 Not Found",
                            "Content-Type: application/json\r\n",
                            br#"{"error":"nothing here","code":404}"#,
                        )
                    } else if path == "/guide" {
                        reply(
                            "200 OK",
                            "Content-Type: text/html; charset=utf-8\r\n",
                            guide_page().as_bytes(),
                        )
                    } else if path == "/robots.txt" {
                        reply(
                            "200 OK",
                            "Content-Type: text/plain\r\n",
                            b"User-agent: *\nDisallow: /private\n",
                        )
                    } else if path.starts_with("/private") {
                        reply(
                            "200 OK",
                            "Content-Type: text/html\r\n",
                            b"<title>Members</title><main><p>For members only, a long enough paragraph.</p></main>",
                        )
                    } else if path == "/image.png" {
                        reply("200 OK", "Content-Type: image/png\r\n", PNG)
                    } else if path == "/data.json" {
                        reply(
                            "200 OK",
                            "Content-Type: application/json\r\n",
                            br#"{"name":"switchboard","tags":["a","b"]}"#,
                        )
                    } else if path == "/gzip" {
                        reply(
                            "200 OK",
                            "Content-Type: text/plain\r\nContent-Encoding: gzip\r\n",
                            GZIP_HELLO,
                        )
                    } else if path == "/bomb" {
                        // 4 MiB of zeros, gzipped to a few KiB.
                        use std::io::Write;
                        let mut gz =
                            flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                        gz.write_all(&vec![0u8; 4 << 20]).unwrap();
                        reply(
                            "200 OK",
                            "Content-Type: text/plain\r\nContent-Encoding: gzip\r\n",
                            &gz.finish().unwrap(),
                        )
                    } else if path == "/latin1" {
                        reply(
                            "200 OK",
                            "Content-Type: text/html; charset=iso-8859-1\r\n",
                            b"<html><body><main><p>Caf\xe9 cr\xe8me, served with a long enough paragraph.</p></main></body></html>",
                        )
                    } else if path == "/missing" {
                        reply(
                            "404 Not Found",
                            "Content-Type: text/html\r\n",
                            b"<html><body><h1>Not found</h1><p>No page here.</p></body></html>",
                        )
                    } else if path.starts_with("/html/?q=") {
                        // DuckDuckGo's HTML results page.
                        reply(
                            "200 OK",
                            "Content-Type: text/html; charset=utf-8\r\n",
                            DDG_PAGE.as_bytes(),
                        )
                    } else if path == "/bytes" {
                        reply(
                            "200 OK",
                            "Content-Type: application/octet-stream\r\n",
                            &[0, 159, 146, 150],
                        )
                    } else {
                        reply("200 OK", "Content-Type: text/plain\r\n", b"hello")
                    };
                    let _ = sock.write_all(&out).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Self { port, hits, task }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// A documentation page like those on the web: site header, menus, a sidebar with an ad, a
/// cookie banner, share buttons, related posts, comments and a footer around an article of
/// twelve sections (about 20,000 characters of Markdown: three windows of 8000).
fn guide_page() -> String {
    let section = include_str!("../fixtures/article-section.html");
    let sections: String = (1..=12)
        .map(|n| section.replace("{{n}}", &n.to_string()))
        .collect();
    include_str!("../fixtures/article.html").replace("{{sections}}", &sections)
}

/// A 1×1 grey PNG.
const PNG: &[u8] = &[
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0,
    0, 0, 58, 126, 155, 85, 0, 0, 0, 10, 73, 68, 65, 84, 120, 156, 99, 96, 0, 0, 0, 2, 0, 1, 72,
    175, 164, 113, 0, 0, 0, 0, 73, 69, 78, 68, 174, 66, 96, 130,
];

/// "compressed hello " fifty times, gzipped.
const GZIP_HELLO: &[u8] = &[
    31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 75, 206, 207, 45, 40, 74, 45, 46, 78, 77, 81, 200, 72, 205,
    201, 201, 87, 72, 30, 21, 24, 21, 24, 21, 32, 95, 0, 0, 64, 202, 229, 236, 82, 3, 0, 0,
];

/// DuckDuckGo's HTML results markup: an ad, then two results whose links go through its
/// redirect with the real URL in `uddg`.
const DDG_PAGE: &str = r#"<!DOCTYPE html><html><head><title>rust at DuckDuckGo</title></head><body>
<div class="serp__results"><div id="links" class="results">
<div class="result results_links results_links_deep result--ad"><div class="links_main links_deep result__body">
<h2 class="result__title"><a rel="nofollow" class="result__a" href="https://duckduckgo.com/y.js?ad_domain=ads.example">Sponsored thing</a></h2>
<a class="result__snippet" href="https://duckduckgo.com/y.js">Buy now</a></div></div>
<div class="result results_links results_links_deep web-result "><div class="links_main links_deep result__body">
<h2 class="result__title"><a rel="nofollow" class="result__a" href="//duckduckgo.com/l/?uddg=https%3A%2F%2Fwww.rust%2Dlang.org%2F&amp;rut=1f2e">Rust Programming <b>Language</b></a></h2>
<div class="result__extras"><div class="result__extras__url"><a class="result__url" href="//duckduckgo.com/l/?uddg=https%3A%2F%2Fwww.rust%2Dlang.org%2F">www.rust-lang.org</a></div></div>
<a class="result__snippet" href="//duckduckgo.com/l/?uddg=https%3A%2F%2Fwww.rust%2Dlang.org%2F">A language empowering everyone to build <b>reliable</b> &amp; efficient software.</a>
</div></div>
<div class="result results_links results_links_deep web-result "><div class="links_main links_deep result__body">
<h2 class="result__title"><a rel="nofollow" class="result__a" href="//duckduckgo.com/l/?uddg=https%3A%2F%2Fdoc.rust%2Dlang.org%2Fbook%2F&amp;rut=9a8b">The Rust Programming Language - The Rust Book</a></h2>
<a class="result__snippet" href="//duckduckgo.com/l/?uddg=https%3A%2F%2Fdoc.rust%2Dlang.org%2Fbook%2F">by Steve Klabnik and Carol Nichols.</a>
</div></div></div></div></body></html>"#;

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn guard(allow: &[String]) -> NetGuard {
    NetGuard::new(NetSettings {
        rules: NetRules {
            allow: allow
                .iter()
                .map(|a| AllowEntry::parse(a).unwrap())
                .collect(),
            deny: vec![],
        },
        max_body_bytes: 1 << 20,
        timeout: Duration::from_secs(1),
        ..NetSettings::default()
    })
    .unwrap()
}

async fn get(g: &NetGuard, url: &str) -> Result<switchboard::policy::net::Fetched, NetError> {
    g.send(Method::GET, url, HeaderMap::new(), None, None).await
}

/// Every notation of the test server's own address, and a name that resolves to it.
fn battery(port: u16) -> Vec<String> {
    [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "2130706433",
        "0177.0.0.1",
        "0x7f.1",
        "127.1",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[64:ff9b::7f00:1]",
        "0.0.0.0",
    ]
    .iter()
    .map(|h| format!("http://{h}:{port}/"))
    .chain(["http://169.254.169.254/latest/meta-data/".to_owned()])
    .collect()
}

#[tokio::test]
async fn ssrf_battery_is_refused_before_any_byte_is_sent() {
    let target = Server::start().await;
    let g = guard(&[]);
    for url in battery(target.port) {
        let err = get(&g, &url).await.unwrap_err();
        assert!(
            matches!(err, NetError::Refused(NetRefusal::Private { .. })),
            "{url}: {err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("web.allow"),
            "{url}: the config key is named: {msg}"
        );
    }
    assert_eq!(target.hits(), 0, "no request reached the server");

    // Allowed on its own port: the same server answers.
    let g = guard(&[format!("127.0.0.1:{}", target.port)]);
    let ok = get(&g, &format!("http://127.0.0.1:{}/", target.port))
        .await
        .unwrap();
    assert_eq!((ok.status, ok.body.as_slice()), (200, &b"hello"[..]));
    assert_eq!(target.hits(), 1);
}

#[tokio::test]
async fn redirects_are_checked_hop_by_hop() {
    let allowed = Server::start().await;
    let victim = Server::start().await;
    let g = guard(&[format!("127.0.0.1:{}", allowed.port)]);
    for url in battery(victim.port) {
        let hop = format!(
            "http://127.0.0.1:{}/redirect?to={}",
            allowed.port,
            encode(&url)
        );
        let err = get(&g, &hop).await.unwrap_err();
        assert!(matches!(err, NetError::Refused(_)), "{url}: {err:?}");
    }
    assert_eq!(victim.hits(), 0, "no redirect reached the other server");
    assert_eq!(allowed.hits(), battery(victim.port).len());

    // A redirect to another scheme is refused too.
    let err = get(
        &g,
        &format!(
            "http://127.0.0.1:{}/redirect?to={}",
            allowed.port,
            encode("file:///etc/passwd")
        ),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, NetError::Refused(NetRefusal::Scheme { .. })),
        "{err:?}"
    );

    // Chains are followed up to 10 hops.
    let ok = get(&g, &format!("http://127.0.0.1:{}/chain/3", allowed.port))
        .await
        .unwrap();
    assert_eq!(ok.body, b"end of chain");
    assert_eq!(ok.redirects.len(), 3);
    assert!(ok.final_url.path().ends_with("/chain/0"));
    let err = get(&g, &format!("http://127.0.0.1:{}/chain/11", allowed.port))
        .await
        .unwrap_err();
    assert!(matches!(err, NetError::TooManyRedirects { .. }), "{err:?}");
}

#[tokio::test]
async fn timeouts_and_body_caps_hold() {
    let s = Server::start().await;
    let g = guard(&[format!("127.0.0.1:{}", s.port)]);
    let err = get(&g, &format!("http://127.0.0.1:{}/slow", s.port))
        .await
        .unwrap_err();
    assert!(matches!(err, NetError::Timeout { .. }), "{err:?}");
    for path in ["big", "stream", "bomb"] {
        let err = get(&g, &format!("http://127.0.0.1:{}/{path}", s.port))
            .await
            .unwrap_err();
        assert!(matches!(err, NetError::TooLarge { .. }), "{path}: {err:?}");
        assert!(err.to_string().contains("web.max_body_bytes"));
    }
}

#[tokio::test]
async fn credentials_do_not_follow_a_redirect_to_another_host() {
    let a = Server::start().await;
    let b = Server::start().await;
    let g = guard(&[
        format!("127.0.0.1:{}", a.port),
        format!("localhost:{}", b.port),
    ]);
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer s3cret"));
    let same = g
        .send(
            Method::GET,
            &format!(
                "http://127.0.0.1:{}/redirect?to={}",
                a.port,
                encode(&format!("http://127.0.0.1:{}/headers", a.port))
            ),
            headers.clone(),
            None,
            None,
        )
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&same.body).contains("bearer s3cret"));
    let other = g
        .send(
            Method::GET,
            &format!(
                "http://127.0.0.1:{}/redirect?to={}",
                a.port,
                encode(&format!("http://localhost:{}/headers", b.port))
            ),
            headers,
            None,
            None,
        )
        .await
        .unwrap();
    let echoed = String::from_utf8_lossy(&other.body);
    assert!(echoed.contains("get /headers"), "{echoed}");
    assert!(!echoed.contains("s3cret"), "{echoed}");
}

/// The `http_request` tool end to end: through an MCP session, the configured allow list and a
/// named credential.
#[tokio::test]
async fn http_request_tool_sends_and_reads_through_the_guard() {
    use crate::harness::{Project, session};
    let a = Server::start().await;
    let b = Server::start().await;
    let p = Project::new();
    let mut settings = p.settings();
    settings.web.net.rules.allow = vec![
        AllowEntry::parse(&format!("127.0.0.1:{}", a.port)).unwrap(),
        AllowEntry::parse(&format!("localhost:{}", b.port)).unwrap(),
    ];
    let mut key = HeaderValue::from_static("k3y-secret");
    key.set_sensitive(true);
    settings.web.credentials.insert(
        "api".into(),
        switchboard::config::Credential {
            header: reqwest::header::HeaderName::from_static("x-api-key"),
            value: key,
            hosts: vec!["127.0.0.1".into()],
        },
    );
    let s = session(settings).await;
    let base = format!("http://127.0.0.1:{}", a.port);

    let out = s
        .ok(
            "http_request",
            serde_json::json!({"url": format!("{base}/")}),
        )
        .await;
    assert_eq!(out["status"], 200);
    assert_eq!(out["text"], "hello");
    assert_eq!(out["headers"]["content-type"], "text/plain");

    let out = s
        .ok(
            "http_request",
            serde_json::json!({"url": format!("{base}/echo"), "method": "POST",
                "query": {"q": "x y"}, "json": {"a": 1}}),
        )
        .await;
    let echoed = out["text"].as_str().unwrap();
    assert!(echoed.starts_with("post /echo?q=x+y "), "{echoed}");
    assert!(
        echoed.contains("content-type: application/json"),
        "{echoed}"
    );
    assert!(echoed.ends_with(r#"{"a":1}"#), "{echoed}");

    // A long body comes back a window at a time.
    let out = s
        .ok(
            "http_request",
            serde_json::json!({"url": format!("{base}/big")}),
        )
        .await;
    assert_eq!(
        (out["bytes"].as_u64(), out["next_start_index"].as_u64()),
        (Some(2 << 20), Some(20_000))
    );
    assert_eq!(out["text"].as_str().unwrap().len(), 20_000);
    let out = s
        .ok(
            "http_request",
            serde_json::json!({"url": format!("{base}/big"), "start_index": (2 << 20) - 12, "max_length": 100}),
        )
        .await;
    assert_eq!(out["text"], "x".repeat(12));
    assert!(out.get("next_start_index").is_none(), "{out}");

    // A JSON error status is a normal result, parsed; binary comes back as base64.
    let out = s
        .ok(
            "http_request",
            serde_json::json!({"url": format!("{base}/json")}),
        )
        .await;
    assert_eq!(
        (out["status"].as_u64(), &out["json"]["code"]),
        (Some(404), &serde_json::json!(404))
    );
    let out = s
        .ok(
            "http_request",
            serde_json::json!({"url": format!("{base}/bytes")}),
        )
        .await;
    assert_eq!(out["base64"], "AJ+Slg==");

    // The credential goes to its host only, never through the model.
    let out = s
        .ok(
            "http_request",
            serde_json::json!({"url": format!("{base}/headers"), "credential": "api"}),
        )
        .await;
    assert!(
        out["text"]
            .as_str()
            .unwrap()
            .contains("x-api-key: k3y-secret")
    );
    let hop = format!(
        "{base}/redirect?to={}",
        encode(&format!("http://localhost:{}/headers", b.port))
    );
    let out = s
        .ok(
            "http_request",
            serde_json::json!({"url": hop, "credential": "api"}),
        )
        .await;
    let echoed = out["text"].as_str().unwrap();
    assert!(
        echoed.contains("get /headers") && !echoed.contains("k3y"),
        "{echoed}"
    );
    let err = s
        .err(
            "http_request",
            serde_json::json!({"url": format!("http://localhost:{}/headers", b.port), "credential": "api"}),
        )
        .await;
    assert!(err.contains("web.credentials.api.hosts"), "{err}");
    let err = s
        .err(
            "http_request",
            serde_json::json!({"url": format!("{base}/"), "credential": "nope"}),
        )
        .await;
    assert!(
        err.contains("no credential `nope`") && err.contains("api"),
        "{err}"
    );

    // Refusals name the rule and the key; nothing reaches a server.
    let before = b.hits();
    let err = s
        .err(
            "http_request",
            serde_json::json!({"url": format!("http://[::1]:{}/", b.port)}),
        )
        .await;
    assert!(
        err.contains("loopback") && err.contains("web.allow"),
        "{err}"
    );
    assert_eq!(b.hits(), before);
}

/// `download_file`: streamed into the roots whole or not at all, hashed, capped, never over an
/// existing file unless asked, never outside the roots, nothing saved on a refusal.
#[tokio::test]
async fn download_file_saves_whole_files_inside_the_roots() {
    use crate::harness::{Project, session};
    let srv = Server::start().await;
    let p = Project::new();
    let mut settings = p.settings();
    settings.web.net.rules.allow =
        vec![AllowEntry::parse(&format!("127.0.0.1:{}", srv.port)).unwrap()];
    settings.web.max_download_bytes = 1 << 20;
    let s = session(settings).await;
    let base = format!("http://127.0.0.1:{}", srv.port);

    let out = s
        .ok(
            "download_file",
            serde_json::json!({"url": format!("{base}/"), "path": "dl/hello.txt", "create_parents": true}),
        )
        .await;
    assert_eq!(p.read("dl/hello.txt"), "hello");
    assert_eq!(out["bytes"], 5);
    assert_eq!(
        out["sha256"],
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    assert_eq!(out["mime"], "text/plain");
    assert_eq!(out["created"], true);

    let err = s
        .err(
            "download_file",
            serde_json::json!({"url": format!("{base}/bytes"), "path": "dl/hello.txt"}),
        )
        .await;
    assert!(err.contains("overwrite: true"), "{err}");
    let out = s
        .ok(
            "download_file",
            serde_json::json!({"url": format!("{base}/bytes"), "path": "dl/hello.txt", "overwrite": true}),
        )
        .await;
    assert_eq!(
        std::fs::read(p.root.join("dl/hello.txt")).unwrap(),
        [0, 159, 146, 150]
    );
    assert_eq!(out["mime"], "application/octet-stream");
    assert_eq!(out["created"], false);

    // Over the cap, an error status or a refused address: nothing saved, no temporary file.
    for (url, needle) in [
        (format!("{base}/big"), "web.max_download_bytes"),
        (format!("{base}/stream"), "web.max_download_bytes"),
        (format!("{base}/json"), "HTTP 404"),
        ("http://[::1]:9/".to_owned(), "web.allow"),
    ] {
        let err = s
            .err(
                "download_file",
                serde_json::json!({"url": url, "path": "dl/new.bin"}),
            )
            .await;
        assert!(err.contains(needle), "{url}: {err}");
    }
    let left: Vec<_> = std::fs::read_dir(p.root.join("dl"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["hello.txt"], "nothing else was left behind");

    // Outside the roots: refused before any request.
    let before = srv.hits();
    let outside = p.outside.join("x.txt");
    let err = s
        .err(
            "download_file",
            serde_json::json!({"url": format!("{base}/"), "path": outside.display().to_string()}),
        )
        .await;
    assert!(err.contains("outside"), "{err}");
    assert_eq!(srv.hits(), before);
    assert!(!outside.exists());
}

/// `web_search` against servers answering in each provider's documented format: SearXNG's JSON
/// API and the Brave Search API (whose key goes only to its own host), with fallback.
#[tokio::test]
async fn web_search_reads_each_provider_and_falls_back() {
    use crate::harness::{Project, session};
    use switchboard::config::{Credential, SearchProvider};
    let srv = Server::start().await;
    let p = Project::new();
    let base = format!("http://127.0.0.1:{}", srv.port);
    let mut settings = p.settings();
    let s = session(settings.clone()).await;
    let err = s
        .err("web_search", serde_json::json!({"query": "rust"}))
        .await;
    assert!(err.contains("web.search.providers"), "{err}");
    drop(s);

    settings.web.net.rules.allow =
        vec![AllowEntry::parse(&format!("127.0.0.1:{}", srv.port)).unwrap()];
    let mut key = HeaderValue::from_static("brave-key");
    key.set_sensitive(true);
    settings.web.search = vec![
        SearchProvider::Searxng {
            url: url::Url::parse(&format!("{base}/broken/")).unwrap(),
        },
        SearchProvider::Brave {
            url: url::Url::parse(&format!("{base}/res/v1/web/search")).unwrap(),
            key: Credential {
                header: reqwest::header::HeaderName::from_static("x-subscription-token"),
                value: key,
                hosts: vec!["127.0.0.1".into()],
            },
        },
    ];
    let s = session(settings.clone()).await;
    let out = s
        .ok("web_search", serde_json::json!({"query": "rust"}))
        .await;
    assert_eq!(out["provider"], "brave", "{out}");
    assert_eq!(out["results"][0]["title"], "Brave hit");
    assert_eq!(out["results"][0]["snippet"], "from brave");
    assert!(
        out["skipped"][0].as_str().unwrap().contains("HTTP 500"),
        "{out}"
    );
    drop(s);

    settings.web.search = vec![SearchProvider::Searxng {
        url: url::Url::parse(&format!("{base}/")).unwrap(),
    }];
    let s = session(settings).await;
    let out = s
        .ok(
            "web_search",
            serde_json::json!({"query": "rust", "max_results": 1}),
        )
        .await;
    assert_eq!(out["provider"], "searxng");
    assert_eq!(
        out["results"],
        serde_json::json!([{"title": "Rust & tokio", "url": "https://tokio.rs/", "snippet": "An async runtime"}])
    );
}

#[tokio::test]
async fn fetch_url_reads_pages_as_markdown_and_pages_through_the_cache() {
    use crate::harness::{Project, session};
    let srv = Server::start().await;
    let p = Project::new();
    let mut settings = p.settings();
    settings.web.net.rules.allow =
        vec![AllowEntry::parse(&format!("127.0.0.1:{}", srv.port)).unwrap()];
    let s = session(settings).await;
    let base = format!("http://127.0.0.1:{}", srv.port);
    let url = format!("{base}/guide");

    // Three windows of the realistic page; the server is asked once for robots.txt and once
    // for the page, however many windows are read.
    let mut pages = Vec::new();
    let mut start = 0;
    loop {
        let text = s
            .ok_text(
                "fetch_url",
                serde_json::json!({"url": url, "start_index": start}),
            )
            .await;
        pages.push(text.clone());
        let Some(at) = text.find("start_index=") else {
            break;
        };
        let tail = &text[at + "start_index=".len()..];
        start = tail[..tail.find('.').unwrap()].parse().unwrap();
        assert!(
            text.contains(&format!(
                "Continue with fetch_url url=\"{url}\" start_index={start}."
            )),
            "{text}"
        );
    }
    assert_eq!(pages.len(), 3, "three windows of 8000 characters");
    assert_eq!(srv.hits(), 2, "robots.txt and the page, each fetched once");
    let first = &pages[0];
    assert!(
        first.starts_with(&format!(
            "URL: {url}\nStatus: 200 · text/html · Title: Understanding HTTP Caching – The Field Guide\nCharacters 0–"
        )),
        "{first}"
    );
    assert!(
        first.contains("\n\n# Understanding HTTP Caching\n\nBy Ada Example"),
        "{first}"
    );
    assert!(
        first.contains("\n\n## Part 1: Freshness and validation\n\n"),
        "{first}"
    );
    assert!(
        first.contains(
            "- Serve HTML with `no-cache` so that users always see the latest version.\n  - Pair it"
        ),
        "{first}"
    );
    assert!(first.contains("```http\nHTTP/1.1 200 OK\n"), "{first}");
    assert!(
        first.contains("![Diagram of a request passing through browser and CDN caches]("),
        "{first}"
    );
    let all = pages.concat();
    assert!(
        all.contains("| `no-store` | Never store | Banking, personal data |"),
        "the table"
    );
    assert!(
        all.contains("[RFC 9111](https://www.rfc-editor.org/rfc/rfc9111)"),
        "links"
    );
    assert!(all.contains("## Part 12: Freshness"), "the last section");
    for chrome in [
        "cookies",
        "Skip to content",
        "Reference",
        "In this series",
        "Advertisement",
        "Share",
        "Related posts",
        "Great article",
        "Subscribe",
        "All rights reserved",
        "dataLayer",
        "color: #333",
        "Search the guide",
        "Tags:",
    ] {
        assert!(
            !all.contains(chrome),
            "`{chrome}` is page chrome and was left out"
        );
    }
    // Windows meet exactly: the body of window 2 starts where window 1 stopped.
    let body = |t: &str| t.split_once("\n\n").unwrap().1.to_owned();
    let joined: String = pages
        .iter()
        .map(|t| {
            let b = body(t);
            match b.rfind("\n\n[Cut at character") {
                Some(i) => b[..i].to_owned(),
                None => b,
            }
        })
        .collect();
    let raw = s
        .ok_text(
            "fetch_url",
            serde_json::json!({"url": url, "max_length": 1000000}),
        )
        .await;
    assert_eq!(joined, body(&raw), "paging loses and repeats nothing");

    // raw: the HTML source.
    let text = s
        .ok_text(
            "fetch_url",
            serde_json::json!({"url": url, "raw": true, "max_length": 300}),
        )
        .await;
    assert!(text.contains("\n\n<!DOCTYPE html>"), "{text}");

    // JSON pretty-printed, an image as image content, gzip decoded, a declared charset.
    let text = s
        .ok_text(
            "fetch_url",
            serde_json::json!({"url": format!("{base}/data.json")}),
        )
        .await;
    assert!(
        text.ends_with(
            "{\n  \"name\": \"switchboard\",\n  \"tags\": [\n    \"a\",\n    \"b\"\n  ]\n}"
        ),
        "{text}"
    );
    let r = s
        .call(
            "fetch_url",
            serde_json::json!({"url": format!("{base}/image.png")}),
        )
        .await;
    assert_ne!(r.is_error, Some(true));
    let image = r
        .content
        .iter()
        .find_map(|c| c.as_image())
        .expect("image content");
    assert_eq!(image.mime_type, "image/png");
    use base64::Engine;
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(&image.data)
            .unwrap(),
        PNG
    );
    let text = s
        .ok_text(
            "fetch_url",
            serde_json::json!({"url": format!("{base}/gzip")}),
        )
        .await;
    assert!(text.ends_with(&"compressed hello ".repeat(50)), "{text}");
    let text = s
        .ok_text(
            "fetch_url",
            serde_json::json!({"url": format!("{base}/latin1")}),
        )
        .await;
    assert!(text.contains("Café crème"), "{text}");

    // Errors the model can act on: a 404, robots.txt, a private address, a page past its end.
    let err = s
        .err(
            "fetch_url",
            serde_json::json!({"url": format!("{base}/missing")}),
        )
        .await;
    assert!(
        err.contains("answered HTTP 404") && err.contains("No page here"),
        "{err}"
    );
    let before = srv.hits();
    let err = s
        .err(
            "fetch_url",
            serde_json::json!({"url": format!("{base}/private/area")}),
        )
        .await;
    assert!(
        err.contains("Disallow: /private") && err.contains("web.respect_robots"),
        "{err}"
    );
    assert_eq!(
        srv.hits(),
        before,
        "robots.txt came from the cache; the page was not asked for"
    );
    let err = s
        .err(
            "fetch_url",
            serde_json::json!({"url": format!("http://127.0.0.1:{}/", srv.port + 1)}),
        )
        .await;
    assert!(err.contains("web.allow"), "{err}");
    let err = s
        .err(
            "fetch_url",
            serde_json::json!({"url": url, "start_index": 10000000}),
        )
        .await;
    assert!(err.contains("past the end"), "{err}");

    // The fetch prompt is the user's request: robots.txt does not apply.
    let got = s
        .client
        .get_prompt(
            rmcp::model::GetPromptRequestParams::new("fetch").with_arguments(
                serde_json::json!({"url": format!("{base}/private/area")})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await
        .unwrap();
    let texts: Vec<String> = got
        .messages
        .iter()
        .filter_map(|m| m.content.as_text().map(|t| t.text.clone()))
        .collect();
    assert!(
        texts[0].starts_with(&format!("I fetched {base}/private/area")),
        "{texts:?}"
    );
    assert!(
        texts[1].contains("Title: Members") && texts[1].contains("For members only"),
        "{texts:?}"
    );
}

#[tokio::test]
async fn every_ssrf_notation_is_refused_by_fetch_url_too() {
    use crate::harness::{Project, session};
    let srv = Server::start().await;
    let p = Project::new();
    let s = session(p.settings()).await;
    for url in battery(srv.port) {
        let err = s.err("fetch_url", serde_json::json!({"url": url})).await;
        assert!(err.contains("web.allow"), "{url}: {err}");
    }
    assert_eq!(srv.hits(), 0, "not even robots.txt was asked for");
}

#[tokio::test]
async fn web_search_reads_duckduckgo_html() {
    use crate::harness::{Project, session};
    use switchboard::config::SearchProvider;
    let srv = Server::start().await;
    let p = Project::new();
    let mut settings = p.settings();
    settings.web.net.rules.allow =
        vec![AllowEntry::parse(&format!("127.0.0.1:{}", srv.port)).unwrap()];
    settings.web.search = vec![SearchProvider::DuckDuckGo {
        url: url::Url::parse(&format!("http://127.0.0.1:{}/html/", srv.port)).unwrap(),
    }];
    let s = session(settings).await;
    let out = s
        .ok("web_search", serde_json::json!({"query": "rust"}))
        .await;
    assert_eq!(out["provider"], "duckduckgo");
    assert_eq!(
        out["results"],
        serde_json::json!([
            {"title": "Rust Programming Language", "url": "https://www.rust-lang.org/",
             "snippet": "A language empowering everyone to build reliable & efficient software."},
            {"title": "The Rust Programming Language - The Rust Book", "url": "https://doc.rust-lang.org/book/",
             "snippet": "by Steve Klabnik and Carol Nichols."}
        ])
    );
}

/// Through the real binary: headers the client owns are refused, credentials (the call's own
/// and a named one) stay on their origin (a redirect to another port of the same host drops
/// them), a request body has a cap, and every refusal carries its stable reason code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_keep_framing_credentials_and_size_to_the_client() {
    use crate::harness::{Proc, Project};
    let a = Server::start().await;
    let b = Server::start().await;
    let p = Project::new();
    let cfg = p.base.join("config.yaml");
    std::fs::write(
        &cfg,
        format!(
            "web:\n  allow: [\"127.0.0.1:{a}\", \"127.0.0.1:{b}\"]\n  max_request_bytes: 100000\n  credentials:\n    api:\n      header: X-Api-Key\n      value: env:SB_TEST_KEY\n      hosts: [\"127.0.0.1\"]\n",
            a = a.port,
            b = b.port
        ),
    )
    .unwrap();
    let (a_port, b_port) = (a.port, b.port);
    let results = tokio::task::spawn_blocking(move || {
        let mut proc = Proc::spawn_env(
            &["--config", cfg.to_str().unwrap()],
            &[("SB_TEST_KEY", "named-s3cret")],
        );
        proc.initialize();
        let mut call = |id: i64, args: serde_json::Value| {
            proc.request(
                id,
                "tools/call",
                serde_json::json!({"name": "http_request", "arguments": args}),
            )
        };
        let mut out = Vec::new();
        for (i, header) in ["Host", "Transfer-Encoding", "Connection", "Proxy-Authorization"]
            .iter()
            .enumerate()
        {
            out.push(call(
                10 + i as i64,
                serde_json::json!({"url": format!("http://127.0.0.1:{a_port}/headers"), "headers": {*header: "x"}}),
            ));
        }
        let hop = format!("http://127.0.0.1:{b_port}/headers");
        out.push(call(
            20,
            serde_json::json!({
                "url": format!("http://127.0.0.1:{a_port}/redirect?to={}", encode(&hop)),
                "headers": {"Authorization": "Bearer call-s3cret", "Cookie": "session=cookie-s3cret"},
                "credential": "api",
            }),
        ));
        out.push(call(
            21,
            serde_json::json!({
                "url": format!("http://127.0.0.1:{a_port}/headers"),
                "headers": {"Authorization": "Bearer call-s3cret"},
                "credential": "api",
            }),
        ));
        out.push(call(
            30,
            serde_json::json!({"url": format!("http://127.0.0.1:{a_port}/echo"), "method": "POST", "body": "x".repeat(200_000)}),
        ));
        out
    })
    .await
    .unwrap();
    let reason = |r: &serde_json::Value| r["result"]["_meta"]["switchboard/reason"].clone();
    for r in &results[..4] {
        assert_eq!(r["result"]["isError"], true, "{r}");
        assert_eq!(reason(r), "header_refused", "{r}");
    }
    let moved = results[4]["result"]["structuredContent"]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", results[4]));
    assert!(moved.contains("get /headers"), "{moved}");
    for secret in ["call-s3cret", "cookie-s3cret", "named-s3cret"] {
        assert!(
            !moved.contains(secret),
            "{secret} followed to another port: {moved}"
        );
    }
    let same = results[5]["result"]["structuredContent"]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", results[5]));
    assert!(
        same.contains("call-s3cret") && same.contains("named-s3cret"),
        "{same}"
    );
    assert_eq!(results[6]["result"]["isError"], true, "{}", results[6]);
    assert_eq!(reason(&results[6]), "request_too_large");
    assert!(
        results[6].to_string().contains("web.max_request_bytes"),
        "{}",
        results[6]
    );
}
