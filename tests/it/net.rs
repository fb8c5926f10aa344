//! The network guard against real HTTP servers on loopback that count every request they get:
//! the SSRF battery (refused before any byte is sent), redirects checked hop by hop, timeouts,
//! body caps and credentials that never follow a redirect to another host.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use switchboard::policy::net::{AllowEntry, NetError, NetGuard, NetRefusal, NetRules, NetSettings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A tiny HTTP/1.1 server on 127.0.0.1 that counts requests. Paths: `/` (hello),
/// `/redirect?to=URL`, `/chain/N` (N redirects), `/slow` (3 s), `/big` (2 MiB with a length),
/// `/stream` (2 MiB without one), `/headers` (echoes the request head), `/echo` (head and body),
/// `/json` (a JSON 404), `/bytes` (binary).
struct Server {
    port: u16,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    async fn start() -> Self {
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
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    // The body, by Content-Length (what `/echo` sends back).
                    let split = head.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                    let mut body = head.split_off(split);
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let wanted: usize = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    while body.len() < wanted {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => body.extend_from_slice(&buf[..n]),
                        }
                    }
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
    for path in ["big", "stream"] {
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
